/*
 * CRC32C: published vectors (the "123456789" check value and RFC 3720's
 * iSCSI examples), the base64 form S3 uses, hardware == software on random
 * data at every alignment, and incremental == one-shot.
 */
#include "util/crc32c.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_vectors(void)
{
    unsigned char buf[48];

    CHECK_INT(mrap_crc32c(0, "123456789", 9), 0xE3069283u);
    CHECK_INT(mrap_crc32c_sw(0, "123456789", 9), 0xE3069283u);
    CHECK_INT(mrap_crc32c(0, "", 0), 0);
    CHECK_INT(mrap_crc32c(0, NULL, 0), 0);

    /* RFC 3720 B.4 */
    memset(buf, 0, 32);
    CHECK_INT(mrap_crc32c(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, 32);
    CHECK_INT(mrap_crc32c(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)i;
    CHECK_INT(mrap_crc32c(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)(31 - i);
    CHECK_INT(mrap_crc32c(0, buf, 32), 0x113FDB5Cu);
    static const unsigned char pdu[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    CHECK_INT(mrap_crc32c(0, pdu, sizeof(pdu)), 0xD9963A56u);
    CHECK_INT(mrap_crc32c_sw(0, pdu, sizeof(pdu)), 0xD9963A56u);
}

static void test_base64(void)
{
    char out[9];
    uint32_t v = 0;
    mrap_crc32c_base64(0xE3069283u, out);
    CHECK_STR(out, "4waSgw==");
    mrap_crc32c_base64(0, out);
    CHECK_STR(out, "AAAAAA==");
    mrap_crc32c_base64(0xFFFFFFFFu, out);
    CHECK_STR(out, "/////w==");
    CHECK_INT(mrap_crc32c_from_base64("4waSgw==", &v), 0);
    CHECK_INT(v, 0xE3069283u);
    CHECK_INT(mrap_crc32c_from_base64("/////w==", &v), 0);
    CHECK_INT(v, 0xFFFFFFFFu);
    CHECK_INT(mrap_crc32c_from_base64("4waSgw=", &v), -EINVAL);
    CHECK_INT(mrap_crc32c_from_base64("4waSg!==", &v), -EINVAL);
    CHECK_INT(mrap_crc32c_from_base64("4waSgx==", &v), -EINVAL); /* stray low bits */
    CHECK_INT(mrap_crc32c_from_base64(NULL, &v), -EINVAL);
    /* Round trip on a spread of values. */
    bool all = true;
    for (uint32_t x = 1; x && x < 0xF0000000u; x = x * 7 + 13) {
        mrap_crc32c_base64(x, out);
        all = all && mrap_crc32c_from_base64(out, &v) == 0 && v == x;
    }
    CHECK(all, "base64 round trip");
}

static void test_hw_sw_incremental(void)
{
    enum { N = 1 << 16 };
    unsigned char *data = malloc(N + 16);
    unsigned seed = 12345;
    for (size_t i = 0; i < N + 16; i++) {
        seed = seed * 1103515245u + 12345u;
        data[i] = (unsigned char)(seed >> 16);
    }
    uint32_t whole = mrap_crc32c_sw(0, data, N);
    CHECK_INT(mrap_crc32c(0, data, N), whole);

    if (mrap_crc32c_hw_available()) {
        bool same = true;
        for (size_t off = 0; off < 16; off++)
            for (size_t len = 0; len < 300; len += 1 + len / 7)
                same = same &&
                       mrap_crc32c_hw(0, data + off, len) == mrap_crc32c_sw(0, data + off, len);
        same = same && mrap_crc32c_hw(0, data + 3, N) == mrap_crc32c_sw(0, data + 3, N);
        CHECK(same, "SSE4.2 == slicing-by-8 at every alignment and length");
        /* Lengths around the interleaved loop's rounds (3 x 4 KiB), chained
         * from a non-zero CRC, at an odd offset. */
        bool inter = true;
        for (size_t len = 3 * 4096 - 9; len < N - 16; len += 3 * 4096 - 1)
            for (size_t d = 0; d < 18; d += 1 + d)
                inter = inter && mrap_crc32c_hw(0x1234567u, data + 5, len + d) ==
                                     mrap_crc32c_sw(0x1234567u, data + 5, len + d);
        CHECK(inter, "interleaved SSE4.2 chains == slicing-by-8 across round boundaries");
    } else {
        printf("# no SSE4.2 on this CPU: the hardware path is not exercised\n");
    }

    /* Incremental, in uneven pieces, both implementations. */
    uint32_t a = 0, b = 0;
    size_t pos = 0, step = 1;
    while (pos < N) {
        size_t n = step < N - pos ? step : N - pos;
        a = mrap_crc32c(a, data + pos, n);
        b = mrap_crc32c_sw(b, data + pos, n);
        pos += n;
        step = step * 3 + 1;
    }
    CHECK_INT(a, whole);
    CHECK_INT(b, whole);
    free(data);
}

int main(void)
{
    test_vectors();
    test_base64();
    test_hw_sw_incremental();
    return mrap_test_finish();
}
