/*
 * Bounded growable buffer. Growth doubles (amortised O(1) appends) but never
 * past max_bytes + 1 (the terminating NUL).
 */
#include "util/buf.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mrap_buf_init(struct mrap_buf *b, size_t max_bytes)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max_bytes = max_bytes;
}

void mrap_buf_cleanup(struct mrap_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void mrap_buf_cleanup_secure(struct mrap_buf *b)
{
    if (b && b->data)
        OPENSSL_cleanse(b->data, b->cap);
    mrap_buf_cleanup(b);
}

void mrap_buf_reset(struct mrap_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int mrap_buf_reserve(struct mrap_buf *b, size_t n)
{
    if (n > b->max_bytes || b->len > b->max_bytes - n)
        return -EFBIG;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max_bytes + 1)
        cap = b->max_bytes + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int mrap_buf_append(struct mrap_buf *b, const void *data, size_t n)
{
    int rc = mrap_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int mrap_buf_append_str(struct mrap_buf *b, const char *s)
{
    return mrap_buf_append(b, s, strlen(s));
}

int mrap_buf_printf(struct mrap_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    int rc = mrap_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *mrap_buf_steal(struct mrap_buf *b)
{
    char *p = b->data;
    if (!p)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

const char *mrap_buf_str(const struct mrap_buf *b)
{
    return b->data ? b->data : "";
}
