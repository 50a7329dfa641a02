/*
 * The in-memory block cache (--max-memory-cache MiB): fixed-size blocks of
 * object versions, least recently used first out, optionally backed by a disk
 * tier.
 *
 * Integrity: every block carries CRC32Cs (one per 16 KiB segment, so a small
 * read checks only what it copies), computed when the block arrives and
 * checked on every read. A block that fails is dropped and fetched again,
 * never served.
 *
 * Single flight: when several threads want the same missing block, one of
 * them fills it (disk tier first, else the fetch callback) with no lock held;
 * the others wait on a condition variable and then share the result. A fetch
 * error goes to every thread that waited for that fill and is not cached: the
 * next read tries again.
 *
 * Memory: blocks being filled or read are pinned and never evicted. The bytes
 * held stay within capacity_bytes plus one block per thread that is filling
 * or reading at that moment (pinned blocks are the only overshoot).
 *
 * Thread-safety: every function may be called from any thread at once. One
 * mutex guards the index and the LRU list; data are copied and checksummed
 * outside it, under a pin.
 */
#ifndef MRAP_CACHE_BLOCK_CACHE_H
#define MRAP_CACHE_BLOCK_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/common.h"
#include "cache/disk_cache.h"

struct mrap_block_cache_opts {
    size_t block_size;            /* 0 means MRAP_CACHE_BLOCK_SIZE_DEFAULT */
    size_t capacity_bytes;        /* memory budget; raised to one block if smaller */
    struct mrap_disk_cache *disk; /* optional second tier; borrowed, outlives the cache */
};

struct mrap_block_cache_stats {
    uint64_t hits;         /* reads served from memory */
    uint64_t misses;       /* fills started */
    uint64_t waits;        /* reads that waited for another thread's fill */
    uint64_t fetches;      /* fetch callback calls */
    uint64_t disk_hits;    /* fills served by the disk tier */
    uint64_t fetch_errors; /* fills that failed (not cached) */
    uint64_t crc_failures; /* blocks dropped because a checksum failed */
    uint64_t evictions;
    size_t bytes;      /* block data held now, including blocks being filled */
    size_t peak_bytes; /* the most ever held */
    size_t blocks;     /* blocks indexed now */
};

struct mrap_block_cache;

/* 0, -EINVAL (block size over 1 GiB), or -ENOMEM. */
int mrap_block_cache_new(const struct mrap_block_cache_opts *opts, struct mrap_block_cache **out);
/* Accepts NULL. No call may be in progress. */
void mrap_block_cache_destroy(struct mrap_block_cache *c);

size_t mrap_block_cache_block_size(const struct mrap_block_cache *c);
size_t mrap_block_cache_capacity(const struct mrap_block_cache *c);

/*
 * Copies bytes [off, off+n) of block id into dst. block_len is the block's
 * full length (block_size, or less for the last block of the object); a fill
 * asks fetch(ctx) for exactly [index*block_size, +block_len), and a shorter
 * answer is -EIO (the object is shorter than the caller believes). off+n must
 * not exceed block_len.
 *
 * 0; the fetch's negative errno; -EIO when the block kept failing its
 * checksum; -ENOMEM; -EINVAL for a range outside the block.
 */
int mrap_block_cache_read(struct mrap_block_cache *c, const struct mrap_block_id *id,
                          size_t block_len, size_t off, size_t n, char *dst,
                          mrap_cache_fetch_fn fetch, void *ctx);

/* Makes sure block id is cached (for read-ahead): same as a read that copies
 * nothing, without the checksum pass. */
int mrap_block_cache_fill(struct mrap_block_cache *c, const struct mrap_block_id *id,
                          size_t block_len, mrap_cache_fetch_fn fetch, void *ctx);

/* Makes block id the next to be evicted: a sequential stream has read past it
 * and will likely not come back, while the read-ahead blocks it has not read
 * yet are more recent in use but older in time. No effect when absent. */
void mrap_block_cache_demote(struct mrap_block_cache *c, const struct mrap_block_id *id);

/* Whether block id is in memory now (filled or being filled). */
bool mrap_block_cache_contains(struct mrap_block_cache *c, const struct mrap_block_id *id);

/* Drops every memory block of `key`, whatever its ETag (after the mount's own
 * write or delete). Blocks being read are freed when their readers finish. */
void mrap_block_cache_invalidate(struct mrap_block_cache *c, const char *key);

void mrap_block_cache_get_stats(struct mrap_block_cache *c, struct mrap_block_cache_stats *out);

/* For tests: flips one bit of a cached block, as a memory error would, so
 * that the checksum path can be exercised. 0 or -ENOENT. */
int mrap_block_cache_corrupt_for_test(struct mrap_block_cache *c, const struct mrap_block_id *id,
                                      size_t off);

#endif
