"""Each of the 21 S3 operations mrapfs uses, signed by the AWS CRT with SigV4A
(region set "*", service s3) and sent to the MRAP host, succeeds with S3's
status; a copy of each request with one byte changed after signing (in the
path, or in the query for bucket-level operations) is refused with
SignatureDoesNotMatch first, and has no effect.

The tests run in file order and share one emulator and one `state` dict: the
object written by PutObject is the one tagged, locked, listed and deleted later.
"""
import base64
import datetime
import hashlib
import re
import xml.etree.ElementTree as ET

import pytest

from s3client import utcnow

BODY = b"mrapfs operations test\n" * 50
LOCKED = "ops/locked.txt"
COLD = "ops/cold.txt"
MIB = 1024 * 1024


OPERATIONS = ("GetObject", "HeadObject", "PutObject", "DeleteObject", "ListObjectsV2",
              "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
              "AbortMultipartUpload", "ListParts", "ListMultipartUploads", "GetObjectTagging",
              "PutObjectTagging", "DeleteObjectTagging", "GetObjectAcl", "PutObjectAcl",
              "GetObjectLegalHold", "PutObjectLegalHold", "GetObjectRetention",
              "PutObjectRetention", "RestoreObject")
TAMPERED = []      # one entry per tampered request sent


@pytest.fixture(scope="module")
def c(emulator):
    emulator.reset_stats()
    return emulator.client()


@pytest.fixture(scope="module")
def state():
    return {}


def flip(text):
    """The last character changed to another of its kind (so encodings stay valid)."""
    ch = text[-1]
    new = ("1" if ch == "0" else "0") if ch.isdigit() else ("b" if ch.lower() == "a" else "a")
    return text[:-1] + (new.upper() if ch.isupper() else new)


def tamper_path(target, headers):
    path, sep, query = target.partition("?")
    assert path != "/"
    return flip(path) + sep + query, headers


def tamper_query(target, headers):
    path, sep, query = target.partition("?")
    assert query
    return path + sep + flip(query), headers


def md5_header(body):
    return {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}


def call(c, method, key, expect, query=None, headers=None, body=b"", tamper=tamper_path):
    """Sends the request tampered (must fail the signature), then as signed."""
    bad = c.request(method, key, query=query, headers=headers, body=body, mutate=tamper)
    TAMPERED.append((method, key))
    assert bad.status == 403, bad
    if method != "HEAD":
        assert b"<Code>SignatureDoesNotMatch</Code>" in bad.body, bad
    resp = c.request(method, key, query=query, headers=headers, body=body)
    assert resp.status == expect, resp
    return resp


def xml(resp):
    root = ET.fromstring(resp.body)
    for el in root.iter():          # drop the S3 namespace for simple lookups
        el.tag = el.tag.rsplit("}", 1)[-1]
    return root


def test_put_object(c):
    resp = call(c, "PUT", "ops/obj.txt", 200, body=BODY,
                headers={"Content-Type": "text/plain"})
    assert resp.header("etag") == '"%s"' % hashlib.md5(BODY).hexdigest()
    # The tampered copy wrote nothing under its key.
    assert c.request("HEAD", flip("ops/obj.txt")).status == 404


def test_head_object(c):
    resp = call(c, "HEAD", "ops/obj.txt", 200)
    assert resp.header("content-length") == str(len(BODY))
    assert resp.body == b""


def test_get_object(c):
    resp = call(c, "GET", "ops/obj.txt", 200)
    assert resp.body == BODY
    part = call(c, "GET", "ops/obj.txt", 206, headers={"Range": "bytes=5-9"})
    assert part.body == BODY[5:10]


def test_list_objects_v2(c):
    resp = call(c, "GET", "", 200, query=[("list-type", "2"), ("prefix", "ops/")],
                tamper=tamper_query)
    keys = [k.text for k in xml(resp).iter("Key")]
    assert "ops/obj.txt" in keys


def test_put_object_tagging(c):
    body = (b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>'
            b"<Tag><Key>team</Key><Value>storage</Value></Tag></TagSet></Tagging>")
    call(c, "PUT", "ops/obj.txt", 200, query=[("tagging", None)], body=body,
         headers=md5_header(body))


def test_get_object_tagging(c):
    resp = call(c, "GET", "ops/obj.txt", 200, query=[("tagging", None)])
    tags = {t.find("Key").text: t.find("Value").text for t in xml(resp).iter("Tag")}
    assert tags == {"team": "storage"}


def test_delete_object_tagging(c):
    call(c, "DELETE", "ops/obj.txt", 204, query=[("tagging", None)])
    resp = c.request("GET", "ops/obj.txt", query=[("tagging", None)])
    assert list(xml(resp).iter("Tag")) == []


def test_put_object_acl(c):
    call(c, "PUT", "ops/obj.txt", 200, query=[("acl", None)],
         headers={"x-amz-acl": "bucket-owner-full-control"})


def test_get_object_acl(c):
    resp = call(c, "GET", "ops/obj.txt", 200, query=[("acl", None)])
    root = xml(resp)
    assert root.tag == "AccessControlPolicy"
    assert [p.text for p in root.iter("Permission")] == ["FULL_CONTROL"]


def test_put_object_legal_hold(c):
    assert c.request("PUT", LOCKED, body=b"locked").status == 200
    body = (b'<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b"<Status>ON</Status></LegalHold>")
    call(c, "PUT", LOCKED, 200, query=[("legal-hold", None)], body=body,
         headers=md5_header(body))


def test_get_object_legal_hold(c):
    resp = call(c, "GET", LOCKED, 200, query=[("legal-hold", None)])
    assert xml(resp).find("Status").text == "ON"


def test_put_object_retention(c, state):
    until = (utcnow() + datetime.timedelta(days=1)).replace(microsecond=0)
    state["until"] = until
    body = ('<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>GOVERNANCE</Mode>'
            "<RetainUntilDate>%s</RetainUntilDate></Retention>"
            % until.strftime("%Y-%m-%dT%H:%M:%S.000Z")).encode()
    call(c, "PUT", LOCKED, 200, query=[("retention", None)], body=body,
         headers=md5_header(body))


def test_get_object_retention(c, state):
    resp = call(c, "GET", LOCKED, 200, query=[("retention", None)])
    root = xml(resp)
    assert root.find("Mode").text == "GOVERNANCE"
    assert root.find("RetainUntilDate").text.startswith(
        state["until"].strftime("%Y-%m-%dT%H:%M:%S"))


def test_create_multipart_upload(c, state):
    resp = call(c, "POST", "ops/mpu.bin", 200, query=[("uploads", None)])
    root = xml(resp)
    assert root.find("Key").text == "ops/mpu.bin"
    state["upload"] = root.find("UploadId").text
    assert state["upload"]


def test_upload_part(c, state):
    parts = [bytes([i]) * (5 * MIB) for i in (1, 2)] + [b"tail"]
    etags = []
    for n, data in enumerate(parts, 1):
        resp = call(c, "PUT", "ops/mpu.bin", 200, body=data,
                    query=[("partNumber", str(n)), ("uploadId", state["upload"])])
        assert resp.header("etag") == '"%s"' % hashlib.md5(data).hexdigest()
        etags.append(resp.header("etag"))
    state["parts"], state["etags"] = parts, etags


def test_list_parts(c, state):
    resp = call(c, "GET", "ops/mpu.bin", 200, query=[("uploadId", state["upload"])])
    root = xml(resp)
    assert [p.find("PartNumber").text for p in root.iter("Part")] == ["1", "2", "3"]
    assert [p.find("ETag").text for p in root.iter("Part")] == state["etags"]


def test_list_multipart_uploads(c, state):
    resp = call(c, "GET", "", 200, query=[("uploads", None), ("prefix", "ops/")],
                tamper=tamper_query)
    ids = [u.find("UploadId").text for u in xml(resp).iter("Upload")]
    assert ids == [state["upload"]]


def test_complete_multipart_upload(c, state):
    body = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (n, e)
        for n, e in enumerate(state["etags"], 1))
    resp = call(c, "POST", "ops/mpu.bin", 200, query=[("uploadId", state["upload"])],
                body=body.encode())
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in state["parts"])).hexdigest()
    assert xml(resp).find("ETag").text == '"%s-3"' % digest
    got = c.request("GET", "ops/mpu.bin")
    assert got.status == 200 and got.body == b"".join(state["parts"])


def test_abort_multipart_upload(c):
    resp = c.request("POST", "ops/aborted.bin", query=[("uploads", None)])
    assert resp.status == 200, resp
    upload = xml(resp).find("UploadId").text
    call(c, "DELETE", "ops/aborted.bin", 204, query=[("uploadId", upload)])
    gone = c.request("GET", "ops/aborted.bin", query=[("uploadId", upload)])
    assert gone.status == 404 and b"<Code>NoSuchUpload</Code>" in gone.body, gone


def test_restore_object(c):
    resp = c.request("PUT", COLD, body=b"frozen", headers={"x-amz-storage-class": "GLACIER"})
    assert resp.status == 200, resp
    refused = c.request("GET", COLD)
    assert refused.status == 403 and b"<Code>InvalidObjectState</Code>" in refused.body
    body = b"<RestoreRequest><Days>1</Days></RestoreRequest>"
    call(c, "POST", COLD, 202, query=[("restore", None)], body=body)
    head = c.request("HEAD", COLD)
    assert re.match(r'ongoing-request="(true|false)"', head.header("x-amz-restore", "")), head


def test_delete_object(c):
    call(c, "DELETE", "ops/obj.txt", 204)
    assert c.request("HEAD", "ops/obj.txt").status == 404


def test_accounting_saw_every_operation_and_each_tampered_copy(emulator):
    stats = emulator.stats()
    missing = [op for op in OPERATIONS if stats["operations"].get(op, 0) < 2]
    assert not missing, stats["operations"]
    assert stats["auth_failures"] == {"SignatureDoesNotMatch": len(TAMPERED)}, stats
