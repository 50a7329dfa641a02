"""Object metadata as extended attributes, mounted for real against the emulator.

Every change goes through the mount (setfattr from Debian's `attr`, or
os.setxattr) and is checked twice: read back through the mount, and in the
emulator's own state (GET /_emulator/object), so a value that only lives in
the daemon's cache cannot pass. Sizes and ERANGE are checked through libc's
getxattr/listxattr directly, as tools call them.
"""
import base64
import errno
import hashlib
import os
import subprocess

import pytest

from conftest import MRAPFS
from xattr_util import emu, mnt  # noqa: F401 (fixtures)
from xattr_util import (ARN, REFUSALS, c_getxattr, c_listxattr, epoch, getfattr, put, rfc3339,
                        setfattr, state, wait_until, xerr)

pytestmark = pytest.mark.skipif(not os.path.exists(MRAPFS), reason="mrapfs not built")


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


def test_values_follow_remote_changes_within_ttl(emu, mnt):
    put(emu, "remote.txt")
    f = mnt.path("remote.txt")
    os.setxattr(f, "user.s3.tag.k", b"mine")
    assert os.getxattr(f, "user.s3.tag.k") == b"mine"
    body = (b'<Tagging><TagSet><Tag><Key>k</Key><Value>theirs</Value></Tag></TagSet>'
            b'</Tagging>')
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
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
