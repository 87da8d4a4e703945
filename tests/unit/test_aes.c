/*
 * test_aes.c: unit tests of common/aes.c. The known answer is NIST SP 800-38A F.2.5
 * (CBC-AES256) plus its PKCS7 padding block; the other ciphertexts were computed with Python's
 * `cryptography` package (AES/CBC with padding.PKCS7(128), or raw CBC for the bad-padding
 * blocks), never with this code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "aes.h"
#include "hex.h"

#define NIST_KEY "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"
#define NIST_IV  "000102030405060708090a0b0c0d0e0f"
#define NIST_PT                                                                                    \
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"                             \
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
/* The four NIST blocks, then the padding block (16 x 0x10) that PKCS7 adds. */
#define NIST_CT                                                                                    \
    "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"                             \
    "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"                             \
    "3f461796d6b0d6b2e0c2a72b4d80e644"

static const struct {
    const char *plain, *cipher_hex;
} vectors[] = {
    {"", "7e9248e5d829ca7593f0c549db2f5b8c"},
    {"a", "0ad0834b56f4b1cafb4ccdddd29ba721"},
    {"hello, migration", "da80d80d7c6addbfd6ecc213873917ed97a59a4a1c4a68bf746fb67f02da3157"},
    {"The quick brown fox jumps over the lazy dog",
     "993f48c817946d0ccba1d7c53813cf8441e613d2cb47645dc1825884add9b9c9"
     "b0b2a3596ecd601df726bbaa5c087b72"},
};

static unsigned char key[AES_KEY_LEN], iv[AES_IV_LEN];

static int setup(void **state)
{
    (void)state;
    assert_int_equal(hex_decode(NIST_KEY, AES_KEY_LEN, key), 0);
    assert_int_equal(hex_decode(NIST_IV, AES_IV_LEN, iv), 0);
    return 0;
}

/* Decodes a hex string into a new buffer the caller frees. */
static unsigned char *unhex(const char *s, size_t *n)
{
    *n = strlen(s) / 2;
    unsigned char *b = malloc(*n + 1);
    assert_non_null(b);
    assert_int_equal(hex_decode(s, *n, b), 0);
    return b;
}

static void assert_hex(const unsigned char *b, size_t n, const char *want)
{
    char *h = malloc(2 * n + 1);
    assert_non_null(h);
    hex_encode(b, n, h);
    assert_string_equal(h, want);
    free(h);
}

static void test_nist_one_shot(void **state)
{
    (void)state;
    size_t n, ctlen, ptlen;
    unsigned char *pt = unhex(NIST_PT, &n);
    unsigned char *ct = aes_encrypt_buf(key, iv, pt, n, &ctlen);
    assert_non_null(ct);
    assert_int_equal(ctlen, 80);
    assert_hex(ct, ctlen, NIST_CT);
    unsigned char *back = aes_decrypt_buf(key, iv, ct, ctlen, &ptlen);
    assert_non_null(back);
    assert_int_equal(ptlen, 64);
    assert_memory_equal(back, pt, 64);
    free(back);
    free(ct);
    free(pt);
}

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        size_t n = strlen(vectors[i].plain), ctlen, ptlen;
        unsigned char *ct = aes_encrypt_buf(key, iv, vectors[i].plain, n, &ctlen);
        assert_non_null(ct);
        assert_int_equal(ctlen, n + 16 - n % 16);
        assert_hex(ct, ctlen, vectors[i].cipher_hex);
        unsigned char *pt = aes_decrypt_buf(key, iv, ct, ctlen, &ptlen);
        assert_non_null(pt);
        assert_int_equal(ptlen, n);
        assert_memory_equal(pt, vectors[i].plain, n);
        assert_int_equal(pt[n], '\0');
        free(pt);
        free(ct);
    }
}

/* Streams data through a context in pieces of `step` bytes; returns a new buffer or NULL if
 * final fails. */
static unsigned char *stream(bool encrypt, const unsigned char *in, size_t n, size_t step,
                             size_t *outlen)
{
    struct aes *a = aes_create(key, iv, encrypt);
    assert_non_null(a);
    unsigned char *out = malloc(n + AES_BLOCK_LEN);
    assert_non_null(out);
    size_t len = 0;
    for (size_t off = 0; off < n; off += step) {
        size_t take = n - off < step ? n - off : step, got = 99;
        assert_int_equal(aes_update(a, in + off, take, out + len, &got), 0);
        assert_true(got <= take + AES_BLOCK_LEN);
        len += got;
    }
    size_t last = 99;
    int rc = aes_final(a, out + len, &last);
    /* A finished context refuses more work. */
    size_t dummy;
    assert_int_equal(aes_update(a, in, 0, out, &dummy), -1);
    assert_int_equal(aes_final(a, out, &dummy), -1);
    aes_destroy(a);
    if (rc < 0) {
        free(out);
        return NULL;
    }
    assert_true(last <= AES_BLOCK_LEN);
    *outlen = len + last;
    return out;
}

static void test_streaming_any_split(void **state)
{
    (void)state;
    size_t n;
    unsigned char *pt = unhex(NIST_PT, &n);
    size_t want_n;
    unsigned char *want = unhex(NIST_CT, &want_n);
    const size_t steps[] = {1, 3, 15, 16, 17, 31, 64, 100};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        size_t ctlen, ptlen;
        unsigned char *ct = stream(true, pt, n, steps[i], &ctlen);
        assert_non_null(ct);
        assert_int_equal(ctlen, want_n);
        assert_memory_equal(ct, want, want_n);
        unsigned char *back = stream(false, ct, ctlen, steps[i], &ptlen);
        assert_non_null(back);
        assert_int_equal(ptlen, n);
        assert_memory_equal(back, pt, n);
        free(back);
        free(ct);
    }
    free(want);
    free(pt);
}

static void test_bad_padding(void **state)
{
    (void)state;
    /* Raw CBC encryptions (no padding added) of blocks whose last bytes are not PKCS7:
     * "0123456789abcde\0" (pad 0), "AAAAAAAAAAAAA\2\3\3" (pad 3 but bytes differ) and
     * "AAAAAAAAAAAAAAA\x11" (pad 17). */
    const char *bad[] = {"e4913bc0fd564ebe64e722a4e351432e", "2b2bdaf21ba4e55bd8dd2e605dbd4987",
                         "23aa1010f24caf2533876cff84549d88"};
    for (size_t i = 0; i < 3; i++) {
        size_t n, len = 7;
        unsigned char *ct = unhex(bad[i], &n);
        assert_null(aes_decrypt_buf(key, iv, ct, n, &len));
        assert_int_equal(len, 0);
        assert_null(stream(false, ct, n, 5, &len));
        free(ct);
    }
}

static void test_truncated(void **state)
{
    (void)state;
    size_t n, len;
    unsigned char *ct = unhex(NIST_CT, &n);
    /* Not a whole number of blocks, or nothing at all. */
    assert_null(aes_decrypt_buf(key, iv, ct, n - 1, &len));
    assert_null(aes_decrypt_buf(key, iv, ct, 15, &len));
    assert_null(aes_decrypt_buf(key, iv, ct, 0, &len));
    assert_null(stream(false, ct, n - 1, 16, &len));
    assert_null(stream(false, ct, 0, 16, &len));
    /* Dropping the padding block leaves the last NIST block as the "padding": 0x1b. */
    assert_null(aes_decrypt_buf(key, iv, ct, n - 16, &len));
    free(ct);
}

static void test_wrong_key_and_iv(void **state)
{
    (void)state;
    size_t n, len;
    unsigned char *ct = unhex(vectors[3].cipher_hex, &n);
    unsigned char other[AES_KEY_LEN];
    for (size_t i = 0; i < sizeof other; i++)
        other[i] = (unsigned char)i;
    /* Python: the last block under key 00 01 .. 1f decrypts to ...bb7371: pad 0x71, invalid. */
    assert_null(aes_decrypt_buf(other, iv, ct, n, &len));
    /* A wrong IV only garbles the first block; padding still checks out. */
    unsigned char iv2[AES_IV_LEN];
    memcpy(iv2, iv, sizeof iv2);
    iv2[0] ^= 1;
    unsigned char *pt = aes_decrypt_buf(key, iv2, ct, n, &len);
    assert_non_null(pt);
    assert_int_equal(len, strlen(vectors[3].plain));
    assert_int_equal(pt[0], 'T' ^ 1);
    assert_memory_equal(pt + 1, vectors[3].plain + 1, len - 1);
    free(pt);
    /* Flipping the last ciphertext bit garbles the whole last block; Python: it then ends
     * in 0x23, not a valid pad. */
    ct[n - 1] ^= 0x80;
    assert_null(aes_decrypt_buf(key, iv, ct, n, &len));
    free(ct);
}

static void test_destroy_null(void **state)
{
    (void)state;
    aes_destroy(NULL);
    struct aes *a = aes_create(key, iv, true);
    assert_non_null(a);
    aes_destroy(a); /* never finished: still freed cleanly */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nist_one_shot),       cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_streaming_any_split), cmocka_unit_test(test_bad_padding),
        cmocka_unit_test(test_truncated),           cmocka_unit_test(test_wrong_key_and_iv),
        cmocka_unit_test(test_destroy_null),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
