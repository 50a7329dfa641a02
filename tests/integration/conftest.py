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


def wait_or_kill(proc, timeout=15):
    """Waits for a process to exit; kills it when it does not within timeout."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


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
            wait_or_kill(self.proc)
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


MRAPFS = os.path.join(BUILD, "mrapfs")
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

# Lines the daemon may log without a test saying so. Anything else at warn or
# error level on the daemon's stderr fails the test that owns the mount.
ALWAYS_ALLOWED = ()


def in_mount_table(path):
    """Whether path is a mount point per /proc/mounts. os.path.ismount() says
    False for a FUSE mount whose daemon died (stat fails with ENOTCONN), which
    would leave such mounts behind."""
    want = os.path.abspath(str(path))
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 1 and fields[1].encode().decode("unicode_escape") == want:
                return True
    return False


class Mount:
    """mrapfs running in the foreground against an emulator, mounted for real."""

    def __init__(self, emulator, mountpoint, args=(), env=None, alias="mfzwi23gnjvgw.mrap",
                 allowed_warnings=()):
        self.emulator = emulator
        self.mountpoint = str(mountpoint)
        self.args = list(args)
        self.alias = alias
        self.allowed = tuple(allowed_warnings) + ALWAYS_ALLOWED
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("AWS_"):
                del self.env[k]
        self.env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                         "HOME": os.path.dirname(self.mountpoint)})
        self.env.update(env or {})
        self.proc = None
        self.log_path = self.mountpoint + ".log"

    def command(self):
        return ([MRAPFS, "-f", "--endpoint-url", "http://localhost:%d" % self.emulator.port]
                + self.args + [self.alias, self.mountpoint])

    def start(self, timeout=30):
        os.makedirs(self.mountpoint, exist_ok=True)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.ismount(self.mountpoint):
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("mrapfs exited %d: %s" % (self.proc.returncode, self.output()))
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("mrapfs did not mount in %ds: %s" % (timeout, self.output()))

    def output(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def unexpected_warnings(self):
        bad = []
        for line in self.output().splitlines():
            if " warn " in line or " error " in line:
                if not any(a in line for a in self.allowed):
                    bad.append(line)
        return bad

    def stop(self):
        if self.proc is None:
            return
        if in_mount_table(self.mountpoint):
            subprocess.run(["fusermount3", "-u", "-z", self.mountpoint],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        wait_or_kill(self.proc)
        self.proc = None
        self.log.close()

    def path(self, *parts):
        return os.path.join(self.mountpoint, *parts)


def run_mrapfs(emulator, mountpoint, args=(), env=None, alias="mfzwi23gnjvgw.mrap", timeout=60):
    """Runs mrapfs expecting it to fail before mounting; returns (rc, output, seconds)."""
    m = Mount(emulator, mountpoint, args, env, alias)
    os.makedirs(m.mountpoint, exist_ok=True)
    t0 = time.monotonic()
    p = subprocess.run(m.command(), env=m.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    if os.path.ismount(m.mountpoint):
        subprocess.run(["fusermount3", "-u", "-z", m.mountpoint], timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace"), time.monotonic() - t0


@pytest.fixture
def make_mount(tmp_path):
    """Factory: make_mount(emulator, args=..., allowed_warnings=...) -> started Mount.
    Every mount is unmounted afterwards and its stderr checked for surprises."""
    mounts = []

    def factory(emulator, args=(), allowed_warnings=(), name="mnt", **kw):
        m = Mount(emulator, tmp_path / name, args, allowed_warnings=allowed_warnings, **kw)
        mounts.append(m)
        return m.start()

    yield factory
    problems = []
    for m in mounts:
        m.stop()
        problems += m.unexpected_warnings()
    assert not problems, "unexpected daemon warnings:\n" + "\n".join(problems)
