"""A small S3 client for the integration tests, signed by the AWS CRT.

The emulator's fidelity is proved with AWS's own signer (python3-awscrt), not
with ours: every request here is signed by awscrt.auth.aws_sign_request with
SigV4A (MRAP data plane, region set "*") or SigV4 (regional buckets, S3 Control).
Python cannot resolve *.localhost, so requests connect to 127.0.0.1 and carry
the virtual Host header themselves.
"""
import datetime
import hashlib
import http.client
import urllib.parse

from awscrt.auth import (AwsCredentialsProvider, AwsSignatureType, AwsSignedBodyHeaderType,
                         AwsSigningAlgorithm, AwsSigningConfig, aws_sign_request)
from awscrt.http import HttpHeaders, HttpRequest

ACCOUNT = "111122223333"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ALIAS = "mfzwi23gnjvgw.mrap"
UNSIGNED = "UNSIGNED-PAYLOAD"


def quote_key(key):
    """URI-encode an object key the way the SDKs do for S3 (slashes kept)."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    return urllib.parse.quote(key, safe="/~")


def encode_query(params):
    """Encode query parameters (a dict or list of pairs; value None = bare key)."""
    if not params:
        return ""
    items = params.items() if isinstance(params, dict) else params
    out = []
    for k, v in items:
        k = urllib.parse.quote(str(k), safe="-_.~")
        out.append(k if v is None else k + "=" + urllib.parse.quote(str(v), safe="-_.~"))
    return "&".join(out)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:300])


class S3Client:
    """Signs and sends requests to the emulator.

    mode "mrap": Host <alias>.localhost:PORT, SigV4A, region set "*".
    mode "regional": path-style http://localhost:PORT/<bucket>/<key>, SigV4 for `region`.
    mode "raw": Host given per call, algorithm given per call (S3 Control, tests).
    """

    def __init__(self, port, mode="mrap", alias=ALIAS, region="us-east-1",
                 access_key=ACCESS_KEY, secret_key=SECRET_KEY, session_token=None,
                 host=None, service="s3"):
        self.port = port
        self.mode = mode
        self.alias = alias
        self.region = region
        self.service = service
        self.access_key = access_key
        self.secret_key = secret_key
        self.session_token = session_token
        if host:
            self.host = host
        elif mode == "mrap":
            self.host = "%s.localhost:%d" % (alias, port)
        else:
            self.host = "localhost:%d" % port

    def signing_config(self, date=None, body_value=None, query_sign=False, expires=None):
        algorithm = AwsSigningAlgorithm.V4_ASYMMETRIC if self.mode == "mrap" else AwsSigningAlgorithm.V4
        provider = AwsCredentialsProvider.new_static(self.access_key, self.secret_key,
                                                     self.session_token)
        return AwsSigningConfig(
            algorithm=algorithm,
            signature_type=(AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS if query_sign
                            else AwsSignatureType.HTTP_REQUEST_HEADERS),
            credentials_provider=provider,
            region="*" if self.mode == "mrap" else self.region,
            service=self.service,
            date=date,
            use_double_uri_encode=False,
            should_normalize_uri_path=False,
            signed_body_value=body_value,
            signed_body_header_type=(AwsSignedBodyHeaderType.NONE if query_sign
                                     else AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256),
            expiration_in_seconds=expires)

    def build_path(self, key="", bucket=None):
        path = "/" + quote_key(key) if key is not None else "/"
        if self.mode == "regional" and bucket:
            path = "/" + bucket + ("/" + quote_key(key) if key else "")
        return path

    def sign(self, method, path, query="", headers=None, body=b"", date=None,
             unsigned_payload=False, query_sign=False, expires=None):
        """Returns (target, header list) signed by the CRT; nothing is sent."""
        target = path + ("?" + query if query else "")
        hdrs = HttpHeaders([("Host", self.host)] + list((headers or {}).items()))
        if body and not any(k.lower() == "content-length" for k, _ in hdrs):
            hdrs.add("Content-Length", str(len(body)))
        # Presigned S3 URLs sign the payload as UNSIGNED-PAYLOAD (S3 cannot know
        # the body when the URL is made); left unset, the CRT would hash b"".
        body_value = UNSIGNED
        if not query_sign:
            body_value = UNSIGNED if unsigned_payload else hashlib.sha256(body).hexdigest()
        req = HttpRequest(method, target, hdrs)
        aws_sign_request(req, self.signing_config(date, body_value, query_sign, expires)).result()
        return req.path, list(req.headers)

    def send_raw(self, method, target, headers, body=b"", timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            has_len = False
            for k, v in headers:
                conn.putheader(k, v)
                has_len = has_len or k.lower() == "content-length"
            if not has_len and (body or method in ("PUT", "POST")):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def request(self, method, key="", query=None, headers=None, body=b"", bucket=None,
                date=None, unsigned_payload=False, mutate=None):
        """Sign with the CRT and send. `mutate(target, headers) -> (target, headers)`
        lets a test alter the request after signing."""
        path = self.build_path(key, bucket)
        target, hdrs = self.sign(method, path, encode_query(query), headers, body, date,
                                 unsigned_payload)
        if mutate:
            target, hdrs = mutate(target, hdrs)
        return self.send_raw(method, target, hdrs, body)

    def presign(self, method, key, expires=3600, bucket=None, date=None):
        path = self.build_path(key, bucket)
        target, _ = self.sign(method, path, "", None, b"", date, query_sign=True, expires=expires)
        return target


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)
