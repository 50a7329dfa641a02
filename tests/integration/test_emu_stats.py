"""Request accounting is exact: per S3 operation, per status, bytes in and out,
authentication failures by code, faults by kind; admin calls are not counted."""
from emu_util import raw_exchange, request_head


def tamper(target, headers):
    path, sep, query = target.partition("?")
    return path[:-1] + ("b" if path[-1] != "b" else "c") + sep + query, headers


def test_counts_are_exact(emulator, mrap):
    c = mrap
    emulator.reset_stats()
    before = emulator.stats()
    assert before["requests"] == 0 and before["operations"] == {} and before["bytes_in"] == 0
    bodies = [b"a" * 10, b"b" * 1000, b"c" * 12345]
    responses = [c.request("PUT", "st/%d" % i, body=b) for i, b in enumerate(bodies)]
    responses += [c.request("GET", "st/1"), c.request("GET", "st/none"),
                  c.request("HEAD", "st/2"), c.request("DELETE", "st/0"),
                  c.request("GET", "", query={"list-type": "2", "prefix": "st/"}),
                  c.request("PUT", "st/1", query=[("tagging", None)],
                            body=b"<Tagging><TagSet></TagSet></Tagging>"),
                  c.request("GET", "st/2", mutate=tamper)]
    emulator.admin("health")                      # not counted
    raw = raw_exchange(emulator.port, request_head("GET", "/st/2", [
        ("Host", "%s.localhost:%d" % ("mfzwi23gnjvgw.mrap", emulator.port)),
        ("Connection", "close")]))
    assert raw.startswith(b"HTTP/1.1 403 ")
    s = emulator.stats()
    assert s["operations"] == {"PutObject": 3, "GetObject": 4, "HeadObject": 1,
                               "DeleteObject": 1, "ListObjectsV2": 1, "PutObjectTagging": 1}
    assert s["requests"] == 11
    assert s["statuses"] == {"200": 7, "404": 1, "204": 1, "403": 2}
    assert s["auth_failures"] == {"SignatureDoesNotMatch": 1, "AccessDenied": 1}
    assert s["signature_failures"] == 2
    assert s["bytes_in"] == sum(len(b) for b in bodies) + len(
        b"<Tagging><TagSet></TagSet></Tagging>")
    raw_body = raw.partition(b"\r\n\r\n")[2]
    assert s["bytes_out"] == sum(len(r.body) for r in responses) + len(raw_body)
    assert s["faults"] == {}
    emulator.reset_stats()
    assert emulator.stats()["requests"] == 0


def test_faults_and_unsupported_counted(emulator, mrap):
    emulator.reset_stats()
    emulator.faults(internal_error_rate=1.0)
    try:
        assert mrap.request("GET", "st/x").status == 500
    finally:
        emulator.faults(internal_error_rate=0)
    assert mrap.request("PUT", "st/copy", headers={"x-amz-copy-source": "/b/k"}).status == 501
    s = emulator.stats()
    assert s["faults"] == {"internal_error": 1}
    assert s["operations"] == {"GetObject": 1, "CopyObject": 1}
    assert s["statuses"] == {"500": 1, "501": 1}


def test_concurrent_clients_counted_exactly(emulator, mrap):
    import concurrent.futures
    emulator.reset_stats()

    def work(t):
        ok = 0
        for i in range(25):
            key = "cc/%d/%d" % (t, i)
            body = ("%d-%d" % (t, i)).encode() * 100
            ok += mrap.request("PUT", key, body=body).status == 200
            ok += mrap.request("GET", key).body == body
        return ok
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(work, range(8))) == 400
    s = emulator.stats()
    assert s["operations"] == {"PutObject": 200, "GetObject": 200}
    assert s["statuses"] == {"200": 400} and s["bytes_in"] == s["bytes_out"]
