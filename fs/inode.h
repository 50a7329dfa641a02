/*
 * The inode table: maps FUSE inode numbers to S3 keys and cached attributes.
 *
 * An inode exists while the kernel holds a reference (its lookup count,
 * raised by every entry reply and lowered by forget) or while it is the root.
 * Entries are found by number and by (parent, name). An inode's type never
 * changes: when a name turns from file into directory (or back) remotely, a
 * new inode replaces it under that name and the old one lives on, detached,
 * until the kernel forgets it.
 *
 * Thread-safety: all functions lock the table's mutex internally and return
 * copies, so no caller holds the lock across network I/O.
 */
#ifndef MRAP_FS_INODE_H
#define MRAP_FS_INODE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "s3/client.h"

#define MRAP_ROOT_INO 1

struct mrap_inode_attr {
    bool is_dir;
    uint64_t size;
    struct timespec mtime;
    char etag[MRAP_S3_ETAG_MAX];
    char storage_class[32];
};

/* A snapshot of one inode, owned by the caller (free key with free()). */
struct mrap_inode_info {
    uint64_t ino;
    uint64_t parent;
    char *key; /* key relative to the mount prefix; "" for the root; no trailing '/' */
    struct mrap_inode_attr attr;
    bool fresh;                         /* attributes younger than the metadata TTL */
    char opened_etag[MRAP_S3_ETAG_MAX]; /* ETag at the last open, for keep_cache */
};

struct mrap_inode_table;

/* ttl_s: how long attributes count as fresh. root_mtime: shown for the root and
 * for directories implied by prefixes. */
struct mrap_inode_table *mrap_inode_table_new(double ttl_s, struct timespec root_mtime);
void mrap_inode_table_destroy(struct mrap_inode_table *t);

/*
 * Records (parent, name) with these attributes, creating the inode if needed
 * (or replacing it when the type changed), and adds `lookups` to its lookup
 * count. Returns the inode number, or 0 on ENOMEM / unknown parent.
 */
uint64_t mrap_inode_upsert(struct mrap_inode_table *t, uint64_t parent, const char *name,
                           const struct mrap_inode_attr *attr, uint64_t lookups);

/*
 * Like mrap_inode_upsert(), but an existing file inode that carries an
 * object (an ETag) keeps its attributes: a file created over an old object
 * shows the old object to readers until the new one is stored. *cur (may be
 * NULL) receives the attributes the inode has afterwards.
 */
uint64_t mrap_inode_upsert_keep(struct mrap_inode_table *t, uint64_t parent, const char *name,
                                const struct mrap_inode_attr *attr, uint64_t lookups,
                                struct mrap_inode_attr *cur);

/* A write handle holds (hold) or lets go of an inode: while held, its
 * attributes are fresh and never revalidated (the file being written is not
 * in S3 yet, and its name must not vanish for its writer). */
void mrap_inode_hold(struct mrap_inode_table *t, uint64_t ino, bool hold);

/* Finds (parent, name) when it is still fresh. 0 or -ENOENT (absent or stale). */
int mrap_inode_find_fresh(struct mrap_inode_table *t, uint64_t parent, const char *name,
                          struct mrap_inode_info *out, uint64_t add_lookups);

/* Snapshot of an inode. 0, -ENOENT (unknown number) or -ENOMEM. */
int mrap_inode_get(struct mrap_inode_table *t, uint64_t ino, struct mrap_inode_info *out);
void mrap_inode_info_cleanup(struct mrap_inode_info *info);

/* Replaces the attributes (after a revalidation); the type must match. */
void mrap_inode_set_attr(struct mrap_inode_table *t, uint64_t ino,
                         const struct mrap_inode_attr *attr);
/* Remembers the ETag served at open; returns true when it equals the previous
 * one, i.e. the kernel's page cache for this file is still valid. */
bool mrap_inode_note_open(struct mrap_inode_table *t, uint64_t ino, const char *etag);
/* Drops (parent, name) from the name index (the name vanished remotely). */
void mrap_inode_detach(struct mrap_inode_table *t, uint64_t parent, const char *name);

/* Lowers the lookup count; frees the inode at zero (never the root). */
void mrap_inode_forget(struct mrap_inode_table *t, uint64_t ino, uint64_t nlookup);

/* Number of live inodes (for tests and statistics). */
size_t mrap_inode_count(struct mrap_inode_table *t);

/*
 * Re-listing a directory on lookup (fs/ops.c): after `ls`, every file's
 * attributes expire together, and the lookups that follow (open, stat) would
 * each cost a LIST. One LIST of the directory refreshes them all instead.
 *   stale_file: (parent, name) is a known file whose attributes expired.
 *   claim_relist: true at most once per TTL per directory (the caller lists).
 *   refresh_file: updates a known, not-held file from a listing entry; false
 *   when there is no such file (new names are left to the per-name lookup).
 */
bool mrap_inode_stale_file(struct mrap_inode_table *t, uint64_t parent, const char *name);
bool mrap_inode_claim_relist(struct mrap_inode_table *t, uint64_t dir);
bool mrap_inode_refresh_file(struct mrap_inode_table *t, uint64_t parent, const char *name,
                             const struct mrap_inode_attr *attr);

#endif
