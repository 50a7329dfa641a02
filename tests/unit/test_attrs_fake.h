/*
 * A scripted HTTP transport for the attribute, control and presign tests:
 * each perform() records the request (method, URL, headers, body) and answers
 * with the next scripted response. Header-only (static functions), included
 * by test_attrs*.c, test_control*.c and test_presign*.c.
 */
#ifndef MRAP_TEST_ATTRS_FAKE_H
#define MRAP_TEST_ATTRS_FAKE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/client.h"
#include "s3/op_util.h"
#include "s3/creds.h"
#include "s3/sigv4.h"

#define FAKE_MAX_CALLS 16

struct fake_reply {
    long status;
    const char *body;
    const char *headers[16]; /* "name", "value", ..., NULL */
    int transport_rc;
};

struct fake_call {
    char method[16];
    char url[4096];
    struct mrap_http_headers headers;
    char body[16384];
    size_t body_len;
};

struct fake_http {
    const struct fake_reply *script;
    size_t n, next;
    struct fake_call calls[FAKE_MAX_CALLS];
    size_t n_calls;
};

static inline int fake_http_perform(void *impl, const struct mrap_http_request *req,
                                    struct mrap_http_response *resp)
{
    struct fake_http *f = impl;
    if (f->n_calls < FAKE_MAX_CALLS) {
        struct fake_call *c = &f->calls[f->n_calls++];
        snprintf(c->method, sizeof(c->method), "%s", req->method);
        snprintf(c->url, sizeof(c->url), "%s", req->url);
        mrap_http_headers_init(&c->headers);
        for (size_t i = 0; i < req->headers->n; i++)
            mrap_http_headers_add(&c->headers, req->headers->v[i].name, req->headers->v[i].value);
        c->body_len = req->body_len < sizeof(c->body) - 1 ? req->body_len : sizeof(c->body) - 1;
        if (req->body)
            memcpy(c->body, req->body, c->body_len);
        c->body[c->body_len] = '\0';
    }
    if (f->next >= f->n)
        return -EIO;
    const struct fake_reply *s = &f->script[f->next++];
    if (s->transport_rc) {
        snprintf(resp->curl_error, sizeof(resp->curl_error), "scripted transport failure");
        return s->transport_rc;
    }
    resp->status = s->status;
    mrap_http_headers_add(&resp->headers, "x-amz-request-id", "FAKEREQ");
    for (size_t i = 0; s->headers[i]; i += 2)
        mrap_http_headers_add(&resp->headers, s->headers[i], s->headers[i + 1]);
    if (s->body && mrap_buf_append(&resp->body, s->body, strlen(s->body)))
        return -EFBIG;
    return 0;
}

static inline void fake_http_reset(struct fake_http *f, const struct fake_reply *script, size_t n)
{
    for (size_t i = 0; i < f->n_calls; i++)
        mrap_http_headers_cleanup(&f->calls[i].headers);
    memset(f, 0, sizeof(*f));
    f->script = script;
    f->n = n;
}

static inline const char *fake_hdr(const struct fake_http *f, size_t call, const char *name)
{
    return call < f->n_calls ? mrap_http_headers_get(&f->calls[call].headers, name) : NULL;
}

/* Whether call's Content-MD5 header is the MD5 of the body it carried. */
static inline bool fake_md5_matches(const struct fake_http *f, size_t call)
{
    unsigned char md5[16];
    char b64[32];
    if (call >= f->n_calls)
        return false;
    mrap_s3_op_md5(f->calls[call].body, f->calls[call].body_len, md5);
    mrap_s3_op_base64(md5, 16, b64, sizeof(b64));
    const char *sent = fake_hdr(f, call, "content-md5");
    return sent && strcmp(sent, b64) == 0;
}

/* getenv_arg: NULL, or a struct fake_env_arg naming a session token. */
struct fake_env_arg {
    const char *session_token;
};

static inline const char *fake_env(const char *name, void *arg)
{
    if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0)
        return "AKIDEXAMPLE";
    if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
        return "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    if (strcmp(name, "AWS_SESSION_TOKEN") == 0 && arg)
        return ((const struct fake_env_arg *)arg)->session_token;
    return NULL;
}

/* A provider over fake_env; env (may be NULL) outlives it. NULL on failure. */
static inline struct mrap_creds_provider *fake_creds_new(struct fake_env_arg *env)
{
    struct mrap_creds_provider *p = NULL;
    struct mrap_creds_opts co = {.getenv_fn = fake_env, .getenv_arg = env};
    char errbuf[256];
    if (mrap_creds_provider_new(&co, &p, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "credentials: %s\n", errbuf);
        return NULL;
    }
    return p;
}

/* Designated initializers keep -Wmissing-field-initializers quiet. */
#define REPLY(st, b)                                                                               \
    {                                                                                              \
        .status = (st), .body = (b)                                                                \
    }
#define REPLY_H(st, b, ...)                                                                        \
    {                                                                                              \
        .status = (st), .body = (b), .headers = { __VA_ARGS__, NULL }                              \
    }
#define REPLY_FAIL(rc)                                                                             \
    {                                                                                              \
        .transport_rc = (rc)                                                                       \
    }
#define N_REPLIES(a) (sizeof(a) / sizeof((a)[0]))

#endif
