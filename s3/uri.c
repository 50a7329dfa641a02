/*
 * URI encoding and the canonical forms of paths and query strings that
 * SigV4/SigV4A sign.
 *
 * Design: everything appends to a bounded mrap_buf, so the size of what we
 * build is capped by the caller and no function here allocates without limit.
 * The encoding is the SigV4 one (RFC 3986 unreserved characters kept, every
 * other byte %XX in upper-case hex) — not application/x-www-form-urlencoded:
 * a space is %20 and '+' is %2B, and decoding leaves '+' alone, exactly as
 * aws-c-common does, because S3 and the AWS SDKs agree on that and a signer
 * that differs from them by one character produces SignatureDoesNotMatch.
 *
 * Path normalisation (for services other than S3) is iterative over a fixed
 * array of segment offsets: no recursion, bounded by the path length limit.
 */
#include "s3/sigv4.h"
#include "s3/sigv4_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void mrap_hex_encode(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_lower[in[i] >> 4];
        out[2 * i + 1] = hex_lower[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int mrap_uri_encode_append(struct mrap_buf *b, const char *s, size_t len, bool keep_slash)
{
    /* Worst case every byte becomes %XX: reserve once, then append in place. */
    if (len > (SIZE_MAX - 1) / 3)
        return -EFBIG;
    int rc = mrap_buf_reserve(b, 3 * len);
    if (rc)
        return rc;
    char *p = b->data + b->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex_upper[c >> 4];
            *p++ = hex_upper[c & 15];
        }
    }
    b->len = (size_t)(p - b->data);
    b->data[b->len] = '\0';
    return 0;
}

char *mrap_uri_encode(const char *s, size_t len, bool keep_slash)
{
    struct mrap_buf b;
    if (!s)
        len = 0;
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    /* Exactly the worst case, so that only a failed allocation can fail. */
    mrap_buf_init(&b, 3 * len);
    if (mrap_uri_encode_append(&b, s ? s : "", len, keep_slash)) {
        mrap_buf_cleanup(&b);
        return NULL;
    }
    return mrap_buf_steal(&b);
}

int mrap_uri_decode_append(struct mrap_buf *b, const char *s, size_t len)
{
    int rc = mrap_buf_reserve(b, len);
    if (rc)
        return rc;
    char *p = b->data + b->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (len - i < 3)
                return -EINVAL;
            int hi = hex_value((unsigned char)s[i + 1]);
            int lo = hex_value((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        *p++ = (char)c;
    }
    b->len = (size_t)(p - b->data);
    b->data[b->len] = '\0';
    return 0;
}

int mrap_uri_normalize_path_append(struct mrap_buf *b, const char *path, size_t len)
{
    /* Each kept segment is remembered by offset and length; ".." pops one. A
     * path of len bytes has at most len/2 + 1 non-empty segments. */
    struct seg {
        size_t off, len;
    } *segs = NULL;
    size_t n = 0;
    int rc = 0;

    if (len > MRAP_SIG_MAX_PATH_BYTES)
        return -EINVAL;
    segs = calloc(len / 2 + 1, sizeof(*segs));
    if (!segs)
        return -ENOMEM;
    for (size_t i = 0; i <= len;) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t sl = j - i;
        if (sl == 0 || (sl == 1 && path[i] == '.')) {
            /* "" and "." contribute nothing */
        } else if (sl == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (n)
                n--;
        } else {
            segs[n].off = i;
            segs[n].len = sl;
            n++;
        }
        i = j + 1;
    }
    bool trailing = len > 0 && path[len - 1] == '/';
    rc = mrap_buf_append(b, "/", 1);
    for (size_t k = 0; k < n && !rc; k++) {
        rc = mrap_buf_append(b, path + segs[k].off, segs[k].len);
        if (!rc && (k + 1 < n || trailing))
            rc = mrap_buf_append(b, "/", 1);
    }
    free(segs);
    return rc;
}

/* Query parameters reserved for the signature itself (aws-c-auth's list). */
static const char *const reserved_params[] = {
    "X-Amz-Signature",     "X-Amz-Date",           "X-Amz-Credential", "X-Amz-Algorithm",
    "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Expires",    "X-Amz-Region-Set",
};

static bool is_reserved_param(const char *name)
{
    for (size_t i = 0; i < sizeof(reserved_params) / sizeof(reserved_params[0]); i++)
        if (strcasecmp(name, reserved_params[i]) == 0)
            return true;
    return false;
}

/* A canonical (encoded) parameter: "name" and "value" live in one allocation. */
struct canon_param {
    char *name;
    char *value;
};

static int canon_param_cmp(const void *a, const void *b)
{
    const struct canon_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* Encodes raw (decoded) name and value into p. */
static int canon_param_set(struct canon_param *p, const char *name, size_t name_len,
                           const char *value, size_t value_len)
{
    struct mrap_buf b;
    int rc;

    mrap_buf_init(&b, MRAP_SIG_MAX_OUT_BYTES);
    rc = mrap_uri_encode_append(&b, name, name_len, false);
    if (rc)
        goto out;
    size_t name_enc_len = b.len;
    rc = mrap_buf_append(&b, "", 1); /* the NUL between name and value */
    if (rc)
        goto out;
    rc = mrap_uri_encode_append(&b, value, value_len, false);
    if (rc)
        goto out;
    p->name = mrap_buf_steal(&b);
    if (!p->name) {
        rc = -ENOMEM;
        goto out;
    }
    p->value = p->name + name_enc_len + 1;
out:
    mrap_buf_cleanup(&b);
    return rc;
}

/* Decodes one wire parameter "name[=value]" and stores its canonical form. */
static int canon_param_from_wire(struct canon_param *p, const char *s, size_t len)
{
    struct mrap_buf name, value;
    const char *eq = memchr(s, '=', len);
    size_t name_len = eq ? (size_t)(eq - s) : len;
    int rc;

    mrap_buf_init(&name, MRAP_SIG_MAX_QUERY_BYTES);
    mrap_buf_init(&value, MRAP_SIG_MAX_QUERY_BYTES);
    rc = mrap_uri_decode_append(&name, s, name_len);
    if (!rc && eq)
        rc = mrap_uri_decode_append(&value, eq + 1, len - name_len - 1);
    if (rc)
        goto out;
    /* A decoded NUL would cut the name short in the reserved-name check. */
    if (memchr(mrap_buf_str(&name), '\0', name.len) || is_reserved_param(mrap_buf_str(&name))) {
        rc = -EINVAL;
        goto out;
    }
    rc = canon_param_set(p, mrap_buf_str(&name), name.len, mrap_buf_str(&value), value.len);
out:
    mrap_buf_cleanup(&name);
    mrap_buf_cleanup(&value);
    return rc;
}

int mrap_uri_canonical_query_append(struct mrap_buf *b, const char *query,
                                    const struct mrap_query_param *extra, size_t n_extra)
{
    size_t qlen = query ? strlen(query) : 0;
    size_t n_wire = 0, n = 0;
    struct canon_param *params = NULL;
    int rc = 0;

    if (qlen > MRAP_SIG_MAX_QUERY_BYTES)
        return -EINVAL;
    /* Count non-empty '&'-separated pieces ("a&&b" has two, as in aws-c-common). */
    for (size_t i = 0; i < qlen;) {
        size_t j = i;
        while (j < qlen && query[j] != '&')
            j++;
        if (j > i)
            n_wire++;
        i = j + 1;
    }
    if (n_wire > MRAP_SIG_MAX_QUERY_PARAMS)
        return -EINVAL;
    if (n_wire + n_extra == 0)
        return 0;
    params = calloc(n_wire + n_extra, sizeof(*params));
    if (!params)
        return -ENOMEM;
    for (size_t i = 0; i < qlen && !rc;) {
        size_t j = i;
        while (j < qlen && query[j] != '&')
            j++;
        if (j > i) {
            rc = canon_param_from_wire(&params[n], query + i, j - i);
            if (!rc)
                n++;
        }
        i = j + 1;
    }
    for (size_t k = 0; k < n_extra && !rc; k++) {
        rc = canon_param_set(&params[n], extra[k].name, strlen(extra[k].name), extra[k].value,
                             strlen(extra[k].value));
        if (!rc)
            n++;
    }
    if (rc)
        goto out;
    qsort(params, n, sizeof(*params), canon_param_cmp);
    for (size_t k = 0; k < n && !rc; k++) {
        if (k)
            rc = mrap_buf_append(b, "&", 1);
        if (!rc)
            rc = mrap_buf_append_str(b, params[k].name);
        if (!rc)
            rc = mrap_buf_append(b, "=", 1);
        if (!rc)
            rc = mrap_buf_append_str(b, params[k].value);
    }
out:
    for (size_t k = 0; k < n; k++)
        free(params[k].name);
    free(params);
    return rc;
}
