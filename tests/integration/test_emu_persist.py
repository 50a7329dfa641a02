"""State survives an emulator restart: objects and their metadata (tags, ACL,
Object Lock, storage class, restore), open multipart uploads and their parts,
MRAP route dials; the sorted index is rebuilt from disk and leftovers of
interrupted writes are cleaned up."""
import os

from emu_util import MIB, md5_b64, xml


def list_keys(c, prefix=""):
    r = c.request("GET", "", query={"list-type": "2", "prefix": prefix})
    assert r.status == 200, r
    return [e.find("Key").text for e in xml(r).findall("Contents")]


def test_state_survives_restart(fresh_emulator):
    emu = fresh_emulator
    c = emu.client()
    keys = ["p/%02d" % i for i in range(30)] + ["p/ü nicode", "p/a//b"]
    for k in keys:
        assert c.request("PUT", k, body=k.encode(), headers={"x-amz-meta-n": "1"}).status == 200
    assert c.request("PUT", "p/00", query=[("tagging", None)],
                     body=b"<Tagging><TagSet><Tag><Key>t</Key><Value>v</Value></Tag></TagSet>"
                          b"</Tagging>").status == 200
    hold = b"<LegalHold><Status>ON</Status></LegalHold>"
    assert c.request("PUT", "p/01", query=[("legal-hold", None)], body=hold,
                     headers={"Content-MD5": md5_b64(hold)}).status == 200
    assert c.request("PUT", "p/cold", body=b"ice",
                     headers={"x-amz-storage-class": "DEEP_ARCHIVE"}).status == 200
    r = c.request("POST", "p/mp", query=[("uploads", None)])
    uid = xml(r).find("UploadId").text
    part = b"z" * (5 * MIB)
    etag = c.request("PUT", "p/mp", query=[("partNumber", "1"), ("uploadId", uid)],
                     body=part).header("etag")
    emu.admin("routes", {"mrap": "demo", "active": ["demo-eu-west-1"]})
    assert c.request("PUT", "eu-only", body=b"eu").status == 200
    # leftovers of a crash: a temp body and an unreferenced object body
    data = emu.data_dir
    open(os.path.join(data, "tmp", "deadbeef"), "wb").close()
    objdir = os.path.join(data, "buckets", "demo-us-east-1", "objects")
    sub = sorted(os.listdir(objdir))[0]
    stray = os.path.join(objdir, sub, sub + "0" * 62 + ".000000000000.data")
    open(stray, "wb").close()

    emu.restart()
    c = emu.client()
    assert not os.path.exists(stray)
    assert os.listdir(os.path.join(data, "tmp")) == []
    # routing kept the eu-west-1 only dial
    state = emu.admin("state")
    dials = {r["bucket"]: r["dial"] for r in state["mraps"][0]["regions"]}
    assert dials == {"demo-us-east-1": 0, "demo-eu-west-1": 100}
    assert c.request("GET", "eu-only").body == b"eu"
    emu.admin("routes", {"mrap": "demo", "active": ["demo-us-east-1", "demo-eu-west-1"]})
    assert list_keys(c, "p/") == sorted(keys + ["p/cold"])
    for k in keys:
        g = c.request("GET", k)
        assert g.status == 200 and g.body == k.encode() and g.header("x-amz-meta-n") == "1"
    tags = xml(c.request("GET", "p/00", query=[("tagging", None)]))
    assert [t.find("Key").text for t in tags.iter("Tag")] == ["t"]
    assert c.request("DELETE", "p/01").status == 403
    assert c.request("GET", "p/cold").status == 403
    assert c.request("HEAD", "p/cold").header("x-amz-storage-class") == "DEEP_ARCHIVE"
    ups = emu.admin("uploads")["uploads"]
    assert [(u["key"], u["upload_id"], u["parts"]) for u in ups] == [("p/mp", uid, [1])]
    r = c.request("POST", "p/mp", query=[("uploadId", uid)],
                  body=("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s"
                        "</ETag></Part></CompleteMultipartUpload>" % etag).encode())
    assert r.status == 200, r
    assert c.request("GET", "p/mp").body == part
