/*
 * Write handles (see wfile.h): the state machine base -> stream | stage ->
 * committed (base again, of the new object) or failed.
 *
 * A stream fills one part buffer (mapped memory, so a small file only ever
 * makes the pages it writes resident: see upload.h) and hands it to the upload
 * when the next byte arrives, never before: a file that ends exactly on a part
 * boundary still has its last part in hand at commit, and a file that never
 * fills the first part goes up as one PutObject.
 *
 * The attributes getattr shows while writing live in `shown` (writers.h);
 * they are what goes into x-amz-meta-mode/-uid/-gid/-mtime when the upload is
 * created. chmod/chown/utimens after that can no longer reach the object
 * (no CopyObject), so they stay local to this mount and are logged.
 */
#include "fs/wfile.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/staging.h"
#include "fs/upload.h"
#include "fs/writers.h"
#include "util/log.h"

enum wmode { W_BASE, W_STREAM, W_STAGE, W_FAILED };

struct mrap_wfile {
    struct mrap_fs *fs;
    uint64_t ino;
    char *s3_key;
    bool rdwr;
    pthread_mutex_t mu; /* guards busy */
    pthread_cond_t idle;
    bool busy;    /* an operation owns every field below */
    bool claimed; /* we hold the writers-registry entry and the inode */
    enum wmode mode;
    bool dirty; /* differs from the stored object: commit uploads */
    bool wrote; /* a write or truncate came through this handle since open */
    int fail_rc;
    uint64_t base_size; /* the stored object this handle builds on */
    char base_etag[MRAP_S3_ETAG_MAX];
    uint64_t size; /* logical size (mirrored in shown.size) */
    /* stream */
    struct mrap_upload *up;
    struct mrap_part_buf buf;
    uint64_t buf_start; /* file offset of buf.data[0]: bytes before it went up */
    /* stage */
    int fd;
    uint64_t reserved;
    struct mrap_wattr shown;
};

static void enter(struct mrap_wfile *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->busy)
        pthread_cond_wait(&w->idle, &w->mu);
    w->busy = true;
    pthread_mutex_unlock(&w->mu);
}

static int leave(struct mrap_wfile *w, int rc)
{
    pthread_mutex_lock(&w->mu);
    w->busy = false;
    pthread_cond_signal(&w->idle);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

static void set_size(struct mrap_wfile *w, uint64_t size)
{
    w->size = size;
    pthread_mutex_lock(&w->shown.mu);
    w->shown.size = size;
    if (!w->shown.mtime_set)
        clock_gettime(CLOCK_REALTIME, &w->shown.mtime);
    pthread_mutex_unlock(&w->shown.mu);
}

/* Takes the inode for this writer (again, after a commit let it go). */
static int claim(struct mrap_wfile *w)
{
    if (w->claimed)
        return 0;
    int rc = mrap_writers_claim(w->fs->writers, w->ino, &w->shown);
    if (rc)
        return rc;
    mrap_inode_hold(w->fs->inodes, w->ino, true);
    w->claimed = true;
    return 0;
}

static void unclaim(struct mrap_wfile *w)
{
    if (!w->claimed)
        return;
    mrap_writers_drop(w->fs->writers, w->ino, &w->shown);
    mrap_inode_hold(w->fs->inodes, w->ino, false);
    w->claimed = false;
}

static bool is_unlinked(struct mrap_wfile *w)
{
    pthread_mutex_lock(&w->shown.mu);
    bool u = w->shown.unlinked;
    pthread_mutex_unlock(&w->shown.mu);
    return u;
}

/* Drops whatever upload or buffer is in hand (aborting a multipart upload). */
static void drop_stream(struct mrap_wfile *w)
{
    mrap_upload_destroy(w->up);
    w->up = NULL;
    mrap_part_buf_cleanup(&w->buf);
    w->buf_start = 0;
}

static int fail(struct mrap_wfile *w, int rc)
{
    /* Abort now; the upload object stays so that release tries the abort
     * again if S3 refused it this time. */
    if (w->up)
        mrap_upload_abort(w->up);
    mrap_part_buf_cleanup(&w->buf);
    w->mode = W_FAILED;
    w->fail_rc = mrap_upload_errno(rc);
    return w->fail_rc;
}

/* ---- stream ---- */

static uint64_t part_size(const struct mrap_wfile *w)
{
    unsigned next = (w->up ? mrap_upload_parts(w->up) : 0) + 1;
    return mrap_s3_mpu_part_size(MRAP_S3_SIZE_UNKNOWN, next);
}

static int start_stream(struct mrap_wfile *w)
{
    w->mode = W_STREAM;
    w->dirty = true;
    set_size(w, 0);
    return 0;
}

static int dispatch(struct mrap_wfile *w)
{
    struct mrap_wattr_meta mt;
    if (!w->up && !(w->up = mrap_upload_new(w->fs->uploads, w->fs->s3, w->s3_key)))
        return -ENOMEM;
    mrap_wattr_meta(&w->shown, &mt);
    w->buf_start += w->buf.len;
    return mrap_upload_add_part(w->up, &w->buf, &mt.opts); /* takes w->buf */
}

/* Appends len bytes (zeros when data is NULL) at the end of the stream. */
static int stream_append(struct mrap_wfile *w, const char *data, uint64_t len)
{
    while (len) {
        uint64_t psize = part_size(w);
        if (psize == 0)
            return -EFBIG;
        if (w->buf.len == psize) {
            int rc = dispatch(w);
            if (rc)
                return rc;
            continue;
        }
        if (!w->buf.data) {
            int rc = mrap_part_buf_init(&w->buf, (size_t)psize);
            if (rc)
                return rc;
        }
        size_t n = (size_t)(len < psize - w->buf.len ? len : psize - w->buf.len);
        if (data) {
            memcpy(w->buf.data + w->buf.len, data, n);
            data += n;
        } else {
            /* a hole; not left to the fresh mapping: a truncate may have left bytes here */
            memset(w->buf.data + w->buf.len, 0, n);
        }
        w->buf.len += n;
        len -= n;
    }
    return 0;
}

static int refuse_rewrite(struct mrap_wfile *w, uint64_t off)
{
    mrap_log(MRAP_LOG_WARN, "write",
             "%s: a write at offset %llu comes after %llu bytes were already uploaded; files "
             "written out of order must be opened read-write (O_RDWR) to be staged locally",
             w->s3_key, (unsigned long long)off, (unsigned long long)w->buf_start);
    return -ENOTSUP;
}

/* ---- stage ---- */

/* The program sees ENOSPC or EFBIG; the log says it was the local staging
 * directory (or --max-staging-size), not S3, so an operator knows what to grow. */
static int staging_refused(const struct mrap_wfile *w, int rc)
{
    if (rc == -ENOSPC || rc == -EDQUOT || rc == -EFBIG)
        mrap_log(MRAP_LOG_WARN, "write",
                 "%s: cannot stage it in %s: %s (staging holds appends and edits until close; "
                 "see --cache and --max-staging-size)",
                 w->s3_key, w->fs->cfg->cache_dir, strerror(-rc));
    return rc;
}

/* Moves the file into a staging file: the bytes in hand, or the stored object. */
static int to_stage_unlogged(struct mrap_wfile *w, bool download)
{
    struct mrap_staging *st = w->fs->staging;
    uint64_t size = w->mode == W_STREAM ? w->buf.len : (download ? w->base_size : 0);
    int rc = mrap_staging_reserve(st, &w->reserved, size);
    if (rc)
        return rc;
    int fd = mrap_staging_file_new(st);
    if (fd >= 0 && w->mode == W_STREAM)
        rc = mrap_staging_pwrite(fd, w->buf.data, w->buf.len, 0);
    else if (fd >= 0 && download)
        rc = mrap_staging_download(w->fs->s3, w->s3_key, w->base_etag, w->base_size, fd);
    if (fd < 0 || rc) {
        if (fd >= 0)
            close(fd);
        mrap_staging_reserve(st, &w->reserved, 0); /* nothing was staged before either */
        return fd < 0 ? fd : rc;
    }
    drop_stream(w);
    w->fd = fd;
    w->mode = W_STAGE;
    set_size(w, size);
    return 0;
}

static int to_stage(struct mrap_wfile *w, bool download)
{
    return staging_refused(w, to_stage_unlogged(w, download));
}

static int stage_write_unlogged(struct mrap_wfile *w, const char *buf, size_t len, uint64_t off)
{
    uint64_t end = off + len;
    if (end > w->size) {
        int rc = mrap_staging_reserve(w->fs->staging, &w->reserved, end);
        if (rc)
            return rc;
    }
    int rc = mrap_staging_pwrite(w->fd, buf, len, off);
    if (rc)
        return rc;
    w->dirty = true;
    set_size(w, end > w->size ? end : w->size);
    return 0;
}

static int stage_write(struct mrap_wfile *w, const char *buf, size_t len, uint64_t off)
{
    return staging_refused(w, stage_write_unlogged(w, buf, len, off));
}

static int stage_upload(struct mrap_wfile *w, char *etag)
{
    struct mrap_wattr_meta mt;
    struct mrap_upload *up = mrap_upload_new(w->fs->uploads, w->fs->s3, w->s3_key);
    if (!up)
        return -ENOMEM;
    mrap_wattr_meta(&w->shown, &mt);
    int rc = mrap_upload_from_fd(up, w->fd, w->size, &mt.opts, etag);
    if (rc)
        w->up = up; /* aborted by fail(), and again at release if S3 refused */
    else
        mrap_upload_destroy(up);
    return rc;
}

/* ---- the operations ---- */

int mrap_wfile_open(struct mrap_fs *fs, const struct mrap_wfile_opts *o, struct mrap_wfile **out)
{
    struct mrap_wfile *w = calloc(1, sizeof(*w));
    if (!w || !(w->s3_key = mrap_fs_s3_key(fs, o->inode_key))) {
        free(w);
        return -ENOMEM;
    }
    w->fs = fs;
    w->ino = o->ino;
    w->rdwr = o->rdwr;
    w->fd = -1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->idle, NULL);
    pthread_mutex_init(&w->shown.mu, NULL);
    w->shown.parent = o->parent;
    w->shown.mode = o->mode & 07777;
    w->shown.uid = fs->cfg->uid;
    w->shown.gid = fs->cfg->gid;
    w->shown.mtime = o->base->mtime;
    w->base_size = o->base->etag[0] ? o->base->size : 0;
    memcpy(w->base_etag, o->base->etag, sizeof(w->base_etag));
    set_size(w, w->base_size);
    int rc = claim(w);
    if (!rc && o->truncate)
        rc = o->rdwr ? (w->dirty = true, to_stage(w, false)) : start_stream(w);
    if (rc) {
        w->dirty = false; /* nothing was accepted: nothing to store */
        mrap_wfile_release(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* Enters w to change its content (write, truncate): 0 inside, or the error
 * of a failed handle or of claiming the inode, with w already left. */
static int enter_change(struct mrap_wfile *w)
{
    enter(w);
    int rc = w->mode == W_FAILED ? w->fail_rc : claim(w);
    if (rc)
        return leave(w, rc);
    w->wrote = true;
    return 0;
}

int mrap_wfile_write(struct mrap_wfile *w, const char *buf, size_t len, uint64_t off)
{
    if (off > MRAP_S3_MAX_OBJECT_SIZE || len > MRAP_S3_MAX_OBJECT_SIZE - off)
        return -EFBIG;
    int rc = enter_change(w);
    if (rc)
        return rc;
    if (w->mode == W_BASE) {
        if (!w->rdwr && off == 0 && w->base_size == 0)
            rc = start_stream(w);
        else
            rc = to_stage(w, true);
        if (rc)
            return leave(w, rc);
    }
    if (w->mode == W_STAGE)
        return leave(w, stage_write(w, buf, len, off));

    /* stream */
    bool nothing_sent = !w->up || mrap_upload_parts(w->up) == 0;
    if (nothing_sent && (off < w->size || (off > w->size && off >= MRAP_S3_FIRST_PART_SIZE))) {
        /* out of order before anything went up: stage instead */
        rc = to_stage(w, false);
        return leave(w, rc ? rc : stage_write(w, buf, len, off));
    }
    if (off < w->buf_start)
        return leave(w, refuse_rewrite(w, off));
    if (off > w->size)
        rc = stream_append(w, NULL, off - w->size); /* a hole: zeros */
    size_t in_buf = 0;
    if (!rc && off < w->size) {
        /* rewrite of bytes still in hand */
        in_buf = (size_t)(w->size - off < len ? w->size - off : len);
        memcpy(w->buf.data + (off - w->buf_start), buf, in_buf);
    }
    if (!rc)
        rc = stream_append(w, buf + in_buf, len - in_buf);
    if (!rc && w->up)
        rc = mrap_upload_error(w->up);
    if (rc)
        return leave(w, fail(w, rc));
    set_size(w, w->buf_start + w->buf.len);
    return leave(w, 0);
}

int mrap_wfile_read(struct mrap_wfile *w, char *buf, size_t len, uint64_t off, size_t *got)
{
    enter(w);
    int rc = 0;
    *got = 0;
    uint64_t size = w->mode == W_BASE ? w->base_size : w->size;
    if (w->mode == W_FAILED)
        rc = w->fail_rc;
    else if (w->mode == W_STREAM)
        rc = -EBADF; /* streams are write-only handles */
    else if (off < size) {
        size_t n = (size_t)(size - off < len ? size - off : len);
        if (w->mode == W_STAGE) {
            rc = mrap_staging_pread(w->fd, buf, n, off);
            *got = rc ? 0 : n;
        } else {
            struct mrap_s3_error err;
            rc = mrap_s3_get_range(w->fs->s3, w->s3_key, off, n, w->base_etag, buf, got, &err);
        }
    }
    return leave(w, rc);
}

int mrap_wfile_truncate(struct mrap_wfile *w, uint64_t size)
{
    if (size > MRAP_S3_MAX_OBJECT_SIZE)
        return -EFBIG;
    int rc = enter_change(w);
    if (rc)
        return rc;
    uint64_t cur = w->mode == W_BASE ? w->base_size : w->size;
    if (size == cur && w->mode != W_BASE)
        return leave(w, 0);
    if (w->mode == W_BASE && size == 0 && !w->rdwr)
        return leave(w, start_stream(w));
    if (w->mode == W_BASE) {
        if (size == cur)
            return leave(w, 0);
        rc = to_stage(w, size != 0);
    } else if (w->mode == W_STREAM) {
        bool nothing_sent = !w->up || mrap_upload_parts(w->up) == 0;
        if (size == 0) {
            drop_stream(w); /* start over */
            set_size(w, 0);
            return leave(w, 0);
        }
        if (size >= w->buf_start && size < cur) {
            w->buf.len = (size_t)(size - w->buf_start);
            set_size(w, size);
            return leave(w, 0);
        }
        if (size > cur && !(nothing_sent && size >= MRAP_S3_FIRST_PART_SIZE)) {
            rc = stream_append(w, NULL, size - cur);
            if (rc)
                return leave(w, fail(w, rc));
            set_size(w, size);
            return leave(w, 0);
        }
        rc = nothing_sent ? to_stage(w, false) : refuse_rewrite(w, size);
    }
    if (!rc && size > w->size)
        rc = staging_refused(w, mrap_staging_reserve(w->fs->staging, &w->reserved, size));
    if (!rc && ftruncate(w->fd, (off_t)size) != 0)
        rc = staging_refused(w, -errno);
    if (!rc) {
        if (size < w->size)
            rc = mrap_staging_reserve(w->fs->staging, &w->reserved, size);
        w->dirty = true;
        set_size(w, size);
    }
    return leave(w, rc);
}

/* Stores the file; the caller is inside enter(). */
static int commit_locked(struct mrap_wfile *w)
{
    char etag[MRAP_S3_ETAG_MAX] = "";
    int rc = 0;
    if (w->mode == W_FAILED)
        return w->fail_rc;
    if (is_unlinked(w)) {
        drop_stream(w); /* unlinked while written: nothing to store */
        w->dirty = false;
    }
    if (!w->dirty) {
        unclaim(w);
        return 0;
    }
    if (w->mode == W_STREAM) {
        struct mrap_wattr_meta mt;
        if (!w->up && !(w->up = mrap_upload_new(w->fs->uploads, w->fs->s3, w->s3_key)))
            return -ENOMEM;
        mrap_wattr_meta(&w->shown, &mt);
        rc = mrap_upload_finish(w->up, &w->buf, &mt.opts, etag); /* takes w->buf */
        if (rc)
            return fail(w, rc);
        drop_stream(w);
        w->mode = W_BASE;
    } else {
        rc = stage_upload(w, etag);
        if (rc)
            return fail(w, rc);
    }
    if (is_unlinked(w)) {
        /* Unlinked while the upload was in flight (a release commits after
         * close returned, so `: > f; rm f` can race with it): unlink's own
         * DeleteObject may have gone first, so this delete makes the outcome
         * the one the unlink asked for. Either way the file is gone. */
        struct mrap_s3_error err;
        memset(&err, 0, sizeof(err));
        if (mrap_s3_delete_object(w->fs->s3, w->s3_key, &err) != 0)
            mrap_log(MRAP_LOG_WARN, "write",
                     "%s was unlinked while being stored and could not "
                     "be deleted afterwards (%s); delete it again",
                     w->s3_key, err.code);
        w->dirty = false;
        unclaim(w);
        return 0;
    }
    struct mrap_inode_attr a;
    memset(&a, 0, sizeof(a));
    a.size = w->size;
    clock_gettime(CLOCK_REALTIME, &a.mtime);
    pthread_mutex_lock(&w->shown.mu);
    if (w->shown.mtime_set) /* stored as x-amz-meta-mtime: keep showing it */
        a.mtime = w->shown.mtime;
    pthread_mutex_unlock(&w->shown.mu);
    memcpy(a.etag, etag, sizeof(a.etag));
    mrap_inode_set_attr(w->fs->inodes, w->ino, &a);
    w->base_size = w->size;
    memcpy(w->base_etag, etag, sizeof(w->base_etag));
    w->dirty = false;
    unclaim(w);
    return 0;
}

int mrap_wfile_commit(struct mrap_wfile *w)
{
    enter(w);
    return leave(w, commit_locked(w));
}

/*
 * Why a flush before the first write does not commit: `dd of=F`, `cmd > F`
 * and many tools open F (O_TRUNC), dup2 the descriptor and close the
 * original before writing a byte. That close is a FUSE flush; committing
 * there would replace yesterday's backup with an empty object before the new
 * one is even written, and a failure afterwards would lose both. So an
 * untouched handle waits: the flush after the writes, or the release, stores
 * it. The cost: a file created empty and never written (touch, `: > F`) is
 * stored at release, just after close returns, and a failure to store it is
 * logged rather than returned by close.
 */
int mrap_wfile_flush(struct mrap_wfile *w)
{
    enter(w);
    if (!w->wrote && w->mode != W_FAILED)
        return leave(w, 0);
    return leave(w, commit_locked(w));
}

void mrap_wfile_release(struct mrap_wfile *w)
{
    if (!w)
        return;
    enter(w);
    if (w->dirty && w->mode != W_FAILED && commit_locked(w) != 0)
        mrap_log(MRAP_LOG_ERROR, "write", "%s was not stored (the error was logged above)",
                 w->s3_key);
    unclaim(w);
    drop_stream(w);
    if (w->fd >= 0)
        close(w->fd);
    if (w->fs->staging)
        mrap_staging_reserve(w->fs->staging, &w->reserved, 0);
    leave(w, 0);
    pthread_mutex_destroy(&w->shown.mu);
    pthread_cond_destroy(&w->idle);
    pthread_mutex_destroy(&w->mu);
    free(w->s3_key);
    free(w);
}
