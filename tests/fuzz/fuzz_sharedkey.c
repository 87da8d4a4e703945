/*
 * libFuzzer target: the SharedKey canonicaliser. The input is read as a request: a first
 * line "METHOD raw-path?query", then "name: value" header lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spmig_limits.h"
#include "sharedkey.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xstrndup((const char *)data, size);
    struct sharedkey_header headers[LIMIT_HEADER_COUNT + 8];
    size_t nh = 0;
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    if (!line) {
        free(text);
        return 0;
    }
    char *sp = strchr(line, ' ');
    const char *method = "GET";
    char *target = line;
    if (sp) {
        *sp = '\0';
        method = line;
        target = sp + 1;
    }
    char *qm = strchr(target, '?');
    struct query q = {0};
    if (qm) {
        *qm = '\0';
        if (query_parse(qm + 1, strlen(qm + 1), &q) < 0)
            memset(&q, 0, sizeof q);
    }
    while ((line = strtok_r(NULL, "\n", &save)) && nh < sizeof headers / sizeof headers[0]) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        headers[nh].name = line;
        headers[nh].value = colon + 1 + (colon[1] == ' ');
        nh++;
    }
    struct sharedkey_request r = {
        .method = method, .raw_path = target, .query = &q, .headers = headers, .nheaders = nh};
    free(sharedkey_string_to_sign(&r, "devstoreaccount1"));
    char acct[64], sig[128];
    if (nh)
        sharedkey_parse_authorization(headers[0].value, acct, sizeof acct, sig, sizeof sig);
    query_finish(&q);
    free(text);
    return 0;
}
