/*
 * blob_store.c: the Blob service's state. Containers and blobs are rows; bytes are extents
 * (files, or inline rows for small bodies) shared by reference count (segments of blobs,
 * uncommitted blocks), removed only after the transaction that dropped their last reference
 * commits. Every write is one transaction under db's write lock; reads use a read snapshot.
 * It also reads blob bytes back (blob_store_reader), so callers need not know where they are.
 */
#include "blob_store.h"
#include "clock.h"
#include "db.h"
#include "extents.h"
#include "log.h"
#include "spmig_limits.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIMIT_BLOCKS 50000

/* ETags: Windows FILETIME of the change, made strictly increasing so two changes in the same
 * tick still differ. */
static _Atomic uint64_t last_tick;

static void new_etag(int64_t now_ms, char out[BLOB_STORE_ETAG_LEN])
{
    uint64_t t = ((uint64_t)now_ms + 11644473600000ULL) * 10000ULL;
    uint64_t prev = atomic_load(&last_tick);
    uint64_t next;
    do {
        next = t > prev ? t : prev + 1;
    } while (!atomic_compare_exchange_weak(&last_tick, &prev, next));
    snprintf(out, BLOB_STORE_ETAG_LEN, "\"0x%llX\"", (unsigned long long)next);
}

void blob_store_container_finish(struct blob_store_container *c)
{
    free(c->metadata);
    c->metadata = NULL;
}

void blob_store_props_finish(struct blob_store_props *p)
{
    free(p->name);
    free(p->content_type);
    free(p->content_encoding);
    free(p->content_language);
    free(p->content_disposition);
    free(p->cache_control);
    free(p->metadata);
    memset(p, 0, sizeof *p);
}

void blob_store_blob_finish(struct blob_store_blob *b)
{
    blob_store_props_finish(&b->props);
    free(b->segs);
    b->segs = NULL;
    b->nsegs = 0;
    free(b->data);
    b->data = NULL;
    store_files_release(b->hold);
    b->hold = 0;
}

void blob_store_block_list_finish(struct blob_store_block_list *l)
{
    blob_store_props_finish(&l->props);
    free(l->committed);
    free(l->uncommitted);
    memset(l, 0, sizeof *l);
}

/* ---- conditions ---- */

static bool etag_in_list(const char *list, const char *etag)
{
    /* list: one or more ETags, quoted or not, separated by commas; "*" matches anything. */
    const char *e = etag;
    size_t elen = strlen(e);
    if (elen >= 2 && e[0] == '"') {
        e++;
        elen -= 2;
    }
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *t = p;
        while (t > s && t[-1] == ' ')
            t--;
        if (t - s >= 2 && *s == '"' && t[-1] == '"') {
            s++;
            t--;
        }
        if ((size_t)(t - s) == 1 && *s == '*')
            return true;
        if ((size_t)(t - s) == elen && memcmp(s, e, elen) == 0)
            return true;
    }
    return false;
}

static int cond_eval(const struct blob_store_cond *c, bool exists, const char *etag,
                     int64_t modified_ms, bool is_read)
{
    if (!c)
        return BLOB_STORE_OK;
    if (!exists)
        return c->if_match ? BLOB_STORE_COND_FAILED : BLOB_STORE_OK;
    if (c->if_match && !etag_in_list(c->if_match, etag))
        return BLOB_STORE_COND_FAILED;
    if (c->if_none_match && etag_in_list(c->if_none_match, etag)) {
        if (is_read)
            return BLOB_STORE_NOT_MODIFIED;
        return strcmp(c->if_none_match, "*") == 0 ? BLOB_STORE_BLOB_EXISTS : BLOB_STORE_COND_FAILED;
    }
    int64_t mod_s = modified_ms / 1000;
    if (c->has_ims && mod_s <= c->ims / 1000)
        return is_read ? BLOB_STORE_NOT_MODIFIED : BLOB_STORE_COND_FAILED;
    if (c->has_ius && mod_s > c->ius / 1000)
        return BLOB_STORE_COND_FAILED;
    return BLOB_STORE_OK;
}

/*
 * Row removal releases the extents first (a SELECT of their ids), then deletes: DELETE ...
 * RETURNING would build a temporary table on every call, and these run on every write.
 */

/* Drops the segments of a blob row, releasing their extents. */
static int segments_drop(struct db *d, int64_t blob_id, struct extents_garbage *g)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT extent_id FROM segments WHERE blob_id = ?1");
    sqlite3_bind_int64(st, 1, blob_id);
    if (extents_release_rows(d, st, g) < 0)
        return -1;
    sqlite3_stmt *del = db_stmt(d, "DELETE FROM segments WHERE blob_id = ?1");
    sqlite3_bind_int64(del, 1, blob_id);
    return db_exec_stmt(d, del);
}

static int blocks_drop(struct db *d, int64_t container_id, const char *name,
                       struct extents_garbage *g)
{
    const char *sel = name ? "SELECT extent_id FROM blocks WHERE container_id = ?1 AND "
                             "blob_name = ?2"
                           : "SELECT extent_id FROM blocks WHERE container_id = ?1";
    const char *del = name ? "DELETE FROM blocks WHERE container_id = ?1 AND blob_name = ?2"
                           : "DELETE FROM blocks WHERE container_id = ?1";
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = db_stmt(d, i == 0 ? sel : del);
        sqlite3_bind_int64(st, 1, container_id);
        if (name)
            sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if ((i == 0 ? extents_release_rows(d, st, g) : db_exec_stmt(d, st)) < 0)
            return -1;
    }
    return 0;
}

/* ---- containers ---- */

/*
 * Every Blob request names its container, so lookups by name are served from a small
 * direct-mapped cache instead of a read transaction each. An entry is valid only while the
 * generation it was read under is current: each container write bumps the generation after
 * its commit, and a lookup that raced a write does not fill the cache. Only containers that
 * exist are cached.
 */
#define CCACHE_SLOTS 256
struct ccache_slot {
    uint64_t epoch, gen; /* 0: empty */
    char *account, *name;
    struct blob_store_container c;
};
static struct ccache_slot ccache[CCACHE_SLOTS];
static pthread_mutex_t ccache_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t ccache_gen = 1;

static struct ccache_slot *ccache_slot(const char *account, const char *name)
{
    uint32_t h = 2166136261u; /* FNV-1a over "account/name" */
    for (const char *s = account; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    h = (h ^ '/') * 16777619u;
    for (const char *s = name; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return &ccache[h % CCACHE_SLOTS];
}

/* Call after the commit of any change to the containers table. */
static void ccache_invalidate(void)
{
    atomic_fetch_add(&ccache_gen, 1);
}

static bool ccache_get(const char *account, const char *name, struct blob_store_container *out)
{
    struct ccache_slot *s = ccache_slot(account, name);
    bool hit = false;
    pthread_mutex_lock(&ccache_lock);
    if (s->gen == atomic_load(&ccache_gen) && s->epoch == db_epoch() &&
        !strcmp(s->account, account) && !strcmp(s->name, name)) {
        hit = true;
        if (out) {
            *out = s->c;
            out->metadata = xstrdup(s->c.metadata);
        }
    }
    pthread_mutex_unlock(&ccache_lock);
    return hit;
}

static void ccache_put(const char *account, const char *name, const struct blob_store_container *c,
                       uint64_t gen)
{
    struct ccache_slot *s = ccache_slot(account, name);
    pthread_mutex_lock(&ccache_lock);
    if (gen == atomic_load(&ccache_gen)) {
        free(s->account);
        free(s->name);
        free(s->c.metadata);
        s->account = xstrdup(account);
        s->name = xstrdup(name);
        s->c = *c;
        s->c.metadata = xstrdup(c->metadata ? c->metadata : "{}");
        s->gen = gen;
        s->epoch = db_epoch();
    }
    pthread_mutex_unlock(&ccache_lock);
}

static int container_row(struct db *d, const char *account, const char *name,
                         struct blob_store_container *out)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT id, created_ms, modified_ms, etag, metadata "
                                  "FROM containers WHERE account = ?1 AND name = ?2");
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int rc = BLOB_STORE_NO_CONTAINER;
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (out) {
            out->id = sqlite3_column_int64(st, 0);
            out->created_ms = sqlite3_column_int64(st, 1);
            out->modified_ms = sqlite3_column_int64(st, 2);
            db_col_copy(st, 3, out->etag, sizeof out->etag);
            out->metadata = db_col_str(st, 4);
        }
        rc = BLOB_STORE_OK;
    }
    sqlite3_reset(st);
    return rc;
}

int blob_store_container_create(const char *account, const char *name, const char *metadata,
                                struct blob_store_container *out)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    int rc = container_row(d, account, name, NULL);
    if (rc == BLOB_STORE_OK) {
        rc = BLOB_STORE_CONTAINER_EXISTS;
    } else {
        int64_t now = clock_now_ms();
        char etag[BLOB_STORE_ETAG_LEN];
        new_etag(now, etag);
        sqlite3_stmt *st =
            db_stmt(d, "INSERT INTO containers (account, name, created_ms, "
                       "modified_ms, etag, metadata) VALUES (?1, ?2, ?3, ?3, ?4, ?5)");
        sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_text(st, 4, etag, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, metadata ? metadata : "{}", -1, SQLITE_STATIC);
        rc = db_exec_stmt(d, st) == 0 ? BLOB_STORE_OK : BLOB_STORE_INTERNAL;
        if (rc == BLOB_STORE_OK && out) {
            out->id = sqlite3_last_insert_rowid(db_handle(d));
            out->created_ms = out->modified_ms = now;
            memcpy(out->etag, etag, sizeof etag);
            out->metadata = xstrdup(metadata ? metadata : "{}");
        }
    }
    if (db_write_end(d, rc == BLOB_STORE_OK) < 0)
        rc = BLOB_STORE_INTERNAL;
    ccache_invalidate();
    db_release(d);
    return rc;
}

int blob_store_container_get(const char *account, const char *name,
                             struct blob_store_container *out)
{
    if (ccache_get(account, name, out))
        return BLOB_STORE_OK;
    uint64_t gen = atomic_load(&ccache_gen);
    struct blob_store_container c = {0};
    struct db *d = db_acquire();
    int rc = container_row(d, account, name, &c);
    db_release(d);
    if (rc == BLOB_STORE_OK)
        ccache_put(account, name, &c, gen);
    if (out)
        *out = c;
    else
        blob_store_container_finish(&c);
    return rc;
}

int blob_store_container_set_metadata(const char *account, const char *name, const char *metadata,
                                      struct blob_store_container *out)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    int64_t now = clock_now_ms();
    char etag[BLOB_STORE_ETAG_LEN];
    new_etag(now, etag);
    sqlite3_stmt *st = db_stmt(d, "UPDATE containers SET metadata = ?3, etag = ?4, modified_ms = "
                                  "?5 WHERE account = ?1 AND name = ?2");
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, metadata ? metadata : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, etag, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    int rc = db_exec_stmt(d, st) == 0 ? BLOB_STORE_OK : BLOB_STORE_INTERNAL;
    if (rc == BLOB_STORE_OK && sqlite3_changes(db_handle(d)) == 0)
        rc = BLOB_STORE_NO_CONTAINER;
    if (rc == BLOB_STORE_OK && out)
        rc = container_row(d, account, name, out);
    if (db_write_end(d, rc == BLOB_STORE_OK) < 0)
        rc = BLOB_STORE_INTERNAL;
    ccache_invalidate();
    db_release(d);
    return rc;
}

int blob_store_container_delete(const char *account, const char *name)
{
    struct db *d = db_acquire();
    struct extents_garbage g = {0};
    store_files_reserve_release(); /* a delete frees space: it may use the reserve */
    db_write_begin(d);
    struct blob_store_container c = {0};
    int rc = container_row(d, account, name, &c);
    if (rc == BLOB_STORE_OK) {
        sqlite3_stmt *st = db_stmt(d, "SELECT id FROM blobs WHERE container_id = ?1");
        sqlite3_bind_int64(st, 1, c.id);
        int64_t *ids = NULL;
        size_t n = 0, cap = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                ids = xrealloc(ids, cap * sizeof *ids);
            }
            ids[n++] = sqlite3_column_int64(st, 0);
        }
        sqlite3_reset(st);
        for (size_t i = 0; i < n && rc == BLOB_STORE_OK; i++)
            if (segments_drop(d, ids[i], &g) < 0)
                rc = BLOB_STORE_INTERNAL;
        free(ids);
        if (rc == BLOB_STORE_OK && blocks_drop(d, c.id, NULL, &g) < 0)
            rc = BLOB_STORE_INTERNAL;
        sqlite3_stmt *db = db_stmt(d, "DELETE FROM blobs WHERE container_id = ?1");
        sqlite3_bind_int64(db, 1, c.id);
        if (rc == BLOB_STORE_OK && db_exec_stmt(d, db) < 0)
            rc = BLOB_STORE_INTERNAL;
        sqlite3_stmt *dc = db_stmt(d, "DELETE FROM containers WHERE id = ?1");
        sqlite3_bind_int64(dc, 1, c.id);
        if (rc == BLOB_STORE_OK && db_exec_stmt(d, dc) < 0)
            rc = BLOB_STORE_INTERNAL;
    }
    blob_store_container_finish(&c);
    bool ok = db_write_end(d, rc == BLOB_STORE_OK) == 0 && rc == BLOB_STORE_OK;
    ccache_invalidate();
    extents_collect(&g, ok);
    db_release(d);
    store_files_reserve_restore();
    return ok ? BLOB_STORE_OK : (rc == BLOB_STORE_OK ? BLOB_STORE_INTERNAL : rc);
}

int blob_store_container_delink(const char *account, const char *name, const char *trash)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    struct blob_store_container c = {0};
    int rc = container_row(d, account, name, &c);
    if (rc == BLOB_STORE_NO_CONTAINER) {
        blob_store_container_finish(&c);
        db_write_end(d, false);
        db_release(d);
        return BLOB_STORE_OK;
    }
    int64_t now = clock_now_ms();
    char etag[BLOB_STORE_ETAG_LEN];
    new_etag(now, etag);
    sqlite3_stmt *st = db_stmt(d, "INSERT OR IGNORE INTO containers (account, name, created_ms, "
                                  "modified_ms, etag, metadata) VALUES (?1, ?2, ?3, ?3, ?4, '{}')");
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, trash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_text(st, 4, etag, -1, SQLITE_STATIC);
    if (rc == BLOB_STORE_OK && db_exec_stmt(d, st) < 0)
        rc = BLOB_STORE_INTERNAL;
    static const char *moves[] = {
        "UPDATE blobs SET container_id = (SELECT id FROM containers WHERE account = ?1 AND "
        "name = ?2) WHERE container_id = ?3",
        "UPDATE blocks SET container_id = (SELECT id FROM containers WHERE account = ?1 AND "
        "name = ?2) WHERE container_id = ?3"};
    for (size_t i = 0; i < 2 && rc == BLOB_STORE_OK; i++) {
        sqlite3_stmt *mv = db_stmt(d, moves[i]);
        sqlite3_bind_text(mv, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(mv, 2, trash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(mv, 3, c.id);
        if (db_exec_stmt(d, mv) < 0)
            rc = BLOB_STORE_INTERNAL;
    }
    blob_store_container_finish(&c);
    bool ok = db_write_end(d, rc == BLOB_STORE_OK) == 0 && rc == BLOB_STORE_OK;
    ccache_invalidate();
    db_release(d);
    return ok ? BLOB_STORE_OK : (rc == BLOB_STORE_OK ? BLOB_STORE_INTERNAL : rc);
}

int blob_store_container_list(const char *account, const char *prefix, const char *marker,
                              unsigned max,
                              void (*fn)(void *ctx, const char *name,
                                         const struct blob_store_container *c),
                              void *ctx, char **next)
{
    struct db *d = db_acquire();
    *next = NULL;
    sqlite3_stmt *st = db_stmt(d, "SELECT id, created_ms, modified_ms, etag, metadata, name "
                                  "FROM containers WHERE account = ?1 AND name > ?2 AND "
                                  "substr(name, 1, length(?3)) = ?3 ORDER BY name LIMIT ?4");
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, marker ? marker : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, prefix ? prefix : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)max + 1);
    unsigned n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 5);
        if (n == max) {
            /* The marker is the last name returned: listing resumes after it. */
            break;
        }
        struct blob_store_container c = {.id = sqlite3_column_int64(st, 0),
                                         .created_ms = sqlite3_column_int64(st, 1),
                                         .modified_ms = sqlite3_column_int64(st, 2)};
        db_col_copy(st, 3, c.etag, sizeof c.etag);
        c.metadata = db_col_str(st, 4);
        fn(ctx, name, &c);
        blob_store_container_finish(&c);
        free(*next);
        *next = xstrdup(name);
        n++;
    }
    bool more = n == max && sqlite3_step(st) == SQLITE_ROW;
    (void)more;
    sqlite3_reset(st);
    db_release(d);
    return BLOB_STORE_OK;
}

/* ---- blob rows ---- */

#define PROPS_COLS                                                                                 \
    "id, name, snapshot, size, created_ms, modified_ms, etag, content_type, content_encoding, "    \
    "content_language, content_disposition, cache_control, content_md5, metadata, md5_checked"

static void props_from_row(sqlite3_stmt *st, struct blob_store_props *p)
{
    p->id = sqlite3_column_int64(st, 0);
    p->name = db_col_str(st, 1);
    db_col_copy(st, 2, p->snapshot, sizeof p->snapshot);
    p->size = (uint64_t)sqlite3_column_int64(st, 3);
    p->created_ms = sqlite3_column_int64(st, 4);
    p->modified_ms = sqlite3_column_int64(st, 5);
    db_col_copy(st, 6, p->etag, sizeof p->etag);
    p->content_type = db_col_str(st, 7);
    p->content_encoding = db_col_str(st, 8);
    p->content_language = db_col_str(st, 9);
    p->content_disposition = db_col_str(st, 10);
    p->cache_control = db_col_str(st, 11);
    p->has_md5 = sqlite3_column_bytes(st, 12) == CRYPTO_MD5_LEN;
    if (p->has_md5)
        memcpy(p->md5, sqlite3_column_blob(st, 12), CRYPTO_MD5_LEN);
    p->metadata = db_col_str(st, 13);
    p->md5_checked = p->has_md5 && sqlite3_column_int(st, 14);
}

static int blob_row(struct db *d, int64_t container_id, const char *name, const char *snapshot,
                    struct blob_store_props *out)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT " PROPS_COLS " FROM blobs WHERE container_id = ?1 AND "
                                  "name = ?2 AND snapshot = ?3");
    sqlite3_bind_int64(st, 1, container_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, snapshot ? snapshot : "", -1, SQLITE_STATIC);
    int rc = BLOB_STORE_NO_BLOB;
    if (sqlite3_step(st) == SQLITE_ROW) {
        props_from_row(st, out);
        rc = BLOB_STORE_OK;
    }
    sqlite3_reset(st);
    return rc;
}

static bool container_exists(struct db *d, int64_t id)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT 1 FROM containers WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return ok;
}

/* blob_store_blob_read inside a read transaction on d. */
static int blob_read_tx(struct db *d, int64_t container_id, const char *name, const char *snapshot,
                        const struct blob_store_cond *cond, struct blob_store_blob *out)
{
    int rc = blob_row(d, container_id, name, snapshot, &out->props);
    if (rc == BLOB_STORE_OK)
        rc = cond_eval(cond, true, out->props.etag, out->props.modified_ms, true);
    if (rc == BLOB_STORE_OK) {
        /* A small extent's bytes are read here only for a one-segment blob (at most
         * LIMIT_INLINE_BYTES), in this read transaction; longer blobs are read through a
         * blob_store_reader, one extent at a time. */
        sqlite3_stmt *st = db_stmt(
            d, "SELECT s.size, " EXTENTS_LOCATION_COLS(
                   "e") " FROM segments s JOIN "
                        "extents e ON e.id = s.extent_id WHERE s.blob_id = ?1 ORDER BY s.seq");
        sqlite3_bind_int64(st, 1, out->props.id);
        size_t cap = 0;
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if (out->nsegs == cap) {
                cap = cap ? cap * 2 : 4;
                out->segs = xrealloc(out->segs, cap * sizeof *out->segs);
            }
            struct blob_store_segment *s = &out->segs[out->nsegs++];
            extents_location_decode(st, 1, &s->loc);
            s->size = (uint64_t)sqlite3_column_int64(st, 0);
        }
        if (step != SQLITE_DONE)
            rc = BLOB_STORE_INTERNAL;
        sqlite3_reset(st);
        const struct blob_store_segment *one = out->nsegs == 1 ? &out->segs[0] : NULL;
        if (rc == BLOB_STORE_OK && one && extents_location_small(&one->loc)) {
            size_t n = (size_t)one->size;
            out->data = xmalloc(n ? n : 1);
            long got = n > LIMIT_INLINE_BYTES
                           ? -1
                           : extents_read_location(d, &one->loc, 0, out->data, n, one->size);
            if (got < 0 || (size_t)got != n) {
                log_error("blob: small extent %lld does not hold its %zu bytes",
                          (long long)one->loc.id, n);
                free(out->data);
                out->data = NULL;
                rc = BLOB_STORE_INTERNAL;
            }
        }
    }
    return rc;
}

int blob_store_blob_read(int64_t container_id, const char *name, const char *snapshot,
                         const struct blob_store_cond *cond, struct blob_store_blob *out)
{
    memset(out, 0, sizeof *out);
    out->hold = store_files_hold(); /* before the transaction that finds the files */
    struct db *d = db_acquire();
    db_read_begin(d);
    int rc = blob_read_tx(d, container_id, name, snapshot, cond, out);
    db_read_end(d);
    db_release(d);
    if (rc != BLOB_STORE_OK && rc != BLOB_STORE_NOT_MODIFIED && rc != BLOB_STORE_COND_FAILED)
        blob_store_blob_finish(out);
    if (rc != BLOB_STORE_OK) { /* no bytes will be read: the props alone need no hold */
        store_files_release(out->hold);
        out->hold = 0;
    }
    return rc;
}

int blob_store_blob_read_latest(int64_t container_id, const char *name, struct blob_store_blob *out)
{
    memset(out, 0, sizeof *out);
    out->hold = store_files_hold(); /* before the transaction that finds the files */
    struct db *d = db_acquire();
    db_read_begin(d); /* one snapshot of the database for finding the newest and reading it */
    /* Snapshot ids are fixed-width UTC times: the greatest is the newest; '' is the base. */
    sqlite3_stmt *st = db_stmt(d, "SELECT max(snapshot), count(*) FROM blobs WHERE container_id "
                                  "= ?1 AND name = ?2");
    sqlite3_bind_int64(st, 1, container_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    char snap[BLOB_STORE_SNAPSHOT_LEN] = "";
    int64_t rows = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        db_col_copy(st, 0, snap, sizeof snap);
        rows = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    int rc = rows == 0  ? BLOB_STORE_NO_BLOB
             : !snap[0] ? BLOB_STORE_NO_SNAPSHOT
                        : blob_read_tx(d, container_id, name, snap, NULL, out);
    db_read_end(d);
    db_release(d);
    if (rc != BLOB_STORE_OK)
        blob_store_blob_finish(out);
    return rc;
}

/* ---- reading bytes ---- */

struct blob_store_reader {
    struct blob_store_segment *segs; /* owned */
    size_t nsegs;
    uint64_t base;
    size_t cur;         /* segment holding the last offset read */
    uint64_t cur_start; /* blob offset where segment cur starts */
    int fd;             /* open file of segment fd_seg, or -1 */
    size_t fd_seg;
    unsigned char *data; /* bytes of a one-inline-extent blob (owned), or NULL */
    uint64_t hold;       /* the files the segments name stay until the reader ends */
};

struct blob_store_reader *blob_store_reader_create(struct blob_store_blob *b, uint64_t base)
{
    struct blob_store_reader *r = xcalloc(1, sizeof *r);
    r->segs = b->segs;
    r->nsegs = b->nsegs;
    r->base = base;
    r->fd = -1;
    r->data = b->data;
    r->hold = b->hold;
    b->segs = NULL;
    b->nsegs = 0;
    b->data = NULL;
    b->hold = 0;
    return r;
}

void blob_store_reader_destroy(struct blob_store_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->segs);
    free(r->data);
    store_files_release(r->hold);
    free(r);
}

long blob_store_reader_read(struct blob_store_reader *r, uint64_t pos, void *buf, size_t max)
{
    uint64_t off = r->base + pos;
    /* Reads go forward: continue from the last segment unless asked to go back. */
    if (off < r->cur_start) {
        r->cur = 0;
        r->cur_start = 0;
    }
    while (r->cur < r->nsegs && r->cur_start + r->segs[r->cur].size <= off)
        r->cur_start += r->segs[r->cur++].size;
    if (r->cur == r->nsegs || max == 0)
        return 0;
    const struct blob_store_segment *s = &r->segs[r->cur];
    uint64_t in_seg = off - r->cur_start;
    if (max > s->size - in_seg)
        max = (size_t)(s->size - in_seg);
    if (r->data) {
        memcpy(buf, r->data + in_seg, max);
        return (long)max;
    }
    if (extents_location_small(&s->loc)) {
        struct db *d = s->loc.packed ? NULL : db_acquire();
        long n = extents_read_location(d, &s->loc, in_seg, buf, max, s->size);
        if (d)
            db_release(d);
        if (n != (long)max) {
            log_error("blob: small extent %lld cannot be read", (long long)s->loc.id);
            return -1;
        }
        return n;
    }
    if (r->fd < 0 || r->fd_seg != r->cur) {
        if (r->fd >= 0)
            close(r->fd);
        r->fd = store_files_open(s->loc.path);
        r->fd_seg = r->cur;
        if (r->fd < 0) {
            log_error("blob: cannot open extent %s", s->loc.path);
            return -1;
        }
    }
    ssize_t n = pread(r->fd, buf, max, (off_t)in_seg);
    if (n <= 0) {
        log_error("blob: cannot read extent %s", s->loc.path);
        return -1;
    }
    return (long)n;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/*
 * Creates the base blob row of name with in's properties, or replaces the row old_id (-1:
 * none), which keeps its id and creation time and loses its segments. Returns the row id or
 * -1.
 */
static int64_t blob_upsert(struct db *d, int64_t container_id, const char *name, int64_t old_id,
                           const struct blob_store_props *in, uint64_t size, int64_t now,
                           const char *etag, struct extents_garbage *g)
{
    if (old_id >= 0 && segments_drop(d, old_id, g) < 0)
        return -1;
    sqlite3_stmt *st =
        old_id >= 0
            ? db_stmt(d,
                      "UPDATE blobs SET size = ?3, modified_ms = ?4, etag = ?5, content_type "
                      "= ?6, content_encoding = ?7, content_language = ?8, content_disposition "
                      "= ?9, cache_control = ?10, content_md5 = ?11, metadata = ?12, md5_checked "
                      "= ?13 WHERE id = ?1")
            : db_stmt(d, "INSERT INTO blobs (container_id, name, snapshot, size, created_ms, "
                         "modified_ms, etag, content_type, content_encoding, content_language, "
                         "content_disposition, cache_control, content_md5, metadata, md5_checked) "
                         "VALUES (?1, ?2, '', ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    if (old_id >= 0) {
        sqlite3_bind_int64(st, 1, old_id);
    } else {
        sqlite3_bind_int64(st, 1, container_id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 3, (sqlite3_int64)size);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_text(st, 5, etag, -1, SQLITE_STATIC);
    bind_opt(st, 6, in->content_type);
    bind_opt(st, 7, in->content_encoding);
    bind_opt(st, 8, in->content_language);
    bind_opt(st, 9, in->content_disposition);
    bind_opt(st, 10, in->cache_control);
    if (in->has_md5)
        sqlite3_bind_blob(st, 11, in->md5, CRYPTO_MD5_LEN, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 11);
    sqlite3_bind_text(st, 12, in->metadata ? in->metadata : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 13, in->has_md5 && in->md5_checked);
    if (db_exec_stmt(d, st) < 0)
        return -1;
    return old_id >= 0 ? old_id : sqlite3_last_insert_rowid(db_handle(d));
}

static int segment_add(struct db *d, int64_t blob_id, int seq, int64_t extent_id, uint64_t size,
                       const unsigned char *block_id, size_t idlen)
{
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO segments (blob_id, seq, extent_id, size, block_id) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5)");
    sqlite3_bind_int64(st, 1, blob_id);
    sqlite3_bind_int(st, 2, seq);
    sqlite3_bind_int64(st, 3, extent_id);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)size);
    if (block_id)
        sqlite3_bind_blob(st, 5, block_id, (int)idlen, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    return db_exec_stmt(d, st);
}

/* The current state of the base blob for a write's conditions; *id (may be NULL) receives
 * the row id of the base blob, or -1 if there is none. */
static int write_cond_row(struct db *d, int64_t container_id, const char *name,
                          const struct blob_store_cond *cond, bool must_exist,
                          struct blob_store_props *cur)
{
    if (!container_exists(d, container_id))
        return BLOB_STORE_NO_CONTAINER;
    bool exists = blob_row(d, container_id, name, "", cur) == BLOB_STORE_OK;
    return exists || !must_exist ? cond_eval(cond, exists, cur->etag, cur->modified_ms, false)
                                 : BLOB_STORE_NO_BLOB;
}

/* write_cond_row for callers that need only the base blob's row id (-1: none). */
static int write_cond(struct db *d, int64_t container_id, const char *name,
                      const struct blob_store_cond *cond, bool must_exist, int64_t *id)
{
    struct blob_store_props cur = {0};
    cur.id = -1;
    int rc = write_cond_row(d, container_id, name, cond, must_exist, &cur);
    if (id)
        *id = cur.id;
    blob_store_props_finish(&cur);
    return rc;
}

static void fill_out(struct blob_store_props *out, const char *etag, int64_t now, uint64_t size)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    snprintf(out->etag, sizeof out->etag, "%s", etag);
    out->modified_ms = now;
    out->size = size;
}

/* A new extent for a write: the file extent when it is set, else the small one written. */
static int64_t new_extent(struct db *d, const char *extent, const struct extents_small *small,
                          uint64_t size)
{
    return extent ? extents_insert(d, extent, size) : extents_insert_small(d, small);
}

static int blob_put(int64_t container_id, const char *name, const struct blob_store_props *in,
                    const char *extent, const void *data, uint64_t size,
                    const struct blob_store_cond *cond, struct blob_store_props *out)
{
    struct extents_small small;
    if (!extent && extents_small_write(STORE_FILES_POOL_BLOBS, data, size, &small) < 0)
        return BLOB_STORE_INTERNAL;
    struct db *d = db_acquire();
    struct extents_garbage g = {0};
    db_write_begin(d);
    int64_t old_id;
    int rc = write_cond(d, container_id, name, cond, false, &old_id);
    int64_t now = clock_now_ms();
    char etag[BLOB_STORE_ETAG_LEN];
    new_etag(now, etag);
    if (rc == BLOB_STORE_OK) {
        int64_t id = blob_upsert(d, container_id, name, old_id, in, size, now, etag, &g);
        int64_t ext = id < 0 ? -1 : new_extent(d, extent, &small, size);
        if (id < 0 || ext < 0 || segment_add(d, id, 0, ext, size, NULL, 0) < 0 ||
            blocks_drop(d, container_id, name, &g) < 0)
            rc = BLOB_STORE_INTERNAL;
    }
    bool ok = db_write_end(d, rc == BLOB_STORE_OK) == 0 && rc == BLOB_STORE_OK;
    extents_collect(&g, ok);
    if (!extent)
        extents_small_settled(&small);
    db_release(d);
    if (ok)
        fill_out(out, etag, now, size);
    return ok ? BLOB_STORE_OK : (rc == BLOB_STORE_OK ? BLOB_STORE_INTERNAL : rc);
}

int blob_store_blob_put(int64_t container_id, const char *name, const struct blob_store_props *in,
                        const char *extent, uint64_t size, const struct blob_store_cond *cond,
                        struct blob_store_props *out)
{
    assert(extent);
    return blob_put(container_id, name, in, extent, NULL, size, cond, out);
}

int blob_store_blob_put_inline(int64_t container_id, const char *name,
                               const struct blob_store_props *in, const void *data, uint64_t size,
                               const struct blob_store_cond *cond, struct blob_store_props *out)
{
    if (size > LIMIT_INLINE_BYTES)
        return BLOB_STORE_INTERNAL;
    return blob_put(container_id, name, in, NULL, data, size, cond, out);
}

static int block_put(int64_t container_id, const char *name, const unsigned char *id, size_t idlen,
                     const char *extent, const void *data, uint64_t size)
{
    struct extents_small small;
    if (!extent && extents_small_write(STORE_FILES_POOL_BLOBS, data, size, &small) < 0)
        return BLOB_STORE_INTERNAL;
    struct db *d = db_acquire();
    struct extents_garbage g = {0};
    db_write_begin(d);
    int rc = container_exists(d, container_id) ? BLOB_STORE_OK : BLOB_STORE_NO_CONTAINER;
    if (rc == BLOB_STORE_OK) {
        /* All blocks of a blob have ids of one length, committed or not. */
        sqlite3_stmt *st =
            db_stmt(d, "SELECT length(block_id), (SELECT count(*) FROM blocks WHERE container_id "
                       "= ?1 AND blob_name = ?2) FROM blocks WHERE container_id = ?1 AND "
                       "blob_name = ?2 LIMIT 1");
        sqlite3_bind_int64(st, 1, container_id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            if ((size_t)sqlite3_column_int(st, 0) != idlen)
                rc = BLOB_STORE_BLOCK_ID_LENGTH;
            else if (sqlite3_column_int64(st, 1) >= 100000)
                rc = BLOB_STORE_TOO_MANY_BLOCKS;
        }
        sqlite3_reset(st);
    }
    if (rc == BLOB_STORE_OK) {
        sqlite3_stmt *st = db_stmt(d, "SELECT length(s.block_id) FROM blobs b JOIN segments s ON "
                                      "s.blob_id = b.id WHERE b.container_id = ?1 AND b.name = ?2 "
                                      "AND b.snapshot = '' AND s.block_id IS NOT NULL LIMIT 1");
        sqlite3_bind_int64(st, 1, container_id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && (size_t)sqlite3_column_int(st, 0) != idlen)
            rc = BLOB_STORE_BLOCK_ID_LENGTH;
        sqlite3_reset(st);
    }
    if (rc == BLOB_STORE_OK) {
        /* A block put again under the same id replaces the earlier one. */
        sqlite3_stmt *old = db_stmt(d, "SELECT extent_id FROM blocks WHERE container_id = ?1 AND "
                                       "blob_name = ?2 AND block_id = ?3");
        sqlite3_bind_int64(old, 1, container_id);
        sqlite3_bind_text(old, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_blob(old, 3, id, (int)idlen, SQLITE_STATIC);
        int64_t old_ext = -1;
        if (sqlite3_step(old) == SQLITE_ROW)
            old_ext = sqlite3_column_int64(old, 0);
        sqlite3_reset(old);
        if (old_ext >= 0) {
            sqlite3_stmt *del = db_stmt(d, "DELETE FROM blocks WHERE container_id = ?1 AND "
                                           "blob_name = ?2 AND block_id = ?3");
            sqlite3_bind_int64(del, 1, container_id);
            sqlite3_bind_text(del, 2, name, -1, SQLITE_STATIC);
            sqlite3_bind_blob(del, 3, id, (int)idlen, SQLITE_STATIC);
            if (db_exec_stmt(d, del) < 0 || extents_ref(d, old_ext, -1, &g) < 0)
                rc = BLOB_STORE_INTERNAL;
        }
        int64_t ext = rc == BLOB_STORE_OK ? new_extent(d, extent, &small, size) : -1;
        sqlite3_stmt *st =
            db_stmt(d, "INSERT INTO blocks (container_id, blob_name, block_id, "
                       "extent_id, size, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        sqlite3_bind_int64(st, 1, container_id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, id, (int)idlen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, ext);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)size);
        sqlite3_bind_int64(st, 6, clock_now_ms());
        if (ext < 0 || db_exec_stmt(d, st) < 0)
            rc = BLOB_STORE_INTERNAL;
    }
    bool ok = db_write_end(d, rc == BLOB_STORE_OK) == 0 && rc == BLOB_STORE_OK;
    extents_collect(&g, ok);
    if (!extent)
        extents_small_settled(&small);
    db_release(d);
    return ok ? BLOB_STORE_OK : (rc == BLOB_STORE_OK ? BLOB_STORE_INTERNAL : rc);
}

int blob_store_block_put(int64_t container_id, const char *name, const unsigned char *id,
                         size_t idlen, const char *extent, uint64_t size)
{
    assert(extent);
    return block_put(container_id, name, id, idlen, extent, NULL, size);
}

int blob_store_block_put_inline(int64_t container_id, const char *name, const unsigned char *id,
                                size_t idlen, const void *data, uint64_t size)
{
    if (size > LIMIT_INLINE_BYTES)
        return BLOB_STORE_INTERNAL;
    return block_put(container_id, name, id, idlen, NULL, data, size);
}

struct resolved {
    int64_t extent_id;
    uint64_t size;
};

static bool find_block(struct db *d, const char *sql, int64_t key, const char *name,
                       const struct blob_store_block_ref *r, struct resolved *out)
{
    sqlite3_stmt *st = db_stmt(d, sql);
    sqlite3_bind_int64(st, 1, key);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, r->id, (int)r->idlen, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        out->extent_id = sqlite3_column_int64(st, 0);
        out->size = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return found;
}

static const char *const SQL_UNCOMMITTED =
    "SELECT extent_id, size FROM blocks WHERE container_id = ?1 AND blob_name = ?2 AND "
    "block_id = ?3";
static const char *const SQL_COMMITTED =
    "SELECT s.extent_id, s.size FROM blobs b JOIN segments s ON s.blob_id = b.id WHERE "
    "b.container_id = ?1 AND b.name = ?2 AND b.snapshot = '' AND s.block_id = ?3 LIMIT 1";

int blob_store_block_list_commit(int64_t container_id, const char *name,
                                 const struct blob_store_block_ref *refs, size_t nrefs,
                                 const struct blob_store_props *in,
                                 const struct blob_store_cond *cond, struct blob_store_props *out)
{
    if (nrefs > LIMIT_BLOCKS)
        return BLOB_STORE_TOO_MANY_BLOCKS;
    struct db *d = db_acquire();
    struct extents_garbage g = {0};
    struct resolved *res = xcalloc(nrefs ? nrefs : 1, sizeof *res);
    db_write_begin(d);
    int64_t old_id;
    int rc = write_cond(d, container_id, name, cond, false, &old_id);
    for (size_t i = 0; i < nrefs && rc == BLOB_STORE_OK; i++) {
        const struct blob_store_block_ref *r = &refs[i];
        bool found = false;
        if (r->list == 'U' || r->list == 'L')
            found = find_block(d, SQL_UNCOMMITTED, container_id, name, r, &res[i]);
        if (!found && (r->list == 'C' || r->list == 'L'))
            found = find_block(d, SQL_COMMITTED, container_id, name, r, &res[i]);
        if (!found)
            rc = BLOB_STORE_BAD_BLOCK_LIST;
        else if (i > 0 && r->idlen != refs[0].idlen)
            rc = BLOB_STORE_BLOCK_ID_LENGTH;
    }
    /* Take the new references before the old ones go, so shared extents survive. */
    for (size_t i = 0; i < nrefs && rc == BLOB_STORE_OK; i++)
        if (extents_ref(d, res[i].extent_id, +1, &g) < 0)
            rc = BLOB_STORE_INTERNAL;
    int64_t now = clock_now_ms();
    char etag[BLOB_STORE_ETAG_LEN];
    new_etag(now, etag);
    uint64_t size = 0;
    for (size_t i = 0; i < nrefs; i++)
        size += res[i].size;
    if (rc == BLOB_STORE_OK) {
        /* The store never hashes a committed block list as a whole: its MD5 is only given. */
        struct blob_store_props given = *in;
        given.md5_checked = false;
        int64_t id = blob_upsert(d, container_id, name, old_id, &given, size, now, etag, &g);
        if (id < 0)
            rc = BLOB_STORE_INTERNAL;
        for (size_t i = 0; i < nrefs && rc == BLOB_STORE_OK; i++)
            if (segment_add(d, id, (int)i, res[i].extent_id, res[i].size, refs[i].id,
                            refs[i].idlen) < 0)
                rc = BLOB_STORE_INTERNAL;
        if (rc == BLOB_STORE_OK && blocks_drop(d, container_id, name, &g) < 0)
            rc = BLOB_STORE_INTERNAL;
    }
    free(res);
    bool ok = db_write_end(d, rc == BLOB_STORE_OK) == 0 && rc == BLOB_STORE_OK;
    extents_collect(&g, ok);
    db_release(d);
    if (ok)
        fill_out(out, etag, now, size);
    return ok ? BLOB_STORE_OK : (rc == BLOB_STORE_OK ? BLOB_STORE_INTERNAL : rc);
}

static void add_info(struct blob_store_block_info **arr, size_t *n, sqlite3_stmt *st)
{
    *arr = xrealloc(*arr, (*n + 1) * sizeof **arr);
    struct blob_store_block_info *b = &(*arr)[(*n)++];
    int len = sqlite3_column_bytes(st, 0);
    b->idlen = len > 64 ? 64 : (size_t)len;
    memcpy(b->id, sqlite3_column_blob(st, 0), b->idlen);
    b->size = (uint64_t)sqlite3_column_int64(st, 1);
}

int blob_store_block_list_get(int64_t container_id, const char *name, const char *snapshot,
                              bool committed, bool uncommitted, struct blob_store_block_list *out)
{
    memset(out, 0, sizeof *out);
    struct db *d = db_acquire();
    db_read_begin(d);
    int rc = BLOB_STORE_OK;
    out->blob_exists = blob_row(d, container_id, name, snapshot, &out->props) == BLOB_STORE_OK;
    if (committed && out->blob_exists) {
        sqlite3_stmt *st = db_stmt(d, "SELECT block_id, size FROM segments WHERE blob_id = ?1 AND "
                                      "block_id IS NOT NULL ORDER BY seq");
        sqlite3_bind_int64(st, 1, out->props.id);
        while (sqlite3_step(st) == SQLITE_ROW)
            add_info(&out->committed, &out->ncommitted, st);
        sqlite3_reset(st);
    }
    bool any_blocks = false;
    if (!snapshot || !*snapshot) {
        sqlite3_stmt *st = db_stmt(d, "SELECT block_id, size FROM blocks WHERE container_id = ?1 "
                                      "AND blob_name = ?2 ORDER BY created_ms, extent_id");
        sqlite3_bind_int64(st, 1, container_id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            any_blocks = true;
            if (uncommitted)
                add_info(&out->uncommitted, &out->nuncommitted, st);
        }
        sqlite3_reset(st);
    }
    if (!out->blob_exists && !any_blocks)
        rc = BLOB_STORE_NO_BLOB;
    db_read_end(d);
    db_release(d);
    if (rc != BLOB_STORE_OK)
        blob_store_block_list_finish(out);
    return rc;
}

static int simple_update(int64_t container_id, const char *name, const struct blob_store_cond *cond,
                         const char *sql, const struct blob_store_props *in, const char *metadata,
                         struct blob_store_props *out)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    int rc = write_cond(d, container_id, name, cond, true, NULL);
    int64_t now = clock_now_ms();
    char etag[BLOB_STORE_ETAG_LEN];
    new_etag(now, etag);
    uint64_t size = 0;
    if (rc == BLOB_STORE_OK) {
        sqlite3_stmt *st = db_stmt(d, sql);
        sqlite3_bind_int64(st, 1, container_id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_text(st, 4, etag, -1, SQLITE_STATIC);
        if (in) {
            bind_opt(st, 5, in->content_type);
            bind_opt(st, 6, in->content_encoding);
            bind_opt(st, 7, in->content_language);
            bind_opt(st, 8, in->content_disposition);
            bind_opt(st, 9, in->cache_control);
            if (in->has_md5)
                sqlite3_bind_blob(st, 10, in->md5, CRYPTO_MD5_LEN, SQLITE_STATIC);
            else
                sqlite3_bind_null(st, 10);
        } else {
            sqlite3_bind_text(st, 5, metadata ? metadata : "{}", -1, SQLITE_STATIC);
        }
        if (sqlite3_step(st) == SQLITE_ROW)
            size = (uint64_t)sqlite3_column_int64(st, 0);
        else
            rc = BLOB_STORE_INTERNAL;
        while (sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_reset(st);
    }
    bool ok = db_write_end(d, rc == BLOB_STORE_OK) == 0 && rc == BLOB_STORE_OK;
    db_release(d);
    if (ok)
        fill_out(out, etag, now, size);
    return ok ? BLOB_STORE_OK : (rc == BLOB_STORE_OK ? BLOB_STORE_INTERNAL : rc);
}

int blob_store_blob_set_properties(int64_t container_id, const char *name,
                                   const struct blob_store_props *in,
                                   const struct blob_store_cond *cond, struct blob_store_props *out)
{
    return simple_update(container_id, name, cond,
                         "UPDATE blobs SET modified_ms = ?3, etag = ?4, content_type = ?5, "
                         "content_encoding = ?6, content_language = ?7, content_disposition = ?8, "
                         "cache_control = ?9, content_md5 = ?10, md5_checked = md5_checked AND "
                         "content_md5 IS ?10 WHERE container_id = ?1 AND name = ?2 AND snapshot "
                         "= '' RETURNING size",
                         in, NULL, out);
}

int blob_store_blob_set_metadata(int64_t container_id, const char *name, const char *metadata,
                                 const struct blob_store_cond *cond, struct blob_store_props *out)
{
    return simple_update(container_id, name, cond,
                         "UPDATE blobs SET modified_ms = ?3, etag = ?4, metadata = ?5 WHERE "
                         "container_id = ?1 AND name = ?2 AND snapshot = '' RETURNING size",
                         NULL, metadata, out);
}

/* Gives the snapshot snap_id the segments of blob base_id, each extent one reference more per
 * use (a blob may use one extent more than once). 0 or -1. */
static int snapshot_segments(struct db *d, int64_t base_id, int64_t snap_id,
                             struct extents_garbage *g)
{
    struct seg {
        int seq;
        int64_t extent_id;
        uint64_t size;
        unsigned char block_id[LIMIT_BLOCK_ID_BYTES];
        int idlen; /* -1: no block id */
    } *segs = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = db_stmt(
        d, "SELECT seq, extent_id, size, block_id FROM segments WHERE blob_id = ?1 ORDER BY seq");
    sqlite3_bind_int64(st, 1, base_id);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            segs = xrealloc(segs, cap * sizeof *segs);
        }
        struct seg *sg = &segs[n++];
        sg->seq = sqlite3_column_int(st, 0);
        sg->extent_id = sqlite3_column_int64(st, 1);
        sg->size = (uint64_t)sqlite3_column_int64(st, 2);
        sg->idlen = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_bytes(st, 3);
        if (sg->idlen > (int)sizeof sg->block_id)
            step = SQLITE_CORRUPT;
        if (step != SQLITE_ROW)
            break;
        if (sg->idlen > 0)
            memcpy(sg->block_id, sqlite3_column_blob(st, 3), (size_t)sg->idlen);
    }
    sqlite3_reset(st);
    int rc = step == SQLITE_DONE ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = segment_add(d, snap_id, segs[i].seq, segs[i].extent_id, segs[i].size,
                         segs[i].idlen >= 0 ? segs[i].block_id : NULL,
                         segs[i].idlen >= 0 ? (size_t)segs[i].idlen : 0);
        if (rc == 0)
            rc = extents_ref(d, segs[i].extent_id, 1, g);
    }
    free(segs);
    return rc;
}

int blob_store_blob_snapshot(int64_t container_id, const char *name, const char *metadata,
                             const struct blob_store_cond *cond,
                             char snapshot[BLOB_STORE_SNAPSHOT_LEN], struct blob_store_props *out)
{
    struct db *d = db_acquire();
    struct extents_garbage g = {0};
    db_write_begin(d);
    struct blob_store_props base = {0};
    int rc = write_cond_row(d, container_id, name, cond, true, &base);
    int64_t now = clock_now_ms();
    if (rc == BLOB_STORE_OK) {
        /* Snapshot ids have 100 ns precision; two in the same millisecond get distinct ids. */
        static _Atomic uint64_t last_snap;
        uint64_t t = (uint64_t)now * 10000, prev = atomic_load(&last_snap), next;
        do {
            next = t > prev ? t : prev + 1;
        } while (!atomic_compare_exchange_weak(&last_snap, &prev, next));
        char day[TIMEFMT_BUF];
        timefmt_iso8601((int64_t)(next / 10000), day); /* YYYY-MM-DDThh:mm:ssZ */
        snprintf(snapshot, BLOB_STORE_SNAPSHOT_LEN, "%.19s.%07lluZ", day,
                 (unsigned long long)(next % 10000000));
        /* The row and its segments are copied from what was read, not with INSERT ... SELECT
         * from the same table, for which SQLite first copies the rows into a temporary
         * table. */
        sqlite3_stmt *st = db_stmt(
            d, "INSERT INTO blobs (container_id, name, snapshot, size, created_ms, modified_ms, "
               "etag, content_type, content_encoding, content_language, content_disposition, "
               "cache_control, content_md5, metadata, md5_checked) VALUES (?1, ?2, ?3, ?4, ?5, "
               "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
        sqlite3_bind_int64(st, 1, container_id);
        sqlite3_bind_text(st, 2, base.name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, snapshot, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)base.size);
        sqlite3_bind_int64(st, 5, base.created_ms);
        sqlite3_bind_int64(st, 6, base.modified_ms);
        sqlite3_bind_text(st, 7, base.etag, -1, SQLITE_STATIC);
        bind_opt(st, 8, base.content_type);
        bind_opt(st, 9, base.content_encoding);
        bind_opt(st, 10, base.content_language);
        bind_opt(st, 11, base.content_disposition);
        bind_opt(st, 12, base.cache_control);
        if (base.has_md5)
            sqlite3_bind_blob(st, 13, base.md5, CRYPTO_MD5_LEN, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 13);
        sqlite3_bind_text(st, 14,
                          metadata        ? metadata
                          : base.metadata ? base.metadata
                                          : "{}",
                          -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 15, base.md5_checked);
        if (db_exec_stmt(d, st) < 0)
            rc = BLOB_STORE_INTERNAL;
        int64_t snap_id = sqlite3_last_insert_rowid(db_handle(d));
        if (rc == BLOB_STORE_OK && snapshot_segments(d, base.id, snap_id, &g) < 0)
            rc = BLOB_STORE_INTERNAL;
    }
    bool ok = db_write_end(d, rc == BLOB_STORE_OK) == 0 && rc == BLOB_STORE_OK;
    extents_collect(&g, ok);
    db_release(d);
    if (ok)
        fill_out(out, base.etag, base.modified_ms, base.size);
    blob_store_props_finish(&base);
    return ok ? BLOB_STORE_OK : (rc == BLOB_STORE_OK ? BLOB_STORE_INTERNAL : rc);
}

static int delete_row(struct db *d, int64_t id, struct extents_garbage *g)
{
    if (segments_drop(d, id, g) < 0)
        return -1;
    sqlite3_stmt *st = db_stmt(d, "DELETE FROM blobs WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    return db_exec_stmt(d, st);
}

int blob_store_blob_delete(int64_t container_id, const char *name, const char *snapshot,
                           enum blob_store_delete_mode mode, const struct blob_store_cond *cond)
{
    struct db *d = db_acquire();
    struct extents_garbage g = {0};
    store_files_reserve_release(); /* a delete frees space: it may use the reserve */
    db_write_begin(d);
    int rc = container_exists(d, container_id) ? BLOB_STORE_OK : BLOB_STORE_NO_CONTAINER;
    struct blob_store_props row = {0};
    if (rc == BLOB_STORE_OK)
        rc = blob_row(d, container_id, name, snapshot, &row);
    if (rc == BLOB_STORE_OK)
        rc = cond_eval(cond, true, row.etag, row.modified_ms, false);
    if (rc == BLOB_STORE_OK && snapshot && *snapshot) {
        if (delete_row(d, row.id, &g) < 0)
            rc = BLOB_STORE_INTERNAL;
    } else if (rc == BLOB_STORE_OK) {
        sqlite3_stmt *st = db_stmt(d, "SELECT id FROM blobs WHERE container_id = ?1 AND name = ?2 "
                                      "AND snapshot <> ''");
        sqlite3_bind_int64(st, 1, container_id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        int64_t *ids = NULL;
        size_t n = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            ids = xrealloc(ids, (n + 1) * sizeof *ids);
            ids[n++] = sqlite3_column_int64(st, 0);
        }
        sqlite3_reset(st);
        if (n && mode == BLOB_STORE_DELETE_BLOB)
            rc = BLOB_STORE_SNAPSHOTS_PRESENT;
        for (size_t i = 0; i < n && rc == BLOB_STORE_OK; i++)
            if (delete_row(d, ids[i], &g) < 0)
                rc = BLOB_STORE_INTERNAL;
        free(ids);
        if (rc == BLOB_STORE_OK && mode != BLOB_STORE_DELETE_ONLY &&
            (delete_row(d, row.id, &g) < 0 || blocks_drop(d, container_id, name, &g) < 0))
            rc = BLOB_STORE_INTERNAL;
    }
    blob_store_props_finish(&row);
    bool ok = db_write_end(d, rc == BLOB_STORE_OK) == 0 && rc == BLOB_STORE_OK;
    extents_collect(&g, ok);
    db_release(d);
    store_files_reserve_restore();
    return ok ? BLOB_STORE_OK : (rc == BLOB_STORE_OK ? BLOB_STORE_INTERNAL : rc);
}

int blob_store_list(int64_t container_id, const struct blob_store_list_opts *o,
                    blob_store_list_fn fn, void *ctx, char **next)
{
    *next = NULL;
    const char *prefix = o->prefix ? o->prefix : "";
    size_t plen = strlen(prefix);
    const char *delim = o->delimiter && *o->delimiter ? o->delimiter : NULL;
    struct db *d = db_acquire();
    db_read_begin(d);
    int rc = container_exists(d, container_id) ? BLOB_STORE_OK : BLOB_STORE_NO_CONTAINER;
    /*
     * The cursor is (name, snapshot key) of the next row to look at; the key of a base blob
     * is "~" so it sorts after its snapshots, as Azure lists them. A marker is "name\nkey".
     */
    struct strbuf cname, ckey;
    strbuf_init(&cname, 0);
    strbuf_init(&ckey, 0);
    const char *m = o->marker ? o->marker : "";
    const char *nl = strchr(m, '\n');
    strbuf_append(&cname, m, nl ? (size_t)(nl - m) : strlen(m));
    strbuf_puts(&ckey, nl ? nl + 1 : "");
    if (strcmp(cname.data, prefix) < 0) {
        strbuf_finish(&cname);
        strbuf_puts(&cname, prefix);
        strbuf_finish(&ckey);
        strbuf_puts(&ckey, "");
    }
    bool inclusive = true;
    unsigned count = 0;
    const int batch = 256;
    bool done = false;
    while (rc == BLOB_STORE_OK && !done) {
        sqlite3_stmt *st = db_stmt(
            d, "SELECT " PROPS_COLS ", CASE snapshot WHEN '' THEN '~' ELSE snapshot END AS sk "
               "FROM blobs WHERE container_id = ?1 AND (?6 OR snapshot = '') AND name >= ?2 AND "
               "(name > ?2 OR sk > ?3 OR (?5 AND sk = ?3)) ORDER BY name, sk LIMIT ?4");
        sqlite3_bind_int64(st, 1, container_id);
        sqlite3_bind_text(st, 2, cname.data ? cname.data : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, ckey.data ? ckey.data : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, batch);
        sqlite3_bind_int(st, 5, inclusive);
        sqlite3_bind_int(st, 6, o->snapshots);
        int rows = 0;
        bool jumped = false;
        while (!done && !jumped && sqlite3_step(st) == SQLITE_ROW) {
            rows++;
            struct blob_store_props p = {0};
            props_from_row(st, &p);
            const char *sk = (const char *)sqlite3_column_text(st, 14);
            if (strncmp(p.name, prefix, plen) != 0) {
                done = true; /* sorted: nothing after this matches the prefix */
            } else if (count == o->max) {
                *next = xasprintf("%s\n%s", p.name, sk);
                done = true;
            } else {
                const char *dpos = delim ? strstr(p.name + plen, delim) : NULL;
                strbuf_finish(&cname);
                strbuf_finish(&ckey);
                if (dpos) {
                    /* One BlobPrefix for the group, then jump past every name in it. */
                    size_t glen = (size_t)(dpos - p.name) + strlen(delim);
                    char *group = xstrndup(p.name, glen);
                    fn(ctx, group, NULL);
                    strbuf_puts(&cname, group);
                    strbuf_puts(&cname, "\xf4\x8f\xbf\xbf");
                    strbuf_puts(&ckey, "");
                    free(group);
                    jumped = true;
                } else {
                    fn(ctx, NULL, &p);
                    strbuf_puts(&cname, p.name);
                    strbuf_puts(&ckey, sk);
                }
                count++;
                inclusive = false;
            }
            blob_store_props_finish(&p);
        }
        sqlite3_reset(st);
        if (!jumped && rows < batch)
            done = true;
    }
    strbuf_finish(&cname);
    strbuf_finish(&ckey);
    db_read_end(d);
    db_release(d);
    return rc;
}
