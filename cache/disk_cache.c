/*
 * The on-disk block tier. Design notes (the contract is in disk_cache.h):
 *
 * - The in-memory index holds one small entry per file (16 bytes of name, the
 *   file size, LRU and hash links): it is what makes a miss cost no system
 *   call and eviction cost no directory scan. It is bounded by max_files.
 * - put() reserves its space in the index first (a "pending" entry that get()
 *   and eviction ignore), so concurrent writers cannot together overshoot the
 *   limits, then writes outside the lock.
 * - Nothing is fsync'ed: this is a cache. After a crash a block file may be
 *   short or hold zeroes; the length and CRC checks drop it on first use.
 * - A race between eviction (unlink) and a reader that already opened the
 *   file is harmless on POSIX: the reader keeps its open file.
 */
#include "cache/disk_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/disk_format.h"
#include "util/log.h"

struct dc_entry {
    unsigned char name[MRAP_DISK_NAME_BYTES];
    uint64_t bytes;
    bool pending;                 /* being written by put(): not readable, not evictable */
    struct dc_entry *hnext;       /* hash chain */
    struct dc_entry *prev, *next; /* LRU ring; the sentinel's next is the most recent */
};

struct mrap_disk_cache {
    char *dir;
    char *scope;
    int dirfd;
    int lockfd;
    uint64_t max_bytes;
    unsigned min_free_percent;
    size_t max_files;
    int (*statvfs_fn)(void *ctx, const char *path, struct statvfs *st);
    void *statvfs_ctx;

    pthread_mutex_t mu; /* guards everything below */
    struct dc_entry **buckets;
    size_t nbuckets; /* a power of two */
    struct dc_entry lru;
    struct mrap_disk_cache_stats st; /* files and bytes include pending entries */
    bool warned_space, warned_write;
    uint64_t tmp_seq;
};

static size_t bucket_of(const struct mrap_disk_cache *dc, const unsigned char *name)
{
    uint64_t h;
    memcpy(&h, name, sizeof(h)); /* the name is a SHA-256 prefix: already uniform */
    return (size_t)h & (dc->nbuckets - 1);
}

static struct dc_entry *find_locked(struct mrap_disk_cache *dc, const unsigned char *name)
{
    for (struct dc_entry *e = dc->buckets[bucket_of(dc, name)]; e; e = e->hnext)
        if (memcmp(e->name, name, MRAP_DISK_NAME_BYTES) == 0)
            return e;
    return NULL;
}

static void lru_unlink(struct dc_entry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

static void lru_push_front(struct mrap_disk_cache *dc, struct dc_entry *e)
{
    e->prev = &dc->lru;
    e->next = dc->lru.next;
    dc->lru.next->prev = e;
    dc->lru.next = e;
}

/* Doubles the bucket array when the load passes 1; on ENOMEM keeps going with
 * longer chains. */
static void maybe_grow_locked(struct mrap_disk_cache *dc)
{
    if (dc->st.files < dc->nbuckets)
        return;
    size_t n = dc->nbuckets * 2;
    struct dc_entry **b = calloc(n, sizeof(*b));
    if (!b)
        return;
    for (size_t i = 0; i < dc->nbuckets; i++) {
        struct dc_entry *e = dc->buckets[i], *next;
        for (; e; e = next) {
            next = e->hnext;
            uint64_t h;
            memcpy(&h, e->name, sizeof(h));
            e->hnext = b[h & (n - 1)];
            b[h & (n - 1)] = e;
        }
    }
    free(dc->buckets);
    dc->buckets = b;
    dc->nbuckets = n;
}

/* Adds a new entry at the most recent end. NULL on ENOMEM. */
static struct dc_entry *insert_locked(struct mrap_disk_cache *dc, const unsigned char *name,
                                      uint64_t bytes, bool pending)
{
    struct dc_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    memcpy(e->name, name, MRAP_DISK_NAME_BYTES);
    e->bytes = bytes;
    e->pending = pending;
    size_t b = bucket_of(dc, name);
    e->hnext = dc->buckets[b];
    dc->buckets[b] = e;
    lru_push_front(dc, e);
    dc->st.files++;
    dc->st.bytes += bytes;
    maybe_grow_locked(dc);
    return e;
}

/* Takes e out of the index (the caller frees it). */
static void remove_locked(struct mrap_disk_cache *dc, struct dc_entry *e)
{
    struct dc_entry **pp = &dc->buckets[bucket_of(dc, e->name)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(e);
    dc->st.files--;
    dc->st.bytes -= e->bytes;
}

/* The least recently used entry that is not being written, or NULL. */
static struct dc_entry *victim_locked(struct mrap_disk_cache *dc)
{
    for (struct dc_entry *e = dc->lru.prev; e != &dc->lru; e = e->prev)
        if (!e->pending)
            return e;
    return NULL;
}

static void unlink_name(struct mrap_disk_cache *dc, const unsigned char *name)
{
    char file[MRAP_DISK_CACHE_NAME_LEN];
    mrap_disk_format_file_name(name, file);
    if (unlinkat(dc->dirfd, file, 0) != 0 && errno != ENOENT)
        mrap_log(MRAP_LOG_WARN, "cache", "cannot remove %s/%s: %s", dc->dir, file, strerror(errno));
}

/* Removes the least recently used file. false when there is none to remove. */
static bool evict_one(struct mrap_disk_cache *dc, uint64_t *freed)
{
    pthread_mutex_lock(&dc->mu);
    struct dc_entry *e = victim_locked(dc);
    if (e) {
        remove_locked(dc, e);
        dc->st.evicted++;
    }
    pthread_mutex_unlock(&dc->mu);
    if (!e)
        return false;
    unlink_name(dc, e->name);
    if (freed)
        *freed += e->bytes;
    free(e);
    return true;
}

/* Takes an entry out of the index because its file cannot be served. A file
 * that is damaged (why != NULL) is deleted and reported. A file that is simply
 * gone (why == NULL) is usually the benign race with eviction, which unlinks
 * outside the lock, or someone cleaning the directory: forgotten quietly, so
 * that the block can be stored again. */
static void drop(struct mrap_disk_cache *dc, const unsigned char *name, const char *why)
{
    pthread_mutex_lock(&dc->mu);
    struct dc_entry *e = find_locked(dc, name);
    if (e && !e->pending)
        remove_locked(dc, e);
    else
        e = NULL;
    if (why)
        dc->st.dropped++;
    else
        dc->st.misses++;
    pthread_mutex_unlock(&dc->mu);
    free(e);
    if (!why)
        return;
    char file[MRAP_DISK_CACHE_NAME_LEN];
    mrap_disk_format_file_name(name, file);
    mrap_log(MRAP_LOG_WARN, "cache", "dropping cached block %s/%s: %s", dc->dir, file, why);
    unlink_name(dc, name);
}

void mrap_disk_cache_block_name(const char *scope, const struct mrap_block_id *id,
                                char out[MRAP_DISK_CACHE_NAME_LEN])
{
    unsigned char name[MRAP_DISK_NAME_BYTES];
    struct mrap_disk_block b;
    mrap_disk_format_block(scope ? scope : "", id, &b);
    mrap_disk_format_name(&b, name);
    mrap_disk_format_file_name(name, out);
}

int mrap_disk_cache_get(struct mrap_disk_cache *dc, const struct mrap_block_id *id, char *buf,
                        size_t len)
{
    unsigned char name[MRAP_DISK_NAME_BYTES];
    char file[MRAP_DISK_CACHE_NAME_LEN];
    struct mrap_disk_block b;
    mrap_disk_format_block(dc->scope, id, &b);
    mrap_disk_format_name(&b, name);

    pthread_mutex_lock(&dc->mu);
    struct dc_entry *e = find_locked(dc, name);
    bool present = e && !e->pending;
    if (present) {
        lru_unlink(e);
        lru_push_front(dc, e);
    } else {
        dc->st.misses++;
    }
    pthread_mutex_unlock(&dc->mu);
    if (!present)
        return -ENOENT;

    mrap_disk_format_file_name(name, file);
    int fd = openat(dc->dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        drop(dc, name, errno == ENOENT ? NULL : strerror(errno));
        return -ENOENT;
    }
    const char *why = mrap_disk_format_read(fd, &b, buf, len);
    close(fd);
    if (why) {
        drop(dc, name, why);
        return -ENOENT;
    }
    pthread_mutex_lock(&dc->mu);
    dc->st.hits++;
    pthread_mutex_unlock(&dc->mu);
    return 0;
}

/* Counts a put that stored nothing; logs it once per kind (no space / write
 * error) for the life of the cache. */
static void skipped(struct mrap_disk_cache *dc, bool space, const char *reason)
{
    pthread_mutex_lock(&dc->mu);
    dc->st.skipped++;
    bool *flag = space ? &dc->warned_space : &dc->warned_write;
    bool first = !*flag;
    *flag = true;
    pthread_mutex_unlock(&dc->mu);
    if (first)
        mrap_log(MRAP_LOG_WARN, "cache",
                 "disk cache %s: %s; blocks are not stored there until "
                 "this changes (logged once)",
                 dc->dir, reason);
}

/* Makes the filesystem keep min_free_percent free after writing `need` bytes,
 * evicting our own least recently used files. false when it cannot. */
static bool make_free_space(struct mrap_disk_cache *dc, uint64_t need)
{
    struct statvfs sv;
    int rc = dc->statvfs_fn ? dc->statvfs_fn(dc->statvfs_ctx, dc->dir, &sv) : statvfs(dc->dir, &sv);
    if (rc != 0)
        return false;
    uint64_t frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
    uint64_t avail = (uint64_t)sv.f_bavail * frsize;
    uint64_t reserve = (uint64_t)sv.f_blocks * frsize / 100 * dc->min_free_percent;
    /* The sizes of evicted files stand in for a second statvfs: blocks freed
     * are at least roughly their length. */
    while (avail < need + reserve)
        if (!evict_one(dc, &avail))
            return false;
    return true;
}

void mrap_disk_cache_put(struct mrap_disk_cache *dc, const struct mrap_block_id *id,
                         const char *buf, size_t len)
{
    unsigned char name[MRAP_DISK_NAME_BYTES];
    char file[MRAP_DISK_CACHE_NAME_LEN], tmp[64];
    unsigned char hdr[MRAP_DISK_HEADER_LEN];
    uint64_t need = MRAP_DISK_HEADER_LEN + (uint64_t)len;
    struct mrap_disk_block b;

    mrap_disk_format_block(dc->scope, id, &b);
    if (mrap_disk_format_header(&b, buf, len, hdr) != 0 || need > dc->max_bytes)
        return; /* an ETag too long to record, or a block larger than the cache */
    mrap_disk_format_name(&b, name);

    /* Reserve: evict for the size and file limits, then add a pending entry. */
    for (;;) {
        pthread_mutex_lock(&dc->mu);
        if (find_locked(dc, name)) {
            pthread_mutex_unlock(&dc->mu);
            return; /* stored already, or being stored by another thread */
        }
        bool fits = dc->st.bytes + need <= dc->max_bytes && dc->st.files < dc->max_files;
        struct dc_entry *e = fits ? insert_locked(dc, name, need, true) : NULL;
        pthread_mutex_unlock(&dc->mu);
        if (fits && !e)
            return; /* ENOMEM: not cached */
        if (fits)
            break;
        if (!evict_one(dc, NULL)) { /* everything else is pending: give up this one */
            skipped(dc, true, "concurrent writes fill the configured size");
            return;
        }
    }

    int err = 0;
    if (!make_free_space(dc, need)) {
        err = ENOSPC;
    } else {
        pthread_mutex_lock(&dc->mu);
        uint64_t seq = dc->tmp_seq++;
        pthread_mutex_unlock(&dc->mu);
        snprintf(tmp, sizeof(tmp), ".tmp.%ld.%llu", (long)getpid(), (unsigned long long)seq);
        mrap_disk_format_file_name(name, file);
        int fd = openat(dc->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            err = errno;
        } else {
            err = mrap_disk_format_write(fd, hdr, buf, len);
            if (close(fd) != 0 && !err)
                err = errno;
            if (!err && renameat(dc->dirfd, tmp, dc->dirfd, file) != 0)
                err = errno;
            if (err)
                unlinkat(dc->dirfd, tmp, 0);
        }
    }

    pthread_mutex_lock(&dc->mu);
    struct dc_entry *e = find_locked(dc, name);
    if (err) {
        remove_locked(dc, e);
        free(e);
    } else {
        e->pending = false;
        dc->st.stored++;
    }
    pthread_mutex_unlock(&dc->mu);
    if (err == ENOSPC || err == EDQUOT || err == EFBIG)
        skipped(dc, true, "the filesystem is (nearly) full");
    else if (err)
        skipped(dc, false, strerror(err));
}

void mrap_disk_cache_get_stats(struct mrap_disk_cache *dc, struct mrap_disk_cache_stats *out)
{
    pthread_mutex_lock(&dc->mu);
    *out = dc->st;
    pthread_mutex_unlock(&dc->mu);
}

/* ---- opening: the directory, the lock, the scan ---- */

/* Indexes the block files found, oldest first so that the newest end up most
 * recent, then shrinks to the limits (a smaller --max-cache-size than last
 * time). */
static int scan(struct mrap_disk_cache *dc)
{
    struct mrap_disk_found *v = NULL;
    size_t n = 0;
    int rc = mrap_disk_format_scan(dc->dirfd, &v, &n);
    pthread_mutex_lock(&dc->mu);
    for (size_t i = 0; i < n && !rc; i++)
        if (!insert_locked(dc, v[i].name, v[i].bytes, false))
            rc = -ENOMEM;
    pthread_mutex_unlock(&dc->mu);
    free(v);
    while (!rc && (dc->st.bytes > dc->max_bytes || dc->st.files > dc->max_files))
        evict_one(dc, NULL);
    return rc;
}

static int open_dir(struct mrap_disk_cache *dc)
{
    struct stat sb;
    if (mkdir(dc->dir, 0700) != 0 && errno != EEXIST)
        return -errno;
    dc->dirfd = open(dc->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dc->dirfd < 0)
        return -errno;
    if (fstat(dc->dirfd, &sb) == 0 && (sb.st_mode & 077))
        mrap_log(MRAP_LOG_WARN, "cache",
                 "cache directory %s is accessible by other users "
                 "(mode %03o); cached object data is readable there",
                 dc->dir, (unsigned)(sb.st_mode & 0777));
    dc->lockfd = openat(dc->dirfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (dc->lockfd < 0)
        return -errno;
    if (flock(dc->lockfd, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK ? -EBUSY : -errno;
    return 0;
}

int mrap_disk_cache_new(const struct mrap_disk_cache_opts *opts, struct mrap_disk_cache **out)
{
    *out = NULL;
    if (!opts->dir || !opts->dir[0])
        return -EINVAL;
    struct mrap_disk_cache *dc = calloc(1, sizeof(*dc));
    if (!dc)
        return -ENOMEM;
    dc->dirfd = dc->lockfd = -1;
    dc->max_bytes = opts->max_bytes ? opts->max_bytes : (uint64_t)1 << 30;
    dc->min_free_percent = opts->min_free_percent ? opts->min_free_percent : 5;
    if (dc->min_free_percent > 100)
        dc->min_free_percent = 100;
    dc->max_files = opts->max_files ? opts->max_files : 262144;
    dc->statvfs_fn = opts->statvfs_fn;
    dc->statvfs_ctx = opts->statvfs_ctx;
    dc->lru.prev = dc->lru.next = &dc->lru;
    dc->nbuckets = 256;
    pthread_mutex_init(&dc->mu, NULL);
    dc->dir = strdup(opts->dir);
    dc->scope = strdup(opts->scope ? opts->scope : "");
    dc->buckets = calloc(dc->nbuckets, sizeof(*dc->buckets));
    int rc = dc->dir && dc->scope && dc->buckets ? open_dir(dc) : -ENOMEM;
    if (!rc)
        rc = scan(dc);
    if (rc) {
        mrap_log(MRAP_LOG_ERROR, "cache", "cannot use cache directory %s: %s", opts->dir,
                 rc == -EBUSY ? "another mrapfs uses it" : strerror(-rc));
        mrap_disk_cache_destroy(dc);
        return rc;
    }
    MRAP_DEBUG("cache", "disk cache %s: %llu blocks, %llu bytes reused", dc->dir,
               (unsigned long long)dc->st.files, (unsigned long long)dc->st.bytes);
    *out = dc;
    return 0;
}

void mrap_disk_cache_destroy(struct mrap_disk_cache *dc)
{
    if (!dc)
        return;
    for (struct dc_entry *e = dc->lru.next, *next; e != &dc->lru; e = next) {
        next = e->next;
        free(e);
    }
    free(dc->buckets);
    if (dc->lockfd >= 0)
        close(dc->lockfd); /* releases the flock */
    if (dc->dirfd >= 0)
        close(dc->dirfd);
    pthread_mutex_destroy(&dc->mu);
    free(dc->dir);
    free(dc->scope);
    free(dc);
}
