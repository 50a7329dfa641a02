"""Failure injection and route switching: configured rates produce about that
fraction of 503s/500s, a cut GET delivers fewer bytes than its Content-Length,
a cut upload stores nothing, latency delays answers, flipping the MRAP's
active bucket moves requests, and the admin API is never faulted."""
import http.client
import time

import pytest

from conftest import Emulator
from emu_util import error, raw_exchange, request_head


@pytest.fixture
def c(mrap, emulator):
    yield mrap
    emulator.faults(slowdown_rate=0, internal_error_rate=0, cut_rate=0, latency_ms=0)
    emulator.admin("routes", {"mrap": "demo", "active": ["demo-us-east-1", "demo-eu-west-1"]})


def test_slowdown_rate(emulator, c):
    assert c.request("PUT", "f/obj", body=b"x" * 100).status == 200
    emulator.reset_stats()
    emulator.faults(slowdown_rate=0.3, seed=7)
    n = 400
    statuses = [c.request("GET", "f/obj") for _ in range(n)]
    slow = [r for r in statuses if r.status == 503]
    assert all(r.status in (200, 503) for r in statuses)
    assert 0.22 * n <= len(slow) <= 0.38 * n, len(slow)
    status, code, f = error(slow[0])
    assert (code, f["Message"]) == ("SlowDown", "Please reduce your request rate.")
    stats = emulator.stats()
    assert stats["faults"] == {"slowdown": len(slow)}
    assert stats["statuses"].get("503") == len(slow)
    # the same seed gives the same sequence
    emulator.faults(seed=7)
    again = [c.request("GET", "f/obj").status for _ in range(n)]
    assert again == [r.status for r in statuses]


def test_internal_error_and_admin_unaffected(emulator, c):
    emulator.faults(internal_error_rate=1.0)
    status, code, _ = error(c.request("GET", "f/anything"))
    assert (status, code) == (500, "InternalError")
    assert emulator.admin("health")["ok"] is True       # admin requests are never faulted
    assert emulator.admin("faults")["internal_error_rate"] == 1.0


def test_cut_get_is_short(emulator, c):
    body = bytes(range(256)) * 400
    assert c.request("PUT", "f/big", body=body).status == 200
    emulator.faults(cut_rate=1.0)
    target, hdrs = c.sign("GET", c.build_path("f/big"))
    out = raw_exchange(emulator.port, request_head("GET", target, hdrs))
    head, _, got = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"Content-Length: %d" % len(body) in head
    assert 0 < len(got) < len(body) and body.startswith(got)
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        c.request("GET", "f/big")


def test_cut_upload_stores_nothing(emulator, c):
    emulator.faults(cut_rate=1.0)
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        r = c.request("PUT", "f/cut", body=b"q" * 200000)
        raise ConnectionError("got a response: %r" % r)
    emulator.faults(cut_rate=0)
    assert c.request("HEAD", "f/cut").status == 404
    assert emulator.stats()["faults"].get("cut", 0) >= 1


def test_latency(emulator, c):
    emulator.faults(latency_ms=300)
    t = time.monotonic()
    assert c.request("HEAD", "f/none").status == 404
    assert time.monotonic() - t >= 0.3
    t = time.monotonic()
    emulator.admin("health")
    assert time.monotonic() - t < 0.3


def where(emulator, key):
    out = []
    for b in ("demo-us-east-1", "demo-eu-west-1"):
        try:
            emulator.admin("object?bucket=%s&key=%s" % (b, key))
            out.append(b)
        except Exception:  # noqa: BLE001 - 404 from the admin API
            pass
    return out


def test_route_flip(emulator, c):
    assert c.request("PUT", "f/route", body=b"us").status == 200
    assert where(emulator, "f/route") == ["demo-us-east-1"]
    emulator.admin("routes", {"mrap": "demo", "active": ["demo-eu-west-1"]})
    assert c.request("GET", "f/route").status == 404         # eu-west-1 has no copy
    assert c.request("PUT", "f/route", body=b"eu").status == 200
    assert where(emulator, "f/route") == ["demo-us-east-1", "demo-eu-west-1"]
    assert c.request("GET", "f/route").body == b"eu"
    emulator.admin("routes", {"mrap": "demo", "dials": {"demo-us-east-1": 100,
                                                        "demo-eu-west-1": 0}})
    assert c.request("GET", "f/route").body == b"us"
    state = emulator.admin("state")
    assert [r["dial"] for r in state["mraps"][0]["regions"]] == [100, 0]
    emulator.admin("routes", {"mrap": "demo", "dials": {"demo-us-east-1": 0}})
    assert c.request("GET", "f/route").status == 503         # no active region


def test_fault_flags(tmp_path):
    emu = Emulator(tmp_path / "emu", ["--fault-slowdown", "1", "--latency-ms", "50"]).start()
    try:
        assert emu.admin("faults")["slowdown_rate"] == 1.0
        assert [emu.client().request("GET", "k").status for _ in range(5)] == [503] * 5
    finally:
        emu.stop()
