/*
 * Unit tests for mm_dispatch.c over a real store (mm_store.c): a share holds a source by path
 * component; a task goes to an enabled, connected agent of its group whose readable share
 * holds it, oldest first, up to the agent's free slots (then InUse); Disabled agents take
 * nothing; schedules start when the emulator clock reaches them; a lost agent's tasks go back
 * to the queue only after the grace; auto rerun queues a failed task up to four times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "mm_dispatch.h"
#include "mm_fixture.h"
#include "mm_store.h"
#include "store_fixture.h"
#include "xmalloc.h"

#include <stdlib.h>
#include <string.h>

static void advance(int64_t ms)
{
    assert_int_equal(clock_set_offset_ms(clock_offset_ms() + ms), 0);
}

struct got {
    char ids[8][UUID_BUF];
    int n;
};

static void got_task(void *ctx, const struct mm_task *t)
{
    struct got *g = ctx;
    strcpy(g->ids[g->n++], t->id);
}

static int assign(const char *agent_id, struct got *g)
{
    struct mm_agent a = {0};
    assert_int_equal(mm_store_agent_get(agent_id, &a), MM_OK);
    memset(g, 0, sizeof *g);
    int n = mm_dispatch_assign(&a, got_task, g);
    mm_agent_finish(&a);
    return n;
}

static const char *agent_state(const char *id)
{
    struct mm_agent a = {0};
    assert_int_equal(mm_store_agent_get(id, &a), MM_OK);
    const char *s = mm_dispatch_agent_state(&a, mm_store_agent_tasks(id, NULL, NULL));
    mm_agent_finish(&a);
    return s;
}

static void test_share_holds(void **state)
{
    (void)state;
    assert_true(mm_dispatch_share_holds("\\\\srv\\share", "\\\\srv\\share"));
    assert_true(mm_dispatch_share_holds("\\\\srv\\share", "\\\\srv\\share\\a\\b"));
    assert_true(mm_dispatch_share_holds("\\\\srv\\share\\", "\\\\SRV\\Share\\a"));
    assert_true(mm_dispatch_share_holds("/srv/share", "/srv/share/a"));
    assert_false(mm_dispatch_share_holds("\\\\srv\\share", "\\\\srv\\shared"));
    assert_false(mm_dispatch_share_holds("\\\\srv\\share\\a", "\\\\srv\\share"));
    assert_false(mm_dispatch_share_holds("", "\\\\srv"));
    assert_true(mm_dispatch_shares_hold("[{\"path\":\"\\\\\\\\s\\\\no\",\"readable\":false},"
                                        "{\"path\":\"\\\\\\\\s\\\\yes\",\"readable\":true}]",
                                        "\\\\s\\yes\\x"));
    assert_false(mm_dispatch_shares_hold("[{\"path\":\"\\\\\\\\s\\\\no\",\"readable\":false}]",
                                         "\\\\s\\no\\x"));
    assert_false(mm_dispatch_shares_hold("not json", "\\\\s\\no\\x"));
}

static void test_matching(void **state)
{
    (void)state;
    mm_dispatch_init(30, 60);
    assert_int_equal(mm_store_group_add("east"), MM_OK);
    char a[UUID_BUF], e[UUID_BUF], t1[UUID_BUF], t2[UUID_BUF], t3[UUID_BUF], t4[UUID_BUF],
        t5[UUID_BUF], t6[UUID_BUF];
    mm_fixture_agent("a", "Default",
                     "[{\"path\":\"\\\\\\\\srv\\\\a\",\"readable\":true},"
                     "{\"path\":\"\\\\\\\\srv\\\\b\",\"readable\":false}]",
                     2, a);
    mm_fixture_task("\\\\srv\\a\\x", "Default", 0, t1);
    mm_fixture_task("\\\\srv\\b\\y", "Default", 0, t2); /* only an unreadable share holds it */
    mm_fixture_task("\\\\srv\\ax", "Default", 0, t3);   /* not under \\srv\a by component */
    mm_fixture_task("\\\\srv\\a\\z", "east", 0, t4);    /* another group */
    mm_fixture_task("\\\\srv\\A\\w", "Default", 0, t5);
    mm_fixture_task("\\\\srv\\a\\v", "Default", 0, t6);
    assert_string_equal(agent_state(a), "Enabled");
    struct got g;
    assert_int_equal(assign(a, &g), 2);
    assert_string_equal(g.ids[0], t1); /* oldest first */
    assert_string_equal(g.ids[1], t5);
    assert_string_equal(mm_fixture_status(t1), "Scanning");
    assert_string_equal(agent_state(a), "InUse");
    assert_int_equal(assign(a, &g), 0);
    assert_string_equal(mm_fixture_status(t6), "Queued");
    struct mm_task w = {0};
    char why[200];
    assert_int_equal(mm_store_task_get(t2, &w), MM_OK);
    mm_dispatch_waiting_reason(&w, why, sizeof why);
    assert_non_null(strstr(why, "readable share"));
    mm_task_finish(&w);
    /* The east agent takes the east task only. */
    mm_fixture_agent("e", "east", "[{\"path\":\"\\\\\\\\srv\",\"readable\":true}]", 5, e);
    assert_int_equal(assign(e, &g), 1);
    assert_string_equal(g.ids[0], t4);
    /* Disabled: nothing new, its running tasks go on. */
    struct mm_progress p = {0};
    assert_int_equal(mm_store_task_end(t1, a, &p, "Completed", NULL, false), MM_OK);
    assert_int_equal(mm_store_agent_update(a, 0, NULL, NULL), MM_OK);
    assert_string_equal(agent_state(a), "Disabled");
    assert_int_equal(assign(a, &g), 0);
    assert_string_equal(mm_fixture_status(t5), "Scanning");
    assert_int_equal(mm_store_agent_update(a, 1, NULL, NULL), MM_OK);
    assert_int_equal(assign(a, &g), 1);
    assert_string_equal(g.ids[0], t6);
    /* Another agent's report is refused and changes nothing. */
    const char *order;
    p.status = "InProgress";
    p.files_migrated = 5;
    assert_int_equal(mm_store_task_progress(t6, e, &p, &order), MM_FORBIDDEN);
    assert_int_equal(mm_store_task_end(t6, e, &p, "Failed", "x", false), MM_FORBIDDEN);
    assert_string_equal(mm_fixture_status(t6), "Scanning");
}

static void test_schedule(void **state)
{
    (void)state;
    mm_dispatch_init(30, 60);
    char t[UUID_BUF];
    mm_fixture_task("\\\\srv\\s", "Default", clock_now_ms() + 3600000, t);
    assert_string_equal(mm_fixture_status(t), "Scheduled");
    assert_int_equal(mm_dispatch_sweep(clock_now_ms()), 0);
    assert_string_equal(mm_fixture_status(t), "Scheduled");
    advance(3600001);
    assert_int_equal(mm_dispatch_sweep(clock_now_ms()), 1);
    assert_string_equal(mm_fixture_status(t), "Queued");
}

static void no_order(void *ctx, const char *kind, const char *task)
{
    (void)ctx;
    fail_msg("unexpected order %s for %s", kind, task);
}

static void test_lost_agent(void **state)
{
    (void)state;
    mm_dispatch_init(2, 3);
    char a[UUID_BUF], b[UUID_BUF], t[UUID_BUF];
    mm_fixture_agent("lost", "Default", "[{\"path\":\"/s\",\"readable\":true}]", 1, a);
    mm_fixture_task("/s/x", "Default", 0, t);
    struct got g;
    assert_int_equal(assign(a, &g), 1);
    advance(2500);
    assert_string_equal(agent_state(a), "Disconnected");
    assert_int_equal(mm_dispatch_sweep(clock_now_ms()), 0); /* within the grace */
    assert_string_equal(mm_fixture_status(t), "Scanning");
    advance(3000);
    assert_int_equal(mm_dispatch_sweep(clock_now_ms()), 1);
    assert_string_equal(mm_fixture_status(t), "Queued");
    mm_fixture_agent("other", "Default", "[{\"path\":\"/s\",\"readable\":true}]", 1, b);
    assert_int_equal(assign(b, &g), 1);
    struct mm_task x = {0};
    assert_int_equal(mm_store_task_get(t, &x), MM_OK);
    assert_true(x.resume);
    assert_string_equal(x.agent, b);
    mm_task_finish(&x);
    /* A disconnected agent gets nothing. */
    assert_int_equal(assign(a, &g), 0);
    /* A task an admin paused while its agent was still there is paused, not requeued, when
     * the agent is lost; the lost agent's pause order goes. */
    char p[UUID_BUF];
    mm_fixture_task("/s/p", "Default", 0, p);
    char c[UUID_BUF];
    mm_fixture_agent("third", "Default", "[{\"path\":\"/s\",\"readable\":true}]", 1, c);
    assert_int_equal(assign(c, &g), 1);
    assert_int_equal(mm_store_task_pause(p, mm_dispatch_live), MM_OK);
    assert_string_equal(mm_fixture_status(p), "Scanning");
    advance(6000);
    mm_dispatch_sweep(clock_now_ms());
    assert_string_equal(mm_fixture_status(p), "Paused");
    assert_int_equal(mm_store_orders_pop(c, no_order, NULL), 0);
}

static void test_auto_rerun(void **state)
{
    (void)state;
    mm_dispatch_init(30, 60);
    char a[UUID_BUF], t[UUID_BUF];
    mm_fixture_agent("rerun", "Default", "[{\"path\":\"/r\",\"readable\":true}]", 1, a);
    mm_fixture_task("/r/x", "Default", 0, t);
    struct got g;
    struct mm_progress p = {0};
    for (int round = 1; round <= 4; round++) {
        assert_int_equal(assign(a, &g), 1);
        assert_int_equal(mm_store_task_end(t, a, &p, "Failed", "boom", true), MM_OK);
        assert_string_equal(mm_fixture_status(t), "Queued");
    }
    assert_int_equal(assign(a, &g), 1);
    assert_int_equal(mm_store_task_end(t, a, &p, "Failed", "boom", true), MM_OK);
    struct mm_task x = {0};
    assert_int_equal(mm_store_task_get(t, &x), MM_OK);
    assert_string_equal(x.status, "Failed");
    assert_int_equal(x.round, 4);
    assert_string_equal(x.failure_reason, "boom");
    mm_task_finish(&x);
    /* Run restarts it: round 5, reruns start again. */
    assert_int_equal(mm_store_task_run(t, mm_dispatch_live), MM_OK);
    assert_int_equal(mm_store_task_get(t, &x), MM_OK);
    assert_int_equal(x.round, 5);
    assert_string_equal(x.status, "Queued");
    mm_task_finish(&x);
}

static void test_store_limits(void **state)
{
    (void)state;
    char t[UUID_BUF];
    mm_fixture_task("/d/x", "Default", 0, t);
    struct mm_task dup = {.name = "d",
                          .source = "/d/x",
                          .site = "/sites/x",
                          .library = "L",
                          .folder = "",
                          .group = "Default"};
    size_t bad = 9;
    assert_true(mm_store_task_duplicate(&dup));
    assert_int_equal(mm_store_task_insert(&dup, 1, &bad), MM_CONFLICT);
    assert_int_equal(bad, 0);
    assert_int_equal(mm_store_group_delete("Default2"), MM_NOT_FOUND);
    assert_int_equal(mm_store_group_add("Default"), MM_CONFLICT);
    /* Deleting a task takes its reports. */
    char a[UUID_BUF];
    mm_fixture_agent("rep", "Default", "[{\"path\":\"/d\",\"readable\":true}]", 1, a);
    struct got g;
    assert_int_equal(assign(a, &g), 1);
    assert_int_equal(mm_fixture_report_put(t, a, "r.csv", 0, "abc"), MM_OK);
    size_t n = 0;
    char *data = mm_fixture_report(t, "r.csv", &n);
    assert_int_equal(n, 3);
    assert_memory_equal(data, "abc", 3);
    free(data);
    assert_int_equal(mm_store_task_delete(t), MM_OK);
    assert_null(mm_fixture_report(t, "r.csv", &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share_holds),
        cmocka_unit_test_setup_teardown(test_matching, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_schedule, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_lost_agent, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_auto_rerun, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_store_limits, fixture_setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
