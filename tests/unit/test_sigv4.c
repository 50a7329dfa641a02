/*
 * The signer's S3 rules and contract, beyond the v4a vectors:
 *  - SigV4 against AWS's published examples (S3 "Signature Calculations for
 *    the Authorization Header: Transferring Payload in a Single Chunk": GET
 *    Object, PUT Object, GET Bucket Lifecycle, GET Bucket (List Objects); the
 *    presigned-URL example of "Query string authentication"; the get-vanilla
 *    case of the generic SigV4 test suite). HMAC is deterministic, so bytes
 *    are compared here;
 *  - S3 encoding: the wire path is signed as-is (no double encoding), query
 *    parameters are decoded and re-encoded;
 *  - session tokens, presign expiry bounds, missing host, input bounds;
 *  - no secret in any output, and the SigV4A key cache (derived once, replaced
 *    when the secret changes, safe from many threads).
 */
#include "tap.h"
#include "s3/sigv4.h"
#include "s3/sigv4_internal.h"
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOC_AKID     "AKIAIOSFODNN7EXAMPLE"
#define DOC_SECRET   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define DOC_HOST     "examplebucket.s3.amazonaws.com"
#define DOC_TIME     1369353600 /* 2013-05-24T00:00:00Z */
#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_TIME   1440938160 /* 2015-08-30T12:36:00Z */

static struct mrap_signer *signer;
static struct mrap_credentials doc_creds = {DOC_AKID, DOC_SECRET, NULL, 0};

static struct mrap_sig_opts s3_opts(enum mrap_sig_alg alg, const char *region)
{
    return (struct mrap_sig_opts){
        .alg = alg,
        .service = "s3",
        .region = region,
        .now = DOC_TIME,
        .payload_hash = MRAP_EMPTY_SHA256,
        .add_content_sha256_header = true,
    };
}

static const char *header(const struct mrap_sig_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static int sign(const struct mrap_credentials *c, const char *method, const char *path,
                const char *query, const struct mrap_sig_header *h, size_t n,
                const struct mrap_sig_opts *o, struct mrap_sig_result *r)
{
    struct mrap_sig_request req = {method, path, query, h, n};
    return mrap_signer_sign(signer, c, &req, o, r);
}

static void test_doc_get_object(void)
{
    struct mrap_sig_header h[] = {{"Host", DOC_HOST}, {"Range", "bytes=0-9"}};
    struct mrap_sig_opts o = s3_opts(MRAP_SIG_V4, "us-east-1");
    struct mrap_sig_result r;
    CHECK_INT(sign(&doc_creds, "GET", "/test.txt", NULL, h, 2, &o, &r), 0);
    CHECK_STR(r.canonical_request,
              "GET\n/test.txt\n\n"
              "host:examplebucket.s3.amazonaws.com\n"
              "range:bytes=0-9\n"
              "x-amz-content-sha256:" MRAP_EMPTY_SHA256 "\n"
              "x-amz-date:20130524T000000Z\n\n"
              "host;range;x-amz-content-sha256;x-amz-date\n" MRAP_EMPTY_SHA256);
    CHECK_STR(r.string_to_sign,
              "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
              "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    CHECK_STR(r.signature_hex, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    CHECK_STR(
        header(&r, "Authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    /* The contract's order: X-Amz-Date, X-Amz-Content-SHA256, Authorization. */
    CHECK_INT(r.n_headers, 3);
    CHECK_STR(r.headers[0].name, "X-Amz-Date");
    CHECK_STR(r.headers[0].value, "20130524T000000Z");
    CHECK_STR(r.headers[1].name, "X-Amz-Content-SHA256");
    CHECK_STR(r.headers[1].value, MRAP_EMPTY_SHA256);
    CHECK_STR(r.headers[2].name, "Authorization");
    CHECK(r.query == NULL, "no query in header mode");
    mrap_sig_result_cleanup(&r);
    mrap_sig_result_cleanup(&r); /* idempotent */
}

static void test_doc_put_object(void)
{
    struct mrap_sig_header h[] = {{"Host", DOC_HOST},
                                  {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                                  {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
    struct mrap_sig_opts o = s3_opts(MRAP_SIG_V4, "us-east-1");
    struct mrap_sig_result r;
    o.payload_hash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    /* The key "test$file.text" as the HTTP layer sends it: encoded once. */
    CHECK_INT(sign(&doc_creds, "PUT", "/test%24file.text", NULL, h, 3, &o, &r), 0);
    CHECK(strncmp(r.canonical_request, "PUT\n/test%24file.text\n\n", 23) == 0,
          "S3 path signed as sent");
    CHECK_STR(r.signature_hex, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    CHECK(strstr(header(&r, "Authorization"),
                 "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"),
          "signed headers of the PUT example");
    mrap_sig_result_cleanup(&r);
}

static void test_doc_bucket_queries(void)
{
    struct mrap_sig_header h[] = {{"Host", DOC_HOST}};
    struct mrap_sig_opts o = s3_opts(MRAP_SIG_V4, "us-east-1");
    struct mrap_sig_result r;
    CHECK_INT(sign(&doc_creds, "GET", "/", "lifecycle", h, 1, &o, &r), 0);
    CHECK(strstr(r.canonical_request, "\n/\nlifecycle=\n") != NULL, "bare name gets '='");
    CHECK_STR(r.signature_hex, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    mrap_sig_result_cleanup(&r);
    /* Either order on the wire: the canonical query is sorted. */
    const char *orders[] = {"max-keys=2&prefix=J", "prefix=J&max-keys=2"};
    for (int i = 0; i < 2; i++) {
        CHECK_INT(sign(&doc_creds, "GET", "/", orders[i], h, 1, &o, &r), 0);
        CHECK_STR(r.signature_hex,
                  "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
        mrap_sig_result_cleanup(&r);
    }
}

static void test_doc_presigned(void)
{
    struct mrap_sig_header h[] = {{"Host", DOC_HOST}};
    struct mrap_sig_opts o = s3_opts(MRAP_SIG_V4, "us-east-1");
    struct mrap_sig_result r;
    o.presign = true;
    o.expires_s = 86400;
    o.payload_hash = MRAP_UNSIGNED_PAYLOAD;
    CHECK_INT(sign(&doc_creds, "GET", "/test.txt", NULL, h, 1, &o, &r), 0);
    CHECK_STR(r.canonical_request,
              "GET\n/test.txt\n"
              "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
              "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
              "X-Amz-SignedHeaders=host\nhost:examplebucket.s3.amazonaws.com\n\nhost\n"
              "UNSIGNED-PAYLOAD");
    CHECK_STR(r.signature_hex, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    CHECK_STR(r.query,
              "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
              "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&"
              "X-Amz-Expires=86400&X-Amz-Signature="
              "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    CHECK_INT(r.n_headers, 0);
    mrap_sig_result_cleanup(&r);

    /* The original parameters stay first, as sent. */
    CHECK_INT(sign(&doc_creds, "GET", "/test.txt", "versionId=a%2Bb", h, 1, &o, &r), 0);
    CHECK(r.query && strncmp(r.query, "versionId=a%2Bb&X-Amz-Algorithm=", 32) == 0,
          "presigned query keeps the original parameters (%s)", r.query ? r.query : "(null)");
    mrap_sig_result_cleanup(&r);
}

/* The generic-service SigV4 suite's get-vanilla (signature published there). */
static void test_suite_get_vanilla(void)
{
    struct mrap_credentials c = {"AKIDEXAMPLE", SUITE_SECRET, NULL, 0};
    struct mrap_sig_header h[] = {{"Host", "example.amazonaws.com"}};
    struct mrap_sig_opts o = {.alg = MRAP_SIG_V4,
                              .service = "service",
                              .region = "us-east-1",
                              .now = SUITE_TIME,
                              .double_uri_encode = true,
                              .normalize_path = true};
    struct mrap_sig_result r;
    CHECK_INT(sign(&c, "GET", "/", NULL, h, 1, &o, &r), 0);
    CHECK_STR(r.canonical_request,
              "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z"
              "\n\nhost;x-amz-date\n" MRAP_EMPTY_SHA256);
    CHECK_STR(r.signature_hex, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    CHECK_INT(r.n_headers, 2); /* X-Amz-Date, Authorization: no content-sha256 unless asked */
    mrap_sig_result_cleanup(&r);
}

/* The canonical URI line of a signing of path with opts o. */
static char *canonical_uri(const char *path, const char *query, const struct mrap_sig_opts *o,
                           int *rc)
{
    struct mrap_sig_header h[] = {{"host", "b.example"}};
    struct mrap_sig_result r;
    *rc = sign(&doc_creds, "GET", path, query, h, 1, o, &r);
    if (*rc)
        return NULL;
    char *start = strchr(r.canonical_request, '\n') + 1;
    char *end = strchr(start, '\n');
    end = query ? strchr(end + 1, '\n') : end; /* URI and query lines */
    char *line = strndup(start, (size_t)(end - start));
    mrap_sig_result_cleanup(&r);
    return line;
}

static void test_s3_encoding(void)
{
    struct mrap_sig_opts o = s3_opts(MRAP_SIG_V4A, "*");
    int rc;
    /* Keys with spaces, '+', unicode and an encoded '/': signed exactly as sent. */
    const char *path = "/dir%20one/a%2Bb+c/%E2%82%AC%C3%A9/x%2Fy/.%2E/./../z~";
    char *line = canonical_uri(path, NULL, &o, &rc);
    CHECK_INT(rc, 0);
    CHECK_STR(line, path);
    free(line);
    /* Generic services encode again (and may normalise). */
    o.double_uri_encode = true;
    line = canonical_uri("/a%20b/c d", NULL, &o, &rc);
    CHECK_STR(line, "/a%2520b/c%20d");
    free(line);
    o.normalize_path = true;
    line = canonical_uri("/a/./b/../c//d/", NULL, &o, &rc);
    CHECK_STR(line, "/a/c/d/");
    free(line);
    line = canonical_uri("/../..", NULL, &o, &rc);
    CHECK_STR(line, "/");
    free(line);
    /* An S3 path must be the encoded wire form: raw spaces or bytes are a bug. */
    o.double_uri_encode = o.normalize_path = false;
    CHECK(canonical_uri("/a b", NULL, &o, &rc) == NULL && rc == -EINVAL, "raw space in S3 path");
    CHECK(canonical_uri("/\xe2\x82\xac", NULL, &o, &rc) == NULL && rc == -EINVAL,
          "raw UTF-8 in S3 path");
    CHECK(canonical_uri("relative", NULL, &o, &rc) == NULL && rc == -EINVAL, "relative path");

    /* Query: decoded, re-encoded (upper-case hex, '+' is not a space), sorted. */
    line = canonical_uri("/",
                         "list-type=2&prefix=a%2fb&continuation-token=1%2Bx%3D%3D&empty&"
                         "a=b+c&&a=%7e&z=%E2%82%AC",
                         &o, &rc);
    CHECK_INT(rc, 0);
    CHECK_STR(line, "/\na=b%2Bc&a=~&continuation-token=1%2Bx%3D%3D&empty=&list-type=2&"
                    "prefix=a%2Fb&z=%E2%82%AC");
    free(line);
    CHECK(canonical_uri("/", "a=%zz", &o, &rc) == NULL && rc == -EINVAL, "bad escape");
    CHECK(canonical_uri("/", "a=%2", &o, &rc) == NULL && rc == -EINVAL, "short escape");
    CHECK(canonical_uri("/", "X-Amz-Signature=00", &o, &rc) == NULL && rc == -EINVAL,
          "signature parameter in the query");
    CHECK(canonical_uri("/", "x-amz-date=1", &o, &rc) == NULL && rc == -EINVAL,
          "reserved names are matched without case");

    char *e = mrap_uri_encode("a b/c+d=\xc3\xa9~", 11, true);
    CHECK_STR(e, "a%20b/c%2Bd%3D%C3%A9~");
    free(e);
    e = mrap_uri_encode("a b/c", 5, false);
    CHECK_STR(e, "a%20b%2Fc");
    free(e);
}

static void test_headers(void)
{
    struct mrap_sig_header h[] = {
        {"Host", "  b.example  "},    {"X-Amz-Meta-B", "two"},
        {"User-Agent", "mrapfs/0.1"}, {"x-amz-meta-a", " a \t  b\n  c "},
        {"X-AMZ-META-B", "one"},      {"X-Amzn-Trace-Id", "Root=1"},
        {"Expect", "100-continue"},   {"Transfer-Encoding", "chunked"},
        {"Content-Type", ""},
    };
    struct mrap_sig_opts o = s3_opts(MRAP_SIG_V4, "us-east-1");
    struct mrap_sig_result r;
    CHECK_INT(sign(&doc_creds, "PUT", "/k", NULL, h, sizeof(h) / sizeof(h[0]), &o, &r), 0);
    CHECK(strstr(r.canonical_request,
                 "\ncontent-type:\nhost:b.example\nx-amz-content-sha256:" MRAP_EMPTY_SHA256
                 "\nx-amz-date:20130524T000000Z\nx-amz-meta-a:a b c\nx-amz-meta-b:two,one\n\n"
                 "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-a;x-amz-meta-b\n") !=
              NULL,
          "canonical headers:\n%s", r.canonical_request);
    mrap_sig_result_cleanup(&r);
}

static void test_session_token(void)
{
    struct mrap_credentials c = {DOC_AKID, DOC_SECRET, "FwoGZX+token/with==", 0};
    struct mrap_sig_header h[] = {{"Host", DOC_HOST}};
    struct mrap_sig_opts o = s3_opts(MRAP_SIG_V4A, "*");
    struct mrap_sig_result r;
    CHECK_INT(sign(&c, "GET", "/k", NULL, h, 1, &o, &r), 0);
    CHECK_INT(r.n_headers, 5);
    const char *order[] = {"X-Amz-Date", "X-Amz-Region-Set", "X-Amz-Security-Token",
                           "X-Amz-Content-SHA256", "Authorization"};
    for (size_t i = 0; i < 5 && i < r.n_headers; i++)
        CHECK_STR(r.headers[i].name, order[i]);
    CHECK_STR(header(&r, "X-Amz-Region-Set"), "*");
    CHECK_STR(header(&r, "X-Amz-Security-Token"), "FwoGZX+token/with==");
    CHECK(strstr(r.canonical_request, "\nx-amz-region-set:*\nx-amz-security-token:FwoGZX+token/"
                                      "with==\n") != NULL,
          "token and region set are signed headers");
    CHECK(strstr(header(&r, "Authorization"),
                 "AWS4-ECDSA-P256-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/s3/aws4_request, "
                 "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-region-set;"
                 "x-amz-security-token, Signature=") == header(&r, "Authorization"),
          "V4A Authorization: no region in the scope");
    CHECK(strncmp(r.string_to_sign,
                  "AWS4-ECDSA-P256-SHA256\n20130524T000000Z\n20130524/s3/aws4_request\n", 64) == 0,
          "V4A string to sign");
    CHECK_INT(mrap_signer_verify_v4a(signer, &c, r.string_to_sign, r.signature_hex), 1);
    mrap_sig_result_cleanup(&r);

    o.presign = true;
    o.expires_s = 900;
    CHECK_INT(sign(&c, "GET", "/k", NULL, h, 1, &o, &r), 0);
    CHECK(r.query && strstr(r.query, "&X-Amz-Security-Token=FwoGZX%2Btoken%2Fwith%3D%3D&"
                                     "X-Amz-Region-Set=%2A&X-Amz-Signature="),
          "presigned token and region set (%s)", r.query ? r.query : "(null)");
    CHECK(strstr(r.canonical_request, "X-Amz-Region-Set=%2A&X-Amz-Security-Token=FwoGZX%2Btoken"
                                      "%2Fwith%3D%3D&X-Amz-SignedHeaders=host\n"),
          "presigned canonical query");
    CHECK(!strstr(r.canonical_request, "x-amz-content-sha256"), "no signed body header presigned");
    CHECK_INT(r.n_headers, 0);
    CHECK_INT(mrap_signer_verify_v4a(signer, &c, r.string_to_sign, r.signature_hex), 1);
    mrap_sig_result_cleanup(&r);
}

static void test_rejections(void)
{
    struct mrap_sig_header host[] = {{"Host", DOC_HOST}};
    struct mrap_sig_opts o = s3_opts(MRAP_SIG_V4, "us-east-1");
    struct mrap_sig_result r;

    /* Presign expiry bounds. */
    o.presign = true;
    unsigned bad[] = {0, 604801, 4000000000u};
    for (size_t i = 0; i < 3; i++) {
        o.expires_s = bad[i];
        CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, host, 1, &o, &r), -EINVAL);
    }
    unsigned good[] = {1, 604800};
    for (size_t i = 0; i < 2; i++) {
        o.expires_s = good[i];
        CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, host, 1, &o, &r), 0);
        mrap_sig_result_cleanup(&r);
    }
    o.presign = false;

    /* Missing or empty host; on failure *out holds nothing. */
    struct mrap_sig_header no_host[] = {{"Range", "bytes=0-1"}};
    memset(&r, 0xAB, sizeof(r));
    CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, no_host, 1, &o, &r), -EINVAL);
    CHECK(r.n_headers == 0 && !r.query && !r.canonical_request && !r.signature_hex,
          "result cleared on failure");
    CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, NULL, 0, &o, &r), -EINVAL);
    struct mrap_sig_header empty_host[] = {{"host", " \t"}};
    CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, empty_host, 1, &o, &r), -EINVAL);

    /* Headers the signer owns, malformed names and values, injected lines. */
    struct mrap_sig_header cases[][2] = {
        {{"Host", DOC_HOST}, {"Authorization", "x"}},
        {{"Host", DOC_HOST}, {"X-Amz-Date", "x"}},
        {{"Host", DOC_HOST}, {"x-amz-security-token", "x"}},
        {{"Host", DOC_HOST}, {"X-Amz-Content-Sha256", "x"}},
        {{"Host", DOC_HOST}, {"Bad Name", "x"}},
        {{"Host", DOC_HOST}, {"Bad:Name", "x"}},
        {{"Host", DOC_HOST}, {"", "x"}},
        {{"Host", DOC_HOST}, {"X-Evil", "a\r\nX-Injected: 1"}},
        {{"Host", DOC_HOST}, {"X-Evil", "a\nb"}},
        {{"Host", DOC_HOST}, {"X-Evil", "a\x01"}},
        {{"Host", DOC_HOST}, {"X-Null", NULL}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK(sign(&doc_creds, "GET", "/k", NULL, cases[i], 2, &o, &r) == -EINVAL,
              "bad header case %zu refused", i);

    /* Bounds: 128 headers are fine, 129 are not; long values are not. */
    struct mrap_sig_header many[MRAP_SIG_MAX_HEADERS + 1];
    char names[MRAP_SIG_MAX_HEADERS + 1][16];
    many[0] = host[0];
    for (size_t i = 1; i <= MRAP_SIG_MAX_HEADERS; i++) {
        snprintf(names[i], sizeof(names[i]), "x-h-%zu", i);
        many[i] = (struct mrap_sig_header){names[i], "v"};
    }
    CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, many, MRAP_SIG_MAX_HEADERS, &o, &r), 0);
    mrap_sig_result_cleanup(&r);
    CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, many, MRAP_SIG_MAX_HEADERS + 1, &o, &r), -EINVAL);
    /* Each header within bounds, but together more than the signer will build. */
    char *wide = malloc(MRAP_SIG_MAX_VALUE_BYTES);
    memset(wide, 'w', MRAP_SIG_MAX_VALUE_BYTES - 1);
    wide[MRAP_SIG_MAX_VALUE_BYTES - 1] = '\0';
    for (size_t i = 1; i < MRAP_SIG_MAX_HEADERS; i++)
        many[i].value = wide;
    CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, many, MRAP_SIG_MAX_HEADERS, &o, &r), -EINVAL);
    free(wide);
    char *big = malloc(MRAP_SIG_MAX_PATH_BYTES + 2);
    memset(big, 'a', MRAP_SIG_MAX_PATH_BYTES + 1);
    big[MRAP_SIG_MAX_PATH_BYTES + 1] = '\0';
    struct mrap_sig_header long_value[] = {{"Host", DOC_HOST}, {"X-Long", big}};
    CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, long_value, 2, &o, &r), -EINVAL);
    big[0] = '/';
    CHECK_INT(sign(&doc_creds, "GET", big, NULL, host, 1, &o, &r), -EINVAL);
    free(big);

    /* Request and options. */
    CHECK_INT(sign(&doc_creds, "", "/k", NULL, host, 1, &o, &r), -EINVAL);
    CHECK_INT(sign(&doc_creds, "GET /x", "/k", NULL, host, 1, &o, &r), -EINVAL);
    CHECK_INT(sign(&doc_creds, "GET", NULL, NULL, host, 1, &o, &r), -EINVAL);
    CHECK_INT(sign(&doc_creds, "GET", "/k?x=1", NULL, host, 1, &o, &r), -EINVAL);
    CHECK_INT(sign(&doc_creds, "GET", "/k", "a=1#frag", host, 1, &o, &r), -EINVAL);
    struct mrap_sig_opts bad_o = o;
    bad_o.region = "us-east-1/evil";
    CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, host, 1, &bad_o, &r), -EINVAL);
    bad_o = o;
    bad_o.service = NULL;
    CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, host, 1, &bad_o, &r), -EINVAL);
    bad_o = o;
    bad_o.alg = (enum mrap_sig_alg)7;
    CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, host, 1, &bad_o, &r), -EINVAL);
    bad_o = o;
    bad_o.now = -1;
    CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, host, 1, &bad_o, &r), -EINVAL);
    bad_o = o;
    bad_o.payload_hash = "has space";
    CHECK_INT(sign(&doc_creds, "GET", "/k", NULL, host, 1, &bad_o, &r), -EINVAL);

    /* Credentials. */
    struct mrap_credentials no_secret = {DOC_AKID, "", NULL, 0};
    struct mrap_credentials no_id = {NULL, DOC_SECRET, NULL, 0};
    struct mrap_credentials bad_id = {"AKID/x", DOC_SECRET, NULL, 0};
    CHECK_INT(sign(&no_secret, "GET", "/k", NULL, host, 1, &o, &r), -EINVAL);
    CHECK_INT(sign(&no_id, "GET", "/k", NULL, host, 1, &o, &r), -EINVAL);
    CHECK_INT(sign(&bad_id, "GET", "/k", NULL, host, 1, &o, &r), -EINVAL);
    CHECK_INT(sign(NULL, "GET", "/k", NULL, host, 1, &o, &r), -EINVAL);
    struct mrap_sig_request req = {"GET", "/k", NULL, host, 1};
    CHECK_INT(mrap_signer_sign(signer, &doc_creds, &req, NULL, &r), -EINVAL);
    CHECK_INT(mrap_signer_sign(signer, &doc_creds, &req, &o, NULL), -EINVAL);
    CHECK_INT(mrap_signer_verify_v4a(signer, &doc_creds, "x", "zz"), -EINVAL);
    CHECK_INT(mrap_signer_verify_v4a(signer, &doc_creds, "x", "abc"), -EINVAL);
    CHECK_INT(mrap_signer_verify_v4a(signer, &doc_creds, "x", "3006020101020101"), 0);
}

/* The secret, the derived private scalar (hex, either case) and the signing
 * key must not appear in anything the signer hands back. */
static void check_no_secret(const struct mrap_sig_result *r, const char *const *secrets, size_t n,
                            const char *what)
{
    const char *outs[4 + 2 * MRAP_SIG_MAX_OUT_HEADERS] = {r->query, r->canonical_request,
                                                          r->string_to_sign, r->signature_hex};
    size_t k = 4;
    for (size_t i = 0; i < r->n_headers; i++) {
        outs[k++] = r->headers[i].name;
        outs[k++] = r->headers[i].value;
    }
    bool clean = true;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < n; j++)
            if (outs[i] && strcasestr(outs[i], secrets[j]))
                clean = false;
    CHECK(clean, "no secret in the output of %s", what);
}

static void test_no_secret_in_output(void)
{
    struct mrap_credentials c = {DOC_AKID, DOC_SECRET, "tok", 0};
    unsigned char priv[32];
    char priv_hex[65];
    CHECK_INT(mrap_sigv4a_derive_scalar(DOC_AKID, DOC_SECRET, priv), 0);
    mrap_hex_encode(priv, 32, priv_hex);
    char *enc_secret = mrap_uri_encode(DOC_SECRET, strlen(DOC_SECRET), false);
    const char *secrets[] = {DOC_SECRET, enc_secret, priv_hex, "bPxRfiCY"};
    struct mrap_sig_header h[] = {{"Host", DOC_HOST}};
    for (int alg = 0; alg < 2; alg++) {
        for (int presign = 0; presign < 2; presign++) {
            struct mrap_sig_opts o = s3_opts((enum mrap_sig_alg)alg, alg ? "*" : "us-east-1");
            struct mrap_sig_result r;
            o.presign = presign;
            o.expires_s = 60;
            CHECK_INT(sign(&c, "GET", "/k", "a=1", h, 1, &o, &r), 0);
            char what[32];
            snprintf(what, sizeof(what), "%s/%s", alg ? "V4A" : "V4", presign ? "query" : "header");
            check_no_secret(&r, secrets, 4, what);
            mrap_sig_result_cleanup(&r);
        }
    }
    free(enc_secret);
}

static void test_key_cache(void)
{
    struct mrap_signer *s = mrap_signer_new();
    struct mrap_credentials a = {"AKIDCACHE", "secret-one", NULL, 0};
    struct mrap_credentials a2 = {"AKIDCACHE", "secret-two", NULL, 0};
    struct mrap_sig_header h[] = {{"Host", DOC_HOST}};
    struct mrap_sig_request req = {"GET", "/k", NULL, h, 1};
    struct mrap_sig_opts o = s3_opts(MRAP_SIG_V4A, "*");
    struct mrap_sig_result r;
    unsigned char pub1[MRAP_P256_PUB_BYTES], pub2[MRAP_P256_PUB_BYTES];

    for (int i = 0; i < 5; i++) {
        CHECK_INT(mrap_signer_sign(s, &a, &req, &o, &r), 0);
        mrap_sig_result_cleanup(&r);
    }
    CHECK_INT(mrap_signer_v4a_derivations(s), 1);
    CHECK_INT(mrap_signer_v4a_public_key(s, &a, pub1), 0);
    /* Same id, new secret: a new key, and the old one no longer verifies. */
    CHECK_INT(mrap_signer_sign(s, &a2, &req, &o, &r), 0);
    CHECK_INT(mrap_signer_v4a_derivations(s), 2);
    CHECK_INT(mrap_signer_v4a_public_key(s, &a2, pub2), 0);
    CHECK(memcmp(pub1, pub2, sizeof(pub1)) != 0, "new secret, new key");
    CHECK_INT(mrap_signer_verify_v4a(s, &a2, r.string_to_sign, r.signature_hex), 1);
    CHECK_INT(mrap_signer_verify_v4a(s, &a, r.string_to_sign, r.signature_hex), 0);
    mrap_sig_result_cleanup(&r);
    /* More credentials than the cache holds: evictions, still correct. */
    char ids[20][16];
    for (int i = 0; i < 20; i++) {
        snprintf(ids[i], sizeof(ids[i]), "AKID%02d", i);
        struct mrap_credentials c = {ids[i], "s", NULL, 0};
        CHECK_INT(mrap_signer_sign(s, &c, &req, &o, &r), 0);
        CHECK_INT(mrap_signer_verify_v4a(s, &c, r.string_to_sign, r.signature_hex), 1);
        mrap_sig_result_cleanup(&r);
    }
    mrap_signer_destroy(s);
    mrap_signer_destroy(NULL);
}

struct thread_arg {
    struct mrap_signer *s;
    int failures;
};

static void *sign_many(void *p)
{
    struct thread_arg *t = p;
    char id[32];
    snprintf(id, sizeof(id), "AKIDT%p", p);
    struct mrap_credentials mine = {id, "thread-secret", NULL, 0};
    struct mrap_credentials shared = {"AKIDSHARED", "shared-secret", NULL, 0};
    struct mrap_sig_header h[] = {{"Host", DOC_HOST}};
    struct mrap_sig_request req = {"GET", "/k", NULL, h, 1};
    struct mrap_sig_opts o = s3_opts(MRAP_SIG_V4A, "*");
    for (int i = 0; i < 40; i++) {
        struct mrap_credentials *c = i % 2 ? &mine : &shared;
        struct mrap_sig_result r;
        if (mrap_signer_sign(t->s, c, &req, &o, &r) ||
            mrap_signer_verify_v4a(t->s, c, r.string_to_sign, r.signature_hex) != 1)
            t->failures++;
        mrap_sig_result_cleanup(&r);
    }
    return NULL;
}

static void test_threads(void)
{
    struct mrap_signer *s = mrap_signer_new();
    /* Six threads: with the shared credentials, 7 keys, within the cache. */
    pthread_t th[6];
    struct thread_arg args[6];
    for (int i = 0; i < 6; i++) {
        args[i] = (struct thread_arg){s, 0};
        CHECK_INT(pthread_create(&th[i], NULL, sign_many, &args[i]), 0);
    }
    int failures = 0;
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        failures += args[i].failures;
    }
    CHECK_INT(failures, 0);
    /* The shared credentials were derived once, each thread's own once. */
    CHECK_INT(mrap_signer_v4a_derivations(s), 7);
    mrap_signer_destroy(s);
}

int main(void)
{
    /* Many cases below are refused on purpose: keep their warnings out of the output. */
    mrap_log_init(&(struct mrap_log_opts){.level = MRAP_LOG_ERROR, .dest = MRAP_LOG_STDERR});
    signer = mrap_signer_new();
    CHECK(signer != NULL, "signer");
    if (!signer)
        return mrap_test_finish();
    test_doc_get_object();
    test_doc_put_object();
    test_doc_bucket_queries();
    test_doc_presigned();
    test_suite_get_vanilla();
    test_s3_encoding();
    test_headers();
    test_session_token();
    test_rejections();
    test_no_secret_in_output();
    test_key_cache();
    test_threads();
    mrap_signer_destroy(signer);
    return mrap_test_finish();
}
