/* ListObjectsV2 parsing and S3 time parsing, on canned documents. */
#include "s3/client.h"
#include "tap.h"

#include <errno.h>
#include <string.h>

static const char page1[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>demo-us-east-1</Name><Prefix>dir%2F</Prefix><KeyCount>4</KeyCount>"
    "<MaxKeys>1000</MaxKeys><Delimiter>%2F</Delimiter><IsTruncated>true</IsTruncated>"
    "<EncodingType>url</EncodingType>"
    "<Contents><Key>dir%2Fa+b%2Bc.txt</Key><LastModified>2026-11-25T10:00:01.500Z</LastModified>"
    "<ETag>&quot;0123&quot;</ETag><Size>1234567890123</Size><StorageClass>GLACIER</StorageClass>"
    "</Contents>"
    "<Contents><Key>dir%2Fnul%00byte</Key><LastModified>2026-11-25T10:00:01.000Z</LastModified>"
    "<ETag>&quot;x&quot;</ETag><Size>1</Size></Contents>"
    "<Contents><Key>dir%2F%E2%82%AC</Key><LastModified>2026-11-25T10:00:02.000Z</LastModified>"
    "<ETag>&quot;y&quot;</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>"
    "<CommonPrefixes><Prefix>dir%2Fsub%2F</Prefix></CommonPrefixes>"
    "<NextContinuationToken>tok/en+=</NextContinuationToken>"
    "</ListBucketResult>";

static void test_page(void)
{
    struct mrap_s3_list_page pg;
    CHECK_INT(mrap_s3_list_parse(page1, sizeof(page1) - 1, &pg), 0);
    CHECK_INT(pg.n_objects, 2); /* the NUL key is dropped */
    CHECK_STR(pg.objects[0].key, "dir/a b+c.txt");
    CHECK(pg.objects[0].size == 1234567890123ULL, "large size");
    CHECK_INT(pg.objects[0].mtime.tv_nsec, 500000000);
    CHECK_STR(pg.objects[0].etag, "\"0123\"");
    CHECK_STR(pg.objects[0].storage_class, "GLACIER");
    CHECK_STR(pg.objects[1].key, "dir/\xe2\x82\xac");
    CHECK_INT(pg.n_prefixes, 1);
    CHECK_STR(pg.prefixes[0], "dir/sub/");
    CHECK(pg.truncated, "truncated");
    CHECK_STR(pg.next_token, "tok/en+=");
    mrap_s3_list_page_cleanup(&pg);
}

static void test_bad_pages(void)
{
    struct mrap_s3_list_page pg;
    static const char no_token[] =
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
    CHECK_INT(mrap_s3_list_parse(no_token, sizeof(no_token) - 1, &pg), -EPROTO);
    static const char wrong_root[] = "<Error><Code>AccessDenied</Code></Error>";
    CHECK_INT(mrap_s3_list_parse(wrong_root, sizeof(wrong_root) - 1, &pg), -EPROTO);
    static const char garbage[] = "<ListBucketResult><Contents>";
    CHECK_INT(mrap_s3_list_parse(garbage, sizeof(garbage) - 1, &pg), -EPROTO);
    static const char neg_size[] =
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key>"
        "<LastModified>2026-11-25T10:00:00Z</LastModified><Size>-1</Size></Contents>"
        "</ListBucketResult>";
    CHECK_INT(mrap_s3_list_parse(neg_size, sizeof(neg_size) - 1, &pg), 0);
    CHECK_INT(pg.n_objects, 0); /* an unusable entry is skipped, not fatal */
    mrap_s3_list_page_cleanup(&pg);
    static const char empty[] =
        "<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount>"
        "</ListBucketResult>";
    CHECK_INT(mrap_s3_list_parse(empty, sizeof(empty) - 1, &pg), 0);
    CHECK_INT(pg.n_objects + pg.n_prefixes, 0);
    CHECK(!pg.truncated && !pg.next_token, "empty page is final");
    mrap_s3_list_page_cleanup(&pg);
}

static void test_times(void)
{
    struct timespec ts;
    CHECK_INT(mrap_s3_parse_time("Wed, 25 Nov 2026 11:06:49 GMT", &ts), 0);
    CHECK_INT(ts.tv_sec, 1795604809);
    CHECK_INT(mrap_s3_parse_time("2026-11-25T11:06:49.123Z", &ts), 0);
    CHECK_INT(ts.tv_sec, 1795604809);
    CHECK_INT(ts.tv_nsec, 123000000);
    CHECK_INT(mrap_s3_parse_time("2026-11-25T11:06:49Z", &ts), 0);
    CHECK_INT(mrap_s3_parse_time("yesterday", &ts), -EINVAL);
    CHECK_INT(mrap_s3_parse_time("2026-11-25T11:06:49+02:00", &ts), -EINVAL);
}

int main(void)
{
    test_page();
    test_bad_pages();
    test_times();
    return mrap_test_finish();
}
