/*
 * A minimal test harness for the C unit tests: CHECK records a pass or a
 * failure with its location and goes on, so one run reports every failure.
 * mrap_test_finish() prints "N passed, N failed" and returns the exit code
 * (77 = skipped, for CTest's SKIP_RETURN_CODE, when nothing ran and the test
 * asked to be skipped).
 */
#ifndef MRAP_TEST_TAP_H
#define MRAP_TEST_TAP_H

#include <stdbool.h>

void mrap_test_check(bool ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void mrap_test_skip(const char *why);
int mrap_test_finish(void);

#define CHECK(cond, ...) mrap_test_check((cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        mrap_test_check(a_ == b_, __FILE__, __LINE__, "%s == %s (%lld vs %lld)", #a, #b, a_, b_);  \
    } while (0)
#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        mrap_test_check(a_ && b_ && strcmp(a_, b_) == 0, __FILE__, __LINE__,                       \
                        "%s == %s (\"%s\" vs \"%s\")", #a, #b, a_ ? a_ : "(null)",                 \
                        b_ ? b_ : "(null)");                                                       \
    } while (0)

#endif
