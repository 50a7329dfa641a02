/*
 * Helpers shared by the write and attribute operations (write.c, multipart.c,
 * mpu_list.c, attrs.c, attrs_lock.c). Internal to s3/: not a contract for
 * other layers, which use s3/write.h and s3/attrs.h.
 *
 * All functions are thread-safe (no shared state) and return 0 or a negative
 * errno unless stated otherwise.
 */
#ifndef MRAP_S3_OP_UTIL_H
#define MRAP_S3_OP_UTIL_H

#include <libxml/tree.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s3/client.h"

/* Bodies of answers we only need for their status or an <Error>. */
#define MRAP_S3_OP_SMALL_BODY_MAX (64u * 1024)
/* Tagging, ACL, Object Lock, Create/Complete results. */
#define MRAP_S3_OP_DOC_BODY_MAX (1024u * 1024)
/* ListParts / ListMultipartUploads pages. */
#define MRAP_S3_OP_PAGE_BODY_MAX (16u * 1024 * 1024)
/* The client signs at most 32 extra headers per request. */
#define MRAP_S3_OP_MAX_HEADERS 32

/* A fixed list of borrowed headers; add() past the capacity sets overflow. */
struct mrap_s3_op_headers {
    struct mrap_sig_header v[MRAP_S3_OP_MAX_HEADERS];
    size_t n;
    bool overflow;
};
void mrap_s3_op_header_add(struct mrap_s3_op_headers *h, const char *name, const char *value);

/* -EINVAL for NULL/empty, -ENAMETOOLONG over S3's 1,024 bytes. */
int mrap_s3_op_check_key(const char *key);

void mrap_s3_op_md5(const void *data, size_t len, unsigned char out[16]);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void mrap_s3_op_hex(const unsigned char *in, size_t n, char *out);
/* base64 of n bytes into out; outlen must hold 4*ceil(n/3)+1. */
void mrap_s3_op_base64(const unsigned char *in, size_t n, char *out, size_t outlen);
/* The MD5 a plain ETag stands for: "\"<32 hex>\"" (quotes optional). -EPROTO otherwise. */
int mrap_s3_op_etag_md5(const char *etag, unsigned char md5[16]);
/* Decodes S3's encoding-type=url in place ('+' is a space). -EPROTO on a bad
 * escape or a NUL in the result. */
int mrap_s3_op_url_decode(char *s);
/* A decimal without sign or junk, at most max. -EPROTO otherwise. */
int mrap_s3_op_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Whether a failed request's S3 code is `code`. */
bool mrap_s3_op_code_is(const struct mrap_s3_error *err, const char *code);
/* Describes a failure found on our side of a successful HTTP exchange (bad
 * ETag, 200 with <Error>, malformed answer) in *err (may be NULL) for the log
 * line, keeping status and request id; logs it as a warning. */
void mrap_s3_op_fail(struct mrap_s3_error *err, const struct mrap_http_response *resp,
                     const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Runs req with the response body bounded by body_max and ignores a
 * successful body. *resp_out, when not NULL, receives the response (the caller
 * cleans it up); otherwise it is cleaned up here.
 */
int mrap_s3_op_run(struct mrap_s3_client *c, const struct mrap_s3_request *req, size_t body_max,
                   struct mrap_http_response *resp_out, struct mrap_s3_error *err);

/*
 * Runs req and parses the body as an XML document whose root element is
 * `root_name`. A 2xx answer whose root is <Error> is a failure: *err is
 * filled from it and the errno from the one table is returned. Any other
 * unexpected document is -EPROTO. On 0 the caller frees *doc (xmlFreeDoc);
 * resp_out as for mrap_s3_op_run().
 */
int mrap_s3_op_xml(struct mrap_s3_client *c, const struct mrap_s3_request *req, size_t body_max,
                   const char *root_name, xmlDocPtr *doc, struct mrap_http_response *resp_out,
                   struct mrap_s3_error *err);

/* Appends "<name>escaped text</name>". */
int mrap_s3_op_xml_elem(struct mrap_buf *b, const char *name, const char *text);

#endif
