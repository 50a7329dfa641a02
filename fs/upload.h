/*
 * The upload engine: turns a sequence of part buffers into one stored object.
 *
 * An upload starts as nothing. Its first full part creates a multipart upload
 * and every part goes to a worker thread of the mount's pool, so parts travel
 * in parallel while the writer fills the next one. A file that never filled a
 * part goes up at the end as one PutObject (an empty file too).
 *
 * Memory is bounded across the whole mount: the pool has `slots` part buffers
 * in flight at most (one per worker), and a writer that hands over a part when
 * all slots are taken waits for one to free up.
 *
 * Before CompleteMultipartUpload the parts S3 lists (ListParts) must be
 * exactly the parts we sent, with the same ETags and sizes. Any failure,
 * after the s3 layer's retries, aborts the multipart upload, is logged once
 * with the S3 code and is returned; nothing counts as stored before
 * mrap_upload_finish() returned 0.
 *
 * Thread-safety: one upload is driven by one thread at a time (its owner);
 * the pool's workers touch only the parts table, under the upload's lock.
 */
#ifndef MRAP_FS_UPLOAD_H
#define MRAP_FS_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "s3/client.h"
#include "s3/write.h"

struct mrap_upload_pool;
struct mrap_upload;

/*
 * A part buffer: anonymous memory mapped for one part. It goes back to the
 * system the moment it is released (malloc keeps freed multi-megabyte blocks
 * in per-thread arenas, so a daemon's footprint would drift with the number
 * of threads that ever wrote), and only the pages written are ever resident,
 * so a small file costs what it holds, not a whole part.
 */
struct mrap_part_buf {
    char *data; /* NULL until allocated */
    size_t len; /* bytes filled */
    size_t cap; /* bytes mapped */
};
/* 0 or -ENOMEM. cap > 0. */
int mrap_part_buf_init(struct mrap_part_buf *b, size_t cap);
/* Unmaps; leaves b zeroed. Accepts a zeroed b. */
void mrap_part_buf_cleanup(struct mrap_part_buf *b);

/* slots: parts in flight across the mount (and worker threads, started on first use). */
int mrap_upload_pool_new(unsigned slots, struct mrap_upload_pool **out);
/* Finishes queued parts, joins the workers. Accepts NULL. */
void mrap_upload_pool_destroy(struct mrap_upload_pool *p);

/* An upload of `s3_key` (copied). NULL on ENOMEM. */
struct mrap_upload *mrap_upload_new(struct mrap_upload_pool *pool, struct mrap_s3_client *s3,
                                    const char *s3_key);

/*
 * Hands over part b->data[0..b->len) (ownership passes here, also on
 * failure: *b is left zeroed). The first call creates the multipart upload with `opts`. Waits for
 * a free slot. Returns 0, the error of an earlier part that failed, or the
 * error creating the upload; -EFBIG past 10,000 parts.
 */
int mrap_upload_add_part(struct mrap_upload *u, struct mrap_part_buf *b,
                         const struct mrap_s3_put_opts *opts);

/* The error of a part that failed so far (0 when none); does not wait. */
int mrap_upload_error(struct mrap_upload *u);

/* Parts handed over so far (0: still a PutObject candidate). */
unsigned mrap_upload_parts(const struct mrap_upload *u);

/*
 * Stores the object: `last` (owned from here and left zeroed; may be empty)
 * is the final part, or the whole body when no part was handed over
 * (PutObject with opts). Waits for every part, checks them with ListParts and completes.
 * On failure the multipart upload is aborted. etag_out: MRAP_S3_ETAG_MAX.
 */
int mrap_upload_finish(struct mrap_upload *u, struct mrap_part_buf *last,
                       const struct mrap_s3_put_opts *opts, char *etag_out);

/*
 * Uploads bytes [0, size) of fd (a staging file) as the whole object: one
 * PutObject up to the first part size, else parts of one size read from fd
 * (at most the pool's slots of them in memory). Same result as finish.
 */
int mrap_upload_from_fd(struct mrap_upload *u, int fd, uint64_t size,
                        const struct mrap_s3_put_opts *opts, char *etag_out);

/* Waits for parts in flight and aborts the multipart upload if one exists;
 * when the abort fails it is kept for mrap_upload_destroy() to try again. */
void mrap_upload_abort(struct mrap_upload *u);

/* Aborts what is unfinished and frees. Accepts NULL. */
void mrap_upload_destroy(struct mrap_upload *u);

/* The errno to show a writer for a failed upload: EIO unless S3 said
 * something a writer can act on (ENOSPC, EDQUOT, EACCES, EPERM, EFBIG, ...). */
int mrap_upload_errno(int rc);

#endif
