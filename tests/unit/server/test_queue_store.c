/*
 * Unit tests for queue_store.c on a real temporary database: queues and their metadata and
 * listing, put/get/peek/delete/update/clear, pop receipts (stale, foreign, malformed),
 * visibility and time to live with the clock moved forward, and the bounded removal of
 * expired messages.
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
#include "clock.h"
#include "db.h"
#include "queue_store.h"
#include "spmig_limits.h"
#include "xmalloc.h"

#define ACCT "acct"

static char dir[FIXTURE_DIR_LEN];

static int setup(void **state)
{
    (void)state;
    fixture_open(dir);
    bool created;
    assert_int_equal(queue_store_queue_create(ACCT, "jobs", NULL, &created), QUEUE_STORE_OK);
    assert_true(created);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_close(dir);
    return 0;
}

static void advance(int64_t ms)
{
    assert_int_equal(clock_set_offset_ms(clock_offset_ms() + ms), 0);
}

static void put(const char *text, int64_t vis_ms, int64_t ttl_ms, struct queue_store_message *out)
{
    assert_int_equal(queue_store_put(ACCT, "jobs", text, strlen(text), vis_ms, ttl_ms, out),
                     QUEUE_STORE_OK);
}

/* Messages of the queue as the table holds them, expired ones included. */
static int64_t rows(void)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT count(*) FROM messages");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    db_release(d);
    return n;
}

static uint64_t approx(void)
{
    struct queue_store_queue q;
    assert_int_equal(queue_store_queue_get(ACCT, "jobs", &q), QUEUE_STORE_OK);
    uint64_t n = q.approx_messages;
    queue_store_queue_finish(&q);
    return n;
}

static void test_names(void **state)
{
    (void)state;
    assert_true(queue_store_valid_name("abc"));
    assert_true(queue_store_valid_name("a-b-c1"));
    assert_true(
        queue_store_valid_name("012345678901234567890123456789012345678901234567890123456789012"));
    assert_false(
        queue_store_valid_name("0123456789012345678901234567890123456789012345678901234567890123"));
    assert_false(queue_store_valid_name("ab"));
    assert_false(queue_store_valid_name("-abc"));
    assert_false(queue_store_valid_name("abc-"));
    assert_false(queue_store_valid_name("a--bc"));
    assert_false(queue_store_valid_name("Abc"));
    assert_false(queue_store_valid_name("ab_c"));
    bool created;
    assert_int_equal(queue_store_queue_create(ACCT, "Bad", NULL, &created), QUEUE_STORE_BAD_ARG);
}

static void test_queue_lifecycle(void **state)
{
    (void)state;
    bool created;
    assert_int_equal(queue_store_queue_create(ACCT, "q1", NULL, &created), QUEUE_STORE_BAD_ARG);
    assert_int_equal(queue_store_queue_create(ACCT, "meta-q", "{\"a\":\"1\"}", &created),
                     QUEUE_STORE_OK);
    assert_true(created);
    /* Same metadata: 204, nothing changed; other metadata: 409. */
    assert_int_equal(queue_store_queue_create(ACCT, "meta-q", "{\"a\":\"1\"}", &created),
                     QUEUE_STORE_OK);
    assert_false(created);
    assert_int_equal(queue_store_queue_create(ACCT, "meta-q", NULL, &created),
                     QUEUE_STORE_QUEUE_EXISTS);
    assert_int_equal(queue_store_queue_create(ACCT, "jobs", "{\"a\":\"1\"}", &created),
                     QUEUE_STORE_QUEUE_EXISTS);
    /* Another account may hold the same name. */
    assert_int_equal(queue_store_queue_create("other", "meta-q", NULL, &created), QUEUE_STORE_OK);
    assert_true(created);

    struct queue_store_queue q;
    assert_int_equal(queue_store_queue_get(ACCT, "meta-q", &q), QUEUE_STORE_OK);
    assert_string_equal(q.metadata, "{\"a\":\"1\"}");
    assert_int_equal(q.approx_messages, 0);
    queue_store_queue_finish(&q);
    assert_int_equal(queue_store_queue_set_metadata(ACCT, "meta-q", "{\"b\":\"2\"}"),
                     QUEUE_STORE_OK);
    assert_int_equal(queue_store_queue_get(ACCT, "meta-q", &q), QUEUE_STORE_OK);
    assert_string_equal(q.metadata, "{\"b\":\"2\"}");
    queue_store_queue_finish(&q);
    assert_int_equal(queue_store_queue_set_metadata(ACCT, "nope", NULL), QUEUE_STORE_NO_QUEUE);
    assert_int_equal(queue_store_queue_get(ACCT, "nope", &q), QUEUE_STORE_NO_QUEUE);

    assert_int_equal(queue_store_queue_delete(ACCT, "meta-q"), QUEUE_STORE_OK);
    assert_int_equal(queue_store_queue_delete(ACCT, "meta-q"), QUEUE_STORE_NO_QUEUE);
    assert_int_equal(queue_store_queue_get(ACCT, "meta-q", &q), QUEUE_STORE_NO_QUEUE);
    assert_int_equal(queue_store_queue_get("other", "meta-q", &q), QUEUE_STORE_OK);
    queue_store_queue_finish(&q);
}

static void test_list(void **state)
{
    (void)state;
    const char *names[] = {"alpha", "beta-1", "beta-2", "beta-3", "gamma"};
    bool created;
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(queue_store_queue_create(ACCT, names[i], "{\"k\":\"v\"}", &created),
                         QUEUE_STORE_OK);
    struct queue_store_list l;
    assert_int_equal(queue_store_queue_list(ACCT, NULL, NULL, 5000, false, &l), QUEUE_STORE_OK);
    assert_int_equal(l.n, 6); /* and "jobs" */
    assert_string_equal(l.queues[0].name, "alpha");
    assert_string_equal(l.queues[4].name, "gamma");
    assert_string_equal(l.queues[5].name, "jobs");
    assert_string_equal(l.queues[0].metadata, "{}");
    assert_null(l.next_marker);
    queue_store_list_finish(&l);

    /* Prefix with paging: two, then one, then done. */
    assert_int_equal(queue_store_queue_list(ACCT, "beta", NULL, 2, true, &l), QUEUE_STORE_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.queues[0].name, "beta-1");
    assert_string_equal(l.queues[0].metadata, "{\"k\":\"v\"}");
    assert_string_equal(l.next_marker, "/" ACCT "/beta-3");
    char *marker = xstrdup(l.next_marker);
    queue_store_list_finish(&l);
    assert_int_equal(queue_store_queue_list(ACCT, "beta", marker, 2, false, &l), QUEUE_STORE_OK);
    free(marker);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.queues[0].name, "beta-3");
    assert_null(l.next_marker);
    queue_store_list_finish(&l);
    /* A bare queue name works as a marker too; a prefix nothing has gives nothing. */
    assert_int_equal(queue_store_queue_list(ACCT, NULL, "gamma", 10, false, &l), QUEUE_STORE_OK);
    assert_int_equal(l.n, 2);
    queue_store_list_finish(&l);
    assert_int_equal(queue_store_queue_list(ACCT, "zzz", NULL, 10, false, &l), QUEUE_STORE_OK);
    assert_int_equal(l.n, 0);
    queue_store_list_finish(&l);
    assert_int_equal(queue_store_queue_list("empty", NULL, NULL, 10, false, &l), QUEUE_STORE_OK);
    assert_int_equal(l.n, 0);
    queue_store_list_finish(&l);
}

static void test_put_get_delete(void **state)
{
    (void)state;
    struct queue_store_message p[3];
    put("one", 0, 0, &p[0]);
    put("two <&>", 0, 0, &p[1]);
    put("three", 0, 0, &p[2]);
    assert_int_equal(strlen(p[0].id), 36);
    assert_int_equal(strlen(p[0].pop_receipt), QUEUE_STORE_RECEIPT_LEN - 1);
    assert_null(p[0].text);
    assert_int_equal(p[0].expires_ms - p[0].inserted_ms, LIMIT_DEFAULT_TTL_SECONDS * 1000LL);
    assert_int_equal(p[0].visible_ms, p[0].inserted_ms);
    assert_string_not_equal(p[0].id, p[1].id);
    assert_int_equal(approx(), 3);

    struct queue_store_message m[LIMIT_MESSAGES_PER_GET];
    size_t n;
    assert_int_equal(queue_store_peek(ACCT, "jobs", 32, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(m[0].text, "one");
    assert_string_equal(m[1].text, "two <&>");
    assert_int_equal(m[1].text_len, 7);
    assert_string_equal(m[0].id, p[0].id);
    assert_int_equal(m[0].dequeue_count, 0);
    assert_string_equal(m[0].pop_receipt, "");
    queue_store_messages_finish(m, n);

    int64_t before = clock_now_ms();
    assert_int_equal(queue_store_get(ACCT, "jobs", 2, 30000, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(m[0].id, p[0].id);
    assert_string_equal(m[1].id, p[1].id);
    assert_int_equal(m[0].dequeue_count, 1);
    assert_true(m[0].visible_ms >= before + 30000);
    assert_string_not_equal(m[0].pop_receipt, p[0].pop_receipt);
    struct queue_store_message got0 = m[0], got1 = m[1];
    queue_store_messages_finish(m, n);
    assert_int_equal(approx(), 3); /* invisible messages still count */

    assert_int_equal(queue_store_get(ACCT, "jobs", 32, 30000, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].text, "three");
    struct queue_store_message got2 = m[0];
    queue_store_messages_finish(m, n);
    assert_int_equal(queue_store_get(ACCT, "jobs", 32, 30000, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 0);

    /* Receipts: current, stale, another message's, not one at all. */
    assert_int_equal(queue_store_delete(ACCT, "jobs", got0.id, got0.pop_receipt), QUEUE_STORE_OK);
    assert_int_equal(queue_store_delete(ACCT, "jobs", got0.id, got0.pop_receipt),
                     QUEUE_STORE_NO_MESSAGE);
    assert_int_equal(queue_store_delete(ACCT, "jobs", got1.id, p[1].pop_receipt),
                     QUEUE_STORE_NO_MESSAGE);
    assert_int_equal(queue_store_delete(ACCT, "jobs", got1.id, got2.pop_receipt),
                     QUEUE_STORE_RECEIPT_MISMATCH);
    assert_int_equal(queue_store_delete(ACCT, "jobs", got1.id, "garbage"), QUEUE_STORE_BAD_RECEIPT);
    assert_int_equal(queue_store_delete(ACCT, "nope", got1.id, got1.pop_receipt),
                     QUEUE_STORE_NO_QUEUE);
    /* Message ids compare without regard to case. */
    char upper[QUEUE_STORE_ID_LEN];
    for (size_t i = 0; i < sizeof upper; i++)
        upper[i] = (char)(got1.id[i] >= 'a' && got1.id[i] <= 'f' ? got1.id[i] - 32 : got1.id[i]);
    assert_int_equal(queue_store_delete(ACCT, "jobs", upper, got1.pop_receipt), QUEUE_STORE_OK);
    assert_int_equal(queue_store_delete(ACCT, "jobs", got2.id, got2.pop_receipt), QUEUE_STORE_OK);
    assert_int_equal(approx(), 0);
    assert_int_equal(rows(), 0);
}

static void test_put_receipt_deletes(void **state)
{
    (void)state;
    /* The receipt Put Message returns deletes the message until someone gets it. */
    struct queue_store_message p;
    put("x", 0, 0, &p);
    assert_int_equal(queue_store_delete(ACCT, "jobs", p.id, p.pop_receipt), QUEUE_STORE_OK);
    assert_int_equal(rows(), 0);
}

static void test_visibility(void **state)
{
    (void)state;
    struct queue_store_message p, m[LIMIT_MESSAGES_PER_GET];
    size_t n;
    put("later", 10000, 0, &p);
    assert_int_equal(p.visible_ms - p.inserted_ms, 10000);
    assert_int_equal(queue_store_get(ACCT, "jobs", 1, 30000, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(queue_store_peek(ACCT, "jobs", 1, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 0);
    advance(10001);
    assert_int_equal(queue_store_get(ACCT, "jobs", 1, 5000, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 1);
    char first[QUEUE_STORE_RECEIPT_LEN];
    strcpy(first, m[0].pop_receipt);
    queue_store_messages_finish(m, n);
    advance(5001);
    /* Visible again: taken a second time; the first receipt is now stale. */
    assert_int_equal(queue_store_get(ACCT, "jobs", 1, 5000, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(m[0].dequeue_count, 2);
    assert_int_equal(queue_store_delete(ACCT, "jobs", p.id, first), QUEUE_STORE_NO_MESSAGE);
    /* The receipt stays good after the message becomes visible, until the next get. */
    advance(6000);
    assert_int_equal(queue_store_delete(ACCT, "jobs", p.id, m[0].pop_receipt), QUEUE_STORE_OK);
    queue_store_messages_finish(m, n);
}

static void test_ttl(void **state)
{
    (void)state;
    struct queue_store_message p1, p2, m[LIMIT_MESSAGES_PER_GET];
    size_t n;
    put("short", 0, 2000, &p1);
    put("forever", 0, QUEUE_STORE_TTL_NEVER, &p2);
    assert_int_equal(p2.expires_ms, QUEUE_STORE_NEVER_MS);
    assert_int_equal(p1.expires_ms - p1.inserted_ms, 2000);
    assert_int_equal(approx(), 2);
    advance(2001);
    assert_int_equal(approx(), 1);
    assert_int_equal(queue_store_peek(ACCT, "jobs", 32, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].text, "forever");
    queue_store_messages_finish(m, n);
    assert_int_equal(rows(), 2); /* peek changes nothing */
    /* An expired message can be neither deleted nor updated. */
    assert_int_equal(queue_store_delete(ACCT, "jobs", p1.id, p1.pop_receipt),
                     QUEUE_STORE_NO_MESSAGE);
    assert_int_equal(rows(), 1); /* ... and is removed on the way */
    assert_int_equal(queue_store_get(ACCT, "jobs", 32, 1000, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].text, "forever");
    assert_int_equal(m[0].expires_ms, QUEUE_STORE_NEVER_MS);
    queue_store_messages_finish(m, n);
    assert_int_equal(queue_store_clear(ACCT, "jobs"), QUEUE_STORE_OK);

    /* Get removes expired messages it meets. */
    put("gone", 0, 1000, NULL);
    put("kept", 0, 0, NULL);
    advance(1001);
    assert_int_equal(queue_store_get(ACCT, "jobs", 1, 1000, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].text, "kept");
    queue_store_messages_finish(m, n);
    assert_int_equal(rows(), 1);
}

static void test_many_expired(void **state)
{
    (void)state;
    for (int i = 0; i < 100; i++)
        put("old", 0, 1000, NULL);
    put("new", 0, 0, NULL);
    advance(1001);
    struct queue_store_message m[LIMIT_MESSAGES_PER_GET];
    size_t n;
    /* The live message lies behind 100 expired ones: found all the same, while only a
     * bounded batch of the expired ones goes per call. */
    assert_int_equal(queue_store_get(ACCT, "jobs", 1, 1000, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].text, "new");
    queue_store_messages_finish(m, n);
    int64_t left = rows();
    assert_true(left > 1 && left < 101);
    assert_int_equal(approx(), 1);
    for (int i = 0; i < 10 && rows() > 1; i++) {
        assert_int_equal(queue_store_get(ACCT, "jobs", 32, 1000, m, &n), QUEUE_STORE_OK);
        assert_int_equal(n, 0);
    }
    assert_int_equal(rows(), 1);
}

static void test_update(void **state)
{
    (void)state;
    struct queue_store_message p, u, m[LIMIT_MESSAGES_PER_GET];
    size_t n;
    put("before", 0, 60000, &p);
    assert_int_equal(queue_store_get(ACCT, "jobs", 1, 30000, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 1);
    struct queue_store_message g = m[0];
    queue_store_messages_finish(m, n);

    const char *after = "after";
    assert_int_equal(
        queue_store_update(ACCT, "jobs", g.id, g.pop_receipt, 0, after, strlen(after), &u),
        QUEUE_STORE_OK);
    assert_string_not_equal(u.pop_receipt, g.pop_receipt);
    assert_true(u.visible_ms <= clock_now_ms());
    assert_int_equal(queue_store_peek(ACCT, "jobs", 1, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].text, "after");
    assert_int_equal(m[0].dequeue_count, 1); /* an update is not a dequeue */
    queue_store_messages_finish(m, n);
    /* The old receipt is stale now; the new one works, also without new text. */
    assert_int_equal(queue_store_update(ACCT, "jobs", g.id, g.pop_receipt, 0, NULL, 0, NULL),
                     QUEUE_STORE_NO_MESSAGE);
    struct queue_store_message u2;
    assert_int_equal(queue_store_update(ACCT, "jobs", g.id, u.pop_receipt, 10000, NULL, 0, &u2),
                     QUEUE_STORE_OK);
    assert_int_equal(queue_store_peek(ACCT, "jobs", 1, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 0);
    /* Not past the expiry (60 s after the put). */
    assert_int_equal(queue_store_update(ACCT, "jobs", g.id, u2.pop_receipt, 120000, NULL, 0, NULL),
                     QUEUE_STORE_BAD_ARG);
    char *big = xcalloc(1, LIMIT_MESSAGE_BYTES + 2);
    memset(big, 'x', LIMIT_MESSAGE_BYTES + 1);
    assert_int_equal(queue_store_update(ACCT, "jobs", g.id, u2.pop_receipt, 0, big,
                                        LIMIT_MESSAGE_BYTES + 1, NULL),
                     QUEUE_STORE_TOO_LARGE);
    assert_int_equal(
        queue_store_update(ACCT, "jobs", g.id, u2.pop_receipt, 0, big, LIMIT_MESSAGE_BYTES, NULL),
        QUEUE_STORE_OK);
    free(big);
    assert_int_equal(queue_store_get(ACCT, "jobs", 1, 1000, m, &n), QUEUE_STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(m[0].text_len, LIMIT_MESSAGE_BYTES);
    queue_store_messages_finish(m, n);
}

static void test_clear_and_delete_queue(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++)
        put("m", 0, 0, NULL);
    assert_int_equal(approx(), 5);
    assert_int_equal(queue_store_clear(ACCT, "jobs"), QUEUE_STORE_OK);
    assert_int_equal(approx(), 0);
    assert_int_equal(queue_store_clear(ACCT, "nope"), QUEUE_STORE_NO_QUEUE);
    put("m", 0, 0, NULL);
    assert_int_equal(queue_store_queue_delete(ACCT, "jobs"), QUEUE_STORE_OK);
    assert_int_equal(rows(), 0);
    struct queue_store_message m[1];
    size_t n;
    assert_int_equal(queue_store_get(ACCT, "jobs", 1, 1000, m, &n), QUEUE_STORE_NO_QUEUE);
    assert_int_equal(queue_store_peek(ACCT, "jobs", 1, m, &n), QUEUE_STORE_NO_QUEUE);
}

static void test_put_errors(void **state)
{
    (void)state;
    assert_int_equal(queue_store_put(ACCT, "nope", "x", 1, 0, 0, NULL), QUEUE_STORE_NO_QUEUE);
    assert_int_equal(queue_store_put(ACCT, "jobs", "x", LIMIT_MESSAGE_BYTES + 1, 0, 0, NULL),
                     QUEUE_STORE_TOO_LARGE);
    assert_int_equal(queue_store_put(ACCT, "jobs", "x", 1, -1, 0, NULL), QUEUE_STORE_BAD_ARG);
    assert_int_equal(
        queue_store_put(ACCT, "jobs", "x", 1, LIMIT_VISIBILITY_SECONDS * 1000LL + 1, -1, NULL),
        QUEUE_STORE_BAD_ARG);
    assert_int_equal(queue_store_put(ACCT, "jobs", "x", 1, 0, 999, NULL), QUEUE_STORE_BAD_ARG);
    assert_int_equal(queue_store_put(ACCT, "jobs", "x", 1, 5000, 5000, NULL), QUEUE_STORE_BAD_ARG);
    /* Visibility may be up to 7 days with a TTL that never ends. */
    assert_int_equal(
        queue_store_put(ACCT, "jobs", "x", 1, LIMIT_VISIBILITY_SECONDS * 1000LL, -1, NULL),
        QUEUE_STORE_OK);
    struct queue_store_message m[1];
    size_t n;
    assert_int_equal(queue_store_get(ACCT, "jobs", 0, 1000, m, &n), QUEUE_STORE_BAD_ARG);
    assert_int_equal(queue_store_get(ACCT, "jobs", 33, 1000, m, &n), QUEUE_STORE_BAD_ARG);
    assert_int_equal(queue_store_get(ACCT, "jobs", 1, 999, m, &n), QUEUE_STORE_BAD_ARG);
    assert_int_equal(rows(), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_get_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_receipt_deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visibility, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_and_delete_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
