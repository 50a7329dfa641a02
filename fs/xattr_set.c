/*
 * setxattr / removexattr of an object's writable attributes: each becomes
 * the S3 request that changes it.
 *
 *   user.s3.tag.<Key>   read-modify-write of the whole tag set (S3 has no
 *                       per-tag operation); the last tag removed deletes the
 *                       set. XATTR_CREATE / XATTR_REPLACE are honoured.
 *   user.s3.retention   PutObjectRetention. Weakening a GOVERNANCE retention
 *                       (shorter, or removed) is sent with the bypass header
 *                       only when the mount allows it (--allow-retention-bypass).
 *   user.s3.legal-hold  PutObjectLegalHold; removing it sets OFF.
 *   user.s3.acl         PutObjectAcl with a canned ACL.
 *   user.s3.restore     RestoreObject.
 *
 * The values are checked against S3's rules before anything is sent, so a
 * typo is a local EINVAL/E2BIG. A refusal from S3 is logged with its message
 * (the errno alone cannot say "COMPLIANCE retention until 2031"). S3 answers a
 * refused retention change with a plain AccessDenied (-EACCES from the
 * library); when we asked to weaken a lock, that refusal is the lock's: EPERM.
 *
 * The tag read-modify-write is not atomic against another client changing
 * tags between our GET and PUT: S3 offers no conditional tagging request. It
 * is atomic against other xattr calls of this mount for the same file only as
 * far as FUSE serialises them, which it does not; concurrent tag edits of one
 * file through one mount can lose an update, as with any S3 client.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "fs/xattr.h"
#include "util/log.h"

/* Longest text value we accept for the fixed names (retention, ACL, ...). */
#define SHORT_VALUE_MAX 256u

static void log_refusal(const char *key, const char *name, int rc, const struct mrap_s3_error *err,
                        const char *hint)
{
    char msg[600];
    if (!err->http_status && !err->transport_errno)
        return; /* refused locally: the errno says it all */
    mrap_s3_error_format(err, msg, sizeof(msg));
    mrap_log(MRAP_LOG_WARN, "xattr", "setting %s on \"%s\" failed (%s): %s%s", name, key,
             strerror(-rc), msg, hint ? hint : "");
}

static int find_tag(const struct mrap_s3_tagset *t, const char *k)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].key, k) == 0)
            return (int)i;
    return -1;
}

/* value NULL: remove the tag. */
static int change_tag(struct mrap_fs *fs, const char *key, const char *name, const char *tag_key,
                      const char *value, int flags)
{
    struct mrap_s3_tagset t = {NULL, 0};
    struct mrap_s3_error err;
    memset(&err, 0, sizeof(err));
    int rc = value ? mrap_s3_tag_check(tag_key, value) : 0;
    if (rc)
        return rc;
    rc = mrap_s3_get_tagging(fs->s3, key, &t, &err);
    if (rc == -ENODATA)
        rc = 0;
    if (rc) {
        log_refusal(key, name, rc, &err, NULL);
        goto out;
    }
    int i = find_tag(&t, tag_key);
    if (!value) {
        if (i < 0) {
            rc = -ENODATA;
            goto out;
        }
        free(t.v[i].key);
        free(t.v[i].value);
        t.v[i] = t.v[t.n - 1];
        t.n--;
    } else if (i >= 0) {
        if (flags & XATTR_CREATE) {
            rc = -EEXIST;
            goto out;
        }
        char *v = strdup(value);
        if (!v) {
            rc = -ENOMEM;
            goto out;
        }
        free(t.v[i].value);
        t.v[i].value = v;
    } else {
        if (flags & XATTR_REPLACE) {
            rc = -ENODATA;
            goto out;
        }
        if (t.n >= MRAP_S3_TAGS_MAX) {
            rc = -E2BIG;
            goto out;
        }
        struct mrap_s3_tag *nv = realloc(t.v, (t.n + 1) * sizeof(*nv));
        if (!nv) {
            rc = -ENOMEM;
            goto out;
        }
        t.v = nv;
        nv[t.n].key = strdup(tag_key);
        nv[t.n].value = strdup(value);
        t.n++;
        if (!nv[t.n - 1].key || !nv[t.n - 1].value) {
            rc = -ENOMEM;
            goto out;
        }
    }
    rc = mrap_s3_tags_check(t.v, t.n);
    if (rc)
        goto out;
    memset(&err, 0, sizeof(err));
    rc = t.n ? mrap_s3_put_tagging(fs->s3, key, t.v, t.n, &err)
             : mrap_s3_delete_tagging(fs->s3, key, &err);
    if (rc)
        log_refusal(key, name, rc, &err, NULL);
out:
    mrap_s3_tagset_cleanup(&t);
    return rc;
}

/* text NULL: remove the retention. */
static int change_retention(struct mrap_fs *fs, const char *key, const char *text)
{
    struct mrap_s3_retention want = {MRAP_S3_LOCK_NONE, 0}, cur = {MRAP_S3_LOCK_NONE, 0};
    struct mrap_s3_error err;
    memset(&err, 0, sizeof(err));
    int rc = text ? mrap_s3_retention_from_text(text, &want) : 0;
    if (rc)
        return rc;
    /* Whether this weakens a lock decides the bypass header and the errno. */
    rc = mrap_s3_get_retention(fs->s3, key, &cur, &err);
    if (rc == -ENODATA) {
        if (!text)
            return -ENODATA;
        cur.mode = MRAP_S3_LOCK_NONE;
        rc = 0;
    }
    if (rc) {
        log_refusal(key, MRAP_XATTR_RETENTION, rc, &err, NULL);
        return rc;
    }
    bool weaken = cur.mode != MRAP_S3_LOCK_NONE &&
                  (want.mode == MRAP_S3_LOCK_NONE || want.until < cur.until ||
                   (cur.mode == MRAP_S3_LOCK_COMPLIANCE && want.mode == MRAP_S3_LOCK_GOVERNANCE));
    bool bypass = weaken && cur.mode == MRAP_S3_LOCK_GOVERNANCE && fs->cfg->allow_retention_bypass;
    memset(&err, 0, sizeof(err));
    rc = mrap_s3_put_retention(fs->s3, key, &want, bypass, &err);
    if (rc == -EACCES && weaken)
        rc = -EPERM;
    if (rc) {
        const char *hint = weaken && cur.mode == MRAP_S3_LOCK_GOVERNANCE && !bypass
                               ? " (shortening or removing a GOVERNANCE retention needs the "
                                 "mount option --allow-retention-bypass)"
                               : NULL;
        log_refusal(key, MRAP_XATTR_RETENTION, rc, &err, hint);
    }
    return rc;
}

static int change_hold(struct mrap_fs *fs, const char *key, const char *text)
{
    bool on = false;
    struct mrap_s3_error err;
    memset(&err, 0, sizeof(err));
    int rc = text ? mrap_xattr_parse_hold(text, &on) : 0;
    if (!rc)
        rc = mrap_s3_put_legal_hold(fs->s3, key, on, &err);
    if (rc)
        log_refusal(key, MRAP_XATTR_HOLD, rc, &err, NULL);
    return rc;
}

static int change_acl(struct mrap_fs *fs, const char *key, const char *text)
{
    struct mrap_s3_error err;
    memset(&err, 0, sizeof(err));
    if (!mrap_s3_canned_acl_valid(text))
        return -EINVAL;
    int rc = mrap_s3_put_canned_acl(fs->s3, key, text, &err);
    if (rc)
        log_refusal(key, MRAP_XATTR_ACL, rc, &err, NULL);
    return rc;
}

static int start_restore(struct mrap_fs *fs, const char *key, const char *text)
{
    unsigned days = 0;
    enum mrap_s3_restore_tier tier;
    enum mrap_s3_restore_outcome outcome;
    struct mrap_s3_error err;
    memset(&err, 0, sizeof(err));
    int rc = mrap_xattr_parse_restore(text, &days, &tier);
    if (rc)
        return rc;
    rc = mrap_s3_restore_object(fs->s3, key, days, tier, &outcome, &err);
    if (rc == -ENODATA) {
        /* InvalidObjectState: the object is not archived. "No data" would
         * puzzle whoever ran setfattr; the request itself is what is wrong. */
        mrap_log(MRAP_LOG_INFO, "xattr", "\"%s\" is not archived: nothing to restore", key);
        return -EINVAL;
    }
    if (rc)
        log_refusal(key, MRAP_XATTR_RESTORE, rc, &err, NULL);
    else
        mrap_log(MRAP_LOG_INFO, "xattr", "restore of \"%s\" for %u days (%s): %s", key, days,
                 mrap_s3_restore_tier_name(tier),
                 outcome == MRAP_S3_RESTORE_STARTED    ? "started"
                 : outcome == MRAP_S3_RESTORE_EXTENDED ? "expiry extended"
                                                       : "already in progress");
    return rc;
}

static bool read_only_name(const char *name)
{
    static const char *const fixed[] = {MRAP_XATTR_ETAG, MRAP_XATTR_CLASS, MRAP_XATTR_CTYPE,
                                        MRAP_XATTR_MTIME};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(name, fixed[i]) == 0)
            return true;
    return strncmp(name, MRAP_XATTR_META_PREFIX, strlen(MRAP_XATTR_META_PREFIX)) == 0;
}

int mrap_xattr_change(struct mrap_fs *fs, const char *key, const char *name, const char *value,
                      size_t size, bool remove, int flags)
{
    char *text = NULL;
    int rc;
    const size_t tag_len = strlen(MRAP_XATTR_TAG_PREFIX);

    if (read_only_name(name))
        return -EPERM;
    if (!remove) {
        size_t max = strncmp(name, MRAP_XATTR_TAG_PREFIX, tag_len) == 0
                         ? 4 * MRAP_S3_TAG_VALUE_MAX_CHARS /* UTF-8; checked by characters */
                         : SHORT_VALUE_MAX;
        rc = mrap_xattr_value_str(value, size, max, &text);
        if (rc)
            return rc;
    }
    if (strncmp(name, MRAP_XATTR_TAG_PREFIX, tag_len) == 0)
        rc = change_tag(fs, key, name, name + tag_len, text, flags);
    else if (strcmp(name, MRAP_XATTR_RETENTION) == 0)
        rc = change_retention(fs, key, text);
    else if (strcmp(name, MRAP_XATTR_HOLD) == 0)
        rc = change_hold(fs, key, text);
    else if (strcmp(name, MRAP_XATTR_ACL) == 0)
        rc = remove ? -EPERM : change_acl(fs, key, text); /* an object always has an ACL */
    else if (strcmp(name, MRAP_XATTR_RESTORE) == 0)
        rc = remove ? -EPERM : start_restore(fs, key, text);
    else
        rc = remove ? -ENODATA : -ENOTSUP;
    free(text);
    /* Refreshed after a set: the next read asks S3 again (a failed set may
     * have changed something too, e.g. a tag PUT that timed out late). */
    if (rc != -ENOTSUP && rc != -EPERM)
        mrap_xattr_cache_drop(fs->xattrs, key, MRAP_XATTR_N_PARTS);
    return rc;
}
