/*
 * mrapctl commands for the asynchronous operations (create, delete,
 * put-policy) and the ones that read their results (describe-operation,
 * get-policy, policy-status).
 *
 * Without --wait an asynchronous command prints the request token alone (so
 * `TOKEN=$(mrapctl create ...)` works) or {"RequestTokenARN": ...}. With
 * --wait it prints the final AsyncOperation, and for a creation also the new
 * MRAP (its alias and ARN are what the user needs next).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

/* A region given as --bucket B@REGION, checked against where S3 says the
 * bucket is once the MRAP exists. */
static void check_regions(struct mrapctl *c, const struct mrap_s3_mrap_report *r)
{
    for (size_t i = 0; i < c->o.n_buckets; i++) {
        const char *at = strchr(c->o.buckets[i], '@');
        if (at && mrap_s3_control_account_valid(at + 1))
            continue; /* @ACCOUNT, not a region */
        size_t blen = at ? (size_t)(at - c->o.buckets[i]) : 0;
        for (size_t k = 0; at && k < r->n_regions; k++)
            if (strlen(r->regions[k].bucket) == blen &&
                strncmp(r->regions[k].bucket, c->o.buckets[i], blen) == 0 &&
                strcmp(r->regions[k].region, at + 1) != 0)
                fprintf(stderr, "mrapctl: create: warning: bucket %s is in %s, not %s\n",
                        r->regions[k].bucket, r->regions[k].region, at + 1);
    }
}

/* The common tail: the token, or the waited-for outcome. */
static int finish(struct mrapctl *c, const char *token, bool show_mrap)
{
    struct mrap_s3_async_op op;
    struct mrap_s3_mrap_report r;
    bool have_report = false;
    if (!c->o.wait) {
        if (c->o.json) {
            mrapctl_json_obj(&c->out, NULL);
            mrapctl_json_str(&c->out, "RequestTokenARN", token);
            mrapctl_json_end(&c->out, '}');
            mrapctl_json_done(&c->out);
        } else {
            puts(token);
        }
        return MRAPCTL_OK;
    }
    int rc = mrapctl_wait(c, token, &op);
    if (rc == MRAPCTL_OK && show_mrap && op.name[0]) {
        int grc = mrap_s3_control_get(c->control, op.name, &r, &c->err);
        if (grc) {
            mrap_s3_mrap_report_cleanup(&r);
            rc = mrapctl_fail(c, grc);
        } else {
            have_report = true;
        }
    }
    if (rc == MRAPCTL_OK || (rc == MRAPCTL_REMOTE && op.status[0])) {
        if (c->o.json) {
            mrapctl_json_obj(&c->out, NULL);
            mrapctl_json_async(&c->out, "AsyncOperation", &op);
            if (have_report)
                mrapctl_json_report(&c->out, "AccessPoint", &r);
            mrapctl_json_end(&c->out, '}');
            mrapctl_json_done(&c->out);
        } else {
            mrapctl_print_async(c, &op);
            if (have_report) {
                putchar('\n');
                mrapctl_print_report(c, &r);
            }
        }
    }
    if (have_report) {
        check_regions(c, &r);
        mrap_s3_mrap_report_cleanup(&r);
    }
    mrap_s3_async_op_cleanup(&op);
    return rc;
}

int mrapctl_cmd_create(struct mrapctl *c, int argc, char **argv)
{
    struct mrap_s3_mrap_bucket b[MRAP_S3_MRAP_MAX_REGIONS];
    char names[MRAP_S3_MRAP_MAX_REGIONS][256];
    char token[MRAP_S3_TOKEN_ARN_MAX + 1];
    struct mrap_s3_control *ctl;
    int rc = mrapctl_check_name(c, argv[0]);
    if (rc)
        return rc;
    if (c->o.n_buckets == 0)
        return mrapctl_error(c, MRAPCTL_USAGE,
                             "give at least one --bucket BUCKET[@REGION|@ACCOUNT]");
    for (size_t i = 0; i < c->o.n_buckets; i++) {
        /* S3 finds each bucket's Region itself: @REGION is an expectation
         * that is checked after --wait, never sent. @ACCOUNT (12 digits) is
         * the owner of a bucket in another account (BucketAccountId). */
        size_t n = strcspn(c->o.buckets[i], "@");
        const char *after = c->o.buckets[i][n] ? c->o.buckets[i] + n + 1 : NULL;
        if (n < 3 || n > 63)
            return mrapctl_error(c, MRAPCTL_USAGE,
                                 "--bucket '%s': a bucket name has 3-63 "
                                 "characters",
                                 c->o.buckets[i]);
        memcpy(names[i], c->o.buckets[i], n);
        names[i][n] = '\0';
        b[i] = (struct mrap_s3_mrap_bucket){
            names[i], after && mrap_s3_control_account_valid(after) ? after : NULL};
    }
    bool on = c->o.block_public_access != 0;
    struct mrap_s3_mrap_create req = {
        .name = argv[0],
        .buckets = b,
        .n_buckets = c->o.n_buckets,
        .pab = {c->o.block_public_access >= 0, on, on, on, on},
    };
    if ((rc = mrapctl_control(c, &ctl)))
        return rc;
    if ((rc = mrap_s3_control_create(ctl, &req, token, &c->err)))
        return mrapctl_fail(c, rc);
    return finish(c, token, true);
}

int mrapctl_cmd_delete(struct mrapctl *c, int argc, char **argv)
{
    char token[MRAP_S3_TOKEN_ARN_MAX + 1];
    struct mrap_s3_control *ctl;
    int rc = mrapctl_check_name(c, argv[0]);
    if (rc || (rc = mrapctl_control(c, &ctl)))
        return rc;
    if ((rc = mrap_s3_control_delete(ctl, argv[0], NULL, token, &c->err)))
        return mrapctl_fail(c, rc);
    return finish(c, token, false);
}

/* The whole policy file ("-": stdin), at most S3's size limit. */
static int read_policy(struct mrapctl *c, const char *path, char **out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return mrapctl_error(c, MRAPCTL_USAGE, "cannot read %s: %s", path, strerror(errno));
    char *buf = malloc(MRAP_S3_POLICY_MAX_BYTES + 2);
    size_t n = buf ? fread(buf, 1, MRAP_S3_POLICY_MAX_BYTES + 1, f) : 0;
    int err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf)
        return mrapctl_error(c, MRAPCTL_REMOTE, "out of memory");
    buf[n] = '\0';
    const char *why = err                            ? "read error"
                      : n > MRAP_S3_POLICY_MAX_BYTES ? "larger than 20 KiB"
                      : strlen(buf) != n             ? "contains a NUL byte"
                      : strspn(buf, " \t\r\n") == n  ? "empty"
                                                     : NULL;
    if (why) {
        free(buf);
        return mrapctl_error(c, MRAPCTL_USAGE, "policy %s: %s", path, why);
    }
    *out = buf;
    return MRAPCTL_OK;
}

int mrapctl_cmd_put_policy(struct mrapctl *c, int argc, char **argv)
{
    char token[MRAP_S3_TOKEN_ARN_MAX + 1];
    struct mrap_s3_control *ctl;
    char *policy = NULL;
    int rc = mrapctl_check_name(c, argv[0]);
    if (rc || (rc = read_policy(c, argv[1], &policy)))
        return rc;
    if ((rc = mrapctl_control(c, &ctl)) == 0) {
        int err = mrap_s3_control_put_policy(ctl, argv[0], policy, NULL, token, &c->err);
        rc = err ? mrapctl_fail(c, err) : finish(c, token, false);
    }
    free(policy);
    return rc;
}

int mrapctl_cmd_describe(struct mrapctl *c, int argc, char **argv)
{
    struct mrap_s3_control *ctl;
    struct mrap_s3_async_op op;
    if (strncmp(argv[0], "arn:", 4) != 0)
        return mrapctl_error(c, MRAPCTL_USAGE,
                             "'%s' is not a request token ARN (arn:aws:s3:"
                             "us-west-2:ACCOUNT:async-request/mrap/...)",
                             argv[0]);
    int rc = mrapctl_account_from_arn(c, argv[0]);
    if (rc || (rc = mrapctl_control(c, &ctl)))
        return rc;
    if ((rc = mrap_s3_control_describe(ctl, argv[0], &op, &c->err))) {
        mrap_s3_async_op_cleanup(&op);
        return mrapctl_fail(c, rc);
    }
    if (c->o.json) {
        mrapctl_json_obj(&c->out, NULL);
        mrapctl_json_async(&c->out, "AsyncOperation", &op);
        mrapctl_json_end(&c->out, '}');
        mrapctl_json_done(&c->out);
    } else {
        mrapctl_print_async(c, &op);
    }
    mrap_s3_async_op_cleanup(&op);
    return MRAPCTL_OK;
}

int mrapctl_cmd_get_policy(struct mrapctl *c, int argc, char **argv)
{
    struct mrap_s3_control *ctl;
    struct mrap_s3_mrap_policy p;
    int rc = mrapctl_check_name(c, argv[0]);
    if (rc || (rc = mrapctl_control(c, &ctl)))
        return rc;
    if ((rc = mrap_s3_control_get_policy(ctl, argv[0], &p, &c->err))) {
        mrap_s3_mrap_policy_cleanup(&p);
        return mrapctl_fail(c, rc);
    }
    if (c->o.json) {
        mrapctl_json_obj(&c->out, NULL);
        mrapctl_json_obj(&c->out, "Policy");
        const char *const which[2] = {"Established", "Proposed"};
        const char *const docs[2] = {p.established, p.proposed};
        for (int i = 0; i < 2; i++)
            if (docs[i]) {
                mrapctl_json_obj(&c->out, which[i]);
                mrapctl_json_str(&c->out, "Policy", docs[i]);
                mrapctl_json_end(&c->out, '}');
            }
        mrapctl_json_end(&c->out, '}');
        mrapctl_json_end(&c->out, '}');
        mrapctl_json_done(&c->out);
    } else {
        printf("Established:\n%s\n\nProposed:\n%s\n", p.established ? p.established : "(none)",
               p.proposed ? p.proposed : "(none)");
    }
    mrap_s3_mrap_policy_cleanup(&p);
    return MRAPCTL_OK;
}

int mrapctl_cmd_policy_status(struct mrapctl *c, int argc, char **argv)
{
    struct mrap_s3_control *ctl;
    bool is_public = false;
    int rc = mrapctl_check_name(c, argv[0]);
    if (rc || (rc = mrapctl_control(c, &ctl)))
        return rc;
    if ((rc = mrap_s3_control_policy_status(ctl, argv[0], &is_public, &c->err)))
        return mrapctl_fail(c, rc);
    if (c->o.json) {
        mrapctl_json_obj(&c->out, NULL);
        mrapctl_json_obj(&c->out, "Established");
        mrapctl_json_bool(&c->out, "IsPublic", is_public);
        mrapctl_json_end(&c->out, '}');
        mrapctl_json_end(&c->out, '}');
        mrapctl_json_done(&c->out);
    } else {
        printf("IsPublic  %s\n", is_public ? "true" : "false");
    }
    return MRAPCTL_OK;
}
