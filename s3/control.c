/*
 * S3 Control client and the asynchronous MRAP operations (create, delete,
 * put-policy) with DescribeMultiRegionAccessPointOperation to follow them.
 *
 * Design: the control client is a set of ordinary S3 clients in control mode
 * (s3/client.c, target MRAP_S3_TARGET_CONTROL: account-id host prefix, SigV4
 * in one region), one for the control region and one per route region, all
 * built up front so the structure is immutable and needs no lock. Signing,
 * retries with backoff and the errno table are the data plane's, unchanged.
 *
 * Inputs are checked against botocore's model patterns before anything is
 * built: a name or token lands in a URI path, so a stray '/' or '..' must
 * never reach it.
 */
#include "s3/control.h"
#include "s3/control_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "s3/xml.h"

static const char *const route_regions[MRAP_S3_CONTROL_N_ROUTE_REGIONS] = {
    "us-east-1", "us-west-2", "ap-southeast-2", "ap-northeast-1", "eu-west-1",
};

const char *mrap_s3_control_route_region(size_t i)
{
    return i < MRAP_S3_CONTROL_N_ROUTE_REGIONS ? route_regions[i] : NULL;
}

/* ---- checks ---- */

static bool all_of(const char *s, const char *extra, bool upper_ok)
{
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              (upper_ok && ch >= 'A' && ch <= 'Z') || strchr(extra, ch)))
            return false;
    }
    return true;
}

bool mrap_s3_control_name_valid(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    return len >= 3 && len <= MRAP_S3_MRAP_NAME_MAX && all_of(n, "-", false) && n[0] != '-' &&
           n[len - 1] != '-';
}

bool mrap_s3_control_account_valid(const char *a)
{
    if (!a || strlen(a) != 12)
        return false;
    for (; *a; a++)
        if (*a < '0' || *a > '9')
            return false;
    return true;
}

/* No "." or ".." segment and no empty one: the value is a greedy URI label
 * (slashes kept), and servers or proxies may resolve such segments away. */
static bool clean_segments(const char *s)
{
    for (const char *seg = s; seg;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        seg = seg[n] ? seg + n + 1 : NULL;
    }
    return true;
}

/* The model's pattern ([a-zA-Z0-9:.-]{3,200}) leaves out '/', but the value
 * S3 documents and expects is the ARN, arn:aws:s3::<account>:accesspoint/
 * <alias>, so '/' is allowed between clean segments. */
bool mrap_s3_control_mrap_id_valid(const char *m)
{
    size_t len = m ? strlen(m) : 0;
    return len >= 3 && len <= 200 && all_of(m, ":.-/", true) && clean_segments(m);
}

bool mrap_s3_control_region_valid(const char *r)
{
    size_t len = r ? strlen(r) : 0;
    return len >= 1 && len <= 64 && all_of(r, "-", false);
}

/* RequestTokenARN: "arn:" and printable ASCII without blanks, in clean
 * segments (it is a greedy URI label too). */
bool mrap_s3_control_token_valid(const char *t)
{
    size_t len = t ? strlen(t) : 0;
    if (len < 5 || len > MRAP_S3_TOKEN_ARN_MAX || strncmp(t, "arn:", 4) != 0)
        return false;
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return clean_segments(t);
}

static bool client_token_valid(const char *t)
{
    size_t len = strlen(t);
    if (len < 1 || len > 64)
        return false;
    for (; *t; t++)
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
            return false;
    return true;
}

int mrap_s3_control_client_token(char out[37])
{
    unsigned char r[16];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return -EIO;
    r[6] = (unsigned char)((r[6] & 0x0F) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    char hex[33];
    mrap_s3_op_hex(r, sizeof(r), hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
    return 0;
}

/* An alias as S3 makes them: ^[a-z][a-z0-9]*[.]mrap$, at most 63 characters. */
static bool alias_valid(const char *a, size_t len)
{
    if (len < 6 || len > 63 || a[0] < 'a' || a[0] > 'z' || memcmp(a + len - 5, ".mrap", 5) != 0)
        return false;
    for (size_t i = 0; i < len - 5; i++)
        if (!((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= '0' && a[i] <= '9')))
            return false;
    return true;
}

int mrap_s3_control_parse_arn(const char *arn, char account[13], char alias[64])
{
    /* arn:<partition>:s3::<account>:accesspoint/<alias> */
    if (!arn || strncmp(arn, "arn:", 4) != 0)
        return -EINVAL;
    const char *part = arn + 4, *rest = strchr(part, ':');
    if (!rest || rest == part || strncmp(rest, ":s3::", 5) != 0)
        return -EINVAL;
    const char *acct = rest + 5;
    if (strlen(acct) < 13 || acct[12] != ':')
        return -EINVAL;
    memcpy(account, acct, 12);
    account[12] = '\0';
    const char *res = acct + 13;
    if (!mrap_s3_control_account_valid(account) || strncmp(res, "accesspoint/", 12) != 0 ||
        !alias_valid(res + 12, strlen(res + 12)))
        return -EINVAL;
    memcpy(alias, res + 12, strlen(res + 12) + 1);
    return 0;
}

int mrap_s3_control_make_arn(const char *account, const char *alias, char *out, size_t outlen)
{
    if (!mrap_s3_control_account_valid(account) || !alias || !alias_valid(alias, strlen(alias)))
        return -EINVAL;
    int n = snprintf(out, outlen, "arn:aws:s3::%s:accesspoint/%s", account, alias);
    return n < 0 || (size_t)n >= outlen ? -EINVAL : 0;
}

/* ---- the client ---- */

static int make_client(const struct mrap_s3_control_opts *o, const char *region,
                       unsigned max_attempts, struct mrap_s3_client **out)
{
    struct mrap_s3_client_opts co = {
        .target = MRAP_S3_TARGET_CONTROL,
        .name = o->account_id,
        .region = region,
        .endpoint_url = o->endpoint_url,
        .max_attempts = max_attempts,
        .backoff_base_ms = o->backoff_base_ms,
        .backoff_max_ms = o->backoff_max_ms,
        .debug_requests = o->debug_requests,
        .http = o->http,
        .creds = o->creds,
        .signer = o->signer,
    };
    return mrap_s3_client_new(&co, out);
}

int mrap_s3_control_new(const struct mrap_s3_control_opts *o, struct mrap_s3_control **out)
{
    const char *region = o->region && *o->region ? o->region : MRAP_S3_CONTROL_DEFAULT_REGION;
    if (!mrap_s3_control_account_valid(o->account_id) || !mrap_s3_control_region_valid(region))
        return -EINVAL;
    struct mrap_s3_control *ctl = calloc(1, sizeof(*ctl));
    if (!ctl)
        return -ENOMEM;
    int rc = -ENOMEM;
    ctl->account = strdup(o->account_id);
    if (!ctl->account)
        goto fail;
    rc = make_client(o, region, o->max_attempts, &ctl->main);
    if (rc)
        goto fail;
    for (size_t i = 0; i < MRAP_S3_CONTROL_N_ROUTE_REGIONS; i++)
        if (strcmp(route_regions[i], region) == 0)
            ctl->route_first = i;
    /* A region that fails moves the request on: a couple of attempts each is
     * enough, the next region is the better retry. */
    unsigned per_region = o->max_attempts && o->max_attempts < 2 ? o->max_attempts : 2;
    for (size_t k = 0; k < MRAP_S3_CONTROL_N_ROUTE_REGIONS; k++) {
        size_t i = (ctl->route_first + k) % MRAP_S3_CONTROL_N_ROUTE_REGIONS;
        rc = make_client(o, route_regions[i], per_region, &ctl->route[k]);
        if (rc)
            goto fail;
    }
    *out = ctl;
    return 0;
fail:
    mrap_s3_control_destroy(ctl);
    return rc;
}

void mrap_s3_control_destroy(struct mrap_s3_control *ctl)
{
    if (!ctl)
        return;
    mrap_s3_client_destroy(ctl->main);
    for (size_t i = 0; i < MRAP_S3_CONTROL_N_ROUTE_REGIONS; i++)
        mrap_s3_client_destroy(ctl->route[i]);
    free(ctl->account);
    free(ctl);
}

const char *mrap_s3_control_base_url(const struct mrap_s3_control *ctl)
{
    return mrap_s3_client_base_url(ctl->main);
}

int mrap_s3_control_call(struct mrap_s3_client *c, const char *account, const char *method,
                         const char *path, const struct mrap_s3_param *params, size_t n_params,
                         const struct mrap_buf *body, const char *root,
                         mrap_s3_attrs_parse_fn parse, void *out, struct mrap_s3_error *err)
{
    struct mrap_s3_op_headers h = {.n = 0};
    unsigned char md5[16];
    char md5_b64[32];
    struct mrap_http_response resp;
    mrap_s3_op_header_add(&h, "x-amz-account-id", account);
    if (body) {
        mrap_s3_op_md5(body->data, body->len, md5);
        mrap_s3_op_base64(md5, sizeof(md5), md5_b64, sizeof(md5_b64));
        mrap_s3_op_header_add(&h, "content-md5", md5_b64);
    }
    struct mrap_s3_request req = {.method = method,
                                  .key = path,
                                  .params = params,
                                  .n_params = n_params,
                                  .headers = h.v,
                                  .n_headers = h.n,
                                  .body = body ? body->data : NULL,
                                  .body_len = body ? body->len : 0};
    if (root)
        return mrap_s3_attrs_run_parse(c, &req, root, parse, out, err);
    int rc = mrap_s3_op_run(c, &req, MRAP_S3_OP_SMALL_BODY_MAX, &resp, err);
    if (!rc)
        rc = mrap_s3_attrs_body_error(&resp, method, path, err);
    mrap_http_response_cleanup(&resp);
    return rc;
}

int mrap_s3_control_opt_copy(xmlNodePtr parent, const char *name, char *out, size_t outlen)
{
    long n = mrap_xml_child_text(parent, name, out, outlen);
    return n >= (long)outlen ? -EPROTO : 0;
}

/* ---- asynchronous operations ---- */

static int token_from(xmlNodePtr root, void *arg)
{
    char *token_arn = arg;
    long n = mrap_xml_child_text(root, "RequestTokenARN", token_arn, MRAP_S3_TOKEN_ARN_MAX + 1);
    if (n <= 0 || n > MRAP_S3_TOKEN_ARN_MAX || !mrap_s3_control_token_valid(token_arn)) {
        token_arn[0] = '\0';
        return -EPROTO;
    }
    return 0;
}

/* Sends an async request document to async-requests/mrap/<op>; the answer
 * is a <root> document holding the RequestTokenARN. */
static int async_call(struct mrap_s3_control *ctl, const char *op, const char *root,
                      struct mrap_buf *b, char token_arn[MRAP_S3_TOKEN_ARN_MAX + 1],
                      struct mrap_s3_error *err)
{
    char path[96];
    snprintf(path, sizeof(path), MRAP_S3_CONTROL_API "/async-requests/mrap/%s", op);
    return mrap_s3_control_call(ctl->main, ctl->account, "POST", path, NULL, 0, b, root, token_from,
                                token_arn, err);
}

/* Opens <Op>Request with its ClientToken and <Details>. */
static int open_async_doc(struct mrap_buf *b, const char *root, const char *client_token)
{
    char generated[37];
    mrap_buf_init(b, MRAP_S3_OP_DOC_BODY_MAX);
    if (!client_token) {
        int rc = mrap_s3_control_client_token(generated);
        if (rc)
            return rc;
        client_token = generated;
    } else if (!client_token_valid(client_token)) {
        return -EINVAL;
    }
    int rc = mrap_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><%s xmlns=\"%s\">", root,
                             MRAP_S3_CONTROL_XMLNS);
    if (!rc)
        rc = mrap_s3_op_xml_elem(b, "ClientToken", client_token);
    if (!rc)
        rc = mrap_buf_append_str(b, "<Details>");
    return rc;
}

static int bool_elem(struct mrap_buf *b, const char *name, bool v)
{
    return mrap_s3_op_xml_elem(b, name, v ? "true" : "false");
}

int mrap_s3_control_create(struct mrap_s3_control *ctl, const struct mrap_s3_mrap_create *r,
                           char token_arn[MRAP_S3_TOKEN_ARN_MAX + 1], struct mrap_s3_error *err)
{
    struct mrap_buf b;
    token_arn[0] = '\0';
    if (!mrap_s3_control_name_valid(r->name) || r->n_buckets < 1 ||
        r->n_buckets > MRAP_S3_MRAP_MAX_REGIONS)
        return -EINVAL;
    for (size_t i = 0; i < r->n_buckets; i++) {
        const char *bk = r->buckets[i].bucket, *acct = r->buckets[i].account_id;
        size_t len = bk ? strlen(bk) : 0;
        if (len < 3 || len > 255 || !all_of(bk, ".-_", true) ||
            (acct && !mrap_s3_control_account_valid(acct)))
            return -EINVAL;
    }
    int rc = open_async_doc(&b, "CreateMultiRegionAccessPointRequest", r->client_token);
    if (!rc)
        rc = mrap_s3_op_xml_elem(&b, "Name", r->name);
    if (!rc && r->pab.present) {
        rc = mrap_buf_append_str(&b, "<PublicAccessBlock>");
        if (!rc)
            rc = bool_elem(&b, "BlockPublicAcls", r->pab.block_public_acls);
        if (!rc)
            rc = bool_elem(&b, "IgnorePublicAcls", r->pab.ignore_public_acls);
        if (!rc)
            rc = bool_elem(&b, "BlockPublicPolicy", r->pab.block_public_policy);
        if (!rc)
            rc = bool_elem(&b, "RestrictPublicBuckets", r->pab.restrict_public_buckets);
        if (!rc)
            rc = mrap_buf_append_str(&b, "</PublicAccessBlock>");
    }
    if (!rc)
        rc = mrap_buf_append_str(&b, "<Regions>");
    for (size_t i = 0; !rc && i < r->n_buckets; i++) {
        rc = mrap_buf_append_str(&b, "<Region>");
        if (!rc)
            rc = mrap_s3_op_xml_elem(&b, "Bucket", r->buckets[i].bucket);
        if (!rc && r->buckets[i].account_id)
            rc = mrap_s3_op_xml_elem(&b, "BucketAccountId", r->buckets[i].account_id);
        if (!rc)
            rc = mrap_buf_append_str(&b, "</Region>");
    }
    if (!rc)
        rc = mrap_buf_append_str(&b, "</Regions></Details></CreateMultiRegionAccessPointRequest>");
    if (!rc)
        rc = async_call(ctl, "create", "CreateMultiRegionAccessPointResult", &b, token_arn, err);
    mrap_buf_cleanup(&b);
    return rc;
}

int mrap_s3_control_delete(struct mrap_s3_control *ctl, const char *name, const char *client_token,
                           char token_arn[MRAP_S3_TOKEN_ARN_MAX + 1], struct mrap_s3_error *err)
{
    struct mrap_buf b;
    token_arn[0] = '\0';
    if (!mrap_s3_control_name_valid(name))
        return -EINVAL;
    int rc = open_async_doc(&b, "DeleteMultiRegionAccessPointRequest", client_token);
    if (!rc)
        rc = mrap_s3_op_xml_elem(&b, "Name", name);
    if (!rc)
        rc = mrap_buf_append_str(&b, "</Details></DeleteMultiRegionAccessPointRequest>");
    if (!rc)
        rc = async_call(ctl, "delete", "DeleteMultiRegionAccessPointResult", &b, token_arn, err);
    mrap_buf_cleanup(&b);
    return rc;
}

int mrap_s3_control_put_policy(struct mrap_s3_control *ctl, const char *name, const char *policy,
                               const char *client_token, char token_arn[MRAP_S3_TOKEN_ARN_MAX + 1],
                               struct mrap_s3_error *err)
{
    struct mrap_buf b;
    token_arn[0] = '\0';
    if (!mrap_s3_control_name_valid(name) || !policy || !*policy ||
        strlen(policy) > MRAP_S3_POLICY_MAX_BYTES)
        return -EINVAL;
    int rc = open_async_doc(&b, "PutMultiRegionAccessPointPolicyRequest", client_token);
    if (!rc)
        rc = mrap_s3_op_xml_elem(&b, "Name", name);
    if (!rc)
        rc = mrap_s3_op_xml_elem(&b, "Policy", policy);
    if (!rc)
        rc = mrap_buf_append_str(&b, "</Details></PutMultiRegionAccessPointPolicyRequest>");
    if (!rc)
        rc = async_call(ctl, "put-policy", "PutMultiRegionAccessPointPolicyResult", &b, token_arn,
                        err);
    mrap_buf_cleanup(&b);
    return rc;
}
