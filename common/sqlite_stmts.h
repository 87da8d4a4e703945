/*
 * sqlite_stmts.h: a connection's cache of prepared statements, found by the address of their
 * SQL text, so a statement written as a string literal is prepared once per connection and
 * then only reset. The connection itself, and what to do when SQL does not prepare, are the
 * caller's.
 */
#ifndef SPMIG_SQLITE_STMTS_H
#define SPMIG_SQLITE_STMTS_H

#include <sqlite3.h>
#include <stddef.h>

struct sqlite_stmts_slot;

/* Caller-owned, one per connection; all zero (or sqlite_stmts_init) is empty. Not
 * thread-safe: it goes with its connection. */
struct sqlite_stmts {
    struct sqlite_stmts_slot *slots;
    size_t n, cap;
};

void sqlite_stmts_init(struct sqlite_stmts *c);
/* Finalizes every statement (before the connection is closed) and leaves c empty. */
void sqlite_stmts_finish(struct sqlite_stmts *c);

/*
 * The statement for sql on db, reset and with no bindings. sql is kept by its address, so it
 * must live as long as c (a string literal) and c must always be used with the same db. The
 * first call prepares it (SQLITE_PREPARE_PERSISTENT); if that fails, returns NULL, caches
 * nothing, and sqlite3_errmsg(db) says why. The statement belongs to c: never finalize it.
 */
sqlite3_stmt *sqlite_stmts_get(struct sqlite_stmts *c, sqlite3 *db, const char *sql);

#endif
