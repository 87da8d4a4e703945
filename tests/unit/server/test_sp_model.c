/*
 * Unit tests for sp_model.c on a real temporary store: the tenant's root site, sites and
 * libraries, name rules, staged imports (invisible until commit, dropped by abort and after a
 * crash), replacement of resubmitted files with their versions, two imports into one library
 * at once that carry the same folder path with ids of their own, folder children, list item
 * paging, versions whose bytes are inline (no file) mixed with file-backed ones, and a
 * 10,000-file import (SPMIG_TEST_TIMING=1 prints how long it took;
 * SPMIG_TEST_FILTER=test_large_import runs only that one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store_fixture.h"
#include "db.h"
#include "extents.h"
#include "sp_import.h"
#include "sp_model.h"
#include "spmig_limits.h"
#include "store_files.h"
#include "xmalloc.h"

static char dir[FIXTURE_DIR_LEN];
static struct sp_model_site root_site;
static struct sp_model_list docs;

static int setup(void **state)
{
    (void)state;
    fixture_open(dir);
    assert_int_equal(sp_model_init("contoso"), 0);
    assert_int_equal(sp_model_site_get("/", &root_site), SP_MODEL_OK);
    assert_int_equal(sp_model_list_by_title(root_site.id, "Documents", &docs), SP_MODEL_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sp_model_site_finish(&root_site);
    sp_model_list_finish(&docs);
    fixture_close(dir);
    return 0;
}

static int count_extent_files(void)
{
    return fixture_count_extents(dir);
}

/* A closed extent file holding data. */
static void new_extent(const char *data, char path[STORE_FILES_PATH_MAX], uint64_t *size)
{
    struct store_files_writer w;
    assert_int_equal(store_files_writer_open(&w, false, false), 0);
    assert_int_equal(store_files_writer_write(&w, data, strlen(data)), 0);
    assert_int_equal(store_files_writer_close(&w, NULL), 0);
    memcpy(path, w.path, STORE_FILES_PATH_MAX);
    *size = w.size;
}

static char *read_extent(const char *path)
{
    int fd = store_files_open(path);
    assert_true(fd >= 0);
    char *buf = xcalloc(1, 4096);
    ssize_t n = read(fd, buf, 4095);
    assert_true(n >= 0);
    close(fd);
    return buf;
}

/* Deterministic GUIDs for tests: kind and n. */
static const char *guid(char buf[SP_MODEL_UUID_LEN], unsigned kind, unsigned n)
{
    snprintf(buf, SP_MODEL_UUID_LEN, "%08x-0000-4000-8000-%012x", kind, n);
    return buf;
}

/* Stages a file with one version per element of contents (NULL-terminated). */
static int stage_file(struct sp_import *imp, const char *uuid, const char *parent, const char *name,
                      int int_id, const char *const *contents)
{
    struct sp_import_version_spec v[8];
    char paths[8][STORE_FILES_PATH_MAX];
    size_t n = 0;
    for (; contents[n]; n++) {
        memset(&v[n], 0, sizeof v[n]);
        new_extent(contents[n], paths[n], &v[n].size);
        v[n].extent = paths[n];
        v[n].major = (int)n + 1;
        v[n].minor = 0;
    }
    struct sp_import_file_spec f = {0};
    f.uuid = uuid;
    f.parent_uuid = parent;
    f.name = name;
    f.int_id = int_id;
    f.versions = v;
    f.nversions = n;
    int rc = sp_import_file(imp, &f);
    if (rc != SP_MODEL_OK)
        for (size_t i = 0; i < n; i++)
            store_files_unlink(paths[i]);
    return rc;
}

static int stage_folder(struct sp_import *imp, const char *uuid, const char *parent,
                        const char *name)
{
    struct sp_import_folder_spec f = {0};
    f.uuid = uuid;
    f.parent_uuid = parent;
    f.name = name;
    return sp_import_folder(imp, &f);
}

static int64_t item_count(void)
{
    struct sp_model_list l = {0};
    assert_int_equal(sp_model_list_by_uuid(docs.uuid, &l), SP_MODEL_OK);
    int64_t n = l.item_count;
    sp_model_list_finish(&l);
    return n;
}

static bool exists(const char *path)
{
    struct sp_model_item it = {0};
    int rc = sp_model_item_by_path(path, &it);
    sp_model_item_finish(&it);
    return rc == SP_MODEL_OK;
}

/* ---- callbacks collecting names ---- */

struct names {
    char buf[4096];
    int n;
};

static void add_name(struct names *ns, const char *s)
{
    size_t len = strlen(ns->buf);
    snprintf(ns->buf + len, sizeof ns->buf - len, "%s%s", ns->n ? "," : "", s);
    ns->n++;
}

static void item_name(void *ctx, const struct sp_model_item *i)
{
    add_name(ctx, i->name);
}

static void site_url(void *ctx, const struct sp_model_site *s)
{
    add_name(ctx, s->url);
}

static void list_title(void *ctx, const struct sp_model_list *l)
{
    add_name(ctx, l->title);
}

struct vers {
    char labels[256];
    char extents[8][STORE_FILES_PATH_MAX];
    int n, current;
};

static void version_cb(void *ctx, const struct sp_model_version *v)
{
    struct vers *vs = ctx;
    size_t len = strlen(vs->labels);
    snprintf(vs->labels + len, sizeof vs->labels - len, "%s%s", vs->n ? "," : "", v->label);
    if (v->is_current)
        vs->current = vs->n;
    if (vs->n < 8)
        memcpy(vs->extents[vs->n], v->extent, STORE_FILES_PATH_MAX);
    vs->n++;
}

/* Rows of table extents, or the small extents (packed or inline) for "small" (db_stmt caches
 * statements by their text's address, so each query is a literal). */
static int64_t row_count(const char *table)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, strcmp(table, "extents") == 0
                                      ? "SELECT count(*) FROM extents"
                                      : "SELECT count(*) FROM extents WHERE pack_off >= 0 OR "
                                        "file IS NULL");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    db_release(d);
    return n;
}

/* A version spec of n bytes: inline (data, no file) or in a new extent file (path). */
static void inline_or_file(struct sp_import_version_spec *v, const unsigned char *data, size_t n,
                           bool as_file, char path[STORE_FILES_PATH_MAX])
{
    memset(v, 0, sizeof *v);
    v->size = n;
    if (as_file) {
        struct store_files_writer w;
        assert_int_equal(store_files_writer_open(&w, false, false), 0);
        assert_int_equal(store_files_writer_write(&w, data, n), 0);
        assert_int_equal(store_files_writer_close(&w, NULL), 0);
        memcpy(path, w.path, STORE_FILES_PATH_MAX);
        v->extent = path;
    } else {
        v->data = n ? data : NULL;
    }
}

/* Asserts that version label (NULL: the current one) of item holds data, inline or not. */
static void assert_version_bytes(int64_t item, const char *label, const unsigned char *data,
                                 size_t n, bool is_inline)
{
    struct sp_model_version v = {0};
    assert_int_equal(sp_model_file_version(item, label, &v), SP_MODEL_OK);
    assert_int_equal(v.size, n);
    if (is_inline) {
        assert_string_equal(v.extent, "");
        assert_non_null(v.data);
        if (n)
            assert_memory_equal(v.data, data, n);
    } else {
        assert_null(v.data);
        assert_true(v.extent[0]);
        int fd = store_files_open(v.extent);
        assert_true(fd >= 0);
        unsigned char *buf = xmalloc(n + 1);
        assert_int_equal(read(fd, buf, n + 1), (ssize_t)n);
        close(fd);
        assert_memory_equal(buf, data, n);
        free(buf);
    }
    sp_model_version_finish(&v);
}

/* ---- tests ---- */

static void test_init_idempotent(void **state)
{
    (void)state;
    assert_string_equal(root_site.title, "contoso");
    assert_string_equal(docs.root_url, "/Shared Documents");
    assert_int_equal(docs.base_template, 101);
    assert_int_equal(docs.item_count, 0);
    assert_int_equal(sp_model_init("contoso"), 0);
    assert_int_equal(sp_model_init("other"), 0);
    struct names ns = {0};
    assert_int_equal(sp_model_site_each(site_url, &ns), SP_MODEL_OK);
    assert_string_equal(ns.buf, "/");
    memset(&ns, 0, sizeof ns);
    assert_int_equal(sp_model_list_each(root_site.id, list_title, &ns), SP_MODEL_OK);
    assert_string_equal(ns.buf, "Documents");
    /* The library root is an item: int id 0, a folder, parent the web's root folder. */
    struct sp_model_item it = {0};
    assert_int_equal(sp_model_item_by_path("/shared documents/", &it), SP_MODEL_OK);
    assert_true(it.is_folder);
    assert_int_equal(it.int_id, 0);
    assert_string_equal(it.uuid, docs.root_folder_uuid);
    assert_string_equal(it.parent_uuid, root_site.root_folder_uuid);
    assert_string_equal(it.path, "/Shared Documents");
    sp_model_item_finish(&it);
    assert_int_equal(sp_model_item_by_int_id(docs.id, 0, &it), SP_MODEL_OK);
    sp_model_item_finish(&it);
}

static void test_sites_and_lists(void **state)
{
    (void)state;
    struct sp_model_site hr = {0}, got = {0};
    assert_int_equal(sp_model_site_create("/sites/hr", "HR", &hr), SP_MODEL_OK);
    assert_int_equal(sp_model_site_create("/SITES/HR", "HR again", NULL), SP_MODEL_EXISTS);
    assert_int_equal(sp_model_site_create("/sites/", "x", NULL), SP_MODEL_BAD_NAME);
    assert_int_equal(sp_model_site_create("/teams/x", "x", NULL), SP_MODEL_BAD_NAME);
    assert_int_equal(sp_model_site_create("/sites/a b", "x", NULL), SP_MODEL_BAD_NAME);
    assert_int_equal(sp_model_site_create("/sites/..", "x", NULL), SP_MODEL_BAD_NAME);
    assert_int_equal(sp_model_site_create("/sites/ok", "", NULL), SP_MODEL_BAD_NAME);
    assert_int_equal(sp_model_site_create("/SITES/Pay", "Pay", &got), SP_MODEL_OK);
    assert_string_equal(got.url, "/sites/Pay");
    sp_model_site_finish(&got);
    assert_int_equal(sp_model_site_get("/Sites/Hr", &got), SP_MODEL_OK);
    assert_int_equal(got.id, hr.id);
    assert_string_equal(got.url, "/sites/hr");
    sp_model_site_finish(&got);
    char upper[SP_MODEL_UUID_LEN + 2];
    snprintf(upper, sizeof upper, "{%s}", hr.web_uuid);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_int_equal(sp_model_site_by_web(upper, &got), SP_MODEL_OK);
    assert_int_equal(got.id, hr.id);
    sp_model_site_finish(&got);
    assert_int_equal(sp_model_site_get("/sites/nope", NULL), SP_MODEL_NOT_FOUND);

    /* A new site has its Documents library, like SharePoint's. */
    struct sp_model_list l = {0};
    assert_int_equal(sp_model_list_by_title(hr.id, "DOCUMENTS", &l), SP_MODEL_OK);
    assert_string_equal(l.root_url, "/sites/hr/Shared Documents");
    sp_model_list_finish(&l);

    assert_int_equal(sp_model_list_create(hr.id, "Team Docs", 101, &l), SP_MODEL_OK);
    assert_string_equal(l.root_url, "/sites/hr/Team Docs");
    assert_string_equal(l.title, "Team Docs");
    assert_int_equal(l.item_count, 0);
    struct sp_model_list l2 = {0};
    assert_int_equal(sp_model_list_by_uuid(l.uuid, &l2), SP_MODEL_OK);
    assert_int_equal(l2.id, l.id);
    sp_model_list_finish(&l2);
    assert_int_equal(sp_model_list_by_title(hr.id, "team docs", &l2), SP_MODEL_OK);
    assert_int_equal(l2.id, l.id);
    sp_model_list_finish(&l2);
    assert_int_equal(sp_model_list_create(hr.id, "TEAM DOCS", 101, NULL), SP_MODEL_EXISTS);
    assert_int_equal(sp_model_list_create(hr.id, "a:b", 101, NULL), SP_MODEL_BAD_NAME);
    assert_int_equal(sp_model_list_create(root_site.id, "sites", 101, NULL), SP_MODEL_BAD_NAME);
    assert_int_equal(sp_model_list_create(9999, "Orphan", 101, NULL), SP_MODEL_NOT_FOUND);
    assert_int_equal(sp_model_list_create(hr.id, "del\x7f", 101, NULL), SP_MODEL_BAD_NAME);
    /* Titles count UTF-16 units too: 127 characters outside the BMP and one more make 255,
     * two more 256. */
    char title[600] = "";
    for (int i = 0; i < 127; i++)
        strcat(title, "\xf0\x9f\x98\x80");
    strcat(title, "tt");
    assert_int_equal(sp_model_list_create(hr.id, title, 101, NULL), SP_MODEL_BAD_NAME);
    title[strlen(title) - 1] = '\0';
    assert_int_equal(sp_model_list_create(root_site.id, title, 101, NULL), SP_MODEL_OK);

    struct sp_model_item root = {0};
    assert_int_equal(sp_model_item_by_path("/sites/hr/team docs", &root), SP_MODEL_OK);
    assert_true(root.is_folder);
    assert_string_equal(root.uuid, l.root_folder_uuid);
    sp_model_item_finish(&root);
    sp_model_list_finish(&l);

    /* On the root site the library sits right under "/". */
    assert_int_equal(sp_model_list_create(root_site.id, "Team Docs", 101, &l), SP_MODEL_OK);
    assert_string_equal(l.root_url, "/Team Docs");
    sp_model_list_finish(&l);
    /* "Shared Documents" as a title collides with Documents' folder. */
    assert_int_equal(sp_model_list_create(root_site.id, "Shared Documents", 101, NULL),
                     SP_MODEL_EXISTS);

    struct names ns = {0};
    assert_int_equal(sp_model_site_each(site_url, &ns), SP_MODEL_OK);
    assert_string_equal(ns.buf, "/,/sites/hr,/sites/Pay");
    memset(&ns, 0, sizeof ns);
    assert_int_equal(sp_model_list_each(hr.id, list_title, &ns), SP_MODEL_OK);
    assert_string_equal(ns.buf, "Documents,Team Docs");
    sp_model_site_finish(&hr);
}

static void test_users(void **state)
{
    (void)state;
    int64_t a, b;
    assert_int_equal(sp_model_user_ensure("i:0#.f|membership|ann@contoso.com", "Ann", "ann@c", &a),
                     SP_MODEL_OK);
    assert_int_equal(sp_model_user_ensure("I:0#.F|MEMBERSHIP|ANN@CONTOSO.COM", "x", NULL, &b),
                     SP_MODEL_OK);
    assert_int_equal(a, b);
    struct sp_model_user u = {0};
    assert_int_equal(sp_model_user_get(a, &u), SP_MODEL_OK);
    assert_string_equal(u.title, "Ann");
    assert_string_equal(u.email, "ann@c");
    sp_model_user_finish(&u);
    assert_int_equal(sp_model_user_get(a + 100, &u), SP_MODEL_NOT_FOUND);
    assert_int_equal(sp_model_user_ensure("", NULL, NULL, &a), SP_MODEL_BAD_NAME);
}

static void test_bad_names(void **state)
{
    (void)state;
    /* One name per rule of sp_names.h (test_sp_names.c pins them all): refused by the import
     * as files and as folders. */
    static const char *const bad[] = {
        "a\"b",        "a*b",         "a:b",      "a<b",      "a>b",          "a?b",  "a/b",
        "a\\b",        "a|b",         " lead",    "trail ",   ".lock",        "CON",  "con",
        "PRN",         "aux",         "NUL",      "COM0",     "com9",         "LPT0", "lpt5",
        "desktop.ini", "DESKTOP.INI", "x_vti_y",  "_VTI_",    "~$doc.docx",   ".",    "..",
        "tab\there",   "del\x7f",     "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80",
    };
    /* Reserved names are whole names, so CON.txt is fine; so is a trailing dot. */
    static const char *const good[] = {"a.txt",     "CON.txt",    "COM10", "~doc", "x$~",
                                       "naïve.txt", "#hash%",     "a b",   "LPT",  ".hidden",
                                       "name.",     "Page_files", "forms"};
    struct sp_import *imp = sp_import_begin(docs.id, "job-bad-names");
    assert_non_null(imp);
    const char *const one[] = {"x", NULL};
    char g[SP_MODEL_UUID_LEN];
    unsigned n = 0;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (stage_file(imp, guid(g, 3, ++n), NULL, bad[i], 0, one) != SP_MODEL_BAD_NAME)
            fail_msg("the file name \"%s\" was not refused", bad[i]);
        if (stage_folder(imp, guid(g, 3, ++n), NULL, bad[i]) != SP_MODEL_BAD_NAME)
            fail_msg("the folder name \"%s\" was not refused", bad[i]);
    }
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (stage_file(imp, guid(g, 3, ++n), NULL, good[i], 0, one) != SP_MODEL_OK)
            fail_msg("the file name \"%s\" was refused", good[i]);
    assert_int_equal(stage_folder(imp, "not-a-guid", NULL, "ok"), SP_MODEL_BAD_NAME);
    sp_import_abort(imp);

    /* Folder-only rules: "forms" directly in the library root, a leading '~' and thicket
     * endings anywhere; files of those names are fine (above). */
    imp = sp_import_begin(docs.id, "job-folder-names");
    assert_non_null(imp);
    assert_int_equal(stage_folder(imp, guid(g, 4, 1), NULL, "forms"), SP_MODEL_BAD_NAME);
    assert_int_equal(stage_folder(imp, guid(g, 4, 2), NULL, "FORMS"), SP_MODEL_BAD_NAME);
    assert_int_equal(stage_folder(imp, guid(g, 4, 3), docs.root_folder_uuid, "Forms"),
                     SP_MODEL_BAD_NAME);
    assert_int_equal(stage_folder(imp, guid(g, 4, 4), NULL, "~drafts"), SP_MODEL_BAD_NAME);
    assert_int_equal(stage_folder(imp, guid(g, 4, 5), NULL, "Page_files"), SP_MODEL_BAD_NAME);
    assert_int_equal(stage_folder(imp, guid(g, 4, 6), NULL, "Seite-Dateien"), SP_MODEL_BAD_NAME);
    char top[SP_MODEL_UUID_LEN];
    assert_int_equal(stage_folder(imp, guid(top, 4, 7), NULL, "top"), SP_MODEL_OK);
    assert_int_equal(stage_folder(imp, guid(g, 4, 8), top, "forms"), SP_MODEL_OK);
    assert_int_equal(stage_folder(imp, guid(g, 4, 9), top, "~drafts"), SP_MODEL_BAD_NAME);
    assert_int_equal(stage_folder(imp, guid(g, 4, 10), top, "x_file"), SP_MODEL_BAD_NAME);
    sp_import_abort(imp);

    imp = sp_import_begin(docs.id, "job-long-names");
    assert_non_null(imp);
    /* "/Shared Documents/" is 18 characters; the path may have 400. */
    char name[400];
    memset(name, 'n', sizeof name);
    name[400 - 18] = '\0';
    assert_int_equal(stage_folder(imp, guid(g, 1, 1), NULL, name), SP_MODEL_OK);
    name[400 - 18] = 'n';
    name[400 - 17] = '\0';
    assert_int_equal(stage_folder(imp, guid(g, 1, 2), NULL, name), SP_MODEL_BAD_NAME);
    /* Characters, not bytes: 382 two-byte characters fit. */
    char wide[800];
    size_t o = 0;
    for (int i = 0; i < 382; i++) {
        wide[o++] = (char)0xc3;
        wide[o++] = (char)0xa9;
    }
    wide[o] = '\0';
    assert_int_equal(stage_folder(imp, guid(g, 1, 3), NULL, wide), SP_MODEL_OK);
    /* UTF-16 units, not code points: 190 characters outside the BMP are 380 units, so "ab"
     * makes the path 400 and "abc" 401 (only 211 code points). */
    char emoji[800] = "";
    for (int i = 0; i < 190; i++)
        strcat(emoji, "\xf0\x9f\x98\x80");
    strcat(emoji, "ab");
    const char *const data[] = {"x", NULL};
    assert_int_equal(stage_file(imp, guid(g, 1, 4), NULL, emoji, 0, data), SP_MODEL_OK);
    strcat(emoji, "c");
    assert_int_equal(stage_file(imp, guid(g, 1, 5), NULL, emoji, 0, data), SP_MODEL_BAD_NAME);
    assert_int_equal(sp_import_commit(imp), 0);
    assert_int_equal(item_count(), 3);
}

static void test_import_invisible_until_commit(void **state)
{
    (void)state;
    int before = count_extent_files();
    struct sp_import *imp = sp_import_begin(docs.id, "job-1");
    assert_non_null(imp);
    char fa[SP_MODEL_UUID_LEN], fx[SP_MODEL_UUID_LEN];
    guid(fa, 2, 1);
    guid(fx, 3, 1);
    assert_int_equal(stage_folder(imp, fa, NULL, "a"), SP_MODEL_OK);
    const char *const c[] = {"hello", NULL};
    assert_int_equal(stage_file(imp, fx, fa, "x.txt", 0, c), SP_MODEL_OK);
    /* Staging the same things again in one job is refused. */
    assert_int_equal(stage_folder(imp, fa, NULL, "a2"), SP_MODEL_EXISTS);
    char other[SP_MODEL_UUID_LEN];
    assert_int_equal(stage_file(imp, guid(other, 3, 2), fa, "X.TXT", 0, c), SP_MODEL_EXISTS);
    char unknown[SP_MODEL_UUID_LEN];
    assert_int_equal(stage_file(imp, guid(other, 3, 3), guid(unknown, 9, 9), "y", 0, c),
                     SP_MODEL_NOT_FOUND);
    assert_int_equal(stage_file(imp, guid(other, 3, 4), fx, "under-a-file", 0, c),
                     SP_MODEL_NOT_FOUND);

    assert_false(exists("/Shared Documents/a"));
    assert_false(exists("/Shared Documents/a/x.txt"));
    assert_int_equal(item_count(), 0);
    struct names ns = {0};
    assert_int_equal(sp_model_folder_children("/Shared Documents", true, item_name, &ns),
                     SP_MODEL_OK);
    assert_int_equal(ns.n, 0);
    struct sp_model_item it = {0};
    assert_int_equal(sp_model_item_by_uuid(docs.id, fx, &it), SP_MODEL_NOT_FOUND);
    assert_int_equal(count_extent_files(), before + 1);

    assert_int_equal(sp_import_commit(imp), 0);
    assert_true(exists("/shared documents/A"));
    assert_int_equal(item_count(), 2);
    assert_int_equal(sp_model_item_by_path("/Shared Documents/a/x.txt", &it), SP_MODEL_OK);
    assert_false(it.is_folder);
    assert_string_equal(it.uuid, fx);
    assert_string_equal(it.parent_uuid, fa);
    assert_string_equal(it.name, "x.txt");
    assert_string_equal(it.version, "1.0");
    assert_int_equal(it.size, 5);
    assert_true(it.int_id > 0);
    assert_true(it.created_ms > 0 && it.author_id > 0);
    struct sp_model_version v = {0};
    assert_int_equal(sp_model_file_version(it.id, NULL, &v), SP_MODEL_OK);
    char *got = read_extent(v.extent);
    assert_string_equal(got, "hello");
    free(got);
    sp_model_version_finish(&v);
    struct sp_model_item again = {0};
    assert_int_equal(sp_model_item_by_int_id(docs.id, it.int_id, &again), SP_MODEL_OK);
    assert_string_equal(again.path, "/Shared Documents/a/x.txt");
    sp_model_item_finish(&again);
    assert_int_equal(sp_model_item_by_uuid(docs.id, fx, &again), SP_MODEL_OK);
    sp_model_item_finish(&again);
    sp_model_item_finish(&it);
    assert_int_equal(count_extent_files(), before + 1);
}

static void test_abort_releases_extents(void **state)
{
    (void)state;
    int before = count_extent_files();
    struct sp_import *imp = sp_import_begin(docs.id, "job-abort");
    assert_non_null(imp);
    const char *const c[] = {"v1", "v2", NULL};
    char g[SP_MODEL_UUID_LEN], name[32];
    /* More than one batch, so some rows reached the database and some did not. */
    for (unsigned i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "f%03u.txt", i);
        assert_int_equal(stage_file(imp, guid(g, 4, i), NULL, name, 0, c), SP_MODEL_OK);
    }
    assert_int_equal(count_extent_files(), before + 600);
    sp_import_abort(imp);
    sp_import_abort(NULL);
    assert_int_equal(count_extent_files(), before);
    assert_false(exists("/Shared Documents/f000.txt"));
    assert_int_equal(item_count(), 0);
    /* The same ids and paths are free again. */
    imp = sp_import_begin(docs.id, "job-after-abort");
    assert_non_null(imp);
    assert_int_equal(stage_file(imp, guid(g, 4, 0), NULL, "f000.txt", 0, c), SP_MODEL_OK);
    assert_int_equal(sp_import_commit(imp), 0);
    assert_int_equal(count_extent_files(), before + 2);
    assert_int_equal(item_count(), 1);
}

static void test_resubmission_replaces(void **state)
{
    (void)state;
    int before = count_extent_files();
    char fu[SP_MODEL_UUID_LEN], fu2[SP_MODEL_UUID_LEN], fo[SP_MODEL_UUID_LEN];
    guid(fu, 5, 1);
    guid(fu2, 5, 2);
    guid(fo, 5, 3);
    struct sp_import *imp = sp_import_begin(docs.id, "job-r1");
    const char *const three[] = {"one", "two", "three", NULL};
    assert_int_equal(stage_folder(imp, fo, NULL, "dir"), SP_MODEL_OK);
    assert_int_equal(stage_file(imp, fu, fo, "r.txt", 0, three), SP_MODEL_OK);
    assert_int_equal(sp_import_commit(imp), 0);
    assert_int_equal(count_extent_files(), before + 3);
    struct sp_model_item first = {0};
    assert_int_equal(sp_model_item_by_path("/Shared Documents/dir/r.txt", &first), SP_MODEL_OK);
    struct vers vs = {0};
    assert_int_equal(sp_model_file_versions(first.id, version_cb, &vs), SP_MODEL_OK);
    assert_string_equal(vs.labels, "1.0,2.0,3.0");
    char old[3][STORE_FILES_PATH_MAX];
    memcpy(old, vs.extents, sizeof old);

    /* Same uuid, same folder (merged, not duplicated), one version: replaces all three. */
    imp = sp_import_begin(docs.id, "job-r2");
    const char *const one[] = {"new", NULL};
    assert_int_equal(stage_folder(imp, fo, NULL, "DIR"), SP_MODEL_OK);
    assert_int_equal(stage_file(imp, fu, fo, "r.txt", 0, one), SP_MODEL_OK);
    /* Before the commit the old file is what readers see. */
    memset(&vs, 0, sizeof vs);
    assert_int_equal(sp_model_file_versions(first.id, version_cb, &vs), SP_MODEL_OK);
    assert_int_equal(vs.n, 3);
    assert_int_equal(sp_import_commit(imp), 0);
    assert_int_equal(count_extent_files(), before + 1);
    for (int i = 0; i < 3; i++) {
        char full[256];
        store_files_full_path(old[i], full, sizeof full);
        assert_int_not_equal(access(full, F_OK), 0);
    }
    struct sp_model_item second = {0};
    assert_int_equal(sp_model_item_by_path("/Shared Documents/dir/r.txt", &second), SP_MODEL_OK);
    assert_int_not_equal(second.id, first.id);
    assert_int_equal(second.int_id, first.int_id); /* kept when the package gives none */
    assert_string_equal(second.version, "1.0");
    assert_int_equal(sp_model_file_versions(first.id, version_cb, &vs), SP_MODEL_NOT_FOUND);
    memset(&vs, 0, sizeof vs);
    assert_int_equal(sp_model_file_versions(second.id, version_cb, &vs), SP_MODEL_OK);
    assert_int_equal(vs.n, 1);
    char *got = read_extent(vs.extents[0]);
    assert_string_equal(got, "new");
    free(got);
    assert_int_equal(item_count(), 2);

    /* A new uuid at the same path replaces it too. */
    imp = sp_import_begin(docs.id, "job-r3");
    const char *const other[] = {"other", NULL};
    assert_int_equal(stage_file(imp, fu2, fo, "R.TXT", 0, other), SP_MODEL_OK);
    assert_int_equal(sp_import_commit(imp), 0);
    assert_int_equal(count_extent_files(), before + 1);
    struct sp_model_item third = {0};
    assert_int_equal(sp_model_item_by_path("/Shared Documents/dir/r.txt", &third), SP_MODEL_OK);
    assert_string_equal(third.uuid, fu2);
    assert_string_equal(third.name, "R.TXT");
    assert_int_equal(sp_model_item_by_uuid(docs.id, fu, NULL), SP_MODEL_NOT_FOUND);
    assert_int_equal(item_count(), 2);
    sp_model_item_finish(&first);
    sp_model_item_finish(&second);
    sp_model_item_finish(&third);
}

static void test_conflicts(void **state)
{
    (void)state;
    char fo[SP_MODEL_UUID_LEN], ff[SP_MODEL_UUID_LEN], g[SP_MODEL_UUID_LEN];
    guid(fo, 6, 1);
    guid(ff, 6, 2);
    struct sp_import *imp = sp_import_begin(docs.id, "job-c1");
    const char *const c[] = {"c", NULL};
    assert_int_equal(stage_folder(imp, fo, NULL, "folder"), SP_MODEL_OK);
    assert_int_equal(stage_file(imp, ff, NULL, "file.txt", 7, c), SP_MODEL_OK);
    assert_int_equal(sp_import_commit(imp), 0);

    imp = sp_import_begin(docs.id, "job-c2");
    /* A folder where a folder with another id is: merged into the live one, which its
     * children take as parent. A folder where a file is. */
    char other[SP_MODEL_UUID_LEN];
    assert_int_equal(stage_folder(imp, guid(other, 6, 3), NULL, "Folder"), SP_MODEL_OK);
    assert_int_equal(stage_file(imp, guid(g, 6, 9), other, "via-other-id.txt", 0, c), SP_MODEL_OK);
    assert_int_equal(stage_folder(imp, guid(g, 6, 10), NULL, "file.txt"), SP_MODEL_CONFLICT);
    /* A file where a folder is, a file with a folder's id, a folder with a file's id. */
    assert_int_equal(stage_file(imp, guid(g, 6, 4), NULL, "folder", 0, c), SP_MODEL_CONFLICT);
    assert_int_equal(stage_file(imp, fo, NULL, "elsewhere.txt", 0, c), SP_MODEL_CONFLICT);
    assert_int_equal(stage_folder(imp, ff, NULL, "f2"), SP_MODEL_CONFLICT);
    /* An int id another live item holds. */
    assert_int_equal(stage_file(imp, guid(g, 6, 5), NULL, "n.txt", 7, c), SP_MODEL_CONFLICT);
    assert_int_equal(stage_file(imp, guid(g, 6, 6), NULL, "n.txt", 50, c), SP_MODEL_OK);
    assert_int_equal(stage_file(imp, guid(g, 6, 7), NULL, "m.txt", 50, c), SP_MODEL_EXISTS);
    /* The same extent twice. */
    struct sp_import_version_spec v[2] = {0};
    char p[STORE_FILES_PATH_MAX];
    new_extent("dup", p, &v[0].size);
    v[0].extent = v[1].extent = p;
    v[0].label = "1.0";
    v[1].label = "2.0";
    struct sp_import_file_spec f = {0};
    f.name = "dup.txt";
    f.versions = v;
    f.nversions = 2;
    assert_int_equal(sp_import_file(imp, &f), SP_MODEL_CONFLICT);
    f.nversions = 1;
    assert_int_equal(sp_import_file(imp, &f), SP_MODEL_OK);
    f.name = "dup2.txt";
    assert_int_equal(sp_import_file(imp, &f), SP_MODEL_CONFLICT);
    /* Same folder again: merged, its new children land under the live one. */
    assert_int_equal(stage_folder(imp, fo, NULL, "folder"), SP_MODEL_OK);
    assert_int_equal(stage_file(imp, guid(g, 6, 8), fo, "inside.txt", 0, c), SP_MODEL_OK);
    /* The library root as the package's first folder: already there. */
    assert_int_equal(
        stage_folder(imp, docs.root_folder_uuid, root_site.root_folder_uuid, "Shared Documents"),
        SP_MODEL_OK);
    assert_int_equal(stage_folder(imp, docs.root_folder_uuid, NULL, "Other Name"),
                     SP_MODEL_CONFLICT);
    assert_int_equal(sp_import_commit(imp), 0);
    assert_true(exists("/Shared Documents/folder/inside.txt"));
    assert_true(exists("/Shared Documents/dup.txt"));
    struct sp_model_item it = {0};
    assert_int_equal(sp_model_item_by_path("/Shared Documents/Folder/via-other-id.txt", &it),
                     SP_MODEL_OK);
    assert_string_equal(it.parent_uuid, fo);
    assert_string_equal(it.path, "/Shared Documents/folder/via-other-id.txt");
    sp_model_item_finish(&it);
    assert_int_equal(sp_model_item_by_uuid(docs.id, other, NULL), SP_MODEL_NOT_FOUND);
    assert_int_equal(sp_model_item_by_int_id(docs.id, 50, &it), SP_MODEL_OK);
    assert_string_equal(it.name, "n.txt");
    sp_model_item_finish(&it);
    /* The folder of the first job had no id from the package: it got the next after 7. */
    assert_int_equal(sp_model_item_by_path("/Shared Documents/folder", &it), SP_MODEL_OK);
    assert_int_equal(it.int_id, 8);
    sp_model_item_finish(&it);
    assert_int_equal(item_count(), 6);
}

/* Checks the item at path: its uuid, its parent's uuid and its exact path (case included). */
static void assert_item(const char *path, const char *uuid, const char *parent,
                        const char *exact_path)
{
    struct sp_model_item it = {0};
    assert_int_equal(sp_model_item_by_path(path, &it), SP_MODEL_OK);
    assert_string_equal(it.uuid, uuid);
    assert_string_equal(it.parent_uuid, parent);
    assert_string_equal(it.path, exact_path);
    sp_model_item_finish(&it);
}

enum concurrent_order {
    A_COMMITS_FIRST,
    B_COMMITS_FIRST,
    A_COMMITS_BEFORE_B_STAGES, /* B meets a live folder while staging */
};

/*
 * Two jobs into one library at once whose packages carry the same folder path with ids of
 * their own (two clients, each with its own state, make them): both commit, the folder live
 * at the later commit is kept and the later job's children go under it, and a file path both
 * carry holds the later commit's file.
 */
static void concurrent_jobs(enum concurrent_order order)
{
    int before = count_extent_files();
    char ua[SP_MODEL_UUID_LEN], sa[SP_MODEL_UUID_LEN], ub[SP_MODEL_UUID_LEN], sb[SP_MODEL_UUID_LEN],
        g[SP_MODEL_UUID_LEN];
    guid(ua, 0xa, 1);
    guid(sa, 0xa, 2);
    guid(ub, 0xb, 1);
    guid(sb, 0xb, 2);
    const char *const ca[] = {"from a", NULL};
    const char *const cb[] = {"from b", NULL};
    struct sp_import *a = sp_import_begin(docs.id, "job-a");
    struct sp_import *b = sp_import_begin(docs.id, "job-b");
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(stage_folder(a, ua, NULL, "Shared"), SP_MODEL_OK);
    assert_int_equal(stage_folder(a, sa, ua, "Sub"), SP_MODEL_OK);
    assert_int_equal(stage_file(a, guid(g, 0xa, 3), ua, "a.txt", 0, ca), SP_MODEL_OK);
    assert_int_equal(stage_file(a, guid(g, 0xa, 4), sa, "deep-a.txt", 0, ca), SP_MODEL_OK);
    assert_int_equal(stage_file(a, guid(g, 0xa, 5), ua, "both.txt", 0, ca), SP_MODEL_OK);
    if (order == A_COMMITS_BEFORE_B_STAGES)
        assert_int_equal(sp_import_commit(a), 0);
    assert_int_equal(stage_folder(b, ub, NULL, "SHARED"), SP_MODEL_OK);
    assert_int_equal(stage_folder(b, sb, ub, "sub"), SP_MODEL_OK);
    assert_int_equal(stage_file(b, guid(g, 0xb, 3), ub, "b.txt", 0, cb), SP_MODEL_OK);
    assert_int_equal(stage_file(b, guid(g, 0xb, 4), sb, "deep-b.txt", 0, cb), SP_MODEL_OK);
    assert_int_equal(stage_file(b, guid(g, 0xb, 5), ub, "Both.txt", 0, cb), SP_MODEL_OK);
    switch (order) {
    case A_COMMITS_FIRST:
        assert_int_equal(sp_import_commit(a), 0);
        assert_int_equal(sp_import_commit(b), 0);
        break;
    case B_COMMITS_FIRST:
        assert_int_equal(sp_import_commit(b), 0);
        assert_int_equal(sp_import_commit(a), 0);
        break;
    case A_COMMITS_BEFORE_B_STAGES:
        assert_int_equal(sp_import_commit(b), 0);
        break;
    }
    bool a_first = order != B_COMMITS_FIRST;
    /* The first commit made the folders; the later one's went, its children under them. */
    const char *top = a_first ? ua : ub, *sub = a_first ? sa : sb;
    const char *gone_top = a_first ? ub : ua, *gone_sub = a_first ? sb : sa;
    const char *top_path = a_first ? "/Shared Documents/Shared" : "/Shared Documents/SHARED";
    const char *sub_path =
        a_first ? "/Shared Documents/Shared/Sub" : "/Shared Documents/SHARED/sub";
    char want[256];
    assert_item("/shared documents/shared", top, docs.root_folder_uuid, top_path);
    assert_item("/shared documents/shared/sub", sub, top, sub_path);
    assert_int_equal(sp_model_item_by_uuid(docs.id, gone_top, NULL), SP_MODEL_NOT_FOUND);
    assert_int_equal(sp_model_item_by_uuid(docs.id, gone_sub, NULL), SP_MODEL_NOT_FOUND);
    snprintf(want, sizeof want, "%s/a.txt", top_path);
    assert_item("/shared documents/shared/a.txt", guid(g, 0xa, 3), top, want);
    snprintf(want, sizeof want, "%s/b.txt", top_path);
    assert_item("/shared documents/shared/b.txt", guid(g, 0xb, 3), top, want);
    snprintf(want, sizeof want, "%s/deep-a.txt", sub_path);
    assert_item("/shared documents/shared/sub/deep-a.txt", guid(g, 0xa, 4), sub, want);
    snprintf(want, sizeof want, "%s/deep-b.txt", sub_path);
    assert_item("/shared documents/shared/sub/deep-b.txt", guid(g, 0xb, 4), sub, want);
    /* The file both carry is the later commit's. */
    snprintf(want, sizeof want, "%s/%s", top_path, a_first ? "Both.txt" : "both.txt");
    assert_item("/shared documents/shared/both.txt", guid(g, a_first ? 0xb : 0xa, 5), top, want);
    struct sp_model_item it = {0};
    assert_int_equal(sp_model_item_by_path("/shared documents/shared/both.txt", &it), SP_MODEL_OK);
    struct sp_model_version v = {0};
    assert_int_equal(sp_model_file_version(it.id, NULL, &v), SP_MODEL_OK);
    char *got = read_extent(v.extent);
    assert_string_equal(got, a_first ? "from b" : "from a");
    free(got);
    sp_model_version_finish(&v);
    sp_model_item_finish(&it);
    assert_int_equal(sp_model_item_by_uuid(docs.id, guid(g, a_first ? 0xa : 0xb, 5), NULL),
                     SP_MODEL_NOT_FOUND);
    /* Listings by parent see everything under the one folder. */
    struct names ns = {0};
    assert_int_equal(sp_model_folder_children("/Shared Documents", true, item_name, &ns),
                     SP_MODEL_OK);
    assert_string_equal(ns.buf, a_first ? "Shared" : "SHARED");
    memset(&ns, 0, sizeof ns);
    assert_int_equal(sp_model_folder_children(top_path, false, item_name, &ns), SP_MODEL_OK);
    assert_string_equal(ns.buf, a_first ? "a.txt,b.txt,Both.txt" : "a.txt,b.txt,both.txt");
    memset(&ns, 0, sizeof ns);
    assert_int_equal(sp_model_folder_children(top_path, true, item_name, &ns), SP_MODEL_OK);
    assert_string_equal(ns.buf, a_first ? "Sub" : "sub");
    memset(&ns, 0, sizeof ns);
    assert_int_equal(sp_model_folder_children(sub_path, false, item_name, &ns), SP_MODEL_OK);
    assert_string_equal(ns.buf, "deep-a.txt,deep-b.txt");
    /* Two folders and five files; the replaced file's bytes are gone. */
    assert_int_equal(item_count(), 7);
    assert_int_equal(count_extent_files(), before + 5);
}

static void test_concurrent_a_first(void **state)
{
    (void)state;
    concurrent_jobs(A_COMMITS_FIRST);
}

static void test_concurrent_b_first(void **state)
{
    (void)state;
    concurrent_jobs(B_COMMITS_FIRST);
}

static void test_concurrent_live_while_staging(void **state)
{
    (void)state;
    concurrent_jobs(A_COMMITS_BEFORE_B_STAGES);
}

static void test_versions_order(void **state)
{
    (void)state;
    struct sp_import *imp = sp_import_begin(docs.id, "job-v");
    char p[3][STORE_FILES_PATH_MAX];
    struct sp_import_version_spec v[3] = {0};
    const char *const data[] = {"first", "second", "third!"};
    const char *const labels[] = {"1.0", "1.5", "2.0"};
    for (int i = 0; i < 3; i++) {
        new_extent(data[i], p[i], &v[i].size);
        v[i].extent = p[i];
        v[i].label = labels[i];
        v[i].major = i == 2 ? 2 : 1;
        v[i].minor = i == 1 ? 5 : 0;
        v[i].created_ms = 1000 * (i + 1);
        v[i].comment = i == 0 ? "initial" : NULL;
    }
    struct sp_import_file_spec f = {0};
    f.name = "v.txt";
    f.versions = v;
    f.nversions = 3;
    f.created_ms = 500;
    f.modified_ms = 3000;
    assert_int_equal(sp_import_file(imp, &f), SP_MODEL_OK);
    assert_int_equal(sp_import_commit(imp), 0);
    struct sp_model_item it = {0};
    assert_int_equal(sp_model_item_by_path("/Shared Documents/v.txt", &it), SP_MODEL_OK);
    assert_string_equal(it.version, "2.0");
    assert_int_equal(it.size, 6);
    assert_int_equal(it.created_ms, 500);
    assert_int_equal(it.modified_ms, 3000);
    struct vers vs = {0};
    assert_int_equal(sp_model_file_versions(it.id, version_cb, &vs), SP_MODEL_OK);
    assert_string_equal(vs.labels, "1.0,1.5,2.0");
    assert_int_equal(vs.current, 2);
    struct sp_model_version cur = {0}, old = {0};
    assert_int_equal(sp_model_file_version(it.id, NULL, &cur), SP_MODEL_OK);
    assert_string_equal(cur.label, "2.0");
    assert_true(cur.is_current);
    assert_int_equal(sp_model_file_version(it.id, "1.0", &old), SP_MODEL_OK);
    assert_false(old.is_current);
    assert_int_equal(old.created_ms, 1000);
    assert_string_equal(old.comment, "initial");
    assert_int_equal(old.major, 1);
    char *got = read_extent(old.extent);
    assert_string_equal(got, "first");
    free(got);
    sp_model_version_finish(&cur);
    sp_model_version_finish(&old);
    assert_int_equal(sp_model_file_version(it.id, "9.0", &old), SP_MODEL_NOT_FOUND);
    sp_model_item_finish(&it);
}

static void test_folder_children_order(void **state)
{
    (void)state;
    struct sp_import *imp = sp_import_begin(docs.id, "job-children");
    char fo[SP_MODEL_UUID_LEN], g[SP_MODEL_UUID_LEN];
    guid(fo, 7, 0);
    const char *const c[] = {"c", NULL};
    assert_int_equal(stage_folder(imp, fo, NULL, "parent"), SP_MODEL_OK);
    const char *const files[] = {"b.txt", "A.txt", "c.txt", "a2.txt"};
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(stage_file(imp, guid(g, 7, 10 + i), fo, files[i], 0, c), SP_MODEL_OK);
    assert_int_equal(stage_folder(imp, guid(g, 7, 20), fo, "Zeta"), SP_MODEL_OK);
    char alpha[SP_MODEL_UUID_LEN];
    assert_int_equal(stage_folder(imp, guid(alpha, 7, 21), fo, "alpha"), SP_MODEL_OK);
    assert_int_equal(stage_file(imp, guid(g, 7, 22), alpha, "deep.txt", 0, c), SP_MODEL_OK);
    assert_int_equal(sp_import_commit(imp), 0);
    struct names ns = {0};
    assert_int_equal(sp_model_folder_children("/Shared Documents/parent", false, item_name, &ns),
                     SP_MODEL_OK);
    assert_string_equal(ns.buf, "A.txt,a2.txt,b.txt,c.txt");
    memset(&ns, 0, sizeof ns);
    assert_int_equal(sp_model_folder_children("/shared documents/PARENT/", true, item_name, &ns),
                     SP_MODEL_OK);
    assert_string_equal(ns.buf, "alpha,Zeta");
    memset(&ns, 0, sizeof ns);
    assert_int_equal(sp_model_folder_children("/Shared Documents", true, item_name, &ns),
                     SP_MODEL_OK);
    assert_string_equal(ns.buf, "parent");
    assert_true(exists("/Shared Documents/parent/alpha/deep.txt"));
    assert_int_equal(
        sp_model_folder_children("/Shared Documents/parent/b.txt", false, item_name, &ns),
        SP_MODEL_NOT_FOUND);
    assert_int_equal(sp_model_folder_children("/Shared Documents/none", false, item_name, &ns),
                     SP_MODEL_NOT_FOUND);
}

struct ids {
    int v[64];
    int n;
};

static void item_id_cb(void *ctx, const struct sp_model_item *i)
{
    struct ids *ids = ctx;
    ids->v[ids->n++] = i->int_id;
}

static void test_list_items_paging(void **state)
{
    (void)state;
    struct sp_import *imp = sp_import_begin(docs.id, "job-paging");
    char g[SP_MODEL_UUID_LEN], name[32];
    const char *const c[] = {"c", NULL};
    for (unsigned i = 0; i < 25; i++) {
        snprintf(name, sizeof name, "p%02u.txt", i);
        /* Half of them keep an id from the package, the others get the next free one. */
        int id = i % 2 ? 100 + (int)i : 0;
        assert_int_equal(stage_file(imp, guid(g, 8, i), NULL, name, id, c), SP_MODEL_OK);
    }
    assert_int_equal(sp_import_commit(imp), 0);
    struct ids all = {0};
    int after = 0, pages = 0;
    for (;;) {
        struct ids page = {0};
        assert_int_equal(sp_model_list_items(docs.id, after, 10, item_id_cb, &page), SP_MODEL_OK);
        if (!page.n)
            break;
        assert_true(page.n <= 10);
        memcpy(all.v + all.n, page.v, (size_t)page.n * sizeof *page.v);
        all.n += page.n;
        after = page.v[page.n - 1];
        pages++;
    }
    assert_int_equal(all.n, 25);
    assert_int_equal(pages, 3);
    for (int i = 1; i < all.n; i++)
        assert_true(all.v[i] > all.v[i - 1]);
    struct sp_model_item it = {0};
    assert_int_equal(sp_model_item_by_int_id(docs.id, 101, &it), SP_MODEL_OK);
    assert_string_equal(it.name, "p01.txt");
    sp_model_item_finish(&it);
    /* Ids without one from the package come after the highest the job gave: the 13 even
     * ones are 124 to 136, in staging order. */
    assert_int_equal(all.v[12], 124);
    assert_int_equal(all.v[24], 136);
    assert_int_equal(sp_model_item_by_int_id(docs.id, 124, &it), SP_MODEL_OK);
    assert_string_equal(it.name, "p00.txt");
    sp_model_item_finish(&it);
    struct ids none = {0};
    assert_int_equal(sp_model_list_items(docs.id, 0, 0, item_id_cb, &none), SP_MODEL_OK);
    assert_int_equal(none.n, 25);
    assert_int_equal(sp_model_list_items(9999, 0, 10, item_id_cb, &none), SP_MODEL_NOT_FOUND);
}

/* A job that stages and then dies without commit or abort: drop_stale at the next start
 * removes its rows, and extents_remove_orphans the bytes that never reached a row. */
static void test_drop_stale_after_crash(void **state)
{
    (void)state;
    int before = count_extent_files();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child gets a connection of its own and never touches the parent's. */
        char *db = xasprintf("%s/spmig.db", dir);
        if (db_open(db, false) < 0)
            _exit(2);
        struct sp_import *imp = sp_import_begin(docs.id, "job-crash");
        if (!imp)
            _exit(3);
        const char *const c[] = {"crash", NULL};
        char g[SP_MODEL_UUID_LEN], name[32];
        for (unsigned i = 0; i < 300; i++) {
            snprintf(name, sizeof name, "crash%03u.txt", i);
            if (stage_file(imp, guid(g, 9, i), NULL, name, 0, c) != SP_MODEL_OK)
                _exit(4);
        }
        _exit(0); /* the crash: no commit, no abort */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(count_extent_files(), before + 300);
    assert_false(exists("/Shared Documents/crash000.txt"));
    assert_int_equal(sp_import_drop_stale(), 0);
    /* The 256 staged in the database are gone; the 44 still in memory are orphans. */
    assert_int_equal(count_extent_files(), before + 44);
    assert_int_equal(extents_remove_orphans(), 44);
    assert_int_equal(count_extent_files(), before);
    assert_false(exists("/Shared Documents/crash000.txt"));
    assert_int_equal(item_count(), 0);
    assert_int_equal(sp_import_drop_stale(), 0);
    /* The paths are free for the resubmission. */
    struct sp_import *imp = sp_import_begin(docs.id, "job-crash-again");
    char g[SP_MODEL_UUID_LEN];
    const char *const c[] = {"again", NULL};
    assert_int_equal(stage_file(imp, guid(g, 9, 0), NULL, "crash000.txt", 0, c), SP_MODEL_OK);
    assert_int_equal(sp_import_commit(imp), 0);
    assert_true(exists("/Shared Documents/crash000.txt"));
}

static double now_s(clockid_t which)
{
    struct timespec ts;
    clock_gettime(which, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 10,000 small files in 100 folders, staged and committed; then the same package again,
 * which replaces every file. The extent files are written before the clock starts. */
static void test_large_import(void **state)
{
    (void)state;
    enum { FOLDERS = 100, PER = 100, N = FOLDERS * PER };
    char(*paths)[STORE_FILES_PATH_MAX] = xcalloc(N, sizeof *paths);
    struct sp_import_version_spec *v = xcalloc(N, sizeof *v);
    double t_stage[2], t_commit[2], cpu[2];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            char data[32];
            snprintf(data, sizeof data, "file %d round %d", i, round);
            new_extent(data, paths[i], &v[i].size);
            v[i].extent = paths[i];
            v[i].label = "1.0";
            v[i].major = 1;
        }
        double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        struct sp_import *imp = sp_import_begin(docs.id, round ? "job-big-2" : "job-big-1");
        assert_non_null(imp);
        char fg[SP_MODEL_UUID_LEN], g[SP_MODEL_UUID_LEN], name[32];
        for (int d = 0; d < FOLDERS; d++) {
            snprintf(name, sizeof name, "folder%03d", d);
            assert_int_equal(stage_folder(imp, guid(fg, 10, (unsigned)d), NULL, name), SP_MODEL_OK);
            for (int i = 0; i < PER; i++) {
                int k = d * PER + i;
                snprintf(name, sizeof name, "file%05d.txt", k);
                struct sp_import_file_spec f = {0};
                f.uuid = guid(g, 11, (unsigned)k);
                f.parent_uuid = fg;
                f.name = name;
                f.int_id = FOLDERS + 1 + k;
                f.versions = &v[k];
                f.nversions = 1;
                assert_int_equal(sp_import_file(imp, &f), SP_MODEL_OK);
            }
        }
        double t1 = now_s(CLOCK_MONOTONIC);
        assert_int_equal(sp_import_commit(imp), 0);
        double t2 = now_s(CLOCK_MONOTONIC);
        cpu[round] = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        t_stage[round] = t1 - t0;
        t_commit[round] = t2 - t1;
        assert_int_equal(item_count(), FOLDERS + N);
        assert_int_equal(count_extent_files(), N);
    }
    struct sp_model_item it = {0};
    assert_int_equal(sp_model_item_by_path("/Shared Documents/folder042/file04217.txt", &it),
                     SP_MODEL_OK);
    assert_int_equal(it.int_id, FOLDERS + 1 + 4217);
    struct sp_model_version ver = {0};
    assert_int_equal(sp_model_file_version(it.id, NULL, &ver), SP_MODEL_OK);
    char *got = read_extent(ver.extent);
    assert_string_equal(got, "file 4217 round 1");
    free(got);
    sp_model_version_finish(&ver);
    sp_model_item_finish(&it);
    if (getenv("SPMIG_TEST_TIMING"))
        for (int r = 0; r < 2; r++)
            fprintf(stderr, "%s 10,000 files: stage %.3f s, commit %.3f s (cpu %.3f s)\n",
                    r ? "replace" : "import", t_stage[r], t_commit[r], cpu[r]);
    free(paths);
    free(v);
}

/* n bytes that differ from one seed to the next. */
static unsigned char *pattern(size_t n, unsigned seed)
{
    unsigned char *p = xmalloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 31 + seed * 7 + (i >> 8)) & 0xff);
    return p;
}

static void test_inline_versions_read_back(void **state)
{
    (void)state;
    int files = count_extent_files();
    int64_t rows = row_count("extents"), bytes = row_count("small");
    unsigned char *small = pattern(5, 1), *mid = pattern(1000, 2);
    unsigned char *at = pattern(LIMIT_INLINE_BYTES, 3);
    struct sp_import_version_spec v[4];
    char path[STORE_FILES_PATH_MAX];
    inline_or_file(&v[0], small, 5, false, NULL);
    inline_or_file(&v[1], NULL, 0, false, NULL); /* empty, inline too */
    inline_or_file(&v[2], mid, 1000, true, path);
    inline_or_file(&v[3], at, LIMIT_INLINE_BYTES, false, NULL);
    for (int i = 0; i < 4; i++)
        v[i].major = i + 1;
    char g[SP_MODEL_UUID_LEN];
    struct sp_import_file_spec f = {
        .uuid = guid(g, 12, 1), .name = "mixed.bin", .versions = v, .nversions = 4};
    struct sp_import *imp = sp_import_begin(docs.id, "job-inline");
    assert_non_null(imp);
    assert_int_equal(sp_import_file(imp, &f), SP_MODEL_OK);
    assert_int_equal(sp_import_commit(imp), 0);
    assert_int_equal(count_extent_files(), files + 1); /* only the file-backed version */
    assert_int_equal(row_count("extents"), rows + 4);
    assert_int_equal(row_count("small"), bytes + 3);

    struct sp_model_item it = {0};
    assert_int_equal(sp_model_item_by_path("/Shared Documents/mixed.bin", &it), SP_MODEL_OK);
    assert_int_equal(it.size, LIMIT_INLINE_BYTES);
    assert_version_bytes(it.id, "1.0", small, 5, true);
    assert_version_bytes(it.id, "2.0", NULL, 0, true);
    assert_version_bytes(it.id, "3.0", mid, 1000, false);
    assert_version_bytes(it.id, "4.0", at, LIMIT_INLINE_BYTES, true);
    assert_version_bytes(it.id, NULL, at, LIMIT_INLINE_BYTES, true);
    struct vers vs = {0};
    assert_int_equal(sp_model_file_versions(it.id, version_cb, &vs), SP_MODEL_OK);
    assert_string_equal(vs.labels, "1.0,2.0,3.0,4.0");
    assert_string_equal(vs.extents[0], "");
    assert_string_equal(vs.extents[2], path);
    sp_model_item_finish(&it);
    free(small);
    free(mid);
    free(at);
}

/* Imports uuid as r.bin with one version of data, inline or in a file. */
static void import_one(const char *job, const char *uuid, const unsigned char *data, size_t n,
                       bool as_file)
{
    struct sp_import_version_spec v;
    char path[STORE_FILES_PATH_MAX];
    inline_or_file(&v, data, n, as_file, path);
    v.major = 1;
    struct sp_import_file_spec f = {.uuid = uuid, .name = "r.bin", .versions = &v, .nversions = 1};
    struct sp_import *imp = sp_import_begin(docs.id, job);
    assert_non_null(imp);
    assert_int_equal(sp_import_file(imp, &f), SP_MODEL_OK);
    assert_int_equal(sp_import_commit(imp), 0);
}

static void test_inline_resubmission(void **state)
{
    (void)state;
    int files = count_extent_files();
    int64_t rows = row_count("extents"), bytes = row_count("small");
    char g[SP_MODEL_UUID_LEN];
    guid(g, 13, 1);
    unsigned char *small = pattern(100, 4);
    unsigned char *over = pattern(LIMIT_INLINE_BYTES + 1, 5);
    unsigned char *at = pattern(LIMIT_INLINE_BYTES, 6);
    struct sp_model_item it = {0};

    import_one("job-ri1", g, small, 100, false);
    assert_int_equal(count_extent_files(), files);
    assert_int_equal(row_count("small"), bytes + 1);
    assert_int_equal(sp_model_item_by_path("/Shared Documents/r.bin", &it), SP_MODEL_OK);
    assert_version_bytes(it.id, NULL, small, 100, true);
    sp_model_item_finish(&it);

    /* Inline replaced by a file: the inline bytes go with the old version. */
    import_one("job-ri2", g, over, LIMIT_INLINE_BYTES + 1, true);
    assert_int_equal(count_extent_files(), files + 1);
    assert_int_equal(row_count("small"), bytes);
    assert_int_equal(row_count("extents"), rows + 1);
    assert_int_equal(sp_model_item_by_path("/Shared Documents/r.bin", &it), SP_MODEL_OK);
    assert_version_bytes(it.id, NULL, over, LIMIT_INLINE_BYTES + 1, false);
    sp_model_item_finish(&it);

    /* And back: the file is removed once the replacement committed. */
    import_one("job-ri3", g, at, LIMIT_INLINE_BYTES, false);
    assert_int_equal(count_extent_files(), files);
    assert_int_equal(row_count("small"), bytes + 1);
    assert_int_equal(row_count("extents"), rows + 1);
    assert_int_equal(sp_model_item_by_path("/Shared Documents/r.bin", &it), SP_MODEL_OK);
    assert_version_bytes(it.id, NULL, at, LIMIT_INLINE_BYTES, true);
    sp_model_item_finish(&it);
    free(small);
    free(over);
    free(at);
}

/* Stages n files of LIMIT_INLINE_BYTES bytes each, which go to packs as they are staged. */
static int stage_inline_files(struct sp_import *imp, unsigned kind, int n)
{
    unsigned char *data = pattern(LIMIT_INLINE_BYTES, kind);
    char g[SP_MODEL_UUID_LEN], name[32];
    int rc = SP_MODEL_OK;
    for (int i = 0; i < n && rc == SP_MODEL_OK; i++) {
        struct sp_import_version_spec v;
        inline_or_file(&v, data, LIMIT_INLINE_BYTES, false, NULL);
        v.major = 1;
        snprintf(name, sizeof name, "in%03d.bin", i);
        struct sp_import_file_spec f = {
            .uuid = guid(g, kind, (unsigned)i), .name = name, .versions = &v, .nversions = 1};
        rc = sp_import_file(imp, &f);
    }
    free(data);
    return rc;
}

/* More files than an import stages before it writes a batch of rows (256), so some rows
 * reach the database before the end; 300 of them fill more than one pack. */
enum { INLINE_N = 300 };

static void test_inline_abort(void **state)
{
    (void)state;
    enum { N = INLINE_N };
    int64_t rows = row_count("extents"), bytes = row_count("small");
    int files = count_extent_files();
    struct sp_import *imp = sp_import_begin(docs.id, "job-inline-abort");
    assert_non_null(imp);
    assert_int_equal(stage_inline_files(imp, 14, N), SP_MODEL_OK);
    assert_true(row_count("small") > bytes);
    sp_import_abort(imp);
    assert_int_equal(row_count("small"), bytes);
    assert_int_equal(row_count("extents"), rows);
    assert_int_equal(item_count(), 0);
    /* The full packs went with their ranges; only the one still appended to stays. */
    assert_int_equal(count_extent_files(), files);
}

static void test_inline_crash(void **state)
{
    (void)state;
    enum { N = INLINE_N };
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *db = xasprintf("%s/spmig.db", dir);
        if (db_open(db, false) < 0)
            _exit(2);
        struct sp_import *c = sp_import_begin(docs.id, "job-inline-crash");
        if (!c || stage_inline_files(c, 15, N) != SP_MODEL_OK)
            _exit(3);
        _exit(0); /* no commit, no abort */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    int64_t rows = 0, bytes = 0; /* a fresh store: no extents of anything else */
    assert_true(row_count("small") > bytes);
    assert_int_equal(sp_import_drop_stale(), 0);
    assert_int_equal(row_count("small"), bytes);
    assert_int_equal(row_count("extents"), rows);
    /* The packs whose every range had a row went with the rows; the pack the child was
     * still appending to (the files staged after the last batch of rows) has none, and is
     * what the start-up sweep removes. */
    assert_int_equal(extents_remove_orphans(), 1);
    assert_int_equal(count_extent_files(), 0);
    assert_int_equal(item_count(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sites_and_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_invisible_until_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_releases_extents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resubmission_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_a_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_b_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_live_while_staging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_children_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_items_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_stale_after_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inline_versions_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inline_resubmission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inline_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inline_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_import, setup, teardown),
    };
    if (getenv("SPMIG_TEST_FILTER"))
        cmocka_set_test_filter(getenv("SPMIG_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
