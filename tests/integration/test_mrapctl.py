"""mrapctl, the MRAP management command, against the emulator's S3 Control
endpoint (started with --control-delay 0.3 so asynchronous requests pass
through NEW and INPROGRESS).

Every subcommand in table and JSON form; --wait to SUCCEEDED, FAILED and
timeout with the documented exit codes; route changes seen by the data plane;
failover; route-region failover when regions are unavailable; configuration
and usage errors; presigned URLs used with curl; and the same operations
through Debian's AWS CLI, whose answers must agree with mrapctl's --json.

What mrapctl prints is checked against the emulator's own state (admin
`state`, data-plane GETs), so output that merely parses does not pass.
"""
import json
import os
import re
import subprocess
import time

import pytest

from conftest import BUILD
from control_util import PUBLIC, control_emulator, mrap_arn, seed
from emu_util import wait_until
from s3client import ACCESS_KEY, ACCOUNT, SECRET_KEY, S3Client
# The AWS CLI pointed at this module's emulator (`emu`), as test_emu_control_cli
# sets it up (HTTP_PROXY trick included).
from test_emu_control_cli import cli  # noqa: F401

MRAPCTL = os.path.join(BUILD, "mrapctl")
AWS = "/usr/bin/aws"
DEMO_ALIAS = "mfzwi23gnjvgw.mrap"
DEMO_ARN = mrap_arn(DEMO_ALIAS)
ROUTE_REGIONS = ["us-east-1", "us-west-2", "ap-southeast-2", "ap-northeast-1", "eu-west-1"]
PROGRESS = re.compile(r"^elapsed \d+\.\ds  status (NEW|INPROGRESS|SUCCEEDED|FAILED)$")

if not os.access(MRAPCTL, os.X_OK):
    pytest.skip("%s is not built; set MRAP_BUILD_DIR" % MRAPCTL, allow_module_level=True)


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    e = control_emulator(tmp_path_factory.mktemp("emu-mrapctl"), 0.3)
    yield e
    e.stop()


@pytest.fixture(autouse=True)
def clean(emu):
    emu.admin("control", {"unavailable_regions": [], "delay_s": 0.3})
    emu.admin("routes", {"mrap": "demo", "dials": {"demo-us-east-1": 100, "demo-eu-west-1": 100}})


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("ctlhome")


def base_env(home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"HOME": str(home), "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_SHARED_CREDENTIALS_FILE": str(home / "nonexistent-credentials"),
                "AWS_CONFIG_FILE": str(home / "nonexistent-config")})
    return env


@pytest.fixture
def ctl(emu, home):
    """ctl(*args, account=True, endpoint=True, env=None, rc=0) -> CompletedProcess
    (stdout/stderr decoded; the exit code checked unless rc is None)."""
    def run(*args, account=True, endpoint=True, env=None, rc=0, stdin=None, timeout=60):
        cmd = [MRAPCTL]
        if endpoint:
            cmd += ["--endpoint-url", "http://localhost:%d" % emu.port]
        if account:
            cmd += ["--account-id", ACCOUNT]
        e = base_env(home) if env is None else env
        p = subprocess.run(cmd + list(args), env=e, input=stdin, capture_output=True,
                           timeout=timeout, text=True)
        if rc is not None:
            assert p.returncode == rc, (args, p.returncode, p.stdout, p.stderr)
        return p
    run.endpoint = "http://localhost:%d" % emu.port
    run.env = base_env(home)
    return run


def js(p):
    return json.loads(p.stdout)


def one_error_line(p, *parts):
    lines = p.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("mrapctl: "), p.stderr
    for part in parts:
        assert part in lines[-1], (part, p.stderr)
    return lines[-1]


def mrap_state(emu, name):
    return next((m for m in emu.admin("state")["mraps"] if m["name"] == name), None)


def table_rows(text):
    return [line.split() for line in text.splitlines() if line.strip()]


def wait_described(ctl, token, timeout=30):
    seen = []

    def done():
        status = js(ctl("describe-operation", token, "--json"))["AsyncOperation"]["RequestStatus"]
        if not seen or seen[-1] != status:
            seen.append(status)
        return status in ("SUCCEEDED", "FAILED")
    assert wait_until(done, timeout=timeout, step=0.1), seen
    return seen


def where(emu, alias=DEMO_ALIAS):
    r = S3Client(emu.port, alias=alias).request("GET", "where")
    assert r.status == 200, r
    return r.body.decode()


# -- command line ----------------------------------------------------------------

def test_help_version_and_usage_errors(ctl):
    p = ctl("--help", account=False, endpoint=False)
    for word in ("create", "delete", "describe-operation", "get-policy", "put-policy",
                 "policy-status", "submit-routes", "failover", "presign", "Exit codes",
                 "--wait", "--timeout", "--json"):
        assert word in p.stdout, word
    assert re.search(r"^\s+4\s+--wait timed out", p.stdout, re.M)
    assert ctl("--version", account=False).stdout.startswith("mrapctl ")
    for args, words in [
            ((), "no command"), (("frobnicate",), "unknown command"),
            (("list", "--bogus"), "unknown option"), (("get",), "usage: mrapctl get NAME"),
            (("get", "a", "b"), "usage"), (("get", "--wait", "demo"), "--wait does not apply"),
            (("get", "Bad_Name"), "invalid MRAP name 'Bad_Name'"),
            (("create", "fine-name"), "--bucket"),
            (("create", "-bad-", "--bucket", "ctl-us-west-2"), "unknown option"),
            (("create", "--bucket", "ctl-us-west-2", "--", "-bad-"), "invalid MRAP name"),
            (("submit-routes", DEMO_ARN, "demo-us-east-1=101"), "PERCENT 0..100"),
            (("submit-routes", DEMO_ARN, "demo-us-east-1"), "BUCKET=PERCENT"),
            (("failover", DEMO_ARN), "--to REGION"),
            (("routes", DEMO_ARN, "--region", "mars-1"), "route operations are served in"),
            (("presign", DEMO_ALIAS, "k", "--expires", "604801"), "1..604800"),
            (("presign", DEMO_ALIAS, "k", "--method", "DELETE"), "GET, PUT or HEAD"),
            (("describe-operation", "not-a-token"), "not a request token ARN"),
            (("routes", "arn:aws:s3::1:accesspoint/x.mrap"), "is not an MRAP ARN"),
            (("list", "--timeout", "soon"), "--timeout"),
            (("list", "--page-size", "0"), "--page-size"),
            (("get", "demo", "--page-size", "5"), "--page-size does not apply"),
            (("presign", DEMO_ALIAS, "caf\udce9"), "not UTF-8"),
            (("routes", "arn:aws:s3::222233334444:accesspoint/" + DEMO_ALIAS), "does not match")]:
        p = ctl(*args, rc=2)
        assert words in p.stderr, (args, p.stderr)
        assert p.stdout == "", args


def test_configuration_errors(ctl, home):
    p = ctl("get", "demo", account=False, rc=3)
    one_error_line(p, "mrapctl: get: no account id", "--account-id")
    p = ctl("--account-id", "12345", "list", account=False, rc=3)
    one_error_line(p, "account id '12345' is not 12 digits")
    env = base_env(home)
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    p = ctl("list", env=env, rc=3)
    one_error_line(p, "mrapctl: credentials:")
    p = ctl("--endpoint-url", "notaurl", "list", endpoint=False, rc=3)
    one_error_line(p, "bad endpoint URL")
    # Credentials S3 rejects are a configuration error too; a missing permission is not.
    env = base_env(home)
    env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
    one_error_line(ctl("list", env=env, rc=3), "mrapctl: list: SignatureDoesNotMatch: ")
    env = base_env(home)
    env["AWS_ACCESS_KEY_ID"] = "AKIANOSUCHKEY0000000"
    one_error_line(ctl("list", env=env, rc=3), "mrapctl: list: InvalidAccessKeyId: ")
    # An unreachable endpoint is a remote failure, with the address in the message.
    p = ctl("--endpoint-url", "http://localhost:1", "list", endpoint=False, rc=1)
    one_error_line(p, "mrapctl: list: cannot reach http://%s.localhost:1" % ACCOUNT)
    # The account id comes from an ARN when --account-id is absent.
    assert js(ctl("routes", DEMO_ARN, "--json", account=False))["Mrap"] == DEMO_ARN


def test_wrong_account_is_refused_by_s3(ctl):
    p = ctl("--account-id", "999988887777", "get", "demo", account=False, rc=1)
    line = one_error_line(p, "mrapctl: get: ")
    assert re.search(r": \w+: .+ \(request id [0-9A-F]+\)$", line), line


# -- asynchronous operations -----------------------------------------------------------

def test_lifecycle_tables_and_json(emu, ctl, tmp_path):
    p = ctl("create", "ctl-life", "--bucket", "ctl-us-west-2", "--bucket", "ctl-eu-west-1",
            "--no-block-public-access")
    token = p.stdout.strip()
    assert re.fullmatch(r"arn:aws:s3:us-west-2:%s:async-request/mrap/create/\S+" % ACCOUNT, token)
    # The account comes from the token ARN.
    desc = js(ctl("describe-operation", token, "--json", account=False))["AsyncOperation"]
    assert desc["Operation"] == "CreateMultiRegionAccessPoint"
    assert desc["RequestTokenARN"] == token
    assert desc["RequestParameters"]["CreateMultiRegionAccessPointRequest"]["Name"] == "ctl-life"
    assert wait_described(ctl, token)[-1] == "SUCCEEDED"
    table = dict((r[0], r[1:]) for r in table_rows(ctl("describe-operation", token).stdout))
    assert table["Status"] == ["SUCCEEDED"] and table["us-west-2"] == ["COMPLETED"]

    state = mrap_state(emu, "ctl-life")
    ap = js(ctl("get", "ctl-life", "--json"))["AccessPoint"]
    assert ap["Alias"] == state["alias"] and ap["Status"] == "READY"
    assert ap["PublicAccessBlock"] == {"BlockPublicAcls": False, "IgnorePublicAcls": False,
                                       "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    assert [(r["Bucket"], r["Region"]) for r in ap["Regions"]] == [
        ("ctl-us-west-2", "us-west-2"), ("ctl-eu-west-1", "eu-west-1")]
    rows = table_rows(ctl("get", "ctl-life").stdout)
    assert ["Alias", state["alias"]] in rows
    assert ["ARN", mrap_arn(state["alias"])] in rows
    assert ["ctl-eu-west-1", "eu-west-1", ACCOUNT] in rows

    listed = js(ctl("list", "--json"))["AccessPoints"]
    assert {a["Name"]: a["Alias"] for a in listed} == {
        m["name"]: m["alias"] for m in emu.admin("state")["mraps"]}
    # One MRAP per request: every page is followed, in order, nothing twice.
    assert len(listed) >= 2
    assert [a["Name"] for a in js(ctl("list", "--page-size", "1", "--json"))["AccessPoints"]] \
        == [a["Name"] for a in listed]
    rows = table_rows(ctl("list", "--page-size=1").stdout)
    assert rows[0] == ["NAME", "ALIAS", "STATUS", "CREATED", "REGIONS"]
    assert [r[0] for r in rows[1:]] == [a["Name"] for a in listed]
    assert [r for r in rows if r[0] == "ctl-life"][0][4] == "us-west-2,eu-west-1"

    # A policy with quotes, newlines, a tab and non-ASCII text survives the
    # round trip through XML and mrapctl's JSON escaping byte for byte.
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "caf\u00e9\tquote\"back\\slash", "Effect": "Allow", "Principal": "*",
         "Action": "s3:GetObject", "Resource": "*"}]}, indent=2, ensure_ascii=False)
    (tmp_path / "policy.json").write_text(doc, encoding="utf-8")
    p = ctl("put-policy", "ctl-life", str(tmp_path / "policy.json"), "--wait", "--json")
    assert js(p)["AsyncOperation"]["RequestStatus"] == "SUCCEEDED"
    assert js(ctl("get-policy", "ctl-life", "--json"))["Policy"]["Established"]["Policy"] == doc
    assert "Established:\n" + doc in ctl("get-policy", "ctl-life").stdout
    assert js(ctl("policy-status", "ctl-life", "--json")) == {"Established": {"IsPublic": True}}
    assert ctl("policy-status", "ctl-life").stdout.split() == ["IsPublic", "true"]
    # From stdin too.
    p = ctl("put-policy", "ctl-life", "-", "--wait", stdin=PUBLIC)
    assert json.loads(js(ctl("get-policy", "ctl-life", "--json"))["Policy"]["Established"][
        "Policy"]) == json.loads(PUBLIC)

    p = ctl("delete", "ctl-life", "--wait")
    assert [PROGRESS.match(line).group(1) for line in p.stderr.splitlines()][-1] == "SUCCEEDED"
    assert mrap_state(emu, "ctl-life") is None
    p = ctl("get", "ctl-life", rc=1)
    one_error_line(p, "mrapctl: get: NoSuchMultiRegionAccessPoint: ", "(request id ")


def test_wait_progresses_to_succeeded(emu, ctl):
    p = ctl("create", "ctl-wait", "--bucket", "ctl-ap-southeast-2@ap-southeast-2",
            "--block-public-access", "--wait", "--json")
    statuses = [PROGRESS.match(line).group(1) for line in p.stderr.splitlines()]
    assert statuses[-1] == "SUCCEEDED" and len(statuses) == len(set(statuses)), p.stderr
    assert set(statuses) <= {"NEW", "INPROGRESS", "SUCCEEDED"}
    out = js(p)
    assert out["AsyncOperation"]["RequestStatus"] == "SUCCEEDED"
    assert out["AccessPoint"]["Alias"] == mrap_state(emu, "ctl-wait")["alias"]
    assert out["AccessPoint"]["PublicAccessBlock"]["BlockPublicPolicy"] is True
    assert "warning" not in p.stderr  # the bucket is where --bucket said
    # A policy that is public is refused under the public access block: FAILED.
    p = ctl("put-policy", "ctl-wait", "-", "--wait", stdin=PUBLIC, rc=1)
    one_error_line(p, "mrapctl: put-policy: PutMultiRegionAccessPointPolicy FAILED: AccessDenied")
    p = ctl("delete", "ctl-wait", "--wait")
    assert "DeleteMultiRegionAccessPoint" in p.stdout and "SUCCEEDED" in p.stdout


def test_wait_to_failed(emu, ctl):
    p = ctl("create", "ctl-fail", "--bucket", "no-such-bucket-x", "--wait", rc=1)
    assert [PROGRESS.match(x).group(1) for x in p.stderr.splitlines()[:-1]][-1] == "FAILED"
    one_error_line(p, "mrapctl: create: CreateMultiRegionAccessPoint FAILED: NoSuchBucket: ",
                   "no-such-bucket-x", "(request id ")
    assert "Error" in p.stdout and "NoSuchBucket" in p.stdout
    p = ctl("create", "ctl-fail", "--bucket", "no-such-bucket-x", "--wait", "--json", rc=1)
    err = js(p)["AsyncOperation"]["ResponseDetails"]["ErrorDetails"]
    assert err["Code"] == "NoSuchBucket" and err["Resource"] == "no-such-bucket-x"
    assert mrap_state(emu, "ctl-fail") is None


def test_wait_timeout(emu, ctl):
    emu.admin("control", {"delay_s": 60})
    p = ctl("create", "ctl-slow", "--bucket", "ctl-us-west-2", "--wait", "--timeout", "1", rc=4)
    line = one_error_line(p, "mrapctl: create: gave up after 1s", "describe-operation arn:")
    token = line.rsplit(" ", 1)[1]
    assert js(ctl("describe-operation", token, "--json"))["AsyncOperation"][
        "RequestStatus"] in ("NEW", "INPROGRESS")


def test_async_without_wait_prints_the_token_json(ctl):
    p = ctl("delete", "no-such-mrap", "--json")
    token = js(p)["RequestTokenARN"]
    assert "/mrap/delete/" in token
    assert wait_described(ctl, token)[-1] == "FAILED"


# -- routes ------------------------------------------------------------------------

def test_submit_routes_changes_the_data_plane(emu, ctl):
    seed(emu, "demo-us-east-1", "where", b"us-east-1")
    seed(emu, "demo-eu-west-1", "where", b"eu-west-1")
    out = js(ctl("submit-routes", "demo", "demo-us-east-1=100", "eu-west-1=0", "--json"))
    assert out["Mrap"] == DEMO_ARN and out["ServedBy"] == "us-east-1"
    assert [(r["Bucket"], r["TrafficDialPercentage"]) for r in out["Routes"]] == [
        ("demo-us-east-1", 100), ("demo-eu-west-1", 0)]
    assert where(emu) == "us-east-1"
    p = ctl("submit-routes", DEMO_ALIAS, "region:us-east-1=0", "bucket:demo-eu-west-1=100")
    rows = table_rows(p.stdout)
    assert ["demo-us-east-1", "us-east-1", "0"] in rows
    assert ["demo-eu-west-1", "eu-west-1", "100"] in rows
    assert where(emu) == "eu-west-1"
    assert {r["bucket"]: r["dial"] for r in mrap_state(emu, "demo")["regions"]} == {
        "demo-us-east-1": 0, "demo-eu-west-1": 100}
    rows = table_rows(ctl("routes", "demo").stdout)
    assert rows[0] == ["Mrap", DEMO_ARN] and rows[1] == ["ServedBy", "us-east-1"]
    assert rows[2] == ["BUCKET", "REGION", "PERCENT"]
    # A bucket the MRAP does not have is S3's error, in one line.
    p = ctl("submit-routes", "demo", "ctl-us-west-2=50", rc=1)
    one_error_line(p, "mrapctl: submit-routes: ")


def test_failover(emu, ctl):
    seed(emu, "demo-us-east-1", "where", b"us-east-1")
    seed(emu, "demo-eu-west-1", "where", b"eu-west-1")
    out = js(ctl("failover", DEMO_ARN, "--to", "eu-west-1", "--json", account=False))
    assert {r["Region"]: r["TrafficDialPercentage"] for r in out["Routes"]} == {
        "us-east-1": 0, "eu-west-1": 100}
    assert where(emu) == "eu-west-1"
    ctl("failover", "demo", "--to", "us-east-1")
    assert where(emu) == "us-east-1"
    assert {r["bucket"]: r["dial"] for r in mrap_state(emu, "demo")["regions"]} == {
        "demo-us-east-1": 100, "demo-eu-west-1": 0}
    p = ctl("failover", "demo", "--to", "ap-south-1", rc=1)
    one_error_line(p, "has no bucket in ap-south-1", "nothing was changed")
    assert where(emu) == "us-east-1"


def test_route_regions_fail_over(emu, ctl):
    emu.admin("control", {"unavailable_regions": ["us-east-1", "us-west-2"]})
    assert js(ctl("routes", DEMO_ARN, "--json"))["ServedBy"] == "ap-southeast-2"
    assert js(ctl("routes", DEMO_ARN, "--region", "eu-west-1", "--json"))["ServedBy"] == \
        "eu-west-1"
    out = js(ctl("submit-routes", DEMO_ARN, "demo-us-east-1=0", "--json"))
    assert out["ServedBy"] == "ap-southeast-2"
    assert {r["bucket"]: r["dial"] for r in mrap_state(emu, "demo")["regions"]}[
        "demo-us-east-1"] == 0
    # A name needs GetMultiRegionAccessPoint, served only in us-west-2.
    p = ctl("routes", "demo", rc=1)
    one_error_line(p, "mrapctl: routes: ServiceUnavailable")
    emu.admin("control", {"unavailable_regions": ROUTE_REGIONS})
    p = ctl("routes", DEMO_ARN, rc=1)
    one_error_line(p, "mrapctl: routes: ServiceUnavailable: ", "(request id ")
    assert p.stdout == ""


# -- presigned URLs ------------------------------------------------------------------

def curl(*args):
    p = subprocess.run(["curl", "-sS", "--max-time", "30", "-w", "\n%{http_code}"] + list(args),
                       capture_output=True, timeout=60)
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code), body


def test_presign_with_curl(emu, ctl, tmp_path):
    seed(emu, "demo-us-east-1", "pre/hello.txt", b"hello, presigned")
    seed(emu, "demo-eu-west-1", "pre/hello.txt", b"hello, presigned")
    url = ctl("presign", DEMO_ALIAS, "pre/hello.txt", account=False).stdout.strip()
    assert url.startswith("http://%s.localhost:%d/pre/hello.txt?" % (DEMO_ALIAS, emu.port))
    assert "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256" in url and "X-Amz-Region-Set=%2A" in url
    assert "X-Amz-Expires=3600" in url
    assert curl(url) == (200, b"hello, presigned")
    # An altered URL (another key under the same signature) is refused.
    assert curl(url.replace("hello.txt", "hellO.txt"))[0] == 403

    src = tmp_path / "up.bin"
    src.write_bytes(b"put through a presigned URL\n" * 100)
    out = js(ctl("presign", DEMO_ARN, "pre/up.bin", "--method", "PUT", "--expires", "300",
                 "--json", account=False))
    assert out["Method"] == "PUT" and out["ExpiresIn"] == 300 and out["Key"] == "pre/up.bin"
    assert curl("-T", str(src), out["URL"])[0] == 200
    got = S3Client(emu.port).request("GET", "pre/up.bin")
    assert got.status == 200 and got.body == src.read_bytes()

    # By name (one GetMultiRegionAccessPoint to learn the alias).
    url = ctl("presign", "demo", "pre/hello.txt").stdout.strip()
    assert curl(url) == (200, b"hello, presigned")

    url = ctl("presign", DEMO_ALIAS, "pre/hello.txt", "--expires", "1").stdout.strip()
    time.sleep(2.5)
    code, body = curl(url)
    assert code == 403 and b"expired" in body


# -- the AWS CLI sees the same -------------------------------------------------------

def same_time(a, b):
    norm = lambda s: s.replace("+00:00", "Z").split(".")[0].rstrip("Z")  # noqa: E731
    return norm(a) == norm(b)


def same_report(cli_ap, ctl_ap):
    assert same_time(cli_ap.pop("CreatedAt"), ctl_ap.pop("CreatedAt"))
    for r in cli_ap["Regions"] + ctl_ap["Regions"]:
        r.pop("BucketAccountId", None)  # newer than Debian's botocore model
    assert cli_ap == ctl_ap


@pytest.mark.skipif(not os.access(AWS, os.X_OK), reason="Debian's awscli is not installed")
def test_aws_cli_agrees(emu, ctl, cli):  # noqa: F811
    # Created by the CLI, waited for and read by mrapctl.
    token = cli("create-multi-region-access-point", "--details", json.dumps(
        {"Name": "cli-made", "Regions": [{"Bucket": "ctl-us-west-2"},
                                         {"Bucket": "ctl-eu-west-1"}]}))["RequestTokenARN"]
    assert wait_described(ctl, token)[-1] == "SUCCEEDED"
    op_cli = cli("describe-multi-region-access-point-operation",
                 "--request-token-arn", token)["AsyncOperation"]
    op_ctl = js(ctl("describe-operation", token, "--json"))["AsyncOperation"]
    for k in ("Operation", "RequestTokenARN", "RequestStatus", "ResponseDetails"):
        assert op_cli[k] == op_ctl[k], k
    assert same_time(op_cli["CreationTime"], op_ctl["CreationTime"])

    # Created by mrapctl, read by the CLI.
    ctl("create", "ctl-made", "--bucket", "ctl-ap-southeast-2", "--bucket", "ctl-us-west-2",
        "--wait")
    for name in ("cli-made", "ctl-made"):
        same_report(cli("get-multi-region-access-point", "--name", name)["AccessPoint"],
                    js(ctl("get", name, "--json"))["AccessPoint"])
    listed_cli = sorted(cli("list-multi-region-access-points")["AccessPoints"],
                        key=lambda a: a["Name"])
    listed_ctl = sorted(js(ctl("list", "--json"))["AccessPoints"], key=lambda a: a["Name"])
    assert [a["Name"] for a in listed_cli] == [a["Name"] for a in listed_ctl]
    for a, b in zip(listed_cli, listed_ctl):
        same_report(a, b)

    alias = js(ctl("get", "ctl-made", "--json"))["AccessPoint"]["Alias"]
    ctl("submit-routes", "ctl-made", "ctl-us-west-2=0")
    for region in ("us-east-1", "eu-west-1"):
        routes_cli = cli("get-multi-region-access-point-routes", "--mrap", mrap_arn(alias),
                         region=region)
        routes_ctl = js(ctl("routes", mrap_arn(alias), "--region", region, "--json"))
        assert routes_ctl.pop("ServedBy") == region
        assert routes_cli == routes_ctl
    assert [r["TrafficDialPercentage"] for r in routes_cli["Routes"]] == [100, 0]

    pol = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "*"}]})
    cli("put-multi-region-access-point-policy", "--details",
        json.dumps({"Name": "cli-made", "Policy": pol}))
    wait_until(lambda: "Established" in js(ctl("get-policy", "cli-made", "--json"))["Policy"],
               timeout=30, step=0.1)
    assert cli("get-multi-region-access-point-policy", "--name", "cli-made") == \
        js(ctl("get-policy", "cli-made", "--json"))
    assert cli("get-multi-region-access-point-policy-status", "--name", "cli-made") == \
        js(ctl("policy-status", "cli-made", "--json"))
    for name in ("cli-made", "ctl-made"):
        ctl("delete", name, "--wait")


# -- where settings come from --------------------------------------------------------

def test_profile_and_endpoint_from_the_environment(emu, ctl, home, tmp_path):
    creds = tmp_path / "credentials"
    creds.write_text("[ctlprof]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                     % (ACCESS_KEY, SECRET_KEY))
    creds.chmod(0o600)
    env = base_env(home)
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(creds)
    assert "demo" in [a["Name"] for a in js(ctl("--profile", "ctlprof", "list", "--json",
                                                env=env))["AccessPoints"]]
    p = ctl("--profile", "nosuchprofile", "list", env=env, rc=3)
    one_error_line(p, "mrapctl: credentials:")

    env = base_env(home)
    env["AWS_ENDPOINT_URL_S3_CONTROL"] = "http://localhost:%d" % emu.port
    env["AWS_ENDPOINT_URL"] = "http://localhost:1"  # the more specific variable wins
    assert js(ctl("get", "demo", "--json", endpoint=False, env=env))["AccessPoint"][
        "Alias"] == DEMO_ALIAS
    env = base_env(home)
    env["AWS_ENDPOINT_URL"] = "http://localhost:%d" % emu.port
    seed(emu, "demo-us-east-1", "env.txt", b"from env")
    seed(emu, "demo-eu-west-1", "env.txt", b"from env")
    url = ctl("presign", DEMO_ALIAS, "env.txt", endpoint=False, env=env).stdout.strip()
    assert curl(url) == (200, b"from env")


def test_progress_is_rewritten_in_place_on_a_terminal(ctl):
    """--wait with stderr on a terminal: one line redrawn (CR, erase line) per
    poll, ended by a newline; the final status is the last one drawn."""
    import pty
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([MRAPCTL, "--endpoint-url", ctl.endpoint, "--account-id", ACCOUNT,
                              "create", "ctl-tty", "--bucket", "ctl-us-west-2", "--wait"],
                             env=ctl.env, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = None
        seen = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            seen += chunk
        out, _ = p.communicate(timeout=60)
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    assert p.returncode == 0, seen
    draws = seen.decode().split("\r\x1b[K")[1:]
    assert draws and all(PROGRESS.match(d.strip()) for d in draws), seen
    assert draws[-1].strip().endswith("status SUCCEEDED") and draws[-1].endswith("\n")
    assert b"Name  " in out or b"ctl-tty" in out
    ctl("delete", "ctl-tty", "--wait")


def test_bucket_region_check_and_other_account(emu, ctl):
    """--bucket B@REGION is checked against where S3 says B is (a warning, the
    MRAP exists either way); --bucket B@ACCOUNT names a bucket another account
    owns (BucketAccountId), and S3 refuses it when that account does not own it."""
    p = ctl("create", "ctl-xacct", "--bucket", "ctl-us-west-2@eu-west-1",
            "--bucket", "other-bucket@444455556666", "--wait", "--json")
    assert "warning: bucket ctl-us-west-2 is in us-west-2, not eu-west-1" in p.stderr
    regions = js(p)["AccessPoint"]["Regions"]
    assert {r["Bucket"]: r.get("BucketAccountId") for r in regions} == {
        "ctl-us-west-2": ACCOUNT, "other-bucket": "444455556666"}
    ctl("delete", "ctl-xacct", "--wait")
    p = ctl("create", "ctl-xacct2", "--bucket", "other-bucket@%s" % ACCOUNT, "--wait", rc=1)
    one_error_line(p, "CreateMultiRegionAccessPoint FAILED")


def test_output_that_cannot_be_written_is_a_failure(ctl):
    with open("/dev/full", "w") as full:
        p = subprocess.run([MRAPCTL, "--endpoint-url", ctl.endpoint, "--account-id", ACCOUNT,
                            "list", "--json"], env=ctl.env, stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=60)
    assert p.returncode == 1
    one_error_line(p, "mrapctl: list: cannot write the output")


def test_failover_while_a_file_is_read_through_the_mount(emu, ctl, make_mount):
    """`mrapctl failover --to eu-west-1` in the middle of reading a file through
    mrapfs: the read completes with the right bytes. Before the failover all
    traffic goes to us-west-2; right after it the us-west-2 copy is deleted,
    so every block fetched from then on must have come from eu-west-1."""
    alias = js(ctl("create", "ctl-fo", "--bucket", "ctl-us-west-2", "--bucket",
                   "ctl-eu-west-1", "--wait", "--json"))["AccessPoint"]["Alias"]
    data = os.urandom(32 << 20)
    for bucket, region in (("ctl-us-west-2", "us-west-2"), ("ctl-eu-west-1", "eu-west-1")):
        r = S3Client(emu.port, mode="regional", region=region).request(
            "PUT", "big.bin", bucket=bucket, body=data)
        assert r.status == 200, r
    ctl("submit-routes", "ctl-fo", "ctl-us-west-2=100", "ctl-eu-west-1=0")
    m = make_mount(emu, alias=alias)
    try:
        with open(m.path("big.bin"), "rb") as f:
            head = f.read(1 << 20)
            assert head == data[:1 << 20]
            out = js(ctl("failover", "ctl-fo", "--to", "eu-west-1", "--json"))
            assert {r["Bucket"]: r["TrafficDialPercentage"] for r in out["Routes"]} == {
                "ctl-us-west-2": 0, "ctl-eu-west-1": 100}
            r = S3Client(emu.port, mode="regional", region="us-west-2").request(
                "DELETE", "big.bin", bucket="ctl-us-west-2")
            assert r.status == 204, r
            rest = f.read()
        assert head + rest == data
    finally:
        m.stop()
        ctl("delete", "ctl-fo", "--wait")
