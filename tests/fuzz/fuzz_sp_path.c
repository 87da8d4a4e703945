/*
 * libFuzzer target: the SharePoint REST path parser. The input is "path\nquery": the query
 * supplies @alias values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_path.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xstrndup((const char *)data, size);
    char *nl = strchr(text, '\n');
    struct query q = {0};
    if (nl) {
        *nl = '\0';
        if (query_parse(nl + 1, strlen(nl + 1), &q) < 0)
            memset(&q, 0, sizeof q);
    }
    struct sp_path p;
    char err[128];
    if (sp_path_parse(text, &q, &p, err, sizeof err) == 0) {
        for (size_t i = 0; i < p.n; i++)
            sp_path_arg(&p.seg[i], "id", 0);
        sp_path_finish(&p);
    }
    query_finish(&q);
    free(text);
    return 0;
}
