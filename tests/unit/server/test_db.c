/*
 * Unit tests for db.c and the schema: a store made by an older version (schema 5, extents with
 * files only) migrates to the current schema with its extents intact, inline extents can then
 * be stored, and extent ids are never reused. Group commit: writes from many threads, some
 * rolled back, each visible to other connections as soon as its db_write_end returns.
 */
#include <pthread.h>
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

/* A fresh directory (dir is a "/tmp/spmig-test-XXXXXX" buffer); the database path in it. */
static char *scratch(char *dir)
{
    assert_non_null(mkdtemp(dir));
    return xasprintf("%s/spmig.db", dir);
}

static void scratch_remove(const char *dir, char *path)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(path);
}

static void test_migrate_from_5(void **state)
{
    (void)state;
    char dir[] = "/tmp/spmig-test-XXXXXX";
    char *path = scratch(dir);
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
    scratch_remove(dir, path);
}

enum { GC_THREADS = 8, GC_WRITES = 150 };

struct gc_thread {
    pthread_t t;
    int no;
    int committed, seen_after; /* checked by the main thread: cmocka asserts are not
                                  thread-safe */
};

static void *gc_main(void *arg)
{
    struct gc_thread *g = arg;
    struct db *d = db_acquire();
    for (int i = 0; i < GC_WRITES; i++) {
        char key[32], val[32];
        snprintf(key, sizeof key, "gc-%d-%d", g->no, i);
        snprintf(val, sizeof val, "v%d", i);
        db_write_begin(d);
        bool ok = db_setting_set(d, key, val) == 0 && i % 3 != 0; /* every third rolls back */
        if (db_write_end(d, ok) == 0 && ok) {
            g->committed++;
            /* Committed when db_write_end returned: the reading connection sees it. */
            char *got = db_setting_get(d, key);
            if (got && !strcmp(got, val))
                g->seen_after++;
            free(got);
        }
    }
    db_release(d);
    return NULL;
}

static void test_group_commit(void **state)
{
    (void)state;
    char dir[] = "/tmp/spmig-test-XXXXXX";
    char *path = scratch(dir);
    assert_int_equal(db_open(path, false), 0);
    struct gc_thread th[GC_THREADS];
    for (int i = 0; i < GC_THREADS; i++) {
        th[i] = (struct gc_thread){.no = i};
        assert_int_equal(pthread_create(&th[i].t, NULL, gc_main, &th[i]), 0);
    }
    int expect = 0;
    for (int i = 0; i < GC_THREADS; i++) {
        pthread_join(th[i].t, NULL);
        assert_int_equal(th[i].committed, GC_WRITES - (GC_WRITES + 2) / 3);
        assert_int_equal(th[i].seen_after, th[i].committed);
        expect += th[i].committed;
    }
    struct db *d = db_acquire();
    assert_int_equal(one_int(d, "SELECT count(*) FROM settings WHERE key LIKE 'gc-%'"), expect);
    /* Exactly the ones that were not rolled back. */
    assert_int_equal(one_int(d, "SELECT count(*) FROM settings WHERE key LIKE 'gc-%' AND "
                                "CAST(substr(value, 2) AS INTEGER) % 3 = 0"),
                     0);
    db_release(d);
    db_close();
    scratch_remove(dir, path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate_from_5),
        cmocka_unit_test(test_group_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
