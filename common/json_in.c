/*
 * json_in.c: the one gate for JSON bodies from clients (see json_in.h): a document that holds
 * a NUL, raw or escaped, is refused before cJSON would cut a string short at it, and so is
 * anything after the one document but white space. It does not check the document's shape;
 * cJSON and the caller do.
 */
#include "json_in.h"

#include <string.h>

bool json_in_has_nul(const char *text, size_t len)
{
    if (memchr(text, '\0', len))
        return true;
    for (size_t i = 0; i + 1 < len; i++) {
        if (text[i] != '\\')
            continue;
        /* An escape: "\\u0000" is a backslash and text, so the escaped character is skipped. */
        if (text[i + 1] == 'u' && i + 5 < len && memcmp(text + i + 2, "0000", 4) == 0)
            return true;
        i++;
    }
    return false;
}

cJSON *json_in_parse(const char *text, size_t len)
{
    if (!text || json_in_has_nul(text, len))
        return NULL;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!j)
        return NULL;
    /* One document: what follows it may be white space only ("{}x" and "{}{}" are not JSON). */
    for (const char *p = end; p < text + len; p++)
        if (!strchr(" \t\r\n", *p)) {
            cJSON_Delete(j);
            return NULL;
        }
    return j;
}
