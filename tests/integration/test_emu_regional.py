"""The regional endpoint tools use (path-style and virtual-hosted buckets,
plain SigV4 for the bucket's region): ListBuckets, HeadBucket,
GetBucketLocation, ListObjects (v1), DeleteObjects, region and ownership
errors, bucket name validation."""
import json

import pytest

from conftest import Emulator
from emu_util import error, md5_b64, xml
from s3client import S3Client

OTHER_KEY, OTHER_SECRET = "AKIAOTHERACCOUNT0001", "otherSecretKey/0000000000000000000000000"


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    d = tmp_path_factory.mktemp("emu-regional")
    cfg = d / "config.json"
    cfg.write_text(json.dumps({
        "credentials": [{"access_key": OTHER_KEY, "secret_key": OTHER_SECRET,
                         "account": "444455556666"}],
        "buckets": [{"name": "other-bucket", "region": "us-west-2", "account": "444455556666"}]}))
    e = Emulator(d / "data", ["--config", str(cfg)]).start()
    yield e
    e.stop()


def regional(emu, region="us-east-1", **kw):
    return S3Client(emu.port, mode="regional", region=region, **kw)


def test_list_buckets_location_head(emu):
    c = regional(emu)
    root = xml(c.request("GET", None))
    assert root.tag == "ListAllMyBucketsResult"
    names = [(b.find("Name").text, b.find("BucketRegion").text) for b in root.iter("Bucket")]
    assert names == [("demo-eu-west-1", "eu-west-1"), ("demo-us-east-1", "us-east-1")]
    loc = xml(c.request("GET", "", bucket="demo-us-east-1", query=[("location", None)]))
    assert loc.tag == "LocationConstraint" and loc.text is None
    eu = regional(emu, "eu-west-1")
    loc = xml(eu.request("GET", "", bucket="demo-eu-west-1", query=[("location", None)]))
    assert loc.text == "eu-west-1"
    h = eu.request("HEAD", "", bucket="demo-eu-west-1")
    assert h.status == 200 and h.header("x-amz-bucket-region") == "eu-west-1"
    assert eu.request("HEAD", "", bucket="no-such-bucket").status == 404


def test_wrong_region_and_missing_bucket(emu):
    c = regional(emu)               # signs for us-east-1
    status, code, f = error(c.request("GET", "k", bucket="demo-eu-west-1"))
    assert (status, code, f["Region"]) == (400, "AuthorizationHeaderMalformed", "eu-west-1")
    h = c.request("HEAD", "k", bucket="demo-eu-west-1")
    assert h.status == 400 and h.header("x-amz-bucket-region") == "eu-west-1"
    status, code, f = error(c.request("GET", "k", bucket="nope-bucket"))
    assert (status, code, f["BucketName"]) == (404, "NoSuchBucket", "nope-bucket")
    assert error(c.request("GET", "k", bucket="Bad_Name"))[:2] == (400, "InvalidBucketName")


def test_other_account_denied(emu):
    other = regional(emu, "us-west-2", access_key=OTHER_KEY, secret_key=OTHER_SECRET)
    assert other.request("PUT", "k", bucket="other-bucket", body=b"x").status == 200
    denied = regional(emu, "us-east-1", access_key=OTHER_KEY, secret_key=OTHER_SECRET)
    assert error(denied.request("GET", "k", bucket="demo-us-east-1"))[:2] == (403, "AccessDenied")
    assert error(S3Client(emu.port, access_key=OTHER_KEY, secret_key=OTHER_SECRET)
                 .request("GET", "k"))[:2] == (403, "AccessDenied")
    root = xml(other.request("GET", None))
    assert [b.find("Name").text for b in root.iter("Bucket")] == ["other-bucket"]


def test_list_objects_v1_and_delete_objects(emu):
    c = regional(emu)
    b = "demo-us-east-1"
    keys = ["v1/%d" % i for i in range(5)] + ["v1/d/x"]
    for k in keys:
        assert c.request("PUT", k, bucket=b, body=b"x").status == 200
    root = xml(c.request("GET", "", bucket=b, query={"prefix": "v1/", "max-keys": "2"}))
    assert [e.find("Key").text for e in root.findall("Contents")] == ["v1/0", "v1/1"]
    assert root.find("IsTruncated").text == "true"
    assert root.find("Contents").find("Owner") is not None
    root = xml(c.request("GET", "", bucket=b, query={"prefix": "v1/", "marker": "v1/1",
                                                     "delimiter": "/"}))
    assert [e.find("Key").text for e in root.findall("Contents")] == ["v1/2", "v1/3", "v1/4"]
    assert [p.find("Prefix").text for p in root.iter("CommonPrefixes")] == ["v1/d/"]
    body = ("<Delete>%s</Delete>" % "".join("<Object><Key>%s</Key></Object>" % k
                                            for k in keys)).encode()
    assert error(c.request("POST", "", bucket=b, query=[("delete", None)], body=body))[:2] == \
        (400, "InvalidRequest")
    r = c.request("POST", "", bucket=b, query=[("delete", None)], body=body,
                  headers={"Content-MD5": md5_b64(body)})
    assert r.status == 200, r
    assert sorted(d.find("Key").text for d in xml(r).iter("Deleted")) == sorted(keys)
    root = xml(c.request("GET", "", bucket=b, query={"prefix": "v1/"}))
    assert root.findall("Contents") == []


def test_virtual_hosted(emu):
    c = S3Client(emu.port, mode="raw", region="eu-west-1",
                 host="demo-eu-west-1.localhost:%d" % emu.port)
    assert c.request("PUT", "vh/k", body=b"virtual").status == 200
    assert c.request("GET", "vh/k").body == b"virtual"
    path = regional(emu, "eu-west-1")
    assert path.request("GET", "vh/k", bucket="demo-eu-west-1").body == b"virtual"
