/*
 * Staging files (see staging.h).
 *
 * The directory defaults to /var/tmp/mrapfs-<uid>, a predictable name in a
 * directory everyone can write to; so it is created 0700 and then checked
 * with lstat: a symlink, something owned by another user or a directory others
 * can write into is refused rather than used.
 */
#include "fs/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

#define DOWNLOAD_CHUNK (8u << 20)

struct mrap_staging {
    char *dir;
    uint64_t limit;
    pthread_mutex_t mu; /* guards used */
    uint64_t used;      /* bytes reserved by all staging files */
};

int mrap_staging_new(const char *dir, uint64_t limit_bytes, struct mrap_staging **out)
{
    struct stat st;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        mrap_log(MRAP_LOG_ERROR, "staging", "cannot create the cache directory %s: %s", dir,
                 strerror(e));
        return -e;
    }
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH))) {
        mrap_log(MRAP_LOG_ERROR, "staging",
                 "the cache directory %s must be a directory owned by uid %u that others "
                 "cannot write into (choose one with --cache)",
                 dir, (unsigned)geteuid());
        return -EPERM;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        int e = errno;
        mrap_log(MRAP_LOG_ERROR, "staging", "cannot write into the cache directory %s: %s", dir,
                 strerror(e));
        return -e;
    }
    struct mrap_staging *s = calloc(1, sizeof(*s));
    if (!s || !(s->dir = strdup(dir))) {
        free(s);
        return -ENOMEM;
    }
    s->limit = limit_bytes;
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return 0;
}

void mrap_staging_destroy(struct mrap_staging *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s->dir);
    free(s);
}

int mrap_staging_file_new(struct mrap_staging *s)
{
    char *path = NULL;
    if (asprintf(&path, "%s/staging-XXXXXX", s->dir) < 0)
        return -ENOMEM;
    int fd = mkostemp(path, O_CLOEXEC);
    int rc = fd < 0 ? -errno : fd;
    if (fd >= 0)
        unlink(path);
    else
        mrap_log(MRAP_LOG_ERROR, "staging", "cannot create a staging file in %s: %s", s->dir,
                 strerror(-rc));
    free(path);
    return rc;
}

int mrap_staging_reserve(struct mrap_staging *s, uint64_t *reserved, uint64_t size)
{
    if (size > s->limit)
        return -EFBIG;
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    uint64_t others = s->used - *reserved;
    if (size > *reserved && others + size > s->limit) {
        rc = -ENOSPC;
    } else {
        s->used = others + size;
        *reserved = size;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int mrap_staging_pread(int fd, void *buf, size_t len, uint64_t off)
{
    char *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int mrap_staging_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    const char *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int mrap_staging_download(struct mrap_s3_client *s3, const char *s3_key, const char *etag,
                          uint64_t size, int fd)
{
    if (size == 0)
        return 0;
    size_t cap = size < DOWNLOAD_CHUNK ? (size_t)size : DOWNLOAD_CHUNK;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    int rc = 0;
    for (uint64_t off = 0; off < size && !rc;) {
        size_t want = size - off < cap ? (size_t)(size - off) : cap;
        size_t got = 0;
        struct mrap_s3_error err;
        memset(&err, 0, sizeof(err));
        rc = mrap_s3_get_range(s3, s3_key, off, want, etag[0] ? etag : NULL, buf, &got, &err);
        if (rc) {
            char msg[600];
            mrap_s3_error_format(&err, msg, sizeof(msg));
            mrap_log(MRAP_LOG_ERROR, "staging", "downloading %s to stage it failed: %s%s%s", s3_key,
                     strerror(-rc), err.http_status ? ": " : "", err.http_status ? msg : "");
            break;
        }
        if (got != want) {
            mrap_log(MRAP_LOG_ERROR, "staging", "%s is shorter than listed (%llu bytes)", s3_key,
                     (unsigned long long)size);
            rc = -ESTALE;
            break;
        }
        rc = mrap_staging_pwrite(fd, buf, got, off);
        off += got;
    }
    free(buf);
    return rc;
}
