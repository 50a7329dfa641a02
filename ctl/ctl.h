/*
 * mrapctl internals: the state one invocation carries from option parsing to
 * the subcommand, and the helpers the subcommand files share.
 *
 * One struct mrapctl lives on main's stack; nothing here is global. Clients
 * are created on first use, because what they need (the account id,
 * credentials) may come from a positional argument such as an ARN, and
 * --help or a usage error must work without any of it.
 *
 * Every subcommand returns an exit code (enum mrapctl_exit), having printed
 * its result on stdout or one error line on stderr.
 */
#ifndef MRAP_CTL_H
#define MRAP_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "ctl/out.h"
#include "s3/control.h"

enum mrapctl_exit {
    MRAPCTL_OK = 0,
    MRAPCTL_REMOTE = 1,  /* S3 refused, could not be reached, or the operation FAILED */
    MRAPCTL_USAGE = 2,   /* bad command line or argument */
    MRAPCTL_CONFIG = 3,  /* credentials, account id, endpoint */
    MRAPCTL_TIMEOUT = 4, /* --wait gave up after --timeout */
};

#define MRAPCTL_DEFAULT_TIMEOUT_S 1800u

struct mrapctl_opts {
    const char *endpoint_url; /* --endpoint-url; NULL: environment, then AWS */
    const char *account_id;   /* --account-id, or taken from an ARN argument */
    const char *profile;
    const char *region; /* first route region to try; NULL: us-east-1 */
    bool json, wait, debug;
    unsigned timeout_s;
    /* subcommand options */
    const char *buckets[MRAP_S3_MRAP_MAX_REGIONS];
    size_t n_buckets;
    int block_public_access; /* -1 not given, 0 --no-block-public-access, 1 --block-public-access */
    const char *to_region;   /* failover --to */
    const char *method;      /* presign --method */
    unsigned expires_s;      /* presign --expires; 0 = not given */
    unsigned page_size;      /* list --page-size; 0 = S3's default */
};

struct mrapctl {
    struct mrapctl_opts o;
    const char *cmd; /* the subcommand, for messages */
    char account_buf[16];
    struct mrap_creds_provider *creds;
    struct mrap_signer *signer;
    struct mrap_http_pool *pool;
    struct mrap_s3_control *control; /* management, in us-west-2 */
    struct mrap_s3_control *routes;  /* route operations, from o.region on */
    struct mrap_s3_error err;        /* of the last remote call */
    struct mrapctl_out out;
};

/* Set-up on demand; each returns an exit code (and prints why on failure). */
int mrapctl_transport(struct mrapctl *c);
int mrapctl_control(struct mrapctl *c, struct mrap_s3_control **out);
int mrapctl_routes_client(struct mrapctl *c, struct mrap_s3_control **out);
/* The route region to try first (--region, default us-east-1), or NULL with a
 * usage error printed when it is not one of the five. */
const char *mrapctl_route_region(const struct mrapctl *c);
/* The data-plane endpoint for presigned URLs (--endpoint-url, AWS_ENDPOINT_URL_S3,
 * AWS_ENDPOINT_URL), or NULL for AWS. */
const char *mrapctl_data_endpoint(const struct mrapctl *c);

/* Takes the account id from an ARN argument (arn:PART:SERVICE:REGION:ACCOUNT:...)
 * unless --account-id gave one; a different one is a usage error. Returns an
 * exit code; not an ARN is fine (MRAPCTL_OK). */
int mrapctl_account_from_arn(struct mrapctl *c, const char *arg);

/*
 * An MRAP named by the user as NAME, alias (*.mrap) or ARN: fills alias and
 * arn (either may be NULL). A name costs a GetMultiRegionAccessPoint. Returns
 * an exit code, the error printed.
 */
int mrapctl_resolve_mrap(struct mrapctl *c, const char *arg, char alias[64], char arn[201]);

/* MRAPCTL_OK, or MRAPCTL_USAGE with the naming rule printed. */
int mrapctl_check_name(const struct mrapctl *c, const char *name);

/* The error line for a failed call (rc < 0, c->err filled): "mrapctl: <cmd>:
 * <code>: <message> (request id ...)". Returns the exit code for it. */
int mrapctl_fail(struct mrapctl *c, int rc);
/* "mrapctl: <cmd>: <formatted message>" on stderr; returns `code`. */
int mrapctl_error(const struct mrapctl *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ISO 8601 UTC ("2026-11-26T12:00:00Z"); "" for 0. */
void mrapctl_time(time_t t, char out[32]);

/* --wait: polls the operation until SUCCEEDED or FAILED or --timeout, with a
 * progress line on stderr. *op holds the last description. Exit code. */
int mrapctl_wait(struct mrapctl *c, const char *token, struct mrap_s3_async_op *op);

/* Subcommands: argv holds the positional arguments after the subcommand. */
typedef int mrapctl_cmd_fn(struct mrapctl *c, int argc, char **argv);
mrapctl_cmd_fn mrapctl_cmd_create, mrapctl_cmd_delete, mrapctl_cmd_describe, mrapctl_cmd_get,
    mrapctl_cmd_list, mrapctl_cmd_get_policy, mrapctl_cmd_put_policy, mrapctl_cmd_policy_status,
    mrapctl_cmd_routes, mrapctl_cmd_submit_routes, mrapctl_cmd_failover, mrapctl_cmd_presign;

/* Shared printers (cmd_show.c). */
void mrapctl_print_report(struct mrapctl *c, const struct mrap_s3_mrap_report *r);
void mrapctl_print_async(struct mrapctl *c, const struct mrap_s3_async_op *op);
void mrapctl_json_report(struct mrapctl_out *o, const char *key,
                         const struct mrap_s3_mrap_report *r);
void mrapctl_json_async(struct mrapctl_out *o, const char *key, const struct mrap_s3_async_op *op);

#endif
