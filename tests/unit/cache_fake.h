/*
 * A fake object store for the cache unit tests: an object of `size` bytes
 * whose content is a function of (seed, offset), so any byte can be checked
 * without storing the object (a 1 GiB "file" costs nothing). The fetch
 * callback counts and logs calls, can fail, stall behind a gate, or wait
 * until a number of threads wait on the cache, and records any request past
 * the end of the object.
 */
#ifndef MRAP_TEST_CACHE_FAKE_H
#define MRAP_TEST_CACHE_FAKE_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "cache/block_cache.h"

#define FAKE_LOG_MAX 4096

struct fake {
    uint64_t size;
    unsigned seed; /* stands for the version (ETag) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    unsigned calls;
    uint64_t bytes; /* asked for, over all calls */
    uint64_t log[FAKE_LOG_MAX]; /* offsets fetched, in call order */
    size_t nlog;
    int fail_errno; /* returned by the next fail_calls calls */
    unsigned fail_calls;
    bool past_end;    /* a request went past the end of the object */
    bool gate_closed; /* fetches starting in [gate_off, gate_end) stall while closed */
    uint64_t gate_off, gate_end;
    unsigned stalled;  /* fetches stalled at the gate now */
    unsigned short_by; /* return this many bytes fewer (a lying server) */
    /* Before answering, wait (bounded) until `watch` counts this many waits. */
    struct mrap_block_cache *watch;
    uint64_t want_waits;
};

static inline unsigned char fake_byte(unsigned seed, uint64_t off)
{
    uint64_t x = (off + 1) * 0x9E3779B97F4A7C15ull + seed * 0xBF58476D1CE4E5B9ull;
    return (unsigned char)(x >> 56 ^ x >> 23);
}

static inline void fake_init(struct fake *f, uint64_t size, unsigned seed)
{
    memset(f, 0, sizeof(*f));
    f->size = size;
    f->seed = seed;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
}

static inline void fake_cleanup(struct fake *f)
{
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}

static inline void fake_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline int fake_fetch(void *ctx, uint64_t off, size_t len, char *buf, size_t *got)
{
    struct fake *f = ctx;
    pthread_mutex_lock(&f->mu);
    f->calls++;
    f->bytes += len;
    if (f->nlog < FAKE_LOG_MAX)
        f->log[f->nlog++] = off;
    if (off >= f->size || len > f->size - off)
        f->past_end = true;
    if (f->gate_closed && off >= f->gate_off && off < f->gate_end) {
        f->stalled++;
        pthread_cond_broadcast(&f->cv);
        while (f->gate_closed)
            pthread_cond_wait(&f->cv, &f->mu);
        f->stalled--;
    }
    int rc = 0;
    if (f->fail_calls) {
        f->fail_calls--;
        rc = f->fail_errno;
    }
    struct mrap_block_cache *watch = f->watch;
    uint64_t want = f->want_waits;
    unsigned short_by = f->short_by;
    pthread_mutex_unlock(&f->mu);

    /* Bounded (10 s): if the waiters never come, the test's checks fail. */
    for (int i = 0; watch && i < 1000; i++) {
        struct mrap_block_cache_stats st;
        mrap_block_cache_get_stats(watch, &st);
        if (st.waits >= want)
            break;
        fake_sleep_ms(10);
    }
    if (rc)
        return rc;
    size_t n = off >= f->size ? 0 : (f->size - off < len ? (size_t)(f->size - off) : len);
    n = n > short_by ? n - short_by : 0;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)fake_byte(f->seed, off + i);
    *got = n;
    return 0;
}

static inline unsigned fake_calls(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    unsigned n = f->calls;
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* Whether buf holds the object's bytes [off, off+n). */
static inline bool fake_check(unsigned seed, uint64_t off, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] != fake_byte(seed, off + i))
            return false;
    return true;
}

/* How many times offset off was fetched. */
static inline unsigned fake_fetched(struct fake *f, uint64_t off)
{
    unsigned n = 0;
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->nlog; i++)
        n += f->log[i] == off;
    pthread_mutex_unlock(&f->mu);
    return n;
}

static inline void fake_gate(struct fake *f, bool closed, uint64_t from_off, uint64_t to_off)
{
    pthread_mutex_lock(&f->mu);
    f->gate_closed = closed;
    f->gate_off = from_off;
    f->gate_end = to_off;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Waits (bounded, 10 s) until n fetches stall at the gate. */
static inline bool fake_wait_stalled(struct fake *f, unsigned n)
{
    bool ok = false;
    for (int i = 0; i < 1000 && !ok; i++) {
        pthread_mutex_lock(&f->mu);
        ok = f->stalled >= n;
        pthread_mutex_unlock(&f->mu);
        if (!ok)
            fake_sleep_ms(10);
    }
    return ok;
}

#endif
