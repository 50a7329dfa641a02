/*
 * Staging: local copies of files that cannot be streamed (out-of-order
 * writes, appends, in-place edits, files opened read-write), kept in the
 * --cache directory and uploaded whole when the file is closed.
 *
 * Space: every staging file reserves its logical size against
 * --max-staging-size before it grows. A single file larger than the limit is
 * EFBIG; a file that would push all of them together past it is ENOSPC; a
 * disk that really fills up is ENOSPC from the write itself. Nothing remote
 * changes before the upload, so a refused write loses nothing stored.
 *
 * Staging files are unlinked as soon as they are created: a crash leaves no
 * debris, and no other user can open them.
 *
 * Thread-safety: the reservation counter has its own lock; a staging file
 * (fd + reservation) belongs to one write handle.
 */
#ifndef MRAP_FS_STAGING_H
#define MRAP_FS_STAGING_H

#include <stddef.h>
#include <stdint.h>

#include "s3/client.h"

struct mrap_staging;

/* Creates dir (mode 0700) when missing and checks that it is a directory we
 * own that nobody else can write into. 0, or -errno with the reason logged. */
int mrap_staging_new(const char *dir, uint64_t limit_bytes, struct mrap_staging **out);
void mrap_staging_destroy(struct mrap_staging *s); /* accepts NULL */

/* A new, empty, already unlinked file in the staging directory. fd or -errno. */
int mrap_staging_file_new(struct mrap_staging *s);

/* Moves one file's reservation from *reserved to `size` bytes (growing or
 * shrinking). 0, -EFBIG (the file alone exceeds the limit) or -ENOSPC. */
int mrap_staging_reserve(struct mrap_staging *s, uint64_t *reserved, uint64_t size);

/* Copies the object (`size` bytes, ETag `etag`, which must not change:
 * -ESTALE otherwise) into fd with ranged GETs of bounded size. */
int mrap_staging_download(struct mrap_s3_client *s3, const char *s3_key, const char *etag,
                          uint64_t size, int fd);

/* Whole-buffer pread/pwrite: 0, or -errno (-EIO for a short read). */
int mrap_staging_pread(int fd, void *buf, size_t len, uint64_t off);
int mrap_staging_pwrite(int fd, const void *buf, size_t len, uint64_t off);

#endif
