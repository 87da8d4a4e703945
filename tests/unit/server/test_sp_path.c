/* Unit tests for sp_path.c: SharePoint REST path segments, arguments, aliases, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sp_path.h"

static void test_segments_and_args(void **state)
{
    (void)state;
    struct sp_path p;
    char err[128];
    struct query q = {0};
    assert_int_equal(
        sp_path_parse("web/lists/getbytitle('It''s Docs')/items", &q, &p, err, sizeof err), 0);
    assert_int_equal(p.n, 4);
    assert_string_equal(p.seg[0].name, "web");
    assert_string_equal(p.seg[2].name, "getbytitle");
    assert_string_equal(sp_path_arg(&p.seg[2], NULL, 0), "It's Docs");
    assert_false(p.seg[3].has_parens);
    sp_path_finish(&p);

    assert_int_equal(sp_path_parse("site/GetMigrationJobProgress(jobId=guid'0b7c2f1e-1111-2222-"
                                   "3333-444455556666',nextToken=0)",
                                   &q, &p, err, sizeof err),
                     0);
    assert_string_equal(sp_path_arg(&p.seg[1], "JOBID", -1),
                        "0b7c2f1e-1111-2222-3333-444455556666");
    assert_string_equal(sp_path_arg(&p.seg[1], "nextToken", -1), "0");
    sp_path_finish(&p);

    assert_int_equal(sp_path_parse("web/GetFileByServerRelativeUrl('/Shared Documents/a (1).txt')"
                                   "/$value",
                                   &q, &p, err, sizeof err),
                     0);
    assert_string_equal(sp_path_arg(&p.seg[1], NULL, 0), "/Shared Documents/a (1).txt");
    assert_string_equal(p.seg[2].name, "$value");
    sp_path_finish(&p);
}

static void test_alias(void **state)
{
    (void)state;
    struct query q;
    const char *raw = "@u='%2FShared%20Documents%2Fx'";
    assert_int_equal(query_parse(raw, strlen(raw), &q), 0);
    struct sp_path p;
    char err[128];
    assert_int_equal(
        sp_path_parse("web/GetFolderByServerRelativeUrl(@u)/Files", &q, &p, err, sizeof err), 0);
    assert_string_equal(sp_path_arg(&p.seg[1], NULL, 0), "/Shared Documents/x");
    sp_path_finish(&p);
    assert_int_equal(
        sp_path_parse("web/GetFolderByServerRelativeUrl(@missing)", &q, &p, err, sizeof err), -1);
    query_finish(&q);
}

static void test_malformed(void **state)
{
    (void)state;
    struct query q = {0};
    struct sp_path p;
    char err[128];
    const char *bad[] = {
        "web/getbytitle('open",
        "web/getbytitle('x'",
        "web//lists",
        "web/f('a')x",
        "web/f(a=)",
        "web/f(a='1',b='2',c='3',d='4',e='5',f='6',g='7',h='8',i='9')",
        "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sp_path_parse(bad[i], &q, &p, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segments_and_args),
        cmocka_unit_test(test_alias),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
