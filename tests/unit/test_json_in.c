/*
 * test_json_in.c: unit tests of common/json_in.c: a NUL, raw or as the escape \u0000, refuses
 * the document; an escaped backslash followed by "u0000" is text; other escapes parse; one
 * document only, with nothing after it but white space.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "json_in.h"

static bool has_nul(const char *s)
{
    return json_in_has_nul(s, strlen(s));
}

static void test_nul_found(void **state)
{
    (void)state;
    assert_true(has_nul("{\"a\":\"boss@x\\u0000.evil\"}"));
    assert_true(has_nul("{\"a\\u0000\":1}"));
    assert_true(has_nul("\\u0000"));
    assert_true(json_in_has_nul("{\"a\":\"x\0y\"}", 11));
    assert_null(json_in_parse("{\"a\":\"x\\u0000y\"}", 16));
}

static void test_not_nul(void **state)
{
    (void)state;
    assert_false(has_nul("{\"a\":\"x\\\\u0000y\"}")); /* a backslash, then text */
    assert_false(has_nul("{\"a\":\"\\u0001\\u00e9\\n\\\"\"}"));
    assert_false(has_nul("{\"a\":\"\\u000\"}")); /* malformed: cJSON's to refuse */
    assert_false(has_nul("\\"));
    cJSON *j = json_in_parse("{\"a\":\"x\\\\u0000y\"}", 17);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "a")->valuestring, "x\\u0000y");
    cJSON_Delete(j);
}

static cJSON *parse(const char *s)
{
    return json_in_parse(s, strlen(s));
}

static void test_one_document(void **state)
{
    (void)state;
    const char *bad[] = {"{}x", "{}{}", "{\"a\":1} ,", "[1]]", "\"s\" \"t\"", "1 2", "{} //", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(parse(bad[i]));
    const char *good[] = {"{}", " {} \r\n\t ", "[1,2]\n", "\"s\"", "0"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cJSON *j = parse(good[i]);
        assert_non_null(j);
        cJSON_Delete(j);
    }
    /* The length bounds the document: what lies past it is not read. */
    cJSON *j = json_in_parse("{\"a\":1}garbage", 7);
    assert_non_null(j);
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nul_found),
        cmocka_unit_test(test_not_nul),
        cmocka_unit_test(test_one_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
