"""Strange keys round-trip byte-exactly through the MRAP and the regional
endpoint, list back exactly, and never name a path: nothing is created outside
the emulator's data directory and no file name inside it derives from a key."""
import os
import re
import urllib.parse

import pytest

from conftest import Emulator
from emu_util import error, xml

KEYS = ["a b", "a+b", "100%", "100%25", "what?x=1&y", "hash#tag", "ünïcödé/日本語", "emoji😀",
        "a//b", "./x", "../x", "../../../../etc/passwd", ".", "..", "/lead", "trail/",
        "semi;colon=eq&amp", "tab\tkey", "k" * 1024, "é" * 512, "~tilde!*'()"]


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    root = tmp_path_factory.mktemp("emu-keys")
    e = Emulator(root / "data").start()
    e.root = root
    yield e
    e.stop()


def tree(path):
    out = set()
    for dirpath, dirnames, filenames in os.walk(path):
        for n in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, n), path))
    return out


@pytest.mark.parametrize("mode", ["mrap", "regional"])
def test_keys_round_trip(emu, mode):
    c = emu.client(mode=mode)
    bucket = "demo-us-east-1" if mode == "regional" else None
    outside = tree(emu.root) - {p for p in tree(emu.root) if p.startswith("data")}
    for i, key in enumerate(KEYS):
        body = ("%d:%s" % (i, key)).encode()
        r = c.request("PUT", key, body=body, bucket=bucket)
        assert r.status == 200, (key, r)
        g = c.request("GET", key, bucket=bucket)
        assert g.status == 200 and g.body == body, (key, g)
        assert emu.admin("object?" + urllib.parse.urlencode(
            {"bucket": "demo-us-east-1", "key": key}))["key"] == key
    q = {"list-type": "2", "prefix": ""}
    if mode == "regional":
        r = c.request("GET", "", query=q, bucket=bucket)
    else:
        r = c.request("GET", "", query=q)
    listed = [e.find("Key").text for e in xml(r).findall("Contents")]
    assert sorted(listed, key=lambda k: k.encode()) == listed
    assert sorted(KEYS) == sorted(listed)
    q["encoding-type"] = "url"
    r = c.request("GET", "", query=q, bucket=bucket) if bucket else c.request("GET", "", query=q)
    decoded = [urllib.parse.unquote_plus(e.find("Key").text) for e in xml(r).findall("Contents")]
    assert decoded == listed
    for key in KEYS:
        assert c.request("DELETE", key, bucket=bucket).status == 204
        assert c.request("HEAD", key, bucket=bucket).status == 404
    after = tree(emu.root) - {p for p in tree(emu.root) if p.startswith("data")}
    assert after == outside


def test_data_dir_names_never_derive_from_keys(emu):
    c = emu.client()
    for key in KEYS:
        assert c.request("PUT", key, body=b"x").status == 200
    data = os.path.join(str(emu.root), "data")
    layout = re.compile(r"^(state\.json|emulator\.log|tmp|buckets|buckets/[a-z0-9.-]+"
                        r"|buckets/[a-z0-9.-]+/(objects|uploads)"
                        r"|buckets/[a-z0-9.-]+/objects/[0-9a-f]{2}"
                        r"|buckets/[a-z0-9.-]+/objects/[0-9a-f]{2}/[0-9a-f]{64}"
                        r"(\.json|\.[0-9a-f]{12}\.data))$")
    odd = [p for p in tree(data) if not layout.match(p)]
    assert odd == []
    objects = [p for p in tree(data) if p.endswith(".json") and "/objects/" in p]
    assert len(objects) == len(KEYS)


def test_key_too_long(emu):
    c = emu.client()
    for key in ("k" * 1025, "é" * 513):
        status, code, f = error(c.request("PUT", key, body=b"x"))
        assert (status, code, f["MaxSizeAllowed"]) == (400, "KeyTooLongError", "1024")
