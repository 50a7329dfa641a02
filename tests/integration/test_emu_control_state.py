"""What S3 Control changes outlives the request: replication between an MRAP's
buckets (off by default, on with a lag per MRAP or for all), failover with and
without it, and the control state (MRAPs created and deleted, policies, route
dials, operations, even one still running) across an emulator restart."""
import json

import pytest

from conftest import Emulator
from control_util import (INSTANCES, PUBLIC, call, control, create_body, delete_body, describe,
                          control_emulator, mrap_arn, policy_body, routes_body, token_of,
                          wait_final)
from emu_util import error, wait_until, xml
from s3client import S3Client

ALIAS = "mfzwi23gnjvgw.mrap"
ROUTES = INSTANCES + "/" + mrap_arn(ALIAS) + "/routes"
CREATE = "v20180820/async-requests/mrap/create"


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    e = Emulator(tmp_path_factory.mktemp("emu-repl") / "data").start()
    yield e
    e.stop()


def on_disk(emu, bucket, key):
    """The admin view of one stored copy, or None."""
    try:
        return emu.admin("object?bucket=%s&key=%s" % (bucket, key))
    except Exception as e:  # noqa: BLE001 - urllib raises HTTPError for the 404
        if getattr(e, "code", None) == 404:
            return None
        raise


def fail_over_to(emu, region):
    r = call(control(emu), "PATCH", ROUTES,
             routes_body([(None, "us-east-1", 100 if region == "us-east-1" else 0),
                          (None, "eu-west-1", 100 if region == "eu-west-1" else 0)]))
    assert r.status == 200, r


def test_failover_without_replication(emu):
    snap = emu.admin("replication")
    assert snap["default_lag_s"] is None and snap["mraps"] == {"demo": None}
    fail_over_to(emu, "us-east-1")
    mrap = S3Client(emu.port)
    assert mrap.request("PUT", "r/off", body=b"written in us-east-1").status == 200
    assert on_disk(emu, "demo-us-east-1", "r/off")["size"] == 20
    fail_over_to(emu, "eu-west-1")
    assert error(mrap.request("GET", "r/off"))[:2] == (404, "NoSuchKey")
    assert on_disk(emu, "demo-eu-west-1", "r/off") is None
    assert emu.admin("replication")["pending"] == 0
    fail_over_to(emu, "us-east-1")


def test_failover_with_replication(emu):
    assert emu.admin("replication", {"mrap": "demo", "lag_s": 0.3})["mraps"]["demo"] == 0.3
    fail_over_to(emu, "us-east-1")
    mrap = S3Client(emu.port)
    body = bytes(range(256)) * 64
    assert mrap.request("PUT", "r/on", body=body,
                        headers={"x-amz-meta-origin": "east"}).status == 200
    assert wait_until(lambda: on_disk(emu, "demo-eu-west-1", "r/on"), timeout=20)
    replica = on_disk(emu, "demo-eu-west-1", "r/on")
    assert replica["replication_status"] == "REPLICA"
    assert replica["user_meta"] == {"origin": "east"}
    fail_over_to(emu, "eu-west-1")
    got = mrap.request("GET", "r/on")
    assert got.status == 200 and got.body == body and got.header("x-amz-meta-origin") == "east"
    # a delete through the other Region reaches the first one after the lag too
    assert mrap.request("DELETE", "r/on").status == 204
    assert wait_until(lambda: on_disk(emu, "demo-us-east-1", "r/on") is None, timeout=20)
    fail_over_to(emu, "us-east-1")
    assert error(mrap.request("GET", "r/on"))[:2] == (404, "NoSuchKey")


def test_replication_lag_is_observable(emu):
    emu.admin("replication", {"mrap": "demo", "lag_s": 120})
    mrap = S3Client(emu.port)
    assert mrap.request("PUT", "r/late", body=b"late").status == 200
    assert emu.admin("replication")["pending"] >= 1
    assert on_disk(emu, "demo-eu-west-1", "r/late") is None     # 120 s have not passed
    emu.admin("replication", {"mrap": "demo", "lag_s": None})
    assert emu.admin("replication")["mraps"]["demo"] is None


def test_replication_flag_covers_every_mrap(tmp_path):
    emu = Emulator(tmp_path / "data", ["--replication-lag", "0.2"]).start()
    try:
        snap = emu.admin("replication")
        assert snap["default_lag_s"] == 0.2 and snap["mraps"] == {"demo": 0.2}
        eu = S3Client(emu.port, mode="regional", region="eu-west-1")
        assert eu.request("PUT", "direct", bucket="demo-eu-west-1", body=b"eu").status == 200
        assert wait_until(lambda: on_disk(emu, "demo-us-east-1", "direct"), timeout=20)
        assert S3Client(emu.port).request("GET", "direct").body == b"eu"
    finally:
        emu.stop()


def test_control_state_survives_restart(tmp_path):
    emu = control_emulator(tmp_path, 0.2)
    try:
        c = control(emu)
        token = token_of(call(c, "POST", CREATE, create_body(
            "keep-me", ["ctl-us-west-2", "ctl-eu-west-1"], pab={"BlockPublicPolicy": False})))
        assert wait_final(c, token)[-1] == "SUCCEEDED"
        alias = xml(call(c, "GET", INSTANCES + "/keep-me")).find("AccessPoint/Alias").text
        put = token_of(call(c, "POST", "v20180820/async-requests/mrap/put-policy",
                            policy_body("keep-me", PUBLIC)))
        assert wait_final(c, put)[-1] == "SUCCEEDED"
        assert call(c, "PATCH", INSTANCES + "/" + mrap_arn(alias) + "/routes",
                    routes_body([("ctl-us-west-2", None, 0)])).status == 200
        emu.admin("replication", {"mrap": "keep-me", "lag_s": 0.5})
        gone = token_of(call(c, "POST", "v20180820/async-requests/mrap/delete",
                             delete_body("demo")))
        assert wait_final(c, gone)[-1] == "SUCCEEDED"
        emu.admin("control", {"delay_s": 3.0})
        pending = token_of(call(c, "POST", CREATE, create_body("pending-one", ["ctl-us-west-2"])))

        emu.restart()
        c = control(emu)
        assert xml(call(c, "GET", INSTANCES + "/pending-one")).find(
            "AccessPoint/Status").text in ("CREATING", "READY")
        assert wait_final(c, pending)[-1] == "SUCCEEDED"
        ap = xml(call(c, "GET", INSTANCES + "/keep-me")).find("AccessPoint")
        assert (ap.find("Status").text, ap.find("Alias").text) == ("READY", alias)
        assert ap.find("PublicAccessBlock/BlockPublicPolicy").text == "false"
        pol = xml(call(c, "GET", INSTANCES + "/keep-me/policy"))
        assert json.loads(pol.find("Policy/Established/Policy").text) == json.loads(PUBLIC)
        assert xml(call(c, "GET", INSTANCES + "/keep-me/policystatus")).find(
            "Established/IsPublic").text == "true"
        routes = xml(call(c, "GET", INSTANCES + "/" + mrap_arn(alias) + "/routes"))
        assert [r.find("TrafficDialPercentage").text for r in routes.iter("Route")] == ["0", "100"]
        assert emu.admin("replication")["mraps"]["keep-me"] == 0.5
        # the deleted default MRAP stays deleted, its old operation stays describable
        assert error(call(c, "GET", INSTANCES + "/demo"))[1] == "NoSuchMultiRegionAccessPoint"
        assert error(S3Client(emu.port, alias=ALIAS).request("GET", "k"))[:2] == \
            (404, "NoSuchAccessPoint")
        assert xml(describe(c, gone)).find("AsyncOperation/RequestStatus").text == "SUCCEEDED"
        names = [a.find("Name").text for a in xml(call(c, "GET", INSTANCES)).iter("AccessPoint")]
        assert names == ["keep-me", "pending-one"]
        assert S3Client(emu.port, alias=alias).request("PUT", "k", body=b"x").status == 200
        assert on_disk(emu, "ctl-eu-west-1", "k")["size"] == 1
    finally:
        emu.stop()
