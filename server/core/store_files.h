/*
 * store_files.h: the content files under the data dir, all named at random under
 * blobs/<2 hex>/. A large extent is a file of its own: a writer streams a body into it while
 * hashing it (MD5 and Azure CRC64 on request), and readers open it by its relative path.
 * Small extents are ranges of pack files: each pool has one open pack that bodies are appended
 * to, replaced by a new one once it is full. Which extents exist, where, and who refers to
 * them is kept in the database (extents.h).
 */
#ifndef SPMIG_STORE_FILES_H
#define SPMIG_STORE_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define STORE_FILES_PATH_MAX 48 /* "blobs/xx/" + 32 hex + NUL, with room */

/* Remembers the data dir and creates its content folders. fsync: flush every extent before
 * it is acknowledged. Returns 0 or -1 after logging. */
int store_files_init(const char *data_dir, bool fsync);

/*
 * Room kept for deletes on a full disk: a file "reserve" of LIMIT_DISK_RESERVE_BYTES in the
 * data dir. A write that meets a full disk says so (store_files_disk_full); a write that frees
 * space (a delete) first gives the reserve up when the disk was found full, so that it has
 * room to commit (store_files_reserve_release), and the reserve is taken back once there is
 * room again (store_files_reserve_restore). Thread-safe; best effort, never an error.
 */
void store_files_disk_full(void);
void store_files_reserve_release(void);
void store_files_reserve_restore(void);

struct store_files_writer {
    int fd;
    char path[STORE_FILES_PATH_MAX]; /* relative to the data dir */
    uint64_t size;
    struct crypto_md5 *md5; /* NULL when not hashing */
    bool crc;
    uint64_t crc64;
    int error; /* errno of the first failed write, 0 if none */
};

/* Creates a new extent file. want_md5/want_crc select the hashes computed on the way. 0/-1. */
int store_files_writer_open(struct store_files_writer *w, bool want_md5, bool want_crc);
/* Sets aside disk space for the size bytes about to be written (a hint: the OS allocates
 * the file's blocks at once instead of one page at a time; nothing changes if it cannot). */
void store_files_writer_reserve(struct store_files_writer *w, uint64_t size);
/* Appends n bytes; returns 0, or -1 if the write failed (then w->error is set). */
int store_files_writer_write(struct store_files_writer *w, const void *data, size_t n);
/* Closes the file (flushing it first in fsync mode) and finishes the MD5 into md5 if it was
 * computed. Returns 0, or -1 if anything failed (the file is then removed). */
int store_files_writer_close(struct store_files_writer *w, unsigned char md5[CRYPTO_MD5_LEN]);
/* Gives up: closes and removes the file. Safe on a closed or never-opened writer. */
void store_files_writer_abort(struct store_files_writer *w);

/* The pools of packs: bodies that tend to go away together share packs, so a pack whose last
 * range was released can be removed (Azure blobs and blocks, go with their containers;
 * imported SharePoint files stay). */
enum store_files_pool { STORE_FILES_POOL_BLOBS, STORE_FILES_POOL_LIBRARY, STORE_FILES_POOLS };
/* A pack is full once it holds this many bytes; the next append starts a new one. */
#define STORE_FILES_PACK_MAX (16u << 20)
/* Appends n bytes to pool's open pack (starting one if needed): path receives the pack's
 * relative path, *off where the bytes start. They reach the OS (the disk in fsync mode) before
 * it returns. The range is pending until store_files_pack_settled: a pack with a pending range
 * is in use even if no row refers to it yet. Thread-safe. 0 or -1 after logging. */
int store_files_pack_append(enum store_files_pool pool, const void *data, size_t n,
                            char path[STORE_FILES_PATH_MAX], uint64_t *off);
/* Ends the pending state of one range appended to pack path: its row was committed, or will
 * never be. */
void store_files_pack_settled(const char *path);
/* Reads exactly n bytes at off of pack path. 0, or -1 (the pack is gone or short). */
int store_files_pack_read(const char *path, uint64_t off, void *buf, size_t n);
/* Whether path is a pack still open for appends, or with a range not yet settled: not to be
 * removed, even if no row refers to it. */
bool store_files_pack_in_use(const char *path);
/* Hands out, once, a pack that became idle: no longer appended to and nothing pending, so no
 * row can come to refer to it that does not already. false when there is none. */
bool store_files_pack_idle(char path[STORE_FILES_PATH_MAX]);
/* Opens an extent for reading; returns an fd or -1 (errno set). */
int store_files_open(const char *path);
/* Removes an extent file or pack (after its last reference went away): at once, or, while a
 * hold taken before this call is live, when the last such hold is released. */
void store_files_unlink(const char *path);
/*
 * Holds the files as they are now for a reader: take it before the read transaction that finds
 * the reader's extents, and no file that transaction can see is removed until
 * store_files_release. Returns the hold (never 0). A long hold defers every removal asked for
 * meanwhile; removals a process exit leaves undone are orphans the next start removes.
 */
uint64_t store_files_hold(void);
/* Ends a hold (0 is none) and removes the files no live hold defers any longer. */
void store_files_release(uint64_t hold);
/* Calls fn with the relative path of every extent file on disk; for start-up checks. */
void store_files_walk(void (*fn)(void *ctx, const char *path), void *ctx);
/* The full path of an extent into out (size cap); for logs and tests. */
void store_files_full_path(const char *path, char *out, size_t cap);

#endif
