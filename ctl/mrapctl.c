/*
 * mrapctl: manage Amazon S3 Multi-Region Access Points (S3 Control) and
 * presign URLs for them, over the same s3/ library as mrapfs.
 *
 * This file is the command line: options (global ones anywhere on the line,
 * subcommand options checked against the subcommand that takes them), the
 * help text with the exit codes, and dispatch. Set-up of credentials and
 * clients is in setup.c, the subcommands in cmd_*.c.
 */
#include <errno.h>
#include <getopt.h> /* struct option only: the parser is ours */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "s3/creds.h"
#include "s3/http.h"
#include "s3/presign.h"
#include "s3/sigv4.h"
#include "util/log.h"

static const char usage_text[] =
    "usage: mrapctl [OPTIONS] COMMAND [ARGS...]\n"
    "\n"
    "Manage S3 Multi-Region Access Points (MRAPs) through S3 Control.\n"
    "\n"
    "Commands:\n"
    "  create NAME --bucket B[@REGION|@ACCOUNT]... [--block-public-access|\n"
    "                          --no-block-public-access]\n"
    "                          create an MRAP over up to 20 buckets (asynchronous);\n"
    "                          @REGION is checked after --wait, @ACCOUNT owns B\n"
    "  delete NAME             delete an MRAP (asynchronous)\n"
    "  describe-operation TOKEN  state of an asynchronous request\n"
    "  get NAME                one MRAP: alias, ARN, status, buckets\n"
    "  list [--page-size N]    every MRAP of the account (all pages; N per request)\n"
    "  get-policy NAME         the established and proposed policy documents\n"
    "  put-policy NAME FILE    set the policy from a JSON file ('-': stdin; asynchronous)\n"
    "  policy-status NAME      whether the established policy is public\n"
    "  routes NAME|ALIAS|ARN   the route configuration (traffic dial per bucket)\n"
    "  submit-routes NAME|ALIAS|ARN ROUTE=PERCENT...\n"
    "                          set traffic dials; ROUTE is a bucket or a region\n"
    "                          (bucket:NAME= or region:NAME= when ambiguous)\n"
    "  failover NAME|ALIAS|ARN --to REGION\n"
    "                          send all traffic to REGION's bucket (others 0)\n"
    "  presign ALIAS|ARN|NAME KEY [--method GET|PUT] [--expires SECONDS]\n"
    "                          a SigV4A presigned URL (default GET, 3600 s, at most 604800)\n"
    "\n"
    "Options:\n"
    "  --endpoint-url URL      S3 endpoint (else AWS_ENDPOINT_URL_S3_CONTROL, or\n"
    "                          AWS_ENDPOINT_URL_S3 for presign, else AWS_ENDPOINT_URL)\n"
    "  --account-id ID         the 12-digit account (taken from an ARN argument if absent)\n"
    "  --profile NAME          credentials profile (else AWS_PROFILE, else default)\n"
    "  --region REGION         route region tried first for route commands (then the\n"
    "                          others of us-east-1 us-west-2 ap-southeast-2\n"
    "                          ap-northeast-1 eu-west-1, in that order)\n"
    "  --json                  JSON output (default: aligned table)\n"
    "  --wait                  create/delete/put-policy: poll until SUCCEEDED or FAILED\n"
    "  --timeout SECONDS       bound for --wait (default 1800)\n"
    "  --debug                 log each request on stderr\n"
    "  --help, --version\n"
    "\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  S3 refused the request, could not be reached, or the operation FAILED\n"
    "  2  usage error (unknown option, bad argument, invalid name)\n"
    "  3  credentials or configuration error (no credentials, credentials S3 rejects,\n"
    "     no or bad account id, bad endpoint URL)\n"
    "  4  --wait timed out (the operation may still finish: see describe-operation)\n";

enum opt_id {
    OPT_ENDPOINT = 256,
    OPT_ACCOUNT,
    OPT_PROFILE,
    OPT_REGION,
    OPT_JSON,
    OPT_WAIT,
    OPT_TIMEOUT,
    OPT_DEBUG,
    OPT_HELP,
    OPT_VERSION,
    OPT_BUCKET,
    OPT_BPA,
    OPT_NO_BPA,
    OPT_TO,
    OPT_METHOD,
    OPT_EXPIRES,
    OPT_PAGE_SIZE,
};

static const struct option long_opts[] = {
    {"endpoint-url", required_argument, NULL, OPT_ENDPOINT},
    {"account-id", required_argument, NULL, OPT_ACCOUNT},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"region", required_argument, NULL, OPT_REGION},
    {"json", no_argument, NULL, OPT_JSON},
    {"wait", no_argument, NULL, OPT_WAIT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"debug", no_argument, NULL, OPT_DEBUG},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {"bucket", required_argument, NULL, OPT_BUCKET},
    {"block-public-access", no_argument, NULL, OPT_BPA},
    {"no-block-public-access", no_argument, NULL, OPT_NO_BPA},
    {"to", required_argument, NULL, OPT_TO},
    {"method", required_argument, NULL, OPT_METHOD},
    {"expires", required_argument, NULL, OPT_EXPIRES},
    {"page-size", required_argument, NULL, OPT_PAGE_SIZE},
    {NULL, 0, NULL, 0},
};

/* Which subcommand options a command accepts. */
enum { SO_BUCKET = 1, SO_BPA = 2, SO_TO = 4, SO_PRESIGN = 8, SO_WAIT = 16, SO_PAGE = 32 };

struct command {
    const char *name;
    mrapctl_cmd_fn *fn;
    int min_args, max_args; /* max -1: any number */
    unsigned takes;
    const char *usage;
};

static const struct command commands[] = {
    {"create", mrapctl_cmd_create, 1, 1, SO_BUCKET | SO_BPA | SO_WAIT,
     "create NAME --bucket B[@REGION|@ACCOUNT]... "
     "[--block-public-access|--no-block-public-access]"},
    {"delete", mrapctl_cmd_delete, 1, 1, SO_WAIT, "delete NAME"},
    {"describe-operation", mrapctl_cmd_describe, 1, 1, 0, "describe-operation TOKEN"},
    {"get", mrapctl_cmd_get, 1, 1, 0, "get NAME"},
    {"list", mrapctl_cmd_list, 0, 0, SO_PAGE, "list [--page-size N]"},
    {"get-policy", mrapctl_cmd_get_policy, 1, 1, 0, "get-policy NAME"},
    {"put-policy", mrapctl_cmd_put_policy, 2, 2, SO_WAIT, "put-policy NAME FILE"},
    {"policy-status", mrapctl_cmd_policy_status, 1, 1, 0, "policy-status NAME"},
    {"routes", mrapctl_cmd_routes, 1, 1, 0, "routes NAME|ALIAS|ARN"},
    {"submit-routes", mrapctl_cmd_submit_routes, 2, -1, 0,
     "submit-routes NAME|ALIAS|ARN ROUTE=PERCENT..."},
    {"failover", mrapctl_cmd_failover, 1, 1, SO_TO, "failover NAME|ALIAS|ARN --to REGION"},
    {"presign", mrapctl_cmd_presign, 2, 2, SO_PRESIGN,
     "presign ALIAS|ARN|NAME KEY [--method GET|PUT] [--expires SECONDS]"},
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("mrapctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'mrapctl --help'.\n", stderr);
    return MRAPCTL_USAGE;
}

/* A positive whole number up to max (seconds, or a count). */
static int parse_seconds(const char *s, unsigned long max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v == 0 || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* One option (and its value); returns 0, -1 after --help/--version, or an exit code. */
static int apply_option(struct mrapctl_opts *o, unsigned *given, int id, const char *name,
                        const char *v)
{
    switch (id) {
    case OPT_ENDPOINT:
        o->endpoint_url = v;
        break;
    case OPT_ACCOUNT:
        o->account_id = v;
        break;
    case OPT_PROFILE:
        o->profile = v;
        break;
    case OPT_REGION:
        o->region = v;
        break;
    case OPT_JSON:
        o->json = true;
        break;
    case OPT_WAIT:
        o->wait = true;
        *given |= SO_WAIT;
        break;
    case OPT_DEBUG:
        o->debug = true;
        break;
    case OPT_HELP:
        fputs(usage_text, stdout);
        return -1;
    case OPT_VERSION:
        printf("mrapctl %s\n", MRAP_VERSION);
        return -1;
    case OPT_TIMEOUT:
        if (parse_seconds(v, 7UL * 86400, &o->timeout_s))
            return usage_error("--timeout: '%s' is not a number of seconds (1..604800)", v);
        break;
    case OPT_BUCKET:
        if (o->n_buckets == MRAP_S3_MRAP_MAX_REGIONS)
            return usage_error("--bucket: at most %d buckets per MRAP", MRAP_S3_MRAP_MAX_REGIONS);
        o->buckets[o->n_buckets++] = v;
        *given |= SO_BUCKET;
        break;
    case OPT_BPA:
        o->block_public_access = 1;
        *given |= SO_BPA;
        break;
    case OPT_NO_BPA:
        o->block_public_access = 0;
        *given |= SO_BPA;
        break;
    case OPT_TO:
        o->to_region = v;
        *given |= SO_TO;
        break;
    case OPT_METHOD:
        o->method = v;
        *given |= SO_PRESIGN;
        break;
    case OPT_EXPIRES:
        if (parse_seconds(v, MRAP_S3_PRESIGN_MAX_EXPIRES_S, &o->expires_s))
            return usage_error("--expires: '%s' must be 1..604800 seconds (7 days)", v);
        *given |= SO_PRESIGN;
        break;
    case OPT_PAGE_SIZE:
        if (parse_seconds(v, MRAP_S3_LIST_MAX_PER_PAGE, &o->page_size))
            return usage_error("--page-size: '%s' must be 1..%d", v, MRAP_S3_LIST_MAX_PER_PAGE);
        *given |= SO_PAGE;
        break;
    default:
        return usage_error("unknown option '%s'", name);
    }
    return 0;
}

/*
 * Options may come anywhere (before or after the command and its
 * arguments), as --name VALUE or --name=VALUE; "--" ends them, so a key that
 * starts with '-' can still be given. Positional arguments are compacted into
 * the front of argv in order; *argc becomes their count.
 */
static int parse_command_line(struct mrapctl_opts *o, unsigned *given, int *argc, char **argv)
{
    int npos = 0;
    bool options_done = false;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || a[1] == '\0') {
            argv[npos++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (strcmp(a, "-h") == 0)
            a = "--help";
        if (strncmp(a, "--", 2) != 0)
            return usage_error("unknown option '%s'", a);
        size_t len = strcspn(a + 2, "=");
        const struct option *opt = NULL;
        for (const struct option *p = long_opts; p->name; p++)
            if (strlen(p->name) == len && strncmp(p->name, a + 2, len) == 0)
                opt = p;
        if (!opt)
            return usage_error("unknown option '%s'", a);
        const char *v = NULL;
        if (a[2 + len] == '=') {
            if (opt->has_arg == no_argument)
                return usage_error("option '%s' takes no value", a);
            v = a + 3 + len;
        } else if (opt->has_arg == required_argument) {
            if (i + 1 >= *argc)
                return usage_error("option '%s' needs a value", a);
            v = argv[++i];
        }
        int rc = apply_option(o, given, opt->val, a, v);
        if (rc)
            return rc;
    }
    *argc = npos;
    return 0;
}

static const char *const option_names[] = {
    [0] = "--bucket", [1] = "--block-public-access", [2] = "--to", [3] = "--method/--expires",
    [4] = "--wait",   [5] = "--page-size",
};

int main(int argc, char **argv)
{
    struct mrapctl c;
    unsigned given = 0;
    memset(&c, 0, sizeof(c));
    c.o.block_public_access = -1;
    c.o.timeout_s = MRAPCTL_DEFAULT_TIMEOUT_S;
    mrapctl_out_init(&c.out, stdout);

    int rc = parse_command_line(&c.o, &given, &argc, argv);
    if (rc)
        return rc < 0 ? MRAPCTL_OK : rc;
    if (argc == 0)
        return usage_error("%s", "no command given");
    const struct command *cmd = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, argv[0]) == 0)
            cmd = &commands[i];
    if (!cmd)
        return usage_error("unknown command '%s'", argv[0]);
    c.cmd = cmd->name;
    int nargs = argc - 1;
    if (nargs < cmd->min_args || (cmd->max_args >= 0 && nargs > cmd->max_args))
        return usage_error("usage: mrapctl %s", cmd->usage);
    for (unsigned bit = 0; bit < sizeof(option_names) / sizeof(option_names[0]); bit++)
        if ((given & (1u << bit)) && !(cmd->takes & (1u << bit))) {
            fprintf(stderr, "mrapctl: %s: %s does not apply to this command\n", cmd->name,
                    option_names[bit]);
            return MRAPCTL_USAGE;
        }

    /* The library's warnings (a retry, a route region that failed) repeat what
     * the one error line says; --debug shows them and every request. */
    struct mrap_log_opts lo = {.level = c.o.debug ? MRAP_LOG_DEBUG : MRAP_LOG_ERROR,
                               .dest = MRAP_LOG_STDERR,
                               .ident = "mrapctl"};
    mrap_log_init(&lo);
    mrap_http_global_init();
    rc = cmd->fn(&c, nargs, argv + 1);
    /* A result that did not reach stdout (a full disk, a closed pipe) is a
     * failure, not a silent success. */
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == MRAPCTL_OK)
        rc = mrapctl_error(&c, MRAPCTL_REMOTE, "cannot write the output: %s", strerror(errno));

    mrap_s3_control_destroy(c.routes);
    mrap_s3_control_destroy(c.control);
    mrap_http_pool_destroy(c.pool);
    mrap_signer_destroy(c.signer);
    mrap_creds_provider_destroy(c.creds);
    mrap_http_global_cleanup();
    mrap_log_shutdown();
    return rc;
}
