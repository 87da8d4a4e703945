/*
 * test_package_write.c: unit tests of common/package_write.c. What it writes is read back by
 * the server's own parser (common/package.c): a package of nested folders and files whose
 * names and strings need escaping and non-ASCII UTF-8 must load with no issue at all, and
 * the model the parser builds must be what was written. Then the details: IntId left out,
 * the output limit, object order, a target on the root web, bad input, a 250-object manifest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "package.h"
#include "package_write.h"
#include "strbuf.h"
#include "uuid.h"

#define WEB      "5cfdbe90-402b-4794-b19d-08bf0b6e7a7e"
#define WEB_ROOT "abdabf9b-ea3c-44f7-b5d0-aeae72c91534"
#define LIST     "1d4a2089-bf6c-4e1d-be58-dc2972873c19"
#define ROOT     "808b844d-5249-4bd2-adbf-a9fff3d27fbd"

static const struct pkgw_target target = {
    .site_url = "https://contoso.sharepoint.com/sites/hr?a=1&b=<2>",
    .web_id = WEB,
    .web_url = "/sites/hr",
    .web_root_folder_id = WEB_ROOT,
    .list_id = LIST,
    .list_title = "Documents & \"Records\" <HR>",
    .root_folder_id = ROOT,
    .root_folder_url = "/sites/hr/Shared Documents",
    .source_location = "\\\\fileserver\\hr & 'co'",
};

static const struct pkgw_user users[] = {
    {1, "Ålice O'Brien <HR & Co>", "i:0#.f|membership|alice@contoso.com", "alice@contoso.com"},
    {2, "Bob \"Bobby\" Müller", "i:0#.f|membership|bob@contoso.com", NULL},
};

/* 2024-03-01T09:15:00Z and on, in ms; and one before 1970 (1969-07-20T20:17:40Z). */
#define T0   1709284500000LL
#define T_69 (-14182940000LL)

static const unsigned char md5_a[16] = {0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
                                        0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e};

/* Folders before their contents; names with '&', '\'', non-ASCII (2, 3 and 4 UTF-8 bytes). */
static const struct pkgw_object objects[] = {
    {.is_folder = true,
     .rel = "Reports & Plans",
     .id = "a805173f-3884-4776-aa08-d4758f451d55",
     .item_id = "4e366677-bd55-4178-a3b7-083c50a9717a",
     .int_id = 10,
     .author = 1,
     .editor = 2,
     .created_ms = T0,
     .modified_ms = T0 + 3600000},
    {.is_folder = true,
     .rel = "Reports & Plans/Zürich 2024",
     .id = "11111111-2222-4333-8444-555555555555",
     .item_id = "11111111-2222-4333-8444-666666666666",
     .parent_id = "a805173f-3884-4776-aa08-d4758f451d55",
     .int_id = 11,
     .author = 2,
     .editor = 2,
     .created_ms = T_69 - 1, /* rounded down to the second before */
     .modified_ms = T0},
    {.rel = "Reports & Plans/Zürich 2024/Q1 'final' – résumé.docx",
     .id = "b3ce433f-2f7d-4105-911c-9681fa30021f",
     .item_id = "2d4debf8-96a6-4db9-9716-9ee117eb343a",
     .parent_id = "11111111-2222-4333-8444-555555555555",
     .int_id = 12,
     .author = 1,
     .editor = 2,
     .created_ms = T0 + 60000,
     .modified_ms = T0 + 120000,
     .blob = "blobs/Q1 & more.dat",
     .size = 18234,
     .has_md5 = true,
     .version = "2.0"},
    {.rel = "Reports & Plans/日本語 😀.txt",
     .id = "0af84ed3-7231-464f-8d81-b8ca31005fd0",
     .item_id = "d7d1c5ef-54cf-42ec-8fec-ef57b51adbf6",
     .parent_id = "a805173f-3884-4776-aa08-d4758f451d55",
     .int_id = 13,
     .author = 2,
     .editor = 1,
     .created_ms = T0,
     .modified_ms = T0,
     .blob = "00000002.dat",
     .size = 0},
    {.rel = "top-level.bin",
     .id = "c0ffee00-0000-4000-8000-000000000001",
     .item_id = "c0ffee00-0000-4000-8000-000000000002",
     .int_id = 14,
     .author = 1,
     .editor = 1,
     .created_ms = T0,
     .modified_ms = T0 + 999, /* the fraction is dropped: seconds only */
     .blob = "00000003.dat",
     .size = 5LL << 30},
};
#define N_OBJECTS (sizeof objects / sizeof objects[0])

static struct pkgw_package package_of(const struct pkgw_target *t, const struct pkgw_object *objs,
                                      size_t n)
{
    return (struct pkgw_package){t, users, 2, objs, n};
}

static struct package_target parse_target(const struct pkgw_target *t)
{
    struct package_target pt = {.web_url = t->web_url, .root_folder_url = t->root_folder_url};
    assert_int_equal(uuid_parse(t->web_id, pt.web_id), 0);
    assert_int_equal(uuid_parse(t->list_id, pt.list_id), 0);
    assert_int_equal(uuid_parse(t->root_folder_id, pt.root_folder_id), 0);
    return pt;
}

static char *write_file(const struct pkgw_package *pkg, enum package_file kind)
{
    struct strbuf sb;
    strbuf_init(&sb, PACKAGE_XML_MAX_BYTES);
    assert_int_equal(pkgw_write(pkg, kind, &sb), 0);
    assert_non_null(sb.data);
    return strbuf_steal(&sb);
}

static void dump_issues(const struct package *p)
{
    for (size_t i = 0; i < p->n_issues; i++)
        fprintf(stderr, "  issue %d %s [%s] %s %d: %s\n", p->issues[i].level,
                p->issues[i].object_type, p->issues[i].url, p->issues[i].id,
                p->issues[i].error_code, p->issues[i].message);
}

/* Writes all eight files and reads them with the server's parser, which must find nothing
 * wrong. The caller destroys the package. */
static struct package *round_trip(const struct pkgw_package *pkg)
{
    struct package_target pt = parse_target(pkg->target);
    struct package *p = package_create(&pt);
    for (int k = 0; k < PACKAGE_FILE_KINDS; k++) {
        char *xml = write_file(pkg, (enum package_file)k);
        int rc = package_parse(p, (enum package_file)k, package_file_name((enum package_file)k),
                               xml, strlen(xml));
        if (rc != 0 || p->n_issues)
            fprintf(stderr, "%s:\n%s\n", package_file_name((enum package_file)k), xml);
        free(xml);
        assert_int_equal(rc, 0);
    }
    assert_int_equal(package_finish(p), 0);
    dump_issues(p);
    assert_int_equal(p->n_issues, 0);
    assert_int_equal(p->n_warnings + p->n_errors + p->n_fatal, 0);
    return p;
}

static void assert_guid(const unsigned char u[UUID_LEN], const char *want)
{
    unsigned char w[UUID_LEN];
    assert_int_equal(uuid_parse(want, w), 0);
    assert_memory_equal(u, w, UUID_LEN);
}

/* The parsed object is the one written. */
static void assert_same_object(const struct pkgw_target *t, const struct package_object *got,
                               const struct pkgw_object *want)
{
    const char *root_web = strcmp(t->web_url, "/") == 0
                               ? t->root_folder_url + 1
                               : t->root_folder_url + strlen(t->web_url) + 1;
    char url[1024];
    snprintf(url, sizeof url, "%s/%s", root_web, want->rel);
    const char *slash = strrchr(want->rel, '/');

    assert_int_equal(got->kind, want->is_folder ? PACKAGE_FOLDER : PACKAGE_FILE);
    assert_false(got->excluded);
    assert_guid(got->id, want->id);
    assert_guid(got->parent_id, want->parent_id ? want->parent_id : t->root_folder_id);
    assert_string_equal(got->url, url);
    assert_string_equal(got->name, slash ? slash + 1 : want->rel);
    assert_int_equal(got->list_item_int_id, want->int_id);
    assert_true(got->has_list_item_id);
    assert_guid(got->list_item_id, want->item_id);
    assert_int_equal(got->author, want->author);
    assert_int_equal(got->editor, want->editor);
    /* Whole seconds: the writer drops the fraction (floor, also before 1970). */
    assert_int_equal(got->created, want->created_ms - (want->created_ms % 1000 + 1000) % 1000);
    assert_int_equal(got->modified, want->modified_ms - (want->modified_ms % 1000 + 1000) % 1000);
    if (want->is_folder) {
        assert_int_equal(got->n_versions, 0);
        return;
    }
    assert_int_equal(got->n_versions, 1);
    const struct package_version *v = &got->versions[0];
    assert_string_equal(v->label, want->version ? want->version : "1.0");
    assert_string_equal(v->file_value, want->blob);
    assert_int_equal(v->file_size, want->size);
    assert_int_equal(v->has_md5, want->has_md5);
    if (want->has_md5)
        assert_memory_equal(v->md5, want->md5, 16);
    assert_false(v->has_iv);
    assert_int_equal(v->author, want->author);
    assert_int_equal(v->editor, want->editor);
    assert_int_equal(v->created, got->created);
    assert_int_equal(v->modified, got->modified);
    assert_null(v->checkin_comment);
}

/* ---- The whole package through the server's parser ---- */

static void test_round_trip(void **state)
{
    (void)state;
    struct pkgw_object objs[N_OBJECTS];
    memcpy(objs, objects, sizeof objs);
    memcpy(objs[2].md5, md5_a, 16);
    struct pkgw_package pkg = package_of(&target, objs, N_OBJECTS);
    struct package *p = round_trip(&pkg);

    assert_string_equal(p->site_url, target.site_url);
    assert_string_equal(p->source_type, "FileShare");
    assert_int_equal(p->n_manifest_names, 1);
    assert_string_equal(p->manifest_names[0], "Manifest.xml");

    assert_int_equal(p->n_users, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct package_user *u = package_user_find(p, users[i].id);
        assert_non_null(u);
        assert_string_equal(u->name, users[i].name);
        assert_string_equal(u->login, users[i].login);
        assert_string_equal(u->email, users[i].email ? users[i].email : "");
        assert_false(u->is_site_admin);
        assert_false(u->is_deleted);
    }

    assert_int_equal(p->n_objects, N_OBJECTS);
    for (size_t i = 0; i < N_OBJECTS; i++)
        assert_same_object(&target, &p->objects[i], &objs[i]);
    package_destroy(p);
}

/* The text itself: escaped as XML needs, UTF-8 written as is, times and hashes as the
 * documented samples write them. */
static void test_manifest_text(void **state)
{
    (void)state;
    struct pkgw_object objs[N_OBJECTS];
    memcpy(objs, objects, sizeof objs);
    memcpy(objs[2].md5, md5_a, 16);
    struct pkgw_package pkg = package_of(&target, objs, N_OBJECTS);
    char *m = write_file(&pkg, PACKAGE_MANIFEST);
    assert_non_null(strstr(m, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert_non_null(strstr(m, "<SPObjects xmlns=\"urn:deployment-manifest-schema\">"));
    assert_non_null(strstr(m, "Name=\"Reports &amp; Plans\""));
    assert_non_null(strstr(m, "Title=\"Documents &amp; &quot;Records&quot; &lt;HR&gt;\""));
    assert_non_null(strstr(m, "Name=\"Zürich 2024\""));
    assert_non_null(strstr(m, "日本語 😀.txt"));
    assert_null(strstr(m, "&#x")); /* no character references for non-ASCII */
    assert_non_null(strstr(m, "MD5Hash=\"1B2M2Y8AsgTpgAmY7PhCfg==\""));
    assert_non_null(strstr(m, "TimeCreated=\"2024-03-01T09:15:00\""));
    assert_non_null(strstr(m, "TimeCreated=\"1969-07-20T20:17:39\""));
    assert_non_null(strstr(m, "FileSize=\"5368709120\""));
    assert_non_null(strstr(m, "FileValue=\"blobs/Q1 &amp; more.dat\""));
    assert_non_null(strstr(m, "DirName=\"sites/hr/Shared Documents/Reports &amp; Plans\""));
    assert_non_null(strstr(m, "Order=\"1200\""));
    assert_non_null(strstr(m, "<Fields/>"));
    /* Two SPObjects for the root folder and library, then two for each object. */
    size_t n = 0;
    for (const char *s = m; (s = strstr(s, "<SPObject ")); s++)
        n++;
    assert_int_equal(n, 2 + 2 * N_OBJECTS);
    free(m);

    char *e = write_file(&pkg, PACKAGE_EXPORT_SETTINGS);
    assert_non_null(strstr(e, "FileLocation=\"\\\\fileserver\\hr &amp; 'co'\""));
    assert_non_null(strstr(e, "SourceType=\"FileShare\""));
    assert_non_null(strstr(e, "IncludeVersions=\"All\""));
    assert_non_null(strstr(e, "<DeploymentObject Id=\"" LIST "\" Type=\"List\""));
    free(e);

    char *s = write_file(&pkg, PACKAGE_SYSTEM_DATA);
    assert_non_null(strstr(s, "ObjectsProcessed=\"12\""));
    assert_non_null(strstr(s, "<ManifestFile Name=\"Manifest.xml\"/>"));
    free(s);

    char *v = write_file(&pkg, PACKAGE_VIEW_FORMS_LIST);
    assert_non_null(strstr(v, "<ViewFormsList xmlns=\"urn:deployment-viewformlist-schema\"/>"));
    free(v);
}

/* pkgw_write appends: what out held stays in front. */
static void test_appends(void **state)
{
    (void)state;
    struct pkgw_package pkg = package_of(&target, objects, N_OBJECTS);
    struct strbuf sb;
    strbuf_init(&sb, 0);
    strbuf_puts(&sb, "before|");
    assert_int_equal(pkgw_write(&pkg, PACKAGE_REQUIREMENTS, &sb), 0);
    assert_memory_equal(sb.data, "before|<?xml ", 13);
    assert_non_null(
        strstr(sb.data, "<Requirements xmlns=\"urn:deployment-requirements-schema\"/>"));
    strbuf_finish(&sb);
}

/* ---- Details ---- */

/* int_id 0: no ListItemIntId, IntId or Order; the server numbers the item. */
static void test_no_int_id(void **state)
{
    (void)state;
    struct pkgw_object objs[2] = {objects[0], objects[4]};
    objs[0].int_id = 0;
    objs[1].int_id = 0;
    struct pkgw_package pkg = package_of(&target, objs, 2);
    char *m = write_file(&pkg, PACKAGE_MANIFEST);
    assert_null(strstr(m, "ListItemIntId"));
    assert_null(strstr(m, "IntId="));
    assert_null(strstr(m, "Order="));
    free(m);

    objs[1].int_id = 7; /* mixed: only the one that has it */
    pkg = package_of(&target, objs, 2);
    m = write_file(&pkg, PACKAGE_MANIFEST);
    assert_non_null(strstr(m, "ListItemIntId=\"7\""));
    assert_non_null(strstr(m, "IntId=\"7\""));
    assert_int_equal(strstr(m, "ListItemIntId") - m, strstr(m, "ListItemIntId=\"7\"") - m);
    free(m);

    struct package *p = round_trip(&pkg);
    assert_int_equal(p->n_objects, 2);
    assert_int_equal(p->objects[0].list_item_int_id, 0);
    assert_int_equal(p->objects[1].list_item_int_id, 7);
    assert_true(p->objects[0].has_list_item_id);
    package_destroy(p);
}

/* A strbuf too small for the file: -1, and out never past its maximum. The exact size fits. */
static void test_limit(void **state)
{
    (void)state;
    struct pkgw_package pkg = package_of(&target, objects, N_OBJECTS);
    for (int k = 0; k < PACKAGE_FILE_KINDS; k++) {
        char *full = write_file(&pkg, (enum package_file)k);
        size_t len = strlen(full);
        size_t limits[] = {1, 64, len / 2, len - 1};
        for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
            struct strbuf sb;
            strbuf_init(&sb, limits[i]);
            assert_int_equal(pkgw_write(&pkg, (enum package_file)k, &sb), -1);
            assert_true(sb.len <= limits[i]);
            if (sb.len) /* a partial file: the start of the whole one */
                assert_memory_equal(sb.data, full, sb.len);
            strbuf_finish(&sb);
        }
        struct strbuf sb;
        strbuf_init(&sb, len);
        assert_int_equal(pkgw_write(&pkg, (enum package_file)k, &sb), 0);
        assert_int_equal(sb.len, len);
        assert_string_equal(sb.data, full);
        strbuf_finish(&sb);
        free(full);
    }
}

/* Objects come out in the order given, not sorted by name, kind or id. */
static void test_order(void **state)
{
    (void)state;
    /* top-level file first, then the folder tree with the later sibling first */
    struct pkgw_object objs[N_OBJECTS] = {objects[4], objects[0], objects[3], objects[1],
                                          objects[2]};
    struct pkgw_package pkg = package_of(&target, objs, N_OBJECTS);
    char *m = write_file(&pkg, PACKAGE_MANIFEST);
    const char *at = m;
    for (size_t i = 0; i < N_OBJECTS; i++) {
        char doc[80], item[80];
        snprintf(doc, sizeof doc, "<SPObject Id=\"%s\"", objs[i].id);
        snprintf(item, sizeof item, "<SPObject Id=\"%s\"", objs[i].item_id);
        const char *d = strstr(m, doc), *li = strstr(m, item);
        assert_non_null(d);
        assert_non_null(li);
        assert_true(d > at);
        assert_true(li > d); /* each document is followed by its list item */
        at = li;
    }
    free(m);
    struct package *p = round_trip(&pkg);
    assert_int_equal(p->n_objects, N_OBJECTS);
    for (size_t i = 0; i < N_OBJECTS; i++)
        assert_same_object(&target, &p->objects[i], &objs[i]);
    package_destroy(p);
}

/* A library on the root web: web url "/", so urls have no site prefix. */
static void test_root_web(void **state)
{
    (void)state;
    struct pkgw_target t = target;
    t.web_url = "/";
    t.root_folder_url = "/Shared Documents";
    t.list_title = "Documents";
    struct pkgw_package pkg = package_of(&t, objects, N_OBJECTS);
    char *m = write_file(&pkg, PACKAGE_MANIFEST);
    assert_non_null(strstr(m, "Url=\"/Shared Documents/Reports &amp; Plans\""));
    assert_non_null(strstr(m, "DirName=\"Shared Documents\""));
    free(m);
    struct package *p = round_trip(&pkg);
    assert_int_equal(p->n_objects, N_OBJECTS);
    for (size_t i = 0; i < N_OBJECTS; i++)
        assert_same_object(&t, &p->objects[i], &objects[i]);
    package_destroy(p);
}

/* Values no XML can carry, missing required values, impossible times and sizes: -1. */
static void test_bad_input(void **state)
{
    (void)state;
    struct pkgw_object o = objects[4];
    struct pkgw_package pkg = package_of(&target, &o, 1);
    struct strbuf sb;
    strbuf_init(&sb, 0);
    const char *bad_rels[] = {"ctl\x01.bin", "bad\xc3(utf8.bin", "over\xc0\xaflong.bin",
                              "surrogate\xed\xa0\x80.bin"};
    for (size_t i = 0; i < sizeof bad_rels / sizeof bad_rels[0]; i++) {
        o.rel = bad_rels[i];
        assert_int_equal(pkgw_write(&pkg, PACKAGE_MANIFEST, &sb), -1);
        strbuf_finish(&sb);
    }
    o = objects[4];
    o.blob = NULL;
    assert_int_equal(pkgw_write(&pkg, PACKAGE_MANIFEST, &sb), -1);
    strbuf_finish(&sb);
    o = objects[4];
    o.size = -1;
    assert_int_equal(pkgw_write(&pkg, PACKAGE_MANIFEST, &sb), -1);
    strbuf_finish(&sb);
    o = objects[4];
    o.modified_ms = 253402300800000LL; /* 10000-01-01 */
    assert_int_equal(pkgw_write(&pkg, PACKAGE_MANIFEST, &sb), -1);
    strbuf_finish(&sb);
    o = objects[4];
    o.item_id = NULL;
    assert_int_equal(pkgw_write(&pkg, PACKAGE_MANIFEST, &sb), -1);
    strbuf_finish(&sb);

    struct pkgw_target t = target;
    t.site_url = NULL;
    pkg = package_of(&t, objects, N_OBJECTS);
    assert_int_equal(pkgw_write(&pkg, PACKAGE_EXPORT_SETTINGS, &sb), -1);
    strbuf_finish(&sb);
    t = target;
    t.web_id = NULL;
    assert_int_equal(pkgw_write(&pkg, PACKAGE_LOOKUP_LIST_MAP, &sb), -1);
    strbuf_finish(&sb);
    /* Tabs, newlines and carriage returns are XML text: escaped, and read back the same. */
    o = objects[4];
    pkg = package_of(&target, &o, 1);
    struct pkgw_user u[1] = {{5, "Tab\there\r\nnext", "i:0#.f|membership|t@contoso.com", NULL}};
    pkg.users = u;
    pkg.n_users = 1;
    o.author = o.editor = 5;
    struct package *p = round_trip(&pkg);
    assert_string_equal(package_user_find(p, 5)->name, "Tab\there\r\nnext");
    package_destroy(p);
}

/* ---- Size ---- */

/* 250 objects (the recommended package size): 25 folders of 9 files each, two levels deep. */
static void test_250_objects(void **state)
{
    (void)state;
    enum { FOLDERS = 25, PER = 9, N = FOLDERS * (PER + 1) };
    struct pkgw_object *objs = calloc(N, sizeof *objs);
    char(*rel)[128] = calloc(N, sizeof *rel);
    char(*ids)[2][UUID_BUF] = calloc(N, sizeof *ids);
    char(*blobs)[32] = calloc(N, sizeof *blobs);
    assert_non_null(objs);
    assert_non_null(rel);
    assert_non_null(ids);
    assert_non_null(blobs);
    size_t n = 0, folder = 0;
    for (int f = 0; f < FOLDERS; f++) {
        for (int k = 0; k <= PER; k++, n++) {
            struct pkgw_object *o = &objs[n];
            snprintf(ids[n][0], UUID_BUF, "%08zx-0000-4000-8000-%012zx", n + 1, n + 1);
            snprintf(ids[n][1], UUID_BUF, "%08zx-1111-4000-8000-%012zx", n + 1, n + 1);
            o->id = ids[n][0];
            o->item_id = ids[n][1];
            o->int_id = (int)n + 1;
            o->author = 1 + (int)(n % 2);
            o->editor = 2 - (int)(n % 2);
            o->created_ms = T0 + (int64_t)n * 60000;
            o->modified_ms = o->created_ms + 1000;
            char parent[128]; /* a copy: snprintf must not read the array it writes */
            memcpy(parent, rel[folder], sizeof parent);
            if (k == 0) { /* folder f: under the previous folder on odd f, at the top else */
                o->is_folder = true;
                if (f % 2)
                    snprintf(rel[n], sizeof rel[n], "%.60s/Folder %02d & co", parent, f);
                else
                    snprintf(rel[n], sizeof rel[n], "Folder %02d & co", f);
                o->parent_id = f % 2 ? objs[folder].id : NULL;
                folder = n;
            } else {
                snprintf(rel[n], sizeof rel[n], "%.60s/file %d – ü.txt", parent, k);
                snprintf(blobs[n], sizeof blobs[n], "%08zx.dat", n);
                o->parent_id = objs[folder].id;
                o->blob = blobs[n];
                o->size = (int64_t)n * 1000;
                o->has_md5 = n % 3 == 0;
                o->md5[0] = (unsigned char)n;
            }
            o->rel = rel[n];
        }
    }
    assert_int_equal(n, N);
    struct pkgw_package pkg = package_of(&target, objs, N);
    char *m = write_file(&pkg, PACKAGE_MANIFEST);
    size_t len = strlen(m);
    /* About 2 KB per object (a document and its list item, indented): well under 1 MB. */
    assert_true(len > N * 1000);
    assert_true(len < N * 4000);
    free(m);

    struct package *p = round_trip(&pkg);
    assert_int_equal(p->n_objects, N);
    for (size_t i = 0; i < N; i++)
        assert_same_object(&target, &p->objects[i], &objs[i]);
    package_destroy(p);
    free(objs);
    free(rel);
    free(ids);
    free(blobs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_manifest_text),
        cmocka_unit_test(test_appends),     cmocka_unit_test(test_no_int_id),
        cmocka_unit_test(test_limit),       cmocka_unit_test(test_order),
        cmocka_unit_test(test_root_web),    cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_250_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
