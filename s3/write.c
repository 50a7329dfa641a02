/*
 * PutObject and DeleteObject, and the two pieces every body upload shares
 * with multipart.c: the request headers built from mrap_s3_put_opts, and
 * sending a body so that S3 verifies it and we verify S3's answer.
 *
 * Why bodies are sent with UNSIGNED-PAYLOAD: the signature then covers the
 * headers, including x-amz-checksum-crc32c, but not a SHA-256 of the body, as
 * the AWS SDKs send uploads. Integrity does not rest on the payload hash: S3
 * recomputes the CRC32C and refuses a mismatch (BadDigest), and we compare
 * the ETag with the MD5 we computed. What the payload hash would add is
 * protection against an active attacker rewriting a body on a plain-HTTP
 * endpoint; such an attacker already controls every byte GetObject returns
 * there (responses are never signed), and AWS endpoints are HTTPS. Skipping
 * it saves a full SHA-256 pass over every byte written, on the same cores the
 * filesystem runs on.
 *
 * Options are checked in full before anything is sent, so a writer can refuse
 * bad metadata at open() (mrap_s3_put_opts_check) instead of losing data at
 * close().
 */
#include "s3/write.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "s3/write_internal.h"
#include "util/crc32c.h"

#define CONTENT_TYPE_MAX_BYTES 1024

/* S3's storage classes (botocore's StorageClass enum). */
static const char *const storage_classes[] = {
    "STANDARD",        "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
    "GLACIER",         "DEEP_ARCHIVE",       "OUTPOSTS",    "GLACIER_IR", "SNOW",
    "EXPRESS_ONEZONE", "FSX_OPENZFS",
};

/* RFC 7230 tchar: what an HTTP header name may hold. */
static bool is_token_char(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    return ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!is_token_char((unsigned char)*s))
            return false;
    return true;
}

/* Printable US-ASCII without leading or trailing blanks: S3 trims header
 * values, so anything else would be stored differently from what was asked. */
static bool is_plain_value(const char *s)
{
    size_t n = strlen(s);
    if (n && (s[0] == ' ' || s[n - 1] == ' '))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

static bool known_storage_class(const char *sc)
{
    for (size_t i = 0; i < sizeof(storage_classes) / sizeof(storage_classes[0]); i++)
        if (strcmp(sc, storage_classes[i]) == 0)
            return true;
    return false;
}

static int check_meta(const struct mrap_s3_meta *meta, size_t n)
{
    size_t bytes = 0;
    if (n && !meta)
        return -EINVAL;
    if (n > MRAP_S3_META_MAX_ENTRIES)
        return -E2BIG;
    for (size_t i = 0; i < n; i++) {
        if (!meta[i].name || !meta[i].value || !is_token(meta[i].name) ||
            !is_plain_value(meta[i].value))
            return -EINVAL;
        /* S3 lower-cases names: two that differ only in case would collide. */
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(meta[i].name, meta[j].name) == 0)
                return -EINVAL;
        bytes += strlen(meta[i].name) + strlen(meta[i].value);
        if (bytes > MRAP_S3_META_MAX_BYTES)
            return -E2BIG;
    }
    return 0;
}

static int check_opts(const struct mrap_s3_put_opts *opts, bool for_put)
{
    if (!opts)
        return 0;
    if (opts->if_none_match_star && !for_put)
        return -EINVAL;
    if (opts->content_type && (!*opts->content_type || !is_plain_value(opts->content_type) ||
                               strlen(opts->content_type) > CONTENT_TYPE_MAX_BYTES))
        return -EINVAL;
    if (opts->storage_class && !known_storage_class(opts->storage_class))
        return -EINVAL;
    return check_meta(opts->meta, opts->n_meta);
}

int mrap_s3_put_opts_check(const struct mrap_s3_put_opts *opts)
{
    return check_opts(opts, true);
}

int mrap_s3_write_opts_headers(const struct mrap_s3_put_opts *opts, bool for_put,
                               struct mrap_s3_write_headers *wh)
{
    memset(&wh->h, 0, sizeof(wh->h));
    int rc = check_opts(opts, for_put);
    if (rc || !opts)
        return rc;
    if (opts->content_type)
        mrap_s3_op_header_add(&wh->h, "content-type", opts->content_type);
    if (opts->storage_class)
        mrap_s3_op_header_add(&wh->h, "x-amz-storage-class", opts->storage_class);
    if (for_put && opts->if_none_match_star)
        mrap_s3_op_header_add(&wh->h, "if-none-match", "*");
    size_t used = 0;
    for (size_t i = 0; i < opts->n_meta; i++) {
        char *name = wh->names + used;
        int n = snprintf(name, sizeof(wh->names) - used, "x-amz-meta-%s", opts->meta[i].name);
        if (n < 0 || (size_t)n >= sizeof(wh->names) - used)
            return -E2BIG; /* cannot happen after check_meta; kept as a guard */
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        used += (size_t)n + 1;
        mrap_s3_op_header_add(&wh->h, name, opts->meta[i].value);
    }
    return wh->h.overflow ? -E2BIG : 0;
}

bool mrap_s3_write_etag_opaque(const struct mrap_http_response *resp)
{
    const char *sse = mrap_http_headers_get(&resp->headers, "x-amz-server-side-encryption");
    return (sse && strncmp(sse, "aws:kms", 7) == 0) ||
           mrap_http_headers_get(&resp->headers,
                                 "x-amz-server-side-encryption-customer-algorithm") != NULL;
}

static int verify_answer(const struct mrap_s3_request *req, const struct mrap_http_response *resp,
                         struct mrap_s3_body_result *out, struct mrap_s3_error *err)
{
    const char *key = req->key ? req->key : "";
    const char *etag = mrap_http_headers_get(&resp->headers, "etag");
    if (!etag || !*etag || strlen(etag) >= sizeof(out->etag)) {
        mrap_s3_op_fail(err, resp, "", "%s %s: answer without a usable ETag", req->method, key);
        return -EPROTO;
    }
    snprintf(out->etag, sizeof(out->etag), "%s", etag);
    const char *echo = mrap_http_headers_get(&resp->headers, "x-amz-checksum-crc32c");
    uint32_t echoed = 0;
    if (echo && (mrap_crc32c_from_base64(echo, &echoed) || echoed != out->crc32c)) {
        char mine[9];
        mrap_crc32c_base64(out->crc32c, mine);
        mrap_s3_op_fail(err, resp, "ChecksumMismatch",
                        "%s %s: server reports CRC32C %.16s, we sent %s", req->method, key, echo,
                        mine);
        return -EIO;
    }
    if (mrap_s3_write_etag_opaque(resp)) {
        if (!echo) {
            mrap_s3_op_fail(err, resp, "ChecksumMismatch",
                            "%s %s: encrypted object and no CRC32C in the answer to verify",
                            req->method, key);
            return -EIO;
        }
        return 0;
    }
    unsigned char md5[16];
    if (mrap_s3_op_etag_md5(etag, md5) || memcmp(md5, out->md5, 16) != 0) {
        char hex[33];
        mrap_s3_op_hex(out->md5, 16, hex);
        mrap_s3_op_fail(err, resp, "ETagMismatch", "%s %s: ETag %s is not the body's MD5 %s",
                        req->method, key, out->etag, hex);
        return -EIO;
    }
    return 0;
}

int mrap_s3_write_body(struct mrap_s3_client *c, const struct mrap_s3_request *req,
                       struct mrap_s3_write_headers *wh, bool content_md5,
                       struct mrap_s3_body_result *out, struct mrap_s3_error *err)
{
    char crc_b64[9], md5_b64[25];
    struct mrap_http_response resp;

    memset(out, 0, sizeof(*out));
    if (req->body_len && !req->body)
        return -EINVAL;
    mrap_s3_op_md5(req->body, req->body_len, out->md5);
    out->crc32c = mrap_crc32c(0, req->body, req->body_len);
    mrap_crc32c_base64(out->crc32c, crc_b64);
    mrap_s3_op_header_add(&wh->h, "x-amz-checksum-crc32c", crc_b64);
    if (content_md5) {
        mrap_s3_op_base64(out->md5, 16, md5_b64, sizeof(md5_b64));
        mrap_s3_op_header_add(&wh->h, "content-md5", md5_b64);
    }
    if (wh->h.overflow)
        return -E2BIG;

    struct mrap_s3_request r = *req;
    r.headers = wh->h.v;
    r.n_headers = wh->h.n;
    r.unsigned_payload = true;
    int rc = mrap_s3_op_run(c, &r, MRAP_S3_OP_SMALL_BODY_MAX, &resp, err);
    if (!rc)
        rc = verify_answer(&r, &resp, out, err);
    mrap_http_response_cleanup(&resp);
    return rc;
}

int mrap_s3_put_object(struct mrap_s3_client *c, const char *key, const void *body, size_t len,
                       const struct mrap_s3_put_opts *opts, struct mrap_s3_put_result *result,
                       struct mrap_s3_error *err)
{
    struct mrap_s3_write_headers wh;
    struct mrap_s3_body_result r;

    if (err)
        memset(err, 0, sizeof(*err));
    int rc = mrap_s3_op_check_key(key);
    if (rc)
        return rc;
    if (len > MRAP_S3_MAX_PUT_SIZE)
        return -EFBIG;
    if (len && !body)
        return -EINVAL;
    rc = mrap_s3_write_opts_headers(opts, true, &wh);
    if (rc)
        return rc;
    struct mrap_s3_request req = {.method = "PUT", .key = key, .body = body, .body_len = len};
    rc = mrap_s3_write_body(c, &req, &wh, opts && opts->content_md5, &r, err);
    if (!rc && result) {
        memcpy(result->etag, r.etag, sizeof(result->etag));
        result->crc32c = r.crc32c;
    }
    return rc;
}

int mrap_s3_delete_object(struct mrap_s3_client *c, const char *key, struct mrap_s3_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
    int rc = mrap_s3_op_check_key(key);
    if (rc)
        return rc;
    struct mrap_s3_request req = {.method = "DELETE", .key = key};
    return mrap_s3_op_run(c, &req, MRAP_S3_OP_SMALL_BODY_MAX, NULL, err);
}
