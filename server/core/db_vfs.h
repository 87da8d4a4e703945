/*
 * db_vfs.h: the SQLite VFS every database connection of spmigd opens through. It passes every
 * call to the default (unix) VFS, except that the frames a commit appends to the WAL are
 * gathered in memory and written with one system call when SQLite syncs the WAL, instead of
 * two calls per page; and a sync reaches the disk only in fsync durability.
 */
#ifndef SPMIG_DB_VFS_H
#define SPMIG_DB_VFS_H
#include <stdbool.h>

/* The VFS's name, for sqlite3_open_v2. */
#define DB_VFS_NAME "spmig"

/* Registers the VFS (once per process; later calls only change real_sync). real_sync: a sync
 * calls fdatasync as the default VFS does; otherwise it only hands the gathered bytes to the
 * OS. Returns 0, or -1 if there is no default VFS to wrap. */
int db_vfs_register(bool real_sync);

#endif
