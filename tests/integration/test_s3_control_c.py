"""The C S3 Control client (s3/control*.c) against the emulator's MRAP
operations, through build/tools/mrap_attrop: the asynchronous lifecycle
(create -> describe until SUCCEEDED -> get/list -> put-policy -> delete), list
paging, policy status, routes and their effect on the emulator's state, and
route-region failover when control regions answer 503.

What the tool reports is compared with the emulator's own view (admin
`state`), so a request that parses but did nothing fails here.
"""
import json

import pytest

from attrop_util import TOOL, built, fails, ok, tool
from conftest import Emulator
from emu_util import wait_until

ARN = "arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap"
ROUTE_REGIONS = ["us-west-2", "ap-southeast-2", "ap-northeast-1", "eu-west-1", "us-east-1"]

if not built():
    pytest.skip(f"{TOOL} is not built; set MRAP_BUILD_DIR", allow_module_level=True)


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    e = Emulator(tmp_path_factory.mktemp("ctl-emu")).start()
    yield e
    e.stop()


@pytest.fixture(autouse=True)
def clean_state(emu):
    emu.admin("routes", {"mrap": "demo", "dials": {"demo-us-east-1": 100, "demo-eu-west-1": 100}})
    emu.admin("control", {"unavailable_regions": [], "delay_s": 0.2})


def wait_done(emu, token):
    """Polls describe (bounded); returns the statuses seen, in order."""
    seen = []

    def done():
        status = ok(emu, "ctl-describe", token)["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        return status in ("SUCCEEDED", "FAILED")
    assert wait_until(done, timeout=30, step=0.1), seen
    return seen


def mrap_state(emu, name):
    for m in emu.admin("state")["mraps"]:
        if m["name"] == name:
            return m
    return None


def test_lifecycle(emu):
    token = ok(emu, "ctl-create", "attrs-life", "demo-us-east-1", "demo-eu-west-1")["token"]
    assert token.startswith("arn:aws:s3:us-west-2:111122223333:async-request/mrap/create/")
    op = ok(emu, "ctl-describe", token)
    assert op["operation"] == "CreateMultiRegionAccessPoint" and op["name"] == "attrs-life"
    seen = wait_done(emu, token)
    assert seen[-1] == "SUCCEEDED", seen
    got = ok(emu, "ctl-get", "attrs-life")
    state = mrap_state(emu, "attrs-life")
    assert got["status"] == "READY" and got["alias"] == state["alias"]
    assert [r["bucket"] for r in got["regions"]] == ["demo-us-east-1", "demo-eu-west-1"]
    assert got["pab_present"] and got["block_public_acls"]

    resource = "arn:aws:s3::111122223333:accesspoint/%s/object/*" % got["alias"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
         "Action": "s3:GetObject", "Resource": resource}]})
    token = ok(emu, "ctl-put-policy", "attrs-life", policy)["token"]
    assert wait_done(emu, token)[-1] == "SUCCEEDED"
    pol = ok(emu, "ctl-get-policy", "attrs-life")
    assert json.loads(pol["established"]) == json.loads(policy)
    assert ok(emu, "ctl-policy-status", "attrs-life")["is_public"] is False
    # The tool creates with every public access block on: a public policy fails.
    public = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": resource}]})
    token = ok(emu, "ctl-put-policy", "attrs-life", public)["token"]
    assert wait_done(emu, token)[-1] == "FAILED"
    assert ok(emu, "ctl-describe", token)["error_code"]
    assert json.loads(ok(emu, "ctl-get-policy", "attrs-life")["established"]) == \
        json.loads(policy)
    fails(emu, "EINVAL", "ctl-put-policy", "attrs-life", "not json")

    token = ok(emu, "ctl-delete", "attrs-life")["token"]
    assert wait_done(emu, token)[-1] == "SUCCEEDED"
    assert mrap_state(emu, "attrs-life") is None
    out = fails(emu, "ENOENT", "ctl-get", "attrs-life")
    assert out["code"] == "NoSuchMultiRegionAccessPoint"


def test_refusals(emu):
    fails(emu, "EINVAL", "ctl-create", "Bad_Name", "demo-us-east-1")       # local check
    fails(emu, "ENOENT", "ctl-describe", "arn:aws:s3:us-west-2:111122223333:async-request/"
                                         "mrap/create/0123456789abcdef")
    # A failed create is reported by the operation, not by the request.
    token = ok(emu, "ctl-create", "attrs-nobucket", "no-such-bucket-here")["token"]
    assert wait_done(emu, token)[-1] == "FAILED"
    assert ok(emu, "ctl-describe", token)["error_code"]


def test_list_paging(emu):
    names = ["attrs-page-%d" % i for i in range(3)]
    for n in names:
        wait_done(emu, ok(emu, "ctl-create", n, "demo-us-east-1")["token"])
    seen, token = [], None
    for _ in range(20):
        page = ok(emu, "ctl-list", "1", *([token] if token else []))
        assert len(page["items"]) <= 1
        seen += [i["name"] for i in page["items"]]
        token = page["next_token"]
        if not token:
            break
    assert token is None and set(names) <= set(seen) and "demo" in seen
    assert len(seen) == len(set(seen)) == len(emu.admin("state")["mraps"])
    for n in names:
        wait_done(emu, ok(emu, "ctl-delete", n)["token"])


def dials(emu):
    return {r["bucket"]: r["dial"] for r in mrap_state(emu, "demo")["regions"]}


def test_routes_and_failover(emu):
    r = ok(emu, "ctl-routes", ARN)
    assert r["served_by"] == "us-west-2" and r["mrap"] == ARN
    assert {x["bucket"]: x["dial"] for x in r["routes"]} == {"demo-us-east-1": 100,
                                                              "demo-eu-west-1": 100}
    # failover --to eu-west-1: one region 100, the other 0, by bucket and by region.
    ok(emu, "ctl-submit-routes", ARN, "b:demo-us-east-1=0", "r:eu-west-1=100")
    assert dials(emu) == {"demo-us-east-1": 0, "demo-eu-west-1": 100}
    # The library's failover helper: back to us-east-1 alone.
    ok(emu, "ctl-failover", ARN, "us-east-1")
    assert dials(emu) == {"demo-us-east-1": 100, "demo-eu-west-1": 0}
    fails(emu, "ENOENT", "ctl-failover", ARN, "ap-south-1")
    # The first three route regions down: the fourth answers.
    emu.admin("control", {"unavailable_regions": ROUTE_REGIONS[:3]})
    rc, out, err = tool(emu, "ctl-submit-routes", ARN, "b:demo-us-east-1=100", "b:demo-eu-west-1=0")
    assert rc == 0 and out["served_by"] == "eu-west-1", (out, err)
    for region, nxt in zip(ROUTE_REGIONS[:3], ROUTE_REGIONS[1:4]):
        assert "%s failed; trying %s" % (region, nxt) in err
    assert dials(emu) == {"demo-us-east-1": 100, "demo-eu-west-1": 0}
    assert ok(emu, "ctl-routes", ARN)["served_by"] == "eu-west-1"
    # All five down: the error, after trying each.
    emu.admin("control", {"unavailable_regions": ROUTE_REGIONS})
    out = fails(emu, "EIO", "ctl-routes", ARN)
    assert out["code"] == "ServiceUnavailable"
    # A refusal is an answer and is not retried elsewhere.
    emu.admin("control", {"unavailable_regions": []})
    rc, out, err = tool(emu, "ctl-submit-routes", ARN, "b:not-a-member=0")
    assert rc == 1 and out["error"] == "EINVAL" and "trying" not in err, (out, err)
    # Non-route operations are served by us-west-2 only: no failover for them.
    emu.admin("control", {"unavailable_regions": ["us-west-2"]})
    fails(emu, "EIO", "ctl-get", "demo")
