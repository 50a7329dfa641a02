"""SigV4A presigned URLs (query signing by the AWS CRT, X-Amz-Region-Set=*)
through the MRAP host, used by curl as a user would: a PUT and a GET work, the
URL keeps working across a failover (the MRAP picks the bucket, not the URL),
and it is refused once expired, when altered, or when it asks for more than
the 7 days S3 allows."""
import datetime
import os
import subprocess
import urllib.parse

import pytest

from control_util import call, control, mrap_arn, routes_body
from emu_util import error, wait_until
from s3client import S3Client, utcnow

CURL = "/usr/bin/curl"
pytestmark = pytest.mark.skipif(not os.access(CURL, os.X_OK), reason="curl is not installed")


def curl(url, *args):
    """(HTTP status, body) of one curl call; curl resolves *.localhost itself."""
    p = subprocess.run([CURL, "-sS", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}",
                        *args, url], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    body, _, status = p.stdout.rpartition(b"\n")
    return int(status), body


def url_of(c, target):
    return "http://%s%s" % (c.host, target)


def test_presigned_put_then_get_with_curl(emulator, tmp_path):
    c = S3Client(emulator.port)
    data = os.urandom(70000)
    src = tmp_path / "up.bin"
    src.write_bytes(data)
    put = c.presign("PUT", "presign/curl.bin", expires=300)
    q = dict(urllib.parse.parse_qsl(put.partition("?")[2]))
    assert q["X-Amz-Algorithm"] == "AWS4-ECDSA-P256-SHA256" and q["X-Amz-Region-Set"] == "*"
    status, body = curl(url_of(c, put), "-T", str(src))
    assert status == 200, body
    get = c.presign("GET", "presign/curl.bin", expires=300)
    assert curl(url_of(c, get)) == (200, data)
    # the same URL after a failover: the MRAP routes it to the other bucket
    emulator.admin("object", {"bucket": "demo-eu-west-1", "key": "presign/curl.bin",
                              "body": "ZXUtY29weQ=="})
    arn = mrap_arn("mfzwi23gnjvgw.mrap")
    routes = "v20180820/mrap/instances/%s/routes" % arn
    flip = call(control(emulator), "PATCH", routes, routes_body([(None, "us-east-1", 0)]))
    assert flip.status == 200, flip
    try:
        assert curl(url_of(c, get)) == (200, b"eu-copy")
    finally:
        emulator.admin("routes", {"mrap": "demo",
                                  "active": ["demo-us-east-1", "demo-eu-west-1"]})


def test_presigned_url_refused_when_altered_or_expired(emulator):
    c = S3Client(emulator.port)
    assert c.request("PUT", "presign/k", body=b"v").status == 200
    target = c.presign("GET", "presign/k", expires=300)
    status, body = curl(url_of(c, target.replace("presign/k", "presign/j")))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    status, body = curl(url_of(c, target.replace("X-Amz-Expires=300", "X-Amz-Expires=30")))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    old = c.presign("GET", "presign/k", expires=5, date=utcnow() - datetime.timedelta(seconds=30))
    status, body = curl(url_of(c, old))
    assert status == 403 and b"<Message>Request has expired</Message>" in body
    week = c.presign("GET", "presign/k", expires=7 * 24 * 3600)
    assert curl(url_of(c, week)) == (200, b"v")
    status, body = curl(url_of(c, c.presign("GET", "presign/k", expires=7 * 24 * 3600 + 1)))
    assert status == 400 and b"<Code>AuthorizationQueryParametersError</Code>" in body


def test_presigned_url_expires_while_unused(emulator):
    """A URL valid for 1 s works at once and is refused once its second is over."""
    c = S3Client(emulator.port)
    assert c.request("PUT", "presign/short", body=b"s").status == 200
    target = c.presign("GET", "presign/short", expires=1)
    first = c.send_raw("GET", target, [("Host", c.host)])
    if first.status == 200:     # the second can pass before the request on a busy machine
        assert first.body == b"s"
    later = wait_until(lambda: c.send_raw("GET", target, [("Host", c.host)]).status == 403,
                       timeout=10, step=0.25)
    assert later
    assert error(c.send_raw("GET", target, [("Host", c.host)]))[2]["Message"] == \
        "Request has expired"
