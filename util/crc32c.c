/*
 * CRC32C, two ways, same answers.
 *
 * Hardware: x86's SSE4.2 `crc32` instruction computes exactly this CRC (the
 * reflected Castagnoli polynomial) eight bytes at a time. It is compiled with
 * __attribute__((target("sse4.2"))) so the rest of the program does not
 * require SSE4.2, and only called after __builtin_cpu_supports("sse4.2").
 * One dependent chain of crc32q runs at about 8 bytes per 3 cycles (the
 * instruction's latency), while the unit accepts one per cycle. The read
 * cache checks every block on every read, so long inputs run three chains
 * over three consecutive stretches of STRIDE bytes at once and merge them:
 * by linearity, crc(A B) = shift(crc(A), |B|) ^ crc0(B), where shift(x, n)
 * is the register after n zero bytes, a linear map on 32 bits applied here
 * with four 256-entry tables (built once from 32 basis vectors).
 *
 * Software: slicing-by-8 (Intel's, as in zlib and the Linux kernel): eight
 * 256-entry tables let each step fold eight input bytes with eight lookups.
 * The tables are computed once under pthread_once rather than pasted as 2,048
 * literals; after that they are read-only.
 *
 * The CRC is kept in the "inverted" register form only inside a call: callers
 * pass and receive the finished value, so calls chain (crc of a then b).
 */
#include "util/crc32c.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define MRAP_CRC32C_X86 1
#else
#define MRAP_CRC32C_X86 0
#endif

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc_tables[8][256]; /* written once by build_tables() under crc_once */
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

#define STRIDE 4096u                  /* bytes per chain per round of the interleaved loop */
static uint32_t shift_tables[4][256]; /* x -> x after STRIDE zero bytes; under shift_once */
static pthread_once_t shift_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        crc_tables[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int t = 1; t < 8; t++)
            crc_tables[t][n] =
                (crc_tables[t - 1][n] >> 8) ^ crc_tables[0][crc_tables[t - 1][n] & 0xff];
}

/* Little-endian load of 4 bytes, whatever the alignment and the host's byte order. */
static uint32_t load32_le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t mrap_crc32c_sw(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    pthread_once(&crc_once, build_tables);
    crc = ~crc;
    while (len >= 8) {
        uint32_t lo = load32_le(p) ^ crc;
        uint32_t hi = load32_le(p + 4);
        crc = crc_tables[7][lo & 0xff] ^ crc_tables[6][(lo >> 8) & 0xff] ^
              crc_tables[5][(lo >> 16) & 0xff] ^ crc_tables[4][lo >> 24] ^
              crc_tables[3][hi & 0xff] ^ crc_tables[2][(hi >> 8) & 0xff] ^
              crc_tables[1][(hi >> 16) & 0xff] ^ crc_tables[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ crc_tables[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

#if MRAP_CRC32C_X86
bool mrap_crc32c_hw_available(void)
{
    return __builtin_cpu_supports("sse4.2");
}

/* The register after STRIDE zero bytes, starting from x (no inversions). */
__attribute__((target("sse4.2"))) static uint32_t zeros_slow(uint32_t x)
{
    for (unsigned i = 0; i < STRIDE; i += 4)
        x = _mm_crc32_u32(x, 0);
    return x;
}

__attribute__((target("sse4.2"))) static void build_shift_tables(void)
{
    uint32_t basis[32];
    for (int bit = 0; bit < 32; bit++)
        basis[bit] = zeros_slow(1u << bit);
    for (int t = 0; t < 4; t++)
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int bit = 0; bit < 8; bit++)
                if (b & (1u << bit))
                    v ^= basis[t * 8 + bit];
            shift_tables[t][b] = v;
        }
}

static uint32_t shift_stride(uint32_t x)
{
    return shift_tables[0][x & 0xff] ^ shift_tables[1][(x >> 8) & 0xff] ^
           shift_tables[2][(x >> 16) & 0xff] ^ shift_tables[3][x >> 24];
}

__attribute__((target("sse4.2"))) uint32_t mrap_crc32c_hw(uint32_t crc, const void *data,
                                                          size_t len)
{
    const unsigned char *p = data;
    uint32_t c = ~crc;
    /* Bytes up to an 8-byte boundary, so the main loop's loads are aligned. */
    while (len && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8(c, *p++);
        len--;
    }
#if defined(__x86_64__)
    uint64_t c64 = c;
    if (len >= 3 * STRIDE)
        pthread_once(&shift_once, build_shift_tables);
    while (len >= 3 * STRIDE) {
        uint64_t a = c64, b = 0, d = 0;
        for (unsigned i = 0; i < STRIDE; i += 8) {
            uint64_t va, vb, vd;
            memcpy(&va, p + i, 8);
            memcpy(&vb, p + STRIDE + i, 8);
            memcpy(&vd, p + 2 * STRIDE + i, 8);
            a = _mm_crc32_u64(a, va);
            b = _mm_crc32_u64(b, vb);
            d = _mm_crc32_u64(d, vd);
        }
        uint32_t ab = shift_stride((uint32_t)a) ^ (uint32_t)b;
        c64 = shift_stride(ab) ^ (uint32_t)d;
        p += 3 * STRIDE;
        len -= 3 * STRIDE;
    }
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = _mm_crc32_u64(c64, v);
        p += 8;
        len -= 8;
    }
    c = (uint32_t)c64;
#endif
    while (len >= 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        c = _mm_crc32_u32(c, v);
        p += 4;
        len -= 4;
    }
    while (len--)
        c = _mm_crc32_u8(c, *p++);
    return ~c;
}
#else
bool mrap_crc32c_hw_available(void)
{
    return false;
}

uint32_t mrap_crc32c_hw(uint32_t crc, const void *data, size_t len)
{
    return mrap_crc32c_sw(crc, data, len);
}
#endif

uint32_t mrap_crc32c(uint32_t crc, const void *data, size_t len)
{
    if (len == 0)
        return crc;
    if (mrap_crc32c_hw_available())
        return mrap_crc32c_hw(crc, data, len);
    return mrap_crc32c_sw(crc, data, len);
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void mrap_crc32c_base64(uint32_t crc, char out[9])
{
    /* 4 bytes = 32 bits: five full sextets from the first 30 bits, then the
     * last 2 bits padded to a sextet, then "==". */
    unsigned char b[4] = {(unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
                          (unsigned char)(crc >> 8), (unsigned char)crc};
    out[0] = b64_alphabet[b[0] >> 2];
    out[1] = b64_alphabet[((b[0] & 3) << 4) | (b[1] >> 4)];
    out[2] = b64_alphabet[((b[1] & 15) << 2) | (b[2] >> 6)];
    out[3] = b64_alphabet[b[2] & 63];
    out[4] = b64_alphabet[b[3] >> 2];
    out[5] = b64_alphabet[(b[3] & 3) << 4];
    out[6] = '=';
    out[7] = '=';
    out[8] = '\0';
}

int mrap_crc32c_from_base64(const char *s, uint32_t *crc)
{
    int v[6];
    if (!s || strlen(s) != 8 || s[6] != '=' || s[7] != '=')
        return -EINVAL;
    for (int i = 0; i < 6; i++) {
        const char *hit = s[i] ? strchr(b64_alphabet, s[i]) : NULL;
        if (!hit)
            return -EINVAL;
        v[i] = (int)(hit - b64_alphabet);
    }
    if (v[5] & 15)
        return -EINVAL; /* non-canonical: bits beyond the 32nd set */
    *crc = (uint32_t)v[0] << 26 | (uint32_t)v[1] << 20 | (uint32_t)v[2] << 14 |
           (uint32_t)v[3] << 8 | (uint32_t)v[4] << 2 | (uint32_t)v[5] >> 4;
    return 0;
}
