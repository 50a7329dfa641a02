/*
 * S3 client core: addressing, signing each attempt, retries with backoff.
 *
 * Design: the client is immutable after mrap_s3_client_new(), so operations
 * run concurrently from FUSE worker threads without locking. Each attempt
 * fetches a copy of the credentials (the provider may refresh them), signs
 * with a fresh date, and hands the request to the transport through the
 * mrap_http_ops seam. Credentials copies are wiped as soon as the request is
 * signed. Only the operation, key, status, size, latency and request id are
 * ever logged — never a header value.
 */
#include "s3/client.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

#define MRAP_S3_MAX_HEADERS 32
#define MRAP_S3_MAX_PARAMS 16

struct mrap_s3_client {
    enum mrap_s3_target target;
    char *name;
    char *region;
    char *scheme;    /* "https" or "http" */
    char *host;      /* host[:port] as sent in Host */
    char *base_url;  /* scheme://host */
    char *path_base; /* "" (MRAP, virtual host) or "/<bucket>" (path style) */
    unsigned max_attempts;
    unsigned backoff_base_ms;
    unsigned backoff_max_ms;
    bool debug_requests;
    struct mrap_http_ops http;
    struct mrap_creds_provider *creds;
    struct mrap_signer *signer;
};

static bool valid_dns_label_chars(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
            return false;
    return true;
}

/* Splits "scheme://host[:port][/]" into scheme and host[:port]. */
static int parse_endpoint(const char *url, char **scheme, char **host)
{
    const char *sep = strstr(url, "://");
    if (!sep)
        return -EINVAL;
    size_t slen = (size_t)(sep - url);
    if (!((slen == 4 && strncmp(url, "http", 4) == 0) ||
          (slen == 5 && strncmp(url, "https", 5) == 0)))
        return -EINVAL;
    const char *h = sep + 3;
    size_t hlen = strcspn(h, "/?#");
    if (hlen == 0 || (h[hlen] == '/' && h[hlen + 1] != '\0') || h[hlen] == '?' || h[hlen] == '#')
        return -EINVAL; /* an endpoint is a bare origin: no path, query or fragment */
    if (memchr(h, '@', hlen))
        return -EINVAL; /* credentials in URLs are never accepted */
    *scheme = strndup(url, slen);
    *host = strndup(h, hlen);
    if (!*scheme || !*host)
        return -ENOMEM;
    for (char *p = *host; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return 0;
}

int mrap_s3_client_new(const struct mrap_s3_client_opts *opts, struct mrap_s3_client **out)
{
    int rc = -ENOMEM;
    char *ep_scheme = NULL, *ep_host = NULL;
    struct mrap_s3_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->target = opts->target;
    c->max_attempts = opts->max_attempts ? opts->max_attempts : 6;
    c->backoff_base_ms = opts->backoff_base_ms ? opts->backoff_base_ms : 100;
    c->backoff_max_ms = opts->backoff_max_ms ? opts->backoff_max_ms : 5000;
    c->debug_requests = opts->debug_requests;
    c->http = opts->http;
    c->creds = opts->creds;
    c->signer = opts->signer;

    if (!opts->name || !valid_dns_label_chars(opts->name) || strlen(opts->name) > 255) {
        rc = -EINVAL;
        goto fail;
    }
    if (opts->target != MRAP_S3_TARGET_MRAP && (!opts->region || !*opts->region)) {
        rc = -EINVAL;
        goto fail;
    }
    c->name = strdup(opts->name);
    c->region = strdup(opts->region ? opts->region : "*");
    if (!c->name || !c->region)
        goto fail;

    if (opts->endpoint_url && *opts->endpoint_url) {
        rc = parse_endpoint(opts->endpoint_url, &ep_scheme, &ep_host);
        if (rc)
            goto fail;
        rc = -ENOMEM;
        c->scheme = ep_scheme;
        ep_scheme = NULL;
        if (opts->target != MRAP_S3_TARGET_BUCKET) { /* MRAP alias or account id prefix */
            if (asprintf(&c->host, "%s.%s", c->name, ep_host) < 0)
                c->host = NULL;
            c->path_base = strdup("");
        } else {
            c->host = ep_host;
            ep_host = NULL;
            if (asprintf(&c->path_base, "/%s", c->name) < 0)
                c->path_base = NULL;
        }
    } else {
        c->scheme = strdup("https");
        if (opts->target == MRAP_S3_TARGET_MRAP) {
            if (asprintf(&c->host, "%s.accesspoint.s3-global.amazonaws.com", c->name) < 0)
                c->host = NULL;
        } else if (opts->target == MRAP_S3_TARGET_CONTROL) {
            if (asprintf(&c->host, "%s.s3-control.%s.amazonaws.com", c->name, c->region) < 0)
                c->host = NULL;
        } else if (asprintf(&c->host, "%s.s3.%s.amazonaws.com", c->name, c->region) < 0) {
            c->host = NULL;
        }
        c->path_base = strdup("");
    }
    if (!c->scheme || !c->host || !c->path_base)
        goto fail;
    if (asprintf(&c->base_url, "%s://%s", c->scheme, c->host) < 0) {
        c->base_url = NULL;
        goto fail;
    }
    free(ep_host);
    *out = c;
    return 0;
fail:
    free(ep_scheme);
    free(ep_host);
    mrap_s3_client_destroy(c);
    return rc;
}

void mrap_s3_client_destroy(struct mrap_s3_client *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->region);
    free(c->scheme);
    free(c->host);
    free(c->base_url);
    free(c->path_base);
    free(c);
}

const char *mrap_s3_client_base_url(const struct mrap_s3_client *c)
{
    return c->base_url;
}

void mrap_s3_client_info(const struct mrap_s3_client *c, struct mrap_s3_client_info *out)
{
    *out = (struct mrap_s3_client_info){c->target, c->base_url, c->host,   c->path_base,
                                        c->region, c->creds,    c->signer};
}

static int sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return -EIO;
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* Builds path and query strings as they go on the wire (and into the signature). */
static int build_target(const struct mrap_s3_client *c, const struct mrap_s3_request *req,
                        struct mrap_buf *path, struct mrap_buf *query)
{
    int rc = mrap_buf_append_str(path, c->path_base);
    if (rc)
        return rc;
    rc = mrap_buf_append_str(path, "/");
    if (!rc && req->key && *req->key) {
        char *enc = mrap_uri_encode(req->key, strlen(req->key), true);
        if (!enc)
            return -ENOMEM;
        rc = mrap_buf_append_str(path, enc);
        free(enc);
    }
    for (size_t i = 0; !rc && i < req->n_params; i++) {
        char *n = mrap_uri_encode(req->params[i].name, strlen(req->params[i].name), false);
        char *v = req->params[i].value
                      ? mrap_uri_encode(req->params[i].value, strlen(req->params[i].value), false)
                      : NULL;
        if (!n || (req->params[i].value && !v))
            rc = -ENOMEM;
        else
            rc = mrap_buf_printf(query, "%s%s%s%s", i ? "&" : "", n, v ? "=" : "", v ? v : "");
        free(n);
        free(v);
    }
    return rc;
}

/* Signs one attempt and fills the header list handed to the transport. */
static int sign_attempt(struct mrap_s3_client *c, const struct mrap_s3_request *req,
                        const char *path, const char *query, const char *payload_hash,
                        struct mrap_http_headers *out)
{
    struct mrap_sig_header hdrs[MRAP_S3_MAX_HEADERS + 1];
    struct mrap_credentials creds = {0};
    struct mrap_sig_result res;
    size_t n = 0;
    int rc;

    memset(&res, 0, sizeof(res));
    if (req->n_headers > MRAP_S3_MAX_HEADERS)
        return -EINVAL;
    hdrs[n++] = (struct mrap_sig_header){"host", c->host};
    for (size_t i = 0; i < req->n_headers; i++)
        hdrs[n++] = req->headers[i];

    rc = mrap_creds_provider_get(c->creds, &creds);
    if (rc)
        return rc;
    struct mrap_sig_request sreq = {
        .method = req->method, .path = path, .query = query, .headers = hdrs, .n_headers = n};
    struct mrap_sig_opts sopts = {
        .alg = c->target == MRAP_S3_TARGET_MRAP ? MRAP_SIG_V4A : MRAP_SIG_V4,
        .service = "s3",
        .region = c->target == MRAP_S3_TARGET_MRAP ? "*" : c->region,
        .now = time(NULL),
        .payload_hash = payload_hash,
        .add_content_sha256_header = true,
    };
    rc = mrap_signer_sign(c->signer, &creds, &sreq, &sopts, &res);
    mrap_credentials_cleanup(&creds);
    if (rc)
        return rc;

    for (size_t i = 0; !rc && i < n; i++)
        rc = mrap_http_headers_add(out, hdrs[i].name, hdrs[i].value);
    for (size_t i = 0; !rc && i < res.n_headers; i++)
        rc = mrap_http_headers_add(out, res.headers[i].name, res.headers[i].value);
    mrap_sig_result_cleanup(&res);
    return rc;
}

/* Full jitter: a uniformly random delay in [0, min(cap, base * 2^attempt)). */
static void backoff_sleep(const struct mrap_s3_client *c, unsigned attempt)
{
    uint64_t ceiling = c->backoff_base_ms;
    for (unsigned i = 1; i < attempt && ceiling < c->backoff_max_ms; i++)
        ceiling *= 2;
    if (ceiling > c->backoff_max_ms)
        ceiling = c->backoff_max_ms;
    uint32_t r = 0;
    if (getrandom(&r, sizeof(r), 0) != sizeof(r))
        r = (uint32_t)time(NULL);
    uint64_t ms = ceiling ? (r % ceiling) + 1 : 0;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

static double elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void fill_error(struct mrap_s3_error *e, int transport_rc,
                       const struct mrap_http_response *resp)
{
    memset(e, 0, sizeof(*e));
    e->transport_errno = transport_rc < 0 ? transport_rc : 0;
    e->http_status = transport_rc < 0 ? 0 : resp->status;
    if (transport_rc < 0)
        snprintf(e->message, sizeof(e->message), "%s", resp->curl_error);
    else if (resp->body.len)
        mrap_s3_error_parse(e, resp->body.data, resp->body.len);
    if (!e->request_id[0]) {
        const char *id = mrap_http_headers_get(&resp->headers, "x-amz-request-id");
        if (id)
            snprintf(e->request_id, sizeof(e->request_id), "%s", id);
    }
}

int mrap_s3_execute(struct mrap_s3_client *c, const struct mrap_s3_request *req,
                    struct mrap_http_response *resp, struct mrap_s3_error *err)
{
    struct mrap_buf path, query, url;
    struct mrap_s3_error local_err;
    struct mrap_http_headers headers;
    char payload_hash[65];
    int rc;

    if (!err)
        err = &local_err;
    memset(err, 0, sizeof(*err));
    mrap_buf_init(&path, 16384);
    mrap_buf_init(&query, 16384);
    mrap_buf_init(&url, 40000);
    mrap_http_headers_init(&headers);

    rc = build_target(c, req, &path, &query);
    if (!rc)
        rc = mrap_buf_printf(&url, "%s%s%s%s", c->base_url, mrap_buf_str(&path),
                             query.len ? "?" : "", mrap_buf_str(&query));
    if (rc)
        goto out;
    if (req->unsigned_payload)
        snprintf(payload_hash, sizeof(payload_hash), "%s", MRAP_UNSIGNED_PAYLOAD);
    else if ((rc = sha256_hex(req->body ? req->body : "", req->body_len, payload_hash)))
        goto out;

    for (unsigned attempt = 1;; attempt++) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        mrap_http_headers_cleanup(&headers);
        mrap_http_headers_init(&headers);
        mrap_http_response_reset(resp);
        rc = sign_attempt(c, req, mrap_buf_str(&path), mrap_buf_str(&query), payload_hash,
                          &headers);
        if (rc)
            goto out;
        struct mrap_http_request hreq = {
            .method = req->method,
            .url = mrap_buf_str(&url),
            .headers = &headers,
            .body = req->body,
            .body_len = req->body_len,
            .head = strcmp(req->method, "HEAD") == 0,
        };
        int trc = c->http.perform(c->http.impl, &hreq, resp);
        bool failed = trc < 0 || resp->status >= 300;
        if (failed)
            fill_error(err, trc, resp);
        if (c->debug_requests) {
            const char *id = mrap_http_headers_get(&resp->headers, "x-amz-request-id");
            const char *why = trc < 0 ? resp->curl_error : err->code;
            mrap_log(MRAP_LOG_DEBUG, "s3", "%s %s%s%s -> %ld%s%s bytes=%zu %.1fms id=%s attempt=%u",
                     req->method, mrap_buf_str(&path), query.len ? "?" : "",
                     mrap_buf_str(&query), trc < 0 ? 0L : resp->status, why[0] ? " " : "", why,
                     resp->sink ? resp->sink_len : resp->body.len, elapsed_ms(&t0),
                     id ? id : "-", attempt);
        }
        if (!failed) {
            rc = 0;
            goto out;
        }
        rc = mrap_s3_error_errno(err);
        if (attempt >= c->max_attempts || !mrap_s3_error_retryable(err))
            break;
        backoff_sleep(c, attempt);
    }
    /* Final failure: not-found and precondition answers are ordinary results for
     * the callers (lookups, revalidation); everything else deserves a log line. */
    if (err->http_status != 404 && err->http_status != 304 && err->http_status != 412) {
        char msg[600];
        mrap_s3_error_format(err, msg, sizeof(msg));
        mrap_log(MRAP_LOG_WARN, "s3", "%s %s failed: %s", req->method, mrap_buf_str(&path),
                 msg);
    }
out:
    mrap_http_headers_cleanup(&headers);
    mrap_buf_cleanup(&path);
    mrap_buf_cleanup(&query);
    mrap_buf_cleanup(&url);
    return rc;
}
