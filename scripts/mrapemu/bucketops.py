"""Bucket-level operations: ListObjectsV2, ListObjects, ListBuckets, HeadBucket,
GetBucketLocation, DeleteObjects.

Design: listings walk the bucket's sorted in-memory index (store.BucketStore.list),
so a page costs O(page + log n) however many keys the bucket holds, and a
common prefix is skipped with one bisect.  The ListObjectsV2 continuation
token is opaque to clients: base64 of a version tag and the last key or
common prefix returned.  Only ListObjectsV2 is reachable through an MRAP; the
others serve tools on the regional path-style endpoint (the AWS CLI, s3fs,
rclone).
"""
import base64
import binascii

from . import ingest
from .common import Reply, canonical_id, iso_date, parse_xml, quote_etag, text_of, url_encode
from .objattrs import LOCK_PROTECTED, bypass_requested, is_locked
from .xmlresp import S3Error, document, el, invalid_argument, malformed_xml

MAX_KEYS = 1000
_TOKEN_TAG = "mrapemu1\0"


def _max_keys(ctx):
    raw = ctx.query.get("max-keys")
    if raw is None or raw == "":
        return MAX_KEYS
    try:
        n = int(raw)
        if n < 0 or n > 2 ** 31 - 1:
            raise ValueError
    except ValueError:
        raise invalid_argument("Provided max-keys not an integer or within integer range",
                               "max-keys", raw) from None
    return min(n, MAX_KEYS)


def _encoder(ctx):
    enc = ctx.query.get("encoding-type")
    if enc is None:
        return None, (lambda s: s)
    if enc != "url":
        raise invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", enc)
    return enc, url_encode


def _contents(key, summary, code, owner):
    size, etag, last_modified, storage_class = summary
    return "<Contents>%s%s%s%s%s%s</Contents>" % (
        el("Key", code(key)), el("LastModified", iso_date(last_modified)),
        el("ETag", quote_etag(etag)), el("Size", size),
        "<Owner>%s</Owner>" % el("ID", canonical_id(owner)) if owner else "",
        el("StorageClass", storage_class))


def _page(ctx, after, limit):
    prefix, delimiter = ctx.query.get("prefix", ""), ctx.query.get("delimiter", "")
    if limit == 0:
        return [], False
    return ctx.bstore.list(prefix, after, delimiter, limit)


def _render(entries, code, owner):
    keys = [_contents(name, s, code, owner) for kind, name, s in entries if kind == "key"]
    cps = ["<CommonPrefixes>%s</CommonPrefixes>" % el("Prefix", code(name))
           for kind, name, _ in entries if kind == "prefix"]
    return keys + cps


def list_objects_v2(ctx):
    q = ctx.query
    limit = _max_keys(ctx)
    enc, code = _encoder(ctx)
    token = q.get("continuation-token")
    start_after = q.get("start-after", "")
    after = start_after
    if token is not None:
        try:
            raw = base64.b64decode(token, validate=True).decode("utf-8")
            if not raw.startswith(_TOKEN_TAG):
                raise ValueError
        except (binascii.Error, ValueError):
            raise invalid_argument("The continuation token provided is incorrect",
                                   "continuation-token", token) from None
        after = raw[len(_TOKEN_TAG):]
    entries, truncated = _page(ctx, after, limit)
    owner = ctx.bucket.account if q.get("fetch-owner") == "true" else None
    body = [el("Name", ctx.bucket_label), el("Prefix", code(q.get("prefix", "")))]
    if token is not None:
        body.append(el("ContinuationToken", token))
    if truncated and entries:
        nxt = base64.b64encode((_TOKEN_TAG + entries[-1][1]).encode("utf-8")).decode()
        body.append(el("NextContinuationToken", nxt))
    body += [el("KeyCount", len(entries)), el("MaxKeys", limit)]
    if "delimiter" in q:
        body.append(el("Delimiter", code(q["delimiter"])))
    if enc:
        body.append(el("EncodingType", enc))
    body.append(el("IsTruncated", truncated))
    if "start-after" in q:
        body.append(el("StartAfter", code(start_after)))
    body += _render(entries, code, owner)
    return Reply(200, body=document("ListBucketResult", body))


def list_objects(ctx):
    """ListObjects (version 1): Marker/NextMarker, Owner always present."""
    q = ctx.query
    limit = _max_keys(ctx)
    enc, code = _encoder(ctx)
    marker = q.get("marker", "")
    entries, truncated = _page(ctx, marker, limit)
    body = [el("Name", ctx.bucket_label), el("Prefix", code(q.get("prefix", ""))),
            el("Marker", code(marker))]
    if truncated and entries and "delimiter" in q:
        body.append(el("NextMarker", code(entries[-1][1])))
    body.append(el("MaxKeys", limit))
    if "delimiter" in q:
        body.append(el("Delimiter", code(q["delimiter"])))
    if enc:
        body.append(el("EncodingType", enc))
    body.append(el("IsTruncated", truncated))
    body += _render(entries, code, ctx.bucket.account)
    return Reply(200, body=document("ListBucketResult", body))


def list_buckets(ctx):
    account = ctx.auth.account
    buckets = sorted((b for b in ctx.app.state.buckets.values() if b.account == account),
                     key=lambda b: b.name)
    body = ["<Owner>%s</Owner><Buckets>" % el("ID", canonical_id(account))]
    for b in buckets:
        body.append("<Bucket>%s%s%s</Bucket>" % (el("Name", b.name), el("CreationDate", b.created),
                                                 el("BucketRegion", b.region)))
    body.append("</Buckets>")
    return Reply(200, body=document("ListAllMyBucketsResult", body))


def head_bucket(ctx):
    return Reply(200, [("x-amz-bucket-region", ctx.bucket.region),
                       ("x-amz-access-point-alias", "false")])


def get_bucket_location(ctx):
    region = ctx.bucket.region
    return Reply(200, body=document("LocationConstraint",
                                    [] if region == "us-east-1" else [region]))


def delete_objects(ctx):
    if not (ctx.h("content-md5") or any(h.startswith("x-amz-checksum-") for h in ctx.headers)):
        raise S3Error(400, "InvalidRequest", "Missing required header for this request: "
                      "Content-MD5 OR x-amz-checksum-*")
    root = parse_xml(ingest.read_small(ctx))
    if root.tag != "Delete":
        raise malformed_xml()
    quiet = (text_of(root, "Quiet") or "").lower() == "true"
    keys = [text_of(o, "Key") for o in root.findall("Object")]
    if not keys or len(keys) > 1000 or any(k is None for k in keys):
        raise malformed_xml()
    bypass = bypass_requested(ctx)

    def check(meta):
        if is_locked(meta, bypass):
            raise S3Error(403, "AccessDenied", LOCK_PROTECTED)
    body = []
    for key in keys:
        try:
            ctx.bstore.delete(key, check)
            if not quiet:
                body.append("<Deleted>%s</Deleted>" % el("Key", key))
        except S3Error as e:
            body.append("<Error>%s%s%s</Error>" % (el("Key", key), el("Code", e.code),
                                                   el("Message", e.message)))
    return Reply(200, body=document("DeleteResult", body))
