/*
 * Block files: naming, header encoding, and the checks a file must pass to be
 * served (see disk_format.h for the layout). The header carries the key's
 * hash, the ETag and the index, not just the name's hash, so that a file can
 * never be served for another block even if names collided or a file was
 * copied or renamed by hand.
 */
#include "cache/disk_format.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/crc32c.h"

static const char magic[8] = {'M', 'R', 'A', 'P', 'B', 'L', 'K', '1'};

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* SHA-256 of up to three pieces. OpenSSL's default provider is always there
 * for SHA-256; should it fail anyway, the zeroed digest still names a file
 * whose header check (ETag, index) keeps it from being served wrongly. */
static void sha256(const void *a, size_t alen, const void *b, size_t blen, const void *c,
                   size_t clen, unsigned char out[32])
{
    unsigned int n = 0;
    memset(out, 0, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
        EVP_DigestUpdate(ctx, a, alen) == 1 && EVP_DigestUpdate(ctx, b, blen) == 1 &&
        EVP_DigestUpdate(ctx, c, clen) == 1)
        EVP_DigestFinal_ex(ctx, out, &n);
    EVP_MD_CTX_free(ctx);
}

void mrap_disk_format_block(const char *scope, const struct mrap_block_id *id,
                            struct mrap_disk_block *out)
{
    /* The NULs keep ("ab","c") and ("a","bc") apart. */
    sha256(scope, strlen(scope) + 1, id->key, strlen(id->key), "", 0, out->key_hash);
    out->etag = id->etag;
    out->index = id->index;
}

void mrap_disk_format_name(const struct mrap_disk_block *b,
                           unsigned char name[MRAP_DISK_NAME_BYTES])
{
    unsigned char idx[8], digest[32];
    put_le(idx, b->index, 8);
    sha256(b->key_hash, sizeof(b->key_hash), b->etag, strlen(b->etag) + 1, idx, sizeof(idx),
           digest);
    memcpy(name, digest, MRAP_DISK_NAME_BYTES);
}

void mrap_disk_format_file_name(const unsigned char name[MRAP_DISK_NAME_BYTES], char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < MRAP_DISK_NAME_BYTES; i++) {
        out[2 * i] = hex[name[i] >> 4];
        out[2 * i + 1] = hex[name[i] & 15];
    }
    memcpy(out + 2 * MRAP_DISK_NAME_BYTES, ".blk", 5);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int mrap_disk_format_parse_file_name(const char *file, unsigned char name[MRAP_DISK_NAME_BYTES])
{
    if (strlen(file) != 2 * MRAP_DISK_NAME_BYTES + 4 ||
        strcmp(file + 2 * MRAP_DISK_NAME_BYTES, ".blk") != 0)
        return -EINVAL;
    for (int i = 0; i < MRAP_DISK_NAME_BYTES; i++) {
        int hi = hexval(file[2 * i]), lo = hexval(file[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        name[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int mrap_disk_format_header(const struct mrap_disk_block *id, const char *data, size_t len,
                            unsigned char hdr[MRAP_DISK_HEADER_LEN])
{
    size_t etag_len = strlen(id->etag);
    if (etag_len >= MRAP_DISK_ETAG_FIELD)
        return -ENAMETOOLONG;
    if (len > UINT32_MAX)
        return -EFBIG;
    memset(hdr, 0, MRAP_DISK_HEADER_LEN);
    memcpy(hdr, magic, sizeof(magic));
    put_le(hdr + 8, id->index, 8);
    put_le(hdr + 16, len, 4);
    put_le(hdr + 20, mrap_crc32c(0, data, len), 4);
    memcpy(hdr + 24, id->key_hash, sizeof(id->key_hash));
    put_le(hdr + 56, etag_len, 4);
    memcpy(hdr + 60, id->etag, etag_len);
    put_le(hdr + 140, mrap_crc32c(0, hdr, 140), 4);
    return 0;
}

static int write_full(int fd, const void *p, size_t n, off_t off)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = pwrite(fd, c, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        c += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

int mrap_disk_format_write(int fd, const unsigned char hdr[MRAP_DISK_HEADER_LEN], const char *data,
                           size_t len)
{
    int err = write_full(fd, hdr, MRAP_DISK_HEADER_LEN, 0);
    return err ? err : write_full(fd, data, len, MRAP_DISK_HEADER_LEN);
}

/* 0, or -1 on an error or a file that ends early. */
static int read_full(int fd, void *p, size_t n, off_t off)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = pread(fd, c, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

const char *mrap_disk_format_read(int fd, const struct mrap_disk_block *id, char *buf, size_t len)
{
    unsigned char hdr[MRAP_DISK_HEADER_LEN];
    struct stat sb;

    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return "not a regular file";
    if ((uint64_t)sb.st_size != MRAP_DISK_HEADER_LEN + (uint64_t)len)
        return "wrong size (truncated, or not this block)";
    if (read_full(fd, hdr, sizeof(hdr), 0) != 0)
        return "cannot read the header";
    if (memcmp(hdr, magic, sizeof(magic)) != 0)
        return "bad magic";
    if (get_le(hdr + 140, 4) != mrap_crc32c(0, hdr, 140))
        return "header checksum mismatch";
    size_t etag_len = (size_t)get_le(hdr + 56, 4);
    if (get_le(hdr + 8, 8) != id->index || get_le(hdr + 16, 4) != len ||
        memcmp(hdr + 24, id->key_hash, sizeof(id->key_hash)) != 0 || etag_len != strlen(id->etag) ||
        etag_len >= MRAP_DISK_ETAG_FIELD || memcmp(hdr + 60, id->etag, etag_len) != 0)
        return "header names another block";
    if (read_full(fd, buf, len, MRAP_DISK_HEADER_LEN) != 0)
        return "cannot read the data";
    if (get_le(hdr + 20, 4) != mrap_crc32c(0, buf, len))
        return "data checksum mismatch";
    return NULL;
}

static int by_mtime(const void *a, const void *b)
{
    const struct mrap_disk_found *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return 0;
}

/* Appends one entry, doubling the array. 0 or -ENOMEM. */
static int push(struct mrap_disk_found **v, size_t *n, size_t *cap, const struct mrap_disk_found *f)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        struct mrap_disk_found *nv = realloc(*v, ncap * sizeof(**v));
        if (!nv)
            return -ENOMEM;
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*n)++] = *f;
    return 0;
}

int mrap_disk_format_scan(int dirfd, struct mrap_disk_found **out, size_t *n)
{
    struct mrap_disk_found *v = NULL;
    size_t cap = 0;
    int rc = 0;
    *out = NULL;
    *n = 0;
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        rc = -errno;
        if (fd >= 0)
            close(fd);
        return rc;
    }
    struct dirent *de;
    while (!rc && (de = readdir(d)) != NULL) {
        struct stat sb;
        struct mrap_disk_found f;
        if (strncmp(de->d_name, ".tmp.", 5) == 0) {
            unlinkat(dirfd, de->d_name, 0);
            continue;
        }
        if (mrap_disk_format_parse_file_name(de->d_name, f.name) != 0)
            continue; /* not ours: left alone */
        if (fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
            continue;
        f.bytes = (uint64_t)sb.st_size;
        f.mtime = sb.st_mtim;
        rc = push(&v, n, &cap, &f);
    }
    closedir(d);
    if (rc) {
        free(v);
        *n = 0;
        return rc;
    }
    if (*n > 1)
        qsort(v, *n, sizeof(*v), by_mtime);
    *out = v;
    return 0;
}
