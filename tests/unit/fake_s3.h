/*
 * A scripted S3 for unit tests of operations built on mrap_s3_execute: a fake
 * transport (struct mrap_http_ops) that records every request it is handed
 * (method, URL, signed headers, body) and answers from a script.
 *
 * Header-only (static inline) because CMake builds each tests/unit/test_*.c
 * as its own executable with tap.c only.
 */
#ifndef MRAP_TEST_FAKE_S3_H
#define MRAP_TEST_FAKE_S3_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/client.h"
#include "s3/op_util.h"
#include "util/crc32c.h"
#include "tap.h"

#define FAKE_MAX_SENT 16
#define FAKE_BASE     "http://mfzwi23gnjvgw.mrap.localhost:9000"

struct fake_reply {
    long status;
    const char *headers; /* "name: value\n" lines, or NULL */
    const char *body;    /* or NULL */
    bool etag_of_body;   /* answer with ETag "<md5 of the request body>" */
    bool echo_crc;       /* answer with the request's x-amz-checksum-crc32c */
    int transport_rc;    /* a negative errno: no response at all */
};

struct fake_sent {
    char method[16];
    char url[4096];
    struct mrap_http_headers headers;
    char *body;
    size_t body_len;
};

struct fake_s3 {
    const struct fake_reply *replies;
    size_t n_replies, next;
    struct fake_sent sent[FAKE_MAX_SENT];
    size_t n_sent; /* requests seen (only the first FAKE_MAX_SENT are kept) */
};

static inline void fake_add_headers(struct mrap_http_headers *h, const char *lines)
{
    while (lines && *lines) {
        const char *nl = strchr(lines, '\n');
        size_t len = nl ? (size_t)(nl - lines) : strlen(lines);
        char line[1024];
        snprintf(line, sizeof(line), "%.*s", (int)len, lines);
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            mrap_http_headers_add(h, line, colon + 1 + (colon[1] == ' '));
        }
        lines += len + (nl ? 1 : 0);
    }
}

static inline int fake_perform(void *impl, const struct mrap_http_request *req,
                               struct mrap_http_response *resp)
{
    struct fake_s3 *f = impl;
    size_t i = f->n_sent++;
    if (i < FAKE_MAX_SENT) {
        struct fake_sent *s = &f->sent[i];
        snprintf(s->method, sizeof(s->method), "%s", req->method);
        snprintf(s->url, sizeof(s->url), "%s", req->url);
        mrap_http_headers_init(&s->headers);
        for (size_t k = 0; k < req->headers->n; k++)
            mrap_http_headers_add(&s->headers, req->headers->v[k].name, req->headers->v[k].value);
        s->body_len = req->body_len;
        s->body = malloc(req->body_len + 1);
        if (s->body) {
            if (req->body_len)
                memcpy(s->body, req->body, req->body_len);
            s->body[req->body_len] = '\0';
        }
    }
    if (f->next >= f->n_replies)
        return -ECONNREFUSED; /* the script ran out: an unexpected request */
    const struct fake_reply *r = &f->replies[f->next++];
    if (r->transport_rc) {
        snprintf(resp->curl_error, sizeof(resp->curl_error), "scripted failure");
        return r->transport_rc;
    }
    resp->status = r->status;
    mrap_http_headers_add(&resp->headers, "x-amz-request-id", "FAKEREQ");
    fake_add_headers(&resp->headers, r->headers);
    if (r->etag_of_body) {
        unsigned char md5[16];
        char hex[33], etag[40];
        mrap_s3_op_md5(req->body, req->body_len, md5);
        mrap_s3_op_hex(md5, 16, hex);
        snprintf(etag, sizeof(etag), "\"%s\"", hex);
        mrap_http_headers_add(&resp->headers, "ETag", etag);
    }
    if (r->echo_crc) {
        const char *crc = mrap_http_headers_get(req->headers, "x-amz-checksum-crc32c");
        if (crc)
            mrap_http_headers_add(&resp->headers, "x-amz-checksum-crc32c", crc);
    }
    if (r->body && mrap_buf_append_str(&resp->body, r->body))
        return -EFBIG;
    return 0;
}

static inline void fake_init(struct fake_s3 *f, const struct fake_reply *replies, size_t n)
{
    memset(f, 0, sizeof(*f));
    f->replies = replies;
    f->n_replies = n;
}

static inline void fake_cleanup(struct fake_s3 *f)
{
    size_t kept = f->n_sent < FAKE_MAX_SENT ? f->n_sent : FAKE_MAX_SENT;
    for (size_t i = 0; i < kept; i++) {
        mrap_http_headers_cleanup(&f->sent[i].headers);
        free(f->sent[i].body);
    }
    memset(f, 0, sizeof(*f));
}

/* A request header of the i-th request, or NULL. */
static inline const char *fake_header(const struct fake_s3 *f, size_t i, const char *name)
{
    return i < f->n_sent && i < FAKE_MAX_SENT ? mrap_http_headers_get(&f->sent[i].headers, name)
                                              : NULL;
}

static inline const char *fake_env(const char *name, void *arg)
{
    (void)arg;
    if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0)
        return "AKIDEXAMPLE";
    if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
        return "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    return NULL;
}

/* The credentials and signer every fake client uses; set up by fake_main(). */
static struct {
    struct mrap_creds_provider *creds;
    struct mrap_signer *signer;
} fake_shared;

/* A client whose requests go to f: MRAP mode, 3 attempts, millisecond backoff. */
static inline struct mrap_s3_client *fake_client(struct fake_s3 *f)
{
    struct mrap_s3_client *c = NULL;
    struct mrap_s3_client_opts o = {
        .target = MRAP_S3_TARGET_MRAP,
        .name = "mfzwi23gnjvgw.mrap",
        .endpoint_url = "http://localhost:9000",
        .max_attempts = 3,
        .backoff_base_ms = 1,
        .backoff_max_ms = 2,
        .http = {fake_perform, f},
        .creds = fake_shared.creds,
        .signer = fake_shared.signer,
    };
    if (mrap_s3_client_new(&o, &c))
        return NULL;
    return c;
}

/* Runs tests[0..n) with test credentials and a signer; returns the exit code. */
static inline int fake_main(void (*const tests[])(void), size_t n)
{
    char errbuf[256];
    struct mrap_creds_opts co = {.getenv_fn = fake_env};
    fake_shared.signer = mrap_signer_new();
    if (mrap_creds_provider_new(&co, &fake_shared.creds, errbuf, sizeof(errbuf)) ||
        !fake_shared.signer) {
        CHECK(false, "test credentials and signer: %s", errbuf);
    } else {
        for (size_t i = 0; i < n; i++)
            tests[i]();
    }
    mrap_signer_destroy(fake_shared.signer);
    mrap_creds_provider_destroy(fake_shared.creds);
    return mrap_test_finish();
}

#endif
