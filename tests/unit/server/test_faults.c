/* Unit tests for faults.c: rule validation, matching by user and operation, counts, clear. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "faults.h"

static int add(const char *json)
{
    cJSON *o = cJSON_Parse(json);
    char why[200];
    int id = faults_add(o, why, sizeof why);
    cJSON_Delete(o);
    return id;
}

static void test_rules(void **state)
{
    (void)state;
    struct fault_hit hit;
    assert_false(faults_check("a@x", "web", &hit));
    assert_int_equal(add("{\"status\":418}"), -1);
    assert_int_equal(add("{\"status\":429,\"count\":0}"), -1);
    assert_int_equal(add("{\"status\":429,\"retryAfter\":-1}"), -1);
    assert_true(add("{\"status\":429,\"retryAfter\":7,\"user\":\"A@X\",\"operation\":\"Items\","
                    "\"count\":2}") > 0);
    assert_false(faults_check("b@x", "items", &hit)); /* another user */
    assert_false(faults_check("a@x", "web", &hit));   /* another operation */
    assert_true(faults_check("a@x", "items", &hit));
    assert_int_equal(hit.status, 429);
    assert_int_equal(hit.retry_after, 7);
    assert_true(faults_check("a@x", "items", &hit));
    assert_false(faults_check("a@x", "items", &hit)); /* count used up */
    assert_true(add("{\"status\":503}") > 0);
    assert_true(faults_check("anyone", "anything", &hit));
    assert_int_equal(hit.status, 503);
    cJSON *l = faults_list();
    assert_int_equal(cJSON_GetArraySize(l), 1);
    cJSON_Delete(l);
    faults_clear();
    assert_false(faults_check("anyone", "anything", &hit));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rules)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
