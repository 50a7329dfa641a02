"""S3 Control documents for the Multi-Region Access Point operations.

Design: shapes follow botocore's s3control model (2018-08-20): request bodies
are `<XxxRequest xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/">`,
replies are `<XxxResult>` in the same namespace with members in the model's
order; timestamps are ISO 8601 UTC.  Parsers drop namespaces (common.parse_xml)
but insist on the model's root element and required members, answering
MalformedXML otherwise, so a client that builds the wrong shape finds out here
rather than against AWS.  Only shapes live here; the rules are in control.py.
"""
import time

from .common import parse_xml, text_of
from .config import PAB_ALL_ON, PAB_FIELDS
from .xmlresp import XML_DECL, el, malformed_xml

CONTROL_NS = "http://awss3control.amazonaws.com/doc/2018-08-20/"


def result(root, body):
    return ("%s<%s xmlns=\"%s\">%s</%s>" % (XML_DECL, root, CONTROL_NS, "".join(body), root)
            ).encode("utf-8")


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


# -- requests --------------------------------------------------------------

def _root(data, name):
    root = parse_xml(data)
    if root.tag != name:
        raise malformed_xml()
    return root


def _required(elem, name):
    value = text_of(elem, name) if elem is not None else None
    if value is None or not value.strip():
        raise malformed_xml()
    return value.strip()


def _details(root):
    details = root.find("Details")
    if details is None:
        raise malformed_xml()
    return details


def _client_token(root):
    token = text_of(root, "ClientToken")
    return token.strip() if token else None


def _bool(text):
    text = (text or "").strip().lower()
    if text not in ("true", "false"):
        raise malformed_xml()
    return text == "true"


def parse_create(data):
    """-> (client token, name, public access block dict, [(bucket, bucket account or None)])"""
    root = _root(data, "CreateMultiRegionAccessPointRequest")
    d = _details(root)
    name = _required(d, "Name")
    pab = dict(PAB_ALL_ON)
    pab_el = d.find("PublicAccessBlock")
    if pab_el is not None:   # given: a member left out is off, as in S3's other PAB documents
        pab = {f: _bool(text_of(pab_el, f)) if pab_el.find(f) is not None else False
               for f in PAB_FIELDS}
    regions_el = d.find("Regions")
    if regions_el is None:
        raise malformed_xml()
    regions = []
    for r in regions_el.findall("Region"):
        account = text_of(r, "BucketAccountId")
        regions.append((_required(r, "Bucket"), account.strip() if account else None))
    return _client_token(root), name, pab, regions


def parse_delete(data):
    root = _root(data, "DeleteMultiRegionAccessPointRequest")
    return _client_token(root), _required(_details(root), "Name")


def parse_put_policy(data):
    root = _root(data, "PutMultiRegionAccessPointPolicyRequest")
    d = _details(root)
    policy = text_of(d, "Policy")
    if policy is None:
        raise malformed_xml()
    return _client_token(root), _required(d, "Name"), policy


def parse_routes(data):
    """-> [(bucket or None, region or None, dial)] from SubmitMultiRegionAccessPointRoutes."""
    root = _root(data, "SubmitMultiRegionAccessPointRoutesRequest")
    updates = root.find("RouteUpdates")
    if updates is None:
        raise malformed_xml()
    out = []
    for r in updates.findall("Route"):
        bucket, region = text_of(r, "Bucket"), text_of(r, "Region")
        dial = _required(r, "TrafficDialPercentage")
        try:
            dial = int(dial)
        except ValueError:
            raise malformed_xml() from None
        out.append((bucket.strip() if bucket else None, region.strip() if region else None, dial))
    if not out:
        raise malformed_xml()
    return out


# -- replies ---------------------------------------------------------------

def pab_xml(pab):
    return "<PublicAccessBlock>%s</PublicAccessBlock>" % "".join(
        el(f, bool(pab.get(f))) for f in PAB_FIELDS)


def report_xml(mrap, bucket_accounts):
    """A MultiRegionAccessPointReport (Get and List), members in the model's order."""
    regions = "".join("<Region>%s%s%s</Region>" % (el("Bucket", r.bucket),
                                                   el("BucketAccountId",
                                                      bucket_accounts.get(r.bucket)),
                                                   el("Region", r.region))
                      for r in mrap.regions)
    return "".join([el("Name", mrap.name), el("Alias", mrap.alias),
                    el("CreatedAt", mrap.created), pab_xml(mrap.public_access_block),
                    el("Status", mrap.status), "<Regions>%s</Regions>" % regions])


def request_parameters_xml(op):
    """The AsyncRequestParameters member echoing what was asked."""
    p = op["params"]
    if op["operation"] == "CreateMultiRegionAccessPoint":
        regions = "".join("<Region>%s%s</Region>" % (el("Bucket", b), el("BucketAccountId", a))
                          for b, a in p["regions"])
        inner = "%s%s<Regions>%s</Regions>" % (el("Name", p["name"]),
                                               pab_xml(p["public_access_block"]), regions)
        return "<CreateMultiRegionAccessPointRequest>%s</CreateMultiRegionAccessPointRequest>" \
            % inner
    if op["operation"] == "DeleteMultiRegionAccessPoint":
        return "<DeleteMultiRegionAccessPointRequest>%s</DeleteMultiRegionAccessPointRequest>" \
            % el("Name", p["name"])
    return ("<PutMultiRegionAccessPointPolicyRequest>%s%s</PutMultiRegionAccessPointPolicyRequest>"
            % (el("Name", p["name"]), el("Policy", p["policy"])))


def async_operation_xml(op, status):
    """An AsyncOperation (DescribeMultiRegionAccessPointOperation)."""
    details = ""
    if status == "SUCCEEDED" and op.get("regions"):
        details = "<MultiRegionAccessPointDetails><Regions>%s</Regions>" \
                  "</MultiRegionAccessPointDetails>" % "".join(
                      "<Region>%s%s</Region>" % (el("Name", r), el("RequestStatus", "COMPLETED"))
                      for r in op["regions"])
    elif status == "FAILED":
        e = op["error"]
        details = "<ErrorDetails>%s%s%s%s</ErrorDetails>" % (
            el("Code", e["code"]), el("Message", e["message"]), el("Resource", e.get("resource")),
            el("RequestId", op["request_id"]))
    body = [el("CreationTime", iso(op["created"])), el("Operation", op["operation"]),
            el("RequestTokenARN", op["token"]), "<RequestParameters>%s</RequestParameters>"
            % request_parameters_xml(op), el("RequestStatus", status)]
    if details:
        body.append("<ResponseDetails>%s</ResponseDetails>" % details)
    return "<AsyncOperation>%s</AsyncOperation>" % "".join(body)


def policy_xml(established, proposed):
    parts = []
    if established is not None:
        parts.append("<Established>%s</Established>" % el("Policy", established))
    if proposed is not None:
        parts.append("<Proposed>%s</Proposed>" % el("Policy", proposed))
    return "<Policy>%s</Policy>" % "".join(parts)


def routes_xml(arn, mrap):
    routes = "".join("<Route>%s%s%s</Route>" % (el("Bucket", r.bucket), el("Region", r.region),
                                                el("TrafficDialPercentage", r.dial))
                     for r in mrap.regions)
    return [el("Mrap", arn), "<Routes>%s</Routes>" % routes]
