/*
 * The memory block cache: LRU eviction order and the byte budget, checksum
 * failure -> the block is refetched and never served, an ETag change is a
 * miss, N threads filling one block cause one fetch, a fetch error reaches
 * every waiter and is not cached, a short fetch is an error, invalidation.
 */
#include "cache/block_cache.h"
#include "cache_fake.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BS    ((size_t)256 * 1024) /* four 64 KiB checksum segments */
#define SLACK 1024                 /* per-block bookkeeping the budget also charges */

static struct mrap_block_cache *new_cache(size_t blocks)
{
    struct mrap_block_cache *c = NULL;
    struct mrap_block_cache_opts o = {.block_size = BS, .capacity_bytes = blocks * (BS + SLACK)};
    CHECK_INT(mrap_block_cache_new(&o, &c), 0);
    return c;
}

/* Reads all of block `index` of (key, etag) and checks the bytes. */
static int read_block(struct mrap_block_cache *c, struct fake *f, const char *key, const char *etag,
                      uint64_t index)
{
    static char buf[BS];
    struct mrap_block_id id = {key, etag, index};
    int rc = mrap_block_cache_read(c, &id, BS, 0, BS, buf, fake_fetch, f);
    if (rc == 0)
        CHECK(fake_check(f->seed, index * BS, buf, BS), "block %llu bytes",
              (unsigned long long)index);
    return rc;
}

static bool has(struct mrap_block_cache *c, uint64_t index)
{
    struct mrap_block_id id = {"k", "\"e1\"", index};
    return mrap_block_cache_contains(c, &id);
}

static void test_eviction(void)
{
    struct fake f;
    struct mrap_block_cache_stats st;
    fake_init(&f, 16 * BS, 1);
    struct mrap_block_cache *c = new_cache(4);

    for (uint64_t i = 0; i < 4; i++)
        CHECK_INT(read_block(c, &f, "k", "\"e1\"", i), 0);
    CHECK_INT(f.calls, 4);
    CHECK_INT(read_block(c, &f, "k", "\"e1\"", 0), 0); /* hit: 0 becomes most recent */
    CHECK_INT(f.calls, 4);
    CHECK_INT(read_block(c, &f, "k", "\"e1\"", 4), 0); /* evicts the LRU: block 1 */
    CHECK(has(c, 0) && !has(c, 1) && has(c, 2) && has(c, 3) && has(c, 4),
          "least recently used block evicted first");
    CHECK_INT(read_block(c, &f, "k", "\"e1\"", 5), 0); /* then block 2 */
    CHECK(!has(c, 2) && has(c, 0), "then the next least recent");

    mrap_block_cache_get_stats(c, &st);
    CHECK_INT(st.evictions, 2);
    CHECK_INT(st.blocks, 4);
    CHECK(st.bytes <= mrap_block_cache_capacity(c), "bytes %zu within budget", st.bytes);
    CHECK(st.peak_bytes <= mrap_block_cache_capacity(c), "peak %zu within budget", st.peak_bytes);

    /* Many more blocks than fit: the budget holds throughout. */
    for (uint64_t i = 0; i < 16; i++)
        CHECK_INT(read_block(c, &f, "k", "\"e1\"", i), 0);
    mrap_block_cache_get_stats(c, &st);
    CHECK(st.peak_bytes <= mrap_block_cache_capacity(c), "peak %zu within budget", st.peak_bytes);
    CHECK_INT(st.blocks, 4);

    /* Partial reads: bytes in the middle of a block, and the range checks. */
    char small[100];
    struct mrap_block_id id = {"k", "\"e1\"", 15};
    CHECK_INT(mrap_block_cache_read(c, &id, BS, 1000, sizeof(small), small, fake_fetch, &f), 0);
    CHECK(fake_check(1, 15 * BS + 1000, small, sizeof(small)), "partial read bytes");
    CHECK_INT(mrap_block_cache_read(c, &id, BS, BS - 10, 11, small, fake_fetch, &f), -EINVAL);
    CHECK_INT(mrap_block_cache_read(c, &id, BS + 1, 0, 1, small, fake_fetch, &f), -EINVAL);
    mrap_block_cache_destroy(c);
    fake_cleanup(&f);
}

static void test_checksum_failure(void)
{
    struct fake f;
    struct mrap_block_cache_stats st;
    char buf[4096];
    fake_init(&f, 4 * BS, 2);
    struct mrap_block_cache *c = new_cache(4);
    struct mrap_block_id id = {"k", "\"e1\"", 1};

    CHECK_INT(mrap_block_cache_read(c, &id, BS, 0, sizeof(buf), buf, fake_fetch, &f), 0);
    CHECK_INT(f.calls, 1);
    /* A flipped bit in a segment the next read does not touch goes unnoticed
     * by that read (only what is copied is checked)... */
    CHECK_INT(mrap_block_cache_corrupt_for_test(c, &id, BS - 5), 0);
    CHECK_INT(mrap_block_cache_read(c, &id, BS, 0, sizeof(buf), buf, fake_fetch, &f), 0);
    CHECK_INT(f.calls, 1);
    /* ...but a read that covers it drops the block and fetches it again. */
    CHECK_INT(mrap_block_cache_read(c, &id, BS, BS - sizeof(buf), sizeof(buf), buf, fake_fetch, &f),
              0);
    CHECK(fake_check(2, 2 * BS - sizeof(buf), buf, sizeof(buf)), "correct bytes after refetch");
    CHECK_INT(f.calls, 2);
    mrap_block_cache_get_stats(c, &st);
    CHECK_INT(st.crc_failures, 1);
    CHECK_INT(st.blocks, 1);

    /* Corrupt in the first byte: a full read refetches as well. */
    CHECK_INT(mrap_block_cache_corrupt_for_test(c, &id, 0), 0);
    CHECK_INT(read_block(c, &f, "k", "\"e1\"", 1), 0);
    CHECK_INT(f.calls, 3);
    mrap_block_cache_destroy(c);
    fake_cleanup(&f);
}

static void test_etag_change(void)
{
    struct fake v1, v2;
    fake_init(&v1, 2 * BS, 10);
    fake_init(&v2, 2 * BS, 20);
    struct mrap_block_cache *c = new_cache(8);

    CHECK_INT(read_block(c, &v1, "k", "\"e1\"", 0), 0);
    CHECK_INT(read_block(c, &v2, "k", "\"e2\"", 0), 0); /* new version: a miss, its bytes */
    CHECK_INT(v2.calls, 1);
    CHECK_INT(read_block(c, &v1, "k", "\"e1\"", 0), 0); /* old version still its own */
    CHECK_INT(v1.calls, 1);
    CHECK_INT(read_block(c, &v1, "other", "\"e1\"", 0), 0); /* another key: a miss */
    CHECK_INT(v1.calls, 2);

    /* Invalidation drops every version of the key, and only that key. */
    mrap_block_cache_invalidate(c, "k");
    struct mrap_block_id k1 = {"k", "\"e1\"", 0}, k2 = {"k", "\"e2\"", 0},
                         other = {"other", "\"e1\"", 0};
    CHECK(!mrap_block_cache_contains(c, &k1) && !mrap_block_cache_contains(c, &k2), "invalidated");
    CHECK(mrap_block_cache_contains(c, &other), "other key kept");
    struct mrap_block_cache_stats st;
    mrap_block_cache_get_stats(c, &st);
    CHECK_INT(st.blocks, 1);
    mrap_block_cache_destroy(c);
    fake_cleanup(&v1);
    fake_cleanup(&v2);
}

#define NTHREADS 8

struct filler {
    struct mrap_block_cache *c;
    struct fake *f;
    pthread_barrier_t *start;
    uint64_t index;
    int rc;
    bool bytes_ok;
};

static void *fill_thread(void *arg)
{
    struct filler *t = arg;
    char *buf = malloc(BS);
    struct mrap_block_id id = {"k", "\"e1\"", t->index};
    pthread_barrier_wait(t->start);
    t->rc = buf ? mrap_block_cache_read(t->c, &id, BS, 0, BS, buf, fake_fetch, t->f) : -ENOMEM;
    t->bytes_ok = t->rc == 0 && fake_check(t->f->seed, t->index * BS, buf, BS);
    free(buf);
    return NULL;
}

/* Runs NTHREADS readers of block `index` at once; returns how many got rc 0. */
static int run_fillers(struct mrap_block_cache *c, struct fake *f, uint64_t index, struct filler *t)
{
    pthread_t th[NTHREADS];
    pthread_barrier_t start;
    int ok = 0;
    pthread_barrier_init(&start, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        t[i] = (struct filler){.c = c, .f = f, .start = &start, .index = index};
        pthread_create(&th[i], NULL, fill_thread, &t[i]);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        ok += t[i].rc == 0 && t[i].bytes_ok;
    }
    pthread_barrier_destroy(&start);
    return ok;
}

static void test_concurrent_fill(void)
{
    struct fake f;
    struct filler t[NTHREADS];
    struct mrap_block_cache_stats st;
    fake_init(&f, 4 * BS, 3);
    struct mrap_block_cache *c = new_cache(4);

    /* The fetch holds on until the other readers wait for it, so they cannot
     * all have arrived after it ended: one fetch, every reader served by it. */
    f.watch = c;
    f.want_waits = NTHREADS - 1;
    CHECK_INT(run_fillers(c, &f, 2, t), NTHREADS);
    CHECK_INT(fake_calls(&f), 1);
    mrap_block_cache_get_stats(c, &st);
    CHECK_INT(st.waits, NTHREADS - 1);
    CHECK_INT(st.misses, 1);
    mrap_block_cache_destroy(c);
    fake_cleanup(&f);
}

static void test_fetch_error(void)
{
    struct fake f;
    struct filler t[NTHREADS];
    struct mrap_block_cache_stats st;
    fake_init(&f, 4 * BS, 4);
    struct mrap_block_cache *c = new_cache(4);

    /* One failing fetch, N-1 waiters: all N see the error. */
    f.watch = c;
    f.want_waits = NTHREADS - 1;
    f.fail_errno = -EIO;
    f.fail_calls = 1;
    CHECK_INT(run_fillers(c, &f, 1, t), 0);
    for (int i = 0; i < NTHREADS; i++)
        CHECK_INT(t[i].rc, -EIO);
    CHECK_INT(fake_calls(&f), 1);
    mrap_block_cache_get_stats(c, &st);
    CHECK_INT(st.fetch_errors, 1);
    CHECK_INT(st.blocks, 0);
    CHECK_INT(st.bytes, 0);

    /* Not cached: the next read fetches again and succeeds. */
    f.watch = NULL;
    CHECK_INT(read_block(c, &f, "k", "\"e1\"", 1), 0);
    CHECK_INT(fake_calls(&f), 2);

    /* -ESTALE (the object changed) comes through unchanged. */
    f.fail_errno = -ESTALE;
    f.fail_calls = 1;
    CHECK_INT(read_block(c, &f, "k", "\"e1\"", 3), -ESTALE);

    /* A short answer before the end of the object is -EIO, and not cached. */
    f.short_by = 1;
    CHECK_INT(read_block(c, &f, "k", "\"e1\"", 0), -EIO);
    f.short_by = 0;
    CHECK_INT(read_block(c, &f, "k", "\"e1\"", 0), 0);

    /* A last block shorter than the block size is fine when expected. */
    struct fake g;
    char buf[100];
    fake_init(&g, BS + 100, 5);
    struct mrap_block_id id = {"g", "\"e\"", 1};
    CHECK_INT(mrap_block_cache_read(c, &id, 100, 0, 100, buf, fake_fetch, &g), 0);
    CHECK(fake_check(5, BS, buf, 100), "short last block");
    CHECK(!g.past_end, "never asked past the end");
    mrap_block_cache_destroy(c);
    fake_cleanup(&f);
    fake_cleanup(&g);
}

/* ---- many threads, random small reads, a budget of a few blocks ---- */

#define SBS     ((size_t)16 * 1024)
#define SBLOCKS 24
#define SREADS  300

struct stresser {
    struct mrap_block_cache *c;
    struct fake *f;
    unsigned seed;
    bool ok;
};

static void *stress_thread(void *arg)
{
    struct stresser *t = arg;
    char buf[2048];
    unsigned x = t->seed;
    t->ok = true;
    for (int i = 0; i < SREADS && t->ok; i++) {
        x = x * 1103515245u + 12345u;
        uint64_t b = (x >> 8) % SBLOCKS;
        size_t off = (x >> 4) % (SBS - sizeof(buf));
        struct mrap_block_id id = {"stress", "\"e\"", b};
        t->ok =
            mrap_block_cache_read(t->c, &id, SBS, off, sizeof(buf), buf, fake_fetch, t->f) == 0 &&
            fake_check(t->f->seed, b * SBS + off, buf, sizeof(buf));
    }
    return NULL;
}

/* Exercises pins against eviction (and, with a disk tier, concurrent puts,
 * gets and disk eviction) for the sanitizers; checks bytes and the bound. */
static void test_stress(const char *disk_dir)
{
    struct fake f;
    struct mrap_disk_cache *dc = NULL;
    struct mrap_block_cache *c = NULL;
    struct mrap_block_cache_stats st;
    pthread_t th[NTHREADS];
    struct stresser t[NTHREADS];
    fake_init(&f, SBLOCKS * SBS, 9);
    if (disk_dir) {
        struct mrap_disk_cache_opts dopts = {.dir = disk_dir, .max_bytes = 6 * (SBS + 200)};
        CHECK_INT(mrap_disk_cache_new(&dopts, &dc), 0);
    }
    struct mrap_block_cache_opts o = {
        .block_size = SBS, .capacity_bytes = 3 * (SBS + SLACK), .disk = dc};
    CHECK_INT(mrap_block_cache_new(&o, &c), 0);
    for (unsigned i = 0; i < NTHREADS; i++) {
        t[i] = (struct stresser){.c = c, .f = &f, .seed = i + 1};
        pthread_create(&th[i], NULL, stress_thread, &t[i]);
    }
    for (unsigned i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK(t[i].ok, "stress thread %u read the right bytes", i);
    }
    mrap_block_cache_get_stats(c, &st);
    size_t bound = mrap_block_cache_capacity(c) + NTHREADS * (SBS + SLACK);
    CHECK(st.peak_bytes <= bound, "peak %zu <= %zu", st.peak_bytes, bound);
    CHECK(st.evictions > 0, "evictions happened (%llu)", (unsigned long long)st.evictions);
    if (dc) {
        struct mrap_disk_cache_stats ds;
        mrap_disk_cache_get_stats(dc, &ds);
        CHECK(ds.bytes <= 6 * (SBS + 200), "disk within its limit (%llu)",
              (unsigned long long)ds.bytes);
        CHECK(st.disk_hits > 0, "disk tier served blocks (%llu)", (unsigned long long)st.disk_hits);
        CHECK_INT(ds.dropped, 0);
    }
    mrap_block_cache_destroy(c);
    mrap_disk_cache_destroy(dc);
    fake_cleanup(&f);
}

int main(void)
{
    test_eviction();
    test_checksum_failure();
    test_etag_change();
    test_concurrent_fill();
    test_fetch_error();
    test_stress(NULL);
    char dir[] = "/tmp/mrap-cache-stress-XXXXXX";
    if (mkdtemp(dir)) {
        char sub[64], cmd[128];
        snprintf(sub, sizeof(sub), "%s/c", dir);
        test_stress(sub);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        CHECK_INT(system(cmd), 0);
    } else {
        CHECK(false, "mkdtemp: %s", strerror(errno));
    }
    return mrap_test_finish();
}
