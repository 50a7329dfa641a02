/*
 * A reader: what one open file uses to read through the block cache, with
 * adaptive read-ahead. The fs read handler calls
 *
 *     mrap_reader_read(reader, offset, len, buf, &got)
 *
 * and replies with got bytes (fewer than len only at the end of the file).
 *
 * Read-ahead: a read that starts where the previous ones ended (within one
 * block either way, because a multi-threaded FUSE session delivers the
 * kernel's read-ahead slightly out of order), or inside the window already
 * scheduled, is sequential. The window starts at one block and doubles each
 * time the stream reaches a new block, up to max_window_bytes; the blocks in
 * it are handed to the worker pool, which fetches them in parallel into the
 * cache. Any other read is a seek: the window collapses, queued read-ahead of
 * this reader is withdrawn (fetches already running finish into the cache but
 * nobody waits for them), and only the blocks the read touches are fetched.
 *
 * Memory: the reader itself holds a few hundred bytes; blocks live in the
 * shared cache, whose budget bounds them whatever the file size. The window
 * is capped at half the cache so read-ahead cannot evict what it fetched
 * before it is read.
 *
 * Thread-safety: mrap_reader_read() may be called by several threads at once
 * for the same reader (the kernel may issue concurrent reads of one file);
 * the read-ahead state is under the reader's mutex, which is never held
 * during a fetch or a copy. mrap_reader_destroy() must not race with reads.
 */
#ifndef MRAP_CACHE_READER_H
#define MRAP_CACHE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "cache/block_cache.h"
#include "cache/common.h"
#include "cache/workers.h"

#define MRAP_READER_MAX_WINDOW_DEFAULT ((size_t)256 << 20)
#define MRAP_READER_SPAN_DEFAULT       4u

struct mrap_reader_opts {
    struct mrap_block_cache *cache; /* borrowed; outlives the reader */
    struct mrap_workers *workers;   /* borrowed; NULL: no read-ahead */
    const char *key;                /* copied */
    const char *etag;               /* copied: the version this reader reads */
    uint64_t size;                  /* of that version */
    mrap_cache_fetch_fn fetch;      /* called from the reading and worker threads */
    void *fetch_ctx;                /* borrowed until mrap_reader_destroy() returns */
    size_t max_window_bytes;        /* 0: MRAP_READER_MAX_WINDOW_DEFAULT */
    unsigned span_blocks;           /* blocks one read-ahead fetch may cover, 1..16;
                                     * 0: MRAP_READER_SPAN_DEFAULT */
};

struct mrap_reader_stats {
    uint64_t sequential_reads;
    uint64_t seeks;              /* reads that were not sequential */
    uint64_t prefetch_submitted; /* blocks handed to the workers */
    uint64_t prefetch_cancelled; /* withdrawn before they ran */
    uint64_t prefetch_errors;    /* read-ahead fetches that failed (the read retries) */
    size_t window_bytes;         /* the current window */
    size_t max_window_bytes;     /* after clamping */
};

struct mrap_reader;

/* 0, -EINVAL (missing cache, key, etag or fetch), or -ENOMEM. */
int mrap_reader_new(const struct mrap_reader_opts *opts, struct mrap_reader **out);
/* Withdraws the reader's queued read-ahead and waits for its running fetches
 * (at most one block each), so fetch_ctx is unused once it returns. Accepts NULL. */
void mrap_reader_destroy(struct mrap_reader *r);

/*
 * Reads [off, off+len) into buf; *got is the count (len, or what is left
 * before the end of the file; 0 at or past the end). 0, or the negative errno
 * of a block that could not be read (-ESTALE: the object changed; -EIO: it is
 * shorter than its size said, or kept failing its checksum); then *got is 0.
 */
int mrap_reader_read(struct mrap_reader *r, uint64_t off, size_t len, char *buf, size_t *got);

void mrap_reader_get_stats(struct mrap_reader *r, struct mrap_reader_stats *out);

#endif
