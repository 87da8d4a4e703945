/*
 * lifecycle.c: schedules of provisioned containers and queues, the deadlines table and the
 * sweeper thread that applies it, and clock moves (persisted in settings). What it does is
 * written to the audit log (audit.c).
 * The sweeper pops due rows in batches through the (due_ms) primary key, so its work grows
 * with the deadlines due, not with the number of containers. Policy values live in policy.c.
 */
#include "lifecycle.h"
#include "accounts.h"
#include "audit.h"
#include "blob_store.h"
#include "clock.h"
#include "gate.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "queue_store.h"
#include "spmig_limits.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum action { ACT_KEY = 1, ACT_DELINK = 2, ACT_REMOVE = 3, ACT_PURGE = 4 };

#define SWEEP_BATCH  256
#define IDLE_WAIT_MS 1000

static struct policy policy;
static bool policy_set;
static uint64_t draw_seed;
static _Atomic uint64_t draw_seq;

static pthread_t sweeper;
static bool running, stopping, kicked;
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;

const struct policy *lifecycle_policy(void)
{
    if (!policy_set) {
        policy_defaults(&policy);
        policy_set = true;
    }
    return &policy;
}

/* ---- schedules ---- */

static int add_deadline(struct db *d, int64_t due, const char *name, enum action a)
{
    sqlite3_stmt *st =
        db_stmt(d, "INSERT OR IGNORE INTO deadlines (due_ms, name, action) VALUES (?1, ?2, ?3)");
    sqlite3_bind_int64(st, 1, due);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, a);
    return db_exec_stmt(d, st);
}

int lifecycle_provision(const char *name, bool queue, int64_t site_id, int64_t created_ms,
                        int64_t key_expiry_ms)
{
    const struct policy *p = lifecycle_policy();
    uint64_t seq = atomic_fetch_add(&draw_seq, 1);
    int64_t del = clock_after(
        created_ms,
        policy_draw(queue ? &p->queue_data_delete : &p->container_data_delete, draw_seed, seq, 1));
    int64_t purge = clock_after(
        created_ms, policy_draw(queue ? &p->queue_purge : &p->container_purge, draw_seed, seq, 2));
    int64_t removal = queue ? del : clock_after(del, p->soft_delete_grace_ms);
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO provisioned (name, kind, site_id, created_ms, "
                                  "expiry_ms, data_delete_ms, removal_ms, purge_ms) VALUES (?1, "
                                  "?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, queue ? "queue" : "container", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, site_id);
    sqlite3_bind_int64(st, 4, created_ms);
    sqlite3_bind_int64(st, 5, key_expiry_ms);
    sqlite3_bind_int64(st, 6, del);
    sqlite3_bind_int64(st, 7, removal);
    sqlite3_bind_int64(st, 8, purge);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    /* A name used before, even purged, is never handed out again. */
    int rc = step == SQLITE_DONE ? 0 : step == SQLITE_CONSTRAINT ? 1 : -1;
    if (rc < 0)
        log_error("lifecycle: cannot record %s: %s", name, sqlite3_errmsg(db_handle(d)));
    if (rc == 0)
        rc = add_deadline(d, key_expiry_ms, name, ACT_KEY);
    if (rc == 0)
        rc = add_deadline(d, del, name, ACT_DELINK);
    if (rc == 0 && !queue)
        rc = add_deadline(d, removal, name, ACT_REMOVE);
    if (rc == 0)
        rc = add_deadline(d, purge, name, ACT_PURGE);
    if (rc == 0)
        rc = audit_record_tx(d, "provision", name, queue ? "queue" : "container");
    if (db_write_end(d, rc == 0) < 0 && rc == 0)
        rc = -1;
    db_release(d);
    return rc;
}

/* ---- the sweeper ---- */

static int state_rank(const char *s)
{
    static const char *order[] = {"active",       "key-expired",  "data-delinked",
                                  "soft-deleted", "data-removed", "purged"};
    for (int i = 0; i < 6; i++)
        if (strcmp(s, order[i]) == 0)
            return i;
    return 0;
}

static void trash_name(const char *name, char out[80])
{
    snprintf(out, 80, "trash-%s", name);
}

struct due {
    int64_t due_ms;
    char name[64];
    int action;
    bool queue;
    const char *state; /* the state it leads to, NULL for none */
    const char *audit; /* audit kind, NULL for none */
};

/* Does the store side of one deadline (its own transaction). 0 or -1 (retried later). */
static int apply_store(struct due *u)
{
    char trash[80];
    trash_name(u->name, trash);
    switch (u->action) {
    case ACT_KEY:
        u->state = "key-expired";
        u->audit = "key-expired";
        return 0;
    case ACT_DELINK:
        if (u->queue) {
            u->state = "data-delinked";
            u->audit = "delinked";
            int rc = queue_store_clear(ACCOUNTS_INTERNAL, u->name);
            return rc == QUEUE_STORE_OK || rc == QUEUE_STORE_NO_QUEUE ? 0 : -1;
        }
        u->state = "soft-deleted";
        u->audit = "delinked";
        return blob_store_container_delink(ACCOUNTS_INTERNAL, u->name, trash) == BLOB_STORE_OK ? 0
                                                                                               : -1;
    case ACT_REMOVE: {
        u->state = "data-removed";
        u->audit = "removed";
        int rc = blob_store_container_delete(ACCOUNTS_INTERNAL, trash);
        return rc == BLOB_STORE_OK || rc == BLOB_STORE_NO_CONTAINER ? 0 : -1;
    }
    case ACT_PURGE: {
        u->state = "purged";
        u->audit = "purged";
        if (u->queue) {
            int rc = queue_store_queue_delete(ACCOUNTS_INTERNAL, u->name);
            return rc == QUEUE_STORE_OK || rc == QUEUE_STORE_NO_QUEUE ? 0 : -1;
        }
        int rc = blob_store_container_delete(ACCOUNTS_INTERNAL, trash);
        if (rc != BLOB_STORE_OK && rc != BLOB_STORE_NO_CONTAINER)
            return -1;
        rc = blob_store_container_delete(ACCOUNTS_INTERNAL, u->name);
        return rc == BLOB_STORE_OK || rc == BLOB_STORE_NO_CONTAINER ? 0 : -1;
    }
    }
    return 0;
}

/* Records what the batch did: drops the deadline rows, moves states forward, audits. */
static int record_batch(struct due *u, size_t n, const bool *done)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!done[i])
            continue;
        sqlite3_stmt *del = db_stmt(d, "DELETE FROM deadlines WHERE due_ms = ?1 AND name = ?2 "
                                       "AND action = ?3");
        sqlite3_bind_int64(del, 1, u[i].due_ms);
        sqlite3_bind_text(del, 2, u[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_int(del, 3, u[i].action);
        rc = db_exec_stmt(d, del);
        sqlite3_stmt *get = db_stmt(d, "SELECT state FROM provisioned WHERE name = ?1");
        sqlite3_bind_text(get, 1, u[i].name, -1, SQLITE_STATIC);
        int cur = sqlite3_step(get) == SQLITE_ROW
                      ? state_rank((const char *)sqlite3_column_text(get, 0))
                      : 0;
        sqlite3_reset(get);
        if (rc == 0 && u[i].state && state_rank(u[i].state) > cur) {
            sqlite3_stmt *up = db_stmt(d, "UPDATE provisioned SET state = ?2 WHERE name = ?1");
            sqlite3_bind_text(up, 1, u[i].name, -1, SQLITE_STATIC);
            sqlite3_bind_text(up, 2, u[i].state, -1, SQLITE_STATIC);
            rc = db_exec_stmt(d, up);
            /* A late step (bytes removal after a purge) changes nothing worth auditing. */
            if (rc == 0 && u[i].audit)
                rc = audit_record_tx(d, u[i].audit, u[i].name, u[i].queue ? "queue" : "container");
        }
    }
    if (db_write_end(d, rc == 0) < 0)
        rc = -1;
    db_release(d);
    return rc;
}

int lifecycle_sweep(unsigned max)
{
    if (max > SWEEP_BATCH)
        max = SWEEP_BATCH;
    struct due u[SWEEP_BATCH];
    bool done[SWEEP_BATCH];
    size_t n = 0;
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT dl.due_ms, dl.name, dl.action, p.kind FROM deadlines dl "
                                  "LEFT JOIN provisioned p ON p.name = dl.name "
                                  "WHERE dl.due_ms <= ?1 ORDER BY dl.due_ms LIMIT ?2");
    sqlite3_bind_int64(st, 1, clock_now_ms());
    sqlite3_bind_int(st, 2, (int)max);
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        memset(&u[n], 0, sizeof u[n]);
        u[n].due_ms = sqlite3_column_int64(st, 0);
        db_col_copy(st, 1, u[n].name, sizeof u[n].name);
        u[n].action = sqlite3_column_int(st, 2);
        const unsigned char *kind = sqlite3_column_text(st, 3);
        u[n].queue = kind && strcmp((const char *)kind, "queue") == 0;
        n++;
    }
    sqlite3_reset(st);
    db_release(d);
    int applied = 0;
    for (size_t i = 0; i < n; i++) {
        done[i] = apply_store(&u[i]) == 0;
        applied += done[i];
        if (!done[i])
            log_warn("lifecycle: deadline %d of %s failed; retrying later", u[i].action, u[i].name);
    }
    if (n && record_batch(u, n, done) < 0)
        return -1;
    return applied; /* a full batch that failed does not make the sweeper spin */
}

int64_t lifecycle_due_count(void)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT count(*) FROM deadlines WHERE due_ms <= ?1");
    sqlite3_bind_int64(st, 1, clock_now_ms());
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    db_release(d);
    return n;
}

static int64_t next_due(void)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT min(due_ms) FROM deadlines");
    int64_t v = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL
                    ? sqlite3_column_int64(st, 0)
                    : INT64_MAX;
    sqlite3_reset(st);
    db_release(d);
    return v;
}

int64_t lifecycle_next_deadline_ms(void)
{
    int64_t v = next_due();
    return v == INT64_MAX ? -1 : v;
}

static void *sweeper_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&wake_lock);
    while (!stopping) {
        kicked = false;
        pthread_mutex_unlock(&wake_lock);
        int n = lifecycle_sweep(SWEEP_BATCH);
        int64_t wait_ms = IDLE_WAIT_MS;
        if (n == SWEEP_BATCH) {
            wait_ms = 0;
        } else if (n >= 0) {
            int64_t gap = next_due() - clock_now_ms();
            if (gap < wait_ms)
                wait_ms = gap < 0 ? 0 : gap;
        }
        pthread_mutex_lock(&wake_lock);
        if (wait_ms > 0 && !kicked && !stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + (wait_ms % 1000) * 1000000;
            ts.tv_sec += wait_ms / 1000 + ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&wake_cond, &wake_lock, &ts);
        }
    }
    pthread_mutex_unlock(&wake_lock);
    return NULL;
}

static void kick(void)
{
    pthread_mutex_lock(&wake_lock);
    kicked = true;
    pthread_cond_signal(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
}

int lifecycle_start(const struct policy *p, bool has_seed, uint64_t seed)
{
    policy = *p;
    policy_set = true;
    if (has_seed) {
        draw_seed = seed;
    } else {
        crypto_random((unsigned char *)&draw_seed, sizeof draw_seed);
    }
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT count(*) FROM provisioned");
    atomic_store(&draw_seq,
                 sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0);
    sqlite3_reset(st);
    db_release(d);
    stopping = false;
    if (pthread_create(&sweeper, NULL, sweeper_main, NULL) != 0) {
        log_error("lifecycle: cannot start the sweeper thread");
        return -1;
    }
    running = true;
    return 0;
}

void lifecycle_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&wake_lock);
    stopping = true;
    pthread_cond_signal(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
    pthread_join(sweeper, NULL);
    running = false;
}

/* ---- the clock ---- */

int lifecycle_clock_set_offset(int64_t offset_ms)
{
    /* Persisted first, then applied: a move that cannot be written does not happen. The lock
     * keeps two moves from persisting in one order and applying in the other. */
    static pthread_mutex_t moving = PTHREAD_MUTEX_INITIALIZER;
    /* Held across db_write_end: waited for without a request slot (gate.h). */
    gate_wait_begin();
    pthread_mutex_lock(&moving);
    gate_wait_end();
    if (offset_ms < clock_offset_ms() || offset_ms > LIMIT_TIME_MAX_MS - clock_real_ms()) {
        pthread_mutex_unlock(&moving);
        return LIFECYCLE_CLOCK_REFUSED;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, offset_ms);
    struct db *d = db_acquire();
    db_write_begin(d);
    int rc = db_setting_set(d, "clock_offset_ms", buf);
    if (rc == 0) {
        char t[TIMEFMT_BUF];
        timefmt_iso8601(clock_real_ms() + offset_ms, t);
        rc = audit_record_tx(d, "clock", "clock", t);
    }
    if (db_write_end(d, rc == 0) < 0)
        rc = -1;
    db_release(d);
    if (rc == 0 && clock_set_offset_ms(offset_ms) < 0)
        rc = -1; /* cannot happen: checked above, and only this function moves it */
    pthread_mutex_unlock(&moving);
    if (rc < 0) {
        log_error("lifecycle: the clock move could not be saved; the clock stays where it was");
        return LIFECYCLE_CLOCK_FAILED;
    }
    kick();
    return 0;
}

/* ---- listing ---- */

static void add_time(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        cJSON_AddNullToObject(o, name);
        return;
    }
    char t[TIMEFMT_BUF];
    timefmt_iso8601(sqlite3_column_int64(st, col), t);
    cJSON_AddStringToObject(o, name, t);
}

/* Appends to arr a container object per row of st (the columns listed in CONTAINER_COLS). */
#define CONTAINER_COLS                                                                             \
    "name, kind, created_ms, expiry_ms, data_delete_ms, removal_ms, purge_ms, state"

static int add_rows(sqlite3_stmt *st, cJSON *arr)
{
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 0));
        cJSON_AddStringToObject(o, "kind", (const char *)sqlite3_column_text(st, 1));
        add_time(o, "created", st, 2);
        add_time(o, "keyExpiry", st, 3);
        add_time(o, "dataDeletion", st, 4);
        add_time(o, "dataRemoval", st, 5);
        add_time(o, "purge", st, 6);
        cJSON_AddStringToObject(o, "state", (const char *)sqlite3_column_text(st, 7));
        cJSON_AddItemToArray(arr, o);
        n++;
    }
    sqlite3_reset(st);
    return n;
}

cJSON *lifecycle_containers_json(void)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st =
        db_stmt(d, "SELECT " CONTAINER_COLS " FROM provisioned ORDER BY created_ms, name");
    cJSON *arr = cJSON_CreateArray();
    add_rows(st, arr);
    db_release(d);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "containers", arr);
    return out;
}

cJSON *lifecycle_containers_page_json(int64_t skip, unsigned top, bool *more)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " CONTAINER_COLS " FROM provisioned ORDER BY "
                                  "created_ms DESC, name DESC LIMIT ?1 OFFSET ?2");
    sqlite3_bind_int64(st, 1, (int64_t)top + 1);
    sqlite3_bind_int64(st, 2, skip);
    cJSON *arr = cJSON_CreateArray();
    int n = add_rows(st, arr);
    db_release(d);
    *more = n > (int)top;
    if (*more)
        cJSON_DeleteItemFromArray(arr, (int)top);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "containers", arr);
    return out;
}
