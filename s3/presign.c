/*
 * Presigned URLs over the signer's query mode (s3/sigv4.c already builds
 * presigned canonical requests, cross-checked with the AWS CRT); this module
 * supplies the client's address, the credentials and S3's choices: only the
 * host header signed, UNSIGNED-PAYLOAD, no x-amz-content-sha256.
 */
#include "s3/presign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "s3/op_util.h"

static bool method_ok(const char *m)
{
    return m && (strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "HEAD") == 0);
}

void mrap_s3_presigned_cleanup(struct mrap_s3_presigned *p)
{
    if (!p)
        return;
    if (p->url)
        OPENSSL_cleanse(p->url, strlen(p->url));
    free(p->url);
    free(p->canonical_request);
    free(p->string_to_sign);
    memset(p, 0, sizeof(*p));
}

int mrap_s3_presign(struct mrap_s3_client *c, const struct mrap_s3_presign_opts *o,
                    struct mrap_s3_presigned *out)
{
    struct mrap_s3_client_info ci;
    struct mrap_credentials creds = {0};
    struct mrap_sig_result res;
    struct mrap_buf path;
    char *enc = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&res, 0, sizeof(res));
    mrap_s3_client_info(c, &ci);
    if (!method_ok(o->method) || o->expires_s < 1 || o->expires_s > MRAP_S3_PRESIGN_MAX_EXPIRES_S ||
        ci.target == MRAP_S3_TARGET_CONTROL)
        return -EINVAL;
    rc = mrap_s3_op_check_key(o->key);
    if (rc)
        return rc;

    /* The path as mrap_s3_execute puts it on the wire: encoded once, '/' kept. */
    mrap_buf_init(&path, 16384);
    enc = mrap_uri_encode(o->key, strlen(o->key), true);
    if (!enc) {
        rc = -ENOMEM;
        goto out;
    }
    rc = mrap_buf_printf(&path, "%s/%s", ci.path_base, enc);
    if (rc)
        goto out;
    rc = mrap_creds_provider_get(ci.creds, &creds);
    if (rc)
        goto out;
    struct mrap_sig_header host = {"host", ci.host};
    struct mrap_sig_request sreq = {.method = o->method,
                                    .path = mrap_buf_str(&path),
                                    .query = NULL,
                                    .headers = &host,
                                    .n_headers = 1};
    struct mrap_sig_opts sopts = {
        .alg = ci.target == MRAP_S3_TARGET_MRAP ? MRAP_SIG_V4A : MRAP_SIG_V4,
        .service = "s3",
        .region = ci.region,
        .now = o->now ? o->now : time(NULL),
        .payload_hash = MRAP_UNSIGNED_PAYLOAD,
        .presign = true,
        .expires_s = o->expires_s,
    };
    rc = mrap_signer_sign(ci.signer, &creds, &sreq, &sopts, &res);
    mrap_credentials_cleanup(&creds);
    if (rc)
        goto out;
    if (asprintf(&out->url, "%s%s?%s", ci.base_url, mrap_buf_str(&path), res.query) < 0) {
        out->url = NULL;
        rc = -ENOMEM;
        goto out;
    }
    out->canonical_request = res.canonical_request;
    out->string_to_sign = res.string_to_sign;
    res.canonical_request = res.string_to_sign = NULL;
out:
    if (res.query)
        OPENSSL_cleanse(res.query, strlen(res.query));
    mrap_sig_result_cleanup(&res);
    free(enc);
    mrap_buf_cleanup(&path);
    if (rc)
        mrap_s3_presigned_cleanup(out);
    return rc;
}
