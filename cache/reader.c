/*
 * Per-open-file reads with adaptive read-ahead (the contract is in reader.h).
 *
 * The stream state is three numbers: next_off (where the stream ends so far),
 * ra_next (the first block not yet handed to read-ahead) and last_block (the
 * furthest block the stream has reached, whose advance doubles the window).
 * The read itself goes block by block through the cache, which makes a read
 * of a block that read-ahead is fetching wait for that fetch instead of
 * starting a second one.
 *
 * Read-ahead fetches spans of up to span_blocks consecutive blocks with one
 * ranged GET, then hands each block to the cache. Per-request costs (signing,
 * a round trip, the server's work per request) dominate at 1 MiB: measured
 * with curl against the emulator, 4 MiB ranges move 2.2x the bytes per second
 * of 1 MiB ranges. The span buffer is transient (one per worker thread), and
 * the copy into the blocks costs far less than the requests it saves. A job's
 * argument is (first block << SPAN_BITS) | (blocks - 1), so the workers'
 * cancel-by-range still works on block numbers shifted by SPAN_BITS.
 */
#include "cache/reader.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define SPAN_BITS     4 /* so a span is at most 16 blocks */
#define JOB_ARG(b, n) (((uint64_t)(b) << SPAN_BITS) | ((uint64_t)(n)-1))

struct mrap_reader {
    struct mrap_block_cache *cache;
    struct mrap_workers *workers;
    char *key, *etag;
    uint64_t size;
    size_t block_size;
    uint64_t nblocks;
    mrap_cache_fetch_fn fetch;
    void *fetch_ctx;
    size_t max_window;
    unsigned span; /* blocks per read-ahead fetch, at most */

    pthread_mutex_t mu; /* guards everything below */
    uint64_t next_off;
    uint64_t run_start; /* where the current run of sequential reads began */
    uint64_t ra_next;
    uint64_t last_block;
    size_t window; /* 0: no stream yet, or after a seek */
    struct mrap_reader_stats st;
};

static size_t block_len(const struct mrap_reader *r, uint64_t b)
{
    uint64_t start = b * r->block_size;
    uint64_t left = r->size - start;
    return left < r->block_size ? (size_t)left : r->block_size;
}

static bool cached(struct mrap_reader *r, uint64_t b)
{
    struct mrap_block_id id = {.key = r->key, .etag = r->etag, .index = b};
    return mrap_block_cache_contains(r->cache, &id);
}

static void note_prefetch_error(struct mrap_reader *r, uint64_t b, int rc)
{
    /* Not fatal: the read that needs the block fetches it and reports. */
    MRAP_DEBUG("cache", "read-ahead of %s block %llu failed: %s", r->key, (unsigned long long)b,
               strerror(-rc));
    pthread_mutex_lock(&r->mu);
    r->st.prefetch_errors++;
    pthread_mutex_unlock(&r->mu);
}

/*
 * A span [first, first+n) is fetched with one GET while every block of it is
 * held by the cache as "being filled", so that a reader catching up waits for
 * the span instead of fetching the same block again. The blocks are claimed
 * through nested fills: the fetch callback of block b starts the fill of b+1,
 * and so on; the innermost callback (the last block that could be claimed: the
 * span's end, a block already cached, or one someone else is filling) makes
 * the GET for everything claimed, and each callback then copies its block out.
 * Claims are taken in increasing block order only, so two spans never wait
 * for each other in a cycle.
 */
struct span {
    struct mrap_reader *r;
    uint64_t first, n;
    char *data; /* the claimed blocks' bytes, once fetched */
    bool fetched;
    int rc;
};

static int span_fetch(void *ctx, uint64_t off, size_t len, char *buf, size_t *got)
{
    struct span *s = ctx;
    struct mrap_reader *r = s->r;
    uint64_t b = off / r->block_size;
    uint64_t next = b + 1;
    if (next < s->first + s->n && !cached(r, next)) {
        struct mrap_block_id id = {.key = r->key, .etag = r->etag, .index = next};
        mrap_block_cache_fill(r->cache, &id, block_len(r, next), span_fetch, s);
    }
    if (!s->fetched) { /* nothing after b was claimed: b ends the span */
        uint64_t start = s->first * r->block_size;
        size_t total = (size_t)(off + len - start), n = 0;
        s->fetched = true;
        s->data = malloc(total);
        s->rc = s->data ? r->fetch(r->fetch_ctx, start, total, s->data, &n) : -ENOMEM;
        if (!s->rc && n != total)
            s->rc = -EIO; /* shorter than its size said: the reads find out and report */
    }
    if (s->rc)
        return s->rc;
    memcpy(buf, s->data + (off - s->first * r->block_size), len);
    *got = len;
    return 0;
}

static void prefetch_job(void *owner, uint64_t arg)
{
    struct mrap_reader *r = owner;
    uint64_t b = arg >> SPAN_BITS, n = (arg & ((1u << SPAN_BITS) - 1)) + 1;
    /* The stream may have passed these blocks while the job waited in the
     * queue (slow network): fetching them now would only evict useful blocks. */
    pthread_mutex_lock(&r->mu);
    bool passed = r->window && (b + n) * r->block_size <= r->next_off;
    pthread_mutex_unlock(&r->mu);
    if (passed)
        return;
    /* A reader may have fetched the ends meanwhile: trim them. */
    while (n && cached(r, b))
        b++, n--;
    while (n && cached(r, b + n - 1))
        n--;
    if (n == 0)
        return;
    struct span s = {.r = r, .first = b, .n = n};
    struct mrap_block_id id = {.key = r->key, .etag = r->etag, .index = b};
    int rc = mrap_block_cache_fill(r->cache, &id, block_len(r, b), span_fetch, &s);
    if (rc)
        note_prefetch_error(r, b, rc);
    free(s.data);
}

/* Hands blocks [from, until) to the workers, skipping those already in memory;
 * stops early when the queue is full. Returns the first block not handed. */
static uint64_t schedule_locked(struct mrap_reader *r, uint64_t from, uint64_t until)
{
    uint64_t b = from;
    while (b < until) {
        if (cached(r, b)) {
            b++;
            continue;
        }
        uint64_t n = 1;
        while (n < r->span && b + n < until && !cached(r, b + n))
            n++;
        if (mrap_workers_submit(r->workers, r, JOB_ARG(b, n), prefetch_job) != 0)
            break;
        r->st.prefetch_submitted += n;
        b += n;
    }
    return b;
}

/* Classifies the read [off, end) touching blocks first..last and updates the
 * read-ahead accordingly. Returns whether the read is sequential. */
static bool plan(struct mrap_reader *r, uint64_t off, uint64_t end, uint64_t first, uint64_t last)
{
    uint64_t bs = r->block_size;
    pthread_mutex_lock(&r->mu);
    uint64_t lo = r->next_off > bs ? r->next_off - bs : 0;
    uint64_t hi = r->next_off;
    if (r->window) {
        uint64_t scheduled_end = r->ra_next * bs;
        hi = (scheduled_end > hi ? scheduled_end : hi) + bs;
    }
    bool sequential = off >= lo && off <= hi;

    if (!sequential) {
        r->st.seeks++;
        if (r->workers)
            r->st.prefetch_cancelled += mrap_workers_cancel(r->workers, r, 0, 0);
        r->window = 0;
        r->run_start = off;
        r->ra_next = last + 1;
        r->last_block = last;
        r->next_off = end;
        pthread_mutex_unlock(&r->mu);
        return false;
    }

    r->st.sequential_reads++;
    /* After a seek, the kernel turns even a 4 KiB read into a run of
     * consecutive reads (its own read-ahead: ten 128 KiB reads, 1.25 MiB, seen
     * on a FUSE mount under Linux 6.x). Only a run of two blocks is taken for a
     * stream; until then nothing is read ahead, so random reads fetch only the
     * blocks they touch. A run from the start of the file (cat, cp) is a
     * stream at once. */
    if (r->window == 0 && r->run_start && end - r->run_start < 2 * bs) {
        if (end > r->next_off)
            r->next_off = end;
        pthread_mutex_unlock(&r->mu);
        return true;
    }
    if (r->window == 0) {
        r->window = r->block_size;
        r->last_block = last;
    } else if (last > r->last_block) {
        r->window = r->window * 2 < r->max_window ? r->window * 2 : r->max_window;
        r->last_block = last;
    }
    if (off > r->next_off && r->workers) /* skipped ahead: what lies behind is not needed */
        r->st.prefetch_cancelled +=
            mrap_workers_cancel(r->workers, r, JOB_ARG(first, 1), UINT64_MAX);
    if (end > r->next_off)
        r->next_off = end;
    if (r->workers) {
        uint64_t until = (end + r->window + bs - 1) / bs;
        if (until > r->nblocks)
            until = r->nblocks;
        uint64_t from = r->ra_next > last + 1 ? r->ra_next : last + 1;
        /* Once the window is wide, wait until a whole span is due (the window
         * keeps the stream fed meanwhile); a small window or the end of the
         * file are scheduled at once. */
        bool due = until - from >= r->span || until == r->nblocks || r->window < 2 * r->span * bs;
        if (from < until && due)
            r->ra_next = schedule_locked(r, from, until);
    }
    pthread_mutex_unlock(&r->mu);
    return true;
}

int mrap_reader_read(struct mrap_reader *r, uint64_t off, size_t len, char *buf, size_t *got)
{
    *got = 0;
    if (off >= r->size || len == 0)
        return 0;
    if (len > r->size - off)
        len = (size_t)(r->size - off);
    uint64_t bs = r->block_size;
    uint64_t first = off / bs, last = (off + len - 1) / bs;
    bool sequential = plan(r, off, off + len, first, last);

    size_t done = 0;
    for (uint64_t b = first; b <= last; b++) {
        struct mrap_block_id id = {.key = r->key, .etag = r->etag, .index = b};
        size_t blen = block_len(r, b);
        size_t boff = b == first ? (size_t)(off - b * bs) : 0;
        size_t n = blen - boff < len - done ? blen - boff : len - done;
        int rc =
            mrap_block_cache_read(r->cache, &id, blen, boff, n, buf + done, r->fetch, r->fetch_ctx);
        if (rc)
            return rc; /* never a short read: that would mean end of file */
        if (sequential && boff + n == blen)
            mrap_block_cache_demote(r->cache, &id); /* read through: evict it first */
        done += n;
    }
    *got = done;
    return 0;
}

void mrap_reader_get_stats(struct mrap_reader *r, struct mrap_reader_stats *out)
{
    pthread_mutex_lock(&r->mu);
    *out = r->st;
    out->window_bytes = r->window;
    pthread_mutex_unlock(&r->mu);
}

int mrap_reader_new(const struct mrap_reader_opts *opts, struct mrap_reader **out)
{
    *out = NULL;
    if (!opts->cache || !opts->key || !opts->etag || !opts->fetch)
        return -EINVAL;
    struct mrap_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->key = strdup(opts->key);
    r->etag = strdup(opts->etag);
    if (!r->key || !r->etag) {
        free(r->key);
        free(r->etag);
        free(r);
        return -ENOMEM;
    }
    r->cache = opts->cache;
    r->workers = opts->workers;
    r->size = opts->size;
    r->block_size = mrap_block_cache_block_size(opts->cache);
    r->nblocks = (opts->size + r->block_size - 1) / r->block_size;
    r->fetch = opts->fetch;
    r->fetch_ctx = opts->fetch_ctx;
    size_t w = opts->max_window_bytes ? opts->max_window_bytes : MRAP_READER_MAX_WINDOW_DEFAULT;
    size_t half = mrap_block_cache_capacity(opts->cache) / 2;
    if (w > half)
        w = half;
    if (w < r->block_size)
        w = r->block_size;
    r->max_window = w;
    r->span = opts->span_blocks ? opts->span_blocks : MRAP_READER_SPAN_DEFAULT;
    if (r->span > 1u << SPAN_BITS)
        r->span = 1u << SPAN_BITS;
    r->st.max_window_bytes = w;
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return 0;
}

void mrap_reader_destroy(struct mrap_reader *r)
{
    if (!r)
        return;
    if (r->workers)
        mrap_workers_drain(r->workers, r);
    pthread_mutex_destroy(&r->mu);
    free(r->key);
    free(r->etag);
    free(r);
}
