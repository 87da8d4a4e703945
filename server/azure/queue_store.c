/*
 * queue_store.c: queues and messages in SQLite (schema/002_queue.sql). Owns message ids, pop
 * receipts, visibility and expiry against the emulator clock, and the lazy removal of expired
 * messages. Each operation is one transaction on a pooled connection. It does not parse
 * requests, check credentials or format answers: that is queue_api's job.
 */
#include "queue_store.h"
#include "store_files.h"
#include "b64.h"
#include "clock.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "spmig_limits.h"
#include "xmalloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Expired messages removed by one Get Messages at most, beyond the ones it returns. */
#define PURGE_BATCH 32

#define MAX_VISIBILITY_MS ((int64_t)LIMIT_VISIBILITY_SECONDS * 1000)
#define DEFAULT_TTL_MS    ((int64_t)LIMIT_DEFAULT_TTL_SECONDS * 1000)

/* A pop receipt is the message's rowid (6 bytes, big-endian) and 12 random bytes, in base64
 * with '-' and '_' for '+' and '/' so that it survives an unencoded query string. */
#define RECEIPT_RAW 18

bool queue_store_valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 3 || n > LIMIT_QUEUE_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
        if (c == '-' && (i == 0 || i == n - 1 || name[i - 1] == '-'))
            return false;
    }
    return true;
}

void queue_store_queue_finish(struct queue_store_queue *q)
{
    if (!q)
        return;
    free(q->name);
    free(q->metadata);
    memset(q, 0, sizeof *q);
}

void queue_store_list_finish(struct queue_store_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        queue_store_queue_finish(&l->queues[i]);
    free(l->queues);
    free(l->next_marker);
    memset(l, 0, sizeof *l);
}

void queue_store_messages_finish(struct queue_store_message *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++) {
        free(m[i].text);
        m[i].text = NULL;
    }
}

/* ---- ids and receipts ---- */

static void make_guid(char out[QUEUE_STORE_ID_LEN])
{
    unsigned char r[16];
    crypto_random(r, sizeof r);
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, QUEUE_STORE_ID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
}

static void make_receipt(int64_t rowid, char out[QUEUE_STORE_RECEIPT_LEN])
{
    unsigned char raw[RECEIPT_RAW];
    for (int i = 0; i < 6; i++)
        raw[i] = (unsigned char)((uint64_t)rowid >> (8 * (5 - i)));
    crypto_random(raw + 6, RECEIPT_RAW - 6);
    size_t n = b64_encode_to(raw, sizeof raw, out);
    assert(n == QUEUE_STORE_RECEIPT_LEN - 1);
    for (size_t i = 0; i < n; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
}

/* The rowid a receipt names; -1 if s is not one of our receipts. */
static int parse_receipt(const char *s, int64_t *rowid)
{
    char b[QUEUE_STORE_RECEIPT_LEN];
    if (!s || strlen(s) != QUEUE_STORE_RECEIPT_LEN - 1)
        return -1;
    for (size_t i = 0; i < QUEUE_STORE_RECEIPT_LEN; i++)
        b[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    unsigned char raw[RECEIPT_RAW];
    if (b64_decode_to(b, QUEUE_STORE_RECEIPT_LEN - 1, raw, sizeof raw) != RECEIPT_RAW)
        return -1;
    uint64_t v = 0;
    for (int i = 0; i < 6; i++)
        v = v << 8 | raw[i];
    *rowid = (int64_t)v;
    return 0;
}

/* ---- small SQL helpers ---- */

/* Steps st once: SQLITE_ROW or SQLITE_DONE, or -1 after logging. */
static int step(struct db *d, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc;
    log_error("queue_store: %s: %s", sqlite3_sql(st), sqlite3_errmsg(db_handle(d)));
    sqlite3_reset(st);
    return -1;
}

static char *column_dup(sqlite3_stmt *st, int col, size_t *len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char *s = xmalloc(n + 1);
    if (n)
        memcpy(s, t, n);
    s[n] = '\0';
    if (len)
        *len = n;
    return s;
}

/* The id of queue name in account: QUEUE_STORE_OK, QUEUE_STORE_NO_QUEUE or QUEUE_STORE_INTERNAL. */
static int find_queue(struct db *d, const char *account, const char *name, int64_t *qid)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT id FROM queues WHERE account = ?1 AND name = ?2");
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int rc = step(d, st);
    if (rc < 0)
        return QUEUE_STORE_INTERNAL;
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return QUEUE_STORE_NO_QUEUE;
    }
    *qid = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return QUEUE_STORE_OK;
}

/* Ends a write transaction: commits when rc is QUEUE_STORE_OK (or keep is set: an error answer
 * that still changed something, such as removing an expired message), else rolls back. */
static int finish_write(struct db *d, int rc, bool keep)
{
    bool commit = rc == QUEUE_STORE_OK || keep;
    if (db_write_end(d, commit) < 0)
        rc = QUEUE_STORE_INTERNAL;
    db_release(d);
    return rc;
}

/* finish_write for a write that frees space (it began with store_files_reserve_release). */
static int finish_freeing(struct db *d, int rc, bool keep)
{
    rc = finish_write(d, rc, keep);
    store_files_reserve_restore();
    return rc;
}

/* ---- queues ---- */

int queue_store_queue_create(const char *account, const char *name, const char *metadata,
                             bool *created)
{
    *created = false;
    if (!queue_store_valid_name(name))
        return QUEUE_STORE_BAD_ARG;
    const char *meta = metadata ? metadata : "{}";
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(d, "SELECT metadata FROM queues WHERE account = ?1 AND name = ?2");
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int rc = step(d, st);
    if (rc < 0)
        return finish_write(d, QUEUE_STORE_INTERNAL, false);
    if (rc == SQLITE_ROW) {
        bool same = strcmp((const char *)sqlite3_column_text(st, 0), meta) == 0;
        sqlite3_reset(st);
        return finish_write(d, same ? QUEUE_STORE_OK : QUEUE_STORE_QUEUE_EXISTS, false);
    }
    sqlite3_reset(st);
    st = db_stmt(d, "INSERT INTO queues (account, name, created_ms, metadata) "
                    "VALUES (?1, ?2, ?3, ?4)");
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, clock_now_ms());
    sqlite3_bind_text(st, 4, meta, -1, SQLITE_STATIC);
    if (db_exec_stmt(d, st) < 0)
        return finish_write(d, QUEUE_STORE_INTERNAL, false);
    rc = finish_write(d, QUEUE_STORE_OK, false);
    *created = rc == QUEUE_STORE_OK;
    return rc;
}

int queue_store_queue_delete(const char *account, const char *name)
{
    struct db *d = db_acquire();
    store_files_reserve_release(); /* a delete frees space: it may use the reserve */
    db_write_begin(d);
    int64_t qid;
    int rc = find_queue(d, account, name, &qid);
    if (rc != QUEUE_STORE_OK)
        return finish_write(d, rc, false);
    sqlite3_stmt *st = db_stmt(d, "DELETE FROM messages WHERE queue_id = ?1");
    sqlite3_bind_int64(st, 1, qid);
    if (db_exec_stmt(d, st) < 0)
        return finish_write(d, QUEUE_STORE_INTERNAL, false);
    st = db_stmt(d, "DELETE FROM queues WHERE id = ?1");
    sqlite3_bind_int64(st, 1, qid);
    if (db_exec_stmt(d, st) < 0)
        return finish_write(d, QUEUE_STORE_INTERNAL, false);
    return finish_freeing(d, QUEUE_STORE_OK, false);
}

int queue_store_queue_get(const char *account, const char *name, struct queue_store_queue *out)
{
    memset(out, 0, sizeof *out);
    struct db *d = db_acquire();
    db_read_begin(d);
    sqlite3_stmt *st = db_stmt(d, "SELECT id, metadata, created_ms FROM queues "
                                  "WHERE account = ?1 AND name = ?2");
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int rc = step(d, st), err = QUEUE_STORE_OK;
    if (rc != SQLITE_ROW) {
        err = rc < 0 ? QUEUE_STORE_INTERNAL : QUEUE_STORE_NO_QUEUE;
        sqlite3_reset(st);
        goto done;
    }
    int64_t qid = sqlite3_column_int64(st, 0);
    out->name = xstrdup(name);
    out->metadata = column_dup(st, 1, NULL);
    out->created_ms = sqlite3_column_int64(st, 2);
    sqlite3_reset(st);
    /* Covered by messages_by_visibility: no table row is read. */
    st = db_stmt(d, "SELECT count(*) FROM messages WHERE queue_id = ?1 AND expires_ms > ?2");
    sqlite3_bind_int64(st, 1, qid);
    sqlite3_bind_int64(st, 2, clock_now_ms());
    if (step(d, st) != SQLITE_ROW) {
        err = QUEUE_STORE_INTERNAL;
        queue_store_queue_finish(out);
        goto done;
    }
    out->approx_messages = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
done:
    db_read_end(d);
    db_release(d);
    return err;
}

int queue_store_queue_set_metadata(const char *account, const char *name, const char *metadata)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    sqlite3_stmt *st =
        db_stmt(d, "UPDATE queues SET metadata = ?3 WHERE account = ?1 AND name = ?2");
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, metadata ? metadata : "{}", -1, SQLITE_STATIC);
    if (db_exec_stmt(d, st) < 0)
        return finish_write(d, QUEUE_STORE_INTERNAL, false);
    int rc = sqlite3_changes(db_handle(d)) > 0 ? QUEUE_STORE_OK : QUEUE_STORE_NO_QUEUE;
    return finish_write(d, rc, false);
}

int queue_store_queue_list(const char *account, const char *prefix, const char *marker,
                           unsigned max, bool with_metadata, struct queue_store_list *out)
{
    memset(out, 0, sizeof *out);
    assert(max >= 1 && max <= 5000);
    if (!prefix)
        prefix = "";
    /* Markers are "/<account>/<name>", as Azure writes them; a bare name is taken too. */
    const char *from = "";
    if (marker) {
        size_t alen = strlen(account);
        if (marker[0] == '/' && strncmp(marker + 1, account, alen) == 0 && marker[alen + 1] == '/')
            from = marker + alen + 2;
        else
            from = marker;
    }
    if (strcmp(prefix, from) > 0)
        from = prefix;
    size_t plen = strlen(prefix);
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT name, metadata, created_ms FROM queues "
                                  "WHERE account = ?1 AND name >= ?2 ORDER BY name LIMIT ?3");
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (int64_t)max + 1);
    int rc, err = QUEUE_STORE_OK;
    out->queues = xcalloc(max, sizeof *out->queues);
    while ((rc = step(d, st)) == SQLITE_ROW) {
        const char *qname = (const char *)sqlite3_column_text(st, 0);
        if (strncmp(qname, prefix, plen) != 0)
            break; /* names are ordered: no later one has the prefix either */
        if (out->n == max) {
            out->next_marker = xasprintf("/%s/%s", account, qname);
            break;
        }
        struct queue_store_queue *q = &out->queues[out->n++];
        q->name = xstrdup(qname);
        q->metadata = with_metadata ? column_dup(st, 1, NULL) : xstrdup("{}");
        q->created_ms = sqlite3_column_int64(st, 2);
    }
    if (rc < 0) {
        err = QUEUE_STORE_INTERNAL;
        queue_store_list_finish(out);
    }
    sqlite3_reset(st);
    db_release(d);
    return err;
}

/* ---- messages ---- */

/* Fills m from a row of (id, msg_id, text, inserted_ms, expires_ms, dequeue_count). */
static void read_message(sqlite3_stmt *st, struct queue_store_message *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->id, sizeof m->id, "%s", (const char *)sqlite3_column_text(st, 1));
    m->text = column_dup(st, 2, &m->text_len);
    m->inserted_ms = sqlite3_column_int64(st, 3);
    m->expires_ms = sqlite3_column_int64(st, 4);
    m->dequeue_count = sqlite3_column_int64(st, 5);
}

int queue_store_put(const char *account, const char *name, const char *text, size_t len,
                    int64_t visibility_ms, int64_t ttl_ms, struct queue_store_message *out)
{
    if (len > LIMIT_MESSAGE_BYTES)
        return QUEUE_STORE_TOO_LARGE;
    if (ttl_ms == 0)
        ttl_ms = DEFAULT_TTL_MS;
    if (visibility_ms < 0 || visibility_ms > MAX_VISIBILITY_MS ||
        (ttl_ms != QUEUE_STORE_TTL_NEVER && ttl_ms < 1000) ||
        (ttl_ms != QUEUE_STORE_TTL_NEVER && visibility_ms >= ttl_ms))
        return QUEUE_STORE_BAD_ARG;
    int64_t now = clock_now_ms();
    struct queue_store_message m = {0};
    make_guid(m.id);
    m.inserted_ms = now;
    m.visible_ms = now + visibility_ms;
    m.expires_ms = ttl_ms == QUEUE_STORE_TTL_NEVER || ttl_ms >= QUEUE_STORE_NEVER_MS - now
                       ? QUEUE_STORE_NEVER_MS
                       : now + ttl_ms;

    struct db *d = db_acquire();
    db_write_begin(d);
    int64_t qid;
    int rc = find_queue(d, account, name, &qid);
    if (rc != QUEUE_STORE_OK)
        return finish_write(d, rc, false);
    /* The rowid is chosen here so the pop receipt can carry it (we hold the write lock). */
    sqlite3_stmt *st = db_stmt(d, "SELECT coalesce(max(id), 0) + 1 FROM messages");
    if (step(d, st) != SQLITE_ROW)
        return finish_write(d, QUEUE_STORE_INTERNAL, false);
    int64_t rowid = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    make_receipt(rowid, m.pop_receipt);
    st = db_stmt(d, "INSERT INTO messages (id, queue_id, msg_id, text, inserted_ms, expires_ms, "
                    "visible_ms, dequeue_count, pop_receipt) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)");
    sqlite3_bind_int64(st, 1, rowid);
    sqlite3_bind_int64(st, 2, qid);
    sqlite3_bind_text(st, 3, m.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, text ? text : "", (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, m.inserted_ms);
    sqlite3_bind_int64(st, 6, m.expires_ms);
    sqlite3_bind_int64(st, 7, m.visible_ms);
    sqlite3_bind_text(st, 8, m.pop_receipt, -1, SQLITE_STATIC);
    if (db_exec_stmt(d, st) < 0)
        return finish_write(d, QUEUE_STORE_INTERNAL, false);
    rc = finish_write(d, QUEUE_STORE_OK, false);
    if (rc == QUEUE_STORE_OK && out)
        *out = m;
    return rc;
}

/* Makes message rowid invisible until visible_ms with a new receipt, counting the dequeue. */
static int dequeue_one(struct db *d, int64_t rowid, struct queue_store_message *m,
                       int64_t visible_ms)
{
    make_receipt(rowid, m->pop_receipt);
    m->visible_ms = visible_ms;
    m->dequeue_count++;
    sqlite3_stmt *st = db_stmt(d, "UPDATE messages SET visible_ms = ?2, pop_receipt = ?3, "
                                  "dequeue_count = dequeue_count + 1 WHERE id = ?1");
    sqlite3_bind_int64(st, 1, rowid);
    sqlite3_bind_int64(st, 2, visible_ms);
    sqlite3_bind_text(st, 3, m->pop_receipt, -1, SQLITE_STATIC);
    return db_exec_stmt(d, st);
}

static int delete_row(struct db *d, int64_t rowid)
{
    sqlite3_stmt *st = db_stmt(d, "DELETE FROM messages WHERE id = ?1");
    sqlite3_bind_int64(st, 1, rowid);
    return db_exec_stmt(d, st);
}

/* The visible, unexpired messages of a queue in order; expires_ms is read from the index. */
static const char SQL_VISIBLE_LIVE[] =
    "SELECT id, msg_id, text, inserted_ms, expires_ms, dequeue_count FROM messages "
    "WHERE queue_id = ?1 AND visible_ms <= ?2 AND expires_ms > ?2 "
    "ORDER BY visible_ms, id LIMIT ?3";

int queue_store_get(const char *account, const char *name, unsigned n, int64_t visibility_ms,
                    struct queue_store_message *out, size_t *count)
{
    *count = 0;
    if (n < 1 || n > LIMIT_MESSAGES_PER_GET || visibility_ms < 1000 ||
        visibility_ms > MAX_VISIBILITY_MS)
        return QUEUE_STORE_BAD_ARG;
    int64_t now = clock_now_ms();
    int64_t visible = now + visibility_ms;
    int64_t rowids[LIMIT_MESSAGES_PER_GET];
    int64_t expired[LIMIT_MESSAGES_PER_GET + PURGE_BATCH];
    size_t got = 0, nexpired = 0, seen = 0;

    struct db *d = db_acquire();
    db_write_begin(d);
    int64_t qid;
    int rc = find_queue(d, account, name, &qid);
    if (rc != QUEUE_STORE_OK)
        return finish_write(d, rc, false);
    /* First pass: the head of the queue, expired messages included, so that those met
     * on the way are removed (at most PURGE_BATCH of them beyond what is wanted). */
    sqlite3_stmt *st = db_stmt(d, "SELECT id, msg_id, text, inserted_ms, expires_ms, "
                                  "dequeue_count FROM messages "
                                  "WHERE queue_id = ?1 AND visible_ms <= ?2 "
                                  "ORDER BY visible_ms, id LIMIT ?3");
    sqlite3_bind_int64(st, 1, qid);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, (int64_t)n + PURGE_BATCH);
    while ((rc = step(d, st)) == SQLITE_ROW) {
        seen++;
        if (sqlite3_column_int64(st, 4) <= now)
            expired[nexpired++] = sqlite3_column_int64(st, 0);
        else if (got < n) {
            rowids[got] = sqlite3_column_int64(st, 0);
            read_message(st, &out[got++]);
        }
    }
    sqlite3_reset(st);
    bool ok = rc == SQLITE_DONE;
    for (size_t i = 0; ok && i < nexpired; i++)
        ok = delete_row(d, expired[i]) == 0;
    for (size_t i = 0; ok && i < got; i++)
        ok = dequeue_one(d, rowids[i], &out[i], visible) == 0;
    /* Second pass, only when more expired messages than the batch stood in the way: skip
     * them (on the index alone) and leave their removal to later calls. */
    if (ok && got < n && seen == (size_t)n + PURGE_BATCH) {
        size_t first = got;
        st = db_stmt(d, SQL_VISIBLE_LIVE);
        sqlite3_bind_int64(st, 1, qid);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, (int64_t)(n - got));
        while ((rc = step(d, st)) == SQLITE_ROW && got < n) {
            rowids[got] = sqlite3_column_int64(st, 0);
            read_message(st, &out[got++]);
        }
        sqlite3_reset(st);
        ok = rc >= 0;
        for (size_t i = first; ok && i < got; i++)
            ok = dequeue_one(d, rowids[i], &out[i], visible) == 0;
    }
    if (!ok) {
        queue_store_messages_finish(out, got);
        return finish_write(d, QUEUE_STORE_INTERNAL, false);
    }
    rc = finish_write(d, QUEUE_STORE_OK, false);
    if (rc == QUEUE_STORE_OK)
        *count = got;
    else
        queue_store_messages_finish(out, got);
    return rc;
}

int queue_store_peek(const char *account, const char *name, unsigned n,
                     struct queue_store_message *out, size_t *count)
{
    *count = 0;
    if (n < 1 || n > LIMIT_MESSAGES_PER_GET)
        return QUEUE_STORE_BAD_ARG;
    int64_t now = clock_now_ms();
    struct db *d = db_acquire();
    db_read_begin(d);
    int64_t qid;
    int rc = find_queue(d, account, name, &qid);
    if (rc == QUEUE_STORE_OK) {
        sqlite3_stmt *st = db_stmt(d, SQL_VISIBLE_LIVE);
        sqlite3_bind_int64(st, 1, qid);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, n);
        int s = SQLITE_DONE;
        while (*count < n && (s = step(d, st)) == SQLITE_ROW) {
            struct queue_store_message *m = &out[(*count)++];
            read_message(st, m);
            m->visible_ms = now;
        }
        sqlite3_reset(st);
        if (s < 0) {
            queue_store_messages_finish(out, *count);
            *count = 0;
            rc = QUEUE_STORE_INTERNAL;
        }
    }
    db_read_end(d);
    db_release(d);
    return rc;
}

/* The message a receipt names, checked against the queue and id: QUEUE_STORE_OK (m holds its
 * times, *rowid is set), or the error Delete and Update answer. An expired message is
 * removed on the way (*removed is then set so the caller commits). */
static int check_receipt(struct db *d, int64_t qid, const char *id, const char *receipt,
                         int64_t now, int64_t *rowid, struct queue_store_message *m, bool *removed)
{
    *removed = false;
    if (parse_receipt(receipt, rowid) < 0)
        return QUEUE_STORE_BAD_RECEIPT;
    sqlite3_stmt *st = db_stmt(d, "SELECT queue_id, msg_id, pop_receipt, inserted_ms, "
                                  "expires_ms, dequeue_count FROM messages WHERE id = ?1");
    sqlite3_bind_int64(st, 1, *rowid);
    int rc = step(d, st);
    if (rc < 0)
        return QUEUE_STORE_INTERNAL;
    if (rc == SQLITE_DONE || sqlite3_column_int64(st, 0) != qid) {
        sqlite3_reset(st); /* the message is gone, or never was in this queue */
        return QUEUE_STORE_NO_MESSAGE;
    }
    if (strcasecmp((const char *)sqlite3_column_text(st, 1), id) != 0) {
        sqlite3_reset(st);
        return QUEUE_STORE_RECEIPT_MISMATCH;
    }
    bool current = crypto_streq((const char *)sqlite3_column_text(st, 2), receipt);
    memset(m, 0, sizeof *m);
    snprintf(m->id, sizeof m->id, "%s", (const char *)sqlite3_column_text(st, 1));
    m->inserted_ms = sqlite3_column_int64(st, 3);
    m->expires_ms = sqlite3_column_int64(st, 4);
    m->dequeue_count = sqlite3_column_int64(st, 5);
    sqlite3_reset(st);
    if (m->expires_ms <= now) {
        if (delete_row(d, *rowid) < 0)
            return QUEUE_STORE_INTERNAL;
        *removed = true;
        return QUEUE_STORE_NO_MESSAGE;
    }
    return current ? QUEUE_STORE_OK : QUEUE_STORE_NO_MESSAGE;
}

int queue_store_delete(const char *account, const char *name, const char *id, const char *receipt)
{
    struct db *d = db_acquire();
    store_files_reserve_release(); /* a delete frees space: it may use the reserve */
    db_write_begin(d);
    int64_t qid, rowid;
    struct queue_store_message m;
    bool removed = false;
    int rc = find_queue(d, account, name, &qid);
    if (rc == QUEUE_STORE_OK)
        rc = check_receipt(d, qid, id, receipt, clock_now_ms(), &rowid, &m, &removed);
    if (rc == QUEUE_STORE_OK && delete_row(d, rowid) < 0)
        rc = QUEUE_STORE_INTERNAL;
    return finish_freeing(d, rc, removed);
}

int queue_store_update(const char *account, const char *name, const char *id, const char *receipt,
                       int64_t visibility_ms, const char *text, size_t len,
                       struct queue_store_message *out)
{
    if (text && len > LIMIT_MESSAGE_BYTES)
        return QUEUE_STORE_TOO_LARGE;
    if (visibility_ms < 0 || visibility_ms > MAX_VISIBILITY_MS)
        return QUEUE_STORE_BAD_ARG;
    int64_t now = clock_now_ms();
    struct db *d = db_acquire();
    db_write_begin(d);
    int64_t qid, rowid;
    struct queue_store_message m;
    bool removed = false;
    int rc = find_queue(d, account, name, &qid);
    if (rc == QUEUE_STORE_OK)
        rc = check_receipt(d, qid, id, receipt, now, &rowid, &m, &removed);
    if (rc != QUEUE_STORE_OK)
        return finish_write(d, rc, removed);
    /* Azure: the visibility timeout cannot reach past the message's expiry. */
    if (now + visibility_ms > m.expires_ms)
        return finish_write(d, QUEUE_STORE_BAD_ARG, false);
    make_receipt(rowid, m.pop_receipt);
    m.visible_ms = now + visibility_ms;
    sqlite3_stmt *st;
    if (text) {
        st = db_stmt(d, "UPDATE messages SET visible_ms = ?2, pop_receipt = ?3, text = ?4 "
                        "WHERE id = ?1");
        sqlite3_bind_text(st, 4, text, (int)len, SQLITE_STATIC);
    } else {
        st = db_stmt(d, "UPDATE messages SET visible_ms = ?2, pop_receipt = ?3 WHERE id = ?1");
    }
    sqlite3_bind_int64(st, 1, rowid);
    sqlite3_bind_int64(st, 2, m.visible_ms);
    sqlite3_bind_text(st, 3, m.pop_receipt, -1, SQLITE_STATIC);
    if (db_exec_stmt(d, st) < 0)
        return finish_write(d, QUEUE_STORE_INTERNAL, false);
    rc = finish_write(d, QUEUE_STORE_OK, false);
    if (rc == QUEUE_STORE_OK && out)
        *out = m;
    return rc;
}

int queue_store_clear(const char *account, const char *name)
{
    struct db *d = db_acquire();
    store_files_reserve_release(); /* a delete frees space: it may use the reserve */
    db_write_begin(d);
    int64_t qid;
    int rc = find_queue(d, account, name, &qid);
    if (rc != QUEUE_STORE_OK)
        return finish_write(d, rc, false);
    sqlite3_stmt *st = db_stmt(d, "DELETE FROM messages WHERE queue_id = ?1");
    sqlite3_bind_int64(st, 1, qid);
    if (db_exec_stmt(d, st) < 0)
        return finish_write(d, QUEUE_STORE_INTERNAL, false);
    return finish_freeing(d, QUEUE_STORE_OK, false);
}
