"""What a crash or a full disk leaves behind: nothing reported written that is not stored.

1. mrapfs killed with SIGKILL in the middle of a 200 MiB multipart upload: no
   object appears, the upload stays visible in ListMultipartUploads (S3 keeps
   it; nobody is left to abort it), and the next mount with
   --abort-stale-uploads 0 aborts it. The data comes from a generated file
   through a pipe into dd whose write end stays open, so the file cannot
   complete, and the kill lands once the emulator has counted two UploadPart.
   The same over an existing object, which must stay readable and intact.
2. A staging directory on a full filesystem (a small tmpfs): an append or an
   in-place edit of a 20 MiB object, which needs the object staged first,
   fails with ENOSPC, the stored object is unchanged, and the log says why.
"""
import errno
import hashlib
import os
import signal
import subprocess
import threading

import pytest

from conftest import MRAPFS
from emu_util import MIB, wait_until, xml
from test_mount_write import mount

pytestmark = pytest.mark.skipif(not os.path.exists(MRAPFS), reason="mrapfs not built")


def generate(path, size, seed):
    """Writes `size` pseudo-random bytes to path in 1 MiB blocks; returns their MD5."""
    md5 = hashlib.md5()
    block = hashlib.sha256(b"%d" % seed).digest() * (MIB // 32)
    with open(path, "wb") as f:
        for i in range(0, size, MIB):
            chunk = (b"%016d" % i + block)[:min(MIB, size - i)]   # every block differs
            f.write(chunk)
            md5.update(chunk)
    return md5.hexdigest()


def md5_of(path):
    md5 = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            md5.update(chunk)
    return md5.hexdigest()


def differs(got, want):
    """Where got departs from want, for an assertion message."""
    at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    return "%d bytes instead of %d, first difference at %d: %r" % (
        len(got), len(want), at, got[at:at + 16])


def head_status(emulator, key):
    return emulator.client().request("HEAD", key).status


def list_uploads(emulator, prefix):
    """Keys and upload ids under prefix, through the signed ListMultipartUploads call."""
    r = emulator.client().request("GET", "", query=[("uploads", None), ("prefix", prefix)])
    assert r.status == 200, r
    return [(u.findtext("Key"), u.findtext("UploadId")) for u in xml(r).iter("Upload")]


def upload_parts(emulator, key, upload_id):
    r = emulator.client().request("GET", key, query=[("uploadId", upload_id)])
    assert r.status == 200, r
    return [int(p.findtext("PartNumber")) for p in xml(r).iter("Part")]


def lazy_unmount(path):
    """A mount whose daemon died answers ENOTCONN; only a lazy unmount clears it."""
    for cmd in (["fusermount3", "-u", "-z", path], ["umount", "-l", path]):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        try:
            os.stat(path)
            return
        except OSError as e:
            if e.errno != errno.ENOTCONN:
                raise


def feed(src, pipe):
    """Copies src into dd's stdin 1 MiB at a time, leaving the pipe open: dd
    cannot see the end of its input, so the file cannot complete."""
    try:
        with open(src, "rb") as f:
            for chunk in iter(lambda: f.read(MIB), b""):
                pipe.write(chunk)
                pipe.flush()
    except (BrokenPipeError, ValueError, OSError):
        pass                                  # dd died with the mount: expected


def dd_killed_mid_upload(emulator, m, key, src, during=None):
    """Feeds src through a pipe into `dd of=<mount>/key bs=1M`, kills mrapfs with
    SIGKILL once the emulator has counted two UploadPart (calling during() just
    before), and clears the dead mount. Returns dd's exit status.
    dd, like a shell redirection, opens its output, dup2()s it to stdout and
    closes the first descriptor before writing: that early FLUSH must not
    store anything (it once stored an empty object at open)."""
    emulator.reset_stats()
    dd = subprocess.Popen(["dd", "of=%s" % m.path(key), "bs=1M", "iflag=fullblock",
                           "status=none"],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    feeder = threading.Thread(target=feed, args=(src, dd.stdin), daemon=True)
    feeder.start()
    parts = lambda: emulator.stats()["operations"].get("UploadPart", 0)  # noqa: E731
    try:
        started = wait_until(lambda: parts() >= 2, timeout=120)
        if started and during:
            during()
        m.proc.send_signal(signal.SIGKILL)
        m.proc.wait(timeout=30)
        assert started, "no two UploadPart within 120 s: %r" % emulator.stats()
        feeder.join(timeout=60)
        dd.stdin.close()
        dd.wait(timeout=60)
    finally:
        if m.proc.poll() is None:
            m.proc.kill()
            m.proc.wait(timeout=30)
        if dd.poll() is None:
            dd.kill()
            dd.wait(timeout=30)
        lazy_unmount(m.mountpoint)
    assert m.proc.returncode == -signal.SIGKILL
    return dd.returncode


def test_kill_9_mid_upload_leaves_no_object_and_next_mount_aborts(emulator, make_mount,
                                                                    tmp_path):
    src = tmp_path / "big.src"
    digest = generate(src, 200 * MIB, 9)
    m = mount(make_mount, emulator, tmp_path, name="m1")
    os.makedirs(m.path("crash"), exist_ok=True)
    assert dd_killed_mid_upload(emulator, m, "crash/big.bin", src) != 0
    ups = list_uploads(emulator, "crash/")
    assert [k for k, _ in ups] == ["crash/big.bin"], ups
    assert len(upload_parts(emulator, *ups[0])) >= 2

    # the next mount cleans up what the dead one left
    m2 = mount(make_mount, emulator, tmp_path, args=["--abort-stale-uploads", "0"],
               name="m2")
    assert list_uploads(emulator, "crash/") == []
    assert "aborted the upload of crash/big.bin" in m2.output(), m2.output()
    # nothing of the interrupted file was ever stored, not even an empty object
    assert head_status(emulator, "crash/big.bin") == 404
    assert not os.path.exists(m2.path("crash", "big.bin"))
    # and the same file written again, completely, arrives whole
    subprocess.run(["dd", "if=%s" % src, "of=%s" % m2.path("crash", "big.bin"), "bs=1M",
                    "status=none"], check=True, timeout=600)
    r = emulator.client().request("GET", "crash/big.bin")
    assert r.status == 200 and hashlib.md5(r.body).hexdigest() == digest
    assert md5_of(m2.path("crash", "big.bin")) == digest
    assert list_uploads(emulator, "crash/") == []


def test_kill_9_mid_overwrite_keeps_the_old_object(emulator, make_mount, tmp_path):
    """Overwriting last night's archive with dd: until the new one is complete
    readers (through S3 and the mount) see the old one, and a crash keeps it."""
    old = hashlib.sha256(b"last night").digest() * (3 * MIB // 32)
    c = emulator.client()
    assert c.request("PUT", "crash/archive.bin", body=old).status == 200
    src = tmp_path / "new.src"
    generate(src, 64 * MIB, 10)
    m = mount(make_mount, emulator, tmp_path, name="m1")
    seen = {}

    def during():                # (what the mount shows meanwhile: the test below)
        seen["s3"] = c.request("GET", "crash/archive.bin").body

    assert dd_killed_mid_upload(emulator, m, "crash/archive.bin", src, during) != 0
    assert seen["s3"] == old, "S3 held %s during the overwrite" % differs(seen["s3"], old)
    assert c.request("GET", "crash/archive.bin").body == old
    m2 = mount(make_mount, emulator, tmp_path, args=["--abort-stale-uploads", "0"],
               name="m2")
    assert list_uploads(emulator, "crash/") == []
    with open(m2.path("crash", "archive.bin"), "rb") as f:
        assert f.read() == old


def test_readers_see_the_old_object_while_it_is_overwritten(emulator, make_mount, tmp_path):
    """The issue's promise for O_TRUNC overwrites: until the new upload
    completes, readers through the mount see the previous object."""
    old = hashlib.sha256(b"previous").digest() * (3 * MIB // 32)
    assert emulator.client().request("PUT", "crash/readers.bin", body=old).status == 200
    m = mount(make_mount, emulator, tmp_path)
    fd = os.open(m.path("crash", "readers.bin"), os.O_WRONLY | os.O_TRUNC)
    stop, views = threading.Event(), []

    def writer():                 # keeps writing while the readers read
        while not stop.is_set():
            os.write(fd, b"n" * MIB)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        for _ in range(10):
            with open(m.path("crash", "readers.bin"), "rb") as f:
                views.append(f.read())
    finally:
        stop.set()
        t.join(timeout=120)
        os.close(fd)
    bad = [differs(v, old) for v in views if v != old]
    assert not bad, "%d of 10 reads: %s" % (len(bad), bad[:3])


def test_empty_file_created_and_removed_leaves_nothing(emulator, make_mount, tmp_path):
    """What rsync (without --inplace) does with an empty file, and lock-file
    tools: create, close, remove. Nothing may be left in S3. The mount is
    stopped before looking, so every RELEASE has been handled."""
    m = mount(make_mount, emulator, tmp_path)
    os.makedirs(m.path("crash", "tmp"), exist_ok=True)
    for i in range(50):
        p = m.path("crash", "tmp", ".t%02d" % i)
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(p)
    m.stop()
    r = emulator.client().request("GET", "", query=[("list-type", "2"),
                                                    ("prefix", "crash/tmp/.")])
    left = [e.findtext("Key") for e in xml(r).iter("Contents")]
    assert left == [], "%d of 50 came back: %s" % (len(left), left[:5])


@pytest.fixture
def small_tmpfs(tmp_path):
    """An 8 MiB tmpfs, 0700 as the staging directory must be; unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for a full staging directory needs root")
    path = tmp_path / "small-tmpfs"
    path.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(path)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % p.stdout.decode(errors="replace"))
    yield path
    if subprocess.run(["umount", str(path)], stderr=subprocess.DEVNULL,
                      timeout=30).returncode != 0:
        subprocess.run(["umount", "-l", str(path)], timeout=30)


def used_bytes(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def test_full_staging_directory_gives_enospc_and_keeps_the_object(emulator, make_mount,
                                                                   tmp_path, small_tmpfs):
    body = hashlib.sha256(b"staging").digest() * (20 * MIB // 32)
    c = emulator.client()
    assert c.request("PUT", "full/obj.bin", body=body).status == 200
    m = mount(make_mount, emulator, tmp_path, cache=small_tmpfs,
              args=["--max-cache-size", "0"],      # the tmpfs holds staging only
              warnings=("cannot stage it",))
    for how in ("append", "in-place"):
        with pytest.raises(OSError) as e:
            if how == "append":
                with open(m.path("full", "obj.bin"), "ab") as f:
                    f.write(b"tail")
            else:
                fd = os.open(m.path("full", "obj.bin"), os.O_RDWR)
                try:
                    os.pwrite(fd, b"XYZ", 10)
                finally:
                    os.close(fd)
        assert e.value.errno == errno.ENOSPC, (how, e.value)
        r = c.request("GET", "full/obj.bin")
        assert r.status == 200 and r.body == body, how
        with open(m.path("full", "obj.bin"), "rb") as f:
            assert f.read() == body, how
        # the half-filled staging file is gone with the failure
        assert wait_until(lambda: used_bytes(small_tmpfs) < MIB, timeout=10), how
    assert list_uploads(emulator, "full/") == []
    # the mount still works: a new file written in order streams without staging
    with open(m.path("full", "after.txt"), "wb") as f:
        f.write(b"still writable\n")
    assert c.request("GET", "full/after.txt").body == b"still writable\n"
    m.stop()                                  # before the tmpfs goes


def test_full_staging_directory_is_logged(emulator, make_mount, tmp_path, small_tmpfs):
    """The program sees ENOSPC; the log must say that the staging directory
    (not S3) is full, or an operator has nothing to go on."""
    c = emulator.client()
    assert c.request("PUT", "full/logged.bin", body=b"\1" * (20 * MIB)).status == 200
    m = mount(make_mount, emulator, tmp_path, cache=small_tmpfs,
              args=["--max-cache-size", "0"], warnings=("No space left on device",))
    with pytest.raises(OSError) as e:
        fd = os.open(m.path("full", "logged.bin"), os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, b"tail")
        finally:
            os.close(fd)
    assert e.value.errno == errno.ENOSPC
    m.stop()
    lines = [ln for ln in m.output().splitlines() if "No space left on device" in ln]
    assert any(str(small_tmpfs) in ln and "logged.bin" in ln for ln in lines), m.output()
