"""Debian's AWS CLI (`aws s3control ...`, botocore's own parser and SigV4 signer)
against the emulator's S3 Control endpoint: create, describe, get, list,
put-policy, get-policy, policy-status, routes, submit-routes and delete parse
the emulator's answers, which proves they match botocore's model.

The CLI sends S3 Control requests to `<account>.localhost:PORT` (the model's
`{AccountId}.` host prefix on top of --endpoint-url).  Python cannot resolve
that name, so the CLI is given the emulator as its HTTP proxy (HTTP_PROXY): it
then sends `GET http://111122223333.localhost:PORT/v20180820/... HTTP/1.1` to
127.0.0.1, which the emulator serves like any request.  Environment built from
nothing, as in test_emu_awscli.py; every call has a timeout.
"""
import json
import os
import subprocess
import time

import pytest

from control_util import PUBLIC, control_emulator, mrap_arn, seed
from s3client import ACCESS_KEY, ACCOUNT, SECRET_KEY, S3Client

AWS = "/usr/bin/aws"

pytestmark = pytest.mark.skipif(not os.access(AWS, os.X_OK),
                                reason="Debian's awscli (%s) is not installed" % AWS)


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    e = control_emulator(tmp_path_factory.mktemp("emu-ctl-cli"), 0.3)
    yield e
    e.stop()


@pytest.fixture(scope="module")
def cli(emu, tmp_path_factory):
    home = tmp_path_factory.mktemp("awshome")
    (home / "config").write_text("[default]\nregion = us-west-2\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "AWS_CONFIG_FILE": str(home / "config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
           "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": "", "AWS_MAX_ATTEMPTS": "1",
           "HTTP_PROXY": "http://127.0.0.1:%d" % emu.port}

    def run(*args, region="us-west-2", check=True):
        proc = subprocess.run([AWS, "s3control", "--endpoint-url",
                               "http://localhost:%d" % emu.port, "--region", region,
                               "--output", "json", "--no-cli-pager"] + list(args)
                              + ["--account-id", ACCOUNT],
                              env=env, cwd=str(home), capture_output=True, timeout=60)
        if check:
            assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
            out = proc.stdout.decode()
            return json.loads(out) if out.strip() else {}
        return proc
    return run


def wait_op(cli, token, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        op = cli("describe-multi-region-access-point-operation",
                 "--request-token-arn", token)["AsyncOperation"]
        if op["RequestStatus"] in ("SUCCEEDED", "FAILED") or time.monotonic() > deadline:
            return op
        time.sleep(0.2)


def test_lifecycle_through_the_cli(emu, cli):
    details = {"Name": "cli-one", "PublicAccessBlock": {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False},
        "Regions": [{"Bucket": "ctl-us-west-2"}, {"Bucket": "ctl-eu-west-1"}]}
    token = cli("create-multi-region-access-point", "--details",
                json.dumps(details))["RequestTokenARN"]
    op = wait_op(cli, token)
    assert (op["Operation"], op["RequestStatus"]) == ("CreateMultiRegionAccessPoint", "SUCCEEDED")
    assert op["RequestParameters"]["CreateMultiRegionAccessPointRequest"]["Name"] == "cli-one"
    assert sorted(r["Name"] for r in op["ResponseDetails"]["MultiRegionAccessPointDetails"][
        "Regions"]) == ["eu-west-1", "us-west-2"]

    ap = cli("get-multi-region-access-point", "--name", "cli-one")["AccessPoint"]
    assert ap["Status"] == "READY" and ap["Alias"].endswith(".mrap")
    assert ap["PublicAccessBlock"]["BlockPublicPolicy"] is False
    assert [(r["Bucket"], r["Region"]) for r in ap["Regions"]] == [
        ("ctl-us-west-2", "us-west-2"), ("ctl-eu-west-1", "eu-west-1")]
    listed = cli("list-multi-region-access-points")["AccessPoints"]
    assert {"demo", "cli-one"} <= {a["Name"] for a in listed}

    token = cli("put-multi-region-access-point-policy", "--details",
                json.dumps({"Name": "cli-one", "Policy": PUBLIC}))["RequestTokenARN"]
    assert wait_op(cli, token)["RequestStatus"] == "SUCCEEDED"
    pol = cli("get-multi-region-access-point-policy", "--name", "cli-one")["Policy"]
    assert pol["Established"]["Policy"] == PUBLIC
    status = cli("get-multi-region-access-point-policy-status", "--name", "cli-one")
    assert status == {"Established": {"IsPublic": True}}

    arn = mrap_arn(ap["Alias"])
    seed(emu, "ctl-us-west-2", "where", b"us-west-2")
    seed(emu, "ctl-eu-west-1", "where", b"eu-west-1")
    mrap = S3Client(emu.port, alias=ap["Alias"])
    assert mrap.request("GET", "where").body == b"us-west-2"
    routes = cli("get-multi-region-access-point-routes", "--mrap", arn, region="eu-west-1")
    assert routes["Mrap"] == arn
    assert [(r["Bucket"], r["Region"], r["TrafficDialPercentage"]) for r in routes["Routes"]] == \
        [("ctl-us-west-2", "us-west-2", 100), ("ctl-eu-west-1", "eu-west-1", 100)]
    cli("submit-multi-region-access-point-routes", "--mrap", arn, "--route-updates",
        "Bucket=ctl-us-west-2,TrafficDialPercentage=0",
        "Region=eu-west-1,TrafficDialPercentage=100", region="ap-northeast-1")
    assert mrap.request("GET", "where").body == b"eu-west-1"
    routes = cli("get-multi-region-access-point-routes", "--mrap", arn, region="us-east-1")
    assert [r["TrafficDialPercentage"] for r in routes["Routes"]] == [0, 100]

    token = cli("delete-multi-region-access-point", "--details",
                json.dumps({"Name": "cli-one"}))["RequestTokenARN"]
    op = wait_op(cli, token)
    assert (op["Operation"], op["RequestStatus"]) == ("DeleteMultiRegionAccessPoint", "SUCCEEDED")
    p = cli("get-multi-region-access-point", "--name", "cli-one", check=False)
    assert p.returncode != 0 and b"NoSuchMultiRegionAccessPoint" in p.stderr


def test_cli_sees_failures(cli):
    token = cli("create-multi-region-access-point", "--details", json.dumps(
        {"Name": "cli-bad", "Regions": [{"Bucket": "no-such-bucket-x"}]}))["RequestTokenARN"]
    op = wait_op(cli, token)
    assert op["RequestStatus"] == "FAILED"
    assert op["ResponseDetails"]["ErrorDetails"]["Code"] == "NoSuchBucket"
    assert op["ResponseDetails"]["ErrorDetails"]["Resource"] == "no-such-bucket-x"
    p = cli("list-multi-region-access-points", region="us-east-1", check=False)
    assert p.returncode != 0 and b"PermanentRedirect" in p.stderr
    p = cli("create-multi-region-access-point", "--details", json.dumps(
        {"Name": "Bad_Name", "Regions": [{"Bucket": "ctl-us-west-2"}]}), check=False)
    assert p.returncode != 0 and b"InvalidRequest" in p.stderr
