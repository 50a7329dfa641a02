"""How people start mrapfs: the mount helper, `mount -t mrapfs`, an fstab line,
the daemon, the ARN form, --help/--version, and the --debug request log.

The daemon tests run mrapfs without -f, as mount(8) does, so they unmount with
umount and then wait (bounded) for the daemon to go away.
"""
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import ACCESS_KEY, BUILD, SECRET_KEY

MRAPFS = os.path.join(BUILD, "mrapfs")
HELPER = os.path.join(BUILD, "mount.mrapfs")
SBIN_HELPER = "/sbin/mount.mrapfs"
ALIAS = "mfzwi23gnjvgw.mrap"
ARN = "arn:aws:s3::111122223333:accesspoint/" + ALIAS
BODY = b"read through the mount helper\n"
BIG = bytes(range(256)) * (32 * 4096)  # 32 MiB

pytestmark = pytest.mark.skipif(not os.path.exists(HELPER), reason="mount.mrapfs not built")


@pytest.fixture(scope="module")
def seeded(emulator):
    emulator.faults(slowdown_rate=0, internal_error_rate=0, cut_rate=0, latency_ms=0)
    r = emulator.client().request("PUT", "tools/hello.txt", body=BODY)
    assert r.status == 200, r
    r = emulator.client().request("PUT", "tools/big.bin", body=BIG)
    assert r.status == 200, r
    return emulator


def clean_env(home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "HOME": str(home)})
    return env


def daemon_pids(mountpoint):
    """Pids of mrapfs processes whose command line names this mountpoint."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]).startswith(b"m") and \
                os.fsencode(str(mountpoint)) in argv:
            pids.append(int(pid))
    return pids


def unmount_and_wait(mountpoint):
    """Unmounts and waits (at most 15 s) for the daemon to exit; then kills it."""
    pids = daemon_pids(mountpoint)
    if os.path.ismount(str(mountpoint)):
        subprocess.run(["umount", str(mountpoint)], timeout=30, check=False)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(os.path.exists("/proc/%d" % p) for p in pids):
        time.sleep(0.05)
    leftover = [p for p in pids if os.path.exists("/proc/%d" % p)]
    for p in leftover:
        os.kill(p, 9)
    return leftover


def run(cmd, env, timeout=60):
    return subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout)


def check_mounted(mnt, opts_expected=(), source=ALIAS):
    assert os.path.ismount(str(mnt))
    with open(os.path.join(str(mnt), "tools", "hello.txt"), "rb") as f:
        assert f.read() == BODY
    with open("/proc/mounts") as f:
        line = next(l for l in f if l.split()[1] == str(mnt))
    fields = line.split()
    assert fields[0] == "mrapfs:" + source and fields[2] == "fuse.mrapfs", line
    for o in opts_expected:
        assert o in fields[3].split(","), line


def test_helper_daemonises_with_mount_options(seeded, tmp_path):
    """mount(8) runs `mount.mrapfs SOURCE DIR -o OPTS`; generic options such as
    _netdev and nofail are accepted and the helper returns once mounted."""
    mnt, log = tmp_path / "mnt", tmp_path / "daemon.log"
    mnt.mkdir()
    opts = "endpoint_url=http://localhost:%d,_netdev,nofail,defaults,log_file=%s" % (
        seeded.port, log)
    p = run([HELPER, ARN, str(mnt), "-o", opts], clean_env(tmp_path))
    try:
        assert p.returncode == 0, p.stdout
        check_mounted(mnt, source=ARN)
        assert daemon_pids(mnt), "no daemon left running"
        # The detached daemon reads ahead (its threads start after the fork):
        # 32 MiB arrive in spans of several blocks, not one GET per 1 MiB block.
        seeded.reset_stats()
        with open(os.path.join(str(mnt), "tools", "big.bin"), "rb") as f:
            assert f.read() == BIG
        gets = seeded.stats()["operations"].get("GetObject", 0)
        assert 0 < gets <= 20, gets
    finally:
        assert not unmount_and_wait(mnt), "daemon did not exit after umount"
    text = log.read_text()
    assert "mounted %s" % ARN in text or "mounted %s" % ALIAS in text, text
    assert SECRET_KEY not in text


def test_mount_t_and_fstab(seeded, tmp_path):
    """`mount -t mrapfs` and an fstab line (read with `mount -T FILE`) find the
    helper in /sbin; the test links it there for its own duration."""
    if os.geteuid() != 0:
        pytest.skip("needs root to link /sbin/mount.mrapfs and mount")
    if os.path.lexists(SBIN_HELPER):
        if os.path.realpath(SBIN_HELPER) != os.path.realpath(HELPER):
            pytest.skip("%s belongs to another install" % SBIN_HELPER)
        os.unlink(SBIN_HELPER)
    os.symlink(os.path.realpath(HELPER), SBIN_HELPER)
    env = clean_env(tmp_path)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    try:
        p = run(["mount", "-t", "mrapfs", ALIAS, str(mnt), "-o",
                 "endpoint_url=http://localhost:%d,_netdev" % seeded.port], env)
        assert p.returncode == 0, p.stdout
        check_mounted(mnt)
        assert not unmount_and_wait(mnt)
        assert not os.path.ismount(str(mnt))

        fstab = tmp_path / "fstab"
        fstab.write_text("# test fstab\n%s  %s  mrapfs  _netdev,nofail,allow_other,"
                         "endpoint_url=http://localhost:%d,uid=1234,file_mode=0600  0 0\n"
                         % (ALIAS, mnt, seeded.port))
        p = run(["mount", "-T", str(fstab), str(mnt)], env)
        assert p.returncode == 0, p.stdout
        check_mounted(mnt, opts_expected=("allow_other",))
        st = os.stat(os.path.join(str(mnt), "tools", "hello.txt"))
        assert st.st_uid == 1234 and (st.st_mode & 0o777) == 0o600
    finally:
        unmount_and_wait(mnt)
        os.unlink(SBIN_HELPER)


def test_help_and_version():
    out = run([MRAPFS, "--help"], dict(os.environ)).stdout.decode()
    for opt in ("--endpoint-url", "--foreground", "--read-only", "--prefix", "--uid", "--gid",
                "--file-mode", "--dir-mode", "--allow-other", "--profile", "--max-connections",
                "--debug", "--log-file", "--version", "-o"):
        assert opt in out, opt
    p = run([MRAPFS, "--version"], dict(os.environ))
    assert p.returncode == 0 and re.search(rb"mrapfs \d+\.\d+\.\d+", p.stdout), p.stdout
    p = run([MRAPFS, "--no-such-option", ALIAS, "/nonexistent"], dict(os.environ))
    assert p.returncode != 0 and b"no-such-option" in p.stdout


DEBUG_LINE = re.compile(r" debug s3: (GET|HEAD) (\S+) -> (\d{3})(?: (\S+))? bytes=(\d+) "
                        r"([\d.]+)ms id=(\S+) attempt=(\d+)$")


def test_debug_logs_one_line_per_request_without_secrets(seeded, make_mount):
    seeded.reset_stats()
    m = make_mount(seeded, args=["--debug", "--metadata-ttl", "0"])
    with open(m.path("tools", "hello.txt"), "rb") as f:
        assert f.read() == BODY
    os.listdir(m.path("tools"))
    stats = seeded.stats()
    out = m.output()
    lines = [DEBUG_LINE.search(l) for l in out.splitlines() if " debug s3: " in l]
    assert lines and all(lines), out
    gets = [l for l in lines if l.group(1) == "GET" and l.group(2) == "/tools/hello.txt"]
    assert gets, out
    g = gets[-1]
    assert g.group(3) in ("200", "206") and int(g.group(5)) == len(BODY)
    assert re.fullmatch(r"[0-9A-F]{16}", g.group(7)), g.group(7)
    # Every request the emulator saw has its line; nothing secret is printed.
    assert len(lines) >= sum(stats["operations"].values()), (stats, out)
    for secret in (SECRET_KEY, "Signature=", "X-Amz-Signature", "Authorization"):
        assert secret not in out
