/*
 * S3 failures and the one table that maps them to errno.
 *
 * A failure is described by the HTTP status, the S3 error code from the XML
 * body (or "" when there was none, e.g. HEAD), and the transport errno when no
 * response arrived. mrap_s3_error_errno() is the only place where these become
 * an errno; the S3 code, message and request id are kept for the log line.
 */
#ifndef MRAP_S3_ERRORS_H
#define MRAP_S3_ERRORS_H

#include <stdbool.h>
#include <stddef.h>

struct mrap_s3_error {
    long http_status;      /* 0 when no response arrived */
    int transport_errno;   /* negative errno from the HTTP layer, or 0 */
    char code[64];         /* S3 <Code>, e.g. "NoSuchKey"; "" when none */
    char message[256];     /* S3 <Message> */
    char request_id[128];  /* x-amz-request-id or <RequestId> */
};

/* Fills code/message/request_id from an S3 <Error> document. The body is
 * bounded by the caller. 0, or -EPROTO when it is not an S3 error document
 * (http_status is left as it is; code stays ""). */
int mrap_s3_error_parse(struct mrap_s3_error *e, const char *xml, size_t len);

/* The errno for this failure (negative), from the single mapping table. */
int mrap_s3_error_errno(const struct mrap_s3_error *e);

/* Whether another attempt may succeed: 500/502/503/504, SlowDown,
 * RequestTimeout, InternalError, and transport resets and timeouts; never a 4xx
 * other than RequestTimeout (408/400) and throttling (429). */
bool mrap_s3_error_retryable(const struct mrap_s3_error *e);

/* "NoSuchKey (404): The specified key does not exist. [request id ...]" for logs. */
void mrap_s3_error_format(const struct mrap_s3_error *e, char *out, size_t outlen);

#endif
