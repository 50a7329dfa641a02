/*
 * HTTP transport over libcurl. See http.h for the contract.
 *
 * Pool: max_connections easy handles, created up front. Each handle keeps its
 * own connection cache, so a handle returned to the pool keeps its TCP (and
 * TLS) connection alive for the next request. perform() takes an idle handle
 * under the pool mutex (waiting on the condvar when all are busy), drops the
 * lock, runs curl_easy_perform, then gives the handle back. Idle handles are a
 * stack (LIFO), so a lightly loaded mount keeps reusing its warmest
 * connections and lets the others age out. No lock is ever held across I/O.
 *
 * Per request, every option is set afresh on a handle that was curl_easy_reset
 * when it was last returned: no option can leak from one request into the
 * next (NOBODY, UPLOAD, CUSTOMREQUEST are sticky in libcurl), and an idle
 * handle holds no pointer into a finished request's memory. curl_easy_reset
 * keeps live connections and the DNS and TLS session caches.
 *
 * What goes on the wire is what the signer saw, plus only unsigned framing:
 *  - the caller's headers, verbatim (an empty value is sent as "Name;", which
 *    is libcurl's spelling for an empty header);
 *  - Host, Content-Length and User-Agent from libcurl; Content-Length is exact
 *    (INFILESIZE_LARGE / POSTFIELDSIZE_LARGE), so a zero-length PUT sends
 *    "Content-Length: 0", never chunked encoding;
 *  - libcurl's default Accept header (any type) and its Content-Type of
 *    application/x-www-form-urlencoded for POST are removed unless the caller
 *    set them: the first is harmless but not ours, the second would become
 *    the Content-Type of an object created by CreateMultipartUpload;
 *  - "Expect: 100-continue" is suppressed for bodies under 1 MiB (libcurl 7.88
 *    adds it to every non-empty PUT and waits up to a second for the 100) and
 *    kept for larger ones, where not sending megabytes to a server that will
 *    refuse them is worth a round trip;
 *  - CURLOPT_PATH_AS_IS: S3 keys may contain "." and ".." segments; the URL is
 *    already encoded and signed exactly as given, so libcurl must not squash
 *    dot segments.
 *
 * Deliberate settings:
 *  - TLS always verified (peer and host), with ca_bundle as CAINFO when given;
 *    only the http and https protocols.
 *  - No redirects followed: an S3 redirect means a wrong endpoint, which is to
 *    be reported, and following it would carry our signed headers elsewhere.
 *  - Proxies from the environment (http_proxy, HTTPS_PROXY, ...) are ignored
 *    by setting CURLOPT_PROXY to "": a daemon started from fstab must not
 *    behave differently under a login shell's environment. A proxy has to be
 *    chosen deliberately (a future mrap_http_pool_opts field).
 *  - HTTP/1.1 only, one request per connection at a time: what S3 speaks.
 *  - CURLOPT_NOSIGNAL because we are multi-threaded (libcurl then never uses
 *    alarm() for DNS timeouts; its writes use MSG_NOSIGNAL).
 *  - TCP keepalive, so a silently dropped idle connection is noticed.
 *
 * Bounds: response headers at most MRAP_HTTP_HEADERS_MAX bytes in all (a
 * status line starts over, so a "100 Continue" does not count twice); a
 * success body at most body.max_bytes, or sink_cap in sink mode (-EFBIG
 * beyond). Error bodies (status >= 300) keep their first body.max_bytes bytes
 * and drop the rest: the status is the answer and the XML only explains it, so
 * an oversized error page must not turn a 503 into -EFBIG. The rest is still
 * read (up to MRAP_HTTP_ERROR_DRAIN_MAX, -EFBIG beyond) to keep the
 * connection reusable.
 *
 * Truncation: a body shorter than Content-Length (connection closed early) is
 * CURLE_PARTIAL_FILE from libcurl, mapped to -ECONNRESET; as a second line of
 * defence the received size is compared with Content-Length after every
 * successful transfer that has a body.
 */
#include "s3/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

#define MRAP_HTTP_HEADERS_MAX     ((size_t)64 << 10)
#define MRAP_HTTP_ERROR_DRAIN_MAX ((size_t)1 << 20)
#define MRAP_HTTP_EXPECT_MIN      ((size_t)1 << 20)
#define MRAP_HTTP_MAX_CONNECTIONS 256u

_Static_assert(sizeof(((struct mrap_http_response *)0)->curl_error) >= CURL_ERROR_SIZE,
               "curl_error must hold CURLOPT_ERRORBUFFER");

/* ---- header lists ------------------------------------------------------ */

void mrap_http_headers_init(struct mrap_http_headers *h)
{
    h->v = NULL;
    h->n = h->cap = 0;
}

void mrap_http_headers_cleanup(struct mrap_http_headers *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++) {
        free(h->v[i].name);
        free(h->v[i].value);
    }
    free(h->v);
    mrap_http_headers_init(h);
}

/* Appends name[0..nlen) / value[0..vlen) as NUL-terminated copies. */
static int headers_add_n(struct mrap_http_headers *h, const char *name, size_t nlen,
                         const char *value, size_t vlen)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        struct mrap_http_header *v = realloc(h->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    char *n = strndup(name, nlen);
    char *val = strndup(value, vlen);
    if (!n || !val) {
        free(n);
        free(val);
        return -ENOMEM;
    }
    h->v[h->n].name = n;
    h->v[h->n].value = val;
    h->n++;
    return 0;
}

int mrap_http_headers_add(struct mrap_http_headers *h, const char *name, const char *value)
{
    return headers_add_n(h, name, strlen(name), value, strlen(value));
}

static struct mrap_http_header *headers_find(const struct mrap_http_headers *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->v[i].name, name) == 0)
            return &h->v[i];
    return NULL;
}

int mrap_http_headers_set(struct mrap_http_headers *h, const char *name, const char *value)
{
    struct mrap_http_header *e = headers_find(h, name);
    if (!e)
        return mrap_http_headers_add(h, name, value);
    char *v = strdup(value);
    if (!v)
        return -ENOMEM;
    free(e->value);
    e->value = v;
    return 0;
}

const char *mrap_http_headers_get(const struct mrap_http_headers *h, const char *name)
{
    const struct mrap_http_header *e = headers_find(h, name);
    return e ? e->value : NULL;
}

/* ---- responses --------------------------------------------------------- */

void mrap_http_response_init(struct mrap_http_response *r, size_t body_max)
{
    memset(r, 0, sizeof(*r));
    mrap_http_headers_init(&r->headers);
    mrap_buf_init(&r->body, body_max);
}

void mrap_http_response_cleanup(struct mrap_http_response *r)
{
    if (!r)
        return;
    mrap_http_headers_cleanup(&r->headers);
    mrap_buf_cleanup(&r->body);
}

void mrap_http_response_reset(struct mrap_http_response *r)
{
    r->status = 0;
    mrap_http_headers_cleanup(&r->headers);
    mrap_buf_reset(&r->body);
    r->sink_len = 0;
    r->curl_code = CURLE_OK;
    r->curl_error[0] = '\0';
}

/* ---- the pool ---------------------------------------------------------- */

struct mrap_http_pool {
    /* Read-only after mrap_http_pool_new. */
    struct mrap_http_pool_opts opts;
    char *ca_bundle; /* owned copy of opts.ca_bundle */
    CURL **all;      /* opts.max_connections handles */

    pthread_mutex_t lock;
    pthread_cond_t idle_cond; /* signalled when a handle is returned */
    /* Under lock: the idle handles, a stack. */
    CURL **idle;
    unsigned n_idle;
};

int mrap_http_pool_new(const struct mrap_http_pool_opts *opts, struct mrap_http_pool **out)
{
    struct mrap_http_pool *p = NULL;
    int rc = -ENOMEM;

    *out = NULL;
    if (opts && opts->max_connections > MRAP_HTTP_MAX_CONNECTIONS)
        return -EINVAL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    if (opts)
        p->opts = *opts;
    if (!p->opts.max_connections)
        p->opts.max_connections = 16;
    if (p->opts.connect_timeout_ms <= 0)
        p->opts.connect_timeout_ms = 10000;
    if (p->opts.low_speed_time_s <= 0)
        p->opts.low_speed_time_s = 30;
    if (p->opts.low_speed_bytes <= 0)
        p->opts.low_speed_bytes = 1;
    if (p->opts.ca_bundle && !(p->ca_bundle = strdup(p->opts.ca_bundle)))
        goto fail;
    p->opts.ca_bundle = p->ca_bundle;

    p->all = calloc(p->opts.max_connections, sizeof(CURL *));
    p->idle = calloc(p->opts.max_connections, sizeof(CURL *));
    if (!p->all || !p->idle)
        goto fail;
    for (unsigned i = 0; i < p->opts.max_connections; i++) {
        if (!(p->all[i] = curl_easy_init()))
            goto fail;
        p->idle[i] = p->all[i];
    }
    p->n_idle = p->opts.max_connections;
    if ((rc = -pthread_mutex_init(&p->lock, NULL)) != 0)
        goto fail;
    if ((rc = -pthread_cond_init(&p->idle_cond, NULL)) != 0) {
        pthread_mutex_destroy(&p->lock);
        goto fail;
    }
    *out = p;
    return 0;
fail:
    if (p->all)
        for (unsigned i = 0; i < p->opts.max_connections; i++)
            curl_easy_cleanup(p->all[i]);
    free(p->all);
    free(p->idle);
    free(p->ca_bundle);
    free(p);
    return rc;
}

void mrap_http_pool_destroy(struct mrap_http_pool *p)
{
    if (!p)
        return;
    /* The contract: no request is in flight. Closing the handles closes their
     * connections. */
    for (unsigned i = 0; i < p->opts.max_connections; i++)
        curl_easy_cleanup(p->all[i]);
    pthread_cond_destroy(&p->idle_cond);
    pthread_mutex_destroy(&p->lock);
    free(p->all);
    free(p->idle);
    free(p->ca_bundle);
    free(p);
}

static CURL *pool_take(struct mrap_http_pool *p)
{
    pthread_mutex_lock(&p->lock);
    while (p->n_idle == 0)
        pthread_cond_wait(&p->idle_cond, &p->lock);
    CURL *h = p->idle[--p->n_idle];
    pthread_mutex_unlock(&p->lock);
    return h;
}

static void pool_give(struct mrap_http_pool *p, CURL *h)
{
    /* Forget this request's options and pointers; keep the connection. */
    curl_easy_reset(h);
    pthread_mutex_lock(&p->lock);
    p->idle[p->n_idle++] = h;
    pthread_cond_signal(&p->idle_cond);
    pthread_mutex_unlock(&p->lock);
}

/* ---- one transfer ------------------------------------------------------ */

/* State shared with the libcurl callbacks of one transfer (on perform's stack). */
struct xfer {
    struct mrap_http_response *resp;
    const char *body; /* request body for PUT */
    size_t body_len;
    size_t body_off;
    long status;         /* from the latest status line */
    size_t header_bytes; /* of the current response */
    size_t error_bytes;  /* error body bytes seen, kept or dropped */
    int err;             /* first failure inside a callback, negative errno */
};

static void xfer_fail(struct xfer *x, int err, const char *why)
{
    if (x->err)
        return;
    x->err = err;
    snprintf(x->resp->curl_error, sizeof(x->resp->curl_error), "%s", why);
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    struct mrap_http_response *r = x->resp;

    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        /* A status line starts a new response: a 100 Continue (or any other
         * interim response) must not leave its headers behind. */
        mrap_http_headers_cleanup(&r->headers);
        x->header_bytes = n;
        const char *sp = memchr(ptr, ' ', n);
        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return n;
    }
    x->header_bytes += n;
    if (x->header_bytes > MRAP_HTTP_HEADERS_MAX) {
        xfer_fail(x, -EFBIG, "response headers exceed 64 KiB");
        return 0;
    }
    size_t len = n;
    while (len && (ptr[len - 1] == '\n' || ptr[len - 1] == '\r' || ptr[len - 1] == ' ' ||
                   ptr[len - 1] == '\t'))
        len--;
    /* Blank line (end of headers), or an obsolete folded continuation. */
    if (len == 0 || ptr[0] == ' ' || ptr[0] == '\t')
        return n;
    const char *colon = memchr(ptr, ':', len);
    if (!colon || colon == ptr)
        return n; /* not a header; libcurl has already judged the framing */
    const char *v = colon + 1;
    while (v < ptr + len && (*v == ' ' || *v == '\t'))
        v++;
    if (headers_add_n(&r->headers, ptr, (size_t)(colon - ptr), v, (size_t)(ptr + len - v))) {
        xfer_fail(x, -ENOMEM, "out of memory for response headers");
        return 0;
    }
    return n;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    struct mrap_http_response *r = x->resp;
    int rc;

    if (x->status >= 300) {
        /* Error body: keep what fits for parsing, drain the rest (bounded). */
        x->error_bytes += n;
        if (x->error_bytes > MRAP_HTTP_ERROR_DRAIN_MAX) {
            xfer_fail(x, -EFBIG, "error response body exceeds 1 MiB");
            return 0;
        }
        size_t room = r->body.max_bytes > r->body.len ? r->body.max_bytes - r->body.len : 0;
        if (room && (rc = mrap_buf_append(&r->body, ptr, n < room ? n : room)) != 0) {
            xfer_fail(x, rc, "out of memory for the response body");
            return 0;
        }
        return n;
    }
    if (!r->sink) {
        if ((rc = mrap_buf_append(&r->body, ptr, n)) != 0) {
            xfer_fail(x, rc, rc == -EFBIG ? "response body exceeds its bound" : "out of memory");
            return 0;
        }
        return n;
    }
    if (n > r->sink_cap - r->sink_len) {
        xfer_fail(x, -EFBIG, "response body exceeds the read buffer");
        return 0;
    }
    memcpy(r->sink + r->sink_len, ptr, n);
    r->sink_len += n;
    return n;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    struct xfer *x = ud;
    size_t room = size * nitems;
    size_t left = x->body_len - x->body_off;
    size_t n = left < room ? left : room;
    if (n)
        memcpy(buf, x->body + x->body_off, n);
    x->body_off += n;
    return n;
}

/* libcurl rewinds the upload when it must resend it (a reused connection that
 * turned out dead, a 100-continue refused then retried). */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
    struct xfer *x = ud;
    if (origin != SEEK_SET || offset < 0 || (curl_off_t)x->body_len < offset)
        return CURL_SEEKFUNC_FAIL;
    x->body_off = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* One line of libcurl's trace; the values of credential headers are dropped. */
static void trace_line(char tag, const char *line, size_t len)
{
    static const char *const secret[] = {"authorization", "x-amz-security-token"};
    const char *colon = memchr(line, ':', len);
    if (colon) {
        size_t nlen = (size_t)(colon - line);
        for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
            if (nlen == strlen(secret[i]) && strncasecmp(line, secret[i], nlen) == 0) {
                mrap_log(MRAP_LOG_INFO, "curl", "%c %.*s: [redacted]", tag, (int)nlen, line);
                return;
            }
        }
    }
    mrap_log(MRAP_LOG_INFO, "curl", "%c %.*s", tag, (int)len, line);
}

/* libcurl's trace (opts.verbose) through our log: text and headers, never bodies. */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    char tag;
    switch (type) {
    case CURLINFO_TEXT:
        tag = '*';
        break;
    case CURLINFO_HEADER_IN:
        tag = '<';
        break;
    case CURLINFO_HEADER_OUT:
        tag = '>';
        break;
    default:
        return 0;
    }
    const char *end = data + size;
    for (const char *line = data; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *stop = nl ? nl : end;
        size_t len = (size_t)(stop - line);
        while (len && line[len - 1] == '\r')
            len--;
        if (len)
            trace_line(tag, line, len);
        line = nl ? nl + 1 : end;
    }
    return 0;
}

/* ---- request setup ----------------------------------------------------- */

/* Token characters of RFC 9110 field names. */
static bool valid_header_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
            return false;
    }
    return true;
}

static bool valid_header_value(const char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return false;
    return true;
}

static int slist_add(struct curl_slist **l, const char *line)
{
    struct curl_slist *n = curl_slist_append(*l, line);
    if (!n)
        return -ENOMEM;
    *l = n;
    return 0;
}

enum method { M_GET, M_HEAD, M_PUT, M_POST, M_DELETE, M_PATCH };

/*
 * The caller's headers as a curl_slist, plus the removals of libcurl's own
 * defaults described at the top. Refuses header injection (CR/LF) and a
 * Content-Length that disagrees with the body.
 */
static int build_headers(const struct mrap_http_request *req, enum method m,
                         struct curl_slist **out, char *why, size_t whylen)
{
    struct curl_slist *l = NULL;
    struct mrap_buf line;
    bool has_body = m == M_PUT || m == M_POST || m == M_PATCH;
    int rc = 0;

    mrap_buf_init(&line, 64 << 10);
    const struct mrap_http_headers *h = req->headers;
    for (size_t i = 0; h && i < h->n; i++) {
        const char *name = h->v[i].name, *value = h->v[i].value;
        if (!valid_header_name(name) || !valid_header_value(value)) {
            snprintf(why, whylen, "invalid request header %.64s", name);
            rc = -EINVAL;
            goto out;
        }
        if (strcasecmp(name, "content-length") == 0) {
            char *end;
            unsigned long long v = strtoull(value, &end, 10);
            if (!has_body || *end || end == value || v != (unsigned long long)req->body_len) {
                snprintf(why, whylen, "Content-Length header does not match the body");
                rc = -EINVAL;
                goto out;
            }
        }
        mrap_buf_reset(&line);
        /* libcurl sends "Name;" as an empty header; "Name:" would delete it. */
        rc = *value ? mrap_buf_printf(&line, "%s: %s", name, value)
                    : mrap_buf_printf(&line, "%s;", name);
        if (rc || (rc = slist_add(&l, mrap_buf_str(&line))) != 0)
            goto out;
    }
    if (!(h && headers_find(h, "accept")) && (rc = slist_add(&l, "Accept:")) != 0)
        goto out;
    if (has_body && !(h && headers_find(h, "content-type")) &&
        (rc = slist_add(&l, "Content-Type:")) != 0)
        goto out;
    if (has_body && req->body_len < MRAP_HTTP_EXPECT_MIN && !(h && headers_find(h, "expect")) &&
        (rc = slist_add(&l, "Expect:")) != 0)
        goto out;
out:
    mrap_buf_cleanup(&line);
    if (rc) {
        curl_slist_free_all(l);
        l = NULL;
        if (rc != -EINVAL)
            snprintf(why, whylen, "out of memory building request headers");
    }
    *out = l;
    return rc;
}

static int parse_method(const struct mrap_http_request *req, enum method *m)
{
    static const struct {
        const char *name;
        enum method m;
    } methods[] = {{"GET", M_GET},   {"HEAD", M_HEAD},     {"PUT", M_PUT},
                   {"POST", M_POST}, {"DELETE", M_DELETE}, {"PATCH", M_PATCH}};
    if (!req->method)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strcmp(req->method, methods[i].name) == 0) {
            *m = methods[i].m;
            /* A body would be signed but never sent with these. */
            if ((*m == M_GET || *m == M_HEAD || *m == M_DELETE) && req->body_len)
                return -EINVAL;
            if (req->head && *m != M_HEAD)
                return -EINVAL;
            return 0;
        }
    }
    return -EINVAL;
}

#define SETOPT(h, opt, val)                                                                        \
    do {                                                                                           \
        if ((cc = curl_easy_setopt((h), (opt), (val))) != CURLE_OK)                                \
            goto out;                                                                              \
    } while (0)

static CURLcode setup(const struct mrap_http_pool *p, CURL *h, const struct mrap_http_request *req,
                      enum method m, struct curl_slist *hdrs, struct xfer *x)
{
    CURLcode cc = CURLE_OK;
    const struct mrap_http_pool_opts *o = &p->opts;

    SETOPT(h, CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SETOPT(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SETOPT(h, CURLOPT_PATH_AS_IS, 1L);
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(h, CURLOPT_PROXY, "");
    SETOPT(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_bundle)
        SETOPT(h, CURLOPT_CAINFO, o->ca_bundle);
    SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    SETOPT(h, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_bytes);
    SETOPT(h, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
    SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(h, CURLOPT_TCP_KEEPIDLE, 30L);
    SETOPT(h, CURLOPT_TCP_KEEPINTVL, 15L);
    SETOPT(h, CURLOPT_USERAGENT, "mrapfs/" MRAP_VERSION);
    SETOPT(h, CURLOPT_ERRORBUFFER, x->resp->curl_error);
    SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(h, CURLOPT_HEADERDATA, x);
    SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(h, CURLOPT_WRITEDATA, x);
    SETOPT(h, CURLOPT_HTTPHEADER, hdrs);
    if (o->verbose) {
        SETOPT(h, CURLOPT_DEBUGFUNCTION, on_debug);
        SETOPT(h, CURLOPT_VERBOSE, 1L);
    }
    switch (m) {
    case M_GET:
        SETOPT(h, CURLOPT_HTTPGET, 1L);
        break;
    case M_HEAD:
        SETOPT(h, CURLOPT_NOBODY, 1L);
        break;
    case M_DELETE:
        SETOPT(h, CURLOPT_CUSTOMREQUEST, "DELETE");
        break;
    case M_PUT:
        SETOPT(h, CURLOPT_UPLOAD, 1L);
        SETOPT(h, CURLOPT_READFUNCTION, on_read);
        SETOPT(h, CURLOPT_READDATA, x);
        SETOPT(h, CURLOPT_SEEKFUNCTION, on_seek);
        SETOPT(h, CURLOPT_SEEKDATA, x);
        SETOPT(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
        break;
    case M_PATCH: /* S3 Control's SubmitMultiRegionAccessPointRoutes: a POST-style body */
        SETOPT(h, CURLOPT_CUSTOMREQUEST, "PATCH");
        /* fall through */
    case M_POST:
        SETOPT(h, CURLOPT_POST, 1L);
        SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        SETOPT(h, CURLOPT_POSTFIELDS, req->body_len ? req->body : "");
        break;
    }
out:
    return cc;
}

#undef SETOPT

/* The errno for a failed transfer; see http.h for the list. */
static int map_curl(CURLcode cc, long os_errno)
{
    switch (cc) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        switch (os_errno) {
        case EHOSTUNREACH:
        case ENETUNREACH:
            return -EHOSTUNREACH;
        case ETIMEDOUT:
            return -ETIMEDOUT;
        default:
            return -ECONNREFUSED;
        }
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return -EHOSTUNREACH;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
        return -ECONNRESET;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_FILESIZE_EXCEEDED:
        return -EFBIG;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return -EINVAL;
    default:
        /* TLS failures (SSL_*, PEER_FAILED_VERIFICATION), malformed replies
         * (WEIRD_SERVER_REPLY), and the rest. */
        return -EPROTO;
    }
}

/* After a transfer libcurl called complete: is the body as long as announced? */
static int check_length(CURL *h, enum method m, long status)
{
    curl_off_t announced = -1, got = 0;
    if (m == M_HEAD || status < 200 || status == 204 || status == 304)
        return 0;
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) != CURLE_OK ||
        curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &got) != CURLE_OK)
        return 0;
    return announced >= 0 && got != announced ? -ECONNRESET : 0;
}

static int pool_perform(void *impl, const struct mrap_http_request *req,
                        struct mrap_http_response *resp)
{
    struct mrap_http_pool *p = impl;
    struct curl_slist *hdrs = NULL;
    struct xfer x = {.resp = resp, .body = req->body, .body_len = req->body_len};
    enum method m = M_GET;
    CURL *h = NULL;
    long os_errno = 0;
    int rc;

    mrap_http_response_reset(resp);
    if (!req->url || (req->body_len && !req->body) || (rc = parse_method(req, &m)) != 0) {
        snprintf(resp->curl_error, sizeof(resp->curl_error), "invalid request");
        rc = -EINVAL;
        goto out;
    }
    rc = build_headers(req, m, &hdrs, resp->curl_error, sizeof(resp->curl_error));
    if (rc)
        goto out;

    h = pool_take(p);
    CURLcode cc = setup(p, h, req, m, hdrs, &x);
    if (cc == CURLE_OK)
        cc = curl_easy_perform(h);
    resp->curl_code = (int)cc;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    if (cc == CURLE_WRITE_ERROR && x.err) {
        rc = x.err; /* one of our bounds, message already set */
    } else if (cc != CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
        rc = map_curl(cc, os_errno);
        if (!resp->curl_error[0])
            snprintf(resp->curl_error, sizeof(resp->curl_error), "%s", curl_easy_strerror(cc));
    } else if ((rc = check_length(h, m, resp->status)) != 0) {
        snprintf(resp->curl_error, sizeof(resp->curl_error),
                 "response body shorter than Content-Length");
    }
out:
    if (h)
        pool_give(p, h);
    curl_slist_free_all(hdrs);
    return rc;
}

struct mrap_http_ops mrap_http_pool_ops(struct mrap_http_pool *p)
{
    return (struct mrap_http_ops){.perform = pool_perform, .impl = p};
}

/* ---- process-wide ------------------------------------------------------ */

int mrap_http_global_init(void)
{
    CURLcode cc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cc != CURLE_OK)
        return cc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (v->version_num < 0x075500)
        mrap_log(MRAP_LOG_WARN, "http",
                 "libcurl %s is older than 7.85: <alias>.localhost endpoints will not resolve",
                 v->version);
    if (!(v->features & CURL_VERSION_SSL))
        mrap_log(MRAP_LOG_WARN, "http", "libcurl %s has no TLS support: https will fail",
                 v->version);
    return 0;
}

void mrap_http_global_cleanup(void)
{
    curl_global_cleanup();
}
