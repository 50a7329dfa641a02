/*
 * Shared plumbing for the write and attribute operations: digests and their
 * text forms, key checks, and running a request whose answer is a bounded XML
 * document.
 *
 * Why mrap_s3_op_xml() looks for <Error> in 2xx answers: S3 documents that
 * CompleteMultipartUpload (and, in principle, any operation that streams its
 * answer after sending 200) may report a failure as "200 OK" with an <Error>
 * body. Checking every document answer costs one root-name comparison and
 * means no caller can mistake such an answer for success.
 */
#include "s3/op_util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/xml.h"
#include "util/log.h"

void mrap_s3_op_header_add(struct mrap_s3_op_headers *h, const char *name, const char *value)
{
    if (h->n >= MRAP_S3_OP_MAX_HEADERS) {
        h->overflow = true;
        return;
    }
    h->v[h->n++] = (struct mrap_sig_header){name, value};
}

int mrap_s3_op_check_key(const char *key)
{
    if (!key || !*key)
        return -EINVAL;
    if (strlen(key) > MRAP_S3_KEY_MAX)
        return -ENAMETOOLONG;
    return 0;
}

void mrap_s3_op_md5(const void *data, size_t len, unsigned char out[16])
{
    unsigned int n = 0;
    /* MD5 here is S3's ETag and Content-MD5 algorithm, not a security
     * primitive; EVP_Digest only fails without memory, and then the all-zero
     * digest makes every comparison fail safe. */
    if (!EVP_Digest(data ? data : "", len, out, &n, EVP_md5(), NULL) || n != 16)
        memset(out, 0, 16);
}

void mrap_s3_op_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void mrap_s3_op_base64(const unsigned char *in, size_t n, char *out, size_t outlen)
{
    if (outlen < 4 * ((n + 2) / 3) + 1 || n > INT32_MAX) {
        if (outlen)
            out[0] = '\0';
        return;
    }
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static int hex_nibble(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)(ch | 0x20);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int mrap_s3_op_etag_md5(const char *etag, unsigned char md5[16])
{
    if (!etag)
        return -EPROTO;
    size_t len = strlen(etag);
    if (len == 34 && etag[0] == '"' && etag[33] == '"') {
        etag++;
        len -= 2;
    }
    if (len != 32)
        return -EPROTO;
    for (int i = 0; i < 16; i++) {
        int hi = hex_nibble(etag[2 * i]), lo = hex_nibble(etag[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EPROTO;
        md5[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int mrap_s3_op_url_decode(char *s)
{
    size_t w = 0;
    for (size_t r = 0; s[r]; r++, w++) {
        if (s[r] == '+') {
            s[w] = ' ';
            continue;
        }
        if (s[r] != '%') {
            s[w] = s[r];
            continue;
        }
        int hi = hex_nibble(s[r + 1]);
        int lo = hi < 0 ? -1 : hex_nibble(s[r + 2]);
        if (lo < 0 || (hi | lo) == 0)
            return -EPROTO; /* bad escape, or %00 which no C string can hold */
        s[w] = (char)(hi << 4 | lo);
        r += 2;
    }
    s[w] = '\0';
    return 0;
}

int mrap_s3_op_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return -EPROTO;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EPROTO;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -EPROTO;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

bool mrap_s3_op_code_is(const struct mrap_s3_error *err, const char *code)
{
    return err && strcmp(err->code, code) == 0;
}

void mrap_s3_op_fail(struct mrap_s3_error *err, const struct mrap_http_response *resp,
                     const char *code, const char *fmt, ...)
{
    struct mrap_s3_error local;
    va_list ap;
    if (!err)
        err = &local;
    memset(err, 0, sizeof(*err));
    err->http_status = resp ? resp->status : 0;
    snprintf(err->code, sizeof(err->code), "%s", code ? code : "");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    const char *id = resp ? mrap_http_headers_get(&resp->headers, "x-amz-request-id") : NULL;
    if (id)
        snprintf(err->request_id, sizeof(err->request_id), "%s", id);
    char line[600];
    mrap_s3_error_format(err, line, sizeof(line));
    mrap_log(MRAP_LOG_WARN, "s3", "%s", line);
}

int mrap_s3_op_run(struct mrap_s3_client *c, const struct mrap_s3_request *req, size_t body_max,
                   struct mrap_http_response *resp_out, struct mrap_s3_error *err)
{
    struct mrap_http_response local;
    struct mrap_http_response *resp = resp_out ? resp_out : &local;
    mrap_http_response_init(resp, body_max);
    int rc = mrap_s3_execute(c, req, resp, err);
    if (!resp_out)
        mrap_http_response_cleanup(resp);
    return rc;
}

int mrap_s3_op_xml(struct mrap_s3_client *c, const struct mrap_s3_request *req, size_t body_max,
                   const char *root_name, xmlDocPtr *doc, struct mrap_http_response *resp_out,
                   struct mrap_s3_error *err)
{
    struct mrap_http_response local;
    struct mrap_http_response *resp = resp_out ? resp_out : &local;
    struct mrap_s3_error local_err;
    if (!err)
        err = &local_err;
    *doc = NULL;
    int rc = mrap_s3_op_run(c, req, body_max, resp, err);
    if (rc)
        goto out;
    *doc = mrap_xml_parse(resp->body.data ? resp->body.data : "", resp->body.len);
    xmlNodePtr root = *doc ? xmlDocGetRootElement(*doc) : NULL;
    if (root && strcmp((const char *)root->name, root_name) == 0)
        goto out;
    if (root && strcmp((const char *)root->name, "Error") == 0 &&
        mrap_s3_error_parse(err, resp->body.data, resp->body.len) == 0) {
        /* "200 OK" carrying an <Error>: a failure, with S3's code deciding
         * the errno (and, for the caller, whether to retry). */
        err->http_status = resp->status;
        char line[600];
        mrap_s3_error_format(err, line, sizeof(line));
        mrap_log(MRAP_LOG_WARN, "s3", "%s %s: error document in a %ld answer: %s", req->method,
                 req->key ? req->key : "", resp->status, line);
        rc = mrap_s3_error_errno(err);
        if (rc == 0)
            rc = -EIO;
    } else {
        mrap_s3_op_fail(err, resp, "", "%s %s: expected a <%s> document", req->method,
                        req->key ? req->key : "", root_name);
        rc = -EPROTO;
    }
    xmlFreeDoc(*doc);
    *doc = NULL;
out:
    if (!resp_out)
        mrap_http_response_cleanup(resp);
    return rc;
}

int mrap_s3_op_xml_elem(struct mrap_buf *b, const char *name, const char *text)
{
    int rc = mrap_buf_printf(b, "<%s>", name);
    if (!rc)
        rc = mrap_xml_escape(b, text);
    if (!rc)
        rc = mrap_buf_printf(b, "</%s>", name);
    return rc;
}
