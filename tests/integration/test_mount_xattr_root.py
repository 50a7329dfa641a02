"""The mount root's user.mrap.* attributes (ARN, alias, live routes, S3 Control's
endpoint), archived objects and restores, buckets without Object Lock, and
xattr traffic from many threads under injected faults — mounted for real
against the emulator, checked in its state."""
import base64
import errno
import json
import os
import threading
import time

import pytest

from conftest import MRAPFS, Emulator, Mount
from xattr_util import emu, mnt  # noqa: F401 (fixtures)
from xattr_util import (ACCOUNT, ALIAS, ARN, BUCKETS, REFUSALS, epoch, put, rfc3339, setfattr,
                        state, wait_until, xerr)

pytestmark = pytest.mark.skipif(not os.path.exists(MRAPFS), reason="mrapfs not built")


def test_restore_archived(emu, make_mount):
    body = os.urandom(3000)
    emu.admin("object", {"bucket": BUCKETS[0], "key": "cold/archived.bin",
                         "body": base64.b64encode(body).decode(), "storage_class": "GLACIER"})
    m = make_mount(emu, args=["--metadata-ttl", "1"], allowed_warnings=REFUSALS + (
        "is archived", "InvalidObjectState"), alias=ARN, name="restore")
    f = m.path("cold", "archived.bin")
    assert os.path.getsize(f) == len(body)
    assert os.getxattr(f, "user.s3.storage-class") == b"GLACIER"
    assert xerr(os.getxattr, f, "user.s3.restore") == errno.ENODATA
    for _ in range(2):  # a clear errno each time, one log line for the key
        with open(f, "rb") as fh:
            assert xerr(fh.read) == errno.ENODATA
    assert m.output().count("setfattr -n user.s3.restore -v 7") == 1
    for bad in (b"0", b"abc", b"7,Fast", b"7;Bulk", b"-1"):
        assert xerr(os.setxattr, f, "user.s3.restore", bad) == errno.EINVAL, bad
    assert xerr(os.removexattr, f, "user.s3.restore") == errno.EPERM
    assert setfattr(f, "user.s3.restore", "7,Expedited")[0] == 0
    assert state(emu, "cold/archived.bin")["restore_status"] in ("ongoing", "done")
    assert os.getxattr(f, "user.s3.restore") in (b"ongoing",) or \
        os.getxattr(f, "user.s3.restore").startswith(b"restored until ")
    done = wait_until(lambda: os.getxattr(f, "user.s3.restore").startswith(b"restored until "))
    assert done
    expiry = epoch(os.getxattr(f, "user.s3.restore").decode()[len("restored until "):])
    # S3 rounds the expiry up to a midnight UTC
    assert 6 * 86400 < expiry - time.time() <= 8 * 86400 + 60
    assert "user.s3.restore" in os.listxattr(f)
    with open(f, "rb") as fh:
        assert fh.read() == body
    # a restore of something not archived is refused locally-clear, not ENODATA
    put(emu, "warm.txt")
    assert xerr(os.setxattr, m.path("warm.txt"), "user.s3.restore", b"7") == errno.EINVAL


def test_root_attributes_by_arn(emu, mnt):
    root = mnt.mountpoint
    assert os.getxattr(root, "user.mrap.alias") == ALIAS.encode()
    assert os.getxattr(root, "user.mrap.arn") == ARN.encode()
    assert set(os.listxattr(root)) == {"user.mrap.alias", "user.mrap.arn", "user.mrap.routes"}

    def routes():
        return sorted(os.getxattr(root, "user.mrap.routes").decode().split("\n"))

    assert routes() == ["eu-west-1 demo-eu-west-1 100", "us-east-1 demo-us-east-1 100"]
    emu.admin("routes", {"mrap": "demo", "dials": {"demo-us-east-1": 0}})
    try:
        assert wait_until(lambda: routes() == ["eu-west-1 demo-eu-west-1 100",
                                               "us-east-1 demo-us-east-1 0"])
    finally:
        emu.admin("routes", {"mrap": "demo", "dials": {"demo-us-east-1": 100}})
    assert wait_until(lambda: "us-east-1 demo-us-east-1 100" in routes())
    for name in ("user.mrap.alias", "user.mrap.arn", "user.mrap.routes"):
        assert xerr(os.setxattr, root, name, b"x") == errno.EPERM
        assert xerr(os.removexattr, root, name) == errno.EPERM
    assert xerr(os.setxattr, root, "user.mrap.other", b"x") == errno.ENOTSUP
    assert xerr(os.getxattr, root, "user.s3.etag") == errno.ENODATA
    assert xerr(os.setxattr, root, "user.s3.tag.k", b"v") == errno.ENOTSUP


def test_root_attributes_by_alias(emu, make_mount):
    hint = "user.mrap.routes needs the account id"
    m = make_mount(emu, allowed_warnings=(hint,), name="alias")
    root = m.mountpoint
    assert os.getxattr(root, "user.mrap.alias") == ALIAS.encode()
    assert os.listxattr(root) == ["user.mrap.alias"]
    assert xerr(os.getxattr, root, "user.mrap.arn") == errno.ENODATA
    assert xerr(os.getxattr, root, "user.mrap.routes") == errno.ENODATA
    assert xerr(os.getxattr, root, "user.mrap.routes") == errno.ENODATA
    assert m.output().count(hint) == 1
    assert "mount by ARN" in m.output()


def test_concurrent_readers_and_writers_under_faults(emu, make_mount):
    """Many threads read every xattr of a few files while others change tags, with
    S3 answering SlowDown now and then: every call succeeds (retries), and the
    final tags are exactly what the writers set."""
    m = make_mount(emu, args=["--metadata-ttl", "0.2"], alias=ARN, name="busy",
                   allowed_warnings=REFUSALS + ("SlowDown", "tried again", "retry"))
    files = []
    for i in range(4):
        put(emu, "busy/f%d.txt" % i)
        files.append(m.path("busy", "f%d.txt" % i))
    for f in files:
        os.stat(f)
    emu.reset_stats()
    emu.faults(slowdown_rate=0.1, seed=7)
    errors = []

    def reader(n):
        try:
            for k in range(15):
                f = files[(n + k) % len(files)]
                for name in os.listxattr(f):
                    try:
                        os.getxattr(f, name)
                    except OSError as e:  # a tag removed between list and get
                        if e.errno != errno.ENODATA:
                            raise
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    def writer(i):
        try:
            for k in range(5):
                os.setxattr(files[i], "user.s3.tag.t%d" % k, b"%d" % k)
            os.removexattr(files[i], "user.s3.tag.t0")
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(6)]
    threads += [threading.Thread(target=writer, args=(i,)) for i in range(len(files))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    emu.faults(slowdown_rate=0)
    assert emu.stats()["faults"].get("slowdown", 0) > 0  # retries were needed
    assert not [t for t in threads if t.is_alive()]
    assert not errors, errors
    for i in range(len(files)):
        assert sorted(state(emu, "busy/f%d.txt" % i)["tags"]) == [
            ["t%d" % k, "%d" % k] for k in range(1, 5)]


def test_routes_endpoint_from_environment(emu, tmp_path):
    """Without --endpoint-url, the data plane takes AWS_ENDPOINT_URL_S3 and S3
    Control takes AWS_ENDPOINT_URL_S3_CONTROL, as mrapctl does."""
    class EnvMount(Mount):
        def command(self):
            return [MRAPFS, "-f"] + self.args + [self.alias, self.mountpoint]

    url = "http://localhost:%d" % emu.port
    m = EnvMount(emu, tmp_path / "envmnt", alias=ARN,
                 env={"AWS_ENDPOINT_URL_S3": url, "AWS_ENDPOINT_URL_S3_CONTROL": url})
    m.start()
    try:
        routes = os.getxattr(m.mountpoint, "user.mrap.routes").decode().split("\n")
        assert "us-east-1 demo-us-east-1 100" in routes
    finally:
        m.stop()
    assert not m.unexpected_warnings()


def test_bucket_without_object_lock(tmp_path, make_mount):
    """An MRAP over a bucket without Object Lock: retention and legal hold read as
    not set, and setting them is S3's InvalidRequest (EINVAL), logged."""
    cfg = tmp_path / "emu.json"
    cfg.write_text(json.dumps({
        "buckets": [{"name": "plain-us-west-2", "region": "us-west-2", "object_lock": False}],
        "mraps": [{"name": "plain", "alias": "mplainplainpl.mrap",
                   "regions": [{"bucket": "plain-us-west-2", "dial": 100}]}]}))
    e = Emulator(tmp_path / "plain-emu", ["--config", str(cfg)]).start()
    try:
        arn = "arn:aws:s3::%s:accesspoint/mplainplainpl.mrap" % ACCOUNT
        m = make_mount(e, alias=arn, name="plain", allowed_warnings=REFUSALS + (
            "Object Lock", "InvalidRequest"))
        r = e.client(alias="mplainplainpl.mrap").request("PUT", "p.txt", body=b"x")
        assert r.status == 200, r
        f = m.path("p.txt")
        assert xerr(os.getxattr, f, "user.s3.retention") == errno.ENODATA
        assert xerr(os.getxattr, f, "user.s3.legal-hold") == errno.ENODATA
        assert xerr(os.setxattr, f, "user.s3.legal-hold", b"ON") == errno.EINVAL
        assert xerr(os.setxattr, f, "user.s3.retention",
                    ("GOVERNANCE " + rfc3339(600)).encode()) == errno.EINVAL
        os.setxattr(f, "user.s3.tag.k", b"v")  # everything else works
        assert os.getxattr(f, "user.s3.tag.k") == b"v"
        assert os.getxattr(m.mountpoint, "user.mrap.routes") == b"us-west-2 plain-us-west-2 100"
        m.stop()
    finally:
        e.stop()
