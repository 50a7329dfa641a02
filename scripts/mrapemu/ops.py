"""Operation names and the dispatch table.

Design: classify() names the S3 operation a request invokes, from the method,
whether it addresses a key, its sub-resource query parameters and a few
headers; the name is what accounting counts and what selects the handler.
HANDLERS maps names to handler functions.  MRAP_OPERATIONS lists the 21
operations Multi-Region Access Points support (AWS documents the list); any
other operation through an MRAP — CopyObject, UploadPartCopy, ListObjects,
ListObjectVersions, bucket configuration — is answered 501 NotImplemented, the
error S3 gives for functionality an endpoint does not implement.  (AWS allows
an MRAP ARN as a copy *destination* in the SDKs; the emulator does not model
that and documents the refusal instead.)  Regional path-style buckets answer
the same 21 plus the bucket operations tools need; CopyObject is refused there
too with the same 501 (the project never relies on server-side copy).
"""
from . import bucketops, multipart, s3ops
from .xmlresp import not_implemented

MRAP_OPERATIONS = frozenset((
    "GetObject", "HeadObject", "PutObject", "DeleteObject", "ListObjectsV2",
    "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload",
    "ListParts", "ListMultipartUploads", "GetObjectTagging", "PutObjectTagging",
    "DeleteObjectTagging", "GetObjectAcl", "PutObjectAcl", "GetObjectLegalHold",
    "PutObjectLegalHold", "GetObjectRetention", "PutObjectRetention", "RestoreObject"))

HANDLERS = {
    "GetObject": s3ops.get_object,
    "HeadObject": s3ops.head_object,
    "PutObject": s3ops.put_object,
    "DeleteObject": s3ops.delete_object,
    "GetObjectTagging": s3ops.get_object_tagging,
    "PutObjectTagging": s3ops.put_object_tagging,
    "DeleteObjectTagging": s3ops.delete_object_tagging,
    "GetObjectAcl": s3ops.get_object_acl,
    "PutObjectAcl": s3ops.put_object_acl,
    "GetObjectLegalHold": s3ops.get_object_legal_hold,
    "PutObjectLegalHold": s3ops.put_object_legal_hold,
    "GetObjectRetention": s3ops.get_object_retention,
    "PutObjectRetention": s3ops.put_object_retention,
    "RestoreObject": s3ops.restore_object,
    "CreateMultipartUpload": multipart.create_multipart_upload,
    "UploadPart": multipart.upload_part,
    "CompleteMultipartUpload": multipart.complete_multipart_upload,
    "AbortMultipartUpload": multipart.abort_multipart_upload,
    "ListParts": multipart.list_parts,
    "ListMultipartUploads": multipart.list_multipart_uploads,
    "ListObjectsV2": bucketops.list_objects_v2,
    "ListObjects": bucketops.list_objects,
    "ListBuckets": bucketops.list_buckets,
    "HeadBucket": bucketops.head_bucket,
    "GetBucketLocation": bucketops.get_bucket_location,
    "DeleteObjects": bucketops.delete_objects,
}

REGIONAL_OPERATIONS = frozenset(HANDLERS)

# Operations whose body S3 requires a Content-Length for (411 MissingContentLength).
BODY_OPERATIONS = frozenset(("PutObject", "UploadPart"))

# Object sub-resources, in the order S3 gives them precedence.
_OBJECT_SUB = {
    "GET": (("uploadId", "ListParts"), ("tagging", "GetObjectTagging"), ("acl", "GetObjectAcl"),
            ("legal-hold", "GetObjectLegalHold"), ("retention", "GetObjectRetention"),
            ("attributes", "GetObjectAttributes"), ("torrent", "GetObjectTorrent")),
    "PUT": (("tagging", "PutObjectTagging"), ("acl", "PutObjectAcl"),
            ("legal-hold", "PutObjectLegalHold"), ("retention", "PutObjectRetention")),
    "POST": (("uploads", "CreateMultipartUpload"), ("uploadId", "CompleteMultipartUpload"),
             ("restore", "RestoreObject"), ("select", "SelectObjectContent")),
    "DELETE": (("uploadId", "AbortMultipartUpload"), ("tagging", "DeleteObjectTagging")),
}
_BUCKET_SUB = ("versions", "versioning", "lifecycle", "policy", "cors", "website", "acl",
               "tagging", "encryption", "replication", "logging", "notification",
               "object-lock", "ownershipControls", "publicAccessBlock", "accelerate",
               "requestPayment", "analytics", "inventory", "metrics", "intelligent-tiering")


def classify(method, has_key, query, headers, has_bucket=True):
    """The S3 operation name, or 'Unknown'."""
    if not has_bucket:
        return "ListBuckets" if method == "GET" else "Unknown"
    if has_key:
        if method == "HEAD":
            return "HeadObject"
        if method == "PUT" and "partNumber" in query and "uploadId" in query:
            return "UploadPartCopy" if "x-amz-copy-source" in headers else "UploadPart"
        for name, op in _OBJECT_SUB.get(method, ()):
            if name in query:
                return op
        if method == "GET":
            return "GetObject"
        if method == "PUT":
            return "CopyObject" if "x-amz-copy-source" in headers else "PutObject"
        if method == "DELETE":
            return "DeleteObject"
        return "Unknown"
    if method == "GET":
        if query.get("list-type") == "2":
            return "ListObjectsV2"
        if "uploads" in query:
            return "ListMultipartUploads"
        if "location" in query:
            return "GetBucketLocation"
        for sub in _BUCKET_SUB:
            if sub in query:
                return "ListObjectVersions" if sub == "versions" else \
                    "GetBucket" + sub[0].upper() + sub[1:]
        return "ListObjects"
    if method == "HEAD":
        return "HeadBucket"
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    if method == "PUT":
        return "CreateBucket" if not query else "PutBucketConfiguration"
    if method == "DELETE":
        return "DeleteBucket" if not query else "DeleteBucketConfiguration"
    return "Unknown"


def handler_for(op, via_mrap):
    allowed = MRAP_OPERATIONS if via_mrap else REGIONAL_OPERATIONS
    if op not in allowed:
        if op in ("CopyObject", "UploadPartCopy"):
            raise not_implemented("x-amz-copy-source")
        raise not_implemented()
    return HANDLERS[op]
