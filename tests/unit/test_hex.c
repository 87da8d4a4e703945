/*
 * test_hex.c: unit tests of common/hex.c: lowercase encoding, decoding of either case, and
 * refusal of anything that is not a hex digit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hex.h"

static void test_encode(void **state)
{
    (void)state;
    char out[64];
    hex_encode("", 0, out);
    assert_string_equal(out, "");
    const unsigned char b[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
    hex_encode(b, sizeof b, out);
    assert_string_equal(out, "00017f80abcdefff");
}

static void test_decode_either_case(void **state)
{
    (void)state;
    unsigned char out[8];
    const unsigned char want[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
    assert_int_equal(hex_decode("00017f80abcdefff", 8, out), 0);
    assert_memory_equal(out, want, 8);
    assert_int_equal(hex_decode("00017F80ABCDEFFF", 8, out), 0);
    assert_memory_equal(out, want, 8);
    assert_int_equal(hex_decode("aBcD", 2, out), 0);
    assert_int_equal(out[0], 0xab);
    assert_int_equal(out[1], 0xcd);
    assert_int_equal(hex_decode("", 0, out), 0);
}

static void test_decode_rejects(void **state)
{
    (void)state;
    unsigned char out[4];
    const char *bad[] = {"0g", "g0", " 0", "0 ", "-1", "0x", "+1", "\3770"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(hex_decode(bad[i], 1, out), -1);
    /* A string shorter than 2*n ends in a NUL, which is not a hex digit. */
    assert_int_equal(hex_decode("abc", 2, out), -1);
    assert_int_equal(hex_decode("ab", 2, out), -1);
}

static void test_round_trip(void **state)
{
    (void)state;
    unsigned char all[256], back[256];
    char text[513];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    hex_encode(all, sizeof all, text);
    assert_int_equal(strlen(text), 512);
    assert_int_equal(hex_decode(text, 256, back), 0);
    assert_memory_equal(all, back, 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_decode_either_case),
        cmocka_unit_test(test_decode_rejects),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
