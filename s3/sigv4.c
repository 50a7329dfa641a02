/*
 * The request signer: AWS Signature Version 4 (HMAC-SHA256) and 4A (ECDSA
 * P-256), in header mode (Authorization header) or presigned (query string).
 *
 * Design. Signing is a pure function of (credentials, request description,
 * options) apart from the cached SigV4A keys (s3/sigv4a_key.c), so it is built
 * in one pass of small steps, each appending to a bounded mrap_buf:
 *
 *   validate -> dates and scope -> canonical headers and signed-header list
 *   -> canonical query (+ the X-Amz-* parameters when presigning)
 *   -> canonical request -> string to sign -> signature -> result.
 *
 * The rules are those of aws-c-auth (aws_signing.c), which the AWS SDKs and
 * S3 itself agree with, and which the test vectors in shared/sigv4a-vectors
 * pin down byte for byte:
 *  - canonical URI: S3 signs the wire path as-is (encoded once, never
 *    normalised); other services normalise "."/".."/"//" and encode the
 *    (already encoded) path again, each switchable in mrap_sig_opts;
 *  - canonical query: each parameter decoded and re-encoded, sorted by name
 *    then value; signature parameters in the wire query are refused;
 *  - canonical headers: names lower-cased and sorted stably (repeated names
 *    keep their order and are joined with ','), values trimmed with runs of
 *    white space collapsed to one space; a few hop-by-hop or volatile headers
 *    are never signed (see skipped_headers), and the headers the signer adds
 *    itself may not be given by the caller.
 *
 * Secrets: the secret key is copied only into the short-lived HMAC key buffer
 * of SigV4 (wiped after use) and into the SigV4A derivation (wiped there).
 * Nothing secret is written to the result or to the log; rejection messages
 * name the field, never its value.
 *
 * Thread-safety: the signer holds only the key cache, which has its own lock.
 */
#include "s3/sigv4.h"
#include "s3/sigv4_internal.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define ALG_V4        "AWS4-HMAC-SHA256"
#define ALG_V4A       "AWS4-ECDSA-P256-SHA256"
#define MAX_EXPIRES_S 604800u /* 7 days: the SigV4 presign maximum */

struct mrap_signer {
    struct mrap_sigv4a_cache *keys;
};

struct mrap_signer *mrap_signer_new(void)
{
    struct mrap_signer *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->keys = mrap_sigv4a_cache_new();
    if (!s->keys) {
        free(s);
        return NULL;
    }
    return s;
}

void mrap_signer_destroy(struct mrap_signer *s)
{
    if (!s)
        return;
    mrap_sigv4a_cache_destroy(s->keys);
    free(s);
}

void mrap_sig_result_cleanup(struct mrap_sig_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < MRAP_SIG_MAX_OUT_HEADERS; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->query);
    free(r->canonical_request);
    free(r->string_to_sign);
    free(r->signature_hex);
    memset(r, 0, sizeof(*r));
}

/* ---- validation ------------------------------------------------------- */

/* Never signed: they are changed by proxies or by the HTTP library itself.
 * aws-c-auth's list, plus "expect": curl manages Expect on its own (it drops
 * an empty "Expect:" the caller may set to disable 100-continue), so signing
 * it could sign something that is not sent. */
static const char *const skipped_headers[] = {
    "x-amzn-trace-id",
    "user-agent",
    "connection",
    "sec-websocket-key",
    "sec-websocket-protocol",
    "sec-websocket-version",
    "upgrade",
    "transfer-encoding",
    "expect",
};

/* Added by the signer; a caller that sets them has a bug. */
static const char *const reserved_headers[] = {
    "authorization",        "x-amz-date",           "x-amz-region-set",
    "x-amz-security-token", "x-amz-content-sha256",
};

static bool name_in(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(name, list[i]) == 0)
            return true;
    return false;
}

#define NAME_IN(name, list) name_in((name), (list), sizeof(list) / sizeof((list)[0]))

static bool is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* A string of 1..max bytes, each allowed by ok(). */
static bool str_ok(const char *s, size_t max, bool (*ok)(unsigned char))
{
    if (!s || !*s)
        return false;
    size_t i = 0;
    for (; s[i]; i++)
        if (i >= max || !ok((unsigned char)s[i]))
            return false;
    return true;
}

static bool is_visible(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

/* Region, service, access key id: visible ASCII that cannot break the scope. */
static bool is_scope_char(unsigned char c)
{
    return is_visible(c) && c != '/' && c != ',' && c != '=' && c != ';';
}

/* Header values: printable bytes (UTF-8 included) and tabs; a CR or LF only as
 * part of an obsolete line fold (followed by a space or tab), which is how the
 * vectors' multi-line headers arrive and can never start a new header. */
static bool header_value_ok(const char *v)
{
    size_t i = 0;
    for (; v[i]; i++) {
        unsigned char c = (unsigned char)v[i];
        if (i >= MRAP_SIG_MAX_VALUE_BYTES)
            return false;
        if (c == '\r' || c == '\n') {
            size_t j = i + 1;
            if (c == '\r' && v[j] == '\n')
                j++;
            if (v[j] != ' ' && v[j] != '\t')
                return false;
            continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

/* Unencoded paths and queries (services that encode again): no control bytes. */
static bool is_raw_char(unsigned char c)
{
    return c >= 0x20 && c != 0x7f;
}

static int reject(const char *what)
{
    mrap_log(MRAP_LOG_WARN, "sigv4", "refusing to sign: %s", what);
    return -EINVAL;
}

static int validate(const struct mrap_credentials *creds, const struct mrap_sig_request *req,
                    const struct mrap_sig_opts *o)
{
    bool have_host = false;

    if (!creds || !str_ok(creds->access_key_id, MRAP_SIG_MAX_CRED_BYTES, is_scope_char))
        return reject("missing or malformed access key id");
    if (!creds->secret_access_key || !creds->secret_access_key[0] ||
        strlen(creds->secret_access_key) > MRAP_SIG_MAX_CRED_BYTES)
        return reject("missing or oversized secret key");
    if (creds->session_token && creds->session_token[0] &&
        !str_ok(creds->session_token, MRAP_SIG_MAX_CRED_BYTES, is_visible))
        return reject("malformed session token");
    if (o->alg != MRAP_SIG_V4 && o->alg != MRAP_SIG_V4A)
        return reject("unknown algorithm");
    if (!str_ok(o->service, 64, is_scope_char) || !str_ok(o->region, 1024, is_scope_char))
        return reject("missing or malformed service or region");
    if (o->payload_hash && !str_ok(o->payload_hash, 128, is_scope_char))
        return reject("malformed payload hash");
    if (o->presign && (o->expires_s == 0 || o->expires_s > MAX_EXPIRES_S))
        return reject("presign expiry outside 1..604800 seconds");
    if (!str_ok(req->method, 32, is_tchar))
        return reject("missing or malformed method");
    if (!req->path || req->path[0] != '/')
        return reject("path must start with '/'");
    /* An S3 path is signed as sent, so it must be the encoded wire form. */
    bool (*char_ok)(unsigned char) = o->double_uri_encode ? is_raw_char : is_visible;
    if (!str_ok(req->path, MRAP_SIG_MAX_PATH_BYTES, char_ok) || strpbrk(req->path, "?#"))
        return reject("malformed or oversized path");
    if (req->query && req->query[0] &&
        (!str_ok(req->query, MRAP_SIG_MAX_QUERY_BYTES, char_ok) || strchr(req->query, '#')))
        return reject("malformed or oversized query");
    if (req->n_headers > MRAP_SIG_MAX_HEADERS || (req->n_headers && !req->headers))
        return reject("too many headers");
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct mrap_sig_header *h = &req->headers[i];
        if (!str_ok(h->name, MRAP_SIG_MAX_NAME_BYTES, is_tchar) || !h->value ||
            !header_value_ok(h->value))
            return reject("malformed or oversized header");
        if (NAME_IN(h->name, reserved_headers))
            return reject("a header the signer adds itself was given");
        if (strcasecmp(h->name, "host") == 0) {
            const char *v = h->value;
            while (is_ws((unsigned char)*v))
                v++;
            have_host = *v != '\0';
        }
    }
    if (!have_host)
        return reject("no host header");
    return 0;
}

/* ---- canonical headers ------------------------------------------------- */

struct canon_header {
    char *lname; /* lower-case copy, owned */
    const char *value;
    size_t index; /* original position: keeps the sort stable */
};

static int canon_header_cmp(const void *a, const void *b)
{
    const struct canon_header *x = a, *y = b;
    int c = strcmp(x->lname, y->lname);
    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int canon_header_add(struct canon_header *list, size_t *n, const char *name,
                            const char *value)
{
    size_t len = strlen(name);
    char *l = malloc(len + 1);
    if (!l)
        return -ENOMEM;
    for (size_t i = 0; i <= len; i++)
        l[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
    list[*n].lname = l;
    list[*n].value = value;
    list[*n].index = *n;
    (*n)++;
    return 0;
}

/* Appends v trimmed, with every run of white space turned into one space. */
static int append_trimmed(struct mrap_buf *b, const char *v)
{
    size_t len = strlen(v);
    while (len && is_ws((unsigned char)v[len - 1]))
        len--;
    while (len && is_ws((unsigned char)*v)) {
        v++;
        len--;
    }
    int rc = mrap_buf_reserve(b, len);
    if (rc)
        return rc;
    bool in_ws = false;
    for (size_t i = 0; i < len; i++) {
        bool ws = is_ws((unsigned char)v[i]);
        if (!ws || !in_ws)
            b->data[b->len++] = ws ? ' ' : v[i];
        in_ws = ws;
    }
    b->data[b->len] = '\0';
    return 0;
}

/* The headers the signer adds in header mode, to the canonical list. */
struct added_headers {
    const char *date;
    const char *region_set;     /* V4A */
    const char *token;          /* when a session token is present */
    const char *content_sha256; /* when asked */
};

/*
 * Writes "name:value\n" lines into block and "a;b;c" into signed_list, for
 * the request headers (minus skipped ones) plus `add` (header mode only).
 */
static int build_canonical_headers(const struct mrap_sig_request *req,
                                   const struct added_headers *add, struct mrap_buf *block,
                                   struct mrap_buf *signed_list)
{
    struct canon_header *list = calloc(req->n_headers + 4, sizeof(*list));
    size_t n = 0;
    int rc = 0;

    if (!list)
        return -ENOMEM;
    for (size_t i = 0; i < req->n_headers && !rc; i++)
        if (!NAME_IN(req->headers[i].name, skipped_headers))
            rc = canon_header_add(list, &n, req->headers[i].name, req->headers[i].value);
    if (add) {
        if (!rc && add->token)
            rc = canon_header_add(list, &n, "x-amz-security-token", add->token);
        if (!rc)
            rc = canon_header_add(list, &n, "x-amz-date", add->date);
        if (!rc && add->region_set)
            rc = canon_header_add(list, &n, "x-amz-region-set", add->region_set);
        if (!rc && add->content_sha256)
            rc = canon_header_add(list, &n, "x-amz-content-sha256", add->content_sha256);
    }
    if (rc)
        goto out;
    qsort(list, n, sizeof(*list), canon_header_cmp);
    for (size_t i = 0; i < n && !rc; i++) {
        bool repeat = i > 0 && strcmp(list[i].lname, list[i - 1].lname) == 0;
        if (repeat) {
            rc = mrap_buf_append(block, ",", 1);
        } else {
            if (i > 0)
                rc = mrap_buf_append(block, "\n", 1);
            if (!rc && signed_list->len)
                rc = mrap_buf_append(signed_list, ";", 1);
            if (!rc)
                rc = mrap_buf_append_str(signed_list, list[i].lname);
            if (!rc)
                rc = mrap_buf_printf(block, "%s:", list[i].lname);
        }
        if (!rc)
            rc = append_trimmed(block, list[i].value);
    }
    if (!rc && n)
        rc = mrap_buf_append(block, "\n", 1);
out:
    for (size_t i = 0; i < n; i++)
        free(list[i].lname);
    free(list);
    return rc;
}

/* ---- hashing and the SigV4 key ----------------------------------------- */

static int sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) <= 0 || md_len != 32)
        return -EIO;
    mrap_hex_encode(md, 32, out);
    return 0;
}

static int hmac256(const void *key, size_t key_len, const char *msg, unsigned char out[32])
{
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out,
              &len) ||
        len != 32)
        return -EIO;
    return 0;
}

/* hex(HMAC(kSigning, sts)) where kSigning chains date8, region, service. */
static int sigv4_signature(const char *secret, const char *date8, const char *region,
                           const char *service, const char *sts, char out[65])
{
    size_t secret_len = strlen(secret);
    size_t key_len = 4 + secret_len;
    unsigned char *key = malloc(key_len);
    unsigned char k[32], sig[32];
    int rc = -ENOMEM;

    if (!key)
        goto out;
    memcpy(key, "AWS4", 4);
    memcpy(key + 4, secret, secret_len);
    rc = hmac256(key, key_len, date8, k);
    if (!rc)
        rc = hmac256(k, 32, region, k);
    if (!rc)
        rc = hmac256(k, 32, service, k);
    if (!rc)
        rc = hmac256(k, 32, "aws4_request", k);
    if (!rc)
        rc = hmac256(k, 32, sts, sig);
    if (!rc)
        mrap_hex_encode(sig, 32, out);
out:
    if (key)
        OPENSSL_cleanse(key, key_len);
    free(key);
    OPENSSL_cleanse(k, sizeof(k));
    return rc;
}

/* ---- signing ------------------------------------------------------------ */

static int set_header(struct mrap_sig_result *r, const char *name, const char *value)
{
    size_t i = r->n_headers;
    if (i >= MRAP_SIG_MAX_OUT_HEADERS)
        return -EINVAL;
    r->headers[i].name = strdup(name);
    r->headers[i].value = strdup(value);
    r->n_headers++; /* counted even on failure so that cleanup frees both */
    return r->headers[i].name && r->headers[i].value ? 0 : -ENOMEM;
}

/* Appends "&name=value" (or without '&' when b is empty), value encoded. */
static int append_param(struct mrap_buf *b, const char *name, const char *value)
{
    int rc = 0;
    if (b->len)
        rc = mrap_buf_append(b, "&", 1);
    if (!rc)
        rc = mrap_buf_printf(b, "%s=", name);
    if (!rc)
        rc = mrap_uri_encode_append(b, value, strlen(value), false);
    return rc;
}

static int append_canonical_uri(struct mrap_buf *cr, const char *path,
                                const struct mrap_sig_opts *o)
{
    size_t len = strlen(path);
    if (!o->double_uri_encode && !o->normalize_path)
        return mrap_buf_append(cr, path, len);
    if (!o->double_uri_encode)
        return mrap_uri_normalize_path_append(cr, path, len);
    if (!o->normalize_path)
        return mrap_uri_encode_append(cr, path, len, true);
    struct mrap_buf norm;
    mrap_buf_init(&norm, MRAP_SIG_MAX_OUT_BYTES);
    int rc = mrap_uri_normalize_path_append(&norm, path, len);
    if (!rc)
        rc = mrap_uri_encode_append(cr, mrap_buf_str(&norm), norm.len, true);
    mrap_buf_cleanup(&norm);
    return rc;
}

/* Everything one signing builds, so that one cleanup frees it all. */
struct sign_state {
    char date[17], date8[9];
    char scope[1200];
    char credential[MRAP_SIG_MAX_CRED_BYTES + 1300];
    struct mrap_buf headers, signed_list, cr, sts, query;
    char *sig;
};

int mrap_signer_sign(struct mrap_signer *s, const struct mrap_credentials *creds,
                     const struct mrap_sig_request *req, const struct mrap_sig_opts *o,
                     struct mrap_sig_result *out)
{
    struct sign_state *st = NULL;
    EVP_PKEY *pkey = NULL;
    struct tm tm;
    char cr_hash[65], expires[16];
    int rc;

    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (!s || !req || !o)
        return -EINVAL;
    rc = validate(creds, req, o);
    if (rc)
        return rc;
    if (o->now < 0 || !gmtime_r(&o->now, &tm) || tm.tm_year + 1900 > 9999)
        return reject("signing time out of range");

    st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    mrap_buf_init(&st->headers, MRAP_SIG_MAX_OUT_BYTES);
    mrap_buf_init(&st->signed_list, MRAP_SIG_MAX_OUT_BYTES);
    mrap_buf_init(&st->cr, MRAP_SIG_MAX_OUT_BYTES);
    mrap_buf_init(&st->sts, MRAP_SIG_MAX_OUT_BYTES);
    mrap_buf_init(&st->query, MRAP_SIG_MAX_OUT_BYTES);

    bool v4a = o->alg == MRAP_SIG_V4A;
    const char *alg = v4a ? ALG_V4A : ALG_V4;
    const char *token =
        creds->session_token && creds->session_token[0] ? creds->session_token : NULL;
    const char *payload = o->payload_hash ? o->payload_hash : MRAP_EMPTY_SHA256;

    strftime(st->date, sizeof(st->date), "%Y%m%dT%H%M%SZ", &tm);
    memcpy(st->date8, st->date, 8);
    if (v4a)
        snprintf(st->scope, sizeof(st->scope), "%s/%s/aws4_request", st->date8, o->service);
    else
        snprintf(st->scope, sizeof(st->scope), "%s/%s/%s/aws4_request", st->date8, o->region,
                 o->service);
    snprintf(st->credential, sizeof(st->credential), "%s/%s", creds->access_key_id, st->scope);
    snprintf(expires, sizeof(expires), "%u", o->expires_s);

    /* Headers first: presigning puts the signed-header list into the query. */
    struct added_headers add = {
        .date = st->date,
        .region_set = v4a ? o->region : NULL,
        .token = token,
        .content_sha256 = o->add_content_sha256_header ? payload : NULL,
    };
    rc = build_canonical_headers(req, o->presign ? NULL : &add, &st->headers, &st->signed_list);
    if (rc)
        goto out;

    /* The X-Amz-* parameters of a presigned URL, in the order the SDKs send them. */
    struct mrap_query_param params[7];
    size_t n_params = 0;
    if (o->presign) {
        params[n_params++] = (struct mrap_query_param){"X-Amz-Algorithm", alg};
        params[n_params++] = (struct mrap_query_param){"X-Amz-Credential", st->credential};
        params[n_params++] = (struct mrap_query_param){"X-Amz-Date", st->date};
        params[n_params++] =
            (struct mrap_query_param){"X-Amz-SignedHeaders", mrap_buf_str(&st->signed_list)};
        params[n_params++] = (struct mrap_query_param){"X-Amz-Expires", expires};
        if (token)
            params[n_params++] = (struct mrap_query_param){"X-Amz-Security-Token", token};
        if (v4a)
            params[n_params++] = (struct mrap_query_param){"X-Amz-Region-Set", o->region};
    }

    rc = mrap_buf_printf(&st->cr, "%s\n", req->method);
    if (!rc)
        rc = append_canonical_uri(&st->cr, req->path, o);
    if (!rc)
        rc = mrap_buf_append(&st->cr, "\n", 1);
    if (!rc)
        rc = mrap_uri_canonical_query_append(&st->cr, req->query, params, n_params);
    if (!rc)
        rc = mrap_buf_printf(&st->cr, "\n%s\n%s\n%s", mrap_buf_str(&st->headers),
                             mrap_buf_str(&st->signed_list), payload);
    if (rc == -EINVAL)
        rc = reject("malformed query string or reserved X-Amz-* query parameter");
    if (rc)
        goto out;

    rc = sha256_hex(st->cr.data, st->cr.len, cr_hash);
    if (!rc)
        rc = mrap_buf_printf(&st->sts, "%s\n%s\n%s\n%s", alg, st->date, st->scope, cr_hash);
    if (rc)
        goto out;

    if (v4a) {
        rc = mrap_sigv4a_cache_get(s->keys, creds, &pkey);
        if (rc)
            goto out;
        st->sig = mrap_sigv4a_sign_hex(pkey, st->sts.data, st->sts.len);
        if (!st->sig) {
            rc = -EIO;
            goto out;
        }
    } else {
        st->sig = malloc(65);
        if (!st->sig) {
            rc = -ENOMEM;
            goto out;
        }
        rc = sigv4_signature(creds->secret_access_key, st->date8, o->region, o->service,
                             mrap_buf_str(&st->sts), st->sig);
        if (rc)
            goto out;
    }

    if (o->presign) {
        if (req->query && req->query[0])
            rc = mrap_buf_append_str(&st->query, req->query);
        for (size_t i = 0; i < n_params && !rc; i++)
            rc = append_param(&st->query, params[i].name, params[i].value);
        if (!rc)
            rc = append_param(&st->query, "X-Amz-Signature", st->sig);
        if (!rc && !(out->query = mrap_buf_steal(&st->query)))
            rc = -ENOMEM;
    } else {
        char *auth = NULL;
        rc = set_header(out, "X-Amz-Date", st->date);
        if (!rc && v4a)
            rc = set_header(out, "X-Amz-Region-Set", o->region);
        if (!rc && token)
            rc = set_header(out, "X-Amz-Security-Token", token);
        if (!rc && o->add_content_sha256_header)
            rc = set_header(out, "X-Amz-Content-SHA256", payload);
        if (!rc && asprintf(&auth, "%s Credential=%s, SignedHeaders=%s, Signature=%s", alg,
                            st->credential, mrap_buf_str(&st->signed_list), st->sig) < 0) {
            auth = NULL;
            rc = -ENOMEM;
        }
        if (!rc)
            rc = set_header(out, "Authorization", auth);
        free(auth);
    }
    if (rc)
        goto out;
    out->canonical_request = mrap_buf_steal(&st->cr);
    out->string_to_sign = mrap_buf_steal(&st->sts);
    out->signature_hex = st->sig;
    st->sig = NULL;
    if (!out->canonical_request || !out->string_to_sign)
        rc = -ENOMEM;
out:
    /* A bounded buffer was full: the request is too large to sign, not an I/O error. */
    if (rc == -EFBIG)
        rc = reject("request too large to sign");
    if (rc && rc != -EINVAL && rc != -ENOMEM)
        mrap_log(MRAP_LOG_ERROR, "sigv4", "signing failed: %s", strerror(-rc));
    if (rc)
        mrap_sig_result_cleanup(out);
    EVP_PKEY_free(pkey);
    if (st) {
        mrap_buf_cleanup(&st->headers);
        mrap_buf_cleanup(&st->signed_list);
        mrap_buf_cleanup(&st->cr);
        mrap_buf_cleanup(&st->sts);
        mrap_buf_cleanup(&st->query);
        free(st->sig);
        free(st);
    }
    return rc;
}

int mrap_signer_verify_v4a(struct mrap_signer *s, const struct mrap_credentials *creds,
                           const char *string_to_sign, const char *signature_hex)
{
    EVP_PKEY *pkey = NULL;
    if (!s || !string_to_sign || !signature_hex)
        return -EINVAL;
    int rc = mrap_sigv4a_cache_get(s->keys, creds, &pkey);
    if (rc)
        return rc;
    rc = mrap_sigv4a_verify_hex(pkey, string_to_sign, strlen(string_to_sign), signature_hex);
    EVP_PKEY_free(pkey);
    return rc;
}

int mrap_signer_v4a_public_key(struct mrap_signer *s, const struct mrap_credentials *creds,
                               unsigned char pub[MRAP_P256_PUB_BYTES])
{
    EVP_PKEY *pkey = NULL;
    int rc = mrap_sigv4a_cache_get(s->keys, creds, &pkey);
    if (!rc)
        rc = mrap_sigv4a_pkey_public(pkey, pub);
    EVP_PKEY_free(pkey);
    return rc;
}

unsigned long mrap_signer_v4a_derivations(struct mrap_signer *s)
{
    return mrap_sigv4a_cache_derivations(s->keys);
}
