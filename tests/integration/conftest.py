"""Shared fixtures: a fresh emulator per test module (or per test, on request).

The emulator is started as users start it, `scripts/mrap-emulator --port P --data D`,
and is ready when it prints the line `ready`. Every wait here is bounded.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from s3client import S3Client  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EMULATOR = os.path.join(ROOT, "scripts", "mrap-emulator")
BUILD = os.environ.get("MRAP_BUILD_DIR", os.path.join(ROOT, "build"))
SHARED = os.environ.get("MRAP_SHARED_DIR", os.path.join(ROOT, "..", "shared"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """A running emulator process with helpers for its admin endpoint."""

    def __init__(self, data_dir, extra_args=()):
        self.data_dir = str(data_dir)
        self.extra_args = list(extra_args)
        self.port = None
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "emulator.log")

    def start(self, port=None):
        self.port = port or free_port()
        os.makedirs(self.data_dir, exist_ok=True)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", EMULATOR, "--port", str(self.port), "--data", self.data_dir]
            + self.extra_args,
            stdout=subprocess.PIPE, stderr=self.log)
        deadline = time.monotonic() + 30
        line = b""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.strip() == b"ready" or not line:
                break
        if line.strip() != b"ready":
            self.stop()
            raise RuntimeError("emulator did not start; see %s" % self.log_path)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def restart(self):
        port = self.port
        self.stop()
        return self.start(port)

    def admin(self, path, body=None, method=None):
        """Calls the unsigned admin endpoint; returns decoded JSON."""
        url = "http://127.0.0.1:%d/_emulator/%s" % (self.port, path.lstrip("/"))
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return json.loads(raw) if raw else None

    def stats(self):
        return self.admin("stats")

    def reset_stats(self):
        return self.admin("stats/reset", {})

    def faults(self, **settings):
        return self.admin("faults", settings)

    def client(self, **kw):
        return S3Client(self.port, **kw)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    emu = Emulator(tmp_path_factory.mktemp("emu")).start()
    yield emu
    emu.stop()


@pytest.fixture
def fresh_emulator(tmp_path):
    emu = Emulator(tmp_path / "emu").start()
    yield emu
    emu.stop()


@pytest.fixture
def mrap(emulator):
    """A SigV4A client for the default MRAP, with faults cleared."""
    emulator.faults(slowdown_rate=0, internal_error_rate=0, cut_rate=0, latency_ms=0)
    return emulator.client()
