"""The read side, mounted for real: shell tools over an MRAP served by the emulator.

A module-scoped emulator is seeded once (through the MRAP, CRT-signed) with a
tree holding large files, a 2,500-entry directory, deep paths and keys that
cannot all be file names; each test mounts it afresh.
"""
import hashlib
import os
import random
import subprocess
import time

import pytest

from conftest import MRAPFS, run_mrapfs

pytestmark = pytest.mark.skipif(not os.path.exists(MRAPFS), reason="mrapfs not built")

BIG_SIZE = 24 * 1024 * 1024 + 12345
BIG_DIR_COUNT = 2500


def rand_bytes(n, seed):
    return random.Random(seed).randbytes(n)


TREE = {
    "hello.txt": b"hello, world\n",
    "docs/readme.md": b"# readme\nline two\nneedle in docs\n",
    "docs/deep/a/b/c/d/e/f/leaf.txt": b"deep leaf\n",
    "empty.bin": b"",
    "with space.txt": b"space\n",
    "plus+sign.txt": b"plus\n",
    "percent%41.txt": b"percent\n",
    "question?.txt": b"question\n",
    "hash#.txt": b"hash\n",
    "unicod\u00e9-\u20ac-\u65e5\u672c.txt": "unicode \u65e5\u672c\n".encode(),
    "markers/": b"",                    # a directory marker object
    "conflict": b"I am a file\n",       # shadowed by the directory conflict/
    "conflict/inside.txt": b"inside\n",
    "bad//double.txt": b"x",            # empty segment: skipped
    "bad/./dot.txt": b"x",              # "." segment: skipped
    "bad/../dotdot.txt": b"x",          # ".." segment: skipped
    "bad/" + "L" * 300: b"x",           # over 255 bytes: skipped
    "bad/fine.txt": b"fine\n",
}
EXPECTED_SKIPS = ("empty path segment", "cannot be a file name", "longer than 255",
                  "share this name")


@pytest.fixture(scope="module")
def seeded(emulator):
    c = emulator.client()
    emulator.faults(slowdown_rate=0, internal_error_rate=0, cut_rate=0, latency_ms=0)
    big = rand_bytes(BIG_SIZE, 1)
    for key, body in TREE.items():
        r = c.request("PUT", key, body=body)
        assert r.status == 200, (key, r)
    r = c.request("PUT", "big/large.bin", body=big)
    assert r.status == 200, r
    for i in range(BIG_DIR_COUNT):
        r = c.request("PUT", "many/f%05d.txt" % i, body=b"%d\n" % i)
        assert r.status == 200, r
    return {"big": big}


def mount(make_mount, emulator, args=(), warnings=EXPECTED_SKIPS):
    emulator.faults(slowdown_rate=0, internal_error_rate=0, cut_rate=0, latency_ms=0)
    return make_mount(emulator, args=args, allowed_warnings=warnings)


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120, **kw).stdout


def test_listing_and_names(seeded, emulator, make_mount):
    m = mount(make_mount, emulator)
    root = sorted(os.listdir(m.mountpoint))
    for name in ["hello.txt", "docs", "empty.bin", "with space.txt", "plus+sign.txt",
                 "percent%41.txt", "question?.txt", "hash#.txt",
                 "unicod\u00e9-\u20ac-\u65e5\u672c.txt", "markers", "conflict", "bad", "big",
                 "many"]:
        assert name in root, name
    assert root.count("conflict") == 1
    assert os.path.isdir(m.path("conflict"))          # the directory wins
    assert os.listdir(m.path("conflict")) == ["inside.txt"]
    assert os.listdir(m.path("markers")) == []         # a marker makes an empty directory
    assert sorted(os.listdir(m.path("bad"))) == ["fine.txt"]  # unusable keys skipped
    assert not os.path.exists(m.path("bad", "..", "dotdot.txt"))
    log = m.output()
    assert "empty path segment" in log and "longer than 255" in log
    assert log.count("key \"bad/./\"") == 1           # one warning per key (prefix)


def test_shell_tools(seeded, emulator, make_mount):
    m = mount(make_mount, emulator)
    big = seeded["big"]
    p = m.path("big", "large.bin")
    assert os.stat(p).st_size == BIG_SIZE
    assert sh("md5sum '%s'" % p).split()[0].decode() == hashlib.md5(big).hexdigest()
    assert sh("head -c 1000 '%s'" % p) == big[:1000]
    assert sh("tail -c 777 '%s'" % p) == big[-777:]
    assert sh("dd if='%s' bs=4096 skip=1000 count=3 status=none" % p) == \
        big[4096 * 1000:4096 * 1003]
    assert sh("cat '%s'" % m.path("hello.txt")) == TREE["hello.txt"]
    assert sh("cat '%s'" % m.path("unicod\u00e9-\u20ac-\u65e5\u672c.txt")) == \
        TREE["unicod\u00e9-\u20ac-\u65e5\u672c.txt"]
    assert sh("wc -l < '%s'" % m.path("docs", "readme.md")).strip() == b"3"
    assert b"docs/readme.md" in sh("grep -rl needle '%s'" % m.mountpoint, cwd="/")
    assert sh("cat '%s'" % m.path("docs/deep/a/b/c/d/e/f/leaf.txt")) == b"deep leaf\n"
    assert os.path.getsize(m.path("empty.bin")) == 0
    assert sh("cat '%s'" % m.path("empty.bin")) == b""
    st = os.stat(m.path("hello.txt"))
    assert st.st_mode & 0o777 == 0o444 or st.st_mode & 0o777 == 0o644
    found = sh("find '%s' -type f | wc -l" % m.mountpoint).strip()
    assert int(found) == BIG_DIR_COUNT + 13  # 12 usable TREE files + big/large.bin
    lsr = sh("ls -R '%s'" % m.path("docs"))
    assert b"leaf.txt" in lsr


def test_big_directory_costs_few_lists(seeded, emulator, make_mount):
    m = mount(make_mount, emulator)
    emulator.reset_stats()
    out = sh("ls -l '%s'" % m.path("many"))
    lines = [l for l in out.splitlines() if l.startswith(b"-")]
    assert len(lines) == BIG_DIR_COUNT
    ops = emulator.stats()["operations"]
    assert ops.get("HeadObject", 0) == 0, ops
    # 2,500 entries are 3 pages; the lookup of "many" itself adds one LIST.
    assert ops.get("ListObjectsV2", 0) <= 5, ops
    assert ops.get("GetObject", 0) == 0, ops


def test_reads_exact_under_faults(seeded, emulator, make_mount):
    m = mount(make_mount, emulator)
    emulator.faults(slowdown_rate=0.1, cut_rate=0.1, seed=7)
    try:
        data = open(m.path("big", "large.bin"), "rb").read()
        assert hashlib.md5(data).hexdigest() == hashlib.md5(seeded["big"]).hexdigest()
        assert sorted(os.listdir(m.path("many")))[:2] == ["f00000.txt", "f00001.txt"]
        injected = emulator.stats()
    finally:
        emulator.faults(slowdown_rate=0, cut_rate=0)
    assert sum(injected["faults"].values()) > 0, injected


def test_remote_change_seen_after_ttl(seeded, emulator, make_mount):
    m = mount(make_mount, emulator, args=["--metadata-ttl", "1"])
    c = emulator.client()
    assert c.request("PUT", "changing.txt", body=b"version one\n").status == 200
    assert open(m.path("changing.txt"), "rb").read() == b"version one\n"
    assert c.request("PUT", "changing.txt", body=b"version two, longer\n").status == 200
    deadline = time.monotonic() + 10
    seen = b""
    while time.monotonic() < deadline:
        time.sleep(0.5)
        seen = open(m.path("changing.txt"), "rb").read()
        if seen == b"version two, longer\n":
            break
    assert seen == b"version two, longer\n"


def test_prefix_mount(seeded, emulator, make_mount):
    m = mount(make_mount, emulator, args=["--prefix", "docs/"])
    assert sorted(os.listdir(m.mountpoint)) == ["deep", "readme.md"]
    assert open(m.path("readme.md"), "rb").read() == TREE["docs/readme.md"]


def test_read_only(seeded, emulator, make_mount):
    m = mount(make_mount, emulator, args=["--read-only"])  # the mount is writable otherwise
    with pytest.raises(OSError) as e:
        open(m.path("new.txt"), "wb")
    assert e.value.errno == 30  # EROFS
    statfs = os.statvfs(m.mountpoint)
    assert statfs.f_bavail > 1 << 30 and statfs.f_namemax == 255


def test_mount_errors_are_clear(seeded, emulator, tmp_path):
    rc, out, secs = run_mrapfs(emulator, tmp_path / "m1",
                               env={"AWS_ACCESS_KEY_ID": "AKIAWRONGWRONGWRONG00"})
    assert rc != 0 and "InvalidAccessKeyId" in out and secs < 30, out
    rc, out, secs = run_mrapfs(emulator, tmp_path / "m2", alias="zzzzzzzzzzzzz.mrap")
    assert rc != 0 and "zzzzzzzzzzzzz.mrap" in out and secs < 30, out
    dead = type("Dead", (), {"port": 9})  # nothing listens on the discard port
    rc, out, secs = run_mrapfs(dead, tmp_path / "m3")
    assert rc != 0 and "cannot reach" in out and secs < 30, out
    rc, out, _ = run_mrapfs(emulator, tmp_path / "m4", env={"AWS_SECRET_ACCESS_KEY": ""},
                            args=["--profile", "nosuch"])
    assert rc != 0 and "credentials" in out, out
    assert len(out.strip().splitlines()) <= 2, out
