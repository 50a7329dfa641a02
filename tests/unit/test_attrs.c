/*
 * The attribute parsers and checks, without any network: x-amz-restore,
 * HeadObject headers (bounds, Object Lock, metadata), S3's tag rules, the
 * <Tagging>, <Retention>, <LegalHold> and <AccessControlPolicy> documents
 * (well-formed, malformed, oversized), RFC 3339 dates, and the errno of the
 * S3 codes the attribute operations meet.
 */
#include "s3/attrs.h"
#include "s3/errors.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_restore_header(void)
{
    struct mrap_s3_restore r;
    CHECK_INT(mrap_s3_restore_parse("ongoing-request=\"true\"", &r), 0);
    CHECK(r.present && r.ongoing && !r.has_expiry, "ongoing restore");
    CHECK_INT(mrap_s3_restore_parse(
                  "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\"", &r),
              0);
    CHECK(r.present && !r.ongoing && r.has_expiry && r.expiry == 1356048000, "finished restore");
    static const char *const bad[] = {
        "",
        "ongoing-request=true",
        "ongoing-request=\"maybe\"",
        "expiry-date=\"x\"",
        "ongoing-request=\"false\", expiry-date=\"not a date\"",
        "ongoing-request=\"true\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\"",
        "ongoing-request=\"false",
        "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 "
        "00:00:00 GMT with a tail that is far too long\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(mrap_s3_restore_parse(bad[i], &r) == -EPROTO, "restore header %zu refused", i);
}

static void add(struct mrap_http_headers *h, const char *n, const char *v)
{
    mrap_http_headers_add(h, n, v);
}

static void base_headers(struct mrap_http_headers *h)
{
    mrap_http_headers_init(h);
    add(h, "Content-Length", "1234");
    add(h, "Last-Modified", "Wed, 12 Oct 2022 17:50:00 GMT");
    add(h, "ETag", "\"0123456789abcdef0123456789abcdef\"");
}

static void test_head_parse(void)
{
    struct mrap_http_headers h;
    struct mrap_s3_head out;
    base_headers(&h);
    add(&h, "Content-Type", "text/plain; charset=utf-8");
    add(&h, "x-amz-storage-class", "GLACIER");
    add(&h, "x-amz-restore", "ongoing-request=\"true\"");
    add(&h, "x-amz-object-lock-mode", "GOVERNANCE");
    add(&h, "x-amz-object-lock-retain-until-date", "2030-01-02T03:04:05.000Z");
    add(&h, "x-amz-object-lock-legal-hold", "ON");
    add(&h, "X-Amz-Meta-Owner", "Alice");
    add(&h, "x-amz-meta-empty", "");
    CHECK_INT(mrap_s3_head_parse(&h, &out), 0);
    CHECK_INT(out.info.size, 1234);
    CHECK_INT(out.info.mtime.tv_sec, 1665597000);
    CHECK_STR(out.info.etag, "\"0123456789abcdef0123456789abcdef\"");
    CHECK_STR(out.info.storage_class, "GLACIER");
    CHECK_STR(out.content_type, "text/plain; charset=utf-8");
    CHECK(out.restore.present && out.restore.ongoing, "restore parsed");
    CHECK_INT(out.lock_mode, MRAP_S3_LOCK_GOVERNANCE);
    CHECK_INT(out.lock_retain_until, 1893553445);
    CHECK_INT(out.legal_hold, MRAP_S3_HOLD_ON);
    CHECK_INT(out.n_meta, 2);
    CHECK_STR(out.meta[0].name, "owner");
    CHECK_STR(mrap_s3_head_meta(&out, "OWNER"), "Alice");
    CHECK_STR(mrap_s3_head_meta(&out, "empty"), "");
    CHECK(mrap_s3_head_meta(&out, "missing") == NULL, "absent metadata is NULL");
    mrap_s3_head_cleanup(&out);
    mrap_s3_head_cleanup(&out); /* twice is harmless */
    mrap_http_headers_cleanup(&h);

    /* Minimal answer: defaults. */
    base_headers(&h);
    CHECK_INT(mrap_s3_head_parse(&h, &out), 0);
    CHECK(out.content_type && !out.content_type[0] && !out.restore.present &&
              out.lock_mode == MRAP_S3_LOCK_NONE && out.legal_hold == MRAP_S3_HOLD_UNKNOWN,
          "absent headers mean no state");
    mrap_s3_head_cleanup(&out);
    mrap_http_headers_cleanup(&h);

    /* Each malformed answer is -EPROTO with nothing to clean up. */
    static const char *const bad[][2] = {
        {"x-amz-object-lock-mode", "GOVERNANCE"}, /* without its date */
        {"x-amz-object-lock-retain-until-date", "2030-01-02T03:04:05Z"},
        {"x-amz-object-lock-legal-hold", "MAYBE"},
        {"x-amz-restore", "ongoing-request=\"sometimes\""},
        {"x-amz-storage-class", "A_STORAGE_CLASS_NAME_LONGER_THAN_THIRTY_ONE"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        base_headers(&h);
        add(&h, bad[i][0], bad[i][1]);
        CHECK(mrap_s3_head_parse(&h, &out) == -EPROTO && out.meta == NULL, "bad header %zu", i);
        mrap_http_headers_cleanup(&h);
    }
    base_headers(&h);
    add(&h, "x-amz-object-lock-mode", "LOCKED");
    add(&h, "x-amz-object-lock-retain-until-date", "2030-01-02T03:04:05Z");
    CHECK_INT(mrap_s3_head_parse(&h, &out), -EPROTO);
    mrap_http_headers_cleanup(&h);
    mrap_http_headers_init(&h);
    add(&h, "Last-Modified", "Wed, 12 Oct 2022 17:50:00 GMT");
    CHECK_INT(mrap_s3_head_parse(&h, &out), -EPROTO); /* no Content-Length */
    add(&h, "Content-Length", "12x");
    CHECK_INT(mrap_s3_head_parse(&h, &out), -EPROTO);
    mrap_http_headers_cleanup(&h);

    /* Metadata beyond the bounds: too many entries, too many bytes. */
    base_headers(&h);
    for (unsigned i = 0; i <= MRAP_S3_HEAD_META_MAX_ENTRIES; i++) {
        char name[32];
        snprintf(name, sizeof(name), "x-amz-meta-k%u", i);
        add(&h, name, "v");
    }
    CHECK_INT(mrap_s3_head_parse(&h, &out), -EPROTO);
    mrap_http_headers_cleanup(&h);
    base_headers(&h);
    char *big = malloc(MRAP_S3_HEAD_META_MAX_BYTES + 2);
    memset(big, 'x', MRAP_S3_HEAD_META_MAX_BYTES + 1);
    big[MRAP_S3_HEAD_META_MAX_BYTES + 1] = '\0';
    add(&h, "x-amz-meta-big", big);
    CHECK_INT(mrap_s3_head_parse(&h, &out), -EPROTO);
    free(big);
    mrap_http_headers_cleanup(&h);
}

static void test_tag_rules(void)
{
    char key[300], val[800];
    CHECK_INT(mrap_s3_tag_check("Project", "mrapfs"), 0);
    CHECK_INT(mrap_s3_tag_check("a+-=._:/@ b", ""), 0);
    CHECK_INT(mrap_s3_tag_check("Größe", "日本語"), 0);
    memset(key, 'k', 128);
    key[128] = '\0';
    CHECK_INT(mrap_s3_tag_check(key, "v"), 0);
    key[128] = 'k';
    key[129] = '\0';
    CHECK_INT(mrap_s3_tag_check(key, "v"), -E2BIG);
    /* 256 characters of two bytes each are allowed: the limit is characters. */
    for (int i = 0; i < 256; i++)
        memcpy(val + 2 * i, "\xC3\xA9", 2);
    val[512] = '\0';
    CHECK_INT(mrap_s3_tag_check("k", val), 0);
    memcpy(val + 512, "\xC3\xA9", 3);
    CHECK_INT(mrap_s3_tag_check("k", val), -E2BIG);
    CHECK_INT(mrap_s3_tag_check("", "v"), -EINVAL);
    CHECK_INT(mrap_s3_tag_check("aws:reserved", "v"), -EINVAL);
    CHECK_INT(mrap_s3_tag_check("star*", "v"), -EINVAL);
    CHECK_INT(mrap_s3_tag_check("k", "semi;colon"), -EINVAL);
    CHECK_INT(mrap_s3_tag_check("k", "new\nline"), -EINVAL);
    CHECK_INT(mrap_s3_tag_check("bad\xC3\x28", "v"), -EINVAL);     /* broken sequence */
    CHECK_INT(mrap_s3_tag_check("over\xC0\xAF", "v"), -EINVAL);    /* overlong '/' */
    CHECK_INT(mrap_s3_tag_check("sur\xED\xA0\x80", "v"), -EINVAL); /* surrogate */
    CHECK_INT(mrap_s3_tag_check("c1\xC2\x85", "v"), -EINVAL);      /* NEL, a C1 control */

    struct mrap_s3_tag tags[11];
    char names[11][8];
    for (int i = 0; i < 11; i++) {
        snprintf(names[i], sizeof(names[i]), "k%d", i);
        tags[i] = (struct mrap_s3_tag){names[i], "v"};
    }
    CHECK_INT(mrap_s3_tags_check(tags, 10), 0);
    CHECK_INT(mrap_s3_tags_check(tags, 11), -E2BIG);
    tags[1].key = names[0];
    CHECK_INT(mrap_s3_tags_check(tags, 2), -EINVAL); /* duplicate key */
    CHECK_INT(mrap_s3_tags_check(NULL, 0), 0);
}

static int parse_tagging(const char *xml, struct mrap_s3_tagset *t)
{
    return mrap_s3_tagging_parse(xml, strlen(xml), t);
}

static void test_tagging_doc(void)
{
    struct mrap_s3_tagset t;
    CHECK_INT(parse_tagging("<?xml version=\"1.0\"?><Tagging xmlns=\"http://s3.amazonaws.com/doc/"
                            "2006-03-01/\"><TagSet><Tag><Key>a &amp; b</Key><Value>1</Value></Tag>"
                            "<Tag><Key>e</Key><Value></Value></Tag></TagSet></Tagging>",
                            &t),
              0);
    CHECK_INT(t.n, 2);
    if (t.n == 2) {
        CHECK_STR(t.v[0].key, "a & b");
        CHECK_STR(t.v[0].value, "1");
        CHECK_STR(t.v[1].value, "");
    }
    mrap_s3_tagset_cleanup(&t);
    CHECK_INT(parse_tagging("<Tagging><TagSet/></Tagging>", &t), 0);
    CHECK_INT(t.n, 0);
    mrap_s3_tagset_cleanup(&t);

    static const char *const bad[] = {
        "<Tagging/>",
        "<Tags><TagSet/></Tags>",
        "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
        "<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>",
        "<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag></TagSet></Tagging>",
        "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>",
        "<!DOCTYPE x [<!ENTITY e \"x\">]><Tagging><TagSet/></Tagging>",
        "not xml at all",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(parse_tagging(bad[i], &t) == -EPROTO && t.v == NULL, "bad tagging %zu", i);
    }
    /* Eleven tags, or a key longer than S3 allows in bytes. */
    char doc[8192] = "<Tagging><TagSet>";
    for (int i = 0; i < 11; i++)
        snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc),
                 "<Tag><Key>k%d</Key><Value>v</Value></Tag>", i);
    strcat(doc, "</TagSet></Tagging>");
    CHECK_INT(parse_tagging(doc, &t), -EPROTO);
    char longkey[700];
    memset(longkey, 'k', 600);
    longkey[600] = '\0';
    snprintf(doc, sizeof(doc),
             "<Tagging><TagSet><Tag><Key>%s</Key><Value>v</Value></Tag>"
             "</TagSet></Tagging>",
             longkey);
    CHECK_INT(parse_tagging(doc, &t), -EPROTO);
}

static void test_rfc3339(void)
{
    time_t t;
    CHECK_INT(mrap_s3_parse_rfc3339("2030-01-02T03:04:05Z", &t), 0);
    CHECK_INT(t, 1893553445);
    CHECK_INT(mrap_s3_parse_rfc3339("2030-01-02T03:04:05.123456Z", &t), 0);
    CHECK_INT(t, 1893553445);
    CHECK_INT(mrap_s3_parse_rfc3339("2030-01-02t05:04:05+02:00", &t), 0);
    CHECK_INT(t, 1893553445);
    CHECK_INT(mrap_s3_parse_rfc3339("2030-01-01T22:04:05-05:00", &t), 0);
    CHECK_INT(t, 1893553445);
    CHECK_INT(mrap_s3_parse_rfc3339("2024-02-29T00:00:00z", &t), 0);
    static const char *const bad[] = {"2030-02-30T00:00:00Z",
                                      "2023-02-29T00:00:00Z",
                                      "2030-01-01T24:00:00Z",
                                      "2030-13-01T00:00:00Z",
                                      "2030-01-01T00:60:00Z",
                                      "2030-01-01T00:00:00",
                                      "2030-01-01 00:00:00Z",
                                      "2030-01-01T00:00:00Zjunk",
                                      "1969-12-31T23:59:59Z",
                                      "2030-01-01T00:00:00.Z",
                                      "2030-01-01T00:00:00+2:00",
                                      "2030-1-01T00:00:00Z",
                                      "",
                                      "Fri, 21 Dec 2012 00:00:00 GMT"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(mrap_s3_parse_rfc3339(bad[i], &t) == -EINVAL, "bad date %s", bad[i]);
    char out[32];
    mrap_s3_format_rfc3339(1893553445, out);
    CHECK_STR(out, "2030-01-02T03:04:05Z");
}

static void test_retention(void)
{
    struct mrap_s3_retention r;
    char text[64];
    CHECK_INT(mrap_s3_retention_from_text("GOVERNANCE 2030-01-02T03:04:05Z\n", &r), 0);
    CHECK(r.mode == MRAP_S3_LOCK_GOVERNANCE && r.until == 1893553445, "retention text");
    mrap_s3_retention_to_text(&r, text);
    CHECK_STR(text, "GOVERNANCE 2030-01-02T03:04:05Z");
    CHECK_INT(mrap_s3_retention_from_text("COMPLIANCE 2030-01-02T05:04:05+02:00", &r), 0);
    CHECK(r.mode == MRAP_S3_LOCK_COMPLIANCE && r.until == 1893553445, "offset applied");
    static const char *const bad[] = {"governance 2030-01-02T03:04:05Z", "COMPLIANCE",
                                      "LOCK 2030-01-02T03:04:05Z", "GOVERNANCE tomorrow",
                                      "GOVERNANCE 2030-01-02T03:04:05Z\nmore"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(mrap_s3_retention_from_text(bad[i], &r) == -EINVAL, "bad retention %zu", i);
    r.mode = MRAP_S3_LOCK_NONE;
    mrap_s3_retention_to_text(&r, text);
    CHECK_STR(text, "");

    const char *ok = "<Retention><Mode>COMPLIANCE</Mode>"
                     "<RetainUntilDate>2030-01-02T03:04:05.000Z</RetainUntilDate></Retention>";
    CHECK_INT(mrap_s3_retention_parse(ok, strlen(ok), &r), 0);
    CHECK(r.mode == MRAP_S3_LOCK_COMPLIANCE && r.until == 1893553445, "retention document");
    static const char *const bad_docs[] = {
        "<Retention><Mode>COMPLIANCE</Mode></Retention>",
        "<Retention><Mode>WORM</Mode><RetainUntilDate>2030-01-02T03:04:05Z</RetainUntilDate>"
        "</Retention>",
        "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-02-30T00:00:00Z"
        "</RetainUntilDate></Retention>",
        "<LegalHold><Status>ON</Status></LegalHold>"};
    for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++)
        CHECK(mrap_s3_retention_parse(bad_docs[i], strlen(bad_docs[i]), &r) == -EPROTO,
              "bad retention document %zu", i);

    bool on = false;
    const char *hold = "<LegalHold><Status>ON</Status></LegalHold>";
    CHECK_INT(mrap_s3_legal_hold_parse(hold, strlen(hold), &on), 0);
    CHECK(on, "legal hold ON");
    hold = "<LegalHold><Status>OFF</Status></LegalHold>";
    CHECK_INT(mrap_s3_legal_hold_parse(hold, strlen(hold), &on), 0);
    CHECK(!on, "legal hold OFF");
    hold = "<LegalHold><Status>on</Status></LegalHold>";
    CHECK_INT(mrap_s3_legal_hold_parse(hold, strlen(hold), &on), -EPROTO);
    hold = "<LegalHold/>";
    CHECK_INT(mrap_s3_legal_hold_parse(hold, strlen(hold), &on), -EPROTO);
}

#define XSI "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""

static void test_acl_doc(void)
{
    struct mrap_s3_acl acl;
    const char *doc =
        "<AccessControlPolicy><Owner><ID>abc123</ID><DisplayName>alice</DisplayName></Owner>"
        "<AccessControlList>"
        "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\"><ID>abc123</ID>"
        "<DisplayName>alice</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
        "<Grant><Grantee " XSI " xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/"
        "AllUsers</URI></Grantee><Permission>READ</Permission></Grant>"
        "<Grant><Grantee " XSI " xsi:type=\"AmazonCustomerByEmail\"><EmailAddress>b@example.com"
        "</EmailAddress></Grantee><Permission>READ_ACP</Permission></Grant>"
        "</AccessControlList></AccessControlPolicy>";
    CHECK_INT(mrap_s3_acl_parse(doc, strlen(doc), &acl), 0);
    CHECK_STR(acl.owner_id, "abc123");
    CHECK_STR(acl.owner_display_name, "alice");
    CHECK_INT(acl.n_grants, 3);
    if (acl.n_grants == 3) {
        char line[512];
        mrap_s3_grant_to_text(&acl.grants[0], line, sizeof(line));
        CHECK_STR(line, "FULL_CONTROL CanonicalUser abc123 (alice)");
        mrap_s3_grant_to_text(&acl.grants[1], line, sizeof(line));
        CHECK_STR(line, "READ Group http://acs.amazonaws.com/groups/global/AllUsers");
        CHECK_STR(acl.grants[2].email, "b@example.com");
    }
    mrap_s3_acl_cleanup(&acl);

    static const char *const bad[] = {
        "<AccessControlPolicy><AccessControlList/></AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>x</ID></Owner></AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList><Grant><Grantee " XSI
        " xsi:type=\"CanonicalUser\"><ID>x</ID></Grantee><Permission>EVERYTHING</Permission>"
        "</Grant></AccessControlList></AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList><Grant><Grantee>"
        "<ID>x</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList>"
        "</AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList><Grant><Grantee " XSI
        " xsi:type=\"Group\"><ID>x</ID></Grantee><Permission>READ</Permission></Grant>"
        "</AccessControlList></AccessControlPolicy>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(mrap_s3_acl_parse(bad[i], strlen(bad[i]), &acl) == -EPROTO && !acl.grants,
              "bad ACL %zu", i);

    /* More grants than S3 allows. */
    size_t cap = 200 * 200;
    char *many = malloc(cap);
    snprintf(many, cap, "<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList>");
    for (unsigned i = 0; i <= MRAP_S3_ACL_MAX_GRANTS; i++)
        strcat(many, "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\"><ID>x</ID></Grantee>"
                     "<Permission>READ</Permission></Grant>");
    strcat(many, "</AccessControlList></AccessControlPolicy>");
    CHECK_INT(mrap_s3_acl_parse(many, strlen(many), &acl), -EPROTO);
    free(many);

    CHECK(mrap_s3_canned_acl_valid("private") && mrap_s3_canned_acl_valid("public-read") &&
              mrap_s3_canned_acl_valid("bucket-owner-full-control"),
          "canned ACLs accepted");
    CHECK(!mrap_s3_canned_acl_valid("Private") && !mrap_s3_canned_acl_valid("log-delivery-write") &&
              !mrap_s3_canned_acl_valid(""),
          "unknown canned ACLs refused");
}

static void test_tiers_and_errors(void)
{
    enum mrap_s3_restore_tier t;
    CHECK(mrap_s3_restore_tier_parse("bulk", &t) == 0 && t == MRAP_S3_TIER_BULK, "bulk");
    CHECK(mrap_s3_restore_tier_parse("Expedited", &t) == 0 && t == MRAP_S3_TIER_EXPEDITED,
          "expedited");
    CHECK_INT(mrap_s3_restore_tier_parse("Fast", &t), -EINVAL);
    CHECK_STR(mrap_s3_restore_tier_name(MRAP_S3_TIER_STANDARD), "Standard");

    static const struct {
        long status;
        const char *code;
        int err;
    } cases[] = {
        {404, "NoSuchTagSet", -ENODATA},
        {404, "NoSuchObjectLockConfiguration", -ENODATA},
        {404, "ObjectLockConfigurationNotFoundError", -ENOTSUP},
        {409, "RestoreAlreadyInProgress", -EINPROGRESS},
        {403, "InvalidObjectState", -ENODATA},
        {400, "InvalidTag", -EINVAL},
        {400, "MalformedACLError", -EINVAL},
        {400, "BadRequest", -EINVAL},
        {404, "NoSuchMultiRegionAccessPoint", -ENOENT},
        {400, "IdempotencyException", -EEXIST},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mrap_s3_error e;
        memset(&e, 0, sizeof(e));
        e.http_status = cases[i].status;
        snprintf(e.code, sizeof(e.code), "%s", cases[i].code);
        CHECK(mrap_s3_error_errno(&e) == cases[i].err, "%s -> %d", cases[i].code, cases[i].err);
    }
    /* S3 Control's wrapped error document. */
    const char *wrapped = "<ErrorResponse><Error><Code>NoSuchMultiRegionAccessPoint</Code>"
                          "<Message>gone</Message></Error><RequestId>R9</RequestId>"
                          "</ErrorResponse>";
    struct mrap_s3_error e;
    memset(&e, 0, sizeof(e));
    CHECK_INT(mrap_s3_error_parse(&e, wrapped, strlen(wrapped)), 0);
    CHECK_STR(e.code, "NoSuchMultiRegionAccessPoint");
    CHECK_STR(e.request_id, "R9");
}

/* Every prefix of a good document, and every single-byte change at a few
 * places, parses to 0 or -EPROTO without touching memory it should not
 * (the sanitizer build makes this a memory-safety test). */
static void test_truncated_and_mangled(void)
{
    static const char *const docs[] = {
        "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>",
        "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-02T03:04:05Z"
        "</RetainUntilDate></Retention>",
        "<LegalHold><Status>ON</Status></LegalHold>",
        "<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant><Grantee " XSI
        " xsi:type=\"Group\"><URI>u</URI></Grantee><Permission>READ</Permission></Grant>"
        "</AccessControlList></AccessControlPolicy>",
    };
    unsigned bad = 0, good = 0;
    for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
        size_t len = strlen(docs[d]);
        char *buf = malloc(len + 1);
        for (size_t cut = 0; cut <= len; cut++) {
            for (int mangle = -1; mangle < 3; mangle++) {
                memcpy(buf, docs[d], len + 1);
                if (mangle >= 0 && cut < len)
                    buf[cut] = "<>\x01"[mangle];
                size_t n = mangle >= 0 ? len : cut;
                struct mrap_s3_tagset t;
                struct mrap_s3_retention r;
                struct mrap_s3_acl a;
                bool on;
                int rc = d == 0   ? mrap_s3_tagging_parse(buf, n, &t)
                         : d == 1 ? mrap_s3_retention_parse(buf, n, &r)
                         : d == 2 ? mrap_s3_legal_hold_parse(buf, n, &on)
                                  : mrap_s3_acl_parse(buf, n, &a);
                if (rc == 0 && d == 0)
                    mrap_s3_tagset_cleanup(&t);
                if (rc == 0 && d == 3)
                    mrap_s3_acl_cleanup(&a);
                if (rc == 0)
                    good++;
                else if (rc == -EPROTO)
                    bad++;
                else
                    CHECK(false, "doc %zu cut %zu mangle %d: %d", d, cut, mangle, rc);
            }
        }
        free(buf);
    }
    CHECK(good > 0 && bad > 0, "mangled documents: %u parsed, %u refused", good, bad);
    struct mrap_s3_restore rs;
    const char *hdr = "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\"";
    for (size_t cut = 0; cut < strlen(hdr); cut++) {
        char tmp[128];
        snprintf(tmp, sizeof(tmp), "%.*s", (int)cut, hdr);
        int rc = mrap_s3_restore_parse(tmp, &rs);
        CHECK(rc == -EPROTO || (rc == 0 && cut >= 23), "restore prefix %zu: %d", cut, rc);
    }
}

int main(void)
{
    test_restore_header();
    test_head_parse();
    test_tag_rules();
    test_tagging_doc();
    test_rfc3339();
    test_retention();
    test_acl_doc();
    test_tiers_and_errors();
    test_truncated_and_mangled();
    return mrap_test_finish();
}
