/*
 * mrapctl set-up and shared plumbing: credentials, the HTTP pool and the
 * S3 Control clients (made on first use, so that an account id taken from an
 * ARN argument is known by then), naming an MRAP by name, alias or ARN, and
 * the one error line every failure ends in.
 *
 * Exit codes: what the user must fix on their side is told apart from what
 * S3 said. No credentials, no or malformed account id and a bad endpoint URL
 * are configuration (3); a bad argument is usage (2); anything S3 answered or
 * failed to answer is remote (1).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "s3/creds.h"
#include "s3/http.h"
#include "s3/sigv4.h"

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int mrapctl_error(const struct mrapctl *c, int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mrapctl: %s: ", c->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

/* S3 codes that say the credentials themselves are wrong (not that they lack
 * a permission): the user fixes these in their configuration, exit 3. */
static bool credentials_code(const char *code)
{
    static const char *const codes[] = {"InvalidAccessKeyId",   "SignatureDoesNotMatch",
                                        "ExpiredToken",         "InvalidToken",
                                        "TokenRefreshRequired", "AuthorizationHeaderMalformed"};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(code, codes[i]) == 0)
            return true;
    return false;
}

int mrapctl_fail(struct mrapctl *c, int rc)
{
    const struct mrap_s3_error *e = &c->err;
    const struct mrap_s3_control *used = c->control ? c->control : c->routes;
    char rid[160] = "";
    if (e->request_id[0])
        snprintf(rid, sizeof(rid), " (request id %s)", e->request_id);
    if (e->code[0])
        return mrapctl_error(c, credentials_code(e->code) ? MRAPCTL_CONFIG : MRAPCTL_REMOTE,
                             "%s: %s%s", e->code, e->message[0] ? e->message : strerror(-rc), rid);
    if (e->http_status)
        return mrapctl_error(c, MRAPCTL_REMOTE, "HTTP %ld: %s%s", e->http_status,
                             e->message[0] ? e->message : strerror(-rc), rid);
    if (e->transport_errno)
        return mrapctl_error(c, MRAPCTL_REMOTE, "cannot reach %s: %s",
                             used ? mrap_s3_control_base_url(used) : "S3",
                             e->message[0] ? e->message : strerror(-e->transport_errno));
    /* Refused by the library before sending: the arguments were at fault. */
    if (rc == -EINVAL || rc == -ENAMETOOLONG)
        return mrapctl_error(c, MRAPCTL_USAGE, "invalid argument: %s", strerror(-rc));
    return mrapctl_error(c, MRAPCTL_REMOTE, "%s", strerror(-rc));
}

void mrapctl_time(time_t t, char out[32])
{
    struct tm tm;
    out[0] = '\0';
    if (t && gmtime_r(&t, &tm))
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int mrapctl_transport(struct mrapctl *c)
{
    if (c->pool)
        return MRAPCTL_OK;
    char why[512] = "";
    struct mrap_creds_opts co = {.profile = c->o.profile};
    int rc = mrap_creds_provider_new(&co, &c->creds, why, sizeof(why));
    if (rc) {
        fprintf(stderr, "mrapctl: credentials: %s\n", why[0] ? why : strerror(-rc));
        return MRAPCTL_CONFIG;
    }
    if (c->o.debug)
        fprintf(stderr, "mrapctl: credentials from %s\n", mrap_creds_provider_source(c->creds));
    struct mrap_http_pool_opts po = {.max_connections = 2,
                                     .ca_bundle = env_nonempty("AWS_CA_BUNDLE")};
    c->signer = mrap_signer_new();
    if (!c->signer || (rc = mrap_http_pool_new(&po, &c->pool))) {
        fprintf(stderr, "mrapctl: cannot set up HTTP: %s\n", strerror(rc ? -rc : ENOMEM));
        return MRAPCTL_CONFIG;
    }
    return MRAPCTL_OK;
}

static const char *control_endpoint(const struct mrapctl *c)
{
    if (c->o.endpoint_url)
        return c->o.endpoint_url;
    const char *e = env_nonempty("AWS_ENDPOINT_URL_S3_CONTROL");
    return e ? e : env_nonempty("AWS_ENDPOINT_URL");
}

const char *mrapctl_data_endpoint(const struct mrapctl *c)
{
    if (c->o.endpoint_url)
        return c->o.endpoint_url;
    const char *e = env_nonempty("AWS_ENDPOINT_URL_S3");
    return e ? e : env_nonempty("AWS_ENDPOINT_URL");
}

static int account_ok(const struct mrapctl *c)
{
    if (!c->o.account_id) {
        fprintf(stderr,
                "mrapctl: %s: no account id: give --account-id ID (12 digits) or an "
                "MRAP ARN (arn:aws:s3::ID:accesspoint/ALIAS)\n",
                c->cmd);
        return MRAPCTL_CONFIG;
    }
    if (!mrap_s3_control_account_valid(c->o.account_id))
        return mrapctl_error(c, MRAPCTL_CONFIG, "account id '%s' is not 12 digits",
                             c->o.account_id);
    return MRAPCTL_OK;
}

static int new_control(struct mrapctl *c, const char *region, struct mrap_s3_control **out)
{
    int rc = account_ok(c);
    if (rc || (rc = mrapctl_transport(c)))
        return rc;
    struct mrap_s3_control_opts o = {.account_id = c->o.account_id,
                                     .region = region,
                                     .endpoint_url = control_endpoint(c),
                                     .debug_requests = c->o.debug,
                                     .http = mrap_http_pool_ops(c->pool),
                                     .creds = c->creds,
                                     .signer = c->signer};
    rc = mrap_s3_control_new(&o, out);
    if (rc == -EINVAL)
        return mrapctl_error(c, MRAPCTL_CONFIG, "bad endpoint URL '%s'",
                             o.endpoint_url ? o.endpoint_url : "(none)");
    if (rc)
        return mrapctl_error(c, MRAPCTL_CONFIG, "%s", strerror(-rc));
    return MRAPCTL_OK;
}

int mrapctl_control(struct mrapctl *c, struct mrap_s3_control **out)
{
    /* Management operations are served in us-west-2 only; --region does not
     * move them (it would earn a PermanentRedirect). */
    int rc = c->control ? MRAPCTL_OK : new_control(c, NULL, &c->control);
    *out = c->control;
    return rc;
}

const char *mrapctl_route_region(const struct mrapctl *c)
{
    const char *first = c->o.region ? c->o.region : mrap_s3_control_route_region(0);
    for (size_t i = 0; i < MRAP_S3_CONTROL_N_ROUTE_REGIONS; i++)
        if (strcmp(first, mrap_s3_control_route_region(i)) == 0)
            return first;
    mrapctl_error(c, MRAPCTL_USAGE,
                  "--region %s: route operations are served in us-east-1, us-west-2, "
                  "ap-southeast-2, ap-northeast-1 and eu-west-1",
                  first);
    return NULL;
}

int mrapctl_routes_client(struct mrapctl *c, struct mrap_s3_control **out)
{
    const char *first = mrapctl_route_region(c);
    if (!first)
        return MRAPCTL_USAGE;
    int rc = c->routes ? MRAPCTL_OK : new_control(c, first, &c->routes);
    *out = c->routes;
    return rc;
}

/* The account of an ARN argument becomes the account id unless --account-id
 * named another, which is a contradiction on the command line. */
static int adopt_account(struct mrapctl *c, const char *account, const char *arg)
{
    if (c->o.account_id && strcmp(c->o.account_id, account) != 0)
        return mrapctl_error(c, MRAPCTL_USAGE, "--account-id %s does not match the account in %s",
                             c->o.account_id, arg);
    if (!c->o.account_id) {
        snprintf(c->account_buf, sizeof(c->account_buf), "%s", account);
        c->o.account_id = c->account_buf;
    }
    return MRAPCTL_OK;
}

int mrapctl_account_from_arn(struct mrapctl *c, const char *arg)
{
    char account[16];
    if (strncmp(arg, "arn:", 4) != 0)
        return MRAPCTL_OK;
    /* arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE */
    const char *p = arg;
    for (int i = 0; i < 4 && p; i++)
        p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
    size_t n = p ? strcspn(p, ":") : 0;
    if (n == 0 || !p[n])
        return MRAPCTL_OK; /* no account in it; the caller judges the ARN */
    if (n >= sizeof(account))
        return mrapctl_error(c, MRAPCTL_CONFIG, "the account id in '%s' is not 12 digits", arg);
    memcpy(account, p, n);
    account[n] = '\0';
    return adopt_account(c, account, arg);
}

int mrapctl_check_name(const struct mrapctl *c, const char *name)
{
    if (mrap_s3_control_name_valid(name))
        return MRAPCTL_OK;
    return mrapctl_error(c, MRAPCTL_USAGE,
                         "invalid MRAP name '%s' (3-50 characters: lower-case letters, digits "
                         "and hyphens, not starting or ending with a hyphen)",
                         name);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

int mrapctl_resolve_mrap(struct mrapctl *c, const char *arg, char alias[64], char arn[201])
{
    char buf[64] = "", account[13];
    int rc;
    if (strncmp(arg, "arn:", 4) == 0) {
        if (mrap_s3_control_parse_arn(arg, account, buf))
            return mrapctl_error(c, MRAPCTL_USAGE,
                                 "'%s' is not an MRAP ARN (arn:aws:s3::ACCOUNT:accesspoint/"
                                 "ALIAS)",
                                 arg);
        if ((rc = adopt_account(c, account, arg)))
            return rc;
    } else if (ends_with(arg, ".mrap")) {
        if (strlen(arg) >= sizeof(buf))
            return mrapctl_error(c, MRAPCTL_USAGE, "'%s' is too long for an alias", arg);
        snprintf(buf, sizeof(buf), "%s", arg);
    } else {
        struct mrap_s3_control *ctl;
        struct mrap_s3_mrap_report r;
        if ((rc = mrapctl_check_name(c, arg)) || (rc = mrapctl_control(c, &ctl)))
            return rc;
        rc = mrap_s3_control_get(ctl, arg, &r, &c->err);
        if (rc == 0)
            snprintf(buf, sizeof(buf), "%s", r.alias);
        mrap_s3_mrap_report_cleanup(&r);
        if (rc)
            return mrapctl_fail(c, rc);
    }
    if (arn) {
        if (strncmp(arg, "arn:", 4) == 0)
            snprintf(arn, 201, "%s", arg); /* as given: its partition may not be aws */
        else if ((rc = account_ok(c)))
            return rc;
        else if (mrap_s3_control_make_arn(c->o.account_id, buf, arn, 201))
            return mrapctl_error(c, MRAPCTL_USAGE, "'%s' is not a valid MRAP alias", buf);
    }
    if (alias)
        snprintf(alias, 64, "%s", buf);
    return MRAPCTL_OK;
}
