/* The xattr layer's local parts: the value parsers, and the cache of rendered
 * values (TTL, ETag staleness, drop, bounded entries) against a scripted S3
 * that counts the requests. */
#include "fake_s3.h"
#include "fs/fs.h"
#include "fs/options.h"
#include "fs/xattr.h"
#include "tap.h"

#include <errno.h>
#include <string.h>

static void test_value_parsers(void)
{
    unsigned days = 0;
    enum mrap_s3_restore_tier tier;
    bool on = false;
    char *s = NULL;

    CHECK_INT(mrap_xattr_parse_restore("7", &days, &tier), 0);
    CHECK(days == 7 && tier == MRAP_S3_TIER_STANDARD, "days only: Standard");
    CHECK_INT(mrap_xattr_parse_restore("30,Bulk", &days, &tier), 0);
    CHECK(days == 30 && tier == MRAP_S3_TIER_BULK, "with a tier");
    CHECK_INT(mrap_xattr_parse_restore("1, expedited", &days, &tier), 0);
    CHECK(tier == MRAP_S3_TIER_EXPEDITED, "tier in any case, space allowed");
    static const char *const bad[] = {
        "", "0", "-1", "+3", "7,", "7,Fast", "7;Bulk", "x", "99999999999999999999", "36501"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT(mrap_xattr_parse_restore(bad[i], &days, &tier), -EINVAL);

    CHECK_INT(mrap_xattr_parse_hold("on", &on), 0);
    CHECK(on, "on");
    CHECK_INT(mrap_xattr_parse_hold("OFF", &on), 0);
    CHECK(!on, "OFF");
    CHECK_INT(mrap_xattr_parse_hold("ONN", &on), -EINVAL);
    CHECK_INT(mrap_xattr_parse_hold("", &on), -EINVAL);

    CHECK_INT(mrap_xattr_value_str("ON\n", 3, 16, &s), 0);
    CHECK_STR(s, "ON");
    free(s);
    CHECK_INT(mrap_xattr_value_str("abc", 3, 2, &s), -E2BIG);
    CHECK_INT(mrap_xattr_value_str("a\0b", 3, 16, &s), -EINVAL);
    CHECK_INT(mrap_xattr_value_str("", 0, 16, &s), 0);
    CHECK_STR(s, "");
    free(s);
}

static void test_set(void)
{
    struct mrap_xattr_set s;
    memset(&s, 0, sizeof(s));
    CHECK_INT(mrap_xattr_set_add(&s, "user.a", "1", 1), 0);
    CHECK_INT(mrap_xattr_set_add(&s, "user.b", "", 0), 0);
    const struct mrap_xattr_pair *p = mrap_xattr_set_find(&s, "user.b");
    CHECK(p && p->len == 0, "empty value kept");
    CHECK(mrap_xattr_set_find(&s, "user.c") == NULL, "absent name");
    mrap_xattr_set_cleanup(&s);
    mrap_xattr_set_cleanup(&s); /* twice is harmless */
    CHECK_INT((int)s.n, 0);
}

#define HEAD_OK(etag)                                                                              \
    {                                                                                              \
        200,                                                                                       \
            "Content-Length: 5\nLast-Modified: Wed, 12 Oct 2022 17:50:00 GMT\nETag: \"" etag       \
            "\"\nx-amz-meta-color: blue\nContent-Type: text/plain\n",                              \
            NULL, false, false, 0                                                                  \
    }

static void test_cache(void)
{
    static const struct fake_reply replies[] = {HEAD_OK("e1"), HEAD_OK("e2"), HEAD_OK("e2"),
                                                HEAD_OK("e2"), HEAD_OK("e2"), HEAD_OK("e2"),
                                                HEAD_OK("e2"), HEAD_OK("e2")};
    struct fake_s3 f;
    struct mrap_fs_config cfg;
    struct mrap_fs fs;
    struct mrap_xattr_set v;
    memset(&cfg, 0, sizeof(cfg));
    memset(&fs, 0, sizeof(fs));
    cfg.metadata_ttl_s = 3600;
    fake_init(&f, replies, sizeof(replies) / sizeof(replies[0]));
    fs.cfg = &cfg;
    fs.s3 = fake_client(&f);
    CHECK(fs.s3 != NULL, "fake client");
    CHECK_INT(mrap_xattr_cache_new(cfg.metadata_ttl_s, 2, &fs.xattrs), 0);

    CHECK_INT(mrap_xattr_part_get(&fs, "k1", MRAP_XATTR_PART_HEAD, "\"e1\"", &v), 0);
    const struct mrap_xattr_pair *p = mrap_xattr_set_find(&v, MRAP_XATTR_ETAG);
    CHECK(p && p->len == 2 && memcmp(p->value, "e1", 2) == 0, "etag without quotes");
    p = mrap_xattr_set_find(&v, MRAP_XATTR_META_PREFIX "color");
    CHECK(p && p->len == 4, "user metadata");
    CHECK(mrap_xattr_set_find(&v, MRAP_XATTR_RESTORE) == NULL, "no restore header: absent");
    mrap_xattr_set_cleanup(&v);
    CHECK_INT((int)f.n_sent, 1);

    /* fresh and the same object: from the cache */
    CHECK_INT(mrap_xattr_part_get(&fs, "k1", MRAP_XATTR_PART_HEAD, "\"e1\"", &v), 0);
    mrap_xattr_set_cleanup(&v);
    CHECK_INT(mrap_xattr_part_get(&fs, "k1", MRAP_XATTR_PART_HEAD, NULL, &v), 0);
    mrap_xattr_set_cleanup(&v);
    CHECK_INT((int)f.n_sent, 1);

    /* the inode shows another ETag: the object was replaced, ask again */
    CHECK_INT(mrap_xattr_part_get(&fs, "k1", MRAP_XATTR_PART_HEAD, "\"e2\"", &v), 0);
    mrap_xattr_set_cleanup(&v);
    CHECK_INT((int)f.n_sent, 2);

    /* dropped after a set: asked again */
    mrap_xattr_cache_drop(fs.xattrs, "k1", MRAP_XATTR_N_PARTS);
    CHECK_INT(mrap_xattr_part_get(&fs, "k1", MRAP_XATTR_PART_HEAD, "\"e2\"", &v), 0);
    mrap_xattr_set_cleanup(&v);
    CHECK_INT((int)f.n_sent, 3);

    /* two entries at most: k2 and k3 push k1 out */
    CHECK_INT(mrap_xattr_part_get(&fs, "k2", MRAP_XATTR_PART_HEAD, NULL, &v), 0);
    mrap_xattr_set_cleanup(&v);
    CHECK_INT(mrap_xattr_part_get(&fs, "k3", MRAP_XATTR_PART_HEAD, NULL, &v), 0);
    mrap_xattr_set_cleanup(&v);
    CHECK_INT((int)f.n_sent, 5);
    CHECK_INT(mrap_xattr_part_get(&fs, "k3", MRAP_XATTR_PART_HEAD, NULL, &v), 0);
    mrap_xattr_set_cleanup(&v);
    CHECK_INT((int)f.n_sent, 5);
    CHECK_INT(mrap_xattr_part_get(&fs, "k1", MRAP_XATTR_PART_HEAD, NULL, &v), 0);
    mrap_xattr_set_cleanup(&v);
    CHECK_INT((int)f.n_sent, 6);
    mrap_xattr_cache_destroy(fs.xattrs);

    /* TTL 0: nothing is reused */
    CHECK_INT(mrap_xattr_cache_new(0, 8, &fs.xattrs), 0);
    CHECK_INT(mrap_xattr_part_get(&fs, "k1", MRAP_XATTR_PART_HEAD, NULL, &v), 0);
    mrap_xattr_set_cleanup(&v);
    CHECK_INT(mrap_xattr_part_get(&fs, "k1", MRAP_XATTR_PART_HEAD, NULL, &v), 0);
    mrap_xattr_set_cleanup(&v);
    CHECK_INT((int)f.n_sent, 8);
    mrap_xattr_cache_destroy(fs.xattrs);
    mrap_s3_client_destroy(fs.s3);
    fake_cleanup(&f);
}

#define RETENTION_DOC                                                                              \
    "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate>"    \
    "</Retention>"
#define DENIED "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"

/* Shortening a GOVERNANCE retention: the bypass header only with the mount
 * option, and S3's plain AccessDenied reported as EPERM (a lock refusal). */
static void test_retention_weakening(void)
{
    static const struct fake_reply replies[] = {
        {200, NULL, RETENTION_DOC, false, false, 0}, {403, NULL, DENIED, false, false, 0},
        {200, NULL, RETENTION_DOC, false, false, 0}, {200, NULL, "", false, false, 0},
        {200, NULL, RETENTION_DOC, false, false, 0}, {403, NULL, DENIED, false, false, 0}};
    static const char shorter[] = "GOVERNANCE 2029-01-01T00:00:00Z";
    static const char longer[] = "GOVERNANCE 2031-01-01T00:00:00Z";
    struct fake_s3 f;
    struct mrap_fs_config cfg;
    struct mrap_fs fs;
    memset(&cfg, 0, sizeof(cfg));
    memset(&fs, 0, sizeof(fs));
    fake_init(&f, replies, sizeof(replies) / sizeof(replies[0]));
    fs.cfg = &cfg;
    fs.s3 = fake_client(&f);
    CHECK_INT(mrap_xattr_cache_new(1, 8, &fs.xattrs), 0);

    CHECK_INT(mrap_xattr_change(&fs, "k", MRAP_XATTR_RETENTION, shorter, strlen(shorter), false, 0),
              -EPERM);
    CHECK(fake_header(&f, 1, "x-amz-bypass-governance-retention") == NULL, "no bypass asked");
    cfg.allow_retention_bypass = true;
    CHECK_INT(mrap_xattr_change(&fs, "k", MRAP_XATTR_RETENTION, shorter, strlen(shorter), false, 0),
              0);
    const char *b = fake_header(&f, 3, "x-amz-bypass-governance-retention");
    CHECK(b && strcmp(b, "true") == 0, "bypass sent with the option");
    /* extending is no weakening: a refusal stays EACCES (a missing permission) */
    CHECK_INT(mrap_xattr_change(&fs, "k", MRAP_XATTR_RETENTION, longer, strlen(longer), false, 0),
              -EACCES);
    CHECK(fake_header(&f, 5, "x-amz-bypass-governance-retention") == NULL, "not for extending");
    CHECK_INT((int)f.n_sent, 6);
    /* refused locally, before any request */
    CHECK_INT(mrap_xattr_change(&fs, "k", MRAP_XATTR_ETAG, "x", 1, false, 0), -EPERM);
    CHECK_INT(mrap_xattr_change(&fs, "k", "user.s3.nope", "x", 1, false, 0), -ENOTSUP);
    CHECK_INT(mrap_xattr_change(&fs, "k", MRAP_XATTR_ACL, "public-everything", 17, false, 0),
              -EINVAL);
    CHECK_INT(mrap_xattr_change(&fs, "k", MRAP_XATTR_TAG_PREFIX "aws:x", "v", 1, false, 0),
              -EINVAL);
    CHECK_INT((int)f.n_sent, 6);
    mrap_xattr_cache_destroy(fs.xattrs);
    mrap_s3_client_destroy(fs.s3);
    fake_cleanup(&f);
}

int main(void)
{
    static void (*const tests[])(void) = {test_value_parsers, test_set, test_cache,
                                          test_retention_weakening};
    return fake_main(tests, sizeof(tests) / sizeof(tests[0]));
}
