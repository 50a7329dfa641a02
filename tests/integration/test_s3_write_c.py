"""The C write operations (s3/write.h) against the emulator, through build/tools/mrap_s3op.

Every object written by C is read back with the CRT-signed Python client and
compared byte for byte; ETags are recomputed here (MD5, and MD5 of the part
MD5s for multipart uploads). The emulator verifies x-amz-checksum-crc32c and
Content-MD5 as S3 does, so a body damaged after signing must be refused, and
with injected 503/500 faults every upload must still land exact.
"""
import base64
import hashlib
import json
import os
import random
import subprocess

import pytest

from awscrt.checksums import crc32c
from conftest import ACCESS_KEY, BUILD, SECRET_KEY

TOOL = os.path.join(BUILD, "tools", "mrap_s3op")
ALIAS = "mfzwi23gnjvgw.mrap"
MIB = 1 << 20

pytestmark = pytest.mark.skipif(not os.path.exists(TOOL), reason="mrap_s3op not built")


def rand_bytes(n, seed):
    return random.Random(seed).randbytes(n)


def b64crc(data):
    return base64.b64encode(crc32c(data).to_bytes(4, "big")).decode()


def multipart_etag(parts):
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(),
                        len(parts))


class Tool:
    """Runs mrap_s3op against the emulator with the default credential chain
    (environment only: HOME points at an empty directory)."""

    def __init__(self, emulator, home):
        self.emulator = emulator
        self.home = str(home)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                         "HOME": self.home})

    def file(self, name, data):
        path = os.path.join(self.home, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def run(self, *args, options=(), ok=True, target=ALIAS):
        cmd = ([TOOL, "--endpoint-url", "http://localhost:%d" % self.emulator.port]
               + list(options) + [target] + list(args))
        p = subprocess.run(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=300)
        out = p.stdout.decode()
        doc = json.loads(out) if out.strip() else None
        if ok:
            assert p.returncode == 0, (cmd, out, p.stderr.decode())
        else:
            assert p.returncode == 1 and doc and "error" in doc, (cmd, out, p.stderr.decode())
        return doc


@pytest.fixture
def tool(emulator, mrap, tmp_path):
    yield Tool(emulator, tmp_path)
    emulator.faults(slowdown_rate=0, internal_error_rate=0, cut_rate=0, latency_ms=0)


def open_uploads(emulator, key):
    return [u for u in emulator.admin("uploads")["uploads"] if u["key"] == key]


def test_put_and_read_back(tool, mrap):
    body = rand_bytes(300 * 1024 + 7, 1)
    got = tool.run("put", "c/put/a b+€.bin", tool.file("a", body),
                   options=["--content-type", "application/x-mrap", "--meta", "Color=blue",
                            "--meta", "origin=c client", "--storage-class", "STANDARD_IA",
                            "--content-md5"])
    assert got["etag"] == '"%s"' % hashlib.md5(body).hexdigest()
    assert got["crc32c"] == b64crc(body)
    r = mrap.request("GET", "c/put/a b+€.bin", headers={"x-amz-checksum-mode": "ENABLED"})
    assert r.status == 200 and r.body == body
    assert r.header("etag") == got["etag"]
    assert r.header("x-amz-checksum-crc32c") == b64crc(body)
    assert r.header("content-type") == "application/x-mrap"
    assert r.header("x-amz-meta-color") == "blue"
    assert r.header("x-amz-meta-origin") == "c client"
    assert r.header("x-amz-storage-class") == "STANDARD_IA"

    got = tool.run("put", "c/put/empty", tool.file("e", b""))
    assert got["etag"] == '"d41d8cd98f00b204e9800998ecf8427e"' and got["crc32c"] == "AAAAAA=="
    r = mrap.request("GET", "c/put/empty")
    assert r.status == 200 and r.body == b""


def test_bucket_mode(tool, emulator):
    """s3://BUCKET --region: path-style SigV4 to the regional endpoint."""
    body = rand_bytes(10000, 14)
    regional = ["--region", "eu-west-1"]
    got = tool.run("put", "c/regional.bin", tool.file("r", body), options=regional,
                   target="s3://demo-eu-west-1")
    assert got["etag"] == '"%s"' % hashlib.md5(body).hexdigest()
    c = emulator.client(mode="regional", region="eu-west-1")
    r = c.request("GET", "c/regional.bin", bucket="demo-eu-west-1")
    assert r.status == 200 and r.body == body
    assert tool.run("delete", "c/regional.bin", options=regional,
                    target="s3://demo-eu-west-1") == {}


def test_put_if_none_match(tool, mrap):
    tool.run("put", "c/inm", tool.file("one", b"first"), options=["--if-none-match"])
    err = tool.run("put", "c/inm", tool.file("two", b"second"), options=["--if-none-match"],
                   ok=False)
    assert (err["error"], err["code"]) == ("ESTALE", "PreconditionFailed")
    assert mrap.request("GET", "c/inm").body == b"first"


def test_refused_before_sending(tool, emulator):
    path = tool.file("x", b"x")
    before = emulator.stats()["requests"]
    cases = [(["--storage-class", "CHEAP"], "EINVAL"), (["--meta", "bad name=v"], "EINVAL"),
             (["--meta", "a=line\nbreak"], "EINVAL"), (["--meta", "n=" + "v" * 2048], "E2BIG"),
             (["--meta=%s" % m for m in ("m%d=v" % i for i in range(25))], "E2BIG")]
    for options, errno_name in cases:
        assert tool.run("put", "c/refused", path, options=options, ok=False)["error"] == errno_name
    assert tool.run("put", "k" * 1025, path, ok=False)["error"] == "ENAMETOOLONG"
    assert tool.run("mpu-create", "c/refused", options=["--if-none-match"],
                    ok=False)["error"] == "EINVAL"
    assert emulator.stats()["requests"] == before


def test_multipart_three_parts(tool, mrap, emulator):
    parts = [rand_bytes(5 * MIB, 2), rand_bytes(5 * MIB, 3), rand_bytes(MIB + 17, 4)]
    body = b"".join(parts)
    got = tool.run("upload", "c/mpu/three.bin", tool.file("big", body),
                   options=["--part-size", str(5 * MIB), "--jobs", "3", "--meta", "kind=mpu"])
    assert got["parts"] == 3
    assert got["etag"] == multipart_etag(parts)
    r = mrap.request("GET", "c/mpu/three.bin", headers={"x-amz-checksum-mode": "ENABLED"})
    assert r.status == 200 and r.body == body
    assert r.header("etag") == multipart_etag(parts)
    assert r.header("x-amz-meta-kind") == "mpu"
    composite = crc32c(b"".join(crc32c(p).to_bytes(4, "big") for p in parts))
    assert r.header("x-amz-checksum-crc32c") == "%s-3" % base64.b64encode(
        composite.to_bytes(4, "big")).decode()
    assert open_uploads(emulator, "c/mpu/three.bin") == []


def test_in_progress_upload_listed_then_aborted(tool, emulator):
    key = "c/mpu/in progress+€.bin"
    upload_id = tool.run("mpu-create", key)["upload_id"]
    p1, p2 = rand_bytes(5 * MIB, 5), b"tail"
    one = tool.run("mpu-part", key, upload_id, "1", tool.file("p1", p1))
    two = tool.run("mpu-part", key, upload_id, "2", tool.file("p2", p2))
    assert one == {"part_number": 1, "size": len(p1), "crc32c": b64crc(p1),
                   "etag": '"%s"' % hashlib.md5(p1).hexdigest()}
    assert two["etag"] == '"%s"' % hashlib.md5(p2).hexdigest()

    listed = tool.run("list-parts", key, upload_id)["parts"]
    assert listed == [one, two]
    uploads = tool.run("list-uploads", "c/mpu/in ")["uploads"]
    assert [(u["key"], u["upload_id"]) for u in uploads] == [(key, upload_id)]
    assert uploads[0]["storage_class"] == "STANDARD" and uploads[0]["initiated"] > 0

    assert tool.run("mpu-abort", key, upload_id) == {}
    assert tool.run("list-uploads", "c/mpu/in ")["uploads"] == []
    assert tool.run("list-parts", key, upload_id, ok=False)["error"] == "ENOENT"
    err = tool.run("mpu-abort", key, upload_id, ok=False)
    assert (err["error"], err["code"]) == ("ENOENT", "NoSuchUpload")
    assert open_uploads(emulator, key) == []


def test_complete_with_listed_parts(tool, mrap):
    key = "c/mpu/listed.bin"
    upload_id = tool.run("mpu-create", key)["upload_id"]
    parts = [rand_bytes(5 * MIB + 3, 6), b"!"]
    for i, p in enumerate(parts, 1):
        tool.run("mpu-part", key, upload_id, str(i), tool.file("p%d" % i, p))
    got = tool.run("mpu-complete", key, upload_id)
    assert got == {"etag": multipart_etag(parts), "parts": 2}
    assert mrap.request("GET", key).body == b"".join(parts)
    # Completing again: ListParts (the tool completes with what it lists) finds the upload gone.
    assert tool.run("mpu-complete", key, upload_id, ok=False)["error"] == "ENOENT"


def test_complete_answer_lost(tool, mrap, emulator):
    """S3 completes the upload but the answer is lost: the client's retry finds
    NoSuchUpload, and HeadObject shows the object with our multipart ETag."""
    parts = [rand_bytes(5 * MIB, 13), b"end"]
    emulator.reset_stats()
    got = tool.run("upload", "c/mpu/lost.bin", tool.file("lost", b"".join(parts)),
                   options=["--part-size", str(5 * MIB), "--lose-complete-answer"])
    assert got["etag"] == multipart_etag(parts)
    ops = emulator.stats()["operations"]
    assert ops.get("CompleteMultipartUpload") == 2 and ops.get("HeadObject") == 1, ops
    assert mrap.request("GET", "c/mpu/lost.bin").body == b"".join(parts)


def test_delete(tool, mrap):
    tool.run("put", "c/del/x", tool.file("x", b"delete me"))
    assert tool.run("delete", "c/del/x") == {}
    assert mrap.request("HEAD", "c/del/x").status == 404
    assert tool.run("delete", "c/del/never-existed") == {}


def test_delete_under_legal_hold(tool, mrap, emulator):
    key = "c/locked.txt"
    tool.run("put", key, tool.file("l", b"held"))
    hold = (b'<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b"<Status>ON</Status></LegalHold>")
    md5 = base64.b64encode(hashlib.md5(hold).digest()).decode()
    r = mrap.request("PUT", key, query=[("legal-hold", None)], body=hold,
                     headers={"Content-MD5": md5})
    assert r.status == 200, r
    try:
        err = tool.run("delete", key, ok=False)
        assert (err["error"], err["code"]) == ("EPERM", "AccessDenied")
        assert mrap.request("GET", key).body == b"held"
        err = tool.run("put", key, tool.file("l2", b"overwrite"), ok=False)
        assert err["error"] == "EPERM"
    finally:
        bucket = emulator.admin("state")["mraps"][0]["regions"][0]["bucket"]
        emulator.admin("object?bucket=%s&key=%s" % (bucket, key.replace("/", "%2F")),
                       method="DELETE")


def test_damaged_body_refused(tool, mrap, emulator):
    body = rand_bytes(64 * 1024, 7)
    err = tool.run("put", "c/damaged", tool.file("d", body), options=["--damage-body", "100"],
                   ok=False)
    assert (err["error"], err["code"]) == ("EIO", "BadDigest")
    assert "CRC32C" in err["message"]
    assert mrap.request("HEAD", "c/damaged").status == 404

    big = rand_bytes(6 * MIB, 8)
    err = tool.run("upload", "c/damaged-mpu", tool.file("dm", big),
                   options=["--part-size", str(5 * MIB), "--damage-body", "12345"], ok=False)
    assert (err["error"], err["code"]) == ("EIO", "BadDigest")
    assert mrap.request("HEAD", "c/damaged-mpu").status == 404
    assert open_uploads(emulator, "c/damaged-mpu") == []   # aborted by the tool


def test_uploads_exact_under_faults(tool, mrap, emulator):
    small = rand_bytes(700 * 1024, 9)
    parts = [rand_bytes(5 * MIB, 10), rand_bytes(5 * MIB, 11), rand_bytes(2 * MIB + 1, 12)]
    big = b"".join(parts)
    small_path, big_path = tool.file("s", small), tool.file("b", big)
    # One thread and a seed make the fault sequence repeatable; 10 attempts
    # make a request that fails them all (0.2^10) practically impossible.
    retries = ["--max-attempts", "10"]
    emulator.reset_stats()
    emulator.faults(slowdown_rate=0.1, internal_error_rate=0.1, seed=20)
    for i in range(4):
        tool.run("put", "c/faults/small%d" % i, small_path, options=retries)
        got = tool.run("upload", "c/faults/big%d" % i, big_path,
                       options=retries + ["--part-size", str(5 * MIB), "--jobs", "1"])
        assert got["etag"] == multipart_etag(parts)
    stats = emulator.stats()
    emulator.faults(slowdown_rate=0, internal_error_rate=0)
    assert stats["faults"].get("slowdown", 0) + stats["faults"].get("internal_error", 0) > 0
    for i in range(4):
        assert mrap.request("GET", "c/faults/small%d" % i).body == small
        r = mrap.request("GET", "c/faults/big%d" % i)
        assert r.body == big and r.header("etag") == multipart_etag(parts)
    assert [u for u in emulator.admin("uploads")["uploads"]
            if u["key"].startswith("c/faults/")] == []
