/*
 * The write side's file callbacks: create, open for writing, write, flush,
 * fsync. They translate FUSE requests into write-handle operations
 * (fs/wfile.c) and back.
 *
 * Why flush stores the object: close(2) reports only what FLUSH returns (the
 * kernel ignores RELEASE's answer and sends it asynchronously), so the upload
 * must complete inside flush for a failure to reach the program that wrote.
 * Every close of every descriptor flushes; a flush with nothing new to store
 * costs nothing, and a write after a flush simply starts a new version.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "fs/wfile.h"
#include "util/log.h"

int mrap_fs_open_writer(struct mrap_fs *fs, const struct mrap_inode_info *info,
                        struct fuse_file_info *fi, struct mrap_open_file *fh)
{
    struct mrap_wfile_opts o = {
        .ino = info->ino,
        .parent = info->parent,
        .inode_key = info->key,
        .base = &info->attr,
        .truncate = (fi->flags & O_TRUNC) != 0,
        .rdwr = (fi->flags & O_ACCMODE) == O_RDWR,
        .mode = fs->cfg->file_mode,
    };
    int rc = mrap_wfile_open(fs, &o, &fh->wr);
    if (rc == -EBUSY)
        mrap_log(MRAP_LOG_INFO, "write", "%s is already being written; refused a second writer",
                 fh->s3_key);
    /* The page cache may hold the previous version's pages. */
    fi->keep_cache = 0;
    return rc;
}

void mrap_fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                    struct fuse_file_info *fi)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct mrap_inode_attr fresh, cur;
    struct mrap_open_file *fh = NULL;
    struct fuse_entry_param e;
    char *key = NULL;
    uint64_t ino = 0;
    int rc;

    if (fs->cfg->read_only) {
        fuse_reply_err(req, EROFS);
        return;
    }
    rc = mrap_fs_child_key(fs, parent, name, &key);
    if (rc)
        goto out;
    memset(&fresh, 0, sizeof(fresh));
    clock_gettime(CLOCK_REALTIME, &fresh.mtime);
    /* An inode that still shows a stored object keeps showing it to readers. */
    ino = mrap_inode_upsert_keep(fs->inodes, parent, name, &fresh, 1, &cur);
    if (!ino) {
        rc = -ENOMEM;
        goto out;
    }
    if (cur.is_dir) {
        rc = -EISDIR;
        goto out;
    }
    fh = calloc(1, sizeof(*fh));
    if (!fh || !(fh->s3_key = mrap_fs_s3_key(fs, key))) {
        rc = -ENOMEM;
        goto out;
    }
    struct mrap_wfile_opts o = {
        .ino = ino,
        .parent = parent,
        .inode_key = key,
        .base = &cur,
        .truncate = true,
        .rdwr = (fi->flags & O_ACCMODE) == O_RDWR,
        .mode = mode & 07777,
    };
    rc = mrap_wfile_open(fs, &o, &fh->wr);
    if (rc == -EBUSY)
        mrap_log(MRAP_LOG_INFO, "write", "%s is already being written; refused a second writer",
                 fh->s3_key);
out:
    if (rc) {
        if (ino)
            mrap_inode_forget(fs->inodes, ino, 1); /* the kernel never saw the entry */
        if (fh)
            free(fh->s3_key);
        free(fh);
        mrap_fs_reply_errno(req, rc);
    } else {
        mrap_fs_fill_entry(fs, ino, &cur, &e);
        fi->fh = (uint64_t)(uintptr_t)fh;
        fi->keep_cache = 0;
        if (fuse_reply_create(req, &e, fi) != 0) {
            /* the opener went away: the kernel will never release this handle
             * nor forget the entry */
            mrap_wfile_release(fh->wr);
            mrap_inode_forget(fs->inodes, ino, 1);
            free(fh->s3_key);
            free(fh);
        }
    }
    free(key);
}

static struct mrap_wfile *writer_of(struct fuse_file_info *fi)
{
    struct mrap_open_file *fh = (struct mrap_open_file *)(uintptr_t)fi->fh;
    return fh ? fh->wr : NULL;
}

void mrap_fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                   struct fuse_file_info *fi)
{
    struct mrap_wfile *w = writer_of(fi);
    if (!w) {
        fuse_reply_err(req, EBADF);
        return;
    }
    if (off < 0) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    int rc = mrap_wfile_write(w, buf, size, (uint64_t)off);
    if (rc)
        mrap_fs_reply_errno(req, rc);
    else
        fuse_reply_write(req, size);
}

void mrap_fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct mrap_wfile *w = writer_of(fi);
    int rc = w ? mrap_wfile_flush(w) : 0;
    fuse_reply_err(req, -rc);
}

void mrap_fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    mrap_fs_flush(req, ino, fi);
}
