/*
 * Unit tests for mm_bulk.c: Migration Manager's six-column CSV (header, BOM, CRLF, quotes,
 * wrong column counts, columns B and C, garbage, more than 50,000 rows) and its JSON, every
 * message in Migration Manager's wording, and the checks against the tenant (site, duplicates).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mm_bulk.h"
#include "spmig_limits.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void parse(struct mm_bulk *b, const char *text, bool json)
{
    mm_bulk_init(b);
    mm_bulk_parse(b, text, strlen(text), json);
}

/* The i-th problem's message. */
static const char *msg(const struct mm_bulk *b, int i)
{
    const cJSON *p = cJSON_GetArrayItem(b->problems, i);
    assert_non_null(p);
    return cJSON_GetObjectItem(p, "message")->valuestring;
}

static void test_csv_good(void **state)
{
    (void)state;
    struct mm_bulk b;
    parse(&b,
          "\xef\xbb\xbf"
          "FileSharePath,,,SharePointSite,DocLibrary,DocSubFolder\r\n"
          "\\\\srv\\share\\a,,,https://contoso.sharepoint.com/sites/hr/,Documents,\r\n"
          "\"\\\\srv\\share\\b, with comma\",,,/sites/hr,\"Shared \"\"Docs\"\"\",/x/y/\r\n"
          "\r\n"
          "\\\\srv\\share\\c,,,/,Documents,f",
          false);
    assert_int_equal(b.nproblems, 0);
    assert_int_equal(b.n, 3);
    assert_string_equal(b.rows[0].source, "\\\\srv\\share\\a");
    assert_string_equal(b.rows[0].site, "/sites/hr");
    assert_string_equal(b.rows[0].folder, "");
    assert_int_equal(b.rows[0].task, 2);
    assert_string_equal(b.rows[1].source, "\\\\srv\\share\\b, with comma");
    assert_string_equal(b.rows[1].library, "Shared \"Docs\"");
    assert_string_equal(b.rows[1].folder, "x/y");
    assert_string_equal(b.rows[2].site, "/");
    assert_int_equal(b.rows[2].task, 5);
    mm_bulk_finish(&b);
    /* No header, LF only. */
    parse(&b, "/srv/a,,,/sites/x,L,\n/srv/b,,,/sites/x,L,\n", false);
    assert_int_equal(b.nproblems, 0);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.rows[1].task, 2);
    mm_bulk_finish(&b);
}

static void test_csv_messages(void **state)
{
    (void)state;
    struct mm_bulk b;
    parse(&b,
          ",,,/sites/x,L,\n"                 /* 1 */
          "\\\\s\\a,B,C,/sites/x,L,\n"       /* 2 */
          "\\\\s\\a,,,,,\n"                  /* 3 */
          "\\\\s\\a,,,not a url,L,\n"        /* 4 */
          "relative\\path,,,/sites/x,L,\n"   /* 5 */
          "\\\\s\\a,,,/sites/x,L\n"          /* 6 */
          "\\\\s\\a,,,/sites/x,L,,extra\n"   /* 7 */
          "\\\\s\\\xff\xfe,,,/sites/x,L,\n", /* 8 */
          false);
    const char *want[] = {
        "Task 1, parameter 1. The source path should not be empty",
        "Task 2, parameter 2. This parameter should be empty for a file share source",
        "Task 2, parameter 3. This parameter should be empty for a file share source",
        "Task 3, parameter 4. The target site URL should not be empty",
        "Task 3, parameter 5. The target list should not be empty",
        "Task 4, parameter 4. The target site URL is invalid",
        "Task 5, parameter 1. The source path is invalid: use \\\\server\\share\\folder",
        "Task 6. The task must have 6 columns; it has 5",
        "Task 7. The task must have 6 columns; it has 7",
        "Task 8, parameter 1. The value is not valid UTF-8 text of at most 1024 bytes",
    };
    assert_int_equal(b.nproblems, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(msg(&b, (int)i), want[i]);
    mm_bulk_finish(&b);
}

static void test_csv_garbage(void **state)
{
    (void)state;
    struct mm_bulk b;
    parse(&b, "\\\\s\\a,,,/sites/x,L,\n\"unclosed,,,/sites/x,L,\n", false);
    assert_int_equal(b.nproblems, 1);
    assert_string_equal(msg(&b, 0), "Task 2. A quoted field is not closed");
    mm_bulk_finish(&b);
    parse(&b, "", false);
    assert_string_equal(msg(&b, 0), "The file holds no task");
    mm_bulk_finish(&b);
    parse(&b, "\x01\x02\x03garbage", false);
    assert_true(b.nproblems >= 1);
    assert_int_equal(b.n, 0);
    mm_bulk_finish(&b);
    /* Embedded NUL bytes never crash the reader. */
    const char nul[] = "\\\\s\\a\0,,,/sites/x,L,\n";
    mm_bulk_init(&b);
    mm_bulk_parse(&b, nul, sizeof nul - 1, false);
    assert_int_equal(b.nproblems, 1);
    assert_string_equal(msg(&b, 0), "Task 1. The task holds a NUL byte");
    mm_bulk_finish(&b);
}

static void test_csv_too_many(void **state)
{
    (void)state;
    struct strbuf sb;
    strbuf_init(&sb, 0);
    for (int i = 0; i < LIMIT_MM_TASKS; i++)
        strbuf_printf(&sb, "\\\\srv\\s\\%d,,,/sites/x,L,\r\n", i);
    struct mm_bulk b;
    mm_bulk_init(&b); /* exactly the limit is fine */
    mm_bulk_parse(&b, sb.data, sb.len, false);
    assert_int_equal(b.nproblems, 0);
    assert_int_equal(b.n, LIMIT_MM_TASKS);
    mm_bulk_finish(&b);
    strbuf_printf(&sb, "\\\\srv\\s\\last,,,/sites/x,L,\r\n");
    mm_bulk_init(&b);
    mm_bulk_parse(&b, sb.data, sb.len, false);
    assert_int_equal(b.nproblems, 1);
    assert_string_equal(msg(&b, 0), "The file holds more than 50000 tasks");
    mm_bulk_finish(&b);
    strbuf_finish(&sb);
    /* Bounded input: refused before a byte is read. */
    mm_bulk_init(&b);
    mm_bulk_parse(&b, "x", (size_t)LIMIT_MM_BULK_BYTES + 1, false);
    assert_string_equal(msg(&b, 0), "The file is larger than 16777216 bytes");
    mm_bulk_finish(&b);
}

static void test_json(void **state)
{
    (void)state;
    struct mm_bulk b;
    parse(&b,
          "{\"Tasks\":[{\"SourcePath\":\"\\\\\\\\s\\\\a\",\"TargetPath\":\"https://x/sites/a\","
          "\"TargetList\":\"Documents\",\"TargetListRelativePath\":\"f\",\"Settings\":"
          "{\"MigrateHiddenItems\":\"False\",\"SkipFilesWithExtensions\":\"txt:mp3\","
          "\"MigrateItemsModifiedAfter\":\"2021-02-28\"}},"
          "{\"SourcePath\":\"\\\\\\\\s\\\\b\",\"TargetPath\":\"/sites/a\",\"TargetList\":\"D\"}]}",
          true);
    assert_int_equal(b.nproblems, 0);
    assert_int_equal(b.n, 2);
    assert_string_equal(b.rows[0].site, "/sites/a");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(b.rows[0].settings, "migrateHiddenFiles")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(b.rows[0].settings, "skipExtensions")),
                     2);
    assert_null(b.rows[1].settings);
    mm_bulk_finish(&b);
    parse(&b,
          "{\"Tasks\":[{\"SourcePath\":\"\",\"TargetPath\":\"/sites/a\",\"TargetList\":\"\"},"
          "7,{\"SourcePath\":1,\"TargetPath\":\"/sites/a\",\"TargetList\":\"D\"},"
          "{\"SourcePath\":\"/a\",\"TargetPath\":\"/sites/a\",\"TargetList\":\"D\","
          "\"Settings\":{\"MigrateItemsCreatedAfter\":\"2021-02-30\"}}]}",
          true);
    const char *want[] = {
        "Task 1, parameter 1. The source path should not be empty",
        "Task 1, parameter 5. The target list should not be empty",
        "Task 2. The task is not a JSON object",
        "Task 3, parameter 1. The parameter must be a string",
        "Task 4. Settings: createdAfter must be a date yyyy-mm-dd or null.",
    };
    assert_int_equal(b.nproblems, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(msg(&b, (int)i), want[i]);
    mm_bulk_finish(&b);
    parse(&b, "[1,2]", true);
    assert_string_equal(msg(&b, 0), "The file is not JSON of the form {\"Tasks\":[...]}");
    mm_bulk_finish(&b);
}

static bool site_ok(void *ctx, const char *site)
{
    (void)ctx;
    return strcmp(site, "/sites/gone") != 0;
}

static bool dup_existing(void *ctx, const struct mm_bulk_row *r)
{
    (void)ctx;
    return strcmp(r->source, "\\\\s\\old") == 0;
}

static void test_check(void **state)
{
    (void)state;
    struct mm_bulk b;
    parse(&b,
          "\\\\s\\a,,,/sites/x,L,\n"
          "\\\\s\\old,,,/sites/x,L,\n"
          "\\\\s\\b,,,/sites/gone,L,\n"
          "\\\\s\\a,,,/sites/x,L,\n"
          "\\\\s\\a,,,/sites/x,L,other\n",
          false);
    assert_int_equal(b.nproblems, 0);
    mm_bulk_check(&b, site_ok, dup_existing, NULL);
    assert_int_equal(b.nproblems, 3);
    assert_string_equal(msg(&b, 0), "Task 2. A duplicate task has already been created");
    assert_string_equal(msg(&b, 1), "Task 3, parameter 4. Destination site or web doesn't exist");
    assert_string_equal(msg(&b, 2), "Task 4. A duplicate of task 1");
    mm_bulk_finish(&b);
}

static void test_paths(void **state)
{
    (void)state;
    assert_true(mm_bulk_source_ok("\\\\srv\\share"));
    assert_true(mm_bulk_source_ok("/srv/share"));
    assert_true(mm_bulk_source_ok("C:\\data"));
    assert_false(mm_bulk_source_ok("\\\\\\x"));
    assert_false(mm_bulk_source_ok("share"));
    assert_false(mm_bulk_source_ok(""));
    char *p = mm_bulk_site_path("HTTPS://contoso.sharepoint.com");
    assert_string_equal(p, "/");
    free(p);
    p = mm_bulk_site_path("http://h:8080/sites/a///");
    assert_null(p);
    p = mm_bulk_site_path("/sites/a/");
    assert_string_equal(p, "/sites/a");
    free(p);
    assert_null(mm_bulk_site_path("sites/a"));
    assert_null(mm_bulk_site_path("/sites/a?x=1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_good),    cmocka_unit_test(test_csv_messages),
        cmocka_unit_test(test_csv_garbage), cmocka_unit_test(test_csv_too_many),
        cmocka_unit_test(test_json),        cmocka_unit_test(test_check),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
