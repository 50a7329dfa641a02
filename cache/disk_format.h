/*
 * The block file format of the disk cache (internal to cache/disk_cache.c;
 * exposed for its tests).
 *
 *   offset size  field (integers little-endian)
 *        0    8  magic "MRAPBLK1"
 *        8    8  block index
 *       16    4  data length
 *       20    4  CRC32C of the data
 *       24   32  SHA-256 of (scope NUL key)
 *       56    4  ETag length
 *       60   80  ETag, NUL-padded
 *      140    4  CRC32C of bytes 0..139
 *      144    -  data
 *
 * The file name is the hex of the first 16 bytes of SHA-256(key hash, etag
 * NUL, index as 8 LE bytes) plus ".blk". The scope (what the keys belong to,
 * e.g. endpoint and MRAP) keeps one cache directory used for two buckets, one
 * after the other, from serving one's blocks for the other's key. All functions are pure or act
 * only on the descriptor given: thread-safe. Temporary files start with ".tmp.".
 */
#ifndef MRAP_CACHE_DISK_FORMAT_H
#define MRAP_CACHE_DISK_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cache/common.h"

#define MRAP_DISK_HEADER_LEN 144
#define MRAP_DISK_NAME_BYTES 16
#define MRAP_DISK_ETAG_FIELD 80

/* A block as the disk tier names it. */
struct mrap_disk_block {
    unsigned char key_hash[32]; /* SHA-256(scope NUL key) */
    const char *etag;           /* borrowed */
    uint64_t index;
};
void mrap_disk_format_block(const char *scope, const struct mrap_block_id *id,
                            struct mrap_disk_block *out);

void mrap_disk_format_name(const struct mrap_disk_block *b,
                           unsigned char name[MRAP_DISK_NAME_BYTES]);
/* "<32 hex>.blk" into out (37 bytes with the NUL). */
void mrap_disk_format_file_name(const unsigned char name[MRAP_DISK_NAME_BYTES], char *out);
/* The reverse; 0, or -EINVAL for any other file name. */
int mrap_disk_format_parse_file_name(const char *file, unsigned char name[MRAP_DISK_NAME_BYTES]);

/* Encodes the header for these data. 0, or -ENAMETOOLONG when the ETag does
 * not fit its field, -EFBIG for data of 4 GiB or more. */
int mrap_disk_format_header(const struct mrap_disk_block *id, const char *data, size_t len,
                            unsigned char hdr[MRAP_DISK_HEADER_LEN]);

/* Writes header and data at the start of fd. 0 or a positive errno. */
int mrap_disk_format_write(int fd, const unsigned char hdr[MRAP_DISK_HEADER_LEN], const char *data,
                           size_t len);

/* Reads block id of exactly len bytes from fd into buf, checking everything.
 * NULL when valid, else why not (a static string for the log). */
const char *mrap_disk_format_read(int fd, const struct mrap_disk_block *id, char *buf, size_t len);

/* A block file found in the cache directory. */
struct mrap_disk_found {
    unsigned char name[MRAP_DISK_NAME_BYTES];
    uint64_t bytes;
    struct timespec mtime;
};

/*
 * Lists the block files in dirfd, oldest modification first, into a heap
 * array (*out, freed by the caller; NULL when none). Removes leftover
 * temporary files (".tmp.*": the caller holds the directory's lock, so they
 * are from a crashed run); leaves every other file alone.
 * 0, -ENOMEM, or the errno of opening the directory.
 */
int mrap_disk_format_scan(int dirfd, struct mrap_disk_found **out, size_t *n);

#endif
