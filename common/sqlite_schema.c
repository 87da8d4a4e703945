/*
 * sqlite_schema.c: the schema migration of sqlite_schema.h: reads user_version, applies the
 * scripts a database lacks, one transaction each, and refuses a database newer than the
 * program. What the scripts say, how the connection is set up and how a failure is worded for
 * the user are the callers' (server/core/db.c, client/state.c).
 */
#include "sqlite_schema.h"
#include "xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 2, 3))) static void fail(struct sqlite_schema_result *res,
                                                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->error, sizeof res->error, fmt, ap);
    va_end(ap);
}

/* The int a pragma answers in *out; 0, or -1 with res->error set. */
static int pragma_int(sqlite3 *db, const char *sql, int *out, struct sqlite_schema_result *res)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        fail(res, "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : -1;
}

/* Inside a script's transaction: 0 if no row breaks a foreign key, else -1 with res->error. */
static int foreign_keys_hold(sqlite3 *db, struct sqlite_schema_result *res)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        fail(res, "a row of table %s breaks a foreign key", sqlite3_column_text(st, 0));
    else if (rc != SQLITE_DONE)
        fail(res, "PRAGMA foreign_key_check: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Applies one script and its version in one transaction; 0, or -1 rolled back. */
static int apply_one(sqlite3 *db, const struct sqlite_schema_script *s, int version, bool fk,
                     struct sqlite_schema_result *res)
{
    /* The newline ends a "--" comment on the script's last line. */
    char *sql = xasprintf("BEGIN; %s\n; PRAGMA user_version=%d;", s->text, version);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK ? 0 : -1;
    free(sql);
    if (rc < 0)
        fail(res, "%s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    if (rc == 0 && fk)
        rc = foreign_keys_hold(db, res);
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fail(res, "%s", sqlite3_errmsg(db));
        rc = -1;
    }
    if (rc < 0) {
        res->failed = s->name;
        if (!sqlite3_get_autocommit(db)) /* the transaction is still open: drop it */
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

int sqlite_schema_apply(sqlite3 *db, const struct sqlite_schema_script *scripts, size_t count,
                        struct sqlite_schema_result *res)
{
    memset(res, 0, sizeof *res);
    if (!sqlite3_get_autocommit(db)) {
        fail(res, "a transaction is open on the connection");
        return -1;
    }
    int version = 0;
    if (pragma_int(db, "PRAGMA user_version", &version, res) < 0)
        return -1;
    res->from = res->to = version;
    if (version < 0) {
        fail(res, "user_version %d is not a schema version", version);
        return -1;
    }
    if ((size_t)version > count) {
        res->newer = true;
        fail(res, "schema version %d is newer than this program knows (%zu)", version, count);
        return -1;
    }
    if ((size_t)version == count)
        return 0;
    /* SQLite ignores this pragma inside a transaction: it is switched between them. */
    int fk = 0;
    if (pragma_int(db, "PRAGMA foreign_keys", &fk, res) < 0)
        return -1;
    if (fk && sqlite3_exec(db, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL) != SQLITE_OK) {
        fail(res, "PRAGMA foreign_keys=OFF: %s", sqlite3_errmsg(db));
        return -1;
    }
    int rc = 0;
    for (size_t i = (size_t)version; i < count && rc == 0; i++) {
        rc = apply_one(db, &scripts[i], (int)i + 1, fk != 0, res);
        if (rc == 0)
            res->to = (int)i + 1;
    }
    if (fk && sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK &&
        rc == 0) {
        fail(res, "PRAGMA foreign_keys=ON: %s", sqlite3_errmsg(db));
        rc = -1;
    }
    return rc;
}
