/*
 * Multipart uploads through a scripted transport: the part-size schedule, the
 * exact requests of Create/UploadPart/Complete/Abort (query, checksum headers,
 * the Complete body), the ETag and CRC checks, "200 OK with <Error>" on
 * Complete (re-sent when retryable, final otherwise), NoSuchUpload resolved
 * by HeadObject, and the inputs refused before anything is sent.
 * Known values come from Python's hashlib and the AWS CRT's crc32c.
 */
#include "s3/write.h"
#include "fake_s3.h"
#include "tap.h"

#include <errno.h>
#include <string.h>

#define MIB (1ull << 20)

static void test_part_size(void)
{
    const uint64_t unknown = MRAP_S3_SIZE_UNKNOWN;
    CHECK_INT(mrap_s3_mpu_part_size(unknown, 0), 0);
    CHECK_INT(mrap_s3_mpu_part_size(unknown, 10001), 0);
    CHECK_INT(mrap_s3_mpu_part_size(unknown, 1), 8 * MIB);
    CHECK_INT(mrap_s3_mpu_part_size(unknown, 1000), 8 * MIB);
    CHECK_INT(mrap_s3_mpu_part_size(unknown, 1001), 16 * MIB);
    CHECK_INT(mrap_s3_mpu_part_size(unknown, 2001), 32 * MIB);
    CHECK_INT(mrap_s3_mpu_part_size(unknown, 9001), 4096 * MIB);
    CHECK_INT(mrap_s3_mpu_part_size(unknown, 10000), 4096 * MIB);
    uint64_t total = 0;
    bool within = true;
    for (unsigned p = 1; p <= MRAP_S3_MAX_PARTS; p++) {
        uint64_t s = mrap_s3_mpu_part_size(unknown, p);
        within = within && s >= MRAP_S3_MIN_PART_SIZE && s <= MRAP_S3_MAX_PART_SIZE;
        total += s;
    }
    CHECK(within, "every stream part is within S3's part limits");
    CHECK(total >= MRAP_S3_MAX_OBJECT_SIZE, "10,000 stream parts hold 5 TiB (%llu)",
          (unsigned long long)total);

    /* Known sizes: one size, a multiple of 1 MiB, >= 8 MiB, fitting 10,000 parts. */
    CHECK_INT(mrap_s3_mpu_part_size(0, 1), 8 * MIB);
    CHECK_INT(mrap_s3_mpu_part_size(100 * MIB, 7), 8 * MIB);
    CHECK_INT(mrap_s3_mpu_part_size(80000 * MIB, 1), 8 * MIB);     /* exactly 10,000 x 8 MiB */
    CHECK_INT(mrap_s3_mpu_part_size(80000 * MIB + 1, 1), 9 * MIB); /* one byte more */
    CHECK_INT(mrap_s3_mpu_part_size(MRAP_S3_MAX_OBJECT_SIZE, 1), 525 * MIB);
    CHECK_INT(mrap_s3_mpu_part_size(MRAP_S3_MAX_OBJECT_SIZE, 10000), 525 * MIB);
    CHECK_INT(mrap_s3_mpu_part_size(MRAP_S3_MAX_OBJECT_SIZE + 1, 1), 0);
    CHECK_INT(mrap_s3_mpu_part_size(100 * MIB, 0), 0);
    static const uint64_t sizes[] = {1,          8 * MIB - 1,          123456789012ull,
                                     1ull << 40, (3ull << 40) + 12345, MRAP_S3_MAX_OBJECT_SIZE - 1};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t s = mrap_s3_mpu_part_size(sizes[i], 1);
        CHECK(s % MIB == 0 && s >= 8 * MIB && s * MRAP_S3_MAX_PARTS >= sizes[i] &&
                  (s == 8 * MIB || (s - MIB) * MRAP_S3_MAX_PARTS < sizes[i]),
              "part size %llu for %llu is the smallest that fits", (unsigned long long)s,
              (unsigned long long)sizes[i]);
    }
}

static const char initiate_ok[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult "
    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket><Key>k</Key>"
    "<UploadId>VXBsb2FkIElE/+=</UploadId></InitiateMultipartUploadResult>";

static void test_create(void)
{
    static const struct fake_reply replies[] = {
        {.status = 200, .body = initiate_ok},
        {.status = 200,
         .body = "<InitiateMultipartUploadResult><Key>k</Key>"
                 "</InitiateMultipartUploadResult>"},
        {.status = 200,
         .body = "<InitiateMultipartUploadResult><UploadId>has space</UploadId>"
                 "</InitiateMultipartUploadResult>"},
        {.status = 200, .body = "<Error><Code>AccessDenied</Code><Message>no</Message></Error>"},
        {.status = 200, .body = "<Unexpected/>"},
    };
    struct fake_s3 f;
    struct mrap_s3_error err;
    char *id = NULL;
    fake_init(&f, replies, 5);
    struct mrap_s3_client *c = fake_client(&f);
    struct mrap_s3_meta meta[] = {{"origin", "mrapfs"}};
    struct mrap_s3_put_opts o = {.content_type = "application/x-test",
                                 .meta = meta,
                                 .n_meta = 1,
                                 .storage_class = "STANDARD_IA",
                                 .content_md5 = true};
    CHECK_INT(mrap_s3_mpu_create(c, "dir/big file", &o, &id, &err), 0);
    CHECK_STR(id, "VXBsb2FkIElE/+=");
    free(id);
    CHECK_STR(f.sent[0].method, "POST");
    CHECK_STR(f.sent[0].url, FAKE_BASE "/dir/big%20file?uploads");
    CHECK_STR(fake_header(&f, 0, "x-amz-checksum-algorithm"), "CRC32C");
    CHECK_STR(fake_header(&f, 0, "content-type"), "application/x-test");
    CHECK_STR(fake_header(&f, 0, "x-amz-storage-class"), "STANDARD_IA");
    CHECK_STR(fake_header(&f, 0, "x-amz-meta-origin"), "mrapfs");
    CHECK(!fake_header(&f, 0, "content-md5") && !fake_header(&f, 0, "if-none-match"),
          "PutObject-only headers are not sent");
    CHECK_INT(f.sent[0].body_len, 0);

    CHECK_INT(mrap_s3_mpu_create(c, "k", NULL, &id, &err), -EPROTO); /* no UploadId */
    CHECK(id == NULL, "no id on failure");
    CHECK_INT(mrap_s3_mpu_create(c, "k", NULL, &id, &err), -EPROTO); /* unusable UploadId */
    CHECK_INT(mrap_s3_mpu_create(c, "k", NULL, &id, &err), -EACCES); /* 200 with <Error> */
    CHECK_STR(err.code, "AccessDenied");
    CHECK_INT(mrap_s3_mpu_create(c, "k", NULL, &id, &err), -EPROTO); /* another document */
    CHECK_INT(f.n_sent, 5);

    o = (struct mrap_s3_put_opts){.if_none_match_star = true};
    CHECK_INT(mrap_s3_mpu_create(c, "k", &o, &id, &err), -EINVAL);
    CHECK_INT(mrap_s3_mpu_create(c, "", NULL, &id, &err), -EINVAL);
    CHECK_INT(f.n_sent, 5);
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
}

static void test_upload_part(void)
{
    static const char part[] = "part one";
    static const struct fake_reply replies[] = {
        {.status = 200, .etag_of_body = true, .echo_crc = true},
        {.status = 200, .headers = "ETag: \"3ea4e15b91a17dc76052c56cfcdf67a2\"\n"},
        {.status = 200, .etag_of_body = true, .headers = "x-amz-checksum-crc32c: BsZkyQ==\n"},
    };
    struct fake_s3 f;
    struct mrap_s3_error err;
    struct mrap_s3_part out;
    fake_init(&f, replies, 3);
    struct mrap_s3_client *c = fake_client(&f);

    CHECK_INT(mrap_s3_mpu_upload_part(c, "k", "id/+=", 3, part, 8, &out, &err), 0);
    CHECK_STR(f.sent[0].method, "PUT");
    CHECK_STR(f.sent[0].url, FAKE_BASE "/k?partNumber=3&uploadId=id%2F%2B%3D");
    CHECK_STR(fake_header(&f, 0, "x-amz-checksum-crc32c"), "foplgw==");
    CHECK_STR(fake_header(&f, 0, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
    CHECK(!fake_header(&f, 0, "content-md5"), "no Content-MD5 on parts");
    CHECK_INT(out.part_number, 3);
    CHECK_INT(out.size, 8);
    CHECK_STR(out.etag, "\"3303e12af474ca11d85ed2966a932992\"");
    CHECK(out.has_crc32c && out.crc32c == mrap_crc32c(0, part, 8), "part CRC32C kept");
    char hex[33];
    mrap_s3_op_hex(out.md5, 16, hex);
    CHECK_STR(hex, "3303e12af474ca11d85ed2966a932992");

    CHECK_INT(mrap_s3_mpu_upload_part(c, "k", "id", 1, part, 8, &out, &err), -EIO); /* ETag */
    CHECK_STR(err.code, "ETagMismatch");
    CHECK_INT(mrap_s3_mpu_upload_part(c, "k", "id", 1, part, 8, &out, &err), -EIO); /* CRC */
    CHECK_STR(err.code, "ChecksumMismatch");
    CHECK_INT(f.n_sent, 3);

    CHECK_INT(mrap_s3_mpu_upload_part(c, "k", "id", 0, part, 8, &out, &err), -EINVAL);
    CHECK_INT(mrap_s3_mpu_upload_part(c, "k", "id", 10001, part, 8, &out, &err), -EINVAL);
    CHECK_INT(mrap_s3_mpu_upload_part(c, "k", "", 1, part, 8, &out, &err), -EINVAL);
    CHECK_INT(mrap_s3_mpu_upload_part(c, "k", NULL, 1, part, 8, &out, &err), -EINVAL);
    CHECK_INT(mrap_s3_mpu_upload_part(c, "k", "bad id", 1, part, 8, &out, &err), -EINVAL);
    CHECK_INT(mrap_s3_mpu_upload_part(c, "k", "id", 1, NULL, 8, &out, &err), -EINVAL);
    CHECK_INT(mrap_s3_mpu_upload_part(c, "", "id", 1, part, 8, &out, &err), -EINVAL);
    CHECK_INT(mrap_s3_mpu_upload_part(c, "k", "id", 1, part, (size_t)MRAP_S3_MAX_PART_SIZE + 1,
                                      &out, &err),
              -EFBIG);
    CHECK_INT(f.n_sent, 3);
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
}

/* Two parts as mrap_s3_mpu_upload_part returns them for "part one", "part two". */
static void two_parts(struct mrap_s3_part p[2])
{
    memset(p, 0, 2 * sizeof(*p));
    static const char *bodies[] = {"part one", "part two"};
    for (int i = 0; i < 2; i++) {
        unsigned char md5[16];
        char hex[33];
        mrap_s3_op_md5(bodies[i], 8, md5);
        mrap_s3_op_hex(md5, 16, hex);
        p[i].part_number = (unsigned)i + 1;
        p[i].size = 8;
        snprintf(p[i].etag, sizeof(p[i].etag), "\"%s\"", hex);
        memcpy(p[i].md5, md5, 16);
        p[i].crc32c = mrap_crc32c(0, bodies[i], 8);
        p[i].has_crc32c = true;
    }
}

#define ETAG2 "0732917abc3288784e318ac0aab1757a-2"
#define RESULT(etag, crc)                                                                          \
    "<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"            \
    "<Location>http://x/k</Location><Bucket>b</Bucket><Key>k</Key><ETag>&quot;" etag               \
    "&quot;</ETag>" crc "</CompleteMultipartUploadResult>"
#define CRC2 "<ChecksumCRC32C>WX4d1g==-2</ChecksumCRC32C><ChecksumType>COMPOSITE</ChecksumType>"

static const char internal_200[] =
    "\n\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please "
    "try again.</Message><RequestId>R200</RequestId></Error>";
static const char no_such_upload[] =
    "<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message>"
    "</Error>";
#define HEAD_HEADERS(etag)                                                                         \
    "Content-Length: 16\nLast-Modified: Wed, 25 Nov 2026 11:06:49 GMT\nETag: \"" etag "\"\n"

static void test_complete_request(void)
{
    struct mrap_s3_part p[2];
    char etag[MRAP_S3_ETAG_MAX];
    two_parts(p);
    mrap_s3_mpu_expected_etag(p, 2, etag);
    CHECK_STR(etag, "\"" ETAG2 "\"");

    static const struct fake_reply ok[] = {{.status = 200, .body = RESULT(ETAG2, CRC2)}};
    struct fake_s3 f;
    struct mrap_s3_error err;
    fake_init(&f, ok, 1);
    struct mrap_s3_client *c = fake_client(&f);
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "up/id", p, 2, etag, &err), 0);
    CHECK_STR(etag, "\"" ETAG2 "\"");
    CHECK_STR(f.sent[0].method, "POST");
    CHECK_STR(f.sent[0].url, FAKE_BASE "/k?uploadId=up%2Fid");
    CHECK_STR(f.sent[0].body,
              "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
              "<Part><PartNumber>1</PartNumber>"
              "<ETag>&quot;3303e12af474ca11d85ed2966a932992&quot;</ETag>"
              "<ChecksumCRC32C>foplgw==</ChecksumCRC32C></Part>"
              "<Part><PartNumber>2</PartNumber>"
              "<ETag>&quot;3ea4e15b91a17dc76052c56cfcdf67a2&quot;</ETag>"
              "<ChecksumCRC32C>BsZkyQ==</ChecksumCRC32C></Part>"
              "</CompleteMultipartUpload>");
    fake_cleanup(&f);

    /* Parts without a CRC (e.g. listed from an upload without checksums): no
     * ChecksumCRC32C element; an ETag needing escapes is escaped. */
    p[0].has_crc32c = p[1].has_crc32c = false;
    snprintf(p[1].etag, sizeof(p[1].etag), "\"a<b>&c\"");
    static const struct fake_reply other[] = {{.status = 200, .body = RESULT("x-2", "")}};
    fake_init(&f, other, 1);
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "id", p, 2, NULL, &err), -EIO); /* ETag differs */
    CHECK(strstr(f.sent[0].body, "<ETag>&quot;a&lt;b&gt;&amp;c&quot;</ETag>") &&
              !strstr(f.sent[0].body, "Checksum"),
          "escaped ETag, no checksum: %s", f.sent[0].body);
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
}

static void test_complete_answers(void)
{
    struct mrap_s3_part p[2];
    struct mrap_s3_error err;
    char etag[MRAP_S3_ETAG_MAX];
    struct fake_s3 f;
    two_parts(p);
    struct {
        struct fake_reply r[4];
        size_t n;
        int want;
        size_t sent;
    } cases[] = {
        /* wrong composite CRC */
        {{{.status = 200, .body = RESULT(ETAG2, "<ChecksumCRC32C>AAAAAA==-2</ChecksumCRC32C>")}},
         1,
         -EIO,
         1},
        /* wrong ETag */
        {{{.status = 200, .body = RESULT("0732917abc3288784e318ac0aab1757a-3", CRC2)}}, 1, -EIO, 1},
        /* no CRC in the answer: the ETag alone decides */
        {{{.status = 200, .body = RESULT(ETAG2, "")}}, 1, 0, 1},
        /* SSE-KMS: an ETag we cannot predict, the composite CRC decides */
        {{{.status = 200,
           .headers = "x-amz-server-side-encryption: aws:kms\n",
           .body = RESULT("ffff", CRC2)}},
         1,
         0,
         1},
        {{{.status = 200,
           .headers = "x-amz-server-side-encryption: aws:kms\n",
           .body = RESULT("ffff", "")}},
         1,
         -EIO,
         1},
        /* retryable 200-with-Error, then success */
        {{{.status = 200, .body = internal_200}, {.status = 200, .body = RESULT(ETAG2, CRC2)}},
         2,
         0,
         2},
        /* retryable every time: three attempts in all, then the error */
        {{{.status = 200, .body = internal_200},
          {.status = 200, .body = internal_200},
          {.status = 200, .body = internal_200},
          {.status = 200, .body = RESULT(ETAG2, CRC2)}},
         4,
         -EIO,
         3},
        /* a non-retryable 200-with-Error is final */
        {{{.status = 200,
           .body = "<Error><Code>InvalidPart</Code><Message>One or more of the "
                   "specified parts could not be found.</Message></Error>"},
          {.status = 200, .body = RESULT(ETAG2, CRC2)}},
         2,
         -EINVAL,
         1},
        /* re-sent, upload gone, the object has our ETag: completed */
        {{{.status = 200, .body = internal_200},
          {.status = 404, .body = no_such_upload},
          {.status = 200, .headers = HEAD_HEADERS(ETAG2)}},
         3,
         0,
         3},
        /* the client's own retry after a 500 finds the upload gone: same */
        {{{.status = 500, .body = "<Error><Code>InternalError</Code></Error>"},
          {.status = 404, .body = no_such_upload},
          {.status = 200, .headers = HEAD_HEADERS(ETAG2)}},
         3,
         0,
         3},
        /* upload gone and the object is someone else's */
        {{{.status = 200, .body = internal_200},
          {.status = 404, .body = no_such_upload},
          {.status = 200, .headers = HEAD_HEADERS("0123456789abcdef0123456789abcdef-2")}},
         3,
         -ENOENT,
         3},
        /* upload gone and no object */
        {{{.status = 404, .body = no_such_upload}, {.status = 404}}, 2, -ENOENT, 2},
        /* an answer that is not a document */
        {{{.status = 200, .body = "<CompleteMultipartUploadResult>"}}, 1, -EPROTO, 1},
        {{{.status = 200,
           .body = "<CompleteMultipartUploadResult><Key>k</Key>" CRC2
                   "</CompleteMultipartUploadResult>"}},
         1,
         -EPROTO,
         1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fake_init(&f, cases[i].r, cases[i].n);
        struct mrap_s3_client *c = fake_client(&f);
        int rc = mrap_s3_mpu_complete(c, "k", "id", p, 2, etag, &err);
        CHECK(rc == cases[i].want, "complete case %zu: %d, want %d", i, rc, cases[i].want);
        CHECK(f.n_sent == cases[i].sent, "complete case %zu: %zu requests, want %zu", i, f.n_sent,
              cases[i].sent);
        if (rc == 0 && i != 3)
            CHECK_STR(etag, "\"" ETAG2 "\"");
        if (cases[i].sent >= 2 && strcmp(f.sent[1].method, "POST") == 0)
            CHECK_STR(f.sent[1].body, f.sent[0].body); /* a re-send is the same request */
        if (i == 8)
            CHECK_STR(f.sent[2].method, "HEAD");
        fake_cleanup(&f);
        mrap_s3_client_destroy(c);
    }
}

static void test_complete_refusals(void)
{
    struct mrap_s3_part p[3];
    struct fake_s3 f;
    fake_init(&f, NULL, 0);
    struct mrap_s3_client *c = fake_client(&f);
    two_parts(p);
    p[2] = p[1];
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "id", p, 0, NULL, NULL), -EINVAL);
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "id", NULL, 1, NULL, NULL), -EINVAL);
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "id", p, 3, NULL, NULL), -EINVAL); /* 2, 2 */
    p[2].part_number = 1;
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "id", p, 3, NULL, NULL), -EINVAL); /* 1, 2, 1 */
    p[2].part_number = 10001;
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "id", p, 3, NULL, NULL), -EINVAL);
    p[2].part_number = 3;
    p[2].etag[0] = '\0';
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "id", p, 3, NULL, NULL), -EINVAL);
    memset(p[2].etag, 'x', sizeof(p[2].etag)); /* not terminated */
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "id", p, 3, NULL, NULL), -EINVAL);
    p[0].part_number = 0;
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "id", p, 2, NULL, NULL), -EINVAL);
    two_parts(p);
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "", p, 2, NULL, NULL), -EINVAL);
    CHECK_INT(mrap_s3_mpu_complete(c, "", "id", p, 2, NULL, NULL), -EINVAL);
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "id", p, MRAP_S3_MAX_PARTS + 1, NULL, NULL), -EINVAL);
    CHECK_INT(f.n_sent, 0);
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
}

/* The largest upload S3 allows: 10,000 parts in one Complete body. */
static void test_complete_10000_parts(void)
{
    struct mrap_s3_part *p = calloc(MRAP_S3_MAX_PARTS + 1, sizeof(*p));
    static char result[1024];
    char etag[MRAP_S3_ETAG_MAX], crc[9];
    if (!p) {
        CHECK(false, "memory for 10,001 parts");
        return;
    }
    uint32_t composite = 0;
    for (unsigned i = 0; i <= MRAP_S3_MAX_PARTS; i++) {
        p[i].part_number = i + 1;
        p[i].md5[0] = (unsigned char)i;
        p[i].md5[1] = (unsigned char)(i >> 8);
        char hex[33];
        mrap_s3_op_hex(p[i].md5, 16, hex);
        snprintf(p[i].etag, sizeof(p[i].etag), "\"%s\"", hex);
        p[i].crc32c = i * 2654435761u;
        p[i].has_crc32c = true;
        unsigned char be[4] = {(unsigned char)(p[i].crc32c >> 24),
                               (unsigned char)(p[i].crc32c >> 16),
                               (unsigned char)(p[i].crc32c >> 8), (unsigned char)p[i].crc32c};
        if (i < MRAP_S3_MAX_PARTS)
            composite = mrap_crc32c(composite, be, 4);
    }
    mrap_s3_mpu_expected_etag(p, MRAP_S3_MAX_PARTS, etag);
    CHECK(strlen(etag) == 40 && strcmp(etag + 33, "-10000\"") == 0, "ETag of 10,000 parts: %s",
          etag);
    mrap_crc32c_base64(composite, crc);
    snprintf(result, sizeof(result),
             "<CompleteMultipartUploadResult><ETag>%s</ETag><ChecksumCRC32C>%s-10000"
             "</ChecksumCRC32C></CompleteMultipartUploadResult>",
             etag, crc);
    struct fake_reply ok[] = {{.status = 200, .body = result}};
    struct fake_s3 f;
    fake_init(&f, ok, 1);
    struct mrap_s3_client *c = fake_client(&f);
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "id", p, MRAP_S3_MAX_PARTS, NULL, NULL), 0);
    size_t n = 0;
    for (const char *q = f.sent[0].body; (q = strstr(q, "<Part>")); q++)
        n++;
    CHECK_INT(n, MRAP_S3_MAX_PARTS);
    CHECK(strstr(f.sent[0].body, "<PartNumber>10000</PartNumber>") != NULL, "last part sent");
    CHECK_INT(mrap_s3_mpu_complete(c, "k", "id", p, MRAP_S3_MAX_PARTS + 1, NULL, NULL), -EINVAL);
    CHECK_INT(f.n_sent, 1);
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
    free(p);
}

static void test_abort(void)
{
    static const struct fake_reply replies[] = {{.status = 204},
                                                {.status = 404, .body = no_such_upload}};
    struct fake_s3 f;
    struct mrap_s3_error err;
    fake_init(&f, replies, 2);
    struct mrap_s3_client *c = fake_client(&f);
    CHECK_INT(mrap_s3_mpu_abort(c, "a/b", "x=y", &err), 0);
    CHECK_STR(f.sent[0].method, "DELETE");
    CHECK_STR(f.sent[0].url, FAKE_BASE "/a/b?uploadId=x%3Dy");
    CHECK_INT(mrap_s3_mpu_abort(c, "a/b", "x=y", &err), -ENOENT);
    CHECK_STR(err.code, "NoSuchUpload");
    CHECK_INT(mrap_s3_mpu_abort(c, "a/b", "", &err), -EINVAL);
    CHECK_INT(f.n_sent, 2);
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
}

int main(void)
{
    static void (*const tests[])(void) = {
        test_part_size,
        test_create,
        test_upload_part,
        test_complete_request,
        test_complete_answers,
        test_complete_refusals,
        test_complete_10000_parts,
        test_abort,
    };
    return fake_main(tests, sizeof(tests) / sizeof(tests[0]));
}
