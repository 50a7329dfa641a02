/*
 * SigV4A keys: derivation from an AWS secret key, ECDSA P-256 signing and
 * verification, and the per-signer cache of derived keys.
 *
 * Derivation (as aws-c-auth's key_derivation.c, which every AWS SDK follows):
 * NIST SP 800-108 KDF in counter mode with HMAC-SHA256, one 256-bit block:
 *
 *   k0 = HMAC-SHA256(key  = "AWS4A" || secret,
 *                    data = 0x00000001 || "AWS4-ECDSA-P256-SHA256" || 0x00 ||
 *                           access_key_id || counter (1 byte) || 0x00000100)
 *
 * for counter = 1, 2, ... until k0 <= n - 2 (n = the P-256 group order), and
 * the private scalar is k0 + 1, which is then in [1, n-1]. The comparison and
 * the increment run in constant time, because k0 is secret.
 *
 * Keys are OpenSSL 3 EVP_PKEYs built with OSSL_PARAM_BLD and EVP_PKEY_fromdata
 * (no deprecated EC_KEY API). The public point is computed with EC_POINT_mul
 * so that the key carries it (OpenSSL 3.0 does not derive it on import).
 *
 * Cache: derivation costs a few HMACs plus a scalar multiplication, and every
 * request is signed, so each signer keeps up to CACHE_MAX keys, looked up by
 * access key id plus a SHA-256 tag of the secret (so new credentials for the
 * same id replace the old key rather than reusing it). The secret itself is
 * never stored. One mutex guards the table; it is held during a derivation,
 * which is CPU-only and short — never across I/O. Callers get their own
 * reference to the EVP_PKEY, so an eviction never frees a key in use.
 */
#include "s3/sigv4_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#define SIGV4A_ALG_NAME   "AWS4-ECDSA-P256-SHA256"
#define SECRET_PREFIX     "AWS4A"
#define MAX_COUNTER       254
#define CACHE_MAX         8
#define CACHE_TAG_CONTEXT "mrapfs sigv4a cache tag"
#define ECDSA_DER_MAX     80 /* a P-256 DER signature is at most 72 bytes */

/* n - 2 for the P-256 group order n, big-endian. */
static const unsigned char p256_n_minus_2[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x4F,
};

/* 1 when a > b (both 32-byte big-endian), in time independent of the values. */
static unsigned be32_greater_ct(const unsigned char *a, const unsigned char *b)
{
    unsigned gt = 0, eq = 1;
    for (size_t i = 0; i < 32; i++) {
        unsigned x = a[i], y = b[i];
        gt |= ((y - x) >> 31) & eq; /* x > y while equal so far */
        eq &= ((x ^ y) - 1) >> 31;  /* x == y */
    }
    return gt & 1;
}

static void be32_add_one_ct(unsigned char *a)
{
    unsigned carry = 1;
    for (size_t i = 32; i-- > 0;) {
        unsigned d = a[i] + carry;
        a[i] = (unsigned char)d;
        carry = d >> 8;
    }
}

int mrap_sigv4a_derive_scalar(const char *access_key_id, const char *secret, unsigned char priv[32])
{
    size_t id_len = access_key_id ? strlen(access_key_id) : 0;
    size_t secret_len = secret ? strlen(secret) : 0;
    unsigned char *key = NULL, *input = NULL;
    unsigned char k0[32];
    unsigned int k0_len = 0;
    size_t key_len, input_len;
    int rc = -EIO;

    if (!id_len || !secret_len || id_len > MRAP_SIG_MAX_CRED_BYTES ||
        secret_len > MRAP_SIG_MAX_CRED_BYTES)
        return -EINVAL;
    key_len = sizeof(SECRET_PREFIX) - 1 + secret_len;
    input_len = 4 + sizeof(SIGV4A_ALG_NAME) - 1 + 1 + id_len + 1 + 4;
    key = malloc(key_len);
    input = malloc(input_len);
    if (!key || !input) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(key, SECRET_PREFIX, sizeof(SECRET_PREFIX) - 1);
    memcpy(key + sizeof(SECRET_PREFIX) - 1, secret, secret_len);

    unsigned char *p = input;
    memcpy(p, "\x00\x00\x00\x01", 4);
    p += 4;
    memcpy(p, SIGV4A_ALG_NAME, sizeof(SIGV4A_ALG_NAME) - 1);
    p += sizeof(SIGV4A_ALG_NAME) - 1;
    *p++ = 0x00;
    memcpy(p, access_key_id, id_len);
    p += id_len;
    unsigned char *counter = p++;
    memcpy(p, "\x00\x00\x01\x00", 4); /* output length in bits: 256 */

    for (unsigned c = 1; c <= MAX_COUNTER; c++) {
        *counter = (unsigned char)c;
        if (!HMAC(EVP_sha256(), key, (int)key_len, input, input_len, k0, &k0_len) ||
            k0_len != sizeof(k0))
            goto out;
        if (!be32_greater_ct(k0, p256_n_minus_2)) {
            memcpy(priv, k0, 32);
            be32_add_one_ct(priv);
            rc = 0;
            goto out;
        }
    }
    /* Probability about 2^-(32*254): unreachable in practice. */
out:
    OPENSSL_cleanse(k0, sizeof(k0));
    if (key)
        OPENSSL_cleanse(key, key_len);
    free(key);
    free(input);
    return rc;
}

static int p256_public_from_scalar(const unsigned char priv[32],
                                   unsigned char pub[MRAP_P256_PUB_BYTES])
{
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *pt = group ? EC_POINT_new(group) : NULL;
    BN_CTX *bctx = BN_CTX_secure_new();
    BIGNUM *d = BN_secure_new();
    int rc = -EIO;

    if (!group || !pt || !bctx || !d)
        goto out;
    if (!BN_bin2bn(priv, 32, d) || !EC_POINT_mul(group, pt, d, NULL, NULL, bctx))
        goto out;
    if (EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, pub, MRAP_P256_PUB_BYTES,
                           bctx) != MRAP_P256_PUB_BYTES)
        goto out;
    rc = 0;
out:
    BN_clear_free(d);
    BN_CTX_free(bctx);
    EC_POINT_free(pt);
    EC_GROUP_free(group);
    return rc;
}

/* Builds an EC key from parameters; priv may be NULL for a public key. */
static EVP_PKEY *p256_pkey_build(const unsigned char *priv, const unsigned char *pub)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *d = NULL;

    if (!bld)
        goto out;
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, MRAP_P256_PUB_BYTES))
        goto out;
    if (priv) {
        d = BN_secure_new();
        if (!d || !BN_bin2bn(priv, 32, d) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d))
            goto out;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0)
        goto out;
    if (EVP_PKEY_fromdata(ctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
out:
    EVP_PKEY_CTX_free(ctx);
    /* d is a secure BIGNUM, so OSSL_PARAM_BLD put the scalar's copy in the secure
     * block of params, which OSSL_PARAM_free releases with a clearing free. */
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(d);
    return pkey;
}

EVP_PKEY *mrap_sigv4a_pkey_from_scalar(const unsigned char priv[32])
{
    unsigned char pub[MRAP_P256_PUB_BYTES];
    if (p256_public_from_scalar(priv, pub))
        return NULL;
    return p256_pkey_build(priv, pub);
}

EVP_PKEY *mrap_sigv4a_pkey_from_public(const unsigned char pub[MRAP_P256_PUB_BYTES])
{
    return p256_pkey_build(NULL, pub);
}

int mrap_sigv4a_pkey_public(EVP_PKEY *pkey, unsigned char pub[MRAP_P256_PUB_BYTES])
{
    size_t len = 0;
    if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pub, MRAP_P256_PUB_BYTES,
                                         &len) ||
        len != MRAP_P256_PUB_BYTES || pub[0] != 0x04)
        return -EIO;
    return 0;
}

char *mrap_sigv4a_sign_hex(EVP_PKEY *pkey, const char *msg, size_t len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[ECDSA_DER_MAX];
    size_t der_len = sizeof(der);
    char *hex = NULL;

    if (!md || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, pkey, NULL) <= 0)
        goto out;
    if (EVP_DigestSign(md, der, &der_len, (const unsigned char *)msg, len) <= 0)
        goto out;
    hex = malloc(2 * der_len + 1);
    if (hex)
        mrap_hex_encode(der, der_len, hex);
out:
    EVP_MD_CTX_free(md);
    return hex;
}

int mrap_sigv4a_verify_hex(EVP_PKEY *pkey, const char *msg, size_t len, const char *sig_hex)
{
    unsigned char der[ECDSA_DER_MAX];
    size_t hex_len = sig_hex ? strlen(sig_hex) : 0;
    EVP_MD_CTX *md = NULL;
    int rc;

    if (!hex_len || hex_len % 2 || hex_len / 2 > sizeof(der))
        return -EINVAL;
    for (size_t i = 0; i < hex_len / 2; i++) {
        int v = OPENSSL_hexchar2int((unsigned char)sig_hex[2 * i]);
        int w = OPENSSL_hexchar2int((unsigned char)sig_hex[2 * i + 1]);
        if (v < 0 || w < 0)
            return -EINVAL;
        der[i] = (unsigned char)(v << 4 | w);
    }
    md = EVP_MD_CTX_new();
    if (!md || EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pkey, NULL) <= 0) {
        rc = -EIO;
        goto out;
    }
    /* 1 = valid; 0 or a negative value (e.g. DER that does not parse) = invalid. */
    rc = EVP_DigestVerify(md, der, hex_len / 2, (const unsigned char *)msg, len) == 1;
out:
    EVP_MD_CTX_free(md);
    return rc;
}

/* ---- the cache ---------------------------------------------------------- */

struct cache_entry {
    char *access_key_id;    /* NULL = free slot */
    unsigned char tag[32];  /* SHA-256(CACHE_TAG_CONTEXT || secret) */
    EVP_PKEY *pkey;         /* holds the private scalar; freed (and wiped) by OpenSSL */
    unsigned long last_use; /* for eviction of the least recently used */
};

struct mrap_sigv4a_cache {
    pthread_mutex_t lock;
    /* All below guarded by lock. */
    struct cache_entry entries[CACHE_MAX];
    unsigned long clock;
    unsigned long derivations;
};

struct mrap_sigv4a_cache *mrap_sigv4a_cache_new(void)
{
    struct mrap_sigv4a_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (pthread_mutex_init(&c->lock, NULL)) {
        free(c);
        return NULL;
    }
    return c;
}

static void cache_entry_clear(struct cache_entry *e)
{
    free(e->access_key_id);
    EVP_PKEY_free(e->pkey);
    OPENSSL_cleanse(e, sizeof(*e));
}

void mrap_sigv4a_cache_destroy(struct mrap_sigv4a_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < CACHE_MAX; i++)
        cache_entry_clear(&c->entries[i]);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static int secret_tag(const char *secret, unsigned char tag[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = -EIO;
    if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) > 0 &&
        EVP_DigestUpdate(md, CACHE_TAG_CONTEXT, sizeof(CACHE_TAG_CONTEXT)) > 0 &&
        EVP_DigestUpdate(md, secret, strlen(secret)) > 0 && EVP_DigestFinal_ex(md, tag, NULL) > 0)
        rc = 0;
    EVP_MD_CTX_free(md);
    return rc;
}

static EVP_PKEY *derive_pkey(const struct mrap_credentials *creds, int *rc)
{
    unsigned char priv[32];
    EVP_PKEY *pkey = NULL;

    *rc = mrap_sigv4a_derive_scalar(creds->access_key_id, creds->secret_access_key, priv);
    if (!*rc) {
        pkey = mrap_sigv4a_pkey_from_scalar(priv);
        if (!pkey)
            *rc = -EIO;
    }
    OPENSSL_cleanse(priv, sizeof(priv));
    return pkey;
}

int mrap_sigv4a_cache_get(struct mrap_sigv4a_cache *c, const struct mrap_credentials *creds,
                          EVP_PKEY **out)
{
    unsigned char tag[32];
    struct cache_entry *hit = NULL, *slot = NULL;
    int rc;

    *out = NULL;
    if (!creds || !creds->access_key_id || !creds->access_key_id[0] || !creds->secret_access_key ||
        !creds->secret_access_key[0] || strlen(creds->access_key_id) > MRAP_SIG_MAX_CRED_BYTES)
        return -EINVAL;
    rc = secret_tag(creds->secret_access_key, tag);
    if (rc)
        return rc;

    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < CACHE_MAX; i++) {
        struct cache_entry *e = &c->entries[i];
        if (!e->access_key_id) {
            if (!slot || slot->access_key_id)
                slot = e;
            continue;
        }
        if (strcmp(e->access_key_id, creds->access_key_id) == 0) {
            if (CRYPTO_memcmp(e->tag, tag, sizeof(tag)) == 0)
                hit = e;
            else
                slot = e; /* new secret for this id: replace the stale key */
            break;
        }
        if (!slot || (slot->access_key_id && e->last_use < slot->last_use))
            slot = e;
    }
    if (!hit) {
        EVP_PKEY *pkey = derive_pkey(creds, &rc);
        char *id = pkey ? strdup(creds->access_key_id) : NULL;
        if (!pkey || !id) {
            EVP_PKEY_free(pkey);
            free(id);
            if (!rc)
                rc = -ENOMEM;
            goto out;
        }
        c->derivations++;
        cache_entry_clear(slot);
        slot->access_key_id = id;
        memcpy(slot->tag, tag, sizeof(tag));
        slot->pkey = pkey;
        hit = slot;
    }
    hit->last_use = ++c->clock;
    if (!EVP_PKEY_up_ref(hit->pkey)) {
        rc = -EIO;
        goto out;
    }
    *out = hit->pkey;
    rc = 0;
out:
    pthread_mutex_unlock(&c->lock);
    OPENSSL_cleanse(tag, sizeof(tag));
    return rc;
}

unsigned long mrap_sigv4a_cache_derivations(struct mrap_sigv4a_cache *c)
{
    pthread_mutex_lock(&c->lock);
    unsigned long n = c->derivations;
    pthread_mutex_unlock(&c->lock);
    return n;
}
