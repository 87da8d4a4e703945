/*
 * test_azure.c: unit tests of client/azure.c's URL handling: a SAS URI split at '?', and blob
 * URLs with names percent-encoded (slashes kept) and extra query parameters appended.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "azure.h"

static void test_sas_parse(void **unused)
{
    (void)unused;
    struct azc_sas s;
    assert_int_equal(azc_sas_parse("http://127.0.0.1:1/acct/c1/?sv=2018-03-28&sig=a%2Bb", &s), 0);
    assert_string_equal(s.base, "http://127.0.0.1:1/acct/c1");
    assert_string_equal(s.query, "sv=2018-03-28&sig=a%2Bb");
    char *u = azc_blob_url(&s, "dir/a b+c?.dat", NULL);
    assert_string_equal(u,
                        "http://127.0.0.1:1/acct/c1/dir/a%20b%2Bc%3F.dat?sv=2018-03-28&sig=a%2Bb");
    free(u);
    u = azc_blob_url(&s, "x", "comp=snapshot");
    assert_string_equal(u, "http://127.0.0.1:1/acct/c1/x?sv=2018-03-28&sig=a%2Bb&comp=snapshot");
    free(u);
    azc_sas_finish(&s);
    assert_int_equal(azc_sas_parse("http://127.0.0.1:1/acct/c1", &s), -1);   /* no SAS */
    assert_int_equal(azc_sas_parse("127.0.0.1:1/acct/c1?sv=1", &s), -1);     /* no scheme */
    assert_int_equal(azc_sas_parse("http://127.0.0.1:1?sv=1&x=/a", &s), -1); /* no path */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sas_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
