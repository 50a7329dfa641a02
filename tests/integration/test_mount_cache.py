"""The read cache through a real mount: warm reads cost no GET, the disk tier
survives a remount and drops a damaged block, sequential reads use whole
blocks, and a file larger than the memory cache still reads exactly.

The kernel's page cache is dropped (as root) before each measured read, so
what is measured is mrapfs's own cache, not the kernel's.
"""
import hashlib
import os

import pytest

BLOCK = 1 << 20
SIZE = 24 * BLOCK + 12345  # not a block multiple


@pytest.fixture(scope="module")
def big(emulator):
    data = hashlib.sha256(b"cache").digest() * (SIZE // 32 + 1)
    data = data[:SIZE]
    r = emulator.client().request("PUT", "cache/big.bin", body=data)
    assert r.status == 200, r
    return data


def drop_page_cache():
    if os.geteuid() != 0:
        pytest.skip("needs root to drop the kernel's page cache")
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def read_all(path):
    with open(path, "rb") as f:
        return f.read()


def gets(emulator):
    return emulator.stats()["operations"].get("GetObject", 0)


def mount(make_mount, emulator, args=(), name="mnt", warnings=()):
    emulator.faults(slowdown_rate=0, internal_error_rate=0, cut_rate=0, latency_ms=0)
    return make_mount(emulator, args=["--metadata-ttl", "60"] + list(args), name=name,
                      allowed_warnings=warnings)


def test_warm_read_makes_no_get(emulator, big, make_mount):
    m = mount(make_mount, emulator)
    drop_page_cache()
    emulator.reset_stats()
    assert read_all(m.path("cache", "big.bin")) == big
    cold = gets(emulator)
    # Whole 1 MiB blocks, not one GET per kernel read of 128 KiB.
    assert 0 < cold <= SIZE // BLOCK + 2, cold
    drop_page_cache()
    emulator.reset_stats()
    assert read_all(m.path("cache", "big.bin")) == big
    assert gets(emulator) == 0


def test_random_reads_fetch_only_their_blocks(emulator, big, make_mount):
    m = mount(make_mount, emulator)
    drop_page_cache()
    emulator.reset_stats()
    with open(m.path("cache", "big.bin"), "rb") as f:
        for block in (20, 3, 11):
            f.seek(block * BLOCK + 100)
            assert f.read(4096) == big[block * BLOCK + 100:block * BLOCK + 4196]
    assert gets(emulator) <= 3 * 2, emulator.stats()["operations"]


def test_larger_than_memory_cache_reads_exactly(emulator, big, make_mount):
    m = mount(make_mount, emulator, args=["--max-memory-cache", "4", "--max-read-ahead", "2"])
    drop_page_cache()
    data = read_all(m.path("cache", "big.bin"))
    assert hashlib.md5(data).hexdigest() == hashlib.md5(big).hexdigest()


def test_disk_cache_survives_remount_and_drops_damage(emulator, big, make_mount, tmp_path):
    cache = tmp_path / "cache"
    m = mount(make_mount, emulator, args=["--cache", str(cache), "--max-memory-cache", "4"],
              name="m1")
    assert read_all(m.path("cache", "big.bin")) == big
    m.stop()
    blocks = sorted(p for p in (cache / "blocks").iterdir() if p.is_file()
                    and not p.name.startswith("."))
    assert len(blocks) >= SIZE // BLOCK, [p.name for p in blocks]
    assert oct((cache / "blocks").stat().st_mode & 0o777) == oct(0o700)

    m = mount(make_mount, emulator, args=["--cache", str(cache), "--max-memory-cache", "4"],
              name="m2")
    drop_page_cache()
    emulator.reset_stats()
    assert read_all(m.path("cache", "big.bin")) == big
    assert gets(emulator) == 0, "a remount with the same --cache fetched again"
    m.stop()

    # Damage one block file: it is dropped and fetched again, never served.
    victim = blocks[len(blocks) // 2]
    raw = bytearray(victim.read_bytes())
    raw[-1000] ^= 0xFF
    victim.write_bytes(bytes(raw))
    m = mount(make_mount, emulator, args=["--cache", str(cache), "--max-memory-cache", "4"],
              name="m3", warnings=["data checksum mismatch"])
    drop_page_cache()
    emulator.reset_stats()
    assert read_all(m.path("cache", "big.bin")) == big
    assert gets(emulator) >= 1


def test_second_mount_on_same_cache_is_refused(emulator, big, make_mount, tmp_path):
    from conftest import run_mrapfs
    cache = tmp_path / "shared-cache"
    mount(make_mount, emulator, args=["--cache", str(cache)], name="first")
    rc, out, _ = run_mrapfs(emulator, tmp_path / "second", args=["--cache", str(cache)])
    assert rc != 0 and "in use by another mount" in out, out
