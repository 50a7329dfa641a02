"""Cold lookups (a path nobody listed): one LIST by prefix with delimiter "/"
decides file or directory; a second LIST only when siblings sorting between
"name" and "name/" fill the first page. The directory wins over a file of the
same name either way.
"""
import os
import stat

import pytest

SIBLINGS = 40  # more than one lookup page of names between "amb" and "amb/"


@pytest.fixture(scope="module")
def seeded(emulator):
    c = emulator.client()
    keys = {"lk/solo.txt": b"solo\n", "lk/amb": b"file named like the dir\n",
            "lk/amb/inside.txt": b"inside\n", "lk/plain/deep.txt": b"deep\n",
            "lk/both": b"file\n", "lk/both/x": b"x\n"}
    for i in range(SIBLINGS):
        keys["lk/amb-%02d" % i] = b"sibling\n"
    for k, v in keys.items():
        assert c.request("PUT", k, body=v).status == 200
    return keys


def lists(emulator):
    return emulator.stats()["operations"].get("ListObjectsV2", 0)


def cold_stat(emulator, m, *parts):
    emulator.reset_stats()
    st = os.stat(m.path(*parts))
    return st, lists(emulator)


def test_cold_lookups(seeded, emulator, make_mount):
    emulator.faults(slowdown_rate=0, internal_error_rate=0, cut_rate=0, latency_ms=0)
    m = make_mount(emulator, args=["--metadata-ttl", "60"],
                   allowed_warnings=["both", "amb"])
    emulator.reset_stats()
    os.stat(m.path("lk"))  # the parent, looked up cold too
    st, n = cold_stat(emulator, m, "lk", "solo.txt")
    assert stat.S_ISREG(st.st_mode) and st.st_size == 5 and n == 1, n
    st, n = cold_stat(emulator, m, "lk", "plain")
    assert stat.S_ISDIR(st.st_mode) and n == 1, n
    st, n = cold_stat(emulator, m, "lk", "both")
    assert stat.S_ISDIR(st.st_mode) and n == 1, n
    # 40 siblings ("amb-00"...) sort between "amb" and "amb/": the first page
    # cannot tell, a second LIST does, and the directory still wins.
    st, n = cold_stat(emulator, m, "lk", "amb")
    assert stat.S_ISDIR(st.st_mode) and n == 2, n
    with open(m.path("lk", "amb", "inside.txt"), "rb") as f:
        assert f.read() == b"inside\n"
    st, n = cold_stat(emulator, m, "lk", "amb-07")
    assert stat.S_ISREG(st.st_mode), n
    emulator.reset_stats()
    assert not os.path.exists(m.path("lk", "missing"))
    assert lists(emulator) == 1


def test_expired_entries_after_ls_cost_one_list(seeded, emulator, make_mount):
    """`ls` then touching every file after the TTL (cat *, rsync, backup tools):
    the first expired lookup re-lists the directory once, refreshing every
    known file in it, instead of one LIST per file."""
    import time
    c = emulator.client()
    for i in range(200):
        assert c.request("PUT", "relist/f%03d" % i, body=b"%d" % i).status == 200
    emulator.faults(slowdown_rate=0, internal_error_rate=0, cut_rate=0, latency_ms=0)
    m = make_mount(emulator, args=["--metadata-ttl", "2"])
    names = sorted(os.listdir(m.path("relist")))
    assert len(names) == 200
    time.sleep(2.5)  # every entry is past its TTL now
    emulator.reset_stats()
    for i, name in enumerate(names):
        with open(m.path("relist", name), "rb") as f:
            assert f.read() == b"%d" % i
    # One LIST re-lists the directory; at most a few more if the loop spans a TTL.
    assert lists(emulator) <= 4, emulator.stats()["operations"]
    # A file changed remotely is seen with its new size through the re-listing.
    assert c.request("PUT", "relist/f000", body=b"changed!").status == 200
    time.sleep(2.5)
    assert os.stat(m.path("relist", "f000")).st_size == 8
