"""Request accounting and failure injection, both switchable at run time.

Design: Stats counts what the data plane did — requests per S3 operation name,
per HTTP status, bytes received and sent (bodies), authentication failures by
error code, faults injected by kind — under one lock, so a test can assert
exactly how many requests a workload made.  Admin requests are never counted.
A request is recorded after its reply went out (bytes sent are known only
then), so a client could read or reset the counters before its last request
is counted; snapshot() and reset() therefore first wait (at most SETTLE_S) for
the data-plane requests in progress to be recorded.

Faults decides, per data-plane request, whether to inject a failure: a
503 SlowDown, a 500 InternalError, or a cut connection (a GET sends headers
with the full Content-Length and then only part of the body; a request with a
body has part of it read and the connection closed without a response), plus
`latency_ms` of delay before answering.  Draws come from one random.Random,
reseeded when `seed` is set, so a seeded run injects the same sequence.
"""
import random
import threading

FAULT_FIELDS = ("slowdown_rate", "internal_error_rate", "cut_rate", "latency_ms", "seed")
SETTLE_S = 5.0


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.settled = threading.Condition(self.lock)
        self.inflight = 0
        self.reset()

    def begin(self):
        """A data-plane request started; record() or end() closes it."""
        with self.lock:
            self.inflight += 1

    def end(self):
        with self.lock:
            self.inflight -= 1
            self.settled.notify_all()

    def _settle_locked(self):
        self.settled.wait_for(lambda: self.inflight <= 0, timeout=SETTLE_S)

    def reset(self):
        with self.lock:
            self._settle_locked()
            self.requests = 0
            self.operations = {}
            self.statuses = {}
            self.auth_failures = {}
            self.faults = {}
            self.bytes_in = 0
            self.bytes_out = 0

    def record(self, op, status, bytes_in, bytes_out, auth_error=None, fault=None):
        with self.lock:
            self.inflight -= 1
            self.settled.notify_all()
            self.requests += 1
            self.operations[op] = self.operations.get(op, 0) + 1
            key = str(status)
            self.statuses[key] = self.statuses.get(key, 0) + 1
            self.bytes_in += bytes_in
            self.bytes_out += bytes_out
            if auth_error:
                self.auth_failures[auth_error] = self.auth_failures.get(auth_error, 0) + 1
            if fault:
                self.faults[fault] = self.faults.get(fault, 0) + 1

    def snapshot(self):
        with self.lock:
            self._settle_locked()
            return {"requests": self.requests, "operations": dict(self.operations),
                    "statuses": dict(self.statuses), "bytes_in": self.bytes_in,
                    "bytes_out": self.bytes_out,
                    "auth_failures": dict(self.auth_failures),
                    "signature_failures": sum(self.auth_failures.values()),
                    "faults": dict(self.faults)}


class Faults:
    def __init__(self, slowdown_rate=0.0, internal_error_rate=0.0, cut_rate=0.0, latency_ms=0,
                 seed=None):
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.settings = {"slowdown_rate": 0.0, "internal_error_rate": 0.0, "cut_rate": 0.0,
                         "latency_ms": 0, "seed": None}
        self.update({"slowdown_rate": slowdown_rate, "internal_error_rate": internal_error_rate,
                     "cut_rate": cut_rate, "latency_ms": latency_ms, "seed": seed})

    def update(self, doc):
        """Applies any FAULT_FIELDS in doc; raises ValueError on bad input."""
        unknown = set(doc) - set(FAULT_FIELDS)
        if unknown:
            raise ValueError("unknown fault settings: %s" % ", ".join(sorted(unknown)))
        new = dict(self.settings)
        for name in ("slowdown_rate", "internal_error_rate", "cut_rate"):
            if name in doc:
                rate = float(doc[name])
                if not 0.0 <= rate <= 1.0:
                    raise ValueError("%s must be within 0..1" % name)
                new[name] = rate
        if "latency_ms" in doc:
            new["latency_ms"] = max(0, int(doc["latency_ms"]))
        if "seed" in doc:
            new["seed"] = None if doc["seed"] is None else int(doc["seed"])
        if new["slowdown_rate"] + new["internal_error_rate"] + new["cut_rate"] > 1.0:
            raise ValueError("fault rates add up to more than 1")
        with self.lock:
            self.settings = new
            if "seed" in doc:
                self.rng.seed(new["seed"])
        return self.snapshot()

    def snapshot(self):
        with self.lock:
            return dict(self.settings)

    def draw(self):
        """(fault kind or None, latency seconds) for one request."""
        with self.lock:
            s = self.settings
            latency = s["latency_ms"] / 1000.0
            if not (s["slowdown_rate"] or s["internal_error_rate"] or s["cut_rate"]):
                return None, latency
            x = self.rng.random()
            if x < s["slowdown_rate"]:
                return "slowdown", latency
            x -= s["slowdown_rate"]
            if x < s["internal_error_rate"]:
                return "internal_error", latency
            x -= s["internal_error_rate"]
            if x < s["cut_rate"]:
                return "cut", latency
            return None, latency
