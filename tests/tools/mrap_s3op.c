/*
 * mrap_s3op: the S3 write operations of s3/write.h as a command, so that
 * integration tests (tests/integration/test_s3_write_c.py) can drive them
 * against a real endpoint.
 *
 *   mrap_s3op [OPTIONS] <ALIAS | s3://BUCKET> <OP> [ARGS...]
 *
 * Operations (one JSON object on stdout each):
 *   put KEY FILE                   PutObject          {"etag", "crc32c"}
 *   delete KEY                     DeleteObject       {}
 *   upload KEY FILE                a whole multipart upload: create, parts (in
 *                                  --jobs threads), ListParts checked against
 *                                  what was uploaded, complete; aborted on
 *                                  failure             {"etag", "parts", "upload_id"}
 *   mpu-create KEY                                    {"upload_id"}
 *   mpu-part KEY UPLOAD_ID N FILE                     {"part_number", "size", "etag", "crc32c"}
 *   mpu-complete KEY UPLOAD_ID     completes with the parts ListParts reports
 *                                                     {"etag", "parts"}
 *   mpu-abort KEY UPLOAD_ID                           {}
 *   list-parts KEY UPLOAD_ID       every part          {"parts": [...]}
 *   list-uploads [PREFIX]          one page            {"uploads": [...], "truncated"}
 *
 * Options: --endpoint-url URL, --region R (with s3://BUCKET), --profile P,
 * --content-type T, --meta NAME=VALUE (repeatable), --storage-class SC,
 * --if-none-match, --content-md5, --part-size BYTES (default: the library's
 * schedule for the file's size), --jobs N (upload threads, default 2),
 * --damage-body OFFSET (flip one bit of every PUT body at OFFSET in transit,
 * after signing: what a damaged network would do), --max-attempts N (the
 * client's retries; default 6), --lose-complete-answer (drop the answer to the
 * first CompleteMultipartUpload after S3 acted on it, as a lost connection
 * would: the retry then finds the upload gone), --debug.
 *
 * Credentials come from the default chain (environment, shared files).
 * Failure: exit status 1 and {"error": "EPERM", "errno": 1, "code", "message",
 * "request_id"} on stdout; logs go to stderr. Bad usage: exit status 2.
 */
#include "s3/write.h"
#include "util/crc32c.h"
#include "util/log.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOOL_MAX_META       32
#define TOOL_MAX_FILE_BYTES (1ull << 32)

/* The network faults the tool can add; only main's thread completes uploads,
 * so lose_complete needs no lock. */
struct damage {
    struct mrap_http_ops inner;
    long long offset; /* < 0: off */
    bool lose_complete;
};

struct tool {
    const char *endpoint, *region, *profile;
    struct mrap_s3_put_opts put;
    struct mrap_s3_meta meta[TOOL_MAX_META];
    unsigned long long part_size;
    unsigned jobs;
    unsigned max_attempts;
    struct damage damage;
    struct mrap_creds_provider *creds;
    struct mrap_signer *signer;
    struct mrap_http_pool *pool;
    struct mrap_s3_client *c;
    struct mrap_s3_error err;
};

/* Flips one bit of a PUT body after signing (S3 must refuse it), or drops
 * the answer to a Complete that succeeded. */
static int damaging_perform(void *impl, const struct mrap_http_request *req,
                            struct mrap_http_response *resp)
{
    struct damage *d = impl;
    if (d->lose_complete && strcmp(req->method, "POST") == 0 && strstr(req->url, "uploadId=")) {
        int rc = d->inner.perform(d->inner.impl, req, resp);
        if (rc || resp->status != 200)
            return rc;
        d->lose_complete = false;
        mrap_http_response_reset(resp);
        snprintf(resp->curl_error, sizeof(resp->curl_error), "answer dropped on purpose");
        return -ECONNRESET;
    }
    if (d->offset < 0 || strcmp(req->method, "PUT") != 0 || !req->body ||
        (unsigned long long)d->offset >= req->body_len)
        return d->inner.perform(d->inner.impl, req, resp);
    char *copy = malloc(req->body_len);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, req->body, req->body_len);
    copy[d->offset] ^= 0x01;
    struct mrap_http_request r = *req;
    r.body = copy;
    int rc = d->inner.perform(d->inner.impl, &r, resp);
    free(copy);
    return rc;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void json_kv(const char *k, const char *v, bool last)
{
    json_str(k);
    putchar(':');
    json_str(v);
    fputs(last ? "" : ",", stdout);
}

static void print_part(const struct mrap_s3_part *p)
{
    char crc[9] = "";
    if (p->has_crc32c)
        mrap_crc32c_base64(p->crc32c, crc);
    printf("{\"part_number\":%u,\"size\":%llu,", p->part_number, (unsigned long long)p->size);
    json_kv("etag", p->etag, false);
    json_kv("crc32c", crc, true);
    putchar('}');
}

static int read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    int rc = 0;
    *data = NULL;
    *len = 0;
    if (!f)
        return -errno;
    if (fseeko(f, 0, SEEK_END) || ftello(f) < 0 ||
        (unsigned long long)ftello(f) > TOOL_MAX_FILE_BYTES) {
        rc = -EFBIG;
        goto out;
    }
    *len = (size_t)ftello(f);
    rewind(f);
    *data = malloc(*len ? *len : 1);
    if (!*data)
        rc = -ENOMEM;
    else if (fread(*data, 1, *len, f) != *len)
        rc = -EIO;
out:
    fclose(f);
    return rc;
}

/* ---- multipart upload of a whole file, parts in parallel ---- */

struct upload_job {
    struct tool *t;
    const char *key, *upload_id, *data;
    struct mrap_s3_part *parts;
    uint64_t *offsets;
    size_t n_parts;
    pthread_mutex_t lock; /* guards next and rc; never held across a request */
    size_t next;
    int rc;
    struct mrap_s3_error err;
};

static void *upload_worker(void *arg)
{
    struct upload_job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        size_t i = j->rc ? j->n_parts : j->next++;
        pthread_mutex_unlock(&j->lock);
        if (i >= j->n_parts)
            return NULL;
        struct mrap_s3_error err;
        size_t len = (size_t)(j->offsets[i + 1] - j->offsets[i]);
        int rc = mrap_s3_mpu_upload_part(j->t->c, j->key, j->upload_id, (unsigned)i + 1,
                                         j->data + j->offsets[i], len, &j->parts[i], &err);
        if (rc) {
            pthread_mutex_lock(&j->lock);
            if (!j->rc) {
                j->rc = rc;
                j->err = err;
            }
            pthread_mutex_unlock(&j->lock);
        }
    }
}

/* Splits size into parts: --part-size, else the library's schedule. */
static int plan_parts(const struct tool *t, uint64_t size, uint64_t **offsets, size_t *n)
{
    *offsets = calloc(MRAP_S3_MAX_PARTS + 1, sizeof(**offsets));
    if (!*offsets)
        return -ENOMEM;
    size_t k = 0;
    uint64_t at = 0;
    do {
        uint64_t ps = t->part_size ? t->part_size : mrap_s3_mpu_part_size(size, (unsigned)k + 1);
        if (k >= MRAP_S3_MAX_PARTS || ps == 0)
            return -EFBIG;
        at = size - at < ps ? size : at + ps;
        (*offsets)[++k] = at;
    } while (at < size);
    *n = k;
    return 0;
}

static int upload_parts(struct tool *t, struct upload_job *j)
{
    pthread_t th[16];
    unsigned n_threads = t->jobs < 1 ? 1 : t->jobs > 16 ? 16 : t->jobs, started = 0;
    pthread_mutex_init(&j->lock, NULL);
    for (; started < n_threads; started++)
        if (pthread_create(&th[started], NULL, upload_worker, j))
            break;
    if (started == 0)
        upload_worker(j);
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&j->lock);
    if (j->rc)
        t->err = j->err;
    return j->rc;
}

static int op_upload(struct tool *t, const char *key, const char *path)
{
    struct upload_job j = {.t = t, .key = key};
    struct mrap_s3_part_list listed = {0};
    char *upload_id = NULL, *data = NULL, etag[MRAP_S3_ETAG_MAX];
    size_t len;
    int rc = read_file(path, &data, &len);
    if (!rc)
        rc = plan_parts(t, len, &j.offsets, &j.n_parts);
    if (!rc)
        rc = (j.parts = calloc(j.n_parts, sizeof(*j.parts))) ? 0 : -ENOMEM;
    if (!rc)
        rc = mrap_s3_mpu_create(t->c, key, &t->put, &upload_id, &t->err);
    if (rc)
        goto out;
    j.upload_id = upload_id;
    j.data = data;
    rc = upload_parts(t, &j);
    if (!rc)
        rc = mrap_s3_mpu_list_all_parts(t->c, key, upload_id, &listed, &t->err);
    if (!rc)
        rc = mrap_s3_mpu_parts_match(j.parts, j.n_parts, &listed);
    if (!rc)
        rc = mrap_s3_mpu_complete(t->c, key, upload_id, j.parts, j.n_parts, etag, &t->err);
    if (rc) {
        struct mrap_s3_error abort_err;
        if (mrap_s3_mpu_abort(t->c, key, upload_id, &abort_err) == 0)
            mrap_log(MRAP_LOG_WARN, "tool", "aborted upload %s of %s", upload_id, key);
        goto out;
    }
    putchar('{');
    json_kv("etag", etag, false);
    printf("\"parts\":%zu,", j.n_parts);
    json_kv("upload_id", upload_id, true);
    puts("}");
out:
    mrap_s3_part_list_cleanup(&listed);
    free(j.parts);
    free(j.offsets);
    free(upload_id);
    free(data);
    return rc;
}

/* ---- the single operations ---- */

static int op_put(struct tool *t, const char *key, const char *path)
{
    char *data = NULL, crc[9];
    size_t len;
    struct mrap_s3_put_result res;
    int rc = read_file(path, &data, &len);
    if (!rc)
        rc = mrap_s3_put_object(t->c, key, data, len, &t->put, &res, &t->err);
    if (!rc) {
        mrap_crc32c_base64(res.crc32c, crc);
        putchar('{');
        json_kv("etag", res.etag, false);
        json_kv("crc32c", crc, true);
        puts("}");
    }
    free(data);
    return rc;
}

static int op_part(struct tool *t, const char *key, const char *id, const char *num,
                   const char *path)
{
    char *data = NULL, *end;
    size_t len;
    struct mrap_s3_part part;
    unsigned long n = strtoul(num, &end, 10);
    int rc = *end || n > MRAP_S3_MAX_PARTS ? -EINVAL : read_file(path, &data, &len);
    if (!rc)
        rc = mrap_s3_mpu_upload_part(t->c, key, id, (unsigned)n, data, len, &part, &t->err);
    if (!rc) {
        print_part(&part);
        putchar('\n');
    }
    free(data);
    return rc;
}

static int op_list_parts(struct tool *t, const char *key, const char *id, bool complete)
{
    struct mrap_s3_part_list l;
    char etag[MRAP_S3_ETAG_MAX];
    int rc = mrap_s3_mpu_list_all_parts(t->c, key, id, &l, &t->err);
    if (!rc && complete)
        rc = mrap_s3_mpu_complete(t->c, key, id, l.parts, l.n, etag, &t->err);
    if (!rc && complete) {
        putchar('{');
        json_kv("etag", etag, false);
        printf("\"parts\":%zu}\n", l.n);
    } else if (!rc) {
        fputs("{\"parts\":[", stdout);
        for (size_t i = 0; i < l.n; i++) {
            fputs(i ? "," : "", stdout);
            print_part(&l.parts[i]);
        }
        puts("]}");
    }
    mrap_s3_part_list_cleanup(&l);
    return rc;
}

static int op_list_uploads(struct tool *t, const char *prefix)
{
    struct mrap_s3_upload_page p;
    int rc = mrap_s3_list_uploads(t->c, prefix, NULL, NULL, &p, &t->err);
    if (rc)
        return rc;
    fputs("{\"uploads\":[", stdout);
    for (size_t i = 0; i < p.n; i++) {
        printf("%s{", i ? "," : "");
        json_kv("key", p.uploads[i].key, false);
        json_kv("upload_id", p.uploads[i].upload_id, false);
        json_kv("storage_class", p.uploads[i].storage_class, false);
        printf("\"initiated\":%lld}", (long long)p.uploads[i].initiated.tv_sec);
    }
    printf("],\"truncated\":%s}\n", p.truncated ? "true" : "false");
    mrap_s3_upload_page_cleanup(&p);
    return 0;
}

static int run_op(struct tool *t, int argc, char **argv)
{
    const char *op = argv[0];
    int rc = -EINVAL;
    if (strcmp(op, "put") == 0 && argc == 3)
        rc = op_put(t, argv[1], argv[2]);
    else if (strcmp(op, "delete") == 0 && argc == 2)
        rc = mrap_s3_delete_object(t->c, argv[1], &t->err);
    else if (strcmp(op, "upload") == 0 && argc == 3)
        rc = op_upload(t, argv[1], argv[2]);
    else if (strcmp(op, "mpu-create") == 0 && argc == 2) {
        char *id = NULL;
        rc = mrap_s3_mpu_create(t->c, argv[1], &t->put, &id, &t->err);
        if (!rc) {
            putchar('{');
            json_kv("upload_id", id, true);
            puts("}");
        }
        free(id);
        return rc;
    } else if (strcmp(op, "mpu-part") == 0 && argc == 5)
        return op_part(t, argv[1], argv[2], argv[3], argv[4]);
    else if (strcmp(op, "mpu-complete") == 0 && argc == 3)
        return op_list_parts(t, argv[1], argv[2], true);
    else if (strcmp(op, "mpu-abort") == 0 && argc == 3)
        rc = mrap_s3_mpu_abort(t->c, argv[1], argv[2], &t->err);
    else if (strcmp(op, "list-parts") == 0 && argc == 3)
        return op_list_parts(t, argv[1], argv[2], false);
    else if (strcmp(op, "list-uploads") == 0 && argc <= 2)
        return op_list_uploads(t, argc == 2 ? argv[1] : NULL);
    else {
        fprintf(stderr, "mrap_s3op: unknown operation or wrong arguments: %s\n", op);
        return 1; /* usage: not an errno */
    }
    if (!rc && (strcmp(op, "delete") == 0 || strcmp(op, "mpu-abort") == 0))
        puts("{}");
    return rc;
}

static int setup(struct tool *t, const char *target)
{
    char errbuf[512] = "";
    struct mrap_creds_opts co = {.profile = t->profile};
    int rc = mrap_creds_provider_new(&co, &t->creds, errbuf, sizeof(errbuf));
    if (rc) {
        fprintf(stderr, "mrap_s3op: credentials: %s\n", errbuf);
        return rc;
    }
    struct mrap_http_pool_opts po = {.max_connections = 16};
    t->signer = mrap_signer_new();
    if (!t->signer || (rc = mrap_http_pool_new(&po, &t->pool)))
        return rc ? rc : -ENOMEM;
    t->damage.inner = mrap_http_pool_ops(t->pool);
    bool bucket = strncmp(target, "s3://", 5) == 0;
    struct mrap_s3_client_opts o = {
        .target = bucket ? MRAP_S3_TARGET_BUCKET : MRAP_S3_TARGET_MRAP,
        .name = bucket ? target + 5 : target,
        .region = t->region,
        .endpoint_url = t->endpoint,
        .max_attempts = t->max_attempts,
        .http = {damaging_perform, &t->damage},
        .creds = t->creds,
        .signer = t->signer,
    };
    return mrap_s3_client_new(&o, &t->c);
}

static int parse_args(struct tool *t, int argc, char **argv, bool *debug)
{
    /* One line per option reads better here than the formatter's layout. */
    /* clang-format off */
    static const struct option longopts[] = {
        {"endpoint-url", 1, NULL, 'e'}, {"region", 1, NULL, 'r'}, {"profile", 1, NULL, 'p'},
        {"content-type", 1, NULL, 't'}, {"meta", 1, NULL, 'm'}, {"storage-class", 1, NULL, 's'},
        {"if-none-match", 0, NULL, 'i'}, {"content-md5", 0, NULL, '5'},
        {"part-size", 1, NULL, 'z'}, {"jobs", 1, NULL, 'j'}, {"damage-body", 1, NULL, 'd'},
        {"lose-complete-answer", 0, NULL, 'l'}, {"max-attempts", 1, NULL, 'a'},
        {"debug", 0, NULL, 'v'}, {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        char *eq;
        switch (ch) {
        case 'e': t->endpoint = optarg; break;
        case 'r': t->region = optarg; break;
        case 'p': t->profile = optarg; break;
        case 't': t->put.content_type = optarg; break;
        case 's': t->put.storage_class = optarg; break;
        case 'i': t->put.if_none_match_star = true; break;
        case '5': t->put.content_md5 = true; break;
        case 'z': t->part_size = strtoull(optarg, NULL, 10); break;
        case 'j': t->jobs = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'd': t->damage.offset = strtoll(optarg, NULL, 10); break;
        case 'l': t->damage.lose_complete = true; break;
        case 'a': t->max_attempts = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'v': *debug = true; break;
        case 'm':
            if (t->put.n_meta >= TOOL_MAX_META || !(eq = strchr(optarg, '=')))
                return -1;
            *eq = '\0';
            t->meta[t->put.n_meta++] = (struct mrap_s3_meta){optarg, eq + 1};
            break;
        default: return -1;
        }
    }
    /* clang-format on */
    t->put.meta = t->meta;
    return argc - optind >= 2 ? optind : -1;
}

int main(int argc, char **argv)
{
    struct tool t = {.jobs = 2, .damage = {.offset = -1}};
    bool debug = false;
    int first = parse_args(&t, argc, argv, &debug);
    if (first < 0) {
        fprintf(stderr, "usage: mrap_s3op [OPTIONS] <ALIAS|s3://BUCKET> <OP> [ARGS...] "
                        "(see the comment at the top of tests/tools/mrap_s3op.c)\n");
        return 2;
    }
    struct mrap_log_opts lo = {.level = debug ? MRAP_LOG_DEBUG : MRAP_LOG_WARN};
    mrap_log_init(&lo);
    mrap_http_global_init();
    int rc = setup(&t, argv[first]);
    if (rc == 0)
        rc = run_op(&t, argc - first - 1, argv + first + 1);
    if (rc < 0) {
        printf("{\"error\":\"%s\",\"errno\":%d,", strerrorname_np(-rc) ? strerrorname_np(-rc) : "?",
               -rc);
        json_kv("code", t.err.code, false);
        json_kv("message", t.err.message, false);
        json_kv("request_id", t.err.request_id, true);
        puts("}");
    }
    mrap_s3_client_destroy(t.c);
    mrap_http_pool_destroy(t.pool);
    mrap_signer_destroy(t.signer);
    mrap_creds_provider_destroy(t.creds);
    mrap_http_global_cleanup();
    mrap_log_shutdown();
    return rc == 0 ? 0 : rc > 0 ? 2 : 1;
}
