/*
 * The credential chain: environment, shared credentials file, config file;
 * profile selection; file permission checks; INI details; refresh; and that
 * no secret ever reaches a source string or an error message.
 * Everything runs against a temporary HOME and a fake environment.
 */
#include "s3/creds.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- a fake environment ------------------------------------------------- */

#define MAX_VARS 16

struct fake_env {
    const char *name[MAX_VARS];
    char value[MAX_VARS][512];
    int n;
};

static const char *fake_getenv(const char *name, void *arg)
{
    struct fake_env *e = arg;
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->name[i], name) == 0)
            return e->value[i];
    return NULL;
}

static void env_set(struct fake_env *e, const char *name, const char *value)
{
    for (int i = 0; i < e->n; i++) {
        if (strcmp(e->name[i], name) == 0) {
            snprintf(e->value[i], sizeof(e->value[i]), "%s", value);
            return;
        }
    }
    e->name[e->n] = name;
    snprintf(e->value[e->n], sizeof(e->value[e->n]), "%s", value);
    e->n++;
}

static void env_unset(struct fake_env *e, const char *name)
{
    for (int i = 0; i < e->n; i++) {
        if (strcmp(e->name[i], name) == 0) {
            e->n--;
            e->name[i] = e->name[e->n];
            memcpy(e->value[i], e->value[e->n], sizeof(e->value[i]));
            return;
        }
    }
}

/* ---- files -------------------------------------------------------------- */

static char home[256], aws_dir[300], cred_path[320], conf_path[320];

static void write_file(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        fprintf(stderr, "cannot write %s\n", path);
    close(fd);
    chmod(path, mode);
}

static const char credentials_text[] =
    "# comment\n"
    "; another comment\n"
    "\n"
    "[default]\n"
    "aws_access_key_id = AKIDDEFAULT\n"
    "aws_secret_access_key = defaultsecret\n"
    "\n"
    "  [work]   \r\n"
    "AWS_Access_Key_ID=AKIDWORK   \r\n"
    "aws_secret_access_key\t=\tworksecret # trailing comment\n"
    "aws_session_token = worktoken;notacomment\n"
    "s3 =\n"
    "  aws_access_key_id = NOTTHISONE\n"
    "  max_concurrent_requests = 20\n"
    "region = us-east-1\n"
    "\n"
    "[partial]\n"
    "aws_access_key_id = AKIDPARTIAL\n"
    "\n"
    "[profile cfg]\n" /* in the credentials file this is a profile named "profile cfg" */
    "aws_access_key_id = AKIDWRONG\n"
    "aws_secret_access_key = wrongsecret\n";

static const char config_text[] = "[default]\n"
                                  "region = eu-west-1\n"
                                  "[profile cfg]\n"
                                  "aws_access_key_id = AKIDCFG\n"
                                  "aws_secret_access_key = cfgsecret\n"
                                  "[profile   spaced  ]\n"
                                  "aws_access_key_id = AKIDSPACED\n"
                                  "aws_secret_access_key = spacedsecret\n"
                                  "[profile nokeys]\n"
                                  "region = ap-south-1\n"
                                  "[cfg]\n" /* not a profile in the config file */
                                  "aws_access_key_id = AKIDWRONG2\n";

static const char *const all_secrets[] = {"defaultsecret", "worksecret", "worktoken",
                                          "cfgsecret",     "envsecret",  "envtoken",
                                          "spacedsecret",  "wrongsecret"};

static bool has_secret(const char *s)
{
    for (size_t i = 0; i < sizeof(all_secrets) / sizeof(all_secrets[0]); i++)
        if (strstr(s, all_secrets[i]))
            return true;
    return false;
}

/* ---- helpers ------------------------------------------------------------ */

struct result {
    int rc;
    char err[512];
    char source[512];
    char id[64], secret[64], token[64];
};

static struct result load(struct fake_env *e, const char *profile)
{
    struct result r;
    memset(&r, 0, sizeof(r));
    struct mrap_creds_opts o = {.profile = profile, .getenv_fn = fake_getenv, .getenv_arg = e};
    struct mrap_creds_provider *p = NULL;
    r.rc = mrap_creds_provider_new(&o, &p, r.err, sizeof(r.err));
    if (r.rc == 0) {
        struct mrap_credentials c;
        snprintf(r.source, sizeof(r.source), "%s", mrap_creds_provider_source(p));
        if (mrap_creds_provider_get(p, &c) == 0) {
            snprintf(r.id, sizeof(r.id), "%s", c.access_key_id);
            snprintf(r.secret, sizeof(r.secret), "%s", c.secret_access_key);
            snprintf(r.token, sizeof(r.token), "%s", c.session_token ? c.session_token : "-");
            mrap_credentials_cleanup(&c);
        }
        mrap_creds_provider_destroy(p);
    }
    CHECK(!has_secret(r.source) && !has_secret(r.err), "no secret in \"%s\" / \"%s\"", r.source,
          r.err);
    return r;
}

static void base_env(struct fake_env *e)
{
    memset(e, 0, sizeof(*e));
    env_set(e, "HOME", home);
}

/* ---- tests -------------------------------------------------------------- */

static void test_env(void)
{
    struct fake_env e;
    base_env(&e);
    env_set(&e, "AWS_ACCESS_KEY_ID", "AKIDENV");
    env_set(&e, "AWS_SECRET_ACCESS_KEY", "envsecret");
    env_set(&e, "AWS_SESSION_TOKEN", "envtoken");
    struct result r = load(&e, NULL);
    CHECK_INT(r.rc, 0);
    CHECK_STR(r.id, "AKIDENV");
    CHECK_STR(r.secret, "envsecret");
    CHECK_STR(r.token, "envtoken");
    CHECK_STR(r.source, "environment");

    /* The older token name. */
    env_unset(&e, "AWS_SESSION_TOKEN");
    env_set(&e, "AWS_SECURITY_TOKEN", "envtoken");
    r = load(&e, NULL);
    CHECK_STR(r.token, "envtoken");
    env_unset(&e, "AWS_SECURITY_TOKEN");
    r = load(&e, NULL);
    CHECK_STR(r.token, "-");

    /* Partial: an error naming what is missing, not a silent fallthrough. */
    env_unset(&e, "AWS_SECRET_ACCESS_KEY");
    r = load(&e, NULL);
    CHECK_INT(r.rc, -EINVAL);
    CHECK(strstr(r.err, "AWS_SECRET_ACCESS_KEY") != NULL, "names the missing variable: %s", r.err);
    env_unset(&e, "AWS_ACCESS_KEY_ID");
    env_set(&e, "AWS_SECRET_ACCESS_KEY", "envsecret");
    r = load(&e, NULL);
    CHECK_INT(r.rc, -EINVAL);
    CHECK(strstr(r.err, "AWS_ACCESS_KEY_ID") != NULL, "names the missing variable: %s", r.err);

    /* Empty counts as unset. */
    env_set(&e, "AWS_ACCESS_KEY_ID", "");
    env_set(&e, "AWS_SECRET_ACCESS_KEY", "");
    r = load(&e, NULL);
    CHECK_INT(r.rc, -ENOENT); /* no files in HOME yet */
    CHECK(strstr(r.err, "no AWS credentials") != NULL, "clear message: %s", r.err);

    /* A value with a space is refused without echoing it. */
    env_set(&e, "AWS_ACCESS_KEY_ID", "AKID ENV");
    env_set(&e, "AWS_SECRET_ACCESS_KEY", "envsecret");
    r = load(&e, NULL);
    CHECK_INT(r.rc, -EINVAL);
}

static void test_files(void)
{
    struct fake_env e;
    base_env(&e);
    write_file(cred_path, credentials_text, 0600);
    write_file(conf_path, config_text, 0600);

    struct result r = load(&e, NULL);
    CHECK_INT(r.rc, 0);
    CHECK_STR(r.id, "AKIDDEFAULT");
    CHECK_STR(r.secret, "defaultsecret");
    CHECK_STR(r.token, "-");
    char want[600];
    snprintf(want, sizeof(want), "profile default in %s", cred_path);
    CHECK_STR(r.source, want);

    /* AWS_PROFILE; comments, whitespace, CRLF, key case, sub-properties. */
    env_set(&e, "AWS_PROFILE", "work");
    r = load(&e, NULL);
    CHECK_INT(r.rc, 0);
    CHECK_STR(r.id, "AKIDWORK");
    CHECK_STR(r.secret, "worksecret");
    CHECK_STR(r.token, "worktoken;notacomment");

    /* opts->profile beats AWS_PROFILE. */
    r = load(&e, "default");
    CHECK_STR(r.id, "AKIDDEFAULT");

    /* Exported keys beat AWS_PROFILE, but not an explicit --profile. */
    env_set(&e, "AWS_ACCESS_KEY_ID", "AKIDENV");
    env_set(&e, "AWS_SECRET_ACCESS_KEY", "envsecret");
    r = load(&e, NULL);
    CHECK_STR(r.id, "AKIDENV");
    r = load(&e, "work");
    CHECK_STR(r.id, "AKIDWORK");
    env_unset(&e, "AWS_ACCESS_KEY_ID");
    env_unset(&e, "AWS_SECRET_ACCESS_KEY");
    env_unset(&e, "AWS_PROFILE");

    /* From the config file: [profile NAME], inner whitespace tolerated. */
    r = load(&e, "cfg");
    CHECK_INT(r.rc, 0);
    CHECK_STR(r.id, "AKIDCFG");
    snprintf(want, sizeof(want), "profile cfg in %s", conf_path);
    CHECK_STR(r.source, want);
    r = load(&e, "spaced");
    CHECK_STR(r.id, "AKIDSPACED");

    /* Missing and incomplete profiles. */
    r = load(&e, "nosuch");
    CHECK_INT(r.rc, -EINVAL);
    CHECK(strstr(r.err, "nosuch") != NULL, "names the profile: %s", r.err);
    env_set(&e, "AWS_PROFILE", "nosuch2");
    r = load(&e, NULL);
    CHECK_INT(r.rc, -EINVAL);
    CHECK(strstr(r.err, "nosuch2") != NULL, "names the profile: %s", r.err);
    env_unset(&e, "AWS_PROFILE");
    r = load(&e, "partial");
    CHECK_INT(r.rc, -EINVAL);
    CHECK(strstr(r.err, "aws_secret_access_key") != NULL, "says what is missing: %s", r.err);
    r = load(&e, "nokeys");
    CHECK_INT(r.rc, -EINVAL);
    CHECK(strstr(r.err, "nokeys") != NULL, "names the profile: %s", r.err);
    r = load(&e, "bad[name]");
    CHECK_INT(r.rc, -EINVAL);

    /* Explicit file locations, with ~ expansion. */
    char alt[400];
    snprintf(alt, sizeof(alt), "%s/alt-credentials", home);
    write_file(alt, "[default]\naws_access_key_id=AKIDALT\naws_secret_access_key=x\n", 0600);
    env_set(&e, "AWS_SHARED_CREDENTIALS_FILE", "~/alt-credentials");
    r = load(&e, NULL);
    CHECK_STR(r.id, "AKIDALT");
    env_set(&e, "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
    env_set(&e, "AWS_CONFIG_FILE", alt);
    r = load(&e, NULL); /* [default] is also the default profile of a config file */
    CHECK_STR(r.id, "AKIDALT");
    unlink(alt);
    env_unset(&e, "AWS_SHARED_CREDENTIALS_FILE");
    env_unset(&e, "AWS_CONFIG_FILE");

    /* No HOME and no explicit files: nothing to read, no crash. */
    struct fake_env none;
    memset(&none, 0, sizeof(none));
    r = load(&none, NULL);
    CHECK_INT(r.rc, -ENOENT);
}

static void test_permissions(void)
{
    struct fake_env e;
    base_env(&e);
    write_file(conf_path, config_text, 0600);
    static const mode_t refused[] = {0644, 0640, 0604, 0660, 0606};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        write_file(cred_path, credentials_text, refused[i]);
        struct result r = load(&e, NULL);
        CHECK(r.rc == -EACCES, "mode %04o refused (%d)", (unsigned)refused[i], r.rc);
        CHECK(strstr(r.err, cred_path) && strstr(r.err, "chmod 600"), "clear message: %s", r.err);
    }
    write_file(cred_path, credentials_text, 0400);
    CHECK_INT(load(&e, NULL).rc, 0);
    write_file(cred_path, credentials_text, 0600);
    CHECK_INT(load(&e, NULL).rc, 0);

    /* The config file: fine at 0644 unless the chosen profile keeps a secret there. */
    write_file(conf_path, config_text, 0644);
    CHECK_INT(load(&e, NULL).rc, 0);
    struct result r = load(&e, "cfg");
    CHECK_INT(r.rc, -EACCES);
    CHECK(strstr(r.err, conf_path) && strstr(r.err, "chmod 600"), "clear message: %s", r.err);
    r = load(&e, "nokeys");
    CHECK_INT(r.rc, -EINVAL);
    write_file(conf_path, config_text, 0600);
}

static void test_malformed(void)
{
    struct fake_env e;
    base_env(&e);
    unlink(conf_path);
    static const char *const bad[] = {
        "[default]\naws_access_key_id = A\njust some words\n",
        "[default\naws_access_key_id = A\n",
        "[default] trailing\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(cred_path, bad[i], 0600);
        struct result r = load(&e, NULL);
        CHECK(r.rc == -EINVAL, "malformed %zu -> EINVAL (%d)", i, r.rc);
        CHECK(strstr(r.err, "line ") != NULL, "names the line: %s", r.err);
    }
    /* A section header with a trailing comment is fine. */
    write_file(cred_path, "[default] # main\naws_access_key_id=A\naws_secret_access_key=B\n", 0600);
    CHECK_INT(load(&e, NULL).rc, 0);

    /* Over-long line, oversized file, not a regular file. */
    size_t n = 20000;
    char *big = malloc(n + 64);
    strcpy(big, "[default]\naws_session_token = ");
    memset(big + strlen(big), 'T', n);
    big[30 + n] = '\0';
    write_file(cred_path, big, 0600);
    struct result r = load(&e, NULL);
    CHECK_INT(r.rc, -EINVAL);
    CHECK(strstr(r.err, "longer than") != NULL, "%s", r.err);
    free(big);

    size_t huge = (1u << 20) + 10;
    big = malloc(huge + 1);
    memset(big, '#', huge);
    big[huge] = '\0';
    write_file(cred_path, big, 0600);
    r = load(&e, NULL);
    CHECK_INT(r.rc, -EINVAL);
    CHECK(strstr(r.err, "larger than") != NULL, "%s", r.err);
    free(big);

    unlink(cred_path);
    mkdir(cred_path, 0700);
    r = load(&e, NULL);
    CHECK_INT(r.rc, -EINVAL);
    rmdir(cred_path);
    write_file(cred_path, credentials_text, 0600);
    write_file(conf_path, config_text, 0600);
}

static void iso_utc(time_t t, char *out, size_t outlen)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct getter {
    struct mrap_creds_provider *p;
    int ok;
};

static void *getter_main(void *arg)
{
    struct getter *g = arg;
    for (int i = 0; i < 500; i++) {
        struct mrap_credentials c;
        if (mrap_creds_provider_get(g->p, &c) == 0 && strcmp(c.access_key_id, "AKIDNEW") == 0 &&
            strcmp(c.secret_access_key, "envsecret") == 0)
            g->ok++;
        mrap_credentials_cleanup(&c);
    }
    return NULL;
}

static void test_refresh_and_threads(void)
{
    struct fake_env e;
    base_env(&e);
    char when[64];
    env_set(&e, "AWS_ACCESS_KEY_ID", "AKIDOLD");
    env_set(&e, "AWS_SECRET_ACCESS_KEY", "envsecret");
    iso_utc(time(NULL) + 60, when, sizeof(when)); /* inside the refresh window */
    env_set(&e, "AWS_CREDENTIAL_EXPIRATION", when);

    struct mrap_creds_opts o = {.getenv_fn = fake_getenv, .getenv_arg = &e};
    struct mrap_creds_provider *p = NULL;
    char err[256];
    CHECK_INT(mrap_creds_provider_new(&o, &p, err, sizeof(err)), 0);
    if (!p)
        return;
    struct mrap_credentials c;
    env_set(&e, "AWS_ACCESS_KEY_ID", "AKIDNEW");
    CHECK_INT(mrap_creds_provider_get(p, &c), 0);
    CHECK_STR(c.access_key_id, "AKIDNEW");
    CHECK(c.expiration > time(NULL), "expiration carried");
    mrap_credentials_cleanup(&c);
    CHECK(c.access_key_id == NULL && c.secret_access_key == NULL && c.session_token == NULL &&
              c.expiration == 0,
          "cleanup clears");
    mrap_credentials_cleanup(NULL);

    /* Many threads, each get possibly refreshing: all see whole credentials. */
    pthread_t t[8];
    struct getter g[8];
    for (int i = 0; i < 8; i++) {
        g[i] = (struct getter){.p = p};
        pthread_create(&t[i], NULL, getter_main, &g[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        CHECK(g[i].ok == 500, "thread %d: %d of 500", i, g[i].ok);
    }

    /* Refresh fails while the old ones are still valid: keep using them. */
    env_unset(&e, "AWS_ACCESS_KEY_ID");
    env_unset(&e, "AWS_SECRET_ACCESS_KEY");
    CHECK_INT(mrap_creds_provider_get(p, &c), 0);
    CHECK_STR(c.access_key_id, "AKIDNEW");
    mrap_credentials_cleanup(&c);
    mrap_creds_provider_destroy(p);

    /* Expired, and nothing replaces them: an error, not stale keys. */
    env_set(&e, "AWS_ACCESS_KEY_ID", "AKIDOLD");
    env_set(&e, "AWS_SECRET_ACCESS_KEY", "envsecret");
    iso_utc(time(NULL) - 10, when, sizeof(when));
    env_set(&e, "AWS_CREDENTIAL_EXPIRATION", when);
    CHECK_INT(mrap_creds_provider_new(&o, &p, err, sizeof(err)), 0);
    env_unset(&e, "AWS_ACCESS_KEY_ID");
    env_unset(&e, "AWS_SECRET_ACCESS_KEY");
    CHECK(mrap_creds_provider_get(p, &c) < 0, "expired credentials not handed out");
    CHECK(c.access_key_id == NULL, "nothing returned");
    mrap_creds_provider_destroy(p);
    mrap_creds_provider_destroy(NULL);

    /* A malformed expiration is a configuration error. */
    env_set(&e, "AWS_ACCESS_KEY_ID", "AKIDOLD");
    env_set(&e, "AWS_SECRET_ACCESS_KEY", "envsecret");
    env_set(&e, "AWS_CREDENTIAL_EXPIRATION", "tomorrow");
    CHECK_INT(mrap_creds_provider_new(&o, &p, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "AWS_CREDENTIAL_EXPIRATION") != NULL, "%s", err);
}

static void test_copy(void)
{
    struct mrap_credentials a = {.access_key_id = strdup("AKID"),
                                 .secret_access_key = strdup("s3cr3t"),
                                 .session_token = NULL,
                                 .expiration = 42};
    struct mrap_credentials b;
    CHECK_INT(mrap_credentials_copy(&b, &a), 0);
    CHECK_STR(b.access_key_id, "AKID");
    CHECK_STR(b.secret_access_key, "s3cr3t");
    CHECK(b.session_token == NULL, "no token");
    CHECK_INT(b.expiration, 42);
    CHECK(b.access_key_id != a.access_key_id, "deep copy");
    mrap_credentials_cleanup(&a);
    mrap_credentials_cleanup(&b);
}

int main(void)
{
    snprintf(home, sizeof(home), "/tmp/mrap-creds-XXXXXX");
    if (!mkdtemp(home)) {
        mrap_test_skip("no temporary directory");
        return mrap_test_finish();
    }
    snprintf(aws_dir, sizeof(aws_dir), "%s/.aws", home);
    mkdir(aws_dir, 0700);
    snprintf(cred_path, sizeof(cred_path), "%s/credentials", aws_dir);
    snprintf(conf_path, sizeof(conf_path), "%s/config", aws_dir);

    test_env();
    test_files();
    test_permissions();
    test_malformed();
    test_refresh_and_threads();
    test_copy();

    unlink(cred_path);
    unlink(conf_path);
    rmdir(aws_dir);
    rmdir(home);
    return mrap_test_finish();
}
