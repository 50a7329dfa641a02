"""Multipart uploads: Create, UploadPart, Complete, Abort, ListParts, ListMultipartUploads.

Design: an upload is a directory in the bucket's uploads/ (see store.py) with
the object metadata captured at CreateMultipartUpload; each part is stored
with its size, MD5 and any additional checksum.  Complete applies S3's rules
in S3's order — parts listed in ascending order (InvalidPartOrder), each part
present with a matching ETag and checksum (InvalidPart), every part but the
last at least 5 MiB (EntityTooSmall) — then concatenates the parts into a temp
file and installs it like a PutObject.  The ETag is the hex MD5 of the
concatenated binary part MD5s followed by `-N`; an upload created with
x-amz-checksum-algorithm gets S3's composite checksum (checksum of the part
checksums, `-N`).
"""
import base64
import binascii
import hashlib
import os
import time
import urllib.parse

from . import ingest
from .checksums import ALGORITHMS, b64, combine, header_name
from .common import (Reply, canonical_id, entity_too_large, iso_date, parse_xml, quote_etag,
                     strip_etag, text_of, url_encode)
from .s3ops import SSE, new_object_meta, write_checks
from .store import CHUNK
from .xmlresp import S3Error, document, el, invalid_argument, invalid_request, malformed_xml, \
    no_such_upload

MIN_PART_SIZE = 5 << 20
MAX_PART_SIZE = 5 << 30
MAX_PARTS = 10000


def _upload(ctx):
    upload_id = ctx.query.get("uploadId", "")
    doc = ctx.bstore.get_upload(upload_id, ctx.key)
    if doc is None:
        raise no_such_upload(upload_id)
    return doc


def _int_arg(ctx, name, default, low, high, message):
    raw = ctx.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_argument(message, name, raw) from None
    if not low <= value <= high:
        raise invalid_argument(message, name, raw)
    return value


def create_multipart_upload(ctx):
    meta = new_object_meta(ctx)
    alg = ctx.h("x-amz-checksum-algorithm")
    if alg:
        alg = alg.upper()
        if alg not in ALGORITHMS:
            raise invalid_request("Checksum algorithm provided is unsupported. Please try again "
                                  "with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, "
                                  "SHA256]")
        meta["checksum_algorithm"] = alg
    ingest.read_small(ctx)      # an (empty) body is allowed and ignored
    doc = ctx.bstore.create_upload(ctx.key, meta)
    reply = Reply(200, [SSE], body=document("InitiateMultipartUploadResult", [
        el("Bucket", ctx.bucket_label), el("Key", ctx.key), el("UploadId", doc["upload_id"])]))
    if alg:
        reply.add("x-amz-checksum-algorithm", alg).add("x-amz-checksum-type", "COMPOSITE")
    return reply


def upload_part(ctx):
    number = _int_arg(ctx, "partNumber", None, 1, MAX_PARTS,
                      "Part number must be an integer between 1 and 10000, inclusive")
    if ctx.content_length > MAX_PART_SIZE:
        raise entity_too_large(ctx.content_length, MAX_PART_SIZE)
    doc = _upload(ctx)
    alg = doc["meta"].get("checksum_algorithm")
    ctx.extra_checksum_algorithms = (alg,) if alg else ()
    expect = ingest.check_headers(ctx)
    tmp = ctx.app.store.temp_path()
    got = ingest.receive_to_file(ctx, tmp, expect)
    part = {"size": got["size"], "etag": got["md5"], "last_modified": int(time.time()),
            "checksums": {a: b64(d) for a, d in got["checksums"].items()}}
    if not ctx.bstore.put_part(doc["upload_id"], number, tmp, part):
        raise no_such_upload(doc["upload_id"])
    reply = Reply(200, [("ETag", quote_etag(part["etag"])), SSE])
    for a, value in part["checksums"].items():
        if a == alg or ctx.h(header_name(a)) is not None:
            reply.add(header_name(a), value)
    return reply


def _completed_parts(data):
    root = parse_xml(data)
    if root.tag != "CompleteMultipartUpload":
        raise malformed_xml()
    out = []
    for p in root.findall("Part"):
        try:
            number = int(text_of(p, "PartNumber"))
        except (TypeError, ValueError):
            raise malformed_xml() from None
        sums = {a: text_of(p, "Checksum" + a) for a in ALGORITHMS if text_of(p, "Checksum" + a)}
        out.append((number, strip_etag(text_of(p, "ETag")), sums))
    if not out:
        raise malformed_xml()
    return out


def _invalid_part(upload_id, number, etag):
    return S3Error(400, "InvalidPart", "One or more of the specified parts could not be found.  "
                   "The part may not have been uploaded, or the specified entity tag may not "
                   "match the part's entity tag.",
                   [("UploadId", upload_id), ("PartNumber", number), ("ETag", etag)])


def complete_multipart_upload(ctx):
    doc = _upload(ctx)
    upload_id = doc["upload_id"]
    wanted = _completed_parts(ingest.read_small(ctx))
    for (a, _, _), (b, _, _) in zip(wanted, wanted[1:]):
        if b <= a:
            raise S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending "
                          "order. Parts must be ordered by part number.", [("UploadId", upload_id)])
    stored = {p["number"]: p for p in ctx.bstore.parts(upload_id)}
    chosen = []
    for number, etag, sums in wanted:
        p = stored.get(number)
        if p is None or p["etag"] != etag:
            raise _invalid_part(upload_id, number, etag)
        for a, value in sums.items():
            if p["checksums"].get(a) != value:
                raise _invalid_part(upload_id, number, etag)
        chosen.append(p)
    for p in chosen[:-1]:
        if p["size"] < MIN_PART_SIZE:
            raise S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the "
                          "minimum allowed object size.",
                          [("ProposedSize", p["size"]), ("MinSizeAllowed", MIN_PART_SIZE),
                           ("PartNumber", p["number"]), ("ETag", p["etag"])])
    meta = dict(doc["meta"])
    alg = meta.pop("checksum_algorithm", None)
    if alg and any(alg not in p["checksums"] for p in chosen):
        raise invalid_request("The upload was created using a %s checksum. The complete "
                              "request must include the checksum for each part." % alg.lower())
    check = write_checks(ctx)
    check(ctx.bstore.head(ctx.key))
    tmp = ctx.app.store.temp_path()
    _concatenate(ctx.bstore, upload_id, chosen, tmp)
    md5s = b"".join(binascii.unhexlify(p["etag"]) for p in chosen)
    meta.update(size=sum(p["size"] for p in chosen),
                etag="%s-%d" % (hashlib.md5(md5s).hexdigest(), len(chosen)),
                last_modified=int(time.time()), parts_count=len(chosen), checksums={})
    if alg:
        meta["checksums"] = {alg: combine(alg, [base64.b64decode(p["checksums"][alg])
                                                for p in chosen])}
        meta["checksum_type"] = "COMPOSITE"
    if ctx.bstore.get_upload(upload_id) is None:   # aborted while we were copying
        os.unlink(tmp)
        raise no_such_upload(upload_id)
    ctx.bstore.install(ctx.key, tmp, meta, check)
    ctx.bstore.remove_upload(upload_id)
    location = "http://%s/%s" % (ctx.host, urllib.parse.quote(ctx.key, safe="/"))
    body = [el("Location", location), el("Bucket", ctx.bucket_label), el("Key", ctx.key),
            el("ETag", quote_etag(meta["etag"]))]
    if alg:
        body += [el("Checksum" + alg, meta["checksums"][alg]), el("ChecksumType", "COMPOSITE")]
    return Reply(200, [SSE], body=document("CompleteMultipartUploadResult", body))


def _concatenate(bstore, upload_id, parts, dest):
    with open(dest, "wb") as out:
        for p in parts:
            with open(bstore.part_path(upload_id, p), "rb") as src:
                remaining = p["size"]
                while remaining:
                    try:
                        n = os.copy_file_range(src.fileno(), out.fileno(), remaining)
                    except (AttributeError, OSError):
                        n = 0
                    if n <= 0:   # no copy_file_range here: plain copy of the rest
                        while True:
                            chunk = src.read(CHUNK)
                            if not chunk:
                                break
                            out.write(chunk)
                        break
                    remaining -= n


def abort_multipart_upload(ctx):
    doc = _upload(ctx)
    ctx.bstore.remove_upload(doc["upload_id"])
    return Reply(204)


def _people(account):
    who = el("ID", canonical_id(account))
    return "<Initiator>%s</Initiator><Owner>%s</Owner>" % (who, who)


def list_parts(ctx):
    doc = _upload(ctx)
    max_parts = _int_arg(ctx, "max-parts", 1000, 0, 2 ** 31 - 1,
                         "Provided max-parts not an integer or within integer range")
    marker = _int_arg(ctx, "part-number-marker", 0, 0, 2 ** 31 - 1,
                      "Provided part-number-marker not an integer or within integer range")
    max_parts = min(max_parts, 1000)
    parts = [p for p in ctx.bstore.parts(doc["upload_id"]) if p["number"] > marker]
    page, truncated = parts[:max_parts], len(parts) > max_parts
    alg = doc["meta"].get("checksum_algorithm")
    body = [el("Bucket", ctx.bucket_label), el("Key", ctx.key), el("UploadId", doc["upload_id"]),
            el("PartNumberMarker", marker),
            el("NextPartNumberMarker", page[-1]["number"] if page else marker),
            el("MaxParts", max_parts), el("IsTruncated", truncated)]
    for p in page:
        sums = "".join(el("Checksum" + a, v) for a, v in p["checksums"].items() if a == alg)
        body.append("<Part>%s%s%s%s%s</Part>" % (
            el("PartNumber", p["number"]), el("LastModified", iso_date(p["last_modified"])),
            el("ETag", quote_etag(p["etag"])), el("Size", p["size"]), sums))
    body.append(_people(doc["meta"].get("owner", ctx.bucket.account)))
    body.append(el("StorageClass", doc["meta"].get("storage_class", "STANDARD")))
    if alg:
        body += [el("ChecksumAlgorithm", alg), el("ChecksumType", "COMPOSITE")]
    return Reply(200, body=document("ListPartsResult", body))


def list_multipart_uploads(ctx):
    q = ctx.query
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    key_marker, id_marker = q.get("key-marker", ""), q.get("upload-id-marker", "")
    enc = q.get("encoding-type")
    if enc is not None and enc != "url":
        raise invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", enc)
    max_uploads = min(_int_arg(ctx, "max-uploads", 1000, 0, 2 ** 31 - 1,
                               "Provided max-uploads not an integer or within integer range"),
                      1000)
    docs = ctx.bstore.list_uploads()
    if key_marker:
        if id_marker:
            ids = [d["upload_id"] for d in docs if d["key"] == key_marker]
            after = ids.index(id_marker) + 1 if id_marker in ids else len(ids)
            keep = set(ids[after:])
            docs = [d for d in docs if d["key"] > key_marker or d["upload_id"] in keep]
        else:
            docs = [d for d in docs if d["key"] > key_marker]
    entries, prefixes, truncated, last = [], [], False, None
    for d in docs:
        if not d["key"].startswith(prefix):
            continue
        if len(entries) + len(prefixes) >= max_uploads:
            truncated = True
            break
        if delimiter:
            i = d["key"].find(delimiter, len(prefix))
            if i >= 0:
                cp = d["key"][:i + len(delimiter)]
                if cp not in prefixes:
                    prefixes.append(cp)
                    last = (cp, "")
                continue
        entries.append(d)
        last = (d["key"], d["upload_id"])
    code = url_encode if enc else (lambda s: s)
    body = [el("Bucket", ctx.bucket_label), el("KeyMarker", code(key_marker)),
            el("UploadIdMarker", id_marker)]
    if truncated and last:
        body += [el("NextKeyMarker", code(last[0])), el("NextUploadIdMarker", last[1])]
    if delimiter:
        body.append(el("Delimiter", code(delimiter)))
    body += [el("Prefix", code(prefix)), el("MaxUploads", max_uploads)]
    if enc:
        body.append(el("EncodingType", enc))
    body.append(el("IsTruncated", truncated))
    for d in entries:
        body.append("<Upload>%s%s%s%s%s</Upload>" % (
            el("Key", code(d["key"])), el("UploadId", d["upload_id"]),
            _people(d["meta"].get("owner", ctx.bucket.account)),
            el("StorageClass", d["meta"].get("storage_class", "STANDARD")),
            el("Initiated", iso_date(d["initiated"]))))
    for cp in prefixes:
        body.append("<CommonPrefixes>%s</CommonPrefixes>" % el("Prefix", code(cp)))
    return Reply(200, body=document("ListMultipartUploadsResult", body))
