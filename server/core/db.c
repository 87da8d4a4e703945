/*
 * db.c: the SQLite database of db.h: opening it (its schema brought up to date by
 * sqlite_schema.c), a pool of connections with their prepared-statement caches, the
 * process-wide write lock with the one connection every write transaction runs on, and the
 * settings table. It knows no table but settings; the stores own their SQL.
 */
#include "db.h"
#include "gate.h"
#include "db_vfs.h"
#include "log.h"
#include "store_files.h"
#include "sqlite_schema.h"
#include "sqlite_stmts.h"
#include "xmalloc.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The server's schema: the SQL files of schema/, embedded by schema/embed.py. */
extern const struct sqlite_schema_script schema_files[];
extern const size_t schema_file_count;

/* One SQLite connection and its statement cache. */
struct conn {
    sqlite3 *h;
    int cache_kib; /* 0: DB_CACHE_KIB */
    struct sqlite_stmts stmts;
};

/*
 * What a caller borrows: its own connection for reads, switched to the writer connection
 * between db_write_begin and db_write_end. All writes use that one connection, so its page
 * cache stays valid from one write to the next: a connection that did not make the last
 * commit must drop its cache and read the pages again.
 */
struct db {
    struct conn *cur; /* own, or writer during a write transaction */
    struct conn own;
    struct db *next_free;
};

static char *db_path;
static _Atomic uint64_t epoch;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static struct db *pool_free;
static struct db **all;
static size_t nall;
static struct conn writer; /* used under write_lock only */

/*
 * Checkpoints run on a thread of their own: the writer's WAL hook wakes it once the WAL holds
 * DB_CHECKPOINT_PAGES, and it copies pages back with a passive checkpoint (which never blocks
 * writers). SQLite's automatic checkpoint would do that work, fsyncs included, inside the
 * commit of whichever write crossed the mark, while every other writer waits on write_lock.
 * 4000 pages (16 MiB) between checkpoints rather than SQLite's 1000: the pages every write
 * touches (index roots, the ends of the append-only tables) are then copied back a quarter as
 * often.
 */
#define DB_CHECKPOINT_PAGES 4000
/* The writer's page cache in KiB: the only cache that lives from one request to the next. */
#define DB_WRITER_CACHE_KIB "4096"
static pthread_t ckpt_thread;
static bool ckpt_started, ckpt_wanted, ckpt_stop;
static pthread_mutex_t ckpt_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ckpt_cond = PTHREAD_COND_INITIALIZER;

static sqlite3 *open_conn(void)
{
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(
        db_path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, DB_VFS_NAME);
    if (rc != SQLITE_OK) {
        log_error("db: cannot open %s: %s", db_path, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
        sqlite3_close(h);
        return NULL;
    }
    sqlite3_busy_timeout(h, 10000);
    char *err = NULL;
    char pragmas[200];
    /* synchronous=FULL in both durabilities: SQLite then syncs the WAL at every commit, which
     * is where db_vfs writes the commit's pages out; the sync reaches the disk only in fsync
     * durability (db_vfs.h). */
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF; "
             "PRAGMA cache_size=-%d;",
             DB_CACHE_KIB);
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
    struct sqlite_schema_result r;
    int rc = sqlite_schema_apply(h, schema_files, schema_file_count, &r);
    for (int v = r.from; v < r.to; v++)
        log_info("db: applied schema %s", schema_files[v].name);
    if (r.newer)
        log_error("db: %s has schema version %d, newer than this spmigd knows (%zu)", db_path,
                  r.from, schema_file_count);
    else if (r.failed)
        log_error("db: applying schema %s failed: %s", r.failed, r.error);
    else if (rc < 0)
        log_error("db: %s: %s", db_path, r.error);
    return rc;
}

static int wal_hook(void *arg, sqlite3 *h, const char *name, int pages)
{
    (void)arg, (void)h, (void)name;
    if (pages >= DB_CHECKPOINT_PAGES) {
        pthread_mutex_lock(&ckpt_lock);
        ckpt_wanted = true;
        pthread_cond_signal(&ckpt_cond);
        pthread_mutex_unlock(&ckpt_lock);
    }
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    sqlite3 *h = arg;
    pthread_mutex_lock(&ckpt_lock);
    while (!ckpt_stop) {
        if (!ckpt_wanted) {
            pthread_cond_wait(&ckpt_cond, &ckpt_lock);
            continue;
        }
        ckpt_wanted = false;
        pthread_mutex_unlock(&ckpt_lock);
        int rc = sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log_warn("db: checkpoint failed: %s", sqlite3_errmsg(h));
        pthread_mutex_lock(&ckpt_lock);
    }
    pthread_mutex_unlock(&ckpt_lock);
    sqlite3_close(h);
    return NULL;
}

/* Starts the checkpoint thread on a connection of its own and hands the writer's checkpoints
 * to it. Without it (no connection or thread), the writer keeps SQLite's automatic ones. */
static void ckpt_start(void)
{
    ckpt_wanted = ckpt_stop = false;
    sqlite3 *h = open_conn();
    if (!h)
        return;
    if (pthread_create(&ckpt_thread, NULL, ckpt_main, h) != 0) {
        log_warn("db: no checkpoint thread; checkpoints stay in the commits");
        sqlite3_close(h);
        return;
    }
    ckpt_started = true;
    sqlite3_wal_hook(writer.h, wal_hook, NULL); /* replaces the automatic checkpoint */
}

static void ckpt_finish(void)
{
    if (!ckpt_started)
        return;
    pthread_mutex_lock(&ckpt_lock);
    ckpt_stop = true;
    pthread_cond_signal(&ckpt_cond);
    pthread_mutex_unlock(&ckpt_lock);
    pthread_join(ckpt_thread, NULL);
    ckpt_started = false;
}

static void batch_reset(void);

int db_open(const char *path, bool sync_full)
{
    /* No memory statistics: keeping them takes one process-wide mutex in every allocation
     * SQLite makes, from every thread. Only possible before SQLite initialises (the first
     * db_open of the process); later calls change nothing. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    db_path = xstrdup(path);
    if (db_vfs_register(sync_full) < 0) {
        log_error("db: no SQLite VFS to build on");
        return -1;
    }
    atomic_fetch_add(&epoch, 1);
    batch_reset(); /* also in a forked child that inherited a parent's state */
    sqlite3 *h = open_conn();
    if (!h)
        return -1;
    int rc = migrate(h);
    /* A fresh writer, also in a forked child that inherited one (its statements included). */
    writer = (struct conn){.h = open_conn()};
    ckpt_started = false;
    if (!writer.h || sqlite3_exec(writer.h, "PRAGMA cache_size=-" DB_WRITER_CACHE_KIB, NULL, NULL,
                                  NULL) != SQLITE_OK)
        rc = -1;
    else
        ckpt_start();
    struct db *d = xcalloc(1, sizeof *d);
    d->own.h = h;
    d->cur = &d->own;
    all = xrealloc(all, (nall + 1) * sizeof *all);
    all[nall++] = d;
    pool_free = d;
    return rc;
}

static void conn_finish(struct conn *c)
{
    sqlite_stmts_finish(&c->stmts);
    sqlite3_close(c->h);
    memset(c, 0, sizeof *c);
}

void db_close(void)
{
    ckpt_finish();
    pthread_mutex_lock(&pool_lock);
    for (size_t i = 0; i < nall; i++) {
        conn_finish(&all[i]->own);
        free(all[i]);
    }
    conn_finish(&writer);
    free(all);
    all = NULL;
    nall = 0;
    pool_free = NULL;
    pthread_mutex_unlock(&pool_lock);
    free(db_path);
    db_path = NULL;
}

uint64_t db_epoch(void)
{
    return atomic_load(&epoch);
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
    d->own.h = h;
    d->cur = &d->own;
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
    if (sqlite3_exec(d->own.h, sql, NULL, NULL, NULL) != SQLITE_OK)
        log_warn("db: cannot set the page cache to %d KiB: %s", kib, sqlite3_errmsg(d->own.h));
    d->own.cache_kib = kib == DB_CACHE_KIB ? 0 : kib;
}

void db_release(struct db *d)
{
    if (!d)
        return;
    /* A pooled connection keeps no pages for its next borrower: any write would make them
     * stale anyway, and since small blobs live in the database, reads would otherwise fill
     * every pooled connection's cache with blob bytes (memory times connections). */
    sqlite3_db_release_memory(d->own.h);
    if (d->own.cache_kib)
        db_set_cache(d, DB_CACHE_KIB);
    pthread_mutex_lock(&pool_lock);
    d->next_free = pool_free;
    pool_free = d;
    pthread_mutex_unlock(&pool_lock);
}

sqlite3 *db_handle(struct db *d)
{
    return d->cur->h;
}

static sqlite3_stmt *conn_stmt(struct conn *c, const char *sql)
{
    sqlite3_stmt *st = sqlite_stmts_get(&c->stmts, c->h, sql);
    if (!st) {
        log_error("db: cannot prepare \"%s\": %s", sql, sqlite3_errmsg(c->h));
        abort();
    }
    return st;
}

sqlite3_stmt *db_stmt(struct db *d, const char *sql)
{
    return conn_stmt(d->cur, sql);
}

/* Runs one of the transaction statements below, prepared once per connection. */
static int exec(struct conn *c, const char *sql)
{
    sqlite3_stmt *st = conn_stmt(c, sql);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("db: %s failed: %s", sql, sqlite3_errmsg(c->h));
        if (sqlite3_errcode(c->h) == SQLITE_FULL)
            store_files_disk_full();
        return -1;
    }
    return 0;
}

static const char SQL_BEGIN[] = "BEGIN", SQL_BEGIN_IMMEDIATE[] = "BEGIN IMMEDIATE",
                  SQL_COMMIT[] = "COMMIT", SQL_ROLLBACK[] = "ROLLBACK",
                  SQL_SAVEPOINT[] = "SAVEPOINT w", SQL_RELEASE[] = "RELEASE w",
                  SQL_ROLLBACK_TO[] = "ROLLBACK TO w";

/*
 * Group commit. Each write is a savepoint inside a batch transaction on the writer. A write
 * that ends while others wait for the write lock leaves the batch open for them and sleeps
 * until a later write of the batch commits it; the last write of a batch (none waiting, or
 * DB_BATCH_MAX reached) commits for all. Many small writes then share one commit: pages
 * they have in common go to the WAL once, and the locking and syncing happen once. No write
 * returns before its batch committed, so every answer still follows its commit; if the
 * commit fails, every write of the batch reports the failure.
 */
#define DB_BATCH_MAX 32
static _Atomic int write_waiting; /* threads in db_write_begin, not yet holding write_lock */
static pthread_cond_t batch_done = PTHREAD_COND_INITIALIZER;
static bool batch_open;
static int batch_writes;
static uint64_t batch_no, batch_committed, batch_failed; /* under write_lock */

static void batch_reset(void)
{
    batch_open = false;
    batch_writes = 0;
    batch_committed = batch_no;
}

void db_write_begin(struct db *d)
{
    assert(d->cur == &d->own);
    atomic_fetch_add(&write_waiting, 1);
    pthread_mutex_lock(&write_lock);
    atomic_fetch_sub(&write_waiting, 1);
    d->cur = &writer;
    if (!batch_open) {
        if (exec(d->cur, SQL_BEGIN_IMMEDIATE) < 0)
            abort();
        batch_open = true;
        batch_writes = 0;
        batch_no++;
    }
    if (exec(d->cur, SQL_SAVEPOINT) < 0)
        abort();
    batch_writes++;
}

/* Commits the open batch (write_lock held) and wakes the writes waiting for it. */
static void batch_commit(void)
{
    if (exec(&writer, SQL_COMMIT) < 0) {
        batch_failed = batch_no;
        if (sqlite3_get_autocommit(writer.h) == 0)
            exec(&writer, SQL_ROLLBACK);
    }
    batch_open = false;
    batch_committed = batch_no;
    pthread_cond_broadcast(&batch_done);
}

/* Ends the open batch without committing it (write_lock held): every write in it fails. */
static void batch_abort(void)
{
    if (sqlite3_get_autocommit(writer.h) == 0)
        exec(&writer, SQL_ROLLBACK);
    batch_failed = batch_no;
    batch_open = false;
    batch_committed = batch_no;
    pthread_cond_broadcast(&batch_done);
}

int db_write_end(struct db *d, bool ok)
{
    assert(d->cur == &writer);
    d->cur = &d->own;
    uint64_t mine = batch_no;
    if (sqlite3_get_autocommit(writer.h) != 0)
        batch_abort(); /* an error rolled the whole batch back, earlier writes included */
    else if (ok ? exec(&writer, SQL_RELEASE) < 0
                : exec(&writer, SQL_ROLLBACK_TO) < 0 || exec(&writer, SQL_RELEASE) < 0)
        batch_abort(); /* what this write left is unknown: none of the batch may commit */
    bool waited = false;
    if (batch_open && batch_committed < mine) {
        if (atomic_load(&write_waiting) > 0 && batch_writes < DB_BATCH_MAX) {
            /* Another write commits this one: its request slot is free meanwhile (gate.h),
             * and taken again only once the write lock is released. */
            gate_wait_begin();
            waited = true;
            while (batch_committed < mine)
                pthread_cond_wait(&batch_done, &write_lock);
        } else {
            batch_commit();
        }
    }
    int rc = ok && batch_failed == mine ? -1 : 0;
    pthread_mutex_unlock(&write_lock);
    if (waited)
        gate_wait_end();
    return rc;
}

void db_read_begin(struct db *d)
{
    exec(d->cur, SQL_BEGIN);
}

void db_read_end(struct db *d)
{
    exec(d->cur, SQL_COMMIT);
}

int db_exec_stmt(struct db *d, sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("db: %s: %s", sqlite3_sql(st), sqlite3_errmsg(d->cur->h));
        if (sqlite3_errcode(d->cur->h) == SQLITE_FULL)
            store_files_disk_full();
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
