/*
 * --abort-stale-uploads AGE: at mount, multipart uploads under the mount's
 * prefix that were initiated more than AGE seconds ago are aborted.
 *
 * Why: a writer that dies mid-upload (kill -9, a crash, a lost network)
 * leaves its parts stored and billed but invisible. Those uploads can only
 * be found with ListMultipartUploads. AGE protects uploads of other clients
 * still writing; 0 aborts every upload under the prefix, so use it only when
 * nothing else writes there.
 *
 * Bounded: at most MAX_PAGES pages of 1,000 uploads are looked at per mount.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/fs.h"
#include "s3/write.h"
#include "util/log.h"

#define MAX_PAGES 100

int mrap_fs_abort_stale_uploads(struct mrap_s3_client *s3, const char *prefix, double age_s)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char *key_marker = NULL, *id_marker = NULL;
    unsigned aborted = 0, failed = 0, kept = 0;
    int rc = 0;
    for (int page_no = 0; page_no < MAX_PAGES; page_no++) {
        struct mrap_s3_upload_page pg;
        struct mrap_s3_error err;
        memset(&pg, 0, sizeof(pg));
        memset(&err, 0, sizeof(err));
        rc = mrap_s3_list_uploads(s3, prefix, key_marker, id_marker, &pg, &err);
        if (rc) {
            char msg[600];
            mrap_s3_error_format(&err, msg, sizeof(msg));
            mrap_log(MRAP_LOG_WARN, "stale", "cannot list multipart uploads under \"%s\": %s",
                     prefix, err.http_status ? msg : strerror(-rc));
            break;
        }
        for (size_t i = 0; i < pg.n; i++) {
            const struct mrap_s3_upload *u = &pg.uploads[i];
            double age = difftime(now.tv_sec, u->initiated.tv_sec);
            if (age < age_s) {
                kept++;
                continue;
            }
            memset(&err, 0, sizeof(err));
            int arc = mrap_s3_mpu_abort(s3, u->key, u->upload_id, &err);
            if (arc && arc != -ENOENT) {
                char msg[600];
                mrap_s3_error_format(&err, msg, sizeof(msg));
                mrap_log(MRAP_LOG_WARN, "stale", "cannot abort the upload of %s: %s", u->key,
                         err.http_status ? msg : strerror(-arc));
                failed++;
            } else {
                mrap_log(MRAP_LOG_INFO, "stale", "aborted the upload of %s (%.0f s old)", u->key,
                         age);
                aborted++;
            }
        }
        free(key_marker);
        free(id_marker);
        key_marker = pg.truncated ? pg.next_key_marker : NULL;
        id_marker = pg.truncated ? pg.next_upload_id_marker : NULL;
        if (pg.truncated) {
            pg.next_key_marker = NULL;
            pg.next_upload_id_marker = NULL;
        }
        bool more = pg.truncated && key_marker;
        mrap_s3_upload_page_cleanup(&pg);
        if (!more)
            break;
    }
    free(key_marker);
    free(id_marker);
    mrap_log(MRAP_LOG_INFO, "stale",
             "stale uploads under \"%s\": %u aborted, %u younger than %.0f s kept, %u failed",
             prefix, aborted, kept, age_s, failed);
    return rc;
}
