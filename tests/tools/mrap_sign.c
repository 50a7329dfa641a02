/*
 * mrap_sign: the mrapfs signer as a command, for tests that compare it with
 * other signers (tests/integration/test_signer_crt.py drives it).
 *
 *   mrap_sign [sign|verify|pubkey] < description
 *
 * The description is read from stdin — never from the command line, where
 * secrets would show in ps(1) — one "key value" per line (the first space
 * separates them). Values may use the escapes \\ \n \r \t and \xHH, so any
 * byte can be given. Keys:
 *   alg v4|v4a           service NAME          region REGION-OR-SET
 *   time EPOCH-SECONDS | YYYYMMDDTHHMMSSZ
 *   access_key ID        secret_key SECRET     session_token TOKEN
 *   method M             path /wire/path       query wire-query
 *   header Name:value    (repeatable, in order; the value is taken as is)
 *   payload_hash HEX|UNSIGNED-PAYLOAD          content_sha256 0|1
 *   double_encode 0|1    normalize 0|1         presign 0|1    expires SECONDS
 *   string_to_sign TEXT  signature HEX         (verify)
 *
 * Output is one JSON object on stdout:
 *   sign:   {"canonical_request", "string_to_sign", "signature",
 *            "headers": [[name, value], ...], "query": string|null}
 *   verify: {"valid": true|false}  (V4A: the signature over string_to_sign,
 *            with the key derived from the credentials)
 *   pubkey: {"public_key": "04<X><Y>"}  (the derived SigV4A public point)
 * Exit status: 0 done (verify: valid), 1 verify: invalid, 2 bad input or a
 * signer error (the errno name on stderr). No secret is ever printed.
 */
#include "s3/sigv4.h"
#include "s3/sigv4_internal.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#define MAX_LINE_BYTES   (64 * 1024)
#define MAX_TOOL_HEADERS 200 /* above the signer's limit, so that its check can be tested */

struct input {
    char *alg, *service, *region, *time, *access_key, *secret_key, *session_token;
    char *method, *path, *query, *payload_hash, *string_to_sign, *signature;
    bool content_sha256, double_encode, normalize, presign;
    unsigned long expires;
    char *header_lines[MAX_TOOL_HEADERS];
    struct mrap_sig_header headers[MAX_TOOL_HEADERS];
    size_t n_headers;
};

static void input_cleanup(struct input *in)
{
    char **strs[] = {&in->alg,        &in->service,    &in->region,        &in->time,
                     &in->access_key, &in->secret_key, &in->session_token, &in->method,
                     &in->path,       &in->query,      &in->payload_hash,  &in->string_to_sign,
                     &in->signature};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (*strs[i])
            OPENSSL_cleanse(*strs[i], strlen(*strs[i]));
        free(*strs[i]);
    }
    for (size_t i = 0; i < in->n_headers; i++)
        free(in->header_lines[i]);
}

static int hexdig(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Undoes the escapes in place. -EINVAL on a bad escape or an escaped NUL. */
static int unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p != '\\') {
            *o++ = *p;
            continue;
        }
        p++;
        switch (*p) {
        case '\\':
            *o++ = '\\';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'x': {
            int hi = p[1] ? hexdig(p[1]) : -1, lo = hi >= 0 && p[2] ? hexdig(p[2]) : -1;
            if (hi < 0 || lo < 0 || (hi | lo) == 0)
                return -EINVAL;
            *o++ = (char)(hi << 4 | lo);
            p += 2;
            break;
        }
        default:
            return -EINVAL;
        }
    }
    *o = '\0';
    return 0;
}

static int set_str(char **field, const char *v)
{
    free(*field);
    *field = strdup(v);
    return *field ? 0 : -ENOMEM;
}

static int parse_line(struct input *in, char *line)
{
    char *sp = strchr(line, ' ');
    const char *v = sp ? sp + 1 : "";
    if (sp)
        *sp = '\0';
    if (sp && unescape(sp + 1))
        return -EINVAL;
    struct {
        const char *key;
        char **field;
    } strs[] = {{"alg", &in->alg},
                {"service", &in->service},
                {"region", &in->region},
                {"time", &in->time},
                {"access_key", &in->access_key},
                {"secret_key", &in->secret_key},
                {"session_token", &in->session_token},
                {"method", &in->method},
                {"path", &in->path},
                {"query", &in->query},
                {"payload_hash", &in->payload_hash},
                {"string_to_sign", &in->string_to_sign},
                {"signature", &in->signature}};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (strcmp(line, strs[i].key) == 0)
            return set_str(strs[i].field, v);
    struct {
        const char *key;
        bool *field;
    } flags[] = {{"content_sha256", &in->content_sha256},
                 {"double_encode", &in->double_encode},
                 {"normalize", &in->normalize},
                 {"presign", &in->presign}};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (strcmp(line, flags[i].key) == 0) {
            *flags[i].field = strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
            return 0;
        }
    if (strcmp(line, "expires") == 0) {
        char *end;
        errno = 0;
        in->expires = strtoul(v, &end, 10);
        return errno || *end || in->expires > 0xffffffffUL ? -EINVAL : 0;
    }
    if (strcmp(line, "header") == 0) {
        if (in->n_headers == MAX_TOOL_HEADERS)
            return -EINVAL;
        char *h = strdup(v);
        if (!h)
            return -ENOMEM;
        char *colon = strchr(h, ':');
        if (!colon) {
            free(h);
            return -EINVAL;
        }
        *colon = '\0';
        in->header_lines[in->n_headers] = h;
        in->headers[in->n_headers] = (struct mrap_sig_header){h, colon + 1};
        in->n_headers++;
        return 0;
    }
    return -EINVAL;
}

static int read_input(struct input *in)
{
    char *line = malloc(MAX_LINE_BYTES + 2);
    int rc = 0;
    if (!line)
        return -ENOMEM;
    while (!rc && fgets(line, MAX_LINE_BYTES + 2, stdin)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        else if (!feof(stdin))
            rc = -E2BIG;
        if (!rc && len)
            rc = parse_line(in, line);
    }
    OPENSSL_cleanse(line, MAX_LINE_BYTES + 2);
    free(line);
    return rc;
}

static int parse_time(const char *s, time_t *out)
{
    struct tm tm = {0};
    char *end;
    if (!s)
        return -EINVAL;
    if (strlen(s) == 16 && s[8] == 'T') {
        end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
        if (!end || *end)
            return -EINVAL;
        *out = timegm(&tm);
        return 0;
    }
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return -EINVAL;
    *out = (time_t)v;
    return 0;
}

static void json_str(const char *s)
{
    if (!s) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", stdout);
        else if (*p < 0x20 || *p == 0x7f)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static int do_sign(struct mrap_signer *s, const struct input *in,
                   const struct mrap_credentials *creds)
{
    struct mrap_sig_opts o = {
        .alg = in->alg && strcmp(in->alg, "v4") == 0 ? MRAP_SIG_V4 : MRAP_SIG_V4A,
        .service = in->service,
        .region = in->region,
        .payload_hash = in->payload_hash,
        .add_content_sha256_header = in->content_sha256,
        .double_uri_encode = in->double_encode,
        .normalize_path = in->normalize,
        .presign = in->presign,
        .expires_s = (unsigned)in->expires,
    };
    struct mrap_sig_request req = {in->method, in->path, in->query, in->headers, in->n_headers};
    struct mrap_sig_result r;
    if (in->alg && strcmp(in->alg, "v4") && strcmp(in->alg, "v4a"))
        return -EINVAL;
    int rc = parse_time(in->time, &o.now);
    if (!rc)
        rc = mrap_signer_sign(s, creds, &req, &o, &r);
    if (rc)
        return rc;
    fputs("{\"canonical_request\": ", stdout);
    json_str(r.canonical_request);
    fputs(", \"string_to_sign\": ", stdout);
    json_str(r.string_to_sign);
    fputs(", \"signature\": ", stdout);
    json_str(r.signature_hex);
    fputs(", \"headers\": [", stdout);
    for (size_t i = 0; i < r.n_headers; i++) {
        fputs(i ? ", [" : "[", stdout);
        json_str(r.headers[i].name);
        fputs(", ", stdout);
        json_str(r.headers[i].value);
        putchar(']');
    }
    fputs("], \"query\": ", stdout);
    json_str(r.query);
    fputs("}\n", stdout);
    mrap_sig_result_cleanup(&r);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "sign";
    struct input in = {0};
    struct mrap_signer *s = NULL;
    int rc, status = 2;

    if (argc > 2 || (strcmp(mode, "sign") && strcmp(mode, "verify") && strcmp(mode, "pubkey"))) {
        fprintf(stderr, "usage: %s [sign|verify|pubkey] < description\n", argv[0]);
        return 2;
    }
    rc = read_input(&in);
    if (rc) {
        fprintf(stderr, "mrap_sign: bad input: %s\n", strerror(-rc));
        goto out;
    }
    s = mrap_signer_new();
    if (!s) {
        rc = -ENOMEM;
        goto out;
    }
    struct mrap_credentials creds = {in.access_key, in.secret_key, in.session_token, 0};
    if (strcmp(mode, "sign") == 0) {
        rc = do_sign(s, &in, &creds);
        status = rc ? 2 : 0;
    } else if (strcmp(mode, "verify") == 0) {
        rc = mrap_signer_verify_v4a(s, &creds, in.string_to_sign, in.signature);
        if (rc >= 0) {
            printf("{\"valid\": %s}\n", rc == 1 ? "true" : "false");
            status = rc == 1 ? 0 : 1;
            rc = 0;
        }
    } else {
        unsigned char pub[MRAP_P256_PUB_BYTES];
        char hex[2 * MRAP_P256_PUB_BYTES + 1];
        rc = mrap_signer_v4a_public_key(s, &creds, pub);
        if (!rc) {
            mrap_hex_encode(pub, sizeof(pub), hex);
            printf("{\"public_key\": \"%s\"}\n", hex);
            status = 0;
        }
    }
    if (rc)
        fprintf(stderr, "mrap_sign: %s failed: %s\n", mode, strerror(-rc));
out:
    mrap_signer_destroy(s);
    input_cleanup(&in);
    return status;
}
