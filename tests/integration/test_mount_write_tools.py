"""Backup recipes: the Debian tools people point at a mount, with the flags that work.

Each test writes a tree or an archive through the mount with the tool, reads it
back (through the mount and through S3) and compares bytes. Where a tool needs
a flag (--ignore-setattr for tools that restore times and modes after closing,
rsync --inplace because rename is impossible), the test shows both the failure
without it and the success with it. These results are the README's table.
"""
import os
import random
import shutil
import subprocess

import pytest

from conftest import MRAPFS
from test_mount_write import mount  # noqa: E402 - shared helper

pytestmark = pytest.mark.skipif(not os.path.exists(MRAPFS), reason="mrapfs not built")

SETATTR = ("chmod/chown/utimens",)
RENAME = ("rename of",)


def need(tool):
    return pytest.mark.skipif(shutil.which(tool) is None, reason="%s not installed" % tool)


def run(cmd, cwd=None, timeout=300):
    return subprocess.run(cmd, shell=True, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout, executable="/bin/bash")


def make_tree(root, seed):
    """A small tree: nested directories, an empty file, an empty directory,
    and one file larger than a part so that it goes up as a multipart upload."""
    rnd = random.Random(seed)
    files = {"a.txt": b"alpha\n", "empty": b"", "sub/b.bin": rnd.randbytes(70000),
             "sub/deeper/c.txt": b"c" * 1000, "big.bin": rnd.randbytes(9 * 1024 * 1024 + 5)}
    for rel, body in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(body)
    os.makedirs(os.path.join(root, "emptydir"))
    return files


def same_tree(a, b):
    p = run("diff -r '%s' '%s'" % (a, b))
    assert p.returncode == 0, p.stdout.decode()


def stored_keys(emulator, prefix):
    import xml.etree.ElementTree as ET
    r = emulator.client().request("GET", "", query=[("list-type", "2"), ("prefix", prefix)])
    assert r.status == 200, r
    ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
    return sorted(k.text for k in ET.fromstring(r.body).iterfind(".//s:Contents/s:Key", ns))


def test_cp_r_and_cp_a(emulator, make_mount, tmp_path):
    src = tmp_path / "src"
    make_tree(str(src), 1)
    m = mount(make_mount, emulator, tmp_path, warnings=SETATTR)
    p = run("cp -r '%s' '%s'" % (src, m.path("cpr")))
    assert p.returncode == 0, p.stdout
    same_tree(src, m.path("cpr"))
    # cp -a restores directory times after writing their contents: refused by default
    p = run("cp -a '%s' '%s'" % (src, m.path("cpa")))
    assert p.returncode != 0 and b"preserving times" in p.stdout, p.stdout
    same_tree(src, m.path("cpa"))            # the data is all there nevertheless
    m.stop()
    m = mount(make_mount, emulator, tmp_path, args=["--ignore-setattr"], name="m2")
    p = run("cp -a '%s' '%s'" % (src, m.path("cpa2")))
    assert p.returncode == 0, p.stdout
    same_tree(src, m.path("cpa2"))


def test_tar_create_and_extract(emulator, make_mount, tmp_path):
    src = tmp_path / "src"
    make_tree(str(src), 2)
    m = mount(make_mount, emulator, tmp_path, warnings=SETATTR)
    p = run("tar -cf '%s' ." % m.path("x.tar"), cwd=src)
    assert p.returncode == 0, p.stdout
    back = tmp_path / "back"
    back.mkdir()
    p = run("tar -xf '%s' -C '%s'" % (m.path("x.tar"), back))
    assert p.returncode == 0, p.stdout
    same_tree(src, back)
    # extracting into the mount: files carry their times (set before close), but
    # tar sets directory times last, which needs --ignore-setattr
    os.mkdir(m.path("ex"))
    p = run("tar -xf '%s' -C '%s'" % (m.path("x.tar"), m.path("ex")))
    assert p.returncode == 2 and b"Cannot utime" in p.stdout, p.stdout
    same_tree(src, m.path("ex"))
    m.stop()
    m = mount(make_mount, emulator, tmp_path, args=["--ignore-setattr"], name="m2")
    os.mkdir(m.path("ex2"))
    p = run("tar -xf '%s' -C '%s'" % (m.path("x.tar"), m.path("ex2")))
    assert p.returncode == 0, p.stdout
    same_tree(src, m.path("ex2"))


@need("rsync")
def test_rsync_inplace_and_without(emulator, make_mount, tmp_path):
    src = tmp_path / "src"
    make_tree(str(src), 3)
    m = mount(make_mount, emulator, tmp_path, warnings=SETATTR + RENAME)
    p = run("rsync -r --inplace '%s/' '%s/'" % (src, m.path("rs")))
    assert p.returncode == 0, p.stdout
    same_tree(src, m.path("rs"))
    with open(src / "a.txt", "ab") as f:        # a second run updates in place
        f.write(b"more\n")
    p = run("rsync -r --inplace '%s/' '%s/'" % (src, m.path("rs")))
    assert p.returncode == 0, p.stdout
    same_tree(src, m.path("rs"))
    # without --inplace rsync renames a temporary file: refused, and nothing is left
    p = run("rsync -r '%s/' '%s/'" % (src, m.path("rsn")))
    assert p.returncode == 23 and b"Operation not supported" in p.stdout, p.stdout
    assert [k for k in stored_keys(emulator, "rsn/") if not k.endswith("/")] == []
    # -a (times, modes) needs --ignore-setattr: rsync sets them after closing
    p = run("rsync -a --inplace '%s/' '%s/'" % (src, m.path("rsa")))
    assert p.returncode == 23 and b"failed to set times" in p.stdout, p.stdout
    m.stop()
    m = mount(make_mount, emulator, tmp_path, args=["--ignore-setattr"], name="m2")
    p = run("rsync -a --inplace '%s/' '%s/'" % (src, m.path("rsa2")))
    assert p.returncode == 0, p.stdout
    same_tree(src, m.path("rsa2"))


@need("cpio")
def test_cpio_split_zstd(emulator, make_mount, tmp_path):
    src = tmp_path / "src"
    files = make_tree(str(src), 4)
    m = mount(make_mount, emulator, tmp_path, warnings=SETATTR)
    p = run("find . | sort | cpio -o --quiet > '%s'" % m.path("x.cpio"), cwd=src)
    assert p.returncode == 0, p.stdout
    p = run("find . | sort | cpio -o --quiet > '%s'" % (tmp_path / "x.cpio"), cwd=src)
    with open(m.path("x.cpio"), "rb") as a, open(tmp_path / "x.cpio", "rb") as b:
        assert a.read() == b.read()
    p = run("split -b 3M '%s' '%s'" % (src / "big.bin", m.path("big.part.")))
    assert p.returncode == 0, p.stdout
    p = run("cat '%s'* | cmp - '%s'" % (m.path("big.part."), src / "big.bin"))
    assert p.returncode == 0, p.stdout
    # zstd sets the mode and times after closing and ignores a refusal
    p = run("zstd -q -o '%s' '%s'" % (m.path("big.zst"), src / "big.bin"))
    assert p.returncode == 0, p.stdout
    p = run("zstd -dc '%s' | cmp - '%s'" % (m.path("big.zst"), src / "big.bin"))
    assert p.returncode == 0, p.stdout
    assert len(files) == 5
