/*
 * fileio.c: making folders and replacing small files whole, for fileio.h. It decides no
 * paths or modes (the callers: server/main.c, client/state.c, client/report.c,
 * server/sharepoint/sp_auth.c) and holds no file open past a call.
 */
#include "fileio.h"
#include "xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int fileio_mkdirs(const char *path, mode_t mode)
{
    if (!path[0]) {
        errno = ENOENT;
        return -1;
    }
    char *p = xstrdup(path);
    int rc = 0;
    /* Each folder ends at a '/' or at the end; a leading '/' is the root, which exists. */
    for (char *s = p + 1; rc == 0; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST)
            rc = -1;
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    if (rc < 0)
        return -1;
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) { /* no progress: not a file system we can finish on */
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int fileio_replace(const char *path, const void *data, size_t len, mode_t mode)
{
    char *tmp = xasprintf("%s.tmpXXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 until fchmod */
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    int rc = fchmod(fd, mode) == 0 && write_all(fd, data, len) == 0 && fsync(fd) == 0 ? 0 : -1;
    int e = errno;
    if (close(fd) != 0 && rc == 0)
        rc = -1, e = errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1, e = errno;
    if (rc < 0) {
        unlink(tmp);
        free(tmp);
        errno = e;
        return -1;
    }
    free(tmp);
    char *dir = xstrdup(path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
    return 0;
}
