/*
 * test_sqlite_stmts.c: unit tests of common/sqlite_stmts.c: one statement per SQL string,
 * handed out again reset and unbound, many statements (growth), SQL that does not prepare,
 * and finishing an empty cache or one whose statements are mid-step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sqlite_stmts.h"

static sqlite3 *open_mem(void)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT);"
                                  "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return db;
}

static void test_reuse_reset_unbound(void **state)
{
    (void)state;
    sqlite3 *db = open_mem();
    struct sqlite_stmts c;
    sqlite_stmts_init(&c);
    static const char *const sel = "SELECT v FROM t WHERE k = ?1";
    sqlite3_stmt *st = sqlite_stmts_get(&c, db, sel);
    assert_non_null(st);
    sqlite3_bind_int(st, 1, 2);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "two");
    /* Left mid-step and bound: the next get resets it and drops the binding. */
    sqlite3_stmt *again = sqlite_stmts_get(&c, db, sel);
    assert_ptr_equal(again, st);
    assert_int_equal(sqlite3_step(again), SQLITE_DONE); /* k = NULL matches nothing */
    assert_int_equal(c.n, 1);
    /* Another string, even with the same text, is another statement. */
    char copy[64];
    strcpy(copy, sel);
    sqlite3_stmt *other = sqlite_stmts_get(&c, db, copy);
    assert_non_null(other);
    assert_ptr_not_equal(other, st);
    assert_int_equal(c.n, 2);
    sqlite_stmts_finish(&c);
    assert_int_equal(c.n, 0);
    assert_null(c.slots);
    assert_null(sqlite3_next_stmt(db, NULL)); /* every statement finalized */
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void test_many(void **state)
{
    (void)state;
    sqlite3 *db = open_mem();
    struct sqlite_stmts c = {0};
    enum { N = 100 };
    static char sql[N][48];
    sqlite3_stmt *first[N];
    for (int i = 0; i < N; i++) {
        snprintf(sql[i], sizeof sql[i], "SELECT %d + count(*) FROM t", i);
        first[i] = sqlite_stmts_get(&c, db, sql[i]);
        assert_non_null(first[i]);
    }
    assert_int_equal(c.n, N);
    for (int i = 0; i < N; i++) {
        sqlite3_stmt *st = sqlite_stmts_get(&c, db, sql[i]);
        assert_ptr_equal(st, first[i]);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), i + 3);
    }
    sqlite_stmts_finish(&c); /* statements mid-step are finalized too */
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void test_bad_sql(void **state)
{
    (void)state;
    sqlite3 *db = open_mem();
    struct sqlite_stmts c = {0};
    static const char *const bad = "SELECT nope FROM missing";
    assert_null(sqlite_stmts_get(&c, db, bad));
    assert_non_null(strstr(sqlite3_errmsg(db), "missing"));
    assert_int_equal(c.n, 0); /* nothing cached */
    /* Once the table exists, the same string prepares. */
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE missing (nope)", NULL, NULL, NULL), SQLITE_OK);
    assert_non_null(sqlite_stmts_get(&c, db, bad));
    assert_int_equal(c.n, 1);
    sqlite_stmts_finish(&c);
    sqlite_stmts_finish(&c); /* an empty cache */
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_reset_unbound),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_bad_sql),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
