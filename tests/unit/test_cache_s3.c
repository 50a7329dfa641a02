/*
 * The cache end to end over the real S3 client, with the network replaced at
 * the HTTP seam: the reader's read-ahead becomes block-aligned ranged GETs,
 * every one carrying If-Match with the version the file was opened at; each
 * block is requested once; a remote change turns into -ESTALE for blocks not
 * cached yet, never into bytes of the new version.
 */
#include "cache/reader.h"
#include "cache/s3_source.h"
#include "cache_fake.h"
#include "tap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BS      ((size_t)64 * 1024)
#define NBLOCKS 24
#define SIZE    (NBLOCKS * BS + 1234) /* a short last block */

struct server {
    pthread_mutex_t mu;
    const char *etag;  /* the current version */
    unsigned seed;     /* its content */
    unsigned requests; /* under mu, like the rest */
    unsigned bad_if_match, bad_range;
    unsigned per_block[NBLOCKS + 1];
};

static int serve(void *impl, const struct mrap_http_request *req, struct mrap_http_response *resp)
{
    struct server *s = impl;
    const char *range = mrap_http_headers_get(req->headers, "range");
    const char *if_match = mrap_http_headers_get(req->headers, "if-match");
    uint64_t a = 0, b = 0;
    char cr[96];

    pthread_mutex_lock(&s->mu);
    s->requests++;
    bool range_ok = range && sscanf(range, "bytes=%" SCNu64 "-%" SCNu64, &a, &b) == 2 && a <= b &&
                    a % BS == 0 && a < SIZE;
    if (!range_ok) {
        s->bad_range++;
    } else {
        s->per_block[a / BS]++;
        if (b - a + 1 != BS && b + 1 != SIZE)
            s->bad_range++; /* neither a whole block nor the object's tail */
    }
    bool match = if_match && strcmp(if_match, s->etag) == 0;
    if (!if_match)
        s->bad_if_match++;
    unsigned seed = s->seed;
    pthread_mutex_unlock(&s->mu);

    mrap_http_headers_add(&resp->headers, "x-amz-request-id", "REQ");
    if (!range_ok) {
        resp->status = 400;
        return mrap_buf_append_str(&resp->body, "<Error><Code>InvalidArgument</Code></Error>");
    }
    if (!match) {
        resp->status = 412;
        return mrap_buf_append_str(&resp->body, "<Error><Code>PreconditionFailed</Code></Error>");
    }
    if (b >= SIZE)
        b = SIZE - 1;
    size_t n = (size_t)(b - a + 1);
    if (!resp->sink || n > resp->sink_cap)
        return -EFBIG;
    for (size_t i = 0; i < n; i++)
        resp->sink[i] = (char)fake_byte(seed, a + i);
    resp->sink_len = n;
    resp->status = 206;
    snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%zu", a, b, (size_t)SIZE);
    return mrap_http_headers_add(&resp->headers, "content-range", cr);
}

static void test_end_to_end(struct mrap_s3_client *s3, struct server *srv)
{
    struct mrap_block_cache *cache = NULL;
    struct mrap_workers *workers = NULL;
    struct mrap_reader *r = NULL;
    struct mrap_block_cache_opts co = {.block_size = BS, .capacity_bytes = 64 * (BS + 1024)};
    CHECK_INT(mrap_block_cache_new(&co, &cache), 0);
    CHECK_INT(mrap_workers_new(4, 0, &workers), 0);
    struct mrap_cache_s3_source src = {.s3 = s3, .key = "dir/obj", .etag = "\"v1\""};
    struct mrap_reader_opts ro = {.cache = cache,
                                  .workers = workers,
                                  .key = src.key,
                                  .etag = src.etag,
                                  .size = SIZE,
                                  .fetch = mrap_cache_s3_fetch,
                                  .fetch_ctx = &src,
                                  /* small, so read-ahead stays far from the tail */
                                  .max_window_bytes = 2 * BS,
                                  .span_blocks = 1}; /* one GET per block: checked below */
    CHECK_INT(mrap_reader_new(&ro, &r), 0);

    /* The first half, sequentially in 32 KiB reads. */
    char *buf = malloc(BS);
    bool ok = buf != NULL;
    for (uint64_t off = 0; ok && off < SIZE / 2; off += BS / 2) {
        size_t got = 0;
        ok = mrap_reader_read(r, off, BS / 2, buf, &got) == 0 && got == BS / 2 &&
             fake_check(1, off, buf, got);
    }
    CHECK(ok, "first half read, bytes right");

    /* The object is replaced remotely; the next read past what read-ahead
     * has already cached fails with -ESTALE instead of mixing versions. */
    pthread_mutex_lock(&srv->mu);
    srv->etag = "\"v2\"";
    srv->seed = 2;
    pthread_mutex_unlock(&srv->mu);
    size_t got = 1;
    CHECK_INT(mrap_reader_read(r, SIZE - 100, 100, buf, &got), -ESTALE);
    CHECK_INT(got, 0);
    mrap_reader_destroy(r);

    /* Reopened at the new version: the tail, short at the end of the object. */
    struct mrap_cache_s3_source src2 = {.s3 = s3, .key = "dir/obj", .etag = "\"v2\""};
    ro.etag = src2.etag;
    ro.fetch_ctx = &src2;
    CHECK_INT(mrap_reader_new(&ro, &r), 0);
    CHECK_INT(mrap_reader_read(r, SIZE - 100, BS, buf, &got), 0);
    CHECK_INT(got, 100);
    CHECK(fake_check(2, SIZE - 100, buf, got), "new version's bytes");
    mrap_reader_destroy(r);
    free(buf);

    pthread_mutex_lock(&srv->mu);
    CHECK_INT(srv->bad_if_match, 0);
    CHECK_INT(srv->bad_range, 0);
    for (unsigned b = 0; b <= NBLOCKS; b++)
        CHECK(srv->per_block[b] <= 2, "block %u requested %u times", b, srv->per_block[b]);
    CHECK_INT(srv->per_block[0], 1);
    CHECK_INT(srv->per_block[NBLOCKS], 2); /* once per version */
    pthread_mutex_unlock(&srv->mu);
    mrap_workers_destroy(workers);
    mrap_block_cache_destroy(cache);
}

int main(void)
{
    char errbuf[256];
    struct mrap_creds_provider *creds = NULL;
    /* The documentation's example keys, through the ordinary environment path. */
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
    unsetenv("AWS_SESSION_TOKEN");
    struct mrap_creds_opts cro = {0};
    if (mrap_creds_provider_new(&cro, &creds, errbuf, sizeof(errbuf)) != 0) {
        CHECK(false, "credentials: %s", errbuf);
        return mrap_test_finish();
    }
    struct mrap_signer *signer = mrap_signer_new();
    struct server srv = {.etag = "\"v1\"", .seed = 1};
    pthread_mutex_init(&srv.mu, NULL);
    struct mrap_s3_client *s3 = NULL;
    struct mrap_s3_client_opts o = {
        .target = MRAP_S3_TARGET_MRAP,
        .name = "mfzwi23gnjvgw.mrap",
        .endpoint_url = "http://localhost:9",
        .max_attempts = 2,
        .backoff_base_ms = 1,
        .backoff_max_ms = 2,
        .http = {serve, &srv},
        .creds = creds,
        .signer = signer,
    };
    CHECK_INT(mrap_s3_client_new(&o, &s3), 0);
    if (s3)
        test_end_to_end(s3, &srv);
    mrap_s3_client_destroy(s3);
    pthread_mutex_destroy(&srv.mu);
    mrap_signer_destroy(signer);
    mrap_creds_provider_destroy(creds);
    return mrap_test_finish();
}
