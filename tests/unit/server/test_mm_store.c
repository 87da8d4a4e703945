/*
 * Unit tests for mm_store.c: groups (Default, busy groups), agents (register, take over a
 * name with its id, delete revokes and sends running tasks back), global settings, task
 * lists paged and filtered, the admin actions with the orders they leave for agents, the
 * tenant's task limit and the report limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mm_fixture.h"
#include "mm_store.h"
#include "spmig_limits.h"
#include "store_fixture.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool always(const struct mm_agent *a)
{
    (void)a;
    return true;
}

static bool never(const struct mm_agent *a)
{
    (void)a;
    return false;
}

static void agent(const char *name, const char *group, char id[UUID_BUF])
{
    mm_fixture_agent(name, group, "[{\"path\":\"/s\",\"readable\":true}]", 4, id);
}

static void task(const char *source, char id[UUID_BUF])
{
    mm_fixture_task(source, "Default", 0, id);
}

static bool take_all(void *ctx, const char *source)
{
    (void)ctx;
    (void)source;
    return true;
}

static void noop(void *ctx, const struct mm_task *t)
{
    (void)ctx;
    (void)t;
}

static void count_order(void *ctx, const char *kind, const char *task)
{
    (void)task;
    char *out = ctx;
    strcat(out, kind);
    strcat(out, ";");
}

static void test_groups_and_settings(void **state)
{
    (void)state;
    assert_true(mm_store_group_exists("Default"));
    assert_true(mm_store_group_exists("default")); /* names compare without case */
    assert_int_equal(mm_store_group_add("west"), MM_OK);
    assert_int_equal(mm_store_group_add("WEST"), MM_CONFLICT);
    char a[UUID_BUF];
    agent("w1", "west", a);
    assert_int_equal(mm_store_group_delete("west"), MM_CONFLICT);
    assert_int_equal(mm_store_agent_update(a, -1, "Default", "renamed"), MM_OK);
    assert_int_equal(mm_store_group_delete("west"), MM_OK);
    assert_false(mm_store_group_exists("west"));
    /* An agent taken over whose group went meanwhile lands in Default. */
    assert_int_equal(mm_store_group_add("gone"), MM_OK);
    char g[UUID_BUF];
    agent("g1", "gone", g);
    assert_int_equal(mm_store_agent_delete(g), MM_OK);
    assert_int_equal(mm_store_group_delete("gone"), MM_OK);
    agent("g1", NULL, g);
    struct mm_agent got = {0};
    assert_int_equal(mm_store_agent_get(g, &got), MM_OK);
    assert_string_equal(got.group, "Default");
    mm_agent_finish(&got);
    cJSON *s = cJSON_Parse("{\"autoRerun\":true}");
    assert_int_equal(mm_store_settings_put(s), MM_OK);
    cJSON_Delete(s);
    s = mm_store_settings_get();
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(s, "autoRerun")));
    cJSON_Delete(s);
}

static void test_agents(void **state)
{
    (void)state;
    char a[UUID_BUF], again[UUID_BUF], t1[UUID_BUF], t2[UUID_BUF];
    agent("host1", NULL, a);
    agent("HOST1", NULL, again); /* the same name takes over the same id */
    assert_string_equal(a, again);
    task("/s/1", t1);
    task("/s/2", t2);
    assert_int_equal(mm_store_dispatch(a, "Default", 2, take_all, NULL, noop, NULL), 2);
    assert_int_equal(mm_store_agent_tasks(a, NULL, NULL), 2);
    struct mm_progress p = {0};
    assert_int_equal(mm_store_task_end(t2, a, &p, "Paused", NULL, false), MM_OK);
    char t3[UUID_BUF];
    task("/s/3", t3);
    assert_int_equal(mm_store_dispatch(a, "Default", 1, take_all, NULL, noop, NULL), 1);
    assert_int_equal(mm_store_task_pause(t3, always), MM_OK); /* an order, not yet taken */
    assert_int_equal(mm_store_agent_delete(a), MM_OK);
    assert_string_equal(mm_fixture_status(t3), "Paused");
    assert_int_equal(mm_store_agent_delete(a), MM_NOT_FOUND);
    struct mm_task t = {0};
    assert_int_equal(mm_store_task_get(t1, &t), MM_OK);
    assert_string_equal(t.status, "Queued");
    assert_true(t.resume);
    assert_string_equal(t.agent, "");
    mm_task_finish(&t);
    assert_int_equal(mm_store_task_get(t2, &t), MM_OK);
    assert_string_equal(t.status, "Paused");
    assert_string_equal(t.agent, "");
    mm_task_finish(&t);
    struct mm_agent got = {0};
    assert_int_equal(mm_store_agent_get(a, &got), MM_OK);
    assert_true(got.deleted);
    assert_false(got.has_hash);
    mm_agent_finish(&got);
    agent("host1", NULL, again);
    assert_string_equal(a, again);
    assert_int_equal(mm_store_agent_get(a, &got), MM_OK);
    assert_false(got.deleted);
    assert_true(got.has_hash);
    mm_agent_finish(&got);
}

struct names {
    int n;
    int64_t last;
};

static void count_task(void *ctx, const struct mm_task *t)
{
    struct names *c = ctx;
    c->n++;
    c->last = t->seq;
}

static void test_lists(void **state)
{
    (void)state;
    char id[UUID_BUF];
    for (int i = 0; i < 25; i++) {
        char src[32];
        snprintf(src, sizeof src, "/s/item%02d", i);
        task(src, id);
    }
    assert_int_equal(mm_store_task_pause(id, always), MM_OK);
    struct mm_task_filter all = {.scan = -1};
    struct names c = {0};
    int pages = 0;
    for (int n; (n = mm_store_task_list(&all, c.last, 10, count_task, &c)) > 0;)
        pages++;
    assert_int_equal(c.n, 25);
    assert_int_equal(pages, 3);
    struct mm_task_filter paused = {.status = "Paused", .scan = -1};
    c = (struct names){0};
    assert_int_equal(mm_store_task_list(&paused, 0, 10, count_task, &c), 1);
    struct mm_task_filter search = {.search = "ITEM1", .scan = -1};
    c = (struct names){0};
    assert_int_equal(mm_store_task_list(&search, 0, 100, count_task, &c), 10);
    struct mm_task_filter scans = {.scan = 1};
    assert_int_equal(mm_store_task_list(&scans, 0, 100, count_task, &c), 0);
    assert_int_equal(mm_store_task_count(), 25);
}

static void test_actions_and_orders(void **state)
{
    (void)state;
    char a[UUID_BUF], t[UUID_BUF], q[UUID_BUF];
    agent("act", NULL, a);
    task("/s/run", t);
    assert_int_equal(mm_store_task_run(t, always), MM_OK); /* Queued: nothing to do */
    assert_int_equal(mm_store_dispatch(a, "Default", 1, take_all, NULL, noop, NULL), 1);
    assert_int_equal(mm_store_task_run(t, always), MM_CONFLICT);
    assert_int_equal(mm_store_task_pause(t, always), MM_OK);
    assert_string_equal(mm_fixture_status(t), "Scanning"); /* until the agent stops */
    const char *order = NULL;
    struct mm_progress p = {.status = "InProgress", .files_total = 4};
    assert_int_equal(mm_store_task_progress(t, a, &p, &order), MM_OK);
    assert_string_equal(order, "pause");
    assert_string_equal(mm_fixture_status(t), "InProgress");
    assert_int_equal(mm_store_task_end(t, a, &p, "Paused", NULL, false), MM_OK);
    assert_string_equal(mm_fixture_status(t), "Paused");
    assert_int_equal(mm_store_task_run(t, always), MM_OK);
    assert_string_equal(mm_fixture_status(t), "InProgress");
    char orders[64] = "";
    assert_int_equal(mm_store_orders_pop(a, count_order, orders), 1);
    assert_string_equal(orders, "resume;");
    assert_int_equal(mm_store_orders_pop(a, count_order, orders), 0);
    assert_int_equal(mm_store_task_cancel(t), MM_OK);
    assert_string_equal(mm_fixture_status(t), "Cancelled");
    assert_int_equal(mm_store_task_progress(t, a, &p, &order), MM_OK);
    assert_string_equal(order, "cancel");
    assert_int_equal(mm_store_task_end(t, a, &p, "Completed", NULL, false), MM_OK);
    assert_string_equal(mm_fixture_status(t), "Cancelled");
    assert_int_equal(mm_store_task_cancel(t), MM_CONFLICT);
    /* Run on a finished task: the next round. */
    assert_int_equal(mm_store_task_run(t, always), MM_OK);
    struct mm_task x = {0};
    assert_int_equal(mm_store_task_get(t, &x), MM_OK);
    assert_string_equal(x.status, "Queued");
    assert_int_equal(x.round, 1);
    assert_int_equal(x.files_total, 0);
    mm_task_finish(&x);
    /* A paused task whose agent is gone goes back to the queue. */
    task("/s/q", q);
    assert_int_equal(mm_store_dispatch(a, "Default", 2, take_all, NULL, noop, NULL), 2);
    assert_int_equal(mm_store_task_end(q, a, &p, "Paused", NULL, false), MM_OK);
    assert_int_equal(mm_store_task_run(q, never), MM_OK);
    assert_int_equal(mm_store_task_get(q, &x), MM_OK);
    assert_string_equal(x.status, "Queued");
    assert_true(x.resume);
    mm_task_finish(&x);
    /* Deleting a running task leaves a cancel order for its agent. */
    orders[0] = '\0';
    assert_int_equal(mm_store_task_delete(t), MM_OK);
    assert_int_equal(mm_store_task_delete(t), MM_NOT_FOUND);
    assert_int_equal(mm_store_orders_pop(a, count_order, orders), 1);
    assert_string_equal(orders, "cancel;");
    /* Pausing a task whose agent is gone pauses it at once. */
    char lost[UUID_BUF];
    task("/s/lost", lost);
    assert_int_equal(mm_store_dispatch(a, "Default", 3, take_all, NULL, noop, NULL), 2);
    assert_int_equal(mm_store_task_pause(lost, never), MM_OK);
    assert_int_equal(mm_store_task_get(lost, &x), MM_OK);
    assert_string_equal(x.status, "Paused");
    assert_string_equal(x.agent, "");
    assert_true(x.resume);
    mm_task_finish(&x);
}

static void test_limits(void **state)
{
    (void)state;
    char a[UUID_BUF], t[UUID_BUF];
    agent("lim", NULL, a);
    task("/s/lim", t);
    assert_int_equal(mm_store_dispatch(a, "Default", 1, take_all, NULL, noop, NULL), 1);
    for (int i = 0; i < LIMIT_MM_REPORTS; i++) {
        char name[32];
        snprintf(name, sizeof name, "r%d.csv", i);
        assert_int_equal(mm_fixture_report_put(t, a, name, 0, "x"), MM_OK);
    }
    assert_int_equal(mm_fixture_report_put(t, a, "one-more.csv", 0, "x"), MM_FULL);
    assert_int_equal(mm_fixture_report_put(t, a, "r0.csv", 1, "yy"), MM_OK); /* replace */
    size_t n = 0;
    char *data = mm_fixture_report(t, "r0.csv", &n);
    assert_int_equal(n, 2);
    assert_memory_equal(data, "yy", 2);
    free(data);
    /* The tenant's task limit, all or nothing. */
    size_t count = LIMIT_MM_TASKS;
    struct mm_task *many = xcalloc(count, sizeof *many);
    char(*src)[24] = xcalloc(count, 24);
    for (size_t i = 0; i < count; i++) {
        snprintf(src[i], 24, "/s/m%zu", i);
        many[i] = (struct mm_task){.name = src[i],
                                   .source = src[i],
                                   .site = "/sites/x",
                                   .library = "L",
                                   .folder = "",
                                   .group = "Default"};
    }
    assert_int_equal(mm_store_task_insert(many, count, NULL), MM_FULL);
    assert_int_equal(mm_store_task_count(), 1);
    assert_int_equal(mm_store_task_insert(many, count - 1, NULL), MM_OK);
    assert_int_equal(mm_store_task_count(), LIMIT_MM_TASKS);
    free(src);
    free(many);
}

/* While agent A walks the queue, agent B takes the task A is about to take. */
struct race {
    const char *other;
    bool done;
};

static bool take_after_other(void *ctx, const char *source)
{
    struct race *r = ctx;
    (void)source;
    if (!r->done) {
        r->done = true;
        assert_int_equal(mm_store_dispatch(r->other, "Default", 1, take_all, NULL, noop, NULL), 1);
    }
    return true;
}

static void test_dispatch_race(void **state)
{
    (void)state;
    char a[UUID_BUF], b[UUID_BUF], t1[UUID_BUF], t2[UUID_BUF];
    agent("race-a", NULL, a);
    agent("race-b", NULL, b);
    task("/s/r1", t1);
    task("/s/r2", t2);
    struct race r = {.other = b};
    /* A read both before B took t1: only t2 is still queued when A takes its pick. */
    assert_int_equal(mm_store_dispatch(a, "Default", 2, take_after_other, &r, noop, NULL), 1);
    struct mm_task x = {0};
    assert_int_equal(mm_store_task_get(t1, &x), MM_OK);
    assert_string_equal(x.agent, b);
    mm_task_finish(&x);
    assert_int_equal(mm_store_task_get(t2, &x), MM_OK);
    assert_string_equal(x.agent, a);
    mm_task_finish(&x);
    assert_int_equal(mm_store_agent_tasks(a, NULL, NULL), 1);
    assert_int_equal(mm_store_agent_tasks(b, NULL, NULL), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_groups_and_settings, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_agents, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_lists, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_actions_and_orders, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_limits, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_dispatch_race, fixture_setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
