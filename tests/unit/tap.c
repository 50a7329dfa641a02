#include "tap.h"

#include <stdarg.h>
#include <stdio.h>

/* Test-process counters: each test binary is its own single-threaded process. */
static int passed, failed, skipped;

void mrap_test_check(bool ok, const char *file, int line, const char *fmt, ...)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void mrap_test_skip(const char *why)
{
    skipped++;
    fprintf(stderr, "SKIP: %s\n", why);
}

int mrap_test_finish(void)
{
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    if (failed)
        return 1;
    if (!passed && skipped)
        return 77;
    return 0;
}
