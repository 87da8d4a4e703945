/*
 * sqlite_stmts.c: the prepared-statement cache of sqlite_stmts.h, a growing array searched by
 * address (a connection uses a few dozen statements at most). Used by server/core/db.c for
 * each pooled connection and the writer, and by client/state.c for the state file.
 */
#include "sqlite_stmts.h"
#include "xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct sqlite_stmts_slot {
    const char *sql; /* the caller's string, compared by address */
    sqlite3_stmt *stmt;
};

void sqlite_stmts_init(struct sqlite_stmts *c)
{
    memset(c, 0, sizeof *c);
}

void sqlite_stmts_finish(struct sqlite_stmts *c)
{
    for (size_t i = 0; i < c->n; i++)
        sqlite3_finalize(c->slots[i].stmt);
    free(c->slots);
    memset(c, 0, sizeof *c);
}

sqlite3_stmt *sqlite_stmts_get(struct sqlite_stmts *c, sqlite3 *db, const char *sql)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->slots[i].sql == sql) {
            sqlite3_reset(c->slots[i].stmt);
            sqlite3_clear_bindings(c->slots[i].stmt);
            return c->slots[i].stmt;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        c->slots = xrealloc(c->slots, c->cap * sizeof *c->slots);
    }
    c->slots[c->n].sql = sql;
    c->slots[c->n].stmt = st;
    c->n++;
    return st;
}
