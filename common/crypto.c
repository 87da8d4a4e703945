/*
 * crypto.c: the primitives of crypto.h on OpenSSL's libcrypto (HMAC-SHA256, SHA-256, MD5,
 * random bytes, constant-time comparison, wiping) plus Azure's CRC64, which OpenSSL lacks and
 * is computed here with a slicing-by-8 table. It holds no keys and knows no protocol.
 */
#include "crypto.h"
#include "xmalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

/* OpenSSL takes int lengths in places; bigger inputs are fed in pieces of this size. */
#define INT_CHUNK (1u << 30)

int crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                       unsigned char out[CRYPTO_SHA256_LEN])
{
    unsigned int outlen = 0;
    if (keylen > INT_CHUNK)
        return -1;
    if (!HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &outlen) ||
        outlen != CRYPTO_SHA256_LEN)
        return -1;
    return 0;
}

static int digest(const EVP_MD *md, const void *data, size_t n, unsigned char *out,
                  unsigned int want)
{
    unsigned int outlen = 0;
    if (!EVP_Digest(data, n, out, &outlen, md, NULL) || outlen != want)
        return -1;
    return 0;
}

int crypto_sha256(const void *data, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
    return digest(EVP_sha256(), data, n, out, CRYPTO_SHA256_LEN);
}

int crypto_md5(const void *data, size_t n, unsigned char out[CRYPTO_MD5_LEN])
{
    return digest(EVP_md5(), data, n, out, CRYPTO_MD5_LEN);
}

struct crypto_md5 {
    EVP_MD_CTX *ctx;
};

/* A digest context failing after a good init means OpenSSL itself is broken (or out of
 * memory): like xmalloc, give up loudly rather than hand out a wrong digest. */
static void md5_fail(const char *what)
{
    fprintf(stderr, "spmig: OpenSSL MD5 %s failed\n", what);
    abort();
}

struct crypto_md5 *crypto_md5_create(void)
{
    struct crypto_md5 *m = xmalloc(sizeof *m);
    m->ctx = EVP_MD_CTX_new();
    if (!m->ctx)
        goto fail;
    if (!EVP_DigestInit_ex(m->ctx, EVP_md5(), NULL))
        goto fail_ctx;
    return m;

fail_ctx:
    EVP_MD_CTX_free(m->ctx);
fail:
    free(m);
    return NULL;
}

void crypto_md5_update(struct crypto_md5 *m, const void *data, size_t n)
{
    if (n && !EVP_DigestUpdate(m->ctx, data, n))
        md5_fail("update");
}

void crypto_md5_final(struct crypto_md5 *m, unsigned char out[CRYPTO_MD5_LEN])
{
    unsigned int outlen = 0;
    if (!EVP_DigestFinal_ex(m->ctx, out, &outlen) || outlen != CRYPTO_MD5_LEN)
        md5_fail("final");
    crypto_md5_destroy(m);
}

void crypto_md5_destroy(struct crypto_md5 *m)
{
    if (!m)
        return;
    EVP_MD_CTX_free(m->ctx);
    free(m);
}

/*
 * CRC64 as Azure Storage computes it (x-ms-content-crc64): reflected polynomial
 * 0x9A6C9329AC4BC9B5, initial value ~0, final xor ~0 (the catalogue's CRC-64/NVME).
 * Known answers, verified in the unit test: "123456789" -> 0xae8b14860a799888 (the
 * catalogue check value, also from an independent bitwise Python implementation) and
 * "Hello Azure!" -> 0xc7a37fbfa4d9d80e, "DtjZpL9/o8c=" little-endian in base64, the value
 * the Azure SDK for C++ asserts in its crypt_functions_test.cpp.
 * table[0] is the ordinary byte-at-a-time table; table[k][b] is the CRC of byte b followed
 * by k zero bytes, which lets the loop fold eight bytes per step.
 */
#define CRC64_POLY 0x9A6C9329AC4BC9B5ULL

static uint64_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
    for (unsigned b = 0; b < 256; b++) {
        uint64_t c = b;
        for (int i = 0; i < 8; i++)
            c = (c >> 1) ^ ((c & 1) ? CRC64_POLY : 0);
        crc_table[0][b] = c;
    }
    for (unsigned b = 0; b < 256; b++) {
        uint64_t c = crc_table[0][b];
        for (int k = 1; k < 8; k++) {
            c = (c >> 8) ^ crc_table[0][c & 0xff];
            crc_table[k][b] = c;
        }
    }
}

uint64_t crypto_crc64(uint64_t crc, const void *data, size_t n)
{
    pthread_once(&crc_once, crc_table_init);
    const unsigned char *p = data;
    crc = ~crc;
    while (n >= 8) {
        /* Little-endian load, whatever the host order. */
        uint64_t v = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
                     (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
                     (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
        crc ^= v;
        crc = crc_table[7][crc & 0xff] ^ crc_table[6][(crc >> 8) & 0xff] ^
              crc_table[5][(crc >> 16) & 0xff] ^ crc_table[4][(crc >> 24) & 0xff] ^
              crc_table[3][(crc >> 32) & 0xff] ^ crc_table[2][(crc >> 40) & 0xff] ^
              crc_table[1][(crc >> 48) & 0xff] ^ crc_table[0][crc >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

/* Small draws (IVs, ids: 16 bytes at a time, thousands a second) come from a per-thread pool
 * filled by RAND_bytes 4 KiB at a time: one call into OpenSSL's locked DRBG per 256 draws.
 * A pool drawn before a fork() is dropped in the child. Bytes handed out are wiped. */
#define RANDOM_POOL 4096
static _Thread_local unsigned char pool[RANDOM_POOL];
static _Thread_local size_t pool_left;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* In a child, the thread that forked is the only one, and its pool is its parent's. */
static void pool_forget(void)
{
    OPENSSL_cleanse(pool, sizeof pool);
    pool_left = 0;
}

static void pool_init(void)
{
    pthread_atfork(NULL, NULL, pool_forget);
}

static void rand_bytes(unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t take = n < INT_CHUNK ? n : INT_CHUNK;
        if (RAND_bytes(p, (int)take) != 1) {
            fprintf(stderr, "spmig: OpenSSL RAND_bytes failed\n");
            abort();
        }
        p += take;
        n -= take;
    }
}

void crypto_random(void *buf, size_t n)
{
    if (n > 64) {
        rand_bytes(buf, n);
        return;
    }
    pthread_once(&pool_once, pool_init);
    if (pool_left < n) {
        rand_bytes(pool, sizeof pool);
        pool_left = sizeof pool;
    }
    unsigned char *from = pool + sizeof pool - pool_left;
    memcpy(buf, from, n);
    OPENSSL_cleanse(from, n);
    pool_left -= n;
}

bool crypto_memeq(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

bool crypto_streq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    /* Leaving early on a length difference reveals only the lengths, which the contract
     * allows; the contents are compared in constant time. */
    if (la != lb)
        return false;
    return CRYPTO_memcmp(a, b, la) == 0;
}

void crypto_wipe(void *buf, size_t n)
{
    if (n)
        OPENSSL_cleanse(buf, n);
}
