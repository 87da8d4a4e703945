/*
 * jobs.c: the job table and event logs in SQLite, and the job keys in a
 * mutex-guarded array in memory that is wiped entry by entry when a job ends and as a whole
 * at stop. It starts no threads: import_job takes jobs from here.
 */
#include "jobs.h"
#include "clock.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "xmalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void job_finish(struct job *j)
{
    free(j->source_uri);
    free(j->manifest_uri);
    free(j->queue_uri);
    memset(j, 0, sizeof *j);
}

#define JOB_COLS                                                                                   \
    "uuid, site_id, web_uuid, source_uri, manifest_uri, queue_uri, encrypted, state, attempt, "    \
    "owner_id, created_ms, coalesce(started_ms, 0), coalesce(ended_ms, 0)"

static void job_from_row(sqlite3_stmt *st, struct job *j)
{
    snprintf(j->uuid, sizeof j->uuid, "%s", (const char *)sqlite3_column_text(st, 0));
    j->site_id = sqlite3_column_int64(st, 1);
    snprintf(j->web_uuid, sizeof j->web_uuid, "%s", (const char *)sqlite3_column_text(st, 2));
    j->source_uri = db_col_str(st, 3);
    j->manifest_uri = db_col_str(st, 4);
    j->queue_uri = db_col_str(st, 5);
    j->encrypted = sqlite3_column_int(st, 6) != 0;
    j->state = sqlite3_column_int(st, 7);
    j->attempt = sqlite3_column_int(st, 8);
    j->owner_id = sqlite3_column_int64(st, 9);
    j->created_ms = sqlite3_column_int64(st, 10);
    j->started_ms = sqlite3_column_int64(st, 11);
    j->ended_ms = sqlite3_column_int64(st, 12);
}

int jobs_create(const struct job *j)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(
        d, "INSERT INTO jobs (uuid, site_id, web_uuid, source_uri, manifest_uri, queue_uri, "
           "encrypted, state, attempt, owner_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
           "2, 0, ?8, ?9)");
    sqlite3_bind_text(st, 1, j->uuid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, j->site_id);
    sqlite3_bind_text(st, 3, j->web_uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, j->source_uri, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, j->manifest_uri, -1, SQLITE_STATIC);
    if (j->queue_uri)
        sqlite3_bind_text(st, 6, j->queue_uri, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int(st, 7, j->encrypted);
    sqlite3_bind_int64(st, 8, j->owner_id);
    sqlite3_bind_int64(st, 9, j->created_ms);
    int rc = db_exec_stmt(d, st);
    if (db_write_end(d, rc == 0) < 0)
        rc = -1;
    db_release(d);
    return rc;
}

int jobs_get(const char *uuid, struct job *out)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " JOB_COLS " FROM jobs WHERE uuid = ?1");
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        job_from_row(st, out);
        rc = 0;
    }
    sqlite3_reset(st);
    db_release(d);
    return rc;
}

int jobs_claim(struct job *out)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st =
        db_stmt(d, "UPDATE jobs SET state = 4, attempt = attempt + 1, started_ms = ?1 WHERE uuid = "
                   "(SELECT uuid FROM jobs WHERE state = 2 ORDER BY created_ms, uuid LIMIT 1) "
                   "RETURNING " JOB_COLS);
    sqlite3_bind_int64(st, 1, clock_now_ms());
    int rc = 0;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        job_from_row(st, out);
        rc = 1;
        while (sqlite3_step(st) == SQLITE_ROW)
            ;
    } else if (step != SQLITE_DONE) {
        rc = -1;
    }
    sqlite3_reset(st);
    if (db_write_end(d, rc >= 0) < 0)
        rc = -1;
    db_release(d);
    return rc;
}

static int exec_one(const char *sql, const char *uuid, int64_t v, int *changes)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(d, sql);
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, v);
    int rc = db_exec_stmt(d, st);
    if (changes)
        *changes = sqlite3_changes(db_handle(d));
    if (db_write_end(d, rc == 0) < 0)
        rc = -1;
    db_release(d);
    return rc;
}

int jobs_end(const char *uuid)
{
    return exec_one("UPDATE jobs SET state = 0, ended_ms = ?2 WHERE uuid = ?1", uuid,
                    clock_now_ms(), NULL);
}

int jobs_delete_queued(const char *uuid)
{
    int changes = 0;
    if (exec_one("DELETE FROM jobs WHERE uuid = ?1 AND state = 2 AND ?2 = ?2", uuid, 0, &changes) <
        0)
        return -1;
    return changes > 0;
}

/* Runs st (bound) to its end and hands each job to fn after the database is released, so
 * fn may call back into this module. */
static int each_row(struct db *d, sqlite3_stmt *st, void (*fn)(void *ctx, const struct job *j),
                    void *ctx)
{
    struct job *list = NULL;
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        list = xrealloc(list, (n + 1) * sizeof *list);
        memset(&list[n], 0, sizeof list[n]);
        job_from_row(st, &list[n++]);
    }
    sqlite3_reset(st);
    db_release(d);
    for (size_t i = 0; i < n; i++) {
        fn(ctx, &list[i]);
        job_finish(&list[i]);
    }
    free(list);
    return (int)n;
}

int jobs_each_active(int64_t site_id, void (*fn)(void *ctx, const struct job *j), void *ctx)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " JOB_COLS " FROM jobs WHERE site_id = ?1 AND state "
                                  "<> 0 ORDER BY created_ms, uuid");
    sqlite3_bind_int64(st, 1, site_id);
    each_row(d, st, fn, ctx);
    return 0;
}

int jobs_each_page(int64_t skip, unsigned max, void (*fn)(void *ctx, const struct job *j),
                   void *ctx)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " JOB_COLS " FROM jobs ORDER BY created_ms DESC, "
                                  "uuid DESC LIMIT ?1 OFFSET ?2");
    sqlite3_bind_int64(st, 1, max);
    sqlite3_bind_int64(st, 2, skip);
    return each_row(d, st, fn, ctx);
}

int jobs_requeue_interrupted(void)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(d, "UPDATE jobs SET state = 2 WHERE state = 4");
    int rc = db_exec_stmt(d, st);
    int n = sqlite3_changes(db_handle(d));
    if (db_write_end(d, rc == 0) < 0)
        rc = -1;
    db_release(d);
    return rc < 0 ? -1 : n;
}

int64_t jobs_log_append(const char *uuid, int64_t time_ms, const char *json)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(
        d, "INSERT INTO job_events (job_uuid, seq, time_ms, json) VALUES (?1, (SELECT "
           "coalesce(max(seq), 0) + 1 FROM job_events WHERE job_uuid = ?1), ?2, ?3) RETURNING seq");
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, time_ms);
    sqlite3_bind_text(st, 3, json, -1, SQLITE_STATIC);
    int64_t seq = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        seq = sqlite3_column_int64(st, 0);
    while (sqlite3_step(st) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    if (db_write_end(d, seq > 0) < 0)
        seq = -1;
    db_release(d);
    return seq;
}

bool jobs_log_has(const char *uuid, const char *event)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT 1 FROM job_events WHERE job_uuid = ?1 AND "
                                  "json_extract(json, '$.Event') = ?2 LIMIT 1");
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, event, -1, SQLITE_STATIC);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    db_release(d);
    return yes;
}

int jobs_log_read(const char *uuid, int64_t after, unsigned max,
                  void (*fn)(void *ctx, const char *json), void *ctx, int64_t *last)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT seq, json FROM job_events WHERE job_uuid = ?1 AND seq "
                                  "> ?2 ORDER BY seq LIMIT ?3");
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int(st, 3, (int)max);
    *last = after;
    while (sqlite3_step(st) == SQLITE_ROW) {
        *last = sqlite3_column_int64(st, 0);
        fn(ctx, (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    db_release(d);
    return 0;
}

/* ---- keys ---- */

struct key_slot {
    char uuid[37];
    unsigned char key[JOBS_KEY_LEN];
};

static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;
static struct key_slot *keys;
static size_t nkeys, capkeys;

void jobs_key_put(const char *uuid, const unsigned char key[JOBS_KEY_LEN])
{
    pthread_mutex_lock(&keys_lock);
    size_t i = 0;
    while (i < nkeys && strcmp(keys[i].uuid, uuid) != 0)
        i++;
    if (i == nkeys) {
        if (nkeys == capkeys) {
            /* Grow by copying into fresh memory and wiping the old block. */
            size_t cap = capkeys ? capkeys * 2 : 16;
            struct key_slot *n = xcalloc(cap, sizeof *n);
            if (keys) {
                memcpy(n, keys, nkeys * sizeof *keys);
                crypto_wipe(keys, capkeys * sizeof *keys);
                free(keys);
            }
            keys = n;
            capkeys = cap;
        }
        nkeys++;
        snprintf(keys[i].uuid, sizeof keys[i].uuid, "%s", uuid);
    }
    memcpy(keys[i].key, key, JOBS_KEY_LEN);
    pthread_mutex_unlock(&keys_lock);
}

bool jobs_key_get(const char *uuid, unsigned char key[JOBS_KEY_LEN])
{
    bool found = false;
    pthread_mutex_lock(&keys_lock);
    for (size_t i = 0; i < nkeys && !found; i++) {
        if (strcmp(keys[i].uuid, uuid) == 0) {
            memcpy(key, keys[i].key, JOBS_KEY_LEN);
            found = true;
        }
    }
    pthread_mutex_unlock(&keys_lock);
    return found;
}

void jobs_key_drop(const char *uuid)
{
    pthread_mutex_lock(&keys_lock);
    for (size_t i = 0; i < nkeys; i++) {
        if (strcmp(keys[i].uuid, uuid) == 0) {
            keys[i] = keys[nkeys - 1];
            crypto_wipe(&keys[nkeys - 1], sizeof keys[0]);
            nkeys--;
            break;
        }
    }
    pthread_mutex_unlock(&keys_lock);
}

void jobs_keys_wipe(void)
{
    pthread_mutex_lock(&keys_lock);
    if (keys)
        crypto_wipe(keys, capkeys * sizeof *keys);
    free(keys);
    keys = NULL;
    nkeys = capkeys = 0;
    pthread_mutex_unlock(&keys_lock);
}
