/*
 * Command-line parsing for mrapfs and mount.mrapfs.
 *
 * Every setting has one name; it can be given as `--name value`, `--name=value`
 * or inside `-o name=value,...` (dashes and underscores interchangeable), so an
 * fstab line carries exactly what the command line does. Generic mount options
 * that mean nothing to an S3 filesystem (_netdev, nofail, noatime, ...) are
 * accepted and ignored, so fstab entries written for other filesystems work.
 * The table below is the single list of options; --help is printed from it.
 */
#include "fs/options.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum opt_kind { OPT_FLAG, OPT_STRING, OPT_UINT, OPT_MODE, OPT_SECONDS, OPT_SIZE };

struct opt_def {
    const char *name;
    char short_name;
    enum opt_kind kind;
    size_t offset;
    const char *help;
};

#define OFF(field) offsetof(struct mrap_fs_config, field)

static const struct opt_def opt_table[] = {
    {"endpoint-url", 0, OPT_STRING, OFF(endpoint_url),
     "S3 endpoint (also AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL); http://localhost:PORT "
     "sends MRAP requests to http://<alias>.localhost:PORT"},
    {"region", 0, OPT_STRING, OFF(region), "bucket region (plain-bucket mode, s3://BUCKET)"},
    {"prefix", 0, OPT_STRING, OFF(prefix), "mount only keys under this prefix (ends with /)"},
    {"profile", 0, OPT_STRING, OFF(profile), "credentials profile from ~/.aws"},
    {"ca-bundle", 0, OPT_STRING, OFF(ca_bundle), "CA certificates file (also AWS_CA_BUNDLE)"},
    {"log-file", 0, OPT_STRING, OFF(log_file), "log here instead of syslog/stderr"},
    {"foreground", 'f', OPT_FLAG, OFF(foreground), "stay in the foreground, log to stderr"},
    {"read-only", 0, OPT_FLAG, OFF(read_only), "refuse every write with EROFS"},
    {"allow-other", 0, OPT_FLAG, OFF(allow_other), "let other users access the mount"},
    {"allow-root", 0, OPT_FLAG, OFF(allow_root), "let root access the mount"},
    {"auto-unmount", 0, OPT_FLAG, OFF(auto_unmount), "unmount when the process dies"},
    {"uid", 0, OPT_UINT, OFF(uid), "owner of files (default: the mounting user)"},
    {"gid", 0, OPT_UINT, OFF(gid), "group of files (default: the mounting group)"},
    {"file-mode", 0, OPT_MODE, OFF(file_mode), "permission bits of files, octal (0644)"},
    {"dir-mode", 0, OPT_MODE, OFF(dir_mode), "permission bits of directories, octal (0755)"},
    {"max-connections", 0, OPT_UINT, OFF(max_connections), "parallel connections (16)"},
    {"metadata-ttl", 0, OPT_SECONDS, OFF(metadata_ttl_s),
     "seconds metadata is trusted before revalidation (1)"},
    {"cache", 0, OPT_STRING, OFF(cache_dir),
     "directory for staging files (/var/tmp/mrapfs-<uid>); when given, also a disk block cache"},
    {"max-memory-cache", 0, OPT_UINT, OFF(memory_cache_mib),
     "MiB of read blocks kept in memory (256)"},
    {"max-cache-size", 0, OPT_UINT, OFF(disk_cache_mib),
     "MiB of read blocks kept on disk under <cache>/blocks (1024; 0: none; leaves 5 % of "
     "the disk free)"},
    {"max-read-ahead", 0, OPT_UINT, OFF(read_ahead_mib),
     "MiB a sequential reader fetches ahead, at most (256; at most half the memory cache)"},
    {"max-staging-size", 0, OPT_SIZE, OFF(max_staging_bytes),
     "space staging files may take, bytes or with K/M/G/T (10G)"},
    {"ignore-setattr", 0, OPT_FLAG, OFF(ignore_setattr),
     "chmod/chown/utimens of stored files succeed without effect (default: EPERM)"},
    {"abort-stale-uploads", 0, OPT_SECONDS, OFF(abort_stale_uploads_s),
     "at mount, abort multipart uploads under the prefix older than SECONDS (0: all)"},
    {"allow-retention-bypass", 0, OPT_FLAG, OFF(allow_retention_bypass),
     "setting user.s3.retention may shorten or remove a GOVERNANCE retention (sends "
     "x-amz-bypass-governance-retention)"},
    {"debug", 'd', OPT_FLAG, OFF(debug), "log one line per S3 request"},
    {"debug-fuse", 0, OPT_FLAG, OFF(fuse_debug), "libfuse's own request trace"},
};

/* Generic mount options with no meaning here; ro/rw map onto read-only. */
static const char *const ignored_opts[] = {"_netdev",  "nofail", "noauto", "auto",
                                           "user",     "users",  "nouser", "defaults",
                                           "exec",     "noexec", "suid",   "nosuid",
                                           "dev",      "nodev",  "atime",  "noatime",
                                           "relatime", "async",  "sync",   "x-systemd.automount",
                                           NULL};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const struct opt_def *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++) {
        const char *n = opt_table[i].name;
        if (strlen(n) != len)
            continue;
        size_t j = 0;
        for (; j < len; j++) {
            char a = name[j] == '_' ? '-' : name[j];
            if (a != n[j])
                break;
        }
        if (j == len)
            return &opt_table[i];
    }
    return NULL;
}

/* A byte count with an optional binary suffix: 512, 64K, 100M, 10G, 1T. */
static int parse_size(const char *value, uint64_t *out, const char *name, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    static const char units[] = "KMGT";
    unsigned shift = 0;
    const char *unit = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    if (unit) {
        shift = 10 * (unsigned)(unit - units + 1);
        end++;
    }
    if (errno || *end || end == value || value[0] == '-' || value[0] == '+' ||
        (shift && v > (UINT64_MAX >> shift))) {
        set_err(err, errlen, "option %s: not a size (bytes, or with K/M/G/T): %s", name, value);
        return -EINVAL;
    }
    *out = (uint64_t)v << shift;
    return 0;
}

static int set_value(struct mrap_fs_config *cfg, const struct opt_def *d, const char *value,
                     char *err, size_t errlen)
{
    char *base = (char *)cfg + d->offset;
    char *end;
    switch (d->kind) {
    case OPT_FLAG:
        if (value && strcmp(value, "true") != 0 && strcmp(value, "1") != 0) {
            set_err(err, errlen, "option %s takes no value", d->name);
            return -EINVAL;
        }
        *(bool *)base = true;
        return 0;
    case OPT_STRING: {
        char *copy = strdup(value);
        if (!copy)
            return -ENOMEM;
        free(*(char **)base);
        *(char **)base = copy;
        return 0;
    }
    case OPT_UINT: {
        errno = 0;
        unsigned long v = strtoul(value, &end, 10);
        if (errno || *end || !*value || value[0] == '-' || v > UINT_MAX) {
            set_err(err, errlen, "option %s: not a number: %s", d->name, value);
            return -EINVAL;
        }
        if (d->offset == OFF(uid)) {
            cfg->uid = (uid_t)v;
        } else if (d->offset == OFF(gid)) {
            cfg->gid = (gid_t)v;
        } else {
            *(unsigned *)base = (unsigned)v;
        }
        return 0;
    }
    case OPT_MODE: {
        errno = 0;
        unsigned long v = strtoul(value, &end, 8);
        if (errno || *end || !*value || v > 07777) {
            set_err(err, errlen, "option %s: not an octal mode: %s", d->name, value);
            return -EINVAL;
        }
        *(mode_t *)base = (mode_t)v;
        return 0;
    }
    case OPT_SECONDS: {
        errno = 0;
        double v = strtod(value, &end);
        if (errno || *end || !*value || v < 0 || v > 86400 * 365) {
            set_err(err, errlen, "option %s: not a number of seconds: %s", d->name, value);
            return -EINVAL;
        }
        *(double *)base = v;
        return 0;
    }
    case OPT_SIZE:
        return parse_size(value, (uint64_t *)(void *)base, d->name, err, errlen);
    }
    return -EINVAL;
}

/* Applies one "name[=value]" from a -o list. */
static int apply_o(struct mrap_fs_config *cfg, const char *item, char *err, size_t errlen)
{
    const char *eq = strchr(item, '=');
    size_t nlen = eq ? (size_t)(eq - item) : strlen(item);
    const char *value = eq ? eq + 1 : NULL;
    if (nlen == 0)
        return 0;
    if (nlen == 2 && strncmp(item, "ro", 2) == 0 && !value) {
        cfg->read_only = true;
        return 0;
    }
    if (nlen == 2 && strncmp(item, "rw", 2) == 0 && !value)
        return 0;
    for (const char *const *ig = ignored_opts; *ig; ig++)
        if (strlen(*ig) == nlen && strncmp(item, *ig, nlen) == 0)
            return 0;
    if (strncmp(item, "x-", 2) == 0 || strncmp(item, "comment=", 8) == 0)
        return 0; /* userspace-only fstab annotations */
    const struct opt_def *d = find_opt(item, nlen);
    if (!d) {
        set_err(err, errlen, "unknown mount option: %.*s", (int)nlen, item);
        return -EINVAL;
    }
    if (d->kind != OPT_FLAG && !value) {
        set_err(err, errlen, "option %s needs a value", d->name);
        return -EINVAL;
    }
    return set_value(cfg, d, value, err, errlen);
}

static int apply_o_list(struct mrap_fs_config *cfg, const char *list, char *err, size_t errlen)
{
    char *copy = strdup(list);
    if (!copy)
        return -ENOMEM;
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save))
        rc = apply_o(cfg, tok, err, errlen);
    free(copy);
    return rc;
}

/* <MRAP> is an alias, an MRAP ARN, or s3://BUCKET for plain-bucket mode. */
static int parse_source(struct mrap_fs_config *cfg, const char *src, char *err, size_t errlen)
{
    static const char arn_prefix[] = "arn:aws:s3::";
    cfg->source = strdup(src);
    if (!cfg->source)
        return -ENOMEM;
    if (strncmp(src, "s3://", 5) == 0) {
        cfg->target = MRAP_S3_TARGET_BUCKET;
        size_t len = strcspn(src + 5, "/");
        if (len == 0 || (src[5 + len] == '/' && src[6 + len] != '\0')) {
            set_err(err, errlen, "expected s3://BUCKET, got %s (use --prefix for a folder)", src);
            return -EINVAL;
        }
        cfg->name = strndup(src + 5, len);
        return cfg->name ? 0 : -ENOMEM;
    }
    cfg->target = MRAP_S3_TARGET_MRAP;
    const char *alias = src;
    if (strncmp(src, "arn:", 4) == 0) {
        const char *ap = strstr(src, ":accesspoint/");
        if (strncmp(src, arn_prefix, sizeof(arn_prefix) - 1) != 0 || !ap) {
            set_err(err, errlen,
                    "not a Multi-Region Access Point ARN: %s "
                    "(expected arn:aws:s3::ACCOUNT:accesspoint/ALIAS)",
                    src);
            return -EINVAL;
        }
        const char *acct = src + sizeof(arn_prefix) - 1;
        cfg->account_id = strndup(acct, (size_t)(ap - acct));
        if (!cfg->account_id)
            return -ENOMEM;
        if (strlen(cfg->account_id) != 12 || strspn(cfg->account_id, "0123456789") != 12) {
            set_err(err, errlen, "bad account id in ARN: %s", src);
            return -EINVAL;
        }
        alias = ap + strlen(":accesspoint/");
    }
    /* MRAP aliases look like "mfzwi23gnjvgw.mrap": lower-case letters and digits. */
    size_t len = strlen(alias);
    if (len < 6 || len > 100 || strcmp(alias + len - 5, ".mrap") != 0 ||
        strspn(alias, "abcdefghijklmnopqrstuvwxyz0123456789") != len - 5) {
        set_err(err, errlen,
                "not a Multi-Region Access Point alias: %s (expected e.g. "
                "mfzwi23gnjvgw.mrap or its ARN)",
                alias);
        return -EINVAL;
    }
    cfg->name = strdup(alias);
    return cfg->name ? 0 : -ENOMEM;
}

static void print_version(void)
{
    printf("mrapfs %s\n", MRAP_VERSION);
}

void mrap_fs_options_usage(const char *prog)
{
    printf("usage: %s [OPTIONS] <MRAP> <MOUNTPOINT>\n\n"
           "Mounts an Amazon S3 Multi-Region Access Point as a directory tree.\n"
           "<MRAP> is an alias (mfzwi23gnjvgw.mrap), an ARN\n"
           "(arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap), or s3://BUCKET\n"
           "for a plain regional bucket (with --region; signed with SigV4).\n\n"
           "Options (also as -o name=value,... with - or _ in names):\n",
           prog);
    for (size_t i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++) {
        const struct opt_def *d = &opt_table[i];
        char left[64];
        if (d->short_name)
            snprintf(left, sizeof(left), "-%c, --%s%s", d->short_name, d->name,
                     d->kind == OPT_FLAG ? "" : " VALUE");
        else
            snprintf(left, sizeof(left), "--%s%s", d->name, d->kind == OPT_FLAG ? "" : " VALUE");
        printf("  %-30s %s\n", left, d->help);
    }
    printf("  %-30s %s\n", "-o OPT[,OPT...]", "any option above, for fstab and mount(8)");
    printf("  %-30s %s\n", "--version", "print the version");
    printf("  %-30s %s\n", "-h, --help", "this help");
    printf("\nCredentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], "
           "then\n~/.aws/credentials and ~/.aws/config (AWS_PROFILE or --profile).\n");
}

static void set_defaults(struct mrap_fs_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->uid = getuid();
    cfg->gid = getgid();
    cfg->file_mode = 0644;
    cfg->dir_mode = 0755;
    cfg->max_connections = 16;
    cfg->metadata_ttl_s = 1.0;
    cfg->max_staging_bytes = 10ull << 30;
    cfg->abort_stale_uploads_s = -1;
    cfg->memory_cache_mib = 256;
    cfg->disk_cache_mib = UINT_MAX; /* not given */
    cfg->read_ahead_mib = 256;
}

/* Normalises what was parsed and checks combinations. */
static int finish(struct mrap_fs_config *cfg, char *err, size_t errlen)
{
    if (!cfg->endpoint_url) {
        const char *e = getenv("AWS_ENDPOINT_URL_S3");
        if (!e || !*e)
            e = getenv("AWS_ENDPOINT_URL");
        if (e && *e && !(cfg->endpoint_url = strdup(e)))
            return -ENOMEM;
        cfg->endpoint_url_from_env = cfg->endpoint_url != NULL;
    }
    if (!cfg->ca_bundle) {
        const char *e = getenv("AWS_CA_BUNDLE");
        if (e && *e && !(cfg->ca_bundle = strdup(e)))
            return -ENOMEM;
    }
    if (!cfg->prefix && !(cfg->prefix = strdup("")))
        return -ENOMEM;
    size_t plen = strlen(cfg->prefix);
    if (plen && (cfg->prefix[0] == '/' || cfg->prefix[plen - 1] != '/')) {
        set_err(err, errlen, "--prefix must not start with / and must end with /: %s", cfg->prefix);
        return -EINVAL;
    }
    if (cfg->target == MRAP_S3_TARGET_BUCKET && !cfg->region) {
        const char *e = getenv("AWS_REGION");
        if (!e || !*e)
            e = getenv("AWS_DEFAULT_REGION");
        if (!e || !*e) {
            set_err(err, errlen, "s3://%s needs --region (or AWS_REGION)", cfg->name);
            return -EINVAL;
        }
        if (!(cfg->region = strdup(e)))
            return -ENOMEM;
    }
    if (cfg->max_connections < 1 || cfg->max_connections > 256) {
        set_err(err, errlen, "--max-connections must be between 1 and 256");
        return -EINVAL;
    }
    if (cfg->memory_cache_mib < 4 || cfg->memory_cache_mib > (1u << 20)) {
        set_err(err, errlen, "--max-memory-cache must be between 4 and 1048576 MiB");
        return -EINVAL;
    }
    if (cfg->read_ahead_mib < 1) {
        set_err(err, errlen, "--max-read-ahead must be at least 1 MiB");
        return -EINVAL;
    }
    /* A disk tier only when asked for (--cache or --max-cache-size given), and
     * never with --max-cache-size 0 (e.g. a small --cache kept for staging). */
    cfg->disk_cache_enabled =
        (cfg->cache_dir || cfg->disk_cache_mib != UINT_MAX) && cfg->disk_cache_mib != 0;
    if (cfg->disk_cache_mib == UINT_MAX)
        cfg->disk_cache_mib = 1024;
    if (!cfg->cache_dir &&
        asprintf(&cfg->cache_dir, "/var/tmp/mrapfs-%u", (unsigned)getuid()) < 0) {
        cfg->cache_dir = NULL;
        return -ENOMEM;
    }
    if (cfg->cache_dir[0] != '/') {
        /* The daemon changes to / when it detaches: make the path absolute now. */
        char cwd[PATH_MAX], *abs_cache = NULL;
        if (!getcwd(cwd, sizeof(cwd)) || asprintf(&abs_cache, "%s/%s", cwd, cfg->cache_dir) < 0) {
            set_err(err, errlen, "--cache %s: cannot make the path absolute", cfg->cache_dir);
            return -EINVAL;
        }
        free(cfg->cache_dir);
        cfg->cache_dir = abs_cache;
    }
    char *abs = realpath(cfg->mountpoint, NULL);
    if (!abs) {
        set_err(err, errlen, "mount point %s: %s", cfg->mountpoint, strerror(errno));
        return -EINVAL;
    }
    free(cfg->mountpoint);
    cfg->mountpoint = abs;
    return 0;
}

int mrap_fs_options_parse(int argc, char **argv, bool as_mount_helper, struct mrap_fs_config *cfg,
                          char *err, size_t errlen)
{
    const char *positional[2] = {NULL, NULL};
    int npos = 0, rc = 0;
    set_defaults(cfg);
    err[0] = '\0';

    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            mrap_fs_options_usage(argv[0]);
            return MRAP_FS_PARSE_EXIT;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            print_version();
            return MRAP_FS_PARSE_EXIT;
        }
        if (strcmp(a, "-o") == 0 || strncmp(a, "-o", 2) == 0) {
            const char *list = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!list) {
                set_err(err, errlen, "-o needs a list of options");
                return -EINVAL;
            }
            rc = apply_o_list(cfg, list, err, errlen);
        } else if (strncmp(a, "--", 2) == 0 && a[2]) {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
            const struct opt_def *d = find_opt(name, nlen);
            if (!d) {
                set_err(err, errlen, "unknown option: %s (see --help)", a);
                return -EINVAL;
            }
            const char *value = eq ? eq + 1 : NULL;
            if (d->kind != OPT_FLAG && !value) {
                if (i + 1 >= argc) {
                    set_err(err, errlen, "option --%s needs a value", d->name);
                    return -EINVAL;
                }
                value = argv[++i];
            }
            rc = set_value(cfg, d, value, err, errlen);
        } else if (a[0] == '-' && a[1]) {
            /* Short flags; mount(8) passes -s (sloppy), -f (fake), -n (no mtab), -v. */
            for (const char *p = a + 1; *p && !rc; p++) {
                if (as_mount_helper && (*p == 's' || *p == 'n' || *p == 'v'))
                    continue;
                const struct opt_def *d = NULL;
                for (size_t k = 0; k < sizeof(opt_table) / sizeof(opt_table[0]); k++)
                    if (opt_table[k].short_name == *p)
                        d = &opt_table[k];
                if (as_mount_helper && *p == 'f') {
                    set_err(err, errlen, "fake mount (-f): nothing done");
                    return MRAP_FS_PARSE_EXIT;
                }
                if (!d || d->kind != OPT_FLAG) {
                    set_err(err, errlen, "unknown option: -%c (see --help)", *p);
                    return -EINVAL;
                }
                rc = set_value(cfg, d, NULL, err, errlen);
            }
        } else if (npos < 2) {
            positional[npos++] = a;
        } else {
            set_err(err, errlen, "unexpected argument: %s", a);
            return -EINVAL;
        }
    }
    if (rc)
        return rc;
    if (npos != 2) {
        set_err(err, errlen, "usage: %s [OPTIONS] <MRAP> <MOUNTPOINT> (see --help)", argv[0]);
        return -EINVAL;
    }
    rc = parse_source(cfg, positional[0], err, errlen);
    if (rc)
        return rc;
    if (!(cfg->mountpoint = strdup(positional[1])))
        return -ENOMEM;
    return finish(cfg, err, errlen);
}

void mrap_fs_options_cleanup(struct mrap_fs_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->source);
    free(cfg->name);
    free(cfg->account_id);
    free(cfg->region);
    free(cfg->mountpoint);
    free(cfg->endpoint_url);
    free(cfg->prefix);
    free(cfg->profile);
    free(cfg->ca_bundle);
    free(cfg->log_file);
    free(cfg->cache_dir);
    memset(cfg, 0, sizeof(*cfg));
}
