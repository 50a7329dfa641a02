/*
 * Logging. See log.h for the contract. The configuration below is written
 * only by mrap_log_init()/mrap_log_shutdown(), which main() calls while the
 * process is single-threaded; every other function only reads it.
 */
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static struct {
    enum mrap_log_level level;
    enum mrap_log_dest dest;
    int fd;
} log_cfg = {MRAP_LOG_INFO, MRAP_LOG_STDERR, STDERR_FILENO};

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const int syslog_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

int mrap_log_init(const struct mrap_log_opts *opts)
{
    log_cfg.level = opts->level;
    log_cfg.dest = opts->dest;
    log_cfg.fd = STDERR_FILENO;
    if (opts->dest == MRAP_LOG_FILE) {
        int fd = open(opts->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0)
            return -errno;
        log_cfg.fd = fd;
    } else if (opts->dest == MRAP_LOG_SYSLOG) {
        openlog(opts->ident ? opts->ident : "mrapfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    }
    return 0;
}

void mrap_log_shutdown(void)
{
    if (log_cfg.dest == MRAP_LOG_FILE && log_cfg.fd > STDERR_FILENO)
        close(log_cfg.fd);
    else if (log_cfg.dest == MRAP_LOG_SYSLOG)
        closelog();
    log_cfg.dest = MRAP_LOG_STDERR;
    log_cfg.fd = STDERR_FILENO;
}

bool mrap_log_enabled(enum mrap_log_level level)
{
    return level <= log_cfg.level;
}

void mrap_vlog(enum mrap_log_level level, const char *subsys, const char *fmt, va_list ap)
{
    if (!mrap_log_enabled(level))
        return;
    char msg[2048];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* Control characters from remote data (keys, S3 messages) must not forge log lines. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    if (log_cfg.dest == MRAP_LOG_SYSLOG) {
        syslog(syslog_prio[level], "%s: %s", subsys, msg);
        return;
    }
    char line[2200];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], subsys, msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    /* One write per line keeps lines whole across threads; a short write is not retried
     * because logging must never block the filesystem on a broken log destination. */
    ssize_t w = write(log_cfg.fd, line, (size_t)n);
    (void)w;
}

void mrap_log(enum mrap_log_level level, const char *subsys, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mrap_vlog(level, subsys, fmt, ap);
    va_end(ap);
}
