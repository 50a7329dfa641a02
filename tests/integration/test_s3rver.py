"""mrapfs's plain-bucket mode (`mrapfs s3://BUCKET --region R`, SigV4, path
style) against a third-party S3 server: s3rver from npm, installed by
scripts/test-tools.sh into tests/npm. This proves the S3 layer against an
implementation we did not write, for everything s3rver implements.

s3rver knows one access key, S3RVER, and refuses others (InvalidAccessKeyId),
but does not check SigV4 signatures (its authentication.js leaves V4
"unimplemented"), so a wrong secret cannot be tested here; the emulator tests
cover that. s3rver also reports a common prefix only for a folder that directly
holds an object, so every folder in TREE does.
"""
import errno
import hashlib
import os
import subprocess
import time

import pytest

from conftest import BUILD, ROOT, free_port, wait_or_kill
from s3client import S3Client

S3RVER = os.path.join(ROOT, "tests", "npm", "node_modules", ".bin", "s3rver")
MRAPFS = os.path.join(BUILD, "mrapfs")
BUCKET = "mrapfs-test"
KEY = SECRET = "S3RVER"

pytestmark = [
    pytest.mark.skipif(not os.path.exists(S3RVER),
                       reason="s3rver not installed (run scripts/test-tools.sh)"),
    pytest.mark.skipif(not os.path.exists(MRAPFS), reason="mrapfs not built"),
]

BIG = hashlib.sha256(b"seed").digest() * (3 * 1024 * 1024 // 32 + 17)  # ~3 MiB, odd size
TREE = {
    "hello.txt": b"hello from s3rver\n",
    "docs/readme.md": b"# readme\nneedle here\n",
    "docs/deep/leaf.txt": b"leaf\n",
    "with space/and+plus%.txt": b"strange\n",
    "unicod\u00e9.txt": b"unicode\n",
    "big.bin": BIG,
    "empty.bin": b"",
}


class S3rver:
    def __init__(self, data_dir):
        self.data_dir = str(data_dir)
        self.port = free_port()
        self.log = open(os.path.join(self.data_dir, "s3rver.log"), "wb")
        self.proc = subprocess.Popen(
            [S3RVER, "-d", self.data_dir, "-a", "127.0.0.1", "-p", str(self.port),
             "--configure-bucket", BUCKET], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.client().request("HEAD", "", bucket=BUCKET).status == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("s3rver did not start; see %s/s3rver.log" % self.data_dir)

    def client(self):
        return S3Client(self.port, mode="regional", access_key=KEY, secret_key=SECRET)

    def put(self, key, body):
        r = self.client().request("PUT", key, body=body, bucket=BUCKET)
        assert r.status == 200, r

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            wait_or_kill(self.proc)
        self.log.close()


@pytest.fixture(scope="module")
def s3rver(tmp_path_factory):
    server = S3rver(tmp_path_factory.mktemp("s3rver"))
    try:
        for k, v in TREE.items():
            server.put(k, v)
        yield server
    finally:
        server.stop()


class BucketMount:
    def __init__(self, server, mountpoint, env_extra=None):
        self.mountpoint = str(mountpoint)
        os.makedirs(self.mountpoint, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
                    "HOME": os.path.dirname(self.mountpoint)})
        env.update(env_extra or {})
        self.cmd = [MRAPFS, "-f", "--endpoint-url", "http://localhost:%d" % server.port,
                    "--region", "us-east-1", "s3://" + BUCKET, self.mountpoint]
        self.log_path = self.mountpoint + ".log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.cmd, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def wait_mounted(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if os.path.ismount(self.mountpoint):
                return self
            if self.proc.poll() is not None:
                return None
            time.sleep(0.05)
        raise RuntimeError("mount did not come up: " + self.output())

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if os.path.ismount(self.mountpoint):
            subprocess.run(["fusermount3", "-u", "-z", self.mountpoint], timeout=30)
        wait_or_kill(self.proc)
        self.log.close()

    def path(self, *p):
        return os.path.join(self.mountpoint, *p)


@pytest.fixture
def mounted(s3rver, tmp_path):
    m = BucketMount(s3rver, tmp_path / "mnt")
    try:
        assert m.wait_mounted(), m.output()
        yield m
    finally:
        m.stop()
    expected = ('rename of "w-empty"',)  # test_writes asks for it
    bad = [l for l in m.output().splitlines() if (" warn " in l or " error " in l)
           and not any(x in l for x in expected)]
    assert not bad, bad


def sh(cmd):
    return subprocess.run(cmd, shell=True, check=True, stdout=subprocess.PIPE,
                          timeout=120).stdout


def test_tree_and_reads(mounted):
    m = mounted
    assert sorted(os.listdir(m.mountpoint)) == sorted(
        ["hello.txt", "docs", "with space", "unicod\u00e9.txt", "big.bin", "empty.bin"])
    files = sh("cd '%s' && find . -type f" % m.mountpoint).decode().split("\n")[:-1]
    assert sorted(files) == sorted("./" + k for k in TREE)
    for key, body in TREE.items():
        with open(m.path(key), "rb") as f:
            assert f.read() == body, key
        assert os.stat(m.path(key)).st_size == len(body)
    p = m.path("big.bin")
    assert sh("md5sum '%s'" % p).split()[0].decode() == hashlib.md5(BIG).hexdigest()
    assert sh("dd if='%s' bs=4096 skip=300 count=2 status=none" % p) == BIG[4096 * 300:4096 * 302]
    assert sh("tail -c 1000 '%s'" % p) == BIG[-1000:]
    assert b"docs/readme.md" in sh("cd '%s' && grep -rl needle ." % m.mountpoint)
    assert os.path.isdir(m.path("docs", "deep"))


def test_remote_changes_and_missing_names(s3rver, mounted):
    m = mounted
    assert not os.path.exists(m.path("nope.txt"))
    s3rver.put("later.txt", b"added after mount\n")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not os.path.exists(m.path("later.txt")):
        time.sleep(0.2)
    with open(m.path("later.txt"), "rb") as f:
        assert f.read() == b"added after mount\n"


def test_unknown_access_key_is_a_clear_mount_error(s3rver, tmp_path):
    m = BucketMount(s3rver, tmp_path / "bad", {"AWS_ACCESS_KEY_ID": "AKIANOTKNOWNTOS3RVER"})
    try:
        assert m.wait_mounted() is None, "mounted with an unknown access key"
        assert m.proc.returncode != 0
        assert "InvalidAccessKeyId" in m.output(), m.output()
    finally:
        m.stop()


def test_unknown_bucket_is_a_clear_mount_error(s3rver, tmp_path):
    m = BucketMount(s3rver, tmp_path / "nobucket")
    m.cmd[-2] = "s3://no-such-bucket"
    m.stop()
    p = subprocess.run(m.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                       env=dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET))
    assert p.returncode != 0 and b"NoSuchBucket" in p.stdout, p.stdout


# ---- the write suite, for what s3rver implements ----

def test_writes(s3rver, mounted):
    m = mounted
    c = s3rver.client()
    small = os.urandom(300000)
    with open(m.path("w-small.bin"), "wb") as f:  # one PutObject at close
        f.write(small)
    assert c.request("GET", "w-small.bin", bucket=BUCKET).body == small
    with open(m.path("w-empty"), "wb"):  # never written: stored at release, just after close
        pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and c.request("HEAD", "w-empty", bucket=BUCKET).status != 200:
        time.sleep(0.05)
    assert c.request("GET", "w-empty", bucket=BUCKET).body == b""
    # Overwrite with O_TRUNC, then an append and an in-place edit (staged, then one PUT).
    with open(m.path("w-small.bin"), "wb") as f:
        f.write(b"version two\n")
    with open(m.path("w-small.bin"), "ab") as f:
        f.write(b"appended\n")
    with open(m.path("w-small.bin"), "r+b") as f:
        f.seek(0)
        f.write(b"V")
    assert c.request("GET", "w-small.bin", bucket=BUCKET).body == b"Version two\nappended\n"
    with open(m.path("w-small.bin"), "rb") as f:
        assert f.read() == b"Version two\nappended\n"
    # Directories: a marker object, ENOTEMPTY, removal.
    os.mkdir(m.path("w-dir"))
    assert c.request("HEAD", "w-dir/", bucket=BUCKET).status == 200
    with open(m.path("w-dir", "f"), "wb") as f:
        f.write(b"f")
    with pytest.raises(OSError) as e:
        os.rmdir(m.path("w-dir"))
    assert e.value.errno == errno.ENOTEMPTY
    os.unlink(m.path("w-dir", "f"))
    os.rmdir(m.path("w-dir"))
    assert c.request("HEAD", "w-dir/", bucket=BUCKET).status == 404
    # rename: no CopyObject through mrapfs, whatever the server offers.
    with pytest.raises(OSError) as e:
        os.rename(m.path("w-empty"), m.path("w-moved"))
    assert e.value.errno == errno.EOPNOTSUPP
    os.unlink(m.path("w-empty"))
    assert c.request("HEAD", "w-empty", bucket=BUCKET).status == 404


def test_tags_as_xattrs(mounted, s3rver):
    m = mounted
    with open(m.path("tagged.txt"), "wb") as f:
        f.write(b"tagged\n")
    os.setxattr(m.path("tagged.txt"), "user.s3.tag.team", b"storage")
    assert os.getxattr(m.path("tagged.txt"), "user.s3.tag.team") == b"storage"
    r = s3rver.client().request("GET", "tagged.txt", query={"tagging": None}, bucket=BUCKET)
    assert r.status == 200 and b"<Key>team</Key>" in r.body and b"storage" in r.body


def test_multipart_is_refused_when_unverifiable(s3rver, tmp_path):
    """s3rver answers CompleteMultipartUpload with the MD5 of the whole object,
    not S3's md5-of-part-md5s-N ETag, so mrapfs cannot verify what was stored
    and reports the write as failed (EIO at close) rather than trust it."""
    m = BucketMount(s3rver, tmp_path / "mp")
    try:
        assert m.wait_mounted(), m.output()
        data = os.urandom(20 * 1024 * 1024)
        with pytest.raises(OSError) as e:
            with open(m.path("mp.bin"), "wb") as f:
                f.write(data)
        assert e.value.errno == errno.EIO
    finally:
        m.stop()
    out = m.output()
    assert "does not implement ListParts" in out and "ETagMismatch" in out, out
