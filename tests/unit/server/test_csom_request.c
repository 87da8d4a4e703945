/*
 * Unit tests for csom_request.c: a request as Microsoft's clients write it (the context, a
 * property chain, a method path with a string parameter, a query with child items, a method
 * action with a value object and a byte array) is taken apart into paths and actions; bad
 * requests (not XML, a DTD and entities, unknown elements, missing ids, duplicate paths, bad
 * typed values, nesting and size past the limits) are refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "csom_request.h"
#include "spmig_limits.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS "xmlns=\"http://schemas.microsoft.com/sharepoint/clientquery/2009\""

static const char good[] =
    "<Request " NS " SchemaVersion=\"15.0.0.0\" LibraryVersion=\"16.0.0.0\" "
    "ApplicationName=\"Javascript Library\"><Actions>"
    "<ObjectPath Id=\"1\" ObjectPathId=\"0\" />"
    "<Query Id=\"2\" ObjectPathId=\"5\"><Query SelectAllProperties=\"false\"><Properties>"
    "<Property Name=\"Title\" ScalarProperty=\"true\" /><Property Name=\"Id\" /></Properties>"
    "</Query><ChildItemQuery SelectAllProperties=\"true\"><Properties /></ChildItemQuery></Query>"
    "<Method Name=\"CreateMigrationJobEncrypted\" Id=\"3\" ObjectPathId=\"4\"><Parameters>"
    "<Parameter Type=\"Guid\">{0b7c6a0b-1111-2222-3333-444455556666}</Parameter>"
    "<Parameter Type=\"String\">http://x/c?sv=1&amp;sig=a%2Bb</Parameter>"
    "<Parameter Type=\"Null\" />"
    "<Parameter TypeId=\"{85614ad4-7a40-49e0-b272-6d1807dbfcc6}\">"
    "<Property Name=\"AES256CBCKey\" Type=\"Base64Binary\">AAEC</Property></Parameter>"
    "<Parameter Type=\"Array\"><Object Type=\"Int32\">7</Object>"
    "<Object Type=\"Boolean\">true</Object></Parameter>"
    "</Parameters></Method>"
    "<SetProperty Id=\"9\" ObjectPathId=\"6\" Name=\"Title\"><Parameter Type=\"String\">T"
    "</Parameter></SetProperty>"
    "</Actions><ObjectPaths>"
    "<Method Id=\"5\" ParentId=\"3x\" Name=\"GetByTitle\"><Parameters>"
    "<Parameter Type=\"String\">Documents</Parameter></Parameters></Method>"
    "<StaticProperty Id=\"0\" TypeId=\"{3747adcd-a3c3-41b9-bfab-4a64dd2f1e0a}\" "
    "Name=\"Current\" />"
    "<Property Id=\"4\" ParentId=\"0\" Name=\"Site\" />"
    "<Property Id=\"6\" ParentId=\"0\" Name=\"Web\" />"
    "<Identity Id=\"7\" Name=\"740c6a0b-85e2-48a0-a494-e0f1759d4aa7|site:abc\" />"
    "</ObjectPaths></Request>";

static int parse(const char *xml, struct csom_request *r, char *err)
{
    return csom_request_parse(xml, strlen(xml), r, err, 200);
}

static void test_good(void **state)
{
    (void)state;
    struct csom_request r;
    char err[200] = "";
    /* A ParentId must be a number. */
    assert_int_equal(parse(good, &r, err), -1);
    assert_non_null(strstr(err, "ParentId"));
    char *fixed = strdup(good);
    memcpy(strstr(fixed, "\"3x\""), "\"6\" ", 4);
    assert_int_equal(parse(fixed, &r, err), 0);
    free(fixed);
    assert_int_equal(r.nactions, 4);
    assert_int_equal(r.npaths, 5);
    assert_int_equal(r.actions[0].kind, CSOM_ACT_OBJECT_PATH);
    assert_int_equal(r.actions[0].path, 0);
    const struct csom_action *q = &r.actions[1];
    assert_int_equal(q->kind, CSOM_ACT_QUERY);
    assert_false(q->select.all);
    assert_int_equal(q->select.n, 2);
    assert_string_equal(q->select.names[1], "Id");
    assert_true(q->has_child);
    assert_true(q->child.all);
    const struct csom_action *m = &r.actions[2];
    assert_int_equal(m->kind, CSOM_ACT_METHOD);
    assert_string_equal(m->name, "CreateMigrationJobEncrypted");
    assert_int_equal(cJSON_GetArraySize(m->params), 5);
    assert_string_equal(cJSON_GetArrayItem(m->params, 0)->valuestring,
                        "0b7c6a0b-1111-2222-3333-444455556666");
    assert_string_equal(cJSON_GetArrayItem(m->params, 1)->valuestring, "http://x/c?sv=1&sig=a%2Bb");
    assert_true(cJSON_IsNull(cJSON_GetArrayItem(m->params, 2)));
    const cJSON *opt = cJSON_GetArrayItem(m->params, 3);
    assert_string_equal(cJSON_GetObjectItem(opt, "__TypeId")->valuestring,
                        "{85614ad4-7a40-49e0-b272-6d1807dbfcc6}");
    assert_string_equal(cJSON_GetObjectItem(opt, "AES256CBCKey")->valuestring, "AAEC");
    const cJSON *arr = cJSON_GetArrayItem(m->params, 4);
    assert_int_equal(cJSON_GetArrayItem(arr, 0)->valueint, 7);
    assert_true(cJSON_IsTrue(cJSON_GetArrayItem(arr, 1)));
    assert_int_equal(r.actions[3].kind, CSOM_ACT_SET_PROPERTY);
    assert_string_equal(r.actions[3].params->child->valuestring, "T");
    /* Paths in any order, found by id. */
    const struct csom_path *p = csom_request_path(&r, 5);
    assert_int_equal(p->kind, CSOM_PATH_METHOD);
    assert_int_equal(p->parent, 6);
    assert_string_equal(cJSON_GetArrayItem(p->params, 0)->valuestring, "Documents");
    assert_int_equal(csom_request_path(&r, 0)->kind, CSOM_PATH_STATIC_PROPERTY);
    assert_int_equal(csom_request_path(&r, 7)->kind, CSOM_PATH_IDENTITY);
    assert_null(csom_request_path(&r, 99));
    csom_request_finish(&r);
}

static void refused(const char *xml, const char *why)
{
    struct csom_request r;
    char err[200] = "";
    if (parse(xml, &r, err) != -1)
        fail_msg("accepted: %s", xml);
    if (!strstr(err, why))
        fail_msg("\"%s\" does not say \"%s\"", err, why);
    assert_null(r.actions);
    assert_null(r.paths);
}

static void test_refused(void **state)
{
    (void)state;
    refused("", "empty");
    refused("<Request", "well-formed");
    refused("<?xml version=\"1.0\"?><!DOCTYPE Request [<!ENTITY x \"y\">]><Request " NS
            "><Actions/></Request>",
            "document type");
    refused("<Request><Actions><ObjectPath Id=\"1\" ObjectPathId=\"0\">&x;</ObjectPath>"
            "</Actions></Request>",
            "well-formed");
    refused("<Other/>", "root element");
    refused("<Request><Actions><Nope Id=\"1\"/></Actions></Request>", "Unknown action Nope");
    refused("<Request><ObjectPaths><Nope Id=\"1\"/></ObjectPaths></Request>",
            "Unknown object path");
    refused("<Request><Actions><ObjectPath ObjectPathId=\"0\"/></Actions></Request>", "Id");
    refused("<Request><Actions><Method Id=\"1\" ObjectPathId=\"0\"/></Actions></Request>", "Name");
    refused("<Request><Actions><ObjectPath Id=\"-1\" ObjectPathId=\"0\"/></Actions></Request>",
            "Id");
    refused("<Request><ObjectPaths><Property Id=\"1\" ParentId=\"0\" Name=\"Web\"/>"
            "<Property Id=\"1\" ParentId=\"0\" Name=\"Site\"/></ObjectPaths></Request>",
            "share an Id");
    refused("<Request><ObjectPaths><StaticProperty Id=\"1\" Name=\"Current\"/></ObjectPaths>"
            "</Request>",
            "TypeId");
    refused("<Request><Actions><Method Id=\"1\" ObjectPathId=\"0\" Name=\"M\"><Parameters>"
            "<Parameter Type=\"Boolean\">yes</Parameter></Parameters></Method></Actions></Request>",
            "Boolean");
    refused("<Request><Actions><Method Id=\"1\" ObjectPathId=\"0\" Name=\"M\"><Parameters>"
            "<Parameter Type=\"Int32\">12ab</Parameter></Parameters></Method></Actions></Request>",
            "number");
    refused("<Request><Actions><Method Id=\"1\" ObjectPathId=\"0\" Name=\"M\"><Parameters>"
            "<Parameter Type=\"Widget\">1</Parameter></Parameters></Method></Actions></Request>",
            "not supported");
    refused("<Request><Actions><SetProperty Id=\"1\" ObjectPathId=\"0\" Name=\"T\"/></Actions>"
            "</Request>",
            "one Parameter");
    /* Arrays nested past the limit. */
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_puts(&b, "<Request><Actions><Method Id=\"1\" ObjectPathId=\"0\" Name=\"M\"><Parameters>"
                    "<Parameter Type=\"Array\">");
    for (int i = 0; i < LIMIT_CSOM_DEPTH + 2; i++)
        strbuf_puts(&b, "<Object Type=\"Array\">");
    for (int i = 0; i < LIMIT_CSOM_DEPTH + 2; i++)
        strbuf_puts(&b, "</Object>");
    strbuf_puts(&b, "</Parameter></Parameters></Method></Actions></Request>");
    refused(b.data, "nested");
    strbuf_finish(&b);
    /* More actions than the limit. */
    strbuf_init(&b, 0);
    strbuf_puts(&b, "<Request><Actions>");
    for (int i = 0; i <= LIMIT_CSOM_OBJECTS; i++)
        strbuf_printf(&b, "<ObjectPath Id=\"%d\" ObjectPathId=\"0\"/>", i + 1);
    strbuf_puts(&b, "</Actions></Request>");
    refused(b.data, "more than");
    strbuf_finish(&b);
    /* A shape whose parse would cost the square of its size is refused before libxml2. */
    strbuf_init(&b, 0);
    strbuf_puts(&b, "<Request><Actions><ObjectPath Id=\"1\" ObjectPathId=\"0\"");
    for (int i = 0; i < 5000; i++)
        strbuf_printf(&b, " a%d=\"\"", i);
    strbuf_puts(&b, "/></Actions></Request>");
    refused(b.data, "more attributes");
    strbuf_finish(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
