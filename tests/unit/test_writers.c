/* The write side's local bookkeeping: the writers registry (one writer per
 * inode, attributes shown while writing), staging reservations, and the
 * inode table's hold/keep rules for files being written. */
#include "fs/fs.h"
#include "fs/inode.h"
#include "fs/staging.h"
#include "fs/writers.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_registry(void)
{
    struct mrap_writers *r = NULL;
    struct mrap_wattr a, b;
    struct stat st;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    pthread_mutex_init(&a.mu, NULL);
    pthread_mutex_init(&b.mu, NULL);
    a.parent = 7;
    a.size = 5;
    a.mode = 0640;
    a.uid = 11;
    a.gid = 12;
    CHECK_INT(mrap_writers_new(&r), 0);
    memset(&st, 0, sizeof(st));
    CHECK(!mrap_writers_stat(r, 42, &st), "nothing written yet");
    CHECK_INT(mrap_writers_claim(r, 42, &a), 0);
    CHECK_INT(mrap_writers_claim(r, 42, &a), 0);      /* again by the same writer */
    CHECK_INT(mrap_writers_claim(r, 42, &b), -EBUSY); /* a second writer */
    CHECK_INT(mrap_writers_claim(r, 43, &b), 0);      /* another inode is fine */
    st.st_mode = S_IFREG | 0644;
    CHECK(mrap_writers_stat(r, 42, &st), "shown while written");
    CHECK_INT(st.st_size, 5);
    CHECK_INT(st.st_mode, S_IFREG | 0640);
    CHECK_INT(st.st_uid, 11);

    struct stat set;
    memset(&set, 0, sizeof(set));
    set.st_mode = 0600;
    set.st_mtim.tv_sec = 1600000000;
    CHECK_INT(mrap_writers_setattr(r, 42, &set, FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_MTIME), 0);
    CHECK(a.mode == 0600 && a.mtime_set && a.mtime.tv_sec == 1600000000, "recorded");
    a.meta_sent = true;
    CHECK_INT(mrap_writers_setattr(r, 42, &set, FUSE_SET_ATTR_MODE), 1); /* too late to store */
    CHECK_INT(mrap_writers_setattr(r, 99, &set, FUSE_SET_ATTR_MODE), -ENOENT);

    CHECK(mrap_writers_in_dir(r, 7), "a file is being written in directory 7");
    CHECK(!mrap_writers_in_dir(r, 8), "none in 8");
    CHECK(mrap_writers_unlink(r, 42) && a.unlinked, "unlink marks the writer");
    CHECK(!mrap_writers_in_dir(r, 7), "an unlinked file does not keep its directory busy");
    CHECK(!mrap_writers_unlink(r, 99), "no writer");

    mrap_writers_drop(r, 42, &b); /* not b's: ignored */
    CHECK_INT(mrap_writers_claim(r, 42, &b), -EBUSY);
    mrap_writers_drop(r, 42, &a);
    CHECK_INT(mrap_writers_claim(r, 42, &b), 0);
    mrap_writers_drop(r, 42, &b);
    mrap_writers_drop(r, 43, &b);
    CHECK(!mrap_writers_stat(r, 42, &st), "all dropped");
    mrap_writers_destroy(r);
    pthread_mutex_destroy(&a.mu);
    pthread_mutex_destroy(&b.mu);
}

static void test_staging(void)
{
    char dir[] = "/tmp/mrap-test-staging-XXXXXX";
    struct mrap_staging *s = NULL;
    CHECK(mkdtemp(dir) != NULL, "temp dir");
    char sub[64];
    snprintf(sub, sizeof(sub), "%s/cache", dir);
    CHECK_INT(mrap_staging_new(sub, 1000, &s), 0); /* created 0700 */
    struct stat st;
    CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700, "mode 0700");

    uint64_t r1 = 0, r2 = 0;
    CHECK_INT(mrap_staging_reserve(s, &r1, 600), 0);
    CHECK_INT(mrap_staging_reserve(s, &r2, 1001), -EFBIG); /* alone over the limit */
    CHECK_INT(mrap_staging_reserve(s, &r2, 500), -ENOSPC); /* together over it */
    CHECK_INT(r2, 0);
    CHECK_INT(mrap_staging_reserve(s, &r2, 400), 0);
    CHECK_INT(mrap_staging_reserve(s, &r1, 100), 0); /* shrinking frees space */
    CHECK_INT(mrap_staging_reserve(s, &r2, 900), 0);
    CHECK_INT(mrap_staging_reserve(s, &r1, 0), 0);
    CHECK_INT(mrap_staging_reserve(s, &r2, 0), 0);
    CHECK_INT(mrap_staging_reserve(s, &r1, 1000), 0); /* everything released */
    CHECK_INT(mrap_staging_reserve(s, &r1, 0), 0);

    int fd = mrap_staging_file_new(s);
    CHECK(fd >= 0, "staging file");
    char buf[6] = "";
    CHECK_INT(mrap_staging_pwrite(fd, "hello", 5, 3), 0);
    CHECK_INT(mrap_staging_pread(fd, buf, 5, 3), 0);
    CHECK_STR(buf, "hello");
    CHECK_INT(mrap_staging_pread(fd, buf, 5, 6), -EIO); /* past the end */
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s)\"", sub);
    CHECK(system(cmd) == 0, "staging files are unlinked at once");
    close(fd);
    mrap_staging_destroy(s);

    /* a directory others can write into is refused */
    CHECK(chmod(sub, 0777) == 0, "chmod");
    CHECK_INT(mrap_staging_new(sub, 1000, &s), -EPERM);
    rmdir(sub);
    rmdir(dir);
}

static void test_inode_hold(void)
{
    struct timespec t0 = {1000, 0};
    struct mrap_inode_table *t = mrap_inode_table_new(0, t0); /* nothing stays fresh */
    struct mrap_inode_attr stored = {.size = 9}, fresh = {.size = 0}, cur;
    struct mrap_inode_info info;
    strcpy(stored.etag, "\"abc\"");
    uint64_t ino = mrap_inode_upsert(t, MRAP_ROOT_INO, "f", &stored, 1);
    CHECK_INT(mrap_inode_find_fresh(t, MRAP_ROOT_INO, "f", &info, 0), -ENOENT);
    mrap_inode_hold(t, ino, true);
    CHECK_INT(mrap_inode_find_fresh(t, MRAP_ROOT_INO, "f", &info, 0), 0); /* held: fresh */
    CHECK(info.fresh, "held attributes are fresh");
    mrap_inode_info_cleanup(&info);
    /* create over a stored object keeps showing the object to readers */
    CHECK_INT(mrap_inode_upsert_keep(t, MRAP_ROOT_INO, "f", &fresh, 1, &cur), ino);
    CHECK_INT(cur.size, 9);
    CHECK_STR(cur.etag, "\"abc\"");
    uint64_t n = mrap_inode_upsert_keep(t, MRAP_ROOT_INO, "new", &fresh, 1, &cur);
    CHECK(n && cur.etag[0] == '\0', "a new file has no object yet");
    mrap_inode_hold(t, ino, false);
    CHECK_INT(mrap_inode_find_fresh(t, MRAP_ROOT_INO, "f", &info, 0), -ENOENT);
    mrap_inode_table_destroy(t);
}

int main(void)
{
    test_registry();
    test_staging();
    test_inode_hold();
    return mrap_test_finish();
}
