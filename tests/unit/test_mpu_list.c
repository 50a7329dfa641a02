/*
 * ListParts and ListMultipartUploads: the parsers against good, malformed,
 * oversized and truncated documents (always -EPROTO, never a crash), url-
 * encoded keys, the exact requests, following pages, and the check that an
 * upload holds exactly the parts a writer uploaded.
 */
#include "s3/write.h"
#include "fake_s3.h"
#include "tap.h"

#include <errno.h>
#include <string.h>

#define PARTS_HEAD                                                                                 \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListPartsResult "                                \
    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket><Key>k</Key>"             \
    "<UploadId>id</UploadId>"
#define PART(n, etag, size, extra)                                                                 \
    "<Part><PartNumber>" #n "</PartNumber><LastModified>2026-11-25T10:00:01.500Z</LastModified>"   \
    "<ETag>&quot;" etag "&quot;</ETag><Size>" #size "</Size>" extra "</Part>"
#define E1         "3303e12af474ca11d85ed2966a932992"
#define E2         "3ea4e15b91a17dc76052c56cfcdf67a2"
#define PARTS_TAIL "<StorageClass>STANDARD</StorageClass></ListPartsResult>"

static const char parts_page[] = PARTS_HEAD
    "<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>7</NextPartNumberMarker>"
    "<MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>" PART(
        1, E1, 5242880, "<ChecksumCRC32C>foplgw==</ChecksumCRC32C>") PART(7, E2, 8, "") PARTS_TAIL;

static int parse_parts(const char *xml, struct mrap_s3_part_list *l)
{
    return mrap_s3_list_parts_parse(xml, strlen(xml), l);
}

static void test_parts_parse(void)
{
    struct mrap_s3_part_list l;
    CHECK_INT(parse_parts(parts_page, &l), 0);
    CHECK_INT(l.n, 2);
    CHECK(l.truncated && l.next_marker == 7, "truncated, next marker 7");
    CHECK_INT(l.parts[0].part_number, 1);
    CHECK_INT(l.parts[0].size, 5242880);
    CHECK_STR(l.parts[0].etag, "\"" E1 "\"");
    CHECK(l.parts[0].md5[0] == 0x33 && l.parts[0].md5[15] == 0x92, "MD5 from the ETag");
    CHECK(l.parts[0].has_crc32c && l.parts[0].crc32c == mrap_crc32c(0, "part one", 8),
          "CRC32C from base64");
    CHECK_INT(l.parts[0].last_modified.tv_nsec, 500000000);
    CHECK(!l.parts[1].has_crc32c, "no CRC32C given");
    mrap_s3_part_list_cleanup(&l);
    mrap_s3_part_list_cleanup(NULL);

    static const char *bad[] = {
        "",
        "not xml",
        "<Error><Code>NoSuchUpload</Code></Error>",
        PARTS_HEAD "<IsTruncated>maybe</IsTruncated>" PARTS_TAIL,
        PARTS_HEAD PART(1, E1, 1, "") PARTS_TAIL, /* no IsTruncated */
        PARTS_HEAD "<IsTruncated>true</IsTruncated>" PART(1, E1, 1, "") PARTS_TAIL,
        PARTS_HEAD "<IsTruncated>false</IsTruncated>" PART(0, E1, 1, "") PARTS_TAIL,
        PARTS_HEAD "<IsTruncated>false</IsTruncated>" PART(10001, E1, 1, "") PARTS_TAIL,
        PARTS_HEAD "<IsTruncated>false</IsTruncated>" PART(-1, E1, 1, "") PARTS_TAIL,
        PARTS_HEAD "<IsTruncated>false</IsTruncated>" PART(1x, E1, 1, "") PARTS_TAIL,
        PARTS_HEAD "<IsTruncated>false</IsTruncated>" PART(1, E1, 5368709121, "") PARTS_TAIL,
        PARTS_HEAD "<IsTruncated>false</IsTruncated>" PART(1, E1, 99999999999999999999999, "")
            PARTS_TAIL,
        PARTS_HEAD "<IsTruncated>false</IsTruncated>" PART(1, "abc-2", 1, "") PARTS_TAIL,
        PARTS_HEAD "<IsTruncated>false</IsTruncated>" PART(1, "", 1, "") PARTS_TAIL,
        PARTS_HEAD "<IsTruncated>false</IsTruncated>" PART(1, E1 E1 E1 E1, 1, "")
            PARTS_TAIL, /* longer than any ETag */
        PARTS_HEAD "<IsTruncated>false</IsTruncated>" PART(
            1, E1, 1, "<ChecksumCRC32C>not base64!</ChecksumCRC32C>") PARTS_TAIL,
        PARTS_HEAD
        "<IsTruncated>false</IsTruncated>" PART(1, E1, 1, "<ChecksumCRC32C></ChecksumCRC32C>")
            PARTS_TAIL,
        PARTS_HEAD "<IsTruncated>false</IsTruncated>" PART(2, E1, 1, "") PART(1, E2, 1, "")
            PARTS_TAIL,
        PARTS_HEAD "<IsTruncated>false</IsTruncated>" PART(2, E1, 1, "") PART(2, E2, 1, "")
            PARTS_TAIL,
        PARTS_HEAD "<IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber>"
                   "<ETag>\"" E1 "\"</ETag><Size>1</Size></Part>" PARTS_TAIL, /* no date */
        "<!DOCTYPE x [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
        "<ListPartsResult><IsTruncated>false</IsTruncated><Key>&b;</Key></ListPartsResult>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(parse_parts(bad[i], &l) == -EPROTO && l.parts == NULL && l.n == 0,
              "bad parts page %zu refused", i);

    /* Every truncation of a good page is refused. */
    size_t len = strlen(parts_page);
    bool all_refused = true;
    for (size_t cut = 0; cut < len; cut++) {
        if (mrap_s3_list_parts_parse(parts_page, cut, &l) != -EPROTO) {
            all_refused = false;
            mrap_s3_part_list_cleanup(&l);
        }
    }
    CHECK(all_refused, "every truncated parts page is -EPROTO");

    /* 1,000 parts parse; 1,001 are more than S3 sends in a page. */
    struct mrap_buf b;
    mrap_buf_init(&b, 1 << 20);
    mrap_buf_append_str(&b, PARTS_HEAD "<IsTruncated>false</IsTruncated>");
    for (unsigned i = 1; i <= 1001; i++) {
        if (i == 1001) {
            mrap_buf_append_str(&b, PARTS_TAIL);
            CHECK_INT(parse_parts(mrap_buf_str(&b), &l), 0);
            CHECK_INT(l.n, 1000);
            mrap_s3_part_list_cleanup(&l);
            b.len -= strlen(PARTS_TAIL);
        }
        mrap_buf_printf(&b,
                        "<Part><PartNumber>%u</PartNumber><LastModified>2026-11-25T10:00:01Z"
                        "</LastModified><ETag>\"" E1 "\"</ETag><Size>5242880</Size></Part>",
                        i);
    }
    mrap_buf_append_str(&b, PARTS_TAIL);
    CHECK_INT(parse_parts(mrap_buf_str(&b), &l), -EPROTO);
    mrap_buf_cleanup(&b);
}

#define UPLOADS_HEAD                                                                               \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListMultipartUploadsResult "                     \
    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket>"
#define UPLOAD(key, id)                                                                            \
    "<Upload><Key>" key "</Key><UploadId>" id "</UploadId><Initiator><ID>x</ID></Initiator>"       \
    "<StorageClass>STANDARD</StorageClass><Initiated>2026-11-25T10:00:00.000Z</Initiated>"         \
    "</Upload>"
#define UPLOADS_TAIL "</ListMultipartUploadsResult>"

static const char uploads_page[] =
    UPLOADS_HEAD "<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>"
                 "<NextKeyMarker>dir%2F%E2%82%AC</NextKeyMarker><NextUploadIdMarker>U3"
                 "</NextUploadIdMarker><EncodingType>url</EncodingType><IsTruncated>true"
                 "</IsTruncated>" UPLOAD("dir%2Fa+b%2Bc.txt", "U1") UPLOAD("nul%00key", "U2")
                     UPLOAD("dir%2F%E2%82%AC", "U3") UPLOADS_TAIL;

static int parse_uploads(const char *xml, struct mrap_s3_upload_page *p)
{
    return mrap_s3_list_uploads_parse(xml, strlen(xml), p);
}

static void test_uploads_parse(void)
{
    struct mrap_s3_upload_page p;
    CHECK_INT(parse_uploads(uploads_page, &p), 0);
    CHECK_INT(p.n, 2); /* the key holding NUL is skipped */
    CHECK_STR(p.uploads[0].key, "dir/a b+c.txt");
    CHECK_STR(p.uploads[0].upload_id, "U1");
    CHECK_STR(p.uploads[0].storage_class, "STANDARD");
    CHECK_INT(p.uploads[0].initiated.tv_sec, 1795600800);
    CHECK_STR(p.uploads[1].key, "dir/\xe2\x82\xac");
    CHECK(p.truncated, "truncated");
    CHECK_STR(p.next_key_marker, "dir/\xe2\x82\xac");
    CHECK_STR(p.next_upload_id_marker, "U3");
    mrap_s3_upload_page_cleanup(&p);
    mrap_s3_upload_page_cleanup(NULL);

    /* Without encoding-type=url, keys are taken as they are. */
    static const char plain[] =
        UPLOADS_HEAD "<IsTruncated>false</IsTruncated>" UPLOAD("a+b%2F", "U1") UPLOADS_TAIL;
    CHECK_INT(parse_uploads(plain, &p), 0);
    CHECK_STR(p.uploads[0].key, "a+b%2F");
    CHECK(!p.truncated && !p.next_key_marker && !p.next_upload_id_marker, "final page");
    mrap_s3_upload_page_cleanup(&p);

    static const char *bad[] = {
        "",
        "<ListMultipartUploadsResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>",
        UPLOADS_HEAD UPLOAD("k", "U1") UPLOADS_TAIL, /* no IsTruncated */
        UPLOADS_HEAD "<IsTruncated>true</IsTruncated>" UPLOAD("k", "U1") UPLOADS_TAIL,
        UPLOADS_HEAD "<IsTruncated>true</IsTruncated><NextKeyMarker>%zz</NextKeyMarker>"
                     "<EncodingType>url</EncodingType>" UPLOADS_TAIL,
        UPLOADS_HEAD "<IsTruncated>false</IsTruncated>" UPLOAD("k", "") UPLOADS_TAIL,
        UPLOADS_HEAD "<IsTruncated>false</IsTruncated>" UPLOAD("", "U1") UPLOADS_TAIL,
        UPLOADS_HEAD "<IsTruncated>false</IsTruncated>" UPLOAD("k", "bad id") UPLOADS_TAIL,
        UPLOADS_HEAD "<IsTruncated>false</IsTruncated><Upload><Key>k</Key><UploadId>U"
                     "</UploadId><Initiated>yesterday</Initiated></Upload>" UPLOADS_TAIL,
        UPLOADS_HEAD "<IsTruncated>false</IsTruncated><Upload><Key>k</Key><UploadId>U"
                     "</UploadId><Initiated>2026-11-25T10:00:00Z</Initiated><StorageClass>"
                     "AN_EXTREMELY_LONG_STORAGE_CLASS_NAME</StorageClass></Upload>" UPLOADS_TAIL,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(parse_uploads(bad[i], &p) == -EPROTO && p.uploads == NULL && p.n == 0,
              "bad uploads page %zu refused", i);

    size_t len = strlen(uploads_page);
    bool all_refused = true;
    for (size_t cut = 0; cut < len; cut++) {
        if (mrap_s3_list_uploads_parse(uploads_page, cut, &p) != -EPROTO) {
            all_refused = false;
            mrap_s3_upload_page_cleanup(&p);
        }
    }
    CHECK(all_refused, "every truncated uploads page is -EPROTO");

    struct mrap_buf b;
    mrap_buf_init(&b, 1 << 20);
    mrap_buf_append_str(&b, UPLOADS_HEAD "<IsTruncated>false</IsTruncated>");
    for (unsigned i = 1; i <= 1001; i++)
        mrap_buf_printf(&b, UPLOAD("k%u", "U%u"), i, i);
    mrap_buf_append_str(&b, UPLOADS_TAIL);
    CHECK_INT(parse_uploads(mrap_buf_str(&b), &p), -EPROTO);
    mrap_buf_cleanup(&b);
}

/* Random damage to good pages: every result is 0 or -EPROTO, and under ASan
 * nothing is read or leaked out of bounds. A fixed seed keeps runs identical. */
static void test_parsers_survive_mutations(void)
{
    static const char *const pages[] = {parts_page, uploads_page};
    static const char alphabet[] = "<>/&;%\"'=0123456789-+ aZ\n";
    uint64_t x = 0x9E3779B97F4A7C15ull;
    bool ok = true;
    for (unsigned round = 0; round < 4000; round++) {
        const char *src = pages[round & 1];
        size_t len = strlen(src);
        char buf[2048];
        memcpy(buf, src, len);
        for (unsigned k = 0; k < 1 + round % 4; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[x % len] = alphabet[(x >> 32) % (sizeof(alphabet) - 1)];
        }
        int rc;
        if (round & 1) {
            struct mrap_s3_upload_page p;
            rc = mrap_s3_list_uploads_parse(buf, len, &p);
            mrap_s3_upload_page_cleanup(&p);
        } else {
            struct mrap_s3_part_list l;
            rc = mrap_s3_list_parts_parse(buf, len, &l);
            mrap_s3_part_list_cleanup(&l);
        }
        ok = ok && (rc == 0 || rc == -EPROTO);
    }
    CHECK(ok, "mutated pages parse or are -EPROTO");
}

static void test_list_parts_requests(void)
{
    static const struct fake_reply replies[] = {
        {.status = 200, .body = parts_page},
        {.status = 200, .body = parts_page}, /* asked after 5: part 1 is before the marker */
        {.status = 200, .body = "<Error><Code>NoSuchUpload</Code></Error>"},
    };
    struct fake_s3 f;
    struct mrap_s3_part_list l;
    struct mrap_s3_error err;
    fake_init(&f, replies, 3);
    struct mrap_s3_client *c = fake_client(&f);
    CHECK_INT(mrap_s3_mpu_list_parts(c, "a b", "id/1", 0, &l, &err), 0);
    CHECK_STR(f.sent[0].method, "GET");
    CHECK_STR(f.sent[0].url, FAKE_BASE "/a%20b?uploadId=id%2F1&max-parts=1000");
    CHECK_INT(l.n, 2);
    mrap_s3_part_list_cleanup(&l);
    CHECK_INT(mrap_s3_mpu_list_parts(c, "a b", "id", 5, &l, &err), -EPROTO);
    CHECK_STR(f.sent[1].url, FAKE_BASE "/a%20b?uploadId=id&max-parts=1000&part-number-marker=5");
    CHECK(l.parts == NULL && l.n == 0, "nothing returned on failure");
    CHECK_INT(mrap_s3_mpu_list_parts(c, "k", "id", 0, &l, &err), -ENOENT); /* 200 + <Error> */
    CHECK_INT(mrap_s3_mpu_list_parts(c, "k", "id", 10001, &l, &err), -EINVAL);
    CHECK_INT(mrap_s3_mpu_list_parts(c, "k", "", 0, &l, &err), -EINVAL);
    CHECK_INT(mrap_s3_mpu_list_parts(c, "", "id", 0, &l, &err), -EINVAL);
    CHECK_INT(f.n_sent, 3);
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
}

#define PAGE(trunc, next, parts)                                                                   \
    PARTS_HEAD "<IsTruncated>" #trunc "</IsTruncated><NextPartNumberMarker>" #next                 \
               "</NextPartNumberMarker>" parts PARTS_TAIL

static void test_list_all_parts(void)
{
    struct fake_s3 f;
    struct mrap_s3_part_list l;
    struct mrap_s3_error err;
    struct mrap_s3_client *c;

    static const struct fake_reply two_pages[] = {
        {.status = 200, .body = PAGE(true, 2, PART(1, E1, 5242880, "") PART(2, E2, 5242880, ""))},
        {.status = 200, .body = PAGE(false, 3, PART(3, E1, 9, ""))},
    };
    fake_init(&f, two_pages, 2);
    c = fake_client(&f);
    CHECK_INT(mrap_s3_mpu_list_all_parts(c, "k", "id", &l, &err), 0);
    CHECK_INT(l.n, 3);
    CHECK(l.n == 3 && l.parts[2].part_number == 3 && l.parts[2].size == 9, "pages joined");
    CHECK_STR(f.sent[1].url, FAKE_BASE "/k?uploadId=id&max-parts=1000&part-number-marker=2");

    /* What a writer uploaded must be exactly what is listed. */
    struct mrap_s3_part mine[3];
    memcpy(mine, l.parts, sizeof(mine));
    CHECK_INT(mrap_s3_mpu_parts_match(mine, 3, &l), 0);
    CHECK_INT(mrap_s3_mpu_parts_match(mine, 2, &l), -EIO);
    mine[1].size++;
    CHECK_INT(mrap_s3_mpu_parts_match(mine, 3, &l), -EIO);
    mine[1].size--;
    snprintf(mine[2].etag, sizeof(mine[2].etag), "\"%s\"", E2);
    CHECK_INT(mrap_s3_mpu_parts_match(mine, 3, &l), -EIO);
    snprintf(mine[2].etag, sizeof(mine[2].etag), "%s", "\"3303E12AF474CA11D85ED2966A932992\"");
    CHECK_INT(mrap_s3_mpu_parts_match(mine, 3, &l), 0); /* case and quotes do not matter */
    mine[0].part_number = 4;
    CHECK_INT(mrap_s3_mpu_parts_match(mine, 3, &l), -EIO);
    mine[0].part_number = 1;
    mine[0].has_crc32c = l.parts[0].has_crc32c = true;
    mine[0].crc32c = 1;
    l.parts[0].crc32c = 2;
    CHECK_INT(mrap_s3_mpu_parts_match(mine, 3, &l), -EIO);
    CHECK_INT(mrap_s3_mpu_parts_match(mine, 0, NULL), 0);
    CHECK_INT(mrap_s3_mpu_parts_match(mine, 1, NULL), -EIO);
    mrap_s3_part_list_cleanup(&l);
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);

    /* A page that does not advance, and pages that overlap, are -EPROTO. */
    static const struct fake_reply stuck[] = {
        {.status = 200, .body = PAGE(true, 0, "")},
    };
    static const struct fake_reply overlap[] = {
        {.status = 200, .body = PAGE(true, 1, PART(1, E1, 5242880, "") PART(2, E2, 5242880, ""))},
        {.status = 200, .body = PAGE(false, 2, PART(2, E2, 5242880, ""))},
    };
    fake_init(&f, stuck, 1);
    c = fake_client(&f);
    CHECK_INT(mrap_s3_mpu_list_all_parts(c, "k", "id", &l, &err), -EPROTO);
    CHECK(l.parts == NULL && l.n == 0, "nothing returned on failure");
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
    fake_init(&f, overlap, 2);
    c = fake_client(&f);
    CHECK_INT(mrap_s3_mpu_list_all_parts(c, "k", "id", &l, &err), -EPROTO);
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);

    /* At most 20 pages. */
    static char bodies[21][1024];
    struct fake_reply many[21];
    for (unsigned i = 0; i < 21; i++) {
        snprintf(bodies[i], sizeof(bodies[i]),
                 PARTS_HEAD "<IsTruncated>true</IsTruncated><NextPartNumberMarker>%u"
                            "</NextPartNumberMarker><Part><PartNumber>%u</PartNumber>"
                            "<LastModified>2026-11-25T10:00:01Z</LastModified><ETag>\"" E1
                            "\"</ETag><Size>5242880</Size></Part>" PARTS_TAIL,
                 i + 1, i + 1);
        many[i] = (struct fake_reply){.status = 200, .body = bodies[i]};
    }
    fake_init(&f, many, 21);
    c = fake_client(&f);
    CHECK_INT(mrap_s3_mpu_list_all_parts(c, "k", "id", &l, &err), -EPROTO);
    CHECK_INT(f.n_sent, 20);
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
}

static void test_list_uploads_requests(void)
{
    static const struct fake_reply replies[] = {{.status = 200, .body = uploads_page},
                                                {.status = 200, .body = uploads_page}};
    struct fake_s3 f;
    struct mrap_s3_upload_page p;
    struct mrap_s3_error err;
    fake_init(&f, replies, 2);
    struct mrap_s3_client *c = fake_client(&f);
    CHECK_INT(mrap_s3_list_uploads(c, NULL, NULL, NULL, &p, &err), 0);
    CHECK_STR(f.sent[0].method, "GET");
    CHECK_STR(f.sent[0].url, FAKE_BASE "/?uploads&encoding-type=url&max-uploads=1000");
    CHECK_INT(p.n, 2);
    mrap_s3_upload_page_cleanup(&p);
    CHECK_INT(mrap_s3_list_uploads(c, "dir/", "dir/a b", "U+1", &p, &err), 0);
    CHECK_STR(f.sent[1].url, FAKE_BASE "/?uploads&encoding-type=url&max-uploads=1000"
                                       "&prefix=dir%2F&key-marker=dir%2Fa%20b"
                                       "&upload-id-marker=U%2B1");
    mrap_s3_upload_page_cleanup(&p);

    char long_prefix[MRAP_S3_KEY_MAX + 2];
    memset(long_prefix, 'p', sizeof(long_prefix) - 1);
    long_prefix[sizeof(long_prefix) - 1] = '\0';
    CHECK_INT(mrap_s3_list_uploads(c, long_prefix, NULL, NULL, &p, &err), -ENAMETOOLONG);
    CHECK_INT(mrap_s3_list_uploads(c, NULL, "k", "bad id", &p, &err), -EINVAL);
    CHECK_INT(f.n_sent, 2);
    fake_cleanup(&f);
    mrap_s3_client_destroy(c);
}

int main(void)
{
    static void (*const tests[])(void) = {
        test_parts_parse,    test_parsers_survive_mutations,
        test_uploads_parse,  test_list_parts_requests,
        test_list_all_parts, test_list_uploads_requests,
    };
    return fake_main(tests, sizeof(tests) / sizeof(tests[0]));
}
