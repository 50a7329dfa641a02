/*
 * PutObject and DeleteObject through a scripted transport: the exact request
 * each sends (method, URL, checksum, MD5, metadata, conditions, unsigned
 * payload), every check of the answer (ETag, echoed CRC32C, encrypted
 * objects), error mapping, and the inputs refused before anything is sent.
 */
#include "s3/write.h"
#include "fake_s3.h"
#include "tap.h"

#include <errno.h>
#include <string.h>

static const char body[] = "hello, world\n";

/* x-amz-checksum-crc32c and Content-MD5 as they must be sent for `body`. */
static void expected_digests(const void *b, size_t len, char crc[9], char md5[25])
{
    unsigned char m[16];
    mrap_crc32c_base64(mrap_crc32c(0, b, len), crc);
    mrap_s3_op_md5(b, len, m);
    mrap_s3_op_base64(m, 16, md5, 25);
}

static void test_put_request(void)
{
    static const struct fake_reply ok[] = {{.status = 200, .etag_of_body = true, .echo_crc = true}};
    struct fake_s3 f;
    fake_init(&f, ok, 1);
    struct mrap_s3_client *c = fake_client(&f);
    struct mrap_s3_meta meta[] = {{"Color", "blue"}, {"a-b", "x  y"}, {"empty", ""}};
    struct mrap_s3_put_opts o = {.content_type = "text/plain; charset=utf-8",
                                 .meta = meta,
                                 .n_meta = 3,
                                 .storage_class = "STANDARD_IA",
                                 .if_none_match_star = true,
                                 .content_md5 = true};
    struct mrap_s3_put_result res;
    struct mrap_s3_error err;
    char crc[9], md5[25];
    expected_digests(body, sizeof(body) - 1, crc, md5);

    CHECK_INT(mrap_s3_put_object(c, "dir/a b+€.txt", body, sizeof(body) - 1, &o, &res, &err), 0);
    CHECK_INT(f.n_sent, 1);
    CHECK_STR(f.sent[0].method, "PUT");
    CHECK_STR(f.sent[0].url, FAKE_BASE "/dir/a%20b%2B%E2%82%AC.txt");
    CHECK_INT(f.sent[0].body_len, sizeof(body) - 1);
    CHECK(memcmp(f.sent[0].body, body, sizeof(body) - 1) == 0, "body sent as given");
    CHECK_STR(fake_header(&f, 0, "x-amz-checksum-crc32c"), crc);
    CHECK_STR(fake_header(&f, 0, "content-md5"), md5);
    CHECK_STR(fake_header(&f, 0, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
    CHECK_STR(fake_header(&f, 0, "content-type"), "text/plain; charset=utf-8");
    CHECK_STR(fake_header(&f, 0, "x-amz-storage-class"), "STANDARD_IA");
    CHECK_STR(fake_header(&f, 0, "if-none-match"), "*");
    CHECK_STR(fake_header(&f, 0, "x-amz-meta-color"), "blue");
    CHECK_STR(fake_header(&f, 0, "x-amz-meta-a-b"), "x  y");
    CHECK_STR(fake_header(&f, 0, "x-amz-meta-empty"), "");
    const char *auth = fake_header(&f, 0, "authorization");
    CHECK(auth && strstr(auth, "x-amz-checksum-crc32c") && strstr(auth, "x-amz-meta-color") &&
              strstr(auth, "content-md5"),
          "checksum, MD5 and metadata are signed: %s", auth ? auth : "(none)");
    CHECK_INT(res.crc32c, mrap_crc32c(0, body, sizeof(body) - 1));
    CHECK(res.etag[0] == '"' && strlen(res.etag) == 34, "quoted ETag returned: %s", res.etag);
    fake_cleanup(&f);

    /* No options: nothing optional is sent; an empty body (NULL) is fine. */
    fake_init(&f, ok, 1);
    CHECK_INT(mrap_s3_put_object(c, "empty", NULL, 0, NULL, NULL, &err), 0);
    CHECK_STR(fake_header(&f, 0, "x-amz-checksum-crc32c"), "AAAAAA==");
    CHECK(!fake_header(&f, 0, "content-md5") && !fake_header(&f, 0, "if-none-match") &&
              !fake_header(&f, 0, "x-amz-storage-class"),
          "no optional headers without options");
    CHECK_INT(f.sent[0].body_len, 0);
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
}

static void test_put_answers(void)
{
    struct fake_s3 f;
    struct mrap_s3_error err;
    struct mrap_s3_put_result res;
    const size_t len = sizeof(body) - 1;
    static const struct fake_reply cases[] = {
        /* 0: the ETag is another body's MD5 */
        {.status = 200, .headers = "ETag: \"d41d8cd98f00b204e9800998ecf8427e\"\n"},
        /* 1: right ETag, CRC32C echoed wrong */
        {.status = 200, .etag_of_body = true, .headers = "x-amz-checksum-crc32c: AAAAAA==\n"},
        /* 2: no ETag */
        {.status = 200},
        /* 3: SSE-KMS: ETag is not the MD5, the echoed CRC decides (right) */
        {.status = 200,
         .echo_crc = true,
         .headers = "ETag: \"0123456789abcdef0123456789abcdef\"\n"
                    "x-amz-server-side-encryption: aws:kms\n"},
        /* 4: SSE-KMS without an echoed CRC: nothing to verify */
        {.status = 200,
         .headers = "ETag: \"0123456789abcdef0123456789abcdef\"\n"
                    "x-amz-server-side-encryption: aws:kms\n"},
        /* 5: SSE-C with a wrong echoed CRC */
        {.status = 200,
         .headers = "ETag: \"0123456789abcdef0123456789abcdef\"\n"
                    "x-amz-server-side-encryption-customer-algorithm: AES256\n"
                    "x-amz-checksum-crc32c: AAAAAA==\n"},
        /* 6: S3 found the bytes damaged */
        {.status = 400,
         .body = "<Error><Code>BadDigest</Code><Message>The CRC32C you specified did not "
                 "match the calculated checksum.</Message></Error>"},
        /* 7: If-None-Match: * and the key exists */
        {.status = 412,
         .body = "<Error><Code>PreconditionFailed</Code><Message>At least one of the "
                 "pre-conditions you specified did not hold</Message></Error>"},
        /* 8: an echoed CRC that is not base64 of 4 bytes */
        {.status = 200, .etag_of_body = true, .headers = "x-amz-checksum-crc32c: bogus\n"},
        /* 9: an ETag that is not a plain MD5 on an unencrypted object */
        {.status = 200, .echo_crc = true, .headers = "ETag: \"abc-2\"\n"},
    };
    static const int want[] = {-EIO, -EIO, -EPROTO, 0, -EIO, -EIO, -EIO, -ESTALE, -EIO, -EIO};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        fake_init(&f, &cases[i], 1);
        struct mrap_s3_client *c = fake_client(&f);
        CHECK_INT(mrap_s3_put_object(c, "k", body, len, NULL, &res, &err), want[i]);
        CHECK_INT(f.n_sent, 1);
        fake_cleanup(&f);
        mrap_s3_client_destroy(c);
    }

    /* 503 then success: the same checksum on both attempts. */
    static const struct fake_reply retry[] = {
        {.status = 503, .body = "<Error><Code>SlowDown</Code></Error>"},
        {.status = 200, .etag_of_body = true, .echo_crc = true}};
    fake_init(&f, retry, 2);
    struct mrap_s3_client *c = fake_client(&f);
    CHECK_INT(mrap_s3_put_object(c, "k", body, len, NULL, &res, &err), 0);
    CHECK_INT(f.n_sent, 2);
    CHECK_STR(fake_header(&f, 1, "x-amz-checksum-crc32c"),
              fake_header(&f, 0, "x-amz-checksum-crc32c"));
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
}

static void test_put_refusals(void)
{
    struct fake_s3 f;
    fake_init(&f, NULL, 0);
    struct mrap_s3_client *c = fake_client(&f);
    struct mrap_s3_error err;
    char long_key[MRAP_S3_KEY_MAX + 2];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';

    CHECK_INT(mrap_s3_put_object(c, NULL, body, 1, NULL, NULL, &err), -EINVAL);
    CHECK_INT(mrap_s3_put_object(c, "", body, 1, NULL, NULL, &err), -EINVAL);
    CHECK_INT(mrap_s3_put_object(c, long_key, body, 1, NULL, NULL, &err), -ENAMETOOLONG);
    CHECK_INT(mrap_s3_put_object(c, "k", NULL, 1, NULL, NULL, &err), -EINVAL);
    CHECK_INT(mrap_s3_put_object(c, "k", body, (size_t)MRAP_S3_MAX_PUT_SIZE + 1, NULL, NULL, &err),
              -EFBIG);
    CHECK_INT(mrap_s3_delete_object(c, "", &err), -EINVAL);
    CHECK_INT(mrap_s3_delete_object(c, long_key, &err), -ENAMETOOLONG);

    struct mrap_s3_put_opts o = {0};
    o.storage_class = "CHEAP";
    CHECK_INT(mrap_s3_put_object(c, "k", body, 1, &o, NULL, &err), -EINVAL);
    o = (struct mrap_s3_put_opts){.content_type = ""};
    CHECK_INT(mrap_s3_put_opts_check(&o), -EINVAL);
    o.content_type = "text/plain\r\nx-evil: 1";
    CHECK_INT(mrap_s3_put_object(c, "k", body, 1, &o, NULL, &err), -EINVAL);
    o = (struct mrap_s3_put_opts){.n_meta = 1};
    CHECK_INT(mrap_s3_put_opts_check(&o), -EINVAL); /* entries promised, none given */

    static const struct mrap_s3_meta bad[][2] = {
        {{"has space", "v"}, {"b", "v"}},
        {{"colon:", "v"}, {"b", "v"}},
        {{"", "v"}, {"b", "v"}},
        {{"a", "line\nbreak"}, {"b", "v"}},
        {{"a", " lead"}, {"b", "v"}},
        {{"a", "trail "}, {"b", "v"}},
        {{"a", "caf\xc3\xa9"}, {"b", "v"}},
        {{"Same", "1"}, {"sAME", "2"}},
        {{"a", NULL}, {"b", "v"}},
        {{NULL, "v"}, {"b", "v"}},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o = (struct mrap_s3_put_opts){.meta = bad[i], .n_meta = 2};
        CHECK_INT(mrap_s3_put_opts_check(&o), -EINVAL);
        CHECK_INT(mrap_s3_put_object(c, "k", body, 1, &o, NULL, &err), -EINVAL);
    }

    /* Sizes: exactly 2 KiB and exactly 24 entries pass; one more of either does not. */
    static char big[MRAP_S3_META_MAX_BYTES + 2];
    memset(big, 'v', sizeof(big) - 1);
    big[MRAP_S3_META_MAX_BYTES - 1] = '\0'; /* "n" + 2047 bytes = 2048 */
    struct mrap_s3_meta one[] = {{"n", big}};
    o = (struct mrap_s3_put_opts){.meta = one, .n_meta = 1};
    CHECK_INT(mrap_s3_put_opts_check(&o), 0);
    big[MRAP_S3_META_MAX_BYTES - 1] = 'v';
    CHECK_INT(mrap_s3_put_opts_check(&o), -E2BIG);
    CHECK_INT(mrap_s3_put_object(c, "k", body, 1, &o, NULL, &err), -E2BIG);

    struct mrap_s3_meta many[MRAP_S3_META_MAX_ENTRIES + 1];
    char names[MRAP_S3_META_MAX_ENTRIES + 1][8];
    for (size_t i = 0; i <= MRAP_S3_META_MAX_ENTRIES; i++) {
        snprintf(names[i], sizeof(names[i]), "m%zu", i);
        many[i] = (struct mrap_s3_meta){names[i], "v"};
    }
    o = (struct mrap_s3_put_opts){.meta = many, .n_meta = MRAP_S3_META_MAX_ENTRIES};
    CHECK_INT(mrap_s3_put_opts_check(&o), 0);
    o.n_meta++;
    CHECK_INT(mrap_s3_put_opts_check(&o), -E2BIG);
    CHECK_INT(mrap_s3_put_object(c, "k", body, 1, &o, NULL, &err), -E2BIG);

    CHECK_INT(f.n_sent, 0); /* nothing above reached the network */
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
}

/* The most headers a PutObject can carry still fit the client's signing limit. */
static void test_put_all_headers(void)
{
    static const struct fake_reply ok[] = {{.status = 200, .etag_of_body = true}};
    struct fake_s3 f;
    fake_init(&f, ok, 1);
    struct mrap_s3_client *c = fake_client(&f);
    struct mrap_s3_meta many[MRAP_S3_META_MAX_ENTRIES];
    char names[MRAP_S3_META_MAX_ENTRIES][8];
    for (size_t i = 0; i < MRAP_S3_META_MAX_ENTRIES; i++) {
        snprintf(names[i], sizeof(names[i]), "m%zu", i);
        many[i] = (struct mrap_s3_meta){names[i], "v"};
    }
    struct mrap_s3_put_opts o = {.content_type = "a/b",
                                 .meta = many,
                                 .n_meta = MRAP_S3_META_MAX_ENTRIES,
                                 .storage_class = "GLACIER",
                                 .if_none_match_star = true,
                                 .content_md5 = true};
    CHECK_INT(mrap_s3_put_object(c, "k", body, 3, &o, NULL, NULL), 0);
    CHECK_STR(fake_header(&f, 0, "x-amz-meta-m23"), "v");
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
}

static void test_delete(void)
{
    static const struct fake_reply replies[] = {
        {.status = 204},
        {.status = 403,
         .body = "<Error><Code>AccessDenied</Code><Message>Access Denied because object "
                 "protected by object lock.</Message></Error>"},
        {.status = 403,
         .body = "<Error><Code>AccessDenied</Code><Message>Access Denied"
                 "</Message></Error>"},
    };
    struct fake_s3 f;
    struct mrap_s3_error err;
    fake_init(&f, replies, 3);
    struct mrap_s3_client *c = fake_client(&f);
    CHECK_INT(mrap_s3_delete_object(c, "dir/x y", &err), 0);
    CHECK_STR(f.sent[0].method, "DELETE");
    CHECK_STR(f.sent[0].url, FAKE_BASE "/dir/x%20y");
    CHECK_INT(f.sent[0].body_len, 0);
    CHECK_INT(mrap_s3_delete_object(c, "locked", &err), -EPERM);
    CHECK_STR(err.code, "AccessDenied");
    CHECK_INT(mrap_s3_delete_object(c, "denied", &err), -EACCES);
    CHECK_INT(f.n_sent, 3);
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
}

int main(void)
{
    static void (*const tests[])(void) = {
        test_put_request, test_put_answers, test_put_refusals, test_put_all_headers, test_delete,
    };
    return fake_main(tests, sizeof(tests) / sizeof(tests[0]));
}
