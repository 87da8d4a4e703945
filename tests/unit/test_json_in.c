/*
 * test_json_in.c: unit tests of common/json_in.c: a NUL, raw or as the escape \u0000, refuses
 * the document; an escaped backslash followed by "u0000" is text; other escapes parse.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nul_found),
        cmocka_unit_test(test_not_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
