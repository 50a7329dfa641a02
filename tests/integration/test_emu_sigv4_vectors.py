"""The emulator's SigV4A verifier against AWS's own test vectors.

The vectors are aws-c-auth's tests/aws-signing-test-suite/v4a (see
shared/sigv4a-vectors/SOURCE.md); they are read from MRAP_SHARED_DIR (or
<repo>/../shared) and never copied into this repository.

For every complete case, in both the header and the query variant, the signed
request is fed to the emulator's verifier exactly as a server receives it.  The
verifier must rebuild the canonical request and the string to sign byte for
byte, the vector's signatures must verify with public-key.json, the public key
derived from the vector credentials must equal public-key.json, and the whole
`authenticate` path must accept the request (and refuse it once altered).
ECDSA signatures are randomized, so they are verified, never compared.
"""
import hashlib
import json
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from mrapemu import sigv4  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

SHARED = os.environ.get("MRAP_SHARED_DIR", os.path.join(ROOT, "..", "shared"))
VECTORS = os.path.join(SHARED, "sigv4a-vectors")
COMPLETE_FILES = ("context.json", "request.txt", "public-key.json",
                  "header-canonical-request.txt", "header-string-to-sign.txt",
                  "header-signature.txt", "header-signed-request.txt",
                  "query-canonical-request.txt", "query-string-to-sign.txt",
                  "query-signature.txt", "query-signed-request.txt")


def _cases():
    if not os.path.isdir(VECTORS):
        return []
    return sorted(d for d in os.listdir(VECTORS) if os.path.isdir(os.path.join(VECTORS, d)))


def _complete(case):
    return all(os.path.exists(os.path.join(VECTORS, case, f)) for f in COMPLETE_FILES)


ALL_CASES = _cases()
COMPLETE = [c for c in ALL_CASES if _complete(c)]
needs_vectors = pytest.mark.skipif(
    not ALL_CASES, reason="SigV4A vectors not found at %s (set MRAP_SHARED_DIR)" % VECTORS)


def read(case, name):
    with open(os.path.join(VECTORS, case, name), "rb") as f:
        return f.read()


def parse_request(raw):
    """(method, raw path, raw query, [(name, value)], body) from a vector's request file.

    Bytes are decoded as ISO-8859-1, as http.server hands them to the emulator.
    The request line's target may contain spaces ("GET /example space/ HTTP/1.1");
    header lines starting with whitespace continue the previous value."""
    text = raw.decode("latin-1")
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    method, _, rest = lines[0].partition(" ")
    target = rest.rsplit(" HTTP/", 1)[0]
    path, _, query = target.partition("?")
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + "\n" + line)
        elif line:
            name, _, value = line.partition(":")
            headers.append((name, value))
    return method, path, query, headers, body.encode("latin-1")


def context(case):
    return json.loads(read(case, "context.json"))


def public_key(case):
    xy = json.loads(read(case, "public-key.json"))
    numbers = ec.EllipticCurvePublicNumbers(int(xy["X"], 16), int(xy["Y"], 16), ec.SECP256R1())
    return numbers.public_key()


def rules_for(ctx):
    return sigv4.Rules(double_encode=True, normalize=ctx["normalize"], s3=False)


def drop_query_param(query, name):
    return "&".join(p for p in query.split("&") if p.partition("=")[0] != name)


def signature_of(kind, headers, query):
    if kind == "query":
        return dict(p.partition("=")[::2] for p in query.split("&"))["X-Amz-Signature"]
    auth = [v for k, v in headers if k.lower() == "authorization"][0]
    return auth.rsplit("Signature=", 1)[1].strip()


def rebuild(case, kind):
    """(canonical request, string to sign, parsed request) the verifier computes
    for the signed request of one variant."""
    ctx = context(case)
    method, path, query, headers, body = parse_request(read(case, kind + "-signed-request.txt"))
    if kind == "query":
        # The query variant of an omit_session_token case carries a token the
        # signer left out of the signature; a server must not accept that (see
        # test_unsigned_token_is_refused), so the canonical request is rebuilt
        # without it here.
        if ctx.get("omit_session_token"):
            query = drop_query_param(query, "X-Amz-Security-Token")
        params = dict(p.partition("=")[::2] for p in query.split("&"))
        names = sigv4.percent_decode(params["X-Amz-SignedHeaders"]).decode().split(";")
        amz_date = params["X-Amz-Date"]
        payload = hashlib.sha256(body).hexdigest()
        exclude = ("X-Amz-Signature",)
    else:
        auth = [v for k, v in headers if k.lower() == "authorization"][0]
        names = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
        amz_date = [v for k, v in headers if k.lower() == "x-amz-date"][0]
        sha = [v for k, v in headers if k.lower() == "x-amz-content-sha256"]
        payload = sha[0] if sha else hashlib.sha256(body).hexdigest()
        exclude = ()
    canonical = sigv4.canonical_request(method, path, query, headers, names, payload,
                                        double_encode=True, normalize=ctx["normalize"],
                                        exclude_query=exclude)
    scope = sigv4.credential_scope(sigv4.ALGORITHM_V4A, amz_date[:8], "", ctx["service"])
    sts = sigv4.string_to_sign(sigv4.ALGORITHM_V4A, amz_date, scope, canonical)
    return canonical, sts, (method, path, query, headers, body)


@needs_vectors
def test_vectors_present():
    # 40 case folders, 38 complete (SOURCE.md); a silently empty run proves nothing.
    assert len(COMPLETE) >= 38, COMPLETE
    incomplete = sorted(set(ALL_CASES) - set(COMPLETE))
    assert set(incomplete) <= {"get-vanilla-query-order-key", "get-vanilla-query-order-value"}


@needs_vectors
@pytest.mark.parametrize("case", COMPLETE)
@pytest.mark.parametrize("kind", ["header", "query"])
def test_canonical_request_and_string_to_sign(case, kind):
    canonical, sts, _ = rebuild(case, kind)
    assert canonical == read(case, kind + "-canonical-request.txt")
    assert sts == read(case, kind + "-string-to-sign.txt")


@needs_vectors
@pytest.mark.parametrize("case", COMPLETE)
@pytest.mark.parametrize("kind", ["header", "query"])
def test_vector_signatures_verify(case, kind):
    key = public_key(case)
    sts = read(case, kind + "-string-to-sign.txt")
    _, _, (_, _, query, headers, _) = rebuild(case, kind)
    for sig in (read(case, kind + "-signature.txt").decode().strip(),
                signature_of(kind, headers, query)):
        assert sigv4.verify_v4a(key, sts, sig)
        # One byte changed in the string to sign: the same signature must fail.
        assert not sigv4.verify_v4a(key, sts[:-1] + bytes([sts[-1] ^ 1]), sig)


@needs_vectors
@pytest.mark.parametrize("case", COMPLETE)
def test_derived_public_key(case):
    creds = context(case)["credentials"]
    xy = json.loads(read(case, "public-key.json"))
    x, y = sigv4.v4a_public_xy(creds["access_key_id"], creds["secret_access_key"])
    assert (x, y) == (xy["X"].lower(), xy["Y"].lower())


def _lookup_for(ctx):
    creds = ctx["credentials"]

    def lookup(ak):
        if ak != creds["access_key_id"]:
            return None
        return sigv4.Credential(creds["secret_access_key"], creds.get("token"), "111122223333")
    return lookup


def _now(ctx):
    import datetime
    return datetime.datetime.strptime(ctx["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def _authenticate(case, kind, query_override=None, headers_override=None, now=None):
    ctx = context(case)
    method, path, query, headers, body = parse_request(read(case, kind + "-signed-request.txt"))
    return sigv4.authenticate(
        method, path, query if query_override is None else query_override,
        headers if headers_override is None else headers_override,
        _lookup_for(ctx), now or _now(ctx), service=ctx["service"],
        body_sha256=hashlib.sha256(body).hexdigest(), rules=rules_for(ctx))


def _token_left_unsigned(case, kind):
    return kind == "query" and context(case).get("omit_session_token")


@needs_vectors
@pytest.mark.parametrize("case", COMPLETE)
@pytest.mark.parametrize("kind", ["header", "query"])
def test_authenticate_accepts_vector(case, kind):
    if _token_left_unsigned(case, kind):
        pytest.skip("token deliberately unsigned; see test_unsigned_token_is_refused")
    ctx = context(case)
    result = _authenticate(case, kind)
    assert result.access_key == ctx["credentials"]["access_key_id"]
    assert result.algorithm == sigv4.ALGORITHM_V4A
    assert result.region == ctx["region"]
    assert result.service == ctx["service"]
    assert result.presigned == (kind == "query")


@needs_vectors
@pytest.mark.parametrize("case", COMPLETE)
def test_authenticate_refuses_altered_header(case):
    """One byte changed in a signed header value must break the signature."""
    if "my-header1" not in read(case, "header-canonical-request.txt").decode():
        name = "host"
    else:
        name = "my-header1"
    _, _, _, headers, _ = parse_request(read(case, "header-signed-request.txt"))
    altered, done = [], False
    for k, v in headers:
        if k.lower() == name and not done:
            v = v[:-1] + chr(ord(v[-1]) ^ 1)
            done = True
        altered.append((k, v))
    assert done
    with pytest.raises(sigv4.AuthError) as err:
        _authenticate(case, "header", headers_override=altered)
    assert err.value.code == "SignatureDoesNotMatch"
    assert err.value.status == 403
    extra = dict(err.value.extra)
    expected_cr = read(case, "header-canonical-request.txt")
    assert extra["CanonicalRequest"].encode("latin-1") != expected_cr
    assert extra["StringToSignBytes"].split(" ")[:4] == ["41", "57", "53", "34"]  # "AWS4"


@needs_vectors
def test_unsigned_token_is_refused():
    """post-sts-header-after signs without the session token and adds it after.
    The query variant then carries a parameter the signature does not cover,
    which the verifier must refuse."""
    case = "post-sts-header-after"
    if case not in COMPLETE:
        pytest.skip("%s not in the vectors" % case)
    with pytest.raises(sigv4.AuthError) as err:
        _authenticate(case, "query")
    assert err.value.code == "SignatureDoesNotMatch"


@needs_vectors
def test_presigned_vector_expires():
    case = "get-vanilla"
    if case not in COMPLETE:
        pytest.skip("%s not in the vectors" % case)
    import datetime
    later = _now(context(case)) + datetime.timedelta(seconds=3601)
    with pytest.raises(sigv4.AuthError) as err:
        _authenticate(case, "query", now=later)
    assert (err.value.status, err.value.code, err.value.message) == \
        (403, "AccessDenied", "Request has expired")
    assert err.value.extra == [("X-Amz-Expires", "3600"), ("Expires", "2015-08-30T13:36:00Z"),
                               ("ServerTime", "2015-08-30T13:36:01Z")]


# --- the generic and S3 canonicalisation rules, beyond the vectors -----------

@pytest.mark.parametrize("raw,double,normalize,expected", [
    ("/a%20b/c", False, False, "/a%20b/c"),            # S3: decoded once, re-encoded
    ("/a b/c", False, False, "/a%20b/c"),
    ("/a%2Fb", False, False, "/a%2Fb"),                 # encoded slash stays a key byte
    ("/a//b/./../c", False, False, "/a//b/./../c"),     # S3: no normalisation
    ("/%7Ex%21", False, False, "/~x%21"),
    ("/a%20b", True, False, "/a%2520b"),                # generic: double encoding
    ("/a//b/./../c/", True, True, "/a/c/"),
    ("/%E1%88%B4", False, False, "/%E1%88%B4"),
])
def test_canonical_uri_rules(raw, double, normalize, expected):
    assert sigv4.canonical_uri(raw, double, normalize) == expected


def test_canonical_query_rules():
    q = "prefix=a%20b&delimiter=%2F&list-type=2&acl&b=2&b=1&plus=a+b&X-Amz-Signature=zz"
    assert sigv4.canonical_query(q, exclude=("X-Amz-Signature",)) == \
        "acl=&b=1&b=2&delimiter=%2F&list-type=2&plus=a%2Bb&prefix=a%20b"
