/*
 * test_query.c: unit tests of common/query.c: percent-decoding (bad escapes and %00
 * refused), the query parser (order and duplicates kept, empty segments skipped, the
 * LIMIT_QUERY_PARAMS and LIMIT_URI_BYTES bounds), lookups and percent-encoding (of a value
 * and of a path).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spmig_limits.h"
#include "query.h"

static void assert_decodes(const char *in, bool plus, const char *want)
{
    size_t n = 99;
    char *d = query_decode(in, strlen(in), plus, &n);
    assert_non_null(d);
    assert_string_equal(d, want);
    assert_int_equal(n, strlen(want));
    free(d);
}

static void test_decode(void **state)
{
    (void)state;
    assert_decodes("", true, "");
    assert_decodes("plain", true, "plain");
    assert_decodes("a%20b", true, "a b");
    assert_decodes("a+b", true, "a b");
    assert_decodes("a+b", false, "a+b");
    assert_decodes("%2B%2b", true, "++");
    assert_decodes("%2f%2F", false, "//");
    assert_decodes("%41%7e%7E", true, "A~~");
    assert_decodes("%C3%A9", true, "\xc3\xa9");
    assert_decodes("100%25", true, "100%");
    assert_decodes("a=b", true, "a=b");
    /* Only len bytes are read. */
    char *d = query_decode("ab%41zz", 5, true, NULL);
    assert_string_equal(d, "abA");
    free(d);
}

static void test_decode_rejects(void **state)
{
    (void)state;
    const char *bad[] = {"%",    "%4",   "a%",  "a%4", "%zz",   "%4g", "%g4",
                         "%%41", "% 41", "%-1", "%00", "a%00b", "%+1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(query_decode(bad[i], strlen(bad[i]), true, NULL));
    /* A raw NUL byte inside len is refused too. */
    assert_null(query_decode("a\0b", 3, false, NULL));
    /* An escape cut by len is malformed even if the bytes after len would complete it. */
    assert_null(query_decode("%41", 2, true, NULL));
}

static void test_parse_order_and_duplicates(void **state)
{
    (void)state;
    struct query q;
    const char *raw = "a=1&b=2&a=3&Comp=list&empty=&flag&x=y=z";
    assert_int_equal(query_parse(raw, strlen(raw), &q), 0);
    assert_int_equal(q.n, 7);
    const char *names[] = {"a", "b", "a", "Comp", "empty", "flag", "x"};
    const char *values[] = {"1", "2", "3", "list", "", "", "y=z"};
    for (size_t i = 0; i < q.n; i++) {
        assert_string_equal(q.pairs[i].name, names[i]);
        assert_string_equal(q.pairs[i].value, values[i]);
    }
    assert_int_equal(query_count(&q, "a"), 2);
    assert_int_equal(query_count(&q, "b"), 1);
    assert_int_equal(query_count(&q, "c"), 0);
    assert_string_equal(query_get(&q, "a"), "1"); /* the first */
    assert_null(query_get(&q, "comp"));
    assert_string_equal(query_get_ci(&q, "comp"), "list");
    assert_string_equal(query_get_ci(&q, "COMP"), "list");
    assert_string_equal(query_get(&q, "flag"), "");
    assert_null(query_get(&q, "missing"));
    assert_null(query_get_ci(&q, "missing"));
    query_finish(&q);
    assert_int_equal(q.n, 0);
    assert_null(q.pairs);
}

static void test_parse_decodes(void **state)
{
    (void)state;
    struct query q;
    const char *raw = "sig=ab%2Bc%2F%3D&se=2026-01-01T00%3A00%3A00Z&na%20me=v+w&p=a+b";
    assert_int_equal(query_parse(raw, strlen(raw), &q), 0);
    assert_int_equal(q.n, 4);
    assert_string_equal(query_get(&q, "sig"), "ab+c/=");
    assert_string_equal(query_get(&q, "se"), "2026-01-01T00:00:00Z");
    assert_string_equal(query_get(&q, "na me"), "v w");
    /* '+' is a space in a query (a SAS sig needs its '+' sent as %2B, as on Azure). */
    assert_string_equal(query_get(&q, "p"), "a b");
    query_finish(&q);
}

static void test_parse_empty_segments(void **state)
{
    (void)state;
    struct query q;
    const char *raws[] = {"", "&", "&&&", "a=1&&b=2&", "&a=1"};
    const size_t counts[] = {0, 0, 0, 2, 1};
    for (size_t i = 0; i < sizeof raws / sizeof raws[0]; i++) {
        assert_int_equal(query_parse(raws[i], strlen(raws[i]), &q), 0);
        assert_int_equal(q.n, counts[i]);
        query_finish(&q);
    }
    /* Only len bytes are read. */
    assert_int_equal(query_parse("a=1&b=2", 3, &q), 0);
    assert_int_equal(q.n, 1);
    assert_string_equal(query_get(&q, "a"), "1");
    query_finish(&q);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    const char *bad[] = {"a=%00", "%00=a", "a=1&b=%zz", "a=%", "a=1&%4=2", "a=%0", "ok=1&x=a%00b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct query q = {(void *)1, 99}; /* garbage: parse must reset it */
        assert_int_equal(query_parse(bad[i], strlen(bad[i]), &q), -1);
        assert_int_equal(q.n, 0);
        assert_null(q.pairs);
        query_finish(&q); /* harmless on the emptied query */
    }
}

/* "p0=0&p1=1&..." with n pairs. */
static char *many(size_t n)
{
    char *s = malloc(n * 16 + 1);
    assert_non_null(s);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(s + len, "%sp%zu=%zu", i ? "&" : "", i, i);
    return s;
}

static void test_parse_limits(void **state)
{
    (void)state;
    struct query q;
    char *ok = many(LIMIT_QUERY_PARAMS);
    assert_int_equal(query_parse(ok, strlen(ok), &q), 0);
    assert_int_equal(q.n, LIMIT_QUERY_PARAMS);
    query_finish(&q);
    free(ok);

    char *over = many(LIMIT_QUERY_PARAMS + 1);
    assert_int_equal(query_parse(over, strlen(over), &q), -1);
    assert_int_equal(q.n, 0);
    free(over);

    /* Empty segments do not count as pairs. */
    char *padded = many(LIMIT_QUERY_PARAMS);
    size_t plen = strlen(padded);
    char *with_amps = malloc(plen + 11);
    assert_non_null(with_amps);
    memcpy(with_amps, padded, plen);
    memcpy(with_amps + plen, "&&&&&&&&&&", 11);
    assert_int_equal(query_parse(with_amps, strlen(with_amps), &q), 0);
    query_finish(&q);
    free(with_amps);
    free(padded);

    /* A value up to LIMIT_URI_BYTES in a query of that size is fine; one byte more is not. */
    size_t len = LIMIT_URI_BYTES;
    char *big = malloc(len + 2);
    assert_non_null(big);
    memcpy(big, "v=", 2);
    memset(big + 2, 'x', len - 2);
    big[len] = '\0';
    assert_int_equal(query_parse(big, len, &q), 0);
    assert_int_equal(strlen(query_get(&q, "v")), LIMIT_URI_BYTES - 2);
    query_finish(&q);
    big[len] = 'x';
    big[len + 1] = '\0';
    assert_int_equal(query_parse(big, len + 1, &q), -1);
    assert_int_equal(q.n, 0);
    free(big);
}

static void test_encode(void **state)
{
    (void)state;
    char *e = query_encode("AZaz09-._~");
    assert_string_equal(e, "AZaz09-._~");
    free(e);
    e = query_encode("a b/+=:&?%\xc3\xa9");
    assert_string_equal(e, "a%20b%2F%2B%3D%3A%26%3F%25%C3%A9");
    free(e);
    e = query_encode("");
    assert_string_equal(e, "");
    free(e);
    /* A path keeps its slashes, and only them. */
    e = query_encode_path("/Shared Documents/a b/c%d+e/\xc3\xa9");
    assert_string_equal(e, "/Shared%20Documents/a%20b/c%25d%2Be/%C3%A9");
    free(e);
    e = query_encode_path("AZaz09-._~/");
    assert_string_equal(e, "AZaz09-._~/");
    free(e);

    /* Every character text may hold survives encode then decode. */
    char all[256];
    size_t k = 0;
    for (int i = 1; i < 128; i++)
        if (i >= 0x20 || i == '\t' || i == '\n' || i == '\r')
            all[k++] = (char)i;
    memcpy(all + k, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
    k += 9;
    all[k] = '\0';
    e = query_encode(all);
    size_t n = 0;
    char *d = query_decode(e, strlen(e), true, &n);
    assert_non_null(d);
    assert_int_equal(n, k);
    assert_memory_equal(d, all, k);
    free(d);
    free(e);
}

/* What is not UTF-8 text XML can carry is refused: it would be kept, then listed. */
static void test_decode_not_text(void **state)
{
    (void)state;
    const char *bad[] = {"%ff%fe",    "%C0%AE",    "a%ED%A0%80b", "x%e2%82", "%F4%90%80%80",
                         "%EF%BF%BE", "%EF%BF%BF", "a%01",        "%7f%80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(query_decode(bad[i], strlen(bad[i]), false, NULL));
    char *d = query_decode("%09%0A%0D%7F", 12, false, NULL);
    assert_non_null(d);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),         cmocka_unit_test(test_decode_not_text),
        cmocka_unit_test(test_decode_rejects), cmocka_unit_test(test_parse_order_and_duplicates),
        cmocka_unit_test(test_parse_decodes),  cmocka_unit_test(test_parse_empty_segments),
        cmocka_unit_test(test_parse_rejects),  cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
