/*
 * The filesystem object: everything a FUSE callback needs, reached from the
 * session's userdata. Configuration and the S3 client are read-only after
 * mount; the inode table and the warn-once set carry their own locks.
 */
#ifndef MRAP_FS_FS_H
#define MRAP_FS_FS_H

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>

#include "fs/inode.h"
#include "fs/options.h"
#include "s3/client.h"

struct mrap_warned; /* keys already warned about */

struct mrap_fs {
    const struct mrap_fs_config *cfg;
    struct mrap_s3_client *s3;
    struct mrap_inode_table *inodes;
    struct timespec mount_time;
    struct mrap_warned *warned;
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
/* Fills a struct stat for an inode. */
void mrap_fs_fill_stat(const struct mrap_fs *fs, uint64_t ino, const struct mrap_inode_attr *a,
                       struct stat *st);
/* Converts a listing entry to inode attributes. */
void mrap_fs_attr_from_entry(const struct mrap_s3_list_entry *e, struct mrap_inode_attr *a);
/* Attributes of a directory implied by a prefix. */
void mrap_fs_dir_attr(const struct mrap_fs *fs, struct mrap_inode_attr *a);

/* Directory callbacks (fs/dir.c). */
void mrap_fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void mrap_fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi);
void mrap_fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                         struct fuse_file_info *fi);
void mrap_fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

#endif
