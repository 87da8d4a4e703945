/*
 * test_sqlite_schema.c: unit tests of common/sqlite_schema.c: a fresh database, an upgrade
 * from an older version (also across a reopen), a database already current, a newer one
 * refused untouched, a failing script rolled back with user_version unchanged, foreign keys
 * off during the scripts and checked at each commit, and calls it must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sqlite_schema.h"

static const struct sqlite_schema_script three[] = {
    {"001_a.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);\n"
                  "INSERT INTO a (v) VALUES ('one');"},
    {"002_b.sql", "CREATE TABLE b (id INTEGER PRIMARY KEY);\n-- a last line without a newline"},
    {"003_a_w.sql", "ALTER TABLE a ADD COLUMN w INTEGER NOT NULL DEFAULT 7;"},
};

static sqlite3 *open_mem(void)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    return db;
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static bool has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1,
                           &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static void test_fresh(void **state)
{
    (void)state;
    sqlite3 *db = open_mem();
    struct sqlite_schema_result r;
    assert_int_equal(sqlite_schema_apply(db, three, 3, &r), 0);
    assert_int_equal(r.from, 0);
    assert_int_equal(r.to, 3);
    assert_false(r.newer);
    assert_null(r.failed);
    assert_string_equal(r.error, "");
    assert_int_equal(one_int(db, "PRAGMA user_version"), 3);
    assert_int_equal(one_int(db, "SELECT w FROM a WHERE v = 'one'"), 7);
    assert_true(has_table(db, "b"));
    assert_true(sqlite3_get_autocommit(db)); /* no transaction left open */
    sqlite3_close(db);
}

static void test_empty_schema(void **state)
{
    (void)state;
    sqlite3 *db = open_mem();
    struct sqlite_schema_result r;
    assert_int_equal(sqlite_schema_apply(db, NULL, 0, &r), 0);
    assert_int_equal(r.from, 0);
    assert_int_equal(r.to, 0);
    assert_int_equal(one_int(db, "PRAGMA user_version"), 0);
    sqlite3_close(db);
}

static void test_upgrade_and_current(void **state)
{
    (void)state;
    sqlite3 *db = open_mem();
    struct sqlite_schema_result r;
    /* An older program knew the first script only. */
    assert_int_equal(sqlite_schema_apply(db, three, 1, &r), 0);
    assert_int_equal(r.to, 1);
    assert_int_equal(one_int(db, "PRAGMA user_version"), 1);
    assert_false(has_table(db, "b"));
    /* The newer one applies the rest, and keeps the row the first made. */
    assert_int_equal(sqlite_schema_apply(db, three, 3, &r), 0);
    assert_int_equal(r.from, 1);
    assert_int_equal(r.to, 3);
    assert_int_equal(one_int(db, "SELECT count(*) FROM a"), 1);
    assert_int_equal(one_int(db, "SELECT w FROM a"), 7);
    /* Again: nothing to do (script 1 would fail, since a exists). */
    assert_int_equal(sqlite_schema_apply(db, three, 3, &r), 0);
    assert_int_equal(r.from, 3);
    assert_int_equal(r.to, 3);
    assert_int_equal(one_int(db, "SELECT count(*) FROM a"), 1);
    sqlite3_close(db);
}

static void test_upgrade_across_reopen(void **state)
{
    (void)state;
    char path[] = "/tmp/test_sqlite_schema_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sqlite3 *db = NULL;
    struct sqlite_schema_result r;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite_schema_apply(db, three, 2, &r), 0);
    sqlite3_close(db);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(one_int(db, "PRAGMA user_version"), 2);
    assert_int_equal(sqlite_schema_apply(db, three, 3, &r), 0);
    assert_int_equal(r.from, 2);
    assert_int_equal(r.to, 3);
    sqlite3_close(db);
    unlink(path);
}

static void test_newer_refused(void **state)
{
    (void)state;
    sqlite3 *db = open_mem();
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 5", NULL, NULL, NULL), SQLITE_OK);
    struct sqlite_schema_result r;
    assert_int_equal(sqlite_schema_apply(db, three, 3, &r), -1);
    assert_true(r.newer);
    assert_null(r.failed);
    assert_int_equal(r.from, 5);
    assert_int_equal(r.to, 5);
    assert_non_null(strstr(r.error, "newer"));
    assert_int_equal(one_int(db, "PRAGMA user_version"), 5);
    assert_false(has_table(db, "a")); /* untouched */
    sqlite3_close(db);
}

static void test_negative_version_refused(void **state)
{
    (void)state;
    sqlite3 *db = open_mem();
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = -1", NULL, NULL, NULL), SQLITE_OK);
    struct sqlite_schema_result r;
    assert_int_equal(sqlite_schema_apply(db, three, 3, &r), -1);
    assert_false(r.newer);
    assert_int_equal(r.from, -1);
    assert_false(has_table(db, "a"));
    sqlite3_close(db);
}

static void test_failing_script_rolls_back(void **state)
{
    (void)state;
    static const struct sqlite_schema_script bad[] = {
        {"001_a.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);"},
        /* Its first statement works, its second does not: neither may stay. */
        {"002_bad.sql", "CREATE TABLE c (id INTEGER);\nINSERT INTO missing VALUES (1);"},
        {"003_never.sql", "CREATE TABLE d (id INTEGER);"},
    };
    sqlite3 *db = open_mem();
    struct sqlite_schema_result r;
    assert_int_equal(sqlite_schema_apply(db, bad, 3, &r), -1);
    assert_false(r.newer);
    assert_string_equal(r.failed, "002_bad.sql");
    assert_non_null(strstr(r.error, "missing"));
    assert_int_equal(r.from, 0);
    assert_int_equal(r.to, 1);
    assert_int_equal(one_int(db, "PRAGMA user_version"), 1);
    assert_true(has_table(db, "a"));
    assert_false(has_table(db, "c"));
    assert_false(has_table(db, "d"));
    assert_true(sqlite3_get_autocommit(db));
    /* A failure before any script applied leaves the version where it was. */
    assert_int_equal(sqlite_schema_apply(db, bad, 3, &r), -1);
    assert_int_equal(r.from, 1);
    assert_int_equal(r.to, 1);
    assert_int_equal(one_int(db, "PRAGMA user_version"), 1);
    sqlite3_close(db);
}

static void test_open_transaction_refused(void **state)
{
    (void)state;
    sqlite3 *db = open_mem();
    assert_int_equal(sqlite3_exec(db, "BEGIN; CREATE TABLE mine (x);", NULL, NULL, NULL),
                     SQLITE_OK);
    struct sqlite_schema_result r;
    assert_int_equal(sqlite_schema_apply(db, three, 3, &r), -1);
    assert_null(r.failed);
    assert_true(r.error[0]);
    /* The caller's transaction is the caller's: still open, not rolled back. */
    assert_false(sqlite3_get_autocommit(db));
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_true(has_table(db, "mine"));
    assert_false(has_table(db, "a"));
    sqlite3_close(db);
}

static void test_foreign_keys(void **state)
{
    (void)state;
    static const struct sqlite_schema_script fk[] = {
        {"001.sql", "CREATE TABLE p (id INTEGER PRIMARY KEY);\n"
                    "CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p (id) "
                    "ON DELETE CASCADE);\n"
                    "INSERT INTO p VALUES (1); INSERT INTO c VALUES (10, 1);"},
        /* Rebuilding the parent table: with foreign keys on, dropping it would cascade. */
        {"002.sql", "CREATE TABLE p2 (id INTEGER PRIMARY KEY, name TEXT);\n"
                    "INSERT INTO p2 (id) SELECT id FROM p;\n"
                    "DROP TABLE p;\n"
                    "ALTER TABLE p2 RENAME TO p;"},
        {"003.sql", "INSERT INTO c VALUES (11, 99);"}, /* no parent 99 */
    };
    sqlite3 *db = open_mem();
    assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL), SQLITE_OK);
    struct sqlite_schema_result r;
    assert_int_equal(sqlite_schema_apply(db, fk, 2, &r), 0);
    assert_int_equal(one_int(db, "SELECT count(*) FROM c"), 1);
    assert_int_equal(one_int(db, "PRAGMA foreign_keys"), 1);
    /* A script that leaves a broken reference is rolled back. */
    assert_int_equal(sqlite_schema_apply(db, fk, 3, &r), -1);
    assert_string_equal(r.failed, "003.sql");
    assert_non_null(strstr(r.error, "foreign key"));
    assert_int_equal(one_int(db, "PRAGMA user_version"), 2);
    assert_int_equal(one_int(db, "SELECT count(*) FROM c"), 1);
    assert_int_equal(one_int(db, "PRAGMA foreign_keys"), 1);
    sqlite3_close(db);

    /* With foreign keys off (both programs' setting) nothing is checked or switched on. */
    db = open_mem();
    assert_int_equal(sqlite_schema_apply(db, fk, 3, &r), 0);
    assert_int_equal(one_int(db, "PRAGMA foreign_keys"), 0);
    assert_int_equal(one_int(db, "SELECT count(*) FROM c"), 2);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh),
        cmocka_unit_test(test_empty_schema),
        cmocka_unit_test(test_upgrade_and_current),
        cmocka_unit_test(test_upgrade_across_reopen),
        cmocka_unit_test(test_newer_refused),
        cmocka_unit_test(test_negative_version_refused),
        cmocka_unit_test(test_failing_script_rolls_back),
        cmocka_unit_test(test_open_transaction_refused),
        cmocka_unit_test(test_foreign_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
