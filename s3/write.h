/*
 * Writing objects: PutObject, DeleteObject and multipart uploads, each
 * checked end to end so that nothing is reported stored that S3 did not
 * store intact.
 *
 * Integrity, the same way for every upload:
 *   - each body (a PutObject, each part) carries x-amz-checksum-crc32c
 *     computed here, so S3 refuses damaged bytes (BadDigest -> -EIO);
 *   - the ETag S3 answers with must be the hex MD5 of the bytes we sent
 *     (objects encrypted with SSE-KMS or SSE-C have other ETags; for those
 *     the CRC32C S3 echoes back must be present and equal instead);
 *   - a CRC32C S3 echoes back must equal ours;
 *   - CompleteMultipartUpload's ETag must be hex(md5(part MD5s))-N and its
 *     composite CRC32C, when sent, crc32c(part CRCs)-N.
 * Any mismatch is -EIO with a warning logged; the caller then aborts the
 * upload or reports the write as failed.
 *
 * Thread-safety: every function may be called from any number of threads on
 * the same client (the client is immutable). Different parts of one upload
 * may be uploaded in parallel.
 *
 * Errors: 0 or a negative errno. Remote failures come from the one table in
 * s3/errors.c (e.g. -ENOENT NoSuchUpload, -EPERM Object Lock, -EACCES,
 * -EINVAL for requests S3 calls invalid, -EIO after retries); *err (may be
 * NULL) then holds the S3 code, message and request id for the log line.
 * Requests refused here, before anything is sent: -EINVAL (bad key, metadata
 * name or value, storage class, part number, part list), -ENAMETOOLONG (key
 * over 1,024 bytes), -E2BIG (user metadata over S3's 2 KiB, or more than
 * MRAP_S3_META_MAX_ENTRIES entries), -EFBIG (a body over S3's size limits).
 * Answers that do not parse or are missing what S3 always sends: -EPROTO.
 */
#ifndef MRAP_S3_WRITE_H
#define MRAP_S3_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "s3/client.h"

#define MRAP_S3_MIN_PART_SIZE  (5ull << 20)  /* every part but the last */
#define MRAP_S3_MAX_PART_SIZE  (5ull << 30)
#define MRAP_S3_MAX_PUT_SIZE   (5ull << 30)  /* one PutObject */
#define MRAP_S3_MAX_PARTS      10000u
#define MRAP_S3_MAX_OBJECT_SIZE (5ull << 40) /* 5 TiB */
#define MRAP_S3_FIRST_PART_SIZE (8ull << 20) /* where part sizes start */
#define MRAP_S3_SIZE_UNKNOWN   UINT64_MAX
/* S3 counts the UTF-8 bytes of each name (without "x-amz-meta-") and value. */
#define MRAP_S3_META_MAX_BYTES 2048u
/* Each entry is one signed header and the client signs at most 32 per request. */
#define MRAP_S3_META_MAX_ENTRIES 24u

/* A user metadata entry, sent as "x-amz-meta-<name>: <value>". Borrowed. */
struct mrap_s3_meta {
    const char *name;  /* RFC 7230 token characters; compared case-insensitively */
    const char *value; /* printable US-ASCII, no leading/trailing blanks (S3 would
                        * trim them and change the value); may be "" */
};

struct mrap_s3_put_opts {
    const char *content_type;  /* NULL: not sent (S3 stores binary/octet-stream) */
    const struct mrap_s3_meta *meta;
    size_t n_meta;
    const char *storage_class; /* NULL: STANDARD; else one of S3's class names */
    /* PutObject only: If-None-Match: * (create only when the key is absent;
     * an existing key fails with -ESTALE, S3's PreconditionFailed). */
    bool if_none_match_star;
    /* PutObject only (CreateMultipartUpload ignores it): also send Content-MD5,
     * so the server checks the MD5 before storing as well as the CRC32C. The
     * ETag check after the answer does not depend on it. */
    bool content_md5;
};

struct mrap_s3_put_result {
    char etag[MRAP_S3_ETAG_MAX]; /* quoted, as S3 sends it */
    uint32_t crc32c;             /* of the body */
};

/*
 * PutObject of body[0..len) (len <= 5 GiB; body may be NULL when len is 0).
 * opts may be NULL. On 0 the object is stored and verified.
 */
int mrap_s3_put_object(struct mrap_s3_client *c, const char *key, const void *body, size_t len,
                       const struct mrap_s3_put_opts *opts, struct mrap_s3_put_result *result,
                       struct mrap_s3_error *err);

/* DeleteObject. Deleting a key that does not exist succeeds (S3 answers 204).
 * An object under Object Lock gives -EPERM. */
int mrap_s3_delete_object(struct mrap_s3_client *c, const char *key, struct mrap_s3_error *err);

/* Checks the options shared by PutObject and CreateMultipartUpload without
 * sending anything (so a writer can fail at open, not at close). */
int mrap_s3_put_opts_check(const struct mrap_s3_put_opts *opts);

/* ---- multipart ---- */

/* One uploaded part: what CompleteMultipartUpload needs and what ListParts reports. */
struct mrap_s3_part {
    unsigned part_number;        /* 1..10000 */
    uint64_t size;
    char etag[MRAP_S3_ETAG_MAX]; /* quoted */
    unsigned char md5[16];       /* what the ETag stands for */
    uint32_t crc32c;
    bool has_crc32c;             /* ListParts: the upload reported a CRC32C */
    struct timespec last_modified; /* ListParts only */
};

/*
 * The part size for part `part_number` (1-based) of an object of
 * `object_size` bytes, or MRAP_S3_SIZE_UNKNOWN for a stream.
 *   Known size: one size for every part, the smallest multiple of 1 MiB that
 *   is at least 8 MiB and fits the object in 10,000 parts.
 *   Unknown size: 8 MiB for parts 1..1000, then doubling every 1,000 parts
 *   (16 MiB, 32 MiB, ... 4 GiB for parts 9001..10000), so small streams keep
 *   small buffers and 10,000 parts hold 8 TiB > 5 TiB.
 * Returns 0 when part_number is not 1..10000 or object_size is over 5 TiB.
 */
uint64_t mrap_s3_mpu_part_size(uint64_t object_size, unsigned part_number);

/*
 * CreateMultipartUpload with x-amz-checksum-algorithm: CRC32C (so S3 checks
 * each part's checksum against the one given at completion) and the metadata
 * of opts (if_none_match_star does not apply and must be false: -EINVAL).
 * *upload_id is a heap string the caller frees.
 */
int mrap_s3_mpu_create(struct mrap_s3_client *c, const char *key,
                       const struct mrap_s3_put_opts *opts, char **upload_id,
                       struct mrap_s3_error *err);

/*
 * UploadPart: body[0..len) as part `part_number` (1..10000, len <= 5 GiB; S3
 * checks the 5 MiB minimum at completion). On 0, *out describes the stored,
 * verified part (ETag == MD5 of the body, CRC32C as computed).
 */
int mrap_s3_mpu_upload_part(struct mrap_s3_client *c, const char *key, const char *upload_id,
                            unsigned part_number, const void *body, size_t len,
                            struct mrap_s3_part *out, struct mrap_s3_error *err);

/*
 * CompleteMultipartUpload with parts[0..n) (1 <= n <= 10000, strictly
 * ascending part numbers, each with its ETag and, when has_crc32c or from
 * mrap_s3_mpu_upload_part, its CRC32C). The body is checked before sending:
 * -EINVAL for an empty, unordered or oversized list.
 *
 * "200 OK with an <Error> body" is a failure; when its code is retryable
 * (InternalError, SlowDown, ...) the request is sent again, up to 3 times in
 * all. When a request finds the upload gone (NoSuchUpload: an earlier
 * attempt, ours or a retry inside the client after a 5xx or a reset,
 * completed it but its answer was lost), HeadObject decides: an object with
 * exactly the expected multipart ETag counts as completed; otherwise -ENOENT.
 * On 0, etag_out (MRAP_S3_ETAG_MAX bytes, may be NULL) holds the verified
 * final ETag, quoted.
 */
int mrap_s3_mpu_complete(struct mrap_s3_client *c, const char *key, const char *upload_id,
                         const struct mrap_s3_part *parts, size_t n, char *etag_out,
                         struct mrap_s3_error *err);

/* AbortMultipartUpload. -ENOENT when the upload does not exist (any more). */
int mrap_s3_mpu_abort(struct mrap_s3_client *c, const char *key, const char *upload_id,
                      struct mrap_s3_error *err);

/* The multipart ETag parts[0..n) must produce, quoted: "\"hex(md5(md5s))-n\"". */
void mrap_s3_mpu_expected_etag(const struct mrap_s3_part *parts, size_t n,
                               char out[MRAP_S3_ETAG_MAX]);

/* ---- listing uploads and parts (s3/mpu_list.c) ---- */

struct mrap_s3_part_list {
    struct mrap_s3_part *parts; /* owned */
    size_t n;
    bool truncated;
    unsigned next_marker;       /* part-number-marker for the next page */
};

/*
 * One ListParts page: parts numbered above part_number_marker (0 = from the
 * start), at most 1,000. The page (16 MiB of XML at most) is cleaned up by the
 * caller with mrap_s3_part_list_cleanup().
 */
int mrap_s3_mpu_list_parts(struct mrap_s3_client *c, const char *key, const char *upload_id,
                           unsigned part_number_marker, struct mrap_s3_part_list *page,
                           struct mrap_s3_error *err);
/*
 * Every part of an upload, following the pages (at most 10,000 parts and 20
 * pages; a page that does not advance the marker is -EPROTO).
 */
int mrap_s3_mpu_list_all_parts(struct mrap_s3_client *c, const char *key, const char *upload_id,
                               struct mrap_s3_part_list *all, struct mrap_s3_error *err);
void mrap_s3_part_list_cleanup(struct mrap_s3_part_list *l); /* accepts NULL */

/*
 * Checks before completing: `listed` (from ListParts) holds exactly the
 * parts in `mine` with the same ETags and sizes. 0 or -EIO (which part
 * differs goes to the log).
 */
int mrap_s3_mpu_parts_match(const struct mrap_s3_part *mine, size_t n,
                            const struct mrap_s3_part_list *listed);

struct mrap_s3_upload {
    char *key;       /* decoded, owned */
    char *upload_id; /* owned */
    struct timespec initiated;
    char storage_class[32];
};

struct mrap_s3_upload_page {
    struct mrap_s3_upload *uploads; /* owned */
    size_t n;
    bool truncated;
    char *next_key_marker;       /* pass both to the next call; NULL when done */
    char *next_upload_id_marker;
};

/*
 * One ListMultipartUploads page (encoding-type=url; keys decoded) of uploads
 * whose key starts with prefix (NULL or "" = all), after the markers (NULL =
 * from the start). At most 1,000 uploads; 16 MiB of XML.
 */
int mrap_s3_list_uploads(struct mrap_s3_client *c, const char *prefix, const char *key_marker,
                         const char *upload_id_marker, struct mrap_s3_upload_page *page,
                         struct mrap_s3_error *err);
void mrap_s3_upload_page_cleanup(struct mrap_s3_upload_page *page); /* accepts NULL */

/* Parsers, exposed for tests. 0, -EPROTO, or -ENOMEM. */
int mrap_s3_list_parts_parse(const char *xml, size_t len, struct mrap_s3_part_list *page);
int mrap_s3_list_uploads_parse(const char *xml, size_t len, struct mrap_s3_upload_page *page);

#endif
