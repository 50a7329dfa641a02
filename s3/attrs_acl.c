/*
 * Access control lists (GetObjectAcl, PutObjectAcl with a canned ACL) and
 * RestoreObject.
 *
 * Only canned ACLs are written: they are what a user can type into one xattr
 * value and what S3 validates without account lookups. Reading returns the
 * full grant list, with the grantee kind taken from xsi:type, which is how
 * S3 says whether a grantee is a user (ID), a group (URI) or an e-mail.
 *
 * RestoreObject answers 202 for a new restore, 200 when the object is already
 * restored (the copy's lifetime is extended) and 409 RestoreAlreadyInProgress
 * while one runs. All three mean "the object is, or will be, readable", so
 * they are outcomes for the caller, not errors.
 */
#include "s3/attrs.h"
#include "s3/attrs_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/xmlmemory.h>

#include "s3/xml.h"

static const char *const canned_acls[] = {
    "private",       "public-read",       "public-read-write",         "authenticated-read",
    "aws-exec-read", "bucket-owner-read", "bucket-owner-full-control",
};

bool mrap_s3_canned_acl_valid(const char *name)
{
    for (size_t i = 0; name && i < sizeof(canned_acls) / sizeof(canned_acls[0]); i++)
        if (strcmp(name, canned_acls[i]) == 0)
            return true;
    return false;
}

void mrap_s3_acl_cleanup(struct mrap_s3_acl *acl)
{
    if (!acl)
        return;
    free(acl->grants);
    acl->grants = NULL;
    acl->n_grants = 0;
}

static bool permission_valid(const char *p)
{
    static const char *const perms[] = {"FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"};
    for (size_t i = 0; i < sizeof(perms) / sizeof(perms[0]); i++)
        if (strcmp(p, perms[i]) == 0)
            return true;
    return false;
}

/* Optional child: absent is "", present but too long is -EPROTO. */
static int optional_copy(xmlNodePtr parent, const char *name, char *out, size_t outlen)
{
    long n = mrap_xml_child_text(parent, name, out, outlen);
    return n >= (long)outlen ? -EPROTO : 0;
}

static int parse_grant(xmlNodePtr g, struct mrap_s3_grant *out)
{
    xmlNodePtr who = mrap_xml_child(g, "Grantee");
    memset(out, 0, sizeof(*out));
    if (!who ||
        mrap_s3_attrs_child_copy(g, "Permission", out->permission, sizeof(out->permission)) ||
        !permission_valid(out->permission))
        return -EPROTO;
    /* xmlGetProp matches "type" whatever its prefix (xsi:type). */
    xmlChar *type = xmlGetProp(who, (const xmlChar *)"type");
    int rc = -EPROTO;
    if (!type || strlen((const char *)type) >= sizeof(out->type))
        goto out;
    snprintf(out->type, sizeof(out->type), "%s", (const char *)type);
    if (optional_copy(who, "DisplayName", out->display_name, sizeof(out->display_name)))
        goto out;
    if (strcmp(out->type, "CanonicalUser") == 0)
        rc = mrap_s3_attrs_child_copy(who, "ID", out->id, sizeof(out->id));
    else if (strcmp(out->type, "Group") == 0)
        rc = mrap_s3_attrs_child_copy(who, "URI", out->uri, sizeof(out->uri));
    else if (strcmp(out->type, "AmazonCustomerByEmail") == 0)
        rc = mrap_s3_attrs_child_copy(who, "EmailAddress", out->email, sizeof(out->email));
out:
    xmlFree(type);
    return rc;
}

static int acl_from_root(xmlNodePtr root, void *arg)
{
    struct mrap_s3_acl *out = arg;
    memset(out, 0, sizeof(*out));
    xmlNodePtr owner = mrap_xml_child(root, "Owner");
    xmlNodePtr list = mrap_xml_child(root, "AccessControlList");
    if (!owner || !list ||
        mrap_s3_attrs_child_copy(owner, "ID", out->owner_id, sizeof(out->owner_id)) ||
        optional_copy(owner, "DisplayName", out->owner_display_name,
                      sizeof(out->owner_display_name)))
        return -EPROTO;
    for (xmlNodePtr g = mrap_xml_child(list, "Grant"); g; g = mrap_xml_next(g, "Grant")) {
        if (out->n_grants >= MRAP_S3_ACL_MAX_GRANTS)
            return -EPROTO;
        struct mrap_s3_grant *v = realloc(out->grants, (out->n_grants + 1) * sizeof(*v));
        if (!v)
            return -ENOMEM;
        out->grants = v;
        int rc = parse_grant(g, &v[out->n_grants]);
        if (rc)
            return rc;
        out->n_grants++;
    }
    return 0;
}

int mrap_s3_acl_parse(const char *xml, size_t len, struct mrap_s3_acl *out)
{
    memset(out, 0, sizeof(*out));
    int rc = mrap_s3_attrs_parse_doc(xml, len, "AccessControlPolicy", acl_from_root, out);
    if (rc)
        mrap_s3_acl_cleanup(out);
    return rc;
}

int mrap_s3_get_acl(struct mrap_s3_client *c, const char *key, struct mrap_s3_acl *out,
                    struct mrap_s3_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc = mrap_s3_attrs_get(c, key, "acl", "AccessControlPolicy", acl_from_root, out, err);
    if (rc)
        mrap_s3_acl_cleanup(out);
    return rc;
}

int mrap_s3_put_canned_acl(struct mrap_s3_client *c, const char *key, const char *canned,
                           struct mrap_s3_error *err)
{
    struct mrap_s3_op_headers h = {.n = 0};
    if (!mrap_s3_canned_acl_valid(canned))
        return -EINVAL;
    mrap_s3_op_header_add(&h, "x-amz-acl", canned);
    return mrap_s3_attrs_send(c, "PUT", key, "acl", NULL, &h, NULL, err);
}

void mrap_s3_grant_to_text(const struct mrap_s3_grant *g, char *out, size_t outlen)
{
    const char *who = g->id[0] ? g->id : g->uri[0] ? g->uri : g->email;
    if (g->display_name[0])
        snprintf(out, outlen, "%s %s %s (%s)", g->permission, g->type, who, g->display_name);
    else
        snprintf(out, outlen, "%s %s %s", g->permission, g->type, who);
}

/* ---- RestoreObject ---- */

static const char *const tier_names[] = {"Standard", "Bulk", "Expedited"};

int mrap_s3_restore_tier_parse(const char *s, enum mrap_s3_restore_tier *out)
{
    for (size_t i = 0; s && i < sizeof(tier_names) / sizeof(tier_names[0]); i++) {
        if (strcasecmp(s, tier_names[i]) == 0) {
            *out = (enum mrap_s3_restore_tier)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *mrap_s3_restore_tier_name(enum mrap_s3_restore_tier t)
{
    return (unsigned)t < sizeof(tier_names) / sizeof(tier_names[0]) ? tier_names[t] : NULL;
}

int mrap_s3_restore_object(struct mrap_s3_client *c, const char *key, unsigned days,
                           enum mrap_s3_restore_tier tier, enum mrap_s3_restore_outcome *outcome,
                           struct mrap_s3_error *err)
{
    struct mrap_s3_error local;
    struct mrap_buf b;
    char days_s[16];
    long status = 0;
    const char *tname = mrap_s3_restore_tier_name(tier);
    if (!err)
        err = &local;
    if (days < 1 || days > MRAP_S3_RESTORE_MAX_DAYS || !tname)
        return -EINVAL;
    snprintf(days_s, sizeof(days_s), "%u", days);
    int rc = mrap_s3_attrs_doc_open(&b, "RestoreRequest");
    if (!rc)
        rc = mrap_s3_op_xml_elem(&b, "Days", days_s);
    if (!rc)
        rc = mrap_buf_append_str(&b, "<GlacierJobParameters>");
    if (!rc)
        rc = mrap_s3_op_xml_elem(&b, "Tier", tname);
    if (!rc)
        rc = mrap_buf_append_str(&b, "</GlacierJobParameters></RestoreRequest>");
    if (!rc)
        rc = mrap_s3_attrs_send(c, "POST", key, "restore", &b, NULL, &status, err);
    mrap_buf_cleanup(&b);
    if (rc == -EINPROGRESS && mrap_s3_op_code_is(err, "RestoreAlreadyInProgress")) {
        *outcome = MRAP_S3_RESTORE_IN_PROGRESS;
        return 0;
    }
    if (rc)
        return rc;
    if (status == 202) {
        *outcome = MRAP_S3_RESTORE_STARTED;
    } else if (status == 200) {
        *outcome = MRAP_S3_RESTORE_EXTENDED;
    } else {
        struct mrap_http_response r0; /* only the status is known here */
        mrap_http_response_init(&r0, 0);
        r0.status = status;
        mrap_s3_op_fail(err, &r0, "", "POST %s?restore: unexpected status %ld", key, status);
        mrap_http_response_cleanup(&r0);
        return -EPROTO;
    }
    return 0;
}
