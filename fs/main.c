/*
 * mrapfs / mount.mrapfs entry point.
 *
 * Order matters: everything that can fail for a reason the user must see —
 * options, credentials, the endpoint, the MRAP itself (one ListObjectsV2 with
 * max-keys=0; MRAPs refuse GetBucketLocation) — is checked while still in the
 * foreground with stderr attached, so a bad mount exits non-zero with one line
 * instead of mounting something that fails later. Only then does it mount,
 * daemonise (logging moves to syslog or --log-file) and serve.
 */
#include <errno.h>
#include <libgen.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "fs/options.h"
#include "s3/client.h"
#include "s3/control.h"
#include "s3/creds.h"
#include "s3/http.h"
#include "s3/sigv4.h"
#include "util/log.h"

struct app {
    struct mrap_fs_config cfg;
    struct mrap_creds_provider *creds;
    struct mrap_signer *signer;
    struct mrap_http_pool *pool;
    struct mrap_s3_client *s3;
    struct mrap_s3_control *control; /* NULL unless mounted by ARN */
    struct mrap_fs fs;
    bool fs_ready;
};

/* libfuse's own messages go through the one logger, at matching levels. */
static void fuse_log_bridge(enum fuse_log_level level, const char *fmt, va_list ap)
{
    enum mrap_log_level l = level <= FUSE_LOG_ERR       ? MRAP_LOG_ERROR
                            : level == FUSE_LOG_WARNING ? MRAP_LOG_WARN
                            : level <= FUSE_LOG_INFO    ? MRAP_LOG_INFO
                                                        : MRAP_LOG_DEBUG;
    mrap_vlog(l, "fuse", fmt, ap);
}

/* The S3 Control endpoint, chosen as mrapctl chooses it: an explicit
 * --endpoint-url serves both planes; otherwise AWS_ENDPOINT_URL_S3_CONTROL,
 * then AWS_ENDPOINT_URL (AWS_ENDPOINT_URL_S3 is the data plane's only). */
static const char *control_endpoint(const struct mrap_fs_config *cfg)
{
    if (cfg->endpoint_url && !cfg->endpoint_url_from_env)
        return cfg->endpoint_url;
    const char *e = getenv("AWS_ENDPOINT_URL_S3_CONTROL");
    if (!e || !*e)
        e = getenv("AWS_ENDPOINT_URL");
    return e && *e ? e : NULL;
}

static int make_client(struct app *a, unsigned max_attempts, struct mrap_s3_client **out)
{
    struct mrap_s3_client_opts o = {
        .target = a->cfg.target,
        .name = a->cfg.name,
        .region = a->cfg.region,
        .endpoint_url = a->cfg.endpoint_url,
        .max_attempts = max_attempts,
        .debug_requests = a->cfg.debug,
        .http = mrap_http_pool_ops(a->pool),
        .creds = a->creds,
        .signer = a->signer,
    };
    return mrap_s3_client_new(&o, out);
}

/* One LIST with max-keys=0 under the mount prefix, with few retries: proves the
 * endpoint answers, the credentials are accepted and the MRAP exists. */
static int probe(struct app *a)
{
    struct mrap_s3_client *c = NULL;
    struct mrap_s3_list_page pg;
    struct mrap_s3_error err;
    int rc = make_client(a, 2, &c);
    if (rc) {
        fprintf(stderr, "mrapfs: bad endpoint or name: %s\n", strerror(-rc));
        return rc;
    }
    struct mrap_s3_list_opts lo = {.prefix = a->cfg.prefix, .max_keys = 0, .probe = true};
    rc = mrap_s3_list_objects(c, &lo, &pg, &err);
    if (rc == 0) {
        mrap_s3_list_page_cleanup(&pg);
    } else if (err.http_status == 0) {
        fprintf(stderr, "mrapfs: cannot reach %s: %s\n", mrap_s3_client_base_url(c),
                err.message[0] ? err.message : strerror(-rc));
    } else {
        char msg[600];
        mrap_s3_error_format(&err, msg, sizeof(msg));
        fprintf(stderr, "mrapfs: %s refused access to %s: %s\n", mrap_s3_client_base_url(c),
                a->cfg.name, msg);
    }
    mrap_s3_client_destroy(c);
    return rc;
}

static int setup(struct app *a)
{
    char errbuf[512] = "";
    struct mrap_creds_opts co = {.profile = a->cfg.profile};
    int rc = mrap_creds_provider_new(&co, &a->creds, errbuf, sizeof(errbuf));
    if (rc) {
        fprintf(stderr, "mrapfs: credentials: %s\n", errbuf[0] ? errbuf : strerror(-rc));
        return rc;
    }
    mrap_log(MRAP_LOG_INFO, "main", "credentials from %s", mrap_creds_provider_source(a->creds));
    a->signer = mrap_signer_new();
    struct mrap_http_pool_opts po = {
        .max_connections = a->cfg.max_connections,
        .ca_bundle = a->cfg.ca_bundle,
    };
    if (!a->signer || (rc = mrap_http_pool_new(&po, &a->pool))) {
        fprintf(stderr, "mrapfs: cannot set up HTTP: %s\n", strerror(rc ? -rc : ENOMEM));
        return rc ? rc : -ENOMEM;
    }
    rc = probe(a);
    if (rc)
        return rc;
    rc = make_client(a, 0, &a->s3);
    if (!rc)
        rc = mrap_fs_init(&a->fs, &a->cfg, a->s3);
    if (rc) {
        fprintf(stderr, "mrapfs: %s\n", strerror(-rc));
        return rc;
    }
    a->fs_ready = true;
    if (a->cfg.target == MRAP_S3_TARGET_MRAP && a->cfg.account_id) {
        /* user.mrap.routes on the root: S3 Control, at the account's endpoint
         * (<account>.<endpoint host> with an endpoint URL, as mrapctl does). */
        struct mrap_s3_control_opts cto = {
            .account_id = a->cfg.account_id,
            .endpoint_url = control_endpoint(&a->cfg),
            .debug_requests = a->cfg.debug,
            .http = mrap_http_pool_ops(a->pool),
            .creds = a->creds,
            .signer = a->signer,
        };
        rc = mrap_s3_control_new(&cto, &a->control);
        if (rc)
            mrap_log(MRAP_LOG_WARN, "main", "no S3 Control client (%s): no user.mrap.routes",
                     strerror(-rc));
        a->fs.control = a->control;
    }
    /* Still in the foreground: what this finds and does is seen by whoever mounts. */
    if (a->cfg.abort_stale_uploads_s >= 0 && !a->cfg.read_only)
        mrap_fs_abort_stale_uploads(a->s3, a->cfg.prefix, a->cfg.abort_stale_uploads_s);
    return 0;
}

/* Builds libfuse's argument list from the configuration. */
static int fuse_args_for(const struct mrap_fs_config *cfg, const char *argv0,
                         struct fuse_args *args)
{
    char opts[1200];
    /* --read-only also mounts ro, so the kernel refuses writes with EROFS before
     * they reach us (the callbacks refuse them too). */
    int n =
        snprintf(opts, sizeof(opts), "fsname=mrapfs:%s,subtype=mrapfs%s,default_permissions%s%s%s",
                 cfg->source, cfg->read_only ? ",ro" : "", cfg->allow_other ? ",allow_other" : "",
                 cfg->allow_root ? ",allow_root" : "", cfg->auto_unmount ? ",auto_unmount" : "");
    if (n < 0 || (size_t)n >= sizeof(opts) || strchr(cfg->source, ','))
        return -EINVAL;
    if (fuse_opt_add_arg(args, argv0) || fuse_opt_add_arg(args, "-o") ||
        fuse_opt_add_arg(args, opts))
        return -ENOMEM;
    if (cfg->fuse_debug && fuse_opt_add_arg(args, "-d"))
        return -ENOMEM;
    return 0;
}

static int serve(struct app *a, const char *argv0)
{
    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    struct fuse_session *se = NULL;
    int rc = fuse_args_for(&a->cfg, argv0, &args);
    if (rc) {
        fprintf(stderr, "mrapfs: bad mount source or options\n");
        goto out;
    }
    se = fuse_session_new(&args, mrap_fs_lowlevel_ops(), sizeof(struct fuse_lowlevel_ops), &a->fs);
    if (!se) {
        rc = -EINVAL;
        goto out;
    }
    if (fuse_set_signal_handlers(se) != 0) {
        rc = -EIO;
        goto out;
    }
    if (fuse_session_mount(se, a->cfg.mountpoint) != 0) {
        fprintf(stderr, "mrapfs: cannot mount on %s\n", a->cfg.mountpoint);
        rc = -EIO;
        goto out_signals;
    }
    mrap_log(MRAP_LOG_INFO, "main", "mounted %s (%s) on %s", a->cfg.source,
             mrap_s3_client_base_url(a->s3), a->cfg.mountpoint);
    if (!a->cfg.foreground) {
        /* Detached, stderr goes to /dev/null: log to syslog unless a file was chosen. */
        if (!a->cfg.log_file) {
            mrap_log_shutdown();
            struct mrap_log_opts lo = {
                .level = a->cfg.debug ? MRAP_LOG_DEBUG : MRAP_LOG_INFO,
                .dest = MRAP_LOG_SYSLOG,
            };
            mrap_log_init(&lo);
        }
        if (fuse_daemonize(0) != 0) {
            rc = -EIO;
            goto out_unmount;
        }
    }
    struct fuse_loop_config loop = {.clone_fd = 0, .max_idle_threads = 16};
    rc = fuse_session_loop_mt(se, &loop);
    rc = rc > 0 ? 0 : rc; /* a positive value is the signal that ended the loop */
    mrap_log(MRAP_LOG_INFO, "main", "unmounting %s", a->cfg.mountpoint);
out_unmount:
    fuse_session_unmount(se);
out_signals:
    fuse_remove_signal_handlers(se);
out:
    if (se)
        fuse_session_destroy(se);
    fuse_opt_free_args(&args);
    return rc;
}

int main(int argc, char **argv)
{
    struct app a;
    char err[512];
    /* Cache blocks, read-ahead spans and HTTP bodies are 128 KiB to 4 MiB and
     * churn constantly across ~30 threads. glibc's default raises its mmap
     * threshold after the first large free and then serves such buffers from
     * per-thread arenas, which keep freed memory: measured here, RSS grew to
     * twice the cache budget under random reads. A fixed threshold keeps every
     * large buffer in its own mapping, returned to the system when freed. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    memset(&a, 0, sizeof(a));
    char *prog = strdup(argv[0]);
    bool helper = prog && strcmp(basename(prog), "mount.mrapfs") == 0;
    free(prog);

    int rc = mrap_fs_options_parse(argc, argv, helper, &a.cfg, err, sizeof(err));
    if (rc == MRAP_FS_PARSE_EXIT) {
        if (err[0])
            fprintf(stderr, "mount.mrapfs: %s\n", err);
        mrap_fs_options_cleanup(&a.cfg);
        return 0;
    }
    if (rc) {
        fprintf(stderr, "mrapfs: %s\n", err[0] ? err : strerror(-rc));
        mrap_fs_options_cleanup(&a.cfg);
        return 2;
    }
    struct mrap_log_opts lo = {.level = a.cfg.debug ? MRAP_LOG_DEBUG : MRAP_LOG_INFO,
                               .dest = MRAP_LOG_STDERR};
    if (a.cfg.log_file) {
        lo.dest = MRAP_LOG_FILE;
        lo.path = a.cfg.log_file;
    }
    if (mrap_log_init(&lo) != 0) {
        fprintf(stderr, "mrapfs: cannot open log file %s\n", a.cfg.log_file);
        mrap_fs_options_cleanup(&a.cfg);
        return 1;
    }
    fuse_set_log_func(fuse_log_bridge);
    if (mrap_http_global_init() != 0) {
        fprintf(stderr, "mrapfs: cannot initialise libcurl\n");
        rc = -EIO;
    } else {
        rc = setup(&a);
        if (!rc)
            rc = serve(&a, argv[0]);
    }
    if (a.fs_ready)
        mrap_fs_cleanup(&a.fs);
    mrap_s3_control_destroy(a.control);
    mrap_s3_client_destroy(a.s3);
    mrap_http_pool_destroy(a.pool);
    mrap_signer_destroy(a.signer);
    mrap_creds_provider_destroy(a.creds);
    mrap_http_global_cleanup();
    mrap_fs_options_cleanup(&a.cfg);
    mrap_log_shutdown();
    return rc ? 1 : 0;
}
