/*
 * The on-disk block cache (--cache DIR, --max-cache-size MiB): the second tier
 * under the memory cache, and the one that survives a remount.
 *
 * Each block is one file, DIR/<32 hex>.blk, named by a SHA-256 of (scope, key,
 * ETag, index). The file starts with a header (magic, SHA-256 of the key, ETag,
 * index, length, CRC32C of the data, CRC32C of the header), so a file is only
 * served when it is exactly the block asked for and intact; a corrupt,
 * truncated or foreign file is deleted and reported as a miss. Files are
 * written to a temporary name and renamed, so a reader never sees half a
 * block; a crash can leave a short file, which the length check drops.
 *
 * Space: the total stays under max_bytes and the filesystem keeps at least
 * min_free_percent free (statvfs before every write; least recently used
 * files go first). When space cannot be made, or a write fails (ENOSPC,
 * EDQUOT...), the block is simply not cached: put() never fails the reader,
 * and the condition is logged once.
 *
 * Recency is kept in memory; at start the directory is scanned and files are
 * ordered by modification time (the best recency a restart can know). One
 * mount per directory: an flock on DIR/.lock refuses a second user.
 *
 * Permissions: the directory is created 0700 and files 0600 (cached object
 * data is as private as the credentials that read it).
 *
 * Thread-safety: every function may be called from any thread. The index is
 * under one mutex; file I/O happens outside it.
 */
#ifndef MRAP_CACHE_DISK_CACHE_H
#define MRAP_CACHE_DISK_CACHE_H

#include <stdint.h>
#include <sys/statvfs.h>

#include "cache/common.h"

struct mrap_disk_cache_opts {
    const char *dir;           /* created (0700) when missing; parent must exist */
    const char *scope;         /* what keys belong to (endpoint + MRAP/bucket); NULL = "" */
    uint64_t max_bytes;        /* total size of the block files; 0 means 1 GiB */
    unsigned min_free_percent; /* of the filesystem; 0 means 5 */
    size_t max_files;          /* bounds the in-memory index; 0 means 262144 */
    /* Where free space is asked; NULL means statvfs(3). Tests inject a full disk. */
    int (*statvfs_fn)(void *ctx, const char *path, struct statvfs *st);
    void *statvfs_ctx;
};

struct mrap_disk_cache_stats {
    uint64_t files, bytes; /* now */
    uint64_t hits, misses; /* get() */
    uint64_t stored;       /* put() that wrote a file */
    uint64_t dropped;      /* corrupt, truncated or foreign files deleted */
    uint64_t evicted;      /* deleted to respect max_bytes, max_files or free space */
    uint64_t skipped;      /* put() that wrote nothing: no space, or a write error */
};

struct mrap_disk_cache;

/*
 * Opens (creating if needed) the cache directory, removes leftover temporary
 * files, and indexes the blocks found, evicting beyond the limits.
 * 0, -EINVAL (no dir), -ENOTDIR, -EBUSY (another mount holds the directory),
 * -ENOMEM, or the errno of mkdir/open.
 */
int mrap_disk_cache_new(const struct mrap_disk_cache_opts *opts, struct mrap_disk_cache **out);
void mrap_disk_cache_destroy(struct mrap_disk_cache *dc); /* accepts NULL; files stay */

/*
 * Reads block id into buf when a valid file of exactly len bytes exists.
 * 0, or -ENOENT (absent; or present but invalid, and then deleted).
 */
int mrap_disk_cache_get(struct mrap_disk_cache *dc, const struct mrap_block_id *id, char *buf,
                        size_t len);

/* Stores a block, best effort: never fails the caller (see above). */
void mrap_disk_cache_put(struct mrap_disk_cache *dc, const struct mrap_block_id *id,
                         const char *buf, size_t len);

void mrap_disk_cache_get_stats(struct mrap_disk_cache *dc, struct mrap_disk_cache_stats *out);

/* The file name (without directory) block id has: 32 hex digits + ".blk" and a
 * NUL. For tests and debugging. */
#define MRAP_DISK_CACHE_NAME_LEN 37
void mrap_disk_cache_block_name(const char *scope, const struct mrap_block_id *id,
                                char out[MRAP_DISK_CACHE_NAME_LEN]);

#endif
