/*
 * Presigned URLs: the SigV4A query for an MRAP key (parameters, their order
 * and encoding, the canonical request with only host signed and
 * UNSIGNED-PAYLOAD), the signature verified with the derived public key,
 * session tokens, SigV4 for a bucket client, and refusals.
 */
#include "s3/presign.h"
#include "tap.h"
#include "test_attrs_fake.h"

static struct mrap_signer *signer;
static struct fake_http fake;

static struct mrap_s3_client *client(enum mrap_s3_target target, const char *name,
                                     const char *region, struct mrap_creds_provider *creds)
{
    struct mrap_s3_client *c = NULL;
    struct mrap_s3_client_opts o = {.target = target,
                                    .name = name,
                                    .region = region,
                                    .endpoint_url = "http://localhost:9000",
                                    .http = {fake_http_perform, &fake},
                                    .creds = creds,
                                    .signer = signer};
    CHECK_INT(mrap_s3_client_new(&o, &c), 0);
    return c;
}

#define WHEN 1709251198 /* 2024-02-29T23:59:58Z */

static void test_mrap_url(void)
{
    struct mrap_creds_provider *creds = fake_creds_new(NULL);
    struct mrap_s3_client *c = client(MRAP_S3_TARGET_MRAP, "mfzwi23gnjvgw.mrap", NULL, creds);
    struct mrap_s3_presigned p;
    struct mrap_s3_presign_opts o = {
        .method = "GET", .key = "dir/a b+c.txt", .expires_s = 900, .now = WHEN};
    CHECK_INT(mrap_s3_presign(c, &o, &p), 0);
    const char *prefix =
        "http://mfzwi23gnjvgw.mrap.localhost:9000/dir/a%20b%2Bc.txt?"
        "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240229%2Fs3%2F"
        "aws4_request&X-Amz-Date=20240229T235958Z&X-Amz-SignedHeaders=host&X-Amz-Expires=900&"
        "X-Amz-Region-Set=%2A&X-Amz-Signature=";
    CHECK(p.url && strncmp(p.url, prefix, strlen(prefix)) == 0, "URL: %s", p.url);
    const char *cr =
        "GET\n/dir/a%20b%2Bc.txt\nX-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential="
        "AKIDEXAMPLE%2F20240229%2Fs3%2Faws4_request&X-Amz-Date=20240229T235958Z&X-Amz-Expires=900&"
        "X-Amz-Region-Set=%2A&X-Amz-SignedHeaders=host\nhost:mfzwi23gnjvgw.mrap.localhost:9000\n\n"
        "host\nUNSIGNED-PAYLOAD";
    CHECK_STR(p.canonical_request, cr);
    const char *sts = "AWS4-ECDSA-P256-SHA256\n20240229T235958Z\n20240229/s3/aws4_request\n";
    CHECK(p.string_to_sign && strncmp(p.string_to_sign, sts, strlen(sts)) == 0,
          "string to sign: %s", p.string_to_sign);
    struct mrap_credentials cr_copy = {0};
    CHECK_INT(mrap_creds_provider_get(creds, &cr_copy), 0);
    const char *sig = p.url ? strstr(p.url, "X-Amz-Signature=") : NULL;
    CHECK(sig && mrap_signer_verify_v4a(signer, &cr_copy, p.string_to_sign, sig + 16) == 1,
          "the signature verifies with the derived public key");
    mrap_credentials_cleanup(&cr_copy);
    mrap_s3_presigned_cleanup(&p);
    mrap_s3_presigned_cleanup(&p); /* twice is harmless */

    o.method = "PUT";
    o.expires_s = MRAP_S3_PRESIGN_MAX_EXPIRES_S;
    CHECK_INT(mrap_s3_presign(c, &o, &p), 0);
    CHECK(p.canonical_request && strncmp(p.canonical_request, "PUT\n", 4) == 0 &&
              strstr(p.url, "X-Amz-Expires=604800&"),
          "a 7-day PUT URL");
    mrap_s3_presigned_cleanup(&p);

    o.expires_s = MRAP_S3_PRESIGN_MAX_EXPIRES_S + 1;
    CHECK_INT(mrap_s3_presign(c, &o, &p), -EINVAL);
    o.expires_s = 0;
    CHECK_INT(mrap_s3_presign(c, &o, &p), -EINVAL);
    o.expires_s = 60;
    o.method = "DELETE";
    CHECK_INT(mrap_s3_presign(c, &o, &p), -EINVAL);
    o.method = "GET";
    o.key = "";
    CHECK_INT(mrap_s3_presign(c, &o, &p), -EINVAL);
    CHECK(p.url == NULL, "nothing returned on failure");
    CHECK_INT(fake.n_calls, 0);
    mrap_s3_client_destroy(c);

    c = client(MRAP_S3_TARGET_CONTROL, "111122223333", "us-west-2", creds);
    o.key = "k";
    CHECK_INT(mrap_s3_presign(c, &o, &p), -EINVAL);
    mrap_s3_client_destroy(c);
    mrap_creds_provider_destroy(creds);
}

static void test_token_and_bucket(void)
{
    struct fake_env_arg env = {"session/token+="};
    struct mrap_creds_provider *creds = fake_creds_new(&env);
    struct mrap_s3_client *c = client(MRAP_S3_TARGET_MRAP, "mfzwi23gnjvgw.mrap", NULL, creds);
    struct mrap_s3_presigned p;
    struct mrap_s3_presign_opts o = {.method = "GET", .key = "k", .expires_s = 60, .now = WHEN};
    CHECK_INT(mrap_s3_presign(c, &o, &p), 0);
    CHECK(p.url && strstr(p.url, "&X-Amz-Security-Token=session%2Ftoken%2B%3D&"),
          "session token in the URL: %s", p.url);
    mrap_s3_presigned_cleanup(&p);
    mrap_s3_client_destroy(c);

    c = client(MRAP_S3_TARGET_BUCKET, "demo-us-east-1", "us-east-1", creds);
    CHECK_INT(mrap_s3_presign(c, &o, &p), 0);
    const char *v4 = "http://localhost:9000/demo-us-east-1/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
                     "X-Amz-Credential=AKIDEXAMPLE%2F20240229%2Fus-east-1%2Fs3%2Faws4_request&";
    CHECK(p.url && strncmp(p.url, v4, strlen(v4)) == 0 && !strstr(p.url, "Region-Set"),
          "SigV4 bucket URL, path style: %s", p.url);
    mrap_s3_presigned_cleanup(&p);
    mrap_s3_client_destroy(c);
    mrap_creds_provider_destroy(creds);
}

int main(void)
{
    signer = mrap_signer_new();
    test_mrap_url();
    test_token_and_bucket();
    mrap_signer_destroy(signer);
    return mrap_test_finish();
}
