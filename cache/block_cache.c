/*
 * The memory block cache. Design notes (the contract is in block_cache.h):
 *
 * - A block is indexed from the moment its fill starts (state FILLING), so a
 *   second reader finds it and waits instead of fetching again. The fill runs
 *   with no lock held; its end is broadcast on one cache-wide condition
 *   variable (fills end a few hundred times a second at most, so waking every
 *   waiter to re-check its own block costs less than a condvar per block).
 * - A failed fill leaves the index at once (waiters still hold the block and
 *   read its error from it), so the next reader starts a fresh fill.
 * - A block's bytes are charged when its fill starts, together with its
 *   bookkeeping, so the budget covers what is really allocated. Eviction takes
 *   the least recently used block that nobody pins.
 * - A block is freed when it is out of the index and its last pin goes; pins
 *   are what make it safe to copy and checksum outside the lock.
 */
#include "cache/block_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/crc32c.h"
#include "util/log.h"

/* One CRC32C per 16 KiB segment: a read checks every segment it touches, so
 * the segment bounds the work per small read (a random 4 KiB read from memory
 * spent a third of its time checking 64 KiB segments), while 1 KiB of CRCs per
 * 1 MiB block is still nothing. */
#define SEG_SIZE     ((size_t)16 * 1024)
#define CRC_ATTEMPTS 3 /* a block failing this often is not a memory fluke */

enum blk_state { BLK_FILLING, BLK_READY, BLK_FAILED };

struct blk {
    char *key, *etag;
    uint64_t index;
    uint64_t hash;
    size_t len;
    size_t cost; /* bytes charged to the budget */
    char *data;
    uint32_t *crc; /* one per segment */
    /* The fields below are under the cache's mutex. */
    enum blk_state state;
    int err;       /* when BLK_FAILED */
    unsigned pins; /* threads filling, waiting for or reading the block */
    bool linked;   /* in the index and charged */
    bool in_lru;   /* linked and ready */
    struct blk *hnext, *prev, *next;
};

struct mrap_block_cache {
    size_t block_size;
    size_t capacity;
    struct mrap_disk_cache *disk;

    pthread_mutex_t mu;    /* guards everything below and the blocks' state fields */
    pthread_cond_t filled; /* broadcast when any fill ends */
    struct blk **buckets;  /* chained hash index of linked blocks */
    size_t nbuckets;       /* a power of two */
    struct blk lru;        /* ring of ready blocks; lru.next is the most recent */
    struct mrap_block_cache_stats st;
};

static uint64_t hash_id(const struct mrap_block_id *id)
{
    /* FNV-1a over key NUL etag NUL index: keys are attacker-chosen names, but
     * chains only cost time and the table holds at most the budget's blocks. */
    uint64_t h = 1469598103934665603ull;
    for (const char *s = id->key; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h *= 1099511628211ull;
    for (const char *s = id->etag; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h *= 1099511628211ull;
    for (int i = 0; i < 8; i++)
        h = (h ^ ((id->index >> (8 * i)) & 0xff)) * 1099511628211ull;
    return h;
}

static struct blk *find_locked(struct mrap_block_cache *c, const struct mrap_block_id *id,
                               uint64_t h)
{
    for (struct blk *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && e->index == id->index && strcmp(e->key, id->key) == 0 &&
            strcmp(e->etag, id->etag) == 0)
            return e;
    return NULL;
}

static void free_blk(struct blk *e)
{
    free(e->key);
    free(e->etag);
    free(e->data);
    free(e->crc);
    free(e);
}

static void lru_remove(struct blk *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->in_lru = false;
}

static void lru_push_front(struct mrap_block_cache *c, struct blk *e)
{
    e->prev = &c->lru;
    e->next = c->lru.next;
    c->lru.next->prev = e;
    c->lru.next = e;
    e->in_lru = true;
}

/* Takes e out of the index and the budget; it is freed with its last pin. */
static void unlink_locked(struct mrap_block_cache *c, struct blk *e)
{
    struct blk **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->in_lru)
        lru_remove(e);
    e->linked = false;
    c->st.bytes -= e->cost;
    c->st.blocks--;
}

static void unpin_locked(struct mrap_block_cache *c, struct blk *e)
{
    if (--e->pins == 0 && !e->linked)
        free_blk(e);
}

/* Evicts unpinned blocks, least recently used first, until within budget. */
static void evict_locked(struct mrap_block_cache *c)
{
    struct blk *e = c->lru.prev;
    while (c->st.bytes > c->capacity && e != &c->lru) {
        struct blk *prev = e->prev;
        if (e->pins == 0) {
            unlink_locked(c, e);
            free_blk(e);
            c->st.evictions++;
        }
        e = prev;
    }
}

/* Keeps chains short when many small blocks (small objects) fill the budget;
 * on ENOMEM the chains just grow. */
static void maybe_grow_locked(struct mrap_block_cache *c)
{
    if (c->st.blocks <= c->nbuckets)
        return;
    size_t n = c->nbuckets * 2;
    struct blk **b = calloc(n, sizeof(*b));
    if (!b)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (struct blk *e = c->buckets[i], *next; e; e = next) {
            next = e->hnext;
            e->hnext = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

static struct blk *new_blk(const struct mrap_block_id *id, uint64_t h, size_t len)
{
    struct blk *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    size_t nseg = (len + SEG_SIZE - 1) / SEG_SIZE;
    e->key = strdup(id->key);
    e->etag = strdup(id->etag);
    e->crc = calloc(nseg, sizeof(*e->crc));
    if (!e->key || !e->etag || !e->crc) {
        free_blk(e);
        return NULL;
    }
    e->index = id->index;
    e->hash = h;
    e->len = len;
    e->cost = sizeof(*e) + len + nseg * sizeof(*e->crc) + strlen(id->key) + strlen(id->etag) + 2;
    e->state = BLK_FILLING;
    e->pins = 1;
    return e;
}

static uint32_t seg_crc(const struct blk *e, size_t s)
{
    size_t start = s * SEG_SIZE;
    size_t n = e->len - start < SEG_SIZE ? e->len - start : SEG_SIZE;
    return mrap_crc32c(0, e->data + start, n);
}

/* Whether the segments covering [off, off+n) still match their checksums. */
static bool verify(const struct blk *e, size_t off, size_t n)
{
    if (n == 0)
        return true;
    for (size_t s = off / SEG_SIZE; s <= (off + n - 1) / SEG_SIZE; s++)
        if (seg_crc(e, s) != e->crc[s])
            return false;
    return true;
}

/* Fills e (pinned, FILLING, no lock held): the disk tier, else the fetch. */
static int fill(struct mrap_block_cache *c, struct blk *e, const struct mrap_block_id *id,
                mrap_cache_fetch_fn fetch, void *ctx, bool *from_disk, bool *fetched)
{
    int rc = 0;
    /* The data buffer is allocated here, outside the lock (a large malloc may
     * be an mmap); the budget already counts it. */
    e->data = malloc(e->len);
    if (!e->data)
        return -ENOMEM;
    *from_disk = c->disk && mrap_disk_cache_get(c->disk, id, e->data, e->len) == 0;
    if (!*from_disk) {
        size_t got = 0;
        *fetched = true;
        rc = fetch(ctx, e->index * c->block_size, e->len, e->data, &got);
        if (rc == 0 && got != e->len) {
            mrap_log(MRAP_LOG_WARN, "cache", "%s block %llu: %zu bytes where %zu were expected",
                     id->key, (unsigned long long)id->index, got, e->len);
            rc = -EIO;
        }
    }
    if (rc == 0)
        for (size_t s = 0; s * SEG_SIZE < e->len; s++)
            e->crc[s] = seg_crc(e, s);
    return rc;
}

/* Returns block id pinned and ready, filling it when needed (see the notes). */
static int acquire(struct mrap_block_cache *c, const struct mrap_block_id *id, size_t len,
                   mrap_cache_fetch_fn fetch, void *ctx, struct blk **out)
{
    uint64_t h = hash_id(id);
    bool from_disk = false, fetched = false;
    int rc;

    pthread_mutex_lock(&c->mu);
    struct blk *e = find_locked(c, id, h);
    if (e && e->state == BLK_READY && e->len != len) {
        /* Callers disagree on the object's size: trust neither, fetch again. */
        unlink_locked(c, e);
        if (e->pins == 0)
            free_blk(e);
        e = NULL;
    }
    if (e) {
        e->pins++;
        if (e->state == BLK_FILLING) {
            c->st.waits++;
            while (e->state == BLK_FILLING)
                pthread_cond_wait(&c->filled, &c->mu);
        }
        rc = e->state == BLK_FAILED ? e->err : e->len == len ? 0 : -EIO;
        if (rc) {
            unpin_locked(c, e);
        } else {
            c->st.hits++;
            if (e->in_lru) {
                lru_remove(e);
                lru_push_front(c, e);
            }
            *out = e;
        }
        pthread_mutex_unlock(&c->mu);
        return rc;
    }

    e = new_blk(id, h, len);
    if (!e) {
        pthread_mutex_unlock(&c->mu);
        return -ENOMEM;
    }
    e->hnext = c->buckets[h & (c->nbuckets - 1)];
    c->buckets[h & (c->nbuckets - 1)] = e;
    e->linked = true;
    c->st.blocks++;
    c->st.bytes += e->cost;
    c->st.misses++;
    evict_locked(c);
    if (c->st.bytes > c->st.peak_bytes)
        c->st.peak_bytes = c->st.bytes;
    maybe_grow_locked(c);
    pthread_mutex_unlock(&c->mu);

    rc = fill(c, e, id, fetch, ctx, &from_disk, &fetched);

    pthread_mutex_lock(&c->mu);
    c->st.fetches += fetched;
    c->st.disk_hits += from_disk;
    if (rc == 0) {
        e->state = BLK_READY;
        if (e->linked)
            lru_push_front(c, e);
    } else {
        e->state = BLK_FAILED;
        e->err = rc;
        c->st.fetch_errors++;
        if (e->linked)
            unlink_locked(c, e);
        unpin_locked(c, e);
    }
    pthread_cond_broadcast(&c->filled);
    pthread_mutex_unlock(&c->mu);
    if (rc)
        return rc;
    /* The pin keeps the data alive and unchanged while the disk copy is made. */
    if (c->disk && !from_disk)
        mrap_disk_cache_put(c->disk, id, e->data, e->len);
    *out = e;
    return 0;
}

static void release(struct mrap_block_cache *c, struct blk *e)
{
    pthread_mutex_lock(&c->mu);
    unpin_locked(c, e);
    pthread_mutex_unlock(&c->mu);
}

static int check_range(const struct mrap_block_cache *c, size_t block_len, size_t off, size_t n)
{
    if (block_len == 0 || block_len > c->block_size || off > block_len || n > block_len - off)
        return -EINVAL;
    return 0;
}

int mrap_block_cache_read(struct mrap_block_cache *c, const struct mrap_block_id *id,
                          size_t block_len, size_t off, size_t n, char *dst,
                          mrap_cache_fetch_fn fetch, void *ctx)
{
    int rc = check_range(c, block_len, off, n);
    for (int attempt = 0; !rc && attempt < CRC_ATTEMPTS; attempt++) {
        struct blk *e;
        rc = acquire(c, id, block_len, fetch, ctx, &e);
        if (rc)
            return rc;
        if (verify(e, off, n)) {
            memcpy(dst, e->data + off, n);
            release(c, e);
            return 0;
        }
        mrap_log(MRAP_LOG_WARN, "cache",
                 "%s block %llu failed its checksum in memory; "
                 "dropped and fetched again",
                 id->key, (unsigned long long)id->index);
        pthread_mutex_lock(&c->mu);
        c->st.crc_failures++;
        if (e->linked)
            unlink_locked(c, e);
        unpin_locked(c, e);
        pthread_mutex_unlock(&c->mu);
        rc = 0;
    }
    return rc ? rc : -EIO;
}

int mrap_block_cache_fill(struct mrap_block_cache *c, const struct mrap_block_id *id,
                          size_t block_len, mrap_cache_fetch_fn fetch, void *ctx)
{
    struct blk *e;
    int rc = check_range(c, block_len, 0, 0);
    if (!rc)
        rc = acquire(c, id, block_len, fetch, ctx, &e);
    if (!rc)
        release(c, e);
    return rc;
}

bool mrap_block_cache_contains(struct mrap_block_cache *c, const struct mrap_block_id *id)
{
    uint64_t h = hash_id(id);
    pthread_mutex_lock(&c->mu);
    bool found = find_locked(c, id, h) != NULL;
    pthread_mutex_unlock(&c->mu);
    return found;
}

void mrap_block_cache_demote(struct mrap_block_cache *c, const struct mrap_block_id *id)
{
    uint64_t h = hash_id(id);
    pthread_mutex_lock(&c->mu);
    struct blk *e = find_locked(c, id, h);
    if (e && e->in_lru) {
        lru_remove(e);
        e->prev = c->lru.prev;
        e->next = &c->lru;
        c->lru.prev->next = e;
        c->lru.prev = e;
        e->in_lru = true;
    }
    pthread_mutex_unlock(&c->mu);
}

void mrap_block_cache_invalidate(struct mrap_block_cache *c, const char *key)
{
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (struct blk *e = c->buckets[i], *next; e; e = next) {
            next = e->hnext;
            if (strcmp(e->key, key) != 0)
                continue;
            unlink_locked(c, e);
            if (e->pins == 0)
                free_blk(e);
        }
    }
    pthread_mutex_unlock(&c->mu);
}

void mrap_block_cache_get_stats(struct mrap_block_cache *c, struct mrap_block_cache_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    pthread_mutex_unlock(&c->mu);
}

int mrap_block_cache_corrupt_for_test(struct mrap_block_cache *c, const struct mrap_block_id *id,
                                      size_t off)
{
    uint64_t h = hash_id(id);
    int rc = -ENOENT;
    pthread_mutex_lock(&c->mu);
    struct blk *e = find_locked(c, id, h);
    if (e && e->state == BLK_READY && e->pins == 0) {
        e->data[off % e->len] ^= 1;
        rc = 0;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

size_t mrap_block_cache_block_size(const struct mrap_block_cache *c)
{
    return c->block_size;
}

size_t mrap_block_cache_capacity(const struct mrap_block_cache *c)
{
    return c->capacity;
}

int mrap_block_cache_new(const struct mrap_block_cache_opts *opts, struct mrap_block_cache **out)
{
    *out = NULL;
    size_t bs = opts->block_size ? opts->block_size : MRAP_CACHE_BLOCK_SIZE_DEFAULT;
    if (bs > ((size_t)1 << 30))
        return -EINVAL;
    struct mrap_block_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->block_size = bs;
    c->capacity = opts->capacity_bytes > bs ? opts->capacity_bytes : bs;
    c->disk = opts->disk;
    c->nbuckets = 64;
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c);
        return -ENOMEM;
    }
    c->lru.prev = c->lru.next = &c->lru;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->filled, NULL);
    *out = c;
    return 0;
}

void mrap_block_cache_destroy(struct mrap_block_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (struct blk *e = c->buckets[i], *next; e; e = next) {
            next = e->hnext;
            free_blk(e);
        }
    }
    free(c->buckets);
    pthread_cond_destroy(&c->filled);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
