/*
 * Unit tests for blob_store.c on a real temporary store: put and read, block lists with
 * all three lists, shared extents kept alive by snapshots and freed with the last reference,
 * conditions, listings with prefix, delimiter and paging; inline (small) blobs and blocks:
 * reads and ranges, the size limit, snapshots, block lists mixing inline and file extents,
 * deletion, and a reader whose extent went away.
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
#include <sys/stat.h>
#include <unistd.h>

#include "store_fixture.h"
#include "blob_store.h"
#include "clock.h"
#include "db.h"
#include "store_files.h"
#include "spmig_limits.h"
#include "xmalloc.h"

static char dir[FIXTURE_DIR_LEN];
static int64_t cid;

static int setup(void **state)
{
    (void)state;
    fixture_open(dir);
    struct blob_store_container c = {0};
    assert_int_equal(blob_store_container_create("acct", "box", NULL, &c), BLOB_STORE_OK);
    cid = c.id;
    blob_store_container_finish(&c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_close(dir);
    return 0;
}

/* Writes data into a new extent and returns its path (static buffer per call site). */
static void new_extent(const char *data, struct store_files_writer *w)
{
    assert_int_equal(store_files_writer_open(w, true, false), 0);
    store_files_writer_reserve(w, 64 * 1024); /* more than is written: the file keeps its length */
    assert_int_equal(store_files_writer_write(w, data, strlen(data)), 0);
    assert_int_equal(store_files_writer_close(w, NULL), 0);
}

/* The whole blob through a blob_store_reader, in reads of at most chunk bytes. */
static char *read_chunked(const char *name, const char *snapshot, size_t chunk)
{
    struct blob_store_blob b;
    if (blob_store_blob_read(cid, name, snapshot, NULL, &b) != BLOB_STORE_OK)
        return NULL;
    char *out = xcalloc(1, b.props.size + 1);
    uint64_t size = b.props.size, pos = 0;
    struct blob_store_reader *r = blob_store_reader_create(&b, 0);
    assert_null(b.segs);
    while (pos < size) {
        long n = blob_store_reader_read(r, pos, out + pos, chunk);
        assert_true(n > 0);
        pos += (uint64_t)n;
    }
    assert_int_equal(blob_store_reader_read(r, pos, out, chunk), 0);
    blob_store_reader_destroy(r);
    blob_store_blob_finish(&b);
    return out;
}

static char *read_all(const char *name, const char *snapshot)
{
    return read_chunked(name, snapshot, 1 << 20);
}

static int count_extent_files(void)
{
    return fixture_count_extents(dir);
}

/* Rows in a table of the store (extents, blocks, segments), or SMALL_EXTENTS. */
#define SMALL_EXTENTS "extents WHERE pack_off >= 0 OR file IS NULL"
static int count_rows(const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *st;
    struct db *d = db_acquire();
    assert_int_equal(sqlite3_prepare_v2(db_handle(d), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    db_release(d);
    return n;
}

static int put_inline(const char *name, const char *data, size_t n)
{
    struct blob_store_props in = {0};
    return blob_store_blob_put_inline(cid, name, &in, data, n, NULL, NULL);
}

static void put_inline_block(const char *blob, const char *id, const char *data)
{
    assert_int_equal(blob_store_block_put_inline(cid, blob, (const unsigned char *)id, strlen(id),
                                                 data, strlen(data)),
                     BLOB_STORE_OK);
}

static void test_put_and_read(void **state)
{
    (void)state;
    struct store_files_writer w;
    new_extent("hello world", &w);
    char full[256];
    store_files_full_path(w.path, full, sizeof full);
    struct stat sb;
    assert_int_equal(stat(full, &sb), 0);
    assert_int_equal(sb.st_size, 11); /* the space reserved beyond is not part of it */
    struct blob_store_props in = {0}, out;
    in.content_type = "text/plain";
    assert_int_equal(blob_store_blob_put(cid, "a/b.txt", &in, w.path, w.size, NULL, &out),
                     BLOB_STORE_OK);
    assert_true(out.etag[0] == '"');
    char *got = read_all("a/b.txt", NULL);
    assert_string_equal(got, "hello world");
    free(got);
    /* Overwrite: the old extent goes away, the new one stays. */
    int before = count_extent_files();
    new_extent("second", &w);
    char etag1[BLOB_STORE_ETAG_LEN];
    strcpy(etag1, out.etag);
    assert_int_equal(blob_store_blob_put(cid, "a/b.txt", &in, w.path, w.size, NULL, &out),
                     BLOB_STORE_OK);
    assert_string_not_equal(etag1, out.etag);
    assert_int_equal(count_extent_files(), before);
    got = read_all("a/b.txt", NULL);
    assert_string_equal(got, "second");
    free(got);
    assert_int_equal(blob_store_blob_read(cid, "missing", NULL, NULL, &(struct blob_store_blob){0}),
                     BLOB_STORE_NO_BLOB);
}

static void test_conditions(void **state)
{
    (void)state;
    struct store_files_writer w;
    new_extent("v1", &w);
    struct blob_store_props in = {0}, out;
    assert_int_equal(blob_store_blob_put(cid, "cond", &in, w.path, w.size, NULL, &out),
                     BLOB_STORE_OK);
    new_extent("v2", &w);
    struct blob_store_cond none_star = {.if_none_match = "*"};
    assert_int_equal(blob_store_blob_put(cid, "cond", &in, w.path, w.size, &none_star, NULL),
                     BLOB_STORE_BLOB_EXISTS);
    struct blob_store_cond wrong = {.if_match = "\"0x1\""};
    assert_int_equal(blob_store_blob_put(cid, "cond", &in, w.path, w.size, &wrong, NULL),
                     BLOB_STORE_COND_FAILED);
    struct blob_store_cond right = {.if_match = out.etag};
    assert_int_equal(blob_store_blob_put(cid, "cond", &in, w.path, w.size, &right, &out),
                     BLOB_STORE_OK);
    struct blob_store_cond inm = {.if_none_match = out.etag};
    struct blob_store_blob b;
    assert_int_equal(blob_store_blob_read(cid, "cond", NULL, &inm, &b), BLOB_STORE_NOT_MODIFIED);
    blob_store_blob_finish(&b);
}

static void put_block(const char *blob, const char *id, const char *data)
{
    struct store_files_writer w;
    new_extent(data, &w);
    assert_int_equal(
        blob_store_block_put(cid, blob, (const unsigned char *)id, strlen(id), w.path, w.size),
        BLOB_STORE_OK);
}

static struct blob_store_block_ref ref(const char *id, char list)
{
    struct blob_store_block_ref r = {.idlen = strlen(id), .list = list};
    memcpy(r.id, id, r.idlen);
    return r;
}

static void test_block_lists(void **state)
{
    (void)state;
    put_block("big", "b1", "AAA");
    put_block("big", "b2", "BBB");
    put_block("big", "b3", "CCC");
    struct blob_store_block_list l;
    assert_int_equal(blob_store_block_list_get(cid, "big", NULL, true, true, &l), BLOB_STORE_OK);
    assert_false(l.blob_exists);
    assert_int_equal(l.nuncommitted, 3);
    blob_store_block_list_finish(&l);
    /* ids of another length are refused */
    struct store_files_writer w;
    new_extent("x", &w);
    assert_int_equal(blob_store_block_put(cid, "big", (const unsigned char *)"long", 4, w.path, 1),
                     BLOB_STORE_BLOCK_ID_LENGTH);
    store_files_unlink(w.path);

    struct blob_store_block_ref refs[] = {ref("b2", 'U'), ref("b1", 'L'), ref("b2", 'L')};
    struct blob_store_props in = {0}, out;
    assert_int_equal(blob_store_block_list_commit(cid, "big", refs, 3, &in, NULL, &out),
                     BLOB_STORE_OK);
    assert_int_equal(out.size, 9);
    char *got = read_all("big", NULL);
    assert_string_equal(got, "BBBAAABBB");
    free(got);
    /* b3 was not used: dropped. Committed blocks listed in order. */
    assert_int_equal(blob_store_block_list_get(cid, "big", NULL, true, true, &l), BLOB_STORE_OK);
    assert_true(l.blob_exists);
    assert_int_equal(l.ncommitted, 3);
    assert_int_equal(l.nuncommitted, 0);
    blob_store_block_list_finish(&l);

    /* Recommit reusing a committed block plus a new one. */
    put_block("big", "b4", "DDD");
    struct blob_store_block_ref refs2[] = {ref("b1", 'C'), ref("b4", 'L')};
    assert_int_equal(blob_store_block_list_commit(cid, "big", refs2, 2, &in, NULL, &out),
                     BLOB_STORE_OK);
    got = read_all("big", NULL);
    assert_string_equal(got, "AAADDD");
    free(got);
    /* An unknown block makes the list invalid and changes nothing. */
    struct blob_store_block_ref bad[] = {ref("zz", 'L')};
    assert_int_equal(blob_store_block_list_commit(cid, "big", bad, 1, &in, NULL, &out),
                     BLOB_STORE_BAD_BLOCK_LIST);
    got = read_all("big", NULL);
    assert_string_equal(got, "AAADDD");
    free(got);
}

static void test_snapshots_share_extents(void **state)
{
    (void)state;
    struct store_files_writer w;
    new_extent("original", &w);
    struct blob_store_props in = {0}, out;
    assert_int_equal(blob_store_blob_put(cid, "snap", &in, w.path, w.size, NULL, &out),
                     BLOB_STORE_OK);
    char snap[BLOB_STORE_SNAPSHOT_LEN];
    struct blob_store_blob latest;
    assert_int_equal(blob_store_blob_read_latest(cid, "snap", &latest), BLOB_STORE_NO_SNAPSHOT);
    assert_int_equal(blob_store_blob_read_latest(cid, "nothing", &latest), BLOB_STORE_NO_BLOB);
    assert_int_equal(blob_store_blob_snapshot(cid, "snap", NULL, NULL, snap, &out), BLOB_STORE_OK);
    assert_int_equal(blob_store_blob_read_latest(cid, "snap", &latest), BLOB_STORE_OK);
    assert_string_equal(latest.props.snapshot, snap);
    blob_store_blob_finish(&latest);
    int files = count_extent_files();
    new_extent("changed", &w);
    assert_int_equal(blob_store_blob_put(cid, "snap", &in, w.path, w.size, NULL, &out),
                     BLOB_STORE_OK);
    /* The snapshot keeps the original extent alive: one more file, none removed. */
    assert_int_equal(count_extent_files(), files + 1);
    char *a = read_all("snap", snap), *b = read_all("snap", NULL);
    assert_string_equal(a, "original");
    assert_string_equal(b, "changed");
    free(a);
    free(b);
    assert_int_equal(blob_store_blob_delete(cid, "snap", NULL, BLOB_STORE_DELETE_BLOB, NULL),
                     BLOB_STORE_SNAPSHOTS_PRESENT);
    assert_int_equal(blob_store_blob_delete(cid, "snap", NULL, BLOB_STORE_DELETE_INCLUDE, NULL),
                     BLOB_STORE_OK);
    assert_int_equal(count_extent_files(), files - 1);
}

struct names {
    char buf[1024];
};

static void collect(void *ctx, const char *prefix, const struct blob_store_props *p)
{
    struct names *n = ctx;
    strcat(n->buf, p ? p->name : prefix);
    strcat(n->buf, ";");
}

static void test_listing(void **state)
{
    (void)state;
    struct blob_store_container c = {0};
    assert_int_equal(blob_store_container_create("acct", "list", NULL, &c), BLOB_STORE_OK);
    int64_t saved = cid;
    cid = c.id;
    const char *names[] = {"a/1", "a/2", "b", "c/x/1", "c/y", "d"};
    for (size_t i = 0; i < 6; i++) {
        struct store_files_writer w;
        new_extent("x", &w);
        struct blob_store_props in = {0};
        assert_int_equal(blob_store_blob_put(cid, names[i], &in, w.path, w.size, NULL, NULL),
                         BLOB_STORE_OK);
    }
    struct names n = {""};
    char *next = NULL;
    struct blob_store_list_opts o = {.max = 5000};
    assert_int_equal(blob_store_list(cid, &o, collect, &n, &next), BLOB_STORE_OK);
    assert_string_equal(n.buf, "a/1;a/2;b;c/x/1;c/y;d;");
    assert_null(next);

    n.buf[0] = '\0';
    o.delimiter = "/";
    assert_int_equal(blob_store_list(cid, &o, collect, &n, &next), BLOB_STORE_OK);
    assert_string_equal(n.buf, "a/;b;c/;d;");

    n.buf[0] = '\0';
    o.prefix = "c/";
    assert_int_equal(blob_store_list(cid, &o, collect, &n, &next), BLOB_STORE_OK);
    assert_string_equal(n.buf, "c/x/;c/y;");

    /* Paging two at a time walks everything exactly once. */
    n.buf[0] = '\0';
    struct blob_store_list_opts p = {.max = 2};
    int pages = 0;
    do {
        p.marker = next;
        char *prev = next;
        assert_int_equal(blob_store_list(cid, &p, collect, &n, &next), BLOB_STORE_OK);
        free(prev);
        pages++;
    } while (next && pages < 10);
    assert_string_equal(n.buf, "a/1;a/2;b;c/x/1;c/y;d;");
    assert_int_equal(pages, 3);
    cid = saved;
    blob_store_container_finish(&c);
    assert_int_equal(blob_store_container_delete("acct", "list"), BLOB_STORE_OK);
    assert_int_equal(blob_store_container_get("acct", "list", NULL), BLOB_STORE_NO_CONTAINER);
}

static void test_inline_put_read_range(void **state)
{
    (void)state;
    int files = count_extent_files(), bytes = count_rows(SMALL_EXTENTS);
    assert_int_equal(put_inline("small", "0123456789", 10), BLOB_STORE_OK);
    assert_int_equal(count_extent_files(), files); /* no file for a small blob */
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes + 1);
    struct blob_store_blob b;
    assert_int_equal(blob_store_blob_read(cid, "small", NULL, NULL, &b), BLOB_STORE_OK);
    assert_int_equal(b.props.size, 10);
    assert_int_equal(b.nsegs, 1);
    assert_true(extents_location_small(&b.segs[0].loc));
    assert_non_null(b.data);
    assert_memory_equal(b.data, "0123456789", 10);
    /* A range: the reader from offset 3, taking over the bytes read with the row. */
    struct blob_store_reader *r = blob_store_reader_create(&b, 3);
    assert_null(b.data);
    char buf[16] = {0};
    assert_int_equal(blob_store_reader_read(r, 0, buf, 4), 4);
    assert_string_equal(buf, "3456");
    assert_int_equal(blob_store_reader_read(r, 4, buf, sizeof buf), 3);
    assert_memory_equal(buf, "789", 3);
    assert_int_equal(blob_store_reader_read(r, 7, buf, sizeof buf), 0);
    blob_store_reader_destroy(r);
    blob_store_blob_finish(&b);
    /* Overwrite with an inline blob, then with a file: the old bytes go each time. */
    assert_int_equal(put_inline("small", "abc", 3), BLOB_STORE_OK);
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes + 1);
    char *got = read_all("small", NULL);
    assert_string_equal(got, "abc");
    free(got);
    struct store_files_writer w;
    new_extent("from a file", &w);
    struct blob_store_props in = {0};
    assert_int_equal(blob_store_blob_put(cid, "small", &in, w.path, w.size, NULL, NULL),
                     BLOB_STORE_OK);
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes);
    assert_int_equal(blob_store_blob_read(cid, "small", NULL, NULL, &b), BLOB_STORE_OK);
    assert_null(b.data); /* a file extent is not read with the row */
    blob_store_blob_finish(&b);
    got = read_all("small", NULL);
    assert_string_equal(got, "from a file");
    free(got);
    /* An empty inline blob reads as empty, with its bytes non-NULL. */
    assert_int_equal(put_inline("empty", NULL, 0), BLOB_STORE_OK);
    assert_int_equal(blob_store_blob_read(cid, "empty", NULL, NULL, &b), BLOB_STORE_OK);
    assert_int_equal(b.props.size, 0);
    assert_non_null(b.data);
    blob_store_blob_finish(&b);
    assert_int_equal(blob_store_blob_delete(cid, "small", NULL, BLOB_STORE_DELETE_BLOB, NULL),
                     BLOB_STORE_OK);
    assert_int_equal(blob_store_blob_delete(cid, "empty", NULL, BLOB_STORE_DELETE_BLOB, NULL),
                     BLOB_STORE_OK);
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes);
    assert_int_equal(count_extent_files(), files);
}

static void test_inline_limit(void **state)
{
    (void)state;
    char *big = xmalloc(LIMIT_INLINE_BYTES + 1);
    for (size_t i = 0; i < LIMIT_INLINE_BYTES + 1; i++)
        big[i] = (char)('a' + i % 26);
    int bytes = count_rows(SMALL_EXTENTS);
    /* Exactly at the limit is kept inline; one byte over is refused (it needs a file). */
    assert_int_equal(put_inline("limit", big, LIMIT_INLINE_BYTES), BLOB_STORE_OK);
    assert_int_equal(put_inline("over", big, LIMIT_INLINE_BYTES + 1), BLOB_STORE_INTERNAL);
    assert_int_equal(blob_store_block_put_inline(cid, "over", (const unsigned char *)"b1", 2, big,
                                                 LIMIT_INLINE_BYTES + 1),
                     BLOB_STORE_INTERNAL);
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes + 1);
    assert_int_equal(blob_store_blob_read(cid, "over", NULL, NULL, &(struct blob_store_blob){0}),
                     BLOB_STORE_NO_BLOB);
    /* Read back whole and in odd-sized chunks. */
    char *got = read_chunked("limit", NULL, 1000);
    assert_memory_equal(got, big, LIMIT_INLINE_BYTES);
    free(got);
    assert_int_equal(blob_store_blob_delete(cid, "limit", NULL, BLOB_STORE_DELETE_BLOB, NULL),
                     BLOB_STORE_OK);
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes);
    free(big);
}

static void test_inline_snapshot(void **state)
{
    (void)state;
    int bytes = count_rows(SMALL_EXTENTS), extents = count_rows("extents");
    assert_int_equal(put_inline("isnap", "first", 5), BLOB_STORE_OK);
    char snap[BLOB_STORE_SNAPSHOT_LEN];
    struct blob_store_props out;
    assert_int_equal(blob_store_blob_snapshot(cid, "isnap", NULL, NULL, snap, &out), BLOB_STORE_OK);
    /* The snapshot shares the extent: no bytes copied. */
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes + 1);
    assert_int_equal(count_rows("extents"), extents + 1);
    struct blob_store_blob latest;
    assert_int_equal(blob_store_blob_read_latest(cid, "isnap", &latest), BLOB_STORE_OK);
    assert_non_null(latest.data);
    assert_memory_equal(latest.data, "first", 5);
    blob_store_blob_finish(&latest);
    assert_int_equal(put_inline("isnap", "second", 6), BLOB_STORE_OK);
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes + 2);
    char *a = read_all("isnap", snap), *b = read_all("isnap", NULL);
    assert_string_equal(a, "first");
    assert_string_equal(b, "second");
    free(a);
    free(b);
    /* Deleting the snapshot alone frees its bytes; the base keeps its own. */
    assert_int_equal(blob_store_blob_delete(cid, "isnap", snap, BLOB_STORE_DELETE_BLOB, NULL),
                     BLOB_STORE_OK);
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes + 1);
    assert_int_equal(blob_store_blob_snapshot(cid, "isnap", NULL, NULL, snap, &out), BLOB_STORE_OK);
    assert_int_equal(blob_store_blob_delete(cid, "isnap", NULL, BLOB_STORE_DELETE_INCLUDE, NULL),
                     BLOB_STORE_OK);
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes);
    assert_int_equal(count_rows("extents"), extents);
}

/* A Content-MD5 the store computed stays "checked" through snapshots; one only given by the
 * client (block lists, Set Blob Properties with another value) is not. The import relies on
 * this to skip hashing. */
static bool latest_checked(const char *name)
{
    struct blob_store_blob b;
    assert_int_equal(blob_store_blob_read_latest(cid, name, &b), BLOB_STORE_OK);
    bool checked = b.props.md5_checked;
    blob_store_blob_finish(&b);
    return checked;
}

/* Container lookups are cached; every container write is seen by the next lookup. */
static void test_container_cache(void **state)
{
    (void)state;
    struct blob_store_container c = {0}, got = {0};
    assert_int_equal(blob_store_container_create("devstoreaccount1", "cached", "{\"a\":\"1\"}", &c),
                     BLOB_STORE_OK);
    for (int i = 0; i < 2; i++) { /* the second is served from the cache */
        assert_int_equal(blob_store_container_get("devstoreaccount1", "cached", &got),
                         BLOB_STORE_OK);
        assert_int_equal(got.id, c.id);
        assert_string_equal(got.metadata, "{\"a\":\"1\"}");
        blob_store_container_finish(&got);
    }
    assert_int_equal(
        blob_store_container_set_metadata("devstoreaccount1", "cached", "{\"b\":\"2\"}", NULL),
        BLOB_STORE_OK);
    assert_int_equal(blob_store_container_get("devstoreaccount1", "cached", &got), BLOB_STORE_OK);
    assert_string_equal(got.metadata, "{\"b\":\"2\"}");
    blob_store_container_finish(&got);
    assert_int_equal(blob_store_container_delete("devstoreaccount1", "cached"), BLOB_STORE_OK);
    assert_int_equal(blob_store_container_get("devstoreaccount1", "cached", NULL),
                     BLOB_STORE_NO_CONTAINER);
    struct blob_store_container again = {0};
    assert_int_equal(blob_store_container_create("devstoreaccount1", "cached", NULL, &again),
                     BLOB_STORE_OK);
    assert_int_equal(blob_store_container_get("devstoreaccount1", "cached", &got), BLOB_STORE_OK);
    assert_int_equal(got.id, again.id);
    assert_string_equal(got.metadata, "{}"); /* not the deleted one's */
    blob_store_container_finish(&got);
    blob_store_container_finish(&c);
    blob_store_container_finish(&again);
}

static void test_md5_checked(void **state)
{
    (void)state;
    char snap[BLOB_STORE_SNAPSHOT_LEN];
    struct blob_store_props in = {.has_md5 = true, .md5_checked = true}, out;
    memset(in.md5, 7, sizeof in.md5);
    assert_int_equal(blob_store_blob_put_inline(cid, "sum", &in, "abc", 3, NULL, NULL),
                     BLOB_STORE_OK);
    assert_int_equal(blob_store_blob_snapshot(cid, "sum", NULL, NULL, snap, &out), BLOB_STORE_OK);
    assert_true(latest_checked("sum"));
    /* The same MD5 set again keeps it; another one drops it. */
    assert_int_equal(blob_store_blob_set_properties(cid, "sum", &in, NULL, &out), BLOB_STORE_OK);
    assert_int_equal(blob_store_blob_snapshot(cid, "sum", NULL, NULL, snap, &out), BLOB_STORE_OK);
    assert_true(latest_checked("sum"));
    in.md5[0] = 8;
    assert_int_equal(blob_store_blob_set_properties(cid, "sum", &in, NULL, &out), BLOB_STORE_OK);
    assert_int_equal(blob_store_blob_snapshot(cid, "sum", NULL, NULL, snap, &out), BLOB_STORE_OK);
    assert_false(latest_checked("sum"));
    /* Given, not computed. */
    struct blob_store_props given = {.has_md5 = true};
    assert_int_equal(blob_store_blob_put_inline(cid, "given", &given, "abc", 3, NULL, NULL),
                     BLOB_STORE_OK);
    assert_int_equal(blob_store_blob_snapshot(cid, "given", NULL, NULL, snap, &out), BLOB_STORE_OK);
    assert_false(latest_checked("given"));
    /* A block list's MD5 is never checked, even if the caller claims so. */
    put_inline_block("listed", "b1", "xyz");
    struct blob_store_block_ref refs[] = {ref("b1", 'L')};
    assert_int_equal(blob_store_block_list_commit(cid, "listed", refs, 1, &in, NULL, &out),
                     BLOB_STORE_OK);
    assert_int_equal(blob_store_blob_snapshot(cid, "listed", NULL, NULL, snap, &out),
                     BLOB_STORE_OK);
    assert_false(latest_checked("listed"));
}

/* A reader that started keeps the bytes it started with: the blob's extents (a file and packed
 * ranges) are released by a delete while it reads, and their files stay until it ends. */
static void test_reader_outlives_delete(void **state)
{
    (void)state;
    put_inline_block("gone", "b1", "aa");
    put_block("gone", "b2", "BBBB");
    put_inline_block("gone", "b3", "cc");
    struct blob_store_block_ref refs[] = {ref("b1", 'L'), ref("b2", 'L'), ref("b3", 'L')};
    struct blob_store_props in = {0}, out;
    assert_int_equal(blob_store_block_list_commit(cid, "gone", refs, 3, &in, NULL, &out),
                     BLOB_STORE_OK);
    int files = count_extent_files();
    struct blob_store_blob b;
    assert_int_equal(blob_store_blob_read(cid, "gone", NULL, NULL, &b), BLOB_STORE_OK);
    struct blob_store_reader *r = blob_store_reader_create(&b, 0);
    blob_store_blob_finish(&b);
    assert_int_equal(blob_store_blob_delete(cid, "gone", NULL, BLOB_STORE_DELETE_BLOB, NULL),
                     BLOB_STORE_OK);
    assert_int_equal(count_extent_files(), files); /* held by the reader */
    char buf[16] = {0};
    size_t got = 0;
    long n;
    while ((n = blob_store_reader_read(r, got, buf + got, 3)) > 0)
        got += (size_t)n;
    assert_int_equal(n, 0);
    assert_int_equal(got, 8);
    assert_string_equal(buf, "aaBBBBcc");
    blob_store_reader_destroy(r);
    assert_int_equal(count_extent_files(), files - 1); /* the file goes with the reader */
}

static void test_inline_block_lists(void **state)
{
    (void)state;
    int files = count_extent_files(), bytes = count_rows(SMALL_EXTENTS);
    put_inline_block("mixed", "b1", "aa");  /* inline */
    put_block("mixed", "b2", "BBBB");       /* file */
    put_inline_block("mixed", "b3", "ccc"); /* inline */
    put_inline_block("mixed", "b3", "CCC"); /* replaces b3: the first bytes go */
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes + 2);
    struct blob_store_block_list l;
    assert_int_equal(blob_store_block_list_get(cid, "mixed", NULL, false, true, &l), BLOB_STORE_OK);
    assert_int_equal(l.nuncommitted, 3);
    blob_store_block_list_finish(&l);
    struct blob_store_block_ref refs[] = {ref("b1", 'U'), ref("b2", 'L'), ref("b3", 'L'),
                                          ref("b1", 'U')};
    struct blob_store_props in = {0}, out;
    assert_int_equal(blob_store_block_list_commit(cid, "mixed", refs, 4, &in, NULL, &out),
                     BLOB_STORE_OK);
    assert_int_equal(out.size, 11);
    /* Several segments: not read with the row, but through the reader, in any chunk size. */
    struct blob_store_blob b;
    assert_int_equal(blob_store_blob_read(cid, "mixed", NULL, NULL, &b), BLOB_STORE_OK);
    assert_int_equal(b.nsegs, 4);
    assert_null(b.data);
    blob_store_blob_finish(&b);
    for (size_t chunk = 1; chunk <= 16; chunk *= 2) {
        char *got = read_chunked("mixed", NULL, chunk);
        assert_string_equal(got, "aaBBBBCCCaa");
        free(got);
    }
    /* A range starting inside the file segment and ending in the last inline one. */
    assert_int_equal(blob_store_blob_read(cid, "mixed", NULL, NULL, &b), BLOB_STORE_OK);
    struct blob_store_reader *r = blob_store_reader_create(&b, 4);
    char buf[8] = {0};
    assert_int_equal(blob_store_reader_read(r, 0, buf, 8), 2);
    assert_int_equal(blob_store_reader_read(r, 2, buf + 2, 6), 3);
    assert_int_equal(blob_store_reader_read(r, 5, buf + 5, 3), 2);
    assert_string_equal(buf, "BBCCCaa");
    /* Going back works too. */
    assert_int_equal(blob_store_reader_read(r, 0, buf, 1), 1);
    blob_store_reader_destroy(r);
    blob_store_blob_finish(&b);

    /* A snapshot, then a recommit reusing a committed inline block plus a new file block. */
    char snap[BLOB_STORE_SNAPSHOT_LEN];
    assert_int_equal(blob_store_blob_snapshot(cid, "mixed", NULL, NULL, snap, &out), BLOB_STORE_OK);
    put_block("mixed", "b4", "DD");
    struct blob_store_block_ref refs2[] = {ref("b3", 'C'), ref("b4", 'L')};
    assert_int_equal(blob_store_block_list_commit(cid, "mixed", refs2, 2, &in, NULL, &out),
                     BLOB_STORE_OK);
    char *got = read_all("mixed", NULL);
    assert_string_equal(got, "CCCDD");
    free(got);
    got = read_all("mixed", snap);
    assert_string_equal(got, "aaBBBBCCCaa");
    free(got);
    assert_int_equal(blob_store_block_list_get(cid, "mixed", NULL, true, false, &l), BLOB_STORE_OK);
    assert_int_equal(l.ncommitted, 2);
    assert_int_equal(l.committed[0].size, 3);
    blob_store_block_list_finish(&l);
    /* A reader holding packed extents that a delete freed still reads the bytes it started
     * with, not another extent's (ids are never reused, packed ranges never rewritten). */
    assert_int_equal(blob_store_blob_read(cid, "mixed", snap, NULL, &b), BLOB_STORE_OK);
    r = blob_store_reader_create(&b, 0);
    blob_store_blob_finish(&b);
    assert_int_equal(blob_store_blob_delete(cid, "mixed", NULL, BLOB_STORE_DELETE_INCLUDE, NULL),
                     BLOB_STORE_OK);
    put_inline_block("other", "x1", "zz"); /* a new id: ids are never reused */
    memset(buf, 0, sizeof buf);
    assert_int_equal(blob_store_reader_read(r, 0, buf, 2), 2);
    assert_memory_equal(buf, "aa", 2);
    blob_store_reader_destroy(r);
    /* Everything is gone but the new block; uncommitted blocks go with the container. */
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes + 1);
    assert_int_equal(count_extent_files(), files);
    struct blob_store_container c = {0};
    assert_int_equal(blob_store_container_create("acct", "gone", NULL, &c), BLOB_STORE_OK);
    int64_t saved = cid;
    cid = c.id;
    put_inline_block("x", "y1", "yy");
    assert_int_equal(put_inline("z", "zzz", 3), BLOB_STORE_OK);
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes + 3);
    assert_int_equal(blob_store_container_delete("acct", "gone"), BLOB_STORE_OK);
    assert_int_equal(count_rows(SMALL_EXTENTS), bytes + 1);
    cid = saved;
    blob_store_container_finish(&c);
    assert_int_equal(blob_store_blob_delete(cid, "other", NULL, BLOB_STORE_DELETE_BLOB, NULL),
                     BLOB_STORE_NO_BLOB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_and_read),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_block_lists),
        cmocka_unit_test(test_snapshots_share_extents),
        cmocka_unit_test(test_listing),
        cmocka_unit_test(test_inline_put_read_range),
        cmocka_unit_test(test_inline_limit),
        cmocka_unit_test(test_inline_snapshot),
        cmocka_unit_test(test_inline_block_lists),
        cmocka_unit_test(test_reader_outlives_delete),
        cmocka_unit_test(test_md5_checked),
        cmocka_unit_test(test_container_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
