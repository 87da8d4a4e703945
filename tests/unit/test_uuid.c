/*
 * test_uuid.c: unit tests of common/uuid.c: the text form both ways, what the parser must
 * refuse, the version and variant bits of random ids, and name-based ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "uuid.h"

static const unsigned char sample[UUID_LEN] = {0x1d, 0x4a, 0x20, 0x89, 0xbf, 0x6c, 0x4e, 0x1d,
                                               0xbe, 0x58, 0xdc, 0x29, 0x72, 0x87, 0x3c, 0x19};

static void test_parse_forms(void **state)
{
    (void)state;
    const char *good[] = {
        "1d4a2089-bf6c-4e1d-be58-dc2972873c19",   "1D4A2089-BF6C-4E1D-BE58-DC2972873C19",
        "1d4A2089-bF6c-4E1d-Be58-dC2972873c19",   "{1d4a2089-bf6c-4e1d-be58-dc2972873c19}",
        "{1D4A2089-BF6C-4E1D-BE58-DC2972873C19}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        unsigned char u[UUID_LEN] = {0};
        assert_int_equal(uuid_parse(good[i], u), 0);
        assert_memory_equal(u, sample, UUID_LEN);
    }
}

static void test_parse_refuses(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "1d4a2089bf6c4e1dbe58dc2972873c19",      /* no hyphens (.NET "N" form) */
        "1d4a2089-bf6c-4e1d-be58-dc2972873c1",   /* short */
        "1d4a2089-bf6c-4e1d-be58-dc2972873c199", /* long */
        "1d4a2089-bf6c-4e1d-be58-dc2972873c1g",  /* not hex */
        "1d4a2089-bf6c-4e1d-be58_dc2972873c19",  /* wrong separator */
        "1d4a208-9bf6c-4e1d-be58-dc2972873c19",  /* hyphen moved */
        " 1d4a2089-bf6c-4e1d-be58-dc2972873c19", /* leading space */
        "1d4a2089-bf6c-4e1d-be58-dc2972873c19 ", /* trailing space */
        "{1d4a2089-bf6c-4e1d-be58-dc2972873c19", /* unbalanced braces */
        "1d4a2089-bf6c-4e1d-be58-dc2972873c19}",
        "(1d4a2089-bf6c-4e1d-be58-dc2972873c19)", /* .NET "P" form */
        "{{1d4a2089-bf6c-4e1d-be58-dc2972873c19}}",
        "urn:uuid:1d4a2089-bf6c-4e1d-be58-dc2972873c19",
        "+d4a2089-bf6c-4e1d-be58-dc2972873c19",
        "1d4a2089-bf6c-4e1d-be58-dc2972873c\n9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char u[UUID_LEN];
        memset(u, 0xaa, sizeof u);
        assert_int_equal(uuid_parse(bad[i], u), -1);
        for (int k = 0; k < UUID_LEN; k++)
            assert_int_equal(u[k], 0xaa); /* untouched */
    }
}

static void test_format(void **state)
{
    (void)state;
    char buf[UUID_BUF];
    memset(buf, 'x', sizeof buf);
    uuid_format(sample, buf);
    assert_string_equal(buf, "1d4a2089-bf6c-4e1d-be58-dc2972873c19");
    unsigned char ff[UUID_LEN];
    memset(ff, 0xff, sizeof ff);
    uuid_format(ff, buf);
    assert_string_equal(buf, "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

static void test_v4(void **state)
{
    (void)state;
    unsigned char a[UUID_LEN], b[UUID_LEN];
    for (int i = 0; i < 64; i++) {
        uuid_v4(a);
        uuid_v4(b);
        assert_memory_not_equal(a, b, UUID_LEN);
        assert_int_equal(a[6] >> 4, 4);
        assert_int_equal(a[8] & 0xc0, 0x80);
        char s[UUID_BUF];
        uuid_format(a, s);
        assert_int_equal(strlen(s), UUID_STR_LEN);
        assert_int_equal(s[14], '4');
        assert_true(strchr("89ab", s[19]) != NULL);
        unsigned char back[UUID_LEN];
        assert_int_equal(uuid_parse(s, back), 0);
        assert_memory_equal(back, a, UUID_LEN);
        assert_false(uuid_is_nil(a));
    }
    unsigned char nil[UUID_LEN] = {0};
    assert_true(uuid_is_nil(nil));
    assert_int_equal(uuid_parse("00000000-0000-0000-0000-000000000000", a), 0);
    assert_true(uuid_is_nil(a));
}

/* The name-based id: pinned against an independent computation (Python's hashlib), stable,
 * version 8 and the RFC variant, and different for another seed, another name or another
 * split of the same bytes between them. */
static void test_v8_name(void **state)
{
    (void)state;
    const char *seed = "0f8fad5b-d9cb-469f-a165-70867728950e";
    unsigned char a[UUID_LEN], b[UUID_LEN];
    char s[UUID_BUF];
    uuid_v8_name(seed, "docs/a b.txt", a);
    uuid_format(a, s);
    assert_string_equal(s, "da0d63e7-c616-8a16-ad86-e8967c1392c1");
    uuid_v8_name(seed, "docs/a b.txt", b);
    assert_memory_equal(a, b, UUID_LEN);
    assert_int_equal(a[6] >> 4, 8);
    assert_int_equal(a[8] & 0xc0, 0x80);
    uuid_v8_name(seed, "docs/a b.txT", b);
    assert_memory_not_equal(a, b, UUID_LEN);
    uuid_v8_name("1f8fad5b-d9cb-469f-a165-70867728950e", "docs/a b.txt", b);
    assert_memory_not_equal(a, b, UUID_LEN);
    uuid_v8_name("ab", "c", a);
    uuid_v8_name("a", "bc", b);
    assert_memory_not_equal(a, b, UUID_LEN);
    uuid_v8_name("", "", a);
    assert_false(uuid_is_nil(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms), cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_format),      cmocka_unit_test(test_v4),
        cmocka_unit_test(test_v8_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
