/*
 * AWS credentials: the provider chain. See creds.h for the contract.
 *
 * The chain is a table of source functions tried in order. A source answers
 * 0 (credentials found), -ENOENT (nothing here: try the next one), or any
 * other negative errno (a configuration error the user must fix: stop, with a
 * one-line reason). Today's sources are static; sources that fetch temporary
 * credentials over the network slot into the same table (see `sources`).
 *
 * Precedence follows botocore, the reference the AWS CLI users know:
 *  - the environment first (AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, with
 *    AWS_SESSION_TOKEN; one of the pair alone is an error, not a fallthrough);
 *  - except when a profile was chosen explicitly (opts->profile, i.e.
 *    --profile): then the environment's keys are skipped, as `aws --profile`
 *    does, because "use profile prod" silently answered with whatever keys the
 *    shell exported would be a nasty surprise. AWS_PROFILE is not explicit in
 *    this sense: exported keys still win over it, as in botocore;
 *  - then the shared credentials file, section [NAME]; then the config file,
 *    section [profile NAME] (or [default]). A profile that was named (by
 *    --profile or AWS_PROFILE) but exists in neither file is an error naming
 *    it; a missing "default" just means "no credentials here".
 *
 * File hygiene, as ssh does for private keys: the credentials file is refused
 * (-EACCES, naming the file and `chmod 600`) when its mode has any group or
 * other bit (mode & 077). The config file usually holds only region and
 * output settings and is often 0644, so it is refused only when the profile
 * we are about to use keeps an aws_secret_access_key in it. Files are opened
 * once and checked with fstat on the open descriptor (no check-then-open
 * race), must be regular files, at most MRAP_CREDS_FILE_MAX bytes, with lines
 * of at most MRAP_CREDS_LINE_MAX bytes.
 *
 * INI dialect (the AWS shared-config format): "#" and ";" start comment
 * lines; whitespace around names, keys and values is ignored; keys compare
 * case-insensitively, profile names exactly; a "#" or ";" preceded by
 * whitespace starts a comment after a value; indented lines after a property
 * are its sub-properties (e.g. "s3 =" blocks) and are skipped; later values
 * override earlier ones. Error messages name the file and line, never the
 * line's content, which may be a secret.
 *
 * Secrets: every heap copy is wiped with OPENSSL_cleanse before it is freed;
 * file contents are read into a buffer that is wiped too. The source string
 * holds a file name and profile name only.
 *
 * Refresh: credentials with an expiration (today only AWS_CREDENTIAL_EXPIRATION
 * from the environment, as botocore honours it; later STS/IMDS) are re-read
 * from the same source when less than MRAP_CREDS_REFRESH_S remain. The
 * lookup runs with no lock held; one thread refreshes at a time while the
 * others keep using the still-valid copy (or wait, once it has expired).
 */
#include "s3/creds.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"

#define MRAP_CREDS_FILE_MAX    ((size_t)1 << 20)
#define MRAP_CREDS_LINE_MAX    16384 /* session tokens run to a few KiB */
#define MRAP_CREDS_REFRESH_S   300
#define MRAP_CREDS_PROFILE_MAX 128

/* ---- struct mrap_credentials ------------------------------------------- */

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void mrap_credentials_cleanup(struct mrap_credentials *c)
{
    if (!c)
        return;
    wipe_free(c->access_key_id);
    wipe_free(c->secret_access_key);
    wipe_free(c->session_token);
    c->access_key_id = c->secret_access_key = c->session_token = NULL;
    c->expiration = 0;
}

int mrap_credentials_copy(struct mrap_credentials *dst, const struct mrap_credentials *src)
{
    memset(dst, 0, sizeof(*dst));
    if ((src->access_key_id && !(dst->access_key_id = strdup(src->access_key_id))) ||
        (src->secret_access_key && !(dst->secret_access_key = strdup(src->secret_access_key))) ||
        (src->session_token && !(dst->session_token = strdup(src->session_token)))) {
        mrap_credentials_cleanup(dst);
        return -ENOMEM;
    }
    dst->expiration = src->expiration;
    return 0;
}

/* ---- context shared by the sources -------------------------------------- */

struct creds_ctx {
    const char *(*getenv_fn)(const char *name, void *arg);
    void *getenv_arg;
    const char *profile;   /* resolved name */
    bool profile_explicit; /* from opts->profile */
    bool profile_named;    /* from opts->profile or AWS_PROFILE */
};

/* A source's answer: the credentials, where they came from, or why not. */
struct source_out {
    struct mrap_credentials creds;
    char source[512];
    char err[512];
};

static const char *env(const struct creds_ctx *ctx, const char *name)
{
    const char *v = ctx->getenv_fn(name, ctx->getenv_arg);
    return v && *v ? v : NULL; /* an empty variable counts as unset, as in botocore */
}

static void set_err(struct source_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(struct source_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->err, sizeof(o->err), fmt, ap);
    va_end(ap);
}

/* Keys and secrets are printable ASCII without spaces; anything else is a
 * paste accident that would only surface later as SignatureDoesNotMatch. */
static bool plausible_secret(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f)
            return false;
    return true;
}

/* Takes ownership of the three strings (any may be NULL) into o->creds. */
static int fill_creds(struct source_out *o, char *id, char *secret, char *token, const char *where)
{
    o->creds.access_key_id = id;
    o->creds.secret_access_key = secret;
    o->creds.session_token = token;
    if (!id || !secret) {
        mrap_credentials_cleanup(&o->creds);
        set_err(o, "out of memory reading credentials from %s", where);
        return -ENOMEM;
    }
    if (!plausible_secret(id) || !plausible_secret(secret) || (token && !plausible_secret(token))) {
        mrap_credentials_cleanup(&o->creds);
        set_err(o, "credentials in %s contain spaces or control characters", where);
        return -EINVAL;
    }
    return 0;
}

/* ---- source: environment ------------------------------------------------ */

/* "2024-05-01T12:00:00Z", optional fraction, "Z" or "+00:00". 0 on success. */
static int parse_utc(const char *s, time_t *out)
{
    struct tm tm;
    int n = 0;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -EINVAL;
    s += n;
    if (*s == '.')
        for (s++; isdigit((unsigned char)*s); s++)
            ;
    if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0)
        return -EINVAL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -EINVAL;
    *out = t;
    return 0;
}

static int source_env(const struct creds_ctx *ctx, struct source_out *o)
{
    if (ctx->profile_explicit)
        return -ENOENT; /* --profile beats exported keys; see the top */
    const char *id = env(ctx, "AWS_ACCESS_KEY_ID");
    const char *secret = env(ctx, "AWS_SECRET_ACCESS_KEY");
    const char *token = env(ctx, "AWS_SESSION_TOKEN");
    const char *expiry = env(ctx, "AWS_CREDENTIAL_EXPIRATION");
    time_t expiration = 0;

    if (!id && !secret)
        return -ENOENT;
    if (!id || !secret) {
        set_err(o, "%s is set but %s is not: set both or neither",
                id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        return -EINVAL;
    }
    if (!token)
        token = env(ctx, "AWS_SECURITY_TOKEN"); /* the older name, still honoured */
    if (expiry && parse_utc(expiry, &expiration)) {
        set_err(o, "AWS_CREDENTIAL_EXPIRATION is not a UTC ISO 8601 time (2024-01-31T12:00:00Z)");
        return -EINVAL;
    }
    int rc =
        fill_creds(o, strdup(id), strdup(secret), token ? strdup(token) : NULL, "the environment");
    if (rc)
        return rc;
    o->creds.expiration = expiration;
    snprintf(o->source, sizeof(o->source), "environment");
    return 0;
}

/* ---- source: shared credentials and config files ------------------------ */

/* What one file says about one profile. Strings are heap copies, wiped. */
struct profile_vals {
    bool section_found;
    mode_t mode;
    char *id, *secret, *token;
};

static void profile_vals_cleanup(struct profile_vals *v)
{
    wipe_free(v->id);
    wipe_free(v->secret);
    wipe_free(v->token);
    v->id = v->secret = v->token = NULL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Does section header text `name` (trimmed, without brackets) select `profile`? */
static bool section_matches(const char *name, const char *profile, bool config_style)
{
    if (!config_style)
        return strcmp(name, profile) == 0;
    if (strcmp(name, "default") == 0)
        return strcmp(profile, "default") == 0;
    if (strncmp(name, "profile", 7) != 0 || (name[7] != ' ' && name[7] != '\t'))
        return false;
    const char *p = name + 7;
    while (*p == ' ' || *p == '\t')
        p++;
    return strcmp(p, profile) == 0;
}

/* strerror for messages, thread-safe. */
struct errtext {
    char s[96];
};

static struct errtext errstr(int err)
{
    struct errtext t;
    char tmp[96];
    snprintf(t.s, sizeof(t.s), "%s", strerror_r(err, tmp, sizeof(tmp)));
    return t;
}

/* Replaces *slot with a copy of value (an empty value clears it). */
static int store_value(char **slot, const char *value)
{
    wipe_free(*slot);
    *slot = NULL;
    if (*value && !(*slot = strdup(value)))
        return -ENOMEM;
    return 0;
}

/*
 * Parses the INI text in buf (modified in place) and collects the keys of
 * `profile`. 0, or -EINVAL/-ENOMEM with o->err naming path and line.
 */
static int parse_ini(char *buf, const char *path, const char *profile, bool config_style,
                     struct profile_vals *v, struct source_out *o)
{
    bool in_profile = false, after_property = false;
    unsigned line_no = 0;
    char *next;

    for (char *line = buf; line; line = next) {
        line_no++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strlen(line) > MRAP_CREDS_LINE_MAX) {
            set_err(o, "%s line %u is longer than %d bytes", path, line_no, MRAP_CREDS_LINE_MAX);
            return -EINVAL;
        }
        bool indented = line[0] == ' ' || line[0] == '\t';
        char *p = trim(line);
        if (!*p || *p == '#' || *p == ';')
            continue;
        if (*p == '[') {
            char *close = strchr(p, ']');
            char *rest = close ? trim(close + 1) : NULL;
            if (!close || (*rest && *rest != '#' && *rest != ';')) {
                set_err(o, "%s line %u: malformed section header", path, line_no);
                return -EINVAL;
            }
            *close = '\0';
            in_profile = section_matches(trim(p + 1), profile, config_style);
            v->section_found |= in_profile;
            after_property = false;
            continue;
        }
        if (indented && after_property)
            continue; /* a sub-property, e.g. under "s3 =" */
        char *eq = strchr(p, '=');
        if (!eq) {
            set_err(o, "%s line %u: expected \"key = value\"", path, line_no);
            return -EINVAL;
        }
        *eq = '\0';
        char *key = trim(p);
        char *value = eq + 1;
        for (char *c = value; *c; c++) {
            if ((*c == '#' || *c == ';') && c > value && (c[-1] == ' ' || c[-1] == '\t')) {
                *c = '\0';
                break;
            }
        }
        value = trim(value);
        after_property = true;
        if (!in_profile)
            continue;
        int rc = 0;
        if (strcasecmp(key, "aws_access_key_id") == 0)
            rc = store_value(&v->id, value);
        else if (strcasecmp(key, "aws_secret_access_key") == 0)
            rc = store_value(&v->secret, value);
        else if (strcasecmp(key, "aws_session_token") == 0 ||
                 (strcasecmp(key, "aws_security_token") == 0 && !v->token))
            rc = store_value(&v->token, value);
        if (rc) {
            set_err(o, "out of memory reading %s", path);
            return rc;
        }
    }
    return 0;
}

/*
 * Reads `path` and collects `profile`. -ENOENT when the file does not exist;
 * -EACCES when it cannot be read; -EINVAL when it is not a sane file.
 */
static int read_profile_file(const char *path, const char *profile, bool config_style,
                             struct profile_vals *v, struct source_out *o)
{
    struct mrap_buf b;
    struct stat st;
    int rc = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    mrap_buf_init(&b, MRAP_CREDS_FILE_MAX);
    if (fd < 0) {
        rc = -errno;
        if (rc != -ENOENT && rc != -ENOTDIR)
            set_err(o, "cannot open %s: %s", path, errstr(-rc).s);
        else
            rc = -ENOENT;
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(o, "%s is not a regular file", path);
        rc = -EINVAL;
        goto out;
    }
    v->mode = st.st_mode;
    if (!config_style && (st.st_mode & 077)) {
        set_err(o, "%s is accessible by group or others (mode %04o); run: chmod 600 %s", path,
                (unsigned)(st.st_mode & 07777), path);
        rc = -EACCES;
        goto out;
    }
    if ((size_t)st.st_size > MRAP_CREDS_FILE_MAX) {
        set_err(o, "%s is larger than %zu bytes", path, MRAP_CREDS_FILE_MAX);
        rc = -EINVAL;
        goto out;
    }
    for (;;) {
        char chunk[4096];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            set_err(o, "cannot read %s: %s", path, errstr(errno).s);
            rc = -EIO;
        } else if (n > 0 && (rc = mrap_buf_append(&b, chunk, (size_t)n)) != 0) {
            set_err(o, "%s is larger than %zu bytes", path, MRAP_CREDS_FILE_MAX);
            rc = rc == -EFBIG ? -EINVAL : rc;
        }
        OPENSSL_cleanse(chunk, sizeof(chunk));
        if (rc || n == 0)
            break;
    }
    if (!rc && b.data)
        rc = parse_ini(b.data, path, profile, config_style, v, o);
out:
    if (fd >= 0)
        close(fd);
    mrap_buf_cleanup_secure(&b);
    if (rc && rc != -ENOENT)
        profile_vals_cleanup(v);
    return rc;
}

/* Env override, else $HOME/<rel>, with "~/" expanded; NULL when neither. */
static char *file_path(const struct creds_ctx *ctx, const char *var, const char *rel)
{
    const char *p = env(ctx, var);
    const char *home = env(ctx, "HOME");
    char *out = NULL;
    if (p && strncmp(p, "~/", 2) == 0 && home) {
        if (asprintf(&out, "%s/%s", home, p + 2) < 0)
            out = NULL;
    } else if (p) {
        out = strdup(p);
    } else if (home) {
        if (asprintf(&out, "%s/%s", home, rel) < 0)
            out = NULL;
    }
    return out;
}

static int source_profile(const struct creds_ctx *ctx, struct source_out *o)
{
    char *paths[2] = {file_path(ctx, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"),
                      file_path(ctx, "AWS_CONFIG_FILE", ".aws/config")};
    bool section_found = false;
    int rc = -ENOENT;

    for (int i = 0; i < 2; i++) {
        bool config_style = i == 1;
        struct profile_vals v = {0};
        if (!paths[i])
            continue;
        rc = read_profile_file(paths[i], ctx->profile, config_style, &v, o);
        if (rc == -ENOENT)
            continue;
        if (rc)
            goto out;
        section_found |= v.section_found;
        if (!v.id && !v.secret) {
            profile_vals_cleanup(&v);
            rc = -ENOENT;
            continue;
        }
        if (!v.id || !v.secret) {
            set_err(o, "profile %s in %s has %s but no %s", ctx->profile, paths[i],
                    v.id ? "aws_access_key_id" : "aws_secret_access_key",
                    v.id ? "aws_secret_access_key" : "aws_access_key_id");
            profile_vals_cleanup(&v);
            rc = -EINVAL;
            goto out;
        }
        if (config_style && (v.mode & 077)) {
            set_err(o,
                    "%s holds aws_secret_access_key but is accessible by group or others "
                    "(mode %04o); run: chmod 600 %s",
                    paths[i], (unsigned)(v.mode & 07777), paths[i]);
            profile_vals_cleanup(&v);
            rc = -EACCES;
            goto out;
        }
        rc = fill_creds(o, v.id, v.secret, v.token, paths[i]);
        v.id = v.secret = v.token = NULL; /* owned by o->creds now */
        if (!rc)
            snprintf(o->source, sizeof(o->source), "profile %s in %s", ctx->profile, paths[i]);
        goto out;
    }
    rc = -ENOENT;
    if (ctx->profile_named && !section_found) {
        set_err(o, "profile %s not found in %s or %s", ctx->profile,
                paths[0] ? paths[0] : "(no credentials file)",
                paths[1] ? paths[1] : "(no config file)");
        rc = -EINVAL;
    } else if (ctx->profile_named) {
        set_err(o,
                "profile %s has no aws_access_key_id/aws_secret_access_key (role_arn, sso_* "
                "and credential_process are not supported yet)",
                ctx->profile);
        rc = -EINVAL;
    }
out:
    free(paths[0]);
    free(paths[1]);
    return rc;
}

/* ---- the chain ---------------------------------------------------------- */

typedef int (*creds_source_fn)(const struct creds_ctx *ctx, struct source_out *o);

static const struct {
    const char *name;
    creds_source_fn fn;
} sources[] = {
    {"environment", source_env}, {"shared files", source_profile},
    /* Next, in botocore's order (they return credentials with an expiration,
     * which mrap_creds_provider_get refreshes from the same source; they need
     * an HTTP seam, struct mrap_http_ops, added to mrap_creds_opts):
     *   {"web identity", source_web_identity}: AWS_WEB_IDENTITY_TOKEN_FILE +
     *       AWS_ROLE_ARN -> STS AssumeRoleWithWebIdentity;
     *   {"container", source_container}: AWS_CONTAINER_CREDENTIALS_FULL_URI /
     *       _RELATIVE_URI (ECS, EKS Pod Identity);
     *   {"instance metadata", source_imds}: IMDSv2 token, then the role's
     *       credentials. */
};

#define N_SOURCES (sizeof(sources) / sizeof(sources[0]))

struct mrap_creds_provider {
    /* Read-only after new. */
    struct creds_ctx ctx;
    char *profile; /* owned; ctx.profile points here */
    size_t source_idx;
    char source[512];

    pthread_mutex_t lock;
    pthread_cond_t refreshed; /* broadcast when a refresh ends */
    /* Under lock. */
    struct mrap_credentials creds;
    bool refreshing;
};

static const char *default_getenv(const char *name, void *arg)
{
    /* secure_getenv: a set-uid mount helper must not take keys from its caller. */
    return secure_getenv(name);
}

static bool valid_profile_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MRAP_CREDS_PROFILE_MAX)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '[' || *s == ']')
            return false;
    return true;
}

int mrap_creds_provider_new(const struct mrap_creds_opts *opts, struct mrap_creds_provider **out,
                            char *errbuf, size_t errlen)
{
    struct mrap_creds_provider *p = NULL;
    struct source_out o;
    int rc = -ENOMEM;

    memset(&o, 0, sizeof(o));
    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (!p) {
        set_err(&o, "out of memory");
        goto fail;
    }
    p->ctx.getenv_fn = opts && opts->getenv_fn ? opts->getenv_fn : default_getenv;
    p->ctx.getenv_arg = opts ? opts->getenv_arg : NULL;
    const char *name = opts && opts->profile && *opts->profile ? opts->profile : NULL;
    p->ctx.profile_explicit = name != NULL;
    if (!name)
        name = env(&p->ctx, "AWS_PROFILE");
    p->ctx.profile_named = name != NULL;
    if (!name)
        name = "default";
    if (!valid_profile_name(name)) {
        set_err(&o,
                "invalid profile name (empty, over %d bytes, or with brackets or control "
                "characters)",
                MRAP_CREDS_PROFILE_MAX);
        rc = -EINVAL;
        goto fail;
    }
    if (!(p->profile = strdup(name))) {
        set_err(&o, "out of memory");
        goto fail;
    }
    p->ctx.profile = p->profile;

    rc = -ENOENT;
    for (size_t i = 0; i < N_SOURCES && rc == -ENOENT; i++) {
        rc = sources[i].fn(&p->ctx, &o);
        p->source_idx = i;
    }
    if (rc == -ENOENT && !o.err[0])
        set_err(&o,
                "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "or add profile %s to ~/.aws/credentials",
                p->profile);
    if (rc)
        goto fail;
    p->creds = o.creds;
    snprintf(p->source, sizeof(p->source), "%s", o.source);
    if ((rc = -pthread_mutex_init(&p->lock, NULL)) != 0) {
        mrap_credentials_cleanup(&p->creds);
        goto fail;
    }
    if ((rc = -pthread_cond_init(&p->refreshed, NULL)) != 0) {
        pthread_mutex_destroy(&p->lock);
        mrap_credentials_cleanup(&p->creds);
        goto fail;
    }
    *out = p;
    return 0;
fail:
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", o.err[0] ? o.err : "cannot load credentials");
    if (p)
        free(p->profile);
    free(p);
    return rc;
}

void mrap_creds_provider_destroy(struct mrap_creds_provider *p)
{
    if (!p)
        return;
    mrap_credentials_cleanup(&p->creds);
    pthread_cond_destroy(&p->refreshed);
    pthread_mutex_destroy(&p->lock);
    free(p->profile);
    free(p);
}

static bool needs_refresh(const struct mrap_credentials *c, time_t now)
{
    return c->expiration && now >= c->expiration - MRAP_CREDS_REFRESH_S;
}

static bool expired(const struct mrap_credentials *c, time_t now)
{
    return c->expiration && now >= c->expiration;
}

int mrap_creds_provider_get(struct mrap_creds_provider *p, struct mrap_credentials *out)
{
    struct source_out o;
    int rc;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&p->lock);
    for (;;) {
        time_t now = time(NULL);
        if (!needs_refresh(&p->creds, now) || (p->refreshing && !expired(&p->creds, now))) {
            rc = mrap_credentials_copy(out, &p->creds);
            pthread_mutex_unlock(&p->lock);
            return rc;
        }
        if (!p->refreshing)
            break;
        pthread_cond_wait(&p->refreshed, &p->lock);
    }
    p->refreshing = true;
    pthread_mutex_unlock(&p->lock);

    /* The lookup (file or, later, network I/O) runs with no lock held. */
    memset(&o, 0, sizeof(o));
    rc = sources[p->source_idx].fn(&p->ctx, &o);

    pthread_mutex_lock(&p->lock);
    p->refreshing = false;
    pthread_cond_broadcast(&p->refreshed);
    if (rc == 0) {
        mrap_credentials_cleanup(&p->creds);
        p->creds = o.creds;
    } else {
        mrap_log(MRAP_LOG_WARN, "creds", "refreshing credentials from %s failed: %s", p->source,
                 o.err[0] ? o.err : "no credentials");
        if (!expired(&p->creds, time(NULL)))
            rc = 0; /* the current ones are still good for a while */
        else if (rc == -ENOENT)
            rc = -EACCES; /* they expired and nothing replaced them */
    }
    if (rc == 0)
        rc = mrap_credentials_copy(out, &p->creds);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

const char *mrap_creds_provider_source(const struct mrap_creds_provider *p)
{
    return p->source;
}
