/*
 * mrapctl route commands (routes, submit-routes, failover) and presign.
 *
 * Route operations are served by five route regions; the library moves on to
 * the next one when a region does not answer or answers 5xx, starting at
 * --region (default us-east-1, so the order is the documented one). After a
 * change the routes are read back and printed: what is shown is what S3
 * reports, not what was asked for.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "s3/presign.h"

static void print_routes(struct mrapctl *c, const struct mrap_s3_routes *r, const char *served_by)
{
    if (c->o.json) {
        mrapctl_json_obj(&c->out, NULL);
        mrapctl_json_str(&c->out, "Mrap", r->mrap);
        mrapctl_json_arr(&c->out, "Routes");
        for (size_t i = 0; i < r->n; i++) {
            mrapctl_json_obj(&c->out, NULL);
            if (r->v[i].bucket[0])
                mrapctl_json_str(&c->out, "Bucket", r->v[i].bucket);
            if (r->v[i].region[0])
                mrapctl_json_str(&c->out, "Region", r->v[i].region);
            mrapctl_json_int(&c->out, "TrafficDialPercentage", r->v[i].dial);
            mrapctl_json_end(&c->out, '}');
        }
        mrapctl_json_end(&c->out, ']');
        mrapctl_json_str(&c->out, "ServedBy", served_by); /* mrapctl's own member */
        mrapctl_json_end(&c->out, '}');
        mrapctl_json_done(&c->out);
        return;
    }
    struct mrapctl_table kv, t;
    mrapctl_table_init(&kv, 2, NULL);
    mrapctl_table_row(&kv, (const char *const[]){"Mrap", r->mrap});
    mrapctl_table_row(&kv, (const char *const[]){"ServedBy", served_by});
    mrapctl_table_print(&kv, stdout);
    putchar('\n');
    mrapctl_table_init(&t, 3, (const char *const[]){"BUCKET", "REGION", "PERCENT"});
    for (size_t i = 0; i < r->n; i++) {
        char pct[8];
        snprintf(pct, sizeof(pct), "%d", r->v[i].dial);
        mrapctl_table_row(&t, (const char *const[]){r->v[i].bucket, r->v[i].region, pct});
    }
    mrapctl_table_print(&t, stdout);
}

/* Reads and prints the routes; `after` names a change already made, for the
 * message when reading back fails. */
static int show_routes(struct mrapctl *c, struct mrap_s3_control *ctl, const char *arn,
                       const char *after)
{
    struct mrap_s3_routes r;
    char served[65] = "";
    int rc = mrap_s3_control_get_routes(ctl, arn, &r, served, &c->err);
    if (rc == 0)
        print_routes(c, &r, served);
    mrap_s3_routes_cleanup(&r);
    if (rc && after)
        fprintf(stderr, "mrapctl: %s: %s, but reading the routes back failed:\n", c->cmd, after);
    return rc ? mrapctl_fail(c, rc) : MRAPCTL_OK;
}

/* The MRAP's ARN and a route client, for every route command. */
static int route_target(struct mrapctl *c, const char *arg, char arn[201],
                        struct mrap_s3_control **ctl)
{
    if (!mrapctl_route_region(c)) /* before a name costs a request */
        return MRAPCTL_USAGE;
    int rc = mrapctl_resolve_mrap(c, arg, NULL, arn);
    return rc ? rc : mrapctl_routes_client(c, ctl);
}

int mrapctl_cmd_routes(struct mrapctl *c, int argc, char **argv)
{
    struct mrap_s3_control *ctl;
    char arn[201];
    int rc = route_target(c, argv[0], arn, &ctl);
    return rc ? rc : show_routes(c, ctl, arn, NULL);
}

/* An AWS Region name as the route regions are spelled: us-east-1, ap-southeast-2,
 * us-gov-west-1 (letters, hyphens, a final number). Bucket names of that
 * shape exist but are rare; bucket:NAME= settles it. */
static bool looks_like_region(const char *s, size_t n)
{
    size_t i = n;
    while (i > 0 && isdigit((unsigned char)s[i - 1]))
        i--;
    if (i == n || i < 4 || s[i - 1] != '-' || !islower((unsigned char)s[0]) ||
        !islower((unsigned char)s[1]) || s[2] != '-')
        return false;
    for (size_t k = 0; k + 1 < i; k++)
        if (!islower((unsigned char)s[k]) && s[k] != '-')
            return false;
    return true;
}

static int parse_route(struct mrapctl *c, const char *arg, struct mrap_s3_route *r)
{
    const char *eq = strrchr(arg, '='), *name = arg;
    int kind = 0; /* 1 bucket, 2 region, 0 guess */
    if (strncmp(arg, "bucket:", 7) == 0)
        kind = 1, name += 7;
    else if (strncmp(arg, "region:", 7) == 0)
        kind = 2, name += 7;
    char *end;
    long pct = eq ? strtol(eq + 1, &end, 10) : -1;
    if (!eq || eq == name || !eq[1] || *end || pct < 0 || pct > 100 ||
        !isdigit((unsigned char)eq[1]))
        return mrapctl_error(c, MRAPCTL_USAGE,
                             "route '%s': expected BUCKET=PERCENT or "
                             "REGION=PERCENT with PERCENT 0..100",
                             arg);
    size_t n = (size_t)(eq - name);
    if (!kind)
        kind = looks_like_region(name, n) ? 2 : 1;
    char *dst = kind == 1 ? r->bucket : r->region;
    size_t cap = kind == 1 ? sizeof(r->bucket) : sizeof(r->region);
    if (n >= cap)
        return mrapctl_error(c, MRAPCTL_USAGE, "route '%s': name too long", arg);
    memset(r, 0, sizeof(*r));
    memcpy(dst, name, n);
    dst[n] = '\0';
    r->dial = (int)pct;
    return MRAPCTL_OK;
}

int mrapctl_cmd_submit_routes(struct mrapctl *c, int argc, char **argv)
{
    struct mrap_s3_route routes[MRAP_S3_MRAP_MAX_REGIONS];
    struct mrap_s3_control *ctl;
    char arn[201], served[65] = "";
    size_t n = (size_t)argc - 1;
    int rc;
    if (n > MRAP_S3_MRAP_MAX_REGIONS)
        return mrapctl_error(c, MRAPCTL_USAGE, "at most %d routes", MRAP_S3_MRAP_MAX_REGIONS);
    for (size_t i = 0; i < n; i++)
        if ((rc = parse_route(c, argv[i + 1], &routes[i])))
            return rc;
    if ((rc = route_target(c, argv[0], arn, &ctl)))
        return rc;
    if ((rc = mrap_s3_control_submit_routes(ctl, arn, routes, n, served, &c->err)))
        return mrapctl_fail(c, rc);
    return show_routes(c, ctl, arn, "the routes were submitted");
}

int mrapctl_cmd_failover(struct mrapctl *c, int argc, char **argv)
{
    struct mrap_s3_control *ctl;
    char arn[201], served[65] = "";
    if (!c->o.to_region || !looks_like_region(c->o.to_region, strlen(c->o.to_region)))
        return mrapctl_error(c, MRAPCTL_USAGE, "give the Region to fail over to: --to REGION");
    int rc = route_target(c, argv[0], arn, &ctl);
    if (rc)
        return rc;
    memset(&c->err, 0, sizeof(c->err));
    rc = mrap_s3_control_failover(ctl, arn, c->o.to_region, served, &c->err);
    if (rc == -ENOENT && !c->err.code[0] && !c->err.http_status && !c->err.transport_errno)
        return mrapctl_error(c, MRAPCTL_REMOTE,
                             "%s has no bucket in %s (see mrapctl routes); "
                             "nothing was changed",
                             arn, c->o.to_region);
    if (rc)
        return mrapctl_fail(c, rc);
    return show_routes(c, ctl, arn, "the failover was submitted");
}

int mrapctl_cmd_presign(struct mrapctl *c, int argc, char **argv)
{
    struct mrap_s3_client *client = NULL;
    struct mrap_s3_presigned p;
    char alias[64], when[32];
    const char *method = c->o.method ? c->o.method : "GET";
    unsigned expires = c->o.expires_s ? c->o.expires_s : 3600;
    if (strcmp(method, "GET") != 0 && strcmp(method, "PUT") != 0 && strcmp(method, "HEAD") != 0)
        return mrapctl_error(c, MRAPCTL_USAGE, "--method %s: GET, PUT or HEAD", method);
    if (!mrapctl_utf8_valid(argv[1]))
        return mrapctl_error(c, MRAPCTL_USAGE, "the key is not UTF-8 (S3 keys are)");
    int rc = mrapctl_resolve_mrap(c, argv[0], alias, NULL);
    if (rc || (rc = mrapctl_transport(c)))
        return rc;
    struct mrap_s3_client_opts o = {.target = MRAP_S3_TARGET_MRAP,
                                    .name = alias,
                                    .endpoint_url = mrapctl_data_endpoint(c),
                                    .http = mrap_http_pool_ops(c->pool),
                                    .creds = c->creds,
                                    .signer = c->signer};
    if ((rc = mrap_s3_client_new(&o, &client)))
        return mrapctl_error(c, MRAPCTL_CONFIG, "bad alias '%s' or endpoint URL '%s'", alias,
                             o.endpoint_url ? o.endpoint_url : "(none)");
    time_t now = time(NULL);
    memset(&p, 0, sizeof(p));
    rc = mrap_s3_presign(client, &(struct mrap_s3_presign_opts){method, argv[1], expires, now}, &p);
    mrap_s3_client_destroy(client);
    if (rc) {
        mrap_s3_presigned_cleanup(&p);
        return rc == -EINVAL || rc == -ENAMETOOLONG
                   ? mrapctl_error(c, MRAPCTL_USAGE, "key '%s': %s", argv[1], strerror(-rc))
                   : mrapctl_error(c, MRAPCTL_CONFIG, "cannot sign: %s", strerror(-rc));
    }
    mrapctl_time(now + (time_t)expires, when);
    if (c->o.json) {
        mrapctl_json_obj(&c->out, NULL);
        mrapctl_json_str(&c->out, "URL", p.url);
        mrapctl_json_str(&c->out, "Method", method);
        mrapctl_json_str(&c->out, "Key", argv[1]);
        mrapctl_json_int(&c->out, "ExpiresIn", expires);
        mrapctl_json_str(&c->out, "Expiration", when);
        mrapctl_json_end(&c->out, '}');
        mrapctl_json_done(&c->out);
    } else {
        puts(p.url);
    }
    mrap_s3_presigned_cleanup(&p);
    return MRAPCTL_OK;
}
