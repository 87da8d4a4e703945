/*
 * store_files.c: extent files and packs under <data-dir>/blobs/. Names are 128 random bits
 * so no client input ever reaches a path; bytes reach the OS (and the disk in fsync mode)
 * before a writer reports success. Its state: the data dir's descriptor, each pool's open
 * pack, and the readers' holds that defer removals (a reader finishes with the files it
 * started with).
 */
#include "store_files.h"
#include "hex.h"
#include "log.h"
#include "spmig_limits.h"
#include "xmalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int dir_fd = -1;
static bool do_fsync;
static char *root;

/* Each pool's open pack, the packs with ranges appended but not yet settled (a writer
 * appends before it takes the database's write lock, so another write may release every
 * recorded range of a pack in between), and the packs that became idle (no longer appended
 * to, nothing pending) and were not yet handed out for a check. All under pack_lock. */
struct pack {
    bool open;
    int fd;
    char path[STORE_FILES_PATH_MAX];
    uint64_t size;
};
static struct pack packs[STORE_FILES_POOLS];
static struct pending {
    char path[STORE_FILES_PATH_MAX];
    unsigned n;
} * pending;
static size_t npending, cap_pending;
static char (*idle)[STORE_FILES_PATH_MAX];
static size_t nidle, cap_idle;
static pthread_mutex_t pack_lock = PTHREAD_MUTEX_INITIALIZER;

static void packs_close(void)
{
    for (int i = 0; i < STORE_FILES_POOLS; i++) {
        if (packs[i].open)
            close(packs[i].fd);
        packs[i].open = false;
    }
    npending = nidle = 0;
}

/* Notes that pack path became idle. Under pack_lock. */
static void idle_add(const char *path)
{
    if (nidle == cap_idle) {
        cap_idle = cap_idle ? cap_idle * 2 : 8;
        idle = xrealloc(idle, cap_idle * sizeof *idle);
    }
    memcpy(idle[nidle++], path, STORE_FILES_PATH_MAX);
}

/* The pending entry of path, or NULL. Under pack_lock. */
static struct pending *pending_find(const char *path)
{
    for (size_t i = 0; i < npending; i++)
        if (strcmp(pending[i].path, path) == 0)
            return &pending[i];
    return NULL;
}

/* Stops appending to p; it is idle unless a range of it is pending. Under pack_lock. */
static void pack_seal(struct pack *p)
{
    close(p->fd);
    p->open = false;
    if (!pending_find(p->path))
        idle_add(p->path);
}

static atomic_bool disk_full;
static pthread_mutex_t reserve_lock = PTHREAD_MUTEX_INITIALIZER;
#define RESERVE_NAME "reserve"

void store_files_disk_full(void)
{
    if (!atomic_exchange(&disk_full, true))
        log_error("store: the disk of %s is full: writes fail until space is freed (deletes "
                  "still work)",
                  root ? root : "the data dir");
}

/* Less room left than the reserve holds (a write may already have failed in an earlier run). */
static bool nearly_full(void)
{
    struct statvfs v;
    return fstatvfs(dir_fd, &v) == 0 &&
           (uint64_t)v.f_bavail * v.f_frsize < (uint64_t)LIMIT_DISK_RESERVE_BYTES;
}

void store_files_reserve_release(void)
{
    if (dir_fd < 0 || (!atomic_load(&disk_full) && !nearly_full()))
        return;
    pthread_mutex_lock(&reserve_lock);
    if (unlinkat(dir_fd, RESERVE_NAME, 0) == 0)
        log_debug("store: the disk is full: the reserve is given up so that a delete can commit");
    pthread_mutex_unlock(&reserve_lock);
}

void store_files_reserve_restore(void)
{
    if (dir_fd < 0)
        return;
    pthread_mutex_lock(&reserve_lock);
    int fd = openat(dir_fd, RESERVE_NAME, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        int rc = posix_fallocate(fd, 0, LIMIT_DISK_RESERVE_BYTES);
        close(fd);
        if (rc != 0) {
            unlinkat(dir_fd, RESERVE_NAME, 0); /* no room yet: try again after the next delete */
            atomic_store(&disk_full, true);
        } else if (atomic_exchange(&disk_full, false))
            log_info("store: there is room on the disk again");
    } else if (errno == EEXIST) {
        atomic_store(&disk_full, false);
    }
    pthread_mutex_unlock(&reserve_lock);
}

int store_files_init(const char *data_dir, bool fsync)
{
    packs_close(); /* a new data dir (or a forked child's): new packs */
    do_fsync = fsync;
    free(root);
    root = xstrdup(data_dir);
    if (dir_fd >= 0)
        close(dir_fd);
    dir_fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
        log_error("store: cannot open data dir %s: %s", data_dir, strerror(errno));
        return -1;
    }
    if (mkdirat(dir_fd, "blobs", 0700) < 0 && errno != EEXIST) {
        log_error("store: cannot create %s/blobs: %s", data_dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < 256; i++) {
        char sub[16];
        snprintf(sub, sizeof sub, "blobs/%02x", i);
        if (mkdirat(dir_fd, sub, 0700) < 0 && errno != EEXIST) {
            log_error("store: cannot create %s/%s: %s", data_dir, sub, strerror(errno));
            return -1;
        }
    }
    store_files_reserve_restore();
    return 0;
}

/* Creates a new file with a random name into path; its fd, or -1 after logging (errno
 * kept). */
static int create_file(char path[STORE_FILES_PATH_MAX])
{
    unsigned char r[16];
    crypto_random(r, sizeof r);
    char name[33];
    hex_encode(r, sizeof r, name);
    snprintf(path, STORE_FILES_PATH_MAX, "blobs/%.2s/%s", name, name);
    int fd = openat(dir_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        log_error("store: cannot create %s: %s", path, strerror(e));
        errno = e;
    }
    return fd;
}

int store_files_writer_open(struct store_files_writer *w, bool want_md5, bool want_crc)
{
    memset(w, 0, sizeof *w);
    w->fd = create_file(w->path);
    if (w->fd < 0) {
        w->error = errno;
        return -1;
    }
    w->md5 = want_md5 ? crypto_md5_create() : NULL;
    w->crc = want_crc;
    return 0;
}

void store_files_writer_reserve(struct store_files_writer *w, uint64_t size)
{
    /* KEEP_SIZE: the file's length still grows with the writes only. */
    if (w->fd >= 0 && size > 0)
        (void)fallocate(w->fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)size);
}

int store_files_writer_write(struct store_files_writer *w, const void *data, size_t n)
{
    if (w->error)
        return -1;
    if (w->md5)
        crypto_md5_update(w->md5, data, n);
    if (w->crc)
        w->crc64 = crypto_crc64(w->crc64, data, n);
    const char *p = data;
    while (n) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            w->error = errno;
            log_error("store: writing %s failed: %s", w->path, strerror(errno));
            if (w->error == ENOSPC || w->error == EDQUOT)
                store_files_disk_full();
            return -1;
        }
        p += k;
        n -= (size_t)k;
        w->size += (uint64_t)k;
    }
    return 0;
}

int store_files_writer_close(struct store_files_writer *w, unsigned char md5[CRYPTO_MD5_LEN])
{
    if (!w->error && do_fsync && fdatasync(w->fd) < 0)
        w->error = errno;
    if (close(w->fd) < 0 && !w->error)
        w->error = errno;
    w->fd = -1;
    if (w->md5) {
        unsigned char tmp[CRYPTO_MD5_LEN];
        crypto_md5_final(w->md5, md5 ? md5 : tmp);
        w->md5 = NULL;
    }
    if (w->error) {
        log_error("store: closing %s failed: %s", w->path, strerror(w->error));
        unlinkat(dir_fd, w->path, 0);
        return -1;
    }
    return 0;
}

void store_files_writer_abort(struct store_files_writer *w)
{
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
        unlinkat(dir_fd, w->path, 0);
    }
    crypto_md5_destroy(w->md5);
    w->md5 = NULL;
}

int store_files_pack_append(enum store_files_pool pool, const void *data, size_t n,
                            char path[STORE_FILES_PATH_MAX], uint64_t *off)
{
    pthread_mutex_lock(&pack_lock);
    struct pack *p = &packs[pool];
    if (p->open && p->size + n > STORE_FILES_PACK_MAX)
        pack_seal(p);
    if (!p->open) {
        p->fd = create_file(p->path);
        p->size = 0;
        p->open = p->fd >= 0;
    }
    int rc = p->open ? 0 : -1;
    const char *b = data;
    for (size_t done = 0; rc == 0 && done < n;) {
        ssize_t k = pwrite(p->fd, b + done, n - done, (off_t)(p->size + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            log_error("store: writing %s failed: %s", p->path,
                      k < 0 ? strerror(errno) : "no progress");
            if (k < 0 && (errno == ENOSPC || errno == EDQUOT))
                store_files_disk_full();
            rc = -1;
        }
        done += k > 0 ? (size_t)k : 0;
    }
    if (rc == 0 && n && do_fsync && fdatasync(p->fd) < 0) {
        log_error("store: flushing %s failed: %s", p->path, strerror(errno));
        rc = -1;
    }
    if (rc == 0) {
        memcpy(path, p->path, STORE_FILES_PATH_MAX);
        *off = p->size;
        p->size += n;
        struct pending *e = pending_find(p->path);
        if (!e) {
            if (npending == cap_pending) {
                cap_pending = cap_pending ? cap_pending * 2 : 8;
                pending = xrealloc(pending, cap_pending * sizeof *pending);
            }
            e = &pending[npending++];
            memcpy(e->path, p->path, STORE_FILES_PATH_MAX);
            e->n = 0;
        }
        e->n++;
    } else if (p->open) {
        /* What the failed write left is not trusted: later bodies go to a new pack. */
        pack_seal(p);
    }
    pthread_mutex_unlock(&pack_lock);
    return rc;
}

int store_files_pack_read(const char *path, uint64_t off, void *buf, size_t n)
{
    if (n == 0)
        return 0;
    int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < n) {
        ssize_t k = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        done += (size_t)k;
    }
    close(fd);
    return done == n ? 0 : -1;
}

void store_files_pack_settled(const char *path)
{
    pthread_mutex_lock(&pack_lock);
    struct pending *e = pending_find(path);
    if (e && --e->n == 0) {
        *e = pending[--npending];
        bool open = false;
        for (int i = 0; i < STORE_FILES_POOLS && !open; i++)
            open = packs[i].open && strcmp(packs[i].path, path) == 0;
        if (!open)
            idle_add(path);
    }
    pthread_mutex_unlock(&pack_lock);
}

bool store_files_pack_idle(char path[STORE_FILES_PATH_MAX])
{
    pthread_mutex_lock(&pack_lock);
    bool got = nidle > 0;
    if (got)
        memcpy(path, idle[--nidle], STORE_FILES_PATH_MAX);
    pthread_mutex_unlock(&pack_lock);
    return got;
}

bool store_files_pack_in_use(const char *path)
{
    pthread_mutex_lock(&pack_lock);
    bool used = pending_find(path) != NULL;
    for (int i = 0; i < STORE_FILES_POOLS && !used; i++)
        used = packs[i].open && strcmp(packs[i].path, path) == 0;
    pthread_mutex_unlock(&pack_lock);
    return used;
}

int store_files_open(const char *path)
{
    return openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
}

/* ---- holds ---- */

/* Live holds by epoch (each hold takes the next), and removals asked for while holds were
 * live, each with the newest epoch handed out then: it waits for every hold up to that one. */
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t hold_epoch;
static uint64_t *holds;
static size_t nholds, cap_holds;
static struct deferred {
    char path[STORE_FILES_PATH_MAX];
    uint64_t epoch;
} * deferred;
static size_t ndeferred, cap_deferred;

static void unlink_now(const char *path)
{
    if (unlinkat(dir_fd, path, 0) < 0 && errno != ENOENT)
        log_warn("store: cannot remove %s: %s", path, strerror(errno));
}

uint64_t store_files_hold(void)
{
    pthread_mutex_lock(&hold_lock);
    if (nholds == cap_holds) {
        cap_holds = cap_holds ? cap_holds * 2 : 16;
        holds = xrealloc(holds, cap_holds * sizeof *holds);
    }
    uint64_t e = ++hold_epoch;
    holds[nholds++] = e;
    pthread_mutex_unlock(&hold_lock);
    return e;
}

void store_files_release(uint64_t hold)
{
    if (!hold)
        return;
    pthread_mutex_lock(&hold_lock);
    uint64_t oldest = UINT64_MAX;
    for (size_t i = 0; i < nholds; i++) {
        if (holds[i] == hold) {
            holds[i--] = holds[--nholds];
            continue;
        }
        if (holds[i] < oldest)
            oldest = holds[i];
    }
    /* What no live hold may still read goes now, outside the lock. */
    struct deferred *due = NULL;
    size_t ndue = 0;
    for (size_t i = 0; i < ndeferred; i++) {
        if (deferred[i].epoch >= oldest)
            continue;
        due = xrealloc(due, (ndue + 1) * sizeof *due);
        due[ndue++] = deferred[i];
        deferred[i--] = deferred[--ndeferred];
    }
    pthread_mutex_unlock(&hold_lock);
    for (size_t i = 0; i < ndue; i++)
        unlink_now(due[i].path);
    free(due);
}

void store_files_unlink(const char *path)
{
    pthread_mutex_lock(&hold_lock);
    if (nholds == 0) {
        pthread_mutex_unlock(&hold_lock);
        unlink_now(path);
        return;
    }
    if (ndeferred == cap_deferred) {
        cap_deferred = cap_deferred ? cap_deferred * 2 : 16;
        deferred = xrealloc(deferred, cap_deferred * sizeof *deferred);
    }
    struct deferred *d = &deferred[ndeferred++];
    snprintf(d->path, sizeof d->path, "%s", path);
    d->epoch = hold_epoch;
    pthread_mutex_unlock(&hold_lock);
}

void store_files_full_path(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", root ? root : ".", path);
}

void store_files_walk(void (*fn)(void *ctx, const char *path), void *ctx)
{
    for (int i = 0; i < 256; i++) {
        char sub[16];
        snprintf(sub, sizeof sub, "blobs/%02x", i);
        int fd = openat(dir_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[STORE_FILES_PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", sub, e->d_name);
            fn(ctx, path);
        }
        closedir(d);
    }
}
