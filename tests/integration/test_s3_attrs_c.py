"""The C attribute, presign and S3 Control operations (s3/attrs*.c,
s3/presign.c, s3/control*.c) against the emulator, through
build/tools/mrap_attrop.

Each operation is checked on both sides: what the tool reports, and what the
emulator stored (its admin view of the object, the MRAP state), so a request
that "succeeds" without doing the right thing fails here. Presigned URLs are
used with curl (GET, PUT, altered, expired) and cross-checked with the AWS
CRT's presigning of the same request.
"""
import base64
import datetime
import subprocess
import time
import urllib.parse

import pytest

from attrop_util import TOOL, built, fails, ok
from conftest import ACCESS_KEY, SECRET_KEY, Emulator
from emu_util import wait_until

BUCKET = "demo-us-east-1"   # where the default MRAP routes (first region, dial 100)
ARN = "arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap"

if not built():
    pytest.skip(f"{TOOL} is not built; set MRAP_BUILD_DIR", allow_module_level=True)


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    e = Emulator(tmp_path_factory.mktemp("attrs-emu"), ["--restore-delay", "1"]).start()
    yield e
    e.stop()


@pytest.fixture(autouse=True)
def clean_state(emu):
    """Every test starts with both buckets routed and every control region up."""
    emu.admin("routes", {"mrap": "demo", "dials": {BUCKET: 100, "demo-eu-west-1": 100}})
    emu.admin("control", {"unavailable_regions": [], "delay_s": 0.2})


def seed(emu, key, body=b"hello", **extra):
    doc = {"bucket": BUCKET, "key": key, "body": base64.b64encode(body).decode()}
    doc.update(extra)
    return emu.admin("object", doc)


def stored(emu, key):
    return emu.admin("object?" + urllib.parse.urlencode({"bucket": BUCKET, "key": key}))


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


# ---- HeadObject -----------------------------------------------------------------

def test_head_reports_what_is_stored(emu):
    seed(emu, "head/a b.txt", b"twelve bytes", content_type="text/plain",
         metadata={"Color": "blue", "owner": "Alice Smith"})
    h = ok(emu, "head", "head/a b.txt")
    meta = stored(emu, "head/a b.txt")
    assert h["size"] == 12 == meta["size"]
    assert h["etag"] == '"%s"' % meta["etag"]
    assert h["last_modified"] == meta["last_modified"]
    assert h["content_type"] == "text/plain"
    assert h["meta"] == {"color": "blue", "owner": "Alice Smith"}
    assert h["storage_class"] == "" and h["lock_mode"] == "" and not h["restore_present"]
    fails(emu, "ENOENT", "head", "head/missing")


# ---- tagging ----------------------------------------------------------------------

def test_tagging_round_trip_and_local_limits(emu):
    seed(emu, "tags/t")
    ok(emu, "put-tags", "tags/t", "Project=mrapfs", "a b=c:d/e@f", "empty=")
    assert stored(emu, "tags/t")["tags"] == [["Project", "mrapfs"], ["a b", "c:d/e@f"],
                                              ["empty", ""]]
    assert ok(emu, "get-tags", "tags/t")["tags"] == [["Project", "mrapfs"], ["a b", "c:d/e@f"],
                                                     ["empty", ""]]
    # Refused before sending: the stored set is untouched.
    fails(emu, "E2BIG", "put-tags", "tags/t", *["k%d=v" % i for i in range(11)])
    fails(emu, "E2BIG", "put-tags", "tags/t", "k" * 129 + "=v")
    fails(emu, "E2BIG", "put-tags", "tags/t", "k=" + "v" * 257)
    fails(emu, "EINVAL", "put-tags", "tags/t", "star*=v")
    fails(emu, "EINVAL", "put-tags", "tags/t", "aws:x=v")
    fails(emu, "EINVAL", "put-tags", "tags/t", "dup=1", "dup=2")
    assert len(stored(emu, "tags/t")["tags"]) == 3
    ok(emu, "put-tags", "tags/t", *["k%d=%s" % (i, "v" * 256) for i in range(10)])
    assert len(stored(emu, "tags/t")["tags"]) == 10
    ok(emu, "delete-tags", "tags/t")
    assert stored(emu, "tags/t")["tags"] == []
    assert ok(emu, "get-tags", "tags/t")["tags"] == []
    fails(emu, "ENOENT", "get-tags", "tags/missing")


# ---- Object Lock ----------------------------------------------------------------

def test_retention_and_legal_hold(emu):
    seed(emu, "lock/r")
    fails(emu, "ENODATA", "get-retention", "lock/r")
    fails(emu, "ENODATA", "get-legal-hold", "lock/r")
    until = int(time.time()) + 86400 * 30
    ok(emu, "put-retention", "lock/r", "GOVERNANCE " + rfc3339(until))
    assert stored(emu, "lock/r")["retention"] == {"mode": "GOVERNANCE", "until": until}
    assert ok(emu, "get-retention", "lock/r")["retention"] == "GOVERNANCE " + rfc3339(until)
    # Locked: a delete through the MRAP is refused.
    assert emu.client().request("DELETE", "lock/r").status == 403
    # Shortening GOVERNANCE needs the bypass.
    shorter = until - 86400
    fails(emu, "EACCES", "put-retention", "lock/r", "GOVERNANCE " + rfc3339(shorter))
    assert stored(emu, "lock/r")["retention"]["until"] == until
    ok(emu, "put-retention", "lock/r", "GOVERNANCE " + rfc3339(shorter), opts=["--bypass"])
    assert stored(emu, "lock/r")["retention"]["until"] == shorter
    # An offset date means the same instant in UTC.
    later = shorter + 3600
    local = datetime.datetime.fromtimestamp(later, datetime.timezone(datetime.timedelta(hours=2)))
    ok(emu, "put-retention", "lock/r", "GOVERNANCE " + local.strftime("%Y-%m-%dT%H:%M:%S+02:00"))
    assert stored(emu, "lock/r")["retention"]["until"] == later
    fails(emu, "EINVAL", "put-retention", "lock/r", "GOVERNANCE 2030-02-30T00:00:00Z")
    fails(emu, "EINVAL", "put-retention", "lock/r", "FOREVER " + rfc3339(later))

    ok(emu, "put-legal-hold", "lock/r", "ON")
    assert stored(emu, "lock/r")["legal_hold"] == "ON"
    assert ok(emu, "get-legal-hold", "lock/r")["legal_hold"] == "ON"
    h = ok(emu, "head", "lock/r")
    assert (h["lock_mode"], h["retain_until"], h["legal_hold"]) == ("GOVERNANCE", later, "ON")
    ok(emu, "put-retention", "lock/r", "none", opts=["--bypass"])
    assert "retention" not in stored(emu, "lock/r")
    # The legal hold alone still protects the object.
    assert emu.client().request("DELETE", "lock/r").status == 403
    ok(emu, "put-legal-hold", "lock/r", "OFF")
    assert ok(emu, "get-legal-hold", "lock/r")["legal_hold"] == "OFF"
    assert emu.client().request("DELETE", "lock/r").status == 204


def test_compliance_cannot_be_shortened(emu):
    seed(emu, "lock/c")
    until = int(time.time()) + 86400
    ok(emu, "put-retention", "lock/c", "COMPLIANCE " + rfc3339(until))
    fails(emu, "EACCES", "put-retention", "lock/c", "COMPLIANCE " + rfc3339(until - 60),
          opts=["--bypass"])
    assert stored(emu, "lock/c")["retention"] == {"mode": "COMPLIANCE", "until": until}
    emu.admin("object?bucket=%s&key=lock/c" % BUCKET, method="DELETE")


# ---- ACL ---------------------------------------------------------------------------

def test_acl(emu):
    seed(emu, "acl/o")
    assert [g["permission"] for g in stored(emu, "acl/o")["acl"]] == ["FULL_CONTROL"]
    ok(emu, "put-acl", "acl/o", "public-read")
    grants = stored(emu, "acl/o")["acl"]
    assert {"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers",
            "permission": "READ"} in grants
    got = ok(emu, "get-acl", "acl/o")
    assert "READ Group http://acs.amazonaws.com/groups/global/AllUsers" in got["grants"]
    assert got["grants"][0].startswith("FULL_CONTROL CanonicalUser " + got["owner"])
    fails(emu, "EINVAL", "put-acl", "acl/o", "everyone-may-write")
    ok(emu, "put-acl", "acl/o", "private")
    assert len(stored(emu, "acl/o")["acl"]) == 1


# ---- RestoreObject ----------------------------------------------------------------

def test_restore_lifecycle(emu):
    seed(emu, "cold/g", b"archived bytes", storage_class="GLACIER")
    h = ok(emu, "head", "cold/g")
    assert h["storage_class"] == "GLACIER" and not h["restore_present"]
    assert ok(emu, "restore", "cold/g", "2", "Bulk")["outcome"] == "started"
    assert stored(emu, "cold/g")["restore_status"] == "ongoing"
    h = ok(emu, "head", "cold/g")
    assert h["restore_present"] and h["restore_ongoing"] and h["restore_expiry"] == -1
    assert ok(emu, "restore", "cold/g", "2")["outcome"] == "in-progress"
    done = wait_until(lambda: ok(emu, "head", "cold/g")["restore_expiry"] > 0, timeout=20,
                      step=0.2)
    assert done, "the restore did not finish"
    h = ok(emu, "head", "cold/g")
    assert not h["restore_ongoing"] and h["restore_expiry"] > time.time()
    assert ok(emu, "restore", "cold/g", "5", "Standard")["outcome"] == "extended"
    seed(emu, "cold/standard")
    out = fails(emu, "ENODATA", "restore", "cold/standard", "1")
    assert out["code"] == "InvalidObjectState"
    fails(emu, "EINVAL", "restore", "cold/g", "0")
    fails(emu, "EINVAL", "restore", "cold/g", "1", "Instant")


# ---- presigned URLs -----------------------------------------------------------------

def curl(*args, data=None):
    """(status, body) of a curl request; curl resolves *.localhost to loopback."""
    p = subprocess.run(["curl", "-s", "-S", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}",
                        *args], input=data, capture_output=True, timeout=60)
    body, _, status = p.stdout.rpartition(b"\n")
    return int(status or 0), body


def test_presigned_urls_with_curl(emu, tmp_path):
    key = "presigned/dir/a b+c.txt"
    put = ok(emu, "presign", key, "PUT", "300")["url"]
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(put).query))
    assert q["X-Amz-Algorithm"] == "AWS4-ECDSA-P256-SHA256" and q["X-Amz-Region-Set"] == "*"
    assert q["X-Amz-SignedHeaders"] == "host" and q["X-Amz-Expires"] == "300"
    assert q["X-Amz-Credential"].startswith(ACCESS_KEY + "/") and "X-Amz-Signature" in q
    body = tmp_path / "body"
    body.write_bytes(b"sent with a presigned PUT\n" * 100)
    assert curl("-T", str(body), put)[0] == 200
    assert stored(emu, key)["size"] == body.stat().st_size
    get = ok(emu, "presign", key, "GET", "300")["url"]
    assert curl(get) == (200, body.read_bytes())
    # Altered: another key, another method, a changed signature.
    assert curl(get.replace("a%20b", "a%20c"))[0] == 403
    assert curl("-X", "DELETE", get)[0] == 403
    sig = q["X-Amz-Signature"]
    assert curl(put.replace(sig, sig[:-4] + ("0000" if sig[-4:] != "0000" else "1111")),
                "-T", str(body))[0] == 403
    # Expired: signed 1000 s ago for 60 s.
    old = ok(emu, "presign", key, "GET", "60", opts=["--now", str(int(time.time()) - 1000)])
    status, text = curl(old["url"])
    assert status == 403 and b"expired" in text
    fails(emu, "EINVAL", "presign", key, "GET", "604801")
    fails(emu, "EINVAL", "presign", key, "DELETE", "60")


def test_presigned_url_matches_the_crt(emu):
    """Same request, same time: the CRT's presigned query has the same X-Amz-*
    parameters, and the CRT's signature verifies over our string to sign (so
    both built the same canonical request)."""
    from test_signer_crt import python_verifies  # the independent SigV4A key derivation
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    key = "cross/check key+1.txt"
    ours = ok(emu, "presign", key, "GET", "900", opts=["--now", str(int(when.timestamp()))])
    c = emu.client()
    target, _ = c.sign("GET", c.build_path(key), "", None, b"", date=when, query_sign=True,
                       expires=900)
    split = urllib.parse.urlsplit(ours["url"])
    our_path, our_query = split.path, split.query
    assert split.netloc == c.host
    crt_path, _, crt_query = target.partition("?")
    assert our_path == crt_path
    ours_p = [p for p in urllib.parse.parse_qsl(our_query) if p[0] != "X-Amz-Signature"]
    crt_p = [p for p in urllib.parse.parse_qsl(crt_query) if p[0] != "X-Amz-Signature"]
    assert sorted(ours_p) == sorted(crt_p)
    crt_sig = dict(urllib.parse.parse_qsl(crt_query))["X-Amz-Signature"]
    our_sig = dict(urllib.parse.parse_qsl(our_query))["X-Amz-Signature"]
    assert python_verifies(ACCESS_KEY, SECRET_KEY, ours["string_to_sign"], crt_sig), \
        "the CRT's signature does not verify over our string to sign:\n" + \
        ours["canonical_request"]
    assert python_verifies(ACCESS_KEY, SECRET_KEY, ours["string_to_sign"], our_sig)
    # And a URL presigned now by the CRT works like ours.
    seed(emu, key, b"crt body")
    crt_url = "http://%s%s" % (c.host, c.presign("GET", key, expires=60))
    assert curl(crt_url) == (200, b"crt body")
