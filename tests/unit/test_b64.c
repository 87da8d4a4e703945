/*
 * test_b64.c: unit tests of common/b64.c. Known answers are the RFC 4648 section 10 vectors
 * and the Azure development account key (64 bytes); decoding must refuse every malformed
 * input that OpenSSL's lenient EVP_DecodeBlock would accept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "b64.h"

/* RFC 4648, section 10. */
static const struct {
    const char *plain, *enc;
} rfc[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

#define DEV_KEY                                                                                    \
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static void test_encode_rfc(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
        size_t n = strlen(rfc[i].plain);
        assert_int_equal(b64_encoded_len(n), strlen(rfc[i].enc));
        char *e = b64_encode(rfc[i].plain, n);
        assert_string_equal(e, rfc[i].enc);
        free(e);
        char buf[16];
        assert_int_equal(b64_encode_to(rfc[i].plain, n, buf), strlen(rfc[i].enc));
        assert_string_equal(buf, rfc[i].enc);
    }
}

static void test_decode_rfc(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
        size_t n = 99;
        unsigned char *d = b64_decode(rfc[i].enc, strlen(rfc[i].enc), &n);
        assert_non_null(d);
        assert_int_equal(n, strlen(rfc[i].plain));
        assert_memory_equal(d, rfc[i].plain, n);
        assert_int_equal(d[n], '\0');
        free(d);

        unsigned char buf[8];
        assert_int_equal(b64_decode_to(rfc[i].enc, strlen(rfc[i].enc), buf, sizeof buf),
                         (long)strlen(rfc[i].plain));
        assert_memory_equal(buf, rfc[i].plain, strlen(rfc[i].plain));
    }
}

static void test_decode_to_exact_capacity(void **state)
{
    (void)state;
    unsigned char buf[6];
    /* "Zm9vYg==" is 4 bytes: a capacity of exactly 4 must do (the padded quantum must not
     * spill its zero bytes past the end), 3 must not. */
    memset(buf, 0xee, sizeof buf);
    assert_int_equal(b64_decode_to("Zm9vYg==", 8, buf, 4), 4);
    assert_memory_equal(buf, "foob", 4);
    assert_int_equal(buf[4], 0xee);
    assert_int_equal(b64_decode_to("Zm9vYg==", 8, buf, 3), -1);
    assert_int_equal(b64_decode_to("Zm9vYmE=", 8, buf, 5), 5);
    assert_memory_equal(buf, "fooba", 5);
    assert_int_equal(buf[5], 0xee);
    assert_int_equal(b64_decode_to("", 0, buf, 0), 0);
}

static void test_dev_key(void **state)
{
    (void)state;
    size_t n = 0;
    unsigned char *key = b64_decode(DEV_KEY, strlen(DEV_KEY), &n);
    assert_non_null(key);
    assert_int_equal(n, 64); /* python3: len(base64.b64decode(DEV_KEY)) == 64 */
    assert_int_equal(key[0], 0x11);
    assert_int_equal(key[63], 0x1b); /* python3: base64.b64decode(DEV_KEY)[0], [63] */
    char *again = b64_encode(key, n);
    assert_string_equal(again, DEV_KEY);
    free(again);
    free(key);
}

static void test_round_trip_binary(void **state)
{
    (void)state;
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)(255 - i);
    for (size_t len = 0; len <= sizeof all; len++) {
        char *e = b64_encode(all, len);
        assert_int_equal(strlen(e), b64_encoded_len(len));
        size_t n = 0;
        unsigned char *d = b64_decode(e, strlen(e), &n);
        assert_non_null(d);
        assert_int_equal(n, len);
        assert_memory_equal(d, all, len);
        free(d);
        free(e);
    }
}

static void test_decode_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "Zg=",         /* length not a multiple of 4 */
        "Zg",          /* unpadded */
        "Z",           /* */
        "Zm9vY",       /* */
        "Z===",        /* three pads */
        "====",        /* only padding */
        "=Zg=",        /* pad first */
        "Zg=a",        /* pad in the middle of the last quantum */
        "Zg==Zg==",    /* pad before the end */
        "Zm=v",        /* */
        "Zm9v\n",      /* trailing newline (OpenSSL would skip it) */
        " Zm9v",       /* leading space */
        "Zm9v ",       /* trailing space */
        "Zm 9v",       /* inner space */
        "Zm\t9v",      /* tab */
        "Zm9-",        /* URL-safe alphabet */
        "Zm9_",        /* */
        "Zm9v!A==",    /* outside the alphabet */
        "Zm9\xc3\xa9", /* non-ASCII */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = 7;
        unsigned char buf[16];
        assert_null(b64_decode(bad[i], strlen(bad[i]), &n));
        assert_int_equal(b64_decode_to(bad[i], strlen(bad[i]), buf, sizeof buf), -1);
    }
    /* An embedded NUL counts as a character outside the alphabet. */
    assert_null(b64_decode("Zm\0v", 4, NULL));
}

static void test_decode_len_not_strlen(void **state)
{
    (void)state;
    /* Only len characters are read. */
    size_t n = 0;
    unsigned char *d = b64_decode("Zm9vYmFyXXXX!!!", 8, &n);
    assert_non_null(d);
    assert_int_equal(n, 6);
    assert_memory_equal(d, "foobar", 6);
    free(d);
}

static void test_large(void **state)
{
    (void)state;
    /* Bigger than one internal chunk (3 MiB in, 4 MiB out) to exercise the chunking. */
    size_t len = 5 * 1024 * 1024 + 1;
    unsigned char *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 31 + 7);
    char *e = b64_encode(data, len);
    assert_int_equal(strlen(e), b64_encoded_len(len));
    size_t n = 0;
    unsigned char *d = b64_decode(e, strlen(e), &n);
    assert_non_null(d);
    assert_int_equal(n, len);
    assert_memory_equal(d, data, len);
    unsigned char *d2 = malloc(len);
    assert_non_null(d2);
    assert_int_equal(b64_decode_to(e, strlen(e), d2, len), (long)len);
    assert_memory_equal(d2, data, len);
    free(d2);
    free(d);
    free(e);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_rfc),
        cmocka_unit_test(test_decode_rfc),
        cmocka_unit_test(test_decode_to_exact_capacity),
        cmocka_unit_test(test_dev_key),
        cmocka_unit_test(test_round_trip_binary),
        cmocka_unit_test(test_decode_rejects),
        cmocka_unit_test(test_decode_len_not_strlen),
        cmocka_unit_test(test_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
