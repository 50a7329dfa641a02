/*
 * Pieces of the write path shared by write.c and multipart.c. Internal to
 * s3/: other layers use s3/write.h.
 */
#ifndef MRAP_S3_WRITE_INTERNAL_H
#define MRAP_S3_WRITE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s3/op_util.h"
#include "s3/write.h"

/* Room for every "x-amz-meta-<name>" header name: the names count towards the
 * 2 KiB metadata limit, so they fit with their prefixes and NULs. */
#define MRAP_S3_META_NAMES_BYTES                                                                   \
    (MRAP_S3_META_MAX_ENTRIES * sizeof("x-amz-meta-") + MRAP_S3_META_MAX_BYTES)

/* The headers of one write request; the header list borrows from names[]
 * and from the options, so both must outlive the request. */
struct mrap_s3_write_headers {
    struct mrap_s3_op_headers h;
    char names[MRAP_S3_META_NAMES_BYTES];
};

/* Validates opts (see mrap_s3_put_opts_check) and adds the Content-Type,
 * storage class and metadata headers; If-None-Match too when allowed and
 * asked (for_put). opts may be NULL. 0, -EINVAL or -E2BIG. */
int mrap_s3_write_opts_headers(const struct mrap_s3_put_opts *opts, bool for_put,
                               struct mrap_s3_write_headers *wh);

/* Whether an answer's ETag cannot be an MD5 of the content: SSE-KMS and
 * SSE-C objects. Their uploads are verified by the echoed CRC32C instead. */
bool mrap_s3_write_etag_opaque(const struct mrap_http_response *resp);

/* What a verified body upload (PutObject, UploadPart) stored. */
struct mrap_s3_body_result {
    char etag[MRAP_S3_ETAG_MAX];
    unsigned char md5[16];
    uint32_t crc32c;
};

/*
 * Sends body[0..len) with req's method, key and parameters and the headers in
 * *wh, adding x-amz-checksum-crc32c (and Content-MD5 when content_md5), then
 * checks the answer: the ETag is the MD5 of the body (or, for SSE-KMS/SSE-C
 * objects, the echoed CRC32C is present) and an echoed CRC32C equals ours.
 * 0, -EIO on a mismatch, -EPROTO without an ETag, or the request's errno.
 */
int mrap_s3_write_body(struct mrap_s3_client *c, const struct mrap_s3_request *req,
                       struct mrap_s3_write_headers *wh, bool content_md5,
                       struct mrap_s3_body_result *out, struct mrap_s3_error *err);

/* Upload ids are opaque printable tokens (at most 1,024 bytes). 0 or -EINVAL. */
int mrap_s3_write_check_upload_id(const char *upload_id);

/* Whether two ETags are equal, ignoring their quotes and the case of hex digits. */
bool mrap_s3_write_etag_equal(const char *a, const char *b);

#endif
