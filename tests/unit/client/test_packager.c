/*
 * test_packager.c: unit tests of client/packager.c: packages cut at 250 items and at 250 MB,
 * a large file alone, every package self-contained (the folders above its items first, the
 * destination folder's parts included), folders that are not sent still named as ancestors,
 * and the XML it writes read back by the server's own package parser without an issue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "package.h"
#include "packager.h"
#include "uuid.h"

struct got {
    struct pack *p[64];
    size_t n;
};

static int collect(void *ctx, struct pack *p)
{
    struct got *g = ctx;
    assert_true(g->n < 64);
    g->p[g->n++] = p;
    return 0;
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        pack_destroy(g->p[i]);
    g->n = 0;
}

static int counter;

static void fresh_id(char out[UUID_BUF])
{
    snprintf(out, UUID_BUF, "00000000-0000-4000-8000-%012d", ++counter);
}

static int visit(struct packer *pk, enum scan_kind kind, const char *rel, int depth, int64_t size,
                 bool send)
{
    const char *slash = strrchr(rel, '/');
    struct scan_entry e = {.kind = kind,
                           .rel = rel,
                           .name = slash ? slash + 1 : rel,
                           .depth = depth,
                           .size = size,
                           .mtime_ns = 1700000000LL * 1000000000,
                           .ctime_ns = 1690000000LL * 1000000000,
                           .uid = getuid(),
                           .verdict = SCAN_OK};
    char uid[UUID_BUF], item[UUID_BUF];
    fresh_id(uid);
    fresh_id(item);
    return packer_visit(pk, &e, uid, item, send);
}

/* The index of the object with rel in p, or -1. */
static int find(const struct pack *p, const char *rel)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->obj[i].rel, rel) == 0)
            return (int)i;
    return -1;
}

/* Every object's parent is the root or an earlier folder of the same package. */
static void assert_self_contained(const struct pack *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct pack_obj *o = &p->obj[i];
        if (!o->parent_uid[0]) {
            assert_null(strchr(o->rel, '/'));
            continue;
        }
        bool found = false;
        for (size_t k = 0; k < i; k++)
            if (p->obj[k].is_folder && strcmp(p->obj[k].uid, o->parent_uid) == 0) {
                size_t n = strlen(p->obj[k].rel);
                assert_memory_equal(o->rel, p->obj[k].rel, n);
                assert_int_equal(o->rel[n], '/');
                found = true;
            }
        assert_true(found);
    }
}

static void test_cut_by_items(void **unused)
{
    (void)unused;
    struct got g = {0};
    struct packer *pk = packer_create(NULL, 0, collect, &g);
    assert_int_equal(visit(pk, SCAN_FOLDER, "A", 1, 0, true), 0);
    assert_int_equal(visit(pk, SCAN_FOLDER, "A/B", 2, 0, true), 0);
    char rel[64];
    for (int i = 0; i < 600; i++) {
        snprintf(rel, sizeof rel, "A/B/f%03d", i);
        assert_int_equal(visit(pk, SCAN_FILE, rel, 3, 10, true), 0);
    }
    assert_int_equal(visit(pk, SCAN_FILE, "top.txt", 1, 5, true), 0);
    assert_int_equal(packer_finish(pk), 0);
    assert_int_equal(g.n, 3);
    size_t items = 0;
    for (size_t i = 0; i < g.n; i++) {
        assert_int_equal(g.p[i]->no, (int)i + 1);
        assert_true(g.p[i]->n_items <= PACK_MAX_ITEMS);
        items += g.p[i]->n_items;
        assert_self_contained(g.p[i]);
    }
    assert_int_equal(items, 2 + 600 + 1);
    /* The later packages start with A and A/B as ancestors. */
    assert_int_equal(find(g.p[1], "A"), 0);
    assert_true(g.p[1]->obj[0].ancestor);
    assert_int_equal(find(g.p[1], "A/B"), 1);
    assert_true(g.p[1]->obj[1].ancestor);
    assert_string_equal(g.p[1]->obj[0].uid, g.p[0]->obj[0].uid);
    assert_false(g.p[0]->obj[0].ancestor);
    /* top.txt needs no ancestor. */
    int t = find(g.p[2], "top.txt");
    assert_true(t >= 0);
    assert_string_equal(g.p[2]->obj[t].parent_uid, "");
    got_free(&g);
}

static void test_cut_by_bytes_and_large_alone(void **unused)
{
    (void)unused;
    struct got g = {0};
    struct packer *pk = packer_create(NULL, 0, collect, &g);
    visit(pk, SCAN_FILE, "a", 1, 100 * 1000 * 1000, true);
    visit(pk, SCAN_FILE, "b", 1, 100 * 1000 * 1000, true);
    visit(pk, SCAN_FILE, "c", 1, 100 * 1000 * 1000, true); /* over 250 MB: new package */
    visit(pk, SCAN_FILE, "huge", 1, 300LL * 1000 * 1000, true);
    visit(pk, SCAN_FILE, "d", 1, 1, true);
    packer_finish(pk);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.p[0]->n_items, 2);
    assert_int_equal(g.p[1]->n_items, 1);
    assert_int_equal(g.p[2]->n_items, 1);
    assert_string_equal(g.p[2]->obj[0].rel, "huge");
    assert_int_equal(g.p[2]->bytes, 300LL * 1000 * 1000);
    assert_string_equal(g.p[3]->obj[0].rel, "d");
    got_free(&g);
}

static void test_unsent_ancestors_and_base(void **unused)
{
    (void)unused;
    struct got g = {0};
    struct pack_base base[] = {
        {"Imported", "11111111-1111-4111-8111-111111111111",
         "21111111-1111-4111-8111-111111111111"},
        {"Imported/2024", "12222222-2222-4222-8222-222222222222",
         "22222222-2222-4222-8222-222222222222"},
    };
    struct packer *pk = packer_create(base, 2, collect, &g);
    visit(pk, SCAN_FOLDER, "Old", 1, 0, false); /* unchanged folder */
    visit(pk, SCAN_FILE, "Old/same.txt", 2, 3, false);
    visit(pk, SCAN_FILE, "Old/new.txt", 2, 3, true);
    visit(pk, SCAN_FOLDER, "Other", 1, 0, false);
    visit(pk, SCAN_FOLDER, "Nothing", 1, 0, false);
    packer_finish(pk);
    assert_int_equal(g.n, 1);
    struct pack *p = g.p[0];
    assert_int_equal(p->n_items, 1);
    assert_int_equal(p->n, 4);
    assert_string_equal(p->obj[0].rel, "Imported");
    assert_string_equal(p->obj[0].uid, base[0].uid);
    assert_string_equal(p->obj[0].parent_uid, "");
    assert_string_equal(p->obj[1].rel, "Imported/2024");
    assert_string_equal(p->obj[1].parent_uid, base[0].uid);
    assert_string_equal(p->obj[2].rel, "Imported/2024/Old");
    assert_true(p->obj[2].ancestor);
    assert_string_equal(p->obj[2].parent_uid, base[1].uid);
    assert_string_equal(p->obj[3].rel, "Imported/2024/Old/new.txt");
    assert_string_equal(p->obj[3].src_rel, "Old/new.txt");
    assert_false(p->obj[3].ancestor);
    assert_self_contained(p);
    got_free(&g);

    /* Nothing sent: no package at all. */
    pk = packer_create(NULL, 0, collect, &g);
    visit(pk, SCAN_FOLDER, "X", 1, 0, false);
    packer_finish(pk);
    assert_int_equal(g.n, 0);
}

static void test_bases(void **unused)
{
    (void)unused;
    size_t n = 7;
    assert_null(pack_bases(NULL, &n));
    assert_int_equal(n, 0);
    assert_null(pack_bases("", &n));
    struct pack_base *b = pack_bases("Imported/2024/Q1 & Co", &n);
    assert_int_equal(n, 3);
    assert_string_equal(b[0].rel, "Imported");
    assert_string_equal(b[1].rel, "Imported/2024");
    assert_string_equal(b[2].rel, "Imported/2024/Q1 & Co");
    assert_string_equal(b[2].uid, "");
    pack_bases_free(b, n);
}

static int stop_at_second(void *ctx, struct pack *p)
{
    int *n = ctx;
    pack_destroy(p);
    return ++*n == 2 ? 7 : 0;
}

static void test_emit_stops(void **unused)
{
    (void)unused;
    int n = 0, rc = 0;
    struct packer *pk = packer_create(NULL, 0, stop_at_second, &n);
    char rel[32];
    for (int i = 0; i < 1000 && rc == 0; i++) {
        snprintf(rel, sizeof rel, "f%d", i);
        rc = visit(pk, SCAN_FILE, rel, 1, 1, true);
    }
    assert_int_equal(rc, 7);
    assert_int_equal(n, 2);
    packer_destroy(pk);
}

/* The XML of a package goes through the server's parser without an issue. */
static void test_xml_parses(void **unused)
{
    (void)unused;
    struct got g = {0};
    struct packer *pk = packer_create(NULL, 0, collect, &g);
    visit(pk, SCAN_FOLDER, "Docs & Co's", 1, 0, true);
    visit(pk, SCAN_FILE, "Docs & Co's/r\xc3\xa9sum\xc3\xa9.docx", 2, 1234, true);
    visit(pk, SCAN_FILE, "Docs & Co's/skip.bin", 2, 5, true);
    visit(pk, SCAN_FILE, "top.txt", 1, 0, true);
    packer_finish(pk);
    assert_int_equal(g.n, 1);
    struct pack *p = g.p[0];
    pack_obj_fail(&p->obj[2], "UPLOADING FAILURE", "0x01510001", "gone");
    p->obj[1].has_md5 = true;
    memset(p->obj[1].md5, 0xab, 16);

    struct pkgw_target t = {
        .site_url = "http://127.0.0.1:1",
        .web_id = "a0000000-0000-4000-8000-000000000001",
        .web_url = "/",
        .web_root_folder_id = "a0000000-0000-4000-8000-000000000002",
        .list_id = "a0000000-0000-4000-8000-000000000003",
        .list_title = "Documents",
        .root_folder_id = "a0000000-0000-4000-8000-000000000004",
        .root_folder_url = "/Shared Documents",
        .source_location = "/srv/share",
    };
    struct package_target pt = {.web_url = "/", .root_folder_url = "/Shared Documents"};
    assert_int_equal(uuid_parse(t.web_id, pt.web_id), 0);
    assert_int_equal(uuid_parse(t.list_id, pt.list_id), 0);
    assert_int_equal(uuid_parse(t.root_folder_id, pt.root_folder_id), 0);
    struct package *pkg = package_create(&pt);
    for (int k = 0; k < PACKAGE_FILE_KINDS; k++) {
        struct strbuf sb;
        strbuf_init(&sb, PACKAGE_XML_MAX_BYTES);
        assert_int_equal(pack_write_xml(p, &t, "example.com", (enum package_file)k, &sb), 0);
        if (k == PACKAGE_USER_GROUP)
            assert_non_null(strstr(sb.data, "i:0#.f|membership|"));
        assert_int_equal(package_parse(pkg, (enum package_file)k,
                                       package_file_name((enum package_file)k), sb.data, sb.len),
                         0);
        strbuf_finish(&sb);
    }
    assert_int_equal(package_finish(pkg), 0);
    for (size_t i = 0; i < pkg->n_issues; i++)
        fprintf(stderr, "issue: %s %s\n", pkg->issues[i].url, pkg->issues[i].message);
    assert_int_equal(pkg->n_issues, 0);
    assert_int_equal(pkg->n_objects, 3); /* the failed file left out */
    assert_int_equal(pkg->objects[0].kind, PACKAGE_FOLDER);
    assert_string_equal(pkg->objects[1].name, "r\xc3\xa9sum\xc3\xa9.docx");
    assert_int_equal(pkg->objects[1].versions[0].file_size, 1234);
    assert_true(pkg->objects[1].versions[0].has_md5);
    assert_int_equal(pkg->objects[1].versions[0].md5[0], 0xab);
    char blob[UUID_BUF + 8];
    pack_blob_name(&p->obj[1], blob);
    assert_string_equal(pkg->objects[1].versions[0].file_value, blob);
    assert_int_equal(pkg->objects[1].modified, 1700000000LL * 1000);
    assert_int_equal(pkg->objects[1].created, 1690000000LL * 1000);
    package_destroy(pkg);
    got_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_by_items),
        cmocka_unit_test(test_cut_by_bytes_and_large_alone),
        cmocka_unit_test(test_unsent_ancestors_and_base),
        cmocka_unit_test(test_bases),
        cmocka_unit_test(test_emit_stops),
        cmocka_unit_test(test_xml_parses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
