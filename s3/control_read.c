/*
 * S3 Control reads: describe-operation, get, list, policy, policy status.
 *
 * Answers are parsed strictly against botocore's shapes: every string has
 * the model's maximum length (longer is -EPROTO, not truncation, so a name
 * shown is a name that exists), lists are bounded, dates are ISO 8601.
 */
#include "s3/control.h"
#include "s3/control_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/xml.h"

#define API MRAP_S3_CONTROL_API

static int bool_child(xmlNodePtr parent, const char *name, bool *out)
{
    char v[8];
    long n = mrap_xml_child_text(parent, name, v, sizeof(v));
    if (n < 0) {
        *out = false;
        return 0;
    }
    if (strcmp(v, "true") == 0)
        *out = true;
    else if (strcmp(v, "false") == 0)
        *out = false;
    else
        return -EPROTO;
    return 0;
}

static int time_child(xmlNodePtr parent, const char *name, time_t *out)
{
    char v[64];
    struct timespec ts;
    long n = mrap_xml_child_text(parent, name, v, sizeof(v));
    *out = 0;
    if (n < 0)
        return 0;
    if (n >= (long)sizeof(v) || mrap_s3_parse_time(v, &ts))
        return -EPROTO;
    *out = ts.tv_sec;
    return 0;
}

int mrap_s3_control_alloc_items(xmlNodePtr list, const char *item, size_t max, size_t size,
                                void **out, size_t *n)
{
    size_t count = 0;
    *out = NULL;
    *n = 0;
    for (xmlNodePtr x = mrap_xml_child(list, item); x; x = mrap_xml_next(x, item))
        if (++count > max)
            return -EPROTO;
    if (!count)
        return 0;
    *out = calloc(count, size);
    if (!*out)
        return -ENOMEM;
    *n = count;
    return 0;
}

void mrap_s3_mrap_report_cleanup(struct mrap_s3_mrap_report *r)
{
    if (!r)
        return;
    free(r->regions);
    r->regions = NULL;
    r->n_regions = 0;
}

int mrap_s3_control_report_from(xmlNodePtr ap, struct mrap_s3_mrap_report *out)
{
    memset(out, 0, sizeof(*out));
    xmlNodePtr pab = mrap_xml_child(ap, "PublicAccessBlock");
    xmlNodePtr regions = mrap_xml_child(ap, "Regions");
    if (mrap_xml_child_text(ap, "Name", out->name, sizeof(out->name)) <= 0 ||
        mrap_s3_control_opt_copy(ap, "Name", out->name, sizeof(out->name)) ||
        mrap_s3_control_opt_copy(ap, "Alias", out->alias, sizeof(out->alias)) ||
        mrap_s3_control_opt_copy(ap, "Status", out->status, sizeof(out->status)) ||
        time_child(ap, "CreatedAt", &out->created_at))
        return -EPROTO;
    if (pab) {
        out->pab.present = true;
        if (bool_child(pab, "BlockPublicAcls", &out->pab.block_public_acls) ||
            bool_child(pab, "IgnorePublicAcls", &out->pab.ignore_public_acls) ||
            bool_child(pab, "BlockPublicPolicy", &out->pab.block_public_policy) ||
            bool_child(pab, "RestrictPublicBuckets", &out->pab.restrict_public_buckets))
            return -EPROTO;
    }
    void *items;
    int rc = mrap_s3_control_alloc_items(regions, "Region", MRAP_S3_MRAP_MAX_REGIONS,
                                         sizeof(*out->regions), &items, &out->n_regions);
    out->regions = items;
    if (rc)
        return rc;
    size_t i = 0;
    for (xmlNodePtr x = mrap_xml_child(regions, "Region"); x; x = mrap_xml_next(x, "Region")) {
        struct mrap_s3_mrap_region *r = &out->regions[i++];
        if (mrap_s3_control_opt_copy(x, "Bucket", r->bucket, sizeof(r->bucket)) ||
            mrap_s3_control_opt_copy(x, "Region", r->region, sizeof(r->region)) ||
            mrap_s3_control_opt_copy(x, "BucketAccountId", r->bucket_account_id,
                                     sizeof(r->bucket_account_id)))
            return -EPROTO;
    }
    return 0;
}

/* GET /<path> on the control region; the <root> answer parsed into out. */
static int get_parsed(struct mrap_s3_control *ctl, const char *path, const struct mrap_s3_param *p,
                      size_t np, const char *root, mrap_s3_attrs_parse_fn parse, void *out,
                      struct mrap_s3_error *err)
{
    return mrap_s3_control_call(ctl->main, ctl->account, "GET", path, p, np, NULL, root, parse, out,
                                err);
}

/* ---- describe ---- */

void mrap_s3_async_op_cleanup(struct mrap_s3_async_op *op)
{
    if (!op)
        return;
    free(op->regions);
    op->regions = NULL;
    op->n_regions = 0;
}

static int async_from(xmlNodePtr root, void *arg)
{
    struct mrap_s3_async_op *out = arg;
    xmlNodePtr op = mrap_xml_child(root, "AsyncOperation");
    xmlNodePtr params = mrap_xml_child(op, "RequestParameters");
    xmlNodePtr details = mrap_xml_child(op, "ResponseDetails");
    xmlNodePtr mrap = details ? mrap_xml_child(details, "MultiRegionAccessPointDetails") : NULL;
    xmlNodePtr regions = mrap ? mrap_xml_child(mrap, "Regions") : NULL;
    xmlNodePtr error = details ? mrap_xml_child(details, "ErrorDetails") : NULL;
    if (!op || mrap_s3_control_opt_copy(op, "Operation", out->operation, sizeof(out->operation)) ||
        mrap_s3_control_opt_copy(op, "RequestTokenARN", out->token_arn, sizeof(out->token_arn)) ||
        mrap_xml_child_text(op, "RequestStatus", out->status, sizeof(out->status)) <= 0 ||
        mrap_s3_control_opt_copy(op, "RequestStatus", out->status, sizeof(out->status)) ||
        time_child(op, "CreationTime", &out->created))
        return -EPROTO;
    /* RequestParameters holds one <...Request> with the MRAP's Name. */
    for (xmlNodePtr r = params ? params->children : NULL; r; r = r->next)
        if (r->type == XML_ELEMENT_NODE &&
            mrap_s3_control_opt_copy(r, "Name", out->name, sizeof(out->name)))
            return -EPROTO;
    if (error) {
        out->has_error = true;
        if (mrap_s3_control_opt_copy(error, "Code", out->error_code, sizeof(out->error_code)) ||
            mrap_s3_control_opt_copy(error, "Message", out->error_message,
                                     sizeof(out->error_message)) ||
            mrap_s3_control_opt_copy(error, "Resource", out->error_resource,
                                     sizeof(out->error_resource)) ||
            mrap_s3_control_opt_copy(error, "RequestId", out->error_request_id,
                                     sizeof(out->error_request_id)))
            return -EPROTO;
    }
    void *items;
    int rc = mrap_s3_control_alloc_items(regions, "Region", MRAP_S3_MRAP_MAX_REGIONS,
                                         sizeof(*out->regions), &items, &out->n_regions);
    out->regions = items;
    size_t i = 0;
    for (xmlNodePtr x = mrap_xml_child(regions, "Region"); !rc && x;
         x = mrap_xml_next(x, "Region")) {
        struct mrap_s3_async_region *r = &out->regions[i++];
        if (mrap_s3_control_opt_copy(x, "Name", r->name, sizeof(r->name)) ||
            mrap_s3_control_opt_copy(x, "RequestStatus", r->status, sizeof(r->status)))
            rc = -EPROTO;
    }
    return rc;
}

int mrap_s3_control_describe(struct mrap_s3_control *ctl, const char *token_arn,
                             struct mrap_s3_async_op *out, struct mrap_s3_error *err)
{
    char path[MRAP_S3_TOKEN_ARN_MAX + 64];
    memset(out, 0, sizeof(*out));
    if (!mrap_s3_control_token_valid(token_arn))
        return -EINVAL;
    snprintf(path, sizeof(path), API "/async-requests/mrap/%s", token_arn);
    int rc = get_parsed(ctl, path, NULL, 0, "DescribeMultiRegionAccessPointOperationResult",
                        async_from, out, err);
    if (rc)
        mrap_s3_async_op_cleanup(out);
    return rc;
}

/* ---- get, list ---- */

static int get_from(xmlNodePtr root, void *out)
{
    xmlNodePtr ap = mrap_xml_child(root, "AccessPoint");
    return ap ? mrap_s3_control_report_from(ap, out) : -EPROTO;
}

int mrap_s3_control_get(struct mrap_s3_control *ctl, const char *name,
                        struct mrap_s3_mrap_report *out, struct mrap_s3_error *err)
{
    char path[128];
    memset(out, 0, sizeof(*out));
    if (!mrap_s3_control_name_valid(name))
        return -EINVAL;
    snprintf(path, sizeof(path), API "/mrap/instances/%s", name);
    int rc = get_parsed(ctl, path, NULL, 0, "GetMultiRegionAccessPointResult", get_from, out, err);
    if (rc)
        mrap_s3_mrap_report_cleanup(out);
    return rc;
}

void mrap_s3_mrap_list_cleanup(struct mrap_s3_mrap_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        mrap_s3_mrap_report_cleanup(&l->items[i]);
    free(l->items);
    free(l->next_token);
    memset(l, 0, sizeof(*l));
}

static int list_from(xmlNodePtr root, void *arg)
{
    struct mrap_s3_mrap_list *out = arg;
    xmlNodePtr aps = mrap_xml_child(root, "AccessPoints");
    void *items;
    int rc = mrap_s3_control_alloc_items(aps, "AccessPoint", MRAP_S3_LIST_MAX_PER_PAGE,
                                         sizeof(*out->items), &items, &out->n);
    out->items = items;
    size_t i = 0;
    for (xmlNodePtr x = mrap_xml_child(aps, "AccessPoint"); !rc && x;
         x = mrap_xml_next(x, "AccessPoint"))
        rc = mrap_s3_control_report_from(x, &out->items[i++]);
    if (rc)
        return rc;
    char *next = mrap_xml_child_strdup(root, "NextToken");
    if (next && (!*next || strlen(next) > 1024)) {
        free(next);
        return -EPROTO;
    }
    out->next_token = next;
    return 0;
}

int mrap_s3_control_list(struct mrap_s3_control *ctl, const char *next_token, unsigned max_results,
                         struct mrap_s3_mrap_list *out, struct mrap_s3_error *err)
{
    struct mrap_s3_param p[2];
    size_t np = 0;
    char max_s[16];
    memset(out, 0, sizeof(*out));
    if (max_results > MRAP_S3_LIST_MAX_PER_PAGE ||
        (next_token && (!*next_token || strlen(next_token) > 1024)))
        return -EINVAL;
    if (max_results) {
        snprintf(max_s, sizeof(max_s), "%u", max_results);
        p[np++] = (struct mrap_s3_param){"maxResults", max_s};
    }
    if (next_token)
        p[np++] = (struct mrap_s3_param){"nextToken", next_token};
    int rc = get_parsed(ctl, API "/mrap/instances", p, np, "ListMultiRegionAccessPointsResult",
                        list_from, out, err);
    if (rc)
        mrap_s3_mrap_list_cleanup(out);
    return rc;
}

/* ---- policy ---- */

void mrap_s3_mrap_policy_cleanup(struct mrap_s3_mrap_policy *p)
{
    if (!p)
        return;
    free(p->established);
    free(p->proposed);
    p->established = p->proposed = NULL;
}

static int policy_text(xmlNodePtr pol, const char *which, char **out)
{
    xmlNodePtr el = mrap_xml_child(pol, which);
    *out = el ? mrap_xml_child_strdup(el, "Policy") : NULL;
    if (*out && strlen(*out) > MRAP_S3_OP_DOC_BODY_MAX)
        return -EPROTO;
    return 0;
}

static int policy_from(xmlNodePtr root, void *arg)
{
    struct mrap_s3_mrap_policy *out = arg;
    xmlNodePtr pol = mrap_xml_child(root, "Policy");
    int rc = pol ? policy_text(pol, "Established", &out->established) : 0;
    if (pol && !rc)
        rc = policy_text(pol, "Proposed", &out->proposed);
    return rc;
}

int mrap_s3_control_get_policy(struct mrap_s3_control *ctl, const char *name,
                               struct mrap_s3_mrap_policy *out, struct mrap_s3_error *err)
{
    char path[128];
    memset(out, 0, sizeof(*out));
    if (!mrap_s3_control_name_valid(name))
        return -EINVAL;
    snprintf(path, sizeof(path), API "/mrap/instances/%s/policy", name);
    int rc = get_parsed(ctl, path, NULL, 0, "GetMultiRegionAccessPointPolicyResult", policy_from,
                        out, err);
    if (rc)
        mrap_s3_mrap_policy_cleanup(out);
    return rc;
}

static int status_from(xmlNodePtr root, void *is_public)
{
    xmlNodePtr est = mrap_xml_child(root, "Established");
    return est ? bool_child(est, "IsPublic", is_public) : 0;
}

int mrap_s3_control_policy_status(struct mrap_s3_control *ctl, const char *name, bool *is_public,
                                  struct mrap_s3_error *err)
{
    char path[128];
    *is_public = false;
    if (!mrap_s3_control_name_valid(name))
        return -EINVAL;
    snprintf(path, sizeof(path), API "/mrap/instances/%s/policystatus", name);
    return get_parsed(ctl, path, NULL, 0, "GetMultiRegionAccessPointPolicyStatusResult",
                      status_from, is_public, err);
}
