/* The inode table: lookup counts, forget, type changes, growth. */
#include "fs/inode.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    struct timespec t0 = {1000, 0};
    struct mrap_inode_table *t = mrap_inode_table_new(60, t0);
    struct mrap_inode_attr dir = {.is_dir = true}, file = {.size = 42};
    struct mrap_inode_info info;

    uint64_t a = mrap_inode_upsert(t, MRAP_ROOT_INO, "a", &dir, 1);
    uint64_t b = mrap_inode_upsert(t, a, "b.txt", &file, 1);
    CHECK(a > MRAP_ROOT_INO && b > a, "fresh numbers");
    CHECK_INT(mrap_inode_upsert(t, MRAP_ROOT_INO, "a", &dir, 1), a);
    CHECK_INT(mrap_inode_get(t, b, &info), 0);
    CHECK_STR(info.key, "a/b.txt");
    CHECK_INT(info.attr.size, 42);
    mrap_inode_info_cleanup(&info);
    CHECK_INT(mrap_inode_upsert(t, b, "x", &file, 1), 0); /* a file has no children */

    /* a name that turns into a directory gets a new inode; the old lives until forgotten */
    uint64_t b2 = mrap_inode_upsert(t, a, "b.txt", &dir, 1);
    CHECK(b2 != b, "type change gives a new inode");
    CHECK_INT(mrap_inode_get(t, b, &info), 0);
    mrap_inode_info_cleanup(&info);
    CHECK_INT(mrap_inode_find_fresh(t, a, "b.txt", &info, 0), 0);
    CHECK_INT(info.ino, b2);
    mrap_inode_info_cleanup(&info);
    mrap_inode_forget(t, b, 1);
    CHECK_INT(mrap_inode_get(t, b, &info), -ENOENT);

    /* lookup counts: two lookups need two forgets */
    mrap_inode_forget(t, a, 1);
    CHECK_INT(mrap_inode_get(t, a, &info), 0);
    mrap_inode_info_cleanup(&info);
    mrap_inode_forget(t, a, 5);
    CHECK_INT(mrap_inode_get(t, a, &info), -ENOENT);
    mrap_inode_forget(t, MRAP_ROOT_INO, 100);
    CHECK_INT(mrap_inode_get(t, MRAP_ROOT_INO, &info), 0);
    CHECK_STR(info.key, "");
    mrap_inode_info_cleanup(&info);

    /* ETag tracking for keep_cache */
    uint64_t c = mrap_inode_upsert(t, MRAP_ROOT_INO, "c", &file, 1);
    CHECK(!mrap_inode_note_open(t, c, "\"e1\""), "first open drops the cache");
    CHECK(mrap_inode_note_open(t, c, "\"e1\""), "same ETag keeps it");
    CHECK(!mrap_inode_note_open(t, c, "\"e2\""), "new ETag drops it");

    /* growth past the initial buckets */
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        if (!mrap_inode_upsert(t, MRAP_ROOT_INO, name, &file, 1))
            CHECK(false, "upsert %d", i);
    }
    CHECK_INT(mrap_inode_count(t), 5003); /* root, a/b.txt (dir), c, f0..f4999 */
    CHECK_INT(mrap_inode_find_fresh(t, MRAP_ROOT_INO, "f4999", &info, 0), 0);
    CHECK_STR(info.key, "f4999");
    mrap_inode_info_cleanup(&info);

    /* stale entries are not served */
    struct mrap_inode_table *t2 = mrap_inode_table_new(0, t0);
    mrap_inode_upsert(t2, MRAP_ROOT_INO, "s", &file, 1);
    CHECK_INT(mrap_inode_find_fresh(t2, MRAP_ROOT_INO, "s", &info, 0), -ENOENT);
    mrap_inode_table_destroy(t2);
    mrap_inode_table_destroy(t);
    return mrap_test_finish();
}
