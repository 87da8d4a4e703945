/*
 * extents.h: the extents table, shared by every store that keeps bytes in extents (blobs and
 * blocks now, imported SharePoint files next). An extent is a file (store_files' business) or,
 * when small, an inline extent whose bytes are a database row, so writing one creates no file.
 * An extent carries a reference count; a file is removed only after the transaction that
 * dropped its last reference commits, an inline extent's row goes with that transaction.
 */
#ifndef SPMIG_EXTENTS_H
#define SPMIG_EXTENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "store_files.h"

/* Files to remove once the transaction that freed them has committed. Zero-initialise. */
struct extents_garbage {
    char (*paths)[STORE_FILES_PATH_MAX];
    size_t n, cap;
};

/* Records a new extent file with one reference; returns its id or -1. In a write
 * transaction. */
int64_t extents_insert(struct db *d, const char *path, uint64_t size);
/* Records an inline extent holding size bytes of data (at most LIMIT_INLINE_BYTES; data may
 * be NULL when size is 0) with one reference; returns its id or -1. In a write transaction.
 * The bytes are copied. */
int64_t extents_insert_inline(struct db *d, const void *data, uint64_t size);
/* Reads up to cap bytes of inline extent id from offset off into buf, in whatever
 * transaction d has (or none). Returns the count copied, or -1 if there is no such inline
 * extent (it was released) or off is past its end. */
long extents_read_inline(struct db *d, int64_t id, uint64_t off, void *buf, size_t cap);
/* Adds delta references; an extent left with none is deleted and its file put in g. */
int extents_ref(struct db *d, int64_t id, int delta, struct extents_garbage *g);
/* Steps st, a statement whose rows' first column is an extent id, and releases one reference
 * per row. Resets st. Returns 0 or -1. */
int extents_release_rows(struct db *d, sqlite3_stmt *st, struct extents_garbage *g);
/* After the transaction: removes g's files if it committed, then empties g. */
void extents_collect(struct extents_garbage *g, bool committed);
/* Removes extent files no row refers to (left by a crash between writing the bytes and
 * committing their row). Call at start, before serving. Returns how many were removed. */
size_t extents_remove_orphans(void);

#endif
