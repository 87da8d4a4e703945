/*
 * test_fileio.c: unit tests of common/fileio.c: folders made with every folder above them,
 * again without harm, refused where a file stands; a file replaced whole with its mode, empty
 * data, and a failed replacement that leaves the old file and no temporary file behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    umask(022);
    strcpy(dir, "/tmp/test_fileio_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static int entries(const char *path)
{
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void test_mkdirs(void **state)
{
    (void)state;
    char path[160];
    struct stat st;
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    assert_int_equal(fileio_mkdirs(path, 0700), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(fileio_mkdirs(path, 0700), 0); /* already there */
    snprintf(path, sizeof path, "%s/a/b/d/", dir);  /* a trailing slash */
    assert_int_equal(fileio_mkdirs(path, 0755), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    assert_int_equal(fileio_mkdirs("/", 0700), 0);

    /* A file where a folder should be, above or at the end. */
    char file[160];
    snprintf(file, sizeof file, "%s/f", dir);
    assert_int_equal(fileio_replace(file, "x", 1, 0600), 0);
    errno = 0;
    assert_int_equal(fileio_mkdirs(file, 0700), -1);
    assert_int_equal(errno, ENOTDIR);
    snprintf(path, sizeof path, "%s/f/g", dir);
    errno = 0;
    assert_int_equal(fileio_mkdirs(path, 0700), -1);
    assert_int_equal(errno, ENOTDIR);
    errno = 0;
    assert_int_equal(fileio_mkdirs("", 0700), -1);
    assert_int_equal(errno, ENOENT);
}

static void test_replace(void **state)
{
    (void)state;
    char path[160], buf[64];
    struct stat st;
    snprintf(path, sizeof path, "%s/report.csv", dir);
    assert_int_equal(fileio_replace(path, "first\n", 6, 0644), 0);
    slurp(path, buf, sizeof buf);
    assert_string_equal(buf, "first\n");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    /* Replaced whole, shorter, with another mode; nothing else left in the folder. */
    assert_int_equal(fileio_replace(path, "2nd", 3, 0600), 0);
    slurp(path, buf, sizeof buf);
    assert_string_equal(buf, "2nd");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(entries(dir), 1);
    assert_int_equal(fileio_replace(path, "", 0, 0644), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);
    /* A big one goes out whole too. */
    size_t big = 3 << 20;
    char *data = malloc(big);
    assert_non_null(data);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)(i * 31);
    assert_int_equal(fileio_replace(path, data, big, 0644), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, big);
    free(data);
}

static void test_replace_fails_cleanly(void **state)
{
    (void)state;
    char path[160];
    /* No folder to put it in. */
    snprintf(path, sizeof path, "%s/missing/x", dir);
    errno = 0;
    assert_int_equal(fileio_replace(path, "x", 1, 0644), -1);
    assert_int_equal(errno, ENOENT);
    /* A folder in the way: the rename fails, the folder stays, no temporary file is left. */
    snprintf(path, sizeof path, "%s/sub", dir);
    assert_int_equal(fileio_mkdirs(path, 0700), 0);
    errno = 0;
    assert_int_equal(fileio_replace(path, "x", 1, 0644), -1);
    assert_int_equal(errno, EISDIR);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(entries(dir), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mkdirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_fails_cleanly, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
