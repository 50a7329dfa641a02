/*
 * The per-mount cache of object attributes rendered as xattrs.
 *
 * `getfattr -d` asks listxattr, then getxattr twice per name (size, then
 * value): without a cache that is a dozen S3 requests for one file. Each key
 * keeps up to one rendered set per part (HEAD, tags, ACL, ...), each with the
 * time it was fetched; a part is served while younger than the metadata TTL,
 * the same promise the inode attributes make.
 *
 * Memory is bounded: at most max_entries keys; when full, the entry touched
 * least recently is dropped. The table is a plain array scanned linearly:
 * xattr calls are rare next to reads, and a few thousand string compares cost
 * less than one request.
 *
 * Lock discipline: `lock` guards `entries`; it is never held while a part is
 * fetched (mrap_xattr_part_get unlocks, fetches, then stores).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/xattr.h"

struct part_slot {
    bool valid;
    double fetched_s; /* CLOCK_MONOTONIC */
    struct mrap_xattr_set set;
};

struct entry {
    char *key;
    double used_s; /* last touched, for eviction */
    struct part_slot parts[MRAP_XATTR_N_PARTS];
};

struct mrap_xattr_cache {
    double ttl_s;
    size_t max_entries;
    pthread_mutex_t lock;
    struct entry *entries; /* guarded by lock; n of max_entries used */
    size_t n;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mrap_xattr_set_cleanup(struct mrap_xattr_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].name);
        free(s->v[i].value);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

int mrap_xattr_set_add(struct mrap_xattr_set *s, const char *name, const char *value, size_t len)
{
    struct mrap_xattr_pair *v = realloc(s->v, (s->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    s->v = v;
    struct mrap_xattr_pair *p = &v[s->n];
    p->name = strdup(name);
    p->value = malloc(len ? len : 1);
    if (!p->name || !p->value) {
        free(p->name);
        free(p->value);
        return -ENOMEM;
    }
    memcpy(p->value, value, len);
    p->len = len;
    s->n++;
    return 0;
}

const struct mrap_xattr_pair *mrap_xattr_set_find(const struct mrap_xattr_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

static int set_copy(const struct mrap_xattr_set *from, struct mrap_xattr_set *to)
{
    memset(to, 0, sizeof(*to));
    memcpy(to->etag, from->etag, sizeof(to->etag));
    for (size_t i = 0; i < from->n; i++) {
        if (mrap_xattr_set_add(to, from->v[i].name, from->v[i].value, from->v[i].len)) {
            mrap_xattr_set_cleanup(to);
            return -ENOMEM;
        }
    }
    return 0;
}

int mrap_xattr_cache_new(double ttl_s, size_t max_entries, struct mrap_xattr_cache **out)
{
    struct mrap_xattr_cache *c = calloc(1, sizeof(*c));
    if (!c || !max_entries || !(c->entries = calloc(max_entries, sizeof(*c->entries)))) {
        free(c);
        return -ENOMEM;
    }
    c->ttl_s = ttl_s;
    c->max_entries = max_entries;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return 0;
}

static void entry_cleanup(struct entry *e)
{
    free(e->key);
    for (size_t p = 0; p < MRAP_XATTR_N_PARTS; p++)
        mrap_xattr_set_cleanup(&e->parts[p].set);
    memset(e, 0, sizeof(*e));
}

void mrap_xattr_cache_destroy(struct mrap_xattr_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        entry_cleanup(&c->entries[i]);
    free(c->entries);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Call with c->lock held. */
static struct entry *find(struct mrap_xattr_cache *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->entries[i].key, key) == 0)
            return &c->entries[i];
    return NULL;
}

/* The entry for key, made when missing (evicting the least recently used
 * one when full); NULL on ENOMEM. Call with c->lock held. */
static struct entry *find_or_add(struct mrap_xattr_cache *c, const char *key, double now)
{
    struct entry *e = find(c, key);
    if (e)
        return e;
    char *copy = strdup(key);
    if (!copy)
        return NULL;
    if (c->n == c->max_entries) {
        size_t victim = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->entries[i].used_s < c->entries[victim].used_s)
                victim = i;
        entry_cleanup(&c->entries[victim]);
        c->entries[victim] = c->entries[c->n - 1];
        memset(&c->entries[c->n - 1], 0, sizeof(c->entries[0]));
        c->n--;
    }
    e = &c->entries[c->n++];
    memset(e, 0, sizeof(*e));
    e->key = copy;
    e->used_s = now;
    return e;
}

void mrap_xattr_cache_drop(struct mrap_xattr_cache *c, const char *key, enum mrap_xattr_part part)
{
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, key);
    for (size_t p = 0; e && p < MRAP_XATTR_N_PARTS; p++) {
        if (part != MRAP_XATTR_N_PARTS && p != (size_t)part)
            continue;
        mrap_xattr_set_cleanup(&e->parts[p].set);
        e->parts[p].valid = false;
    }
    pthread_mutex_unlock(&c->lock);
}

/* A fresh copy of the cached part into *out: 0, -ENOENT (absent or stale) or
 * -ENOMEM. */
static int cache_lookup(struct mrap_xattr_cache *c, const char *key, enum mrap_xattr_part part,
                        const char *etag, struct mrap_xattr_set *out)
{
    double now = now_s();
    int rc = -ENOENT;
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, key);
    if (e) {
        struct part_slot *s = &e->parts[part];
        bool same_object =
            !etag || !etag[0] || part != MRAP_XATTR_PART_HEAD || strcmp(s->set.etag, etag) == 0;
        if (s->valid && now - s->fetched_s < c->ttl_s && same_object) {
            e->used_s = now;
            rc = set_copy(&s->set, out);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* Stores a copy of *set as the part's values (silently nothing on ENOMEM:
 * the cache is an optimisation). */
static void cache_store(struct mrap_xattr_cache *c, const char *key, enum mrap_xattr_part part,
                        const struct mrap_xattr_set *set)
{
    struct mrap_xattr_set copy;
    if (set_copy(set, &copy))
        return;
    double now = now_s();
    pthread_mutex_lock(&c->lock);
    struct entry *e = find_or_add(c, key, now);
    if (e) {
        struct part_slot *s = &e->parts[part];
        mrap_xattr_set_cleanup(&s->set);
        s->set = copy;
        s->valid = true;
        s->fetched_s = now;
        e->used_s = now;
        memset(&copy, 0, sizeof(copy));
    }
    pthread_mutex_unlock(&c->lock);
    mrap_xattr_set_cleanup(&copy);
}

int mrap_xattr_part_get(struct mrap_fs *fs, const char *key, enum mrap_xattr_part part,
                        const char *etag, struct mrap_xattr_set *out)
{
    memset(out, 0, sizeof(*out));
    int rc = cache_lookup(fs->xattrs, key, part, etag, out);
    if (rc != -ENOENT)
        return rc;
    rc = mrap_xattr_fetch(fs, key, part, out); /* no lock held */
    if (rc == 0)
        cache_store(fs->xattrs, key, part, out);
    return rc;
}
