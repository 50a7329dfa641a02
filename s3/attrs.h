/*
 * Object attributes: what the filesystem shows as extended attributes.
 *
 *   HeadObject ............ size, ETag, Last-Modified, Content-Type, storage
 *                           class, x-amz-restore, Object Lock headers and
 *                           every x-amz-meta-* (mrap_s3_head)
 *   Get/Put/DeleteObjectTagging, Get/PutObjectRetention,
 *   Get/PutObjectLegalHold, GetObjectAcl, PutObjectAcl (canned), RestoreObject
 *
 * Requests are checked here against S3's documented rules before anything is
 * sent, so a user's typo is a local -EINVAL/-E2BIG, not a round trip and a
 * remote error. Every PUT whose S3 operation requires a checksum (tagging,
 * retention, legal hold, ACL) carries Content-MD5; RestoreObject does too.
 *
 * Answers are bounded (MRAP_S3_OP_DOC_BODY_MAX) and parsed strictly: a
 * document that is not what S3 sends, or values beyond S3's own limits, are
 * -EPROTO with a warning logged. The parsers are exposed for the unit tests.
 *
 * Errors: 0 or a negative errno. Remote failures come from the one table in
 * s3/errors.c: -ENOENT (no such key), -ENODATA (the attribute is not set:
 * NoSuchTagSet, NoSuchObjectLockConfiguration), -EPERM (refused by Object
 * Lock), -EACCES, -EINVAL (S3 found the request invalid, e.g. a bucket
 * without Object Lock), -ENOTSUP, -EIO after retries; *err (may be NULL)
 * holds the S3 code, message and request id for the log line.
 *
 * Thread-safety: all functions may be called concurrently on one client.
 * Ownership: results with heap parts have a _cleanup function; cleanup
 * accepts a zeroed or already cleaned-up struct.
 */
#ifndef MRAP_S3_ATTRS_H
#define MRAP_S3_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "s3/client.h"

/* ---- HeadObject ---- */

/* User metadata S3 accepts is 2 KiB; anything past these bounds is not S3. */
#define MRAP_S3_HEAD_META_MAX_ENTRIES 64u
#define MRAP_S3_HEAD_META_MAX_BYTES   8192u

struct mrap_s3_meta_entry {
    char *name;  /* lower case, without "x-amz-meta-" */
    char *value; /* as sent */
};

struct mrap_s3_restore {
    bool present;    /* the x-amz-restore header was sent */
    bool ongoing;    /* ongoing-request="true" */
    bool has_expiry; /* expiry-date given (a finished restore) */
    time_t expiry;   /* when the restored copy goes away */
};

enum mrap_s3_lock_mode {
    MRAP_S3_LOCK_NONE = 0,
    MRAP_S3_LOCK_GOVERNANCE = 1,
    MRAP_S3_LOCK_COMPLIANCE = 2,
};

enum mrap_s3_legal_hold {
    MRAP_S3_HOLD_UNKNOWN = 0, /* not reported */
    MRAP_S3_HOLD_OFF = 1,
    MRAP_S3_HOLD_ON = 2,
};

struct mrap_s3_head {
    struct mrap_s3_object_info info; /* size, Last-Modified, ETag, storage class */
    char *content_type;              /* owned; "" when not sent */
    struct mrap_s3_restore restore;
    enum mrap_s3_lock_mode lock_mode;   /* x-amz-object-lock-mode */
    time_t lock_retain_until;           /* x-amz-object-lock-retain-until-date */
    enum mrap_s3_legal_hold legal_hold; /* x-amz-object-lock-legal-hold */
    struct mrap_s3_meta_entry *meta;    /* owned */
    size_t n_meta;
};

/* HeadObject with everything above. -ENOENT when the key does not exist;
 * -EPROTO when a header S3 always sends is missing or malformed. */
int mrap_s3_head(struct mrap_s3_client *c, const char *key, struct mrap_s3_head *out,
                 struct mrap_s3_error *err);
/* Fills *out from HeadObject's response headers (exposed for tests). 0,
 * -EPROTO, or -ENOMEM; on failure *out holds nothing to clean up. */
int mrap_s3_head_parse(const struct mrap_http_headers *h, struct mrap_s3_head *out);
void mrap_s3_head_cleanup(struct mrap_s3_head *h);
/* The value of user metadata `name` (case-insensitive), or NULL. */
const char *mrap_s3_head_meta(const struct mrap_s3_head *h, const char *name);

/* Parses x-amz-restore: ongoing-request="true" | ongoing-request="false",
 * expiry-date="<RFC 1123>". 0 or -EPROTO. */
int mrap_s3_restore_parse(const char *value, struct mrap_s3_restore *out);

/* ---- tagging ---- */

#define MRAP_S3_TAGS_MAX            10u  /* per object */
#define MRAP_S3_TAG_KEY_MAX_CHARS   128u /* Unicode characters */
#define MRAP_S3_TAG_VALUE_MAX_CHARS 256u

struct mrap_s3_tag {
    char *key;
    char *value;
};

struct mrap_s3_tagset {
    struct mrap_s3_tag *v; /* owned */
    size_t n;
};

void mrap_s3_tagset_cleanup(struct mrap_s3_tagset *t);

/*
 * S3's rules for one tag: key 1..128 and value 0..256 Unicode characters of
 * valid UTF-8; letters, digits, white space ' ' and + - = . _ : / @ (non-ASCII
 * characters are accepted as S3 accepts Unicode letters); a key may not
 * start with "aws:" (reserved). -E2BIG for a key or value too long, -EINVAL
 * otherwise.
 */
int mrap_s3_tag_check(const char *key, const char *value);
/* Every tag checked, no duplicate keys, at most 10 (-E2BIG). */
int mrap_s3_tags_check(const struct mrap_s3_tag *tags, size_t n);

/* GetObjectTagging. An object without tags gives 0 and an empty set. */
int mrap_s3_get_tagging(struct mrap_s3_client *c, const char *key, struct mrap_s3_tagset *out,
                        struct mrap_s3_error *err);
/* PutObjectTagging: replaces the whole set (n may be 0: an empty set). */
int mrap_s3_put_tagging(struct mrap_s3_client *c, const char *key, const struct mrap_s3_tag *tags,
                        size_t n, struct mrap_s3_error *err);
/* DeleteObjectTagging. */
int mrap_s3_delete_tagging(struct mrap_s3_client *c, const char *key, struct mrap_s3_error *err);
/* Parses a <Tagging> document. 0, -EPROTO (malformed, or more tags / longer
 * strings than S3 allows) or -ENOMEM. */
int mrap_s3_tagging_parse(const char *xml, size_t len, struct mrap_s3_tagset *out);

/* ---- Object Lock ---- */

struct mrap_s3_retention {
    enum mrap_s3_lock_mode mode; /* NONE: no retention */
    time_t until;                /* RetainUntilDate, UTC seconds */
};

/* Parses an RFC 3339 date-time ("2030-01-02T03:04:05Z", "...05.123+02:00");
 * fractions of a second are dropped. 0 or -EINVAL. */
int mrap_s3_parse_rfc3339(const char *s, time_t *out);
/* "2030-01-02T03:04:05Z" (20 bytes + NUL). */
void mrap_s3_format_rfc3339(time_t t, char out[32]);
/* "GOVERNANCE|COMPLIANCE <RFC 3339>" (the xattr form) -> *out. 0 or -EINVAL. */
int mrap_s3_retention_from_text(const char *s, struct mrap_s3_retention *out);
/* The xattr form of r; "" for no retention. */
void mrap_s3_retention_to_text(const struct mrap_s3_retention *r, char out[64]);

/* GetObjectRetention; -ENODATA when the object has none. */
int mrap_s3_get_retention(struct mrap_s3_client *c, const char *key, struct mrap_s3_retention *out,
                          struct mrap_s3_error *err);
/*
 * PutObjectRetention. mode NONE removes the retention (S3 allows that only
 * for GOVERNANCE with bypass). bypass_governance sends
 * x-amz-bypass-governance-retention: true, needed to shorten or remove a
 * GOVERNANCE retention. S3 refuses a retention it will not weaken (shorter,
 * COMPLIANCE -> GOVERNANCE, removal without bypass) with a plain AccessDenied,
 * indistinguishable from a missing permission: -EACCES either way; the
 * caller, which knows it asked to weaken a lock, may report EPERM.
 * -EINVAL locally for a mode outside the enum or an `until` before 1970.
 */
int mrap_s3_put_retention(struct mrap_s3_client *c, const char *key,
                          const struct mrap_s3_retention *r, bool bypass_governance,
                          struct mrap_s3_error *err);
/* Parses a <Retention> document. 0 or -EPROTO. */
int mrap_s3_retention_parse(const char *xml, size_t len, struct mrap_s3_retention *out);

/* GetObjectLegalHold (*on = Status is ON); -ENODATA when never set. */
int mrap_s3_get_legal_hold(struct mrap_s3_client *c, const char *key, bool *on,
                           struct mrap_s3_error *err);
int mrap_s3_put_legal_hold(struct mrap_s3_client *c, const char *key, bool on,
                           struct mrap_s3_error *err);
/* Parses a <LegalHold> document. 0 or -EPROTO. */
int mrap_s3_legal_hold_parse(const char *xml, size_t len, bool *on);

/* ---- ACL ---- */

#define MRAP_S3_ACL_MAX_GRANTS 100u /* S3's limit per ACL */

struct mrap_s3_grant {
    char type[32];          /* CanonicalUser | Group | AmazonCustomerByEmail */
    char id[128];           /* CanonicalUser */
    char uri[128];          /* Group */
    char email[128];        /* AmazonCustomerByEmail */
    char display_name[128]; /* optional */
    char permission[16];    /* FULL_CONTROL | WRITE | WRITE_ACP | READ | READ_ACP */
};

struct mrap_s3_acl {
    char owner_id[128];
    char owner_display_name[128];
    struct mrap_s3_grant *grants; /* owned */
    size_t n_grants;
};

void mrap_s3_acl_cleanup(struct mrap_s3_acl *acl);
/* Whether name is one of S3's canned ACLs for objects. */
bool mrap_s3_canned_acl_valid(const char *name);
int mrap_s3_get_acl(struct mrap_s3_client *c, const char *key, struct mrap_s3_acl *out,
                    struct mrap_s3_error *err);
/* PutObjectAcl with x-amz-acl: <canned>. -EINVAL locally for an unknown name. */
int mrap_s3_put_canned_acl(struct mrap_s3_client *c, const char *key, const char *canned,
                           struct mrap_s3_error *err);
/* Parses an <AccessControlPolicy> document. 0, -EPROTO or -ENOMEM. */
int mrap_s3_acl_parse(const char *xml, size_t len, struct mrap_s3_acl *out);
/* One grant as "<permission> <type> <id|uri|email>[ (<display name>)]". */
void mrap_s3_grant_to_text(const struct mrap_s3_grant *g, char *out, size_t outlen);

/* ---- RestoreObject ---- */

enum mrap_s3_restore_tier {
    MRAP_S3_TIER_STANDARD = 0,
    MRAP_S3_TIER_BULK = 1,
    MRAP_S3_TIER_EXPEDITED = 2,
};

enum mrap_s3_restore_outcome {
    MRAP_S3_RESTORE_STARTED = 1,     /* 202 Accepted: a new restore */
    MRAP_S3_RESTORE_EXTENDED = 2,    /* 200 OK: already restored; expiry moved */
    MRAP_S3_RESTORE_IN_PROGRESS = 3, /* 409 RestoreAlreadyInProgress */
};

#define MRAP_S3_RESTORE_MAX_DAYS 36500u /* a sanity bound; S3 documents no maximum */

/* "Standard" | "Bulk" | "Expedited" (case-insensitive). 0 or -EINVAL. */
int mrap_s3_restore_tier_parse(const char *s, enum mrap_s3_restore_tier *out);
const char *mrap_s3_restore_tier_name(enum mrap_s3_restore_tier t);

/*
 * RestoreObject for `days` (1..MRAP_S3_RESTORE_MAX_DAYS, else -EINVAL) at
 * `tier`. A restore already in progress is an outcome (0), not an error. An
 * object that is not archived: -ENODATA (InvalidObjectState).
 */
int mrap_s3_restore_object(struct mrap_s3_client *c, const char *key, unsigned days,
                           enum mrap_s3_restore_tier tier, enum mrap_s3_restore_outcome *outcome,
                           struct mrap_s3_error *err);

#endif
