/*
 * Private to the signer (s3/sigv4.c, s3/sigv4a_key.c, s3/uri.c) and to its
 * tests and test tools. Not a contract for the rest of mrapfs: use s3/sigv4.h.
 */
#ifndef MRAP_S3_SIGV4_INTERNAL_H
#define MRAP_S3_SIGV4_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "s3/creds.h"
#include "util/buf.h"

/* Bounds on what the signer accepts (-EINVAL beyond them). */
#define MRAP_SIG_MAX_HEADERS      128
#define MRAP_SIG_MAX_NAME_BYTES   256
#define MRAP_SIG_MAX_VALUE_BYTES  16384
#define MRAP_SIG_MAX_PATH_BYTES   16384
#define MRAP_SIG_MAX_QUERY_BYTES  32768
#define MRAP_SIG_MAX_QUERY_PARAMS 256
#define MRAP_SIG_MAX_CRED_BYTES   4096 /* access key id, secret key, session token each */
/* Upper bound on any string the signer builds (canonical request, query). */
#define MRAP_SIG_MAX_OUT_BYTES (1u << 20)

/* An uncompressed P-256 point: 0x04 || X || Y. */
#define MRAP_P256_PUB_BYTES 65

/* ---- s3/uri.c ---------------------------------------------------------- */

/* Appends the SigV4 encoding of s[0..len) to b (see mrap_uri_encode). 0 or -EFBIG/-ENOMEM. */
int mrap_uri_encode_append(struct mrap_buf *b, const char *s, size_t len, bool keep_slash);

/* Appends the %XX-decoding of s[0..len) to b ('+' is left alone, as AWS does).
 * -EINVAL on a '%' not followed by two hex digits. */
int mrap_uri_decode_append(struct mrap_buf *b, const char *s, size_t len);

/* Appends path with empty and "." segments removed and ".." popping one segment
 * (never above the root); keeps a trailing '/'. Always starts with '/'. */
int mrap_uri_normalize_path_append(struct mrap_buf *b, const char *path, size_t len);

/* One unencoded query parameter that the signer adds when presigning. */
struct mrap_query_param {
    const char *name;
    const char *value;
};

/*
 * Appends the canonical query string of the wire query `query` (may be NULL)
 * plus `extra` (unencoded) to b: each parameter decoded, re-encoded per SigV4,
 * sorted by name then value, joined by '&'. Parameters of the wire query whose
 * name is reserved for the signature (X-Amz-Signature, X-Amz-Date, ...; case
 * ignored) are refused with -EINVAL, as are malformed escapes and more than
 * MRAP_SIG_MAX_QUERY_PARAMS parameters.
 */
int mrap_uri_canonical_query_append(struct mrap_buf *b, const char *query,
                                    const struct mrap_query_param *extra, size_t n_extra);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void mrap_hex_encode(const unsigned char *in, size_t n, char *out);

/* ---- s3/sigv4a_key.c --------------------------------------------------- */

/*
 * Derives the SigV4A private scalar of (access key id, secret) into priv
 * (32 bytes, big-endian), as aws-c-auth does. The caller wipes priv.
 * 0, -EINVAL (empty id or secret), -ENOMEM or -EIO.
 */
int mrap_sigv4a_derive_scalar(const char *access_key_id, const char *secret,
                              unsigned char priv[32]);

/* A P-256 key pair from a private scalar (priv is not kept). NULL on failure. */
EVP_PKEY *mrap_sigv4a_pkey_from_scalar(const unsigned char priv[32]);

/* A P-256 public key from an uncompressed point. NULL on failure. */
EVP_PKEY *mrap_sigv4a_pkey_from_public(const unsigned char pub[MRAP_P256_PUB_BYTES]);

/* The public point of a P-256 key, uncompressed. 0 or -EIO. */
int mrap_sigv4a_pkey_public(EVP_PKEY *pkey, unsigned char pub[MRAP_P256_PUB_BYTES]);

/* ECDSA(SHA-256(msg)) as lower-case hex DER. Returns a heap string or NULL. */
char *mrap_sigv4a_sign_hex(EVP_PKEY *pkey, const char *msg, size_t len);

/* 1 valid, 0 invalid, -EINVAL malformed hex, -EIO crypto failure. */
int mrap_sigv4a_verify_hex(EVP_PKEY *pkey, const char *msg, size_t len, const char *sig_hex);

/* The per-signer cache of derived keys (mutex inside). */
struct mrap_sigv4a_cache;
struct mrap_sigv4a_cache *mrap_sigv4a_cache_new(void);
void mrap_sigv4a_cache_destroy(struct mrap_sigv4a_cache *c); /* wipes and frees; accepts NULL */

/* The key for creds, derived on first use. Returns a new reference the caller
 * frees with EVP_PKEY_free, in *out. 0, -EINVAL, -ENOMEM or -EIO. Thread-safe. */
int mrap_sigv4a_cache_get(struct mrap_sigv4a_cache *c, const struct mrap_credentials *creds,
                          EVP_PKEY **out);

/* Number of derivations performed so far (tests check that keys are cached). */
unsigned long mrap_sigv4a_cache_derivations(struct mrap_sigv4a_cache *c);

/* For tests and tools: the public point of the key derived from creds. */
struct mrap_signer;
int mrap_signer_v4a_public_key(struct mrap_signer *s, const struct mrap_credentials *creds,
                               unsigned char pub[MRAP_P256_PUB_BYTES]);
unsigned long mrap_signer_v4a_derivations(struct mrap_signer *s);

#endif
