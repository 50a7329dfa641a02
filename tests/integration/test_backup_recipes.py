"""Backup recipes (issue 4): each Debian tool writes a backup through a real mount,
and the backup is read back byte for byte twice: through the mount, and straight
from S3 (the emulator) with a signed client, so that what the mount shows is
what is stored. Every recipe also ends with no multipart upload left over.

test_mount_write_tools.py shows which flags need --ignore-setattr; this module
shows the recipes that work on a default mount and checks the stored bytes.
The README table of tools and flags is this module's list of tests:
    cp -r · dd bs=1M (also conv=fsync) · tar -cf / tar -xmf · cpio -o ·
    rsync -r --inplace (without --inplace: EOPNOTSUPP, nothing left) ·
    split -b · zstd -o · restic (rclone: backend; its local backend needs rename) ·
    duplicity file://
"""
import hashlib
import os
import shutil
import subprocess
import time

import pytest

from conftest import MRAPFS
from emu_util import MIB, wait_until, xml
from test_mount_write import FAILURE_LINES, mount, ops, stored, uploads
from test_mount_write_tools import make_tree, need, run, same_tree

pytestmark = pytest.mark.skipif(not os.path.exists(MRAPFS), reason="mrapfs not built")

SETATTR = ("chmod/chown/utimens",)


def all_keys(emulator, prefix):
    """Every key under prefix (ListObjectsV2, all pages)."""
    keys, token = [], None
    while True:
        q = [("list-type", "2"), ("prefix", prefix)] + ([("continuation-token", token)]
                                                        if token else [])
        r = emulator.client().request("GET", "", query=q)
        assert r.status == 200, r
        doc = xml(r)
        keys += [c.findtext("Key") for c in doc.iter("Contents")]
        token = doc.findtext("NextContinuationToken")
        if doc.findtext("IsTruncated") != "true" or not token:
            return sorted(keys)


def signed_uploads(emulator, prefix):
    """Keys of open multipart uploads under prefix, through ListMultipartUploads."""
    r = emulator.client().request("GET", "", query=[("uploads", None), ("prefix", prefix)])
    assert r.status == 200, r
    return [u.findtext("Key") for u in xml(r).iter("Upload")]


def nothing_pending(emulator, prefix):
    assert signed_uploads(emulator, prefix) == []
    assert uploads(emulator, prefix) == []


def local_files(root):
    """{relative path: bytes} of the files under root, and the relative empty dirs."""
    files, empty = {}, []
    for d, dirs, names in os.walk(root):
        rel = os.path.relpath(d, root)
        if not dirs and not names and rel != ".":
            empty.append(rel)
        for n in names:
            with open(os.path.join(d, n), "rb") as f:
                files[os.path.normpath(os.path.join(rel, n))] = f.read()
    return files, empty


def tree_is_stored(emulator, root, prefix):
    """The tree under root is stored under prefix exactly: same objects, same
    bytes, a marker for each empty directory, no other object."""
    files, empty = local_files(root)
    keys = all_keys(emulator, prefix)
    assert [k for k in keys if not k.endswith("/")] == sorted(prefix + r for r in files)
    for rel, body in files.items():
        assert stored(emulator, prefix + rel) == body, rel
    for rel in empty:
        assert prefix + rel + "/" in keys, rel
    nothing_pending(emulator, prefix)


def file_is_stored(emulator, m, key, body):
    """key holds body in S3 and through the mount."""
    assert stored(emulator, key) == body
    with open(m.path(key), "rb") as f:
        assert f.read() == body
    nothing_pending(emulator, key)


def ok(p):
    assert p.returncode == 0, p.stdout.decode(errors="replace")
    return p


def fetch(emulator, key, path):
    """Downloads key straight from S3 into a local file; returns its bytes."""
    body = stored(emulator, key)
    assert body is not None, key
    with open(path, "wb") as f:
        f.write(body)
    return body


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "src"
    make_tree(str(src), 40)
    return src


def test_cp_r(emulator, make_mount, tmp_path, tree):
    m = mount(make_mount, emulator, tmp_path)
    ok(run("cp -r '%s' '%s'" % (tree, m.path("cp"))))
    same_tree(tree, m.path("cp"))
    tree_is_stored(emulator, tree, "cp/")


def test_dd_bs_1m_multipart(emulator, make_mount, tmp_path):
    body = hashlib.sha256(b"dd").digest() * ((30 * MIB + 4096) // 32)   # 30 MiB + 4 KiB
    (tmp_path / "disk.img").write_bytes(body)
    m = mount(make_mount, emulator, tmp_path)
    os.mkdir(m.path("dd"))
    for name, conv in (("plain.img", ""), ("fsync.img", "conv=fsync")):
        emulator.reset_stats()
        ok(run("dd if='%s' of='%s' bs=1M status=none %s" % (tmp_path / "disk.img",
                                                            m.path("dd", name), conv)))
        o = ops(emulator)
        # 8 MiB parts: 3 full and a short fourth, streamed while dd writes;
        # with conv=fsync the fsync completes the upload and the close adds nothing
        assert (o.get("CreateMultipartUpload"), o.get("UploadPart"),
                o.get("CompleteMultipartUpload")) == (1, 4, 1), (conv, o)
        assert "AbortMultipartUpload" not in o, o
        assert emulator.client().request("HEAD", "dd/" + name).header("ETag").endswith('-4"')
        file_is_stored(emulator, m, "dd/" + name, body)


def test_tar_create_and_extract_with_m(emulator, make_mount, tmp_path, tree):
    m = mount(make_mount, emulator, tmp_path)
    os.mkdir(m.path("tar"))
    ok(run("tar -cf '%s' -C '%s' ." % (m.path("tar", "x.tar"), tree)))
    # the archive straight from S3 extracts to the source tree
    body = fetch(emulator, "tar/x.tar", tmp_path / "s3.tar")
    assert len(body) > 8 * MIB                      # it went up as a multipart upload
    (tmp_path / "from-s3").mkdir()
    ok(run("tar -xf '%s' -C '%s'" % (tmp_path / "s3.tar", tmp_path / "from-s3")))
    same_tree(tree, tmp_path / "from-s3")
    file_is_stored(emulator, m, "tar/x.tar", body)
    # extracting into the mount: -m (do not restore modification times) keeps tar
    # from setting directory times after their contents, which a stored
    # directory cannot take (plain tar -x exits 2 with "Cannot utime")
    os.mkdir(m.path("tar", "ex"))
    ok(run("tar -xmf '%s' -C '%s'" % (tmp_path / "s3.tar", m.path("tar", "ex"))))
    same_tree(tree, m.path("tar", "ex"))
    tree_is_stored(emulator, tree, "tar/ex/")


def test_tar_over_last_archive_keeps_it_until_done(emulator, make_mount, tmp_path, tree):
    """tar -cf over yesterday's archive: while tar writes (names come from a
    pipe, so tar waits mid-archive), S3 and the mount still give yesterday's."""
    m = mount(make_mount, emulator, tmp_path)
    os.mkdir(m.path("tarover"))
    old = b"yesterday's archive\n" * 1000
    with open(m.path("tarover", "x.tar"), "wb") as f:
        f.write(old)
    emulator.reset_stats()
    p = subprocess.Popen(["tar", "-cf", m.path("tarover", "x.tar"), "-T", "-"], cwd=tree,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        p.stdin.write(b"big.bin\n")                   # 9 MiB: the first part goes up
        p.stdin.flush()
        assert wait_until(lambda: ops(emulator).get("UploadPart", 0) >= 1, timeout=60)
        assert stored(emulator, "tarover/x.tar") == old
        with open(m.path("tarover", "x.tar"), "rb") as f:
            assert f.read() == old
        out, _ = p.communicate(b"a.txt\nsub\n", timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=30)
    assert p.returncode == 0, out
    fetch(emulator, "tarover/x.tar", tmp_path / "x.tar")
    ok(run("tar -df '%s' big.bin a.txt sub" % (tmp_path / "x.tar"), cwd=tree))  # same data
    nothing_pending(emulator, "tarover/")


@need("cpio")
def test_cpio_o(emulator, make_mount, tmp_path, tree):
    m = mount(make_mount, emulator, tmp_path)
    os.mkdir(m.path("cpio"))
    ok(run("find . | sort | cpio -o -H newc --quiet > '%s'" % (tmp_path / "local.cpio"),
           cwd=tree))
    expect = (tmp_path / "local.cpio").read_bytes()
    # to a file given with -O, and through the shell's redirection
    ok(run("find . | sort | cpio -o -H newc --quiet -O '%s'" % m.path("cpio", "o.cpio"),
           cwd=tree))
    ok(run("find . | sort | cpio -o -H newc --quiet > '%s'" % m.path("cpio", "redir.cpio"),
           cwd=tree))
    for name in ("o.cpio", "redir.cpio"):
        file_is_stored(emulator, m, "cpio/" + name, expect)
    out = tmp_path / "out"
    out.mkdir()
    ok(run("cpio -idm --quiet < '%s'" % m.path("cpio", "o.cpio"), cwd=out))
    same_tree(tree, out)


@need("rsync")
def test_rsync_inplace_and_without(emulator, make_mount, tmp_path, tree):
    m = mount(make_mount, emulator, tmp_path, warnings=("rename of",))
    ok(run("rsync -r --inplace '%s/' '%s/'" % (tree, m.path("rs"))))
    same_tree(tree, m.path("rs"))
    tree_is_stored(emulator, tree, "rs/")
    # the next run sends a delta into the middle of the big file: an in-place
    # edit of a stored object (staged, then uploaded whole)
    with open(tree / "big.bin", "r+b") as f:
        f.seek(4 * MIB)
        f.write(b"changed since the last backup")
    # rsync skips a file whose size and mtime (to the second) match; the stored
    # copy shows its upload time, which may fall in the second of this edit
    os.utime(tree / "big.bin", (1e9, 1e9))
    (tree / "sub" / "new.txt").write_bytes(b"new file\n")
    ok(run("rsync -r --inplace '%s/' '%s/'" % (tree, m.path("rs"))))
    same_tree(tree, m.path("rs"))
    tree_is_stored(emulator, tree, "rs/")
    # without --inplace rsync writes .name.XXXXXX and renames it: refused with
    # EOPNOTSUPP, rsync deletes its temporary file, and nothing is left behind
    # (an empty file is left out here: its temporary copy can come back after
    # rsync removed it, test_write_crash.py's strict xfail about created files)
    os.unlink(tree / "empty")
    p = run("rsync -r '%s/' '%s/'" % (tree, m.path("rsn")))
    assert p.returncode == 23, p.stdout
    assert b"Operation not supported (95)" in p.stdout, p.stdout
    assert [k for k in all_keys(emulator, "rsn/") if not k.endswith("/")] == []
    nothing_pending(emulator, "rsn/")
    for d, _, names in os.walk(m.path("rsn")):
        assert names == [], (d, names)
    assert "for rsync: --inplace" in m.output()


@need("rsync")
def test_rsync_checksum_uploads_only_what_changed(emulator, make_mount, tmp_path, tree):
    """Stored files cannot keep the source's mtime, so rsync's quick check sees
    every file as changed and rewrites it whole (a local rsync sends whole
    files): each run would download and upload everything again. With -c rsync
    compares contents instead: an unchanged tree costs reads only."""
    m = mount(make_mount, emulator, tmp_path)
    ok(run("rsync -r --inplace '%s/' '%s/'" % (tree, m.path("rsc"))))
    emulator.reset_stats()
    ok(run("rsync -r --inplace -c '%s/' '%s/'" % (tree, m.path("rsc"))))
    o = ops(emulator)
    assert not {"PutObject", "CreateMultipartUpload", "UploadPart"} & set(o), o
    (tree / "a.txt").write_bytes(b"a new line\n")           # a new size: sent
    emulator.reset_stats()
    ok(run("rsync -r --inplace -c '%s/' '%s/'" % (tree, m.path("rsc"))))
    o = ops(emulator)
    assert o.get("PutObject") == 1 and "CreateMultipartUpload" not in o, o
    tree_is_stored(emulator, tree, "rsc/")


@need("rsync")
def test_rsync_inplace_update_needs_staging_room(emulator, make_mount, tmp_path, tree):
    """rsync --inplace updates a stored file by rewriting parts of it, which
    stages the whole object: past --max-staging-size the update fails with
    EFBIG ("File too large") and the stored copy is the previous one, whole."""
    m = mount(make_mount, emulator, tmp_path, args=["--max-staging-size", "4M"],
              warnings=("cannot stage it",))
    big = tree / "big.bin"
    ok(run("rsync -r --inplace '%s/' '%s/'" % (tree, m.path("rsl"))))   # new: streamed
    old = big.read_bytes()
    with open(big, "r+b") as f:
        f.seek(5 * MIB)
        f.write(b"edited")
    os.utime(big, (1e9, 1e9))
    for flags in ("--inplace", "--inplace --whole-file"):
        p = run("rsync -r %s '%s/' '%s/'" % (flags, tree, m.path("rsl")))
        assert p.returncode == 11 and b"File too large (27)" in p.stdout, (flags, p.stdout)
        file_is_stored(emulator, m, "rsl/big.bin", old)


def test_split_b(emulator, make_mount, tmp_path, tree):
    m = mount(make_mount, emulator, tmp_path)
    os.mkdir(m.path("split"))
    ok(run("split -b 4M '%s' '%s'" % (tree / "big.bin", m.path("split", "big.part."))))
    keys = all_keys(emulator, "split/big.part.")
    assert keys == ["split/big.part.aa", "split/big.part.ab", "split/big.part.ac"], keys
    big = (tree / "big.bin").read_bytes()
    assert b"".join(stored(emulator, k) for k in keys) == big
    ok(run("cat '%s'* | cmp - '%s'" % (m.path("split", "big.part."), tree / "big.bin")))
    nothing_pending(emulator, "split/")


@need("zstd")
def test_zstd_o(emulator, make_mount, tmp_path, tree):
    # zstd copies the source's mode and times after closing: refused (logged
    # once), which zstd ignores; from stdin there is nothing to copy
    m = mount(make_mount, emulator, tmp_path, warnings=SETATTR)
    os.mkdir(m.path("zstd"))
    ok(run("zstd -q -o '%s' '%s'" % (m.path("zstd", "big.zst"), tree / "big.bin")))
    ok(run("tar -cf - -C '%s' . | zstd -q -o '%s'" % (tree, m.path("zstd", "tree.tar.zst"))))
    fetch(emulator, "zstd/big.zst", tmp_path / "big.zst")
    ok(run("zstd -q -d -c '%s' | cmp - '%s'" % (tmp_path / "big.zst", tree / "big.bin")))
    fetch(emulator, "zstd/tree.tar.zst", tmp_path / "tree.tar.zst")
    (tmp_path / "out").mkdir()
    ok(run("zstd -q -d -c '%s' | tar -xf - -C '%s'" % (tmp_path / "tree.tar.zst",
                                                         tmp_path / "out")))
    same_tree(tree, tmp_path / "out")
    ok(run("zstd -q -d -c '%s' | cmp - '%s'" % (m.path("zstd", "big.zst"), tree / "big.bin")))
    nothing_pending(emulator, "zstd/")


def mount_matches_s3(emulator, m, prefix):
    """Every object under prefix reads the same through the mount; returns the count."""
    keys = [k for k in all_keys(emulator, prefix) if not k.endswith("/")]
    for k in keys:
        with open(m.path(k), "rb") as f:
            assert hashlib.md5(f.read()).digest() == hashlib.md5(stored(emulator, k)).digest(), k
    nothing_pending(emulator, prefix)
    return len(keys)


@need("restic")
@need("rclone")
def test_restic_through_rclone_backend(emulator, make_mount, tmp_path, tree):
    env = "RESTIC_PASSWORD=pw RCLONE_CONFIG=/dev/null "
    m = mount(make_mount, emulator, tmp_path, warnings=("rename of",))
    # restic's local backend writes <name>-tmp-<n> and renames it: refused, and
    # restic removes the temporary file, so only directory markers remain
    p = run(env + "restic --no-cache -r '%s' init" % m.path("restic-local"))
    assert p.returncode == 1 and b"rename" in p.stdout, p.stdout
    assert b"operation not supported" in p.stdout, p.stdout
    assert [k for k in all_keys(emulator, "restic-local/") if not k.endswith("/")] == []
    nothing_pending(emulator, "restic-local/")
    # through rclone's restic server every file is written in place once;
    # --local-no-set-modtime stops rclone setting times on the stored file
    repo = "--no-cache -r 'rclone:%s' -o rclone.args='serve restic --stdio " \
           "--local-no-set-modtime'" % m.path("restic")
    ok(run(env + "restic %s init" % repo))
    ok(run(env + "restic %s backup ." % repo, cwd=tree))
    (tree / "sub" / "later.txt").write_bytes(b"the second snapshot\n")
    ok(run(env + "restic %s backup ." % repo, cwd=tree))
    ok(run(env + "restic %s forget --keep-last 1 --prune" % repo))     # deletes objects
    ok(run(env + "restic %s check --read-data" % repo))
    ok(run(env + "restic %s restore latest --target '%s'" % (repo, tmp_path / "back")))
    same_tree(tree, tmp_path / "back")
    assert mount_matches_s3(emulator, m, "restic/") > 3


@need("duplicity")
def next_second():
    """duplicity names backup sets by whole seconds: two sets made in one second
    break its chain sorting (an AssertionError inside duplicity, on any
    filesystem). Waits (at most a second) for the clock's next second."""
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


def test_duplicity_file_url(emulator, make_mount, tmp_path, tree):
    # duplicity copies the mode of its signature file after writing it: refused
    # (logged once), which duplicity ignores
    m = mount(make_mount, emulator, tmp_path, warnings=SETATTR)
    url = "file://" + m.path("dup")
    common = "--no-encryption --archive-dir '%s' --name t" % (tmp_path / "dup-cache")
    ok(run("duplicity full %s '%s' '%s'" % (common, tree, url)))
    (tree / "a.txt").write_bytes(b"changed\n")
    # duplicity sees a change by mtime (whole seconds), not by size: an edit in
    # the second of the full backup would be missed, on any filesystem
    os.utime(tree / "a.txt", (1e9, 1e9))
    next_second()
    ok(run("duplicity incremental %s '%s' '%s'" % (common, tree, url)))
    ok(run("duplicity verify --compare-data %s '%s' '%s'" % (common, url, tree)))
    ok(run("duplicity restore %s '%s' '%s'" % (common, url, tmp_path / "back")))
    same_tree(tree, tmp_path / "back")
    before = mount_matches_s3(emulator, m, "dup/")
    # pruning: a second full chain, then the first one removed (DeleteObject)
    next_second()
    ok(run("duplicity full %s '%s' '%s'" % (common, tree, url)))
    ok(run("duplicity remove-all-but-n-full 1 --force %s '%s'" % (common, url)))
    after = mount_matches_s3(emulator, m, "dup/")
    assert after == 3 < before, (before, after)      # manifest, volume, signatures
    shutil.rmtree(tmp_path / "back")
    ok(run("duplicity restore %s '%s' '%s'" % (common, url, tmp_path / "back")))
    same_tree(tree, tmp_path / "back")


@need("rsync")
def test_backups_under_injected_faults(emulator, make_mount, tmp_path, tree):
    """10 % 503 SlowDown and 5 % cut connections on every request: the retries
    hide them, and the backups are still stored byte for byte."""
    m = mount(make_mount, emulator, tmp_path, warnings=FAILURE_LINES)
    emulator.reset_stats()
    emulator.faults(slowdown_rate=0.10, cut_rate=0.05, seed=4)
    try:
        os.mkdir(m.path("faulty"))
        ok(run("tar -cf '%s' -C '%s' ." % (m.path("faulty", "x.tar"), tree)))
        ok(run("rsync -r --inplace '%s/' '%s/'" % (tree, m.path("faulty", "rs"))))
        ok(run("dd if='%s' of='%s' bs=1M status=none" % (tree / "big.bin",
                                                       m.path("faulty", "big.dd"))))
        injected = emulator.stats()["faults"]
    finally:
        emulator.faults(slowdown_rate=0, cut_rate=0)
    assert sum(injected.values()) > 0, injected
    tree_is_stored(emulator, tree, "faulty/rs/")
    file_is_stored(emulator, m, "faulty/big.dd", (tree / "big.bin").read_bytes())
    fetch(emulator, "faulty/x.tar", tmp_path / "x.tar")
    (tmp_path / "out").mkdir()
    ok(run("tar -xf '%s' -C '%s'" % (tmp_path / "x.tar", tmp_path / "out")))
    same_tree(tree, tmp_path / "out")


# A backup tool must notice when its archive was not stored: S3 starts failing
# every request (500 InternalError) after the tool has opened its output and
# before it writes; the upload fails after its retries, write() or close()
# returns EIO, and the tool must exit non-zero. Commands read stdin (data, or
# the names of the files to archive) so the faults start at a known moment.
FAILING_UPLOAD = {
    "dd": ("dd of={dst} bs=1M status=none", "data"),
    "cat >": ("cat > {dst}", "data"),
    "tar -cf": ("tar -cf {dst} -T -", "names"),
    "cpio -O": ("cpio -o -H newc --quiet -O {dst}", "names"),
    "cpio >": ("cpio -o -H newc --quiet > {dst}", "names"),
    "zstd -o": ("zstd -q -o {dst}", "data"),
    "zstd -c >": ("zstd -q -c > {dst}", "data"),
}


def held_open(path):
    """Whether some process has path open (as root every /proc/PID/fd is readable)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == path:
                    return True
            except OSError:
                pass
    return False


def fail_after_open(emulator, m, tmp_path, tool, key):
    """Runs the tool onto key, makes S3 fail every request once the tool has
    opened its output, and returns (exit status, output)."""
    cmd, feed = FAILING_UPLOAD[tool]
    if shutil.which(cmd.split()[0]) is None:
        pytest.skip("%s not installed" % cmd.split()[0])
    if os.geteuid() != 0:
        pytest.skip("watching other processes' descriptors needs root")
    data = hashlib.sha256(tool.encode()).digest() * (3 * MIB // 32)
    (tmp_path / "three.bin").write_bytes(data)
    p = subprocess.Popen(cmd.format(dst="'%s'" % m.path(key)), shell=True, cwd=tmp_path,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, executable="/bin/bash")
    # zstd opens its output only once it has read some input; no request goes
    # to S3 before the close for a file under one part size
    first, rest = (data[:65536], data[65536:]) if feed == "data" else (b"", b"three.bin\n")
    try:
        p.stdin.write(first)
        p.stdin.flush()
        assert wait_until(lambda: held_open(m.path(key)), timeout=30), "never opened"
        emulator.faults(internal_error_rate=1.0)
        out, _ = p.communicate(rest, timeout=300)
    finally:
        emulator.faults(internal_error_rate=0)
        if p.poll() is None:
            p.kill()
            p.wait(timeout=30)
    return p.returncode, out


@pytest.mark.parametrize("tool", sorted(FAILING_UPLOAD))
def test_tool_reports_a_failed_upload(emulator, make_mount, tmp_path, tool):
    # zstd removes its output after a failure: that DeleteObject may meet the faults too
    m = mount(make_mount, emulator, tmp_path, warnings=FAILURE_LINES + ("cannot delete",))
    key = "fail/%s.out" % "".join(c if c.isalnum() else "_" for c in tool)
    os.makedirs(m.path("fail"), exist_ok=True)
    rc, out = fail_after_open(emulator, m, tmp_path, tool, key)
    assert rc != 0 and b"Input/output error" in out, (tool, out)
    # nothing is stored, not even the empty file that dd and shell redirections
    # had open (and closed a first descriptor of) before the faults began
    assert stored(emulator, key) is None, tool
    assert wait_until(lambda: uploads(emulator, key) == [], timeout=30), uploads(emulator, key)
    assert "InternalError" in m.output()


# (zstd -f -o is not here: after an error zstd deletes its output, old or new)
@pytest.mark.parametrize("tool", ["tar -cf", "cpio -O", "dd", "zstd -c >", "cat >"])
def test_failed_overwrite_keeps_the_last_backup(emulator, make_mount, tmp_path, tool):
    m = mount(make_mount, emulator, tmp_path, warnings=FAILURE_LINES + ("cannot delete",))
    key = "keep/%s.out" % "".join(c if c.isalnum() else "_" for c in tool)
    last = b"last night's backup of %s\n" % tool.encode()
    assert emulator.client().request("PUT", key, body=last).status == 200
    rc, out = fail_after_open(emulator, m, tmp_path, tool, key)
    assert rc != 0 and b"Input/output error" in out, (tool, out)
    assert stored(emulator, key) == last
    with open(m.path(key), "rb") as f:
        assert f.read() == last
