/*
 * The writers registry: which inodes have a write handle that owns them, and
 * the attributes a file being written shows (its growing size, and the mode,
 * owner and mtime recorded by chmod/chown/utimens until the upload).
 *
 * One writer per inode: a second claim is -EBUSY. The registry maps an inode
 * number to the writer's struct mrap_wattr, which the write handle embeds and
 * keeps alive until it drops its claim.
 *
 * Lock order: the registry's lock, then a wattr's lock. Write handles update
 * their wattr holding only its lock and never call into the registry while
 * holding it.
 */
#ifndef MRAP_FS_WRITERS_H
#define MRAP_FS_WRITERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "s3/write.h"

struct mrap_wattr {
    pthread_mutex_t mu; /* guards the fields below */
    uint64_t parent;    /* directory inode (for rmdir's "is anything being written here") */
    uint64_t size;
    mode_t mode; /* permission bits only */
    uid_t uid;
    gid_t gid;
    struct timespec mtime;
    bool mtime_set; /* set by utimens: stored as x-amz-meta-mtime */
    bool meta_sent; /* the upload already carries the metadata: later changes are local */
    bool unlinked;  /* unlinked while being written: nothing is uploaded */
};

/* The x-amz-meta-* entries of a file: mode (s3fs's convention, the full
 * st_mode in decimal, so that other tools read it too), uid, gid, and mtime
 * (seconds) when utimens set it. */
struct mrap_wattr_meta {
    char mode[24], uid[24], gid[24], mtime[32];
    struct mrap_s3_meta m[4];
    struct mrap_s3_put_opts opts; /* points into this struct */
};
/* Fills mt from a (locking it) and marks the metadata as sent. */
void mrap_wattr_meta(struct mrap_wattr *a, struct mrap_wattr_meta *mt);

struct mrap_writers;

int mrap_writers_new(struct mrap_writers **out);
void mrap_writers_destroy(struct mrap_writers *r); /* accepts NULL */

/* 0, or -EBUSY when another writer owns ino. Claiming twice with the same a is 0. */
int mrap_writers_claim(struct mrap_writers *r, uint64_t ino, struct mrap_wattr *a);
/* Drops the claim when a holds it. */
void mrap_writers_drop(struct mrap_writers *r, uint64_t ino, struct mrap_wattr *a);

/* When ino is being written: overrides size, mode, owner and times in st. */
bool mrap_writers_stat(struct mrap_writers *r, uint64_t ino, struct stat *st);
/*
 * Records chmod/chown/utimens (FUSE_SET_ATTR_* bits in to_set) for a file
 * being written. 0; 1 when the upload already carries its metadata (the
 * change then shows here but cannot reach the object); -ENOENT when nobody
 * writes ino.
 */
int mrap_writers_setattr(struct mrap_writers *r, uint64_t ino, const struct stat *attr, int to_set);
/* Marks the writer of ino (if any) unlinked; true when there was one. */
bool mrap_writers_unlink(struct mrap_writers *r, uint64_t ino);
/* Whether a file directly in directory `parent` is being written. */
bool mrap_writers_in_dir(struct mrap_writers *r, uint64_t parent);

#endif
