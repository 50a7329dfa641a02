/*
 * The per-file reader and its read-ahead: sequential detection and window
 * growth (1 block doubling to the cap), a seek withdraws queued read-ahead
 * without waiting for running fetches, random reads fetch exactly the blocks
 * they touch, memory stays within the cache budget for a file far larger
 * than it, concurrent readers of one file, errors are errors (never short
 * reads) and short reads happen only at the end of the file.
 */
#include "cache/reader.h"
#include "cache_fake.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BS    ((size_t)64 * 1024)
#define SLACK 1024 /* per-block bookkeeping the budget also charges */

struct rig {
    struct fake f;
    struct mrap_block_cache *cache;
    struct mrap_workers *workers;
    struct mrap_reader *r;
};

static void rig_init_span(struct rig *g, uint64_t size, size_t cache_blocks, unsigned threads,
                          size_t max_window, unsigned span)
{
    memset(g, 0, sizeof(*g));
    fake_init(&g->f, size, 42);
    struct mrap_block_cache_opts co = {.block_size = BS,
                                       .capacity_bytes = cache_blocks * (BS + SLACK)};
    CHECK_INT(mrap_block_cache_new(&co, &g->cache), 0);
    if (threads)
        CHECK_INT(mrap_workers_new(threads, 0, &g->workers), 0);
    struct mrap_reader_opts ro = {.cache = g->cache,
                                  .workers = g->workers,
                                  .key = "dir/file",
                                  .etag = "\"v1\"",
                                  .size = size,
                                  .fetch = fake_fetch,
                                  .fetch_ctx = &g->f,
                                  .max_window_bytes = max_window,
                                  .span_blocks = span};
    CHECK_INT(mrap_reader_new(&ro, &g->r), 0);
}

/* Block-by-block read-ahead, what most tests below reason about. */
static void rig_init(struct rig *g, uint64_t size, size_t cache_blocks, unsigned threads,
                     size_t max_window)
{
    rig_init_span(g, size, cache_blocks, threads, max_window, 1);
}

static void rig_cleanup(struct rig *g)
{
    mrap_reader_destroy(g->r);
    mrap_workers_destroy(g->workers);
    mrap_block_cache_destroy(g->cache);
    CHECK(!g->f.past_end, "no fetch past the end of the object");
    fake_cleanup(&g->f);
}

/* Reads and checks [off, off+len); returns the count, or the negative errno. */
static long read_at(struct rig *g, uint64_t off, size_t len)
{
    char *buf = malloc(len ? len : 1);
    size_t got = 0;
    int rc = mrap_reader_read(g->r, off, len, buf, &got);
    if (rc == 0)
        CHECK(fake_check(g->f.seed, off, buf, got), "bytes at %llu+%zu", (unsigned long long)off,
              got);
    else
        CHECK_INT(got, 0);
    free(buf);
    return rc ? rc : (long)got;
}

static void test_sequential_window(void)
{
    struct rig g;
    struct mrap_reader_stats st;
    const uint64_t nblocks = 40;
    rig_init(&g, nblocks * BS, 64, 4, 8 * BS);

    size_t windows[64] = {0};
    size_t reads = 0;
    for (uint64_t off = 0; off < nblocks * BS; off += BS / 4, reads++) {
        CHECK_INT(read_at(&g, off, BS / 4), BS / 4);
        mrap_reader_get_stats(g.r, &st);
        if (off % BS == 0)
            windows[off / BS] = st.window_bytes;
    }
    /* One block, then doubling each time the stream enters a new block. */
    CHECK_INT(windows[0], BS);
    CHECK_INT(windows[1], 2 * BS);
    CHECK_INT(windows[2], 4 * BS);
    CHECK_INT(windows[3], 8 * BS);
    CHECK_INT(windows[4], 8 * BS); /* the cap */
    CHECK_INT(windows[39], 8 * BS);
    mrap_reader_get_stats(g.r, &st);
    CHECK_INT(st.sequential_reads, reads);
    CHECK_INT(st.seeks, 0);
    CHECK(st.prefetch_submitted > 0, "read-ahead used (%llu blocks)",
          (unsigned long long)st.prefetch_submitted);
    CHECK_INT(fake_calls(&g.f), nblocks); /* every block exactly once */

    /* Short reads only at the end. */
    CHECK_INT(read_at(&g, nblocks * BS - 10, 100), 10);
    CHECK_INT(read_at(&g, nblocks * BS, 100), 0);
    CHECK_INT(read_at(&g, nblocks * BS + 5 * BS, 100), 0);
    CHECK_INT(read_at(&g, 3, 0), 0);
    rig_cleanup(&g);
}

static void test_seek_cancels(void)
{
    struct rig g;
    struct mrap_reader_stats st;
    rig_init(&g, 100 * BS, 64, 1, 64 * BS);
    /* Block 2 stalls in the (only) worker; block 3 then waits in the queue. */
    fake_gate(&g.f, true, 2 * BS, 3 * BS);

    CHECK_INT(read_at(&g, 0, BS), BS);  /* window 1 block: block 1 queued */
    CHECK_INT(read_at(&g, BS, BS), BS); /* window 2 blocks: 2 and 3 queued */
    CHECK(fake_wait_stalled(&g.f, 1), "read-ahead of block 2 running");
    mrap_reader_get_stats(g.r, &st);
    CHECK_INT(st.prefetch_submitted, 3);

    /* The seek returns although block 2 is still being fetched, and block 3
     * is withdrawn before it runs. */
    CHECK_INT(read_at(&g, 50 * BS + 7, 4096), 4096);
    mrap_reader_get_stats(g.r, &st);
    CHECK_INT(st.seeks, 1);
    CHECK_INT(st.prefetch_cancelled, 1);
    CHECK_INT(st.window_bytes, 0);
    pthread_mutex_lock(&g.f.mu);
    CHECK_INT(g.f.stalled, 1);
    pthread_mutex_unlock(&g.f.mu);

    fake_gate(&g.f, false, 0, 0);
    mrap_reader_destroy(g.r); /* waits for the running fetch of block 2 */
    g.r = NULL;
    CHECK_INT(fake_fetched(&g.f, 2 * BS), 1);
    CHECK_INT(fake_fetched(&g.f, 3 * BS), 0);
    CHECK_INT(fake_fetched(&g.f, 50 * BS), 1);
    CHECK_INT(fake_calls(&g.f), 4); /* 0, 1, 2, 50 */
    rig_cleanup(&g);
}

/* A sequential stream that skips ahead inside its window keeps its window but
 * withdraws the queued read-ahead it skipped over. */
static void test_skip_ahead(void)
{
    struct rig g;
    struct mrap_reader_stats st;
    rig_init(&g, 100 * BS, 64, 1, 16 * BS);
    fake_gate(&g.f, true, 8 * BS, 9 * BS);
    for (uint64_t b = 0; b < 4; b++)
        CHECK_INT(read_at(&g, b * BS, BS), BS); /* window 8 blocks: read-ahead to 11 */
    CHECK(fake_wait_stalled(&g.f, 1), "read-ahead of block 8 running");
    mrap_reader_get_stats(g.r, &st);
    CHECK_INT(st.window_bytes, 8 * BS);
    CHECK_INT(st.prefetch_cancelled, 0);

    CHECK_INT(read_at(&g, 10 * BS, 100), 100); /* 9 is behind now: withdrawn */
    mrap_reader_get_stats(g.r, &st);
    CHECK_INT(st.seeks, 0);
    CHECK_INT(st.prefetch_cancelled, 1);
    CHECK_INT(st.window_bytes, 16 * BS);
    fake_gate(&g.f, false, 0, 0);
    mrap_reader_destroy(g.r);
    g.r = NULL;
    CHECK_INT(fake_fetched(&g.f, 9 * BS), 0);
    CHECK_INT(fake_fetched(&g.f, 10 * BS), 1);
    rig_cleanup(&g);
}

static void test_random_reads(void)
{
    struct rig g;
    struct mrap_reader_stats st;
    rig_init(&g, 64 * BS, 64, 4, 0);
    static const uint64_t blocks[] = {10, 3, 27, 15, 40};
    for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
        CHECK_INT(read_at(&g, blocks[i] * BS + 1000, 4096), 4096);
    /* One read straddling blocks 20 and 21. */
    CHECK_INT(read_at(&g, 21 * BS - 100, 300), 300);
    /* Re-reading a cached block fetches nothing. */
    CHECK_INT(read_at(&g, 27 * BS + 5000, 4096), 4096);

    mrap_reader_destroy(g.r); /* and nothing was left in flight either */
    g.r = NULL;
    CHECK_INT(fake_calls(&g.f), 7);
    static const uint64_t touched[] = {10, 3, 27, 15, 40, 20, 21};
    for (size_t i = 0; i < sizeof(touched) / sizeof(touched[0]); i++)
        CHECK_INT(fake_fetched(&g.f, touched[i] * BS), 1);
    rig_cleanup(&g);

    /* The counters, on a fresh rig (destroy above took the reader). */
    rig_init(&g, 64 * BS, 64, 4, 0);
    CHECK_INT(read_at(&g, 10 * BS, 10), 10);
    CHECK_INT(read_at(&g, 3 * BS, 10), 10);
    mrap_reader_get_stats(g.r, &st);
    CHECK_INT(st.seeks, 2);
    CHECK_INT(st.prefetch_submitted, 0);
    rig_cleanup(&g);
}

static void test_bounded_memory(void)
{
    struct rig g;
    struct mrap_block_cache_stats cs;
    struct mrap_reader_stats st;
    const unsigned threads = 4;
    const uint64_t nblocks = 1024; /* 64 MiB through a 16-block cache */
    rig_init(&g, nblocks * BS, 16, threads, (size_t)1 << 30);
    mrap_reader_get_stats(g.r, &st);
    CHECK_INT(st.max_window_bytes, mrap_block_cache_capacity(g.cache) / 2);

    bool ok = true;
    char *buf = malloc(2 * BS);
    for (uint64_t off = 0; off < nblocks * BS && ok; off += 2 * BS) {
        size_t got = 0;
        ok = mrap_reader_read(g.r, off, 2 * BS, buf, &got) == 0 && got == 2 * BS &&
             fake_check(g.f.seed, off, buf, got);
    }
    free(buf);
    CHECK(ok, "64 MiB read sequentially, every byte right");
    mrap_block_cache_get_stats(g.cache, &cs);
    size_t bound = mrap_block_cache_capacity(g.cache) + (threads + 1) * (BS + SLACK);
    CHECK(cs.peak_bytes <= bound, "peak %zu <= %zu", cs.peak_bytes, bound);
    /* Read-ahead stays within reach of the cache: almost nothing is fetched
     * twice (a queued job can still lose a race with eviction). */
    printf("# bounded: %u fetches for %llu blocks, peak %zu bytes of %zu\n", fake_calls(&g.f),
           (unsigned long long)nblocks, cs.peak_bytes, mrap_block_cache_capacity(g.cache));
    CHECK(fake_calls(&g.f) < nblocks + 16, "%u fetches for %llu blocks", fake_calls(&g.f),
          (unsigned long long)nblocks);
    rig_cleanup(&g);
}

#define NREADERS 4

struct stripe {
    struct rig *g;
    unsigned i;
    bool ok;
};

static void *stripe_thread(void *arg)
{
    struct stripe *s = arg;
    char *buf = malloc(BS / 2);
    uint64_t size = s->g->f.size;
    s->ok = buf != NULL;
    for (uint64_t off = s->i * (BS / 2); off < size && s->ok; off += NREADERS * (BS / 2)) {
        size_t got = 0;
        s->ok = mrap_reader_read(s->g->r, off, BS / 2, buf, &got) == 0 && got == BS / 2 &&
                fake_check(s->g->f.seed, off, buf, got);
    }
    free(buf);
    return NULL;
}

static void test_concurrent_readers(void)
{
    struct rig g;
    const uint64_t nblocks = 48;
    rig_init(&g, nblocks * BS, 64, 4, 16 * BS);
    pthread_t th[NREADERS];
    struct stripe s[NREADERS];
    for (unsigned i = 0; i < NREADERS; i++) {
        s[i] = (struct stripe){.g = &g, .i = i};
        pthread_create(&th[i], NULL, stripe_thread, &s[i]);
    }
    for (unsigned i = 0; i < NREADERS; i++) {
        pthread_join(th[i], NULL);
        CHECK(s[i].ok, "reader thread %u read the right bytes", i);
    }
    mrap_reader_destroy(g.r);
    g.r = NULL;
    CHECK_INT(fake_calls(&g.f), nblocks); /* no block fetched twice */
    rig_cleanup(&g);
}

static void test_errors(void)
{
    struct rig g;
    rig_init(&g, 3 * BS, 8, 0, 0); /* no workers: every fetch is the read's own */
    g.f.fail_errno = -ESTALE;
    g.f.fail_calls = 1;
    CHECK_INT(read_at(&g, 0, 100), -ESTALE);
    CHECK_INT(read_at(&g, 0, 100), 100); /* not cached: tried again */
    /* Block 0 is cached, block 1 fails: an error, not a short read. */
    g.f.fail_errno = -EIO;
    g.f.fail_calls = 1;
    CHECK_INT(read_at(&g, BS - 10, 20), -EIO);
    /* An object shorter than its size said: -EIO, never a short read. */
    g.f.short_by = 1;
    CHECK_INT(read_at(&g, 2 * BS, 10), -EIO);
    rig_cleanup(&g);

    struct mrap_reader *r = NULL;
    struct mrap_reader_opts bad = {.key = "k", .etag = "e", .fetch = fake_fetch};
    CHECK_INT(mrap_reader_new(&bad, &r), -EINVAL);
}

/* Read-ahead in spans: fewer, larger fetches, every byte still fetched once. */
static void test_spans(void)
{
    struct rig g;
    const uint64_t nblocks = 40;
    rig_init_span(&g, nblocks * BS, 64, 2, 16 * BS, 4);
    for (uint64_t off = 0; off < nblocks * BS; off += BS / 4)
        CHECK_INT(read_at(&g, off, BS / 4), BS / 4);
    mrap_reader_destroy(g.r);
    g.r = NULL;
    pthread_mutex_lock(&g.f.mu);
    /* How many spans beat the reader to their blocks depends on scheduling;
     * with block-by-block read-ahead this is exactly nblocks. */
    CHECK(g.f.calls < nblocks, "%u fetches for %llu blocks", g.f.calls,
          (unsigned long long)nblocks);
    CHECK(g.f.bytes == nblocks * BS, "%llu bytes fetched for %llu", (unsigned long long)g.f.bytes,
          (unsigned long long)(nblocks * BS));
    pthread_mutex_unlock(&g.f.mu);
    rig_cleanup(&g);
}

int main(void)
{
    test_spans();
    test_sequential_window();
    test_seek_cancels();
    test_skip_ahead();
    test_random_reads();
    test_bounded_memory();
    test_concurrent_readers();
    test_errors();
    return mrap_test_finish();
}
