"""The write side under stress and failure: many writers with injected faults,
a daemon killed mid-upload, a full staging disk, a large dd.

Every wait is bounded; nothing asserts on timing.
"""
import errno
import hashlib
import os
import random
import signal
import subprocess
import threading

import pytest

from conftest import MRAPFS

pytestmark = pytest.mark.skipif(not os.path.exists(MRAPFS), reason="mrapfs not built")

from test_mount_write import MiB, mount, uploads, wait_until  # noqa: E402 - shared helpers


def multipart_etag(path, part_size):
    """The ETag S3 gives a multipart upload of this file in parts of part_size."""
    digests, n = b"", 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(part_size)
            if not chunk:
                break
            digests += hashlib.md5(chunk).digest()
            n += 1
    return '"%s-%d"' % (hashlib.md5(digests).hexdigest(), n)


def test_parallel_writers_with_faults(emulator, make_mount, tmp_path):
    """200 files of random sizes, 8 writers, 5 % SlowDown and cut connections:
    every file byte-identical, no upload left behind."""
    m = mount(make_mount, emulator, tmp_path, args=["--max-connections", "8"],
              warnings=("retry", "SlowDown", "cut"))
    rnd = random.Random(42)
    sizes = [rnd.choice([0, 1, rnd.randrange(1, 64 * 1024), rnd.randrange(1, 2 * MiB)])
             for _ in range(196)] + [8 * MiB, 8 * MiB + 1, 12 * MiB, 17 * MiB]
    names = ["load/f%03d.bin" % i for i in range(len(sizes))]
    os.mkdir(m.path("load"))
    emulator.faults(slowdown_rate=0.05, cut_rate=0.05, seed=7)
    errors = []

    def body(i):
        return random.Random(1000 + i).randbytes(sizes[i])

    def writer(idx):
        try:
            for i in idx:
                data = body(i)
                with open(m.path(names[i]), "wb") as f:
                    for off in range(0, len(data), 1 << 20):
                        f.write(data[off:off + (1 << 20)])
        except OSError as e:
            errors.append((names[i], e))

    threads = [threading.Thread(target=writer, args=(range(k, len(sizes), 8),))
               for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    faults = emulator.stats()["faults"]
    emulator.faults(slowdown_rate=0, cut_rate=0)
    assert not errors, errors
    assert sum(faults.values()) > 0, faults          # the faults did happen
    c = emulator.client()
    for i, name in enumerate(names):
        r = c.request("GET", name)
        assert r.status == 200 and r.body == body(i), name
    assert uploads(emulator, "load/") == []


def test_kill_9_mid_upload_then_abort_stale(emulator, make_mount, tmp_path):
    """The daemon killed while a 200 MiB file is being written: no object, the
    parts linger, and the next mount with --abort-stale-uploads 0 cleans them."""
    m = mount(make_mount, emulator, tmp_path, name="m1")
    fd = os.open(m.path("killed.bin"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        chunk = os.urandom(MiB)
        for _ in range(120):                       # 120 of 200 MiB; never closed
            os.write(fd, chunk)
        assert wait_until(lambda: any(len(u["parts"]) >= 2
                                      for u in uploads(emulator, "killed.bin")), 120)
        m.proc.send_signal(signal.SIGKILL)
        m.proc.wait(timeout=30)
    finally:
        try:
            os.close(fd)
        except OSError:
            pass                                   # the daemon is gone
    m.stop()
    c = emulator.client()
    assert c.request("HEAD", "killed.bin").status == 404       # never completed
    assert len(uploads(emulator, "killed.bin")) == 1            # but its parts linger
    m2 = mount(make_mount, emulator, tmp_path, args=["--abort-stale-uploads", "0"], name="m2")
    assert uploads(emulator, "killed.bin") == []
    assert "aborted the upload of killed.bin" in m2.output()


def test_full_staging_disk_is_enospc(emulator, make_mount, tmp_path):
    """A staging directory on a 2 MiB tmpfs: the write that does not fit is
    ENOSPC, and the object stored before stays as it was."""
    cache = tmp_path / "tiny"
    cache.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(cache)],
                      stderr=subprocess.DEVNULL).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        c = emulator.client()
        assert c.request("PUT", "full.bin", body=b"before").status == 200
        m = mount(make_mount, emulator, tmp_path, warnings=("failed", "cannot stage it"),
                  cache=cache)
        fd = os.open(m.path("full.bin"), os.O_RDWR)
        try:
            with pytest.raises(OSError) as e:
                for _ in range(8):
                    os.write(fd, b"z" * (512 * 1024))
            assert e.value.errno == errno.ENOSPC
        finally:
            os.close(fd)
        m.stop()
    finally:
        subprocess.run(["umount", "-l", str(cache)], timeout=30)
    # close stored what the writes that succeeded reported; never a torn object
    body = c.request("GET", "full.bin").body
    assert body == b"before" or set(body) <= set(b"z"), body[:20]


def test_dd_large_file_verified_by_etag_and_crc32c(emulator, make_mount, tmp_path):
    """1 GiB (MRAP_TEST_BIG_MIB) written with dd: the multipart ETag S3 computes equals the
    one computed locally from the source, part by part, and the CRC32C of the stored
    bytes (read back from the emulator, not through the mount) equals the source's."""
    size = int(os.environ.get("MRAP_TEST_BIG_MIB", "1024")) * MiB
    src = tmp_path / "big.src"
    with open(src, "wb") as f:
        for i in range(size // MiB):
            f.write(random.Random(i).randbytes(MiB))
    m = mount(make_mount, emulator, tmp_path)
    p = subprocess.run(["dd", "if=%s" % src, "of=%s" % m.path("big.dd"), "bs=1M",
                        "status=none", "conv=fsync"], timeout=1800)
    assert p.returncode == 0
    r = emulator.client().request("HEAD", "big.dd")
    assert r.status == 200 and int(r.header("Content-Length")) == size
    assert r.header("ETag") == multipart_etag(src, 8 * MiB)
    assert os.stat(m.path("big.dd")).st_size == size
    assert uploads(emulator, "big.dd") == []
    from awscrt.checksums import crc32c
    want = 0
    with open(src, "rb") as f:
        for chunk in iter(lambda: f.read(8 * MiB), b""):
            want = crc32c(chunk, want)
    got, c, step = 0, emulator.client(), 64 * MiB
    for off in range(0, size, step):
        r = c.request("GET", "big.dd", headers={"Range": "bytes=%d-%d" % (off, off + step - 1)})
        assert r.status == 206, r
        got = crc32c(r.body, got)
    assert got == want, "CRC32C of the stored object differs from the source's"


def sanitized():
    if not os.path.exists(MRAPFS):
        return False
    with open(MRAPFS, "rb") as f:
        binary = f.read()
    return b"__asan_init" in binary or b"__tsan_init" in binary


@pytest.mark.skipif(sanitized(), reason="sanitizers keep freed memory in quarantine")
def test_memory_stays_bounded_while_streaming(emulator, make_mount, tmp_path):
    """Writing 192 MiB faster than S3 takes it (injected latency, 2 connections):
    the daemon holds a few parts, not the file (peak RSS, VmHWM)."""
    m = mount(make_mount, emulator, tmp_path, args=["--max-connections", "2"])
    emulator.faults(latency_ms=50)
    try:
        chunk = os.urandom(MiB)
        with open(m.path("bounded.bin"), "wb") as f:
            for _ in range(192):
                f.write(chunk)
    finally:
        emulator.faults(latency_ms=0)
    with open("/proc/%d/status" % m.proc.pid) as st:
        hwm_kib = next(int(line.split()[1]) for line in st if line.startswith("VmHWM:"))
    # (2 parts in flight + 1 filling) x 8 MiB = 24 MiB, and about 20 MiB of daemon
    assert hwm_kib < 64 * 1024, hwm_kib
    r = emulator.client().request("HEAD", "bounded.bin")
    assert r.status == 200 and int(r.header("Content-Length")) == 192 * MiB
