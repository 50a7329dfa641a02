/*
 * The S3 client: turns operations into signed HTTP requests against an MRAP
 * (SigV4A, region set "*") or a plain bucket (SigV4, one region), with retries.
 *
 * Addressing:
 *   MRAP, no endpoint:  https://<alias>.accesspoint.s3-global.amazonaws.com/<key>
 *   MRAP, endpoint E:   <scheme>://<alias>.<E's host>[:port]/<key>  (the SDKs'
 *                       convention for access points behind a custom endpoint;
 *                       http://localhost:9000 becomes http://<alias>.localhost:9000)
 *   bucket, endpoint E: <E>/<bucket>/<key>  (path style, as most S3 servers want)
 *   bucket, no endpoint: https://<bucket>.s3.<region>.amazonaws.com/<key>
 *   S3 Control, no endpoint: https://<account>.s3-control.<region>.amazonaws.com/<path>
 *   S3 Control, endpoint E:  <scheme>://<account>.<E's host>[:port]/<path>  (the
 *                       SDKs' {AccountId}. host prefix; SigV4 in <region>)
 *
 * Retries: a failed attempt that mrap_s3_error_retryable() accepts is retried
 * up to max_attempts in all, after a capped exponential backoff with full
 * jitter; every attempt is signed afresh (new date). No lock is held while a
 * request is in flight; the client itself is immutable after creation, so any
 * number of threads may use it at once.
 *
 * Every operation returns 0 or a negative errno from mrap_s3_error_errno(), and
 * fills *err (when err is not NULL) with the S3 code, message and request id
 * for the log line.
 */
#ifndef MRAP_S3_CLIENT_H
#define MRAP_S3_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "s3/creds.h"
#include "s3/errors.h"
#include "s3/http.h"
#include "s3/sigv4.h"

enum mrap_s3_target {
    MRAP_S3_TARGET_MRAP = 0,   /* a Multi-Region Access Point alias, SigV4A */
    MRAP_S3_TARGET_BUCKET = 1, /* a regional bucket, SigV4 */
    MRAP_S3_TARGET_CONTROL = 2, /* S3 Control for one account (name = account id), SigV4 */
};

struct mrap_s3_client_opts {
    enum mrap_s3_target target;
    const char *name;         /* MRAP alias (e.g. "mfzwi23gnjvgw.mrap") or bucket name */
    const char *region;       /* bucket and control: the region to sign for */
    const char *endpoint_url; /* NULL: AWS; else scheme://host[:port] */
    unsigned max_attempts;    /* total attempts per request; default 6 */
    unsigned backoff_base_ms; /* default 100 */
    unsigned backoff_max_ms;  /* default 5000 */
    bool debug_requests;      /* one log line per request (method, key, status, bytes, ms, id) */
    struct mrap_http_ops http;             /* the transport (a pool, or a test double) */
    struct mrap_creds_provider *creds;     /* borrowed; outlives the client */
    struct mrap_signer *signer;            /* borrowed; outlives the client */
};

struct mrap_s3_client;

/* 0, -EINVAL (bad alias, bucket, region or endpoint URL), or -ENOMEM. */
int mrap_s3_client_new(const struct mrap_s3_client_opts *opts, struct mrap_s3_client **out);
void mrap_s3_client_destroy(struct mrap_s3_client *c); /* accepts NULL */
/* The base URL requests go to (scheme://host[:port]), for messages. */
const char *mrap_s3_client_base_url(const struct mrap_s3_client *c);

/* What a request signed outside mrap_s3_execute (a presigned URL) needs.
 * Pointers are borrowed from the client and live as long as it. */
struct mrap_s3_client_info {
    enum mrap_s3_target target;
    const char *base_url;  /* scheme://host[:port] */
    const char *host;      /* host[:port], as signed */
    const char *path_base; /* "" or "/<bucket>" (path style) */
    const char *region;    /* "*" for an MRAP */
    struct mrap_creds_provider *creds;
    struct mrap_signer *signer;
};
void mrap_s3_client_info(const struct mrap_s3_client *c, struct mrap_s3_client_info *out);

/* ---- generic request, for operations built on top ---- */

struct mrap_s3_param {
    const char *name;
    const char *value; /* NULL: a bare "?name" parameter such as "?tagging" */
};

struct mrap_s3_request {
    const char *method;
    const char *key; /* object key, not encoded; NULL or "" for the bucket / access point */
    const struct mrap_s3_param *params; /* not encoded */
    size_t n_params;
    const struct mrap_sig_header *headers; /* extra headers to send and sign */
    size_t n_headers;
    const void *body;
    size_t body_len;
    bool unsigned_payload; /* sign UNSIGNED-PAYLOAD instead of hashing the body */
};

/*
 * Performs the request with retries. resp must be initialised by the caller
 * (its body bound and optional sink). A status >= 300 becomes an error:
 * -errno returned, *err filled. On 0, resp holds the successful response.
 */
int mrap_s3_execute(struct mrap_s3_client *c, const struct mrap_s3_request *req,
                    struct mrap_http_response *resp, struct mrap_s3_error *err);

/* ---- objects ---- */

#define MRAP_S3_ETAG_MAX 80
#define MRAP_S3_KEY_MAX 1024

struct mrap_s3_object_info {
    uint64_t size;
    struct timespec mtime;          /* Last-Modified */
    char etag[MRAP_S3_ETAG_MAX];    /* with the quotes, as S3 sends it */
    char storage_class[32];         /* "" means STANDARD */
};

/* HeadObject. -ENOENT when the key does not exist. */
int mrap_s3_head_object(struct mrap_s3_client *c, const char *key,
                        struct mrap_s3_object_info *info, struct mrap_s3_error *err);

/*
 * Ranged GetObject of [offset, offset+len) into buf. Reads fewer bytes only at
 * the end of the object; *got is the number of bytes stored. if_match (an ETag)
 * makes a changed object fail with -ESTALE instead of mixing versions.
 */
int mrap_s3_get_range(struct mrap_s3_client *c, const char *key, uint64_t offset, size_t len,
                      const char *if_match, char *buf, size_t *got, struct mrap_s3_error *err);

/* ---- listing ---- */

struct mrap_s3_list_entry {
    char *key; /* decoded */
    uint64_t size;
    struct timespec mtime;
    char etag[MRAP_S3_ETAG_MAX];
    char storage_class[32];
};

struct mrap_s3_list_page {
    struct mrap_s3_list_entry *objects;
    size_t n_objects;
    char **prefixes; /* common prefixes, decoded */
    size_t n_prefixes;
    bool truncated;
    char *next_token; /* continuation token for the next page, or NULL */
};

struct mrap_s3_list_opts {
    const char *prefix;
    const char *delimiter;          /* "/" or NULL */
    const char *continuation_token; /* from the previous page, or NULL */
    const char *start_after;
    unsigned max_keys;              /* 0 is sent as max-keys=0 only when probe is set */
    bool probe;
};

/*
 * One ListObjectsV2 page (encoding-type=url, so any key survives XML). Keys
 * and prefixes are returned decoded; the page is bounded (16 MiB of XML, at
 * most 1000 + 1000 entries). The caller cleans up the page.
 */
int mrap_s3_list_objects(struct mrap_s3_client *c, const struct mrap_s3_list_opts *opts,
                         struct mrap_s3_list_page *page, struct mrap_s3_error *err);
void mrap_s3_list_page_cleanup(struct mrap_s3_list_page *page);

/* Parses a ListObjectsV2 result document (exposed for tests). 0 or -EPROTO. */
int mrap_s3_list_parse(const char *xml, size_t len, struct mrap_s3_list_page *page);

/* Parses an HTTP date (RFC 1123) or ISO 8601 time as S3 sends them. 0 or -EINVAL. */
int mrap_s3_parse_time(const char *s, struct timespec *out);

#endif
