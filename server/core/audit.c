/*
 * audit.c: the audit table: appending entries at emulator time, alone or inside the caller's
 * write transaction, and reading them newest first in pages. It knows nothing of what the
 * entries are about; the writers choose kinds and subjects.
 */
#include "audit.h"
#include "clock.h"
#include "log.h"
#include "timefmt.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>

static _Atomic bool audit_on; /* no database before audit_start */

void audit_start(void)
{
    atomic_store(&audit_on, true);
}

void audit_stop(void)
{
    atomic_store(&audit_on, false);
}

int audit_record_tx(struct db *d, const char *kind, const char *subject, const char *detail)
{
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO audit (time_ms, kind, subject, detail) "
                                  "VALUES (?1, ?2, ?3, ?4)");
    sqlite3_bind_int64(st, 1, clock_now_ms());
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, subject ? subject : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, detail ? detail : "", -1, SQLITE_STATIC);
    return db_exec_stmt(d, st);
}

void audit_record(const char *kind, const char *subject, const char *detail)
{
    if (!atomic_load(&audit_on))
        return;
    struct db *d = db_acquire();
    db_write_begin(d);
    int rc = audit_record_tx(d, kind, subject, detail);
    if (db_write_end(d, rc == 0) < 0 || rc < 0)
        log_warn("audit: cannot record a %s audit entry", kind);
    db_release(d);
}

cJSON *audit_json(unsigned top, int64_t skiptoken)
{
    if (top == 0 || top > 1000)
        top = 1000;
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT id, time_ms, kind, subject, detail FROM audit "
                                  "WHERE id < ?1 ORDER BY id DESC LIMIT ?2");
    sqlite3_bind_int64(st, 1, skiptoken > 0 ? skiptoken : INT64_MAX);
    sqlite3_bind_int64(st, 2, (int64_t)top + 1);
    cJSON *arr = cJSON_CreateArray();
    unsigned n = 0;
    int64_t last = 0;
    bool more = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == top) {
            more = true;
            break;
        }
        cJSON *o = cJSON_CreateObject();
        last = sqlite3_column_int64(st, 0);
        char t[TIMEFMT_BUF];
        timefmt_iso8601(sqlite3_column_int64(st, 1), t);
        cJSON_AddNumberToObject(o, "id", (double)last);
        cJSON_AddStringToObject(o, "time", t);
        cJSON_AddStringToObject(o, "kind", (const char *)sqlite3_column_text(st, 2));
        cJSON_AddStringToObject(o, "subject", (const char *)sqlite3_column_text(st, 3));
        cJSON_AddStringToObject(o, "detail", (const char *)sqlite3_column_text(st, 4));
        cJSON_AddItemToArray(arr, o);
        n++;
    }
    sqlite3_reset(st);
    db_release(d);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "value", arr);
    if (more) {
        char tok[24];
        snprintf(tok, sizeof tok, "%" PRId64, last);
        cJSON_AddStringToObject(out, "nextSkipToken", tok);
    } else {
        cJSON_AddNullToObject(out, "nextSkipToken");
    }
    return out;
}
