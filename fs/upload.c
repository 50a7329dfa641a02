/*
 * The upload engine (see upload.h): a pool of worker threads shared by every
 * upload of the mount, and the per-upload parts table.
 *
 * Design: a writer thread owns its upload. It creates the multipart upload
 * itself (one request, no lock held), then queues each part as a job. A job
 * takes one of the pool's slots from the moment it is queued until its worker
 * is done, and there are as many workers as slots, so a queued job never
 * waits for a thread and the number of part buffers alive is bounded by the
 * slots (plus one filling buffer per open writer). Workers record each part's
 * result in the upload's table under the upload's lock and wake the owner,
 * which waits for the table to drain before completing or aborting. Workers
 * never wait for writers, so a writer waiting for a slot cannot deadlock.
 *
 * Workers start on first use, not at mount: the daemon forks when it detaches,
 * and threads do not survive a fork.
 */
#include "fs/upload.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fs/staging.h"
#include "util/log.h"

struct job {
    struct job *next;
    struct mrap_upload *u;
    unsigned part_number;
    struct mrap_part_buf buf;
};

struct mrap_upload_pool {
    pthread_mutex_t mu;  /* guards everything below */
    pthread_cond_t work; /* a job was queued, or stopping */
    pthread_cond_t slot; /* a slot became free */
    struct job *head, *tail;
    unsigned used, slots; /* jobs queued or running / their bound */
    pthread_t *threads;
    unsigned n_threads;
    bool stopping;
};

struct mrap_upload {
    struct mrap_upload_pool *pool;
    struct mrap_s3_client *s3;
    char *key;
    char *upload_id;            /* owner only; set before the first job is queued */
    unsigned n_parts;           /* owner only: parts handed over */
    pthread_mutex_t mu;         /* guards the fields below */
    pthread_cond_t drained;     /* inflight reached 0 */
    struct mrap_s3_part *parts; /* [part_number - 1]; grown by the owner under mu */
    size_t cap;
    unsigned inflight;
    int err; /* first failure, 0 when none */
};

int mrap_part_buf_init(struct mrap_part_buf *b, size_t cap)
{
    /* MAP_POPULATE: the buffer is about to be filled whole; one call faults
     * every page in instead of one page fault per 4 KiB of written data. */
    void *p =
        mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED)
        return -ENOMEM;
    b->data = p;
    b->len = 0;
    b->cap = cap;
    return 0;
}

void mrap_part_buf_cleanup(struct mrap_part_buf *b)
{
    if (b->data)
        munmap(b->data, b->cap);
    memset(b, 0, sizeof(*b));
}

int mrap_upload_errno(int rc)
{
    switch (rc) {
    case -ENOSPC:
    case -EDQUOT:
    case -EACCES:
    case -EPERM:
    case -EFBIG:
    case -ENOMEM:
    case -ENAMETOOLONG:
    case -ESTALE:
        return rc;
    default:
        return rc < 0 ? -EIO : rc;
    }
}

static void log_failure(const struct mrap_upload *u, const char *what, int rc,
                        const struct mrap_s3_error *err)
{
    char msg[600] = "";
    if (err && (err->http_status || err->code[0] || err->transport_errno))
        mrap_s3_error_format(err, msg, sizeof(msg));
    mrap_log(MRAP_LOG_ERROR, "write", "%s of %s failed: %s%s%s", what, u->key, strerror(-rc),
             msg[0] ? ": " : "", msg);
}

static void run_job(struct job *j)
{
    struct mrap_upload *u = j->u;
    struct mrap_s3_part part;
    struct mrap_s3_error err;
    memset(&err, 0, sizeof(err));
    /* once a part failed the upload is lost: do not send the rest */
    int rc = mrap_upload_error(u);
    bool skipped = rc != 0;
    if (!skipped)
        rc = mrap_s3_mpu_upload_part(u->s3, u->key, u->upload_id, j->part_number, j->buf.data,
                                     j->buf.len, &part, &err);
    mrap_part_buf_cleanup(&j->buf);
    if (rc && !skipped) {
        char what[48];
        snprintf(what, sizeof(what), "part %u", j->part_number);
        log_failure(u, what, rc, &err);
    }
    pthread_mutex_lock(&u->mu);
    if (rc && !u->err)
        u->err = rc;
    if (!rc)
        u->parts[j->part_number - 1] = part;
    if (--u->inflight == 0)
        pthread_cond_broadcast(&u->drained);
    pthread_mutex_unlock(&u->mu); /* u may be freed by its owner from here on */
}

static void *worker(void *arg)
{
    struct mrap_upload_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->mu);
        struct job *j = p->head;
        if (!j)
            break; /* stopping and drained */
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        run_job(j);
        free(j);
        pthread_mutex_lock(&p->mu);
        p->used--;
        pthread_cond_signal(&p->slot);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int mrap_upload_pool_new(unsigned slots, struct mrap_upload_pool **out)
{
    struct mrap_upload_pool *p = calloc(1, sizeof(*p));
    if (!p || !(p->threads = calloc(slots ? slots : 1, sizeof(*p->threads)))) {
        free(p);
        return -ENOMEM;
    }
    p->slots = slots ? slots : 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->slot, NULL);
    *out = p;
    return 0;
}

void mrap_upload_pool_destroy(struct mrap_upload_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->slot);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

/* Queues a job, waiting for a slot; starts the workers on first use. */
static int pool_submit(struct mrap_upload_pool *p, struct job *j)
{
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    while (p->n_threads < p->slots) {
        if (pthread_create(&p->threads[p->n_threads], NULL, worker, p) != 0)
            break;
        p->n_threads++;
    }
    unsigned limit = p->n_threads < p->slots ? p->n_threads : p->slots;
    if (limit == 0) {
        rc = -EAGAIN;
        goto out;
    }
    while (p->used >= limit)
        pthread_cond_wait(&p->slot, &p->mu);
    p->used++;
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal(&p->work);
out:
    pthread_mutex_unlock(&p->mu);
    return rc;
}

struct mrap_upload *mrap_upload_new(struct mrap_upload_pool *pool, struct mrap_s3_client *s3,
                                    const char *s3_key)
{
    struct mrap_upload *u = calloc(1, sizeof(*u));
    if (!u || !(u->key = strdup(s3_key))) {
        free(u);
        return NULL;
    }
    u->pool = pool;
    u->s3 = s3;
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->drained, NULL);
    return u;
}

int mrap_upload_error(struct mrap_upload *u)
{
    pthread_mutex_lock(&u->mu);
    int rc = u->err;
    pthread_mutex_unlock(&u->mu);
    return rc;
}

unsigned mrap_upload_parts(const struct mrap_upload *u)
{
    return u->n_parts;
}

static void wait_drained(struct mrap_upload *u)
{
    pthread_mutex_lock(&u->mu);
    while (u->inflight)
        pthread_cond_wait(&u->drained, &u->mu);
    pthread_mutex_unlock(&u->mu);
}

int mrap_upload_add_part(struct mrap_upload *u, struct mrap_part_buf *b,
                         const struct mrap_s3_put_opts *opts)
{
    struct mrap_s3_error err;
    struct job *j = NULL;
    int rc = mrap_upload_error(u);
    if (rc)
        goto fail;
    if (u->n_parts >= MRAP_S3_MAX_PARTS) {
        rc = -EFBIG;
        goto fail;
    }
    if (!u->upload_id) {
        memset(&err, 0, sizeof(err));
        rc = mrap_s3_mpu_create(u->s3, u->key, opts, &u->upload_id, &err);
        if (rc) {
            log_failure(u, "CreateMultipartUpload", rc, &err);
            goto fail;
        }
    }
    if (u->n_parts >= u->cap) {
        size_t ncap = u->cap ? u->cap * 2 : 64;
        if (ncap > MRAP_S3_MAX_PARTS)
            ncap = MRAP_S3_MAX_PARTS;
        pthread_mutex_lock(&u->mu); /* workers write into the table */
        struct mrap_s3_part *np = realloc(u->parts, ncap * sizeof(*np));
        if (np) {
            u->parts = np;
            u->cap = ncap;
        }
        pthread_mutex_unlock(&u->mu);
        if (!np) {
            rc = -ENOMEM;
            goto fail;
        }
    }
    if (!(j = calloc(1, sizeof(*j)))) {
        rc = -ENOMEM;
        goto fail;
    }
    j->u = u;
    j->part_number = ++u->n_parts;
    j->buf = *b;
    memset(b, 0, sizeof(*b)); /* the job owns it now */
    pthread_mutex_lock(&u->mu);
    u->inflight++;
    pthread_mutex_unlock(&u->mu);
    rc = pool_submit(u->pool, j);
    if (rc) {
        u->n_parts--;
        pthread_mutex_lock(&u->mu);
        u->inflight--;
        pthread_mutex_unlock(&u->mu);
        *b = j->buf;
        free(j);
        goto fail;
    }
    return 0;
fail:
    mrap_part_buf_cleanup(b);
    return rc;
}

/* ListParts must show exactly our parts before we complete. Some S3-compatible
 * servers do not implement ListParts (s3rver answers 405); there the check is
 * skipped, since each part's ETag and CRC32C were already checked when it was
 * sent and CompleteMultipartUpload checks the list again on the server. */
static int check_listed(struct mrap_upload *u)
{
    struct mrap_s3_part_list listed;
    struct mrap_s3_error err;
    memset(&listed, 0, sizeof(listed));
    memset(&err, 0, sizeof(err));
    int rc = mrap_s3_mpu_list_all_parts(u->s3, u->key, u->upload_id, &listed, &err);
    if (rc == -ENOTSUP) {
        mrap_log(MRAP_LOG_INFO, "write",
                 "%s: the server does not implement ListParts (%s); "
                 "completing on the parts' own checks",
                 u->key, err.code);
        return 0;
    }
    if (rc) {
        log_failure(u, "ListParts", rc, &err);
        return rc;
    }
    rc = mrap_s3_mpu_parts_match(u->parts, u->n_parts, &listed);
    mrap_s3_part_list_cleanup(&listed);
    if (rc)
        mrap_log(MRAP_LOG_ERROR, "write", "%s: the parts S3 lists differ from those sent", u->key);
    return rc;
}

int mrap_upload_finish(struct mrap_upload *u, struct mrap_part_buf *last,
                       const struct mrap_s3_put_opts *opts, char *etag_out)
{
    struct mrap_s3_error err;
    memset(&err, 0, sizeof(err));
    int rc = 0;
    if (!u->upload_id) {
        struct mrap_s3_put_result res;
        rc = mrap_s3_put_object(u->s3, u->key, last->data, last->len, opts, &res, &err);
        mrap_part_buf_cleanup(last);
        if (rc)
            log_failure(u, "PutObject", rc, &err);
        else
            memcpy(etag_out, res.etag, MRAP_S3_ETAG_MAX);
        return rc;
    }
    if (last->len)
        rc = mrap_upload_add_part(u, last, opts);
    else
        mrap_part_buf_cleanup(last);
    wait_drained(u);
    if (!rc)
        rc = mrap_upload_error(u);
    if (!rc)
        rc = check_listed(u);
    if (!rc) {
        rc =
            mrap_s3_mpu_complete(u->s3, u->key, u->upload_id, u->parts, u->n_parts, etag_out, &err);
        if (rc)
            log_failure(u, "CompleteMultipartUpload", rc, &err);
    }
    if (rc) {
        mrap_upload_abort(u);
        return rc;
    }
    free(u->upload_id);
    u->upload_id = NULL; /* completed: nothing left to abort */
    return 0;
}

int mrap_upload_from_fd(struct mrap_upload *u, int fd, uint64_t size,
                        const struct mrap_s3_put_opts *opts, char *etag_out)
{
    /* one size for every part, as S3 suggests for a known size; a file under
     * the first part size is one PutObject */
    uint64_t psize = size <= MRAP_S3_FIRST_PART_SIZE ? size : mrap_s3_mpu_part_size(size, 1);
    if (size > MRAP_S3_MAX_OBJECT_SIZE || (size && !psize))
        return -EFBIG;
    struct mrap_part_buf b = {0};
    int rc = 0;
    for (uint64_t off = 0;; off += psize) {
        size_t n = (size_t)(size - off < psize ? size - off : psize);
        if (n) {
            rc = mrap_part_buf_init(&b, n);
            if (!rc)
                rc = mrap_staging_pread(fd, b.data, n, off);
            b.len = n;
        }
        if (rc || size - off <= psize)
            break;                              /* the last part goes with finish */
        rc = mrap_upload_add_part(u, &b, opts); /* waits for a slot */
        if (rc)
            break;
    }
    if (rc) {
        mrap_part_buf_cleanup(&b);
        mrap_upload_abort(u);
        return rc;
    }
    return mrap_upload_finish(u, &b, opts, etag_out);
}

void mrap_upload_abort(struct mrap_upload *u)
{
    wait_drained(u);
    if (!u->upload_id)
        return;
    struct mrap_s3_error err;
    memset(&err, 0, sizeof(err));
    int rc = mrap_s3_mpu_abort(u->s3, u->key, u->upload_id, &err);
    if (rc && rc != -ENOENT) {
        /* kept: mrap_upload_destroy() tries again */
        log_failure(u,
                    "AbortMultipartUpload (tried again when the file is released; "
                    "--abort-stale-uploads removes what is left behind)",
                    rc, &err);
        return;
    }
    mrap_log(MRAP_LOG_INFO, "write", "aborted the upload of %s", u->key);
    free(u->upload_id);
    u->upload_id = NULL;
}

void mrap_upload_destroy(struct mrap_upload *u)
{
    if (!u)
        return;
    mrap_upload_abort(u);
    free(u->upload_id); /* still set when the abort failed again: logged, left behind */
    pthread_cond_destroy(&u->drained);
    pthread_mutex_destroy(&u->mu);
    free(u->parts);
    free(u->key);
    free(u);
}
