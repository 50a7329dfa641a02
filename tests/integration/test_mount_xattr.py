"""Object metadata as extended attributes, mounted for real against the emulator.

Every change goes through the mount (setfattr from Debian's `attr`, or
os.setxattr) and is checked twice: read back through the mount, and in the
emulator's own state (GET /_emulator/object), so a value that only lives in
the daemon's cache cannot pass. Sizes and ERANGE are checked through libc's
getxattr/listxattr directly, as tools call them.
"""
import ctypes
import datetime
import errno
import hashlib
import os
import subprocess
import time
import urllib.error

import pytest

from conftest import MRAPFS, Emulator

pytestmark = pytest.mark.skipif(not os.path.exists(MRAPFS), reason="mrapfs not built")

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


def test_tags_round_trip_and_flags(emu, mnt):
    put(emu, "tags/a.txt")
    f = mnt.path("tags", "a.txt")
    assert setfattr(f, "user.s3.tag.project", "alpha")[0] == 0
    os.setxattr(f, "user.s3.tag.team name", b"data eng")
    assert getfattr(f, "user.s3.tag.project")[1] == b"alpha"
    assert os.getxattr(f, "user.s3.tag.team name") == b"data eng"
    assert sorted(state(emu, "tags/a.txt")["tags"]) == [["project", "alpha"],
                                                        ["team name", "data eng"]]
    names = os.listxattr(f)
    assert "user.s3.tag.project" in names and "user.s3.tag.team name" in names

    # XATTR_CREATE on a present tag, XATTR_REPLACE on an absent one
    assert xerr(os.setxattr, f, "user.s3.tag.project", b"x", os.XATTR_CREATE) == errno.EEXIST
    assert xerr(os.setxattr, f, "user.s3.tag.nope", b"x", os.XATTR_REPLACE) == errno.ENODATA
    os.setxattr(f, "user.s3.tag.project", b"beta", os.XATTR_REPLACE)
    os.setxattr(f, "user.s3.tag.new", b"", os.XATTR_CREATE)  # empty values are allowed
    assert os.getxattr(f, "user.s3.tag.project") == b"beta"
    assert sorted(state(emu, "tags/a.txt")["tags"]) == [["new", ""], ["project", "beta"],
                                                        ["team name", "data eng"]]

    # removal; the last one removed deletes the tag set
    assert setfattr(f, "user.s3.tag.project")[0] == 0
    os.removexattr(f, "user.s3.tag.new")
    assert sorted(state(emu, "tags/a.txt")["tags"]) == [["team name", "data eng"]]
    assert xerr(os.removexattr, f, "user.s3.tag.project") == errno.ENODATA
    os.removexattr(f, "user.s3.tag.team name")
    assert state(emu, "tags/a.txt")["tags"] == []
    assert xerr(os.getxattr, f, "user.s3.tag.team name") == errno.ENODATA
    assert not [n for n in os.listxattr(f) if n.startswith("user.s3.tag.")]


def test_tag_limits_are_local(emu, mnt):
    put(emu, "limits.txt")
    f = mnt.path("limits.txt")
    for i in range(10):
        os.setxattr(f, "user.s3.tag.k%d" % i, b"v")
    emu.reset_stats()
    # a bad key or value is refused before any request
    assert xerr(os.setxattr, f, "user.s3.tag." + "k" * 129, b"v") == errno.E2BIG
    assert xerr(os.setxattr, f, "user.s3.tag.k1", b"v" * 257) == errno.E2BIG
    assert xerr(os.setxattr, f, "user.s3.tag.aws:reserved", b"v") == errno.EINVAL
    assert xerr(os.setxattr, f, "user.s3.tag.bad#key", b"v") == errno.EINVAL
    assert xerr(os.setxattr, f, "user.s3.tag.k1", b"nul\0inside") == errno.EINVAL
    assert not [op for op in emu.stats()["operations"] if "Tagging" in op]
    # an eleventh tag needs the current set to count, but is never sent
    assert xerr(os.setxattr, f, "user.s3.tag.k10", b"v") == errno.E2BIG
    assert "PutObjectTagging" not in emu.stats()["operations"]
    os.setxattr(f, "user.s3.tag.k3", b"changed")  # replacing within ten is fine
    tags = dict(state(emu, "limits.txt")["tags"])
    assert len(tags) == 10 and tags["k3"] == "changed" and tags["k1"] == "v"
    # 128 characters of key and 256 of value are S3's limits, and allowed
    os.setxattr(f, "user.s3.tag.k3", "é".encode() * 256)
    assert os.getxattr(f, "user.s3.tag.k3") == "é".encode() * 256


def test_read_only_values(emu, mnt):
    body = b"some bytes\n"
    put(emu, "ro.txt", body, {"Content-Type": "text/plain", "x-amz-meta-color": "blue",
                              "x-amz-meta-Owner-Name": "Ada"})
    f = mnt.path("ro.txt")
    st = state(emu, "ro.txt")
    assert os.getxattr(f, "user.s3.etag") == hashlib.md5(body).hexdigest().encode()
    assert os.getxattr(f, "user.s3.storage-class") == b"STANDARD"
    assert os.getxattr(f, "user.s3.content-type") == b"text/plain"
    assert epoch(os.getxattr(f, "user.s3.last-modified").decode()) == st["last_modified"]
    assert os.getxattr(f, "user.s3.meta.color") == b"blue"
    assert os.getxattr(f, "user.s3.meta.owner-name") == b"Ada"
    names = set(os.listxattr(f))
    assert {"user.s3.etag", "user.s3.storage-class", "user.s3.content-type",
            "user.s3.last-modified", "user.s3.meta.color", "user.s3.meta.owner-name",
            "user.s3.acl"} <= names
    # not set, so not listed and not readable
    for absent in ("user.s3.retention", "user.s3.legal-hold", "user.s3.restore"):
        assert absent not in names
        assert xerr(os.getxattr, f, absent) == errno.ENODATA
    for name in ("user.s3.etag", "user.s3.storage-class", "user.s3.content-type",
                 "user.s3.last-modified", "user.s3.meta.color", "user.s3.meta.new"):
        assert xerr(os.setxattr, f, name, b"x") == errno.EPERM
        assert xerr(os.removexattr, f, name) == errno.EPERM
    rc, err = setfattr(f, "user.s3.etag", "x")
    assert rc != 0 and "Operation not permitted" in err
    assert state(emu, "ro.txt")["user_meta"] == {"color": "blue", "owner-name": "Ada"}


def test_sizes_and_erange(emu, mnt):
    put(emu, "size.txt")
    f = mnt.path("size.txt")
    os.setxattr(f, "user.s3.tag.k", b"0123456789")
    n, v = c_getxattr(f, "user.s3.tag.k", 0)
    assert (n, v) == (10, None)
    assert c_getxattr(f, "user.s3.tag.k", 9) == (-1, errno.ERANGE)
    assert c_getxattr(f, "user.s3.tag.k", 10) == (10, b"0123456789")
    assert c_getxattr(f, "user.s3.tag.k", 100) == (10, b"0123456789")
    n, _ = c_listxattr(f, 0)
    assert n > 0
    assert c_listxattr(f, n - 1) == (-1, errno.ERANGE)
    n2, names = c_listxattr(f, n)
    assert n2 == n and names.endswith(b"\0")
    assert set(names[:-1].split(b"\0")) == {x.encode() for x in os.listxattr(f)}


def test_foreign_and_unknown_names(emu, mnt):
    put(emu, "names.txt")
    f = mnt.path("names.txt")
    for name in ("user.foo", "user.s3.bogus", "user.mrap.alias", "trusted.x"):
        assert xerr(os.getxattr, f, name) == errno.ENODATA, name
    assert xerr(os.setxattr, f, "user.foo", b"x") == errno.ENOTSUP
    assert xerr(os.setxattr, f, "user.s3.bogus", b"x") == errno.ENOTSUP
    assert xerr(os.setxattr, f, "user.mrap.alias", b"x") == errno.ENOTSUP
    assert xerr(os.removexattr, f, "user.foo") == errno.ENODATA
    assert xerr(os.removexattr, f, "user.s3.bogus") == errno.ENODATA


def test_directories_have_no_object_attributes(emu, mnt):
    put(emu, "dir/inner.txt")
    d = mnt.path("dir")
    assert os.path.isdir(d)
    assert os.listxattr(d) == []
    assert xerr(os.getxattr, d, "user.s3.etag") == errno.ENODATA
    assert xerr(os.getxattr, d, "user.mrap.alias") == errno.ENODATA
    assert xerr(os.setxattr, d, "user.s3.tag.k", b"v") == errno.ENOTSUP
    assert xerr(os.removexattr, d, "user.s3.tag.k") == errno.ENOTSUP
    # the file in it has them
    assert os.getxattr(mnt.path("dir", "inner.txt"), "user.s3.storage-class") == b"STANDARD"


def test_legal_hold_blocks_rm(emu, mnt):
    put(emu, "held.txt")
    f = mnt.path("held.txt")
    assert setfattr(f, "user.s3.legal-hold", "ON")[0] == 0
    assert state(emu, "held.txt")["legal_hold"] == "ON"
    assert getfattr(f, "user.s3.legal-hold")[1] == b"ON"
    assert "user.s3.legal-hold" in os.listxattr(f)
    p = subprocess.run(["rm", f], capture_output=True, timeout=30)
    assert p.returncode != 0 and b"Operation not permitted" in p.stderr
    assert xerr(os.unlink, f) == errno.EPERM
    assert state(emu, "held.txt") is not None
    assert xerr(os.setxattr, f, "user.s3.legal-hold", b"MAYBE") == errno.EINVAL
    os.setxattr(f, "user.s3.legal-hold", b"off\n")  # any case, echo's newline
    assert state(emu, "held.txt")["legal_hold"] == "OFF"
    assert os.getxattr(f, "user.s3.legal-hold") == b"OFF"
    os.setxattr(f, "user.s3.legal-hold", b"ON")
    os.removexattr(f, "user.s3.legal-hold")  # S3 cannot forget a hold: removing sets OFF
    assert state(emu, "held.txt")["legal_hold"] == "OFF"
    subprocess.run(["rm", f], check=True, timeout=30)
    assert state(emu, "held.txt") is None


def test_retention_without_bypass(emu, mnt):
    put(emu, "ret.txt")
    f = mnt.path("ret.txt")
    until = rfc3339(3600)
    assert setfattr(f, "user.s3.retention", "GOVERNANCE " + until)[0] == 0
    r = state(emu, "ret.txt")["retention"]
    assert r["mode"] == "GOVERNANCE" and r["until"] == epoch(until)
    assert os.getxattr(f, "user.s3.retention") == ("GOVERNANCE " + until).encode()
    assert "user.s3.retention" in os.listxattr(f)
    # shortening or removing GOVERNANCE needs --allow-retention-bypass
    assert xerr(os.setxattr, f, "user.s3.retention",
                ("GOVERNANCE " + rfc3339(600)).encode()) == errno.EPERM
    assert xerr(os.removexattr, f, "user.s3.retention") == errno.EPERM
    assert state(emu, "ret.txt")["retention"]["until"] == epoch(until)
    assert "--allow-retention-bypass" in mnt.output()
    assert "Access Denied" in mnt.output()  # S3's own message is logged
    # extending is always allowed
    later = rfc3339(7200)
    os.setxattr(f, "user.s3.retention", ("GOVERNANCE " + later).encode())
    assert state(emu, "ret.txt")["retention"]["until"] == epoch(later)
    assert xerr(os.unlink, f) == errno.EPERM
    for bad in (b"FOREVER " + later.encode(), b"GOVERNANCE tomorrow", b"GOVERNANCE", b""):
        assert xerr(os.setxattr, f, "user.s3.retention", bad) == errno.EINVAL, bad


def test_retention_with_bypass(emu, make_mount):
    m = make_mount(emu, args=["-o", "allow_retention_bypass,metadata_ttl=1"],
                   allowed_warnings=REFUSALS, alias=ARN, name="bypass")
    put(emu, "bypass.txt")
    put(emu, "compliance.txt")
    f = m.path("bypass.txt")
    os.setxattr(f, "user.s3.retention", ("GOVERNANCE " + rfc3339(3600)).encode())
    shorter = rfc3339(600)
    os.setxattr(f, "user.s3.retention", ("GOVERNANCE " + shorter).encode())
    assert state(emu, "bypass.txt")["retention"]["until"] == epoch(shorter)
    assert os.getxattr(f, "user.s3.retention") == ("GOVERNANCE " + shorter).encode()
    os.removexattr(f, "user.s3.retention")
    assert not state(emu, "bypass.txt").get("retention")
    assert xerr(os.getxattr, f, "user.s3.retention") == errno.ENODATA
    assert xerr(os.removexattr, f, "user.s3.retention") == errno.ENODATA
    os.unlink(f)
    assert state(emu, "bypass.txt") is None
    # COMPLIANCE cannot be weakened, bypass or not
    c = m.path("compliance.txt")
    until = rfc3339(120)
    os.setxattr(c, "user.s3.retention", ("COMPLIANCE " + until).encode())
    assert state(emu, "compliance.txt")["retention"]["mode"] == "COMPLIANCE"
    assert xerr(os.setxattr, c, "user.s3.retention",
                ("COMPLIANCE " + rfc3339(60)).encode()) == errno.EPERM
    assert xerr(os.setxattr, c, "user.s3.retention",
                ("GOVERNANCE " + until).encode()) == errno.EPERM
    assert xerr(os.removexattr, c, "user.s3.retention") == errno.EPERM
    assert state(emu, "compliance.txt")["retention"] == {"mode": "COMPLIANCE",
                                                         "until": epoch(until)}


def test_acl(emu, mnt):
    put(emu, "acl.txt")
    f = mnt.path("acl.txt")
    lines = os.getxattr(f, "user.s3.acl").decode().split("\n")
    assert len(lines) == 1 and lines[0].startswith("FULL_CONTROL CanonicalUser ")
    assert setfattr(f, "user.s3.acl", "public-read")[0] == 0
    grants = state(emu, "acl.txt")["acl"]
    assert {"permission": "READ", "type": "Group",
            "uri": "http://acs.amazonaws.com/groups/global/AllUsers"} in grants
    lines = getfattr(f, "user.s3.acl")[1].decode().split("\n")
    assert "READ Group http://acs.amazonaws.com/groups/global/AllUsers" in lines
    assert len(lines) == len(grants)
    assert xerr(os.setxattr, f, "user.s3.acl", b"public-everything") == errno.EINVAL
    assert xerr(os.removexattr, f, "user.s3.acl") == errno.EPERM
    os.setxattr(f, "user.s3.acl", b"private")
    assert len(state(emu, "acl.txt")["acl"]) == 1
    assert len(os.getxattr(f, "user.s3.acl").decode().split("\n")) == 1


def test_restore_archived(emu, make_mount):
    body = os.urandom(3000)
    import base64
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


def test_values_follow_remote_changes_within_ttl(emu, mnt):
    put(emu, "remote.txt")
    f = mnt.path("remote.txt")
    os.setxattr(f, "user.s3.tag.k", b"mine")
    assert os.getxattr(f, "user.s3.tag.k") == b"mine"
    body = (b'<Tagging><TagSet><Tag><Key>k</Key><Value>theirs</Value></Tag></TagSet>'
            b'</Tagging>')
    md5 = __import__("base64").b64encode(hashlib.md5(body).digest()).decode()
    r = emu.client().request("PUT", "remote.txt", query={"tagging": None}, body=body,
                             headers={"Content-MD5": md5})
    assert r.status == 200, r
    assert wait_until(lambda: os.getxattr(f, "user.s3.tag.k") == b"theirs")


def test_getfattr_dump_and_written_files(emu, mnt):
    f = mnt.path("written.txt")
    with open(f, "wb") as fh:
        fh.write(b"through the mount\n")
    os.setxattr(f, "user.s3.tag.origin", b"mount")
    p = subprocess.run(["getfattr", "-d", "-m", "-", f], capture_output=True, timeout=30,
                       check=True)
    out = p.stdout.decode()
    assert 'user.s3.tag.origin="mount"' in out
    assert 'user.s3.etag="%s"' % hashlib.md5(b"through the mount\n").hexdigest() in out
    assert dict(state(emu, "written.txt")["tags"]) == {"origin": "mount"}


def test_values_are_cached_for_the_ttl(emu, make_mount):
    m = make_mount(emu, args=["--metadata-ttl", "30"], allowed_warnings=REFUSALS, alias=ARN,
                   name="cached")
    put(emu, "cached.txt")
    f = m.path("cached.txt")
    os.stat(f)
    emu.reset_stats()
    for _ in range(3):  # what getfattr -d does: list, then size and value of each name
        subprocess.run(["getfattr", "-d", "-m", "-", f], check=True, capture_output=True,
                       timeout=30)
    ops = emu.stats()["operations"]
    assert ops.get("HeadObject") == 1 and ops.get("GetObjectTagging") == 1, ops
    assert ops.get("GetObjectAcl") == 1, ops
    # a set refreshes: the next read asks S3 again and sees the new value
    os.setxattr(f, "user.s3.tag.k", b"v1")
    os.setxattr(f, "user.s3.tag.k", b"v2")
    assert os.getxattr(f, "user.s3.tag.k") == b"v2"
    emu.reset_stats()
    os.getxattr(f, "user.s3.tag.k")
    assert "GetObjectTagging" not in emu.stats()["operations"]


def test_cp_a_with_visible_xattrs(emu, mnt, tmp_path):
    """cp -a copies xattrs it can and stays quiet about the rest (ENOTSUP/EPERM/EBUSY
    with -a are not errors), so archiving tools keep working on a mount that shows
    read-only metadata."""
    put(emu, "cpa/src.txt", b"copy me\n")
    src = mnt.path("cpa", "src.txt")
    os.setxattr(src, "user.s3.tag.k", b"v")
    p = subprocess.run(["cp", "-a", src, mnt.path("cpa", "dst.txt")], capture_output=True,
                       timeout=60)
    assert p.returncode == 0 and p.stderr == b"", p.stderr
    local = tmp_path / "local.txt"
    p = subprocess.run(["cp", "-a", src, str(local)], capture_output=True, timeout=60)
    assert p.returncode == 0 and p.stderr == b"", p.stderr
    assert local.read_bytes() == b"copy me\n"
    with open(mnt.path("cpa", "dst.txt"), "rb") as fh:
        assert fh.read() == b"copy me\n"


def test_prefix_and_read_only_mounts(emu, make_mount):
    put(emu, "sub/p.txt")
    m = make_mount(emu, args=["--prefix", "sub/"], allowed_warnings=REFUSALS, alias=ARN,
                   name="prefixed")
    os.setxattr(m.path("p.txt"), "user.s3.tag.where", b"under the prefix")
    assert dict(state(emu, "sub/p.txt")["tags"]) == {"where": "under the prefix"}
    ro = make_mount(emu, args=["--read-only"], alias=ARN, name="ro")
    f = ro.path("sub", "p.txt")
    assert os.getxattr(f, "user.s3.tag.where") == b"under the prefix"
    assert xerr(os.setxattr, f, "user.s3.tag.where", b"x") == errno.EROFS
    assert xerr(os.removexattr, f, "user.s3.tag.where") == errno.EROFS
    assert dict(state(emu, "sub/p.txt")["tags"]) == {"where": "under the prefix"}


def test_concurrent_readers_and_writers_under_faults(emu, make_mount):
    """Many threads read every xattr of a few files while others change tags, with
    S3 answering SlowDown now and then: every call succeeds (retries), and the
    final tags are exactly what the writers set."""
    import threading
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
    from conftest import Mount

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
    import json
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
