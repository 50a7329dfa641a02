/*
 * The disk block cache: blocks reused after a "restart" (destroy + create
 * over the same directory), an ETag change is a miss, corrupt / truncated /
 * misnamed files are dropped and fetched again, LRU eviction under
 * max_bytes, the free-space rule and a full disk (injected statvfs; a real
 * ENOSPC on a tiny tmpfs when we may mount one), permissions, leftovers, and
 * the one-mount-per-directory lock.
 */
#include "cache/block_cache.h"
#include "cache/disk_cache.h"
#include "cache/disk_format.h"
#include "cache_fake.h"
#include "tap.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define BS         ((size_t)64 * 1024)
#define FILE_BYTES (BS + MRAP_DISK_HEADER_LEN)
#define SCOPE      "http://localhost:9000 mfzwi23gnjvgw.mrap"

static char base[] = "/tmp/mrap-cache-test-XXXXXX";

/* statvfs stand-in: a filesystem of `total` bytes with `avail` free. */
struct fake_fs {
    uint64_t total, avail;
};

static int fake_statvfs(void *ctx, const char *path, struct statvfs *st)
{
    const struct fake_fs *fs = ctx;
    memset(st, 0, sizeof(*st));
    st->f_frsize = st->f_bsize = 1;
    st->f_blocks = fs->total;
    st->f_bavail = st->f_bfree = fs->avail;
    return 0;
}

static char *path_of(const char *dir, uint64_t index, const char *etag)
{
    static char p[512];
    char name[MRAP_DISK_CACHE_NAME_LEN];
    struct mrap_block_id id = {"k", etag, index};
    mrap_disk_cache_block_name(SCOPE, &id, name);
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return p;
}

static bool exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static struct mrap_disk_cache *open_disk(const char *dir, uint64_t max_bytes, struct fake_fs *fs)
{
    struct mrap_disk_cache *dc = NULL;
    struct mrap_disk_cache_opts o = {.dir = dir, .scope = SCOPE, .max_bytes = max_bytes};
    if (fs) {
        o.statvfs_fn = fake_statvfs;
        o.statvfs_ctx = fs;
    }
    CHECK_INT(mrap_disk_cache_new(&o, &dc), 0);
    return dc;
}

/* Reads blocks [0, n) of key "k" through a fresh memory cache over dc. */
static void read_through(struct mrap_disk_cache *dc, struct fake *f, const char *etag, unsigned n)
{
    struct mrap_block_cache *c = NULL;
    struct mrap_block_cache_opts o = {.block_size = BS, .capacity_bytes = 64 * BS, .disk = dc};
    static char buf[BS];
    CHECK_INT(mrap_block_cache_new(&o, &c), 0);
    for (unsigned i = 0; i < n; i++) {
        struct mrap_block_id id = {"k", etag, i};
        CHECK_INT(mrap_block_cache_read(c, &id, BS, 0, BS, buf, fake_fetch, f), 0);
        CHECK(fake_check(f->seed, i * BS, buf, BS), "block %u bytes", i);
    }
    mrap_block_cache_destroy(c);
}

static void corrupt_byte(const char *p, off_t off)
{
    int fd = open(p, O_RDWR);
    unsigned char b = 0;
    CHECK(fd >= 0 && pread(fd, &b, 1, off) == 1, "read %s", p);
    b ^= 0x40;
    CHECK(fd >= 0 && pwrite(fd, &b, 1, off) == 1, "write %s", p);
    if (fd >= 0)
        close(fd);
}

static void test_restart_and_damage(void)
{
    char dir[300];
    struct stat sb;
    struct fake f;
    struct mrap_disk_cache_stats st;
    snprintf(dir, sizeof(dir), "%s/restart", base);
    fake_init(&f, 8 * BS, 7);

    struct mrap_disk_cache *dc = open_disk(dir, 0, NULL);
    read_through(dc, &f, "\"e1\"", 6);
    CHECK_INT(f.calls, 6);
    CHECK(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700, "directory 0700");
    CHECK(stat(path_of(dir, 0, "\"e1\""), &sb) == 0 && (sb.st_mode & 0777) == 0600,
          "block file 0600");
    CHECK_INT(sb.st_size, FILE_BYTES);
    /* One mount per directory. */
    struct mrap_disk_cache *second = NULL;
    struct mrap_disk_cache_opts o2 = {.dir = dir};
    CHECK_INT(mrap_disk_cache_new(&o2, &second), -EBUSY);
    mrap_disk_cache_destroy(dc);

    /* Restart: every block comes from disk, none is fetched. */
    dc = open_disk(dir, 0, NULL);
    mrap_disk_cache_get_stats(dc, &st);
    CHECK_INT(st.files, 6);
    CHECK_INT(st.bytes, 6 * FILE_BYTES);
    read_through(dc, &f, "\"e1\"", 6);
    CHECK_INT(f.calls, 6);
    mrap_disk_cache_get_stats(dc, &st);
    CHECK_INT(st.hits, 6);

    /* The object changed: the new ETag misses, and is stored beside. */
    struct fake f2;
    fake_init(&f2, 8 * BS, 8);
    read_through(dc, &f2, "\"e2\"", 2);
    CHECK_INT(f2.calls, 2);
    mrap_disk_cache_destroy(dc);

    /* Damage: a flipped data byte, a truncated file, a flipped header byte,
     * and a valid file copied under another block's name. Each is dropped and
     * its block fetched again; the others are still served. */
    char p0[512];
    snprintf(p0, sizeof(p0), "%s", path_of(dir, 0, "\"e1\""));
    corrupt_byte(path_of(dir, 1, "\"e1\""), MRAP_DISK_HEADER_LEN + 1000);
    CHECK_INT(truncate(path_of(dir, 2, "\"e1\""), FILE_BYTES - 1), 0);
    corrupt_byte(path_of(dir, 3, "\"e1\""), 9);
    CHECK_INT(rename(p0, path_of(dir, 4, "\"e1\"")), 0); /* 4 now holds block 0's file */
    dc = open_disk(dir, 0, NULL);
    read_through(dc, &f, "\"e1\"", 6);
    CHECK_INT(f.calls, 6 + 5); /* 0 (a plain miss now), 1, 2, 3 and 4 fetched again */
    mrap_disk_cache_get_stats(dc, &st);
    CHECK_INT(st.dropped, 4);
    CHECK_INT(st.hits, 1); /* block 5 */
    CHECK_INT(st.files, 8);
    mrap_disk_cache_destroy(dc);

    /* And the rewritten files are good: a third start fetches nothing. */
    dc = open_disk(dir, 0, NULL);
    read_through(dc, &f, "\"e1\"", 6);
    CHECK_INT(f.calls, 11);
    /* A file removed behind our back (or by the eviction race) is a quiet
     * miss, and the block is stored again. */
    CHECK_INT(unlink(path_of(dir, 5, "\"e1\"")), 0);
    read_through(dc, &f, "\"e1\"", 6);
    CHECK_INT(f.calls, 12);
    CHECK(exists(path_of(dir, 5, "\"e1\"")), "stored again");
    mrap_disk_cache_get_stats(dc, &st);
    CHECK_INT(st.dropped, 0);
    mrap_disk_cache_destroy(dc);

    /* The same directory for another bucket (one after the other): the same
     * key and ETag there is another block. */
    struct mrap_disk_cache_opts other = {.dir = dir, .scope = "http://localhost:9000 other"};
    CHECK_INT(mrap_disk_cache_new(&other, &dc), 0);
    read_through(dc, &f, "\"e1\"", 2);
    CHECK_INT(f.calls, 14);
    mrap_disk_cache_get_stats(dc, &st);
    CHECK_INT(st.hits, 0);
    CHECK_INT(st.dropped, 0);
    mrap_disk_cache_destroy(dc);
    fake_cleanup(&f);
    fake_cleanup(&f2);
}

static void put_block(struct mrap_disk_cache *dc, uint64_t index, unsigned seed)
{
    static char buf[BS];
    for (size_t i = 0; i < BS; i++)
        buf[i] = (char)fake_byte(seed, index * BS + i);
    struct mrap_block_id id = {"k", "\"e\"", index};
    mrap_disk_cache_put(dc, &id, buf, BS);
}

static bool get_block(struct mrap_disk_cache *dc, uint64_t index)
{
    static char buf[BS];
    struct mrap_block_id id = {"k", "\"e\"", index};
    return mrap_disk_cache_get(dc, &id, buf, BS) == 0 && fake_check(1, index * BS, buf, BS);
}

static void test_limits(void)
{
    char dir[300], p[600];
    struct mrap_disk_cache_stats st;
    snprintf(dir, sizeof(dir), "%s/limits", base);
    CHECK_INT(mkdir(dir, 0700), 0);
    /* Not ours: a foreign file stays, a leftover temporary file goes. */
    snprintf(p, sizeof(p), "%s/notes.txt", dir);
    FILE *fp = fopen(p, "w");
    CHECK(fp != NULL, "create %s", p);
    if (fp)
        fclose(fp);
    snprintf(p, sizeof(p), "%s/.tmp.1.2", dir);
    fp = fopen(p, "w");
    if (fp)
        fclose(fp);

    struct fake_fs fs = {.total = 1000 * BS, .avail = 500 * BS};
    struct mrap_disk_cache *dc = open_disk(dir, 3 * FILE_BYTES, &fs);
    CHECK(!exists(p), "leftover temporary file removed");
    snprintf(p, sizeof(p), "%s/notes.txt", dir);
    CHECK(exists(p), "foreign file kept");

    /* max_bytes holds three blocks; recency is by use, not by write. */
    put_block(dc, 0, 1);
    put_block(dc, 1, 1);
    put_block(dc, 2, 1);
    CHECK(get_block(dc, 0), "block 0 stored");
    put_block(dc, 3, 1);
    CHECK(!exists(path_of(dir, 1, "\"e\"")), "least recently used (1) evicted");
    CHECK(get_block(dc, 0) && get_block(dc, 2) && get_block(dc, 3), "the others kept");
    mrap_disk_cache_get_stats(dc, &st);
    CHECK_INT(st.files, 3);
    CHECK_INT(st.evicted, 1);

    mrap_disk_cache_destroy(dc);

    /* After a restart recency comes from the files' times: make 0 the oldest.
     * Then the disk is short of space: our own oldest file makes room. */
    for (uint64_t i = 0; i < 4; i++) {
        struct timespec t[2] = {{1000000 + (time_t)i * 10, 0}, {1000000 + (time_t)i * 10, 0}};
        utimensat(AT_FDCWD, path_of(dir, i, "\"e\""), t, 0);
    }
    dc = open_disk(dir, 100 * FILE_BYTES, &fs);
    fs.avail = fs.total / 100 * 5 + FILE_BYTES - 1;
    put_block(dc, 4, 1);
    CHECK(!exists(path_of(dir, 0, "\"e\"")), "oldest evicted for free space");
    CHECK(get_block(dc, 4) && get_block(dc, 2) && get_block(dc, 3), "4 stored, 2 and 3 kept");
    mrap_disk_cache_get_stats(dc, &st);
    CHECK_INT(st.evicted, 1);
    CHECK_INT(st.files, 3);

    /* Full: less than 5 % free and nothing of ours to give back is not
     * enough either -> not cached, no error, no file. */
    fs.avail = 0;
    put_block(dc, 5, 1);
    CHECK(!exists(path_of(dir, 5, "\"e\"")), "not cached on a full disk");
    mrap_disk_cache_get_stats(dc, &st);
    CHECK(st.skipped >= 1, "counted as skipped");
    CHECK_INT(st.files, 0); /* everything was evicted trying */
    mrap_disk_cache_destroy(dc);
}

/* max_files bounds the index: the least recently used file goes. */
static void test_max_files(void)
{
    char dir[300];
    struct mrap_disk_cache_stats st;
    struct mrap_disk_cache *dc = NULL;
    snprintf(dir, sizeof(dir), "%s/files", base);
    struct mrap_disk_cache_opts o = {.dir = dir, .scope = SCOPE, .max_files = 2};
    CHECK_INT(mrap_disk_cache_new(&o, &dc), 0);
    put_block(dc, 0, 1);
    put_block(dc, 1, 1);
    put_block(dc, 2, 1);
    mrap_disk_cache_get_stats(dc, &st);
    CHECK_INT(st.files, 2);
    CHECK(!exists(path_of(dir, 0, "\"e\"")) && get_block(dc, 1) && get_block(dc, 2),
          "oldest of three gone, two kept");
    mrap_disk_cache_destroy(dc);
}

/* A real ENOSPC: a 200 KiB tmpfs in a private mount namespace (root only).
 * statvfs is faked to say there is room, so the write itself fails. */
static void test_enospc(void)
{
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/tiny", base);
    CHECK_INT(mkdir(dir, 0700), 0);
    if (geteuid() != 0 || unshare(CLONE_NEWNS) != 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", dir, "tmpfs", 0, "size=200k,mode=0700") != 0) {
        mrap_test_skip("cannot mount a private tmpfs (needs root): real ENOSPC not tested");
        return;
    }
    struct fake_fs fs = {.total = 1000 * BS, .avail = 500 * BS};
    struct fake f;
    fake_init(&f, 6 * BS, 1);
    struct mrap_disk_cache *dc = open_disk(dir, 100 * FILE_BYTES, &fs);
    read_through(dc, &f, "\"e\"", 6); /* every read succeeds */
    struct mrap_disk_cache_stats st;
    mrap_disk_cache_get_stats(dc, &st);
    CHECK(st.skipped >= 1, "ENOSPC: skipped %llu", (unsigned long long)st.skipped);
    CHECK(st.stored >= 1 && st.stored < 6, "some stored (%llu)", (unsigned long long)st.stored);
    CHECK_INT(st.files, st.stored);
    mrap_disk_cache_destroy(dc);
    /* The stored ones are whole; no temporary file was left. */
    dc = open_disk(dir, 100 * FILE_BYTES, &fs);
    mrap_disk_cache_get_stats(dc, &st);
    unsigned before = fake_calls(&f);
    read_through(dc, &f, "\"e\"", 6);
    CHECK_INT(fake_calls(&f) - before, 6 - st.files);
    mrap_disk_cache_destroy(dc);
    CHECK_INT(umount(dir), 0);
    fake_cleanup(&f);
}

static void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
}

int main(void)
{
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }
    test_restart_and_damage();
    test_limits();
    test_max_files();
    test_enospc();
    remove_tree(base);
    return mrap_test_finish();
}
