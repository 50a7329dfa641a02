/*
 * The libcurl transport against a tiny HTTP/1.1 server running in this
 * process on 127.0.0.1 (an ephemeral port). The server's behaviour is chosen
 * by path; it counts accepted connections and concurrent requests so the
 * test can see keep-alive and the pool bound. Worker threads never call
 * CHECK (the harness is single-threaded): they record results for main.
 */
#include "s3/errors.h"
#include "s3/http.h"
#include "tap.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- the server -------------------------------------------------------- */

#define MAX_CONNS 256

struct server {
    int lfd;
    int port;
    pthread_t accept_thr;
    atomic_int stop;
    pthread_mutex_t lock;
    /* under lock */
    int accepts;
    int active, max_active;
    pthread_t conns[MAX_CONNS];
    int n_conns;
};

struct conn {
    struct server *srv;
    int fd;
};

struct request {
    char method[16];
    char path[1024];
    char hdrs[65536]; /* raw header block */
    char *body;
    size_t body_len;
};

static void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

/* Waits up to 100 ms for input; -1 when the server stops or the peer is gone. */
static ssize_t recv_some(struct server *srv, int fd, char *buf, size_t cap)
{
    for (int waited = 0; waited < 100; waited++) { /* at most 10 s */
        if (atomic_load(&srv->stop))
            return -1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, 100);
        if (r < 0)
            return -1;
        if (r == 0)
            continue;
        ssize_t n = recv(fd, buf, cap, 0);
        return n > 0 ? n : -1;
    }
    return -1;
}

/* Value of header `name` in the raw block, copied to out; false when absent. */
static bool req_header(const struct request *r, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    for (const char *line = r->hdrs; *line;) {
        const char *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - line) > nlen && strncasecmp(line, name, nlen) == 0 &&
            line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            snprintf(out, outlen, "%.*s", (int)(eol - v), v);
            return true;
        }
        line = eol + 2;
    }
    return false;
}

/* Reads one request; false when the connection is done. `buf` carries leftover bytes. */
static bool read_request(struct conn *c, struct request *r, char *buf, size_t *have)
{
    char *end;
    while (!(end = memmem(buf, *have, "\r\n\r\n", 4))) {
        if (*have && buf[0] == 0x16) { /* a TLS ClientHello: answer in plain text */
            send_str(c->fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            return false;
        }
        if (*have >= 65535)
            return false;
        ssize_t n = recv_some(c->srv, c->fd, buf + *have, 65535 - *have);
        if (n <= 0)
            return false;
        *have += (size_t)n;
    }
    size_t hlen = (size_t)(end - buf) + 4;
    buf[hlen - 2] = '\0';
    if (sscanf(buf, "%15s %1023s", r->method, r->path) != 2)
        return false;
    const char *first = strstr(buf, "\r\n");
    snprintf(r->hdrs, sizeof(r->hdrs), "%s\r\n", first ? first + 2 : "");
    memmove(buf, buf + hlen, *have - hlen);
    *have -= hlen;

    char v[64];
    r->body_len = req_header(r, "content-length", v, sizeof(v)) ? strtoul(v, NULL, 10) : 0;
    if (req_header(r, "expect", v, sizeof(v)) && strcasecmp(v, "100-continue") == 0)
        send_str(c->fd, "HTTP/1.1 100 Continue\r\n\r\n");
    r->body = malloc(r->body_len + 1);
    size_t got = *have < r->body_len ? *have : r->body_len;
    memcpy(r->body, buf, got);
    memmove(buf, buf + got, *have - got);
    *have -= got;
    while (got < r->body_len) {
        ssize_t n = recv_some(c->srv, c->fd, r->body + got, r->body_len - got);
        if (n <= 0) {
            free(r->body);
            return false;
        }
        got += (size_t)n;
    }
    return true;
}

/* One write per response: a split write would meet Nagle and delayed ACKs. */
static void respond(int fd, const char *status, const char *extra, const void *body, size_t len,
                    bool head)
{
    size_t cap = 70000 + len;
    char *msg = malloc(cap);
    int n = snprintf(msg, cap, "HTTP/1.1 %s\r\nContent-Length: %zu\r\n%s\r\n", status, len,
                     extra ? extra : "");
    size_t total = (size_t)n;
    if (!head && len) {
        memcpy(msg + total, body, len);
        total += len;
    }
    send_all(fd, msg, total);
    free(msg);
}

/* Handles one request; false closes the connection. */
static bool handle(struct conn *c, struct request *r)
{
    int fd = c->fd;
    bool head = strcmp(r->method, "HEAD") == 0;
    char extra[8192];

    if (strcmp(r->path, "/hello") == 0) {
        respond(fd, "200 OK", "X-Test: one\r\nETag: \"abc\"\r\nX-Multi: a\r\nX-Multi: b\r\n",
                "hello world", 11, head);
    } else if (strncmp(r->path, "/echo", 5) == 0) {
        char cl[32] = "-", acc[64] = "-", ct[64] = "-", ex[64] = "-", cu[64] = "-", em[64] = "-",
             host[128] = "-";
        req_header(r, "content-length", cl, sizeof(cl));
        req_header(r, "accept", acc, sizeof(acc));
        req_header(r, "content-type", ct, sizeof(ct));
        req_header(r, "expect", ex, sizeof(ex));
        req_header(r, "x-amz-meta-custom", cu, sizeof(cu));
        if (req_header(r, "x-empty", em, sizeof(em)) && !em[0])
            snprintf(em, sizeof(em), "present-empty");
        req_header(r, "host", host, sizeof(host));
        snprintf(extra, sizeof(extra),
                 "X-Method: %s\r\nX-Path: %s\r\nX-Saw-CL: %s\r\nX-Saw-Accept: %s\r\n"
                 "X-Saw-CT: %s\r\nX-Saw-Expect: %s\r\nX-Saw-Custom: %s\r\nX-Saw-Empty: %s\r\n"
                 "X-Saw-Host: %s\r\n",
                 r->method, r->path, cl, acc, ct, ex, cu, em, host);
        respond(fd, "200 OK", extra, r->body, r->body_len, head);
    } else if (strcmp(r->path, "/short") == 0) {
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
        return false;
    } else if (strcmp(r->path, "/chunkcut") == 0) {
        send_str(fd,
                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nabc");
        return false;
    } else if (strcmp(r->path, "/chunked") == 0) {
        send_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5\r\nhello\r\n8\r\n chunked\r\n0\r\n\r\n");
    } else if (strcmp(r->path, "/big") == 0) {
        char *b = malloc(100000);
        memset(b, 'x', 100000);
        respond(fd, "200 OK", NULL, b, 100000, head);
        free(b);
    } else if (strcmp(r->path, "/missing") == 0) {
        static const char xml[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                  "<Error><Code>NoSuchKey</Code><Message>The specified key "
                                  "does not exist.</Message><RequestId>RID42</RequestId></Error>";
        respond(fd, "404 Not Found", "Content-Type: application/xml\r\nx-amz-request-id: RID42\r\n",
                xml, sizeof(xml) - 1, head);
    } else if (strcmp(r->path, "/errbig") == 0) {
        char *b = malloc(8192);
        memset(b, 'e', 8192);
        respond(fd, "503 Slow Down", NULL, b, 8192, head);
        free(b);
    } else if (strcmp(r->path, "/stall") == 0) {
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
        char tmp[16];
        recv_some(c->srv, fd, tmp, sizeof(tmp)); /* until the client gives up (or 10 s) */
        return false;
    } else if (strcmp(r->path, "/bigheaders") == 0) {
        static char hdrs[120000];
        size_t off = 0;
        char v[1001];
        memset(v, 'h', 1000);
        v[1000] = '\0';
        for (int i = 0; i < 100; i++)
            off += (size_t)snprintf(hdrs + off, sizeof(hdrs) - off, "X-H%d: %s\r\n", i, v);
        char *resp = malloc(off + 128);
        int n = snprintf(resp, off + 128, "HTTP/1.1 200 OK\r\n%sContent-Length: 2\r\n\r\nok", hdrs);
        send_all(fd, resp, (size_t)n);
        free(resp);
    } else if (strcmp(r->path, "/interim") == 0) {
        send_str(fd, "HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n");
        respond(fd, "200 OK", "X-Final: yes\r\n", "done", 4, head);
    } else if (strncmp(r->path, "/data?i=", 8) == 0) {
        char b[4096];
        int len = 0;
        while (len < 4000)
            len += snprintf(b + len, sizeof(b) - (size_t)len, "%s;", r->path + 8);
        usleep(1000); /* overlap the requests of different threads */
        respond(fd, "200 OK", NULL, b, (size_t)len, head);
    } else {
        respond(fd, "400 Bad Request", NULL, "", 0, head);
    }
    return true;
}

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    static const size_t cap = 65536;
    char *buf = malloc(cap);
    size_t have = 0;
    for (;;) {
        struct request *r = calloc(1, sizeof(*r));
        if (!read_request(c, r, buf, &have)) {
            free(r);
            break;
        }
        pthread_mutex_lock(&c->srv->lock);
        if (++c->srv->active > c->srv->max_active)
            c->srv->max_active = c->srv->active;
        pthread_mutex_unlock(&c->srv->lock);
        bool keep = handle(c, r);
        pthread_mutex_lock(&c->srv->lock);
        c->srv->active--;
        pthread_mutex_unlock(&c->srv->lock);
        free(r->body);
        free(r);
        if (!keep)
            break;
    }
    free(buf);
    close(c->fd);
    free(c);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct server *srv = arg;
    while (!atomic_load(&srv->stop)) {
        struct pollfd pfd = {.fd = srv->lfd, .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        int fd = accept(srv->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        struct conn *c = malloc(sizeof(*c));
        c->srv = srv;
        c->fd = fd;
        pthread_mutex_lock(&srv->lock);
        srv->accepts++;
        if (srv->n_conns == MAX_CONNS ||
            pthread_create(&srv->conns[srv->n_conns], NULL, conn_main, c) != 0) {
            close(fd);
            free(c);
        } else {
            srv->n_conns++;
        }
        pthread_mutex_unlock(&srv->lock);
    }
    return NULL;
}

static int server_start(struct server *srv)
{
    memset(srv, 0, sizeof(*srv));
    pthread_mutex_init(&srv->lock, NULL);
    srv->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    if (srv->lfd < 0 || bind(srv->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(srv->lfd, 64) ||
        getsockname(srv->lfd, (struct sockaddr *)&a, &alen))
        return -1;
    srv->port = ntohs(a.sin_port);
    return pthread_create(&srv->accept_thr, NULL, accept_main, srv) ? -1 : 0;
}

static void server_stop(struct server *srv)
{
    atomic_store(&srv->stop, 1);
    pthread_join(srv->accept_thr, NULL);
    for (int i = 0; i < srv->n_conns; i++)
        pthread_join(srv->conns[i], NULL);
    close(srv->lfd);
    pthread_mutex_destroy(&srv->lock);
}

static int accepts(struct server *srv)
{
    pthread_mutex_lock(&srv->lock);
    int n = srv->accepts;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

/* ---- client helpers ---------------------------------------------------- */

static struct server srv;

static int do_req(struct mrap_http_pool *p, const char *method, const char *path,
                  const struct mrap_http_headers *h, const void *body, size_t len,
                  struct mrap_http_response *resp)
{
    char url[1200];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", srv.port, path);
    struct mrap_http_request req = {.method = method,
                                    .url = url,
                                    .headers = h,
                                    .body = body,
                                    .body_len = len,
                                    .head = strcmp(method, "HEAD") == 0};
    struct mrap_http_ops ops = mrap_http_pool_ops(p);
    return ops.perform(ops.impl, &req, resp);
}

static const char *hdr(const struct mrap_http_response *r, const char *name)
{
    const char *v = mrap_http_headers_get(&r->headers, name);
    return v ? v : "(absent)";
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- tests ------------------------------------------------------------- */

static void test_headers_api(void)
{
    struct mrap_http_headers h;
    mrap_http_headers_init(&h);
    CHECK_INT(mrap_http_headers_add(&h, "X-A", "1"), 0);
    CHECK_INT(mrap_http_headers_add(&h, "x-a", "2"), 0);
    CHECK_STR(mrap_http_headers_get(&h, "X-a"), "1");
    CHECK_INT(mrap_http_headers_set(&h, "X-A", "3"), 0);
    CHECK_STR(mrap_http_headers_get(&h, "x-A"), "3");
    CHECK_INT(mrap_http_headers_set(&h, "X-B", ""), 0);
    CHECK_STR(mrap_http_headers_get(&h, "x-b"), "");
    CHECK_INT(h.n, 3);
    CHECK(mrap_http_headers_get(&h, "x-c") == NULL, "absent header");
    for (int i = 0; i < 100; i++)
        mrap_http_headers_add(&h, "X-Many", "v");
    CHECK_INT(h.n, 103);
    mrap_http_headers_cleanup(&h);
    mrap_http_headers_cleanup(&h);
    CHECK_INT(h.n, 0);
}

static void test_basic(struct mrap_http_pool *p)
{
    struct mrap_http_response r;
    mrap_http_response_init(&r, 1 << 20);
    CHECK_INT(do_req(p, "GET", "/hello", NULL, NULL, 0, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(mrap_buf_str(&r.body), "hello world");
    CHECK_STR(hdr(&r, "x-test"), "one");
    CHECK_STR(hdr(&r, "ETAG"), "\"abc\"");
    CHECK_STR(hdr(&r, "content-length"), "11");
    CHECK_INT(r.curl_code, CURLE_OK);

    /* Chunked responses are fine when complete. */
    CHECK_INT(do_req(p, "GET", "/chunked", NULL, NULL, 0, &r), 0);
    CHECK_STR(mrap_buf_str(&r.body), "hello chunked");

    /* An interim 1xx response leaves no headers behind. */
    CHECK_INT(do_req(p, "GET", "/interim", NULL, NULL, 0, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(hdr(&r, "x-final"), "yes");
    CHECK(mrap_http_headers_get(&r.headers, "x-interim") == NULL, "interim headers dropped");
    CHECK_STR(mrap_buf_str(&r.body), "done");

    /* Dot segments and double slashes reach the server as signed. */
    CHECK_INT(do_req(p, "GET", "/echo/a/../b/./c//d%2F%20e", NULL, NULL, 0, &r), 0);
    CHECK_STR(hdr(&r, "x-path"), "/echo/a/../b/./c//d%2F%20e");
    mrap_http_response_cleanup(&r);
}

static void test_keepalive(void)
{
    struct mrap_http_pool_opts o = {.max_connections = 1};
    struct mrap_http_pool *p;
    CHECK_INT(mrap_http_pool_new(&o, &p), 0);
    struct mrap_http_response r;
    mrap_http_response_init(&r, 1 << 20);
    int before = accepts(&srv);
    for (int i = 0; i < 5; i++) {
        CHECK_INT(do_req(p, "GET", "/hello", NULL, NULL, 0, &r), 0);
        CHECK_STR(mrap_buf_str(&r.body), "hello world");
    }
    /* PUTs and HEADs in between do not break the connection either. */
    CHECK_INT(do_req(p, "PUT", "/echo", NULL, "abc", 3, &r), 0);
    CHECK_INT(do_req(p, "HEAD", "/echo", NULL, NULL, 0, &r), 0);
    CHECK_INT(do_req(p, "GET", "/hello", NULL, NULL, 0, &r), 0);
    CHECK_INT(accepts(&srv) - before, 1);
    mrap_http_response_cleanup(&r);
    mrap_http_pool_destroy(p);
}

static void test_truncation_and_bounds(struct mrap_http_pool *p)
{
    struct mrap_http_response r;
    mrap_http_response_init(&r, 1 << 20);

    CHECK_INT(do_req(p, "GET", "/short", NULL, NULL, 0, &r), -ECONNRESET);
    CHECK_INT(r.curl_code, CURLE_PARTIAL_FILE);
    CHECK(r.curl_error[0] != '\0', "curl message kept");
    CHECK_INT(do_req(p, "GET", "/chunkcut", NULL, NULL, 0, &r), -ECONNRESET);

    mrap_http_response_cleanup(&r);
    mrap_http_response_init(&r, 1000);
    CHECK_INT(do_req(p, "GET", "/big", NULL, NULL, 0, &r), -EFBIG);
    mrap_http_response_cleanup(&r);
    mrap_http_response_init(&r, 100000);
    CHECK_INT(do_req(p, "GET", "/big", NULL, NULL, 0, &r), 0);
    CHECK_INT(r.body.len, 100000);

    /* Response headers over 64 KiB. */
    CHECK_INT(do_req(p, "GET", "/bigheaders", NULL, NULL, 0, &r), -EFBIG);

    /* Sink mode. */
    char *sink = malloc(100000);
    r.sink = sink;
    r.sink_cap = 100000;
    CHECK_INT(do_req(p, "GET", "/big", NULL, NULL, 0, &r), 0);
    CHECK_INT(r.sink_len, 100000);
    CHECK_INT(r.body.len, 0);
    CHECK(sink[0] == 'x' && sink[99999] == 'x', "sink filled");
    r.sink_cap = 5000;
    CHECK_INT(do_req(p, "GET", "/big", NULL, NULL, 0, &r), -EFBIG);
    CHECK(r.sink_len <= 5000, "sink never overrun (%zu)", r.sink_len);
    /* Error bodies go to body even in sink mode. */
    CHECK_INT(do_req(p, "GET", "/missing", NULL, NULL, 0, &r), 0);
    CHECK_INT(r.status, 404);
    CHECK_INT(r.sink_len, 0);
    CHECK(strstr(mrap_buf_str(&r.body), "<Code>NoSuchKey</Code>") != NULL, "error body kept");
    /* reset keeps the sink and the bound */
    mrap_http_response_reset(&r);
    CHECK(r.sink == sink && r.sink_cap == 5000 && r.body.max_bytes == 100000, "reset keeps");
    free(sink);
    mrap_http_response_cleanup(&r);

    /* An oversized error body is truncated to the bound, the status survives. */
    mrap_http_response_init(&r, 1024);
    CHECK_INT(do_req(p, "GET", "/errbig", NULL, NULL, 0, &r), 0);
    CHECK_INT(r.status, 503);
    CHECK_INT(r.body.len, 1024);
    mrap_http_response_cleanup(&r);
}

static void test_methods(struct mrap_http_pool *p)
{
    struct mrap_http_response r;
    struct mrap_http_headers h;
    mrap_http_response_init(&r, 4 << 20);
    mrap_http_headers_init(&h);

    /* HEAD: headers, no body. */
    CHECK_INT(do_req(p, "HEAD", "/big", NULL, NULL, 0, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(hdr(&r, "content-length"), "100000");
    CHECK_INT(r.body.len, 0);

    /* PUT arrives byte for byte, with the caller's headers and nothing of curl's. */
    size_t n = 300 * 1024;
    unsigned char *data = malloc(4 << 20);
    for (size_t i = 0; i < (4u << 20); i++)
        data[i] = (unsigned char)(i * 7 + (i >> 9));
    mrap_http_headers_add(&h, "x-amz-meta-custom", "v1");
    mrap_http_headers_add(&h, "x-empty", "");
    CHECK_INT(do_req(p, "PUT", "/echo", &h, data, n, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.body.len, n);
    CHECK(r.body.len == n && memcmp(r.body.data, data, n) == 0, "PUT body byte-exact");
    CHECK_STR(hdr(&r, "x-method"), "PUT");
    CHECK_STR(hdr(&r, "x-saw-cl"), "307200");
    CHECK_STR(hdr(&r, "x-saw-expect"), "-");
    CHECK_STR(hdr(&r, "x-saw-accept"), "-");
    CHECK_STR(hdr(&r, "x-saw-ct"), "-");
    CHECK_STR(hdr(&r, "x-saw-custom"), "v1");
    CHECK_STR(hdr(&r, "x-saw-empty"), "present-empty");

    /* A large PUT may use 100-continue; the bytes are the same. */
    n = 3 << 20;
    CHECK_INT(do_req(p, "PUT", "/echo", NULL, data, n, &r), 0);
    CHECK(r.body.len == n && memcmp(r.body.data, data, n) == 0, "3 MiB PUT byte-exact");
    CHECK_STR(hdr(&r, "x-saw-cl"), "3145728");

    /* Zero-length PUT: Content-Length: 0, not chunked. */
    CHECK_INT(do_req(p, "PUT", "/echo", NULL, NULL, 0, &r), 0);
    CHECK_STR(hdr(&r, "x-saw-cl"), "0");
    CHECK_INT(r.body.len, 0);

    /* POST: no form Content-Type unless the caller sets one. */
    CHECK_INT(do_req(p, "POST", "/echo?uploads", NULL, "<x/>", 4, &r), 0);
    CHECK_STR(hdr(&r, "x-method"), "POST");
    CHECK_STR(mrap_buf_str(&r.body), "<x/>");
    CHECK_STR(hdr(&r, "x-saw-ct"), "-");
    CHECK_STR(hdr(&r, "x-saw-cl"), "4");
    mrap_http_headers_set(&h, "Content-Type", "application/xml");
    mrap_http_headers_set(&h, "Content-Length", "4");
    CHECK_INT(do_req(p, "POST", "/echo", &h, "<x/>", 4, &r), 0);
    CHECK_STR(hdr(&r, "x-saw-ct"), "application/xml");
    CHECK_INT(do_req(p, "POST", "/echo", NULL, NULL, 0, &r), 0);
    CHECK_STR(hdr(&r, "x-saw-cl"), "0");

    CHECK_INT(do_req(p, "PATCH", "/echo", &h, "<x/>", 4, &r), 0); /* S3 Control routes */
    CHECK_STR(hdr(&r, "x-method"), "PATCH");
    CHECK_STR(hdr(&r, "x-saw-cl"), "4");
    CHECK_INT(do_req(p, "DELETE", "/echo", NULL, NULL, 0, &r), 0);
    CHECK_STR(hdr(&r, "x-method"), "DELETE");
    CHECK_INT(do_req(p, "GET", "/echo", NULL, NULL, 0, &r), 0);
    CHECK_STR(hdr(&r, "x-method"), "GET"); /* nothing sticky from earlier requests */
    CHECK_STR(hdr(&r, "x-saw-cl"), "-");

    /* Refused before any I/O. */
    CHECK_INT(do_req(p, "POST", "/echo", &h, "<x/>!", 5, &r), -EINVAL); /* CL mismatch */
    CHECK_INT(do_req(p, "TRACE", "/echo", NULL, NULL, 0, &r), -EINVAL);
    CHECK_INT(do_req(p, "GET", "/echo", NULL, "x", 1, &r), -EINVAL);
    struct mrap_http_headers bad;
    mrap_http_headers_init(&bad);
    mrap_http_headers_add(&bad, "x-evil", "a\r\nInjected: yes");
    CHECK_INT(do_req(p, "GET", "/echo", &bad, NULL, 0, &r), -EINVAL);
    mrap_http_headers_cleanup(&bad);
    mrap_http_headers_init(&bad);
    mrap_http_headers_add(&bad, "bad name", "v");
    CHECK_INT(do_req(p, "GET", "/echo", &bad, NULL, 0, &r), -EINVAL);
    mrap_http_headers_cleanup(&bad);

    free(data);
    mrap_http_headers_cleanup(&h);
    mrap_http_response_cleanup(&r);
}

static void test_errors(struct mrap_http_pool *p)
{
    struct mrap_http_response r;
    mrap_http_response_init(&r, 64 << 10);
    CHECK_INT(do_req(p, "GET", "/missing", NULL, NULL, 0, &r), 0);
    CHECK_INT(r.status, 404);
    struct mrap_s3_error e = {.http_status = r.status};
    CHECK_INT(mrap_s3_error_parse(&e, r.body.data, r.body.len), 0);
    CHECK_STR(e.code, "NoSuchKey");
    CHECK_STR(e.request_id, "RID42");
    CHECK_INT(mrap_s3_error_errno(&e), -ENOENT);
    CHECK_STR(hdr(&r, "x-amz-request-id"), "RID42");

    /* Connection refused: a port nobody listens on. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &alen);
    close(fd);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", ntohs(a.sin_port));
    struct mrap_http_request req = {.method = "GET", .url = url};
    struct mrap_http_ops ops = mrap_http_pool_ops(p);
    CHECK_INT(ops.perform(ops.impl, &req, &r), -ECONNREFUSED);
    CHECK_INT(r.status, 0);
    CHECK_INT(r.curl_code, CURLE_COULDNT_CONNECT);

    /* TLS against a server that does not speak it: a protocol error, not data. */
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/hello", srv.port);
    req.url = url;
    CHECK_INT(ops.perform(ops.impl, &req, &r), -EPROTO);
    CHECK_INT(r.body.len, 0);
    struct mrap_http_pool_opts bad_ca = {.max_connections = 1, .ca_bundle = "/nonexistent/ca.pem"};
    struct mrap_http_pool *p2;
    CHECK_INT(mrap_http_pool_new(&bad_ca, &p2), 0);
    struct mrap_http_ops ops2 = mrap_http_pool_ops(p2);
    CHECK_INT(ops2.perform(ops2.impl, &req, &r), -EPROTO);
    mrap_http_pool_destroy(p2);

    /* file:// is not a protocol we speak. */
    req.url = "file:///etc/passwd";
    CHECK(ops.perform(ops.impl, &req, &r) < 0, "file:// refused");
    CHECK_INT(r.body.len, 0);
    mrap_http_response_cleanup(&r);
}

static void test_stall(void)
{
    /* libcurl averages the speed over a few seconds; a high floor makes the
     * stall obvious after one. */
    struct mrap_http_pool_opts o = {
        .max_connections = 1, .low_speed_time_s = 1, .low_speed_bytes = 1000000};
    struct mrap_http_pool *p;
    CHECK_INT(mrap_http_pool_new(&o, &p), 0);
    struct mrap_http_response r;
    mrap_http_response_init(&r, 1 << 20);
    double t0 = now_s();
    CHECK_INT(do_req(p, "GET", "/stall", NULL, NULL, 0, &r), -ETIMEDOUT);
    double dt = now_s() - t0;
    CHECK(dt < 8.0, "low-speed timeout fired (%.1fs)", dt);
    fprintf(stderr, "# low-speed abort after %.1fs\n", dt);
    CHECK_INT(r.curl_code, CURLE_OPERATION_TIMEDOUT);
    /* The pool is still usable afterwards. */
    CHECK_INT(do_req(p, "GET", "/hello", NULL, NULL, 0, &r), 0);
    mrap_http_response_cleanup(&r);
    mrap_http_pool_destroy(p);
}

static void test_localhost_alias(struct mrap_http_pool *p)
{
    char url[128];
    snprintf(url, sizeof(url), "http://mfzwi23gnjvgw.mrap.localhost:%d/echo", srv.port);
    struct mrap_http_request req = {.method = "GET", .url = url};
    struct mrap_http_response r;
    mrap_http_response_init(&r, 1 << 20);
    struct mrap_http_ops ops = mrap_http_pool_ops(p);
    CHECK_INT(ops.perform(ops.impl, &req, &r), 0);
    CHECK_INT(r.status, 200);
    char want[96];
    snprintf(want, sizeof(want), "mfzwi23gnjvgw.mrap.localhost:%d", srv.port);
    CHECK_STR(hdr(&r, "x-saw-host"), want);
    mrap_http_response_cleanup(&r);
}

/* opts.verbose traces through our log, with signatures and tokens removed. */
static void test_verbose_redacts(void)
{
    char path[] = "/tmp/mrap-http-log-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return;
    close(fd);
    struct mrap_log_opts lo = {.level = MRAP_LOG_INFO, .dest = MRAP_LOG_FILE, .path = path};
    CHECK_INT(mrap_log_init(&lo), 0);
    struct mrap_http_pool_opts o = {.max_connections = 1, .verbose = true};
    struct mrap_http_pool *p;
    CHECK_INT(mrap_http_pool_new(&o, &p), 0);
    struct mrap_http_headers h;
    mrap_http_headers_init(&h);
    mrap_http_headers_add(&h, "Authorization",
                          "AWS4-ECDSA-P256-SHA256 Credential=AKIDLOG/20240101/s3/aws4_request, "
                          "SignedHeaders=host, Signature=3045deadbeef");
    mrap_http_headers_add(&h, "X-Amz-Security-Token", "tokSECRET123");
    struct mrap_http_response r;
    mrap_http_response_init(&r, 1 << 20);
    CHECK_INT(do_req(p, "GET", "/hello", &h, NULL, 0, &r), 0);
    mrap_http_response_cleanup(&r);
    mrap_http_headers_cleanup(&h);
    mrap_http_pool_destroy(p);
    mrap_log_shutdown();
    lo = (struct mrap_log_opts){.level = MRAP_LOG_WARN, .dest = MRAP_LOG_STDERR};
    mrap_log_init(&lo);

    char buf[16384] = "";
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    unlink(path);
    CHECK(strstr(buf, "> GET /hello HTTP/1.1") != NULL, "request traced");
    CHECK(strstr(buf, "Authorization: [redacted]") != NULL, "authorization redacted");
    CHECK(strstr(buf, "X-Amz-Security-Token: [redacted]") != NULL, "token redacted");
    CHECK(strstr(buf, "deadbeef") == NULL && strstr(buf, "tokSECRET123") == NULL &&
              strstr(buf, "AKIDLOG") == NULL,
          "no credential material in the trace");
}

#define N_THREADS 8
#define N_REQS    25

struct worker {
    struct mrap_http_pool *pool;
    int id;
    int ok; /* requests whose status and body were right */
    int first_rc;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct mrap_http_response r;
    mrap_http_response_init(&r, 1 << 16);
    for (int i = 0; i < N_REQS; i++) {
        char path[64], tag[32];
        snprintf(tag, sizeof(tag), "%d-%d", w->id, i);
        snprintf(path, sizeof(path), "/data?i=%s", tag);
        int rc = do_req(w->pool, "GET", path, NULL, NULL, 0, &r);
        if (rc && !w->first_rc)
            w->first_rc = rc;
        char expect[4096];
        int len = 0;
        while (len < 4000)
            len += snprintf(expect + len, sizeof(expect) - (size_t)len, "%s;", tag);
        if (rc == 0 && r.status == 200 && r.body.len == (size_t)len &&
            memcmp(r.body.data, expect, (size_t)len) == 0)
            w->ok++;
    }
    mrap_http_response_cleanup(&r);
    return NULL;
}

static void test_concurrency(void)
{
    struct mrap_http_pool_opts o = {.max_connections = 4};
    struct mrap_http_pool *p;
    CHECK_INT(mrap_http_pool_new(&o, &p), 0);
    pthread_mutex_lock(&srv.lock);
    srv.max_active = 0;
    pthread_mutex_unlock(&srv.lock);
    int before = accepts(&srv);

    pthread_t t[N_THREADS];
    struct worker w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (struct worker){.pool = p, .id = i};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].ok == N_REQS, "thread %d: %d of %d right (first rc %d)", i, w[i].ok, N_REQS,
              w[i].first_rc);
    }
    pthread_mutex_lock(&srv.lock);
    int max_active = srv.max_active;
    pthread_mutex_unlock(&srv.lock);
    CHECK(max_active >= 1 && max_active <= 4, "at most 4 in flight (%d)", max_active);
    int conns = accepts(&srv) - before;
    CHECK(conns >= 1 && conns <= 4, "connections reused: %d for %d requests", conns,
          N_THREADS * N_REQS);
    mrap_http_pool_destroy(p);
}

int main(void)
{
    CHECK_INT(mrap_http_global_init(), 0);
    if (server_start(&srv) != 0) {
        mrap_test_skip("cannot listen on 127.0.0.1");
        return mrap_test_finish();
    }
    struct mrap_http_pool_opts bad = {.max_connections = 1000};
    struct mrap_http_pool *p = NULL;
    CHECK_INT(mrap_http_pool_new(&bad, &p), -EINVAL);
    CHECK_INT(mrap_http_pool_new(NULL, &p), 0); /* all defaults */
    mrap_http_pool_destroy(p);
    mrap_http_pool_destroy(NULL);

    struct mrap_http_pool_opts o = {.max_connections = 4, .connect_timeout_ms = 2000};
    CHECK_INT(mrap_http_pool_new(&o, &p), 0);

    test_headers_api();
    test_basic(p);
    test_keepalive();
    test_truncation_and_bounds(p);
    test_methods(p);
    test_errors(p);
    test_localhost_alias(p);
    test_stall();
    test_concurrency();
    test_verbose_redacts();

    mrap_http_pool_destroy(p);
    server_stop(&srv);
    mrap_http_global_cleanup();
    return mrap_test_finish();
}
