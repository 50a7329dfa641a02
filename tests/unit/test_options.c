/* Command-line and -o parsing, including the mount(8) helper form. */
#include "fs/options.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse(bool helper, struct mrap_fs_config *cfg, char *err, int argc, char **argv)
{
    return mrap_fs_options_parse(argc, argv, helper, cfg, err, 256);
}

int main(void)
{
    struct mrap_fs_config cfg;
    char err[256];
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_S3");

    char *a1[] = {"mrapfs", "--endpoint-url", "http://localhost:9000", "-f", "--prefix=logs/",
                  "--file-mode", "0600", "--max-connections", "8",
                  "arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap", "/tmp"};
    CHECK_INT(parse(false, &cfg, err, 11, a1), 0);
    CHECK_STR(cfg.name, "mfzwi23gnjvgw.mrap");
    CHECK_STR(cfg.account_id, "111122223333");
    CHECK_STR(cfg.endpoint_url, "http://localhost:9000");
    CHECK_STR(cfg.prefix, "logs/");
    CHECK(cfg.foreground, "-f");
    CHECK_INT(cfg.file_mode, 0600);
    CHECK_INT(cfg.max_connections, 8);
    CHECK_INT(cfg.target, MRAP_S3_TARGET_MRAP);
    mrap_fs_options_cleanup(&cfg);

    char *a2[] = {"mount.mrapfs", "mfzwi23gnjvgw.mrap", "/tmp", "-o",
                  "rw,_netdev,endpoint_url=http://localhost:1,uid=5,ro,allow_other,metadata-ttl=2.5"};
    CHECK_INT(parse(true, &cfg, err, 5, a2), 0);
    CHECK(cfg.read_only && cfg.allow_other, "ro and allow_other");
    CHECK_INT(cfg.uid, 5);
    CHECK(cfg.metadata_ttl_s == 2.5, "ttl");
    mrap_fs_options_cleanup(&cfg);

    char *a3[] = {"mrapfs", "-o", "bogus=1", "mfzwi23gnjvgw.mrap", "/tmp"};
    CHECK_INT(parse(false, &cfg, err, 5, a3), -EINVAL);
    CHECK(strstr(err, "bogus") != NULL, "names the bad option: %s", err);
    mrap_fs_options_cleanup(&cfg);

    char *a4[] = {"mrapfs", "Not-An-Alias", "/tmp"};
    CHECK_INT(parse(false, &cfg, err, 3, a4), -EINVAL);
    mrap_fs_options_cleanup(&cfg);

    char *a5[] = {"mrapfs", "arn:aws:s3:us-east-1:111122223333:accesspoint/x", "/tmp"};
    CHECK_INT(parse(false, &cfg, err, 3, a5), -EINVAL);
    mrap_fs_options_cleanup(&cfg);

    char *a6[] = {"mrapfs", "mfzwi23gnjvgw.mrap", "/nonexistent/dir"};
    CHECK_INT(parse(false, &cfg, err, 3, a6), -EINVAL);
    mrap_fs_options_cleanup(&cfg);

    char *a7[] = {"mrapfs", "--prefix", "/abs", "mfzwi23gnjvgw.mrap", "/tmp"};
    CHECK_INT(parse(false, &cfg, err, 5, a7), -EINVAL);
    mrap_fs_options_cleanup(&cfg);

    char *a8[] = {"mrapfs", "s3://my-bucket", "/tmp", "--region", "eu-west-1"};
    CHECK_INT(parse(false, &cfg, err, 5, a8), 0);
    CHECK_INT(cfg.target, MRAP_S3_TARGET_BUCKET);
    CHECK_STR(cfg.name, "my-bucket");
    mrap_fs_options_cleanup(&cfg);

    char *a9[] = {"mrapfs", "--file-mode", "999", "mfzwi23gnjvgw.mrap", "/tmp"};
    CHECK_INT(parse(false, &cfg, err, 5, a9), -EINVAL);
    mrap_fs_options_cleanup(&cfg);

    setenv("AWS_ENDPOINT_URL", "http://localhost:7", 1);
    char *a10[] = {"mrapfs", "mfzwi23gnjvgw.mrap", "/tmp"};
    CHECK_INT(parse(false, &cfg, err, 3, a10), 0);
    CHECK_STR(cfg.endpoint_url, "http://localhost:7");
    /* write defaults */
    CHECK(cfg.max_staging_bytes == 10ull << 30, "staging default 10 GiB");
    CHECK(cfg.abort_stale_uploads_s < 0, "stale uploads off by default");
    CHECK(!cfg.ignore_setattr, "setattr refused by default");
    CHECK(cfg.cache_dir && strncmp(cfg.cache_dir, "/var/tmp/mrapfs-", 16) == 0, "cache default");
    mrap_fs_options_cleanup(&cfg);

    char *a11[] = {"mrapfs", "--cache", "/tmp/stage", "--max-staging-size=64M",
                   "-o", "ignore_setattr,abort-stale-uploads=0", "mfzwi23gnjvgw.mrap", "/tmp"};
    CHECK_INT(parse(false, &cfg, err, 8, a11), 0);
    CHECK_STR(cfg.cache_dir, "/tmp/stage");
    CHECK(cfg.max_staging_bytes == 64ull << 20, "64M");
    CHECK(cfg.ignore_setattr, "ignore_setattr via -o");
    CHECK(cfg.abort_stale_uploads_s == 0, "abort-stale-uploads=0");
    mrap_fs_options_cleanup(&cfg);

    char *a12[] = {"mrapfs", "-o", "max_staging_size=1T,cache=rel", "mfzwi23gnjvgw.mrap", "/tmp"};
    CHECK_INT(parse(false, &cfg, err, 5, a12), 0);
    CHECK(cfg.max_staging_bytes == 1ull << 40, "1T");
    CHECK(cfg.cache_dir && cfg.cache_dir[0] == '/' && strstr(cfg.cache_dir, "/rel"),
          "relative cache made absolute: %s", cfg.cache_dir);
    mrap_fs_options_cleanup(&cfg);

    char *bad_sizes[] = {"10X", "-1", "", "99999999999T", "1.5G"};
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        char *a13[] = {"mrapfs", "--max-staging-size", bad_sizes[i],
                       "mfzwi23gnjvgw.mrap", "/tmp"};
        CHECK_INT(parse(false, &cfg, err, 5, a13), -EINVAL);
        CHECK(strstr(err, "max-staging-size") != NULL, "names the option: %s", err);
        mrap_fs_options_cleanup(&cfg);
    }
    char *a14[] = {"mrapfs", "--abort-stale-uploads", "-5", "mfzwi23gnjvgw.mrap", "/tmp"};
    CHECK_INT(parse(false, &cfg, err, 5, a14), -EINVAL);
    mrap_fs_options_cleanup(&cfg);
    return mrap_test_finish();
}
