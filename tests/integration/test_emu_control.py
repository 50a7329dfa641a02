"""S3 Control's ten Multi-Region Access Point operations against the emulator,
signed by the AWS CRT (SigV4, service s3): shapes checked against botocore's
s3control model, the asynchronous NEW -> INPROGRESS -> SUCCEEDED/FAILED
progression, the errors (names, buckets, Regions, accounts, checksums), route
updates that flip the data plane at once, and accounting by operation name.
Replication and persistence are in test_emu_control_state.py; the AWS CLI in
test_emu_control_cli.py."""
import json
import os
import sys

import pytest

from control_util import (CONTROL_NS, INSTANCES, OTHER_ACCOUNT, OTHER_KEY, OTHER_SECRET, PUBLIC,
                          call, check_output, control, create_body, delete_body, describe,
                          control_emulator, mrap_arn, policy_body, routes_body, seed, token_of,
                          wait_final)
from emu_util import error, md5_b64, xml
from s3client import ACCOUNT, S3Client

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from mrapemu.control_ops import policy_is_public  # noqa: E402

PRIVATE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
     "Action": "s3:GetObject", "Resource": "*"}]})


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    e = control_emulator(tmp_path_factory.mktemp("emu-control"), 0.2)
    yield e
    e.stop()


@pytest.fixture
def c(emu):
    emu.admin("control", {"delay_s": 0.2, "unavailable_regions": []})
    return control(emu)


def create(c, name, buckets, **kw):
    return token_of(call(c, "POST", "v20180820/async-requests/mrap/create",
                         create_body(name, buckets, **kw)))


def created(c, name, buckets, **kw):
    token = create(c, name, buckets, **kw)
    assert wait_final(c, token)[-1] == "SUCCEEDED"
    return xml(call(c, "GET", INSTANCES + "/" + name)).find("AccessPoint/Alias").text


def op_error(c, token):
    """(status, ErrorDetails Code, Resource) of a finished operation."""
    wait_final(c, token)
    root = xml(describe(c, token))
    code = root.find("AsyncOperation/ResponseDetails/ErrorDetails/Code")
    res = root.find("AsyncOperation/ResponseDetails/ErrorDetails/Resource")
    return (root.find("AsyncOperation/RequestStatus").text,
            code.text if code is not None else None, res.text if res is not None else None)


# ---------------------------------------------------------------- operations

def test_create_get_list_shapes(c):
    token = create(c, "shapes-one", ["ctl-us-west-2", "ctl-ap-southeast-2"],
                   pab={"BlockPublicAcls": True, "BlockPublicPolicy": False})
    assert token.startswith("arn:aws:s3:us-west-2:%s:async-request/mrap/create/" % ACCOUNT)
    assert wait_final(c, token)[-1] == "SUCCEEDED"
    root = check_output("DescribeMultiRegionAccessPointOperation", describe(c, token))
    op = root.find("{%s}AsyncOperation" % CONTROL_NS)
    assert [e.tag.split("}")[1] for e in op] == [
        "CreationTime", "Operation", "RequestTokenARN", "RequestParameters", "RequestStatus",
        "ResponseDetails"]
    regions = xml(describe(c, token)).findall(".//MultiRegionAccessPointDetails/Regions/Region")
    assert sorted((r.find("Name").text, r.find("RequestStatus").text) for r in regions) == [
        ("ap-southeast-2", "COMPLETED"), ("us-west-2", "COMPLETED")]

    r = call(c, "GET", INSTANCES + "/shapes-one")
    check_output("GetMultiRegionAccessPoint", r)
    ap = xml(r).find("AccessPoint")
    alias = ap.find("Alias").text
    assert alias.endswith(".mrap") and len(alias) == 18 and alias[0] == "m"
    assert ap.find("Status").text == "READY"
    assert [(x.find("Bucket").text, x.find("Region").text, x.find("BucketAccountId").text)
            for x in ap.findall("Regions/Region")] == [("ctl-us-west-2", "us-west-2", ACCOUNT),
                                            ("ctl-ap-southeast-2", "ap-southeast-2", ACCOUNT)]
    pab = {e.tag: e.text for e in ap.find("PublicAccessBlock")}
    assert pab == {"BlockPublicAcls": "true", "IgnorePublicAcls": "false",
                   "BlockPublicPolicy": "false", "RestrictPublicBuckets": "false"}

    r = call(c, "GET", INSTANCES)
    check_output("ListMultiRegionAccessPoints", r)
    names = [a.find("Name").text for a in xml(r).iter("AccessPoint")]
    assert "demo" in names and "shapes-one" in names
    # the alias is stable per name: delete and create again gives the same one
    assert wait_final(c, token_of(call(c, "POST", "v20180820/async-requests/mrap/delete",
                                       delete_body("shapes-one"))))[-1] == "SUCCEEDED"
    assert created(c, "shapes-one", ["ctl-us-west-2"]) == alias


def test_list_pages(c):
    for i in range(3):
        created(c, "page-%d" % i, ["ctl-us-west-2"])
    names, token, pages = [], None, 0
    while True:
        q = {"maxResults": "2"}
        if token:
            q["nextToken"] = token
        root = xml(call(c, "GET", INSTANCES, query=q))
        names += [a.find("Name").text for a in root.iter("AccessPoint")]
        pages += 1
        nt = root.find("NextToken")
        if nt is None:
            break
        token = nt.text
        assert pages < 20
    assert len(names) == len(set(names)) and {"page-0", "page-1", "page-2"} <= set(names)
    assert pages >= 2
    assert error(call(c, "GET", INSTANCES, query={"nextToken": "!!"}))[:2] == \
        (400, "InvalidArgument")


def test_async_progression_and_data_plane(emu, c):
    emu.admin("control", {"delay_s": 3.0})
    seed(emu, "ctl-eu-west-1", "hello", b"from eu-west-1")
    token = create(c, "slow-one", ["ctl-eu-west-1"])
    ap = xml(call(c, "GET", INSTANCES + "/slow-one")).find("AccessPoint")
    assert ap.find("Status").text == "CREATING"
    alias = ap.find("Alias").text
    mrap = S3Client(emu.port, alias=alias)
    # not usable on the data plane until the operation succeeded
    assert error(mrap.request("GET", "hello"))[:2] == (404, "NoSuchAccessPoint")
    assert wait_final(c, token) == ["NEW", "INPROGRESS", "SUCCEEDED"]
    assert xml(call(c, "GET", INSTANCES + "/slow-one")).find("AccessPoint/Status").text == "READY"
    got = mrap.request("GET", "hello")
    assert got.status == 200 and got.body == b"from eu-west-1"

    token = token_of(call(c, "POST", "v20180820/async-requests/mrap/delete",
                          delete_body("slow-one")))
    status = xml(call(c, "GET", INSTANCES + "/slow-one")).find("AccessPoint/Status").text
    assert status == "DELETING"
    assert wait_final(c, token) == ["NEW", "INPROGRESS", "SUCCEEDED"]
    assert error(call(c, "GET", INSTANCES + "/slow-one"))[:2] == \
        (404, "NoSuchMultiRegionAccessPoint")
    assert error(mrap.request("GET", "hello"))[:2] == (404, "NoSuchAccessPoint")


def test_create_failures(c):
    assert op_error(c, create(c, "fail-bucket", ["ctl-us-west-2", "no-such-bucket-x"])) == \
        ("FAILED", "NoSuchBucket", "no-such-bucket-x")
    assert op_error(c, create(c, "fail-foreign", ["other-bucket"])) == \
        ("FAILED", "AccessDenied", "other-bucket")
    assert op_error(c, create(c, "fail-region", ["demo-eu-west-1", "ctl-eu-west-1"]))[:2] == \
        ("FAILED", "InvalidRequest")
    assert op_error(c, create(c, "demo", ["ctl-us-west-2"]))[:2] == \
        ("FAILED", "MultiRegionAccessPointAlreadyExists")
    for name in ("fail-bucket", "fail-foreign", "fail-region"):
        assert error(call(c, "GET", INSTANCES + "/" + name))[1] == "NoSuchMultiRegionAccessPoint"
    root = xml(describe(c, create(c, "fail-again", ["nope-nope"])))
    assert root.find("AsyncOperation/RequestParameters/CreateMultiRegionAccessPointRequest/"
                     "Regions/Region/Bucket").text == "nope-nope"


@pytest.mark.parametrize("name", ["ab", "a" * 51, "-abc", "abc-", "Upper", "a_b", "a.b"])
def test_bad_names(c, name):
    r = call(c, "POST", "v20180820/async-requests/mrap/create",
             create_body(name, ["ctl-us-west-2"]))
    assert error(r)[:2] == (400, "InvalidRequest")


def test_request_errors(c):
    path = "v20180820/async-requests/mrap/create"
    assert error(call(c, "POST", path, create_body("no-regions", [])))[:2] == \
        (400, "InvalidRequest")
    assert error(call(c, "POST", path, b"<Create/>"))[:2] == (400, "MalformedXML")
    body = create_body("no-md5", ["ctl-us-west-2"])
    assert error(call(c, "POST", path, body, checksum=False))[:2] == (400, "InvalidRequest")
    r = call(c, "POST", path, body, checksum=False, headers={"Content-MD5": md5_b64(b"x")})
    assert error(r)[:2] == (400, "BadDigest")
    assert error(call(c, "GET", "v20180820/async-requests/mrap/arn:aws:s3:us-west-2:%s:"
                      "async-request/mrap/create/0000" % ACCOUNT))[:2] == \
        (404, "NoSuchAsyncRequest")
    assert error(call(c, "GET", INSTANCES + "/no-such-mrap"))[:2] == \
        (404, "NoSuchMultiRegionAccessPoint")
    r = call(c, "POST", "v20180820/async-requests/mrap/put-policy", policy_body("demo", "{no"))
    assert error(r)[:2] == (400, "MalformedPolicy")
    assert error(call(c, "GET", "v20180820/accesspoint"))[:2] == (501, "NotImplemented")


def test_region_rules(emu, c):
    east = control(emu, region="us-east-1")
    status, code, f = error(call(east, "POST", "v20180820/async-requests/mrap/create",
                                 create_body("wrong-region", ["ctl-us-west-2"])))
    assert (status, code) == (301, "PermanentRedirect")
    assert f["Message"].startswith("This API operation is only available in the following "
                                   "Regions: us-west-2.")
    assert error(call(east, "GET", INSTANCES))[:2] == (301, "PermanentRedirect")
    routes = INSTANCES + "/" + mrap_arn("mfzwi23gnjvgw.mrap") + "/routes"
    for region in ("us-east-1", "us-west-2", "ap-southeast-2", "ap-northeast-1", "eu-west-1"):
        r = call(control(emu, region=region), "GET", routes)
        assert r.status == 200, (region, r)
    status, code, f = error(call(control(emu, region="us-east-2"), "GET", routes))
    assert (status, code) == (301, "PermanentRedirect") and "eu-west-1" in f["Message"]
    # the AWS host names the Region; the signature's scope must agree
    host = "%s.s3-control.us-west-2.amazonaws.com" % ACCOUNT
    assert call(control(emu, host=host), "GET", INSTANCES).status == 200
    bare = control(emu, host="s3-control.us-west-2.amazonaws.com")    # no account label
    assert call(bare, "GET", INSTANCES).status == 200
    status, code, f = error(call(control(emu, region="eu-west-1", host=host), "GET", INSTANCES))
    assert (status, code, f["Region"]) == (400, "AuthorizationHeaderMalformed", "us-west-2")
    # a Region made unavailable answers 503, so a client can try the next one
    emu.admin("control", {"unavailable_regions": ["eu-west-1"]})
    assert error(call(control(emu, region="eu-west-1"), "GET", routes))[:2] == \
        (503, "ServiceUnavailable")
    assert call(control(emu, region="us-east-1"), "GET", routes).status == 200


def test_account_rules(emu, c):
    assert error(call(c, "GET", INSTANCES, account=None))[:2] == (400, "InvalidRequest")
    assert error(call(c, "GET", INSTANCES, account="12345"))[:2] == (400, "InvalidRequest")
    other_host = control(emu, host="%s.localhost:%d" % (OTHER_ACCOUNT, emu.port))
    assert error(call(other_host, "GET", INSTANCES, account=OTHER_ACCOUNT))[:2] == \
        (403, "AccessDenied")
    assert error(call(c, "GET", INSTANCES, account=OTHER_ACCOUNT))[:2] == (400, "InvalidRequest")
    other = control(emu, account=OTHER_ACCOUNT, access_key=OTHER_KEY, secret_key=OTHER_SECRET)
    r = call(other, "GET", INSTANCES, account=OTHER_ACCOUNT)
    assert r.status == 200 and xml(r).find("AccessPoints/AccessPoint") is None
    assert error(call(other, "GET", INSTANCES + "/demo", account=OTHER_ACCOUNT))[1] == \
        "NoSuchMultiRegionAccessPoint"
    v4a = S3Client(emu.port, mode="mrap", host="%s.localhost:%d" % (ACCOUNT, emu.port))
    assert error(call(v4a, "GET", INSTANCES))[:2] == (400, "InvalidRequest")
    r = c.send_raw("GET", "/" + INSTANCES, [("Host", c.host), ("x-amz-account-id", ACCOUNT)])
    assert error(r)[:2] == (403, "AccessDenied")
    tampered = c.request("GET", INSTANCES, headers={"x-amz-account-id": ACCOUNT},
                         mutate=lambda t, h: (t + "?maxResults=1", h))
    assert error(tampered)[:2] == (403, "SignatureDoesNotMatch")


def test_policy_and_status(c):
    created(c, "pol-open", ["ctl-us-west-2"], pab={"BlockPublicPolicy": False})
    r = call(c, "GET", INSTANCES + "/pol-open/policy")
    check_output("GetMultiRegionAccessPointPolicy", r)
    assert list(xml(r).find("Policy")) == []
    r = call(c, "GET", INSTANCES + "/pol-open/policystatus")
    check_output("GetMultiRegionAccessPointPolicyStatus", r)
    assert xml(r).find("Established/IsPublic").text == "false"

    put = "v20180820/async-requests/mrap/put-policy"
    token = token_of(call(c, "POST", put, policy_body("pol-open", PUBLIC)))
    assert "/mrap/put-policy/" in token
    assert wait_final(c, token)[-1] == "SUCCEEDED"
    root = xml(call(c, "GET", INSTANCES + "/pol-open/policy"))
    assert root.find("Policy/Established/Policy").text == PUBLIC      # verbatim
    assert root.find("Policy/Proposed/Policy").text == PUBLIC
    assert xml(call(c, "GET", INSTANCES + "/pol-open/policystatus")).find(
        "Established/IsPublic").text == "true"
    check_output("DescribeMultiRegionAccessPointOperation", describe(c, token))

    # the default public access block refuses a public policy when it takes effect
    created(c, "pol-closed", ["ctl-us-west-2"])
    token = token_of(call(c, "POST", put, policy_body("pol-closed", PRIVATE)))
    assert wait_final(c, token)[-1] == "SUCCEEDED"
    token = token_of(call(c, "POST", put, policy_body("pol-closed", PUBLIC)))
    assert op_error(c, token)[:2] == ("FAILED", "AccessDenied")
    root = xml(call(c, "GET", INSTANCES + "/pol-closed/policy"))
    assert root.find("Policy/Established/Policy").text == PRIVATE
    assert xml(call(c, "GET", INSTANCES + "/pol-closed/policystatus")).find(
        "Established/IsPublic").text == "false"
    assert op_error(c, token_of(call(c, "POST", put, policy_body("pol-none", PRIVATE))))[:2] == \
        ("FAILED", "NoSuchMultiRegionAccessPoint")


def test_routes_submit_flips_data_plane(emu, c):
    seed(emu, "demo-us-east-1", "where", b"us-east-1")
    seed(emu, "demo-eu-west-1", "where", b"eu-west-1")
    emu.admin("routes", {"mrap": "demo", "active": ["demo-us-east-1", "demo-eu-west-1"]})
    mrap = S3Client(emu.port)
    assert mrap.request("GET", "where").body == b"us-east-1"
    path = INSTANCES + "/" + mrap_arn("mfzwi23gnjvgw.mrap") + "/routes"
    r = call(c, "GET", path)
    check_output("GetMultiRegionAccessPointRoutes", r)
    root = xml(r)
    assert root.find("Mrap").text == mrap_arn("mfzwi23gnjvgw.mrap")
    assert [(x.find("Bucket").text, x.find("Region").text, x.find("TrafficDialPercentage").text)
            for x in root.iter("Route")] == [("demo-us-east-1", "us-east-1", "100"),
                                             ("demo-eu-west-1", "eu-west-1", "100")]
    r = call(control(emu, region="eu-west-1"), "PATCH", path,
             routes_body([("demo-us-east-1", None, 0), (None, "eu-west-1", 100)]))
    assert r.status == 200, r
    assert mrap.request("GET", "where").body == b"eu-west-1"
    # one source of truth: the admin view and the admin route API agree with S3 Control
    dials = {x["bucket"]: x["dial"] for x in emu.admin("state")["mraps"][0]["regions"]}
    assert dials == {"demo-us-east-1": 0, "demo-eu-west-1": 100}
    emu.admin("routes", {"mrap": "demo", "active": ["demo-us-east-1"]})
    got = [x.find("TrafficDialPercentage").text for x in xml(call(c, "GET", path)).iter("Route")]
    assert got == ["100", "0"]
    assert mrap.request("GET", "where").body == b"us-east-1"
    emu.admin("routes", {"mrap": "demo", "active": ["demo-us-east-1", "demo-eu-west-1"]})


def test_routes_errors(emu, c):
    path = INSTANCES + "/" + mrap_arn("mfzwi23gnjvgw.mrap") + "/routes"
    for routes in ([("ctl-us-west-2", None, 0)], [(None, "us-west-2", 0)],
                   [("demo-us-east-1", "eu-west-1", 0)]):
        assert error(call(c, "PATCH", path, routes_body(routes)))[:2] == (400, "InvalidRequest")
    assert error(call(c, "PATCH", path, routes_body([("demo-us-east-1", None, 101)])))[:2] == \
        (400, "InvalidArgument")
    assert error(call(c, "PATCH", path, routes_body([])))[:2] == (400, "MalformedXML")
    assert error(call(c, "GET", INSTANCES + "/not-an-arn/routes"))[:2] == (400, "InvalidRequest")
    assert error(call(c, "GET", INSTANCES + "/" + mrap_arn("mzzzzzzzzzzzz.mrap") + "/routes")
                 )[:2] == (404, "NoSuchMultiRegionAccessPoint")
    alias = created(c, "one-region", ["ctl-us-west-2"])
    r = call(c, "PATCH", INSTANCES + "/" + mrap_arn(alias) + "/routes",
             routes_body([("ctl-us-west-2", None, 0)]))
    assert error(r)[:2] == (405, "MethodNotAllowed")
    dials = [x["regions"] for x in emu.admin("state")["mraps"] if x["name"] == "demo"][0]
    assert [d["dial"] for d in dials] == [100, 100]       # nothing changed


def test_client_token_is_idempotent(c):
    first = create(c, "idem-one", ["ctl-us-west-2"], token="tok-1")
    again = create(c, "idem-one", ["ctl-us-west-2"], token="tok-1")
    assert first == again and wait_final(c, first)[-1] == "SUCCEEDED"
    assert op_error(c, create(c, "idem-one", ["ctl-us-west-2"], token="tok-2"))[:2] == \
        ("FAILED", "MultiRegionAccessPointAlreadyExists")


def test_delete_unknown_and_busy(emu, c):
    delete = "v20180820/async-requests/mrap/delete"
    assert op_error(c, token_of(call(c, "POST", delete, delete_body("never-was")))) == \
        ("FAILED", "NoSuchMultiRegionAccessPoint", "never-was")
    emu.admin("control", {"delay_s": 2.0})
    token = create(c, "busy-one", ["ctl-us-west-2"])
    assert op_error(c, token_of(call(c, "POST", delete, delete_body("busy-one"))))[:2] == \
        ("FAILED", "OperationAborted")
    assert wait_final(c, token)[-1] == "SUCCEEDED"


def test_accounting_by_operation(emu, c):
    emu.reset_stats()
    created(c, "counted", ["ctl-us-west-2"])
    call(c, "GET", INSTANCES)
    call(c, "GET", INSTANCES + "/counted/policy")
    ops = emu.stats()["operations"]
    assert ops["CreateMultiRegionAccessPoint"] == 1
    assert ops["GetMultiRegionAccessPoint"] == 1
    assert ops["ListMultiRegionAccessPoints"] == 1
    assert ops["GetMultiRegionAccessPointPolicy"] == 1
    assert ops["DescribeMultiRegionAccessPointOperation"] >= 1


@pytest.mark.parametrize("statement, public", [
    ({"Effect": "Allow", "Principal": "*", "Action": "s3:*"}, True),
    ({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*"}, True),
    ({"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}}, True),
    ({"Effect": "Deny", "Principal": "*", "Action": "s3:*"}, False),
    ({"Effect": "Allow", "Principal": "*", "Condition": {"IpAddress": {}}}, False),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}}, False),
])
def test_is_public_rule(statement, public):
    """The documented rule (control_ops.policy_is_public), statement alone or in a list."""
    assert policy_is_public(json.dumps({"Statement": statement})) is public
    assert policy_is_public(json.dumps({"Statement": [statement]})) is public
    assert policy_is_public("not json") is False
