/*
 * Multipart uploads: Create, UploadPart, Complete, Abort, and the part-size
 * schedule. Listing uploads and parts lives in mpu_list.c.
 *
 * Every upload is created with x-amz-checksum-algorithm: CRC32C, so S3 keeps
 * each part's CRC32C, refuses a part whose bytes do not match it, and checks
 * at completion that the CRCs we list are the ones it stored. Parts go
 * through the same verified body upload as PutObject (write.c).
 *
 * CompleteMultipartUpload is the one operation whose failure can arrive as
 * "200 OK" with an <Error> body (S3 starts answering before the work is
 * done). mrap_s3_op_xml() turns that into an errno; here a retryable code
 * (InternalError, SlowDown, ...) sends the request again, at most
 * COMPLETE_ATTEMPTS times in all. Because a completion whose answer was lost
 * makes every later attempt fail with NoSuchUpload, that code is not final:
 * HeadObject then decides, and an object whose ETag is exactly the multipart
 * ETag of our parts (the MD5 of their MD5s, so the same bytes) counts as
 * completed. That check is made whichever attempt saw NoSuchUpload, because
 * the client's own retries (after a 500 or a reset) are attempts we cannot
 * see from here.
 */
#include "s3/write.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "s3/write_internal.h"
#include "s3/xml.h"
#include "util/crc32c.h"
#include "util/log.h"

#define COMPLETE_ATTEMPTS   3
#define COMPLETE_PAUSE_MS   200 /* before a re-send, times the attempt number */
#define UPLOAD_ID_MAX_BYTES 1024
/* 10,000 parts of ~130 bytes each, with room for long escaped ETags. */
#define COMPLETE_BODY_MAX (8u << 20)
#define S3_XMLNS          "http://s3.amazonaws.com/doc/2006-03-01/"

uint64_t mrap_s3_mpu_part_size(uint64_t object_size, unsigned part_number)
{
    const uint64_t mib = 1u << 20;
    if (part_number < 1 || part_number > MRAP_S3_MAX_PARTS)
        return 0;
    if (object_size == MRAP_S3_SIZE_UNKNOWN)
        return MRAP_S3_FIRST_PART_SIZE << ((part_number - 1) / 1000);
    if (object_size > MRAP_S3_MAX_OBJECT_SIZE)
        return 0;
    uint64_t size = (object_size + MRAP_S3_MAX_PARTS - 1) / MRAP_S3_MAX_PARTS;
    size = (size + mib - 1) / mib * mib;
    return size < MRAP_S3_FIRST_PART_SIZE ? MRAP_S3_FIRST_PART_SIZE : size;
}

/* Anything else would be refused by S3 or could never have come from it. */
int mrap_s3_write_check_upload_id(const char *id)
{
    if (!id || !*id || strlen(id) > UPLOAD_ID_MAX_BYTES)
        return -EINVAL;
    for (; *id; id++)
        if ((unsigned char)*id <= 0x20 || (unsigned char)*id >= 0x7f)
            return -EINVAL;
    return 0;
}

static int check_target(const char *key, const char *upload_id, struct mrap_s3_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
    int rc = mrap_s3_op_check_key(key);
    return rc ? rc : mrap_s3_write_check_upload_id(upload_id);
}

int mrap_s3_mpu_create(struct mrap_s3_client *c, const char *key,
                       const struct mrap_s3_put_opts *opts, char **upload_id,
                       struct mrap_s3_error *err)
{
    struct mrap_s3_write_headers wh;
    xmlDocPtr doc = NULL;
    struct mrap_http_response resp;

    *upload_id = NULL;
    if (err)
        memset(err, 0, sizeof(*err));
    int rc = mrap_s3_op_check_key(key);
    if (!rc)
        rc = mrap_s3_write_opts_headers(opts, false, &wh);
    if (rc)
        return rc;
    mrap_s3_op_header_add(&wh.h, "x-amz-checksum-algorithm", "CRC32C");
    if (wh.h.overflow)
        return -E2BIG;
    struct mrap_s3_param params[] = {{"uploads", NULL}};
    struct mrap_s3_request req = {.method = "POST",
                                  .key = key,
                                  .params = params,
                                  .n_params = 1,
                                  .headers = wh.h.v,
                                  .n_headers = wh.h.n};
    rc = mrap_s3_op_xml(c, &req, MRAP_S3_OP_DOC_BODY_MAX, "InitiateMultipartUploadResult", &doc,
                        &resp, err);
    if (rc)
        goto out;
    char *id = mrap_xml_child_strdup(xmlDocGetRootElement(doc), "UploadId");
    if (!id || mrap_s3_write_check_upload_id(id)) {
        free(id);
        mrap_s3_op_fail(err, &resp, "", "POST %s?uploads: no usable UploadId in the answer", key);
        rc = -EPROTO;
        goto out;
    }
    *upload_id = id;
out:
    xmlFreeDoc(doc);
    mrap_http_response_cleanup(&resp);
    return rc;
}

int mrap_s3_mpu_upload_part(struct mrap_s3_client *c, const char *key, const char *upload_id,
                            unsigned part_number, const void *body, size_t len,
                            struct mrap_s3_part *out, struct mrap_s3_error *err)
{
    struct mrap_s3_write_headers wh;
    struct mrap_s3_body_result r;
    char num[16];

    memset(out, 0, sizeof(*out));
    int rc = check_target(key, upload_id, err);
    if (rc)
        return rc;
    if (part_number < 1 || part_number > MRAP_S3_MAX_PARTS || (len && !body))
        return -EINVAL;
    if (len > MRAP_S3_MAX_PART_SIZE)
        return -EFBIG;
    snprintf(num, sizeof(num), "%u", part_number);
    struct mrap_s3_param params[] = {{"partNumber", num}, {"uploadId", upload_id}};
    struct mrap_s3_request req = {.method = "PUT",
                                  .key = key,
                                  .params = params,
                                  .n_params = 2,
                                  .body = body,
                                  .body_len = len};
    memset(&wh.h, 0, sizeof(wh.h));
    rc = mrap_s3_write_body(c, &req, &wh, false, &r, err);
    if (rc)
        return rc;
    out->part_number = part_number;
    out->size = len;
    memcpy(out->etag, r.etag, sizeof(out->etag));
    memcpy(out->md5, r.md5, sizeof(out->md5));
    out->crc32c = r.crc32c;
    out->has_crc32c = true;
    return 0;
}

void mrap_s3_mpu_expected_etag(const struct mrap_s3_part *parts, size_t n,
                               char out[MRAP_S3_ETAG_MAX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[33];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, parts[i].md5, sizeof(parts[i].md5));
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 16;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        out[0] = '\0'; /* out of memory: matches no ETag, so every check fails safe */
        return;
    }
    mrap_s3_op_hex(md, 16, hex);
    snprintf(out, MRAP_S3_ETAG_MAX, "\"%s-%zu\"", hex, n);
}

bool mrap_s3_write_etag_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= 2 && a[0] == '"' && a[la - 1] == '"')
        a++, la -= 2;
    if (lb >= 2 && b[0] == '"' && b[lb - 1] == '"')
        b++, lb -= 2;
    return la == lb && la > 0 && strncasecmp(a, b, la) == 0;
}

static int check_parts(const struct mrap_s3_part *parts, size_t n)
{
    if (!parts || n < 1 || n > MRAP_S3_MAX_PARTS)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        const struct mrap_s3_part *p = &parts[i];
        if (p->part_number < 1 || p->part_number > MRAP_S3_MAX_PARTS ||
            (i && p->part_number <= parts[i - 1].part_number))
            return -EINVAL;
        if (!memchr(p->etag, '\0', sizeof(p->etag)) || !p->etag[0])
            return -EINVAL;
    }
    return 0;
}

static int complete_body(const struct mrap_s3_part *parts, size_t n, struct mrap_buf *b)
{
    int rc = mrap_buf_append_str(b, "<CompleteMultipartUpload xmlns=\"" S3_XMLNS "\">");
    for (size_t i = 0; !rc && i < n; i++) {
        rc = mrap_buf_printf(b, "<Part><PartNumber>%u</PartNumber>", parts[i].part_number);
        if (!rc)
            rc = mrap_s3_op_xml_elem(b, "ETag", parts[i].etag);
        if (!rc && parts[i].has_crc32c) {
            char crc[9];
            mrap_crc32c_base64(parts[i].crc32c, crc);
            rc = mrap_s3_op_xml_elem(b, "ChecksumCRC32C", crc);
        }
        if (!rc)
            rc = mrap_buf_append_str(b, "</Part>");
    }
    if (!rc)
        rc = mrap_buf_append_str(b, "</CompleteMultipartUpload>");
    return rc == -EFBIG ? -EINVAL : rc;
}

/* S3's composite checksum of the parts: CRC32C of their big-endian CRC32Cs,
 * base64, "-N". False when some part has no CRC32C to combine. */
static bool composite_crc(const struct mrap_s3_part *parts, size_t n, char *out, size_t outlen)
{
    uint32_t crc = 0;
    char b64[9];
    for (size_t i = 0; i < n; i++) {
        if (!parts[i].has_crc32c)
            return false;
        uint32_t v = parts[i].crc32c;
        unsigned char be[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                               (unsigned char)(v >> 8), (unsigned char)v};
        crc = mrap_crc32c(crc, be, sizeof(be));
    }
    mrap_crc32c_base64(crc, b64);
    snprintf(out, outlen, "%s-%zu", b64, n);
    return true;
}

/* Checks a CompleteMultipartUploadResult against the parts we sent. */
static int verify_complete(const char *key, xmlDocPtr doc, const struct mrap_http_response *resp,
                           const struct mrap_s3_part *parts, size_t n, char *etag_out,
                           struct mrap_s3_error *err)
{
    char etag[MRAP_S3_ETAG_MAX], expected[MRAP_S3_ETAG_MAX], crc[64], want_crc[32];
    xmlNodePtr root = xmlDocGetRootElement(doc);
    long len = mrap_xml_child_text(root, "ETag", etag, sizeof(etag));
    if (len <= 0 || (size_t)len >= sizeof(etag)) {
        mrap_s3_op_fail(err, resp, "", "complete %s: no usable ETag in the answer", key);
        return -EPROTO;
    }
    mrap_s3_mpu_expected_etag(parts, n, expected);
    bool have_crc = composite_crc(parts, n, want_crc, sizeof(want_crc));
    long crc_len = mrap_xml_child_text(root, "ChecksumCRC32C", crc, sizeof(crc));
    bool crc_checked = have_crc && crc_len > 0;
    if (crc_checked && strcmp(crc, want_crc) != 0) {
        mrap_s3_op_fail(err, resp, "ChecksumMismatch",
                        "complete %s: composite CRC32C %.40s, expected %s", key, crc, want_crc);
        return -EIO;
    }
    if (mrap_s3_write_etag_opaque(resp)) {
        if (!crc_checked) {
            mrap_s3_op_fail(err, resp, "ChecksumMismatch",
                            "complete %s: encrypted object and no composite CRC32C to verify", key);
            return -EIO;
        }
    } else if (!mrap_s3_write_etag_equal(etag, expected)) {
        mrap_s3_op_fail(err, resp, "ETagMismatch", "complete %s: ETag %s, expected %s", key, etag,
                        expected);
        return -EIO;
    }
    if (etag_out)
        snprintf(etag_out, MRAP_S3_ETAG_MAX, "%s", etag);
    return 0;
}

/* The upload is gone: did an earlier attempt complete it with our parts? */
static int resolve_gone_upload(struct mrap_s3_client *c, const char *key,
                               const struct mrap_s3_part *parts, size_t n, char *etag_out)
{
    struct mrap_s3_object_info info;
    char expected[MRAP_S3_ETAG_MAX];
    mrap_s3_mpu_expected_etag(parts, n, expected);
    int rc = mrap_s3_head_object(c, key, &info, NULL);
    if (rc == 0 && mrap_s3_write_etag_equal(info.etag, expected)) {
        mrap_log(MRAP_LOG_INFO, "s3", "complete %s: upload already completed (object has ETag %s)",
                 key, info.etag);
        if (etag_out)
            snprintf(etag_out, MRAP_S3_ETAG_MAX, "%s", info.etag);
        return 0;
    }
    mrap_log(MRAP_LOG_WARN, "s3", "complete %s: upload gone and the object %s%s, not %s", key,
             rc == 0 ? "has ETag " : "is ", rc == 0 ? info.etag : "missing or unreadable",
             expected);
    return -ENOENT;
}

static void pause_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

int mrap_s3_mpu_complete(struct mrap_s3_client *c, const char *key, const char *upload_id,
                         const struct mrap_s3_part *parts, size_t n, char *etag_out,
                         struct mrap_s3_error *err)
{
    struct mrap_s3_error local_err;
    struct mrap_buf body;
    struct mrap_http_response resp;
    xmlDocPtr doc = NULL;

    if (!err)
        err = &local_err;
    if (etag_out)
        etag_out[0] = '\0';
    int rc = check_target(key, upload_id, err);
    if (!rc)
        rc = check_parts(parts, n);
    if (rc)
        return rc;
    mrap_buf_init(&body, COMPLETE_BODY_MAX);
    rc = complete_body(parts, n, &body);
    if (rc)
        goto out;
    struct mrap_s3_param params[] = {{"uploadId", upload_id}};
    struct mrap_s3_request req = {.method = "POST",
                                  .key = key,
                                  .params = params,
                                  .n_params = 1,
                                  .body = body.data,
                                  .body_len = body.len};
    for (unsigned attempt = 1;; attempt++) {
        rc = mrap_s3_op_xml(c, &req, MRAP_S3_OP_DOC_BODY_MAX, "CompleteMultipartUploadResult", &doc,
                            &resp, err);
        if (!rc) {
            rc = verify_complete(key, doc, &resp, parts, n, etag_out, err);
            mrap_http_response_cleanup(&resp);
            break;
        }
        mrap_http_response_cleanup(&resp);
        if (rc == -ENOENT && mrap_s3_op_code_is(err, "NoSuchUpload")) {
            rc = resolve_gone_upload(c, key, parts, n, etag_out);
            break;
        }
        /* Only a 2xx <Error> is re-sent here: failures with an error status
         * were already retried by the client. */
        bool in_200 = err->http_status >= 200 && err->http_status < 300;
        if (!in_200 || !mrap_s3_error_retryable(err) || attempt >= COMPLETE_ATTEMPTS)
            break;
        mrap_log(MRAP_LOG_INFO, "s3", "complete %s: sending again after %s in a %ld answer", key,
                 err->code, err->http_status);
        pause_ms(COMPLETE_PAUSE_MS * attempt);
    }
out:
    xmlFreeDoc(doc);
    mrap_buf_cleanup(&body);
    return rc;
}

int mrap_s3_mpu_abort(struct mrap_s3_client *c, const char *key, const char *upload_id,
                      struct mrap_s3_error *err)
{
    int rc = check_target(key, upload_id, err);
    if (rc)
        return rc;
    struct mrap_s3_param params[] = {{"uploadId", upload_id}};
    struct mrap_s3_request req = {.method = "DELETE", .key = key, .params = params, .n_params = 1};
    return mrap_s3_op_run(c, &req, MRAP_S3_OP_SMALL_BODY_MAX, NULL, err);
}
