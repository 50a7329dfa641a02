/*
 * The fetch callback the filesystem gives the cache: ranged GETs of one
 * object version through the S3 client, each with If-Match on the ETag the
 * file was opened with. A read therefore never mixes two versions: when the
 * object changes underneath, the fetch fails with -ESTALE (412), and an
 * archived object with -ENODATA (InvalidObjectState), both from the one
 * errno table in s3/errors.c. The client already retries and logs final
 * failures with their S3 code and request id.
 *
 * Thread-safety: the source is read-only; any number of threads may fetch
 * through it at once (the client is thread-safe).
 */
#ifndef MRAP_CACHE_S3_SOURCE_H
#define MRAP_CACHE_S3_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "s3/client.h"

struct mrap_cache_s3_source {
    struct mrap_s3_client *s3; /* borrowed */
    const char *key;           /* borrowed: the full S3 key */
    const char *etag;          /* borrowed: sent as If-Match */
};

/* An mrap_cache_fetch_fn; ctx is a struct mrap_cache_s3_source. */
int mrap_cache_s3_fetch(void *ctx, uint64_t off, size_t len, char *buf, size_t *got);

#endif
