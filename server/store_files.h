/*
 * store_files.h: the content files under the data dir. Each extent is one file named at
 * random under blobs/<2 hex>/; a writer streams a body into a new extent while hashing it
 * (MD5 and Azure CRC64 on request), and readers open extents by their relative path. Which
 * extents exist and who refers to them is blob_store's business, kept in the database.
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

struct extent_writer {
    int fd;
    char path[STORE_FILES_PATH_MAX]; /* relative to the data dir */
    uint64_t size;
    struct crypto_md5 *md5; /* NULL when not hashing */
    bool crc;
    uint64_t crc64;
    int error; /* errno of the first failed write, 0 if none */
};

/* Creates a new extent file. want_md5/want_crc select the hashes computed on the way. 0/-1. */
int extent_writer_open(struct extent_writer *w, bool want_md5, bool want_crc);
/* Appends n bytes; returns 0, or -1 if the write failed (then w->error is set). */
int extent_writer_write(struct extent_writer *w, const void *data, size_t n);
/* Closes the file (flushing it first in fsync mode) and finishes the MD5 into md5 if it was
 * computed. Returns 0, or -1 if anything failed (the file is then removed). */
int extent_writer_close(struct extent_writer *w, unsigned char md5[CRYPTO_MD5_LEN]);
/* Gives up: closes and removes the file. Safe on a closed or never-opened writer. */
void extent_writer_abort(struct extent_writer *w);

/* Opens an extent for reading; returns an fd or -1 (errno set). */
int store_files_open(const char *path);
/* Removes an extent file (after its last reference went away). */
void store_files_unlink(const char *path);
/* Calls fn with the relative path of every extent file on disk; for start-up checks. */
void store_files_walk(void (*fn)(void *ctx, const char *path), void *ctx);
/* The full path of an extent into out (size cap); for logs and tests. */
void store_files_full_path(const char *path, char *out, size_t cap);

#endif
