/*
 * The S3 client through the HTTP seam: addressing, signing headers present,
 * retries (and their limits), error mapping, and ranged-GET checks — with a
 * scripted fake transport instead of the network.
 */
#include "s3/client.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scripted {
    long status;
    const char *body;
    const char *content_range;
    int transport_rc;
};

struct fake {
    const struct scripted *script;
    size_t n, next;
    char last_url[2048];
    char last_method[16];
    bool saw_region_set, saw_auth, saw_sha256, saw_range;
};

static int fake_perform(void *impl, const struct mrap_http_request *req,
                        struct mrap_http_response *resp)
{
    struct fake *f = impl;
    snprintf(f->last_url, sizeof(f->last_url), "%s", req->url);
    snprintf(f->last_method, sizeof(f->last_method), "%s", req->method);
    f->saw_region_set = mrap_http_headers_get(req->headers, "x-amz-region-set") != NULL;
    const char *auth = mrap_http_headers_get(req->headers, "authorization");
    f->saw_auth = auth && strncmp(auth, "AWS4-ECDSA-P256-SHA256 ", 23) == 0;
    f->saw_sha256 = mrap_http_headers_get(req->headers, "x-amz-content-sha256") != NULL;
    f->saw_range = mrap_http_headers_get(req->headers, "range") != NULL;
    if (f->next >= f->n)
        return -EIO;
    const struct scripted *s = &f->script[f->next++];
    if (s->transport_rc) {
        snprintf(resp->curl_error, sizeof(resp->curl_error), "Connection reset by peer");
        return s->transport_rc;
    }
    resp->status = s->status;
    mrap_http_headers_add(&resp->headers, "x-amz-request-id", "REQ123");
    if (s->content_range)
        mrap_http_headers_add(&resp->headers, "content-range", s->content_range);
    if (s->body) {
        size_t len = strlen(s->body);
        if (resp->sink && s->status < 300) {
            if (len > resp->sink_cap)
                return -EFBIG;
            memcpy(resp->sink, s->body, len);
            resp->sink_len = len;
        } else if (mrap_buf_append(&resp->body, s->body, len)) {
            return -EFBIG;
        }
    }
    return 0;
}

static const char *test_env(const char *name, void *arg)
{
    (void)arg;
    if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0)
        return "AKIDEXAMPLE";
    if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
        return "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    return NULL;
}

static struct mrap_creds_provider *creds;
static struct mrap_signer *signer;

static struct mrap_s3_client *client_for(struct fake *f, const char *endpoint)
{
    struct mrap_s3_client *c = NULL;
    struct mrap_s3_client_opts o = {
        .target = MRAP_S3_TARGET_MRAP,
        .name = "mfzwi23gnjvgw.mrap",
        .endpoint_url = endpoint,
        .max_attempts = 3,
        .backoff_base_ms = 1,
        .backoff_max_ms = 2,
        .http = {fake_perform, f},
        .creds = creds,
        .signer = signer,
    };
    CHECK_INT(mrap_s3_client_new(&o, &c), 0);
    return c;
}

static void test_addressing(void)
{
    static const struct scripted ok[] = {{200, "", NULL, 0}, {200, "", NULL, 0}};
    struct fake f = {ok, 2, 0, "", "", false, false, false, false};
    struct mrap_s3_client *c = client_for(&f, "http://localhost:9000");
    CHECK_STR(mrap_s3_client_base_url(c), "http://mfzwi23gnjvgw.mrap.localhost:9000");
    struct mrap_http_response resp;
    mrap_http_response_init(&resp, 1024);
    struct mrap_s3_param p[] = {{"tagging", NULL}};
    struct mrap_s3_request req = {.method = "GET", .key = "a b/c+d/€", .params = p,
                                  .n_params = 1};
    CHECK_INT(mrap_s3_execute(c, &req, &resp, NULL), 0);
    CHECK_STR(f.last_url,
              "http://mfzwi23gnjvgw.mrap.localhost:9000/a%20b/c%2Bd/%E2%82%AC?tagging");
    CHECK(f.saw_auth && f.saw_region_set && f.saw_sha256, "SigV4A headers present");
    mrap_http_response_cleanup(&resp);
    mrap_s3_client_destroy(c);

    c = client_for(&f, NULL);
    CHECK_STR(mrap_s3_client_base_url(c),
              "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com");
    mrap_s3_client_destroy(c);

    struct mrap_s3_client *bad = NULL;
    struct mrap_s3_client_opts o = {.target = MRAP_S3_TARGET_MRAP, .name = "x.mrap",
                                    .endpoint_url = "ftp://h", .http = {fake_perform, &f},
                                    .creds = creds, .signer = signer};
    CHECK_INT(mrap_s3_client_new(&o, &bad), -EINVAL);
    o.endpoint_url = "http://user:pw@h";
    CHECK_INT(mrap_s3_client_new(&o, &bad), -EINVAL);
    o.endpoint_url = "http://h/path";
    CHECK_INT(mrap_s3_client_new(&o, &bad), -EINVAL);
    o.endpoint_url = NULL;
    o.name = "Bad_Name";
    CHECK_INT(mrap_s3_client_new(&o, &bad), -EINVAL);
}

static const char slowdown[] =
    "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
    "<RequestId>R1</RequestId></Error>";
static const char denied[] =
    "<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does "
    "not exist in our records.</Message><RequestId>R2</RequestId></Error>";

static void test_retries(void)
{
    struct mrap_s3_error err;
    struct mrap_http_response resp;
    struct mrap_s3_request req = {.method = "GET", .key = "k"};

    /* 503, reset, then success: three attempts, success. */
    static const struct scripted s1[] = {
        {503, slowdown, NULL, 0}, {0, NULL, NULL, -ECONNRESET}, {200, "ok", NULL, 0}};
    struct fake f = {s1, 3, 0, "", "", false, false, false, false};
    struct mrap_s3_client *c = client_for(&f, "http://localhost:9");
    mrap_http_response_init(&resp, 1024);
    CHECK_INT(mrap_s3_execute(c, &req, &resp, &err), 0);
    CHECK_INT(f.next, 3);
    CHECK_STR(mrap_buf_str(&resp.body), "ok");
    mrap_http_response_cleanup(&resp);
    mrap_s3_client_destroy(c);

    /* Always 503: gives up after max_attempts with the S3 code kept. */
    static const struct scripted s2[] = {
        {503, slowdown, NULL, 0}, {503, slowdown, NULL, 0}, {503, slowdown, NULL, 0},
        {200, "never", NULL, 0}};
    struct fake f2 = {s2, 4, 0, "", "", false, false, false, false};
    c = client_for(&f2, "http://localhost:9");
    mrap_http_response_init(&resp, 1024);
    int rc = mrap_s3_execute(c, &req, &resp, &err);
    CHECK(rc < 0, "exhausted retries fail (%d)", rc);
    CHECK_INT(f2.next, 3);
    CHECK_STR(err.code, "SlowDown");
    CHECK_INT(err.http_status, 503);
    mrap_http_response_cleanup(&resp);
    mrap_s3_client_destroy(c);

    /* 403 is never retried. */
    static const struct scripted s3[] = {{403, denied, NULL, 0}, {200, "x", NULL, 0}};
    struct fake f3 = {s3, 2, 0, "", "", false, false, false, false};
    c = client_for(&f3, "http://localhost:9");
    mrap_http_response_init(&resp, 1024);
    CHECK_INT(mrap_s3_execute(c, &req, &resp, &err), -EACCES);
    CHECK_INT(f3.next, 1);
    CHECK_STR(err.code, "InvalidAccessKeyId");
    CHECK_STR(err.request_id, "R2");
    mrap_http_response_cleanup(&resp);
    mrap_s3_client_destroy(c);
}

static void test_get_range(void)
{
    char buf[16];
    size_t got = 0;
    static const struct scripted s[] = {
        {206, "hello", "bytes 10-14/100", 0},  /* right range */
        {206, "hello", "bytes 0-4/100", 0},    /* wrong start: refused */
        {200, "whole object", NULL, 0},        /* Range ignored at offset 10: refused */
        {416, "<Error><Code>InvalidRange</Code></Error>", NULL, 0}, /* past the end */
    };
    struct fake f = {s, 4, 0, "", "", false, false, false, false};
    struct mrap_s3_client *c = client_for(&f, "http://localhost:9");
    CHECK_INT(mrap_s3_get_range(c, "k", 10, 5, "\"e\"", buf, &got, NULL), 0);
    CHECK_INT(got, 5);
    CHECK(memcmp(buf, "hello", 5) == 0, "bytes delivered");
    CHECK(f.saw_range, "Range header sent");
    CHECK_INT(mrap_s3_get_range(c, "k", 10, 5, NULL, buf, &got, NULL), -EPROTO);
    CHECK_INT(mrap_s3_get_range(c, "k", 10, 15, NULL, buf, &got, NULL), -EPROTO);
    CHECK_INT(mrap_s3_get_range(c, "k", 100, 5, NULL, buf, &got, NULL), 0);
    CHECK_INT(got, 0);
    mrap_s3_client_destroy(c);
}

int main(void)
{
    char errbuf[256];
    struct mrap_creds_opts co = {.getenv_fn = test_env};
    if (mrap_creds_provider_new(&co, &creds, errbuf, sizeof(errbuf)) != 0) {
        CHECK(false, "credentials: %s", errbuf);
        return mrap_test_finish();
    }
    signer = mrap_signer_new();
    test_addressing();
    test_retries();
    test_get_range();
    mrap_signer_destroy(signer);
    mrap_creds_provider_destroy(creds);
    return mrap_test_finish();
}
