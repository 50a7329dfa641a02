/*
 * The read path through cache/: one block cache (memory, optionally backed by
 * a disk tier) and one read-ahead worker pool per mount, one reader per open
 * file. fs/ops.c calls these from open, read and release.
 *
 * Why the disk tier only with an explicit --cache: the staging directory has
 * a default (/var/tmp/mrapfs-<uid>) so that writes work out of the box, but
 * silently filling a disk with copies of objects is not something a mount
 * should do unasked. Blocks live in <cache>/blocks, apart from staging files.
 *
 * Blocks are keyed by key, ETag and index, so a new version of an object
 * (written remotely or by this mount) never meets the old version's blocks;
 * those simply age out of the LRU.
 *
 * Why the threads start in the session's init callback, not at mount: without
 * -f the process forks to detach after mounting (fuse_daemonize), and threads
 * do not survive a fork; init runs in the process that serves the mount.
 *
 * Why half of --max-connections read-ahead threads: the other half stays free
 * for the reads a process is blocked on and for uploads, so a large sequential
 * read cannot starve everything else of connections.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/block_cache.h"
#include "cache/disk_cache.h"
#include "cache/reader.h"
#include "cache/s3_source.h"
#include "cache/workers.h"
#include "fs/fs.h"
#include "util/log.h"

#define MIB (1024ull * 1024)

static int open_disk_tier(struct mrap_fs *fs)
{
    const struct mrap_fs_config *cfg = fs->cfg;
    char dir[4096], scope[1200];
    if (mkdir(cfg->cache_dir, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        mrap_log(MRAP_LOG_ERROR, "cache", "cannot create the cache directory %s: %s",
                 cfg->cache_dir, strerror(e));
        return -e;
    }
    if (snprintf(dir, sizeof(dir), "%s/blocks", cfg->cache_dir) >= (int)sizeof(dir))
        return -ENAMETOOLONG;
    /* Blocks of different endpoints or MRAPs never mix, even with equal keys and ETags. */
    snprintf(scope, sizeof(scope), "%s %s", mrap_s3_client_base_url(fs->s3), cfg->name);
    struct mrap_disk_cache_opts o = {
        .dir = dir,
        .scope = scope,
        .max_bytes = (uint64_t)cfg->disk_cache_mib * MIB,
    };
    int rc = mrap_disk_cache_new(&o, &fs->disk_cache);
    if (rc == -EBUSY)
        mrap_log(MRAP_LOG_ERROR, "cache",
                 "%s is in use by another mount; give each mount its "
                 "own --cache directory",
                 dir);
    else if (rc)
        mrap_log(MRAP_LOG_ERROR, "cache", "cannot open the disk cache in %s: %s", dir,
                 strerror(-rc));
    return rc;
}

int mrap_fs_readcache_init(struct mrap_fs *fs)
{
    const struct mrap_fs_config *cfg = fs->cfg;
    int rc = 0;
    if (cfg->disk_cache_enabled && (rc = open_disk_tier(fs)))
        return rc;
    struct mrap_block_cache_opts bo = {
        .capacity_bytes = (size_t)cfg->memory_cache_mib * MIB,
        .disk = fs->disk_cache,
    };
    return mrap_block_cache_new(&bo, &fs->blocks);
}

void mrap_fs_readcache_start(struct mrap_fs *fs)
{
    unsigned threads = fs->cfg->max_connections / 2;
    int rc = mrap_workers_new(threads < 2 ? 2 : threads, 0, &fs->readahead);
    if (rc)
        mrap_log(MRAP_LOG_WARN, "cache",
                 "no read-ahead threads (%s): reads fetch only what "
                 "they need",
                 strerror(-rc));
}

void mrap_fs_readcache_cleanup(struct mrap_fs *fs)
{
    /* Workers first: their jobs use the cache. Readers are gone by now
     * (every file is released before the session ends). */
    mrap_workers_destroy(fs->readahead);
    mrap_block_cache_destroy(fs->blocks);
    mrap_disk_cache_destroy(fs->disk_cache);
    fs->readahead = NULL;
    fs->blocks = NULL;
    fs->disk_cache = NULL;
}

int mrap_fs_reader_open(struct mrap_fs *fs, struct mrap_open_file *fh)
{
    fh->src = (struct mrap_cache_s3_source){.s3 = fs->s3, .key = fh->s3_key, .etag = fh->etag};
    struct mrap_reader_opts o = {
        .cache = fs->blocks,
        .workers = fs->readahead,
        .key = fh->s3_key,
        .etag = fh->etag,
        .size = fh->size,
        .fetch = mrap_cache_s3_fetch,
        .fetch_ctx = &fh->src,
        .max_window_bytes = (size_t)fs->cfg->read_ahead_mib * MIB,
    };
    /* An object without an ETag (some S3-compatible servers) cannot be cached
     * safely: it is read straight from S3 instead. */
    if (!fh->etag[0])
        return 0;
    return mrap_reader_new(&o, &fh->reader);
}

void mrap_fs_reader_close(struct mrap_open_file *fh)
{
    if (fh->reader) {
        struct mrap_reader_stats st;
        mrap_reader_get_stats(fh->reader, &st);
        MRAP_DEBUG("cache",
                   "%s: %llu sequential reads, %llu seeks, %llu blocks read ahead "
                   "(%llu withdrawn, %llu failed), window %zu of %zu KiB",
                   fh->s3_key, (unsigned long long)st.sequential_reads,
                   (unsigned long long)st.seeks, (unsigned long long)st.prefetch_submitted,
                   (unsigned long long)st.prefetch_cancelled,
                   (unsigned long long)st.prefetch_errors, st.window_bytes >> 10,
                   st.max_window_bytes >> 10);
    }
    mrap_reader_destroy(fh->reader); /* waits for fetches that borrow fh->src */
    fh->reader = NULL;
}
