/*
 * mrap_attrop: the attribute, presign and S3 Control operations of s3/ as a
 * command, for tests/integration/test_s3_attrs_c.py to run against the
 * emulator.
 *
 *   mrap_attrop --endpoint-url URL [--alias A] [--account ID] [--region R]
 *               [--bypass] [--now EPOCH] OP ARGS...
 *
 * Objects: head KEY | get-tags KEY | put-tags KEY K=V... | delete-tags KEY |
 *   get-retention KEY | put-retention KEY "MODE RFC3339"|none | get-legal-hold KEY |
 *   put-legal-hold KEY ON|OFF | get-acl KEY | put-acl KEY CANNED |
 *   restore KEY DAYS [TIER] | presign KEY METHOD EXPIRES
 * S3 Control: ctl-create NAME BUCKET... | ctl-delete NAME | ctl-put-policy NAME JSON |
 *   ctl-describe TOKEN | ctl-get NAME | ctl-list [MAX [TOKEN]] | ctl-get-policy NAME |
 *   ctl-policy-status NAME | ctl-routes ARN | ctl-submit-routes ARN b:BUCKET=PCT|r:REGION=PCT... |
 *   ctl-failover ARN REGION
 *
 * Credentials come from the usual chain (environment, profile). Output is one
 * JSON object on stdout; exit 0 on success, 1 when the operation failed
 * ({"error": "ENOENT", "code": S3 code, "status": HTTP status}), 2 on bad usage.
 */
#include "s3/attrs.h"
#include "s3/control.h"
#include "s3/presign.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void jstr(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void jkv(const char *k, const char *v, bool comma)
{
    jstr(k);
    putchar(':');
    if (v)
        jstr(v);
    else
        fputs("null", stdout);
    if (comma)
        putchar(',');
}

static void jkl(const char *k, long long v, bool comma)
{
    jstr(k);
    printf(":%lld%s", v, comma ? "," : "");
}

struct ctx {
    struct mrap_s3_client *c;
    struct mrap_s3_control *ctl;
    bool bypass;
    time_t now;
    struct mrap_s3_error err;
};

static void print_head(const struct mrap_s3_head *h)
{
    static const char *const modes[] = {"", "GOVERNANCE", "COMPLIANCE"};
    static const char *const holds[] = {"", "OFF", "ON"};
    putchar('{');
    jkl("size", (long long)h->info.size, true);
    jkl("last_modified", (long long)h->info.mtime.tv_sec, true);
    jkv("etag", h->info.etag, true);
    jkv("storage_class", h->info.storage_class, true);
    jkv("content_type", h->content_type, true);
    jkl("restore_present", h->restore.present, true);
    jkl("restore_ongoing", h->restore.ongoing, true);
    jkl("restore_expiry", h->restore.has_expiry ? (long long)h->restore.expiry : -1, true);
    jkv("lock_mode", modes[h->lock_mode], true);
    jkl("retain_until", (long long)h->lock_retain_until, true);
    jkv("legal_hold", holds[h->legal_hold], true);
    fputs("\"meta\":{", stdout);
    for (size_t i = 0; i < h->n_meta; i++)
        jkv(h->meta[i].name, h->meta[i].value, i + 1 < h->n_meta);
    fputs("}}\n", stdout);
}

static void print_report(const struct mrap_s3_mrap_report *r)
{
    putchar('{');
    jkv("name", r->name, true);
    jkv("alias", r->alias, true);
    jkv("status", r->status, true);
    jkl("created_at", (long long)r->created_at, true);
    jkl("pab_present", r->pab.present, true);
    jkl("block_public_acls", r->pab.block_public_acls, true);
    fputs("\"regions\":[", stdout);
    for (size_t i = 0; i < r->n_regions; i++) {
        putchar('{');
        jkv("bucket", r->regions[i].bucket, true);
        jkv("region", r->regions[i].region, true);
        jkv("bucket_account_id", r->regions[i].bucket_account_id, false);
        printf("}%s", i + 1 < r->n_regions ? "," : "");
    }
    fputs("]}", stdout);
}

static int split_kv(char *arg, char **v)
{
    char *eq = strchr(arg, '=');
    if (!eq)
        return -EINVAL;
    *eq = '\0';
    *v = eq + 1;
    return 0;
}

/* Object operations. argv[0] is the key. */
static int object_op(struct ctx *x, const char *op, int argc, char **argv)
{
    const char *key = argv[0];
    int rc;
    if (strcmp(op, "head") == 0) {
        struct mrap_s3_head h;
        if ((rc = mrap_s3_head(x->c, key, &h, &x->err)) == 0)
            print_head(&h);
        mrap_s3_head_cleanup(&h);
    } else if (strcmp(op, "get-tags") == 0) {
        struct mrap_s3_tagset t;
        if ((rc = mrap_s3_get_tagging(x->c, key, &t, &x->err)) == 0) {
            fputs("{\"tags\":[", stdout);
            for (size_t i = 0; i < t.n; i++) {
                putchar('[');
                jstr(t.v[i].key);
                putchar(',');
                jstr(t.v[i].value);
                printf("]%s", i + 1 < t.n ? "," : "");
            }
            fputs("]}\n", stdout);
        }
        mrap_s3_tagset_cleanup(&t);
    } else if (strcmp(op, "put-tags") == 0) {
        struct mrap_s3_tag tags[32];
        size_t n = 0;
        for (int i = 1; i < argc && n < 32; i++, n++)
            if (split_kv(argv[i], &tags[n].value))
                return -EINVAL;
            else
                tags[n].key = argv[i];
        if ((rc = mrap_s3_put_tagging(x->c, key, tags, n, &x->err)) == 0)
            puts("{}");
    } else if (strcmp(op, "delete-tags") == 0) {
        if ((rc = mrap_s3_delete_tagging(x->c, key, &x->err)) == 0)
            puts("{}");
    } else if (strcmp(op, "get-retention") == 0) {
        struct mrap_s3_retention r;
        char text[64];
        if ((rc = mrap_s3_get_retention(x->c, key, &r, &x->err)) == 0) {
            mrap_s3_retention_to_text(&r, text);
            putchar('{');
            jkv("retention", text, false);
            puts("}");
        }
    } else if (strcmp(op, "put-retention") == 0 && argc == 2) {
        struct mrap_s3_retention r = {MRAP_S3_LOCK_NONE, 0};
        if (strcmp(argv[1], "none") != 0 && mrap_s3_retention_from_text(argv[1], &r))
            return -EINVAL;
        if ((rc = mrap_s3_put_retention(x->c, key, &r, x->bypass, &x->err)) == 0)
            puts("{}");
    } else if (strcmp(op, "get-legal-hold") == 0) {
        bool on = false;
        if ((rc = mrap_s3_get_legal_hold(x->c, key, &on, &x->err)) == 0)
            printf("{\"legal_hold\":\"%s\"}\n", on ? "ON" : "OFF");
    } else if (strcmp(op, "put-legal-hold") == 0 && argc == 2) {
        if ((rc = mrap_s3_put_legal_hold(x->c, key, strcmp(argv[1], "ON") == 0, &x->err)) == 0)
            puts("{}");
    } else if (strcmp(op, "get-acl") == 0) {
        struct mrap_s3_acl acl;
        if ((rc = mrap_s3_get_acl(x->c, key, &acl, &x->err)) == 0) {
            putchar('{');
            jkv("owner", acl.owner_id, true);
            fputs("\"grants\":[", stdout);
            for (size_t i = 0; i < acl.n_grants; i++) {
                char line[700];
                mrap_s3_grant_to_text(&acl.grants[i], line, sizeof(line));
                jstr(line);
                printf("%s", i + 1 < acl.n_grants ? "," : "");
            }
            puts("]}");
        }
        mrap_s3_acl_cleanup(&acl);
    } else if (strcmp(op, "put-acl") == 0 && argc == 2) {
        if ((rc = mrap_s3_put_canned_acl(x->c, key, argv[1], &x->err)) == 0)
            puts("{}");
    } else if (strcmp(op, "restore") == 0 && argc >= 2) {
        static const char *const outcomes[] = {"", "started", "extended", "in-progress"};
        enum mrap_s3_restore_tier tier = MRAP_S3_TIER_STANDARD;
        enum mrap_s3_restore_outcome out = 0;
        if (argc > 2 && mrap_s3_restore_tier_parse(argv[2], &tier))
            return -EINVAL;
        rc = mrap_s3_restore_object(x->c, key, (unsigned)strtoul(argv[1], NULL, 10), tier, &out,
                                    &x->err);
        if (rc == 0)
            printf("{\"outcome\":\"%s\"}\n", outcomes[out]);
    } else if (strcmp(op, "presign") == 0 && argc == 3) {
        struct mrap_s3_presigned p;
        struct mrap_s3_presign_opts o = {.method = argv[1],
                                         .key = key,
                                         .expires_s = (unsigned)strtoul(argv[2], NULL, 10),
                                         .now = x->now};
        if ((rc = mrap_s3_presign(x->c, &o, &p)) == 0) {
            putchar('{');
            jkv("url", p.url, true);
            jkv("canonical_request", p.canonical_request, true);
            jkv("string_to_sign", p.string_to_sign, false);
            puts("}");
        }
        mrap_s3_presigned_cleanup(&p);
    } else {
        return -EINVAL;
    }
    return rc;
}

static int print_token(int rc, const char *token)
{
    if (rc == 0) {
        putchar('{');
        jkv("token", token, false);
        puts("}");
    }
    return rc;
}

/* S3 Control operations. argv[0] is the name, token or ARN. */
static int control_op(struct ctx *x, const char *op, int argc, char **argv)
{
    char token[MRAP_S3_TOKEN_ARN_MAX + 1], served[65] = "";
    int rc;
    if (strcmp(op, "ctl-create") == 0) {
        struct mrap_s3_mrap_bucket b[MRAP_S3_MRAP_MAX_REGIONS];
        size_t n = 0;
        for (int i = 1; i < argc && n < MRAP_S3_MRAP_MAX_REGIONS; i++)
            b[n++] = (struct mrap_s3_mrap_bucket){argv[i], NULL};
        struct mrap_s3_mrap_create req = {
            .name = argv[0], .buckets = b, .n_buckets = n, .pab = {true, true, true, true, true}};
        return print_token(mrap_s3_control_create(x->ctl, &req, token, &x->err), token);
    }
    if (strcmp(op, "ctl-delete") == 0)
        return print_token(mrap_s3_control_delete(x->ctl, argv[0], NULL, token, &x->err), token);
    if (strcmp(op, "ctl-put-policy") == 0 && argc == 2)
        return print_token(
            mrap_s3_control_put_policy(x->ctl, argv[0], argv[1], NULL, token, &x->err), token);
    if (strcmp(op, "ctl-describe") == 0) {
        struct mrap_s3_async_op o;
        if ((rc = mrap_s3_control_describe(x->ctl, argv[0], &o, &x->err)) == 0) {
            putchar('{');
            jkv("operation", o.operation, true);
            jkv("status", o.status, true);
            jkv("name", o.name, true);
            jkv("token", o.token_arn, true);
            jkv("error_code", o.has_error ? o.error_code : NULL, true);
            jkl("regions", (long long)o.n_regions, false);
            puts("}");
        }
        mrap_s3_async_op_cleanup(&o);
    } else if (strcmp(op, "ctl-get") == 0) {
        struct mrap_s3_mrap_report r;
        if ((rc = mrap_s3_control_get(x->ctl, argv[0], &r, &x->err)) == 0) {
            print_report(&r);
            putchar('\n');
        }
        mrap_s3_mrap_report_cleanup(&r);
    } else if (strcmp(op, "ctl-list") == 0) {
        struct mrap_s3_mrap_list l;
        unsigned max = argc > 0 ? (unsigned)strtoul(argv[0], NULL, 10) : 0;
        if ((rc = mrap_s3_control_list(x->ctl, argc > 1 ? argv[1] : NULL, max, &l, &x->err)) == 0) {
            fputs("{\"items\":[", stdout);
            for (size_t i = 0; i < l.n; i++) {
                print_report(&l.items[i]);
                printf("%s", i + 1 < l.n ? "," : "");
            }
            fputs("],", stdout);
            jkv("next_token", l.next_token, false);
            puts("}");
        }
        mrap_s3_mrap_list_cleanup(&l);
    } else if (strcmp(op, "ctl-get-policy") == 0) {
        struct mrap_s3_mrap_policy p;
        if ((rc = mrap_s3_control_get_policy(x->ctl, argv[0], &p, &x->err)) == 0) {
            putchar('{');
            jkv("established", p.established, true);
            jkv("proposed", p.proposed, false);
            puts("}");
        }
        mrap_s3_mrap_policy_cleanup(&p);
    } else if (strcmp(op, "ctl-policy-status") == 0) {
        bool pub = false;
        if ((rc = mrap_s3_control_policy_status(x->ctl, argv[0], &pub, &x->err)) == 0)
            printf("{\"is_public\":%s}\n", pub ? "true" : "false");
    } else if (strcmp(op, "ctl-routes") == 0) {
        struct mrap_s3_routes r;
        if ((rc = mrap_s3_control_get_routes(x->ctl, argv[0], &r, served, &x->err)) == 0) {
            putchar('{');
            jkv("mrap", r.mrap, true);
            jkv("served_by", served, true);
            fputs("\"routes\":[", stdout);
            for (size_t i = 0; i < r.n; i++) {
                putchar('{');
                jkv("bucket", r.v[i].bucket, true);
                jkv("region", r.v[i].region, true);
                jkl("dial", r.v[i].dial, false);
                printf("}%s", i + 1 < r.n ? "," : "");
            }
            puts("]}");
        }
        mrap_s3_routes_cleanup(&r);
    } else if (strcmp(op, "ctl-failover") == 0 && argc == 2) {
        if ((rc = mrap_s3_control_failover(x->ctl, argv[0], argv[1], served, &x->err)) == 0) {
            putchar('{');
            jkv("served_by", served, false);
            puts("}");
        }
    } else if (strcmp(op, "ctl-submit-routes") == 0) {
        struct mrap_s3_route routes[MRAP_S3_MRAP_MAX_REGIONS];
        size_t n = 0;
        memset(routes, 0, sizeof(routes));
        for (int i = 1; i < argc && n < MRAP_S3_MRAP_MAX_REGIONS; i++, n++) {
            char *v;
            if (strlen(argv[i]) < 3 || argv[i][1] != ':' || split_kv(argv[i] + 2, &v))
                return -EINVAL;
            char *dst = argv[i][0] == 'b' ? routes[n].bucket : routes[n].region;
            snprintf(dst, argv[i][0] == 'b' ? sizeof(routes[n].bucket) : sizeof(routes[n].region),
                     "%s", argv[i] + 2);
            routes[n].dial = atoi(v);
        }
        rc = mrap_s3_control_submit_routes(x->ctl, argv[0], routes, n, served, &x->err);
        if (rc == 0) {
            putchar('{');
            jkv("served_by", served, false);
            puts("}");
        }
    } else {
        return -EINVAL;
    }
    return rc;
}

int main(int argc, char **argv)
{
    const char *endpoint = NULL, *alias = "mfzwi23gnjvgw.mrap", *account = "111122223333";
    const char *region = NULL;
    struct ctx x;
    memset(&x, 0, sizeof(x));
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--bypass") == 0) {
            x.bypass = true;
            continue;
        }
        const char *v = argv[++i];
        if (strcmp(argv[i - 1], "--endpoint-url") == 0)
            endpoint = v;
        else if (strcmp(argv[i - 1], "--alias") == 0)
            alias = v;
        else if (strcmp(argv[i - 1], "--account") == 0)
            account = v;
        else if (strcmp(argv[i - 1], "--region") == 0)
            region = v;
        else if (strcmp(argv[i - 1], "--now") == 0)
            x.now = (time_t)strtoll(v, NULL, 10);
        else
            i = argc; /* unknown option */
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "usage: mrap_attrop --endpoint-url URL [options] OP ARGS...\n");
        return 2;
    }
    struct mrap_log_opts lo = {.level = MRAP_LOG_WARN, .dest = MRAP_LOG_STDERR};
    mrap_log_init(&lo);
    mrap_http_global_init();
    struct mrap_creds_provider *creds = NULL;
    struct mrap_http_pool *pool = NULL;
    struct mrap_signer *signer = mrap_signer_new();
    struct mrap_http_pool_opts po = {.max_connections = 2};
    char why[256] = "";
    int rc = mrap_creds_provider_new(&(struct mrap_creds_opts){0}, &creds, why, sizeof(why));
    if (!rc)
        rc = mrap_http_pool_new(&po, &pool);
    struct mrap_s3_client_opts co = {.target = MRAP_S3_TARGET_MRAP,
                                     .name = alias,
                                     .endpoint_url = endpoint,
                                     .max_attempts = 3,
                                     .http = mrap_http_pool_ops(pool),
                                     .creds = creds,
                                     .signer = signer};
    struct mrap_s3_control_opts cto = {.account_id = account,
                                       .region = region,
                                       .endpoint_url = endpoint,
                                       .max_attempts = 3,
                                       .http = co.http,
                                       .creds = creds,
                                       .signer = signer};
    if (!rc)
        rc = strncmp(argv[i], "ctl-", 4) == 0 ? mrap_s3_control_new(&cto, &x.ctl)
                                              : mrap_s3_client_new(&co, &x.c);
    if (!rc)
        rc = x.ctl ? control_op(&x, argv[i], argc - i - 1, argv + i + 1)
                   : object_op(&x, argv[i], argc - i - 1, argv + i + 1);
    if (rc) {
        printf("{\"error\":\"%s\",\"errno\":%d,", strerrorname_np(-rc) ? strerrorname_np(-rc) : "?",
               -rc);
        jkv("code", x.err.code, true);
        jkv("message", x.err.message[0] ? x.err.message : why, true);
        jkl("status", x.err.http_status, false);
        puts("}");
    }
    mrap_s3_client_destroy(x.c);
    mrap_s3_control_destroy(x.ctl);
    mrap_http_pool_destroy(pool);
    mrap_signer_destroy(signer);
    mrap_creds_provider_destroy(creds);
    mrap_http_global_cleanup();
    return rc ? 1 : 0;
}
