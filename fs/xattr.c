/*
 * The xattr callbacks: getxattr, listxattr, setxattr, removexattr.
 *
 * Files show their object's S3 metadata under user.s3.* (see fs/xattr.h for
 * the names; fs/xattr_values.c renders them, fs/xattr_set.c changes them).
 * The mount root shows the access point under user.mrap.*: arn, alias and
 * the live routes (S3 Control's GetMultiRegionAccessPointRoutes, which needs
 * the account id: only a mount by ARN has it).
 *
 * Directories other than the root are key prefixes, not objects: they have no
 * S3 attributes. getxattr there is ENODATA, listxattr is empty, and setting
 * or removing a user.s3.* name is ENOTSUP ("this file cannot carry it").
 *
 * A file being written that was never stored has no object yet: ENODATA on
 * read, and any change is EBUSY until it is closed (a tag put now would be
 * replaced by the upload's own metadata).
 *
 * Names outside our namespaces (user.foo, security.*, trusted.*) do not
 * exist: ENODATA on get, ENOTSUP on set (cp -a and rsync -X treat that as
 * "not supported here" and carry on), ENODATA on remove. Read-only names
 * (etag, storage class, content type, last modified, meta.*) refuse changes
 * with EPERM, never a silent success.
 *
 * Sizes follow getxattr(2): size 0 asks for the length, a buffer too small is
 * ERANGE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/writers.h"
#include "fs/xattr.h"
#include "s3/control.h"
#include "util/log.h"

/* The object behind an inode, as far as xattrs care. */
struct target {
    bool root;
    bool dir;
    bool unstored; /* being written, no object yet */
    bool writing;
    char *s3_key; /* heap; files only */
    char etag[MRAP_S3_ETAG_MAX];
};

static int target_get(struct mrap_fs *fs, fuse_ino_t ino, struct target *t)
{
    struct mrap_inode_info info;
    struct stat st;
    memset(t, 0, sizeof(*t));
    int rc = mrap_inode_get(fs->inodes, ino, &info);
    if (rc)
        return rc;
    t->root = ino == MRAP_ROOT_INO;
    t->dir = info.attr.is_dir;
    if (!t->dir) {
        t->writing = fs->writers && mrap_writers_stat(fs->writers, ino, &st);
        t->unstored = t->writing && !info.attr.etag[0];
        memcpy(t->etag, info.attr.etag, sizeof(t->etag));
        if (!(t->s3_key = mrap_fs_s3_key(fs, info.key)))
            rc = -ENOMEM;
    }
    mrap_inode_info_cleanup(&info);
    return rc;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void reply_value(fuse_req_t req, const char *v, size_t len, size_t size)
{
    if (size == 0)
        fuse_reply_xattr(req, len);
    else if (len > size)
        fuse_reply_err(req, ERANGE);
    else
        fuse_reply_buf(req, v, len);
}

/* ---- the root ---- */

static bool routes_available(struct mrap_fs *fs)
{
    if (fs->control)
        return true;
    /* With an account but no client, main has said why already. */
    if (fs->cfg->target == MRAP_S3_TARGET_MRAP && !fs->cfg->account_id &&
        !atomic_exchange(&fs->routes_hint_logged, true))
        mrap_log(MRAP_LOG_WARN, "xattr",
                 "user.mrap.routes needs the account id, which an alias does not carry: "
                 "mount by ARN (arn:aws:s3::ACCOUNT:accesspoint/%s) to read routes",
                 fs->cfg->name);
    return false;
}

/* The root's values: 0 with *out filled, or -ENODATA / a request's errno. */
static int root_value(struct mrap_fs *fs, const char *name, struct mrap_xattr_set *out)
{
    const struct mrap_fs_config *cfg = fs->cfg;
    char arn[256];
    memset(out, 0, sizeof(*out));
    if (cfg->target != MRAP_S3_TARGET_MRAP)
        return -ENODATA; /* a plain bucket has no access point */
    if (strcmp(name, MRAP_XATTR_MRAP_ALIAS) == 0)
        return mrap_xattr_set_add(out, name, cfg->name, strlen(cfg->name));
    if (strcmp(name, MRAP_XATTR_MRAP_ARN) == 0) {
        if (!cfg->account_id ||
            mrap_s3_control_make_arn(cfg->account_id, cfg->name, arn, sizeof(arn)))
            return -ENODATA;
        return mrap_xattr_set_add(out, name, arn, strlen(arn));
    }
    if (strcmp(name, MRAP_XATTR_MRAP_ROUTES) == 0)
        return routes_available(fs) ? mrap_xattr_part_get(fs, "", MRAP_XATTR_PART_ROUTES, NULL, out)
                                    : -ENODATA;
    return -ENODATA;
}

/* ---- getxattr ---- */

/* Looks `name` up in one part; -ENODATA when the part does not have it. */
static int lookup_in(struct mrap_fs *fs, const struct target *t, enum mrap_xattr_part part,
                     const char *name, struct mrap_xattr_set *out)
{
    int rc = mrap_xattr_part_get(fs, t->s3_key, part, t->etag, out);
    if (!rc && !mrap_xattr_set_find(out, name))
        rc = -ENODATA;
    return rc;
}

static bool known_object_name(const char *name)
{
    static const char *const fixed[] = {MRAP_XATTR_ETAG,  MRAP_XATTR_CLASS,     MRAP_XATTR_CTYPE,
                                        MRAP_XATTR_MTIME, MRAP_XATTR_RETENTION, MRAP_XATTR_HOLD,
                                        MRAP_XATTR_ACL,   MRAP_XATTR_RESTORE};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(name, fixed[i]) == 0)
            return true;
    return has_prefix(name, MRAP_XATTR_TAG_PREFIX) || has_prefix(name, MRAP_XATTR_META_PREFIX);
}

static int object_value(struct mrap_fs *fs, const struct target *t, const char *name,
                        struct mrap_xattr_set *out)
{
    int rc;
    memset(out, 0, sizeof(*out));
    if (!known_object_name(name) || t->unstored)
        return -ENODATA;
    if (has_prefix(name, MRAP_XATTR_TAG_PREFIX))
        return lookup_in(fs, t, MRAP_XATTR_PART_TAGS, name, out);
    if (strcmp(name, MRAP_XATTR_ACL) == 0)
        return lookup_in(fs, t, MRAP_XATTR_PART_ACL, name, out);
    rc = lookup_in(fs, t, MRAP_XATTR_PART_HEAD, name, out);
    /* HeadObject reports Object Lock settings only to callers allowed to read
     * them; ask the dedicated operation before saying "not set". */
    bool retention = strcmp(name, MRAP_XATTR_RETENTION) == 0;
    if (rc == -ENODATA && (retention || strcmp(name, MRAP_XATTR_HOLD) == 0)) {
        mrap_xattr_set_cleanup(out);
        rc = lookup_in(fs, t, retention ? MRAP_XATTR_PART_RETENTION : MRAP_XATTR_PART_HOLD, name,
                       out);
    }
    return rc;
}

void mrap_fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct mrap_xattr_set vals;
    struct target t;
    memset(&vals, 0, sizeof(vals));
    /* The kernel asks for security.capability before every write: answer
     * names we never serve without touching the inode table. */
    if (!has_prefix(name, MRAP_XATTR_S3_PREFIX) && !has_prefix(name, "user.mrap.")) {
        fuse_reply_err(req, ENODATA);
        return;
    }
    int rc = target_get(fs, ino, &t);
    if (!rc) {
        if (t.root)
            rc = root_value(fs, name, &vals);
        else if (t.dir)
            rc = -ENODATA;
        else
            rc = object_value(fs, &t, name, &vals);
    }
    const struct mrap_xattr_pair *p = rc ? NULL : mrap_xattr_set_find(&vals, name);
    if (p)
        reply_value(req, p->value, p->len, size);
    else
        mrap_fs_reply_errno(req, rc ? rc : -ENODATA);
    mrap_xattr_set_cleanup(&vals);
    free(t.s3_key);
}

/* ---- listxattr ---- */

struct names {
    char *buf;
    size_t len;
};

static int names_add(struct names *n, const char *name)
{
    size_t add = strlen(name) + 1;
    char *b = realloc(n->buf, n->len + add);
    if (!b)
        return -ENOMEM;
    memcpy(b + n->len, name, add);
    n->buf = b;
    n->len += add;
    return 0;
}

static int names_from(struct names *n, const struct mrap_xattr_set *s)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < s->n; i++)
        rc = names_add(n, s->v[i].name);
    return rc;
}

static int object_names(struct mrap_fs *fs, const struct target *t, struct names *n)
{
    struct mrap_xattr_set head, tags;
    int rc = mrap_xattr_part_get(fs, t->s3_key, MRAP_XATTR_PART_HEAD, t->etag, &head);
    if (rc)
        return rc;
    rc = mrap_xattr_part_get(fs, t->s3_key, MRAP_XATTR_PART_TAGS, NULL, &tags);
    if (!rc)
        rc = names_from(n, &head);
    if (!rc)
        rc = names_from(n, &tags);
    if (!rc) /* every object has an ACL; fetched when read */
        rc = names_add(n, MRAP_XATTR_ACL);
    mrap_xattr_set_cleanup(&head);
    mrap_xattr_set_cleanup(&tags);
    return rc;
}

static int root_names(struct mrap_fs *fs, struct names *n)
{
    if (fs->cfg->target != MRAP_S3_TARGET_MRAP)
        return 0;
    int rc = names_add(n, MRAP_XATTR_MRAP_ALIAS);
    if (!rc && fs->cfg->account_id)
        rc = names_add(n, MRAP_XATTR_MRAP_ARN);
    if (!rc && fs->control)
        rc = names_add(n, MRAP_XATTR_MRAP_ROUTES);
    return rc;
}

void mrap_fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct names n = {NULL, 0};
    struct target t;
    int rc = target_get(fs, ino, &t);
    if (!rc) {
        if (t.root)
            rc = root_names(fs, &n);
        else if (!t.dir && !t.unstored)
            rc = object_names(fs, &t, &n);
    }
    if (rc)
        mrap_fs_reply_errno(req, rc);
    else
        reply_value(req, n.buf, n.len, size);
    free(n.buf);
    free(t.s3_key);
}

/* ---- setxattr / removexattr ---- */

static int change(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
                  bool remove, int flags)
{
    struct mrap_fs *fs = fuse_req_userdata(req);
    struct target t;
    bool ours = has_prefix(name, MRAP_XATTR_S3_PREFIX);
    int rc = target_get(fs, ino, &t);
    if (rc)
        goto out;
    if (t.root &&
        (strcmp(name, MRAP_XATTR_MRAP_ARN) == 0 || strcmp(name, MRAP_XATTR_MRAP_ALIAS) == 0 ||
         strcmp(name, MRAP_XATTR_MRAP_ROUTES) == 0)) {
        rc = -EPERM; /* read-only: routes change with mrapctl submit-routes / failover */
    } else if (!ours || t.dir) {
        rc = remove ? (t.dir && ours ? -ENOTSUP : -ENODATA) : -ENOTSUP;
    } else if (fs->cfg->read_only) {
        rc = -EROFS;
    } else if (t.writing) {
        rc = -EBUSY;
    } else {
        rc = mrap_xattr_change(fs, t.s3_key, name, value, size, remove, flags);
    }
out:
    free(t.s3_key);
    return rc;
}

void mrap_fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                      size_t size, int flags)
{
    int rc = change(req, ino, name, value, size, false, flags);
    fuse_reply_err(req, rc < 0 ? -rc : rc);
}

void mrap_fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    int rc = change(req, ino, name, NULL, 0, true, 0);
    fuse_reply_err(req, rc < 0 ? -rc : rc);
}
