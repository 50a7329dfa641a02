/*
 * What the cache modules share: how a block is named and how its bytes are
 * fetched when no tier has them.
 *
 * A block is the index-th block_size slice of one version of one object. The
 * version is the ETag: the same key with another ETag is another block, so a
 * remote change can never be served from a stale cache entry.
 */
#ifndef MRAP_CACHE_COMMON_H
#define MRAP_CACHE_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The default block: large enough that a ranged GET amortises its round trip,
 * small enough that a random 4 KiB read does not drag in much more. */
#define MRAP_CACHE_BLOCK_SIZE_DEFAULT ((size_t)1 << 20)

/* Names a block; the strings are borrowed for the duration of a call. */
struct mrap_block_id {
    const char *key;  /* the S3 key */
    const char *etag; /* the version, as S3 sends it (with quotes) */
    uint64_t index;   /* offset / block_size */
};

/*
 * Fetches [off, off+len) of the object into buf and sets *got to the number of
 * bytes stored. Fewer than len only at the end of the object. Returns 0 or a
 * negative errno (-ESTALE when the object is no longer that version). Called
 * without any cache lock held, from the reading thread or a worker thread, so
 * it must be thread-safe. The fs implements it with mrap_s3_get_range() and
 * If-Match; the unit tests with a fake.
 */
typedef int (*mrap_cache_fetch_fn)(void *ctx, uint64_t off, size_t len, char *buf, size_t *got);

#endif
