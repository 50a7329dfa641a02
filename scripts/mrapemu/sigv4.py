"""Verification of AWS Signature Version 4 (SigV4) and 4A (SigV4A) requests.

Design
------
The emulator stands in for S3 and for S3 Multi-Region Access Points, so it has
to refuse exactly what S3 refuses and with S3's words.  `authenticate` takes a
request as it arrived on the wire (method, raw path, raw query, the header list
with duplicates, in order) and either returns who signed it (`AuthResult`) or
raises `AuthError(status, code, message, extra)`, where `extra` lists the
elements S3 adds to that <Error> document, in S3's order.

Verification rebuilds the canonical request the way the signer built it:

  * canonical URI: for service s3 the path is percent-decoded once and
    re-encoded (no double encoding, no dot-segment normalisation: S3 object keys
    may legitimately contain "//", "./" and "../").  Other services get the
    generic SigV4 rules (normalise, then encode the already-encoded path a
    second time); both are parameters of `canonical_uri`, and the SigV4A test
    vectors from aws-c-auth exercise the generic ones.
  * canonical query: every parameter decoded and re-encoded (RFC 3986
    unreserved characters kept), sorted by encoded name then encoded value.
  * canonical headers: the signed headers, lower-cased, values trimmed with
    inner whitespace runs collapsed to one space, repeated headers joined by ','.
  * payload: the signed x-amz-content-sha256 value (required for s3 header
    auth); UNSIGNED-PAYLOAD for presigned S3 URLs.  The caller checks the body
    against `AuthResult.payload_hash` - this module never sees the body.

SigV4 signatures are HMAC-SHA256 with the date/region/service key chain.  SigV4A
signatures are hex-encoded DER ECDSA P-256 signatures over SHA-256 of the
string to sign, checked with the public key derived from the secret key by the
NIST SP 800-108 counter-mode KDF that aws-c-auth (key_derivation.c) uses.  The
derivation costs a few scalar multiplications, so public keys are cached per
(access key, secret key).

The order of the checks follows S3: parse errors and bad dates before the key
lookup, the key lookup before the signature, because the answer to a malformed
request must not depend on the secret.  Where S3's behaviour was not
documented or observed, the wording is marked "emulator wording" below.

Only the standard library and `cryptography` are used.
"""
import datetime
import email.utils
import hashlib
import hmac
import re
import threading
from dataclasses import dataclass
from typing import Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ALGORITHM_V4 = "AWS4-HMAC-SHA256"
ALGORITHM_V4A = "AWS4-ECDSA-P256-SHA256"
TERMINATOR = "aws4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW_SECONDS = 15 * 60
MAX_EXPIRES_SECONDS = 7 * 24 * 3600

# x-amz-content-sha256 values S3 accepts besides a hex SHA-256.  The streaming
# ones announce aws-chunked bodies whose chunk signatures the caller must check.
CONTENT_SHA256_KEYWORDS = (
    "UNSIGNED-PAYLOAD",
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
)

# aws_isspace(): the characters trimmed and collapsed in canonical header values.
_SPACE = b" \t\n\v\f\r"
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_AMZ_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")
_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")


class AuthError(Exception):
    """An authentication failure, rendered by the server as S3's <Error> document.

    extra: (element, text) pairs that follow <Message>, in S3's order."""

    def __init__(self, status, code, message, extra=None):
        super().__init__("%s: %s" % (code, message))
        self.status = status
        self.code = code
        self.message = message
        self.extra = list(extra or [])


@dataclass
class Credential:
    secret_key: str
    session_token: Optional[str]
    account: str


@dataclass
class AuthResult:
    access_key: str
    account: str
    algorithm: str      # ALGORITHM_V4 or ALGORITHM_V4A
    region: str         # SigV4 scope region; SigV4A: the signed region set (e.g. '*')
    service: str
    payload_hash: str   # signed x-amz-content-sha256 value; UNSIGNED-PAYLOAD when presigned
    presigned: bool


@dataclass(frozen=True)
class Rules:
    """How a service canonicalises requests (aws-c-auth's signing config flags)."""
    double_encode: bool          # encode the already-encoded path again
    normalize: bool              # remove '.', '..' and empty path segments
    s3: bool                     # S3's extra rules: x-amz-content-sha256, signed x-amz-*


GENERIC_RULES = Rules(double_encode=True, normalize=True, s3=False)
S3_RULES = Rules(double_encode=False, normalize=False, s3=True)
# S3 Control (MRAP management) is signed with signing name "s3" by the SDKs and
# the CRT, so it shares S3's rules; "s3-control" is listed for clients that put
# the endpoint prefix in the scope instead.  Every other name gets the generic
# rules, which the aws-c-auth test vectors (service "service") exercise.
SERVICE_RULES = {"s3": S3_RULES, "s3-control": S3_RULES, "s3-outposts": S3_RULES}


# ---------------------------------------------------------------- encoding

def _to_bytes(value):
    """Header and path text as the bytes that were on the wire.

    http.server decodes the request line and headers as ISO-8859-1, so encoding
    back with it restores the bytes; text that cannot be ISO-8859-1 came from a
    caller that decoded UTF-8."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def uri_encode(data, keep_slash=False):
    """SigV4 URI encoding: unreserved bytes kept, everything else %XX upper case."""
    out = []
    for b in _to_bytes(data):
        if b in _UNRESERVED or (keep_slash and b == 0x2F):
            out.append(chr(b))
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def percent_decode(data):
    """Decodes %XX escapes once ('+' stays '+', as in aws-c-auth); a '%' not
    followed by two hex digits is kept literally."""
    raw = _to_bytes(data)
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        b = raw[i]
        if b == 0x25 and i + 2 < n and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            out.append(int(raw[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(b)
            i += 1
    return bytes(out)


def normalize_path(path):
    """aws-c-auth's path normalisation: drop '' and '.' segments, pop on '..',
    keep one leading '/' and a trailing '/' if the path had one."""
    raw = _to_bytes(path)
    stack = []
    for seg in raw.split(b"/"):
        if seg in (b"", b"."):
            continue
        if seg == b"..":
            if stack:
                stack.pop()
        else:
            stack.append(seg)
    out = b"/" + b"/".join(stack)
    if stack and raw.endswith(b"/"):
        out += b"/"
    return out


def canonical_uri(raw_path, double_encode, normalize):
    """The canonical URI line.

    double_encode=True (generic services): the path as sent (already encoded for
    the wire) is encoded again, so '%20' becomes '%2520'.
    double_encode=False (S3): each segment is decoded once and re-encoded, so a
    client that encodes canonically gets back exactly what it signed; splitting
    on the literal '/' first keeps an encoded '%2F' inside a key distinct from a
    path separator."""
    path = _to_bytes(raw_path) or b"/"
    if normalize:
        path = normalize_path(path)
    if double_encode:
        return uri_encode(path, keep_slash=True)
    return "/".join(uri_encode(percent_decode(seg)) for seg in path.split(b"/"))


def parse_query(raw_query):
    """[(decoded name, decoded value)] in order; a bare name has value b''."""
    params = []
    for piece in _to_bytes(raw_query or "").split(b"&"):
        if not piece:
            continue
        name, _, value = piece.partition(b"=")
        params.append((percent_decode(name), percent_decode(value)))
    return params


def canonical_query(raw_query, exclude=()):
    """The canonical query line; names in `exclude` (decoded, exact) are left out
    (X-Amz-Signature when verifying a presigned URL)."""
    excluded = {_to_bytes(e) for e in exclude}
    pairs = sorted((uri_encode(k), uri_encode(v))
                   for k, v in parse_query(raw_query) if k not in excluded)
    return "&".join("%s=%s" % kv for kv in pairs)


def _canonical_value(value):
    """Trim, and collapse each whitespace run (including folded line breaks) into one space."""
    out = bytearray()
    in_space = False
    for b in _to_bytes(value).strip(_SPACE):
        if b in _SPACE:
            if not in_space:
                out.append(0x20)
            in_space = True
        else:
            out.append(b)
            in_space = False
    return bytes(out)


def canonical_headers(headers, signed_names):
    """The canonical header block (each line ends in '\\n') for the signed names.

    Repeated headers are joined with ',' in the order they arrived.  A signed
    header missing from the request contributes 'name:' (the signature then
    fails, as it does on S3)."""
    values = {}
    for name, value in headers:
        values.setdefault(name.strip().lower(), []).append(_canonical_value(value))
    out = bytearray()
    for name in sorted(signed_names):
        out += name.encode("latin-1") + b":" + b",".join(values.get(name, [])) + b"\n"
    return bytes(out)


def canonical_request(method, raw_path, raw_query, headers, signed_names, payload_hash,
                      double_encode, normalize, exclude_query=()):
    """The canonical request as bytes (method, URI, query, headers, signed
    header names, payload hash - no trailing newline)."""
    names = sorted(signed_names)
    return b"".join([
        method.encode("latin-1"), b"\n",
        canonical_uri(raw_path, double_encode, normalize).encode("ascii"), b"\n",
        canonical_query(raw_query, exclude_query).encode("ascii"), b"\n",
        canonical_headers(headers, names), b"\n",
        ";".join(names).encode("latin-1"), b"\n",
        payload_hash.encode("latin-1"),
    ])


def credential_scope(algorithm, date, region, service):
    if algorithm == ALGORITHM_V4A:
        return "%s/%s/%s" % (date, service, TERMINATOR)
    return "%s/%s/%s/%s" % (date, region, service, TERMINATOR)


def string_to_sign(algorithm, amz_date, scope, canonical):
    return ("%s\n%s\n%s\n%s" % (algorithm, amz_date, scope,
                                hashlib.sha256(canonical).hexdigest())).encode("ascii")


# ---------------------------------------------------------------- keys

def v4_signature(secret_key, date, region, service, sts):
    """Hex HMAC-SHA256 signature of a SigV4 string to sign."""
    key = ("AWS4" + secret_key).encode("utf-8")
    for part in (date, region, service, TERMINATOR):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, sts, hashlib.sha256).hexdigest()


# n - 2 for P-256: a KDF output above it is rejected and the counter advanced,
# so that d = k0 + 1 lies in [1, n - 1].
_P256_N_MINUS_2 = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551 - 2


def derive_v4a_private_value(access_key, secret_key):
    """The SigV4A private scalar for a key pair (aws-c-auth key_derivation.c).

    HMAC-SHA256 keyed with "AWS4A" + secret over the SP 800-108 fixed input
    0x00000001 || "AWS4-ECDSA-P256-SHA256" || 0x00 || access key || counter || 0x00000100;
    the first output <= n - 2 gives d = output + 1."""
    secret = ("AWS4A" + secret_key).encode("utf-8")
    for counter in range(1, 255):
        fixed = (b"\x00\x00\x00\x01" + ALGORITHM_V4A.encode("ascii") + b"\x00"
                 + access_key.encode("utf-8") + bytes([counter]) + b"\x00\x00\x01\x00")
        k0 = int.from_bytes(hmac.new(secret, fixed, hashlib.sha256).digest(), "big")
        if k0 <= _P256_N_MINUS_2:
            return k0 + 1
    raise ValueError("SigV4A key derivation did not converge")  # probability ~2^-8000


_key_cache = {}                 # (access key, secret) -> EllipticCurvePublicKey
_key_cache_lock = threading.Lock()   # guards _key_cache
_KEY_CACHE_MAX = 1024


def v4a_public_key(access_key, secret_key):
    """The SigV4A public key for a credential, cached (derivation is the slow part)."""
    cache_key = (access_key, secret_key)
    with _key_cache_lock:
        key = _key_cache.get(cache_key)
    if key is None:
        d = derive_v4a_private_value(access_key, secret_key)
        key = ec.derive_private_key(d, ec.SECP256R1()).public_key()
        with _key_cache_lock:
            if len(_key_cache) >= _KEY_CACHE_MAX:
                _key_cache.clear()
            _key_cache[cache_key] = key
    return key


def v4a_public_xy(access_key, secret_key):
    """(X, Y) of the derived public key as 64-digit lower-case hex strings."""
    numbers = v4a_public_key(access_key, secret_key).public_numbers()
    return "%064x" % numbers.x, "%064x" % numbers.y


def verify_v4a(public_key, sts, signature_hex):
    """True if signature_hex is a hex DER ECDSA P-256/SHA-256 signature of sts."""
    try:
        der = bytes.fromhex(signature_hex)
        public_key.verify(der, sts, ec.ECDSA(hashes.SHA256()))
        return True
    except (ValueError, InvalidSignature):
        return False


# ---------------------------------------------------------------- errors

def _iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hex_bytes(data):
    return " ".join("%02x" % b for b in data)


def _text(data):
    return data.decode("utf-8", errors="replace")


def _malformed_header(detail, extra=None):
    # S3 answers a malformed Authorization header with 400, not 403: the issue
    # groups AuthorizationHeaderMalformed with the 403 errors, real S3 does not.
    return AuthError(400, "AuthorizationHeaderMalformed",
                     "The authorization header is malformed; " + detail, extra)


def _malformed_query(detail, extra=None):
    return AuthError(400, "AuthorizationQueryParametersError", detail, extra)


def _access_denied():
    return AuthError(403, "AccessDenied", "Access Denied")


def _invalid_date():
    return AuthError(403, "AccessDenied",
                     "AWS authentication requires a valid Date or x-amz-date header")


def _unsupported_v2():
    return AuthError(400, "InvalidRequest",
                     "The authorization mechanism you have provided is not supported. "
                     "Please use AWS4-HMAC-SHA256.")


# ---------------------------------------------------------------- parsing

@dataclass
class _Signed:
    """What the request claims: the parsed Authorization header or query."""
    algorithm: str
    access_key: str
    date: str               # credential scope date, YYYYMMDD
    region: str             # scope region (SigV4); '' for SigV4A until the region set is read
    service: str
    signed_names: list
    signature: str
    presigned: bool


def _parse_date_text(text):
    """(datetime, ISO basic form) from an x-amz-date or a Date header value, or None."""
    text = text.strip()
    if _AMZ_DATE_RE.match(text):
        try:
            t = datetime.datetime.strptime(text, "%Y%m%dT%H%M%SZ")
        except ValueError:
            return None
        return t.replace(tzinfo=datetime.timezone.utc), text
    try:
        t = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    t = t.astimezone(datetime.timezone.utc)
    return t, t.strftime("%Y%m%dT%H%M%SZ")


def _split_credential(value, algorithm, malformed):
    """access key, date, region, service from AK/DATE[/REGION]/SERVICE/aws4_request.

    The access key is everything before the scope, so a key containing '/'
    still parses.  `malformed(detail)` builds the error for this auth style."""
    want = 3 if algorithm == ALGORITHM_V4A else 4
    parts = value.split("/")
    if len(parts) < want + 1 or not parts[0]:
        raise malformed('the Credential is mal-formed; expecting '
                        '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".')
    scope = parts[-want:]
    access_key = "/".join(parts[:-want])
    date = scope[0]
    region = "" if algorithm == ALGORITHM_V4A else scope[1]
    service, terminal = scope[-2], scope[-1]
    if not re.match(r"^\d{8}$", date):
        raise malformed('incorrect date format "%s". This date in the credential must be in '
                        'the format "yyyyMMdd".' % date)
    if terminal != TERMINATOR:
        raise malformed('incorrect terminal "%s". This endpoint uses "aws4_request".' % terminal)
    return access_key, date, region, service


def _parse_authorization(value):
    value = value.strip()
    algorithm, _, rest = value.partition(" ")
    if algorithm not in (ALGORITHM_V4, ALGORITHM_V4A):
        if algorithm == "AWS":
            raise _unsupported_v2()
        raise AuthError(400, "InvalidArgument", "Unsupported Authorization Type",
                        [("ArgumentName", "Authorization"), ("ArgumentValue", value)])
    components = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        name, eq, text = part.partition("=")
        if not eq or name not in ("Credential", "SignedHeaders", "Signature") \
                or name in components:
            raise _malformed_header('the authorization component "%s" is malformed.' % part)
        components[name] = text.strip()
    if len(components) != 3:
        raise _malformed_header("the authorization header requires three components: "
                                "Credential, SignedHeaders, and Signature.")
    access_key, date, region, service = _split_credential(
        components["Credential"], algorithm, _malformed_header)
    names = [n.strip().lower() for n in components["SignedHeaders"].split(";") if n.strip()]
    return _Signed(algorithm, access_key, date, region, service, names,
                   components["Signature"], presigned=False)


_QUERY_REQUIRED = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date",
                   "X-Amz-SignedHeaders", "X-Amz-Expires")


def _parse_presigned(query):
    for name in _QUERY_REQUIRED:
        if name not in query:
            raise _malformed_query(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                "and X-Amz-Expires parameters.")
    algorithm = query["X-Amz-Algorithm"]
    if algorithm not in (ALGORITHM_V4, ALGORITHM_V4A):
        raise _malformed_query('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256" '
                               'and "AWS4-ECDSA-P256-SHA256"')

    def malformed(detail):
        return _malformed_query("Error parsing the X-Amz-Credential parameter; " + detail)

    access_key, date, region, service = _split_credential(
        query["X-Amz-Credential"], algorithm, malformed)
    names = [n.strip().lower() for n in query["X-Amz-SignedHeaders"].split(";") if n.strip()]
    return _Signed(algorithm, access_key, date, region, service, names,
                   query["X-Amz-Signature"], presigned=True)


# ---------------------------------------------------------------- authenticate

def _header_values(headers, name):
    return [v for k, v in headers if k.strip().lower() == name]


def _first(headers, name):
    values = _header_values(headers, name)
    return values[0].strip() if values else None


def authenticate(method, raw_path, raw_query, headers, lookup, now=None, *,
                 expected_region=None, service="s3", body_sha256=None, rules=None):
    """Verifies a SigV4 or SigV4A request; returns an AuthResult or raises AuthError.

    raw_path / raw_query: exactly as on the request line (query without '?').
    headers: [(name, value)] as received, duplicates included.
    lookup(access_key) -> Credential or None.
    now: the server time (aware UTC datetime); None = the clock.
    expected_region: if given, a SigV4 scope naming another region is refused
        with S3's "the region 'x' is wrong; expecting 'y'" (regional buckets).
    service: the signing name this endpoint belongs to; also selects the
        canonicalisation rules (SERVICE_RULES).
    body_sha256: hex SHA-256 of the body, for non-S3 services that do not send
        x-amz-content-sha256 (the test vectors); S3 never needs it.
    rules: overrides the service's Rules (the vectors' unnormalised cases).
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=datetime.timezone.utc)
    rules = rules or SERVICE_RULES.get(service, GENERIC_RULES)
    headers = [(k, v) for k, v in headers]
    raw_query = raw_query or ""

    query = {}
    for k, v in parse_query(raw_query):
        query.setdefault(_text(k), _text(v))
    authorizations = _header_values(headers, "authorization")
    in_query = "X-Amz-Algorithm" in query or "X-Amz-Credential" in query
    if authorizations and (in_query or "Signature" in query):
        raise AuthError(400, "InvalidArgument",
                        "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
                        "parameter, Signature query string parameter or the Authorization "
                        "header should be specified",
                        [("ArgumentName", "Authorization"),
                         ("ArgumentValue", authorizations[0].strip())])
    if authorizations:
        signed = _parse_authorization(authorizations[0])
    elif in_query:
        signed = _parse_presigned(query)
    elif "AWSAccessKeyId" in query and "Signature" in query:
        raise _unsupported_v2()
    else:
        raise _access_denied()
    malformed = _malformed_query if signed.presigned else _malformed_header
    credential_prefix = "Error parsing the X-Amz-Credential parameter; " if signed.presigned else ""

    # The request time: X-Amz-Date (query) or x-amz-date, else Date (headers).
    if signed.presigned:
        parsed = _parse_date_text(query["X-Amz-Date"])
        if parsed is None or not _AMZ_DATE_RE.match(query["X-Amz-Date"].strip()):
            raise _malformed_query('X-Amz-Date must be in the ISO8601 Long Format '
                                   '"yyyyMMdd\'T\'HHmmss\'Z\'"')
        date_sent = query["X-Amz-Date"]
    else:
        date_sent = _first(headers, "x-amz-date")
        if date_sent is None:
            date_sent = _first(headers, "date")
        parsed = _parse_date_text(date_sent) if date_sent is not None else None
        if parsed is None:
            raise _invalid_date()
    request_time, amz_date = parsed

    if signed.date != amz_date[:8]:
        if signed.presigned:
            raise malformed('Error parsing the X-Amz-Credential parameter; Invalid credential '
                            'date "%s". This date is not the same as X-Amz-Date: "%s".'
                            % (signed.date, amz_date[:8]))
        raise malformed("Invalid credential date. Date is not the same as X-Amz-Date.")
    if signed.service != service:
        raise malformed('%sincorrect service "%s". This endpoint belongs to "%s".'
                        % (credential_prefix, signed.service, service))
    if (signed.algorithm == ALGORITHM_V4 and expected_region is not None
            and signed.region != expected_region):
        raise malformed("%sthe region '%s' is wrong; expecting '%s'"
                        % (credential_prefix, signed.region, expected_region),
                        [("Region", expected_region)])

    # SigV4A: the region set is signed with the request, not part of the scope.
    region = signed.region
    if signed.algorithm == ALGORITHM_V4A:
        region_set = query.get("X-Amz-Region-Set") if signed.presigned \
            else _first(headers, "x-amz-region-set")
        if region_set is None:
            # emulator wording: S3's text for this case is not documented.
            if signed.presigned:
                raise _malformed_query("Query-string authentication version 4A requires the "
                                       "X-Amz-Region-Set parameter.")
            raise _malformed_header("the x-amz-region-set header is required for "
                                    "AWS4-ECDSA-P256-SHA256.")
        region = region_set.strip()

    # Presigned URLs: validity window; header auth: 15 minutes of skew.
    if signed.presigned:
        expires_text = query["X-Amz-Expires"]
        if not re.match(r"^-?\d+$", expires_text.strip()):
            raise _malformed_query("X-Amz-Expires should be a number")
        expires = int(expires_text)
        if expires < 0:
            raise _malformed_query("X-Amz-Expires must be non-negative")
        if expires > MAX_EXPIRES_SECONDS:
            raise _malformed_query("X-Amz-Expires must be less than a week (in seconds) "
                                   "that is 604800")
        if (request_time - now).total_seconds() > MAX_SKEW_SECONDS:
            raise _skewed(date_sent, now)
        deadline = request_time + datetime.timedelta(seconds=expires)
        if now > deadline:
            raise AuthError(403, "AccessDenied", "Request has expired",
                            [("X-Amz-Expires", expires_text), ("Expires", _iso(deadline)),
                             ("ServerTime", _iso(now))])
    elif abs((request_time - now).total_seconds()) > MAX_SKEW_SECONDS:
        raise _skewed(date_sent, now)

    # The payload line of the canonical request.
    content_sha256 = _first(headers, "x-amz-content-sha256")
    if signed.presigned:
        payload_hash = UNSIGNED_PAYLOAD if rules.s3 else (body_sha256 or EMPTY_SHA256)
        if rules.s3 and "X-Amz-Content-Sha256" in query:
            payload_hash = query["X-Amz-Content-Sha256"]
    elif content_sha256 is not None:
        payload_hash = content_sha256
    elif rules.s3:
        raise AuthError(400, "InvalidRequest",
                        "Missing required header for this request: x-amz-content-sha256")
    else:
        payload_hash = body_sha256 or EMPTY_SHA256
    if rules.s3 and content_sha256 is not None and not signed.presigned \
            and not _SHA256_RE.match(content_sha256) \
            and content_sha256 not in CONTENT_SHA256_KEYWORDS:
        raise AuthError(400, "InvalidArgument",
                        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                        "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
                        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
                        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
                        [("ArgumentName", "x-amz-content-sha256"),
                         ("ArgumentValue", content_sha256)])

    # S3 refuses x-amz-* headers (and an unsigned Host) that the signature does not cover.
    if rules.s3:
        present = []
        for name, _ in headers:
            name = name.strip().lower()
            if (name.startswith("x-amz-") or name == "host") and name not in present:
                present.append(name)
        unsigned = [n for n in present if n not in signed.signed_names]
        if unsigned:
            raise AuthError(403, "AccessDenied",
                            "There were headers present in the request which were not signed",
                            [("HeadersNotSigned", ", ".join(unsigned))])

    # The credential.
    credential = lookup(signed.access_key)
    if credential is None:
        raise _invalid_key(signed.access_key)
    token = query.get("X-Amz-Security-Token") if signed.presigned \
        else _first(headers, "x-amz-security-token")
    if token is not None and token != (credential.session_token or None):
        raise AuthError(400, "InvalidToken",
                        "The provided token is malformed or otherwise invalid.",
                        [("Token-0", token)])
    if token is None and credential.session_token:
        # Temporary keys exist only together with their token; S3 answers a
        # temporary key sent without one as if the key were unknown.
        raise _invalid_key(signed.access_key)

    # The signature.
    canonical = canonical_request(
        method, raw_path, raw_query, headers, signed.signed_names, payload_hash,
        rules.double_encode, rules.normalize,
        exclude_query=("X-Amz-Signature",) if signed.presigned else ())
    scope = credential_scope(signed.algorithm, signed.date, signed.region, signed.service)
    sts = string_to_sign(signed.algorithm, amz_date, scope, canonical)
    if signed.algorithm == ALGORITHM_V4A:
        ok = verify_v4a(v4a_public_key(signed.access_key, credential.secret_key), sts,
                        signed.signature)
    else:
        expected = v4_signature(credential.secret_key, signed.date, signed.region,
                                signed.service, sts)
        ok = hmac.compare_digest(expected, signed.signature)
    if not ok:
        raise AuthError(403, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you "
                        "provided. Check your key and signing method.",
                        [("AWSAccessKeyId", signed.access_key),
                         ("StringToSign", _text(sts)),
                         ("SignatureProvided", signed.signature),
                         ("StringToSignBytes", _hex_bytes(sts)),
                         ("CanonicalRequest", _text(canonical)),
                         ("CanonicalRequestBytes", _hex_bytes(canonical))])

    return AuthResult(access_key=signed.access_key, account=credential.account,
                      algorithm=signed.algorithm, region=region, service=signed.service,
                      payload_hash=payload_hash, presigned=signed.presigned)


def _skewed(date_sent, now):
    return AuthError(403, "RequestTimeTooSkewed",
                     "The difference between the request time and the current time is too large.",
                     [("RequestTime", date_sent), ("ServerTime", _iso(now)),
                      ("MaxAllowedSkewMilliseconds", str(MAX_SKEW_SECONDS * 1000))])


def _invalid_key(access_key):
    return AuthError(403, "InvalidAccessKeyId",
                     "The AWS Access Key Id you provided does not exist in our records.",
                     [("AWSAccessKeyId", access_key)])
