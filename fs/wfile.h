/*
 * A write handle: one open(2) of a file for writing, from open to release.
 *
 * Modes, chosen by what the writer does, never by configuration:
 *   base    nothing written yet; reads (O_RDWR) come from the stored object.
 *   stream  a new or truncated file written front to back: bytes go straight
 *           into an upload (fs/upload.c), part after part, in bounded memory.
 *   stage   anything else (a write before the end, a jump far ahead before
 *           the first part went up, an append to or an edit of a stored
 *           object, O_RDWR): the file lives in a staging file (fs/staging.c),
 *           the stored object downloaded into it first, and goes up whole.
 *   failed  an upload failed: every later write, flush and fsync reports it.
 * A stream switches to staging when the first out-of-order write arrives
 * while all its bytes are still in memory; after a part went up, a write
 * before the streamed bytes is refused with ENOTSUP (and logged), since those
 * bytes are gone.
 *
 * commit (flush, i.e. every close(2), and fsync) stores the object and only
 * then returns 0; its errors are what close(2) and fsync(2) report. release
 * commits what is still pending (its errors can only be logged: the kernel
 * ignores them). Readers of the path see the previous object until commit.
 *
 * Operations on one handle are serialised by a busy flag (no lock is held
 * across network I/O); they may come from any thread.
 */
#ifndef MRAP_FS_WFILE_H
#define MRAP_FS_WFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fs/fs.h"

struct mrap_wfile;

struct mrap_wfile_opts {
    uint64_t ino;
    uint64_t parent;
    const char *inode_key;              /* key relative to the mount prefix */
    const struct mrap_inode_attr *base; /* the stored object (etag "" = none) */
    bool truncate;                      /* O_TRUNC, or a file just created */
    bool rdwr;                          /* O_RDWR: always staged, readable */
    mode_t mode;                        /* permission bits shown and stored */
};

/* 0, -EBUSY (someone else writes this inode), -ENOMEM, or a staging error. */
int mrap_wfile_open(struct mrap_fs *fs, const struct mrap_wfile_opts *o, struct mrap_wfile **out);

/* Writes all of buf at off. 0 or -errno (ENOSPC/EFBIG from staging, ENOTSUP
 * for a rewrite of bytes already streamed, the upload's error, ...). */
int mrap_wfile_write(struct mrap_wfile *w, const char *buf, size_t len, uint64_t off);
/* Reads up to len bytes at off (O_RDWR handles). */
int mrap_wfile_read(struct mrap_wfile *w, char *buf, size_t len, uint64_t off, size_t *got);
/* ftruncate. */
int mrap_wfile_truncate(struct mrap_wfile *w, uint64_t size);
/* Stores the file if it changed (fsync, truncate by path). 0 only once it is stored. */
int mrap_wfile_commit(struct mrap_wfile *w);
/* close(2) of one descriptor (FUSE flush): commits like mrap_wfile_commit,
 * except while nothing was written through the handle since open, when the
 * commit waits for another flush or for release (see wfile.c). */
int mrap_wfile_flush(struct mrap_wfile *w);
/* Commits what is pending (errors logged), frees. Accepts NULL. */
void mrap_wfile_release(struct mrap_wfile *w);

#endif
