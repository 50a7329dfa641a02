/*
 * The attribute operations through the client with a scripted transport:
 * request shapes (method, subresource, headers, XML bodies, Content-MD5),
 * local refusals that send nothing, and how answers become results and
 * errnos (404 codes, Object Lock refusals, 200 with <Error>, restore's
 * 202/200/409).
 */
#include "s3/attrs.h"
#include "tap.h"
#include "test_attrs_fake.h"

static struct mrap_creds_provider *creds;
static struct mrap_signer *signer;
static struct fake_http fake;

static struct mrap_s3_client *client(void)
{
    struct mrap_s3_client *c = NULL;
    struct mrap_s3_client_opts o = {.target = MRAP_S3_TARGET_MRAP,
                                    .name = "mfzwi23gnjvgw.mrap",
                                    .endpoint_url = "http://localhost:9000",
                                    .max_attempts = 2,
                                    .backoff_base_ms = 1,
                                    .backoff_max_ms = 2,
                                    .http = {fake_http_perform, &fake},
                                    .creds = creds,
                                    .signer = signer};
    CHECK_INT(mrap_s3_client_new(&o, &c), 0);
    return c;
}

#define BASE "http://mfzwi23gnjvgw.mrap.localhost:9000/"

static void test_head(struct mrap_s3_client *c)
{
    static const struct fake_reply r[] = {
        REPLY_H(200, NULL, "Content-Length", "5", "Last-Modified", "Wed, 12 Oct 2022 17:50:00 GMT",
                "ETag", "\"abc\"", "x-amz-meta-color", "blue"),
        REPLY(404, NULL),
        REPLY_H(200, NULL, "Content-Length", "5"),
    };
    struct mrap_s3_head h;
    struct mrap_s3_error err;
    fake_http_reset(&fake, r, N_REPLIES(r));
    CHECK_INT(mrap_s3_head(c, "dir/a b", &h, &err), 0);
    CHECK_STR(fake.calls[0].method, "HEAD");
    CHECK_STR(fake.calls[0].url, BASE "dir/a%20b");
    CHECK_STR(mrap_s3_head_meta(&h, "color"), "blue");
    mrap_s3_head_cleanup(&h);
    CHECK_INT(mrap_s3_head(c, "gone", &h, &err), -ENOENT);
    CHECK_INT(mrap_s3_head(c, "broken", &h, &err), -EPROTO); /* no Last-Modified */
    CHECK_INT(mrap_s3_head(c, "", &h, &err), -EINVAL);
    CHECK_INT(fake.n_calls, 3);
}

static void test_tagging(struct mrap_s3_client *c)
{
    static const struct fake_reply r[] = {
        REPLY(200, "<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>"),
        REPLY(200, ""),
        REPLY(204, NULL),
        REPLY(404, "<Error><Code>NoSuchTagSet</Code><Message>The TagSet does not exist</Message>"
                   "</Error>"),
        REPLY(200, "<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>"),
        REPLY(200, "<Error><Code>InternalError</Code><Message>late failure</Message></Error>"),
    };
    struct mrap_s3_tagset t;
    struct mrap_s3_error err;
    fake_http_reset(&fake, r, N_REPLIES(r));
    CHECK_INT(mrap_s3_get_tagging(c, "k", &t, &err), 0);
    CHECK_STR(fake.calls[0].url, BASE "k?tagging");
    CHECK(t.n == 1 && strcmp(t.v[0].key, "a") == 0, "tag read");
    mrap_s3_tagset_cleanup(&t);

    struct mrap_s3_tag tags[] = {{"a b", "x=y/z@w"}, {"n", ""}};
    CHECK_INT(mrap_s3_put_tagging(c, "k", tags, 2, &err), 0);
    CHECK_STR(fake.calls[1].method, "PUT");
    CHECK_STR(fake.calls[1].url, BASE "k?tagging");
    CHECK(strstr(fake.calls[1].body,
                 "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<TagSet><Tag><Key>a b</Key><Value>x=y/z@w</Value></Tag>"
                 "<Tag><Key>n</Key><Value></Value></Tag></TagSet></Tagging>") != NULL,
          "tagging body: %s", fake.calls[1].body);
    CHECK(fake_md5_matches(&fake, 1), "Content-MD5 of the tagging body");

    CHECK_INT(mrap_s3_delete_tagging(c, "k", &err), 0);
    CHECK_STR(fake.calls[2].method, "DELETE");
    CHECK_STR(fake.calls[2].url, BASE "k?tagging");

    CHECK_INT(mrap_s3_get_tagging(c, "k", &t, &err), -ENODATA);
    CHECK_STR(err.code, "NoSuchTagSet");
    CHECK_INT(mrap_s3_get_tagging(c, "k", &t, &err), -EPROTO);
    CHECK(t.v == NULL && t.n == 0, "nothing left after a malformed answer");
    CHECK_INT(mrap_s3_put_tagging(c, "k", tags, 1, &err), -EIO); /* 200 carrying <Error> */
    CHECK_STR(err.code, "InternalError");

    /* Refused locally: nothing sent. */
    size_t before = fake.n_calls;
    struct mrap_s3_tag bad[] = {{"ok", "v"}, {"bad*key", "v"}};
    CHECK_INT(mrap_s3_put_tagging(c, "k", bad, 2, &err), -EINVAL);
    struct mrap_s3_tag many[11];
    for (int i = 0; i < 11; i++)
        many[i] = (struct mrap_s3_tag){"k", "v"};
    CHECK_INT(mrap_s3_put_tagging(c, "k", many, 11, &err), -E2BIG);
    CHECK_INT(fake.n_calls, before);
}

static void test_lock(struct mrap_s3_client *c)
{
    static const struct fake_reply r[] = {
        REPLY(200, ""),
        REPLY(200, ""),
        REPLY(403,
              "<Error><Code>AccessDenied</Code><Message>Access Denied because object protected "
              "by object lock.</Message></Error>"),
        REPLY(200, "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-02T03:04:05.000Z"
                   "</RetainUntilDate></Retention>"),
        REPLY(404,
              "<Error><Code>NoSuchObjectLockConfiguration</Code><Message>none</Message></Error>"),
        REPLY(200, ""),
        REPLY(200, "<LegalHold><Status>ON</Status></LegalHold>"),
        REPLY(200, "<Retention><Mode>GOVERNANCE</Mode></Retention>"),
    };
    struct mrap_s3_error err;
    struct mrap_s3_retention ret = {MRAP_S3_LOCK_GOVERNANCE, 1893553445};
    fake_http_reset(&fake, r, N_REPLIES(r));
    CHECK_INT(mrap_s3_put_retention(c, "k", &ret, false, &err), 0);
    CHECK_STR(fake.calls[0].url, BASE "k?retention");
    CHECK(strstr(fake.calls[0].body, "<Mode>GOVERNANCE</Mode><RetainUntilDate>"
                                     "2030-01-02T03:04:05Z</RetainUntilDate></Retention>") != NULL,
          "retention body: %s", fake.calls[0].body);
    CHECK(fake_md5_matches(&fake, 0), "Content-MD5 of the retention body");
    CHECK(fake_hdr(&fake, 0, "x-amz-bypass-governance-retention") == NULL, "no bypass asked");

    ret.mode = MRAP_S3_LOCK_NONE;
    CHECK_INT(mrap_s3_put_retention(c, "k", &ret, true, &err), 0);
    CHECK_STR(fake_hdr(&fake, 1, "x-amz-bypass-governance-retention"), "true");
    CHECK(strstr(fake.calls[1].body, "<Mode>") == NULL, "removal has an empty <Retention>");

    ret.mode = MRAP_S3_LOCK_COMPLIANCE;
    CHECK_INT(mrap_s3_put_retention(c, "k", &ret, false, &err), -EPERM);
    CHECK_INT(mrap_s3_get_retention(c, "k", &ret, &err), 0);
    CHECK(ret.mode == MRAP_S3_LOCK_GOVERNANCE && ret.until == 1893553445, "retention read");
    CHECK_INT(mrap_s3_get_retention(c, "k", &ret, &err), -ENODATA);

    CHECK_INT(mrap_s3_put_legal_hold(c, "k", true, &err), 0);
    CHECK_STR(fake.calls[5].url, BASE "k?legal-hold");
    CHECK(strstr(fake.calls[5].body, "<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/"
                                     "\"><Status>ON</Status></LegalHold>") != NULL,
          "legal hold body");
    CHECK(fake_md5_matches(&fake, 5), "Content-MD5 of the legal hold body");
    bool on = false;
    CHECK_INT(mrap_s3_get_legal_hold(c, "k", &on, &err), 0);
    CHECK(on, "legal hold read");
    CHECK_INT(mrap_s3_get_retention(c, "k", &ret, &err), -EPROTO);

    size_t before = fake.n_calls;
    ret.mode = (enum mrap_s3_lock_mode)7;
    CHECK_INT(mrap_s3_put_retention(c, "k", &ret, false, &err), -EINVAL);
    CHECK_INT(fake.n_calls, before);
}

static void test_acl_restore(struct mrap_s3_client *c)
{
    static const struct fake_reply r[] = {
        REPLY(200, ""),
        REPLY(200, "<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant>"
                   "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                   "xsi:type=\"CanonicalUser\"><ID>o</ID></Grantee><Permission>FULL_CONTROL"
                   "</Permission></Grant></AccessControlList></AccessControlPolicy>"),
        REPLY(202, ""),
        REPLY(200, ""),
        REPLY(409, "<Error><Code>RestoreAlreadyInProgress</Code><Message>Object restore is already "
                   "in progress</Message></Error>"),
        REPLY(403, "<Error><Code>InvalidObjectState</Code><Message>not archived</Message></Error>"),
        REPLY(204, ""),
    };
    struct mrap_s3_error err;
    struct mrap_s3_acl acl;
    enum mrap_s3_restore_outcome out = 0;
    fake_http_reset(&fake, r, N_REPLIES(r));
    CHECK_INT(mrap_s3_put_canned_acl(c, "k", "public-read", &err), 0);
    CHECK_STR(fake.calls[0].url, BASE "k?acl");
    CHECK_STR(fake_hdr(&fake, 0, "x-amz-acl"), "public-read");
    CHECK_STR(fake_hdr(&fake, 0, "content-md5"), "1B2M2Y8AsgTpgAmY7PhCfg==");
    CHECK_INT(mrap_s3_get_acl(c, "k", &acl, &err), 0);
    CHECK(acl.n_grants == 1 && strcmp(acl.grants[0].permission, "FULL_CONTROL") == 0, "ACL read");
    mrap_s3_acl_cleanup(&acl);

    CHECK_INT(mrap_s3_restore_object(c, "k", 3, MRAP_S3_TIER_BULK, &out, &err), 0);
    CHECK_INT(out, MRAP_S3_RESTORE_STARTED);
    CHECK_STR(fake.calls[2].method, "POST");
    CHECK_STR(fake.calls[2].url, BASE "k?restore");
    CHECK(strstr(fake.calls[2].body, "<RestoreRequest xmlns=\"http://s3.amazonaws.com/doc/"
                                     "2006-03-01/\"><Days>3</Days><GlacierJobParameters><Tier>"
                                     "Bulk</Tier></GlacierJobParameters></RestoreRequest>") != NULL,
          "restore body: %s", fake.calls[2].body);
    CHECK_INT(mrap_s3_restore_object(c, "k", 3, MRAP_S3_TIER_STANDARD, &out, &err), 0);
    CHECK_INT(out, MRAP_S3_RESTORE_EXTENDED);
    CHECK_INT(mrap_s3_restore_object(c, "k", 3, MRAP_S3_TIER_STANDARD, &out, &err), 0);
    CHECK_INT(out, MRAP_S3_RESTORE_IN_PROGRESS);
    CHECK_INT(mrap_s3_restore_object(c, "k", 3, MRAP_S3_TIER_STANDARD, &out, &err), -ENODATA);
    CHECK_INT(mrap_s3_restore_object(c, "k", 3, MRAP_S3_TIER_STANDARD, &out, &err), -EPROTO);

    size_t before = fake.n_calls;
    CHECK_INT(mrap_s3_put_canned_acl(c, "k", "everyone", &err), -EINVAL);
    CHECK_INT(mrap_s3_restore_object(c, "k", 0, MRAP_S3_TIER_BULK, &out, &err), -EINVAL);
    CHECK_INT(mrap_s3_restore_object(c, "k", 1, (enum mrap_s3_restore_tier)9, &out, &err), -EINVAL);
    CHECK_INT(fake.n_calls, before);
}

int main(void)
{
    creds = fake_creds_new(NULL);
    CHECK(creds != NULL, "credentials");
    if (!creds)
        return mrap_test_finish();
    signer = mrap_signer_new();
    struct mrap_s3_client *c = client();
    test_head(c);
    test_tagging(c);
    test_lock(c);
    test_acl_restore(c);
    mrap_s3_client_destroy(c);
    fake_http_reset(&fake, NULL, 0);
    mrap_signer_destroy(signer);
    mrap_creds_provider_destroy(creds);
    return mrap_test_finish();
}
