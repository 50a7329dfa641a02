"""Running build/tools/mrap_attrop (the C attribute, presign and S3 Control
operations) against an emulator, for test_s3_attrs_c.py and
test_s3_control_c.py. The tool prints one JSON object; it exits 0 on success
and 1 with {"error": "<errno name>", "code": S3 code, ...} on failure."""
import json
import os
import subprocess

from conftest import ACCESS_KEY, BUILD, SECRET_KEY

TOOL = os.path.join(BUILD, "tools", "mrap_attrop")


def built():
    return os.access(TOOL, os.X_OK)


def tool(emu, *args, opts=()):
    """(exit status, JSON output, stderr) of one run, credentials in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
               HOME=str(emu.data_dir))
    p = subprocess.run([TOOL, "--endpoint-url", "http://localhost:%d" % emu.port, *opts, *args],
                       capture_output=True, timeout=120, env=env)
    out = json.loads(p.stdout) if p.stdout.strip() else None
    assert p.returncode in (0, 1) and out is not None, (p.returncode, p.stdout, p.stderr)
    return p.returncode, out, p.stderr.decode(errors="replace")


def ok(emu, *args, **kw):
    rc, out, err = tool(emu, *args, **kw)
    assert rc == 0, (out, err)
    return out


def fails(emu, errno_name, *args, **kw):
    rc, out, err = tool(emu, *args, **kw)
    assert rc == 1 and out["error"] == errno_name, (out, err)
    return out
