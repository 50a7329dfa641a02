"""The write side, mounted for real against the emulator.

Every test mounts afresh (module-scoped emulator), writes through the mount
with ordinary tools or os calls, and checks what S3 stores through a signed
client and the emulator's accounting (/_emulator/stats, /_emulator/uploads).
"""
import errno
import hashlib
import os
import random
import subprocess
import threading
import time

import pytest

from conftest import MRAPFS

pytestmark = pytest.mark.skipif(not os.path.exists(MRAPFS), reason="mrapfs not built")

MiB = 1024 * 1024
FAILURE_LINES = ("failed", "was not stored", "tried again", "protected by object lock")


def rand_bytes(n, seed):
    return random.Random(seed).randbytes(n)


def mount(make_mount, emulator, tmp_path, args=(), warnings=(), name="mnt", cache=None):
    """A mount with faults cleared and its own staging directory (shared helper
    of the test_mount_write* modules)."""
    emulator.faults(slowdown_rate=0, internal_error_rate=0, cut_rate=0, latency_ms=0)
    cache = cache or tmp_path / (name + "-cache")
    return make_mount(emulator, args=["--cache", str(cache)] + list(args),
                      allowed_warnings=warnings, name=name)


def stored(emulator, key):
    """The object's body through S3, or None when it does not exist."""
    r = emulator.client().request("GET", key)
    if r.status == 404:
        return None
    assert r.status == 200, r
    return r.body


def head(emulator, key):
    return emulator.client().request("HEAD", key)


def uploads(emulator, prefix=""):
    return [u for u in emulator.admin("uploads")["uploads"] if u["key"].startswith(prefix)]


def wait_until(cond, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def ops(emulator):
    return emulator.stats()["operations"]


def test_cp_small_empty_large(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path)
    src = tmp_path / "src"
    src.mkdir()
    files = {"small.txt": b"hello, world\n", "empty.bin": b"",
             "large.bin": rand_bytes(40 * MiB + 12345, 1)}
    for name, body in files.items():
        (src / name).write_bytes(body)
    emulator.reset_stats()
    for name in ("small.txt", "empty.bin"):
        subprocess.run(["cp", str(src / name), m.path("cp-" + name)], check=True, timeout=60)
    # the empty file is never written to: it is stored at release, just after cp's close
    assert wait_until(lambda: ops(emulator).get("PutObject") == 2, timeout=10), ops(emulator)
    assert "CreateMultipartUpload" not in ops(emulator)
    emulator.reset_stats()
    subprocess.run(["cp", str(src / "large.bin"), m.path("cp-large.bin")], check=True,
                   timeout=300)
    o = ops(emulator)
    # 40 MiB in 8 MiB parts: 5 full parts and a short sixth, checked and completed once
    assert o.get("CreateMultipartUpload") == 1 and o.get("UploadPart") == 6, o
    assert o.get("ListParts") == 1 and o.get("CompleteMultipartUpload") == 1, o
    assert "PutObject" not in o and "AbortMultipartUpload" not in o, o
    for name, body in files.items():
        assert stored(emulator, "cp-" + name) == body, name
        with open(m.path("cp-" + name), "rb") as f:
            assert f.read() == body, name
        assert os.stat(m.path("cp-" + name)).st_size == len(body)
    assert head(emulator, "cp-large.bin").header("ETag").endswith('-6"')
    assert uploads(emulator, "cp-") == []


def test_cp_recursive_and_dd(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path)
    src = tmp_path / "tree"
    (src / "a" / "b").mkdir(parents=True)
    bodies = {"top.txt": b"top\n", "a/one.bin": rand_bytes(100000, 2),
              "a/b/two.bin": rand_bytes(3 * MiB, 3)}
    for rel, body in bodies.items():
        (src / rel).write_bytes(body)
    subprocess.run(["cp", "-r", str(src), m.path("tree")], check=True, timeout=120)
    for rel, body in bodies.items():
        assert stored(emulator, "tree/" + rel) == body
    big = tmp_path / "dd.src"
    big.write_bytes(rand_bytes(17 * MiB + 3, 4))
    subprocess.run(["dd", "if=%s" % big, "of=%s" % m.path("dd.bin"), "bs=1M", "status=none"],
                   check=True, timeout=300)
    assert stored(emulator, "dd.bin") == big.read_bytes()


def test_overwrite_with_o_trunc_readers_see_old(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path)
    old, new = b"old contents\n" * 100, rand_bytes(9 * MiB, 5)
    with open(m.path("over.bin"), "wb") as f:
        f.write(old)
    fd = os.open(m.path("over.bin"), os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, new[:5 * MiB])
        assert os.fstat(fd).st_size == 5 * MiB          # the writer sees its file grow
        with open(m.path("over.bin"), "rb") as r:       # a reader sees the stored object
            assert r.read() == old
        assert stored(emulator, "over.bin") == old
        os.write(fd, new[5 * MiB:])
    finally:
        os.close(fd)
    assert stored(emulator, "over.bin") == new
    with open(m.path("over.bin"), "rb") as r:
        assert r.read() == new


def test_append_and_in_place_edit_are_staged(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path)
    base = rand_bytes(3 * MiB + 7, 6)
    with open(m.path("edit.bin"), "wb") as f:
        f.write(base)
    with open(m.path("edit.bin"), "ab") as f:             # append: downloaded, then uploaded
        f.write(b"appended")
    expect = base + b"appended"
    assert stored(emulator, "edit.bin") == expect
    fd = os.open(m.path("edit.bin"), os.O_RDWR)           # in-place edit with pwrite
    try:
        os.pwrite(fd, b"XYZ", 10)
        os.pwrite(fd, b"END", len(expect) - 3)
        assert os.pread(fd, 5, 9) == expect[9:10] + b"XYZ" + expect[13:14]
    finally:
        os.close(fd)
    expect = expect[:10] + b"XYZ" + expect[13:-3] + b"END"
    assert stored(emulator, "edit.bin") == expect
    # a new file written out of order with O_WRONLY switches to staging
    fd = os.open(m.path("ooo.bin"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.pwrite(fd, b"B" * 1000, 1000)
        os.pwrite(fd, b"A" * 1000, 0)
    finally:
        os.close(fd)
    assert stored(emulator, "ooo.bin") == b"A" * 1000 + b"B" * 1000
    # a hole ahead of the end is zeros
    fd = os.open(m.path("hole.bin"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"x")
        os.pwrite(fd, b"y", 100)
    finally:
        os.close(fd)
    assert stored(emulator, "hole.bin") == b"x" + b"\0" * 99 + b"y"


def test_rewrite_after_streamed_part_is_refused(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path, warnings=("uploaded; files written out of order",))
    data = rand_bytes(9 * MiB, 7)
    fd = os.open(m.path("seq.bin"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        with pytest.raises(OSError) as e:
            os.pwrite(fd, b"zz", 0)                  # part 1 is already in S3
        assert e.value.errno == errno.EOPNOTSUPP
    finally:
        os.close(fd)
    assert stored(emulator, "seq.bin") == data      # what was reported written, exactly


def test_dup2_then_close_before_writing_keeps_the_old_object(emulator, make_mount, tmp_path):
    """`dd of=F` and `cmd > F` open F with O_TRUNC, dup2 the descriptor and close
    the original before writing: that first close (a FUSE flush) must not
    replace the stored object with an empty one."""
    m = mount(make_mount, emulator, tmp_path)
    c = emulator.client()
    assert c.request("PUT", "dup/backup.tar", body=b"last night's backup\n").status == 200
    fd = os.open(m.path("dup", "backup.tar"), os.O_WRONLY | os.O_TRUNC)
    fd2 = os.dup(fd)
    os.close(fd)  # flush with nothing written yet
    assert stored(emulator, "dup/backup.tar") == b"last night's backup\n"
    os.write(fd2, b"tonight's backup\n")
    os.close(fd2)
    assert stored(emulator, "dup/backup.tar") == b"tonight's backup\n"
    # A file created and closed without a byte written is still stored (at release).
    with open(m.path("dup", "empty"), "wb"):
        pass
    assert wait_until(lambda: stored(emulator, "dup/empty") == b"", timeout=10)


def test_empty_file_unlinked_right_after_close_stays_gone(emulator, make_mount, tmp_path):
    """An untouched file is stored at release, which may run after close has
    returned and the unlink has been sent: it must not reappear."""
    m = mount(make_mount, emulator, tmp_path)
    for i in range(40):
        path = m.path("gone", "e%02d" % i)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb"):
            pass
        os.unlink(path)
    time.sleep(1)  # let every release finish
    left = [i for i in range(40) if stored(emulator, "gone/e%02d" % i) is not None]
    assert left == [], left


def test_truncate(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path)
    with open(m.path("t.bin"), "wb") as f:
        f.write(b"0123456789")
    os.truncate(m.path("t.bin"), 4)
    assert stored(emulator, "t.bin") == b"0123"
    os.truncate(m.path("t.bin"), 6)
    assert stored(emulator, "t.bin") == b"0123\0\0"
    subprocess.run(["truncate", "-s", "0", m.path("t.bin")], check=True, timeout=60)
    assert stored(emulator, "t.bin") == b""
    with open(m.path("t.bin"), "r+b") as f:
        f.write(b"abcdef")
        f.truncate(2)
    assert stored(emulator, "t.bin") == b"ab"
    # a streamed file cut back, then written past its end: the hole reads as zeros
    fd = os.open(m.path("t2.bin"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, b"x" * 100)
        os.ftruncate(fd, 50)
        os.pwrite(fd, b"y", 80)
    finally:
        os.close(fd)
    assert stored(emulator, "t2.bin") == b"x" * 50 + b"\0" * 30 + b"y"


def test_unlink_and_object_lock(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path, warnings=("cannot delete locked.txt", "protected by object lock"))
    with open(m.path("gone.txt"), "wb") as f:
        f.write(b"bye")
    os.unlink(m.path("gone.txt"))
    assert stored(emulator, "gone.txt") is None
    assert not os.path.exists(m.path("gone.txt"))
    c = emulator.client()
    body = b"<LegalHold><Status>ON</Status></LegalHold>"
    md5 = __import__("base64").b64encode(hashlib.md5(body).digest()).decode()
    assert c.request("PUT", "locked.txt", body=b"keep").status == 200
    assert c.request("PUT", "locked.txt", query=[("legal-hold", None)], body=body,
                     headers={"Content-MD5": md5}).status == 200
    try:
        with pytest.raises(OSError) as e:
            os.unlink(m.path("locked.txt"))
        assert e.value.errno == errno.EPERM
        assert stored(emulator, "locked.txt") == b"keep"
        assert "object lock" in m.output().lower()
    finally:
        off = b"<LegalHold><Status>OFF</Status></LegalHold>"
        c.request("PUT", "locked.txt", query=[("legal-hold", None)], body=off,
                  headers={"Content-MD5": __import__("base64").b64encode(
                      hashlib.md5(off).digest()).decode()})


def test_write_over_legal_hold_fails_at_close(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path, warnings=FAILURE_LINES)
    c = emulator.client()
    assert c.request("PUT", "held.txt", body=b"original").status == 200
    body = b"<LegalHold><Status>ON</Status></LegalHold>"
    b64 = lambda b: __import__("base64").b64encode(hashlib.md5(b).digest()).decode()  # noqa
    assert c.request("PUT", "held.txt", query=[("legal-hold", None)], body=body,
                     headers={"Content-MD5": b64(body)}).status == 200
    try:
        fd = os.open(m.path("held.txt"), os.O_WRONLY | os.O_TRUNC)
        os.write(fd, b"replacement")
        with pytest.raises(OSError) as e:
            os.close(fd)
        assert e.value.errno == errno.EPERM
        assert stored(emulator, "held.txt") == b"original"
    finally:
        off = b"<LegalHold><Status>OFF</Status></LegalHold>"
        c.request("PUT", "held.txt", query=[("legal-hold", None)], body=off,
                  headers={"Content-MD5": b64(off)})


def test_mkdir_rmdir(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path)
    os.mkdir(m.path("newdir"))
    assert os.path.isdir(m.path("newdir")) and os.listdir(m.path("newdir")) == []
    assert head(emulator, "newdir/").status == 200           # the marker persists it
    os.mkdir(m.path("newdir/sub"))
    with open(m.path("newdir/sub/f.txt"), "wb") as f:
        f.write(b"f")
    for d in ("newdir", "newdir/sub"):
        with pytest.raises(OSError) as e:
            os.rmdir(m.path(d))
        assert e.value.errno == errno.ENOTEMPTY
    os.unlink(m.path("newdir/sub/f.txt"))
    os.rmdir(m.path("newdir/sub"))
    assert head(emulator, "newdir/sub/").status == 404
    assert os.listdir(m.path("newdir")) == []
    os.rmdir(m.path("newdir"))
    assert head(emulator, "newdir/").status == 404
    assert not os.path.exists(m.path("newdir"))
    with pytest.raises(FileExistsError):
        os.mkdir(m.path("."))


def test_empty_dir_persists_across_mounts(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path, name="m1")
    os.mkdir(m.path("kept"))
    m.stop()
    m2 = mount(make_mount, emulator, tmp_path, name="m2")
    assert os.path.isdir(m2.path("kept")) and "kept" in os.listdir(m2.mountpoint)
    os.rmdir(m2.path("kept"))


def test_rename_symlink_link_refused(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path, warnings=("rename of",))
    with open(m.path("r.txt"), "wb") as f:
        f.write(b"r")
    with pytest.raises(OSError) as e:
        os.rename(m.path("r.txt"), m.path("r2.txt"))
    assert e.value.errno == errno.EOPNOTSUPP
    assert "CopyObject" in m.output()
    os.mkdir(m.path("rd"))
    with pytest.raises(OSError) as e:
        os.rename(m.path("rd"), m.path("rd2"))
    assert e.value.errno == errno.EOPNOTSUPP
    with pytest.raises(OSError) as e:
        os.symlink("r.txt", m.path("sym"))
    assert e.value.errno == errno.EOPNOTSUPP
    with pytest.raises(OSError) as e:
        os.link(m.path("r.txt"), m.path("hard"))
    assert e.value.errno == errno.EPERM
    assert stored(emulator, "r.txt") == b"r" and stored(emulator, "r2.txt") is None
    for name in ("sym", "hard", "r2.txt"):
        assert not os.path.lexists(m.path(name))
    p = subprocess.run(["mv", m.path("r.txt"), m.path("r3.txt")], stderr=subprocess.PIPE,
                       timeout=60)
    assert p.returncode != 0 and b"not supported" in p.stderr


def test_chmod_while_writing_and_after(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path, warnings=("chmod/chown/utimens of",))
    fd = os.open(m.path("meta.txt"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"data")
        os.fchmod(fd, 0o600)
        os.utime(fd, (1600000000, 1600000000))
        os.fchown(fd, 1234, 5678)
        st = os.stat(m.path("meta.txt"))
        assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o600, 1234, 5678)
        assert int(st.st_mtime) == 1600000000 and st.st_size == 4
    finally:
        os.close(fd)
    h = head(emulator, "meta.txt")
    assert h.header("x-amz-meta-mode") == str(0o100600)
    assert (h.header("x-amz-meta-uid"), h.header("x-amz-meta-gid")) == ("1234", "5678")
    assert h.header("x-amz-meta-mtime") == "1600000000"
    for call in (lambda: os.chmod(m.path("meta.txt"), 0o600),
                 lambda: os.utime(m.path("meta.txt"), (1, 1)),
                 lambda: os.chown(m.path("meta.txt"), 1, 1)):
        with pytest.raises(OSError) as e:
            call()
        assert e.value.errno == errno.EPERM
    os.chmod(m.path("meta.txt"), 0o644)            # what is shown already: fine
    m.stop()
    m2 = mount(make_mount, emulator, tmp_path, args=["--ignore-setattr"], name="m2")
    os.chmod(m2.path("meta.txt"), 0o600)
    os.utime(m2.path("meta.txt"), (1, 1))
    assert os.stat(m2.path("meta.txt")).st_mode & 0o777 == 0o644   # accepted, no effect
    assert stored(emulator, "meta.txt") == b"data"


def test_two_writers_ebusy_readers_see_nothing_new(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path)
    p = m.path("busy.txt")
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, b"first")
        assert os.stat(p).st_size == 5
        with pytest.raises(OSError) as e:
            os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        assert e.value.errno == errno.EBUSY
        with pytest.raises(FileNotFoundError):
            open(p, "rb")
        assert stored(emulator, "busy.txt") is None
    finally:
        os.close(fd)
    assert stored(emulator, "busy.txt") == b"first"
    with open(p, "wb") as f:                       # the first writer is done: free again
        f.write(b"second")
    assert stored(emulator, "busy.txt") == b"second"


def test_upload_failure_reports_eio_and_leaves_nothing(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path, warnings=FAILURE_LINES)
    # small file: one PutObject at close, refused 100 %
    fd = os.open(m.path("fail-small.txt"), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"never stored")
    emulator.faults(internal_error_rate=1.0)
    try:
        with pytest.raises(OSError) as e:
            os.close(fd)
        assert e.value.errno == errno.EIO
    finally:
        emulator.faults(internal_error_rate=0)
    assert stored(emulator, "fail-small.txt") is None
    # large file: a multipart upload is under way when the faults start
    fd = os.open(m.path("fail-big.bin"), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, rand_bytes(8 * MiB + 1, 8))       # part 1 is handed over
    emulator.faults(internal_error_rate=1.0)
    try:
        with pytest.raises(OSError) as e:
            os.write(fd, rand_bytes(8 * MiB, 9))
            os.fsync(fd)
        assert e.value.errno == errno.EIO
    finally:
        emulator.faults(internal_error_rate=0)
    with pytest.raises(OSError) as e:
        os.close(fd)                                # the failure is reported again
    assert e.value.errno == errno.EIO
    assert stored(emulator, "fail-big.bin") is None
    assert wait_until(lambda: uploads(emulator, "fail-") == []), uploads(emulator)
    assert "InternalError" in m.output()


def test_staging_limits(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path, args=["--max-staging-size", "1M"],
              warnings=("cannot stage it",))
    fd = os.open(m.path("st1.bin"), os.O_RDWR | os.O_CREAT, 0o644)   # staged from the start
    try:
        os.write(fd, b"a" * (512 * 1024))
        with pytest.raises(OSError) as e:
            os.write(fd, b"b" * MiB)             # one file over the limit
        assert e.value.errno == errno.EFBIG
    finally:
        os.close(fd)
    assert stored(emulator, "st1.bin") == b"a" * (512 * 1024)
    fds = [os.open(m.path("st%d.bin" % i), os.O_RDWR | os.O_CREAT, 0o644) for i in (2, 3)]
    try:
        os.write(fds[0], b"x" * (600 * 1024))
        with pytest.raises(OSError) as e:
            os.write(fds[1], b"y" * (600 * 1024))
        assert e.value.errno == errno.ENOSPC
    finally:
        for fd in fds:
            os.close(fd)
    assert stored(emulator, "st2.bin") == b"x" * (600 * 1024)
    assert stored(emulator, "st3.bin") == b""


def test_read_only_refuses_writes(emulator, make_mount, tmp_path):
    c = emulator.client()
    assert c.request("PUT", "ro.txt", body=b"ro").status == 200
    m = mount(make_mount, emulator, tmp_path, args=["--read-only"])
    for call in (lambda: open(m.path("ro-new.txt"), "wb"),
                 lambda: open(m.path("ro.txt"), "ab"),
                 lambda: os.mkdir(m.path("ro-dir")),
                 lambda: os.unlink(m.path("ro.txt")),
                 lambda: os.truncate(m.path("ro.txt"), 0)):
        with pytest.raises(OSError) as e:
            call()
        assert e.value.errno == errno.EROFS
    assert stored(emulator, "ro.txt") == b"ro"


def test_abort_stale_uploads(emulator, make_mount, tmp_path):
    c = emulator.client()
    for key in ("stale/one.bin", "stale/two.bin"):
        assert c.request("POST", key, query=[("uploads", None)]).status == 200
    assert len(uploads(emulator, "stale/")) == 2
    m = mount(make_mount, emulator, tmp_path, args=["--abort-stale-uploads", "3600"], name="m1")
    assert len(uploads(emulator, "stale/")) == 2     # younger than an hour: kept
    m.stop()
    m = mount(make_mount, emulator, tmp_path, args=["--abort-stale-uploads", "0"], name="m2")
    assert uploads(emulator, "stale/") == []
    assert "2 aborted" in m.output()


def test_parallel_writers(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path, args=["--max-connections", "4"])
    sizes = [0, 1, 4096, 5 * MiB, 8 * MiB, 8 * MiB + 1, 11 * MiB + 17, 300000]
    bodies = {"par/f%02d.bin" % i: rand_bytes(n, 100 + i) for i, n in enumerate(sizes)}
    errors = []

    def writer(items):
        try:
            for key, body in items:
                with open(m.path(key), "wb") as f:
                    for off in range(0, len(body), 256 * 1024):
                        f.write(body[off:off + 256 * 1024])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    os.mkdir(m.path("par"))
    items = list(bodies.items())
    threads = [threading.Thread(target=writer, args=(items[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    for key, body in bodies.items():
        assert stored(emulator, key) == body, key
    assert uploads(emulator, "par/") == []


def test_fsync_stores_and_writing_goes_on(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path)
    first, more = rand_bytes(9 * MiB, 10), b"and more"
    fd = os.open(m.path("sync.bin"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, first)
        os.fsync(fd)                                  # the object appears now
        assert stored(emulator, "sync.bin") == first
        os.write(fd, more)                            # continues from the stored object
    finally:
        os.close(fd)
    assert stored(emulator, "sync.bin") == first + more


def test_unlinked_while_written_is_not_stored(emulator, make_mount, tmp_path):
    m = mount(make_mount, emulator, tmp_path)
    fd = os.open(m.path("tmpfile"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"scratch")
        os.unlink(m.path("tmpfile"))
        assert not os.path.exists(m.path("tmpfile"))
        os.write(fd, b" more")
    finally:
        os.close(fd)
    assert stored(emulator, "tmpfile") is None
    assert "tmpfile" not in os.listdir(m.mountpoint)


def test_mknod_regular_only(emulator, make_mount, tmp_path):
    import stat
    m = mount(make_mount, emulator, tmp_path)
    os.mknod(m.path("node.txt"), 0o644 | stat.S_IFREG)
    assert stored(emulator, "node.txt") == b""
    assert os.stat(m.path("node.txt")).st_size == 0
    for kind in (stat.S_IFIFO, stat.S_IFSOCK):
        with pytest.raises(OSError) as e:
            os.mknod(m.path("special"), 0o644 | kind)
        assert e.value.errno == errno.EPERM
    assert stored(emulator, "special") is None
