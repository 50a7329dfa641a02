/*
 * One logging entry point for every layer: mrap_log(level, subsystem, fmt, ...).
 *
 * Destination and level are chosen once by mrap_log_init() in main(), before any
 * thread starts, and are read-only afterwards; this is the only process-wide
 * state in mrapfs, because threading a logger through every call would cost
 * more clarity than it buys. Lines are written whole (one write(2) or syslog(3)
 * call each), so concurrent threads never interleave inside a line.
 *
 * Never pass secrets, signatures or Authorization headers to these functions.
 */
#ifndef MRAP_UTIL_LOG_H
#define MRAP_UTIL_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum mrap_log_level {
    MRAP_LOG_ERROR = 0,
    MRAP_LOG_WARN = 1,
    MRAP_LOG_INFO = 2,
    MRAP_LOG_DEBUG = 3,
};

enum mrap_log_dest {
    MRAP_LOG_STDERR = 0,
    MRAP_LOG_FILE,
    MRAP_LOG_SYSLOG,
};

struct mrap_log_opts {
    enum mrap_log_level level;
    enum mrap_log_dest dest;
    const char *path; /* for MRAP_LOG_FILE; opened O_APPEND */
    const char *ident; /* syslog ident, default "mrapfs" */
};

/* Returns 0 or a negative errno (the log file could not be opened). */
int mrap_log_init(const struct mrap_log_opts *opts);
void mrap_log_shutdown(void);
bool mrap_log_enabled(enum mrap_log_level level);

void mrap_log(enum mrap_log_level level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mrap_vlog(enum mrap_log_level level, const char *subsys, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Debug lines cost one branch when debug is off: arguments are not evaluated. */
#define MRAP_DEBUG(subsys, ...)                                                                    \
    do {                                                                                           \
        if (mrap_log_enabled(MRAP_LOG_DEBUG))                                                      \
            mrap_log(MRAP_LOG_DEBUG, (subsys), __VA_ARGS__);                                       \
    } while (0)

#endif
