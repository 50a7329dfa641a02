/*
 * Presigned URLs: a GET or PUT of one key that anyone holding the URL may
 * perform until it expires, without credentials of their own (curl, a
 * browser, another program).
 *
 * For an MRAP client the URL is SigV4A query-signed, as the SDKs presign for
 * Multi-Region Access Points:
 *   X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256, X-Amz-Credential=<id>/<date>/s3/
 *   aws4_request, X-Amz-Date, X-Amz-SignedHeaders=host, X-Amz-Expires,
 *   X-Amz-Security-Token (temporary credentials), X-Amz-Region-Set=*,
 *   X-Amz-Signature; the payload is UNSIGNED-PAYLOAD, so a PUT may carry any
 *   body. A bucket client gives a SigV4 URL for its region the same way.
 * The address is the client's (the MRAP host, or <alias>.<endpoint host>).
 *
 * The URL is a bearer credential: it embeds the session token when there is
 * one. Callers print it for the user and never log it.
 *
 * Thread-safety: as the client's. Errors: 0, -EINVAL (method other than
 * GET/PUT/HEAD, bad key, expiry outside 1..604800 s, an S3 Control client),
 * -ENAMETOOLONG (key), -ENOMEM, or the credential provider's error.
 */
#ifndef MRAP_S3_PRESIGN_H
#define MRAP_S3_PRESIGN_H

#include <time.h>

#include "s3/client.h"

#define MRAP_S3_PRESIGN_MAX_EXPIRES_S 604800u /* 7 days, SigV4's limit */

struct mrap_s3_presign_opts {
    const char *method; /* "GET", "PUT" or "HEAD" */
    const char *key;
    unsigned expires_s; /* 1..MRAP_S3_PRESIGN_MAX_EXPIRES_S */
    time_t now;         /* signing time; 0 = now */
};

struct mrap_s3_presigned {
    char *url;               /* owned */
    char *canonical_request; /* owned, for tests and debugging; no secret */
    char *string_to_sign;    /* owned */
};

int mrap_s3_presign(struct mrap_s3_client *c, const struct mrap_s3_presign_opts *opts,
                    struct mrap_s3_presigned *out);
/* Frees and wipes the URL (it may hold a session token). Accepts a zeroed struct. */
void mrap_s3_presigned_cleanup(struct mrap_s3_presigned *p);

#endif
