/*
 * The filesystem object: everything a FUSE callback needs, reached from the
 * session's userdata. Configuration and the S3 client are read-only after
 * mount; the inode table, the warn-once set, the writers registry, the
 * staging space and the upload pool carry their own locks.
 */
#ifndef MRAP_FS_FS_H
#define MRAP_FS_FS_H

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "cache/s3_source.h"
#include "fs/inode.h"
#include "fs/options.h"
#include "s3/client.h"

struct mrap_warned;      /* keys already warned about (fs/names.c) */
struct mrap_writers;     /* inodes being written (fs/writers.c) */
struct mrap_staging;     /* staging files' space (fs/staging.c) */
struct mrap_upload_pool; /* part upload workers (fs/upload.c) */
struct mrap_wfile;       /* a write handle (fs/wfile.c) */
struct mrap_block_cache; /* read blocks in memory (cache/block_cache.c) */
struct mrap_disk_cache;  /* and on disk, with --cache (cache/disk_cache.c) */
struct mrap_workers;     /* read-ahead threads (cache/workers.c) */
struct mrap_reader;      /* one open file's reads (cache/reader.c) */
struct mrap_xattr_cache; /* rendered object attributes (fs/xattr_cache.c) */
struct mrap_s3_control;  /* S3 Control, for the root's routes (s3/control.h) */

struct mrap_fs {
    const struct mrap_fs_config *cfg;
    struct mrap_s3_client *s3;
    struct mrap_inode_table *inodes;
    struct timespec mount_time;
    struct mrap_warned *warned;
    struct mrap_writers *writers;
    struct mrap_staging *staging; /* NULL on a read-only mount */
    struct mrap_upload_pool *uploads;
    struct mrap_block_cache *blocks;
    struct mrap_disk_cache *disk_cache; /* NULL without --cache */
    struct mrap_workers *readahead;
    atomic_bool setattr_warned;      /* the EPERM of chmod/chown/utimens was explained once */
    struct mrap_xattr_cache *xattrs; /* object attributes shown as xattrs (fs/xattr.c) */
    /* Borrowed, set by main after mrap_fs_init: NULL unless the mount names an
     * account (an ARN), which S3 Control needs for user.mrap.routes. */
    struct mrap_s3_control *control;
    atomic_bool routes_hint_logged; /* "mount by ARN for routes" was said once */
};

/* What fi->fh of an open file points to. */
struct mrap_open_file {
    struct mrap_wfile *wr; /* a write handle, or NULL for a read-only open */
    char *s3_key;
    char etag[MRAP_S3_ETAG_MAX];
    char storage_class[32];
    uint64_t size;
    struct mrap_reader *reader;      /* reads through the block cache; NULL: straight GETs */
    struct mrap_cache_s3_source src; /* what reader fetches from; borrows s3_key, etag */
};

/* 0 or negative errno. cfg and s3 are borrowed and must outlive fs. */
int mrap_fs_init(struct mrap_fs *fs, const struct mrap_fs_config *cfg, struct mrap_s3_client *s3);
void mrap_fs_cleanup(struct mrap_fs *fs);

/* The low-level operations table (read side). */
const struct fuse_lowlevel_ops *mrap_fs_lowlevel_ops(void);

/* ---- shared between the fs/ modules ---- */

/* Whether a key segment can be a file name: not "", ".", "..", at most 255
 * bytes. (NUL never reaches here: the listing drops such keys.) */
bool mrap_fs_name_valid(const char *name, size_t len);
/* Logs `fmt` once per key for the life of the mount (bounded memory). */
void mrap_fs_warn_once(struct mrap_fs *fs, const char *key, const char *what);

/* The S3 key for an inode key: the mount prefix joined with it. Heap string. */
char *mrap_fs_s3_key(const struct mrap_fs *fs, const char *inode_key);
/* The S3 prefix that lists a directory inode: its key with a trailing '/', or
 * the mount prefix itself for the root. Heap string. */
char *mrap_fs_s3_dir_prefix(const struct mrap_fs *fs, const char *inode_key);
/* Fills a struct stat for an inode. */
void mrap_fs_fill_stat(const struct mrap_fs *fs, uint64_t ino, const struct mrap_inode_attr *a,
                       struct stat *st);
/* Converts a listing entry to inode attributes. */
void mrap_fs_attr_from_entry(const struct mrap_s3_list_entry *e, struct mrap_inode_attr *a);
/* Attributes of a directory implied by a prefix. */
void mrap_fs_dir_attr(const struct mrap_fs *fs, struct mrap_inode_attr *a);

/* The inode key (relative to the mount prefix) of `name` in directory
 * `parent`: 0, -ENOENT (unknown parent), -ENAMETOOLONG, -EINVAL (not a
 * possible name) or -ENOMEM. *key is a heap string. */
int mrap_fs_child_key(struct mrap_fs *fs, uint64_t parent, const char *name, char **key);
/* fuse_reply_err with a negative errno (EIO when rc is not one). */
void mrap_fs_reply_errno(fuse_req_t req, int rc);
/* Entry timeouts and attributes for an inode, ready for fuse_reply_entry/create. */
void mrap_fs_fill_entry(const struct mrap_fs *fs, uint64_t ino, const struct mrap_inode_attr *a,
                        struct fuse_entry_param *e);

/* File callbacks of the write side (fs/fileops.c). */
int mrap_fs_open_writer(struct mrap_fs *fs, const struct mrap_inode_info *info,
                        struct fuse_file_info *fi, struct mrap_open_file *fh);
void mrap_fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                    struct fuse_file_info *fi);
void mrap_fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                   struct fuse_file_info *fi);
void mrap_fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void mrap_fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);

/* Namespace and attribute changes (fs/mutate.c). */
void mrap_fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void mrap_fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void mrap_fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void mrap_fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                    const char *newname, unsigned int flags);
void mrap_fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void mrap_fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void mrap_fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void mrap_fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                     struct fuse_file_info *fi);

/* At mount: aborts multipart uploads under prefix initiated more than age_s
 * seconds ago (fs/stale.c). 0 or the listing's error (already logged). */
int mrap_fs_abort_stale_uploads(struct mrap_s3_client *s3, const char *prefix, double age_s);

/* The read cache (fs/readcache.c): per-mount setup and a reader per open file. */
int mrap_fs_readcache_init(struct mrap_fs *fs);
void mrap_fs_readcache_start(struct mrap_fs *fs); /* threads: from the session's init */
void mrap_fs_readcache_cleanup(struct mrap_fs *fs);
int mrap_fs_reader_open(struct mrap_fs *fs, struct mrap_open_file *fh);
void mrap_fs_reader_close(struct mrap_open_file *fh);

/* Directory callbacks (fs/dir.c). */
void mrap_fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void mrap_fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi);
void mrap_fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                         struct fuse_file_info *fi);
void mrap_fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

#endif
