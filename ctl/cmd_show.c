/*
 * mrapctl read-only management commands (get, list, describe-operation,
 * get-policy, policy-status) and the printers the asynchronous commands
 * reuse for their results.
 *
 * JSON output follows the S3 Control model's shapes and member names (what
 * `aws s3control ... --output json` prints), so scripts can move between the
 * two; the table is for people.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

static const char *yes_no(bool b)
{
    return b ? "true" : "false";
}

void mrapctl_json_report(struct mrapctl_out *o, const char *key,
                         const struct mrap_s3_mrap_report *r)
{
    char t[32];
    mrapctl_json_obj(o, key);
    mrapctl_json_str(o, "Name", r->name);
    mrapctl_json_str(o, "Alias", r->alias);
    if (r->created_at) {
        mrapctl_time(r->created_at, t);
        mrapctl_json_str(o, "CreatedAt", t);
    }
    if (r->pab.present) {
        mrapctl_json_obj(o, "PublicAccessBlock");
        mrapctl_json_bool(o, "BlockPublicAcls", r->pab.block_public_acls);
        mrapctl_json_bool(o, "IgnorePublicAcls", r->pab.ignore_public_acls);
        mrapctl_json_bool(o, "BlockPublicPolicy", r->pab.block_public_policy);
        mrapctl_json_bool(o, "RestrictPublicBuckets", r->pab.restrict_public_buckets);
        mrapctl_json_end(o, '}');
    }
    mrapctl_json_str(o, "Status", r->status);
    mrapctl_json_arr(o, "Regions");
    for (size_t i = 0; i < r->n_regions; i++) {
        mrapctl_json_obj(o, NULL);
        mrapctl_json_str(o, "Bucket", r->regions[i].bucket);
        mrapctl_json_str(o, "Region", r->regions[i].region);
        if (r->regions[i].bucket_account_id[0])
            mrapctl_json_str(o, "BucketAccountId", r->regions[i].bucket_account_id);
        mrapctl_json_end(o, '}');
    }
    mrapctl_json_end(o, ']');
    mrapctl_json_end(o, '}');
}

void mrapctl_print_report(struct mrapctl *c, const struct mrap_s3_mrap_report *r)
{
    char t[32], arn[160] = "", pab[128] = "not set";
    struct mrapctl_table kv, regions;
    mrapctl_time(r->created_at, t);
    if (c->o.account_id && r->alias[0])
        snprintf(arn, sizeof(arn), "arn:aws:s3::%s:accesspoint/%s", c->o.account_id, r->alias);
    if (r->pab.present)
        snprintf(pab, sizeof(pab),
                 "BlockPublicAcls=%s IgnorePublicAcls=%s BlockPublicPolicy=%s "
                 "RestrictPublicBuckets=%s",
                 yes_no(r->pab.block_public_acls), yes_no(r->pab.ignore_public_acls),
                 yes_no(r->pab.block_public_policy), yes_no(r->pab.restrict_public_buckets));
    mrapctl_table_init(&kv, 2, NULL);
    mrapctl_table_row(&kv, (const char *const[]){"Name", r->name});
    mrapctl_table_row(&kv, (const char *const[]){"Alias", r->alias});
    if (arn[0])
        mrapctl_table_row(&kv, (const char *const[]){"ARN", arn});
    mrapctl_table_row(&kv, (const char *const[]){"Status", r->status});
    mrapctl_table_row(&kv, (const char *const[]){"Created", t});
    mrapctl_table_row(&kv, (const char *const[]){"PublicAccessBlock", pab});
    mrapctl_table_print(&kv, stdout);
    putchar('\n');
    mrapctl_table_init(&regions, 3, (const char *const[]){"BUCKET", "REGION", "ACCOUNT"});
    for (size_t i = 0; i < r->n_regions; i++)
        mrapctl_table_row(&regions,
                          (const char *const[]){r->regions[i].bucket, r->regions[i].region,
                                                r->regions[i].bucket_account_id});
    mrapctl_table_print(&regions, stdout);
}

/* RequestParameters' member for each asynchronous operation. */
static const char *request_member(const char *operation)
{
    if (strcmp(operation, "CreateMultiRegionAccessPoint") == 0)
        return "CreateMultiRegionAccessPointRequest";
    if (strcmp(operation, "DeleteMultiRegionAccessPoint") == 0)
        return "DeleteMultiRegionAccessPointRequest";
    if (strcmp(operation, "PutMultiRegionAccessPointPolicy") == 0)
        return "PutMultiRegionAccessPointPolicyRequest";
    return NULL;
}

void mrapctl_json_async(struct mrapctl_out *o, const char *key, const struct mrap_s3_async_op *op)
{
    char t[32];
    mrapctl_time(op->created, t);
    mrapctl_json_obj(o, key);
    if (t[0])
        mrapctl_json_str(o, "CreationTime", t);
    mrapctl_json_str(o, "Operation", op->operation);
    mrapctl_json_str(o, "RequestTokenARN", op->token_arn);
    const char *member = request_member(op->operation);
    if (member && op->name[0]) {
        mrapctl_json_obj(o, "RequestParameters");
        mrapctl_json_obj(o, member);
        mrapctl_json_str(o, "Name", op->name);
        mrapctl_json_end(o, '}');
        mrapctl_json_end(o, '}');
    }
    mrapctl_json_str(o, "RequestStatus", op->status);
    if (op->n_regions || op->has_error) {
        mrapctl_json_obj(o, "ResponseDetails");
        if (op->n_regions) {
            mrapctl_json_obj(o, "MultiRegionAccessPointDetails");
            mrapctl_json_arr(o, "Regions");
            for (size_t i = 0; i < op->n_regions; i++) {
                mrapctl_json_obj(o, NULL);
                mrapctl_json_str(o, "Name", op->regions[i].name);
                mrapctl_json_str(o, "RequestStatus", op->regions[i].status);
                mrapctl_json_end(o, '}');
            }
            mrapctl_json_end(o, ']');
            mrapctl_json_end(o, '}');
        }
        if (op->has_error) {
            mrapctl_json_obj(o, "ErrorDetails");
            mrapctl_json_str(o, "Code", op->error_code);
            mrapctl_json_str(o, "Message", op->error_message);
            mrapctl_json_str(o, "Resource", op->error_resource);
            mrapctl_json_str(o, "RequestId", op->error_request_id);
            mrapctl_json_end(o, '}');
        }
        mrapctl_json_end(o, '}');
    }
    mrapctl_json_end(o, '}');
}

void mrapctl_print_async(struct mrapctl *c, const struct mrap_s3_async_op *op)
{
    char t[32], error[2400] = "";
    struct mrapctl_table kv, regions;
    mrapctl_time(op->created, t);
    if (op->has_error)
        snprintf(error, sizeof(error), "%s: %s (resource %s, request id %s)", op->error_code,
                 op->error_message, op->error_resource[0] ? op->error_resource : "-",
                 op->error_request_id[0] ? op->error_request_id : "-");
    mrapctl_table_init(&kv, 2, NULL);
    mrapctl_table_row(&kv, (const char *const[]){"Operation", op->operation});
    mrapctl_table_row(&kv, (const char *const[]){"Name", op->name});
    mrapctl_table_row(&kv, (const char *const[]){"Status", op->status});
    mrapctl_table_row(&kv, (const char *const[]){"Created", t});
    mrapctl_table_row(&kv, (const char *const[]){"Token", op->token_arn});
    if (error[0])
        mrapctl_table_row(&kv, (const char *const[]){"Error", error});
    mrapctl_table_print(&kv, stdout);
    if (op->n_regions) {
        putchar('\n');
        mrapctl_table_init(&regions, 2, (const char *const[]){"REGION", "STATUS"});
        for (size_t i = 0; i < op->n_regions; i++)
            mrapctl_table_row(&regions,
                              (const char *const[]){op->regions[i].name, op->regions[i].status});
        mrapctl_table_print(&regions, stdout);
    }
}

int mrapctl_cmd_get(struct mrapctl *c, int argc, char **argv)
{
    struct mrap_s3_control *ctl;
    struct mrap_s3_mrap_report r;
    int rc = mrapctl_check_name(c, argv[0]);
    if (rc || (rc = mrapctl_control(c, &ctl)))
        return rc;
    if ((rc = mrap_s3_control_get(ctl, argv[0], &r, &c->err)) != 0) {
        mrap_s3_mrap_report_cleanup(&r);
        return mrapctl_fail(c, rc);
    }
    if (c->o.json) {
        mrapctl_json_obj(&c->out, NULL);
        mrapctl_json_report(&c->out, "AccessPoint", &r);
        mrapctl_json_end(&c->out, '}');
        mrapctl_json_done(&c->out);
    } else {
        mrapctl_print_report(c, &r);
    }
    mrap_s3_mrap_report_cleanup(&r);
    return MRAPCTL_OK;
}

/* Every page, in order (bounded: S3 allows far fewer MRAPs per account). */
#define LIST_MAX_PAGES 100

int mrapctl_cmd_list(struct mrapctl *c, int argc, char **argv)
{
    struct mrap_s3_control *ctl;
    struct mrapctl_table t;
    struct mrapctl_out jo;
    char *next = NULL, *doc = NULL;
    size_t doc_len = 0;
    FILE *mem = NULL;
    int rc = mrapctl_control(c, &ctl);
    if (rc)
        return rc;
    /* JSON is assembled in memory so that a failure on a later page leaves
     * stdout empty rather than holding half a document. */
    if (c->o.json) {
        if (!(mem = open_memstream(&doc, &doc_len)))
            return mrapctl_error(c, MRAPCTL_REMOTE, "out of memory");
        mrapctl_out_init(&jo, mem);
        mrapctl_json_obj(&jo, NULL);
        mrapctl_json_arr(&jo, "AccessPoints");
    } else {
        mrapctl_table_init(&t, 5,
                           (const char *const[]){"NAME", "ALIAS", "STATUS", "CREATED", "REGIONS"});
    }
    for (int page = 0; page < LIST_MAX_PAGES; page++) {
        struct mrap_s3_mrap_list l;
        rc = mrap_s3_control_list(ctl, next, c->o.page_size, &l, &c->err);
        free(next);
        next = NULL;
        for (size_t i = 0; rc == 0 && i < l.n; i++) {
            const struct mrap_s3_mrap_report *r = &l.items[i];
            char when[32], regions[512] = "";
            size_t used = 0;
            if (mem) {
                mrapctl_json_report(&jo, NULL, r);
                continue;
            }
            mrapctl_time(r->created_at, when);
            for (size_t k = 0; k < r->n_regions && used < sizeof(regions); k++)
                used += (size_t)snprintf(regions + used, sizeof(regions) - used, "%s%s",
                                         k ? "," : "", r->regions[k].region);
            mrapctl_table_row(&t,
                              (const char *const[]){r->name, r->alias, r->status, when, regions});
        }
        if (rc == 0) {
            next = l.next_token;
            l.next_token = NULL;
        }
        mrap_s3_mrap_list_cleanup(&l);
        if (rc || !next)
            break;
    }
    free(next);
    if (mem) {
        mrapctl_json_end(&jo, ']');
        mrapctl_json_end(&jo, '}');
        mrapctl_json_done(&jo);
        fclose(mem);
        if (rc == 0)
            fwrite(doc, 1, doc_len, stdout);
        free(doc);
    } else if (rc == 0) {
        mrapctl_table_print(&t, stdout);
    } else {
        mrapctl_table_cleanup(&t);
    }
    return rc ? mrapctl_fail(c, rc) : MRAPCTL_OK;
}
