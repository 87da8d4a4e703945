/*
 * Unit tests for blob_store.c on a real temporary store: put and read, block lists with
 * all three lists, shared extents kept alive by snapshots and freed with the last reference,
 * conditions, listings with prefix, delimiter and paging.
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
#include <unistd.h>

#include "store_fixture.h"
#include "blob_store.h"
#include "clock.h"
#include "db.h"
#include "store_files.h"
#include "xmalloc.h"

static char dir[FIXTURE_DIR_LEN];
static int64_t cid;

static int setup(void **state)
{
    (void)state;
    fixture_open(dir);
    struct bstore_container c = {0};
    assert_int_equal(bstore_container_create("acct", "box", NULL, &c), BSTORE_OK);
    cid = c.id;
    bstore_container_finish(&c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_close(dir);
    return 0;
}

/* Writes data into a new extent and returns its path (static buffer per call site). */
static void new_extent(const char *data, struct extent_writer *w)
{
    assert_int_equal(extent_writer_open(w, true, false), 0);
    assert_int_equal(extent_writer_write(w, data, strlen(data)), 0);
    assert_int_equal(extent_writer_close(w, NULL), 0);
}

static char *read_all(const char *name, const char *snapshot)
{
    struct bstore_blob b;
    if (bstore_blob_read(cid, name, snapshot, NULL, &b) != BSTORE_OK)
        return NULL;
    char *out = xcalloc(1, b.props.size + 1);
    size_t pos = 0;
    for (size_t i = 0; i < b.nsegs; i++) {
        int fd = store_files_open(b.segs[i].path);
        assert_true(fd >= 0);
        ssize_t n = read(fd, out + pos, b.segs[i].size);
        assert_int_equal(n, (ssize_t)b.segs[i].size);
        pos += (size_t)n;
        close(fd);
    }
    assert_int_equal(pos, b.props.size);
    bstore_blob_finish(&b);
    return out;
}

static int count_extent_files(void)
{
    return fixture_count_extents(dir);
}

static void test_put_and_read(void **state)
{
    (void)state;
    struct extent_writer w;
    new_extent("hello world", &w);
    struct bstore_props in = {0}, out;
    in.content_type = "text/plain";
    assert_int_equal(bstore_blob_put(cid, "a/b.txt", &in, w.path, w.size, NULL, &out), BSTORE_OK);
    assert_true(out.etag[0] == '"');
    char *got = read_all("a/b.txt", NULL);
    assert_string_equal(got, "hello world");
    free(got);
    /* Overwrite: the old extent goes away, the new one stays. */
    int before = count_extent_files();
    new_extent("second", &w);
    char etag1[BSTORE_ETAG_LEN];
    strcpy(etag1, out.etag);
    assert_int_equal(bstore_blob_put(cid, "a/b.txt", &in, w.path, w.size, NULL, &out), BSTORE_OK);
    assert_string_not_equal(etag1, out.etag);
    assert_int_equal(count_extent_files(), before);
    got = read_all("a/b.txt", NULL);
    assert_string_equal(got, "second");
    free(got);
    assert_int_equal(bstore_blob_read(cid, "missing", NULL, NULL, &(struct bstore_blob){0}),
                     BSTORE_NO_BLOB);
}

static void test_conditions(void **state)
{
    (void)state;
    struct extent_writer w;
    new_extent("v1", &w);
    struct bstore_props in = {0}, out;
    assert_int_equal(bstore_blob_put(cid, "cond", &in, w.path, w.size, NULL, &out), BSTORE_OK);
    new_extent("v2", &w);
    struct bstore_cond none_star = {.if_none_match = "*"};
    assert_int_equal(bstore_blob_put(cid, "cond", &in, w.path, w.size, &none_star, NULL),
                     BSTORE_BLOB_EXISTS);
    struct bstore_cond wrong = {.if_match = "\"0x1\""};
    assert_int_equal(bstore_blob_put(cid, "cond", &in, w.path, w.size, &wrong, NULL),
                     BSTORE_COND_FAILED);
    struct bstore_cond right = {.if_match = out.etag};
    assert_int_equal(bstore_blob_put(cid, "cond", &in, w.path, w.size, &right, &out), BSTORE_OK);
    struct bstore_cond inm = {.if_none_match = out.etag};
    struct bstore_blob b;
    assert_int_equal(bstore_blob_read(cid, "cond", NULL, &inm, &b), BSTORE_NOT_MODIFIED);
    bstore_blob_finish(&b);
}

static void put_block(const char *blob, const char *id, const char *data)
{
    struct extent_writer w;
    new_extent(data, &w);
    assert_int_equal(
        bstore_block_put(cid, blob, (const unsigned char *)id, strlen(id), w.path, w.size),
        BSTORE_OK);
}

static struct bstore_block_ref ref(const char *id, char list)
{
    struct bstore_block_ref r = {.idlen = strlen(id), .list = list};
    memcpy(r.id, id, r.idlen);
    return r;
}

static void test_block_lists(void **state)
{
    (void)state;
    put_block("big", "b1", "AAA");
    put_block("big", "b2", "BBB");
    put_block("big", "b3", "CCC");
    struct bstore_block_list l;
    assert_int_equal(bstore_block_list_get(cid, "big", NULL, true, true, &l), BSTORE_OK);
    assert_false(l.blob_exists);
    assert_int_equal(l.nuncommitted, 3);
    bstore_block_list_finish(&l);
    /* ids of another length are refused */
    struct extent_writer w;
    new_extent("x", &w);
    assert_int_equal(bstore_block_put(cid, "big", (const unsigned char *)"long", 4, w.path, 1),
                     BSTORE_BLOCK_ID_LENGTH);
    store_files_unlink(w.path);

    struct bstore_block_ref refs[] = {ref("b2", 'U'), ref("b1", 'L'), ref("b2", 'L')};
    struct bstore_props in = {0}, out;
    assert_int_equal(bstore_block_list_commit(cid, "big", refs, 3, &in, NULL, &out), BSTORE_OK);
    assert_int_equal(out.size, 9);
    char *got = read_all("big", NULL);
    assert_string_equal(got, "BBBAAABBB");
    free(got);
    /* b3 was not used: dropped. Committed blocks listed in order. */
    assert_int_equal(bstore_block_list_get(cid, "big", NULL, true, true, &l), BSTORE_OK);
    assert_true(l.blob_exists);
    assert_int_equal(l.ncommitted, 3);
    assert_int_equal(l.nuncommitted, 0);
    bstore_block_list_finish(&l);

    /* Recommit reusing a committed block plus a new one. */
    put_block("big", "b4", "DDD");
    struct bstore_block_ref refs2[] = {ref("b1", 'C'), ref("b4", 'L')};
    assert_int_equal(bstore_block_list_commit(cid, "big", refs2, 2, &in, NULL, &out), BSTORE_OK);
    got = read_all("big", NULL);
    assert_string_equal(got, "AAADDD");
    free(got);
    /* An unknown block makes the list invalid and changes nothing. */
    struct bstore_block_ref bad[] = {ref("zz", 'L')};
    assert_int_equal(bstore_block_list_commit(cid, "big", bad, 1, &in, NULL, &out),
                     BSTORE_BAD_BLOCK_LIST);
    got = read_all("big", NULL);
    assert_string_equal(got, "AAADDD");
    free(got);
}

static void test_snapshots_share_extents(void **state)
{
    (void)state;
    struct extent_writer w;
    new_extent("original", &w);
    struct bstore_props in = {0}, out;
    assert_int_equal(bstore_blob_put(cid, "snap", &in, w.path, w.size, NULL, &out), BSTORE_OK);
    char snap[BSTORE_SNAPSHOT_LEN];
    struct bstore_blob latest;
    assert_int_equal(bstore_blob_read_latest(cid, "snap", &latest), BSTORE_NO_SNAPSHOT);
    assert_int_equal(bstore_blob_read_latest(cid, "nothing", &latest), BSTORE_NO_BLOB);
    assert_int_equal(bstore_blob_snapshot(cid, "snap", NULL, NULL, snap, &out), BSTORE_OK);
    assert_int_equal(bstore_blob_read_latest(cid, "snap", &latest), BSTORE_OK);
    assert_string_equal(latest.props.snapshot, snap);
    bstore_blob_finish(&latest);
    int files = count_extent_files();
    new_extent("changed", &w);
    assert_int_equal(bstore_blob_put(cid, "snap", &in, w.path, w.size, NULL, &out), BSTORE_OK);
    /* The snapshot keeps the original extent alive: one more file, none removed. */
    assert_int_equal(count_extent_files(), files + 1);
    char *a = read_all("snap", snap), *b = read_all("snap", NULL);
    assert_string_equal(a, "original");
    assert_string_equal(b, "changed");
    free(a);
    free(b);
    assert_int_equal(bstore_blob_delete(cid, "snap", NULL, BSTORE_DELETE_BLOB, NULL),
                     BSTORE_SNAPSHOTS_PRESENT);
    assert_int_equal(bstore_blob_delete(cid, "snap", NULL, BSTORE_DELETE_INCLUDE, NULL), BSTORE_OK);
    assert_int_equal(count_extent_files(), files - 1);
}

struct names {
    char buf[1024];
};

static void collect(void *ctx, const char *prefix, const struct bstore_props *p)
{
    struct names *n = ctx;
    strcat(n->buf, p ? p->name : prefix);
    strcat(n->buf, ";");
}

static void test_listing(void **state)
{
    (void)state;
    struct bstore_container c = {0};
    assert_int_equal(bstore_container_create("acct", "list", NULL, &c), BSTORE_OK);
    int64_t saved = cid;
    cid = c.id;
    const char *names[] = {"a/1", "a/2", "b", "c/x/1", "c/y", "d"};
    for (size_t i = 0; i < 6; i++) {
        struct extent_writer w;
        new_extent("x", &w);
        struct bstore_props in = {0};
        assert_int_equal(bstore_blob_put(cid, names[i], &in, w.path, w.size, NULL, NULL),
                         BSTORE_OK);
    }
    struct names n = {""};
    char *next = NULL;
    struct bstore_list_opts o = {.max = 5000};
    assert_int_equal(bstore_list(cid, &o, collect, &n, &next), BSTORE_OK);
    assert_string_equal(n.buf, "a/1;a/2;b;c/x/1;c/y;d;");
    assert_null(next);

    n.buf[0] = '\0';
    o.delimiter = "/";
    assert_int_equal(bstore_list(cid, &o, collect, &n, &next), BSTORE_OK);
    assert_string_equal(n.buf, "a/;b;c/;d;");

    n.buf[0] = '\0';
    o.prefix = "c/";
    assert_int_equal(bstore_list(cid, &o, collect, &n, &next), BSTORE_OK);
    assert_string_equal(n.buf, "c/x/;c/y;");

    /* Paging two at a time walks everything exactly once. */
    n.buf[0] = '\0';
    struct bstore_list_opts p = {.max = 2};
    int pages = 0;
    do {
        p.marker = next;
        char *prev = next;
        assert_int_equal(bstore_list(cid, &p, collect, &n, &next), BSTORE_OK);
        free(prev);
        pages++;
    } while (next && pages < 10);
    assert_string_equal(n.buf, "a/1;a/2;b;c/x/1;c/y;d;");
    assert_int_equal(pages, 3);
    cid = saved;
    bstore_container_finish(&c);
    assert_int_equal(bstore_container_delete("acct", "list"), BSTORE_OK);
    assert_int_equal(bstore_container_get("acct", "list", NULL), BSTORE_NO_CONTAINER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_and_read), cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_block_lists),  cmocka_unit_test(test_snapshots_share_extents),
        cmocka_unit_test(test_listing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
