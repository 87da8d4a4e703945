/*
 * Unit tests for lifecycle.c on a real temporary database: a schedule becomes deadline rows,
 * a sweep applies only what the clock has passed, in batches, moving states forward only,
 * and a name is never provisioned twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"
#include "accounts.h"
#include "blob_store.h"
#include "clock.h"
#include "db.h"
#include "jobs.h"
#include "lifecycle.h"
#include "spmig_limits.h"
#include "xmalloc.h"

#define DAY POLICY_DAY_MS

static void advance(int64_t ms)
{
    assert_int_equal(clock_set_offset_ms(clock_offset_ms() + ms), 0);
}

static const char *state_of(const char *name)
{
    static char out[32];
    out[0] = '\0';
    cJSON *all = lifecycle_containers_json();
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(all, "containers"))
    {
        if (strcmp(cJSON_GetObjectItem(c, "name")->valuestring, name) == 0)
            snprintf(out, sizeof out, "%s", cJSON_GetObjectItem(c, "state")->valuestring);
    }
    cJSON_Delete(all);
    return out;
}

static void provision(const char *name, bool queue)
{
    int64_t now = clock_now_ms();
    const struct policy *p = lifecycle_policy();
    assert_int_equal(lifecycle_provision(name, queue, 1, now, now + p->key_ttl_ms), 0);
    /* A name is never handed out twice, not even after purge. */
    assert_int_equal(lifecycle_provision(name, queue, 1, now, now + p->key_ttl_ms), 1);
}

static int sweep_all(void)
{
    int total = 0, n;
    while ((n = lifecycle_sweep(1000)) > 0)
        total += n;
    assert_true(n == 0);
    return total;
}

static void test_schedule_and_sweep(void **state)
{
    (void)state;
    struct policy *p = (struct policy *)lifecycle_policy();
    p->container_data_delete = (struct policy_range){5 * DAY, 5 * DAY};
    p->container_purge = (struct policy_range){40 * DAY, 40 * DAY};
    p->queue_data_delete = p->container_data_delete;
    p->queue_purge = p->container_purge;
    p->soft_delete_grace_ms = DAY;
    assert_int_equal(blob_store_container_create(ACCOUNTS_INTERNAL, "c-one", NULL, NULL),
                     BLOB_STORE_OK);
    provision("c-one", false);
    provision("q-one", true);
    assert_int_equal(lifecycle_due_count(), 0);
    assert_int_equal(sweep_all(), 0);
    assert_string_equal(state_of("c-one"), "active");

    advance(3 * DAY + 1000); /* key expiry of both */
    assert_int_equal(lifecycle_due_count(), 2);
    assert_int_equal(sweep_all(), 2);
    assert_string_equal(state_of("c-one"), "key-expired");
    assert_string_equal(state_of("q-one"), "key-expired");

    advance(2 * DAY); /* data deletion of both */
    assert_int_equal(sweep_all(), 2);
    assert_string_equal(state_of("c-one"), "soft-deleted");
    assert_string_equal(state_of("q-one"), "data-delinked");
    struct blob_store_container c;
    assert_int_equal(blob_store_container_get(ACCOUNTS_INTERNAL, "trash-c-one", &c), BLOB_STORE_OK);
    blob_store_container_finish(&c);

    advance(DAY); /* the grace is over */
    assert_int_equal(sweep_all(), 1);
    assert_string_equal(state_of("c-one"), "data-removed");
    assert_int_equal(blob_store_container_get(ACCOUNTS_INTERNAL, "trash-c-one", NULL),
                     BLOB_STORE_NO_CONTAINER);

    advance(100 * DAY); /* purge */
    assert_int_equal(sweep_all(), 2);
    assert_string_equal(state_of("c-one"), "purged");
    assert_string_equal(state_of("q-one"), "purged");
    assert_int_equal(blob_store_container_get(ACCOUNTS_INTERNAL, "c-one", NULL),
                     BLOB_STORE_NO_CONTAINER);
    assert_int_equal(lifecycle_due_count(), 0);
}

static void test_jump_applies_in_batches_and_keeps_order(void **state)
{
    (void)state;
    struct policy *p = (struct policy *)lifecycle_policy();
    p->container_data_delete = (struct policy_range){4 * DAY, 30 * DAY};
    p->container_purge = (struct policy_range){30 * DAY, 90 * DAY};
    char name[32];
    for (int i = 0; i < 600; i++) {
        snprintf(name, sizeof name, "bulk-%d", i);
        provision(name, false);
    }
    advance(91 * DAY);
    assert_int_equal(lifecycle_due_count(), 600 * 4);
    int first = lifecycle_sweep(100000);
    assert_int_equal(first, 256); /* one batch at a time */
    assert_int_equal(sweep_all(), 600 * 4 - 256);
    for (int i = 0; i < 600; i += 37) {
        snprintf(name, sizeof name, "bulk-%d", i);
        assert_string_equal(state_of(name), "purged");
    }
}

/* The clock stops at the last time the formats can write; deadlines past it are kept at it. */
static void test_clock_bounds(void **state)
{
    (void)state;
    int64_t before = clock_offset_ms();
    int64_t last = LIMIT_TIME_MAX_MS - clock_real_ms();
    assert_int_equal(lifecycle_clock_set_offset(last + 10000), LIFECYCLE_CLOCK_REFUSED);
    assert_int_equal(clock_set_offset_ms(last + 10000), -1);
    assert_true(clock_offset_ms() == before);
    assert_int_equal(lifecycle_clock_set_offset(before - 1), LIFECYCLE_CLOCK_REFUSED);
    assert_true(clock_after(LIMIT_TIME_MAX_MS - 5, 10) == LIMIT_TIME_MAX_MS);
    assert_true(clock_after(LIMIT_TIME_MAX_MS, LIMIT_TIME_MAX_MS) == LIMIT_TIME_MAX_MS);
    assert_true(clock_after(1000, 234) == 1234);
    /* A move persists: what the database holds is the new offset. */
    assert_int_equal(lifecycle_clock_set_offset(before + 60000), 0);
    assert_true(clock_offset_ms() == before + 60000);
    struct db *d = db_acquire();
    char *saved = db_setting_get(d, "clock_offset_ms");
    db_release(d);
    assert_non_null(saved);
    assert_true(strtoll(saved, NULL, 10) == before + 60000);
    free(saved);
}

static void test_pages_and_next_deadline(void **state)
{
    (void)state;
    assert_int_equal(lifecycle_next_deadline_ms(), -1);
    char name[32];
    const struct policy *p = lifecycle_policy();
    int64_t before = clock_now_ms(), after = 0;
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "page-%d", i);
        provision(name, false);
        if (i == 0)
            after = clock_now_ms();
        advance(1000); /* each one created later than the one before */
    }
    int64_t first_expiry = lifecycle_next_deadline_ms(); /* page-0's key expiry */
    assert_true(first_expiry >= before + p->key_ttl_ms && first_expiry <= after + p->key_ttl_ms);

    bool more;
    cJSON *page = lifecycle_containers_page_json(0, 2, &more);
    cJSON *arr = cJSON_GetObjectItem(page, "containers");
    assert_true(more);
    assert_int_equal(cJSON_GetArraySize(arr), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "name")->valuestring,
                        "page-4"); /* newest first */
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 1), "name")->valuestring,
                        "page-3");
    cJSON_Delete(page);
    page = lifecycle_containers_page_json(4, 2, &more);
    arr = cJSON_GetObjectItem(page, "containers");
    assert_false(more);
    assert_int_equal(cJSON_GetArraySize(arr), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "name")->valuestring,
                        "page-0");
    cJSON_Delete(page);

    advance(p->key_ttl_ms); /* the first key expiry is applied: the next one is later */
    sweep_all();
    assert_true(lifecycle_next_deadline_ms() > first_expiry);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schedule_and_sweep, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_clock_bounds, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_jump_applies_in_batches_and_keeps_order, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_pages_and_next_deadline, fixture_setup,
                                        fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
