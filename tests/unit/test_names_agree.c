/*
 * test_names_agree.c: the client and the server judge names and paths alike. One temporary
 * share holds a name for each rule where the copies once disagreed (CON.txt, DEL, "forms" at
 * and below the library root, thicket and '~' folders, a trailing dot) and paths outside the
 * BMP exactly at the limit and one unit over. The client's scan judges it; every entry the
 * scan reaches goes, as the client writes packages, through the package checks and the
 * server's staged import of the tenant's Documents library. All three must say the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "package.h"
#include "package_write.h"
#include "scan.h"
#include "sp_import.h"
#include "sp_model.h"
#include "store_fixture.h"
#include "strbuf.h"
#include "uuid.h"

#define EMOJI  "\xf0\x9f\x98\x80" /* 4 bytes of UTF-8, 2 UTF-16 units */
#define MAX_AT 64

static char dir[FIXTURE_DIR_LEN];
static char share[64];
static struct sp_model_site site;
static struct sp_model_list docs;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    fixture_open(dir);
    assert_int_equal(sp_model_init("contoso"), 0);
    assert_int_equal(sp_model_site_get("/", &site), SP_MODEL_OK);
    assert_int_equal(sp_model_list_by_title(site.id, "Documents", &docs), SP_MODEL_OK);
    strcpy(share, "/tmp/test_names_agree_XXXXXX");
    return mkdtemp(share) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nftw(share, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    sp_model_site_finish(&site);
    sp_model_list_finish(&docs);
    fixture_close(dir);
    return 0;
}

static void mk(const char *rel, bool folder)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", share, rel);
    if (folder) {
        assert_int_equal(mkdir(path, 0755), 0);
        return;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
}

/* n emoji followed by tail. */
static char *emoji(char *buf, size_t cap, int n, const char *tail)
{
    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        strncat(buf, EMOJI, cap - strlen(buf) - 1);
    strncat(buf, tail, cap - strlen(buf) - 1);
    return buf;
}

/* What the scan said of one entry, and the ids the package and the import give it. */
struct entry {
    char rel[1024];
    bool folder;
    enum scan_verdict v;
    int parent; /* index of the containing folder, -1 at the top */
    char id[UUID_BUF], item_id[UUID_BUF];
};

struct walk {
    struct entry e[MAX_AT];
    int n;
};

static int collect(void *ctx, const struct scan_entry *se)
{
    struct walk *w = ctx;
    assert_true(w->n < MAX_AT);
    struct entry *e = &w->e[w->n];
    snprintf(e->rel, sizeof e->rel, "%s", se->rel);
    e->folder = se->kind == SCAN_FOLDER;
    e->v = se->verdict;
    e->parent = -1;
    const char *slash = strrchr(se->rel, '/');
    for (int i = 0; slash && i < w->n; i++)
        if (w->e[i].folder && strlen(w->e[i].rel) == (size_t)(slash - se->rel) &&
            strncmp(w->e[i].rel, se->rel, (size_t)(slash - se->rel)) == 0)
            e->parent = i;
    snprintf(e->id, sizeof e->id, "a0000000-0000-4000-8000-%012x", (unsigned)w->n + 1);
    snprintf(e->item_id, sizeof e->item_id, "b0000000-0000-4000-8000-%012x", (unsigned)w->n + 1);
    w->n++;
    return 0;
}

/* Whether the checks reach the entry: its folder was sent (the scan fails what is under a
 * failed folder without judging its name, and the server never sees it). */
static bool reached(const struct walk *w, const struct entry *e)
{
    return e->parent < 0 || scan_migrates(w->e[e->parent].v);
}

/* The package checks' verdict of every entry reached: true when it is not excluded. */
static void package_verdicts(const struct walk *w, bool ok[MAX_AT])
{
    struct pkgw_target t = {
        .site_url = "http://127.0.0.1",
        .web_id = site.web_uuid,
        .web_url = site.url,
        .web_root_folder_id = site.root_folder_uuid,
        .list_id = docs.uuid,
        .list_title = docs.title,
        .root_folder_id = docs.root_folder_uuid,
        .root_folder_url = docs.root_url,
        .source_location = share,
    };
    struct pkgw_user user = {1, "Ann", "i:0#.f|membership|ann@contoso.com", "ann@contoso.com"};
    struct pkgw_object objs[MAX_AT];
    int at[MAX_AT], n = 0;
    for (int i = 0; i < w->n; i++) {
        const struct entry *e = &w->e[i];
        if (!reached(w, e))
            continue;
        objs[n] = (struct pkgw_object){
            .is_folder = e->folder,
            .rel = e->rel,
            .id = e->id,
            .item_id = e->item_id,
            .parent_id = e->parent < 0 ? NULL : w->e[e->parent].id,
            .author = 1,
            .editor = 1,
            .created_ms = 1709284500000LL,
            .modified_ms = 1709284500000LL,
            .blob = e->folder ? NULL : e->id,
            .size = e->folder ? 0 : 1,
        };
        at[n++] = i;
    }
    struct pkgw_package pkg = {&t, &user, 1, objs, (size_t)n};
    struct package_target pt = {.web_url = site.url, .root_folder_url = docs.root_url};
    assert_int_equal(uuid_parse(site.web_uuid, pt.web_id), 0);
    assert_int_equal(uuid_parse(docs.uuid, pt.list_id), 0);
    assert_int_equal(uuid_parse(docs.root_folder_uuid, pt.root_folder_id), 0);
    struct package *p = package_create(&pt);
    for (int k = 0; k < PACKAGE_FILE_KINDS; k++) {
        struct strbuf sb;
        strbuf_init(&sb, PACKAGE_XML_MAX_BYTES);
        assert_int_equal(pkgw_write(&pkg, (enum package_file)k, &sb), 0);
        assert_int_equal(package_parse(p, (enum package_file)k,
                                       package_file_name((enum package_file)k), sb.data, sb.len),
                         0);
        strbuf_finish(&sb);
    }
    assert_int_equal(package_finish(p), 0);
    assert_int_equal((int)p->n_objects, n);
    for (int j = 0; j < n; j++)
        ok[at[j]] = !p->objects[j].excluded;
    package_destroy(p);
}

/* The server's staged import of every entry reached, in walk order: true when staged. */
static void import_verdicts(const struct walk *w, bool ok[MAX_AT])
{
    struct sp_import *imp = sp_import_begin(docs.id, "job-names-agree");
    assert_non_null(imp);
    for (int i = 0; i < w->n; i++) {
        const struct entry *e = &w->e[i];
        if (!reached(w, e))
            continue;
        const char *slash = strrchr(e->rel, '/');
        const char *name = slash ? slash + 1 : e->rel;
        const char *parent = e->parent < 0 ? NULL : w->e[e->parent].id;
        int rc;
        if (e->folder) {
            struct sp_import_folder_spec f = {
                .uuid = e->id, .item_uuid = e->item_id, .parent_uuid = parent, .name = name};
            rc = sp_import_folder(imp, &f);
        } else {
            struct sp_import_version_spec v = {.major = 1, .data = "x", .size = 1};
            struct sp_import_file_spec f = {.uuid = e->id,
                                            .item_uuid = e->item_id,
                                            .parent_uuid = parent,
                                            .name = name,
                                            .versions = &v,
                                            .nversions = 1};
            rc = sp_import_file(imp, &f);
        }
        assert_true(rc == SP_MODEL_OK || rc == SP_MODEL_BAD_NAME);
        ok[i] = rc == SP_MODEL_OK;
    }
    assert_int_equal(sp_import_commit(imp), 0);
}

static void test_agree(void **state)
{
    (void)state;
    char a[300], b[300], name[300], rel[1024];
    /* Names where the three copies of the rules used to disagree. */
    const struct {
        const char *rel;
        bool folder;
        bool migrates;
    } names[] = {
        {"CON.txt", false, true},
        {"con.tar.gz", false, true},
        {"CON", false, false},
        {"del\x7f.txt", false, false},
        {"name.", false, true},
        {"forms", true, false},
        {"top", true, true},
        {"top/forms", true, true},
        {"Page_files", true, false},
        {"top/Seite-Dateien", true, false},
        {"Page_files.htm", false, true},
        {"~drafts", true, false},
        {"~notes.txt", false, true},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        mk(names[i].rel, names[i].folder);
    /* "/Shared Documents/" is 18 units; two folders of 63 emoji are 126 units each (252
     * bytes, under ext4's 255 a name): 18 + 126 + 1 + 126 + 1 = 272, so a file of 128 units
     * makes the path 400 and one of 129 makes it 401. */
    emoji(a, sizeof a, 63, "");
    emoji(b, sizeof b, 63, "");
    mk(a, true);
    snprintf(rel, sizeof rel, "%s/%s", a, b);
    mk(rel, true);
    char at_limit[1024], over[1024];
    snprintf(at_limit, sizeof at_limit, "%s/%s/%s", a, b, emoji(name, sizeof name, 63, "xy"));
    snprintf(over, sizeof over, "%s/%s/%s", a, b, emoji(name, sizeof name, 63, "xyz"));
    mk(at_limit, false);
    mk(over, false);

    struct walk *w = calloc(1, sizeof *w);
    assert_non_null(w);
    struct scan_options opt = {.dest_prefix = docs.root_url};
    assert_string_equal(docs.root_url, "/Shared Documents");
    assert_int_equal(scan_walk(share, &opt, collect, w, NULL), 0);

    bool pkg_ok[MAX_AT] = {0}, srv_ok[MAX_AT] = {0};
    package_verdicts(w, pkg_ok);
    import_verdicts(w, srv_ok);
    int compared = 0;
    for (int i = 0; i < w->n; i++) {
        const struct entry *e = &w->e[i];
        if (!reached(w, e))
            continue;
        bool client = scan_migrates(e->v);
        if (client != pkg_ok[i] || client != srv_ok[i])
            fail_msg("\"%s\": the scan says %d (%s), the package checks %s, the import %s", e->rel,
                     e->v, client ? "sent" : "not sent", pkg_ok[i] ? "ok" : "refused",
                     srv_ok[i] ? "ok" : "refused");
        compared++;
        /* And the answer is the one docs/decisions.md gives. */
        for (size_t j = 0; j < sizeof names / sizeof names[0]; j++)
            if (strcmp(names[j].rel, e->rel) == 0 && names[j].migrates != client)
                fail_msg("\"%s\" is %s, expected %s", e->rel, client ? "migrated" : "refused",
                         names[j].migrates ? "migrated" : "refused");
        if (strcmp(e->rel, at_limit) == 0)
            assert_true(client);
        if (strcmp(e->rel, over) == 0) {
            assert_int_equal(e->v, SCAN_FAIL_PATH_TOO_LONG);
            assert_false(client);
        }
    }
    /* Every name above, both folders and both long files. */
    assert_int_equal(compared, (int)(sizeof names / sizeof names[0]) + 4);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_agree, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
