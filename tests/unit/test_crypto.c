/*
 * test_crypto.c: unit tests of common/crypto.c. Every known answer comes from outside this
 * code: RFC 4231 (HMAC-SHA256), FIPS 180-2 (SHA-256), RFC 1321 (MD5), the Azure SDK for
 * C++'s crypt_functions_test.cpp, and Python 3's hmac/hashlib or a bitwise Python CRC64
 * (shown in each comment).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "b64.h"
#include "crypto.h"
#include "hex.h"

static void assert_hex(const unsigned char *bytes, size_t n, const char *want)
{
    char buf[2 * 64 + 1];
    assert_true(n <= 64);
    hex_encode(bytes, n, buf);
    assert_string_equal(buf, want);
}

static void assert_b64(const unsigned char *bytes, size_t n, const char *want)
{
    char buf[128];
    b64_encode_to(bytes, n, buf);
    assert_string_equal(buf, want);
}

static void test_hmac_sha256(void **state)
{
    (void)state;
    unsigned char mac[CRYPTO_SHA256_LEN];
    /* RFC 4231 test case 2. */
    const char *msg = "what do ya want for nothing?";
    assert_int_equal(crypto_hmac_sha256("Jefe", 4, msg, strlen(msg), mac), 0);
    assert_hex(mac, sizeof mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    /* RFC 4231 test case 1: key 20 x 0x0b, "Hi There". */
    unsigned char key[20];
    memset(key, 0x0b, sizeof key);
    assert_int_equal(crypto_hmac_sha256(key, sizeof key, "Hi There", 8, mac), 0);
    assert_hex(mac, sizeof mac, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

    /* Azure SDK for C++, crypt_functions_test.cpp (also python3 hmac.new(...).digest()). */
    const char *k = "8CwtGFF1mGR4bPEP9eZ0x1fxKiQ3Ca5N";
    assert_int_equal(crypto_hmac_sha256(k, strlen(k), "", 0, mac), 0);
    assert_b64(mac, sizeof mac, "fFy2T+EuCvAgouw/vB/RAJ75z7jwTj+uiURebkFKF5M=");
    assert_int_equal(crypto_hmac_sha256(k, strlen(k), "Hello Azure!", 12, mac), 0);
    assert_b64(mac, sizeof mac, "+SBESxQVhI53mSEdZJcCBpdBkaqwzfPaVYZMAf5LP3c=");

    /* python3: hmac.new(b64decode(DEV_KEY), b"hello", hashlib.sha256).hexdigest() */
    const char *dev = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
                      "KBHBeksoGMGw==";
    size_t devlen = 0;
    unsigned char *devkey = b64_decode(dev, strlen(dev), &devlen);
    assert_non_null(devkey);
    assert_int_equal(crypto_hmac_sha256(devkey, devlen, "hello", 5, mac), 0);
    assert_hex(mac, sizeof mac, "459364723762ab02e7f0c9a9df9547b75579082206ff3bddba4ea83cc38453eb");
    crypto_wipe(devkey, devlen);
    free(devkey);
}

static void test_sha256(void **state)
{
    (void)state;
    unsigned char d[CRYPTO_SHA256_LEN];
    /* FIPS 180-2 examples. */
    assert_int_equal(crypto_sha256("abc", 3, d), 0);
    assert_hex(d, sizeof d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(crypto_sha256("", 0, d), 0);
    assert_hex(d, sizeof d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_md5_one_shot(void **state)
{
    (void)state;
    unsigned char d[CRYPTO_MD5_LEN];
    /* RFC 1321 appendix A.5, and the well-known "quick brown fox". */
    assert_int_equal(crypto_md5("", 0, d), 0);
    assert_hex(d, sizeof d, "d41d8cd98f00b204e9800998ecf8427e");
    assert_int_equal(crypto_md5("abc", 3, d), 0);
    assert_hex(d, sizeof d, "900150983cd24fb0d6963f7d28e17f72");
    const char *fox = "The quick brown fox jumps over the lazy dog";
    assert_int_equal(crypto_md5(fox, strlen(fox), d), 0);
    assert_hex(d, sizeof d, "9e107d9d372bb6826bd81d3542a419d6");
}

/* bytes((i * 7 + 3) & 0xff for i in range(n)), the pattern the Python vectors used. */
static unsigned char *pattern(size_t n)
{
    unsigned char *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 7 + 3) & 0xff);
    return p;
}

static void test_md5_streaming(void **state)
{
    (void)state;
    size_t n = 100000;
    unsigned char *data = pattern(n);
    /* python3: hashlib.md5(pattern(100000)).hexdigest() */
    const char *want = "59f08777fcd1aa2b8e0c8f892cfaae09";
    unsigned char d[CRYPTO_MD5_LEN];
    assert_int_equal(crypto_md5(data, n, d), 0);
    assert_hex(d, sizeof d, want);

    const size_t steps[] = {1, 7, 64, 1000, 65536};
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        struct crypto_md5 *m = crypto_md5_create();
        assert_non_null(m);
        crypto_md5_update(m, data, 0);
        for (size_t off = 0; off < n; off += steps[s]) {
            size_t take = n - off < steps[s] ? n - off : steps[s];
            crypto_md5_update(m, data + off, take);
        }
        memset(d, 0, sizeof d);
        crypto_md5_final(m, d); /* frees m */
        assert_hex(d, sizeof d, want);
    }
    free(data);
}

static void test_md5_destroy(void **state)
{
    (void)state;
    crypto_md5_destroy(NULL);
    struct crypto_md5 *m = crypto_md5_create();
    assert_non_null(m);
    crypto_md5_update(m, "abc", 3);
    crypto_md5_destroy(m); /* abandoned without a digest: no leak under ASan */
}

static void test_crc64_known(void **state)
{
    (void)state;
    /* The CRC-64/NVME catalogue check value, equal to what a bitwise Python implementation
     * of the reflected polynomial 0x9A6C9329AC4BC9B5 (init and xorout ~0) gives. */
    assert_true(crypto_crc64(0, "123456789", 9) == 0xae8b14860a799888ULL);
    assert_true(crypto_crc64(0, "", 0) == 0);
    /* Azure SDK for C++ crypt_functions_test.cpp: "Hello Azure!" -> "DtjZpL9/o8c=" (the 8
     * bytes little-endian, base64). */
    uint64_t c = crypto_crc64(0, "Hello Azure!", 12);
    assert_true(c == 0xc7a37fbfa4d9d80eULL);
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(c >> (8 * i));
    assert_b64(le, 8, "DtjZpL9/o8c=");
}

static void test_crc64_long_and_unaligned(void **state)
{
    (void)state;
    /* bitwise Python CRC64 of pattern(100000)[:10007]: 0xcec4dde53ed1a55f */
    unsigned char *data = pattern(10007 + 8);
    assert_true(crypto_crc64(0, data, 10007) == 0xcec4dde53ed1a55fULL);
    /* The same bytes at every alignment give the same CRC. */
    for (size_t shift = 1; shift < 8; shift++) {
        unsigned char *copy = malloc(10007 + shift);
        assert_non_null(copy);
        memcpy(copy + shift, data, 10007);
        assert_true(crypto_crc64(0, copy + shift, 10007) == 0xcec4dde53ed1a55fULL);
        free(copy);
    }
    free(data);
}

static void test_crc64_chaining(void **state)
{
    (void)state;
    /* Feeding the result of one call into the next equals one call over everything, at
     * every split point (including the 8-byte fold boundaries). */
    const char *s = "123456789abcdefghijklmnopqrstuvwxyz";
    size_t n = strlen(s);
    uint64_t whole = crypto_crc64(0, s, n);
    for (size_t cut = 0; cut <= n; cut++) {
        uint64_t c = crypto_crc64(0, s, cut);
        c = crypto_crc64(c, s + cut, n - cut);
        assert_true(c == whole);
    }
    uint64_t c = crypto_crc64(0, "1234", 4);
    assert_true(crypto_crc64(c, "56789", 5) == 0xae8b14860a799888ULL);
}

static void test_random(void **state)
{
    (void)state;
    unsigned char a[32] = {0}, b[32] = {0}, zero[32] = {0};
    crypto_random(a, sizeof a);
    crypto_random(b, sizeof b);
    assert_memory_not_equal(a, b, sizeof a); /* fails with probability 2^-256 */
    assert_memory_not_equal(a, zero, sizeof a);
    crypto_random(a, 0);
}

/* Small draws come from a per-thread pool: many of them never repeat, and a child process
 * does not hand out what its parent's pool holds. */
static void test_random_pool(void **state)
{
    (void)state;
    enum { DRAWS = 1000 };
    unsigned char(*seen)[16] = calloc(DRAWS, 16);
    assert_non_null(seen);
    for (int i = 0; i < DRAWS; i++) {
        crypto_random(seen[i], 16);
        for (int j = 0; j < i; j++)
            assert_memory_not_equal(seen[i], seen[j], 16);
    }
    free(seen);
    unsigned char mine[16], theirs[16];
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        crypto_random(theirs, sizeof theirs);
        _exit(write(fds[1], theirs, sizeof theirs) == (ssize_t)sizeof theirs ? 0 : 1);
    }
    crypto_random(mine, sizeof mine);
    assert_int_equal(read(fds[0], theirs, sizeof theirs), (ssize_t)sizeof theirs);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_memory_not_equal(mine, theirs, sizeof mine);
    close(fds[0]);
    close(fds[1]);
}

static void test_memeq_streq(void **state)
{
    (void)state;
    assert_true(crypto_memeq("abcd", "abcd", 4));
    assert_false(crypto_memeq("abcd", "abce", 4));
    assert_false(crypto_memeq("xbcd", "abcd", 4));
    assert_true(crypto_memeq("a", "b", 0));
    assert_true(crypto_memeq("a\0b", "a\0b", 3));
    assert_false(crypto_memeq("a\0b", "a\0c", 3));

    assert_true(crypto_streq("", ""));
    assert_true(crypto_streq("signature=", "signature="));
    assert_false(crypto_streq("signature=", "signaturf="));
    assert_false(crypto_streq("abc", "abcd"));
    assert_false(crypto_streq("abcd", "abc"));
    assert_false(crypto_streq("", "a"));
}

static void test_wipe(void **state)
{
    (void)state;
    unsigned char buf[48];
    memset(buf, 0xa5, sizeof buf);
    crypto_wipe(buf + 8, 32);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], i >= 8 && i < 40 ? 0 : 0xa5);
    crypto_wipe(buf, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_sha256),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_md5_one_shot),
        cmocka_unit_test(test_md5_streaming),
        cmocka_unit_test(test_md5_destroy),
        cmocka_unit_test(test_crc64_known),
        cmocka_unit_test(test_crc64_long_and_unaligned),
        cmocka_unit_test(test_crc64_chaining),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_random_pool),
        cmocka_unit_test(test_memeq_streq),
        cmocka_unit_test(test_wipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
