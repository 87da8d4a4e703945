/*
 * extents.c: reference-counted extent rows, the bytes of inline extents and the deferred
 * removal of extent files. Callers hold the write transaction; this module never begins or
 * ends one, so a store can combine extent changes with its own rows atomically.
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

int64_t extents_insert_inline(struct db *d, const void *data, uint64_t size)
{
    assert(size <= LIMIT_INLINE_BYTES);
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO extents (file, size, refs) VALUES (NULL, ?1, 1)");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
    if (db_exec_stmt(d, st) < 0)
        return -1;
    int64_t id = sqlite3_last_insert_rowid(db_handle(d));
    sqlite3_stmt *b = db_stmt(d, "INSERT INTO extent_bytes (extent_id, data) VALUES (?1, ?2)");
    sqlite3_bind_int64(b, 1, id);
    /* A zero-length blob, not NULL, for an empty body. */
    sqlite3_bind_blob(b, 2, size ? data : "", (int)size, SQLITE_STATIC);
    if (db_exec_stmt(d, b) < 0)
        return -1;
    return id;
}

long extents_read_inline(struct db *d, int64_t id, uint64_t off, void *buf, size_t cap)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT length(data), substr(data, ?2 + 1, ?3) FROM "
                                  "extent_bytes WHERE extent_id = ?1");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)off);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)(cap < LIMIT_INLINE_BYTES ? cap : LIMIT_INLINE_BYTES));
    long n = -1;
    if (sqlite3_step(st) == SQLITE_ROW && off <= (uint64_t)sqlite3_column_int64(st, 0)) {
        const void *p = sqlite3_column_blob(st, 1);
        n = sqlite3_column_bytes(st, 1);
        if (n > 0)
            memcpy(buf, p, (size_t)n);
    }
    sqlite3_reset(st);
    return n;
}

int extents_ref(struct db *d, int64_t id, int delta, struct extents_garbage *g)
{
    sqlite3_stmt *st =
        db_stmt(d, "UPDATE extents SET refs = refs + ?2 WHERE id = ?1 RETURNING refs, file");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, delta);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        log_error("extents: extent %lld missing", (long long)id);
        return -1;
    }
    int refs = sqlite3_column_int(st, 0);
    const unsigned char *file = sqlite3_column_text(st, 1);
    char path[STORE_FILES_PATH_MAX] = "";
    if (file)
        snprintf(path, sizeof path, "%s", (const char *)file);
    while (sqlite3_step(st) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    if (refs > 0)
        return 0;
    sqlite3_stmt *del = db_stmt(d, "DELETE FROM extents WHERE id = ?1");
    sqlite3_bind_int64(del, 1, id);
    if (db_exec_stmt(d, del) < 0)
        return -1;
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
