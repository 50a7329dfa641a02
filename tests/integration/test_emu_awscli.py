"""Debian's AWS CLI (/usr/bin/aws, botocore's SigV4 signer) against the
emulator's regional path-style endpoint: put, get, list, a 20 MiB multipart
copy, tagging, legal hold and retention, with bytes round-tripping exactly.

The CLI runs with an environment built from nothing: HOME and the config file
in a temporary directory, credentials in the environment, so nothing of this
machine's AWS set-up leaks in.  Every call has a timeout.
"""
import datetime
import hashlib
import json
import os
import subprocess

import pytest

from s3client import ACCESS_KEY, SECRET_KEY

AWS = "/usr/bin/aws"
BUCKET = "demo-us-east-1"
MIB = 1024 * 1024

pytestmark = pytest.mark.skipif(not os.access(AWS, os.X_OK),
                                reason="Debian's awscli (%s) is not installed" % AWS)


@pytest.fixture(scope="module")
def cli(emulator, tmp_path_factory):
    home = tmp_path_factory.mktemp("awshome")
    config = home / "config"
    # Path-style addressing: the emulator serves regional buckets at /<bucket>/<key>.
    config.write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
    }
    endpoint = "http://localhost:%d" % emulator.port

    def run(*args, check=True):
        proc = subprocess.run([AWS, "--endpoint-url", endpoint, "--no-cli-pager"] + list(args),
                              env=env, cwd=str(home), capture_output=True, timeout=60)
        if check:
            assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return proc

    def api(*args):
        out = run("s3api", *args, "--output", "json").stdout
        return json.loads(out) if out.strip() else None

    run.api = api
    run.home = home
    return run


def test_cp_put_and_get(cli):
    data = bytes(range(256)) * 41 + b"\x00end"
    src = cli.home / "small.bin"
    src.write_bytes(data)
    cli("s3", "cp", str(src), "s3://%s/cli/small file.bin" % BUCKET)
    dst = cli.home / "small.back"
    cli("s3", "cp", "s3://%s/cli/small file.bin" % BUCKET, str(dst))
    assert dst.read_bytes() == data


def test_ls_and_list_objects_v2(cli):
    src = cli.home / "list.txt"
    src.write_bytes(b"listed\n")
    for key in ("cli/list/a.txt", "cli/list/b.txt", "cli/list/sub/c.txt"):
        cli("s3", "cp", str(src), "s3://%s/%s" % (BUCKET, key))
    out = cli("s3", "ls", "s3://%s/cli/list/" % BUCKET).stdout.decode()
    names = sorted(line.split()[-1] for line in out.splitlines())
    assert names == ["a.txt", "b.txt", "sub/"], out
    listing = cli.api("list-objects-v2", "--bucket", BUCKET, "--prefix", "cli/list/")
    assert [o["Key"] for o in listing["Contents"]] == \
        ["cli/list/a.txt", "cli/list/b.txt", "cli/list/sub/c.txt"]
    assert all(o["Size"] == 7 for o in listing["Contents"])


def test_multipart_copy_20_mib(cli, emulator):
    data = os.urandom(20 * MIB)
    src = cli.home / "big.bin"
    src.write_bytes(data)
    before = emulator.stats()["operations"]
    cli("s3", "cp", str(src), "s3://%s/cli/big.bin" % BUCKET)
    head = cli.api("head-object", "--bucket", BUCKET, "--key", "cli/big.bin")
    assert head["ContentLength"] == len(data)
    # The CLI's default 8 MiB chunks: 8 + 8 + 4 MiB, so the ETag is md5-of-md5s "-3".
    chunks = [data[i:i + 8 * MIB] for i in range(0, len(data), 8 * MIB)]
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in chunks)).hexdigest()
    assert head["ETag"] == '"%s-3"' % digest
    after = emulator.stats()["operations"]
    assert after.get("CompleteMultipartUpload", 0) - \
        before.get("CompleteMultipartUpload", 0) == 1, after
    assert after.get("UploadPart", 0) - before.get("UploadPart", 0) == 3, after
    dst = cli.home / "big.back"
    cli("s3", "cp", "s3://%s/cli/big.bin" % BUCKET, str(dst))
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_object_tagging(cli):
    src = cli.home / "tagged.txt"
    src.write_bytes(b"tagged\n")
    cli("s3", "cp", str(src), "s3://%s/cli/tagged.txt" % BUCKET)
    cli.api("put-object-tagging", "--bucket", BUCKET, "--key", "cli/tagged.txt", "--tagging",
            json.dumps({"TagSet": [{"Key": "project", "Value": "mrapfs"},
                                   {"Key": "tier", "Value": "hot data"}]}))
    got = cli.api("get-object-tagging", "--bucket", BUCKET, "--key", "cli/tagged.txt")
    assert sorted((t["Key"], t["Value"]) for t in got["TagSet"]) == \
        [("project", "mrapfs"), ("tier", "hot data")]


def test_legal_hold(cli):
    src = cli.home / "held.txt"
    src.write_bytes(b"held\n")
    cli("s3", "cp", str(src), "s3://%s/cli/held.txt" % BUCKET)
    cli.api("put-object-legal-hold", "--bucket", BUCKET, "--key", "cli/held.txt",
            "--legal-hold", "Status=ON")
    got = cli.api("get-object-legal-hold", "--bucket", BUCKET, "--key", "cli/held.txt")
    assert got == {"LegalHold": {"Status": "ON"}}
    cli.api("put-object-legal-hold", "--bucket", BUCKET, "--key", "cli/held.txt",
            "--legal-hold", "Status=OFF")
    got = cli.api("get-object-legal-hold", "--bucket", BUCKET, "--key", "cli/held.txt")
    assert got == {"LegalHold": {"Status": "OFF"}}


def test_retention(cli):
    src = cli.home / "kept.txt"
    src.write_bytes(b"kept\n")
    cli("s3", "cp", str(src), "s3://%s/cli/kept.txt" % BUCKET)
    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)).replace(
        microsecond=0)
    cli.api("put-object-retention", "--bucket", BUCKET, "--key", "cli/kept.txt", "--retention",
            json.dumps({"Mode": "GOVERNANCE",
                        "RetainUntilDate": until.strftime("%Y-%m-%dT%H:%M:%SZ")}))
    got = cli.api("get-object-retention", "--bucket", BUCKET, "--key", "cli/kept.txt")
    assert got["Retention"]["Mode"] == "GOVERNANCE"
    when = datetime.datetime.fromisoformat(got["Retention"]["RetainUntilDate"].replace("Z", "+00:00"))
    assert when == until
