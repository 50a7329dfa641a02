/*
 * S3 answers rendered as xattr values, and the text forms setxattr accepts.
 *
 * Every value is plain text without a trailing newline (multi-line values —
 * ACL grants, routes — separate lines with '\n'), so `getfattr --only-values`
 * prints what a script can compare. Times are RFC 3339 UTC, the form
 * user.s3.retention accepts back. The ETag is shown without S3's quotes,
 * which makes it comparable with md5sum for single-part uploads.
 *
 * What S3 reports as "not set" (no tag set, no retention, no legal hold) is an
 * empty set here, cached like any other answer, so a file without a legal
 * hold does not cost a request per getxattr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fs/xattr.h"
#include "s3/control.h"
#include "util/log.h"

static int add_str(struct mrap_xattr_set *s, const char *name, const char *value)
{
    return mrap_xattr_set_add(s, name, value, strlen(value));
}

static int add_prefixed(struct mrap_xattr_set *s, const char *prefix, const char *suffix,
                        const char *value)
{
    char *name = NULL;
    if (asprintf(&name, "%s%s", prefix, suffix) < 0)
        return -ENOMEM;
    int rc = add_str(s, name, value);
    free(name);
    return rc;
}

static int render_retention(struct mrap_xattr_set *s, const struct mrap_s3_retention *r)
{
    char text[64];
    mrap_s3_retention_to_text(r, text);
    return text[0] ? add_str(s, MRAP_XATTR_RETENTION, text) : 0;
}

static int render_head(const struct mrap_s3_head *h, struct mrap_xattr_set *out)
{
    char buf[128];
    const char *etag = h->info.etag;
    size_t elen = strlen(etag);
    int rc = 0;

    memcpy(out->etag, h->info.etag, sizeof(out->etag));
    if (elen >= 2 && etag[0] == '"' && etag[elen - 1] == '"')
        rc = mrap_xattr_set_add(out, MRAP_XATTR_ETAG, etag + 1, elen - 2);
    else if (elen)
        rc = add_str(out, MRAP_XATTR_ETAG, etag);
    if (!rc)
        rc = add_str(out, MRAP_XATTR_CLASS,
                     h->info.storage_class[0] ? h->info.storage_class : "STANDARD");
    if (!rc && h->content_type && h->content_type[0])
        rc = add_str(out, MRAP_XATTR_CTYPE, h->content_type);
    if (!rc) {
        mrap_s3_format_rfc3339(h->info.mtime.tv_sec, buf);
        rc = add_str(out, MRAP_XATTR_MTIME, buf);
    }
    if (!rc && h->restore.present) {
        if (h->restore.ongoing) {
            rc = add_str(out, MRAP_XATTR_RESTORE, "ongoing");
        } else if (h->restore.has_expiry) {
            char until[32];
            mrap_s3_format_rfc3339(h->restore.expiry, until);
            snprintf(buf, sizeof(buf), "restored until %s", until);
            rc = add_str(out, MRAP_XATTR_RESTORE, buf);
        } else {
            rc = add_str(out, MRAP_XATTR_RESTORE, "restored");
        }
    }
    if (!rc && h->lock_mode != MRAP_S3_LOCK_NONE) {
        struct mrap_s3_retention r = {.mode = h->lock_mode, .until = h->lock_retain_until};
        rc = render_retention(out, &r);
    }
    if (!rc && h->legal_hold != MRAP_S3_HOLD_UNKNOWN)
        rc = add_str(out, MRAP_XATTR_HOLD, h->legal_hold == MRAP_S3_HOLD_ON ? "ON" : "OFF");
    for (size_t i = 0; !rc && i < h->n_meta; i++)
        rc = add_prefixed(out, MRAP_XATTR_META_PREFIX, h->meta[i].name, h->meta[i].value);
    return rc;
}

static int render_tags(const struct mrap_s3_tagset *t, struct mrap_xattr_set *out)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < t->n; i++)
        rc = add_prefixed(out, MRAP_XATTR_TAG_PREFIX, t->v[i].key, t->v[i].value);
    return rc;
}

/* Lines joined by '\n' into one value: grows a heap buffer (bounded by
 * MRAP_XATTR_VALUE_MAX; a longer value is -E2BIG). */
struct lines {
    char *buf;
    size_t len;
};

static int lines_add(struct lines *l, const char *line)
{
    size_t add = strlen(line) + (l->len ? 1 : 0);
    if (l->len + add > MRAP_XATTR_VALUE_MAX)
        return -E2BIG;
    char *b = realloc(l->buf, l->len + add + 1);
    if (!b)
        return -ENOMEM;
    l->buf = b;
    if (l->len)
        b[l->len++] = '\n';
    memcpy(b + l->len, line, strlen(line) + 1);
    l->len += strlen(line);
    return 0;
}

static int render_acl(const struct mrap_s3_acl *acl, struct mrap_xattr_set *out)
{
    struct lines l = {NULL, 0};
    char line[700];
    int rc = 0;
    for (size_t i = 0; !rc && i < acl->n_grants; i++) {
        mrap_s3_grant_to_text(&acl->grants[i], line, sizeof(line));
        rc = lines_add(&l, line);
    }
    if (!rc)
        rc = mrap_xattr_set_add(out, MRAP_XATTR_ACL, l.buf ? l.buf : "", l.len);
    free(l.buf);
    return rc;
}

static int render_routes(const struct mrap_s3_routes *r, struct mrap_xattr_set *out)
{
    struct lines l = {NULL, 0};
    char line[400];
    int rc = 0;
    for (size_t i = 0; !rc && i < r->n; i++) {
        snprintf(line, sizeof(line), "%s %s %d", r->v[i].region[0] ? r->v[i].region : "-",
                 r->v[i].bucket[0] ? r->v[i].bucket : "-", r->v[i].dial);
        rc = lines_add(&l, line);
    }
    if (!rc)
        rc = mrap_xattr_set_add(out, MRAP_XATTR_MRAP_ROUTES, l.buf ? l.buf : "", l.len);
    free(l.buf);
    return rc;
}

static int fetch_routes(struct mrap_fs *fs, struct mrap_xattr_set *out, struct mrap_s3_error *err)
{
    char arn[256];
    struct mrap_s3_routes routes;
    memset(&routes, 0, sizeof(routes));
    if (!fs->control || !fs->cfg->account_id)
        return -ENODATA;
    int rc = mrap_s3_control_make_arn(fs->cfg->account_id, fs->cfg->name, arn, sizeof(arn));
    if (!rc)
        rc = mrap_s3_control_get_routes(fs->control, arn, &routes, NULL, err);
    if (!rc)
        rc = render_routes(&routes, out);
    mrap_s3_routes_cleanup(&routes);
    return rc;
}

int mrap_xattr_fetch(struct mrap_fs *fs, const char *key, enum mrap_xattr_part part,
                     struct mrap_xattr_set *out)
{
    struct mrap_s3_error err;
    int rc;
    memset(out, 0, sizeof(*out));
    memset(&err, 0, sizeof(err));
    switch (part) {
    case MRAP_XATTR_PART_HEAD: {
        struct mrap_s3_head h;
        memset(&h, 0, sizeof(h));
        rc = mrap_s3_head(fs->s3, key, &h, &err);
        if (!rc)
            rc = render_head(&h, out);
        mrap_s3_head_cleanup(&h);
        break;
    }
    case MRAP_XATTR_PART_TAGS: {
        struct mrap_s3_tagset t = {NULL, 0};
        rc = mrap_s3_get_tagging(fs->s3, key, &t, &err);
        if (rc == -ENODATA) /* NoSuchTagSet: no tags */
            rc = 0;
        else if (!rc)
            rc = render_tags(&t, out);
        mrap_s3_tagset_cleanup(&t);
        break;
    }
    case MRAP_XATTR_PART_ACL: {
        struct mrap_s3_acl acl;
        memset(&acl, 0, sizeof(acl));
        rc = mrap_s3_get_acl(fs->s3, key, &acl, &err);
        if (!rc)
            rc = render_acl(&acl, out);
        mrap_s3_acl_cleanup(&acl);
        break;
    }
    case MRAP_XATTR_PART_RETENTION: {
        struct mrap_s3_retention r = {MRAP_S3_LOCK_NONE, 0};
        rc = mrap_s3_get_retention(fs->s3, key, &r, &err);
        if (rc == -ENODATA || rc == -EINVAL) /* none, or a bucket without Object Lock */
            rc = 0;
        else if (!rc)
            rc = render_retention(out, &r);
        break;
    }
    case MRAP_XATTR_PART_HOLD: {
        bool on = false;
        rc = mrap_s3_get_legal_hold(fs->s3, key, &on, &err);
        if (rc == -ENODATA || rc == -EINVAL) /* as for retention */
            rc = 0;
        else if (!rc)
            rc = add_str(out, MRAP_XATTR_HOLD, on ? "ON" : "OFF");
        break;
    }
    case MRAP_XATTR_PART_ROUTES:
        rc = fetch_routes(fs, out, &err);
        break;
    default:
        rc = -EINVAL;
    }
    if (rc && rc != -ENOENT && rc != -ENODATA && rc != -ENOMEM) {
        char msg[600];
        mrap_s3_error_format(&err, msg, sizeof(msg));
        mrap_log(MRAP_LOG_WARN, "xattr", "reading attributes of \"%s\": %s", key,
                 err.http_status || err.code[0] ? msg : strerror(-rc));
    }
    if (rc)
        mrap_xattr_set_cleanup(out);
    return rc;
}

int mrap_xattr_value_str(const char *value, size_t size, size_t max, char **out)
{
    *out = NULL;
    if (size && value[size - 1] == '\n')
        size--;
    if (size > max)
        return -E2BIG;
    if (memchr(value, '\0', size))
        return -EINVAL;
    *out = strndup(value, size);
    return *out ? 0 : -ENOMEM;
}

int mrap_xattr_parse_restore(const char *s, unsigned *days, enum mrap_s3_restore_tier *tier)
{
    char *end;
    *tier = MRAP_S3_TIER_STANDARD;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    unsigned long d = strtoul(s, &end, 10);
    if (errno || d < 1 || d > MRAP_S3_RESTORE_MAX_DAYS)
        return -EINVAL;
    *days = (unsigned)d;
    if (*end == '\0')
        return 0;
    if (*end != ',')
        return -EINVAL;
    end++;
    while (*end == ' ')
        end++;
    return mrap_s3_restore_tier_parse(end, tier);
}

int mrap_xattr_parse_hold(const char *s, bool *on)
{
    if (strcasecmp(s, "ON") == 0)
        *on = true;
    else if (strcasecmp(s, "OFF") == 0)
        *on = false;
    else
        return -EINVAL;
    return 0;
}
