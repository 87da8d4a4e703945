/*
 * aes.h: AES-256-CBC with PKCS7 padding, the cipher of the Migration API (blobs, manifests,
 * queue messages, logs). Streaming for blobs of any size, one-shot for small buffers. Keys
 * are never copied outside OpenSSL's context, which destroy wipes.
 */
#ifndef SPMIG_AES_H
#define SPMIG_AES_H

#include <stdbool.h>
#include <stddef.h>

#define AES_KEY_LEN   32 /* AES-256 */
#define AES_IV_LEN    16
#define AES_BLOCK_LEN 16

/* Opaque streaming context, made by aes_create and freed by aes_destroy. */
struct aes;

/*
 * A context that encrypts (encrypt = true) or decrypts with key and iv. The caller may wipe
 * its copy of the key right after. NULL if OpenSSL fails.
 */
struct aes *aes_create(const unsigned char key[AES_KEY_LEN], const unsigned char iv[AES_IV_LEN],
                       bool encrypt);
/*
 * Feeds n bytes of in; out must hold n + AES_BLOCK_LEN bytes (in and out must not overlap).
 * *outlen gets the number of bytes written, which may be less or more than n: CBC works in
 * whole blocks and decryption holds the last block back until aes_final. 0, or -1 if OpenSSL
 * fails or the context is already finished.
 */
int aes_update(struct aes *a, const void *in, size_t n, unsigned char *out, size_t *outlen);
/*
 * Ends the stream: encrypting writes the padded last block (always 16 bytes); decrypting
 * checks and strips the padding and writes what is left of the last block (0 to 15 bytes).
 * out holds AES_BLOCK_LEN bytes. Returns -1 when decrypting input that was not a whole,
 * non-zero number of blocks or whose padding is wrong (the usual sign of a wrong key); the
 * plaintext already returned by aes_update must then be thrown away. The context can only be
 * destroyed afterwards.
 */
int aes_final(struct aes *a, unsigned char *out, size_t *outlen);
/* Wipes and frees the context; aes_destroy(NULL) is a no-op. */
void aes_destroy(struct aes *a);

/*
 * One-shot forms. Return a new buffer of *outlen bytes that the caller frees with free()
 * (NUL-terminated for convenience, the terminator not counted), or NULL on failure: for
 * decryption, bad padding or a length that is not a whole, non-zero number of blocks.
 * Ciphertext is n + 16 - n % 16 bytes: a whole padding block is added when n is a multiple
 * of 16.
 */
unsigned char *aes_encrypt_buf(const unsigned char key[AES_KEY_LEN],
                               const unsigned char iv[AES_IV_LEN], const void *in, size_t n,
                               size_t *outlen);
unsigned char *aes_decrypt_buf(const unsigned char key[AES_KEY_LEN],
                               const unsigned char iv[AES_IV_LEN], const void *in, size_t n,
                               size_t *outlen);

#endif
