/*
 * The read side of the filesystem: lookup, getattr, open, read, statfs.
 *
 * Metadata comes from ListObjectsV2 alone: readdirplus hands the kernel every
 * entry with its attributes, so `ls -l` costs one LIST per 1,000 entries and
 * no HEAD. A cold lookup (a path nobody listed) is one LIST by prefix "name"
 * with delimiter "/": a common prefix "name/" makes it a directory (which wins
 * over an object of the same name), else the key "name" makes it a file. Attributes are trusted for
 * the metadata TTL and revalidated after it, so a file replaced remotely is seen within the TTL.
 *
 * An open file pins the ETag it saw; every ranged GET carries If-Match, so a
 * read never mixes bytes of two versions: if the object changes underneath,
 * the read fails with ESTALE and the next open sees the new version. The
 * kernel's page cache is kept across opens only while the ETag is unchanged.
 * Reads go through the block cache and its adaptive read-ahead (cache/,
 * wired in fs/readcache.c); the If-Match rides on every block fetch.
 *
 * Opens for writing become write handles (fs/fileops.c, fs/wfile.c); while a
 * file is being written its attributes come from the writers registry, and
 * readers keep seeing the previously stored object.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "cache/reader.h"
#include "fs/fs.h"
#include "fs/wfile.h"
#include "fs/writers.h"
#include "fs/xattr.h"
#include "util/log.h"

void mrap_fs_fill_stat(const struct mrap_fs *fs, uint64_t ino, const struct mrap_inode_attr *a,
                       struct stat *st)
{
    const struct mrap_fs_config *cfg = fs->cfg;
    memset(st, 0, sizeof(*st));
    st->st_ino = ino;
    st->st_mode = a->is_dir ? (S_IFDIR | cfg->dir_mode) : (S_IFREG | cfg->file_mode);
    if (cfg->read_only)
        st->st_mode &= (mode_t) ~(S_IWUSR | S_IWGRP | S_IWOTH);
    st->st_nlink = a->is_dir ? 2 : 1;
    st->st_uid = cfg->uid;
    st->st_gid = cfg->gid;
    st->st_size = a->is_dir ? 0 : (off_t)a->size;
    st->st_blksize = 1 << 20; /* tools like cp size their buffers from this */
    st->st_blocks = a->is_dir ? 0 : (blkcnt_t)((a->size + 511) / 512);
    st->st_mtim = a->mtime;
    st->st_ctim = a->mtime;
    st->st_atim = a->mtime;
    if (!a->is_dir && fs->writers)
        mrap_writers_stat(fs->writers, ino, st);
}

void mrap_fs_fill_entry(const struct mrap_fs *fs, uint64_t ino, const struct mrap_inode_attr *a,
                        struct fuse_entry_param *e)
{
    memset(e, 0, sizeof(*e));
    e->ino = ino;
    e->attr_timeout = e->entry_timeout = fs->cfg->metadata_ttl_s;
    mrap_fs_fill_stat(fs, ino, a, &e->attr);
}

void mrap_fs_attr_from_entry(const struct mrap_s3_list_entry *e, struct mrap_inode_attr *a)
{
    memset(a, 0, sizeof(*a));
    a->size = e->size;
    a->mtime = e->mtime;
    memcpy(a->etag, e->etag, sizeof(a->etag));
    memcpy(a->storage_class, e->storage_class, sizeof(a->storage_class));
}

void mrap_fs_dir_attr(const struct mrap_fs *fs, struct mrap_inode_attr *a)
{
    memset(a, 0, sizeof(*a));
    a->is_dir = true;
    a->mtime = fs->mount_time;
}

/* Is `s3_key` an object? Fills attr from the first key of a LIST by prefix. */
static int resolve_file(struct mrap_fs *fs, const char *s3_key, struct mrap_inode_attr *attr)
{
    struct mrap_s3_list_page pg;
    struct mrap_s3_list_opts lo = {.prefix = s3_key, .max_keys = 1};
    int rc = mrap_s3_list_objects(fs->s3, &lo, &pg, NULL);
    if (rc)
        return rc;
    rc = -ENOENT;
    if (pg.n_objects > 0 && strcmp(pg.objects[0].key, s3_key) == 0) {
        mrap_fs_attr_from_entry(&pg.objects[0], attr);
        rc = 0;
    }
    mrap_s3_list_page_cleanup(&pg);
    return rc;
}

/* Is there anything under "s3_key/"? */
static int resolve_dir(struct mrap_fs *fs, const char *s3_key)
{
    struct mrap_s3_list_page pg;
    char *prefix = NULL;
    if (asprintf(&prefix, "%s/", s3_key) < 0)
        return -ENOMEM;
    struct mrap_s3_list_opts lo = {.prefix = prefix, .delimiter = "/", .max_keys = 1};
    int rc = mrap_s3_list_objects(fs->s3, &lo, &pg, NULL);
    free(prefix);
    if (rc)
        return rc;
    rc = (pg.n_objects || pg.n_prefixes) ? 0 : -ENOENT;
    mrap_s3_list_page_cleanup(&pg);
    return rc;
}

/* Keys a cold lookup asks for at once: enough to see both "name" and
 * "name/" past the usual handful of siblings such as "name.bak". */
#define RESOLVE_PAGE_KEYS 16

/*
 * A cold lookup in one LIST: prefix "name", delimiter "/". S3 answers in key
 * order, so the page shows the object "name" (the first key with that prefix)
 * and the common prefix "name/" unless more than a page of siblings sorting
 * between them ("name-1", "name.txt": '-' and '.' sort before '/') pushes
 * "name/" off the page; only then is a second LIST needed.
 */
static int resolve(struct mrap_fs *fs, const char *inode_key, struct mrap_inode_attr *attr)
{
    struct mrap_s3_list_page pg;
    char *s3_key = mrap_fs_s3_key(fs, inode_key), *dir = NULL;
    if (!s3_key || asprintf(&dir, "%s/", s3_key) < 0) {
        free(s3_key);
        return -ENOMEM;
    }
    struct mrap_s3_list_opts lo = {
        .prefix = s3_key, .delimiter = "/", .max_keys = RESOLVE_PAGE_KEYS};
    int rc = mrap_s3_list_objects(fs->s3, &lo, &pg, NULL);
    if (rc)
        goto out;
    bool is_dir = false, dir_known = !pg.truncated;
    const struct mrap_s3_list_entry *file = NULL;
    for (size_t i = 0; i < pg.n_prefixes; i++) {
        int c = strcmp(pg.prefixes[i], dir);
        is_dir |= c == 0;
        dir_known |= c >= 0;
    }
    for (size_t i = 0; i < pg.n_objects; i++) {
        if (strcmp(pg.objects[i].key, s3_key) == 0)
            file = &pg.objects[i];
        dir_known |= strcmp(pg.objects[i].key, dir) > 0;
    }
    if (!is_dir && !dir_known) {
        rc = resolve_dir(fs, s3_key);
        is_dir = rc == 0;
        if (rc && rc != -ENOENT)
            goto done; /* never guess "no directory" from a failed request */
    }
    rc = 0;
    if (is_dir) /* a directory wins over an object of the same name */
        mrap_fs_dir_attr(fs, attr);
    else if (file)
        mrap_fs_attr_from_entry(file, attr);
    else
        rc = -ENOENT;
done:
    mrap_s3_list_page_cleanup(&pg);
out:
    free(dir);
    free(s3_key);
    return rc;
}

/*
 * One LIST page (1,000 keys) of directory `dir` refreshes the attributes of the
 * files the table already knows there; see mrap_inode_claim_relist. Errors are
 * not reported: the per-name lookup that follows decides.
 */
static void relist_dir(struct mrap_fs *fs, uint64_t dir)
{
    struct mrap_inode_info di;
    struct mrap_s3_list_page pg;
    if (mrap_inode_get(fs->inodes, dir, &di) != 0)
        return;
    char *prefix = mrap_fs_s3_dir_prefix(fs, di.key);
    mrap_inode_info_cleanup(&di);
    struct mrap_s3_list_opts lo = {.prefix = prefix, .delimiter = "/", .max_keys = 1000};
    if (prefix && mrap_s3_list_objects(fs->s3, &lo, &pg, NULL) == 0) {
        size_t plen = strlen(prefix);
        for (size_t i = 0; i < pg.n_objects; i++) {
            const char *name = pg.objects[i].key + plen;
            if (!mrap_fs_name_valid(name, strlen(name)) || strchr(name, '/'))
                continue;
            struct mrap_inode_attr a;
            mrap_fs_attr_from_entry(&pg.objects[i], &a);
            mrap_inode_refresh_file(fs->inodes, dir, name, &a);
        }
        mrap_s3_list_page_cleanup(&pg);
    }
    free(prefix);
}

void mrap_fs_reply_errno(fuse_req_t req, int rc)
{
    fuse_reply_err(req, rc < 0 ? -rc : EIO);
}

static void mrap_fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct mrap_inode_info found;
    struct fuse_entry_param e;
    struct mrap_inode_attr attr;
    char *key = NULL;
    int rc;

    memset(&e, 0, sizeof(e));
    e.attr_timeout = e.entry_timeout = fs->cfg->metadata_ttl_s;
    if (!mrap_fs_name_valid(name, strlen(name))) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    bool fresh = mrap_inode_find_fresh(fs->inodes, parent, name, &found, 1) == 0;
    if (!fresh && mrap_inode_stale_file(fs->inodes, parent, name) &&
        mrap_inode_claim_relist(fs->inodes, parent)) {
        relist_dir(fs, parent);
        fresh = mrap_inode_find_fresh(fs->inodes, parent, name, &found, 1) == 0;
    }
    if (fresh) {
        mrap_fs_fill_stat(fs, found.ino, &found.attr, &e.attr);
        e.ino = found.ino;
        mrap_inode_info_cleanup(&found);
        fuse_reply_entry(req, &e);
        return;
    }
    rc = mrap_fs_child_key(fs, parent, name, &key);
    if (!rc)
        rc = resolve(fs, key, &attr);
    free(key);
    if (rc == -ENOENT) {
        mrap_inode_detach(fs->inodes, parent, name);
        /* ino 0 with a timeout is a negative entry: the kernel caches the miss. */
        fuse_reply_entry(req, &e);
        return;
    }
    if (rc) {
        mrap_fs_reply_errno(req, rc);
        return;
    }
    e.ino = mrap_inode_upsert(fs->inodes, parent, name, &attr, 1);
    if (!e.ino) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    mrap_fs_fill_stat(fs, e.ino, &attr, &e.attr);
    fuse_reply_entry(req, &e);
}

static void mrap_fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    mrap_inode_forget(fs->inodes, ino, nlookup);
    fuse_reply_none(req);
}

static void mrap_fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    for (size_t i = 0; i < count; i++)
        mrap_inode_forget(fs->inodes, forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
}

/* Refreshes a file inode's attributes when they are past the TTL. */
static int revalidate(struct mrap_fs *fs, struct mrap_inode_info *info)
{
    if (info->fresh || info->attr.is_dir)
        return 0;
    char *s3_key = mrap_fs_s3_key(fs, info->key);
    if (!s3_key)
        return -ENOMEM;
    struct mrap_inode_attr attr;
    int rc = resolve_file(fs, s3_key, &attr);
    free(s3_key);
    if (rc)
        return rc; /* -ENOENT: deleted remotely; the kernel will look the name up again */
    mrap_inode_set_attr(fs->inodes, info->ino, &attr);
    info->attr = attr;
    return 0;
}

static void mrap_fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct mrap_inode_info info;
    struct stat st;
    int rc = mrap_inode_get(fs->inodes, ino, &info);
    if (!rc)
        rc = revalidate(fs, &info);
    if (rc) {
        mrap_inode_info_cleanup(&info);
        mrap_fs_reply_errno(req, rc);
        return;
    }
    mrap_fs_fill_stat(fs, ino, &info.attr, &st);
    mrap_inode_info_cleanup(&info);
    fuse_reply_attr(req, &st, fs->cfg->metadata_ttl_s);
}

static void mrap_fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct mrap_inode_info info;
    struct mrap_open_file *fh = NULL;
    bool writer = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
    int rc;

    if (writer && fs->cfg->read_only) {
        fuse_reply_err(req, EROFS);
        return;
    }
    rc = mrap_inode_get(fs->inodes, ino, &info);
    if (rc) {
        mrap_fs_reply_errno(req, rc);
        return;
    }
    if (info.attr.is_dir) {
        rc = -EISDIR;
        goto out;
    }
    if (!(writer && (fi->flags & O_TRUNC))) /* a truncating writer needs no base */
        rc = revalidate(fs, &info);
    if (rc)
        goto out;
    /* a file being written that was never stored: nothing to read yet */
    struct stat shown;
    bool being_written = !writer && mrap_writers_stat(fs->writers, ino, &shown);
    if (being_written && !info.attr.etag[0]) {
        rc = -ENOENT;
        goto out;
    }
    fh = calloc(1, sizeof(*fh));
    if (!fh || !(fh->s3_key = mrap_fs_s3_key(fs, info.key))) {
        rc = -ENOMEM;
        goto out;
    }
    if (writer) {
        rc = mrap_fs_open_writer(fs, &info, fi, fh);
        if (rc)
            goto out;
        fi->fh = (uint64_t)(uintptr_t)fh;
        fh = NULL;
        goto out;
    }
    memcpy(fh->etag, info.attr.etag, sizeof(fh->etag));
    memcpy(fh->storage_class, info.attr.storage_class, sizeof(fh->storage_class));
    fh->size = info.attr.size;
    if ((rc = mrap_fs_reader_open(fs, fh)))
        goto out;
    /* The kernel may keep its page cache only when the ETag is the one the
     * previous open saw: same version, same bytes. */
    fi->keep_cache = mrap_inode_note_open(fs->inodes, ino, fh->etag);
    /* While the file is being written, the kernel's size for the inode is the
     * writer's (getattr shows the growing file), and a cached read would stop
     * there or fill the rest with zeros. Direct I/O sends every read here,
     * where it is served from the stored object up to its own size. */
    if (being_written) {
        fi->direct_io = 1;
        fi->keep_cache = 0;
    }
    fi->fh = (uint64_t)(uintptr_t)fh;
    fh = NULL;
out:
    mrap_inode_info_cleanup(&info);
    if (fh)
        free(fh->s3_key);
    free(fh);
    if (rc)
        mrap_fs_reply_errno(req, rc);
    else
        fuse_reply_open(req, fi);
}

static void mrap_fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                         struct fuse_file_info *fi)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct mrap_open_file *fh = (struct mrap_open_file *)(uintptr_t)fi->fh;
    struct mrap_s3_error err;
    size_t got = 0;

    if (fh->wr) {
        char *wbuf = malloc(size ? size : 1);
        int wrc =
            wbuf ? mrap_wfile_read(fh->wr, wbuf, size, off < 0 ? 0 : (uint64_t)off, &got) : -ENOMEM;
        if (wrc)
            mrap_fs_reply_errno(req, wrc);
        else
            fuse_reply_buf(req, wbuf, got);
        free(wbuf);
        return;
    }
    if (off < 0 || (uint64_t)off >= fh->size || size == 0) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    if (size > fh->size - (uint64_t)off)
        size = (size_t)(fh->size - (uint64_t)off);
    char *buf = malloc(size);
    if (!buf) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    memset(&err, 0, sizeof(err));
    int rc = fh->reader ? mrap_reader_read(fh->reader, (uint64_t)off, size, buf, &got)
                        : mrap_s3_get_range(fs->s3, fh->s3_key, (uint64_t)off, size, NULL, buf,
                                            &got, &err);
    if (rc == -ESTALE)
        mrap_log(MRAP_LOG_WARN, "fs",
                 "%s changed while open (ETag %s); reopen to read the new "
                 "version",
                 fh->s3_key, fh->etag);
    else if (rc == -ENODATA || (rc && strcmp(err.code, "InvalidObjectState") == 0))
        /* once per key: the kernel retries a failed read, tools read in loops */
        mrap_fs_warn_once(fs, fh->s3_key,
                          "is archived and not restored; reads fail with ENODATA until it is: "
                          "setfattr -n user.s3.restore -v 7 FILE starts a restore, "
                          "getfattr -n user.s3.restore FILE shows its progress");
    if (rc)
        mrap_fs_reply_errno(req, rc);
    else
        fuse_reply_buf(req, buf, got);
    free(buf);
}

static void mrap_fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct mrap_open_file *fh = (struct mrap_open_file *)(uintptr_t)fi->fh;
    if (fh) {
        mrap_wfile_release(fh->wr);
        mrap_fs_reader_close(fh); /* before s3_key: its fetches borrow it */
        free(fh->s3_key);
        free(fh);
    }
    fuse_reply_err(req, 0);
}

static void mrap_fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
    /* S3 has no capacity to report; like other S3 filesystems we answer with a
     * large constant so that tools checking free space proceed. */
    struct statvfs st;
    memset(&st, 0, sizeof(st));
    st.f_bsize = 4096;
    st.f_frsize = 4096;
    st.f_blocks = st.f_bfree = st.f_bavail = (1ULL << 50) / 4096; /* 1 PiB */
    st.f_files = st.f_ffree = st.f_favail = 1ULL << 32;
    st.f_namemax = 255;
    fuse_reply_statfs(req, &st);
}

static void mrap_fs_init_conn(void *userdata, struct fuse_conn_info *conn)
{
    /* Always readdirplus: `ls -l` then gets every attribute from the listing
     * instead of one lookup per entry. */
    if (conn->capable & FUSE_CAP_READDIRPLUS)
        conn->want |= FUSE_CAP_READDIRPLUS;
    conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
    /* O_TRUNC arrives with open, not as a separate truncate, so an overwrite
     * is one new upload from the start. Writes stay write-through (no
     * writeback cache): each write(2) reaches us in order and its errors
     * reach the writer. */
    if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
        conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
    conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
    /* Writes of up to 1 MiB per request (dd bs=1M arrives whole): libfuse's
     * receive buffer holds 256 pages and it offers that as max_write. Reads
     * come in the kernel's read-ahead units (128 KiB); streams are read ahead
     * here in 4 MiB spans instead. Splice is not asked for: replies come from
     * cache blocks in memory, where splicing would save no copy. */
    conn->max_write = 1024 * 1024;
    mrap_fs_readcache_start(userdata);
}

static const struct fuse_lowlevel_ops ops = {
    .init = mrap_fs_init_conn,
    .lookup = mrap_fs_lookup,
    .forget = mrap_fs_forget,
    .forget_multi = mrap_fs_forget_multi,
    .getattr = mrap_fs_getattr,
    .setattr = mrap_fs_setattr,
    .mknod = mrap_fs_mknod,
    .mkdir = mrap_fs_mkdir,
    .unlink = mrap_fs_unlink,
    .rmdir = mrap_fs_rmdir,
    .symlink = mrap_fs_symlink,
    .rename = mrap_fs_rename,
    .link = mrap_fs_link,
    .open = mrap_fs_open,
    .read = mrap_fs_read,
    .write = mrap_fs_write,
    .flush = mrap_fs_flush,
    .release = mrap_fs_release,
    .fsync = mrap_fs_fsync,
    .create = mrap_fs_create,
    .opendir = mrap_fs_opendir,
    .readdir = mrap_fs_readdir,
    .readdirplus = mrap_fs_readdirplus,
    .releasedir = mrap_fs_releasedir,
    .statfs = mrap_fs_statfs,
    .setxattr = mrap_fs_setxattr,
    .getxattr = mrap_fs_getxattr,
    .listxattr = mrap_fs_listxattr,
    .removexattr = mrap_fs_removexattr,
};

const struct fuse_lowlevel_ops *mrap_fs_lowlevel_ops(void)
{
    return &ops;
}
