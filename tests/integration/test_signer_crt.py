"""The mrapfs signer against the AWS Common Runtime's (python3-awscrt).

For a set of S3-like requests (ranged GET, PUT with a body and metadata,
strange keys, list/multipart query strings, session tokens) both sign, in
header mode and presigned, with S3's rules (no double URI encoding, no path
normalisation, x-amz-content-sha256 signed):

* SigV4: the signatures are byte-identical. HMAC is deterministic, so equal
  signatures prove equal canonical requests and strings to sign.
* SigV4A: signatures are randomized ECDSA, so they are verified, not compared.
  awscrt 0.16.8's Python API has no verify function (aws-c-auth has
  aws_verify_sigv4a_signing in C, but _awscrt does not expose it), so "each
  verifies the other's signature" is done this way:
    - mrapfs verifies the CRT's signature (`mrap_sign verify`) over mrapfs's
      own string to sign. The CRT signed SHA-256 of *its* string to sign, which
      embeds the hash of *its* canonical request, so this passing proves both
      built the same canonical request and string to sign;
    - in the CRT's place, an independent verifier checks mrapfs's signature:
      python `cryptography` with the public key derived in this file, from the
      same secret, by a separate implementation of the SP 800-108 derivation.
      That this key is the CRT's key follows from the first check (the CRT's
      signature verifies under the key mrapfs derived) plus the equality of
      mrapfs's and this file's public keys, also checked.
  The signature headers (X-Amz-Date, X-Amz-Region-Set, X-Amz-Security-Token,
  X-Amz-Content-SHA256, the Authorization prefix with SignedHeaders) or the
  presigned X-Amz-* parameters must match the CRT's too.

Runs build/tools/mrap_sign (MRAP_BUILD_DIR, default <repo>/build); skipped
with a message when it has not been built. Talks to no network at all.
"""
import datetime
import hashlib
import hmac
import json
import os
import subprocess
import urllib.parse

import pytest

awscrt_auth = pytest.importorskip("awscrt.auth", reason="python3-awscrt is not installed")
awscrt_http = pytest.importorskip("awscrt.http")
ec = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ec")
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("MRAP_BUILD_DIR", os.path.join(ROOT, "build"))
MRAP_SIGN = os.path.join(BUILD, "tools", "mrap_sign")

if not os.access(MRAP_SIGN, os.X_OK):
    pytest.skip(f"{MRAP_SIGN} is not built (cmake --build {BUILD}); set MRAP_BUILD_DIR",
                allow_module_level=True)

AKID = "AKIAMRAPFSCROSSCHK1"
SECRET = "mRaPfS/Cr0ss+Check/SecretKeyEXAMPLE0123"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+token=="
WHEN = datetime.datetime(2024, 2, 29, 23, 59, 58, tzinfo=datetime.timezone.utc)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED = "UNSIGNED-PAYLOAD"
HOST = "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com"

# ---- an independent SigV4A key derivation (NIST SP 800-108, as aws-c-auth) --

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def derive_v4a_private(access_key, secret_key):
    key = b"AWS4A" + secret_key.encode()
    for counter in range(1, 255):
        fixed = (b"\x00\x00\x00\x01" + b"AWS4-ECDSA-P256-SHA256" + b"\x00" + access_key.encode()
                 + bytes([counter]) + b"\x00\x00\x01\x00")
        k0 = int.from_bytes(hmac.new(key, fixed, hashlib.sha256).digest(), "big")
        if k0 <= P256_N - 2:
            return ec.derive_private_key(k0 + 1, ec.SECP256R1())
    raise AssertionError("no key within 254 counters")


def python_verifies(access_key, secret_key, string_to_sign, signature_hex):
    public = derive_v4a_private(access_key, secret_key).public_key()
    try:
        public.verify(bytes.fromhex(signature_hex), string_to_sign.encode(),
                      ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def public_point_hex(access_key, secret_key):
    numbers = derive_v4a_private(access_key, secret_key).public_key().public_numbers()
    return "04" + format(numbers.x, "064x") + format(numbers.y, "064x")


# ---- driving mrap_sign ------------------------------------------------------

def _esc(value):
    return (value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
            .replace("\t", "\\t"))


def run_tool(mode, fields, headers=()):
    lines = [f"{k} {_esc(str(v))}" for k, v in fields.items() if v is not None]
    lines += [f"header {_esc(name)}:{_esc(value)}" for name, value in headers]
    proc = subprocess.run([MRAP_SIGN, mode], input=("\n".join(lines) + "\n").encode(),
                          capture_output=True, timeout=60)
    out = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, out, proc.stderr.decode(errors="replace")


def creds_fields(token):
    return {"access_key": AKID, "secret_key": SECRET, "session_token": token}


def mrap_sign(req, alg, region, presign, token):
    fields = dict(creds_fields(token), alg=alg, service="s3", region=region,
                  time=int(WHEN.timestamp()), method=req["method"], path=req["path"],
                  query=req.get("query") or None,
                  payload_hash=UNSIGNED if presign else req["payload_hash"],
                  content_sha256=0 if presign else 1, double_encode=0, normalize=0,
                  presign=int(presign), expires=3600 if presign else None)
    rc, out, err = run_tool("sign", fields, req["headers"])
    assert rc == 0, f"mrap_sign sign failed: {err}"
    return out


def mrap_verify(string_to_sign, signature_hex):
    rc, out, err = run_tool("verify", dict(creds_fields(None), string_to_sign=string_to_sign,
                                           signature=signature_hex))
    assert rc in (0, 1) and out is not None, f"mrap_sign verify failed: {err}"
    return out["valid"]


# ---- driving the CRT ----------------------------------------------------------

def crt_sign(req, alg, region, presign, token):
    provider = awscrt_auth.AwsCredentialsProvider.new_static(AKID, SECRET, token)
    config = awscrt_auth.AwsSigningConfig(
        algorithm=(awscrt_auth.AwsSigningAlgorithm.V4 if alg == "v4"
                   else awscrt_auth.AwsSigningAlgorithm.V4_ASYMMETRIC),
        signature_type=(awscrt_auth.AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS if presign
                        else awscrt_auth.AwsSignatureType.HTTP_REQUEST_HEADERS),
        credentials_provider=provider, region=region, service="s3", date=WHEN,
        use_double_uri_encode=False, should_normalize_uri_path=False,
        signed_body_value=UNSIGNED if presign else req["payload_hash"],
        signed_body_header_type=(awscrt_auth.AwsSignedBodyHeaderType.NONE if presign
                                 else awscrt_auth.AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256),
        expiration_in_seconds=3600 if presign else None)
    path = req["path"] + ("?" + req["query"] if req.get("query") else "")
    http_req = awscrt_http.HttpRequest(req["method"], path,
                                       awscrt_http.HttpHeaders(list(req["headers"])))
    awscrt_auth.aws_sign_request(http_req, config).result(timeout=30)
    return http_req


def presigned(query):
    """(parameters without X-Amz-Signature, the signature) of a presigned query."""
    params = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return ([p for p in params if p[0] != "X-Amz-Signature"],
            dict(params).get("X-Amz-Signature"))


def split_signature(authorization):
    prefix, _, signature = authorization.partition("Signature=")
    return prefix, signature


# ---- the requests -------------------------------------------------------------

def key_path(key):
    """A key as the HTTP layer puts it on the wire: encoded once, '/' kept."""
    return "/" + urllib.parse.quote(key, safe="/~")


BODY = b"mrapfs cross-check body\n" * 64
REQUESTS = [
    dict(id="get-range", method="GET", path=key_path("photos/2024/cat.jpg"),
         headers=[("Host", HOST), ("Range", "bytes=0-1048575"),
                  ("User-Agent", "mrapfs/0.1.0")],
         payload_hash=EMPTY_SHA256),
    dict(id="head", method="HEAD", path=key_path("a/b"), headers=[("host", HOST)],
         payload_hash=EMPTY_SHA256),
    dict(id="put-metadata", method="PUT", path=key_path("uploads/report final.pdf"),
         headers=[("Host", HOST), ("Content-Length", str(len(BODY))),
                  ("Content-Type", "application/pdf"),
                  ("x-amz-meta-owner", "  Alice   Smith  "), ("X-Amz-Meta-Note", "a\tb"),
                  ("x-amz-storage-class", "STANDARD"), ("x-amz-meta-dup", "one"),
                  ("X-Amz-Meta-Dup", "two"), ("Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww==")],
         payload_hash=hashlib.sha256(BODY).hexdigest()),
    dict(id="key-space-plus-eq", method="GET", path=key_path("dir with space/a+b=c&d;e,f.txt"),
         headers=[("Host", HOST)], payload_hash=EMPTY_SHA256),
    dict(id="key-unicode", method="GET", path=key_path("unicode/héllo wörld €/日本.txt"),
         headers=[("Host", HOST)], payload_hash=EMPTY_SHA256),
    dict(id="key-percent-and-dots", method="GET",
         path=key_path("lit%2Fpercent/%/~tilde/./dots/../x//y/"),
         headers=[("Host", HOST)], payload_hash=EMPTY_SHA256),
    dict(id="list-v2", method="GET", path="/",
         query="list-type=2&prefix=a%2Fb&continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J"
               "%2FwmC3%2Bf8%3D&delimiter=%2F&max-keys=1000&encoding-type=url",
         headers=[("Host", HOST)], payload_hash=EMPTY_SHA256),
    dict(id="list-unicode-prefix", method="GET", path="/",
         query="list-type=2&prefix=%E2%82%AC%20x%2B&start-after=a~b",
         headers=[("Host", HOST)], payload_hash=EMPTY_SHA256),
    dict(id="multipart", method="POST", path=key_path("big/file.bin"), query="uploads",
         headers=[("Host", HOST), ("Content-Type", "application/octet-stream")],
         payload_hash=EMPTY_SHA256),
    dict(id="upload-part", method="PUT", path=key_path("big/file.bin"),
         query="partNumber=3&uploadId=VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA--",
         headers=[("Host", HOST), ("Content-Length", str(len(BODY)))],
         payload_hash=hashlib.sha256(BODY).hexdigest()),
]
IDS = [r["id"] for r in REQUESTS]
TOKENS = [pytest.param(None, id="no-token"), pytest.param(TOKEN, id="token")]


def test_independent_derivation_matches_aws_vector():
    """The derivation in this file reproduces aws-c-auth's get-vanilla public key."""
    assert public_point_hex("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY") == (
        "04b6618f6a65740a99e650b33b6b4b5bd0d43b176d721a3edfea7e7d2d56d936b1"
        "865ed22a7eadc9c5cb9d2cbaca1b3699139fedc5043dc6661864218330c8e518")


def test_mrapfs_derives_the_same_public_key():
    rc, out, err = run_tool("pubkey", creds_fields(None))
    assert rc == 0, err
    assert out["public_key"] == public_point_hex(AKID, SECRET)


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("req", REQUESTS, ids=IDS)
def test_sigv4_headers_identical(req, token):
    ours = mrap_sign(req, "v4", "us-east-1", False, token)
    crt = crt_sign(req, "v4", "us-east-1", False, token)
    assert ours["headers"][-1] == ["Authorization", crt.headers.get("Authorization")], \
        "SigV4 Authorization differs from the CRT's; ours signed:\n" + ours["canonical_request"]
    for name, value in ours["headers"][:-1]:
        assert crt.headers.get(name) == value, name
    assert SECRET not in json.dumps(ours)


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("req", REQUESTS, ids=IDS)
def test_sigv4_presigned_identical(req, token):
    ours = mrap_sign(req, "v4", "us-east-1", True, token)
    crt = crt_sign(req, "v4", "us-east-1", True, token)
    # The CRT rewrites the original parameters ("uploads" becomes "uploads="); mrapfs
    # keeps them as sent. Both mean the same, so the parsed parameters are compared,
    # and with them the signature, byte for byte.
    assert presigned(ours["query"]) == presigned(crt.path.partition("?")[2]), \
        "presigned query differs from the CRT's; ours signed:\n" + ours["canonical_request"]
    assert ours["query"].endswith("&X-Amz-Signature=" + ours["signature"])


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("req", REQUESTS, ids=IDS)
def test_sigv4a_headers_cross_verify(req, token):
    ours = mrap_sign(req, "v4a", "*", False, token)
    crt = crt_sign(req, "v4a", "*", False, token)
    crt_prefix, crt_sig = split_signature(crt.headers.get("Authorization"))
    our_prefix, our_sig = split_signature(ours["headers"][-1][1])
    # Same algorithm, credential scope and SignedHeaders.
    assert our_prefix == crt_prefix
    for name, value in ours["headers"][:-1]:
        assert crt.headers.get(name) == value, name
    assert ours["string_to_sign"].split("\n")[2] == WHEN.strftime("%Y%m%d") + "/s3/aws4_request"
    # The CRT's signature verifies over our string to sign: same canonical request.
    assert mrap_verify(ours["string_to_sign"], crt_sig), \
        "CRT's V4A signature does not verify over mrapfs's string to sign:\n" + \
        ours["canonical_request"]
    # ... and under the independently derived key as well.
    assert python_verifies(AKID, SECRET, ours["string_to_sign"], crt_sig)
    # Ours verifies under the independent verifier, and with mrapfs's own.
    assert python_verifies(AKID, SECRET, ours["string_to_sign"], our_sig)
    assert mrap_verify(ours["string_to_sign"], our_sig)
    # A signature does not verify over anything else.
    assert not python_verifies(AKID, SECRET, ours["string_to_sign"] + " ", our_sig)
    assert not mrap_verify(ours["string_to_sign"] + " ", crt_sig)


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("req", REQUESTS, ids=IDS)
def test_sigv4a_presigned_cross_verify(req, token):
    ours = mrap_sign(req, "v4a", "*", True, token)
    crt = crt_sign(req, "v4a", "*", True, token)
    our_params, our_sig = presigned(ours["query"])
    crt_params, crt_sig = presigned(crt.path.partition("?")[2])
    assert our_params == crt_params
    assert mrap_verify(ours["string_to_sign"], crt_sig), \
        "CRT's presigned V4A signature does not verify over mrapfs's string to sign:\n" + \
        ours["canonical_request"]
    assert python_verifies(AKID, SECRET, ours["string_to_sign"], our_sig)


def test_signer_rejects_what_it_must():
    base = dict(creds_fields(None), alg="v4a", service="s3", region="*", time=1700000000,
                method="GET", path="/k", payload_hash=EMPTY_SHA256)
    assert run_tool("sign", base, [("Host", HOST)])[0] == 0
    assert run_tool("sign", base, [("Range", "bytes=0-1")])[0] == 2  # no host
    for expires in (0, 604801):
        assert run_tool("sign", dict(base, presign=1, expires=expires), [("Host", HOST)])[0] == 2
    many = [("Host", HOST)] + [(f"x-h-{i}", "v") for i in range(128)]
    assert run_tool("sign", base, many)[0] == 2
    assert run_tool("sign", dict(base, path="/raw space"), [("Host", HOST)])[0] == 2
