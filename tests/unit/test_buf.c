/* The bounded buffer: growth, the hard limit, and NUL termination. */
#include "tap.h"
#include "util/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    struct mrap_buf b;
    mrap_buf_init(&b, 10);
    CHECK_STR(mrap_buf_str(&b), "");
    CHECK_INT(mrap_buf_append_str(&b, "hello"), 0);
    CHECK_INT(mrap_buf_printf(&b, "%d", 1234), 0);
    CHECK_STR(mrap_buf_str(&b), "hello1234");
    CHECK_INT(mrap_buf_append_str(&b, "ab"), -EFBIG);
    CHECK_STR(mrap_buf_str(&b), "hello1234");
    CHECK_INT(mrap_buf_printf(&b, "%s", "xy"), -EFBIG);
    CHECK_INT(mrap_buf_append_str(&b, "z"), 0);
    CHECK_INT(b.len, 10);
    CHECK(b.cap <= 11, "capacity never exceeds max + NUL (%zu)", b.cap);
    char *s = mrap_buf_steal(&b);
    CHECK_STR(s, "hello1234z");
    CHECK_INT(b.len, 0);
    free(s);

    mrap_buf_init(&b, 1 << 20);
    for (int i = 0; i < 100000; i++)
        mrap_buf_append(&b, "0123456789", 10);
    CHECK_INT(b.len, 1000000);
    CHECK_INT(mrap_buf_reserve(&b, 1 << 20), -EFBIG);
    mrap_buf_reset(&b);
    CHECK_INT(b.len, 0);
    mrap_buf_cleanup_secure(&b);
    mrap_buf_cleanup(NULL);
    return mrap_test_finish();
}
