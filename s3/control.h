/*
 * S3 Control for Multi-Region Access Points: the ten MRAP management
 * operations of the S3 Control API (2018-08-20), as botocore's model
 * describes them (URIs, XML shapes, x-amz-account-id, Content-MD5 where the
 * model says httpChecksumRequired).
 *
 * Addressing and signing: SigV4 (service "s3") in one region, at
 * https://<account>.s3-control.<region>.amazonaws.com, or with an endpoint URL
 * E at <scheme>://<account>.<E's host>[:port] (the SDKs' {AccountId}. host
 * prefix). Management operations go to the control region (default
 * us-west-2, where AWS serves them). Route operations (Get/Submit routes) may
 * be served by any of the five route regions; when one fails with no answer
 * or a 5xx after its retries, the next is tried, in the order
 * us-east-1, us-west-2, ap-southeast-2, ap-northeast-1, eu-west-1 starting at
 * the control region (or at us-east-1 when it is not one of them).
 *
 * Create, delete and put-policy are asynchronous: they return a request token
 * ARN to poll with mrap_s3_control_describe(). Each carries a ClientToken
 * (generated when the caller gives none), so S3 recognises a retried request
 * as the same one.
 *
 * Errors: 0 or a negative errno from the one table in s3/errors.c (-ENOENT
 * NoSuchMultiRegionAccessPoint, -EACCES, -EINVAL, -EIO after retries, ...);
 * *err (may be NULL) holds the S3 code, message and request id. Refused here
 * before sending: -EINVAL (a name, account id, region, bucket, token, route
 * or policy outside the model's patterns and limits). Answers that do not
 * parse or exceed the bounds below: -EPROTO.
 *
 * Thread-safety: the control client is immutable after creation; any number
 * of threads may use it. Results with heap parts have _cleanup functions.
 */
#ifndef MRAP_S3_CONTROL_H
#define MRAP_S3_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "s3/client.h"

#define MRAP_S3_CONTROL_DEFAULT_REGION  "us-west-2"
#define MRAP_S3_CONTROL_N_ROUTE_REGIONS 5
#define MRAP_S3_MRAP_NAME_MAX           50
#define MRAP_S3_TOKEN_ARN_MAX           1024
#define MRAP_S3_MRAP_MAX_REGIONS        20           /* AWS allows 17 per MRAP */
#define MRAP_S3_POLICY_MAX_BYTES        (20u * 1024) /* S3's access point policy limit */
#define MRAP_S3_LIST_MAX_PER_PAGE       1000

/* The i-th route region (0..4), or NULL. */
const char *mrap_s3_control_route_region(size_t i);

struct mrap_s3_control_opts {
    const char *account_id;   /* 12 digits */
    const char *region;       /* NULL: us-west-2 */
    const char *endpoint_url; /* NULL: AWS */
    unsigned max_attempts;    /* per request (and per route region, at most 2 there) */
    unsigned backoff_base_ms;
    unsigned backoff_max_ms;
    bool debug_requests;
    struct mrap_http_ops http;
    struct mrap_creds_provider *creds; /* borrowed */
    struct mrap_signer *signer;        /* borrowed */
};

struct mrap_s3_control;

/* 0, -EINVAL (account id, region or endpoint), or -ENOMEM. */
int mrap_s3_control_new(const struct mrap_s3_control_opts *opts, struct mrap_s3_control **out);
void mrap_s3_control_destroy(struct mrap_s3_control *ctl); /* accepts NULL */
/* The base URL of the control region, for messages. */
const char *mrap_s3_control_base_url(const struct mrap_s3_control *ctl);

/* A fresh random ClientToken (a UUID, 36 characters + NUL). 0 or -EIO. */
int mrap_s3_control_client_token(char out[37]);

/* ---- shapes ---- */

struct mrap_s3_pab { /* PublicAccessBlockConfiguration */
    bool present;
    bool block_public_acls, ignore_public_acls, block_public_policy, restrict_public_buckets;
};

struct mrap_s3_mrap_region {
    char bucket[256];
    char region[65];
    char bucket_account_id[16]; /* "" when not given */
};

struct mrap_s3_mrap_report {
    char name[MRAP_S3_MRAP_NAME_MAX + 1];
    char alias[64];
    time_t created_at; /* 0 when not given */
    char status[40];   /* READY, CREATING, ... */
    struct mrap_s3_pab pab;
    struct mrap_s3_mrap_region *regions; /* owned */
    size_t n_regions;
};
void mrap_s3_mrap_report_cleanup(struct mrap_s3_mrap_report *r);

struct mrap_s3_mrap_bucket { /* one bucket of a new MRAP; borrowed strings */
    const char *bucket;
    const char *account_id; /* NULL: the caller's account */
};

struct mrap_s3_mrap_create {
    const char *name;
    const struct mrap_s3_mrap_bucket *buckets;
    size_t n_buckets;         /* 1..MRAP_S3_MRAP_MAX_REGIONS */
    struct mrap_s3_pab pab;   /* sent when pab.present */
    const char *client_token; /* NULL: generated */
};

struct mrap_s3_async_region {
    char name[65];
    char status[40];
};

struct mrap_s3_async_op {
    char operation[64];
    char token_arn[MRAP_S3_TOKEN_ARN_MAX + 1];
    char status[40]; /* NEW, INPROGRESS, SUCCEEDED, FAILED */
    time_t created;
    char name[MRAP_S3_MRAP_NAME_MAX + 1]; /* the MRAP named in the request, if any */
    struct mrap_s3_async_region *regions; /* owned */
    size_t n_regions;
    bool has_error;
    char error_code[128];
    char error_message[1025];
    char error_resource[1025];
    char error_request_id[129];
};
void mrap_s3_async_op_cleanup(struct mrap_s3_async_op *op);

struct mrap_s3_mrap_list {
    struct mrap_s3_mrap_report *items; /* owned */
    size_t n;
    char *next_token; /* owned; NULL on the last page */
};
void mrap_s3_mrap_list_cleanup(struct mrap_s3_mrap_list *l);

struct mrap_s3_mrap_policy {
    char *established; /* owned; NULL when none */
    char *proposed;    /* owned; NULL when none */
};
void mrap_s3_mrap_policy_cleanup(struct mrap_s3_mrap_policy *p);

struct mrap_s3_route {
    char bucket[256]; /* "" when identified by region only */
    char region[65];  /* "" when identified by bucket only */
    int dial;         /* TrafficDialPercentage 0..100 */
};

struct mrap_s3_routes {
    char mrap[201];
    struct mrap_s3_route *v; /* owned */
    size_t n;
};
void mrap_s3_routes_cleanup(struct mrap_s3_routes *r);

/* ---- operations ---- */

/* CreateMultiRegionAccessPoint; token_arn receives RequestTokenARN. */
int mrap_s3_control_create(struct mrap_s3_control *ctl, const struct mrap_s3_mrap_create *req,
                           char token_arn[MRAP_S3_TOKEN_ARN_MAX + 1], struct mrap_s3_error *err);
int mrap_s3_control_delete(struct mrap_s3_control *ctl, const char *name, const char *client_token,
                           char token_arn[MRAP_S3_TOKEN_ARN_MAX + 1], struct mrap_s3_error *err);
/* PutMultiRegionAccessPointPolicy with a JSON policy document (not parsed here;
 * at most MRAP_S3_POLICY_MAX_BYTES). */
int mrap_s3_control_put_policy(struct mrap_s3_control *ctl, const char *name, const char *policy,
                               const char *client_token, char token_arn[MRAP_S3_TOKEN_ARN_MAX + 1],
                               struct mrap_s3_error *err);
int mrap_s3_control_describe(struct mrap_s3_control *ctl, const char *token_arn,
                             struct mrap_s3_async_op *out, struct mrap_s3_error *err);

int mrap_s3_control_get(struct mrap_s3_control *ctl, const char *name,
                        struct mrap_s3_mrap_report *out, struct mrap_s3_error *err);
/* One page; next_token NULL for the first; max_results 0 = server default. */
int mrap_s3_control_list(struct mrap_s3_control *ctl, const char *next_token, unsigned max_results,
                         struct mrap_s3_mrap_list *out, struct mrap_s3_error *err);
int mrap_s3_control_get_policy(struct mrap_s3_control *ctl, const char *name,
                               struct mrap_s3_mrap_policy *out, struct mrap_s3_error *err);
/* *is_public: Established.IsPublic (false when S3 leaves it out). */
int mrap_s3_control_policy_status(struct mrap_s3_control *ctl, const char *name, bool *is_public,
                                  struct mrap_s3_error *err);

/* Route operations, with route-region failover. `mrap` is the MRAP's ARN
 * (arn:aws:s3::<account>:accesspoint/<alias>).
 * served_by (may be NULL, 65 bytes) receives the route region that answered. */
int mrap_s3_control_get_routes(struct mrap_s3_control *ctl, const char *mrap,
                               struct mrap_s3_routes *out, char *served_by,
                               struct mrap_s3_error *err);
/* Each route names a bucket or a region (or both); dial 0..100; 1..20 routes. */
int mrap_s3_control_submit_routes(struct mrap_s3_control *ctl, const char *mrap,
                                  const struct mrap_s3_route *routes, size_t n, char *served_by,
                                  struct mrap_s3_error *err);

/*
 * Failover: reads the routes, then submits `to_region` at 100 and every other
 * route at 0 (what `mrapctl failover --to` does). -ENOENT when no route of
 * the MRAP is in to_region (nothing is submitted). served_by as above.
 */
int mrap_s3_control_failover(struct mrap_s3_control *ctl, const char *mrap, const char *to_region,
                             char *served_by, struct mrap_s3_error *err);

/*
 * Splits an MRAP ARN, arn:<partition>:s3::<account>:accesspoint/<alias>, into
 * its account id and alias (what --account-id defaults to, and the alias the
 * data plane uses). 0 or -EINVAL.
 */
int mrap_s3_control_parse_arn(const char *arn, char account[13], char alias[64]);
/* The ARN of alias in account (aws partition) into out. 0 or -EINVAL. */
int mrap_s3_control_make_arn(const char *account, const char *alias, char *out, size_t outlen);

/* ---- checks (exposed for tests and mrapctl's messages) ---- */

bool mrap_s3_control_name_valid(const char *name);       /* ^[a-z0-9][-a-z0-9]{1,48}[a-z0-9]$ */
bool mrap_s3_control_account_valid(const char *account); /* ^\d{12}$ */
bool mrap_s3_control_mrap_id_valid(const char *mrap); /* [a-zA-Z0-9:.-/]{3,200}, clean segments */

#endif
