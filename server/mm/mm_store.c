/*
 * mm_store.c: the SQL behind mm_store.h. Each function is one read snapshot or one write
 * (db_write_begin/end), so a task's state never shows half changed. Lists are paged by seq
 * through the indexes of schema 009; nothing is cached in memory. It does not decide which
 * agent is live or which share holds a source (mm_dispatch) and shapes no JSON (mm_json).
 */
#include "mm_store.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "spmig_limits.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNNING_SQL "('Scanning','InProgress','Paused')"

void mm_agent_finish(struct mm_agent *a)
{
    if (!a)
        return;
    free(a->name);
    free(a->friendly_name);
    free(a->group);
    free(a->version);
    free(a->host);
    free(a->shares);
    memset(a, 0, sizeof *a);
}

void mm_task_finish(struct mm_task *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->source);
    free(t->site);
    free(t->library);
    free(t->folder);
    free(t->group);
    free(t->settings);
    free(t->failure_reason);
    free(t->ran_by);
    memset(t, 0, sizeof *t);
}

static char *col_str(sqlite3_stmt *st, int c)
{
    char *s = db_col_str(st, c);
    return s ? s : xstrdup("");
}

/* Ends the write begun on d, keeping it when rc is MM_OK, and gives d back. Returns rc, or
 * MM_ERROR when the commit failed. */
static int write_done(struct db *d, int rc)
{
    if (db_write_end(d, rc == MM_OK) < 0)
        rc = MM_ERROR;
    db_release(d);
    return rc;
}

/* Runs a write statement: MM_OK when it changed a row, none when it changed nothing. */
static int exec_changed(struct db *d, sqlite3_stmt *st, int none)
{
    if (db_exec_stmt(d, st) < 0)
        return MM_ERROR;
    return sqlite3_changes(db_handle(d)) ? MM_OK : none;
}

/* ---- settings and groups ---- */

cJSON *mm_store_settings_get(void)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT json FROM mm_settings WHERE id = 1");
    cJSON *o = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        o = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    db_release(d);
    return o && cJSON_IsObject(o) ? o : (cJSON_Delete(o), cJSON_CreateObject());
}

int mm_store_settings_put(const cJSON *settings)
{
    char *text = cJSON_PrintUnformatted(settings);
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(d, "UPDATE mm_settings SET json = ?1 WHERE id = 1");
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    int rc = write_done(d, db_exec_stmt(d, st) < 0 ? MM_ERROR : MM_OK);
    free(text);
    return rc;
}

bool mm_store_group_exists(const char *name)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT 1 FROM mm_groups WHERE name = ?1");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    db_release(d);
    return yes;
}

int mm_store_group_each(void (*fn)(void *ctx, const char *name, int agents), void *ctx)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st =
        db_stmt(d, "SELECT g.name, (SELECT count(*) FROM mm_agents a WHERE a.grp = g.name "
                   "AND a.deleted = 0) FROM mm_groups g ORDER BY g.name");
    while (sqlite3_step(st) == SQLITE_ROW)
        fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1));
    sqlite3_reset(st);
    db_release(d);
    return MM_OK;
}

int mm_store_group_add(const char *name)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st =
        db_stmt(d, "INSERT OR IGNORE INTO mm_groups (name, created_ms) VALUES (?1, ?2)");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, clock_now_ms());
    return write_done(d, exec_changed(d, st, MM_CONFLICT));
}

int mm_store_group_delete(const char *name)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    int rc = MM_OK;
    sqlite3_stmt *st = db_stmt(d, "SELECT 1 FROM mm_agents WHERE grp = ?1 AND deleted = 0");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        rc = MM_CONFLICT;
    sqlite3_reset(st);
    if (rc == MM_OK) {
        st = db_stmt(d, "DELETE FROM mm_groups WHERE name = ?1");
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = exec_changed(d, st, MM_NOT_FOUND);
    }
    return write_done(d, rc);
}

/* ---- agents ---- */

#define AGENT_COLS                                                                                 \
    "seq, id, name, friendly_name, grp, enabled, deleted, secret_hash, used_ms, seen_ms, "         \
    "activity_ms, version, host, shares, max_tasks, free, created_ms, trustee"

static void agent_row(sqlite3_stmt *st, struct mm_agent *a)
{
    memset(a, 0, sizeof *a);
    a->seq = sqlite3_column_int64(st, 0);
    db_col_copy(st, 1, a->id, sizeof a->id);
    a->name = col_str(st, 2);
    a->friendly_name = col_str(st, 3);
    a->group = col_str(st, 4);
    a->enabled = sqlite3_column_int(st, 5) != 0;
    a->deleted = sqlite3_column_int(st, 6) != 0;
    if (sqlite3_column_bytes(st, 7) == CRYPTO_SHA256_LEN) {
        memcpy(a->hash, sqlite3_column_blob(st, 7), CRYPTO_SHA256_LEN);
        a->has_hash = true;
    }
    a->used_ms = sqlite3_column_int64(st, 8);
    a->seen_ms = sqlite3_column_int64(st, 9);
    a->activity_ms = sqlite3_column_int64(st, 10);
    a->version = col_str(st, 11);
    a->host = col_str(st, 12);
    a->shares = col_str(st, 13);
    a->max_tasks = sqlite3_column_int(st, 14);
    a->free = sqlite3_column_int(st, 15);
    a->created_ms = sqlite3_column_int64(st, 16);
    a->trustee = sqlite3_column_int64(st, 17);
}

static int agent_one(const char *sql, const char *key, struct mm_agent *out)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, sql);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = MM_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        agent_row(st, out);
        rc = MM_OK;
    }
    sqlite3_reset(st);
    db_release(d);
    return rc;
}

int mm_store_agent_get(const char *id, struct mm_agent *out)
{
    return agent_one("SELECT " AGENT_COLS " FROM mm_agents WHERE id = ?1", id, out);
}

int mm_store_agent_by_name(const char *name, struct mm_agent *out)
{
    return agent_one("SELECT " AGENT_COLS " FROM mm_agents WHERE name = ?1", name, out);
}

/* Hands every row of st to fn, then gives d back; returns how many. */
static int agent_rows(struct db *d, sqlite3_stmt *st,
                      void (*fn)(void *ctx, const struct mm_agent *a), void *ctx)
{
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct mm_agent a;
        agent_row(st, &a);
        fn(ctx, &a);
        mm_agent_finish(&a);
        n++;
    }
    sqlite3_reset(st);
    db_release(d);
    return n;
}

int mm_store_agent_list(int64_t after, int max, void (*fn)(void *ctx, const struct mm_agent *a),
                        void *ctx)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " AGENT_COLS " FROM mm_agents WHERE seq > ?1 AND "
                                  "deleted = 0 ORDER BY seq LIMIT ?2");
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int(st, 2, max);
    return agent_rows(d, st, fn, ctx);
}

int mm_store_agent_each(const char *group, void (*fn)(void *ctx, const struct mm_agent *a),
                        void *ctx)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " AGENT_COLS " FROM mm_agents WHERE deleted = 0 AND "
                                  "(?1 IS NULL OR grp = ?1) ORDER BY seq");
    sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
    return agent_rows(d, st, fn, ctx);
}

int mm_store_agent_register(struct mm_agent *a, const unsigned char hash[CRYPTO_SHA256_LEN])
{
    int64_t now = clock_now_ms();
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(d, "SELECT id FROM mm_agents WHERE name = ?1");
    sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
    bool old = sqlite3_step(st) == SQLITE_ROW;
    if (old)
        db_col_copy(st, 0, a->id, sizeof a->id);
    sqlite3_reset(st);
    if (!old) {
        unsigned char u[UUID_LEN];
        uuid_v4(u);
        uuid_format(u, a->id);
        st = db_stmt(d, "INSERT INTO mm_agents (id, name, used_ms, seen_ms, activity_ms, "
                        "created_ms, grp) VALUES (?1, ?2, ?3, ?3, ?3, ?3, ?4)");
        sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, a->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_text(st, 4, a->group ? a->group : "Default", -1, SQLITE_STATIC);
        if (db_exec_stmt(d, st) < 0) {
            db_write_end(d, false);
            db_release(d);
            return MM_ERROR;
        }
    }
    st =
        db_stmt(d, "UPDATE mm_agents SET friendly_name = ?2, grp = coalesce(?3, (SELECT name FROM "
                   "mm_groups WHERE name = grp), 'Default'), "
                   "enabled = CASE WHEN deleted THEN 1 ELSE enabled END, deleted = 0, "
                   "secret_hash = ?4, used_ms = ?5, seen_ms = ?5, activity_ms = ?5, "
                   "version = ?6, host = ?7, shares = ?8, max_tasks = ?9, free = -1, trustee = ?10 "
                   "WHERE id = ?1");
    sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->friendly_name ? a->friendly_name : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->group, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, hash, CRYPTO_SHA256_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_text(st, 6, a->version ? a->version : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, a->host ? a->host : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, a->shares ? a->shares : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, a->max_tasks);
    sqlite3_bind_int64(st, 10, a->trustee);
    int rc = write_done(d, db_exec_stmt(d, st) < 0 ? MM_ERROR : MM_OK);
    return rc;
}

int mm_store_agent_update(const char *id, int enabled, const char *group, const char *friendly_name)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st =
        db_stmt(d, "UPDATE mm_agents SET enabled = CASE WHEN ?2 < 0 THEN enabled ELSE ?2 END, "
                   "grp = coalesce(?3, grp), friendly_name = coalesce(?4, friendly_name) "
                   "WHERE id = ?1 AND deleted = 0");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, enabled);
    sqlite3_bind_text(st, 3, group, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, friendly_name, -1, SQLITE_STATIC);
    int rc = exec_changed(d, st, MM_NOT_FOUND);
    return write_done(d, rc);
}

/* Runs sqls[0..n) in d's write, each with ?1 bound to text (if not NULL) or key. Returns the
 * rows changed by sqls[counted], or -1. */
static int run_bound(struct db *d, const char *const *sqls, size_t n, const char *text, int64_t key,
                     size_t counted)
{
    int changed = 0;
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = db_stmt(d, sqls[i]);
        if (text)
            sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, 1, key);
        if (db_exec_stmt(d, st) < 0)
            return -1;
        if (i == counted)
            changed = sqlite3_changes(db_handle(d));
    }
    return changed;
}

/* The tasks of a gone agent (or agents): ones an admin asked to pause are paused, the others
 * running go back to the queue, to resume; AGENTS is an SQL set bound through ?1. */
#define PAUSE_IF_ASKED(AGENTS)                                                                     \
    "UPDATE mm_tasks SET status = 'Paused', agent = NULL, resume = 1 WHERE status IN "             \
    "('Scanning','InProgress') AND agent IN " AGENTS " AND EXISTS (SELECT 1 FROM mm_orders o "     \
    "WHERE o.agent = mm_tasks.agent AND o.task = mm_tasks.id AND o.kind = 'pause')"
#define REQUEUE(AGENTS)                                                                            \
    "UPDATE mm_tasks SET status = 'Queued', agent = NULL, resume = 1 WHERE status IN "             \
    "('Scanning','InProgress') AND agent IN " AGENTS
#define LOST_AGENTS "(SELECT id FROM mm_agents WHERE deleted = 1 OR seen_ms < ?1)"

int mm_store_agent_delete(const char *id)
{
    /* Its paused tasks forget it; its orders go with its trust. */
    static const char *const sqls[] = {
        PAUSE_IF_ASKED("(?1)"),
        REQUEUE("(?1)"),
        "UPDATE mm_tasks SET agent = NULL WHERE agent = ?1",
        "DELETE FROM mm_orders WHERE agent = ?1",
    };
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(d, "UPDATE mm_agents SET deleted = 1, secret_hash = NULL "
                                  "WHERE id = ?1 AND deleted = 0");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = exec_changed(d, st, MM_NOT_FOUND);
    if (rc == MM_OK && run_bound(d, sqls, sizeof sqls / sizeof sqls[0], id, 0, 1) < 0)
        rc = MM_ERROR;
    return write_done(d, rc);
}

int mm_store_agent_touch(const char *id, const char *version, int free)
{
    int64_t now = clock_now_ms();
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(d, "UPDATE mm_agents SET used_ms = ?2, seen_ms = ?2, "
                                  "activity_ms = ?2, version = coalesce(?3, version), "
                                  "free = CASE WHEN ?4 < 0 THEN free ELSE ?4 END WHERE id = ?1");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, version, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, free);
    int rc = write_done(d, db_exec_stmt(d, st) < 0 ? MM_ERROR : MM_OK);
    return rc;
}

int mm_store_agent_seen(const char *id)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st =
        db_stmt(d, "UPDATE mm_agents SET seen_ms = ?2, activity_ms = ?2 WHERE id = ?1");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, clock_now_ms());
    return write_done(d, db_exec_stmt(d, st) < 0 ? MM_ERROR : MM_OK);
}

int mm_store_agent_tasks(const char *id,
                         void (*fn)(void *ctx, const char *task, const char *status), void *ctx)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT id, status FROM mm_tasks WHERE agent = ?1 AND "
                                  "status IN " RUNNING_SQL " ORDER BY seq");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (fn)
            fn(ctx, (const char *)sqlite3_column_text(st, 0),
               (const char *)sqlite3_column_text(st, 1));
        n++;
    }
    sqlite3_reset(st);
    db_release(d);
    return n;
}

int mm_store_agents_revive(void)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(d, "UPDATE mm_agents SET seen_ms = max(seen_ms, ?1)");
    sqlite3_bind_int64(st, 1, clock_now_ms());
    int rc = write_done(d, db_exec_stmt(d, st) < 0 ? MM_ERROR : MM_OK);
    return rc;
}

/* ---- tasks ---- */

#define TASK_COLS                                                                                  \
    "seq, id, name, source, site, library, folder, grp, settings, scan, resume, schedule_ms, "     \
    "status, queued_ms, agent, round, reruns, files_scanned, bytes_scanned, files_total, "         \
    "bytes_total, files_migrated, bytes_migrated, files_failed, created_ms, started_ms, "          \
    "completed_ms, failure_reason, ran_by"

static void task_row(sqlite3_stmt *st, struct mm_task *t)
{
    memset(t, 0, sizeof *t);
    t->seq = sqlite3_column_int64(st, 0);
    db_col_copy(st, 1, t->id, sizeof t->id);
    t->name = col_str(st, 2);
    t->source = col_str(st, 3);
    t->site = col_str(st, 4);
    t->library = col_str(st, 5);
    t->folder = col_str(st, 6);
    t->group = col_str(st, 7);
    t->settings = col_str(st, 8);
    t->scan = sqlite3_column_int(st, 9) != 0;
    t->resume = sqlite3_column_int(st, 10) != 0;
    t->schedule_ms = sqlite3_column_int64(st, 11);
    db_col_copy(st, 12, t->status, sizeof t->status);
    t->queued_ms = sqlite3_column_int64(st, 13);
    db_col_copy(st, 14, t->agent, sizeof t->agent);
    t->round = sqlite3_column_int(st, 15);
    t->reruns = sqlite3_column_int(st, 16);
    int64_t *counts[] = {&t->files_scanned,  &t->bytes_scanned,  &t->files_total,  &t->bytes_total,
                         &t->files_migrated, &t->bytes_migrated, &t->files_failed, &t->created_ms,
                         &t->started_ms,     &t->completed_ms};
    for (int i = 0; i < 10; i++)
        *counts[i] = sqlite3_column_int64(st, 17 + i);
    t->failure_reason = db_col_str(st, 27);
    t->ran_by = db_col_str(st, 28);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

bool mm_store_task_duplicate(const struct mm_task *t)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT 1 FROM mm_tasks WHERE source = ?1 AND site = ?2 AND "
                                  "library = ?3 AND folder = ?4 AND scan = ?5");
    bind_text_or_null(st, 1, t->source);
    bind_text_or_null(st, 2, t->site ? t->site : "");
    bind_text_or_null(st, 3, t->library ? t->library : "");
    bind_text_or_null(st, 4, t->folder ? t->folder : "");
    sqlite3_bind_int(st, 5, t->scan);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    db_release(d);
    return yes;
}

int64_t mm_store_task_count(void)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT count(*) FROM mm_tasks");
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    db_release(d);
    return n;
}

int mm_store_task_insert(struct mm_task *tasks, size_t n, size_t *bad)
{
    int64_t now = clock_now_ms();
    struct db *d = db_acquire();
    db_write_begin(d);
    int rc = MM_OK;
    sqlite3_stmt *st = db_stmt(d, "SELECT count(*) FROM mm_tasks");
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) + (int64_t)n > LIMIT_MM_TASKS)
        rc = MM_FULL;
    sqlite3_reset(st);
    for (size_t i = 0; rc == MM_OK && i < n; i++) {
        struct mm_task *t = &tasks[i];
        unsigned char u[UUID_LEN];
        uuid_v4(u);
        uuid_format(u, t->id);
        t->created_ms = now;
        t->queued_ms = t->schedule_ms ? t->schedule_ms : now;
        snprintf(t->status, sizeof t->status, "%s", t->schedule_ms > now ? "Scheduled" : "Queued");
        st = db_stmt(d, "INSERT OR IGNORE INTO mm_tasks (id, name, source, site, library, "
                        "folder, grp, settings, scan, schedule_ms, status, queued_ms, "
                        "created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                        "?12, ?13)");
        sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
        bind_text_or_null(st, 2, t->name);
        bind_text_or_null(st, 3, t->source);
        bind_text_or_null(st, 4, t->site ? t->site : "");
        bind_text_or_null(st, 5, t->library ? t->library : "");
        bind_text_or_null(st, 6, t->folder ? t->folder : "");
        bind_text_or_null(st, 7, t->group ? t->group : "Default");
        bind_text_or_null(st, 8, t->settings ? t->settings : "{}");
        sqlite3_bind_int(st, 9, t->scan);
        if (t->schedule_ms)
            sqlite3_bind_int64(st, 10, t->schedule_ms);
        else
            sqlite3_bind_null(st, 10);
        sqlite3_bind_text(st, 11, t->status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 12, t->queued_ms);
        sqlite3_bind_int64(st, 13, now);
        if (db_exec_stmt(d, st) < 0)
            rc = MM_ERROR;
        else if (sqlite3_changes(db_handle(d)) == 0) {
            rc = MM_CONFLICT;
            if (bad)
                *bad = i;
        }
    }
    return write_done(d, rc);
}

int mm_store_task_get(const char *id, struct mm_task *out)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " TASK_COLS " FROM mm_tasks WHERE id = ?1");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = MM_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        task_row(st, out);
        rc = MM_OK;
    }
    sqlite3_reset(st);
    db_release(d);
    return rc;
}

int mm_store_task_list(const struct mm_task_filter *f, int64_t after, int max,
                       void (*fn)(void *ctx, const struct mm_task *t), void *ctx)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st;
    if (f->status && !f->search)
        st = db_stmt(d, "SELECT " TASK_COLS " FROM mm_tasks WHERE status = ?1 AND seq > ?2 "
                        "AND (?3 < 0 OR scan = ?3) ORDER BY status, seq LIMIT ?4");
    else
        st = db_stmt(d, "SELECT " TASK_COLS " FROM mm_tasks WHERE seq > ?2 AND (?3 < 0 OR "
                        "scan = ?3) AND (?1 IS NULL OR status = ?1) AND (?5 IS NULL OR "
                        "instr(lower(name), lower(?5)) OR instr(lower(source), lower(?5)) OR "
                        "instr(lower(site || '/' || library || '/' || folder), lower(?5))) "
                        "ORDER BY seq LIMIT ?4");
    bind_text_or_null(st, 1, f->status);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int(st, 3, f->scan);
    sqlite3_bind_int(st, 4, max);
    if (!(f->status && !f->search))
        bind_text_or_null(st, 5, f->search);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct mm_task t;
        task_row(st, &t);
        fn(ctx, &t);
        mm_task_finish(&t);
        n++;
    }
    sqlite3_reset(st);
    db_release(d);
    return n;
}

/* Reads a task's status and agent inside a write. */
static int task_state(struct db *d, const char *id, char status[24], char agent[UUID_BUF])
{
    sqlite3_stmt *st = db_stmt(d, "SELECT status, coalesce(agent, '') FROM mm_tasks WHERE id = ?1");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = MM_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        db_col_copy(st, 0, status, 24);
        db_col_copy(st, 1, agent, UUID_BUF);
        rc = MM_OK;
    }
    sqlite3_reset(st);
    return rc;
}

static int add_order(struct db *d, const char *agent, const char *task, const char *kind)
{
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO mm_orders (agent, task, kind) VALUES (?1,?2,?3)");
    sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, task, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    return db_exec_stmt(d, st);
}

static int set_status(struct db *d, const char *id, const char *sql, int64_t now)
{
    sqlite3_stmt *st = db_stmt(d, sql);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    return db_exec_stmt(d, st) < 0 ? MM_ERROR : MM_OK;
}

static bool is_running(const char *status)
{
    return !strcmp(status, "Scanning") || !strcmp(status, "InProgress");
}

static bool is_final(const char *status)
{
    return !strcmp(status, "Completed") || !strcmp(status, "CompletedWithIssues") ||
           !strcmp(status, "Failed") || !strcmp(status, "Cancelled");
}

/* What a task action sees inside its write: the task's status and agent ("" when none). */
struct task_view {
    const char *id, *status, *agent;
    const char *caller; /* the agent calling, or NULL for an admin */
    int64_t now;
};

typedef int task_step(struct db *d, const struct task_view *v, void *ctx);

/* Runs step in one write on the task id: MM_NOT_FOUND when it does not exist, MM_FORBIDDEN
 * when caller is set and the task is not its own; otherwise step's result (kept when MM_OK,
 * rolled back otherwise). */
static int with_task(const char *id, const char *caller, task_step *step, void *ctx)
{
    char status[24], agent[UUID_BUF];
    struct task_view v = {
        .id = id, .status = status, .agent = agent, .caller = caller, .now = clock_now_ms()};
    struct db *d = db_acquire();
    db_write_begin(d);
    int rc = task_state(d, id, status, agent);
    if (rc == MM_OK && caller && strcmp(agent, caller) != 0)
        rc = MM_FORBIDDEN;
    if (rc == MM_OK)
        rc = step(d, &v, ctx);
    return write_done(d, rc);
}

static bool agent_is_live(struct db *d, const char *id, bool (*live)(const struct mm_agent *a))
{
    if (!id[0])
        return false;
    sqlite3_stmt *st = db_stmt(d, "SELECT " AGENT_COLS " FROM mm_agents WHERE id = ?1");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    bool yes = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        struct mm_agent a;
        agent_row(st, &a);
        yes = !a.deleted && live(&a);
        mm_agent_finish(&a);
    }
    sqlite3_reset(st);
    return yes;
}

static int run_step(struct db *d, const struct task_view *v, void *ctx)
{
    bool (*live)(const struct mm_agent *a) = *(bool (**)(const struct mm_agent *))ctx;
    if (!strcmp(v->status, "Paused")) {
        if (agent_is_live(d, v->agent, live))
            return add_order(d, v->agent, v->id, "resume") < 0
                       ? MM_ERROR
                       : set_status(d, v->id,
                                    "UPDATE mm_tasks SET status = 'InProgress' WHERE id = ?1", 0);
        return set_status(d, v->id,
                          "UPDATE mm_tasks SET status = 'Queued', agent = NULL, resume = "
                          "(started_ms IS NOT NULL) WHERE id = ?1",
                          0);
    }
    if (!strcmp(v->status, "Scheduled"))
        return set_status(d, v->id,
                          "UPDATE mm_tasks SET status = 'Queued', queued_ms = ?2 WHERE id = ?1",
                          v->now);
    if (is_final(v->status))
        return set_status(d, v->id,
                          "UPDATE mm_tasks SET status = 'Queued', queued_ms = ?2, agent = NULL, "
                          "resume = 0, reruns = 0, round = round + (started_ms IS NOT NULL), "
                          "files_scanned = 0, bytes_scanned = 0, files_total = 0, "
                          "bytes_total = 0, files_migrated = 0, bytes_migrated = 0, "
                          "files_failed = 0, started_ms = NULL, completed_ms = NULL, "
                          "failure_reason = NULL WHERE id = ?1",
                          v->now);
    return is_running(v->status) ? MM_CONFLICT : MM_OK; /* Queued: nothing to do */
}

int mm_store_task_run(const char *id, bool (*live_agent)(const struct mm_agent *a))
{
    return with_task(id, NULL, run_step, &live_agent);
}

static int pause_step(struct db *d, const struct task_view *v, void *ctx)
{
    bool (*live)(const struct mm_agent *a) = *(bool (**)(const struct mm_agent *))ctx;
    if (!strcmp(v->status, "Paused"))
        return MM_OK;
    /* Waiting, or running on an agent that is gone: paused at once (a lost agent's task
     * would otherwise go back to the queue and run). */
    if (!strcmp(v->status, "Queued") || !strcmp(v->status, "Scheduled") ||
        (is_running(v->status) && !agent_is_live(d, v->agent, live)))
        return set_status(d, v->id,
                          "UPDATE mm_tasks SET status = 'Paused', agent = NULL, resume = "
                          "(started_ms IS NOT NULL) WHERE id = ?1",
                          0);
    if (is_running(v->status))
        return add_order(d, v->agent, v->id, "pause") < 0 ? MM_ERROR : MM_OK;
    return MM_CONFLICT;
}

int mm_store_task_pause(const char *id, bool (*live_agent)(const struct mm_agent *a))
{
    return with_task(id, NULL, pause_step, &live_agent);
}

/* A task its agent still works on gets a cancel order. */
static int order_cancel(struct db *d, const struct task_view *v)
{
    if (v->agent[0] && (is_running(v->status) || !strcmp(v->status, "Paused")))
        return add_order(d, v->agent, v->id, "cancel") < 0 ? MM_ERROR : MM_OK;
    return MM_OK;
}

static int cancel_step(struct db *d, const struct task_view *v, void *ctx)
{
    (void)ctx;
    if (is_final(v->status))
        return MM_CONFLICT;
    int rc = order_cancel(d, v);
    return rc != MM_OK ? rc
                       : set_status(d, v->id,
                                    "UPDATE mm_tasks SET status = 'Cancelled', completed_ms = ?2 "
                                    "WHERE id = ?1",
                                    v->now);
}

int mm_store_task_cancel(const char *id)
{
    return with_task(id, NULL, cancel_step, NULL);
}

static int delete_step(struct db *d, const struct task_view *v, void *ctx)
{
    (void)ctx;
    int rc = order_cancel(d, v);
    if (rc == MM_OK)
        rc = set_status(d, v->id, "DELETE FROM mm_reports WHERE task = ?1", 0);
    if (rc == MM_OK)
        rc = set_status(d, v->id, "DELETE FROM mm_tasks WHERE id = ?1", 0);
    return rc;
}

int mm_store_task_delete(const char *id)
{
    return with_task(id, NULL, delete_step, NULL);
}

static void bind_progress(sqlite3_stmt *st, int from, const struct mm_progress *p)
{
    const int64_t v[] = {p->files_scanned,  p->bytes_scanned,  p->files_total, p->bytes_total,
                         p->files_migrated, p->bytes_migrated, p->files_failed};
    for (int i = 0; i < 7; i++)
        sqlite3_bind_int64(st, from + i, v[i]);
}

/* Pops the first pause or cancel order of (agent, task); "" when none. */
static void pop_task_order(struct db *d, const char *agent, const char *task, char kind[16])
{
    kind[0] = '\0';
    sqlite3_stmt *st = db_stmt(d, "SELECT seq, kind FROM mm_orders WHERE agent = ?1 AND "
                                  "task = ?2 AND kind IN ('pause','cancel') ORDER BY seq LIMIT 1");
    sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, task, -1, SQLITE_STATIC);
    int64_t seq = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        seq = sqlite3_column_int64(st, 0);
        db_col_copy(st, 1, kind, 16);
    }
    sqlite3_reset(st);
    if (seq) {
        st = db_stmt(d, "DELETE FROM mm_orders WHERE seq = ?1");
        sqlite3_bind_int64(st, 1, seq);
        db_exec_stmt(d, st);
    }
}

struct progress_ctx {
    const struct mm_progress *p;
    const char **order;
};

static int progress_step(struct db *d, const struct task_view *v, void *ctx)
{
    struct progress_ctx *c = ctx;
    char kind[16];
    pop_task_order(d, v->caller, v->id, kind);
    if (!strcmp(v->status, "Cancelled") || !strcmp(kind, "cancel"))
        *c->order = "cancel";
    else if (!strcmp(kind, "pause"))
        *c->order = "pause";
    sqlite3_stmt *st =
        db_stmt(d, "UPDATE mm_tasks SET status = CASE WHEN status IN ('Scanning','InProgress') "
                   "THEN ?2 ELSE status END, files_scanned = ?3, bytes_scanned = ?4, "
                   "files_total = ?5, bytes_total = ?6, files_migrated = ?7, bytes_migrated = ?8, "
                   "files_failed = ?9 WHERE id = ?1");
    sqlite3_bind_text(st, 1, v->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->p->status, -1, SQLITE_STATIC);
    bind_progress(st, 3, c->p);
    return db_exec_stmt(d, st) < 0 ? MM_ERROR : MM_OK;
}

int mm_store_task_progress(const char *id, const char *caller, const struct mm_progress *p,
                           const char **order)
{
    *order = NULL;
    struct progress_ctx c = {p, order};
    return with_task(id, caller, progress_step, &c);
}

struct end_ctx {
    const struct mm_progress *p;
    const char *status, *reason;
    bool auto_rerun;
};

static int end_step(struct db *d, const struct task_view *v, void *ctx)
{
    const struct end_ctx *c = ctx;
    /* A task cancelled by an admin stays Cancelled whatever the agent says. */
    const char *to = !strcmp(v->status, "Cancelled") ? "Cancelled" : c->status;
    bool paused = !strcmp(to, "Paused");
    sqlite3_stmt *st = db_stmt(
        d, "UPDATE mm_tasks SET status = ?2, agent = CASE WHEN ?10 THEN agent END, "
           "completed_ms = CASE WHEN ?10 THEN completed_ms ELSE coalesce(completed_ms, ?11) "
           "END, failure_reason = ?12, files_scanned = ?3, bytes_scanned = ?4, "
           "files_total = ?5, bytes_total = ?6, files_migrated = ?7, bytes_migrated = ?8, "
           "files_failed = ?9 WHERE id = ?1");
    sqlite3_bind_text(st, 1, v->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    bind_progress(st, 3, c->p);
    sqlite3_bind_int(st, 10, paused);
    sqlite3_bind_int64(st, 11, v->now);
    bind_text_or_null(st, 12, c->reason);
    if (db_exec_stmt(d, st) < 0)
        return MM_ERROR;
    if (!strcmp(to, "Failed") && c->auto_rerun) {
        st = db_stmt(d, "UPDATE mm_tasks SET status = 'Queued', queued_ms = ?2, resume = 0, "
                        "round = round + 1, reruns = reruns + 1, started_ms = NULL, "
                        "completed_ms = NULL WHERE id = ?1 AND reruns < ?3");
        sqlite3_bind_text(st, 1, v->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, v->now);
        sqlite3_bind_int(st, 3, LIMIT_MM_AUTO_RERUNS);
        if (db_exec_stmt(d, st) < 0)
            return MM_ERROR;
    }
    if (paused)
        return MM_OK;
    /* The agent's slot is free again: the free count its heartbeat told when its long poll
     * began goes up by one, so that poll can hand the agent its next task now. */
    st = db_stmt(d, "UPDATE mm_agents SET free = min(free + 1, max_tasks) WHERE id = ?1 AND "
                    "free >= 0");
    sqlite3_bind_text(st, 1, v->caller, -1, SQLITE_STATIC);
    if (db_exec_stmt(d, st) < 0)
        return MM_ERROR;
    st = db_stmt(d, "DELETE FROM mm_orders WHERE agent = ?1 AND task = ?2");
    sqlite3_bind_text(st, 1, v->caller, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, v->id, -1, SQLITE_STATIC);
    return db_exec_stmt(d, st) < 0 ? MM_ERROR : MM_OK;
}

int mm_store_task_end(const char *id, const char *caller, const struct mm_progress *p,
                      const char *status, const char *reason, bool auto_rerun)
{
    struct end_ctx c = {p, status, reason, auto_rerun};
    return with_task(id, caller, end_step, &c);
}

/* ---- dispatch ---- */

int mm_store_dispatch(const char *agent, const char *group, int slots,
                      bool (*holds)(void *ctx, const char *source), void *hctx,
                      void (*fn)(void *ctx, const struct mm_task *t), void *ctx)
{
    if (slots <= 0)
        return 0;
    int64_t now = clock_now_ms();
    char(*ids)[UUID_BUF] = xcalloc((size_t)slots, UUID_BUF);
    int n = 0, taken = 0;
    struct db *d = db_acquire();
    /* The walk is a read, outside the write lock: an agent whose shares hold none of the
     * tasks at the head of a long queue reads far without holding up any writer. */
    sqlite3_stmt *st = db_stmt(d, "SELECT id, source FROM mm_tasks WHERE status = 'Queued' AND "
                                  "grp = ?1 ORDER BY queued_ms, seq");
    sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
    while (n < slots && sqlite3_step(st) == SQLITE_ROW)
        if (holds(hctx, (const char *)sqlite3_column_text(st, 1)))
            db_col_copy(st, 0, ids[n++], UUID_BUF);
    sqlite3_reset(st);
    int rc = 0;
    if (n > 0) {
        db_write_begin(d);
        /* Another agent may have taken one meanwhile: only what is still queued is taken. */
        for (int i = 0; i < n && rc == 0; i++) {
            st = db_stmt(d, "UPDATE mm_tasks SET status = 'Scanning', agent = ?2, "
                            "started_ms = coalesce(started_ms, ?3), ran_by = (SELECT name FROM "
                            "mm_agents WHERE id = ?2) WHERE id = ?1 AND status = 'Queued'");
            sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, agent, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, now);
            rc = db_exec_stmt(d, st);
            if (rc == 0 && sqlite3_changes(db_handle(d)) == 1)
                memmove(ids[taken++], ids[i], UUID_BUF);
        }
        if (db_write_end(d, rc == 0) < 0 || rc < 0)
            taken = 0;
    }
    db_release(d);
    n = taken;
    for (int i = 0; i < n; i++) {
        struct mm_task t;
        if (mm_store_task_get(ids[i], &t) == MM_OK) {
            fn(ctx, &t);
            mm_task_finish(&t);
        }
    }
    free(ids);
    return n;
}

int mm_store_orders_pop(const char *agent,
                        void (*fn)(void *ctx, const char *kind, const char *task), void *ctx)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(d, "SELECT kind, task FROM mm_orders WHERE agent = ?1 ORDER BY seq");
    sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        fn(ctx, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
        n++;
    }
    sqlite3_reset(st);
    st = db_stmt(d, "DELETE FROM mm_orders WHERE agent = ?1");
    sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
    int rc = db_exec_stmt(d, st);
    db_write_end(d, rc == 0);
    db_release(d);
    return n;
}

int mm_store_schedules_due(int64_t now)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(d, "UPDATE mm_tasks SET status = 'Queued' WHERE status = "
                                  "'Scheduled' AND schedule_ms <= ?1");
    sqlite3_bind_int64(st, 1, now);
    int rc = db_exec_stmt(d, st);
    int n = rc == 0 ? sqlite3_changes(db_handle(d)) : -1;
    if (db_write_end(d, rc == 0) < 0)
        n = -1;
    db_release(d);
    return n;
}

int mm_store_requeue_lost(int64_t lost_before)
{
    /* The lost agents' pause and resume orders for tasks no longer theirs go; a cancel stays,
     * for an agent that comes back still running one. */
    static const char *const sqls[] = {
        PAUSE_IF_ASKED(LOST_AGENTS),
        REQUEUE(LOST_AGENTS),
        "DELETE FROM mm_orders WHERE kind != 'cancel' AND agent IN " LOST_AGENTS
        " AND task NOT IN (SELECT id FROM mm_tasks WHERE agent = mm_orders.agent)",
    };
    struct db *d = db_acquire();
    db_write_begin(d);
    int n = run_bound(d, sqls, sizeof sqls / sizeof sqls[0], NULL, lost_before, 1);
    if (db_write_end(d, n >= 0) < 0)
        n = -1;
    db_release(d);
    return n;
}

/* ---- reports ---- */

#define REPORT_COLS  "name, round, size, length(data), crc32, created_ms"
#define REPORT_NCOLS 6

static void report_row(sqlite3_stmt *st, struct mm_report *r)
{
    db_col_copy(st, 0, r->name, sizeof r->name);
    r->round = sqlite3_column_int(st, 1);
    r->size = sqlite3_column_int64(st, 2);
    r->stored = sqlite3_column_int64(st, 3);
    r->crc32 = (uint32_t)sqlite3_column_int64(st, 4);
    r->created_ms = sqlite3_column_int64(st, 5);
}

struct report_ctx {
    const char *name;
    int round;
    const struct mm_report_body *b;
};

static int report_step(struct db *d, const struct task_view *v, void *ctx)
{
    const struct report_ctx *c = ctx;
    int rc = MM_OK;
    sqlite3_stmt *st = db_stmt(d, "SELECT count(*), sum(name = ?2) FROM mm_reports "
                                  "WHERE task = ?1");
    sqlite3_bind_text(st, 1, v->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) >= LIMIT_MM_REPORTS &&
        sqlite3_column_int(st, 1) == 0)
        rc = MM_FULL;
    sqlite3_reset(st);
    if (rc != MM_OK)
        return rc;
    st = db_stmt(d, "INSERT OR REPLACE INTO mm_reports (task, name, round, crc32, created_ms, "
                    "size, data) VALUES (?1,?2,?3,?4,?5,?6,?7)");
    sqlite3_bind_text(st, 1, v->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, c->round);
    sqlite3_bind_int64(st, 4, c->b->crc32);
    sqlite3_bind_int64(st, 5, v->now);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)c->b->size);
    sqlite3_bind_blob64(st, 7, c->b->stored ? c->b->deflated : "", c->b->stored, SQLITE_STATIC);
    return db_exec_stmt(d, st) < 0 ? MM_ERROR : MM_OK;
}

int mm_store_report_put(const char *task, const char *caller, const char *name, int round,
                        const struct mm_report_body *b)
{
    struct report_ctx c = {name, round, b};
    return with_task(task, caller, report_step, &c);
}

int mm_store_report_list(const char *task, void (*fn)(void *ctx, const struct mm_report *r),
                         void *ctx)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " REPORT_COLS " FROM mm_reports WHERE task = ?1 "
                                  "ORDER BY name");
    sqlite3_bind_text(st, 1, task, -1, SQLITE_STATIC);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct mm_report r;
        report_row(st, &r);
        fn(ctx, &r);
        n++;
    }
    sqlite3_reset(st);
    db_release(d);
    return n;
}

int mm_store_report_get(const char *task, const char *name, void **deflated, struct mm_report *r)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " REPORT_COLS ", data FROM mm_reports WHERE task = ?1 "
                                  "AND name = ?2");
    sqlite3_bind_text(st, 1, task, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int rc = MM_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        report_row(st, r);
        size_t n = (size_t)sqlite3_column_bytes(st, REPORT_NCOLS);
        *deflated = xmalloc(n + 1);
        if (n)
            memcpy(*deflated, sqlite3_column_blob(st, REPORT_NCOLS), n);
        rc = MM_OK;
    }
    sqlite3_reset(st);
    db_release(d);
    return rc;
}
