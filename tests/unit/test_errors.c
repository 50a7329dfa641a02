/* The S3 error table: (status, code, transport errno) -> errno, retryability,
 * parsing real error documents, and the log line. */
#include "s3/errors.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static struct mrap_s3_error mk(long status, const char *code, int transport)
{
    struct mrap_s3_error e;
    memset(&e, 0, sizeof(e));
    e.http_status = status;
    e.transport_errno = transport;
    snprintf(e.code, sizeof(e.code), "%s", code);
    return e;
}

static const struct {
    long status;
    const char *code;
    int transport;
    int err;
    bool retry;
} cases[] = {
    /* missing */
    {404, "NoSuchKey", 0, -ENOENT, false},
    {404, "NoSuchBucket", 0, -ENOENT, false},
    {404, "NoSuchUpload", 0, -ENOENT, false},
    {404, "NoSuchAccessPoint", 0, -ENOENT, false},
    {404, "", 0, -ENOENT, false}, /* HEAD: no body */
    /* refused */
    {403, "AccessDenied", 0, -EACCES, false},
    {403, "AllAccessDisabled", 0, -EACCES, false},
    {403, "AllAccountsDisabled", 0, -EACCES, false},
    {403, "", 0, -EACCES, false},
    {401, "", 0, -EACCES, false},
    {403, "InvalidAccessKeyId", 0, -EACCES, false},
    {403, "SignatureDoesNotMatch", 0, -EACCES, false},
    {400, "ExpiredToken", 0, -EACCES, false},
    {400, "InvalidToken", 0, -EACCES, false},
    {403, "RequestTimeTooSkewed", 0, -EACCES, false},
    {400, "AuthorizationHeaderMalformed", 0, -EACCES, false},
    /* state and conditions */
    {403, "InvalidObjectState", 0, -ENODATA, false},
    {412, "PreconditionFailed", 0, -ESTALE, false},
    {412, "", 0, -ESTALE, false},
    {304, "", 0, -EALREADY, false},
    {416, "InvalidRange", 0, -EINVAL, false},
    {416, "", 0, -EINVAL, false},
    /* invalid requests and integrity */
    {400, "EntityTooSmall", 0, -EINVAL, false},
    {400, "InvalidPart", 0, -EINVAL, false},
    {400, "InvalidPartOrder", 0, -EINVAL, false},
    {400, "MalformedXML", 0, -EINVAL, false},
    {400, "InvalidArgument", 0, -EINVAL, false},
    {400, "InvalidTag", 0, -EINVAL, false},
    {400, "BadDigest", 0, -EIO, false},
    {400, "InvalidDigest", 0, -EIO, false},
    {400, "XAmzContentSHA256Mismatch", 0, -EIO, false},
    {400, "IncompleteBody", 0, -EIO, false},
    /* limits and support */
    {400, "EntityTooLarge", 0, -EFBIG, false},
    {400, "KeyTooLongError", 0, -ENAMETOOLONG, false},
    {501, "NotImplemented", 0, -ENOTSUP, false},
    {501, "", 0, -ENOTSUP, false},
    {405, "MethodNotAllowed", 0, -ENOTSUP, false},
    {403, "QuotaExceeded", 0, -EDQUOT, false},
    {402, "ServiceQuotaExceeded", 0, -EDQUOT, false},
    /* transient: EIO once retries are exhausted */
    {503, "SlowDown", 0, -EIO, true},
    {503, "", 0, -EIO, true},
    {503, "ServiceUnavailable", 0, -EIO, true},
    {500, "InternalError", 0, -EIO, true},
    {500, "", 0, -EIO, true},
    {502, "", 0, -EIO, true},
    {504, "", 0, -EIO, true},
    {400, "RequestTimeout", 0, -EIO, true},
    {408, "", 0, -EIO, true},
    {429, "", 0, -EIO, true},
    {400, "Throttling", 0, -EIO, true},
    {200, "InternalError", 0, -EIO, true}, /* CompleteMultipartUpload: 200 with an error */
    /* other 4xx are never retried */
    {400, "", 0, -EIO, false},
    {409, "", 0, -EIO, false},
    {409, "BucketNotEmpty", 0, -ENOTEMPTY, false},
    {418, "", 0, -EIO, false},
    {403, "SomeFutureCode", 0, -EACCES, false}, /* unknown code: status decides */
    {301, "PermanentRedirect", 0, -EIO, false},
    /* no response */
    {0, "", -ETIMEDOUT, -EIO, true},
    {0, "", -ECONNRESET, -EIO, true},
    {0, "", -ECONNREFUSED, -EIO, false},
    {0, "", -EHOSTUNREACH, -EIO, false},
    {0, "", -EPROTO, -EIO, false},
    {0, "", -EFBIG, -EIO, false},
    {0, "", -ENOMEM, -ENOMEM, false},
    {0, "", 0, -EIO, false},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mrap_s3_error e = mk(cases[i].status, cases[i].code, cases[i].transport);
        int got = mrap_s3_error_errno(&e);
        CHECK(got == cases[i].err, "(%ld, \"%s\", %d) -> %d, want %d", cases[i].status,
              cases[i].code, cases[i].transport, got, cases[i].err);
        bool r = mrap_s3_error_retryable(&e);
        CHECK(r == cases[i].retry, "(%ld, \"%s\", %d) retryable %d, want %d", cases[i].status,
              cases[i].code, cases[i].transport, r, cases[i].retry);
    }

    /* Object Lock refusal is EPERM; a plain AccessDenied stays EACCES. */
    struct mrap_s3_error e = mk(403, "AccessDenied", 0);
    snprintf(e.message, sizeof(e.message),
             "Access Denied because object protected by object lock.");
    CHECK_INT(mrap_s3_error_errno(&e), -EPERM);
    snprintf(e.message, sizeof(e.message), "Access Denied");
    CHECK_INT(mrap_s3_error_errno(&e), -EACCES);
}

static void test_parse(void)
{
    static const char with_ns[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Error xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
        "<Key>dir/file.txt</Key><RequestId>4442587FB7D0A2F9</RequestId>"
        "<HostId>eftixk72aD6Ap51TnqcoF8eFidJG9Z/2mkiDFu8yU9AS1ed4OpIszj7UDNEHGran</HostId>"
        "</Error>";
    struct mrap_s3_error e = mk(404, "", 0);
    CHECK_INT(mrap_s3_error_parse(&e, with_ns, strlen(with_ns)), 0);
    CHECK_STR(e.code, "NoSuchKey");
    CHECK_STR(e.message, "The specified key does not exist.");
    CHECK_STR(e.request_id, "4442587FB7D0A2F9");
    CHECK_INT(e.http_status, 404);
    CHECK_INT(mrap_s3_error_errno(&e), -ENOENT);

    /* A SignatureDoesNotMatch document carries the string to sign and the
     * signature; none of it may reach the struct or the log line. */
    static const char sig[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Error><Code>SignatureDoesNotMatch</Code>"
        "<Message>The request signature we calculated does not match the signature you "
        "provided. Check your key and signing method.</Message>"
        "<AWSAccessKeyId>AKIDEXAMPLE</AWSAccessKeyId>"
        "<StringToSign>AWS4-ECDSA-P256-SHA256\n20240101T000000Z</StringToSign>"
        "<SignatureProvided>3045022100deadbeef</SignatureProvided>"
        "<RequestId>REQ1</RequestId></Error>";
    e = mk(403, "", 0);
    snprintf(e.request_id, sizeof(e.request_id), "FROMHEADER");
    CHECK_INT(mrap_s3_error_parse(&e, sig, strlen(sig)), 0);
    CHECK_STR(e.code, "SignatureDoesNotMatch");
    CHECK_STR(e.request_id, "REQ1");
    char line[512];
    mrap_s3_error_format(&e, line, sizeof(line));
    CHECK(strstr(line, "deadbeef") == NULL && strstr(line, "AKIDEXAMPLE") == NULL &&
              strstr(line, "AWS4-ECDSA") == NULL,
          "no signature material in \"%s\"", line);

    /* No RequestId in the body: the one from the headers stays. */
    static const char no_rid[] = "<Error><Code>SlowDown</Code><Message>Please reduce your request "
                                 "rate.</Message></Error>";
    e = mk(503, "", 0);
    snprintf(e.request_id, sizeof(e.request_id), "FROMHEADER");
    CHECK_INT(mrap_s3_error_parse(&e, no_rid, strlen(no_rid)), 0);
    CHECK_STR(e.request_id, "FROMHEADER");
    CHECK(mrap_s3_error_retryable(&e), "SlowDown retryable");

    /* Control characters in the message cannot forge log lines. */
    static const char ctl[] = "<Error><Code>InternalError</Code><Message>line1&#xA;FAKE "
                              "log</Message></Error>";
    e = mk(500, "", 0);
    CHECK_INT(mrap_s3_error_parse(&e, ctl, strlen(ctl)), 0);
    CHECK_STR(e.message, "line1?FAKE log");

    /* An over-long code and message are truncated, not overflowed. */
    char longdoc[2048];
    char big[600];
    memset(big, 'C', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    snprintf(longdoc, sizeof(longdoc), "<Error><Code>%.300s</Code><Message>%s</Message></Error>",
             big, big);
    e = mk(400, "", 0);
    CHECK_INT(mrap_s3_error_parse(&e, longdoc, strlen(longdoc)), 0);
    CHECK_INT(strlen(e.code), sizeof(e.code) - 1);
    CHECK_INT(strlen(e.message), sizeof(e.message) - 1);

    /* Not an S3 error document: -EPROTO, code stays "", status untouched. */
    static const char *const bad[] = {
        "<html><body>502 Bad Gateway</body></html>",
        "<Error><Message>no code</Message></Error>",
        "<Error><Code></Code></Error>",
        "<ListBucketResult><Code>X</Code></ListBucketResult>",
        "<Error><Code>NoSuchKey</Code>", /* truncated */
        "Service Unavailable",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e = mk(502, "Stale", 0);
        CHECK(mrap_s3_error_parse(&e, bad[i], strlen(bad[i])) == -EPROTO, "bad doc %zu -> EPROTO",
              i);
        CHECK_STR(e.code, "");
        CHECK_INT(e.http_status, 502);
    }
    e = mk(502, "", 0);
    CHECK_INT(mrap_s3_error_parse(&e, NULL, 0), -EPROTO);
}

static void test_format(void)
{
    char out[256];
    struct mrap_s3_error e = mk(404, "NoSuchKey", 0);
    snprintf(e.message, sizeof(e.message), "The specified key does not exist.");
    snprintf(e.request_id, sizeof(e.request_id), "ABC123");
    mrap_s3_error_format(&e, out, sizeof(out));
    CHECK_STR(out, "NoSuchKey (404): The specified key does not exist. [request id ABC123]");

    e = mk(404, "", 0);
    mrap_s3_error_format(&e, out, sizeof(out));
    CHECK_STR(out, "HTTP 404");

    e = mk(503, "", 0);
    snprintf(e.request_id, sizeof(e.request_id), "R");
    mrap_s3_error_format(&e, out, sizeof(out));
    CHECK_STR(out, "HTTP 503 [request id R]");

    e = mk(0, "", -ECONNREFUSED);
    mrap_s3_error_format(&e, out, sizeof(out));
    CHECK_STR(out, "no response: Connection refused");

    /* Truncation is safe and terminated. */
    char tiny[8];
    e = mk(404, "NoSuchKey", 0);
    mrap_s3_error_format(&e, tiny, sizeof(tiny));
    CHECK_STR(tiny, "NoSuchK");
    mrap_s3_error_format(&e, tiny, 0);
}

int main(void)
{
    test_table();
    test_parse();
    test_format();
    return mrap_test_finish();
}
