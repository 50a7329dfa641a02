/*
 * HTTP transport: one request, one attempt, over pooled keep-alive
 * connections (libcurl). Signing, retries and S3 error handling live above
 * this layer (s3/client), which reaches the network only through
 * struct mrap_http_ops, so unit tests can replace the network with canned
 * responses.
 *
 * Concurrency: mrap_http_pool holds max_connections curl easy handles, each
 * keeping its connection alive between requests. perform() takes a free handle
 * (waiting when all are busy), runs the transfer with no lock held, and returns
 * the handle. So at most max_connections requests are in flight at once.
 */
#ifndef MRAP_S3_HTTP_H
#define MRAP_S3_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"

struct mrap_http_header {
    char *name;
    char *value;
};

/* An owned, ordered list of headers. Names compare case-insensitively. */
struct mrap_http_headers {
    struct mrap_http_header *v;
    size_t n, cap;
};

void mrap_http_headers_init(struct mrap_http_headers *h);
void mrap_http_headers_cleanup(struct mrap_http_headers *h);
/* Appends a copy. 0 or -ENOMEM. */
int mrap_http_headers_add(struct mrap_http_headers *h, const char *name, const char *value);
/* Replaces the first header of that name or appends. 0 or -ENOMEM. */
int mrap_http_headers_set(struct mrap_http_headers *h, const char *name, const char *value);
/* The value of the first header of that name, or NULL. */
const char *mrap_http_headers_get(const struct mrap_http_headers *h, const char *name);

struct mrap_http_request {
    const char *method;
    const char *url; /* complete, already encoded */
    const struct mrap_http_headers *headers; /* already signed; Host is derived from url */
    const void *body; /* request body in memory, or NULL */
    size_t body_len;
    bool head; /* HEAD: no response body expected */
};

/*
 * Response body destination. By default the body goes into `body`, bounded by
 * body.max_bytes (the caller sets it with mrap_buf_init before perform; a larger
 * body fails the request with -EFBIG). When `sink` is set the body is written
 * straight into sink[0..sink_cap) instead (for ranged GETs into a read buffer);
 * more than sink_cap bytes also fails with -EFBIG. Error bodies (status >= 300)
 * always go to `body` so they can be parsed.
 */
struct mrap_http_response {
    long status;                      /* 0 when no response arrived */
    struct mrap_http_headers headers; /* at most 64 KiB in all */
    struct mrap_buf body;
    char *sink;
    size_t sink_cap;
    size_t sink_len; /* bytes written to sink */
    int curl_code;   /* CURLE_OK or the curl failure */
    char curl_error[256];
};

void mrap_http_response_init(struct mrap_http_response *r, size_t body_max);
void mrap_http_response_cleanup(struct mrap_http_response *r);
/* Ready the response for another attempt (keeps body_max and sink). */
void mrap_http_response_reset(struct mrap_http_response *r);

/*
 * perform() returns 0 when an HTTP response was received (any status), or a
 * negative errno when none was: -ETIMEDOUT (connect or low-speed timeout),
 * -ECONNRESET (connection reset or closed early, including a body shorter than
 * Content-Length), -ECONNREFUSED, -EHOSTUNREACH (DNS or routing), -EPROTO (TLS or
 * protocol error), -EFBIG (body over the bound), -ENOMEM. The curl code and
 * message are in resp->curl_code / curl_error either way.
 */
struct mrap_http_ops {
    int (*perform)(void *impl, const struct mrap_http_request *req,
                   struct mrap_http_response *resp);
    void *impl;
};

struct mrap_http_pool_opts {
    unsigned max_connections;   /* 1..256; default 16 */
    long connect_timeout_ms;    /* default 10000 */
    long low_speed_time_s;      /* abort when below low_speed_bytes/s this long; default 30 */
    long low_speed_bytes;       /* default 1 */
    const char *ca_bundle;      /* NULL = system store; TLS is always verified */
    bool verbose;               /* curl's own trace, for debugging only */
};

struct mrap_http_pool;

/* 0 or negative errno. */
int mrap_http_pool_new(const struct mrap_http_pool_opts *opts, struct mrap_http_pool **out);
void mrap_http_pool_destroy(struct mrap_http_pool *p); /* accepts NULL */
/* The ops table that performs requests on this pool. */
struct mrap_http_ops mrap_http_pool_ops(struct mrap_http_pool *p);

/* libcurl's process-wide init; call once from main before threads start. */
int mrap_http_global_init(void);
void mrap_http_global_cleanup(void);

#endif
