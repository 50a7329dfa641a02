/*
 * mrapctl --wait: polls DescribeMultiRegionAccessPointOperation until the
 * request is SUCCEEDED or FAILED, or --timeout passes.
 *
 * The poll interval starts short (creations in the emulator, and policy
 * changes on AWS, finish in seconds) and grows by half each time up to 10 s
 * (an MRAP creation on AWS takes many minutes; polling it every fraction of a
 * second would only spend request quota). Each sleep is cut short at the
 * deadline, so the bound holds to within one describe call.
 *
 * Progress goes to stderr: on a terminal one line rewritten in place at every
 * poll; otherwise (a log, a pipe) a line only when the status changes, so the
 * log says when each state was reached without repeating itself.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"

#define POLL_FIRST_MS 200
#define POLL_MAX_MS   10000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static bool final(const char *status)
{
    return strcmp(status, "SUCCEEDED") == 0 || strcmp(status, "FAILED") == 0;
}

int mrapctl_wait(struct mrapctl *c, const char *token, struct mrap_s3_async_op *op)
{
    struct mrap_s3_control *ctl;
    bool tty = isatty(STDERR_FILENO);
    char last[sizeof(op->status)] = "";
    double start = now_s(), deadline = start + c->o.timeout_s, interval = POLL_FIRST_MS / 1000.0;
    int rc = mrapctl_control(c, &ctl);
    memset(op, 0, sizeof(*op));
    if (rc)
        return rc;
    for (;;) {
        mrap_s3_async_op_cleanup(op);
        rc = mrap_s3_control_describe(ctl, token, op, &c->err);
        double elapsed = now_s() - start;
        if (rc) {
            if (tty && last[0])
                fputc('\n', stderr);
            return mrapctl_fail(c, rc);
        }
        if (tty)
            fprintf(stderr, "\r\033[Kelapsed %.1fs  status %s", elapsed, op->status);
        else if (strcmp(last, op->status) != 0)
            fprintf(stderr, "elapsed %.1fs  status %s\n", elapsed, op->status);
        snprintf(last, sizeof(last), "%s", op->status);
        if (final(op->status))
            break;
        double left = deadline - now_s();
        if (left <= 0) {
            if (tty)
                fputc('\n', stderr);
            return mrapctl_error(c, MRAPCTL_TIMEOUT,
                                 "gave up after %us; the request is still %s and may yet "
                                 "finish: mrapctl describe-operation %s",
                                 c->o.timeout_s, op->status, token);
        }
        sleep_s(interval < left ? interval : left);
        interval = interval * 1.5 > POLL_MAX_MS / 1000.0 ? POLL_MAX_MS / 1000.0 : interval * 1.5;
    }
    if (tty)
        fputc('\n', stderr);
    if (strcmp(op->status, "FAILED") == 0) {
        char rid[160] = "";
        if (op->error_request_id[0])
            snprintf(rid, sizeof(rid), " (request id %s)", op->error_request_id);
        return mrapctl_error(c, MRAPCTL_REMOTE, "%s FAILED: %s: %s%s%s%s%s",
                             op->operation[0] ? op->operation : "operation",
                             op->has_error ? op->error_code : "unknown error",
                             op->has_error ? op->error_message : "S3 gave no details",
                             op->error_resource[0] ? " [" : "", op->error_resource,
                             op->error_resource[0] ? "]" : "", rid);
    }
    return MRAPCTL_OK;
}
