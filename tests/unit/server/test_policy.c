/*
 * Unit tests for policy.c: the real service's defaults, the "policies" JSON forms (days,
 * ISO 8601 durations, ranges, fixed values), one-line refusals of invalid or inconsistent
 * policies, and seeded draws that stay in range and repeat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "policy.h"

#define DAY POLICY_DAY_MS

static int parse(const char *json, struct policy *p, char *why, size_t cap)
{
    policy_defaults(p);
    cJSON *o = cJSON_Parse(json);
    assert_non_null(o);
    int rc = policy_parse(p, o, why, cap);
    cJSON_Delete(o);
    return rc;
}

static void test_defaults(void **state)
{
    (void)state;
    struct policy p;
    char why[200];
    policy_defaults(&p);
    assert_int_equal(p.key_ttl_ms, 3 * DAY);
    assert_int_equal(p.queue_sas_ttl_ms, 21 * DAY);
    assert_int_equal(p.container_data_delete.min_ms, 4 * DAY);
    assert_int_equal(p.container_data_delete.max_ms, 30 * DAY);
    assert_int_equal(p.container_purge.min_ms, 30 * DAY);
    assert_int_equal(p.container_purge.max_ms, 90 * DAY);
    assert_int_equal(p.queue_purge.max_ms, 90 * DAY);
    assert_int_equal(p.progress_keep_ms, 4 * DAY);
    assert_int_equal(policy_validate(&p, why, sizeof why), 0);
}

static void test_forms(void **state)
{
    (void)state;
    struct policy p;
    char why[200];
    assert_int_equal(parse("{\"key_ttl\":\"PT36H\",\"container_data_deletion\":5,"
                           "\"container_purge\":{\"min\":40,\"max\":\"P50D\"},"
                           "\"soft_delete_grace\":0.5,\"progress_keep\":\"P2D\"}",
                           &p, why, sizeof why),
                     0);
    assert_int_equal(p.key_ttl_ms, 36 * 3600 * 1000LL);
    assert_int_equal(p.container_data_delete.min_ms, 5 * DAY);
    assert_int_equal(p.container_data_delete.max_ms, 5 * DAY);
    assert_int_equal(p.container_purge.min_ms, 40 * DAY);
    assert_int_equal(p.container_purge.max_ms, 50 * DAY);
    assert_int_equal(p.soft_delete_grace_ms, DAY / 2);
    assert_int_equal(p.progress_keep_ms, 2 * DAY);
    /* A range given only in part keeps the other bound. */
    assert_int_equal(parse("{\"queue_purge\":{\"max\":60}}", &p, why, sizeof why), 0);
    assert_int_equal(p.queue_purge.min_ms, 30 * DAY);
    assert_int_equal(p.queue_purge.max_ms, 60 * DAY);
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *json, *words;
    } bad[] = {
        {"{\"key_ttl\":-1}", "negative"},
        {"{\"key_ttl\":\"-P1D\"}", "negative"},
        {"{\"key_ttl\":0}", "longer than zero"},
        {"{\"key_ttl\":\"soon\"}", "ISO 8601"},
        {"{\"key_ttl\":true}", "expected"},
        {"{\"key_ttl\":99999}", "3650"},
        {"{\"queue_purge\":{\"min\":80,\"max\":40}}", "min is greater"},
        {"{\"container_data_deletion\":{\"min\":4,\"max\":31}}", "after the container purge"},
        {"{\"queue_data_deletion\":50}", "after the queue purge"},
        {"{\"container_purge\":{\"least\":3}}", "unknown key"},
        {"{\"ttl\":3}", "unknown policy"},
        {"[]", "object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct policy p;
        char why[200] = "";
        assert_int_equal(parse(bad[i].json, &p, why, sizeof why), -1);
        if (!strstr(why, bad[i].words))
            fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].json, why, bad[i].words);
        assert_null(strchr(why, '\n'));
    }
}

static void test_draws(void **state)
{
    (void)state;
    struct policy_range r = {4 * DAY, 30 * DAY};
    bool seen[31] = {0};
    for (uint64_t seq = 0; seq < 2000; seq++) {
        int64_t v = policy_draw(&r, 42, seq, 1);
        assert_true(v >= r.min_ms && v <= r.max_ms);
        assert_int_equal(v % DAY, 0);
        assert_int_equal(v, policy_draw(&r, 42, seq, 1));
        seen[v / DAY] = true;
    }
    for (int d = 4; d <= 30; d++)
        assert_true(seen[d]); /* every day of the range comes up */
    int same = 0;
    for (uint64_t seq = 0; seq < 100; seq++)
        same += policy_draw(&r, 42, seq, 1) == policy_draw(&r, 43, seq, 1);
    assert_true(same < 30);
    struct policy_range fixed = {5 * DAY, 5 * DAY};
    assert_int_equal(policy_draw(&fixed, 1, 2, 3), 5 * DAY);
    struct policy_range odd = {1000, 1500};
    for (uint64_t seq = 0; seq < 100; seq++) {
        int64_t v = policy_draw(&odd, 9, seq, 2);
        assert_true(v >= 1000 && v <= 1500);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_draws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
