/* Unit tests for odata_query.c: parsing every option, refusals, name checks, evaluation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "odata_query.h"

/* Parses "a=1&b=2" as the listener would. */
static int parse(const char *raw, struct odata_query *q, struct odq_error *err)
{
    struct query qs = {0};
    assert_int_equal(query_parse(raw, strlen(raw), &qs), 0);
    int rc = odata_query_parse(&qs, q, err);
    query_finish(&qs);
    return rc;
}

static const char *const item_props[] = {"Id",      "ID",        "FileLeafRef",     "FileRef",
                                         "Created", "FSObjType", "File_x0020_Size", NULL};
static const char *const item_navs[] = {"Author", "Editor", "File", NULL};
static const struct odata_type items = {"SP.ListItem", item_props, item_navs, true};
static const char *const list_props[] = {"Id", "Title", "ItemCount", NULL};
static const char *const list_navs[] = {"RootFolder", "Items", NULL};
static const struct odata_type lists = {"SP.List", list_props, list_navs, false};

static void test_accepted(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "$select=Id,FileLeafRef",
        "$select=*",
        "$select=Id,Author",
        "$select=Author/Title,Id&$expand=Author",
        "$filter=Id%20eq%205",
        "$filter=(Id gt 1 and Id le 10) or not (FileLeafRef eq 'a''b')",
        "$filter=startswith(FileLeafRef,'rep') and substringof('x', FileRef)",
        "$filter=Created ge datetime'2024-01-01T00:00:00Z'",
        "$filter=Created lt datetime'2024-01-01'",
        "$filter=FSObjType eq 0 and File_x0020_Size gt 10L",
        "$filter=Author/Title eq 'Ann'&$expand=Author",
        "$filter=year(Created) eq 2024",
        "$filter=5 lt Id",
        "$filter=FileRef ne null",
        "$filter=Id eq -3.5",
        "$orderby=FileLeafRef desc,Id asc",
        "$orderby=Created",
        "$top=0",
        "$top=5000",
        "$skiptoken=Paged%3DTRUE%26p_ID%3D12",
        "$skiptoken=Paged%3DTRUE%26p_ID%3D-1%26p_FileLeafRef%3Da",
        "@u='x'&other=1",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        struct odata_query q;
        struct odq_error err;
        if (parse(ok[i], &q, &err) < 0)
            fail_msg("%s: %s", ok[i], err.message);
        if (odata_query_check(&q, &items, true, &err) < 0)
            fail_msg("%s: check: %s", ok[i], err.message);
        odata_query_finish(&q);
    }
}

struct refusal {
    const char *query;
    unsigned status;
    const char *type;
    const char *message; /* a part of the message */
};

static void test_refused(void **state)
{
    (void)state;
    static const struct refusal bad[] = {
        {"$top=abc", 400, "InvalidClientQueryException", "Invalid value 'abc' for $top"},
        {"$top=5000/File", 400, "InvalidClientQueryException", "non-negative integer"},
        {"$top=-1", 400, "InvalidClientQueryException", "$top"},
        {"$top=99999999999", 400, "InvalidClientQueryException", "$top"},
        {"$top=", 400, "InvalidClientQueryException", "$top"},
        {"$top=1&$top=2", 400, "InvalidClientQueryException", "more than once"},
        {"$count=true", 400, "InvalidClientQueryException", "system-reserved"},
        {"$inlinecount=allpages", 400, "InvalidClientQueryException", "not supported"},
        {"$select=", 400, "InvalidClientQueryException", "$select"},
        {"$select=Id,,Title", 400, "InvalidClientQueryException", "$select"},
        {"$select=A/B/C", 400, "InvalidClientQueryException", "$select"},
        {"$orderby=Id sideways", 400, "InvalidClientQueryException", "$orderby"},
        {"$filter=", 400, "InvalidClientQueryException", "is not valid"},
        {"$filter=Id eq", 400, "InvalidClientQueryException", "is not valid"},
        {"$filter=Id", 400, "InvalidClientQueryException", "comparison operator"},
        {"$filter=(Id eq 1", 400, "InvalidClientQueryException", "')' is expected"},
        {"$filter=Id eq 1)", 400, "InvalidClientQueryException", "ends too early"},
        {"$filter=Id eq 'a", 400, "InvalidClientQueryException", "not closed"},
        {"$filter=Id eq Title", 400, "InvalidClientQueryException", "one field and one literal"},
        {"$filter=endswith(FileRef,'x')", 400, "InvalidClientQueryException", "'endswith'"},
        {"$filter=Id add 1 eq 2", 400, "InvalidClientQueryException", "'add'"},
        {"$filter=frob(Id)", 400, "InvalidClientQueryException", "Unknown function"},
        {"$filter=Created eq datetime'yesterday'", 400, "InvalidClientQueryException", "ISO 8601"},
        {"$filter=Id eq 12abc", 400, "InvalidClientQueryException", "runs into a name"},
        {"$skiptoken=p_ID%3Dabc", 400, "ArgumentException", "$skiptoken"},
        {"$skiptoken=Paged%3DTRUE", 400, "ArgumentException", "$skiptoken"},
        {"$skiptoken=Paged%3DTRUE%26p_ID%3D99999999999", 400, "ArgumentException", "$skiptoken"},
        {"$skiptoken=Paged%3DTRUE%26p_ID%3D1%26evil%3D1", 400, "ArgumentException", "$skiptoken"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct odata_query q;
        struct odq_error err;
        if (parse(bad[i].query, &q, &err) == 0)
            fail_msg("%s: accepted", bad[i].query);
        assert_int_equal(err.status, bad[i].status);
        if (!strstr(err.type, bad[i].type) || !strstr(err.message, bad[i].message))
            fail_msg("%s: %s: %s", bad[i].query, err.type, err.message);
        odata_query_finish(&q);
    }
}

static void test_depth_and_size_bounded(void **state)
{
    (void)state;
    char deep[4 * LIMIT_ODATA_FILTER_DEPTH + 64] = "$filter=";
    for (int i = 0; i < LIMIT_ODATA_FILTER_DEPTH + 1; i++)
        strcat(deep, "(");
    strcat(deep, "Id eq 1");
    for (int i = 0; i < LIMIT_ODATA_FILTER_DEPTH + 1; i++)
        strcat(deep, ")");
    struct odata_query q;
    struct odq_error err;
    assert_int_equal(parse(deep, &q, &err), -1);
    assert_non_null(strstr(err.message, "nested too deeply"));
    odata_query_finish(&q);

    char wide[16 * LIMIT_ODATA_FILTER_NODES] = "$filter=Id eq 1";
    for (int i = 0; i < LIMIT_ODATA_FILTER_NODES / 2; i++)
        strcat(wide, " or Id eq 1");
    assert_int_equal(parse(wide, &q, &err), -1);
    assert_non_null(strstr(err.message, "too many terms"));
    odata_query_finish(&q);
}

static void test_check(void **state)
{
    (void)state;
    static const struct refusal bad[] = {
        {"$select=Nope", 400, "ArgumentException", "Column 'Nope' does not exist"},
        {"$filter=Nope eq 1", 400, "ArgumentException", "Column 'Nope' does not exist"},
        {"$orderby=Nope", 400, "ArgumentException", "Column 'Nope'"},
        {"$select=Author/Title", 400, "SPException", "must contains Author"},
        {"$filter=Author eq 'x'&$expand=Author", 400, "SPException", "cannot be used"},
        {"$expand=Nope", 400, "SPException", "The query to field 'Nope' is not valid."},
        {"$skip=2", 400, "InvalidClientQueryException", "$skiptoken"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct odata_query q;
        struct odq_error err;
        assert_int_equal(parse(bad[i].query, &q, &err), 0);
        if (odata_query_check(&q, &items, true, &err) == 0)
            fail_msg("%s: accepted", bad[i].query);
        if (!strstr(err.type, bad[i].type) || !strstr(err.message, bad[i].message))
            fail_msg("%s: %s: %s", bad[i].query, err.type, err.message);
        odata_query_finish(&q);
    }
    static const struct refusal bad_list[] = {
        {"$select=Nope", 400, "InvalidClientQueryException",
         "The property 'Nope' does not exist on type 'SP.List'"},
        {"$filter=Id eq 1", 400, "InvalidClientQueryException", "$filter cannot be applied"},
        {"$top=1", 400, "InvalidClientQueryException", "cannot be applied"},
    };
    for (size_t i = 0; i < sizeof bad_list / sizeof *bad_list; i++) {
        struct odata_query q;
        struct odq_error err;
        assert_int_equal(parse(bad_list[i].query, &q, &err), 0);
        if (odata_query_check(&q, &lists, false, &err) == 0)
            fail_msg("%s: accepted", bad_list[i].query);
        if (!strstr(err.message, bad_list[i].message))
            fail_msg("%s: %s", bad_list[i].query, err.message);
        odata_query_finish(&q);
    }
}

static cJSON *item(int id, const char *name, const char *created, const char *author)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "Id", id);
    cJSON_AddStringToObject(o, "FileLeafRef", name);
    cJSON_AddStringToObject(o, "Created", created);
    cJSON_AddStringToObject(o, "File_x0020_Size", id == 2 ? "100" : "7");
    cJSON *a = cJSON_AddObjectToObject(o, "Author");
    cJSON_AddStringToObject(a, "Title", author);
    cJSON_AddNumberToObject(a, "Id", 9);
    cJSON_AddStringToObject(o, "__type", "SP.ListItem");
    return o;
}

static void test_evaluation(void **state)
{
    (void)state;
    cJSON *one = item(1, "Report.docx", "2024-03-01T10:00:00Z", "Ann");
    cJSON *two = item(2, "budget.xlsx", "2023-12-31T23:59:59Z", "Bob");
    static const struct {
        const char *filter;
        bool one, two;
    } cases[] = {
        {"Id eq 1", true, false},
        {"Id ne 1", false, true},
        {"Id ge 1 and Id lt 2", true, false},
        {"not (Id eq 1) or FileLeafRef eq 'REPORT.DOCX'", true, true},
        {"startswith(FileLeafRef,'rep')", true, false},
        {"substringof('dget', FileLeafRef)", false, true},
        {"Created ge datetime'2024-01-01T00:00:00Z'", true, false},
        {"year(Created) eq 2023", false, true},
        {"File_x0020_Size gt 50", false, true},
        {"Author/Title eq 'Bob'", false, true},
        {"FileRef eq null", true, true},
        {"FileLeafRef ne null", true, true},
        {"2 le Id", false, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct odata_query q;
        struct odq_error err;
        struct query_pair pairs[2] = {{"$filter", (char *)cases[i].filter},
                                      {"$expand", (char *)"Author"}};
        struct query qs = {pairs, 2};
        if (odata_query_parse(&qs, &q, &err) < 0)
            fail_msg("%s: %s", cases[i].filter, err.message);
        if (odata_query_match(&q, one) != cases[i].one ||
            odata_query_match(&q, two) != cases[i].two)
            fail_msg("%s: wrong match", cases[i].filter);
        odata_query_finish(&q);
    }

    struct odata_query q;
    struct odq_error err;
    assert_int_equal(parse("$orderby=FileLeafRef desc", &q, &err), 0);
    assert_true(odata_query_compare(&q, one, two, "Id") < 0); /* Report before budget */
    odata_query_finish(&q);
    assert_int_equal(parse("$orderby=File_x0020_Size", &q, &err), 0);
    assert_true(odata_query_compare(&q, one, two, "Id") < 0);
    odata_query_finish(&q);

    assert_int_equal(parse("$select=Id,Author/Title&$expand=Author", &q, &err), 0);
    odata_query_select(&q, one);
    assert_non_null(cJSON_GetObjectItem(one, "Id"));
    assert_null(cJSON_GetObjectItem(one, "FileLeafRef"));
    assert_non_null(cJSON_GetObjectItem(one, "__type"));
    const cJSON *a = cJSON_GetObjectItem(one, "Author");
    assert_non_null(cJSON_GetObjectItem(a, "Title"));
    assert_null(cJSON_GetObjectItem(a, "Id"));
    odata_query_finish(&q);
    cJSON_Delete(one);
    cJSON_Delete(two);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_depth_and_size_bounded),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_evaluation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
