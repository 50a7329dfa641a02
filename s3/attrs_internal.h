/*
 * Private to s3/attrs*.c: the request shapes every attribute operation
 * shares. Not a contract for other layers (they use s3/attrs.h).
 */
#ifndef MRAP_S3_ATTRS_INTERNAL_H
#define MRAP_S3_ATTRS_INTERNAL_H

#include <libxml/tree.h>
#include <stdbool.h>

#include "s3/attrs.h"
#include "s3/op_util.h"

#define MRAP_S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"

/* Parses a document's root element into out; 0, -EPROTO or -ENOMEM. */
typedef int (*mrap_s3_attrs_parse_fn)(xmlNodePtr root, void *out);

/*
 * GET "?<subresource>" on key; the answer must be a <root> document, which
 * parse() turns into out. A malformed answer is -EPROTO, described in *err
 * and logged with the answer's status and request id.
 */
int mrap_s3_attrs_get(struct mrap_s3_client *c, const char *key, const char *subresource,
                      const char *root, mrap_s3_attrs_parse_fn parse, void *out,
                      struct mrap_s3_error *err);

/* Parses xml[0..len) whose root must be <root> with parse(). 0 or its error
 * (-EPROTO for anything that is not such a document). */
int mrap_s3_attrs_parse_doc(const char *xml, size_t len, const char *root,
                            mrap_s3_attrs_parse_fn parse, void *out);

/* The same for any request (S3 Control uses it too): runs req, expects <root>. */
int mrap_s3_attrs_run_parse(struct mrap_s3_client *c, const struct mrap_s3_request *req,
                            const char *root, mrap_s3_attrs_parse_fn parse, void *out,
                            struct mrap_s3_error *err);

/*
 * `method` "?<subresource>" on key with body[0..len) and Content-MD5, plus
 * the extra headers (may be NULL). *status (may be NULL) receives the HTTP
 * status of a success.
 */
int mrap_s3_attrs_send(struct mrap_s3_client *c, const char *method, const char *key,
                       const char *subresource, const struct mrap_buf *body,
                       const struct mrap_s3_op_headers *extra, long *status,
                       struct mrap_s3_error *err);

/* A 2xx answer whose body is an S3 <Error>: fills *err, logs, returns its
 * errno. 0 when the body is empty or anything else. Shared with control*.c. */
int mrap_s3_attrs_body_error(const struct mrap_http_response *resp, const char *method,
                             const char *what, struct mrap_s3_error *err);

/* Opens the document: `<root xmlns="...">` into b (initialised here, bounded). */
int mrap_s3_attrs_doc_open(struct mrap_buf *b, const char *root);

/* Copies text of child `name` into out; -EPROTO when absent or longer than
 * outlen-1 (a value beyond what S3 sends). */
int mrap_s3_attrs_child_copy(xmlNodePtr parent, const char *name, char *out, size_t outlen);

#endif
