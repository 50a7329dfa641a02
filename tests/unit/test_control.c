/*
 * The S3 Control client with a scripted transport: addressing (account host
 * prefix, endpoint form), SigV4 in the control region, x-amz-account-id,
 * Content-MD5 and ClientToken on the asynchronous operations, the request
 * documents botocore's model describes, parsing of every answer (and refusal
 * of malformed ones), local validation, and route-region failover order.
 */
#include "s3/control.h"
#include "tap.h"
#include "test_attrs_fake.h"

static struct mrap_creds_provider *creds;
static struct mrap_signer *signer;
static struct fake_http fake;

#define ACCT  "111122223333"
#define EP    "http://" ACCT ".localhost:9000/v20180820/"
#define TOKEN "arn:aws:s3:us-west-2:111122223333:async-request/mrap/create/abc-1"

static struct mrap_s3_control *control(const char *endpoint, const char *region)
{
    struct mrap_s3_control *ctl = NULL;
    struct mrap_s3_control_opts o = {.account_id = ACCT,
                                     .region = region,
                                     .endpoint_url = endpoint,
                                     .max_attempts = 3,
                                     .backoff_base_ms = 1,
                                     .backoff_max_ms = 2,
                                     .http = {fake_http_perform, &fake},
                                     .creds = creds,
                                     .signer = signer};
    CHECK_INT(mrap_s3_control_new(&o, &ctl), 0);
    return ctl;
}

/* The ClientToken in a request body, or "". */
static void client_token_of(size_t call, char out[80])
{
    const char *p = strstr(fake.calls[call].body, "<ClientToken>");
    const char *e = p ? strstr(p, "</ClientToken>") : NULL;
    out[0] = '\0';
    if (p && e && e - p - 13 < 80) {
        memcpy(out, p + 13, (size_t)(e - p - 13));
        out[e - p - 13] = '\0';
    }
}

static void test_setup_and_checks(void)
{
    struct mrap_s3_control *ctl = control("http://localhost:9000", NULL);
    CHECK_STR(mrap_s3_control_base_url(ctl), "http://" ACCT ".localhost:9000");
    mrap_s3_control_destroy(ctl);
    ctl = control(NULL, NULL);
    CHECK_STR(mrap_s3_control_base_url(ctl), "https://" ACCT ".s3-control.us-west-2.amazonaws.com");
    mrap_s3_control_destroy(ctl);

    struct mrap_s3_control_opts o = {
        .account_id = "1234", .http = {fake_http_perform, &fake}, .creds = creds, .signer = signer};
    CHECK_INT(mrap_s3_control_new(&o, &ctl), -EINVAL);
    o.account_id = ACCT;
    o.region = "us_west/2";
    CHECK_INT(mrap_s3_control_new(&o, &ctl), -EINVAL);

    CHECK(mrap_s3_control_name_valid("demo") && mrap_s3_control_name_valid("a-1"), "names");
    CHECK(mrap_s3_control_name_valid("abc") && !mrap_s3_control_name_valid("ab"),
          "three characters is the minimum");
    CHECK(!mrap_s3_control_name_valid("Demo") && !mrap_s3_control_name_valid("-demo") &&
              !mrap_s3_control_name_valid("demo-") && !mrap_s3_control_name_valid("de/mo") &&
              !mrap_s3_control_name_valid("a") &&
              !mrap_s3_control_name_valid("a23456789012345678901234567890123456789012345678901"),
          "bad names refused");
    CHECK(mrap_s3_control_mrap_id_valid("mfzwi23gnjvgw.mrap") &&
              mrap_s3_control_mrap_id_valid("arn:aws:s3::111122223333:accesspoint/x.mrap"),
          "MRAP ids and ARNs");
    CHECK(!mrap_s3_control_mrap_id_valid("arn:x/../y") && !mrap_s3_control_mrap_id_valid("a//b") &&
              !mrap_s3_control_mrap_id_valid("a/b/") && !mrap_s3_control_mrap_id_valid("a b") &&
              !mrap_s3_control_mrap_id_valid("ab"),
          "bad MRAP ids refused");
    char acct[13], alias[64], arn[128];
    CHECK_INT(mrap_s3_control_parse_arn("arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap",
                                        acct, alias),
              0);
    CHECK(strcmp(acct, ACCT) == 0 && strcmp(alias, "mfzwi23gnjvgw.mrap") == 0, "ARN split");
    CHECK_INT(
        mrap_s3_control_parse_arn("arn:aws-cn:s3::111122223333:accesspoint/a1.mrap", acct, alias),
        0);
    static const char *const bad_arns[] = {"",
                                           "arn:aws:s3:us-east-1:111122223333:accesspoint/a.mrap",
                                           "arn:aws:s3::11112222333:accesspoint/a.mrap",
                                           "arn:aws:s3::111122223333:bucket/a.mrap",
                                           "arn:aws:s3::111122223333:accesspoint/a",
                                           "arn:aws:s3::111122223333:accesspoint/A.mrap",
                                           "arn:aws:s3::111122223333:accesspoint/a/b.mrap",
                                           "arn::s3::111122223333:accesspoint/a.mrap",
                                           "arn:aws:ec2::111122223333:accesspoint/a.mrap"};
    for (size_t i = 0; i < sizeof(bad_arns) / sizeof(bad_arns[0]); i++)
        CHECK(mrap_s3_control_parse_arn(bad_arns[i], acct, alias) == -EINVAL, "bad ARN %zu", i);
    CHECK_INT(mrap_s3_control_make_arn(ACCT, "mfzwi23gnjvgw.mrap", arn, sizeof(arn)), 0);
    CHECK_STR(arn, "arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap");
    CHECK_INT(mrap_s3_control_make_arn(ACCT, "bad/alias.mrap", arn, sizeof(arn)), -EINVAL);
    CHECK_INT(mrap_s3_control_make_arn(ACCT, "mfzwi23gnjvgw.mrap", arn, 20), -EINVAL);
    char a[37], b[37];
    CHECK(mrap_s3_control_client_token(a) == 0 && mrap_s3_control_client_token(b) == 0 &&
              strlen(a) == 36 && a[14] == '4' && strcmp(a, b) != 0,
          "client tokens are random UUIDs");
}

static void test_async(void)
{
    static const struct fake_reply r[] = {
        REPLY(200, "<CreateMultiRegionAccessPointResult><RequestTokenARN>" TOKEN
                   "</RequestTokenARN></CreateMultiRegionAccessPointResult>"),
        REPLY(200, "<CreateMultiRegionAccessPointResult><RequestTokenARN>" TOKEN
                   "</RequestTokenARN></CreateMultiRegionAccessPointResult>"),
        REPLY(200, "<DeleteMultiRegionAccessPointResult><RequestTokenARN>" TOKEN
                   "</RequestTokenARN></DeleteMultiRegionAccessPointResult>"),
        REPLY(200, "<PutMultiRegionAccessPointPolicyResult><RequestTokenARN>" TOKEN
                   "</RequestTokenARN></PutMultiRegionAccessPointPolicyResult>"),
        REPLY(200, "<CreateMultiRegionAccessPointResult/>"),
        REPLY(409, "<Error><Code>IdempotencyException</Code><Message>token reused</Message>"
                   "</Error>"),
    };
    struct mrap_s3_control *ctl = control("http://localhost:9000", NULL);
    struct mrap_s3_error err;
    char token[MRAP_S3_TOKEN_ARN_MAX + 1], ct0[80], ct1[80];
    struct mrap_s3_mrap_bucket buckets[] = {{"demo-us-east-1", NULL},
                                            {"demo-eu-west-1", "444455556666"}};
    struct mrap_s3_mrap_create req = {.name = "demo",
                                      .buckets = buckets,
                                      .n_buckets = 2,
                                      .pab = {true, true, false, true, false}};
    fake_http_reset(&fake, r, N_REPLIES(r));
    CHECK_INT(mrap_s3_control_create(ctl, &req, token, &err), 0);
    CHECK_STR(token, TOKEN);
    CHECK_STR(fake.calls[0].method, "POST");
    CHECK_STR(fake.calls[0].url, EP "async-requests/mrap/create");
    CHECK_STR(fake_hdr(&fake, 0, "x-amz-account-id"), ACCT);
    CHECK(fake_md5_matches(&fake, 0), "Content-MD5 of the create body");
    const char *auth = fake_hdr(&fake, 0, "authorization");
    CHECK(auth && strncmp(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 40) == 0 &&
              strstr(auth, "/us-west-2/s3/aws4_request") && strstr(auth, "x-amz-account-id"),
          "SigV4 for s3 in us-west-2, account id signed: %s", auth ? auth : "(none)");
    client_token_of(0, ct0);
    CHECK(strlen(ct0) == 36, "a generated ClientToken: %s", ct0);
    char expect[1024];
    snprintf(expect, sizeof(expect),
             "<CreateMultiRegionAccessPointRequest xmlns=\"http://awss3control.amazonaws.com/doc/"
             "2018-08-20/\"><ClientToken>%s</ClientToken><Details><Name>demo</Name>"
             "<PublicAccessBlock><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false"
             "</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy>"
             "<RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlock><Regions>"
             "<Region><Bucket>demo-us-east-1</Bucket></Region><Region><Bucket>demo-eu-west-1"
             "</Bucket><BucketAccountId>444455556666</BucketAccountId></Region></Regions>"
             "</Details></CreateMultiRegionAccessPointRequest>",
             ct0);
    CHECK(strstr(fake.calls[0].body, expect) != NULL, "create body: %s", fake.calls[0].body);

    req.client_token = "my-token-1";
    CHECK_INT(mrap_s3_control_create(ctl, &req, token, &err), 0);
    client_token_of(1, ct1);
    CHECK_STR(ct1, "my-token-1");

    CHECK_INT(mrap_s3_control_delete(ctl, "demo", NULL, token, &err), 0);
    CHECK_STR(fake.calls[2].url, EP "async-requests/mrap/delete");
    CHECK(strstr(fake.calls[2].body, "</ClientToken><Details><Name>demo</Name></Details>"
                                     "</DeleteMultiRegionAccessPointRequest>") != NULL,
          "delete body: %s", fake.calls[2].body);
    CHECK(fake_md5_matches(&fake, 2), "Content-MD5 of the delete body");

    const char *policy = "{\"Version\":\"2012-10-17\",\"Statement\":[]}";
    CHECK_INT(mrap_s3_control_put_policy(ctl, "demo", policy, NULL, token, &err), 0);
    CHECK_STR(fake.calls[3].url, EP "async-requests/mrap/put-policy");
    CHECK(strstr(fake.calls[3].body,
                 "<Details><Name>demo</Name><Policy>{&quot;Version&quot;:&quot;2012-10-17&quot;,"
                 "&quot;Statement&quot;:[]}</Policy></Details>") != NULL,
          "put-policy body: %s", fake.calls[3].body);

    CHECK_INT(mrap_s3_control_create(ctl, &req, token, &err), -EPROTO); /* no token */
    CHECK_INT(mrap_s3_control_delete(ctl, "demo", "my-token-1", token, &err), -EEXIST);

    size_t before = fake.n_calls;
    req.name = "Bad_Name";
    CHECK_INT(mrap_s3_control_create(ctl, &req, token, &err), -EINVAL);
    req.name = "demo";
    req.n_buckets = 0;
    CHECK_INT(mrap_s3_control_create(ctl, &req, token, &err), -EINVAL);
    buckets[1].account_id = "12";
    req.n_buckets = 2;
    CHECK_INT(mrap_s3_control_create(ctl, &req, token, &err), -EINVAL);
    req.client_token = "has space";
    buckets[1].account_id = NULL;
    CHECK_INT(mrap_s3_control_create(ctl, &req, token, &err), -EINVAL);
    CHECK_INT(mrap_s3_control_put_policy(ctl, "demo", "", NULL, token, &err), -EINVAL);
    CHECK_INT(mrap_s3_control_delete(ctl, "../x", NULL, token, &err), -EINVAL);
    CHECK_INT(fake.n_calls, before);
    mrap_s3_control_destroy(ctl);
}

static void test_describe(void)
{
    static const struct fake_reply r[] = {
        REPLY(200, "<DescribeMultiRegionAccessPointOperationResult><AsyncOperation>"
                   "<CreationTime>2024-05-01T10:00:00Z</CreationTime>"
                   "<Operation>CreateMultiRegionAccessPoint</Operation>"
                   "<RequestTokenARN>" TOKEN "</RequestTokenARN>"
                   "<RequestParameters><CreateMultiRegionAccessPointRequest><Name>demo</Name>"
                   "<Regions><Region><Bucket>b1</Bucket></Region></Regions>"
                   "</CreateMultiRegionAccessPointRequest></RequestParameters>"
                   "<RequestStatus>FAILED</RequestStatus><ResponseDetails>"
                   "<MultiRegionAccessPointDetails><Regions><Region><Name>us-east-1</Name>"
                   "<RequestStatus>FAILED</RequestStatus></Region></Regions>"
                   "</MultiRegionAccessPointDetails><ErrorDetails><Code>BucketNotFound</Code>"
                   "<Message>no bucket b1</Message></ErrorDetails></ResponseDetails>"
                   "</AsyncOperation></DescribeMultiRegionAccessPointOperationResult>"),
        REPLY(200, "<DescribeMultiRegionAccessPointOperationResult><AsyncOperation>"
                   "<Operation>CreateMultiRegionAccessPoint</Operation></AsyncOperation>"
                   "</DescribeMultiRegionAccessPointOperationResult>"),
        REPLY(404, "<Error><Code>NoSuchAsyncRequest</Code><Message>none</Message></Error>"),
    };
    struct mrap_s3_control *ctl = control("http://localhost:9000", NULL);
    struct mrap_s3_async_op op;
    struct mrap_s3_error err;
    fake_http_reset(&fake, r, N_REPLIES(r));
    CHECK_INT(mrap_s3_control_describe(ctl, TOKEN, &op, &err), 0);
    CHECK_STR(fake.calls[0].method, "GET");
    CHECK_STR(fake.calls[0].url, EP "async-requests/mrap/arn%3Aaws%3As3%3Aus-west-2%3A"
                                    "111122223333%3Aasync-request/mrap/create/abc-1");
    CHECK(fake_hdr(&fake, 0, "content-md5") == NULL, "no checksum without a body");
    CHECK_STR(op.operation, "CreateMultiRegionAccessPoint");
    CHECK_STR(op.status, "FAILED");
    CHECK_STR(op.name, "demo");
    CHECK_INT(op.created, 1714557600);
    CHECK(op.n_regions == 1 && strcmp(op.regions[0].name, "us-east-1") == 0, "regions");
    CHECK(op.has_error && strcmp(op.error_code, "BucketNotFound") == 0, "error details");
    mrap_s3_async_op_cleanup(&op);
    CHECK_INT(mrap_s3_control_describe(ctl, TOKEN, &op, &err), -EPROTO); /* no status */
    CHECK_INT(mrap_s3_control_describe(ctl, TOKEN, &op, &err), -ENOENT);
    size_t before = fake.n_calls;
    CHECK_INT(mrap_s3_control_describe(ctl, "arn:x/../y", &op, &err), -EINVAL);
    CHECK_INT(mrap_s3_control_describe(ctl, "token", &op, &err), -EINVAL);
    CHECK_INT(fake.n_calls, before);
    mrap_s3_control_destroy(ctl);
}

#define REPORT(name)                                                                               \
    "<AccessPoint><Name>" name "</Name><Alias>mfzwi23gnjvgw.mrap</Alias>"                          \
    "<CreatedAt>2024-05-01T10:00:00Z</CreatedAt><PublicAccessBlock><BlockPublicAcls>true"          \
    "</BlockPublicAcls></PublicAccessBlock><Status>READY</Status><Regions><Region><Bucket>b1"      \
    "</Bucket><Region>us-east-1</Region></Region><Region><Bucket>b2</Bucket><Region>eu-west-1"     \
    "</Region><BucketAccountId>444455556666</BucketAccountId></Region></Regions></AccessPoint>"

static void test_reads(void)
{
    static const struct fake_reply r[] = {
        REPLY(200, "<GetMultiRegionAccessPointResult>" REPORT(
                       "demo") "</GetMultiRegionAccessPointResult>"),
        REPLY(200, "<ListMultiRegionAccessPointsResult><AccessPoints>" REPORT("a")
                       REPORT("b") "</AccessPoints><NextToken>page2</NextToken>"
                                   "</ListMultiRegionAccessPointsResult>"),
        REPLY(200, "<ListMultiRegionAccessPointsResult><AccessPoints/>"
                   "</ListMultiRegionAccessPointsResult>"),
        REPLY(200, "<GetMultiRegionAccessPointPolicyResult><Policy><Established><Policy>{}"
                   "</Policy></Established></Policy></GetMultiRegionAccessPointPolicyResult>"),
        REPLY(200, "<GetMultiRegionAccessPointPolicyStatusResult><Established><IsPublic>true"
                   "</IsPublic></Established></GetMultiRegionAccessPointPolicyStatusResult>"),
        REPLY(200, "<GetMultiRegionAccessPointResult><AccessPoint><Name>demo</Name>"
                   "<Status>READY</Status><CreatedAt>yesterday</CreatedAt></AccessPoint>"
                   "</GetMultiRegionAccessPointResult>"),
        REPLY(200, "<GetMultiRegionAccessPointPolicyStatusResult><Established><IsPublic>maybe"
                   "</IsPublic></Established></GetMultiRegionAccessPointPolicyStatusResult>"),
        REPLY(404, "<Error><Code>NoSuchMultiRegionAccessPoint</Code><Message>x</Message>"
                   "</Error>"),
    };
    struct mrap_s3_control *ctl = control("http://localhost:9000", NULL);
    struct mrap_s3_error err;
    struct mrap_s3_mrap_report rep;
    struct mrap_s3_mrap_list list;
    struct mrap_s3_mrap_policy pol;
    bool pub = false;
    fake_http_reset(&fake, r, N_REPLIES(r));
    CHECK_INT(mrap_s3_control_get(ctl, "demo", &rep, &err), 0);
    CHECK_STR(fake.calls[0].url, EP "mrap/instances/demo");
    CHECK_STR(rep.alias, "mfzwi23gnjvgw.mrap");
    CHECK_STR(rep.status, "READY");
    CHECK_INT(rep.created_at, 1714557600);
    CHECK(rep.pab.present && rep.pab.block_public_acls && !rep.pab.ignore_public_acls, "PAB");
    CHECK(rep.n_regions == 2 && strcmp(rep.regions[1].bucket_account_id, "444455556666") == 0,
          "regions");
    mrap_s3_mrap_report_cleanup(&rep);

    CHECK_INT(mrap_s3_control_list(ctl, NULL, 2, &list, &err), 0);
    CHECK_STR(fake.calls[1].url, EP "mrap/instances?maxResults=2");
    CHECK(list.n == 2 && strcmp(list.items[1].name, "b") == 0, "two MRAPs");
    CHECK_STR(list.next_token, "page2");
    mrap_s3_mrap_list_cleanup(&list);
    CHECK_INT(mrap_s3_control_list(ctl, "page2", 0, &list, &err), 0);
    CHECK_STR(fake.calls[2].url, EP "mrap/instances?nextToken=page2");
    CHECK(list.n == 0 && list.next_token == NULL, "last page");
    mrap_s3_mrap_list_cleanup(&list);

    CHECK_INT(mrap_s3_control_get_policy(ctl, "demo", &pol, &err), 0);
    CHECK_STR(fake.calls[3].url, EP "mrap/instances/demo/policy");
    CHECK_STR(pol.established, "{}");
    CHECK(pol.proposed == NULL, "no proposed policy");
    mrap_s3_mrap_policy_cleanup(&pol);
    CHECK_INT(mrap_s3_control_policy_status(ctl, "demo", &pub, &err), 0);
    CHECK_STR(fake.calls[4].url, EP "mrap/instances/demo/policystatus");
    CHECK(pub, "IsPublic");

    CHECK_INT(mrap_s3_control_get(ctl, "demo", &rep, &err), -EPROTO);
    CHECK_INT(mrap_s3_control_policy_status(ctl, "demo", &pub, &err), -EPROTO);
    CHECK_INT(mrap_s3_control_get(ctl, "demo", &rep, &err), -ENOENT);
    CHECK_INT(mrap_s3_control_list(ctl, NULL, 1001, &list, &err), -EINVAL);
    mrap_s3_control_destroy(ctl);
}

#define ROUTES_OK                                                                                  \
    "<GetMultiRegionAccessPointRoutesResult><Mrap>mfzwi23gnjvgw.mrap</Mrap><Routes><Route>"        \
    "<Bucket>bkt-1</Bucket><Region>us-east-1</Region><TrafficDialPercentage>100"                   \
    "</TrafficDialPercentage></Route><Route><Bucket>bkt-2</Bucket><Region>eu-west-1</Region>"      \
    "<TrafficDialPercentage>0</TrafficDialPercentage></Route></Routes>"                            \
    "</GetMultiRegionAccessPointRoutesResult>"

static const char *host_of(size_t call)
{
    static char host[128];
    const char *u = fake.calls[call].url + strlen("https://");
    snprintf(host, sizeof(host), "%.*s", (int)strcspn(u, "/"), u);
    return host;
}

static void test_routes_failover(void)
{
    static const char slow[] = "<Error><Code>ServiceUnavailable</Code><Message>x</Message></Error>";
    static const struct fake_reply r[] = {
        REPLY(503, slow),
        REPLY(503, slow),          /* us-west-2, 2 attempts */
        REPLY_FAIL(-ECONNREFUSED), /* ap-southeast-2: no retry */
        REPLY_FAIL(-ECONNRESET),
        REPLY_FAIL(-ECONNRESET), /* ap-northeast-1 */
        REPLY(200, ROUTES_OK),   /* eu-west-1 */
        REPLY(403, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>"),
        REPLY(200, ""),
    };
    struct mrap_s3_control *ctl = control(NULL, NULL);
    struct mrap_s3_routes routes;
    struct mrap_s3_error err;
    char served[65] = "";
    fake_http_reset(&fake, r, N_REPLIES(r));
    CHECK_INT(mrap_s3_control_get_routes(ctl, "mfzwi23gnjvgw.mrap", &routes, served, &err), 0);
    CHECK_STR(served, "eu-west-1");
    CHECK_INT(fake.n_calls, 6);
    static const char *const order[] = {"us-west-2",      "us-west-2",      "ap-southeast-2",
                                        "ap-northeast-1", "ap-northeast-1", "eu-west-1"};
    for (size_t i = 0; i < 6 && i < fake.n_calls; i++) {
        char want[128], scope[64];
        snprintf(want, sizeof(want), ACCT ".s3-control.%s.amazonaws.com", order[i]);
        snprintf(scope, sizeof(scope), "/%s/s3/aws4_request", order[i]);
        CHECK_STR(host_of(i), want);
        const char *auth = fake_hdr(&fake, i, "authorization");
        CHECK(auth && strstr(auth, scope), "call %zu signed for %s", i, order[i]);
    }
    CHECK_STR(fake.calls[5].url, "https://" ACCT ".s3-control.eu-west-1.amazonaws.com/v20180820/"
                                 "mrap/instances/mfzwi23gnjvgw.mrap/routes");
    CHECK(routes.n == 2 && routes.v[0].dial == 100 && routes.v[1].dial == 0 &&
              strcmp(routes.v[1].bucket, "bkt-2") == 0,
          "routes parsed");
    CHECK_STR(routes.mrap, "mfzwi23gnjvgw.mrap");
    mrap_s3_routes_cleanup(&routes);

    /* A refusal is an answer: no failover. */
    struct mrap_s3_route upd[] = {{"bkt-1", "", 0}, {"", "eu-west-1", 100}};
    CHECK_INT(mrap_s3_control_submit_routes(ctl, "mfzwi23gnjvgw.mrap", upd, 2, served, &err),
              -EACCES);
    CHECK_INT(fake.n_calls, 7);
    CHECK_INT(mrap_s3_control_submit_routes(ctl, "mfzwi23gnjvgw.mrap", upd, 2, served, &err), 0);
    CHECK_STR(fake.calls[7].method, "PATCH");
    CHECK_STR(served, "us-west-2");
    CHECK(fake_md5_matches(&fake, 7), "Content-MD5 of the routes body");
    CHECK(strstr(fake.calls[7].body,
                 "<SubmitMultiRegionAccessPointRoutesRequest xmlns=\"http://awss3control."
                 "amazonaws.com/doc/2018-08-20/\"><RouteUpdates><Route><Bucket>bkt-1</Bucket>"
                 "<TrafficDialPercentage>0</TrafficDialPercentage></Route><Route><Region>"
                 "eu-west-1</Region><TrafficDialPercentage>100</TrafficDialPercentage></Route>"
                 "</RouteUpdates></SubmitMultiRegionAccessPointRoutesRequest>") != NULL,
          "routes body: %s", fake.calls[7].body);

    /* Every region failing: each tried once more, then the error. */
    static const struct fake_reply down[] = {REPLY_FAIL(-ECONNREFUSED), REPLY_FAIL(-ECONNREFUSED),
                                             REPLY_FAIL(-ECONNREFUSED), REPLY_FAIL(-ECONNREFUSED),
                                             REPLY_FAIL(-ECONNREFUSED)};
    fake_http_reset(&fake, down, N_REPLIES(down));
    CHECK_INT(mrap_s3_control_submit_routes(ctl, "mfzwi23gnjvgw.mrap", upd, 2, served, &err), -EIO);
    CHECK_INT(fake.n_calls, 5);
    CHECK_STR(host_of(4), ACCT ".s3-control.us-east-1.amazonaws.com");

    size_t before = fake.n_calls;
    upd[0].dial = 101;
    CHECK_INT(mrap_s3_control_submit_routes(ctl, "mfzwi23gnjvgw.mrap", upd, 2, NULL, &err),
              -EINVAL);
    struct mrap_s3_route empty = {"", "", 50};
    CHECK_INT(mrap_s3_control_submit_routes(ctl, "mfzwi23gnjvgw.mrap", &empty, 1, NULL, &err),
              -EINVAL);
    CHECK_INT(mrap_s3_control_get_routes(ctl, "x/../y", &routes, NULL, &err), -EINVAL);
    CHECK_INT(fake.n_calls, before);
    mrap_s3_control_destroy(ctl);

    /* A control region outside the five starts the failover at us-east-1. */
    static const struct fake_reply one[] = {REPLY(200, ROUTES_OK)};
    ctl = control(NULL, "eu-central-1");
    fake_http_reset(&fake, one, 1);
    CHECK_INT(mrap_s3_control_get_routes(ctl, "mfzwi23gnjvgw.mrap", &routes, served, &err), 0);
    CHECK_STR(served, "us-east-1");
    mrap_s3_routes_cleanup(&routes);
    mrap_s3_control_destroy(ctl);
}

static void test_failover_helper(void)
{
    static const struct fake_reply r[] = {REPLY(200, ROUTES_OK), REPLY(200, ""),
                                          REPLY(200, ROUTES_OK)};
    struct mrap_s3_control *ctl = control("http://localhost:9000", NULL);
    struct mrap_s3_error err;
    char served[65] = "";
    fake_http_reset(&fake, r, N_REPLIES(r));
    CHECK_INT(mrap_s3_control_failover(ctl, "arn:aws:s3::111122223333:accesspoint/x.mrap",
                                       "eu-west-1", served, &err),
              0);
    CHECK_INT(fake.n_calls, 2);
    CHECK_STR(fake.calls[1].method, "PATCH");
    CHECK(strstr(fake.calls[1].body,
                 "<Route><Bucket>bkt-1</Bucket><Region>us-east-1</Region><TrafficDialPercentage>0"
                 "</TrafficDialPercentage></Route><Route><Bucket>bkt-2</Bucket><Region>eu-west-1"
                 "</Region><TrafficDialPercentage>100</TrafficDialPercentage></Route>") != NULL,
          "failover body: %s", fake.calls[1].body);
    /* A region the MRAP does not have: read, nothing submitted. */
    CHECK_INT(mrap_s3_control_failover(ctl, "arn:aws:s3::111122223333:accesspoint/x.mrap",
                                       "ap-south-1", served, &err),
              -ENOENT);
    CHECK_INT(fake.n_calls, 3);
    CHECK_INT(mrap_s3_control_failover(ctl, "x.mrap", "EU WEST", served, &err), -EINVAL);
    CHECK_INT(fake.n_calls, 3);
    mrap_s3_control_destroy(ctl);
}

/* Every prefix of a full Get answer parses or is refused, never misread
 * (memory safety under the sanitizer build). */
static void test_truncated_answers(void)
{
    static const char full[] =
        "<GetMultiRegionAccessPointResult>" REPORT("demo") "</GetMultiRegionAccessPointResult>";
    struct mrap_s3_control *ctl = control("http://localhost:9000", NULL);
    size_t len = strlen(full), parsed = 0;
    char *buf = malloc(len + 1);
    for (size_t cut = 1; cut <= len; cut++) {
        memcpy(buf, full, cut);
        buf[cut] = '\0';
        struct fake_reply r[] = {REPLY(200, buf)};
        struct mrap_s3_mrap_report rep;
        fake_http_reset(&fake, r, 1);
        int rc = mrap_s3_control_get(ctl, "demo", &rep, NULL);
        CHECK(rc == 0 || rc == -EPROTO, "cut %zu: %d", cut, rc);
        if (rc == 0) {
            parsed++;
            CHECK(cut == len && rep.n_regions == 2, "only the whole answer parses (%zu)", cut);
        }
        mrap_s3_mrap_report_cleanup(&rep);
    }
    CHECK_INT(parsed, 1);
    free(buf);
    mrap_s3_control_destroy(ctl);
}

int main(void)
{
    creds = fake_creds_new(NULL);
    CHECK(creds != NULL, "credentials");
    if (!creds)
        return mrap_test_finish();
    signer = mrap_signer_new();
    test_setup_and_checks();
    test_async();
    test_describe();
    test_reads();
    test_routes_failover();
    test_failover_helper();
    test_truncated_answers();
    fake_http_reset(&fake, NULL, 0);
    mrap_signer_destroy(signer);
    mrap_creds_provider_destroy(creds);
    return mrap_test_finish();
}
