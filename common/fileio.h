/*
 * fileio.h: the few file-system steps both programs take with their own files (data dir,
 * state folder, reports, the admin token file): making a folder and every folder above it,
 * and replacing a small file whole so that a reader sees the old content or the new, never
 * a part. Bulk data (extents, packs, uploads) has its own code.
 */
#ifndef SPMIG_FILEIO_H
#define SPMIG_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Makes the folder path and every missing folder above it with mode (less the umask), like
 * mkdir -p. 0 when path is a folder at the end, or -1 with errno set (ENOTDIR when path or a
 * folder above it is something else). Logs nothing.
 */
int fileio_mkdirs(const char *path, mode_t mode);

/*
 * Replaces path with len bytes of data: a temporary file next to it (path.tmpXXXXXX) gets
 * mode, the data and an fsync, then is renamed over path, and the folder is fsynced (a
 * failure there is not reported: the rename has happened). 0, or -1 with errno set and path
 * as it was, no temporary file left. Logs nothing; data is not copied anywhere, so a caller
 * writing a secret wipes only its own buffer.
 */
int fileio_replace(const char *path, const void *data, size_t len, mode_t mode);

#endif
