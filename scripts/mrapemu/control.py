"""S3 Control: the ten Multi-Region Access Point operations.

Design: the server routes `<account>.s3-control.<region>.amazonaws.com` and
`<12 digits>.localhost[:port]` here (what SDKs and the CLI send: the model
gives every operation the host prefix `{AccountId}.`).  classify() names the
operation from method and path (botocore's s3control model, 2018-08-20);
authenticate() applies S3 Control's rules; handle() runs it.

Rules, in order:
  1. Plain SigV4 for service `s3` (SigV4A is refused); the scope's region is
     the request's region, and a `*.s3-control.<region>.amazonaws.com` host must
     name the same one (S3's AuthorizationHeaderMalformed otherwise).
  2. `x-amz-account-id` is required, 12 digits, equal to the host's account
     label and to the signing credential's account (403 AccessDenied).
  3. Region: a Region listed in the admin setting `unavailable_regions`
     answers 503 ServiceUnavailable to everything, so clients can test trying
     the next Region.  The routes operations answer in us-east-1, us-west-2,
     ap-southeast-2, ap-northeast-1 and eu-west-1; all other MRAP operations
     only in us-west-2.  Elsewhere S3 answers 301 PermanentRedirect "This API
     operation is only available in the following Regions: us-west-2. ..." (seen
     from AWS for ListMultiRegionAccessPoints; used here for all eight, with the
     five route Regions named for the routes operations).
  4. Create, Delete, PutPolicy and SubmitRoutes carry a body and need a
     Content-MD5 or x-amz-checksum-* header (the model's httpChecksumRequired);
     any checksum sent, on any operation, is verified (ingest.read_small).

Answers: Create/Delete/PutPolicy are asynchronous (control_ops.py).  Names are
3-50 lower-case letters, digits and hyphens, not starting or ending with a
hyphen; aliases are stable per (account, name) (config.make_alias).  Get and
List show CREATING/DELETING MRAPs; GetPolicy answers an empty <Policy/> when
no policy was ever put; GetPolicyStatus applies control_ops.policy_is_public to
the Established policy.  The routes operations address the MRAP by its ARN
`arn:aws:s3::<account>:accesspoint/<alias>`; SubmitRoutes names each route by
Bucket or Region (or both, which must agree), changes config.State's dials at
once (the same dials the admin endpoint sets) and is refused with 405 for an
MRAP of one Region, as S3 documents for failover; it answers 200 with no body
(its output shape has no members).
"""
import base64
import json
import re

from . import control_xml as cx
from . import ingest, sigv4
from .control_ops import CONTROL_REGION, no_such_mrap, policy_is_public
from .common import Reply
from .xmlresp import S3Error, access_denied, el, invalid_request, not_implemented

ROUTE_REGIONS = ("us-east-1", "us-west-2", "ap-southeast-2", "ap-northeast-1", "eu-west-1")
ROUTE_OPS = ("GetMultiRegionAccessPointRoutes", "SubmitMultiRegionAccessPointRoutes")
BODY_OPS = ("CreateMultiRegionAccessPoint", "DeleteMultiRegionAccessPoint",
            "PutMultiRegionAccessPointPolicy", "SubmitMultiRegionAccessPointRoutes")
MAX_REGIONS = 17          # S3's limit of Regions in one MRAP
DEFAULT_MAX_RESULTS = 100
_NAME_RE = re.compile(r"^[a-z0-9][-a-z0-9]{1,48}[a-z0-9]$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_ARN_RE = re.compile(r"^arn:aws:s3::(\d{12}):accesspoint/([a-z][a-z0-9]*\.mrap)$")
_PREFIX = "/v20180820/"


def classify(method, path):
    """(operation name, argument) for a decoded control path; ('Unknown', None)."""
    if not path.startswith(_PREFIX):
        return "Unknown", None
    rest = path[len(_PREFIX):]
    if rest.startswith("async-requests/mrap/"):
        sub = rest[len("async-requests/mrap/"):]
        if method == "POST":
            op = {"create": "CreateMultiRegionAccessPoint",
                  "delete": "DeleteMultiRegionAccessPoint",
                  "put-policy": "PutMultiRegionAccessPointPolicy"}.get(sub)
            return (op, None) if op else ("Unknown", None)
        if method == "GET" and sub:
            return "DescribeMultiRegionAccessPointOperation", sub
        return "Unknown", None
    if rest == "mrap/instances" and method == "GET":
        return "ListMultiRegionAccessPoints", None
    if not rest.startswith("mrap/instances/"):
        return "Unknown", None
    sub = rest[len("mrap/instances/"):]
    if sub.endswith("/routes") and method in ("GET", "PATCH"):
        return ("GetMultiRegionAccessPointRoutes" if method == "GET"
                else "SubmitMultiRegionAccessPointRoutes"), sub[:-len("/routes")]
    if method != "GET":
        return "Unknown", None
    for suffix, op in (("/policystatus", "GetMultiRegionAccessPointPolicyStatus"),
                       ("/policy", "GetMultiRegionAccessPointPolicy")):
        if sub.endswith(suffix):
            return op, sub[:-len(suffix)]
    return ("GetMultiRegionAccessPoint", sub) if "/" not in sub else ("Unknown", None)


def host_parts(host):
    """(account label or None, region or None) of a control host name."""
    name = (host or "").strip().lower().rsplit(":", 1)[0]
    labels = name.split(".")
    account = labels[0] if labels and _ACCOUNT_RE.match(labels[0]) else None
    region = None
    if name.endswith(".amazonaws.com") and "s3-control" in labels:
        i = labels.index("s3-control")
        if i + 1 < len(labels) - 2:       # s3-control.<region>.amazonaws.com
            region = labels[i + 1]
    return account, region


def route(ctx, method, path):
    """Called by the server's parser: names the operation (what accounting counts)."""
    ctx.op, ctx.control_arg = classify(method, path)


def authenticate(ctx, method, raw_path, raw_query, header_list):
    """Rules 1 and 2 (see the design note); sets ctx.auth, account, control_region."""
    app = ctx.app
    host_account, host_region = host_parts(ctx.host)
    try:
        auth = sigv4.authenticate(method, raw_path, raw_query, header_list,
                                  app.lookup_credential, expected_region=host_region,
                                  service="s3")
    except sigv4.AuthError as e:
        raise S3Error(e.status, e.code, e.message, e.extra) from None
    ctx.auth = auth
    if auth.algorithm != sigv4.ALGORITHM_V4:
        raise invalid_request("The authorization mechanism you have provided is not supported. "
                              "Please use %s." % sigv4.ALGORITHM_V4)
    account = ctx.h("x-amz-account-id")
    # emulator wording for the three account refusals below
    if account is None:
        raise invalid_request("Missing required header for this request: x-amz-account-id")
    account = account.strip()
    if not _ACCOUNT_RE.match(account):
        raise invalid_request("The x-amz-account-id header must be 12 digits.")
    if host_account is not None and host_account != account:
        raise invalid_request("The account in the host name does not match x-amz-account-id.")
    if account != auth.account:
        raise access_denied()
    ctx.account = account
    ctx.control_region = host_region or auth.region


def handle(ctx):
    """Runs an authenticated control request (after authenticate)."""
    if ctx.control_region in ctx.app.control_settings.get("unavailable_regions", ()):
        raise S3Error(503, "ServiceUnavailable", "Service is unable to handle request.")
    allowed = ROUTE_REGIONS if ctx.op in ROUTE_OPS else (CONTROL_REGION,)
    if ctx.op != "Unknown" and ctx.control_region not in allowed:
        raise S3Error(301, "PermanentRedirect",
                      "This API operation is only available in the following Regions: %s. "
                      "Make sure to send all future requests to a supported Region."
                      % ", ".join(allowed))
    if ctx.op in BODY_OPS and not (ctx.h("content-md5") or ctx.h("x-amz-sdk-checksum-algorithm")
                                   or any(h.startswith("x-amz-checksum-") for h in ctx.headers)):
        raise S3Error(400, "InvalidRequest", "Missing required header for this request: "
                      "Content-MD5 OR x-amz-checksum-*")
    body = ingest.read_small(ctx)
    fn = _HANDLERS.get(ctx.op)
    if fn is None:
        raise not_implemented(message="This S3 Control operation is not implemented by this "
                                      "emulator.")
    return fn(ctx, body)


# -- helpers ---------------------------------------------------------------------

def _check_name(name):
    if not _NAME_RE.match(name or ""):
        # emulator wording: S3's text is not documented
        raise invalid_request("Multi-Region Access Point names are 3 to 50 characters of "
                              "lower-case letters, numbers and hyphens, and begin and end "
                              "with a letter or number.")
    return name


def _ok(root, body):
    return Reply(200, body=cx.result(root, body))


def _error_of(f):
    status = 404 if f["code"].startswith("NoSuch") else 400
    return S3Error(status, f["code"], f["message"])


def _find(ctx, name):
    """The account's MRAP called `name` (any status) or 404."""
    _check_name(name)
    state = ctx.app.state
    with state.lock:
        m = state.mraps.get(name)
        if m is None or m.account != ctx.account:
            raise _error_of(no_such_mrap(name))
        return m, {b: state.buckets[b].account for b in (r.bucket for r in m.regions)
                   if b in state.buckets}


def _by_arn(ctx, arn):
    match = _ARN_RE.match(arn or "")
    if not match:
        # S3 documents a 400 for an invalid ARN; emulator wording
        raise invalid_request("Invalid Multi-Region Access Point ARN: %s" % arn)
    if match.group(1) != ctx.account:
        raise access_denied()
    m = ctx.app.state.mrap_by_alias(match.group(2))
    if m is None or m.account != ctx.account:
        raise _error_of(no_such_mrap(match.group(2)))
    return m


def _submit(ctx, operation, client_token, params):
    token = ctx.app.operations.submit(ctx.account, operation, client_token, params,
                                      ctx.request_id)
    return _ok(operation + "Result", [el("RequestTokenARN", token)])


# -- the ten operations -------------------------------------------------------------

def create(ctx, body):
    client_token, name, pab, regions = cx.parse_create(body)
    _check_name(name)
    buckets = [b for b, _ in regions]
    if not 1 <= len(regions) <= MAX_REGIONS or len(set(buckets)) != len(buckets):
        # emulator wording
        raise invalid_request("A Multi-Region Access Point needs 1 to %d distinct buckets."
                              % MAX_REGIONS)
    if any(a is not None and not _ACCOUNT_RE.match(a) for _, a in regions):
        raise invalid_request("BucketAccountId must be 12 digits.")
    return _submit(ctx, "CreateMultiRegionAccessPoint", client_token,
                   {"name": name, "public_access_block": pab, "regions": regions})


def delete(ctx, body):
    client_token, name = cx.parse_delete(body)
    return _submit(ctx, "DeleteMultiRegionAccessPoint", client_token,
                   {"name": _check_name(name)})


def put_policy(ctx, body):
    client_token, name, policy = cx.parse_put_policy(body)
    _check_name(name)
    try:
        doc = json.loads(policy)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise S3Error(400, "MalformedPolicy",
                      "Policies must be valid JSON and the first byte must be '{'")
    return _submit(ctx, "PutMultiRegionAccessPointPolicy", client_token,
                   {"name": name, "policy": policy})


def describe(ctx, body):
    token = ctx.control_arg
    op, status = ctx.app.operations.get(token, ctx.account)
    if op is None:
        # emulator wording
        raise S3Error(404, "NoSuchAsyncRequest", "The specified async request does not exist.",
                      [("RequestTokenARN", token)])
    return _ok("DescribeMultiRegionAccessPointOperationResult",
               [cx.async_operation_xml(op, status)])


def get(ctx, body):
    m, accounts = _find(ctx, ctx.control_arg)
    return _ok("GetMultiRegionAccessPointResult",
               ["<AccessPoint>%s</AccessPoint>" % cx.report_xml(m, accounts)])


def list_mraps(ctx, body):
    q = ctx.query
    try:
        limit = int(q.get("maxResults") or DEFAULT_MAX_RESULTS)
        start = int(base64.b64decode(q["nextToken"], validate=True)) if "nextToken" in q else 0
        if not 0 <= limit <= 1000 or start < 0:
            raise ValueError
    except (ValueError, TypeError):
        raise S3Error(400, "InvalidArgument", "Invalid maxResults or nextToken.") from None
    limit = limit or DEFAULT_MAX_RESULTS
    state = ctx.app.state
    with state.lock:
        mine = [m for m in state.mraps.values() if m.account == ctx.account]
        accounts = {b.name: b.account for b in state.buckets.values()}
        page = [cx.report_xml(m, accounts) for m in mine[start:start + limit]]
        more = start + limit < len(mine)
    body = ["<AccessPoints>%s</AccessPoints>" % "".join(
        "<AccessPoint>%s</AccessPoint>" % r for r in page)]
    if more:
        body.append(el("NextToken", base64.b64encode(str(start + limit).encode()).decode()))
    return _ok("ListMultiRegionAccessPointsResult", body)


def get_policy(ctx, body):
    m, _ = _find(ctx, ctx.control_arg)
    return _ok("GetMultiRegionAccessPointPolicyResult", [cx.policy_xml(m.policy,
                                                                        m.proposed_policy)])


def policy_status(ctx, body):
    m, _ = _find(ctx, ctx.control_arg)
    return _ok("GetMultiRegionAccessPointPolicyStatusResult",
               ["<Established>%s</Established>" % el("IsPublic", policy_is_public(m.policy))])


def get_routes(ctx, body):
    m = _by_arn(ctx, ctx.control_arg)
    with ctx.app.state.lock:
        doc = cx.routes_xml(ctx.control_arg, m)
    return _ok("GetMultiRegionAccessPointRoutesResult", doc)


def submit_routes(ctx, body):
    m = _by_arn(ctx, ctx.control_arg)
    updates = cx.parse_routes(body)
    if len(m.regions) < 2:
        raise S3Error(405, "MethodNotAllowed", "Failover needs a Multi-Region Access Point "
                      "with at least two Regions.")        # emulator wording
    by_bucket = {r.bucket: r.region for r in m.regions}
    by_region = {r.region: r.bucket for r in m.regions}
    dials = {}
    for bucket, region, dial in updates:
        if not 0 <= dial <= 100:
            raise S3Error(400, "InvalidArgument", "TrafficDialPercentage must be 0 to 100.",
                          [("ArgumentName", "TrafficDialPercentage"), ("ArgumentValue", dial)])
        name = bucket if bucket is not None else by_region.get(region)
        if name not in by_bucket or (region is not None and by_bucket[name] != region):
            raise invalid_request("Route %s does not name a bucket or Region of this "
                                  "Multi-Region Access Point." % (bucket or region))
        dials[name] = dial
    try:
        ctx.app.state.set_routes(m.name, dials=dials)
    except KeyError:     # deleted meanwhile
        raise _error_of(no_such_mrap(m.name)) from None
    return Reply(200)


_HANDLERS = {
    "CreateMultiRegionAccessPoint": create,
    "DeleteMultiRegionAccessPoint": delete,
    "PutMultiRegionAccessPointPolicy": put_policy,
    "DescribeMultiRegionAccessPointOperation": describe,
    "GetMultiRegionAccessPoint": get,
    "ListMultiRegionAccessPoints": list_mraps,
    "GetMultiRegionAccessPointPolicy": get_policy,
    "GetMultiRegionAccessPointPolicyStatus": policy_status,
    "GetMultiRegionAccessPointRoutes": get_routes,
    "SubmitMultiRegionAccessPointRoutes": submit_routes,
}
