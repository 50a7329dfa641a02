/*
 * HeadObject with everything the xattrs show, and the request shapes the
 * other attribute operations (attrs_tags.c, attrs_lock.c, attrs_acl.c) share.
 *
 * Header parsing is strict where a wrong value would mislead the user (sizes,
 * dates, Object Lock state, restore state: malformed -> -EPROTO) and bounded
 * everywhere: the HTTP layer caps all headers at 64 KiB, and user metadata is
 * additionally capped far above S3's own 2 KiB limit, so a hostile server
 * cannot make one HEAD allocate without limit.
 */
#include "s3/attrs.h"
#include "s3/attrs_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3/xml.h"

#define META_PREFIX "x-amz-meta-"

/* ---- shared request shapes ---- */

int mrap_s3_attrs_run_parse(struct mrap_s3_client *c, const struct mrap_s3_request *req,
                            const char *root, mrap_s3_attrs_parse_fn parse, void *out,
                            struct mrap_s3_error *err)
{
    struct mrap_http_response resp;
    xmlDocPtr doc = NULL;
    int rc = mrap_s3_op_xml(c, req, MRAP_S3_OP_DOC_BODY_MAX, root, &doc, &resp, err);
    if (!rc) {
        rc = parse(xmlDocGetRootElement(doc), out);
        if (rc == -EPROTO)
            mrap_s3_op_fail(err, &resp, "", "%s /%s: malformed <%s> answer", req->method,
                            req->key ? req->key : "", root);
    }
    xmlFreeDoc(doc);
    mrap_http_response_cleanup(&resp);
    return rc;
}

int mrap_s3_attrs_parse_doc(const char *xml, size_t len, const char *root,
                            mrap_s3_attrs_parse_fn parse, void *out)
{
    xmlDocPtr doc = mrap_xml_parse(xml, len);
    xmlNodePtr r = doc ? xmlDocGetRootElement(doc) : NULL;
    int rc = -EPROTO;
    if (r && strcmp((const char *)r->name, root) == 0)
        rc = parse(r, out);
    xmlFreeDoc(doc);
    return rc;
}

int mrap_s3_attrs_get(struct mrap_s3_client *c, const char *key, const char *subresource,
                      const char *root, mrap_s3_attrs_parse_fn parse, void *out,
                      struct mrap_s3_error *err)
{
    int rc = mrap_s3_op_check_key(key);
    if (rc)
        return rc;
    struct mrap_s3_param p[] = {{subresource, NULL}};
    struct mrap_s3_request req = {.method = "GET", .key = key, .params = p, .n_params = 1};
    return mrap_s3_attrs_run_parse(c, &req, root, parse, out, err);
}

int mrap_s3_attrs_send(struct mrap_s3_client *c, const char *method, const char *key,
                       const char *subresource, const struct mrap_buf *body,
                       const struct mrap_s3_op_headers *extra, long *status,
                       struct mrap_s3_error *err)
{
    unsigned char md5[16];
    char md5_b64[32];
    struct mrap_s3_op_headers h = {.n = 0};
    struct mrap_http_response resp;
    int rc = mrap_s3_op_check_key(key);
    if (rc)
        return rc;
    const char *data = body ? mrap_buf_str(body) : "";
    size_t len = body ? body->len : 0;
    /* S3 requires a checksum on these PUTs; Content-MD5 is the one every S3
     * implementation understands. */
    mrap_s3_op_md5(data, len, md5);
    mrap_s3_op_base64(md5, sizeof(md5), md5_b64, sizeof(md5_b64));
    mrap_s3_op_header_add(&h, "content-md5", md5_b64);
    if (len)
        mrap_s3_op_header_add(&h, "content-type", "application/xml");
    for (size_t i = 0; extra && i < extra->n; i++)
        mrap_s3_op_header_add(&h, extra->v[i].name, extra->v[i].value);
    if (h.overflow || (extra && extra->overflow))
        return -EINVAL;

    struct mrap_s3_param p[] = {{subresource, NULL}};
    struct mrap_s3_request req = {.method = method,
                                  .key = key,
                                  .params = p,
                                  .n_params = 1,
                                  .headers = h.v,
                                  .n_headers = h.n,
                                  .body = data,
                                  .body_len = len};
    rc = mrap_s3_op_run(c, &req, MRAP_S3_OP_SMALL_BODY_MAX, &resp, err);
    if (!rc)
        rc = mrap_s3_attrs_body_error(&resp, method, key, err);
    if (!rc && status)
        *status = resp.status;
    mrap_http_response_cleanup(&resp);
    return rc;
}

int mrap_s3_attrs_body_error(const struct mrap_http_response *resp, const char *method,
                             const char *what, struct mrap_s3_error *err)
{
    struct mrap_s3_error e2;
    memset(&e2, 0, sizeof(e2));
    if (!resp->body.len || mrap_s3_error_parse(&e2, resp->body.data, resp->body.len) != 0)
        return 0;
    /* A success status carrying an <Error> is a failure (see op_util.c). */
    mrap_s3_op_fail(err, resp, e2.code, "%s %s: error document in a %ld answer: %s", method, what,
                    resp->status, e2.message);
    int rc = mrap_s3_error_errno(&e2);
    return rc ? rc : -EIO;
}

int mrap_s3_attrs_doc_open(struct mrap_buf *b, const char *root)
{
    mrap_buf_init(b, MRAP_S3_OP_DOC_BODY_MAX);
    return mrap_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><%s xmlns=\"%s\">", root,
                           MRAP_S3_XMLNS);
}

int mrap_s3_attrs_child_copy(xmlNodePtr parent, const char *name, char *out, size_t outlen)
{
    long n = mrap_xml_child_text(parent, name, out, outlen);
    return n < 0 || (size_t)n >= outlen ? -EPROTO : 0;
}

/* ---- x-amz-restore ---- */

int mrap_s3_restore_parse(const char *v, struct mrap_s3_restore *out)
{
    bool have_ongoing = false;
    memset(out, 0, sizeof(*out));
    if (!v)
        return -EPROTO;
    /* key="value" pairs separated by commas and blanks; unknown keys are
     * skipped so a future field does not break HEAD. */
    for (const char *p = v;;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t klen = strcspn(p, "=");
        if (!p[klen] || p[klen + 1] != '"')
            return -EPROTO;
        const char *val = p + klen + 2;
        const char *end = strchr(val, '"');
        if (!end)
            return -EPROTO;
        size_t vlen = (size_t)(end - val);
        char tmp[64];
        if (vlen >= sizeof(tmp))
            return -EPROTO;
        memcpy(tmp, val, vlen);
        tmp[vlen] = '\0';
        if (klen == 15 && strncasecmp(p, "ongoing-request", 15) == 0) {
            if (strcmp(tmp, "true") == 0)
                out->ongoing = true;
            else if (strcmp(tmp, "false") != 0)
                return -EPROTO;
            have_ongoing = true;
        } else if (klen == 11 && strncasecmp(p, "expiry-date", 11) == 0) {
            struct timespec ts;
            if (mrap_s3_parse_time(tmp, &ts))
                return -EPROTO;
            out->expiry = ts.tv_sec;
            out->has_expiry = true;
        }
        p = end + 1;
    }
    if (!have_ongoing || (out->ongoing && out->has_expiry))
        return -EPROTO;
    out->present = true;
    return 0;
}

/* ---- HeadObject ---- */

void mrap_s3_head_cleanup(struct mrap_s3_head *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_meta; i++) {
        free(h->meta[i].name);
        free(h->meta[i].value);
    }
    free(h->meta);
    free(h->content_type);
    h->meta = NULL;
    h->n_meta = 0;
    h->content_type = NULL;
}

const char *mrap_s3_head_meta(const struct mrap_s3_head *h, const char *name)
{
    for (size_t i = 0; i < h->n_meta; i++)
        if (strcasecmp(h->meta[i].name, name) == 0)
            return h->meta[i].value;
    return NULL;
}

static int copy_bounded(const char *v, char *out, size_t outlen)
{
    if (!v) {
        out[0] = '\0';
        return 0;
    }
    if (strlen(v) >= outlen)
        return -EPROTO;
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

static int parse_lock(const struct mrap_http_headers *hs, struct mrap_s3_head *out)
{
    const char *mode = mrap_http_headers_get(hs, "x-amz-object-lock-mode");
    const char *until = mrap_http_headers_get(hs, "x-amz-object-lock-retain-until-date");
    const char *hold = mrap_http_headers_get(hs, "x-amz-object-lock-legal-hold");
    if (!mode != !until)
        return -EPROTO; /* S3 sends both or neither */
    if (mode) {
        if (strcmp(mode, "GOVERNANCE") == 0)
            out->lock_mode = MRAP_S3_LOCK_GOVERNANCE;
        else if (strcmp(mode, "COMPLIANCE") == 0)
            out->lock_mode = MRAP_S3_LOCK_COMPLIANCE;
        else
            return -EPROTO;
        if (mrap_s3_parse_rfc3339(until, &out->lock_retain_until))
            return -EPROTO;
    }
    if (hold) {
        if (strcmp(hold, "ON") == 0)
            out->legal_hold = MRAP_S3_HOLD_ON;
        else if (strcmp(hold, "OFF") == 0)
            out->legal_hold = MRAP_S3_HOLD_OFF;
        else
            return -EPROTO;
    }
    return 0;
}

static int add_meta(struct mrap_s3_head *out, const char *name, const char *value, size_t *bytes)
{
    *bytes += strlen(name) + strlen(value);
    if (out->n_meta >= MRAP_S3_HEAD_META_MAX_ENTRIES || *bytes > MRAP_S3_HEAD_META_MAX_BYTES ||
        !*name)
        return -EPROTO;
    struct mrap_s3_meta_entry *m = realloc(out->meta, (out->n_meta + 1) * sizeof(*m));
    if (!m)
        return -ENOMEM;
    out->meta = m;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return -ENOMEM;
    }
    for (char *p = n; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    m[out->n_meta++] = (struct mrap_s3_meta_entry){n, v};
    return 0;
}

int mrap_s3_head_parse(const struct mrap_http_headers *hs, struct mrap_s3_head *out)
{
    int rc = -EPROTO;
    memset(out, 0, sizeof(*out));
    const char *len = mrap_http_headers_get(hs, "content-length");
    const char *lm = mrap_http_headers_get(hs, "last-modified");
    const char *ct = mrap_http_headers_get(hs, "content-type");
    const char *restore = mrap_http_headers_get(hs, "x-amz-restore");
    if (!len || mrap_s3_op_parse_u64(len, UINT64_MAX, &out->info.size) || !lm ||
        mrap_s3_parse_time(lm, &out->info.mtime))
        goto fail;
    if (copy_bounded(mrap_http_headers_get(hs, "etag"), out->info.etag, sizeof(out->info.etag)) ||
        copy_bounded(mrap_http_headers_get(hs, "x-amz-storage-class"), out->info.storage_class,
                     sizeof(out->info.storage_class)))
        goto fail;
    if (restore && mrap_s3_restore_parse(restore, &out->restore))
        goto fail;
    if (parse_lock(hs, out))
        goto fail;
    rc = -ENOMEM;
    out->content_type = strdup(ct ? ct : "");
    if (!out->content_type)
        goto fail;
    size_t bytes = 0;
    for (size_t i = 0; i < hs->n; i++) {
        const char *name = hs->v[i].name;
        if (strncasecmp(name, META_PREFIX, strlen(META_PREFIX)) != 0)
            continue;
        rc = add_meta(out, name + strlen(META_PREFIX), hs->v[i].value, &bytes);
        if (rc)
            goto fail;
    }
    return 0;
fail:
    mrap_s3_head_cleanup(out);
    memset(out, 0, sizeof(*out));
    return rc;
}

int mrap_s3_head(struct mrap_s3_client *c, const char *key, struct mrap_s3_head *out,
                 struct mrap_s3_error *err)
{
    struct mrap_http_response resp;
    memset(out, 0, sizeof(*out));
    int rc = mrap_s3_op_check_key(key);
    if (rc)
        return rc;
    struct mrap_s3_request req = {.method = "HEAD", .key = key};
    rc = mrap_s3_op_run(c, &req, MRAP_S3_OP_SMALL_BODY_MAX, &resp, err);
    if (!rc) {
        rc = mrap_s3_head_parse(&resp.headers, out);
        if (rc == -EPROTO)
            mrap_s3_op_fail(err, &resp, "", "HEAD %s: malformed or oversized object headers", key);
    }
    mrap_http_response_cleanup(&resp);
    return rc;
}
