/*
 * db.c: the SQLite database of db.h: opening and schema migration, a pool of connections
 * with their prepared-statement caches, the process-wide write lock and the settings table.
 * It knows no table but settings; the stores own their SQL.
 */
#include "db.h"
#include "log.h"
#include "xmalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct schema_file {
    const char *name;
    const char *text;
};
extern const struct schema_file schema_files[];
extern const size_t schema_file_count;

struct stmt_slot {
    const char *sql; /* the caller's string: compared by address, then by text */
    sqlite3_stmt *stmt;
};

struct db {
    sqlite3 *h;
    int cache_kib; /* 0: DB_CACHE_KIB */
    struct stmt_slot *slots;
    size_t nslots, cap;
    struct db *next_free;
};

static char *db_path;
static bool db_sync_full;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static struct db *pool_free;
static struct db **all;
static size_t nall;

static sqlite3 *open_conn(void)
{
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(
        db_path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        log_error("db: cannot open %s: %s", db_path, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
        sqlite3_close(h);
        return NULL;
    }
    sqlite3_busy_timeout(h, 10000);
    char *err = NULL;
    char pragmas[200];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=OFF; "
             "PRAGMA cache_size=-%d;",
             db_sync_full ? "FULL" : "NORMAL", DB_CACHE_KIB);
    if (sqlite3_exec(h, pragmas, NULL, NULL, &err) != SQLITE_OK) {
        log_error("db: cannot set up %s: %s", db_path, err);
        sqlite3_free(err);
        sqlite3_close(h);
        return NULL;
    }
    return h;
}

static int migrate(sqlite3 *h)
{
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > (int)schema_file_count) {
        log_error("db: %s has schema version %d, newer than this spmigd knows (%zu)", db_path,
                  version, schema_file_count);
        return -1;
    }
    for (size_t i = (size_t)version; i < schema_file_count; i++) {
        char *err = NULL;
        char *sql =
            xasprintf("BEGIN; %s\n; PRAGMA user_version=%zu; COMMIT;", schema_files[i].text, i + 1);
        int rc = sqlite3_exec(h, sql, NULL, NULL, &err);
        free(sql);
        if (rc != SQLITE_OK) {
            log_error("db: applying schema %s failed: %s", schema_files[i].name, err);
            sqlite3_free(err);
            sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        log_info("db: applied schema %s", schema_files[i].name);
    }
    return 0;
}

int db_open(const char *path, bool sync_full)
{
    db_path = xstrdup(path);
    db_sync_full = sync_full;
    sqlite3 *h = open_conn();
    if (!h)
        return -1;
    int rc = migrate(h);
    struct db *d = xcalloc(1, sizeof *d);
    d->h = h;
    all = xrealloc(all, (nall + 1) * sizeof *all);
    all[nall++] = d;
    pool_free = d;
    return rc;
}

static void conn_destroy(struct db *d)
{
    for (size_t i = 0; i < d->nslots; i++)
        sqlite3_finalize(d->slots[i].stmt);
    free(d->slots);
    sqlite3_close(d->h);
    free(d);
}

void db_close(void)
{
    pthread_mutex_lock(&pool_lock);
    for (size_t i = 0; i < nall; i++)
        conn_destroy(all[i]);
    free(all);
    all = NULL;
    nall = 0;
    pool_free = NULL;
    pthread_mutex_unlock(&pool_lock);
    free(db_path);
    db_path = NULL;
}

struct db *db_acquire(void)
{
    pthread_mutex_lock(&pool_lock);
    struct db *d = pool_free;
    if (d)
        pool_free = d->next_free;
    pthread_mutex_unlock(&pool_lock);
    if (d)
        return d;
    sqlite3 *h = open_conn();
    if (!h)
        abort(); /* the database opened at start; failing now is unrecoverable */
    d = xcalloc(1, sizeof *d);
    d->h = h;
    pthread_mutex_lock(&pool_lock);
    all = xrealloc(all, (nall + 1) * sizeof *all);
    all[nall++] = d;
    pthread_mutex_unlock(&pool_lock);
    return d;
}

void db_set_cache(struct db *d, int kib)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", kib);
    if (sqlite3_exec(d->h, sql, NULL, NULL, NULL) != SQLITE_OK)
        log_warn("db: cannot set the page cache to %d KiB: %s", kib, sqlite3_errmsg(d->h));
    d->cache_kib = kib == DB_CACHE_KIB ? 0 : kib;
}

void db_release(struct db *d)
{
    if (!d)
        return;
    if (d->cache_kib)
        db_set_cache(d, DB_CACHE_KIB);
    pthread_mutex_lock(&pool_lock);
    d->next_free = pool_free;
    pool_free = d;
    pthread_mutex_unlock(&pool_lock);
}

sqlite3 *db_handle(struct db *d)
{
    return d->h;
}

sqlite3_stmt *db_stmt(struct db *d, const char *sql)
{
    for (size_t i = 0; i < d->nslots; i++) {
        if (d->slots[i].sql == sql) {
            sqlite3_reset(d->slots[i].stmt);
            sqlite3_clear_bindings(d->slots[i].stmt);
            return d->slots[i].stmt;
        }
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        log_error("db: cannot prepare \"%s\": %s", sql, sqlite3_errmsg(d->h));
        abort();
    }
    if (d->nslots == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 32;
        d->slots = xrealloc(d->slots, d->cap * sizeof *d->slots);
    }
    d->slots[d->nslots].sql = sql;
    d->slots[d->nslots].stmt = st;
    d->nslots++;
    return st;
}

static int exec(struct db *d, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(d->h, sql, NULL, NULL, &err) != SQLITE_OK) {
        log_error("db: %s failed: %s", sql, err);
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

void db_write_begin(struct db *d)
{
    pthread_mutex_lock(&write_lock);
    if (exec(d, "BEGIN IMMEDIATE") < 0)
        abort();
}

int db_write_end(struct db *d, bool ok)
{
    int rc = 0;
    if (ok && exec(d, "COMMIT") < 0)
        ok = false, rc = -1;
    if (!ok && sqlite3_get_autocommit(d->h) == 0)
        exec(d, "ROLLBACK");
    pthread_mutex_unlock(&write_lock);
    return rc;
}

void db_read_begin(struct db *d)
{
    exec(d, "BEGIN");
}

void db_read_end(struct db *d)
{
    exec(d, "COMMIT");
}

int db_exec_stmt(struct db *d, sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("db: %s: %s", sqlite3_sql(st), sqlite3_errmsg(d->h));
        return -1;
    }
    return 0;
}

char *db_col_str(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? xstrdup((const char *)t) : NULL;
}

void db_col_copy(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

char *db_setting_get(struct db *d, const char *key)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT value FROM settings WHERE key = ?1");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    char *v = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return v;
}

int db_setting_set(struct db *d, const char *key, const char *value)
{
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    return db_exec_stmt(d, st);
}
