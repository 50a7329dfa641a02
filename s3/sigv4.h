/*
 * Request signing: AWS Signature Version 4 (HMAC-SHA256, one region) and
 * Version 4A (ECDSA P-256 over SHA-256, a region set such as "*").
 *
 * The signer works on a description of the request (method, encoded path,
 * raw query, headers) and returns the headers (or query string) to add; it
 * never touches the network and does not include curl.
 *
 * SigV4A keys are derived from the secret key with NIST SP 800-108 counter-mode
 * HMAC-SHA256 (as aws-c-auth does). Derivation costs milliseconds, so the
 * signer caches the derived key per access key id and secret; cached keys are
 * freed (and their private scalar wiped) in mrap_signer_destroy and when the
 * credentials for an access key id change.
 *
 * Thread-safety: one signer may be used from many threads at once.
 */
#ifndef MRAP_S3_SIGV4_H
#define MRAP_S3_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "s3/creds.h"

enum mrap_sig_alg {
    MRAP_SIG_V4 = 0,  /* AWS4-HMAC-SHA256 */
    MRAP_SIG_V4A = 1, /* AWS4-ECDSA-P256-SHA256 */
};

#define MRAP_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* SHA-256 of the empty string, hex. */
#define MRAP_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct mrap_sig_header {
    const char *name;
    const char *value;
};

/* The request as it will be sent. */
struct mrap_sig_request {
    const char *method;
    const char *path;  /* as on the wire: already URI-encoded, no query ("/" at least) */
    const char *query; /* as on the wire, without '?'; NULL or "" for none */
    const struct mrap_sig_header *headers; /* must include "host" */
    size_t n_headers;
};

struct mrap_sig_opts {
    enum mrap_sig_alg alg;
    const char *service; /* "s3", "s3-control", "sts", ... */
    const char *region;  /* SigV4: the region; SigV4A: the region set, e.g. "*" */
    time_t now;          /* signing time (UTC seconds) */
    /* Hex SHA-256 of the body, MRAP_UNSIGNED_PAYLOAD, or NULL to use the empty body's hash. */
    const char *payload_hash;
    bool add_content_sha256_header; /* S3 requires x-amz-content-sha256 */
    bool double_uri_encode;         /* every service but S3: true */
    bool normalize_path;            /* every service but S3: true */
    bool presign;                   /* sign the query string instead of adding headers */
    unsigned expires_s;             /* presign only: X-Amz-Expires, 1..604800 */
};

#define MRAP_SIG_MAX_OUT_HEADERS 6

struct mrap_sig_result {
    /* Header mode: headers to add to the request, in this order: X-Amz-Date,
     * X-Amz-Region-Set (V4A), X-Amz-Security-Token (when a session token is
     * present), X-Amz-Content-SHA256 (when asked), Authorization. Owned. */
    struct {
        char *name;
        char *value;
    } headers[MRAP_SIG_MAX_OUT_HEADERS];
    size_t n_headers;
    /* Presign mode: the complete new query string (original parameters plus the
     * X-Amz-* ones), to put after '?'. Owned. */
    char *query;
    /* For tests and --debug of signature failures; contain no secret. Owned. */
    char *canonical_request;
    char *string_to_sign;
    char *signature_hex;
};

struct mrap_signer;

struct mrap_signer *mrap_signer_new(void);
void mrap_signer_destroy(struct mrap_signer *s); /* accepts NULL */

/*
 * Signs. Returns 0, -EINVAL (bad request description or options, e.g. no host
 * header, expires_s out of range), -ENOMEM, or -EIO (a crypto failure).
 * On success the caller cleans up *out; on failure *out holds nothing.
 */
int mrap_signer_sign(struct mrap_signer *s, const struct mrap_credentials *creds,
                     const struct mrap_sig_request *req, const struct mrap_sig_opts *opts,
                     struct mrap_sig_result *out);
void mrap_sig_result_cleanup(struct mrap_sig_result *r);

/*
 * Verifies a SigV4A signature (hex DER) over string_to_sign with the public key
 * derived from creds. Used by tests to check signatures made by other signers
 * (the AWS CRT) and by ours. 1 = valid, 0 = invalid, negative errno on error.
 */
int mrap_signer_verify_v4a(struct mrap_signer *s, const struct mrap_credentials *creds,
                           const char *string_to_sign, const char *signature_hex);

/* URI-encodes per SigV4 (unreserved A-Za-z0-9-_.~ kept, everything else %XX,
 * '/' kept when keep_slash). Returns a heap string or NULL on ENOMEM. */
char *mrap_uri_encode(const char *s, size_t len, bool keep_slash);

#endif
