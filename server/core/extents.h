/*
 * extents.h: the extents table, shared by every store that keeps bytes in extents (blobs,
 * blocks and imported SharePoint files). An extent is a file of its own (store_files' business)
 * or, when small, a range of a pack file that many small extents share, so writing one
 * creates no file and costs one write. Databases from before schema 8 may also hold inline
 * extents, whose bytes are a database row; they are read and released as before.
 * An extent carries a reference count; a file is removed only after the transaction that
 * dropped its last reference commits, and so is a pack once no range of it is left and it
 * is no longer appended to. A dead range stays in its pack until the whole pack goes.
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
/* Where the bytes of a small extent were written, before it is recorded. */
struct extents_small {
    char pack[STORE_FILES_PATH_MAX]; /* "" for an empty one, which needs no pack */
    uint64_t off, size;
};
/* Writes size bytes of data (at most LIMIT_INLINE_BYTES; data may be NULL when size is 0) to a
 * pack of pool, outside any transaction, so the write lock is not held for it. 0 or -1. Bytes
 * a write then does not record (it failed or rolled back) stay in the pack unreferenced until
 * the pack goes. */
int extents_small_write(enum store_files_pool pool, const void *data, uint64_t size,
                        struct extents_small *out);
/* Records the small extent s with one reference; returns its id or -1. In a write
 * transaction. */
int64_t extents_insert_small(struct db *d, const struct extents_small *s);
/* After the transaction that recorded s ended, committed or not (or when s will never be
 * recorded): until then its pack is kept whatever is released. Safe to call twice. */
void extents_small_settled(struct extents_small *s);
/* Reads up to cap bytes of small extent id (packed or inline) from offset off into buf, the
 * row found in whatever transaction d has (or none). Returns the count copied, or -1 if there
 * is no such small extent (it was released), off is past its end, or its pack is gone. */
long extents_read_small(struct db *d, int64_t id, uint64_t off, void *buf, size_t cap);
/* Where a reader finds an extent's bytes: a file of its own, a range of a pack (packed), or
 * (path "") an inline row of a store from before schema 8. Queries that join the extents table
 * select EXTENTS_LOCATION_COLS of it and decode them here, so no store knows how extents are
 * laid out. */
struct extents_location {
    int64_t id;
    char path[STORE_FILES_PATH_MAX]; /* the extent's own file or its pack; "" when inline */
    bool packed;                     /* path is a pack, the bytes at pack_off */
    uint64_t pack_off;
};
/* The columns to select for the extents row joined as alias ("e"), in this order. */
#define EXTENTS_LOCATION_COLS(alias) alias ".id, " alias ".file, " alias ".pack_off"
#define EXTENTS_LOCATION_NCOLS       3
/* Decodes the EXTENTS_LOCATION_COLS that start at column col of st's current row. */
void extents_location_decode(sqlite3_stmt *st, int col, struct extents_location *out);
/* Whether the bytes are a small extent (packed or inline), read with extents_read_location. */
bool extents_location_small(const struct extents_location *loc);
/* Reads up to cap bytes at off of the small extent loc into buf: a pack is read where the
 * location says, so the read works after the row went (the pack stays while a
 * store_files_hold taken before the location was read lives); an inline extent is read from
 * its row through d. Returns the count, or -1 as extents_read_small. */
long extents_read_location(struct db *d, const struct extents_location *loc, uint64_t off,
                           void *buf, size_t cap, uint64_t size);
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
