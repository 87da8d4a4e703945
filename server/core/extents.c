/*
 * extents.c: reference-counted extent rows, small extents in packs (and inline ones from
 * before schema 8), and the deferred removal of extent files and emptied packs. Callers hold the
 * write transaction; this module never begins or ends one, so a store can combine extent changes
 * with its own rows atomically.
 */
#include "extents.h"
#include "log.h"
#include "spmig_limits.h"
#include "xmalloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void garbage_add(struct extents_garbage *g, const char *path)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 8;
        g->paths = xrealloc(g->paths, g->cap * sizeof *g->paths);
    }
    snprintf(g->paths[g->n++], STORE_FILES_PATH_MAX, "%s", path);
}

void extents_collect(struct extents_garbage *g, bool committed)
{
    if (committed)
        for (size_t i = 0; i < g->n; i++)
            store_files_unlink(g->paths[i]);
    free(g->paths);
    g->paths = NULL;
    g->n = g->cap = 0;
}

int64_t extents_insert(struct db *d, const char *path, uint64_t size)
{
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO extents (file, size, refs) VALUES (?1, ?2, 1)");
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
    if (db_exec_stmt(d, st) < 0)
        return -1;
    return sqlite3_last_insert_rowid(db_handle(d));
}

/* Removes the packs that became idle with no row referring to them (every range released
 * while they were still appended to, or never recorded). None can come to: a row refers to
 * a pack only through a range appended to it, and none is pending. */
static void remove_idle_packs(void)
{
    char pack[STORE_FILES_PATH_MAX];
    while (store_files_pack_idle(pack)) {
        struct db *d = db_acquire();
        sqlite3_stmt *st = db_stmt(d, "SELECT 1 FROM extents WHERE file = ?1 LIMIT 1");
        sqlite3_bind_text(st, 1, pack, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        db_release(d);
        if (step == SQLITE_DONE)
            store_files_unlink(pack);
    }
}

int extents_small_write(enum store_files_pool pool, const void *data, uint64_t size,
                        struct extents_small *out)
{
    assert(size <= LIMIT_INLINE_BYTES);
    memset(out, 0, sizeof *out);
    out->size = size;
    int rc = size ? store_files_pack_append(pool, data, (size_t)size, out->pack, &out->off) : 0;
    remove_idle_packs();
    return rc;
}

void extents_small_settled(struct extents_small *s)
{
    if (s->pack[0])
        store_files_pack_settled(s->pack);
    s->pack[0] = '\0';
    remove_idle_packs();
}

int64_t extents_insert_small(struct db *d, const struct extents_small *s)
{
    sqlite3_stmt *st =
        db_stmt(d, "INSERT INTO extents (file, size, refs, pack_off) VALUES (?1, ?2, 1, ?3)");
    if (s->pack[0])
        sqlite3_bind_text(st, 1, s->pack, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)s->size);
    sqlite3_bind_int64(st, 3, s->pack[0] ? (sqlite3_int64)s->off : -1);
    if (db_exec_stmt(d, st) < 0)
        return -1;
    return sqlite3_last_insert_rowid(db_handle(d));
}

long extents_read_small(struct db *d, int64_t id, uint64_t off, void *buf, size_t cap)
{
    if (cap > LIMIT_INLINE_BYTES)
        cap = LIMIT_INLINE_BYTES;
    sqlite3_stmt *st = db_stmt(d, "SELECT e.size, e.file, e.pack_off, substr(x.data, ?2 + 1, ?3) "
                                  "FROM extents e LEFT JOIN extent_bytes x ON x.extent_id = e.id "
                                  "AND e.file IS NULL WHERE e.id = ?1 AND (e.file IS NULL OR "
                                  "e.pack_off >= 0)");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)off);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)cap);
    long n = -1;
    char pack[STORE_FILES_PATH_MAX] = "";
    uint64_t pack_off = 0;
    if (sqlite3_step(st) == SQLITE_ROW && off <= (uint64_t)sqlite3_column_int64(st, 0)) {
        uint64_t left = (uint64_t)sqlite3_column_int64(st, 0) - off;
        if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
            const void *p = sqlite3_column_blob(st, 3);
            n = sqlite3_column_bytes(st, 3);
            if (n > 0)
                memcpy(buf, p, (size_t)n);
        } else {
            db_col_copy(st, 1, pack, sizeof pack);
            pack_off = (uint64_t)sqlite3_column_int64(st, 2) + off;
            n = (long)(left < cap ? left : cap);
        }
    }
    sqlite3_reset(st);
    if (pack[0] && n > 0 && store_files_pack_read(pack, pack_off, buf, (size_t)n) < 0) {
        log_error("extents: cannot read %ld bytes of extent %lld in pack %s", n, (long long)id,
                  pack);
        n = -1;
    }
    return n;
}

void extents_location_decode(sqlite3_stmt *st, int col, struct extents_location *out)
{
    out->id = sqlite3_column_int64(st, col);
    db_col_copy(st, col + 1, out->path, sizeof out->path);
    int64_t off = sqlite3_column_int64(st, col + 2);
    out->packed = out->path[0] && off >= 0;
    out->pack_off = out->packed ? (uint64_t)off : 0;
}

bool extents_location_small(const struct extents_location *loc)
{
    return loc->packed || !loc->path[0];
}

long extents_read_location(struct db *d, const struct extents_location *loc, uint64_t off,
                           void *buf, size_t cap, uint64_t size)
{
    if (!loc->packed)
        return extents_read_small(d, loc->id, off, buf, cap);
    if (off > size)
        return -1;
    size_t n = size - off < cap ? (size_t)(size - off) : cap;
    if (store_files_pack_read(loc->path, loc->pack_off + off, buf, n) < 0) {
        log_error("extents: cannot read %zu bytes of extent %lld in pack %s", n, (long long)loc->id,
                  loc->path);
        return -1;
    }
    return (long)n;
}

int extents_ref(struct db *d, int64_t id, int delta, struct extents_garbage *g)
{
    /* No RETURNING: SQLite gathers returned rows in a temporary table, which costs more than
     * a second statement to read the row. */
    sqlite3_stmt *up = db_stmt(d, "UPDATE extents SET refs = refs + ?2 WHERE id = ?1");
    sqlite3_bind_int64(up, 1, id);
    sqlite3_bind_int(up, 2, delta);
    if (db_exec_stmt(d, up) < 0)
        return -1;
    if (sqlite3_changes(db_handle(d)) != 1) {
        log_error("extents: extent %lld missing", (long long)id);
        return -1;
    }
    if (delta > 0)
        return 0;
    sqlite3_stmt *st = db_stmt(d, "SELECT refs, file, pack_off FROM extents WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return -1;
    }
    int refs = sqlite3_column_int(st, 0);
    char path[STORE_FILES_PATH_MAX] = "";
    db_col_copy(st, 1, path, sizeof path);
    bool packed = sqlite3_column_int64(st, 2) >= 0;
    sqlite3_reset(st);
    if (refs > 0)
        return 0;
    sqlite3_stmt *del = db_stmt(d, "DELETE FROM extents WHERE id = ?1");
    sqlite3_bind_int64(del, 1, id);
    if (db_exec_stmt(d, del) < 0)
        return -1;
    if (path[0] && packed) {
        /* The pack goes with its last range, unless bodies are still appended to it or a range
         * appended is not recorded yet. */
        sqlite3_stmt *left = db_stmt(d, "SELECT 1 FROM extents WHERE file = ?1 LIMIT 1");
        sqlite3_bind_text(left, 1, path, -1, SQLITE_STATIC);
        int step = sqlite3_step(left);
        sqlite3_reset(left);
        if (step == SQLITE_DONE && !store_files_pack_in_use(path))
            garbage_add(g, path);
        return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : -1;
    }
    if (path[0]) {
        garbage_add(g, path);
        return 0;
    }
    sqlite3_stmt *bytes = db_stmt(d, "DELETE FROM extent_bytes WHERE extent_id = ?1");
    sqlite3_bind_int64(bytes, 1, id);
    return db_exec_stmt(d, bytes);
}

int extents_release_rows(struct db *d, sqlite3_stmt *st, struct extents_garbage *g)
{
    /* Collect first: extents_ref uses other statements, and st must finish before them. */
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            ids = xrealloc(ids, cap * sizeof *ids);
        }
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    int out = rc == SQLITE_DONE ? 0 : -1;
    for (size_t i = 0; i < n && out == 0; i++)
        out = extents_ref(d, ids[i], -1, g);
    free(ids);
    return out;
}

struct orphan_walk {
    struct db *d;
    size_t removed;
};

static void orphan_check(void *ctx, const char *path)
{
    struct orphan_walk *w = ctx;
    sqlite3_stmt *st = db_stmt(w->d, "SELECT 1 FROM extents WHERE file = ?1");
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    bool known = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (!known) {
        store_files_unlink(path);
        w->removed++;
    }
}

size_t extents_remove_orphans(void)
{
    struct orphan_walk w = {db_acquire(), 0};
    store_files_walk(orphan_check, &w);
    db_release(w.d);
    if (w.removed)
        log_info("extents: removed %zu orphaned extent files", w.removed);
    return w.removed;
}
