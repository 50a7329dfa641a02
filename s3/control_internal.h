/*
 * Private to s3/control*.c: the control client's fields and the request
 * shape every S3 Control operation shares.
 */
#ifndef MRAP_S3_CONTROL_INTERNAL_H
#define MRAP_S3_CONTROL_INTERNAL_H

#include <libxml/tree.h>

#include "s3/attrs_internal.h"
#include "s3/control.h"
#include "s3/op_util.h"

#define MRAP_S3_CONTROL_XMLNS "http://awss3control.amazonaws.com/doc/2018-08-20/"
#define MRAP_S3_CONTROL_API   "v20180820"

/* Immutable after mrap_s3_control_new(). */
struct mrap_s3_control {
    char *account;
    struct mrap_s3_client *main; /* the control region */
    /* One client per route region, in failover order starting at route_first. */
    struct mrap_s3_client *route[MRAP_S3_CONTROL_N_ROUTE_REGIONS];
    size_t route_first;
};

/*
 * One S3 Control request: `method` on /<path> (unencoded; the client encodes
 * it, keeping '/'), x-amz-account-id, and for a body Content-MD5 (every MRAP
 * operation is httpChecksumRequired). With root, the answer must be a <root>
 * document that parse() turns into out (see s3/attrs_internal.h); without,
 * any success body is ignored unless it is an <Error>.
 */
int mrap_s3_control_call(struct mrap_s3_client *c, const char *account, const char *method,
                         const char *path, const struct mrap_s3_param *params, size_t n_params,
                         const struct mrap_buf *body, const char *root,
                         mrap_s3_attrs_parse_fn parse, void *out, struct mrap_s3_error *err);

/* Parses an <AccessPoint> (MultiRegionAccessPointReport). 0, -EPROTO, -ENOMEM. */
int mrap_s3_control_report_from(xmlNodePtr ap, struct mrap_s3_mrap_report *out);

/* Counts the <item> children of list (more than max: -EPROTO) and callocs
 * that many items of `size` bytes into *out (NULL when none). */
int mrap_s3_control_alloc_items(xmlNodePtr list, const char *item, size_t max, size_t size,
                                void **out, size_t *n);

/* Copies an optional child's text; -EPROTO when longer than outlen-1. */
int mrap_s3_control_opt_copy(xmlNodePtr parent, const char *name, char *out, size_t outlen);

bool mrap_s3_control_region_valid(const char *region);
/* A RequestTokenARN fit to go into a URI path. */
bool mrap_s3_control_token_valid(const char *token);

#endif
