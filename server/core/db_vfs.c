/*
 * db_vfs.c: the VFS of db_vfs.h, a shim over SQLite's default VFS. SQLite appends each page of
 * a commit to the WAL as two writes (a 24-byte frame header, then the page), so a commit of a
 * few pages costs a dozen system calls under the write lock. Here a WAL file gathers appended
 * bytes in memory and writes them at once when SQLite syncs it (which, with synchronous=FULL,
 * it does at the end of every commit, before it publishes the commit in the WAL index), or
 * before anything that must see them: a read, a write elsewhere in the file, a size query, a
 * truncation, a file control, or closing. A failed write is then reported by the sync, and
 * the commit fails as it would have. Every other file and call goes straight through.
 */
#include "db_vfs.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* The most bytes a WAL file gathers before writing them out: a commit larger than this is
 * written in pieces of about this size. The unix VFS writes at most 128 KiB - 1 bytes in one
 * call (it masks the length to 17 bits), so a piece stays below that. */
#define DB_VFS_GATHER_MAX (120 * 1024)

struct vfile {
    sqlite3_file base;  /* methods: vfile_methods */
    sqlite3_file *real; /* the default VFS's file, in the memory after this struct */
    int is_wal;
    unsigned char *buf; /* gathered bytes of a WAL file, to go at buf_off */
    size_t len, cap;
    sqlite3_int64 buf_off;
};

static sqlite3_vfs vfs;
static sqlite3_vfs *real_vfs;
static int real_sync;

/* Writes what f gathered. SQLITE_OK or the write's error; either way nothing stays
 * gathered. */
static int flush(struct vfile *f)
{
    if (!f->len)
        return SQLITE_OK;
    int rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->buf_off);
    f->len = 0;
    return rc;
}

static int x_close(sqlite3_file *file)
{
    struct vfile *f = (struct vfile *)file;
    int rc = flush(f);
    int rc2 = f->real->pMethods->xClose(f->real);
    free(f->buf);
    f->buf = NULL;
    f->cap = 0;
    return rc != SQLITE_OK ? rc : rc2;
}

static int x_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
    struct vfile *f = (struct vfile *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, amt, off);
}

static int x_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
    struct vfile *f = (struct vfile *)file;
    if (!f->is_wal)
        return f->real->pMethods->xWrite(f->real, data, amt, off);
    /* Only appends right after what is gathered are gathered; anything else writes it out
     * first. */
    if (f->len && (off != f->buf_off + (sqlite3_int64)f->len || f->len + (size_t)amt > f->cap)) {
        int rc = flush(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    if ((size_t)amt > DB_VFS_GATHER_MAX)
        return f->real->pMethods->xWrite(f->real, data, amt, off);
    if (!f->buf) {
        f->buf = malloc(DB_VFS_GATHER_MAX);
        if (!f->buf)
            return f->real->pMethods->xWrite(f->real, data, amt, off);
        f->cap = DB_VFS_GATHER_MAX;
    }
    if (!f->len)
        f->buf_off = off;
    memcpy(f->buf + f->len, data, (size_t)amt);
    f->len += (size_t)amt;
    return SQLITE_OK;
}

static int x_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    struct vfile *f = (struct vfile *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int x_sync(sqlite3_file *file, int flags)
{
    struct vfile *f = (struct vfile *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK || !real_sync)
        return rc;
    return f->real->pMethods->xSync(f->real, flags);
}

static int x_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    struct vfile *f = (struct vfile *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int x_lock(sqlite3_file *file, int level)
{
    struct vfile *f = (struct vfile *)file;
    return f->real->pMethods->xLock(f->real, level);
}

static int x_unlock(sqlite3_file *file, int level)
{
    struct vfile *f = (struct vfile *)file;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int x_check_reserved(sqlite3_file *file, int *out)
{
    struct vfile *f = (struct vfile *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int x_file_control(sqlite3_file *file, int op, void *arg)
{
    struct vfile *f = (struct vfile *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int x_sector_size(sqlite3_file *file)
{
    struct vfile *f = (struct vfile *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int x_device_characteristics(sqlite3_file *file)
{
    struct vfile *f = (struct vfile *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int x_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **out)
{
    struct vfile *f = (struct vfile *)file;
    return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

static int x_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    struct vfile *f = (struct vfile *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void x_shm_barrier(sqlite3_file *file)
{
    struct vfile *f = (struct vfile *)file;
    f->real->pMethods->xShmBarrier(f->real);
}

static int x_shm_unmap(sqlite3_file *file, int delete_flag)
{
    struct vfile *f = (struct vfile *)file;
    return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static int x_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **out)
{
    struct vfile *f = (struct vfile *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, off, amt, out);
}

static int x_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
    struct vfile *f = (struct vfile *)file;
    return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods methods = {
    .iVersion = 3,
    .xClose = x_close,
    .xRead = x_read,
    .xWrite = x_write,
    .xTruncate = x_truncate,
    .xSync = x_sync,
    .xFileSize = x_file_size,
    .xLock = x_lock,
    .xUnlock = x_unlock,
    .xCheckReservedLock = x_check_reserved,
    .xFileControl = x_file_control,
    .xSectorSize = x_sector_size,
    .xDeviceCharacteristics = x_device_characteristics,
    .xShmMap = x_shm_map,
    .xShmLock = x_shm_lock,
    .xShmBarrier = x_shm_barrier,
    .xShmUnmap = x_shm_unmap,
    .xFetch = x_fetch,
    .xUnfetch = x_unfetch,
};

static int x_open(sqlite3_vfs *v, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    (void)v;
    struct vfile *f = (struct vfile *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods || f->real->pMethods->iVersion < 3) {
        if (rc == SQLITE_OK) {
            f->real->pMethods->xClose(f->real); /* cannot happen with the unix VFS */
            rc = SQLITE_CANTOPEN;
        }
        f->base.pMethods = NULL;
        return rc;
    }
    f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
    f->base.pMethods = &methods;
    return SQLITE_OK;
}

static int x_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
    (void)v;
    return real_vfs->xDelete(real_vfs, name, sync_dir && real_sync);
}

static int x_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int x_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static int x_randomness(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int x_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return real_vfs->xSleep(real_vfs, us);
}

static int x_current_time(sqlite3_vfs *v, double *out)
{
    (void)v;
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int x_last_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}

static void *x_dl_open(sqlite3_vfs *v, const char *name)
{
    (void)v;
    return real_vfs->xDlOpen(real_vfs, name);
}

static void x_dl_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    real_vfs->xDlError(real_vfs, n, out);
}

static void (*x_dl_sym(sqlite3_vfs *v, void *lib, const char *sym))(void)
{
    (void)v;
    return real_vfs->xDlSym(real_vfs, lib, sym);
}

static void x_dl_close(sqlite3_vfs *v, void *lib)
{
    (void)v;
    real_vfs->xDlClose(real_vfs, lib);
}

static int x_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    (void)v;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

int db_vfs_register(bool sync)
{
    real_sync = sync;
    if (real_vfs)
        return 0;
    sqlite3_vfs *def = sqlite3_vfs_find(NULL);
    if (!def || def->iVersion < 2)
        return -1;
    real_vfs = def;
    vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(struct vfile) + def->szOsFile,
        .mxPathname = def->mxPathname,
        .zName = DB_VFS_NAME,
        .xOpen = x_open,
        .xDelete = x_delete,
        .xAccess = x_access,
        .xFullPathname = x_full_pathname,
        .xDlOpen = x_dl_open,
        .xDlError = x_dl_error,
        .xDlSym = x_dl_sym,
        .xDlClose = x_dl_close,
        .xRandomness = x_randomness,
        .xSleep = x_sleep,
        .xCurrentTime = x_current_time,
        .xGetLastError = x_last_error,
        .xCurrentTimeInt64 = x_current_time64,
    };
    return sqlite3_vfs_register(&vfs, 0) == SQLITE_OK ? 0 : -1;
}
