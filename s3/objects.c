/*
 * Object reads: HeadObject and ranged GetObject, plus the time parsing both
 * (and the listing) need.
 *
 * A ranged GET writes straight into the caller's buffer through the HTTP
 * layer's sink, so a read costs no copy; the transport refuses more bytes than
 * the buffer holds and a body shorter than Content-Length, so a read returns
 * either exact bytes or an error. The Content-Range start is checked too: a
 * server that ignored the Range would otherwise hand us the wrong bytes.
 */
#include "s3/client.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Error bodies are small XML documents; anything bigger is not an S3 error. */
#define MRAP_S3_ERROR_BODY_MAX (64 * 1024)

int mrap_s3_parse_time(const char *s, struct timespec *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    long frac_ms = 0;
    if (!end || *end) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end)
            return -EINVAL;
        if (*end == '.') {
            char *e2;
            long v = strtol(end + 1, &e2, 10);
            int digits = (int)(e2 - end - 1);
            if (digits <= 0 || digits > 9)
                return -EINVAL;
            while (digits < 3) {
                v *= 10;
                digits++;
            }
            while (digits > 3) {
                v /= 10;
                digits--;
            }
            frac_ms = v;
            end = e2;
        }
        if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
            return -EINVAL;
    }
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -EINVAL;
    out->tv_sec = t;
    out->tv_nsec = frac_ms * 1000000L;
    return 0;
}

static void copy_header(const struct mrap_http_response *r, const char *name, char *out,
                        size_t outlen)
{
    const char *v = mrap_http_headers_get(&r->headers, name);
    snprintf(out, outlen, "%s", v ? v : "");
}

int mrap_s3_head_object(struct mrap_s3_client *c, const char *key,
                        struct mrap_s3_object_info *info, struct mrap_s3_error *err)
{
    struct mrap_http_response resp;
    struct mrap_s3_request req = {.method = "HEAD", .key = key};
    mrap_http_response_init(&resp, MRAP_S3_ERROR_BODY_MAX);
    int rc = mrap_s3_execute(c, &req, &resp, err);
    if (rc)
        goto out;
    memset(info, 0, sizeof(*info));
    const char *len = mrap_http_headers_get(&resp.headers, "content-length");
    const char *lm = mrap_http_headers_get(&resp.headers, "last-modified");
    char *end = NULL;
    errno = 0;
    unsigned long long size = len ? strtoull(len, &end, 10) : 0;
    if (!len || errno || *end || !lm || mrap_s3_parse_time(lm, &info->mtime)) {
        rc = -EPROTO;
        goto out;
    }
    info->size = size;
    copy_header(&resp, "etag", info->etag, sizeof(info->etag));
    copy_header(&resp, "x-amz-storage-class", info->storage_class, sizeof(info->storage_class));
out:
    mrap_http_response_cleanup(&resp);
    return rc;
}

/* "bytes START-END/TOTAL" -> START; -1 when malformed. */
static long long content_range_start(const char *v)
{
    unsigned long long start, last;
    if (!v || sscanf(v, "bytes %llu-%llu/", &start, &last) != 2 || last < start)
        return -1;
    return (long long)start;
}

int mrap_s3_get_range(struct mrap_s3_client *c, const char *key, uint64_t offset, size_t len,
                      const char *if_match, char *buf, size_t *got, struct mrap_s3_error *err)
{
    char range[64];
    struct mrap_sig_header hdrs[2];
    size_t n = 0;
    struct mrap_http_response resp;
    struct mrap_s3_error local_err;
    int rc;

    if (!err)
        err = &local_err;
    *got = 0;
    if (len == 0)
        return 0;
    snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64, offset, offset + len - 1);
    hdrs[n++] = (struct mrap_sig_header){"range", range};
    if (if_match && *if_match)
        hdrs[n++] = (struct mrap_sig_header){"if-match", if_match};
    struct mrap_s3_request req = {.method = "GET", .key = key, .headers = hdrs, .n_headers = n};

    mrap_http_response_init(&resp, MRAP_S3_ERROR_BODY_MAX);
    resp.sink = buf;
    resp.sink_cap = len;
    rc = mrap_s3_execute(c, &req, &resp, err);
    if (rc && err->http_status == 416) {
        rc = 0; /* the range starts at or past the end: nothing to read */
        goto out;
    }
    if (rc)
        goto out;
    if (resp.status == 206) {
        long long start =
            content_range_start(mrap_http_headers_get(&resp.headers, "content-range"));
        if (start < 0 || (uint64_t)start != offset) {
            rc = -EPROTO;
            goto out;
        }
    } else if (resp.status != 200 || offset != 0) {
        rc = -EPROTO; /* the server ignored the Range: these are not the bytes asked for */
        goto out;
    }
    *got = resp.sink_len;
out:
    mrap_http_response_cleanup(&resp);
    return rc;
}
