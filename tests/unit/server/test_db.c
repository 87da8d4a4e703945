/*
 * Unit tests for db.c and the schema: a store made by an older version (schema 5, extents with
 * files only) migrates to the current schema with its extents intact, small extents can then
 * be stored in packs, and extent ids are never reused; a store of schema 7 keeps its inline
 * extents readable and releasable next to packed ones, and a pack goes with its last range
 * once it is no longer appended to, or as soon as it is idle with no range left. The VFS's gathered
 * WAL writes: large, rolled back, and left by a process that exits right after its commit. Group
 * commit: writes from many threads, some rolled back, each visible to other connections as soon as
 * its db_write_end returns.
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
#include "spmig_limits.h"
#include "sqlite_schema.h"
#include "store_files.h"
#include "xmalloc.h"

#include <sys/wait.h>
#include <unistd.h>

extern const struct sqlite_schema_script schema_files[];
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

/* Small extents recorded by the current write transaction, settled by end_write. */
static struct extents_small unsettled[256];
static size_t nunsettled;

/* A small extent of data: written to a pack, then recorded (in a write transaction). */
static int64_t insert_small(struct db *d, enum store_files_pool pool, const void *data, size_t size)
{
    assert_true(nunsettled < sizeof unsettled / sizeof *unsettled);
    struct extents_small *s = &unsettled[nunsettled++];
    assert_int_equal(extents_small_write(pool, data, size, s), 0);
    return extents_insert_small(d, s);
}

/* db_write_end, then the ranges the transaction recorded are settled, as the stores do. */
static int end_write(struct db *d, bool ok)
{
    int rc = db_write_end(d, ok);
    for (size_t i = 0; i < nunsettled; i++)
        extents_small_settled(&unsettled[i]);
    nunsettled = 0;
    return rc;
}

/* A fresh directory (dir is a "/tmp/spmig-test-XXXXXX" buffer) with its extent folders; the
 * database path in it. */
static char *scratch(char *dir)
{
    assert_non_null(mkdtemp(dir));
    assert_int_equal(store_files_init(dir, false), 0);
    return xasprintf("%s/spmig.db", dir);
}

/* scratch, with the database opened. */
static char *fresh_store(char *dir)
{
    char *path = scratch(dir);
    assert_int_equal(db_open(path, false), 0);
    return path;
}

static void scratch_remove(const char *dir, char *path)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(path);
}

/* Makes path a store of schema version (as an older spmigd left it), then runs sql in it. */
static void old_store(const char *path, size_t version, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_true(schema_file_count > version);
    for (size_t i = 0; i < version; i++)
        assert_int_equal(sqlite3_exec(h, schema_files[i].text, NULL, NULL, NULL), SQLITE_OK);
    char *all = xasprintf("PRAGMA user_version = %zu; %s", version, sql);
    assert_int_equal(sqlite3_exec(h, all, NULL, NULL, NULL), SQLITE_OK);
    free(all);
    sqlite3_close(h);
}

static void test_migrate_from_5(void **state)
{
    (void)state;
    char dir[] = "/tmp/spmig-test-XXXXXX";
    char *path = scratch(dir);
    /* A version 5 store with two file extents. */
    old_store(path, 5,
              "INSERT INTO extents (id, file, size, refs) VALUES (3, 'blobs/00/a', 10, 1), (7, "
              "'blobs/01/b', 20, 2)");

    assert_int_equal(db_open(path, false), 0);
    struct db *d = db_acquire();
    assert_int_equal(one_int(d, "PRAGMA user_version"), (int64_t)schema_file_count);
    assert_int_equal(one_int(d, "SELECT count(*) FROM extents WHERE id = 3 AND file = "
                                "'blobs/00/a' AND size = 10 AND refs = 1"),
                     1);
    assert_int_equal(one_int(d, "SELECT count(*) FROM extents WHERE id = 7 AND file = "
                                "'blobs/01/b' AND size = 20 AND refs = 2"),
                     1);
    /* Small extents after the migration, in one pack; a freed id is not handed out again. */
    struct extents_garbage g = {0};
    db_write_begin(d);
    int64_t a = insert_small(d, STORE_FILES_POOL_BLOBS, "hello", 5);
    assert_int_equal(a, 8);
    assert_int_equal(extents_ref(d, a, -1, &g), 0);
    int64_t b = insert_small(d, STORE_FILES_POOL_BLOBS, "world", 5);
    assert_int_equal(b, 9);
    assert_int_equal(end_write(d, true), 0);
    assert_int_equal(g.n, 0); /* the pack is open: it stays */
    extents_collect(&g, true);
    char buf[8] = {0};
    assert_int_equal(extents_read_small(d, a, 0, buf, sizeof buf), -1);
    assert_int_equal(extents_read_small(d, b, 1, buf, sizeof buf), 4);
    assert_string_equal(buf, "orld");
    assert_int_equal(extents_read_small(d, b, 5, buf, sizeof buf), 0);
    assert_int_equal(extents_read_small(d, b, 6, buf, sizeof buf), -1);
    assert_int_equal(extents_read_small(d, 3, 0, buf, sizeof buf), -1); /* a file extent */
    assert_int_equal(one_int(d, "SELECT count(*) FROM extent_bytes"), 0);
    assert_int_equal(one_int(d, "SELECT pack_off FROM extents WHERE id = 9"), 5);
    /* Files stay unique; ranges of one pack do not clash. */
    db_write_begin(d);
    assert_int_equal(extents_insert(d, "blobs/00/a", 1), -1);
    db_write_end(d, false);
    db_release(d);
    db_close();
    scratch_remove(dir, path);
}

/* Whether the pack at relative path exists under dir. */
static bool pack_exists(const char *dir, const char *rel)
{
    char *full = xasprintf("%s/%s", dir, rel);
    bool ok = access(full, F_OK) == 0;
    free(full);
    return ok;
}

static void test_inline_and_packed(void **state)
{
    (void)state;
    char dir[] = "/tmp/spmig-test-XXXXXX";
    char *path = scratch(dir);
    /* A version 7 store with an inline extent, as small bodies were kept before packs. */
    old_store(path, 7,
              "INSERT INTO extents (id, file, size, refs) VALUES (4, NULL, 6, 1); INSERT INTO "
              "extent_bytes (extent_id, data) VALUES (4, x'696e6c696e65')");
    assert_int_equal(db_open(path, false), 0);
    struct db *d = db_acquire();
    char buf[8] = {0};
    assert_int_equal(extents_read_small(d, 4, 2, buf, sizeof buf), 4);
    assert_string_equal(buf, "line");

    /* Packed next to it: a full pack is left for a new one, and goes with its last range. */
    static char big[LIMIT_INLINE_BYTES];
    memset(big, 'x', sizeof big);
    size_t per_pack = STORE_FILES_PACK_MAX / sizeof big;
    int64_t *ids = xcalloc(per_pack + 1, sizeof *ids);
    db_write_begin(d);
    for (size_t i = 0; i <= per_pack; i++)
        assert_true((ids[i] = insert_small(d, STORE_FILES_POOL_LIBRARY, big, sizeof big)) > 0);
    int64_t empty = insert_small(d, STORE_FILES_POOL_LIBRARY, NULL, 0);
    assert_true(empty > 0);
    assert_int_equal(end_write(d, true), 0);
    assert_int_equal(one_int(d, "SELECT count(DISTINCT file) FROM extents WHERE pack_off >= 0"), 2);
    assert_int_equal(extents_read_small(d, ids[per_pack], sizeof big - 3, buf, sizeof buf), 3);
    assert_int_equal(extents_read_small(d, empty, 0, buf, sizeof buf), 0);
    assert_int_equal(one_int(d, "SELECT count(*) FROM extents WHERE file IS NULL"), 2);
    char first[STORE_FILES_PATH_MAX], second[STORE_FILES_PATH_MAX];
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db_handle(d), "SELECT file FROM extents WHERE id = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, ids[0]);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(first, sizeof first, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, ids[per_pack]);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(second, sizeof second, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    assert_string_not_equal(first, second);
    assert_true(store_files_pack_in_use(second) && !store_files_pack_in_use(first));

    /* Release all but one range of the full pack: it stays. A rolled-back release changes
     * nothing; the committed release of the last range removes it; the inline row goes too. */
    struct extents_garbage g = {0};
    db_write_begin(d);
    for (size_t i = 1; i < per_pack; i++)
        assert_int_equal(extents_ref(d, ids[i], -1, &g), 0);
    assert_int_equal(db_write_end(d, true), 0);
    assert_int_equal(g.n, 0);
    extents_collect(&g, true);
    db_write_begin(d);
    assert_int_equal(extents_ref(d, ids[0], -1, &g), 0);
    assert_int_equal(g.n, 1);
    db_write_end(d, false);
    extents_collect(&g, false);
    assert_true(pack_exists(dir, first));
    assert_int_equal(extents_read_small(d, ids[0], 0, buf, sizeof buf), (long)sizeof buf);
    db_write_begin(d);
    assert_int_equal(extents_ref(d, ids[0], -1, &g), 0);
    assert_int_equal(extents_ref(d, 4, -1, &g), 0);
    /* The open pack stays even when nothing refers to it any more. */
    assert_int_equal(extents_ref(d, ids[per_pack], -1, &g), 0);
    assert_int_equal(extents_ref(d, empty, -1, &g), 0);
    assert_int_equal(db_write_end(d, true), 0);
    assert_int_equal(g.n, 1);
    extents_collect(&g, true);
    assert_false(pack_exists(dir, first));
    assert_true(pack_exists(dir, second));
    assert_int_equal(extents_read_small(d, ids[0], 0, buf, sizeof buf), -1);
    assert_int_equal(one_int(d, "SELECT count(*) FROM extent_bytes"), 0);
    assert_int_equal(one_int(d, "SELECT count(*) FROM extents"), 0);
    /* A restart's sweep removes the pack nothing refers to. */
    assert_int_equal(store_files_init(dir, false), 0);
    assert_int_equal(extents_remove_orphans(), 1);
    assert_false(pack_exists(dir, second));
    free(ids);
    db_release(d);
    db_close();
    scratch_remove(dir, path);
}

/* A setting read through a connection of SQLite's own VFS: what reached the file. */
static char *raw_setting(const char *path, const char *key)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(h, "SELECT value FROM settings WHERE key = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    char *v =
        sqlite3_step(st) == SQLITE_ROW ? xstrdup((const char *)sqlite3_column_text(st, 0)) : NULL;
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* db_vfs gathers a commit's WAL frames: a commit larger than it gathers at once, a rolled-back
 * one, and a process that exits right after its commit all leave the file as SQLite wrote
 * it. */
static void test_vfs_gathered_writes(void **state)
{
    (void)state;
    char dir[] = "/tmp/spmig-test-XXXXXX";
    char *path = fresh_store(dir);
    struct db *d = db_acquire();
    size_t big_len = 1 << 20; /* about 260 pages: written out in pieces */
    char *big = xmalloc(big_len + 1);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)('a' + i % 26);
    big[big_len] = '\0';
    db_write_begin(d);
    assert_int_equal(db_setting_set(d, "big", big), 0);
    assert_int_equal(db_write_end(d, true), 0);
    db_write_begin(d);
    assert_int_equal(db_setting_set(d, "gone", big), 0);
    db_write_end(d, false);
    db_write_begin(d);
    assert_int_equal(db_setting_set(d, "small", "after"), 0);
    assert_int_equal(db_write_end(d, true), 0);
    char *v = raw_setting(path, "big");
    assert_non_null(v);
    assert_string_equal(v, big);
    free(v);
    assert_null(raw_setting(path, "gone"));
    v = raw_setting(path, "small");
    assert_string_equal(v, "after");
    free(v);
    db_release(d);

    /* A child commits and exits without closing anything: the commit is in the file. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (db_open(path, false) < 0)
            _exit(2);
        struct db *c = db_acquire();
        db_write_begin(c);
        int rc = db_setting_set(c, "child", "committed");
        _exit(db_write_end(c, rc == 0) == 0 && rc == 0 ? 0 : 3);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    v = raw_setting(path, "child");
    assert_non_null(v);
    assert_string_equal(v, "committed");
    free(v);
    free(big);
    db_close();
    scratch_remove(dir, path);
}

/* Records s in a transaction of its own, then settles it; the extent's id. */
static int64_t record_small(struct db *d, struct extents_small *s)
{
    db_write_begin(d);
    int64_t id = extents_insert_small(d, s);
    assert_int_equal(db_write_end(d, true), 0);
    extents_small_settled(s);
    return id;
}

/* Drops one reference to extent id in a transaction of its own; how many files that freed. */
static size_t release_small(struct db *d, int64_t id)
{
    struct extents_garbage g = {0};
    db_write_begin(d);
    assert_int_equal(extents_ref(d, id, -1, &g), 0);
    assert_int_equal(db_write_end(d, true), 0);
    size_t n = g.n;
    extents_collect(&g, true);
    return n;
}

/* Writes to the blobs' pools that all fail before recording their range, until a pack other
 * than pack is started; next receives it. pack exists until then. */
static void fill_with_failed_writes(const char *dir, const char *pack,
                                    char next[STORE_FILES_PATH_MAX])
{
    static char big[LIMIT_INLINE_BYTES];
    struct extents_small c;
    do {
        assert_true(pack_exists(dir, pack));
        assert_int_equal(extents_small_write(STORE_FILES_POOL_BLOBS, big, sizeof big, &c), 0);
        memcpy(next, c.pack, STORE_FILES_PATH_MAX);
        extents_small_settled(&c); /* the write failed: never recorded */
    } while (strcmp(next, pack) == 0);
}

/* A range appended but not yet recorded keeps its pack, even when every recorded range of
 * the pack is released meanwhile (writers append before they take the write lock). */
static void test_pending_range_keeps_pack(void **state)
{
    (void)state;
    char dir[] = "/tmp/spmig-test-XXXXXX";
    char *path = fresh_store(dir);
    struct db *d = db_acquire();
    struct extents_small a, b;
    assert_int_equal(extents_small_write(STORE_FILES_POOL_BLOBS, "recorded", 8, &a), 0);
    char pack[STORE_FILES_PATH_MAX], next[STORE_FILES_PATH_MAX];
    memcpy(pack, a.pack, sizeof pack);
    int64_t ida = record_small(d, &a);
    assert_int_equal(extents_small_write(STORE_FILES_POOL_BLOBS, "pending", 7, &b), 0);
    assert_string_equal(b.pack, pack);
    fill_with_failed_writes(dir, pack, next);   /* other writes fill the pack */
    assert_int_equal(release_small(d, ida), 0); /* b is not recorded yet: the pack stays */
    int64_t idb = record_small(d, &b);
    char buf[8] = {0};
    assert_int_equal(extents_read_small(d, idb, 0, buf, sizeof buf), 7);
    assert_string_equal(buf, "pending");
    assert_int_equal(release_small(d, idb), 1); /* its last range: the pack goes */
    assert_false(pack_exists(dir, pack));
    db_release(d);
    db_close();
    scratch_remove(dir, path);
}

/* A pack is removed as soon as it is idle (full, nothing pending) with no row: here its one
 * recorded range was released while it was still appended to, and every other write into it
 * failed before recording its range. */
static void test_idle_pack_removed(void **state)
{
    (void)state;
    char dir[] = "/tmp/spmig-test-XXXXXX";
    char *path = fresh_store(dir);
    struct db *d = db_acquire();
    struct extents_small a;
    assert_int_equal(extents_small_write(STORE_FILES_POOL_BLOBS, "released", 8, &a), 0);
    char pack[STORE_FILES_PATH_MAX], next[STORE_FILES_PATH_MAX];
    memcpy(pack, a.pack, sizeof pack);
    int64_t id = record_small(d, &a);
    assert_int_equal(release_small(d, id), 0); /* still appended to */
    assert_true(pack_exists(dir, pack));
    fill_with_failed_writes(dir, pack, next);
    assert_false(pack_exists(dir, pack));
    assert_true(pack_exists(dir, next)); /* the next one, appended to */
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
    char *path = fresh_store(dir);
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
        cmocka_unit_test(test_migrate_from_5),           cmocka_unit_test(test_inline_and_packed),
        cmocka_unit_test(test_pending_range_keeps_pack), cmocka_unit_test(test_idle_pack_removed),
        cmocka_unit_test(test_vfs_gathered_writes),      cmocka_unit_test(test_group_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
