/*
 * db.h: the SQLite database. One file (WAL) under the data dir, schema applied from the
 * embedded schema files in order and recorded in PRAGMA user_version. Connections come from
 * a pool (any thread may borrow one); writes are serialised by one process-wide lock taken
 * with db_write_begin, so a writer never waits in SQLite's busy loop, and all run on one
 * writer connection whose page cache therefore stays warm. Prepared statements are cached
 * per connection by the address of their SQL text (pass string literals).
 */
#ifndef SPMIG_DB_H
#define SPMIG_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;

/* Opens (creating if needed) path and brings its schema up to date. sync_full selects
 * synchronous=FULL (fsync on commit); otherwise synchronous=OFF: a commit has reached the OS
 * when it returns, which survives the process being killed but not the machine failing.
 * Returns 0, or -1 after logging. */
int db_open(const char *path, bool sync_full);
void db_close(void);
/* Counts db_open calls: state cached from one opened database is not valid in the next. */
uint64_t db_epoch(void);

/* Borrows a connection for this request or job; return it with db_release. Never NULL. */
struct db *db_acquire(void);
void db_release(struct db *d);

/* The connection's cached prepared statement for sql (reset and bindings cleared). The
 * statement belongs to the connection: never finalise it. Aborts on a malformed statement,
 * which is a programming error. */
sqlite3_stmt *db_stmt(struct db *d, const char *sql);
sqlite3 *db_handle(struct db *d);

/* Page cache of every connection, and the smaller one a connection held for a long job (an
 * import) uses so that jobs side by side do not each fill the large one. */
#define DB_CACHE_KIB     8000
#define DB_CACHE_JOB_KIB 2000
/* Sets the page cache of d's own (reading) connection to kib KiB, giving back pages over it;
 * db_release restores the default. Writes use the one writer connection whatever this says. */
void db_set_cache(struct db *d, int kib);

/* Write transactions: the process-wide write lock, and a savepoint in the writer's open
 * batch transaction (group commit: writes that meet at the lock share one commit). Until
 * db_write_end, d stands for the writer connection: db_stmt and db_handle give its
 * statements and handle, so a statement taken before db_write_begin must not be used
 * inside. db_write_end keeps (ok = true) or rolls back the write and returns once it is
 * committed: 0, or -1 if the commit of its batch failed (then nothing of it is kept). */
void db_write_begin(struct db *d);
int db_write_end(struct db *d, bool ok);

/* Read snapshot for several statements that must agree. */
void db_read_begin(struct db *d);
void db_read_end(struct db *d);

/* Runs a statement to completion (for writes); returns 0, or -1 after logging. The
 * statement is reset afterwards. */
int db_exec_stmt(struct db *d, sqlite3_stmt *st);

/* A text column as a new string (the caller frees it), or NULL for SQL NULL. */
char *db_col_str(sqlite3_stmt *st, int col);
/* A text column copied into out (cap bytes, truncated, "" for NULL). */
void db_col_copy(sqlite3_stmt *st, int col, char *out, size_t cap);

/* Small key/value settings table (clock offset, ids). Returns a new string or NULL. */
char *db_setting_get(struct db *d, const char *key);
int db_setting_set(struct db *d, const char *key, const char *value);

#endif
