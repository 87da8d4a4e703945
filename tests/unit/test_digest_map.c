/*
 * test_digest_map.c: unit tests of common/digest_map.c: an empty map (and freeing it), keys of
 * any length and bytes kept apart, values at the edges of int64, overwriting, growth across
 * many doublings with every key still found and no absent key found, seeds per map, and reuse
 * after digest_map_finish.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "digest_map.h"

static void test_empty(void **state)
{
    (void)state;
    struct digest_map m;
    digest_map_init(&m);
    int64_t v = 42;
    assert_false(digest_map_get(&m, "a", 1, &v));
    assert_false(digest_map_get(&m, "", 0, NULL));
    assert_int_equal(v, 42); /* untouched */
    assert_int_equal(digest_map_count(&m), 0);
    digest_map_finish(&m); /* freeing an empty map */
    digest_map_finish(&m); /* and again: it is empty */
    struct digest_map zero = {0};
    assert_false(digest_map_get(&zero, "a", 1, NULL));
    digest_map_finish(&zero);
}

static void test_keys_apart(void **state)
{
    (void)state;
    struct digest_map m = {0};
    /* Keys that differ only in length or in one byte are different keys. */
    static const struct {
        const char *k;
        size_t len;
    } keys[] = {
        {"", 0},
        {"\0", 1},
        {"\0\0", 2},
        {"a", 1},
        {"a\0", 2},
        {"ab", 2},
        {"ba", 2},
        {"abcdefgh", 8},
        {"abcdefgh", 7},
        {"abcdefgi", 8},
        {"abcdefgh\0", 9},
        {"abcdefghabcdefgh", 16},
        {"A", 1},
        {"\xff\xff", 2},
        {"0123456789abcdef", 16},
        {"0123456789abcdeF", 16},
    };
    size_t n = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < n; i++)
        assert_true(digest_map_put(&m, keys[i].k, keys[i].len, (int64_t)i));
    assert_int_equal(digest_map_count(&m), n);
    for (size_t i = 0; i < n; i++) {
        int64_t v = -1;
        assert_true(digest_map_get(&m, keys[i].k, keys[i].len, &v));
        assert_int_equal(v, (int64_t)i);
    }
    assert_false(digest_map_get(&m, "abc", 3, NULL));
    digest_map_finish(&m);
}

static void test_edge_values_and_overwrite(void **state)
{
    (void)state;
    struct digest_map m = {0};
    const int64_t vals[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX};
    size_t n = sizeof vals / sizeof vals[0];
    for (size_t i = 0; i < n; i++)
        assert_true(digest_map_put(&m, &i, sizeof i, vals[i]));
    for (size_t i = 0; i < n; i++) {
        int64_t v = 12345;
        assert_true(digest_map_get(&m, &i, sizeof i, &v));
        assert_true(v == vals[i]);
    }
    /* Putting a key again changes its value, not the count. */
    for (size_t i = 0; i < n; i++)
        assert_false(digest_map_put(&m, &i, sizeof i, vals[n - 1 - i]));
    assert_int_equal(digest_map_count(&m), n);
    for (size_t i = 0; i < n; i++) {
        int64_t v = 12345;
        assert_true(digest_map_get(&m, &i, sizeof i, &v));
        assert_true(v == vals[n - 1 - i]);
    }
    digest_map_finish(&m);
}

/* Many keys: the map doubles from 64 slots many times, and probing runs through the collisions
 * a table three quarters full has; every key keeps its value. */
static void test_growth_many_keys(void **state)
{
    (void)state;
    enum { N = 200000 };
    struct digest_map m = {0};
    char key[32];
    for (int i = 0; i < N; i++) {
        int len = snprintf(key, sizeof key, "/Shared Documents/f%d", i);
        assert_true(digest_map_put(&m, key, (size_t)len, (int64_t)i * 3 - N));
        if (i == 47 || i == 48) /* at 48 keys the first 64 slots are three quarters full */
            assert_int_equal(m.cap, i == 47 ? 64 : 128);
    }
    assert_int_equal(digest_map_count(&m), N);
    assert_true(m.cap >= N * 4 / 3 && m.cap <= N * 8 / 3);
    assert_int_equal(m.cap & (m.cap - 1), 0);
    for (int i = 0; i < N; i++) {
        int len = snprintf(key, sizeof key, "/Shared Documents/f%d", i);
        int64_t v;
        assert_true(digest_map_get(&m, key, (size_t)len, &v));
        assert_true(v == (int64_t)i * 3 - N);
    }
    for (int i = N; i < N + 10000; i++) {
        int len = snprintf(key, sizeof key, "/Shared Documents/f%d", i);
        assert_false(digest_map_get(&m, key, (size_t)len, NULL));
    }
    /* 16-byte binary keys, as the package's ids are. */
    struct digest_map ids = {0};
    unsigned char id[16] = {0};
    for (uint32_t i = 0; i < 50000; i++) {
        memcpy(id + 12, &i, sizeof i);
        assert_true(digest_map_put(&ids, id, sizeof id, i));
    }
    for (uint32_t i = 0; i < 50000; i++) {
        int64_t v;
        memcpy(id + 12, &i, sizeof i);
        assert_true(digest_map_get(&ids, id, sizeof id, &v));
        assert_int_equal(v, i);
    }
    digest_map_finish(&ids);
    digest_map_finish(&m);
}

static void test_seeds_and_reuse(void **state)
{
    (void)state;
    struct digest_map a = {0}, b = {0};
    digest_map_put(&a, "k", 1, 1);
    digest_map_put(&b, "k", 1, 2);
    /* Each map draws its own seeds, so no key set collides in every map alike. */
    assert_true(a.seed_a != b.seed_a || a.seed_b != b.seed_b);
    int64_t v;
    assert_true(digest_map_get(&a, "k", 1, &v));
    assert_int_equal(v, 1);
    assert_true(digest_map_get(&b, "k", 1, &v));
    assert_int_equal(v, 2);
    /* After finish a map is empty, and works again. */
    digest_map_finish(&a);
    assert_int_equal(digest_map_count(&a), 0);
    assert_false(digest_map_get(&a, "k", 1, NULL));
    assert_true(digest_map_put(&a, "k", 1, 3));
    assert_true(digest_map_get(&a, "k", 1, &v));
    assert_int_equal(v, 3);
    digest_map_finish(&a);
    digest_map_finish(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_keys_apart),
        cmocka_unit_test(test_edge_values_and_overwrite),
        cmocka_unit_test(test_growth_many_keys),
        cmocka_unit_test(test_seeds_and_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
