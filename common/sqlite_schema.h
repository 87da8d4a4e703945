/*
 * sqlite_schema.h: brings an SQLite database up to the schema a program was built with. The
 * schema is an ordered array of SQL scripts (schema/embed.py embeds them at build time):
 * script i takes the database from version i to version i + 1, and the version is kept in
 * PRAGMA user_version. Each program owns its scripts, its connection and its messages.
 */
#ifndef SPMIG_SQLITE_SCHEMA_H
#define SPMIG_SQLITE_SCHEMA_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/* One schema version: its file name (for messages) and its SQL. */
struct sqlite_schema_script {
    const char *name;
    const char *text;
};

/* What sqlite_schema_apply found and did, for the caller's messages. */
struct sqlite_schema_result {
    int from;           /* user_version found: 0 for a fresh database */
    int to;             /* user_version left: from plus the scripts applied */
    bool newer;         /* refused: from is past the last script; nothing was changed */
    const char *failed; /* the script that failed and was rolled back, or NULL */
    char error[256];    /* why the call failed (SQLite's message), or "" */
};

/*
 * Applies scripts[from..count-1] to db in order, each in a transaction of its own that also
 * records its version in user_version, so a failed script leaves the database at the version
 * before it (a script holds no BEGIN or COMMIT of its own). Returns 0 when the database is at
 * version count, or -1: a database newer than count is refused untouched (res->newer), a
 * failed script is rolled back (res->failed), and res->error says why. Scripts applied before
 * a failure stay applied (res->to). db must not be inside a transaction.
 *
 * Each commit is as durable as db's synchronous setting makes it; the caller sets up the
 * connection (journal mode, synchronous, locking) before. If db enforces foreign keys, the
 * scripts run with them off, as SQLite asks for schema changes, each commit checks that no
 * row breaks one (PRAGMA foreign_key_check), and they are on again when the call returns.
 * Logs nothing: every failure is in res.
 */
int sqlite_schema_apply(sqlite3 *db, const struct sqlite_schema_script *scripts, size_t count,
                        struct sqlite_schema_result *res);

#endif
