/*
 * Directories: readdir and readdirplus stream a ListObjectsV2 listing (with
 * delimiter "/") one page at a time, so a directory of any size is listed in
 * memory proportional to one page (1,000 entries).
 *
 * Offsets: "." is position 0, ".." position 1, listing entry i is position
 * i + 2; the offset handed to the kernel with an entry is its position + 1.
 * A handle keeps only the current batch; a request for an earlier offset
 * (rewinddir, or telldir/seekdir backwards) restarts the listing from the
 * first page. The kernel serialises getdents on one open directory (the
 * file's f_pos lock), so a handle is never used by two threads at once and
 * needs no lock of its own.
 *
 * "Directory wins": S3 may hold both "a" (an object) and "a/..." (a prefix).
 * Lexical order puts "a" before "a/", possibly with other keys between them
 * ("a.txt", "a-1"), possibly on a later page. A file is therefore held back
 * ("pending") until the listing has moved past "name/" and so can no longer
 * produce the directory; if the prefix does appear, the file is dropped and
 * the conflict logged once. Pending names are bounded; at the bound the oldest
 * is released (a rare duplicate name beats unbounded memory).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "util/log.h"

#define PENDING_MAX 1024
#define DIR_PAGE_KEYS 1000

struct dir_entry {
    char *name;
    struct mrap_inode_attr attr;
};

struct dir_handle {
    uint64_t parent_ino; /* for ".." (glibc hides entries whose d_ino is 0) */
    char *prefix;       /* S3 prefix being listed: "" or "a/b/" (with the mount prefix) */
    char *token;        /* continuation token for the next page, NULL at the start */
    bool started, done; /* a page was fetched / the last page was fetched */
    struct dir_entry *batch;
    size_t n;
    off_t base; /* listing index of batch[0] */
    struct dir_entry pending[PENDING_MAX];
    size_t n_pending;
};

static void free_batch(struct dir_handle *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->batch[i].name);
    free(d->batch);
    d->batch = NULL;
    d->n = 0;
}

static void restart(struct dir_handle *d)
{
    free_batch(d);
    for (size_t i = 0; i < d->n_pending; i++)
        free(d->pending[i].name);
    d->n_pending = 0;
    free(d->token);
    d->token = NULL;
    d->started = d->done = false;
    d->base = 0;
}

static int emit(struct dir_entry **out, size_t *n, size_t *cap, char *name,
                const struct mrap_inode_attr *attr)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct dir_entry *p = realloc(*out, ncap * sizeof(**out));
        if (!p) {
            free(name);
            return -ENOMEM;
        }
        *out = p;
        *cap = ncap;
    }
    (*out)[*n].name = name;
    (*out)[*n].attr = *attr;
    (*n)++;
    return 0;
}

/* Releases pending files whose "name/" sorts before `upto` (all when NULL). */
static int release_pending(struct dir_handle *d, const char *upto, struct dir_entry **out,
                           size_t *n, size_t *cap)
{
    size_t plen = strlen(d->prefix);
    for (size_t i = 0; i < d->n_pending;) {
        bool release = !upto;
        if (upto) {
            /* compare prefix + name + "/" with upto without building the string */
            const char *name = d->pending[i].name;
            size_t nlen = strlen(name);
            int c = strncmp(upto, d->prefix, plen);
            if (c == 0)
                c = strncmp(upto + plen, name, nlen);
            if (c == 0)
                c = (unsigned char)upto[plen + nlen] - (unsigned char)'/';
            release = c > 0;
        }
        if (!release) {
            i++;
            continue;
        }
        int rc = emit(out, n, cap, d->pending[i].name, &d->pending[i].attr);
        d->pending[i] = d->pending[--d->n_pending];
        if (rc)
            return rc;
    }
    return 0;
}

static int add_pending(struct dir_handle *d, char *name, const struct mrap_inode_attr *attr,
                       struct dir_entry **out, size_t *n, size_t *cap)
{
    if (d->n_pending == PENDING_MAX) {
        int rc = emit(out, n, cap, d->pending[0].name, &d->pending[0].attr);
        d->pending[0] = d->pending[--d->n_pending];
        if (rc) {
            free(name);
            return rc;
        }
    }
    d->pending[d->n_pending].name = name;
    d->pending[d->n_pending].attr = *attr;
    d->n_pending++;
    return 0;
}

/* A directory "name" appeared: drop a pending file of the same name. */
static void drop_shadowed(struct mrap_fs *fs, struct dir_handle *d, const char *name,
                          const char *full_prefix)
{
    for (size_t i = 0; i < d->n_pending; i++) {
        if (strcmp(d->pending[i].name, name) == 0) {
            mrap_fs_warn_once(fs, full_prefix,
                              "an object and a directory share this name; showing the "
                              "directory (the object is reachable only through S3)");
            free(d->pending[i].name);
            d->pending[i] = d->pending[--d->n_pending];
            return;
        }
    }
}

/* Turns one listing page into the next batch of entries. */
static int consume_page(struct mrap_fs *fs, struct dir_handle *d, struct mrap_s3_list_page *pg)
{
    struct dir_entry *out = NULL;
    size_t n = 0, cap = 0;
    size_t plen = strlen(d->prefix);
    size_t io = 0, ip = 0;
    int rc = 0;

    /* Merge objects and prefixes in key order, as S3 sorted them. */
    while (!rc && (io < pg->n_objects || ip < pg->n_prefixes)) {
        bool take_obj = ip >= pg->n_prefixes ||
                        (io < pg->n_objects && strcmp(pg->objects[io].key, pg->prefixes[ip]) < 0);
        const char *full = take_obj ? pg->objects[io].key : pg->prefixes[ip];
        if (strncmp(full, d->prefix, plen) != 0) {
            rc = -EPROTO; /* the server answered for another prefix */
            break;
        }
        const char *rel = full + plen;
        size_t rlen = strlen(rel) - (take_obj ? 0 : 1); /* prefixes end with '/' */
        rc = release_pending(d, full, &out, &n, &cap);
        if (rc)
            break;
        if (take_obj && rlen == 0) {
            /* "dir/" marker object: it makes the directory exist, it is not an entry */
        } else if (!mrap_fs_name_valid(rel, rlen)) {
            mrap_fs_warn_once(fs, full,
                              rlen == 0 ? "empty path segment; skipped"
                              : rlen > 255 ? "name longer than 255 bytes; skipped"
                                           : "\".\" or \"..\" cannot be a file name; skipped");
        } else {
            char *name = strndup(rel, rlen);
            struct mrap_inode_attr attr;
            if (!name) {
                rc = -ENOMEM;
                break;
            }
            if (take_obj) {
                mrap_fs_attr_from_entry(&pg->objects[io], &attr);
                rc = add_pending(d, name, &attr, &out, &n, &cap);
            } else {
                drop_shadowed(fs, d, name, full);
                mrap_fs_dir_attr(fs, &attr);
                rc = emit(&out, &n, &cap, name, &attr);
            }
        }
        if (take_obj)
            io++;
        else
            ip++;
    }
    if (!rc && !pg->truncated)
        rc = release_pending(d, NULL, &out, &n, &cap);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(out[i].name);
        free(out);
        return rc;
    }
    free_batch(d);
    d->batch = out;
    d->n = n;
    return 0;
}

/* Fetches pages until one yields entries or the listing ends. */
static int next_batch(struct mrap_fs *fs, struct dir_handle *d)
{
    off_t next_base = d->base + (off_t)d->n;
    free_batch(d);
    d->base = next_base;
    /* A page may yield nothing (all skipped or pending); bounded by the listing's length. */
    while (!d->done) {
        struct mrap_s3_list_page pg;
        struct mrap_s3_list_opts lo = {.prefix = d->prefix,
                                       .delimiter = "/",
                                       .continuation_token = d->token,
                                       .max_keys = DIR_PAGE_KEYS};
        int rc = mrap_s3_list_objects(fs->s3, &lo, &pg, NULL);
        if (rc)
            return rc;
        d->started = true;
        free(d->token);
        d->token = pg.truncated ? pg.next_token : NULL;
        if (pg.truncated)
            pg.next_token = NULL;
        d->done = !pg.truncated;
        rc = consume_page(fs, d, &pg);
        mrap_s3_list_page_cleanup(&pg);
        if (rc)
            return rc;
        if (d->n)
            return 0;
    }
    return 0;
}

void mrap_fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct mrap_inode_info info;
    int rc = mrap_inode_get(fs->inodes, ino, &info);
    if (rc) {
        fuse_reply_err(req, -rc);
        return;
    }
    if (!info.attr.is_dir) {
        mrap_inode_info_cleanup(&info);
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    struct dir_handle *d = calloc(1, sizeof(*d));
    if (d) {
        d->prefix = mrap_fs_s3_dir_prefix(fs, info.key);
        d->parent_ino = info.parent;
    }
    mrap_inode_info_cleanup(&info);
    if (!d || !d->prefix) {
        free(d);
        fuse_reply_err(req, ENOMEM);
        return;
    }
    fi->fh = (uint64_t)(uintptr_t)d;
    /* Listings change remotely; never let the kernel cache them across opens. */
    fi->cache_readdir = 0;
    fuse_reply_open(req, fi);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi, bool plus)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
    char *buf = calloc(1, size);
    size_t used = 0;
    int rc = 0;
    if (!buf) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    double ttl = fs->cfg->metadata_ttl_s;
    for (off_t pos = off;; pos++) {
        const char *name;
        struct fuse_entry_param e;
        memset(&e, 0, sizeof(e));
        bool is_dot = pos < 2;
        struct dir_entry *ent = NULL;
        if (is_dot) {
            name = pos == 0 ? "." : "..";
            e.attr.st_ino = pos == 0 ? ino : d->parent_ino;
            e.attr.st_mode = S_IFDIR;
        } else {
            off_t idx = pos - 2;
            if (idx < d->base)
                restart(d);
            while (idx >= d->base + (off_t)d->n && !(d->done && d->started)) {
                rc = next_batch(fs, d);
                if (rc)
                    goto out;
                if (d->n == 0)
                    break;
            }
            if (idx < d->base || idx >= d->base + (off_t)d->n)
                break; /* end of the directory */
            ent = &d->batch[idx - d->base];
            name = ent->name;
        }
        size_t need = plus ? fuse_add_direntry_plus(req, NULL, 0, name, NULL, 0)
                           : fuse_add_direntry(req, NULL, 0, name, NULL, 0);
        if (used + need > size)
            break;
        if (ent) {
            uint64_t child = 0;
            if (plus) {
                child = mrap_inode_upsert(fs->inodes, ino, ent->name, &ent->attr, 1);
                if (!child) {
                    rc = -ENOMEM;
                    goto out;
                }
                e.ino = child;
                e.attr_timeout = ttl;
                e.entry_timeout = ttl;
            }
            mrap_fs_fill_stat(fs, child, &ent->attr, &e.attr);
            if (!plus)
                e.attr.st_ino = 0xffffffff; /* "unknown", as libfuse's high-level API says it */
        }
        if (plus)
            used += fuse_add_direntry_plus(req, buf + used, size - used, name, &e, pos + 1);
        else
            used += fuse_add_direntry(req, buf + used, size - used, name, &e.attr, pos + 1);
    }
out:
    /* An error after some entries were filled still returns those entries; the
     * next call asks for the same position again and reports the error then. */
    if (rc && used == 0) {
        fuse_reply_err(req, rc == -ENOENT ? EIO : -rc);
    } else {
        fuse_reply_buf(req, buf, used);
    }
    free(buf);
}

void mrap_fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    do_readdir(req, ino, size, off, fi, false);
}

void mrap_fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                         struct fuse_file_info *fi)
{
    do_readdir(req, ino, size, off, fi, true);
}

void mrap_fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
    if (d) {
        restart(d);
        free(d->prefix);
        free(d);
    }
    fuse_reply_err(req, 0);
}
