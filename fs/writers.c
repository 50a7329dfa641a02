/*
 * The writers registry (see writers.h): a chained hash of inode number ->
 * wattr under one lock. Few files are written at once, so a fixed number of
 * buckets is plenty; the count lets getattr and readdirplus skip the lock
 * entirely while nothing is being written.
 */
#include "fs/writers.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"

#define BUCKETS 256

struct entry {
    struct entry *next;
    uint64_t ino;
    struct mrap_wattr *a;
};

struct mrap_writers {
    pthread_mutex_t mu; /* guards buckets */
    struct entry *buckets[BUCKETS];
    atomic_uint count; /* entries; read without the lock as a fast path */
};

int mrap_writers_new(struct mrap_writers **out)
{
    struct mrap_writers *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    pthread_mutex_init(&r->mu, NULL);
    atomic_init(&r->count, 0);
    *out = r;
    return 0;
}

void mrap_writers_destroy(struct mrap_writers *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        for (struct entry *e = r->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static struct entry **slot(struct mrap_writers *r, uint64_t ino)
{
    struct entry **pp = &r->buckets[(ino * 0x9e3779b97f4a7c15ULL) >> 56];
    while (*pp && (*pp)->ino != ino)
        pp = &(*pp)->next;
    return pp;
}

int mrap_writers_claim(struct mrap_writers *r, uint64_t ino, struct mrap_wattr *a)
{
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    struct entry **pp = slot(r, ino);
    if (*pp) {
        rc = (*pp)->a == a ? 0 : -EBUSY;
    } else {
        struct entry *e = calloc(1, sizeof(*e));
        if (!e) {
            rc = -ENOMEM;
        } else {
            e->ino = ino;
            e->a = a;
            *pp = e;
            atomic_fetch_add(&r->count, 1);
        }
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

void mrap_writers_drop(struct mrap_writers *r, uint64_t ino, struct mrap_wattr *a)
{
    pthread_mutex_lock(&r->mu);
    struct entry **pp = slot(r, ino);
    if (*pp && (*pp)->a == a) {
        struct entry *e = *pp;
        *pp = e->next;
        free(e);
        atomic_fetch_sub(&r->count, 1);
    }
    pthread_mutex_unlock(&r->mu);
}

bool mrap_writers_stat(struct mrap_writers *r, uint64_t ino, struct stat *st)
{
    if (atomic_load(&r->count) == 0)
        return false;
    bool found = false;
    pthread_mutex_lock(&r->mu);
    struct entry *e = *slot(r, ino);
    if (e) {
        struct mrap_wattr *a = e->a;
        pthread_mutex_lock(&a->mu);
        st->st_size = (off_t)a->size;
        st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
        st->st_mode = (st->st_mode & S_IFMT) | (a->mode & 07777);
        st->st_uid = a->uid;
        st->st_gid = a->gid;
        st->st_mtim = st->st_ctim = st->st_atim = a->mtime;
        pthread_mutex_unlock(&a->mu);
        found = true;
    }
    pthread_mutex_unlock(&r->mu);
    return found;
}

int mrap_writers_setattr(struct mrap_writers *r, uint64_t ino, const struct stat *attr, int to_set)
{
    int rc = -ENOENT;
    pthread_mutex_lock(&r->mu);
    struct entry *e = *slot(r, ino);
    if (e) {
        struct mrap_wattr *a = e->a;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        pthread_mutex_lock(&a->mu);
        if (to_set & FUSE_SET_ATTR_MODE)
            a->mode = attr->st_mode & 07777;
        if (to_set & FUSE_SET_ATTR_UID)
            a->uid = attr->st_uid;
        if (to_set & FUSE_SET_ATTR_GID)
            a->gid = attr->st_gid;
        if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
            a->mtime = (to_set & FUSE_SET_ATTR_MTIME_NOW) ? now : attr->st_mtim;
            a->mtime_set = true;
        }
        rc = a->meta_sent ? 1 : 0;
        pthread_mutex_unlock(&a->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

bool mrap_writers_unlink(struct mrap_writers *r, uint64_t ino)
{
    bool found = false;
    pthread_mutex_lock(&r->mu);
    struct entry *e = *slot(r, ino);
    if (e) {
        pthread_mutex_lock(&e->a->mu);
        e->a->unlinked = true;
        pthread_mutex_unlock(&e->a->mu);
        found = true;
    }
    pthread_mutex_unlock(&r->mu);
    return found;
}

bool mrap_writers_in_dir(struct mrap_writers *r, uint64_t parent)
{
    bool found = false;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < BUCKETS && !found; i++) {
        for (struct entry *e = r->buckets[i]; e && !found; e = e->next) {
            pthread_mutex_lock(&e->a->mu);
            found = e->a->parent == parent && !e->a->unlinked;
            pthread_mutex_unlock(&e->a->mu);
        }
    }
    pthread_mutex_unlock(&r->mu);
    return found;
}

void mrap_wattr_meta(struct mrap_wattr *a, struct mrap_wattr_meta *mt)
{
    memset(mt, 0, sizeof(*mt));
    pthread_mutex_lock(&a->mu);
    snprintf(mt->mode, sizeof(mt->mode), "%u", (unsigned)(S_IFREG | a->mode));
    snprintf(mt->uid, sizeof(mt->uid), "%u", (unsigned)a->uid);
    snprintf(mt->gid, sizeof(mt->gid), "%u", (unsigned)a->gid);
    size_t n = 0;
    mt->m[n++] = (struct mrap_s3_meta){"mode", mt->mode};
    mt->m[n++] = (struct mrap_s3_meta){"uid", mt->uid};
    mt->m[n++] = (struct mrap_s3_meta){"gid", mt->gid};
    if (a->mtime_set) {
        snprintf(mt->mtime, sizeof(mt->mtime), "%lld", (long long)a->mtime.tv_sec);
        mt->m[n++] = (struct mrap_s3_meta){"mtime", mt->mtime};
    }
    a->meta_sent = true;
    pthread_mutex_unlock(&a->mu);
    mt->opts.meta = mt->m;
    mt->opts.n_meta = n;
}
