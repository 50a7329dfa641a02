"""Semantics of the emulator's data-plane operations, through the MRAP with
CRT-signed SigV4A requests (and the regional endpoint where a bucket without
Object Lock is needed): headers, ranges, conditional GETs, listings, multipart
rules, tagging limits, ACLs, Object Lock, restore, checksums, refusals."""
import base64
import datetime
import email.utils
import hashlib
import json
import re

import pytest

from conftest import Emulator
from emu_util import MIB, crc32c_b64, error, md5_b64, raw_exchange, request_head, wait_until, xml
from s3client import ALIAS, S3Client

PLAIN = "plain-bucket"     # a bucket without Object Lock (from the config below)


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    d = tmp_path_factory.mktemp("emu-ops")
    cfg = d / "config.json"
    cfg.write_text(json.dumps({"buckets": [{"name": PLAIN, "region": "us-west-2",
                                            "object_lock": False}]}))
    e = Emulator(d / "data", ["--config", str(cfg), "--restore-delay", "1"]).start()
    yield e
    e.stop()


@pytest.fixture
def c(emu):
    return emu.client()


@pytest.fixture
def plain(emu):
    return S3Client(emu.port, mode="regional", region="us-west-2")


def put(c, key, body=b"data", headers=None, **kw):
    r = c.request("PUT", key, body=body, headers=headers, **kw)
    assert r.status == 200, r
    return r


def future(days=1):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


# -- GetObject / HeadObject / PutObject / DeleteObject ----------------------------------

def test_put_get_head_headers(c):
    body = b"hello emulator\n" * 100
    r = put(c, "ops/h.txt", body, {"Content-Type": "text/plain", "x-amz-meta-color": "blue",
                                   "x-amz-tagging": "a=1&b=2", "Cache-Control": "no-cache"})
    etag = '"%s"' % hashlib.md5(body).hexdigest()
    assert r.header("etag") == etag
    g = c.request("GET", "ops/h.txt")
    assert g.status == 200 and g.body == body
    assert g.header("etag") == etag
    assert g.header("content-type") == "text/plain"
    assert g.header("content-length") == str(len(body))
    assert g.header("accept-ranges") == "bytes"
    assert g.header("x-amz-meta-color") == "blue"
    assert g.header("cache-control") == "no-cache"
    assert g.header("x-amz-tagging-count") == "2"
    assert g.header("x-amz-storage-class") is None
    assert re.match(r"^[0-9A-F]{16}$", g.header("x-amz-request-id"))
    assert g.header("x-amz-id-2")
    assert email.utils.parsedate_to_datetime(g.header("last-modified")).tzinfo is not None
    assert g.header("last-modified").endswith(" GMT")
    h = c.request("HEAD", "ops/h.txt")
    assert h.status == 200 and h.body == b""
    assert h.header("content-length") == str(len(body))
    assert h.header("x-amz-tagging-count") is None      # GetObject only, as in S3
    assert h.header("etag") == etag


def test_storage_class_and_default_content_type(c):
    put(c, "ops/ia.bin", b"x", {"x-amz-storage-class": "STANDARD_IA"})
    h = c.request("HEAD", "ops/ia.bin")
    assert h.header("x-amz-storage-class") == "STANDARD_IA"
    assert h.header("content-type") == "binary/octet-stream"
    bad = c.request("PUT", "ops/bad-sc", body=b"x", headers={"x-amz-storage-class": "COLD"})
    assert error(bad)[:2] == (400, "InvalidStorageClass")


def test_missing_key_and_delete(c):
    r = c.request("GET", "ops/missing")
    status, code, f = error(r)
    assert (status, code, f["Key"]) == (404, "NoSuchKey", "ops/missing")
    assert f["Message"] == "The specified key does not exist."
    assert f["RequestId"] == r.header("x-amz-request-id")
    h = c.request("HEAD", "ops/missing")
    assert h.status == 404 and h.body == b""
    assert c.request("DELETE", "ops/missing").status == 204
    put(c, "ops/del", b"x")
    assert c.request("DELETE", "ops/del").status == 204
    assert c.request("HEAD", "ops/del").status == 404


@pytest.mark.parametrize("spec,status,expect", [
    ("bytes=0-3", 206, (0, 3)), ("bytes=5-", 206, (5, 9)), ("bytes=-3", 206, (7, 9)),
    ("bytes=8-100", 206, (8, 9)), ("bytes=-100", 206, (0, 9)), ("bytes=10-", 416, None),
    ("bytes=3-1", 200, None), ("junk", 200, None)])
def test_ranges(c, spec, status, expect):
    body = b"0123456789"
    put(c, "ops/range", body)
    r = c.request("GET", "ops/range", headers={"Range": spec})
    assert r.status == status, r
    if status == 206:
        a, b = expect
        assert r.body == body[a:b + 1]
        assert r.header("content-range") == "bytes %d-%d/10" % (a, b)
        assert r.header("content-length") == str(b - a + 1)
    elif status == 416:
        _, code, f = error(r)
        assert code == "InvalidRange" and f["ActualObjectSize"] == "10"
        assert r.header("content-range") == "bytes */10"
    else:
        assert r.body == body


def test_conditional_get(c):
    r = put(c, "ops/cond", b"abc")
    etag = r.header("etag")
    assert c.request("GET", "ops/cond", headers={"If-Match": etag}).status == 200
    bad = c.request("GET", "ops/cond", headers={"If-Match": '"0000"'})
    assert error(bad)[:2] == (412, "PreconditionFailed")
    nm = c.request("GET", "ops/cond", headers={"If-None-Match": etag})
    assert nm.status == 304 and nm.body == b"" and nm.header("etag") == etag
    assert c.request("GET", "ops/cond", headers={"If-None-Match": '"0000"'}).status == 200
    lm = c.request("HEAD", "ops/cond").header("last-modified")
    assert c.request("GET", "ops/cond", headers={"If-Modified-Since": lm}).status == 304
    assert c.request("HEAD", "ops/cond", headers={"If-Match": '"0"'}).status == 412


def test_conditional_put_if_none_match(c):
    put(c, "ops/once", b"1", {"If-None-Match": "*"})
    r = c.request("PUT", "ops/once", body=b"2", headers={"If-None-Match": "*"})
    assert error(r)[:2] == (412, "PreconditionFailed")
    assert c.request("GET", "ops/once").body == b"1"


# -- ListObjectsV2 ----------------------------------------------------------------------

def listing(c, **q):
    q["list-type"] = "2"
    r = c.request("GET", "", query=q)
    assert r.status == 200, r
    root = xml(r)
    keys = [e.find("Key").text for e in root.findall("Contents")]
    cps = [e.find("Prefix").text for e in root.findall("CommonPrefixes")]
    return root, keys, cps


def seed(emu, bucket, keys, **extra):
    for k in keys:
        doc = {"bucket": bucket, "key": k, "body": base64.b64encode(k.encode()).decode()}
        doc.update(extra)
        emu.admin("object", doc)


def test_list_delimiter_prefix(emu, c):
    seed(emu, "demo-us-east-1", ["ls/a.txt", "ls/b/1", "ls/b/2", "ls/c/x/y", "ls/d.txt"])
    root, keys, cps = listing(c, prefix="ls/", delimiter="/")
    assert keys == ["ls/a.txt", "ls/d.txt"]
    assert cps == ["ls/b/", "ls/c/"]
    assert root.find("KeyCount").text == "4"
    assert root.find("IsTruncated").text == "false"
    assert root.find("Prefix").text == "ls/" and root.find("Delimiter").text == "/"
    assert root.find("Name").text == "demo-us-east-1"
    c0 = root.find("Contents")
    assert c0.find("ETag").text.startswith('"') and c0.find("Size").text == "8"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", c0.find("LastModified").text)
    assert c0.find("StorageClass").text == "STANDARD"
    assert c0.find("Owner") is None


def test_list_pagination_start_after_fetch_owner(emu, c):
    keys = ["pg/%03d" % i for i in range(25)]
    seed(emu, "demo-us-east-1", keys)
    got, token, pages = [], None, 0
    while pages < 20:
        q = {"prefix": "pg/", "max-keys": "10"}
        if token:
            q["continuation-token"] = token
        root, page, _ = listing(c, **q)
        pages += 1
        got += page
        assert root.find("MaxKeys").text == "10"
        if root.find("IsTruncated").text == "false":
            assert root.find("NextContinuationToken") is None
            break
        token = root.find("NextContinuationToken").text
        assert "pg/" not in token          # opaque
    assert got == keys and pages == 3
    _, page, _ = listing(c, prefix="pg/", **{"start-after": "pg/020"})
    assert page == keys[21:]
    root, _, _ = listing(c, prefix="pg/", **{"fetch-owner": "true", "max-keys": "1"})
    assert len(root.find("Contents").find("Owner").find("ID").text) == 64
    bad = c.request("GET", "", query={"list-type": "2", "continuation-token": "bogus"})
    assert error(bad)[:2] == (400, "InvalidArgument")
    bad = c.request("GET", "", query={"list-type": "2", "max-keys": "x"})
    assert error(bad)[:2] == (400, "InvalidArgument")


def test_list_max_keys_cap(emu, c):
    seed(emu, "demo-us-east-1", ["cap/%04d" % i for i in range(1003)])
    root, keys, _ = listing(c, prefix="cap/", **{"max-keys": "5000"})
    assert len(keys) == 1000 and root.find("MaxKeys").text == "1000"
    assert root.find("IsTruncated").text == "true"
    _, default_keys, _ = listing(c, prefix="cap/")
    assert len(default_keys) == 1000


def test_list_encoding_type_url(emu, c):
    seed(emu, "demo-us-east-1", ["enc/a b+c%d", "enc/ü/x"])
    root, keys, cps = listing(c, prefix="enc/", delimiter="/", **{"encoding-type": "url"})
    assert root.find("EncodingType").text == "url"
    assert keys == ["enc/a+b%2Bc%25d"]
    assert cps == ["enc/%C3%BC/"]
    assert root.find("Prefix").text == "enc/"
    bad = c.request("GET", "", query={"list-type": "2", "encoding-type": "xml"})
    assert error(bad)[:2] == (400, "InvalidArgument")


# -- multipart ----------------------------------------------------------------------------

def create(c, key, headers=None):
    r = c.request("POST", key, query=[("uploads", None)], headers=headers)
    assert r.status == 200, r
    root = xml(r)
    assert root.tag == "InitiateMultipartUploadResult" and root.find("Key").text == key
    return root.find("UploadId").text


def upload(c, key, uid, n, data, headers=None):
    r = c.request("PUT", key, query=[("partNumber", str(n)), ("uploadId", uid)], body=data,
                  headers=headers)
    assert r.status == 200, r
    return r.header("etag")


def complete_body(parts, extra=None):
    out = "<CompleteMultipartUpload>"
    for n, etag in parts:
        out += "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag>%s</Part>" % (
            n, etag, (extra or {}).get(n, ""))
    return (out + "</CompleteMultipartUpload>").encode()


def complete(c, key, uid, parts, extra=None):
    return c.request("POST", key, query=[("uploadId", uid)], body=complete_body(parts, extra))


def test_multipart_flow_and_etag(emu, c):
    key = "mp/obj.bin"
    uid = create(c, key, {"Content-Type": "video/mp4", "x-amz-meta-k": "v"})
    datas = [b"\x01" * (5 * MIB), b"\x02" * (5 * MIB), b"tail"]
    etags = [upload(c, key, uid, n, d) for n, d in enumerate(datas, 1)]
    lp = xml(c.request("GET", key, query=[("uploadId", uid)]))
    assert [p.find("PartNumber").text for p in lp.findall("Part")] == ["1", "2", "3"]
    assert [p.find("Size").text for p in lp.findall("Part")] == [str(5 * MIB)] * 2 + ["4"]
    lp2 = xml(c.request("GET", key, query=[("uploadId", uid), ("max-parts", "2")]))
    assert lp2.find("IsTruncated").text == "true"
    assert lp2.find("NextPartNumberMarker").text == "2"
    r = complete(c, key, uid, list(zip((1, 2, 3), etags)))
    assert r.status == 200, r
    want = hashlib.md5(b"".join(hashlib.md5(d).digest() for d in datas)).hexdigest() + "-3"
    root = xml(r)
    assert root.tag == "CompleteMultipartUploadResult"
    assert root.find("ETag").text == '"%s"' % want
    g = c.request("GET", key)
    assert g.body == b"".join(datas) and g.header("etag") == '"%s"' % want
    assert g.header("content-type") == "video/mp4" and g.header("x-amz-meta-k") == "v"
    assert error(c.request("GET", key, query=[("uploadId", uid)]))[:2] == (404, "NoSuchUpload")
    assert emu.admin("uploads")["uploads"] == []


def test_multipart_rules(emu, c):
    key = "mp/rules.bin"
    uid = create(c, key)
    e1 = upload(c, key, uid, 1, b"a" * 100)
    e2 = upload(c, key, uid, 2, b"b" * 100)
    status, code, f = error(complete(c, key, uid, [(1, e1), (2, e2)]))
    assert (status, code, f["MinSizeAllowed"]) == (400, "EntityTooSmall", str(5 * MIB))
    status, code, _ = error(complete(c, key, uid, [(2, e2), (1, e1)]))
    assert (status, code) == (400, "InvalidPartOrder")
    status, code, _ = error(complete(c, key, uid, [(1, '"%s"' % ("0" * 32))]))
    assert (status, code) == (400, "InvalidPart")
    status, code, _ = error(complete(c, key, uid, [(1, e1), (7, e2)]))
    assert (status, code) == (400, "InvalidPart")
    bad = c.request("PUT", key, query=[("partNumber", "10001"), ("uploadId", uid)], body=b"x")
    assert error(bad)[:2] == (400, "InvalidArgument")
    assert c.request("HEAD", key).status == 404          # nothing completed
    assert c.request("DELETE", key, query=[("uploadId", uid)]).status == 204
    assert error(c.request("DELETE", key, query=[("uploadId", uid)]))[:2] == (404, "NoSuchUpload")
    assert error(c.request("PUT", key, query=[("partNumber", "1"), ("uploadId", uid)],
                           body=b"x"))[:2] == (404, "NoSuchUpload")
    assert error(complete(c, key, uid, [(1, e1)]))[:2] == (404, "NoSuchUpload")
    # a single small part is fine: the last part has no minimum
    uid = create(c, key)
    e1 = upload(c, key, uid, 1, b"only")
    assert complete(c, key, uid, [(1, e1)]).status == 200
    assert c.request("GET", key).body == b"only"


def test_multipart_part_checksums(c):
    key = "mp/crc.bin"
    uid = create(c, key, {"x-amz-checksum-algorithm": "CRC32C"})
    d1, d2 = b"x" * (5 * MIB), b"yz"
    e1 = upload(c, key, uid, 1, d1, {"x-amz-checksum-crc32c": crc32c_b64(d1)})
    bad = c.request("PUT", key, query=[("partNumber", "2"), ("uploadId", uid)], body=d2,
                    headers={"x-amz-checksum-crc32c": crc32c_b64(b"other")})
    assert error(bad)[:2] == (400, "BadDigest")
    e2 = upload(c, key, uid, 2, d2, {"x-amz-checksum-crc32c": crc32c_b64(d2)})
    wrong = {2: "<ChecksumCRC32C>%s</ChecksumCRC32C>" % crc32c_b64(b"nope")}
    assert error(complete(c, key, uid, [(1, e1), (2, e2)], wrong))[:2] == (400, "InvalidPart")
    right = {1: "<ChecksumCRC32C>%s</ChecksumCRC32C>" % crc32c_b64(d1),
             2: "<ChecksumCRC32C>%s</ChecksumCRC32C>" % crc32c_b64(d2)}
    r = complete(c, key, uid, [(1, e1), (2, e2)], right)
    assert r.status == 200, r
    raw = base64.b64decode(crc32c_b64(d1)) + base64.b64decode(crc32c_b64(d2))
    assert xml(r).find("ChecksumCRC32C").text == crc32c_b64(raw) + "-2"


def test_list_multipart_uploads_pagination(c):
    ids = {}
    for key in ("lmu/a", "lmu/a", "lmu/b", "lmu/c/d"):
        ids.setdefault(key, []).append(create(c, key))
    r = xml(c.request("GET", "", query=[("uploads", None), ("prefix", "lmu/")]))
    got = [(u.find("Key").text, u.find("UploadId").text) for u in r.findall("Upload")]
    assert sorted(got) == sorted((k, i) for k, v in ids.items() for i in v)
    u0 = r.find("Upload")
    assert u0.find("Initiated").text.endswith("Z") and u0.find("StorageClass").text == "STANDARD"
    seen, q, pages = [], [("uploads", None), ("prefix", "lmu/"), ("max-uploads", "1")], 0
    while pages < 10:
        r = xml(c.request("GET", "", query=q))
        pages += 1
        seen += [(u.find("Key").text, u.find("UploadId").text) for u in r.findall("Upload")]
        if r.find("IsTruncated").text == "false":
            break
        q = [("uploads", None), ("prefix", "lmu/"), ("max-uploads", "1"),
             ("key-marker", r.find("NextKeyMarker").text),
             ("upload-id-marker", r.find("NextUploadIdMarker").text)]
    assert sorted(seen) == sorted(got) and len(seen) == 4
    r = xml(c.request("GET", "", query=[("uploads", None), ("prefix", "lmu/"),
                                        ("delimiter", "/")]))
    assert [p.find("Prefix").text for p in r.findall("CommonPrefixes")] == ["lmu/c/"]
    assert sorted(u.find("Key").text for u in r.findall("Upload")) == ["lmu/a", "lmu/a", "lmu/b"]
    r = xml(c.request("GET", "", query=[("uploads", None), ("prefix", "lmu/c"),
                                        ("delimiter", "/")]))
    assert [p.find("Prefix").text for p in r.findall("CommonPrefixes")] == ["lmu/c/"]
    for key, v in ids.items():
        for uid in v:
            assert c.request("DELETE", key, query=[("uploadId", uid)]).status == 204


# -- tagging, ACL ------------------------------------------------------------------------

def tagging(pairs):
    return ("<Tagging><TagSet>%s</TagSet></Tagging>" % "".join(
        "<Tag><Key>%s</Key><Value>%s</Value></Tag>" % kv for kv in pairs)).encode()


def test_tagging(c):
    put(c, "tg/o", b"x")
    assert c.request("PUT", "tg/o", query=[("tagging", None)],
                     body=tagging([("k1", "v1"), ("k2", "")])).status == 200
    root = xml(c.request("GET", "tg/o", query=[("tagging", None)]))
    assert root.tag == "Tagging"
    assert [(t.find("Key").text, t.find("Value").text or "") for t in root.iter("Tag")] == \
        [("k1", "v1"), ("k2", "")]
    too_many = c.request("PUT", "tg/o", query=[("tagging", None)],
                         body=tagging([("k%d" % i, "v") for i in range(11)]))
    status, code, f = error(too_many)
    assert (status, code, f["Message"]) == (400, "BadRequest",
                                            "Object tags cannot be greater than 10")
    assert error(c.request("PUT", "tg/o", query=[("tagging", None)],
                           body=tagging([("k" * 129, "v")])))[:2] == (400, "InvalidTag")
    assert error(c.request("PUT", "tg/o", query=[("tagging", None)],
                           body=tagging([("k", "v" * 257)])))[:2] == (400, "InvalidTag")
    ok = tagging([("k" * 128, "v" * 256)] + [("t%d" % i, "") for i in range(9)])
    assert c.request("PUT", "tg/o", query=[("tagging", None)], body=ok).status == 200
    assert c.request("DELETE", "tg/o", query=[("tagging", None)]).status == 204
    assert list(xml(c.request("GET", "tg/o", query=[("tagging", None)])).iter("Tag")) == []
    assert error(c.request("GET", "tg/none", query=[("tagging", None)]))[:2] == (404, "NoSuchKey")
    assert error(c.request("PUT", "tg/o", query=[("tagging", None)],
                           body=b"<nope"))[:2] == (400, "MalformedXML")


def grants(resp):
    root = xml(resp)
    assert root.tag == "AccessControlPolicy"
    out = []
    for g in root.find("AccessControlList").findall("Grant"):
        ge = g.find("Grantee")
        kind = ge.get("{http://www.w3.org/2001/XMLSchema-instance}type")
        who = (ge.find("URI") if kind == "Group" else ge.find("ID")).text
        out.append((kind, who, g.find("Permission").text))
    return root.find("Owner").find("ID").text, out


def test_acl(c):
    put(c, "acl/o", b"x", {"x-amz-acl": "public-read"})
    owner, gs = grants(c.request("GET", "acl/o", query=[("acl", None)]))
    all_users = "http://acs.amazonaws.com/groups/global/AllUsers"
    assert gs == [("CanonicalUser", owner, "FULL_CONTROL"), ("Group", all_users, "READ")]
    assert c.request("PUT", "acl/o", query=[("acl", None)],
                     headers={"x-amz-acl": "private"}).status == 200
    assert grants(c.request("GET", "acl/o", query=[("acl", None)]))[1] == \
        [("CanonicalUser", owner, "FULL_CONTROL")]
    other = "a" * 64
    assert c.request("PUT", "acl/o", query=[("acl", None)],
                     headers={"x-amz-grant-read": 'id="%s"' % other,
                              "x-amz-grant-full-control": 'id="%s"' % owner}).status == 200
    assert sorted(grants(c.request("GET", "acl/o", query=[("acl", None)]))[1]) == \
        sorted([("CanonicalUser", owner, "FULL_CONTROL"), ("CanonicalUser", other, "READ")])
    doc = ('<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
           '<Owner><ID>%s</ID></Owner><AccessControlList>'
           '<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AuthenticatedUsers'
           '</URI></Grantee><Permission>READ</Permission></Grant>'
           '</AccessControlList></AccessControlPolicy>' % owner).encode()
    assert c.request("PUT", "acl/o", query=[("acl", None)], body=doc).status == 200
    assert grants(c.request("GET", "acl/o", query=[("acl", None)]))[1] == \
        [("Group", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers", "READ")]
    for canned in ("public-read-write", "authenticated-read", "aws-exec-read",
                   "bucket-owner-read", "bucket-owner-full-control"):
        assert c.request("PUT", "acl/o", query=[("acl", None)],
                         headers={"x-amz-acl": canned}).status == 200, canned
    assert error(c.request("PUT", "acl/o", query=[("acl", None)],
                           headers={"x-amz-acl": "bogus"}))[:2] == (400, "InvalidArgument")


# -- Object Lock ------------------------------------------------------------------------------

def legal_hold(c, key, status):
    body = ("<LegalHold><Status>%s</Status></LegalHold>" % status).encode()
    return c.request("PUT", key, query=[("legal-hold", None)], body=body,
                     headers={"Content-MD5": md5_b64(body)})


def retention(c, key, mode, until, bypass=False):
    body = ("<Retention><Mode>%s</Mode><RetainUntilDate>%s</RetainUntilDate></Retention>"
            % (mode, until)).encode()
    headers = {"Content-MD5": md5_b64(body)}
    if bypass:
        headers["x-amz-bypass-governance-retention"] = "true"
    return c.request("PUT", key, query=[("retention", None)], body=body, headers=headers)


LOCKED = "Access Denied because object protected by object lock."


def test_legal_hold_blocks_delete_and_overwrite(emu, c):
    put(c, "lk/hold", b"keep")
    assert error(c.request("GET", "lk/hold", query=[("legal-hold", None)]))[:2] == \
        (404, "NoSuchObjectLockConfiguration")
    assert legal_hold(c, "lk/hold", "ON").status == 200
    root = xml(c.request("GET", "lk/hold", query=[("legal-hold", None)]))
    assert root.tag == "LegalHold" and root.find("Status").text == "ON"
    assert c.request("HEAD", "lk/hold").header("x-amz-object-lock-legal-hold") == "ON"
    status, code, f = error(c.request("DELETE", "lk/hold"))
    assert (status, code, f["Message"]) == (403, "AccessDenied", LOCKED)
    assert error(c.request("PUT", "lk/hold", body=b"new"))[:2] == (403, "AccessDenied")
    assert error(c.request("DELETE", "lk/hold", headers={
        "x-amz-bypass-governance-retention": "true"}))[:2] == (403, "AccessDenied")
    assert c.request("GET", "lk/hold").body == b"keep"
    assert emu.admin("object?bucket=demo-us-east-1&key=lk/hold")["legal_hold"] == "ON"
    assert error(legal_hold(c, "lk/hold", "MAYBE"))[:2] == (400, "MalformedXML")
    assert legal_hold(c, "lk/hold", "OFF").status == 200
    assert c.request("DELETE", "lk/hold").status == 204


def test_governance_retention(c):
    put(c, "lk/gov", b"g")
    assert error(c.request("GET", "lk/gov", query=[("retention", None)]))[:2] == \
        (404, "NoSuchObjectLockConfiguration")
    until = future(2)
    assert retention(c, "lk/gov", "GOVERNANCE", until).status == 200
    root = xml(c.request("GET", "lk/gov", query=[("retention", None)]))
    assert root.tag == "Retention" and root.find("Mode").text == "GOVERNANCE"
    assert root.find("RetainUntilDate").text == until
    h = c.request("HEAD", "lk/gov")
    assert h.header("x-amz-object-lock-mode") == "GOVERNANCE"
    assert h.header("x-amz-object-lock-retain-until-date") == until
    assert error(c.request("DELETE", "lk/gov"))[:2] == (403, "AccessDenied")
    assert error(c.request("PUT", "lk/gov", body=b"over"))[:2] == (403, "AccessDenied")
    assert error(retention(c, "lk/gov", "GOVERNANCE", future(1)))[:2] == (403, "AccessDenied")
    assert retention(c, "lk/gov", "GOVERNANCE", future(3)).status == 200   # extending is fine
    assert retention(c, "lk/gov", "GOVERNANCE", future(1), bypass=True).status == 200
    past = "2001-01-01T00:00:00.000Z"
    assert error(retention(c, "lk/gov", "GOVERNANCE", past))[:2] == (400, "InvalidArgument")
    assert c.request("DELETE", "lk/gov", headers={
        "x-amz-bypass-governance-retention": "true"}).status == 204


def test_compliance_retention_and_put_headers(c):
    until = future(1)
    body = b"c"
    no_md5 = c.request("PUT", "lk/comp", body=body, headers={
        "x-amz-object-lock-mode": "COMPLIANCE", "x-amz-object-lock-retain-until-date": until})
    assert error(no_md5)[:2] == (400, "InvalidRequest")
    put(c, "lk/comp", body, {"x-amz-object-lock-mode": "COMPLIANCE",
                             "x-amz-object-lock-retain-until-date": until,
                             "Content-MD5": md5_b64(body)})
    assert c.request("HEAD", "lk/comp").header("x-amz-object-lock-mode") == "COMPLIANCE"
    assert error(retention(c, "lk/comp", "COMPLIANCE", future(0.5), bypass=True))[:2] == \
        (403, "AccessDenied")
    assert error(retention(c, "lk/comp", "GOVERNANCE", future(2), bypass=True))[:2] == \
        (403, "AccessDenied")
    assert retention(c, "lk/comp", "COMPLIANCE", future(2)).status == 200
    assert error(c.request("DELETE", "lk/comp", headers={
        "x-amz-bypass-governance-retention": "true"}))[:2] == (403, "AccessDenied")
    half = c.request("PUT", "lk/half", body=b"x", headers={"x-amz-object-lock-mode": "GOVERNANCE"})
    assert error(half)[:2] == (400, "InvalidArgument")


def test_bucket_without_object_lock(plain):
    r = plain.request("PUT", "o", bucket=PLAIN, body=b"x")
    assert r.status == 200, r
    msg = "Bucket is missing Object Lock Configuration"
    for q in ("legal-hold", "retention"):
        status, code, f = error(plain.request("GET", "o", bucket=PLAIN, query=[(q, None)]))
        assert (status, code, f["Message"]) == (400, "InvalidRequest", msg)
    body = b"<LegalHold><Status>ON</Status></LegalHold>"
    status, code, f = error(plain.request("PUT", "o", bucket=PLAIN, query=[("legal-hold", None)],
                                          body=body, headers={"Content-MD5": md5_b64(body)}))
    assert (status, code, f["Message"]) == (400, "InvalidRequest", msg)
    status, code, f = error(plain.request("PUT", "o2", bucket=PLAIN, body=b"x", headers={
        "x-amz-object-lock-legal-hold": "ON", "Content-MD5": md5_b64(b"x")}))
    assert (status, code, f["Message"]) == (400, "InvalidRequest", msg)
    assert plain.request("DELETE", "o", bucket=PLAIN).status == 204


# -- RestoreObject --------------------------------------------------------------------------

RESTORE = (b"<RestoreRequest><Days>2</Days><GlacierJobParameters><Tier>Standard</Tier>"
           b"</GlacierJobParameters></RestoreRequest>")


def test_restore_lifecycle(c):
    put(c, "rs/cold", b"frozen", {"x-amz-storage-class": "GLACIER"})
    status, code, f = error(c.request("GET", "rs/cold"))
    assert (status, code, f["StorageClass"]) == (403, "InvalidObjectState", "GLACIER")
    h = c.request("HEAD", "rs/cold")
    assert h.status == 200 and h.header("x-amz-storage-class") == "GLACIER"
    assert h.header("x-amz-restore") is None
    assert c.request("POST", "rs/cold", query=[("restore", None)], body=RESTORE).status == 202
    again = c.request("POST", "rs/cold", query=[("restore", None)], body=RESTORE)
    assert error(again)[:2] == (409, "RestoreAlreadyInProgress")
    assert c.request("HEAD", "rs/cold").header("x-amz-restore") == 'ongoing-request="true"'
    assert c.request("GET", "rs/cold").status == 403
    done = wait_until(lambda: 'ongoing-request="false"' in (
        c.request("HEAD", "rs/cold").header("x-amz-restore") or ""), timeout=10)
    assert done
    hdr = c.request("HEAD", "rs/cold").header("x-amz-restore")
    assert re.match(r'^ongoing-request="false", expiry-date="\w{3}, \d\d \w{3} \d{4} '
                    r'00:00:00 GMT"$', hdr), hdr
    g = c.request("GET", "rs/cold")
    assert g.status == 200 and g.body == b"frozen"
    assert c.request("POST", "rs/cold", query=[("restore", None)], body=RESTORE).status == 200
    put(c, "rs/warm", b"w")
    status, code, _ = error(c.request("POST", "rs/warm", query=[("restore", None)], body=RESTORE))
    assert (status, code) == (403, "InvalidObjectState")
    assert error(c.request("POST", "rs/none", query=[("restore", None)], body=RESTORE))[:2] == \
        (404, "NoSuchKey")


# -- checksums ----------------------------------------------------------------------------------

def test_content_md5(c):
    body = b"md5 body"
    put(c, "ck/md5", body, {"Content-MD5": md5_b64(body)})
    status, code, _ = error(c.request("PUT", "ck/md5-bad", body=body,
                                      headers={"Content-MD5": md5_b64(b"other")}))
    assert (status, code) == (400, "BadDigest")
    assert error(c.request("PUT", "ck/md5-bad", body=body,
                           headers={"Content-MD5": "not-base64!"}))[:2] == (400, "InvalidDigest")
    assert c.request("HEAD", "ck/md5-bad").status == 404


def test_crc32c(c):
    body = b"crc body" * 1000
    r = put(c, "ck/crc", body, {"x-amz-checksum-crc32c": crc32c_b64(body)})
    assert r.header("x-amz-checksum-crc32c") == crc32c_b64(body)
    assert c.request("HEAD", "ck/crc").header("x-amz-checksum-crc32c") is None
    h = c.request("HEAD", "ck/crc", headers={"x-amz-checksum-mode": "ENABLED"})
    assert h.header("x-amz-checksum-crc32c") == crc32c_b64(body)
    g = c.request("GET", "ck/crc", headers={"x-amz-checksum-mode": "ENABLED"})
    assert g.header("x-amz-checksum-crc32c") == crc32c_b64(body) and g.body == body
    bad = c.request("PUT", "ck/crc-bad", body=body,
                    headers={"x-amz-checksum-crc32c": crc32c_b64(b"x")})
    status, code, f = error(bad)
    assert (status, code) == (400, "BadDigest")
    assert f["Message"] == "The CRC32C you specified did not match the calculated checksum."
    assert c.request("HEAD", "ck/crc-bad").status == 404


def test_content_sha256_mismatch(c):
    target, hdrs = c.sign("PUT", c.build_path("ck/sha"), "", None, b"signed body")
    r = c.send_raw("PUT", target, hdrs, b"sent body!!")
    status, code, f = error(r)
    assert (status, code) == (400, "XAmzContentSHA256Mismatch")
    assert f["ClientComputedContentSHA256"] == hashlib.sha256(b"signed body").hexdigest()
    assert f["S3ComputedContentSHA256"] == hashlib.sha256(b"sent body!!").hexdigest()
    assert c.request("HEAD", "ck/sha").status == 404
    assert c.request("PUT", "ck/unsigned", body=b"u", unsigned_payload=True).status == 200


# -- refusals, routing, HTTP ---------------------------------------------------------------------

def test_copy_and_other_operations_refused_via_mrap(c):
    put(c, "cp/src", b"s")
    r = c.request("PUT", "cp/dst", headers={"x-amz-copy-source": "/demo-us-east-1/cp/src"})
    assert error(r)[:2] == (501, "NotImplemented")
    uid = create(c, "cp/mp")
    r = c.request("PUT", "cp/mp", query=[("partNumber", "1"), ("uploadId", uid)],
                  headers={"x-amz-copy-source": "/demo-us-east-1/cp/src"})
    assert error(r)[:2] == (501, "NotImplemented")
    assert error(c.request("GET", "", query=[("versions", None)]))[:2] == (501, "NotImplemented")
    assert error(c.request("GET", ""))[:2] == (501, "NotImplemented")       # ListObjects v1
    assert c.request("HEAD", "cp/dst").status == 404
    c.request("DELETE", "cp/mp", query=[("uploadId", uid)])


def test_unknown_alias_and_sigv4_to_mrap(emu):
    other = S3Client(emu.port, alias="zzzzzzzzzzzzz.mrap")
    status, code, _ = error(other.request("GET", "k"))
    assert (status, code) == (404, "NoSuchAccessPoint")
    v4 = S3Client(emu.port, mode="raw", host="%s.localhost:%d" % (ALIAS, emu.port))
    status, code, f = error(v4.request("GET", "k"))
    assert (status, code) == (400, "InvalidRequest") and "AWS4-ECDSA-P256-SHA256" in f["Message"]
    # <account>.localhost is S3 Control (test_emu_control.py), which wants x-amz-account-id
    ctl = S3Client(emu.port, mode="raw", host="111122223333.localhost:%d" % emu.port)
    status, code, f = error(ctl.request("GET", "v20180820/mrap/instances"))
    assert (status, code) == (400, "InvalidRequest") and "x-amz-account-id" in f["Message"]


def test_missing_content_length(emu, c):
    target, hdrs = c.sign("PUT", c.build_path("http/nolen"), "", None, b"", unsigned_payload=True)
    out = raw_exchange(emu.port, request_head("PUT", target, hdrs + [("Connection", "close")]))
    assert out.startswith(b"HTTP/1.1 411 ") and b"<Code>MissingContentLength</Code>" in out


def test_expect_continue(emu, c):
    put(c, "http/locked", b"x", {"x-amz-object-lock-legal-hold": "ON",
                                 "Content-MD5": md5_b64(b"x")})
    body = b"y" * 1000
    for key, first in (("http/locked", b"HTTP/1.1 403 "), ("http/ok", b"HTTP/1.1 100 Continue")):
        target, hdrs = c.sign("PUT", c.build_path(key), "", {"Expect": "100-continue"}, body)
        out = raw_exchange(emu.port, request_head("PUT", target, hdrs), body, read_timeout=1.0,
                           send_body=False)
        assert out.startswith(first), out[:200]
    assert c.request("HEAD", "http/ok").status == 404     # the body was never sent
    legal_hold(c, "http/locked", "OFF")


def test_keep_alive(emu, c):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        for i in range(3):
            target, hdrs = c.sign("PUT", c.build_path("ka/%d" % i), "", None, b"v%d" % i)
            conn.putrequest("PUT", target, skip_host=True, skip_accept_encoding=True)
            for k, v in hdrs:
                conn.putheader(k, v)
            conn.endheaders(b"v%d" % i)
            r = conn.getresponse()
            r.read()
            assert r.status == 200 and r.getheader("Content-Length") == "0"
    finally:
        conn.close()


def chunked_put(c, key, data, trailer_value, chunk=4000):
    """PUT with an unsigned aws-chunked body and a CRC32C trailer, as current SDKs send."""
    from awscrt.auth import aws_sign_request
    from awscrt.http import HttpHeaders, HttpRequest
    body = b""
    for i in range(0, len(data), chunk):
        piece = data[i:i + chunk]
        body += b"%x\r\n%s\r\n" % (len(piece), piece)
    body += b"0\r\nx-amz-checksum-crc32c:%s\r\n\r\n" % trailer_value.encode()
    hdrs = HttpHeaders([("Host", c.host), ("Content-Encoding", "aws-chunked"),
                        ("x-amz-decoded-content-length", str(len(data))),
                        ("x-amz-trailer", "x-amz-checksum-crc32c"),
                        ("Content-Length", str(len(body)))])
    req = HttpRequest("PUT", c.build_path(key), hdrs)
    aws_sign_request(req, c.signing_config(
        body_value="STREAMING-UNSIGNED-PAYLOAD-TRAILER")).result()
    return c.send_raw("PUT", req.path, list(req.headers), body)


def test_aws_chunked_unsigned_trailer(c):
    data = bytes(range(256)) * 100
    r = chunked_put(c, "ck/chunked", data, crc32c_b64(data))
    assert r.status == 200, r
    g = c.request("GET", "ck/chunked", headers={"x-amz-checksum-mode": "ENABLED"})
    assert g.body == data and g.header("etag") == '"%s"' % hashlib.md5(data).hexdigest()
    assert g.header("content-encoding") is None
    assert g.header("x-amz-checksum-crc32c") == crc32c_b64(data)
    bad = chunked_put(c, "ck/chunked-bad", data, crc32c_b64(b"other"))
    assert error(bad)[:2] == (400, "BadDigest")
    assert c.request("HEAD", "ck/chunked-bad").status == 404
