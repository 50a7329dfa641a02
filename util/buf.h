/*
 * mrap_buf: a growable byte buffer with a hard upper bound.
 *
 * Every buffer filled from the network is an mrap_buf whose max_bytes is set
 * by the caller, so a hostile or broken server can never make mrapfs allocate
 * without limit. The contents are always NUL-terminated (the NUL is not counted
 * in len), so XML and header text can be handed to parsers directly.
 * Not thread-safe: one owner at a time.
 */
#ifndef MRAP_UTIL_BUF_H
#define MRAP_UTIL_BUF_H

#include <stddef.h>

struct mrap_buf {
    char *data; /* NULL until the first append; owned */
    size_t len;
    size_t cap;
    size_t max_bytes;
};

void mrap_buf_init(struct mrap_buf *b, size_t max_bytes);
/* Frees the memory; the buffer may be reused after another init. Accepts NULL. */
void mrap_buf_cleanup(struct mrap_buf *b);
/* Same, but overwrites the contents first: for buffers that held secrets. */
void mrap_buf_cleanup_secure(struct mrap_buf *b);
/* Forget the contents, keep the memory. */
void mrap_buf_reset(struct mrap_buf *b);

/* 0, -EFBIG when the result would exceed max_bytes (nothing appended), or -ENOMEM. */
int mrap_buf_append(struct mrap_buf *b, const void *data, size_t n);
int mrap_buf_append_str(struct mrap_buf *b, const char *s);
int mrap_buf_printf(struct mrap_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Make room for n more bytes without changing len. */
int mrap_buf_reserve(struct mrap_buf *b, size_t n);

/* Returns the contents as a NUL-terminated heap string the caller frees, and resets b.
 * Never NULL unless out of memory. */
char *mrap_buf_steal(struct mrap_buf *b);

/* The contents as a C string; "" for an empty buffer. Valid until the next change. */
const char *mrap_buf_str(const struct mrap_buf *b);

#endif
