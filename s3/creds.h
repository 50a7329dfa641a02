/*
 * AWS credentials and the provider chain.
 *
 * The chain is tried in order until one source yields credentials:
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *   2. shared files: profile from opts->profile, else AWS_PROFILE, else "default";
 *      AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials) then
 *      AWS_CONFIG_FILE (default ~/.aws/config, section "profile NAME").
 *   (later sources — web identity, container, instance metadata — slot in as
 *    further entries of the same table of source functions.)
 * A credentials file readable by group or others is refused with a clear
 * error, as ssh does with private keys.
 *
 * Secrets are wiped (OPENSSL_cleanse) whenever a struct mrap_credentials is
 * cleaned up. They are never logged.
 */
#ifndef MRAP_S3_CREDS_H
#define MRAP_S3_CREDS_H

#include <stddef.h>
#include <time.h>

struct mrap_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when none */
    time_t expiration;   /* 0 = does not expire */
};

/* Wipes and frees the strings; accepts NULL. */
void mrap_credentials_cleanup(struct mrap_credentials *c);
/* Deep copy. 0 or -ENOMEM. */
int mrap_credentials_copy(struct mrap_credentials *dst, const struct mrap_credentials *src);

struct mrap_creds_opts {
    const char *profile; /* --profile; NULL = AWS_PROFILE or "default" */
    /* Environment lookup; NULL = getenv. Tests pass their own. */
    const char *(*getenv_fn)(const char *name, void *arg);
    void *getenv_arg;
};

struct mrap_creds_provider;

/*
 * Resolves credentials once (so a mount fails at start, not at first read).
 * Returns 0, or a negative errno with a one-line human reason in errbuf:
 * -ENOENT (no source had credentials), -EACCES (file permissions too open),
 * -EINVAL (malformed file or profile), -ENOMEM.
 */
int mrap_creds_provider_new(const struct mrap_creds_opts *opts, struct mrap_creds_provider **out,
                            char *errbuf, size_t errlen);
void mrap_creds_provider_destroy(struct mrap_creds_provider *p);

/* A copy of the current credentials (refreshed when they have expired).
 * Thread-safe. The caller cleans up *out. 0 or negative errno. */
int mrap_creds_provider_get(struct mrap_creds_provider *p, struct mrap_credentials *out);

/* Where the credentials came from, for the log: "environment", "profile default in
 * /root/.aws/credentials". Never contains a secret. */
const char *mrap_creds_provider_source(const struct mrap_creds_provider *p);

#endif
