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
    bad = [l for l in m.output().splitlines() if " warn " in l or " error " in l]
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
