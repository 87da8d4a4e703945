/*
 * libFuzzer target: SharePoint's OData query options. The input is a query string
 * ("$filter=...&$select=..."); what parses is checked against a list item type and evaluated
 * over one item.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "odata_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const props[] = {"Id", "FileLeafRef", "Created", NULL};
static const char *const navs[] = {"Author", NULL};
static const struct odata_type type = {"SP.ListItem", props, navs, true};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct query q = {0};
    if (query_parse((const char *)data, size, &q) < 0)
        return 0;
    struct odata_query oq;
    struct odq_error err;
    if (odata_query_parse(&q, &oq, &err) == 0 && odata_query_check(&oq, &type, true, &err) == 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "Id", 3);
        cJSON_AddStringToObject(o, "FileLeafRef", "a.txt");
        cJSON_AddStringToObject(o, "Created", "2024-01-02T03:04:05Z");
        cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "Author"), "Title", "Ann");
        cJSON *b = cJSON_Duplicate(o, true);
        odata_query_match(&oq, o);
        odata_query_compare(&oq, o, b, "Id");
        odata_query_select(&oq, o);
        cJSON_Delete(o);
        cJSON_Delete(b);
    }
    odata_query_finish(&oq);
    query_finish(&q);
    return 0;
}
