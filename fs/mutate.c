/*
 * Namespace and attribute changes: unlink, mkdir, rmdir, mknod, setattr, and
 * the refusals (rename, symlink, link).
 *
 * What S3 through an MRAP can and cannot do decides each answer:
 *   - unlink is DeleteObject; an object under Object Lock is EPERM, logged
 *     with S3's message.
 *   - mkdir stores a "dir/" marker object (so an empty directory persists)
 *     and shows the directory at once; rmdir refuses a directory that holds
 *     anything (one LIST of at most two keys, plus files still being written
 *     into it) and deletes the marker.
 *   - rename would need CopyObject, which an MRAP refuses: ENOTSUP with one
 *     log line. Symbolic links have no representation: ENOTSUP; hard links
 *     are impossible: EPERM (link(2)'s "not supported by this filesystem").
 *   - chmod/chown/utimens of a file being written are recorded and stored
 *     with it (x-amz-meta-*); a stored object's metadata cannot change
 *     without a copy, so they are EPERM, unless --ignore-setattr makes them
 *     succeed without effect. A change to what is already shown succeeds.
 *   - truncate by path rewrites the object through a write handle (an empty
 *     PutObject for size 0, staging otherwise).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "fs/wfile.h"
#include "fs/writers.h"
#include "s3/write.h"
#include "util/log.h"

static void log_refusal(const char *what, const char *key, int rc, const struct mrap_s3_error *err)
{
    char msg[600] = "";
    if (err->http_status || err->code[0])
        mrap_s3_error_format(err, msg, sizeof(msg));
    mrap_log(MRAP_LOG_WARN, "fs", "%s %s: %s%s%s", what, key, strerror(-rc), msg[0] ? ": " : "",
             msg);
}

/* The S3 key of `name` in `parent` followed by suffix ("" or "/" for a
 * directory marker), after the checks every change makes. Heap string. */
static int target_key(struct mrap_fs *fs, uint64_t parent, const char *name, const char *suffix,
                      char **s3_key)
{
    char *key = NULL;
    *s3_key = NULL;
    if (fs->cfg->read_only)
        return -EROFS;
    int rc = mrap_fs_child_key(fs, parent, name, &key);
    if (!rc && asprintf(s3_key, "%s%s%s", fs->cfg->prefix, key, suffix) < 0) {
        *s3_key = NULL;
        rc = -ENOMEM;
    }
    free(key);
    if (!rc && strlen(*s3_key) > MRAP_S3_KEY_MAX)
        rc = -ENAMETOOLONG;
    return rc;
}

void mrap_fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct mrap_inode_info found;
    struct mrap_s3_error err;
    char *s3_key = NULL;
    memset(&err, 0, sizeof(err));
    int rc = target_key(fs, parent, name, "", &s3_key);
    if (rc)
        goto out;
    /* A file being written is held, hence found: it must not be stored at close. */
    if (mrap_inode_find_fresh(fs->inodes, parent, name, &found, 0) == 0) {
        if (found.attr.is_dir)
            rc = -EISDIR;
        else
            mrap_writers_unlink(fs->writers, found.ino);
        mrap_inode_info_cleanup(&found);
        if (rc)
            goto out;
    }
    rc = mrap_s3_delete_object(fs->s3, s3_key, &err);
    if (rc)
        log_refusal("cannot delete", s3_key, rc, &err);
    else
        mrap_inode_detach(fs->inodes, parent, name);
out:
    free(s3_key);
    fuse_reply_err(req, rc < 0 ? -rc : 0);
}

/* Metadata for a new object or marker: mode (s3fs's decimal st_mode), owner. */
static void basic_meta(const struct mrap_fs *fs, mode_t mode, char bufs[3][24],
                       struct mrap_s3_meta m[3], struct mrap_s3_put_opts *o)
{
    snprintf(bufs[0], 24, "%u", (unsigned)mode);
    snprintf(bufs[1], 24, "%u", (unsigned)fs->cfg->uid);
    snprintf(bufs[2], 24, "%u", (unsigned)fs->cfg->gid);
    m[0] = (struct mrap_s3_meta){"mode", bufs[0]};
    m[1] = (struct mrap_s3_meta){"uid", bufs[1]};
    m[2] = (struct mrap_s3_meta){"gid", bufs[2]};
    memset(o, 0, sizeof(*o));
    o->meta = m;
    o->n_meta = 3;
}

/* Stores an empty object (a file, or with is_dir a "key/" marker) and
 * replies with its entry. */
static void make_empty(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                       bool is_dir)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct mrap_s3_error err;
    struct mrap_s3_put_result res;
    struct mrap_s3_put_opts o;
    struct mrap_s3_meta m[3];
    char bufs[3][24];
    char *s3_key = NULL;
    memset(&err, 0, sizeof(err));
    int rc = target_key(fs, parent, name, is_dir ? "/" : "", &s3_key);
    if (rc)
        goto out;
    basic_meta(fs, (is_dir ? S_IFDIR : S_IFREG) | (mode & 07777), bufs, m, &o);
    rc = mrap_s3_put_object(fs->s3, s3_key, NULL, 0, &o, &res, &err);
    if (rc) {
        log_refusal(is_dir ? "cannot create the directory marker" : "cannot create", s3_key, rc,
                    &err);
        goto out;
    }
    struct mrap_inode_attr a;
    if (is_dir) {
        mrap_fs_dir_attr(fs, &a);
    } else {
        memset(&a, 0, sizeof(a));
        memcpy(a.etag, res.etag, sizeof(a.etag));
    }
    clock_gettime(CLOCK_REALTIME, &a.mtime);
    uint64_t ino = mrap_inode_upsert(fs->inodes, parent, name, &a, 1);
    if (!ino) {
        rc = -ENOMEM;
        goto out;
    }
    struct fuse_entry_param e;
    mrap_fs_fill_entry(fs, ino, &a, &e);
    fuse_reply_entry(req, &e);
out:
    free(s3_key);
    if (rc)
        mrap_fs_reply_errno(req, rc);
}

void mrap_fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    make_empty(req, parent, name, mode, true);
}

void mrap_fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
    if (!S_ISREG(mode)) {
        fuse_reply_err(req, EPERM); /* devices, FIFOs and sockets cannot be objects */
        return;
    }
    make_empty(req, parent, name, mode, false);
}

/* ENOTEMPTY when anything but the marker lies under "prefix". */
static int check_empty(struct mrap_fs *fs, const char *prefix)
{
    struct mrap_s3_list_page pg;
    struct mrap_s3_list_opts lo = {.prefix = prefix, .max_keys = 2};
    int rc = mrap_s3_list_objects(fs->s3, &lo, &pg, NULL);
    if (rc)
        return rc;
    for (size_t i = 0; i < pg.n_objects && !rc; i++)
        if (strcmp(pg.objects[i].key, prefix) != 0)
            rc = -ENOTEMPTY;
    if (pg.n_prefixes)
        rc = -ENOTEMPTY;
    mrap_s3_list_page_cleanup(&pg);
    return rc;
}

void mrap_fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct mrap_inode_info found;
    struct mrap_s3_error err;
    char *marker = NULL;
    memset(&err, 0, sizeof(err));
    int rc = target_key(fs, parent, name, "/", &marker);
    if (rc)
        goto out;
    if (mrap_inode_find_fresh(fs->inodes, parent, name, &found, 0) == 0) {
        if (!found.attr.is_dir)
            rc = -ENOTDIR;
        else if (mrap_writers_in_dir(fs->writers, found.ino))
            rc = -ENOTEMPTY; /* a file is being written into it */
        mrap_inode_info_cleanup(&found);
    }
    if (!rc)
        rc = check_empty(fs, marker);
    if (!rc) {
        rc = mrap_s3_delete_object(fs->s3, marker, &err);
        if (rc)
            log_refusal("cannot delete the directory marker", marker, rc, &err);
    }
    if (!rc)
        mrap_inode_detach(fs->inodes, parent, name);
out:
    free(marker);
    fuse_reply_err(req, rc < 0 ? -rc : 0);
}

void mrap_fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                    const char *newname, unsigned int flags)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    if (fs->cfg->read_only) {
        fuse_reply_err(req, EROFS);
        return;
    }
    mrap_log(MRAP_LOG_WARN, "fs",
             "rename of \"%s\" to \"%s\" refused (Operation not supported): a Multi-Region "
             "Access Point has no CopyObject, so an object cannot be moved; copy and delete "
             "instead (for rsync: --inplace)",
             name, newname);
    fuse_reply_err(req, ENOTSUP);
}

void mrap_fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    fuse_reply_err(req, fs->cfg->read_only ? EROFS : ENOTSUP);
}

void mrap_fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    fuse_reply_err(req, fs->cfg->read_only ? EROFS : EPERM);
}

/* Whether chmod/chown/utimens would leave what is shown unchanged. */
static bool setattr_is_noop(const struct mrap_fs *fs, const struct mrap_inode_attr *a,
                            const struct stat *attr, int to_set)
{
    mode_t shown = a->is_dir ? fs->cfg->dir_mode : fs->cfg->file_mode;
    if ((to_set & FUSE_SET_ATTR_MODE) && (attr->st_mode & 07777) != (shown & 07777))
        return false;
    if ((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != fs->cfg->uid)
        return false;
    if ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != fs->cfg->gid)
        return false;
    if (to_set & (FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW))
        return false;
    if ((to_set & FUSE_SET_ATTR_MTIME) &&
        (attr->st_mtim.tv_sec != a->mtime.tv_sec || attr->st_mtim.tv_nsec != a->mtime.tv_nsec))
        return false;
    if ((to_set & FUSE_SET_ATTR_ATIME) &&
        (attr->st_atim.tv_sec != a->mtime.tv_sec || attr->st_atim.tv_nsec != a->mtime.tv_nsec))
        return false;
    return true;
}

/* truncate(2) without an open handle: rewrite the object through one. */
static int truncate_path(struct mrap_fs *fs, const struct mrap_inode_info *info, uint64_t size)
{
    if (info->attr.etag[0] && size == info->attr.size)
        return 0;
    struct mrap_wfile *w = NULL;
    struct mrap_wfile_opts o = {
        .ino = info->ino,
        .parent = info->parent,
        .inode_key = info->key,
        .base = &info->attr,
        .mode = fs->cfg->file_mode,
    };
    int rc = mrap_wfile_open(fs, &o, &w);
    if (!rc)
        rc = mrap_wfile_truncate(w, size);
    if (!rc)
        rc = mrap_wfile_commit(w);
    mrap_wfile_release(w);
    return rc;
}

void mrap_fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                     struct fuse_file_info *fi)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct mrap_open_file *fh = fi ? (struct mrap_open_file *)(uintptr_t)fi->fh : NULL;
    struct mrap_inode_info info;
    const int meta_bits = FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID |
                          FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
                          FUSE_SET_ATTR_MTIME_NOW;
    if (fs->cfg->read_only) {
        fuse_reply_err(req, EROFS);
        return;
    }
    int rc = mrap_inode_get(fs->inodes, ino, &info);
    if (rc) {
        mrap_fs_reply_errno(req, rc);
        return;
    }
    if (to_set & FUSE_SET_ATTR_SIZE) {
        if (info.attr.is_dir)
            rc = -EISDIR;
        else if (attr->st_size < 0)
            rc = -EINVAL;
        else if (fh && fh->wr)
            rc = mrap_wfile_truncate(fh->wr, (uint64_t)attr->st_size);
        else
            rc = truncate_path(fs, &info, (uint64_t)attr->st_size);
    }
    if (!rc && (to_set & meta_bits)) {
        rc = info.attr.is_dir ? -ENOENT : mrap_writers_setattr(fs->writers, ino, attr, to_set);
        if (rc == 1) {
            mrap_log(MRAP_LOG_INFO, "fs",
                     "%s: attributes changed after its upload started are "
                     "shown until it is stored but not kept in the object",
                     info.key);
            rc = 0;
        } else if (rc == -ENOENT) {
            if (setattr_is_noop(fs, &info.attr, attr, to_set) || fs->cfg->ignore_setattr) {
                rc = 0;
            } else {
                /* once per mount: rsync -a or cp -a would otherwise log every file */
                if (!atomic_exchange(&fs->setattr_warned, true))
                    mrap_log(MRAP_LOG_WARN, "fs",
                             "chmod/chown/utimens of \"%s\" refused (EPERM): a stored "
                             "object's metadata cannot change without a copy; mount with "
                             "--ignore-setattr to accept and ignore such changes (logged once)",
                             info.key[0] ? info.key : "/");
                else
                    MRAP_DEBUG("fs", "chmod/chown/utimens of \"%s\" refused", info.key);
                rc = -EPERM;
            }
        }
    }
    if (!rc) {
        struct stat st;
        mrap_inode_info_cleanup(&info);
        rc = mrap_inode_get(fs->inodes, ino, &info);
        if (!rc) {
            mrap_fs_fill_stat(fs, ino, &info.attr, &st);
            fuse_reply_attr(req, &st, fs->cfg->metadata_ttl_s);
        }
    }
    mrap_inode_info_cleanup(&info);
    if (rc)
        mrap_fs_reply_errno(req, rc);
}
