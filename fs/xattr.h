/*
 * Object metadata as extended attributes: the contract between the FUSE
 * callbacks (fs/xattr.c), the per-mount cache of rendered values
 * (fs/xattr_cache.c) and the S3 <-> text conversions (fs/xattr_values.c).
 *
 * An object's attributes come from several S3 requests (HeadObject, tagging,
 * ACL, retention, legal hold); each is one "part" of the cache, fetched when a
 * name needs it, rendered at once into (xattr name, value) pairs and kept for
 * the metadata TTL. A set drops the parts it changes, so the next read asks S3
 * again. The mount root's routes are a part too, cached under the key "".
 *
 * Thread-safety: the cache locks internally and hands out copies; nothing
 * holds its lock across network I/O (a fetch happens between a miss and the
 * store, and two threads missing at once both fetch: the later store wins).
 */
#ifndef MRAP_FS_XATTR_H
#define MRAP_FS_XATTR_H

#include <stdbool.h>
#include <stddef.h>

#include "fs/fs.h"
#include "s3/attrs.h"

/* The names we serve. */
#define MRAP_XATTR_S3_PREFIX   "user.s3."
#define MRAP_XATTR_TAG_PREFIX  "user.s3.tag."
#define MRAP_XATTR_META_PREFIX "user.s3.meta."
#define MRAP_XATTR_ETAG        "user.s3.etag"
#define MRAP_XATTR_CLASS       "user.s3.storage-class"
#define MRAP_XATTR_CTYPE       "user.s3.content-type"
#define MRAP_XATTR_MTIME       "user.s3.last-modified"
#define MRAP_XATTR_RETENTION   "user.s3.retention"
#define MRAP_XATTR_HOLD        "user.s3.legal-hold"
#define MRAP_XATTR_ACL         "user.s3.acl"
#define MRAP_XATTR_RESTORE     "user.s3.restore"
#define MRAP_XATTR_MRAP_ARN    "user.mrap.arn"
#define MRAP_XATTR_MRAP_ALIAS  "user.mrap.alias"
#define MRAP_XATTR_MRAP_ROUTES "user.mrap.routes"

/* The Linux limit for one value (XATTR_SIZE_MAX); nothing we render exceeds it. */
#define MRAP_XATTR_VALUE_MAX 65536u

enum mrap_xattr_part {
    MRAP_XATTR_PART_HEAD = 0,  /* HeadObject: etag, class, type, times, meta, restore, lock */
    MRAP_XATTR_PART_TAGS,      /* GetObjectTagging */
    MRAP_XATTR_PART_ACL,       /* GetObjectAcl */
    MRAP_XATTR_PART_RETENTION, /* GetObjectRetention (when HEAD does not report it) */
    MRAP_XATTR_PART_HOLD,      /* GetObjectLegalHold (when HEAD does not report it) */
    MRAP_XATTR_PART_ROUTES,    /* GetMultiRegionAccessPointRoutes (root only) */
    MRAP_XATTR_N_PARTS
};

struct mrap_xattr_pair {
    char *name;  /* the full xattr name, e.g. "user.s3.tag.project" */
    char *value; /* not NUL-terminated for the caller's purposes; len bytes */
    size_t len;
};

/* A part's rendered values. etag: the object's ETag when the part was
 * fetched (HEAD only; "" otherwise), to notice an object replaced through
 * the mount before the TTL runs out. */
struct mrap_xattr_set {
    struct mrap_xattr_pair *v; /* owned */
    size_t n;
    char etag[MRAP_S3_ETAG_MAX];
};

void mrap_xattr_set_cleanup(struct mrap_xattr_set *s); /* accepts a zeroed set */
/* Appends a copy of (name, value[0..len)). 0 or -ENOMEM. */
int mrap_xattr_set_add(struct mrap_xattr_set *s, const char *name, const char *value, size_t len);
/* The pair named `name`, or NULL. */
const struct mrap_xattr_pair *mrap_xattr_set_find(const struct mrap_xattr_set *s, const char *name);

/* ---- the cache (fs/xattr_cache.c) ---- */

struct mrap_xattr_cache;

/* At most max_entries keys are kept (the oldest go first). 0 or -ENOMEM. */
int mrap_xattr_cache_new(double ttl_s, size_t max_entries, struct mrap_xattr_cache **out);
void mrap_xattr_cache_destroy(struct mrap_xattr_cache *c); /* accepts NULL */
/* Drops one part of key, or every part when part is MRAP_XATTR_N_PARTS. */
void mrap_xattr_cache_drop(struct mrap_xattr_cache *c, const char *key, enum mrap_xattr_part part);

/*
 * The values of `part` for S3 key `key` (a copy in *out, cleaned up by the
 * caller): from the cache while fresh, else fetched from S3 and stored.
 * etag (may be NULL or ""): the ETag the inode shows; a cached HEAD part of
 * another ETag counts as stale. 0 or the fetch's negative errno.
 */
int mrap_xattr_part_get(struct mrap_fs *fs, const char *key, enum mrap_xattr_part part,
                        const char *etag, struct mrap_xattr_set *out);

/* ---- S3 requests rendered as xattrs (fs/xattr_values.c) ---- */

/* Fetches one part from S3 and renders it. "Not set" (no retention, no legal
 * hold, no tags) is 0 with an empty set. 0 or a negative errno. */
int mrap_xattr_fetch(struct mrap_fs *fs, const char *key, enum mrap_xattr_part part,
                     struct mrap_xattr_set *out);

/* A value given to setxattr as a C string: at most max bytes, no NUL inside,
 * one trailing newline dropped (echo-style input). Heap string in *out.
 * 0, -EINVAL (NUL inside), -E2BIG (too long) or -ENOMEM. */
int mrap_xattr_value_str(const char *value, size_t size, size_t max, char **out);
/* "<days>[,Standard|Bulk|Expedited]" -> days and tier (Standard by default).
 * 0 or -EINVAL. */
int mrap_xattr_parse_restore(const char *s, unsigned *days, enum mrap_s3_restore_tier *tier);
/* "ON" | "OFF" (any case). 0 or -EINVAL. */
int mrap_xattr_parse_hold(const char *s, bool *on);

/* ---- changes (fs/xattr_set.c) ---- */

/*
 * setxattr (remove false: value[0..size), flags XATTR_CREATE/XATTR_REPLACE)
 * or removexattr of `name` (in user.s3.) on the object at S3 key `key`.
 * Drops the key's cached values afterwards. 0; -EPERM (a read-only name, or
 * refused by Object Lock); -ENOTSUP (a name we do not serve); -ENODATA
 * (removing what is not set, XATTR_REPLACE of an absent tag); -EEXIST
 * (XATTR_CREATE of a present tag); -EINVAL / -E2BIG (a value S3 would refuse);
 * or the request's negative errno.
 */
int mrap_xattr_change(struct mrap_fs *fs, const char *key, const char *name, const char *value,
                      size_t size, bool remove, int flags);

/* ---- FUSE callbacks (fs/xattr.c) ---- */

void mrap_fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void mrap_fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void mrap_fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                      size_t size, int flags);
void mrap_fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

#endif
