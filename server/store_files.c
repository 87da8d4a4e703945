/*
 * store_files.c: extent files under <data-dir>/blobs/. Names are 128 random bits so no
 * client input ever reaches a path; bytes reach the OS (and the disk in fsync mode) before
 * a writer reports success. It keeps no state beyond the data dir's descriptor.
 */
#include "store_files.h"
#include "hex.h"
#include "log.h"
#include "xmalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int dir_fd = -1;
static bool do_fsync;
static char *root;

int store_files_init(const char *data_dir, bool fsync)
{
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
    return 0;
}

int extent_writer_open(struct extent_writer *w, bool want_md5, bool want_crc)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    unsigned char r[16];
    crypto_random(r, sizeof r);
    char name[33];
    hex_encode(r, sizeof r, name);
    snprintf(w->path, sizeof w->path, "blobs/%.2s/%s", name, name);
    w->fd = openat(dir_fd, w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        w->error = errno;
        log_error("store: cannot create %s: %s", w->path, strerror(errno));
        return -1;
    }
    w->md5 = want_md5 ? crypto_md5_create() : NULL;
    w->crc = want_crc;
    return 0;
}

int extent_writer_write(struct extent_writer *w, const void *data, size_t n)
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
            return -1;
        }
        p += k;
        n -= (size_t)k;
        w->size += (uint64_t)k;
    }
    return 0;
}

int extent_writer_close(struct extent_writer *w, unsigned char md5[CRYPTO_MD5_LEN])
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

void extent_writer_abort(struct extent_writer *w)
{
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
        unlinkat(dir_fd, w->path, 0);
    }
    crypto_md5_destroy(w->md5);
    w->md5 = NULL;
}

int store_files_open(const char *path)
{
    return openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
}

void store_files_unlink(const char *path)
{
    if (unlinkat(dir_fd, path, 0) < 0 && errno != ENOENT)
        log_warn("store: cannot remove %s: %s", path, strerror(errno));
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
