/*
 * test_xml_bounds.c: unit tests of common/xml_bounds.c: each bound refused at its limit and
 * not below, pieces of any size scanned as one, and what is skipped (attribute values,
 * comments, CDATA, processing instructions) not counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spmig_limits.h"
#include "strbuf.h"
#include "xml_bounds.h"

static enum xml_bounds_verdict scan(const char *doc, size_t piece)
{
    struct xml_bounds b;
    xml_bounds_init(&b);
    size_t n = strlen(doc);
    enum xml_bounds_verdict v = XML_BOUNDS_OK;
    for (size_t i = 0; i < n; i += piece)
        v = xml_bounds_feed(&b, doc + i, n - i < piece ? n - i : piece);
    return v;
}

/* Every piece size gives the same verdict as the whole document. */
static void expect(const char *doc, enum xml_bounds_verdict want)
{
    assert_int_equal(scan(doc, strlen(doc) + 1), want);
    for (size_t piece = 1; piece <= 7; piece++)
        assert_int_equal(scan(doc, piece), want);
}

static char *element_with_attrs(unsigned n)
{
    struct strbuf sb;
    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "<r");
    for (unsigned i = 0; i < n; i++)
        strbuf_printf(&sb, " a%u=\"x>y\"", i);
    strbuf_printf(&sb, "/>");
    return strbuf_steal(&sb);
}

static void test_attributes(void **state)
{
    (void)state;
    char *ok = element_with_attrs(LIMIT_XML_ATTRIBUTES);
    char *bad = element_with_attrs(LIMIT_XML_ATTRIBUTES + 1);
    expect(ok, XML_BOUNDS_OK);
    expect(bad, XML_BOUNDS_ATTRIBUTES);
    free(ok);
    free(bad);
}

static char *nested(unsigned depth, bool self_closing_siblings)
{
    struct strbuf sb;
    strbuf_init(&sb, 0);
    for (unsigned i = 0; i < depth; i++)
        strbuf_printf(&sb, self_closing_siblings ? "<a><b/><c x='1' />" : "<a>");
    for (unsigned i = 0; i < depth; i++)
        strbuf_printf(&sb, "</a >");
    return strbuf_steal(&sb);
}

static void test_depth(void **state)
{
    (void)state;
    char *ok = nested(LIMIT_XML_DEPTH - 1, true); /* <b/> and <c/> go one deeper */
    char *bad = nested(LIMIT_XML_DEPTH + 1, false);
    expect(ok, XML_BOUNDS_OK);
    expect(bad, XML_BOUNDS_DEPTH);
    free(ok);
    free(bad);
}

static void test_names(void **state)
{
    (void)state;
    char ok[LIMIT_XML_NAME + 16], bad[LIMIT_XML_NAME + 16], attr[LIMIT_XML_NAME + 32];
    snprintf(ok, sizeof ok, "<%0*d/>", LIMIT_XML_NAME, 0);
    snprintf(bad, sizeof bad, "<%0*d/>", LIMIT_XML_NAME + 1, 0);
    snprintf(attr, sizeof attr, "<r a%0*d='1'/>", LIMIT_XML_NAME, 0);
    expect(ok, XML_BOUNDS_OK);
    expect(bad, XML_BOUNDS_NAME);
    expect(attr, XML_BOUNDS_NAME);
}

static void test_elements(void **state)
{
    (void)state;
    struct xml_bounds b;
    xml_bounds_init(&b);
    assert_int_equal(xml_bounds_feed(&b, "<r>", 3), XML_BOUNDS_OK);
    for (unsigned long i = 1; i < LIMIT_XML_ELEMENTS; i++)
        assert_int_equal(xml_bounds_feed(&b, "<e/>", 4), XML_BOUNDS_OK);
    assert_int_equal(xml_bounds_feed(&b, "<e/>", 4), XML_BOUNDS_ELEMENTS);
    assert_int_equal(xml_bounds_feed(&b, "</r>", 4), XML_BOUNDS_ELEMENTS); /* it stays */
}

static void test_skipped_parts_are_not_counted(void **state)
{
    (void)state;
    char *attrs = element_with_attrs(LIMIT_XML_ATTRIBUTES + 1);
    struct strbuf sb;
    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "<r><!-- %s --><![CDATA[ %s ]]><?pi %s ?>text > more</r>", attrs, attrs,
                  attrs);
    char *doc = strbuf_steal(&sb);
    expect(doc, XML_BOUNDS_OK);
    free(doc);
    free(attrs);
}

static void test_doctype(void **state)
{
    (void)state;
    expect("<!DOCTYPE r [<!ENTITY e 'x'>]><r/>", XML_BOUNDS_DOCTYPE);
    expect("<?xml version='1.0'?>\n<!-- a --><!doctype r><r/>", XML_BOUNDS_DOCTYPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attributes),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_elements),
        cmocka_unit_test(test_skipped_parts_are_not_counted),
        cmocka_unit_test(test_doctype),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
