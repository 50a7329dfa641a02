/*
 * The cache's S3 fetch: one ranged GET with If-Match (see s3_source.h).
 */
#include "cache/s3_source.h"

int mrap_cache_s3_fetch(void *ctx, uint64_t off, size_t len, char *buf, size_t *got)
{
    const struct mrap_cache_s3_source *src = ctx;
    return mrap_s3_get_range(src->s3, src->key, off, len, src->etag, buf, got, NULL);
}
