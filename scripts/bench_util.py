#!/usr/bin/python3
"""Helpers for scripts/bench.sh: seeding the emulator, reading its request
accounting, and printing the result table. Standard library only.

  bench_util.py seed PORT                 objects the workloads read
  bench_util.py stats PORT                one line: "<requests> <ops as k=v,...>"
  bench_util.py reset PORT                zero the emulator's counters
  bench_util.py fio-json FILE             "<MiB/s> <IOPS>" of a fio JSON report
  bench_util.py table RESULTS.tsv         the aligned table (markdown)
"""
import http.client
import json
import sys

BUCKET = "demo-us-east-1"
GiB = 1 << 30


def admin(port, method, path, body=None, conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, "/_emulator/" + path, body=data,
                 headers={"Content-Type": "application/json"} if data else {})
    r = conn.getresponse()
    out = r.read()
    if own:
        conn.close()
    if r.status >= 300:
        raise SystemExit("admin %s %s: %d %s" % (method, path, r.status, out[:200]))
    return json.loads(out) if out else None


def seed(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    admin(port, "POST", "object", {"bucket": BUCKET, "key": "bench/big-1g.bin", "size": GiB}, conn)
    for i in range(10000):
        admin(port, "POST", "object", {"bucket": BUCKET, "key": "bench/flat/f%05d" % i,
                                       "size": 100}, conn)
    for d in range(100):
        for i in range(100):
            admin(port, "POST", "object", {"bucket": BUCKET,
                                           "key": "bench/tree/d%03d/f%03d" % (d, i),
                                           "size": 100}, conn)
    for i in range(1000):
        admin(port, "POST", "object", {"bucket": BUCKET, "key": "bench/small/s%04d" % i,
                                       "size": 4096}, conn)
    conn.close()


def stats(port):
    s = admin(port, "GET", "stats")
    ops = ",".join("%s=%d" % (k, v) for k, v in sorted(s["operations"].items()))
    print(s["requests"], ops or "-")


def fio_json(path):
    with open(path) as f:
        text = f.read()
    doc = json.loads(text[text.index("{"):])   # fio may print notes before the JSON
    job = doc["jobs"][0]["read"]
    print("%.1f %.0f" % (job["bw_bytes"] / (1 << 20), job["iops"]))


def table(path):
    rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
    head = ["workload", "tool", "result", "requests", "peak RSS MiB", "S3 operations"]
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    fmt = "| " + " | ".join("%%-%ds" % w for w in widths) + " |"
    print(fmt % tuple(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(fmt % tuple(r))


if __name__ == "__main__":
    cmd, arg = sys.argv[1], sys.argv[2]
    if cmd == "seed":
        seed(int(arg))
    elif cmd == "stats":
        stats(int(arg))
    elif cmd == "reset":
        admin(int(arg), "POST", "stats/reset", {})
    elif cmd == "fio-json":
        fio_json(arg)
    elif cmd == "table":
        table(arg)
    else:
        raise SystemExit(__doc__)
