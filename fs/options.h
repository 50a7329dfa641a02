/*
 * mrapfs configuration: parsed once from the command line (long options and
 * -o lists, so that fstab and mount(8) work) and read-only afterwards.
 */
#ifndef MRAP_FS_OPTIONS_H
#define MRAP_FS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "s3/client.h"

struct mrap_fs_config {
    enum mrap_s3_target target;
    char *source;       /* the <MRAP> argument as given */
    char *name;         /* MRAP alias or bucket name */
    char *account_id;   /* from an ARN, or NULL */
    char *region;       /* bucket mode */
    char *mountpoint;   /* absolute */
    char *endpoint_url; /* --endpoint-url, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL */
    bool endpoint_url_from_env; /* not --endpoint-url: S3 Control picks its own (fs/main.c) */
    char *prefix;       /* "" or "dir/" */
    char *profile;
    char *ca_bundle;
    char *log_file;
    bool foreground;
    bool read_only;
    bool allow_other;
    bool allow_root;
    bool auto_unmount;
    bool debug;
    bool fuse_debug;
    uid_t uid;
    gid_t gid;
    mode_t file_mode;
    mode_t dir_mode;
    unsigned max_connections;
    double metadata_ttl_s;
    /* Writes (fs/wfile.c, fs/staging.c) */
    char *cache_dir;            /* staging files; default /var/tmp/mrapfs-<uid> */
    uint64_t max_staging_bytes; /* all staging files together; default 10 GiB */
    bool ignore_setattr;        /* chmod/chown/utimens of stored objects: succeed, no effect */
    double abort_stale_uploads_s; /* at mount, abort uploads older than this; < 0: off */
    /* Reads (fs/readcache.c, cache/) */
    unsigned memory_cache_mib; /* block cache in memory; default 256 */
    unsigned disk_cache_mib;   /* disk tier under <cache>/blocks; default 1024 */
    bool disk_cache_enabled;   /* --cache or --max-cache-size was given */
    unsigned read_ahead_mib;   /* sequential read-ahead window cap; default 256 */
    /* xattrs (fs/xattr_set.c) */
    bool allow_retention_bypass; /* user.s3.retention may shorten/remove GOVERNANCE retention */
};

enum mrap_fs_parse_result {
    MRAP_FS_PARSE_OK = 0,
    MRAP_FS_PARSE_EXIT = 1, /* --help or --version was printed: exit 0 */
};

/*
 * Parses argv as `mrapfs [OPTIONS] <MRAP> <MOUNTPOINT>`, or, when
 * as_mount_helper, as mount(8) calls a helper: `mount.mrapfs <MRAP> <DIR>
 * [-sfnv] [-o opts]`. Returns MRAP_FS_PARSE_OK, MRAP_FS_PARSE_EXIT, or -EINVAL
 * with a one-line reason in err.
 */
int mrap_fs_options_parse(int argc, char **argv, bool as_mount_helper,
                          struct mrap_fs_config *cfg, char *err, size_t errlen);
void mrap_fs_options_cleanup(struct mrap_fs_config *cfg);
void mrap_fs_options_usage(const char *prog);

#endif
