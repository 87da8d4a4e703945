/*
 * state.c: the state file in SQLite: schema versions from schema/client/, an exclusive lock
 * for one process, items with stable ids, outcomes per round. It decides nothing about what
 * to send; migrate.c asks and tells.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "fileio.h"
#include "hex.h"
#include "sqlite_schema.h"
#include "sqlite_stmts.h"
#include "xmalloc.h"

/* The state file's schema: the SQL files of schema/client/, embedded by schema/embed.py. */
extern const struct sqlite_schema_script state_files[];
extern const size_t state_file_count;

struct state {
    sqlite3 *db;
    pthread_mutex_t mu; /* recursive */
    int batch;          /* nesting depth */
    bool batch_failed;
    struct sqlite_stmts stmts; /* by the address of their SQL text (string literals only) */
    char *id_seed;             /* NULL: new items get random ids */
};

static int exec(struct state *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int migrate_schema(struct state *s, char err[STATE_ERR])
{
    struct sqlite_schema_result r;
    if (sqlite_schema_apply(s->db, state_files, state_file_count, &r) == 0)
        return 0;
    if (r.newer)
        snprintf(err, STATE_ERR, "the state file is from a newer spmig (schema %d)", r.from);
    else if (r.failed)
        snprintf(err, STATE_ERR, "state schema %s: %s", r.failed, r.error);
    else
        snprintf(err, STATE_ERR, "state file: %s", r.error);
    return -1;
}

struct state *state_open(const char *path, char err[STATE_ERR])
{
    char *folder = xstrdup(path);
    int made = fileio_mkdirs(dirname(folder), 0700);
    free(folder);
    if (made < 0) {
        snprintf(err, STATE_ERR, "cannot make the folder of %s: %s", path, strerror(errno));
        return NULL;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, STATE_ERR, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    close(fd);
    /* No memory statistics (a process-wide mutex in every SQLite allocation); possible only
     * before SQLite initialises, so a second state_open changes nothing. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    struct state *s = xcalloc(1, sizeof *s);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->mu, &a);
    pthread_mutexattr_destroy(&a);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, STATE_ERR, "cannot open %s: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 0);
    /* WAL with synchronous=NORMAL: a crash loses at most the last commits, never the file;
     * the exclusive lock keeps a second spmig out. */
    if (exec(s, "PRAGMA locking_mode=EXCLUSIVE") < 0 || exec(s, "PRAGMA journal_mode=WAL") < 0 ||
        exec(s, "PRAGMA synchronous=NORMAL") < 0 || exec(s, "BEGIN IMMEDIATE") < 0 ||
        exec(s, "COMMIT") < 0) {
        snprintf(err, STATE_ERR, "%s is in use by another spmig (%s)", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    if (migrate_schema(s, err) < 0)
        goto fail;
    return s;
fail:
    state_close(s);
    return NULL;
}

void state_close(struct state *s)
{
    if (!s)
        return;
    sqlite_stmts_finish(&s->stmts);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s->id_seed);
    free(s);
}

char *state_default_dir(void)
{
    const char *x = getenv("XDG_STATE_HOME");
    if (x && x[0] == '/')
        return xasprintf("%s/spmig", x);
    const char *home = getenv("HOME");
    return xasprintf("%s/.local/state/spmig", home && home[0] ? home : "/tmp");
}

char *state_file_path(const char *dir, const char *source, const char *web_id, const char *list_id,
                      const char *folder)
{
    char *key = xasprintf("%s\n%s\n%s\n%s", source, web_id, list_id, folder ? folder : "");
    unsigned char h[CRYPTO_SHA256_LEN];
    crypto_sha256(key, strlen(key), h);
    free(key);
    char hx[CRYPTO_SHA256_LEN * 2 + 1];
    hex_encode(h, 8, hx);
    return xasprintf("%s/%s.db", dir, hx);
}

/* The cached statement for sql, reset and unbound, or NULL if it does not prepare; "release"
 * it with sqlite3_reset. */
static sqlite3_stmt *prep(struct state *s, const char *sql)
{
    return sqlite_stmts_get(&s->stmts, s->db, sql);
}

char *state_meta_get(struct state *s, const char *key)
{
    pthread_mutex_lock(&s->mu);
    char *out = NULL;
    sqlite3_stmt *st = prep(s, "SELECT value FROM meta WHERE key = ?1");
    if (st) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            out = xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->mu);
    return out;
}

/* Steps a write statement to its end and resets it; 0 or -1. */
static int done(struct state *s, sqlite3_stmt *st)
{
    int rc = st && sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_reset(st);
    if (rc < 0 && s->batch)
        s->batch_failed = true;
    return rc;
}

int state_meta_set(struct state *s, const char *key, const char *value)
{
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prep(s, "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT "
                               "(key) DO UPDATE SET value = excluded.value");
    if (st) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    }
    int rc = done(s, st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int state_round_begin(struct state *s, int64_t now_ms, int *round, bool *resumed)
{
    return state_round_begin_at(s, now_ms, 0, round, resumed);
}

int state_round_begin_at(struct state *s, int64_t now_ms, int min_round, int *round, bool *resumed)
{
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    sqlite3_stmt *st = prep(s, "SELECT round, ended_ms IS NULL FROM rounds ORDER BY round DESC "
                               "LIMIT 1");
    if (!st)
        goto out;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_int(st, 1)) {
        *round = sqlite3_column_int(st, 0);
        *resumed = true;
        sqlite3_reset(st);
        rc = 0;
        goto out;
    }
    *round = step == SQLITE_ROW ? sqlite3_column_int(st, 0) + 1 : 0;
    if (*round < min_round)
        *round = min_round;
    *resumed = false;
    sqlite3_reset(st);
    st = prep(s, "INSERT INTO rounds (round, started_ms, status) VALUES (?1, ?2, 'running')");
    if (st) {
        sqlite3_bind_int(st, 1, *round);
        sqlite3_bind_int64(st, 2, now_ms);
    }
    rc = done(s, st);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int state_round_end(struct state *s, int round, int64_t now_ms, const char *status)
{
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prep(s, "UPDATE rounds SET ended_ms = ?2, status = ?3 WHERE round = ?1");
    if (st) {
        sqlite3_bind_int(st, 1, round);
        sqlite3_bind_int64(st, 2, now_ms);
        sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
    }
    int rc = done(s, st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void copy_col(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

void state_set_id_seed(struct state *s, const char *seed)
{
    pthread_mutex_lock(&s->mu);
    free(s->id_seed);
    s->id_seed = seed && seed[0] ? xstrdup(seed) : NULL;
    pthread_mutex_unlock(&s->mu);
}

/* The kind is part of the name, so that a folder replaced by a file of the same path is a new
 * item, as it is without a seed. */
void state_item_ids(const char *seed, const char *rel, bool is_folder, char unique_id[UUID_BUF],
                    char item_id[UUID_BUF])
{
    unsigned char u[UUID_LEN];
    if (!seed || !seed[0]) {
        uuid_v4(u);
        uuid_format(u, unique_id);
        uuid_v4(u);
        uuid_format(u, item_id);
        return;
    }
    const char *kind = is_folder ? "folder" : "file";
    char *ns = xasprintf("%s/%s/UniqueId", seed, kind);
    uuid_v8_name(ns, rel, u);
    uuid_format(u, unique_id);
    free(ns);
    ns = xasprintf("%s/%s/ListItemId", seed, kind);
    uuid_v8_name(ns, rel, u);
    uuid_format(u, item_id);
    free(ns);
}

int state_item(struct state *s, const char *rel, bool is_folder, struct state_item *out)
{
    memset(out, 0, sizeof *out);
    out->migrated_round = out->reported_round = -1;
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    sqlite3_stmt *st = prep(s, "SELECT is_folder, unique_id, item_id, size, mtime_ns, "
                               "migrated_round, reported_round, outcome FROM items WHERE rel = ?1");
    if (!st)
        goto out;
    sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->known = true;
        out->is_folder = sqlite3_column_int(st, 0);
        copy_col(st, 1, out->unique_id, sizeof out->unique_id);
        copy_col(st, 2, out->item_id, sizeof out->item_id);
        out->migrated = sqlite3_column_type(st, 5) != SQLITE_NULL;
        out->size = sqlite3_column_int64(st, 3);
        out->mtime_ns = sqlite3_column_int64(st, 4);
        out->migrated_round = out->migrated ? sqlite3_column_int(st, 5) : -1;
        out->reported_round =
            sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 6);
        copy_col(st, 7, out->outcome, sizeof out->outcome);
        sqlite3_reset(st);
        /* A folder that became a file (or back) is a new item: new ids. */
        if (out->is_folder == is_folder) {
            rc = 0;
            goto out;
        }
        st = prep(s, "DELETE FROM items WHERE rel = ?1");
        if (st)
            sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
        if (done(s, st) < 0)
            goto out;
        memset(out, 0, sizeof *out);
        out->migrated_round = out->reported_round = -1;
    } else {
        sqlite3_reset(st);
        if (step != SQLITE_DONE)
            goto out;
    }
    state_item_ids(s->id_seed, rel, is_folder, out->unique_id, out->item_id);
    out->is_folder = is_folder;
    st = prep(s, "INSERT INTO items (rel, is_folder, unique_id, item_id) VALUES (?1, ?2, ?3, ?4)");
    if (st) {
        sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, is_folder);
        sqlite3_bind_text(st, 3, out->unique_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, out->item_id, -1, SQLITE_STATIC);
    }
    rc = done(s, st);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int state_outcome(struct state *s, const char *rel, int round, const char *outcome, int64_t bytes,
                  int64_t size, int64_t mtime_ns)
{
    bool migrated = strcmp(outcome, "migrated") == 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st =
        prep(s, migrated ? "UPDATE items SET reported_round = ?2, outcome = ?3, outcome_size = ?4, "
                           "migrated_round = ?2, size = ?5, mtime_ns = ?6 WHERE rel = ?1"
                         : "UPDATE items SET reported_round = ?2, outcome = ?3, outcome_size = ?4 "
                           "WHERE rel = ?1");
    if (st) {
        sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, round);
        sqlite3_bind_text(st, 3, outcome, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, bytes);
        if (migrated) {
            sqlite3_bind_int64(st, 5, size);
            sqlite3_bind_int64(st, 6, mtime_ns);
        }
    }
    int rc = done(s, st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void state_batch_begin(struct state *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->batch++ == 0) {
        s->batch_failed = false;
        if (exec(s, "BEGIN") < 0)
            s->batch_failed = true;
    }
}

int state_batch_end(struct state *s)
{
    int rc = 0;
    if (--s->batch == 0) {
        if (s->batch_failed) {
            exec(s, "ROLLBACK");
            rc = -1;
        } else if (exec(s, "COMMIT") < 0) {
            exec(s, "ROLLBACK");
            rc = -1;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int state_counts(struct state *s, int round, struct state_counts *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prep(s, "SELECT outcome, count(*), total(outcome_size) FROM items WHERE "
                               "reported_round = ?1 GROUP BY outcome");
    int rc = st ? 0 : -1;
    if (st)
        sqlite3_bind_int(st, 1, round);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *o = (const char *)sqlite3_column_text(st, 0);
        uint64_t n = (uint64_t)sqlite3_column_int64(st, 1);
        uint64_t b = (uint64_t)sqlite3_column_double(st, 2);
        if (!o)
            continue;
        if (strcmp(o, "migrated") == 0)
            out->migrated = n, out->migrated_bytes = b;
        else if (strcmp(o, "failed") == 0)
            out->failed = n, out->failed_bytes = b;
        else if (strcmp(o, "skipped") == 0)
            out->skipped = n, out->skipped_bytes = b;
        else if (strcmp(o, "filtered") == 0)
            out->filtered = n;
    }
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}
