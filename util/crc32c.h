/*
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum S3
 * computes for x-amz-checksum-crc32c, where it travels as the base64 of the
 * big-endian 4-byte value.
 *
 * mrap_crc32c() uses the SSE4.2 crc32 instruction when the CPU has it (checked
 * at run time on every call: one load and a test) and a slicing-by-8 table
 * otherwise. Both give identical results; the table is built once, on first
 * use, under pthread_once. Every function here is thread-safe and allocates
 * nothing.
 */
#ifndef MRAP_UTIL_CRC32C_H
#define MRAP_UTIL_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Continues a CRC32C: pass 0 to start, then the previous result to go on, so
 * mrap_crc32c(mrap_crc32c(0, a, n), b, m) == the CRC of a followed by b.
 * data may be NULL when len is 0.
 */
uint32_t mrap_crc32c(uint32_t crc, const void *data, size_t len);

/* The table (software) implementation, always available; for tests and benchmarks. */
uint32_t mrap_crc32c_sw(uint32_t crc, const void *data, size_t len);

/* Whether mrap_crc32c() uses the CPU's crc32 instruction. */
bool mrap_crc32c_hw_available(void);

/* The SSE4.2 implementation; only call it when mrap_crc32c_hw_available(). */
uint32_t mrap_crc32c_hw(uint32_t crc, const void *data, size_t len);

/* base64 of the big-endian value, as S3 sends it ("4waSgw==" for 0xE3069283):
 * 8 characters and a NUL. */
void mrap_crc32c_base64(uint32_t crc, char out[9]);

/* The reverse: 0, or -EINVAL when s is not the base64 of exactly 4 bytes. */
int mrap_crc32c_from_base64(const char *s, uint32_t *crc);

#endif
