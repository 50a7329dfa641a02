"""Helpers for the S3 Control tests: a SigV4 (AWS CRT) client for the control
host, request bodies in botocore's shapes, and a checker that walks a reply
against the output shape of botocore's s3control model (the copy Debian's
awscli ships), so a member the model does not know, or a list member under the
wrong name, fails the test."""
import base64
import json
import os
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from conftest import Emulator
from emu_util import md5_b64, wait_until
from s3client import ACCOUNT, S3Client

CONTROL_NS = "http://awss3control.amazonaws.com/doc/2018-08-20/"
INSTANCES = "v20180820/mrap/instances"
OTHER_ACCOUNT = "444455556666"
OTHER_KEY, OTHER_SECRET = "AKIAOTHERACCOUNT0001", "otherSecretKey/0000000000000000000000000"
PUBLIC = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]})

MODEL = "/usr/lib/python3/dist-packages/awscli/botocore/data/s3control/2018-08-20/service-2.json"
# Members AWS added after the awscli on Debian 12 was released (documented in the
# S3 API reference: RegionReport and Region have BucketAccountId).
NEWER_MEMBERS = {"RegionReport": {"BucketAccountId": "AccountId"},
                 "Region": {"BucketAccountId": "AccountId"}}


def emulator_config(d):
    """A config file adding buckets in three more Regions and a second account."""
    cfg = d / "config.json"
    cfg.write_text(json.dumps({
        "credentials": [{"access_key": OTHER_KEY, "secret_key": OTHER_SECRET,
                         "account": OTHER_ACCOUNT}],
        "buckets": [{"name": "ctl-us-west-2", "region": "us-west-2"},
                    {"name": "ctl-ap-southeast-2", "region": "ap-southeast-2"},
                    {"name": "ctl-eu-west-1", "region": "eu-west-1"},
                    {"name": "other-bucket", "region": "us-east-1",
                     "account": OTHER_ACCOUNT}]}))
    return cfg


def control_emulator(d, delay_s):
    """A started emulator with emulator_config(d) and S3 Control's delay set."""
    return Emulator(d / "data", ["--config", str(emulator_config(d)),
                                 "--control-delay", str(delay_s)]).start()


def seed(emu, bucket, key, data):
    emu.admin("object", {"bucket": bucket, "key": key, "body": base64.b64encode(data).decode()})


def control(emu, region="us-west-2", account=ACCOUNT, host=None, **kw):
    """A SigV4 client whose Host is `<account>.localhost:PORT` (what the CLI sends)."""
    return S3Client(emu.port, mode="control", region=region,
                    host=host or "%s.localhost:%d" % (account, emu.port), **kw)


def call(c, method, path, body=b"", account=ACCOUNT, query=None, checksum=True, headers=None):
    """Signs and sends one control request; path without the leading '/'."""
    hs = {}
    if account is not None:
        hs["x-amz-account-id"] = account
    if checksum:
        hs["Content-MD5"] = md5_b64(body)
    hs.update(headers or {})
    return c.request(method, path, query=query, headers=hs, body=body)


def create_body(name, buckets, pab=None, token=None):
    regions = "".join("<Region><Bucket>%s</Bucket></Region>" % b for b in buckets)
    pab_xml = ""
    if pab is not None:
        pab_xml = "<PublicAccessBlock>%s</PublicAccessBlock>" % "".join(
            "<%s>%s</%s>" % (k, str(v).lower(), k) for k, v in pab.items())
    tok = "<ClientToken>%s</ClientToken>" % token if token else ""
    return ('<CreateMultiRegionAccessPointRequest xmlns="%s"><Details><Name>%s</Name>%s'
            '<Regions>%s</Regions></Details>%s</CreateMultiRegionAccessPointRequest>'
            % (CONTROL_NS, name, pab_xml, regions, tok)).encode()


def delete_body(name):
    return ('<DeleteMultiRegionAccessPointRequest xmlns="%s"><Details><Name>%s</Name></Details>'
            '</DeleteMultiRegionAccessPointRequest>' % (CONTROL_NS, name)).encode()


def policy_body(name, policy):
    return ('<PutMultiRegionAccessPointPolicyRequest xmlns="%s"><Details><Name>%s</Name>'
            '<Policy>%s</Policy></Details></PutMultiRegionAccessPointPolicyRequest>'
            % (CONTROL_NS, name, escape(policy))).encode()


def routes_body(routes):
    """routes: [(bucket or None, region or None, percent)]"""
    items = "".join("<Route>%s%s<TrafficDialPercentage>%s</TrafficDialPercentage></Route>"
                    % ("<Bucket>%s</Bucket>" % b if b else "",
                       "<Region>%s</Region>" % r if r else "", p) for b, r, p in routes)
    return ('<SubmitMultiRegionAccessPointRoutesRequest xmlns="%s"><RouteUpdates>%s'
            '</RouteUpdates></SubmitMultiRegionAccessPointRoutesRequest>'
            % (CONTROL_NS, items)).encode()


def mrap_arn(alias, account=ACCOUNT):
    return "arn:aws:s3::%s:accesspoint/%s" % (account, alias)


def token_of(resp):
    assert resp.status == 200, resp
    return ET.fromstring(resp.body).find("{%s}RequestTokenARN" % CONTROL_NS).text


def describe(c, token):
    r = call(c, "GET", "v20180820/async-requests/mrap/" + token)
    assert r.status == 200, r
    return r


def wait_final(c, token, timeout=20):
    """Polls DescribeMultiRegionAccessPointOperation; returns the statuses seen, in order."""
    seen = []

    def done():
        root = ET.fromstring(describe(c, token).body)
        status = root.find(".//{%s}RequestStatus" % CONTROL_NS).text
        if not seen or seen[-1] != status:
            seen.append(status)
        return status in ("SUCCEEDED", "FAILED")
    assert wait_until(done, timeout=timeout, step=0.05), seen
    return seen


# -- the model checker -------------------------------------------------------------

_model = None


def model():
    global _model
    if _model is None:
        with open(MODEL) as f:
            _model = json.load(f)
    return _model


def check_output(op, resp):
    """Asserts resp's document fits the output shape of `op`; returns the root."""
    root = ET.fromstring(resp.body)
    assert root.tag.startswith("{%s}" % CONTROL_NS), root.tag
    out = model()["operations"][op]["output"]["shape"]
    _check_struct(root, out, op)
    return root


def _local(tag):
    return tag.split("}", 1)[1] if "}" in tag else tag


def _members(shape_name):
    shape = model()["shapes"][shape_name]
    members = {m.get("locationName", n): m["shape"] for n, m in shape["members"].items()}
    members.update(NEWER_MEMBERS.get(shape_name, {}))
    return members


def _check_struct(elem, shape_name, where):
    members = _members(shape_name)
    for child in elem:
        name = _local(child.tag)
        assert name in members, "%s: <%s> is not a member of %s" % (where, name, shape_name)
        _check_value(child, members[name], "%s/%s" % (where, name))


def _check_value(elem, shape_name, where):
    shape = model()["shapes"][shape_name]
    kind = shape["type"]
    if kind == "structure":
        _check_struct(elem, shape_name, where)
    elif kind == "list":
        item = shape["member"]
        want = item.get("locationName", "member")
        for child in elem:
            assert _local(child.tag) == want, "%s: list item <%s>, model says <%s>" % (
                where, _local(child.tag), want)
            _check_value(child, item["shape"], where + "/" + want)
    else:
        assert len(elem) == 0, "%s: scalar with children" % where
        text = elem.text or ""
        if kind == "boolean":
            assert text in ("true", "false"), where
        elif kind == "integer":
            assert text.lstrip("-").isdigit(), where
        elif kind == "timestamp":
            assert len(text) >= 20 and text[10] == "T" and text.endswith("Z"), (where, text)
        elif "enum" in shape:
            assert text in shape["enum"], (where, text)


def model_available():
    return os.path.exists(MODEL)
