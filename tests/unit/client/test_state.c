/*
 * test_state.c: unit tests of client/state.c: ids that stay the same across opens, rounds
 * that resume when unfinished, outcomes and their counts per round, batches, the exclusive
 * lock, a folder that became a file, a state file of a newer spmig refused, and the file's
 * name from the destination's ids.
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
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

static char dir[64], path[128];

static int setup(void **st)
{
    (void)st;
    strcpy(dir, "/tmp/test_state_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/sub/state.db", dir);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static struct state *open_ok(void)
{
    char err[STATE_ERR];
    struct state *s = state_open(path, err);
    assert_non_null(s);
    return s;
}

static void test_ids_persist(void **unused)
{
    (void)unused;
    struct state *s = open_ok();
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    struct state_item a, b;
    assert_int_equal(state_item(s, "x/y.txt", false, &a), 0);
    assert_false(a.known);
    assert_false(a.migrated);
    assert_int_equal(strlen(a.unique_id), 36);
    assert_int_equal(strlen(a.item_id), 36);
    assert_string_not_equal(a.unique_id, a.item_id);
    assert_int_equal(state_item(s, "x/y.txt", false, &b), 0);
    assert_true(b.known);
    assert_string_equal(a.unique_id, b.unique_id);
    assert_string_equal(a.item_id, b.item_id);
    state_close(s);
    s = open_ok();
    assert_int_equal(state_item(s, "x/y.txt", false, &b), 0);
    assert_string_equal(a.unique_id, b.unique_id);
    /* A folder where the file was is a new item. */
    assert_int_equal(state_item(s, "x/y.txt", true, &b), 0);
    assert_false(b.known);
    assert_true(b.is_folder);
    assert_string_not_equal(a.unique_id, b.unique_id);
    state_close(s);
}

static void test_rounds_and_outcomes(void **unused)
{
    (void)unused;
    struct state *s = open_ok();
    int round;
    bool resumed;
    assert_int_equal(state_round_begin(s, 1000, &round, &resumed), 0);
    assert_int_equal(round, 0);
    assert_false(resumed);
    struct state_item it;
    state_batch_begin(s);
    state_batch_begin(s); /* nested */
    assert_int_equal(state_item(s, "a.txt", false, &it), 0);
    assert_int_equal(state_outcome(s, "a.txt", 0, "migrated", 10, 10, 555), 0);
    assert_int_equal(state_batch_end(s), 0);
    assert_int_equal(state_item(s, "b.txt", false, &it), 0);
    assert_int_equal(state_outcome(s, "b.txt", 0, "failed", 7, 0, 0), 0);
    assert_int_equal(state_batch_end(s), 0);
    assert_int_equal(state_item(s, "c", true, &it), 0);
    assert_int_equal(state_outcome(s, "c", 0, "filtered", 0, 0, 0), 0);
    struct state_counts c;
    assert_int_equal(state_counts(s, 0, &c), 0);
    assert_int_equal(c.migrated, 1);
    assert_int_equal(c.migrated_bytes, 10);
    assert_int_equal(c.failed, 1);
    assert_int_equal(c.failed_bytes, 7);
    assert_int_equal(c.filtered, 1);
    assert_int_equal(state_item(s, "a.txt", false, &it), 0);
    assert_true(it.migrated);
    assert_int_equal(it.size, 10);
    assert_int_equal(it.mtime_ns, 555);
    assert_int_equal(it.migrated_round, 0);
    assert_int_equal(it.reported_round, 0);
    assert_string_equal(it.outcome, "migrated");
    assert_int_equal(state_item(s, "b.txt", false, &it), 0);
    assert_false(it.migrated);
    assert_int_equal(it.migrated_round, -1);
    state_close(s);

    /* Not ended: the next open resumes round 0. */
    s = open_ok();
    assert_int_equal(state_round_begin(s, 2000, &round, &resumed), 0);
    assert_int_equal(round, 0);
    assert_true(resumed);
    assert_int_equal(state_round_end(s, 0, 3000, "Completed"), 0);
    assert_int_equal(state_round_begin(s, 4000, &round, &resumed), 0);
    assert_int_equal(round, 1);
    assert_false(resumed);
    assert_int_equal(state_outcome(s, "a.txt", 1, "skipped", 10, 0, 0), 0);
    assert_int_equal(state_counts(s, 1, &c), 0);
    assert_int_equal(c.skipped, 1);
    assert_int_equal(c.migrated, 0);
    /* Skipping keeps what was migrated. */
    assert_int_equal(state_item(s, "a.txt", false, &it), 0);
    assert_int_equal(it.migrated_round, 0);
    assert_int_equal(it.size, 10);
    state_close(s);
}

/* A seeded state names new items by the seed and the path: a second state file (another
 * agent) gives the same ids, files and folders apart, and rounds can start at a floor. */
static void test_seeded_ids(void **unused)
{
    (void)unused;
    const char *seed = "0f8fad5b-d9cb-469f-a165-70867728950e";
    struct state *s = open_ok();
    state_set_id_seed(s, seed);
    struct state_item a, f;
    assert_int_equal(state_item(s, "docs/a.txt", false, &a), 0);
    assert_int_equal(state_item(s, "docs", true, &f), 0);
    unsigned char u[UUID_LEN];
    char want[UUID_BUF];
    uuid_v8_name("0f8fad5b-d9cb-469f-a165-70867728950e/file/UniqueId", "docs/a.txt", u);
    uuid_format(u, want);
    assert_string_equal(a.unique_id, want);
    uuid_v8_name("0f8fad5b-d9cb-469f-a165-70867728950e/file/ListItemId", "docs/a.txt", u);
    uuid_format(u, want);
    assert_string_equal(a.item_id, want);
    assert_string_not_equal(a.unique_id, a.item_id);
    int round;
    bool resumed;
    assert_int_equal(state_round_begin_at(s, 1, 3, &round, &resumed), 0);
    assert_int_equal(round, 3);
    assert_false(resumed);
    state_close(s);
    unlink(path);

    s = open_ok();
    state_set_id_seed(s, seed);
    struct state_item b, g;
    assert_int_equal(state_item(s, "docs/a.txt", false, &b), 0);
    assert_int_equal(state_item(s, "docs", true, &g), 0);
    assert_string_equal(a.unique_id, b.unique_id);
    assert_string_equal(a.item_id, b.item_id);
    assert_string_equal(f.unique_id, g.unique_id);
    /* The same path as the other kind is another item. */
    char uid[UUID_BUF], item[UUID_BUF];
    state_item_ids(seed, "docs", false, uid, item);
    assert_string_not_equal(uid, g.unique_id);
    /* Without a seed: random. */
    state_set_id_seed(s, NULL);
    assert_int_equal(state_item(s, "other.txt", false, &b), 0);
    state_item_ids(seed, "other.txt", false, uid, item);
    assert_string_not_equal(uid, b.unique_id);
    state_close(s);
}

static void test_meta_and_lock(void **unused)
{
    (void)unused;
    struct state *s = open_ok();
    assert_null(state_meta_get(s, "task_id"));
    assert_int_equal(state_meta_set(s, "task_id", "abc"), 0);
    assert_int_equal(state_meta_set(s, "task_id", "def"), 0);
    char *v = state_meta_get(s, "task_id");
    assert_string_equal(v, "def");
    free(v);
    /* A second holder is refused while the first has it open. */
    char err[STATE_ERR];
    struct state *t = state_open(path, err);
    assert_null(t);
    assert_non_null(strstr(err, "in use"));
    state_close(s);
    t = state_open(path, err);
    assert_non_null(t);
    state_close(t);
    state_close(NULL);
}

/* A state file a newer spmig left (a schema version past ours) is refused, and kept as it is. */
static void test_newer_schema(void **unused)
{
    (void)unused;
    state_close(open_ok());
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[STATE_ERR];
    assert_null(state_open(path, err));
    assert_string_equal(err, "the state file is from a newer spmig (schema 99)");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 99);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_paths(void **unused)
{
    (void)unused;
    char *a = state_file_path("/d", "/src", "web1", "list1", NULL);
    char *b = state_file_path("/d", "/src", "web1", "list1", "");
    char *c = state_file_path("/d", "/src", "web1", "list2", NULL);
    char *d = state_file_path("/d", "/src", "web1", "list1", "Imported");
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d);
    assert_int_equal(strlen(a), strlen("/d/") + 16 + strlen(".db"));
    free(a), free(b), free(c), free(d);
    setenv("XDG_STATE_HOME", "/x/state", 1);
    char *e = state_default_dir();
    assert_string_equal(e, "/x/state/spmig");
    free(e);
    unsetenv("XDG_STATE_HOME");
    setenv("HOME", "/home/u", 1);
    e = state_default_dir();
    assert_string_equal(e, "/home/u/.local/state/spmig");
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ids_persist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rounds_and_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_and_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seeded_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema, setup, teardown),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
