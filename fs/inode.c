/*
 * Inode table: two open-addressing-free chained hash tables over one set of
 * nodes — by inode number and by (parent number, name) — under one mutex.
 * Lookups are O(1); the tables grow by doubling when their load passes 1.
 * Inode numbers are never reused within a mount (a 64-bit counter), so a
 * stale number from the kernel can never reach another file.
 */
#include "fs/inode.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    uint64_t ino;
    uint64_t parent;
    char *name;
    char *key;
    struct mrap_inode_attr attr;
    double fresh_until;    /* monotonic seconds */
    double relisted_until; /* directories: a lookup re-listed it; not again before this */
    unsigned held;         /* write handles: held attributes are always fresh */
    uint64_t nlookup;
    bool attached; /* present in the (parent, name) index */
    char opened_etag[MRAP_S3_ETAG_MAX];
    struct node *next_ino;
    struct node *next_name;
};

struct mrap_inode_table {
    pthread_mutex_t lock; /* guards everything below */
    struct node **by_ino;
    struct node **by_name;
    size_t nbuckets; /* same size for both tables, a power of two */
    size_t count;
    uint64_t next_ino;
    double ttl_s;
    struct node *root;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static size_t ino_slot(const struct mrap_inode_table *t, uint64_t ino)
{
    return (size_t)(mix(ino) & (t->nbuckets - 1));
}

static size_t name_slot(const struct mrap_inode_table *t, uint64_t parent, const char *name)
{
    uint64_t h = 1469598103934665603ULL ^ mix(parent); /* FNV-1a over the name */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(mix(h) & (t->nbuckets - 1));
}

static struct node *find_ino(struct mrap_inode_table *t, uint64_t ino)
{
    for (struct node *n = t->by_ino[ino_slot(t, ino)]; n; n = n->next_ino)
        if (n->ino == ino)
            return n;
    return NULL;
}

static struct node *find_name(struct mrap_inode_table *t, uint64_t parent, const char *name)
{
    for (struct node *n = t->by_name[name_slot(t, parent, name)]; n; n = n->next_name)
        if (n->parent == parent && strcmp(n->name, name) == 0)
            return n;
    return NULL;
}

static void unlink_name(struct mrap_inode_table *t, struct node *victim)
{
    if (!victim->attached)
        return;
    struct node **pp = &t->by_name[name_slot(t, victim->parent, victim->name)];
    for (; *pp; pp = &(*pp)->next_name) {
        if (*pp == victim) {
            *pp = victim->next_name;
            break;
        }
    }
    victim->attached = false;
    victim->next_name = NULL;
}

static void link_node(struct mrap_inode_table *t, struct node *n)
{
    size_t s = ino_slot(t, n->ino);
    n->next_ino = t->by_ino[s];
    t->by_ino[s] = n;
    if (n->attached) {
        s = name_slot(t, n->parent, n->name);
        n->next_name = t->by_name[s];
        t->by_name[s] = n;
    }
}

static int grow(struct mrap_inode_table *t)
{
    size_t old_n = t->nbuckets;
    struct node **old_ino = t->by_ino;
    struct node **ni = calloc(old_n * 2, sizeof(*ni));
    struct node **nn = calloc(old_n * 2, sizeof(*nn));
    if (!ni || !nn) {
        free(ni);
        free(nn);
        return -ENOMEM;
    }
    free(t->by_name);
    t->by_ino = ni;
    t->by_name = nn;
    t->nbuckets = old_n * 2;
    for (size_t i = 0; i < old_n; i++) {
        for (struct node *n = old_ino[i], *next; n; n = next) {
            next = n->next_ino;
            link_node(t, n);
        }
    }
    free(old_ino);
    return 0;
}

static void free_node(struct node *n)
{
    free(n->name);
    free(n->key);
    free(n);
}

struct mrap_inode_table *mrap_inode_table_new(double ttl_s, struct timespec root_mtime)
{
    struct mrap_inode_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->nbuckets = 1024;
    t->by_ino = calloc(t->nbuckets, sizeof(*t->by_ino));
    t->by_name = calloc(t->nbuckets, sizeof(*t->by_name));
    t->root = calloc(1, sizeof(*t->root));
    if (!t->by_ino || !t->by_name || !t->root)
        goto fail;
    t->root->name = strdup("");
    t->root->key = strdup("");
    if (!t->root->name || !t->root->key)
        goto fail;
    t->root->ino = MRAP_ROOT_INO;
    t->root->parent = MRAP_ROOT_INO;
    t->root->attr.is_dir = true;
    t->root->attr.mtime = root_mtime;
    t->root->nlookup = 1;
    t->next_ino = MRAP_ROOT_INO + 1;
    t->ttl_s = ttl_s;
    pthread_mutex_init(&t->lock, NULL);
    link_node(t, t->root);
    t->count = 1;
    return t;
fail:
    if (t->root)
        free_node(t->root);
    free(t->by_ino);
    free(t->by_name);
    free(t);
    return NULL;
}

void mrap_inode_table_destroy(struct mrap_inode_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        for (struct node *n = t->by_ino[i], *next; n; n = next) {
            next = n->next_ino;
            free_node(n);
        }
    }
    free(t->by_ino);
    free(t->by_name);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static int snapshot(const struct mrap_inode_table *t, const struct node *n,
                    struct mrap_inode_info *out)
{
    memset(out, 0, sizeof(*out));
    out->key = strdup(n->key);
    if (!out->key)
        return -ENOMEM;
    out->ino = n->ino;
    out->parent = n->parent;
    out->attr = n->attr;
    /* The root and directories carry no remote state that can go stale. */
    out->fresh = n->attr.is_dir || n->held || now_s() < n->fresh_until;
    memcpy(out->opened_etag, n->opened_etag, sizeof(out->opened_etag));
    (void)t;
    return 0;
}

static uint64_t upsert(struct mrap_inode_table *t, uint64_t parent, const char *name,
                       const struct mrap_inode_attr *attr, uint64_t lookups, bool keep,
                       struct mrap_inode_attr *cur)
{
    uint64_t ino = 0;
    pthread_mutex_lock(&t->lock);
    struct node *p = find_ino(t, parent);
    if (!p || !p->attr.is_dir)
        goto out;
    struct node *n = find_name(t, parent, name);
    if (n && n->attr.is_dir != attr->is_dir) {
        unlink_name(t, n); /* the old inode lives on until forgotten */
        n = NULL;
    }
    if (!n) {
        if (t->count >= t->nbuckets && grow(t))
            goto out;
        n = calloc(1, sizeof(*n));
        if (!n)
            goto out;
        n->name = strdup(name);
        if (!p->key[0])
            n->key = strdup(name);
        else if (asprintf(&n->key, "%s/%s", p->key, name) < 0)
            n->key = NULL;
        if (!n->name || !n->key) {
            free_node(n);
            goto out;
        }
        n->ino = t->next_ino++;
        n->parent = parent;
        n->attached = true;
        link_node(t, n);
        t->count++;
    }
    if (!keep || n->nlookup == 0 || n->attr.etag[0] == '\0') {
        n->attr = *attr;
        n->fresh_until = now_s() + t->ttl_s;
    }
    if (cur)
        *cur = n->attr;
    n->nlookup += lookups;
    ino = n->ino;
out:
    pthread_mutex_unlock(&t->lock);
    return ino;
}

uint64_t mrap_inode_upsert(struct mrap_inode_table *t, uint64_t parent, const char *name,
                           const struct mrap_inode_attr *attr, uint64_t lookups)
{
    return upsert(t, parent, name, attr, lookups, false, NULL);
}

uint64_t mrap_inode_upsert_keep(struct mrap_inode_table *t, uint64_t parent, const char *name,
                                const struct mrap_inode_attr *attr, uint64_t lookups,
                                struct mrap_inode_attr *cur)
{
    return upsert(t, parent, name, attr, lookups, true, cur);
}

void mrap_inode_hold(struct mrap_inode_table *t, uint64_t ino, bool hold)
{
    pthread_mutex_lock(&t->lock);
    struct node *n = find_ino(t, ino);
    if (n && hold)
        n->held++;
    else if (n && n->held)
        n->held--;
    pthread_mutex_unlock(&t->lock);
}

int mrap_inode_find_fresh(struct mrap_inode_table *t, uint64_t parent, const char *name,
                          struct mrap_inode_info *out, uint64_t add_lookups)
{
    int rc = -ENOENT;
    pthread_mutex_lock(&t->lock);
    struct node *n = find_name(t, parent, name);
    if (n && (n->held || now_s() < n->fresh_until)) {
        rc = snapshot(t, n, out);
        if (!rc)
            n->nlookup += add_lookups;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int mrap_inode_get(struct mrap_inode_table *t, uint64_t ino, struct mrap_inode_info *out)
{
    int rc = -ENOENT;
    pthread_mutex_lock(&t->lock);
    struct node *n = find_ino(t, ino);
    if (n)
        rc = snapshot(t, n, out);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void mrap_inode_info_cleanup(struct mrap_inode_info *info)
{
    if (!info)
        return;
    free(info->key);
    info->key = NULL;
}

void mrap_inode_set_attr(struct mrap_inode_table *t, uint64_t ino,
                         const struct mrap_inode_attr *attr)
{
    pthread_mutex_lock(&t->lock);
    struct node *n = find_ino(t, ino);
    if (n && n->attr.is_dir == attr->is_dir && n != t->root) {
        n->attr = *attr;
        n->fresh_until = now_s() + t->ttl_s;
    }
    pthread_mutex_unlock(&t->lock);
}

bool mrap_inode_note_open(struct mrap_inode_table *t, uint64_t ino, const char *etag)
{
    bool same = false;
    pthread_mutex_lock(&t->lock);
    struct node *n = find_ino(t, ino);
    if (n) {
        same = etag[0] && strcmp(n->opened_etag, etag) == 0;
        snprintf(n->opened_etag, sizeof(n->opened_etag), "%s", etag);
    }
    pthread_mutex_unlock(&t->lock);
    return same;
}

void mrap_inode_detach(struct mrap_inode_table *t, uint64_t parent, const char *name)
{
    pthread_mutex_lock(&t->lock);
    struct node *n = find_name(t, parent, name);
    if (n && n != t->root)
        unlink_name(t, n);
    pthread_mutex_unlock(&t->lock);
}

void mrap_inode_forget(struct mrap_inode_table *t, uint64_t ino, uint64_t nlookup)
{
    pthread_mutex_lock(&t->lock);
    struct node *n = find_ino(t, ino);
    if (!n || n == t->root)
        goto out;
    n->nlookup = nlookup >= n->nlookup ? 0 : n->nlookup - nlookup;
    if (n->nlookup)
        goto out;
    unlink_name(t, n);
    struct node **pp = &t->by_ino[ino_slot(t, ino)];
    for (; *pp; pp = &(*pp)->next_ino) {
        if (*pp == n) {
            *pp = n->next_ino;
            break;
        }
    }
    t->count--;
    free_node(n);
out:
    pthread_mutex_unlock(&t->lock);
}

size_t mrap_inode_count(struct mrap_inode_table *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->count;
    pthread_mutex_unlock(&t->lock);
    return n;
}

bool mrap_inode_stale_file(struct mrap_inode_table *t, uint64_t parent, const char *name)
{
    pthread_mutex_lock(&t->lock);
    struct node *n = find_name(t, parent, name);
    bool stale = n && !n->attr.is_dir && !n->held && now_s() >= n->fresh_until;
    pthread_mutex_unlock(&t->lock);
    return stale;
}

bool mrap_inode_claim_relist(struct mrap_inode_table *t, uint64_t dir)
{
    pthread_mutex_lock(&t->lock);
    struct node *n = find_ino(t, dir);
    double now = now_s();
    bool claimed = n && n->attr.is_dir && now >= n->relisted_until;
    if (claimed)
        n->relisted_until = now + t->ttl_s;
    pthread_mutex_unlock(&t->lock);
    return claimed;
}

bool mrap_inode_refresh_file(struct mrap_inode_table *t, uint64_t parent, const char *name,
                             const struct mrap_inode_attr *attr)
{
    pthread_mutex_lock(&t->lock);
    struct node *n = find_name(t, parent, name);
    bool done = n && !n->attr.is_dir && !attr->is_dir && !n->held;
    if (done) {
        n->attr = *attr;
        n->fresh_until = now_s() + t->ttl_s;
    }
    pthread_mutex_unlock(&t->lock);
    return done;
}
