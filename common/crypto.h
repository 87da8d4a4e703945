/*
 * crypto.h: the primitives both programs need, on OpenSSL's libcrypto: HMAC-SHA256, SHA-256,
 * MD5 (one-shot and streaming), Azure's CRC64, random bytes, constant-time comparison and
 * wiping of secrets. AES-256-CBC streaming comes with the Migration API work.
 */
#ifndef SPMIG_CRYPTO_H
#define SPMIG_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_MD5_LEN    16

/* HMAC-SHA256 of msg under key into out. Returns 0, or -1 if OpenSSL fails. */
int crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                       unsigned char out[CRYPTO_SHA256_LEN]);
int crypto_sha256(const void *data, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);
int crypto_md5(const void *data, size_t n, unsigned char out[CRYPTO_MD5_LEN]);

/* Streaming MD5; the struct is opaque, made with crypto_md5_create and freed by _final or
 * _destroy (destroy(NULL) is a no-op). */
struct crypto_md5;
struct crypto_md5 *crypto_md5_create(void);
void crypto_md5_update(struct crypto_md5 *m, const void *data, size_t n);
/* Writes the digest and frees m. */
void crypto_md5_final(struct crypto_md5 *m, unsigned char out[CRYPTO_MD5_LEN]);
void crypto_md5_destroy(struct crypto_md5 *m);

/*
 * Azure Storage's CRC64 (the one x-ms-content-crc64 carries: polynomial 0x9A6C9329AC4BC9B5,
 * reflected, initial value and final xor ~0). Feed crc = 0 for the first chunk and the result
 * of the previous call for the next; the 8 bytes on the wire are the value little-endian.
 */
uint64_t crypto_crc64(uint64_t crc, const void *data, size_t n);

/* Fills buf with n cryptographically random bytes; aborts if the RNG fails. */
void crypto_random(void *buf, size_t n);
/* Constant-time equality of two buffers of the same length. */
bool crypto_memeq(const void *a, const void *b, size_t n);
/* Constant-time equality of two strings (time depends on the lengths only). */
bool crypto_streq(const char *a, const char *b);
/* Overwrites n bytes with zeros in a way the compiler cannot drop. */
void crypto_wipe(void *buf, size_t n);

#endif
