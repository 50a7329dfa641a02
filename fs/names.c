/*
 * Key-to-name rules and the warn-once set.
 *
 * S3 keys are arbitrary byte strings up to 1,024 bytes; POSIX names are not.
 * Keys that cannot be represented are skipped, never mangled (a mangled name
 * could collide with a real key), and each is reported once per mount so a
 * bucket with a million bad keys does not flood the log: the set of warned
 * keys is bounded, and past the bound further warnings are summarised.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "fs/staging.h"
#include "fs/upload.h"
#include "fs/writers.h"
#include "fs/xattr.h"
#include "util/log.h"

#define WARNED_MAX 4096

struct mrap_warned {
    pthread_mutex_t lock; /* guards all below */
    char **keys;          /* open-addressed set of WARNED_MAX * 2 slots */
    size_t count;
    bool overflow_reported;
};

bool mrap_fs_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > 255)
        return false;
    if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
        return false;
    return memchr(name, '\0', len) == NULL && memchr(name, '/', len) == NULL;
}

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* true when the key is new to the set (and was added, or the set is full) */
static bool warned_insert(struct mrap_warned *w, const char *key, bool *full)
{
    size_t slots = WARNED_MAX * 2;
    size_t i = hash_str(key) % slots;
    *full = false;
    for (size_t probe = 0; probe < slots; probe++, i = (i + 1) % slots) {
        if (!w->keys[i]) {
            if (w->count >= WARNED_MAX) {
                *full = true;
                return true;
            }
            w->keys[i] = strdup(key);
            if (w->keys[i])
                w->count++;
            return true;
        }
        if (strcmp(w->keys[i], key) == 0)
            return false;
    }
    *full = true;
    return true;
}

void mrap_fs_warn_once(struct mrap_fs *fs, const char *key, const char *what)
{
    struct mrap_warned *w = fs->warned;
    bool full, report, summary = false;
    pthread_mutex_lock(&w->lock);
    report = warned_insert(w, key, &full);
    if (full) {
        report = false;
        summary = !w->overflow_reported;
        w->overflow_reported = true;
    }
    pthread_mutex_unlock(&w->lock);
    if (report)
        mrap_log(MRAP_LOG_WARN, "fs", "key \"%s\": %s", key, what);
    if (summary)
        mrap_log(MRAP_LOG_WARN, "fs", "more than %d keys skipped; not reporting further ones",
                 WARNED_MAX);
}

static struct mrap_warned *warned_new(void)
{
    struct mrap_warned *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->keys = calloc(WARNED_MAX * 2, sizeof(*w->keys));
    if (!w->keys) {
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    return w;
}

static void warned_destroy(struct mrap_warned *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < WARNED_MAX * 2; i++)
        free(w->keys[i]);
    free(w->keys);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int mrap_fs_init(struct mrap_fs *fs, const struct mrap_fs_config *cfg, struct mrap_s3_client *s3)
{
    memset(fs, 0, sizeof(*fs));
    fs->cfg = cfg;
    fs->s3 = s3;
    atomic_init(&fs->setattr_warned, false);
    atomic_init(&fs->routes_hint_logged, false);
    clock_gettime(CLOCK_REALTIME, &fs->mount_time);
    fs->inodes = mrap_inode_table_new(cfg->metadata_ttl_s, fs->mount_time);
    fs->warned = warned_new();
    int rc = fs->inodes && fs->warned ? 0 : -ENOMEM;
    if (!rc)
        rc = mrap_writers_new(&fs->writers);
    if (!rc)
        rc = mrap_upload_pool_new(cfg->max_connections, &fs->uploads);
    if (!rc)
        rc = mrap_fs_readcache_init(fs);
    if (!rc)
        rc = mrap_xattr_cache_new(cfg->metadata_ttl_s, 4096, &fs->xattrs);
    if (!rc && !cfg->read_only)
        rc = mrap_staging_new(cfg->cache_dir, cfg->max_staging_bytes, &fs->staging);
    if (rc)
        mrap_fs_cleanup(fs);
    return rc;
}

void mrap_fs_cleanup(struct mrap_fs *fs)
{
    mrap_upload_pool_destroy(fs->uploads); /* finishes parts still queued */
    mrap_staging_destroy(fs->staging);
    mrap_fs_readcache_cleanup(fs);
    mrap_writers_destroy(fs->writers);
    mrap_inode_table_destroy(fs->inodes);
    warned_destroy(fs->warned);
    mrap_xattr_cache_destroy(fs->xattrs);
    fs->xattrs = NULL;
    fs->uploads = NULL;
    fs->staging = NULL;
    fs->writers = NULL;
    fs->inodes = NULL;
    fs->warned = NULL;
}

int mrap_fs_child_key(struct mrap_fs *fs, uint64_t parent, const char *name, char **key)
{
    struct mrap_inode_info pi;
    size_t nlen = strlen(name);
    *key = NULL;
    if (nlen > 255)
        return -ENAMETOOLONG;
    if (!mrap_fs_name_valid(name, nlen))
        return -EINVAL;
    int rc = mrap_inode_get(fs->inodes, parent, &pi);
    if (rc)
        return rc;
    if (!pi.attr.is_dir)
        rc = -ENOTDIR;
    else if (pi.key[0])
        rc = asprintf(key, "%s/%s", pi.key, name) < 0 ? (*key = NULL, -ENOMEM) : 0;
    else
        rc = (*key = strdup(name)) ? 0 : -ENOMEM;
    mrap_inode_info_cleanup(&pi);
    if (!rc && strlen(fs->cfg->prefix) + strlen(*key) > MRAP_S3_KEY_MAX) {
        free(*key);
        *key = NULL;
        rc = -ENAMETOOLONG;
    }
    return rc;
}

char *mrap_fs_s3_key(const struct mrap_fs *fs, const char *inode_key)
{
    char *k = NULL;
    if (asprintf(&k, "%s%s", fs->cfg->prefix, inode_key) < 0)
        return NULL;
    return k;
}

char *mrap_fs_s3_dir_prefix(const struct mrap_fs *fs, const char *inode_key)
{
    char *k = NULL;
    if (asprintf(&k, "%s%s%s", fs->cfg->prefix, inode_key, inode_key[0] ? "/" : "") < 0)
        return NULL;
    return k;
}
