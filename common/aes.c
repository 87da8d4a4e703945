/*
 * aes.c: AES-256-CBC/PKCS7 on OpenSSL's EVP interface, streaming and one-shot. It owns the
 * cipher context only: where keys and IVs come from (the job, blob metadata, the manifest)
 * and where the bytes go is the caller's business. EVP_CIPHER_CTX_free wipes the key schedule.
 */
#include "aes.h"
#include "xmalloc.h"

#include <stdint.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* EVP_CipherUpdate takes an int length; longer inputs go through in pieces of this size
 * (a multiple of the block size, so the pieces change nothing in the output). */
#define AES_CHUNK (1u << 30)

struct aes {
    EVP_CIPHER_CTX *ctx;
    bool finished;
};

struct aes *aes_create(const unsigned char key[AES_KEY_LEN], const unsigned char iv[AES_IV_LEN],
                       bool encrypt)
{
    struct aes *a = xmalloc(sizeof *a);
    a->finished = false;
    a->ctx = EVP_CIPHER_CTX_new();
    if (!a->ctx)
        goto fail;
    if (EVP_CipherInit_ex(a->ctx, EVP_aes_256_cbc(), NULL, key, iv, encrypt ? 1 : 0) != 1)
        goto fail_ctx;
    /* PKCS7 is OpenSSL's default; say so anyway, it is the contract. */
    if (EVP_CIPHER_CTX_set_padding(a->ctx, 1) != 1)
        goto fail_ctx;
    return a;

fail_ctx:
    EVP_CIPHER_CTX_free(a->ctx);
fail:
    free(a);
    return NULL;
}

int aes_update(struct aes *a, const void *in, size_t n, unsigned char *out, size_t *outlen)
{
    const unsigned char *p = in;
    *outlen = 0;
    if (a->finished)
        return -1;
    while (n > 0) {
        size_t take = n < AES_CHUNK ? n : AES_CHUNK;
        int got = 0;
        if (EVP_CipherUpdate(a->ctx, out + *outlen, &got, p, (int)take) != 1)
            return -1;
        *outlen += (size_t)got;
        p += take;
        n -= take;
    }
    return 0;
}

int aes_final(struct aes *a, unsigned char *out, size_t *outlen)
{
    int got = 0;
    *outlen = 0;
    if (a->finished)
        return -1;
    a->finished = true;
    if (EVP_CipherFinal_ex(a->ctx, out, &got) != 1)
        return -1;
    *outlen = (size_t)got;
    return 0;
}

void aes_destroy(struct aes *a)
{
    if (!a)
        return;
    EVP_CIPHER_CTX_free(a->ctx);
    free(a);
}

static unsigned char *one_shot(const unsigned char *key, const unsigned char *iv, const void *in,
                               size_t n, size_t *outlen, bool encrypt)
{
    *outlen = 0;
    /* The output is at most n + one block (plus our NUL); refuse sizes that would wrap. */
    if (n > SIZE_MAX - 2 * AES_BLOCK_LEN)
        return NULL;
    if (!encrypt && (n == 0 || n % AES_BLOCK_LEN != 0))
        return NULL;
    struct aes *a = aes_create(key, iv, encrypt);
    if (!a)
        return NULL;
    unsigned char *out = xmalloc(n + AES_BLOCK_LEN + 1);
    size_t len = 0, last = 0;
    if (aes_update(a, in, n, out, &len) < 0 || aes_final(a, out + len, &last) < 0) {
        aes_destroy(a);
        /* Do not leave a half-decrypted plaintext lying in freed memory. */
        OPENSSL_cleanse(out, n + AES_BLOCK_LEN);
        free(out);
        return NULL;
    }
    aes_destroy(a);
    len += last;
    out[len] = '\0';
    *outlen = len;
    return out;
}

unsigned char *aes_encrypt_buf(const unsigned char key[AES_KEY_LEN],
                               const unsigned char iv[AES_IV_LEN], const void *in, size_t n,
                               size_t *outlen)
{
    return one_shot(key, iv, in, n, outlen, true);
}

unsigned char *aes_decrypt_buf(const unsigned char key[AES_KEY_LEN],
                               const unsigned char iv[AES_IV_LEN], const void *in, size_t n,
                               size_t *outlen)
{
    return one_shot(key, iv, in, n, outlen, false);
}
