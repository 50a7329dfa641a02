"""Helpers shared by the xattr mount tests (test_mount_xattr*.py): an emulator
whose restores finish quickly, a mount by ARN, the emulator's record of an
object, RFC 3339 times, and libc's getxattr/listxattr for size probing."""
import ctypes
import datetime
import subprocess
import time
import urllib.error

import pytest

from conftest import Emulator

ACCOUNT = "111122223333"
ALIAS = "mfzwi23gnjvgw.mrap"
ARN = "arn:aws:s3::%s:accesspoint/%s" % (ACCOUNT, ALIAS)
BUCKETS = ("demo-us-east-1", "demo-eu-west-1")
REFUSALS = ("warn xattr: setting", "warn s3: PUT", "warn s3: DELETE", "protected by object lock",
            "Object Lock", "object lock")
LIBC = ctypes.CDLL(None, use_errno=True)


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    """An emulator whose restores finish after one second."""
    e = Emulator(tmp_path_factory.mktemp("emu"), ["--restore-delay", "1"]).start()
    yield e
    e.stop()


def wait_until(cond, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    return cond()


def put(emu, key, body=b"hello\n", headers=None):
    r = emu.client().request("PUT", key, body=body, headers=headers)
    assert r.status == 200, r


def state(emu, key):
    """The emulator's record of key (tags, acl, retention, legal_hold, restore...)."""
    for b in BUCKETS:
        try:
            return emu.admin("object?bucket=%s&key=%s" % (b, key))
        except urllib.error.HTTPError as e:
            assert e.code == 404
    return None


def rfc3339(delta_s):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def xerr(fn, *args):
    with pytest.raises(OSError) as ei:
        fn(*args)
    return ei.value.errno


def getfattr(path, name):
    p = subprocess.run(["getfattr", "--only-values", "-n", name, path], capture_output=True,
                       timeout=30)
    return p.returncode, p.stdout, p.stderr.decode()


def setfattr(path, name, value=None):
    cmd = ["setfattr", "-n", name] + (["-v", value] if value is not None else []) + [path]
    if value is None:
        cmd = ["setfattr", "-x", name, path]
    p = subprocess.run(cmd, capture_output=True, timeout=30)
    return p.returncode, p.stderr.decode()


def c_getxattr(path, name, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    n = LIBC.getxattr(path.encode(), name.encode(), buf if size else None, ctypes.c_size_t(size))
    return (n, ctypes.get_errno()) if n < 0 else (n, buf.raw[:n] if size else None)


def c_listxattr(path, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    n = LIBC.listxattr(path.encode(), buf if size else None, ctypes.c_size_t(size))
    return (n, ctypes.get_errno()) if n < 0 else (n, buf.raw[:n] if size else None)


@pytest.fixture
def mnt(make_mount, emu):
    emu.faults(slowdown_rate=0, internal_error_rate=0, cut_rate=0, latency_ms=0)
    return make_mount(emu, args=["--metadata-ttl", "1"], allowed_warnings=REFUSALS, alias=ARN)
