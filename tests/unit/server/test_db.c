/*
 * Unit tests for db.c and the schema: a store made by an older version (schema 5, extents with
 * files only) migrates to the current schema with its extents intact, inline extents can then
 * be stored, and extent ids are never reused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "extents.h"
#include "xmalloc.h"

struct schema_file {
    const char *name;
    const char *text;
};
extern const struct schema_file schema_files[];
extern const size_t schema_file_count;

static int64_t one_int(struct db *d, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db_handle(d), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_migrate_from_5(void **state)
{
    (void)state;
    char dir[] = "/tmp/spmig-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/spmig.db", dir);
    /* A version 5 store with two file extents. */
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_true(schema_file_count >= 6);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(sqlite3_exec(h, schema_files[i].text, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "PRAGMA user_version = 5; INSERT INTO extents (id, file, size, "
                                  "refs) VALUES (3, 'blobs/00/a', 10, 1), (7, 'blobs/01/b', 20, 2)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);

    assert_int_equal(db_open(path, false), 0);
    struct db *d = db_acquire();
    assert_int_equal(one_int(d, "PRAGMA user_version"), (int64_t)schema_file_count);
    assert_int_equal(one_int(d, "SELECT count(*) FROM extents WHERE id = 3 AND file = "
                                "'blobs/00/a' AND size = 10 AND refs = 1"),
                     1);
    assert_int_equal(one_int(d, "SELECT count(*) FROM extents WHERE id = 7 AND file = "
                                "'blobs/01/b' AND size = 20 AND refs = 2"),
                     1);
    /* Inline extents after the migration; a freed id is not handed out again. */
    struct extents_garbage g = {0};
    db_write_begin(d);
    int64_t a = extents_insert_inline(d, "hello", 5);
    assert_int_equal(a, 8);
    assert_int_equal(extents_ref(d, a, -1, &g), 0);
    int64_t b = extents_insert_inline(d, "world", 5);
    assert_int_equal(b, 9);
    assert_int_equal(db_write_end(d, true), 0);
    extents_collect(&g, true);
    char buf[8] = {0};
    assert_int_equal(extents_read_inline(d, a, 0, buf, sizeof buf), -1);
    assert_int_equal(extents_read_inline(d, b, 1, buf, sizeof buf), 4);
    assert_string_equal(buf, "orld");
    assert_int_equal(extents_read_inline(d, b, 6, buf, sizeof buf), -1);
    assert_int_equal(one_int(d, "SELECT count(*) FROM extent_bytes"), 1);
    /* Files stay unique; inline extents have none. */
    db_write_begin(d);
    assert_int_equal(extents_insert(d, "blobs/00/a", 1), -1);
    db_write_end(d, false);
    db_release(d);
    db_close();
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate_from_5),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
