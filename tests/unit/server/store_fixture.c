/*
 * store_fixture.c: the temporary store of store_fixture.h, shared by the server unit tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "store_files.h"
#include "store_fixture.h"
#include "xmalloc.h"

void fixture_open(char dir[FIXTURE_DIR_LEN])
{
    snprintf(dir, FIXTURE_DIR_LEN, "%s", "/tmp/spmig-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char *db = xasprintf("%s/spmig.db", dir);
    assert_int_equal(db_open(db, false), 0);
    audit_start();
    free(db);
    assert_int_equal(store_files_init(dir, false), 0);
}

void fixture_close(const char *dir)
{
    audit_stop();
    db_close();
    char *cmd = xasprintf("rm -rf '%s'", dir);
    int rc = system(cmd);
    (void)rc;
    free(cmd);
}

int fixture_count_extents(const char *dir)
{
    int n = 0;
    for (int i = 0; i < 256; i++) {
        char sub[128];
        snprintf(sub, sizeof sub, "%s/blobs/%02x", dir, i);
        DIR *d = opendir(sub);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            char rel[STORE_FILES_PATH_MAX + 256];
            snprintf(rel, sizeof rel, "blobs/%02x/%s", i, e->d_name);
            if (e->d_name[0] != '.' && !store_files_pack_in_use(rel))
                n++;
        }
        closedir(d);
    }
    return n;
}

int fixture_setup(void **state)
{
    char *dir = xmalloc(FIXTURE_DIR_LEN);
    fixture_open(dir);
    *state = dir;
    return 0;
}

int fixture_teardown(void **state)
{
    fixture_close(*state);
    free(*state);
    return 0;
}
