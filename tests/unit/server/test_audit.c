/*
 * Unit tests for audit.c on a real temporary database: entries page newest first, an entry
 * written inside a transaction goes with it, and nothing is written while the log is stopped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"
#include "audit.h"
#include "db.h"

static const char *first_subject(cJSON *page)
{
    cJSON *v = cJSON_GetObjectItem(page, "value");
    cJSON *e = cJSON_GetArrayItem(v, 0);
    return e ? cJSON_GetObjectItem(e, "subject")->valuestring : NULL;
}

static void test_paging(void **state)
{
    (void)state;
    char s[16];
    for (int i = 0; i < 25; i++) {
        snprintf(s, sizeof s, "s%d", i);
        audit_record("refused", s, "403 AuthenticationFailed");
    }
    cJSON *page = audit_json(10, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "value")), 10);
    assert_string_equal(first_subject(page), "s24");
    const char *tok = cJSON_GetObjectItem(page, "nextSkipToken")->valuestring;
    cJSON *page2 = audit_json(10, strtoll(tok, NULL, 10));
    assert_string_equal(first_subject(page2), "s14");
    cJSON *page3 =
        audit_json(10, strtoll(cJSON_GetObjectItem(page2, "nextSkipToken")->valuestring, NULL, 10));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page3, "value")), 5);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(page3, "nextSkipToken")));
    cJSON_Delete(page);
    cJSON_Delete(page2);
    cJSON_Delete(page3);
}

static void test_in_transaction(void **state)
{
    (void)state;
    struct db *d = db_acquire();
    db_write_begin(d);
    assert_int_equal(audit_record_tx(d, "provision", "rolled-back", "container"), 0);
    db_write_end(d, false);
    db_write_begin(d);
    assert_int_equal(audit_record_tx(d, "provision", "kept", "container"), 0);
    assert_int_equal(db_write_end(d, true), 0);
    db_release(d);
    cJSON *page = audit_json(10, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "value")), 1);
    assert_string_equal(first_subject(page), "kept");
    cJSON_Delete(page);
}

static void test_stopped(void **state)
{
    (void)state;
    audit_stop();
    audit_record("refused", "lost", "401");
    audit_start();
    audit_record("refused", "kept", "401");
    cJSON *page = audit_json(0, 0); /* 0: the most there is */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "value")), 1);
    assert_string_equal(first_subject(page), "kept");
    cJSON_Delete(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_paging, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_in_transaction, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stopped, fixture_setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
