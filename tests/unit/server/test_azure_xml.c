/* Unit tests for azure_xml.c: the block list and queue message parsers, good and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "azure_xml.h"

static int parse(const char *xml, struct blob_store_block_ref **refs, size_t *n, const char **code)
{
    return azure_xml_block_list(xml, strlen(xml), refs, n, code);
}

static void test_all_three_lists(void **state)
{
    (void)state;
    struct blob_store_block_ref *refs;
    size_t n;
    const char *code;
    const char *xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>"
                      "<Committed>QUFB</Committed><Uncommitted>QkJC</Uncommitted>"
                      "<Latest>Q0ND</Latest></BlockList>";
    assert_int_equal(parse(xml, &refs, &n, &code), 0);
    assert_int_equal(n, 3);
    assert_int_equal(refs[0].list, 'C');
    assert_int_equal(refs[1].list, 'U');
    assert_int_equal(refs[2].list, 'L');
    assert_int_equal(refs[0].idlen, 3);
    assert_memory_equal(refs[0].id, "AAA", 3);
    assert_memory_equal(refs[2].id, "CCC", 3);
    free(refs);
}

static void test_empty_list(void **state)
{
    (void)state;
    struct blob_store_block_ref *refs;
    size_t n;
    const char *code;
    assert_int_equal(parse("<BlockList/>", &refs, &n, &code), 0);
    assert_int_equal(n, 0);
    free(refs);
}

static void expect_fail(const char *xml, const char *want)
{
    struct blob_store_block_ref *refs = (void *)1;
    size_t n = 7;
    const char *code = NULL;
    assert_int_equal(parse(xml, &refs, &n, &code), -1);
    assert_null(refs);
    assert_int_equal(n, 0);
    assert_string_equal(code, want);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_fail("<BlockList><Latest>QUFB</Latest>", "InvalidXmlDocument");
    expect_fail("not xml", "InvalidXmlDocument");
    expect_fail("<Blocks><Latest>QUFB</Latest></Blocks>", "InvalidXmlDocument");
    expect_fail("<BlockList><Other>QUFB</Other></BlockList>", "InvalidXmlDocument");
    expect_fail("<BlockList><Latest><b>x</b></Latest></BlockList>", "InvalidXmlDocument");
}

static void test_bad_ids(void **state)
{
    (void)state;
    expect_fail("<BlockList><Latest>!!!</Latest></BlockList>", "InvalidBlockId");
    expect_fail("<BlockList><Latest></Latest></BlockList>", "InvalidBlockId");
    /* 65 bytes decoded: over the 64-byte limit */
    expect_fail("<BlockList><Latest>QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
                "QUFBQUFBQUFBQUFBQUFBQUFBQUE=</Latest></BlockList>",
                "InvalidBlockId");
}

static void test_entities_refused(void **state)
{
    (void)state;
    /* A billion-laughs document and an external entity: both carry a DTD and are refused
     * before any expansion or fetch. */
    expect_fail("<?xml version=\"1.0\"?><!DOCTYPE BlockList [<!ENTITY a \"QUFB\">"
                "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
                "<BlockList><Latest>&b;</Latest></BlockList>",
                "InvalidXmlDocument");
    expect_fail("<?xml version=\"1.0\"?><!DOCTYPE BlockList [<!ENTITY x SYSTEM "
                "\"file:///etc/passwd\">]><BlockList><Latest>&x;</Latest></BlockList>",
                "InvalidXmlDocument");
}

static void test_queue_message(void **state)
{
    (void)state;
    size_t len = 0;
    const char *ok = "<?xml version=\"1.0\"?><QueueMessage><MessageText>a &amp; b</MessageText>"
                     "</QueueMessage>";
    char *t = azure_xml_queue_message(ok, strlen(ok), &len);
    assert_non_null(t);
    assert_string_equal(t, "a & b");
    assert_int_equal(len, 5);
    free(t);
    const char *bad[] = {
        "<QueueMessage><MessageText>x</MessageText>",
        "<Other><MessageText>x</MessageText></Other>",
        "<!DOCTYPE QueueMessage [<!ENTITY e \"boom\">]><QueueMessage><MessageText>&e;"
        "</MessageText></QueueMessage>",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(azure_xml_queue_message(bad[i], strlen(bad[i]), &len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_three_lists),  cmocka_unit_test(test_empty_list),
        cmocka_unit_test(test_malformed),        cmocka_unit_test(test_bad_ids),
        cmocka_unit_test(test_entities_refused), cmocka_unit_test(test_queue_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
