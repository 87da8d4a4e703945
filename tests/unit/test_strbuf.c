/*
 * test_strbuf.c: unit tests of the bounded buffer in common/strbuf.c: growth, the maximum
 * (a refused append leaves the buffer as it was), printf, XML escaping, steal and finish.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static void test_append_grows(void **state)
{
    (void)state;
    struct strbuf sb;
    strbuf_init(&sb, 0);
    assert_null(sb.data);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(strbuf_append(&sb, "abc", 3), 0);
    assert_int_equal(sb.len, 3000);
    assert_true(sb.cap > sb.len);
    assert_int_equal(sb.data[3000], '\0');
    assert_memory_equal(sb.data + 2997, "abc", 3);
    assert_int_equal(strlen(sb.data), 3000);
    strbuf_finish(&sb);
    assert_null(sb.data);
    assert_int_equal(sb.len, 0);
}

static void test_append_zero(void **state)
{
    (void)state;
    struct strbuf sb;
    strbuf_init(&sb, 10);
    assert_int_equal(strbuf_append(&sb, NULL, 0), 0);
    assert_non_null(sb.data);
    assert_string_equal(sb.data, "");
    strbuf_finish(&sb);
}

static void test_max_enforced(void **state)
{
    (void)state;
    struct strbuf sb;
    strbuf_init(&sb, 8);
    assert_int_equal(strbuf_puts(&sb, "12345"), 0);
    /* One byte too many: refused, buffer unchanged. */
    assert_int_equal(strbuf_puts(&sb, "6789"), -1);
    assert_int_equal(sb.len, 5);
    assert_string_equal(sb.data, "12345");
    /* Exactly up to the maximum is fine. */
    assert_int_equal(strbuf_puts(&sb, "678"), 0);
    assert_string_equal(sb.data, "12345678");
    assert_int_equal(strbuf_append(&sb, "x", 1), -1);
    assert_int_equal(strbuf_printf(&sb, "%d", 1), -1);
    assert_int_equal(strbuf_xml_escape(&sb, "&"), -1);
    assert_int_equal(strbuf_append(&sb, "", 0), 0);
    assert_string_equal(sb.data, "12345678");
    strbuf_finish(&sb);
    assert_int_equal(sb.max, 8); /* finish keeps the bound for reuse */
}

static void test_max_huge_request(void **state)
{
    (void)state;
    struct strbuf sb;
    strbuf_init(&sb, 100);
    assert_int_equal(strbuf_puts(&sb, "a"), 0);
    /* A size that would overflow len + n must be refused, not wrapped. */
    assert_int_equal(strbuf_append(&sb, "x", SIZE_MAX), -1);
    assert_int_equal(strbuf_append(&sb, "x", SIZE_MAX - 1), -1);
    assert_string_equal(sb.data, "a");
    strbuf_finish(&sb);
}

static void test_printf(void **state)
{
    (void)state;
    struct strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_printf(&sb, "%s=%d", "n", 42), 0);
    assert_int_equal(strbuf_printf(&sb, ";%05.1f", 3.14159), 0);
    assert_string_equal(sb.data, "n=42;003.1");
    assert_int_equal(sb.len, strlen("n=42;003.1"));
    /* Long output that forces growth in the middle of printf. */
    char big[300];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(strbuf_printf(&sb, "[%s]", big), 0);
    assert_int_equal(sb.len, 10 + 301);
    assert_int_equal(sb.data[sb.len - 1], ']');
    strbuf_finish(&sb);
}

static void test_xml_escape(void **state)
{
    (void)state;
    struct strbuf sb;
    strbuf_init(&sb, 0);
    assert_int_equal(strbuf_xml_escape(&sb, "a<b>&\"c\"'d'"), 0);
    assert_string_equal(sb.data, "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;");
    strbuf_finish(&sb);

    /* An escape that does not fit is refused as a whole entity; earlier bytes stay. */
    strbuf_init(&sb, 4);
    assert_int_equal(strbuf_xml_escape(&sb, "ab&"), -1);
    assert_string_equal(sb.data, "ab");
    strbuf_finish(&sb);
}

static void test_steal(void **state)
{
    (void)state;
    struct strbuf sb;
    strbuf_init(&sb, 50);
    char *empty = strbuf_steal(&sb);
    assert_non_null(empty);
    assert_string_equal(empty, "");
    free(empty);

    assert_int_equal(strbuf_puts(&sb, "hello"), 0);
    char *s = strbuf_steal(&sb);
    assert_string_equal(s, "hello");
    assert_null(sb.data);
    assert_int_equal(sb.len, 0);
    assert_int_equal(sb.max, 50);
    /* The buffer is usable again after a steal. */
    assert_int_equal(strbuf_puts(&sb, "again"), 0);
    assert_string_equal(sb.data, "again");
    strbuf_finish(&sb);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grows), cmocka_unit_test(test_append_zero),
        cmocka_unit_test(test_max_enforced), cmocka_unit_test(test_max_huge_request),
        cmocka_unit_test(test_printf),       cmocka_unit_test(test_xml_escape),
        cmocka_unit_test(test_steal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
