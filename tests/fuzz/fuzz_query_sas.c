/*
 * libFuzzer target: the query-string parser and the SAS field parser and string-to-sign
 * builder behind it, for both services. Any input must be refused cleanly or parsed; the
 * sanitizers catch everything else.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "sas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct query q;
    if (query_parse((const char *)data, size, &q) < 0)
        return 0;
    for (int svc = SAS_BLOB; svc <= SAS_QUEUE; svc++) {
        struct sas s;
        char err[256];
        if (sas_parse(&q, (enum sas_service)svc, &s, err, sizeof err) == 0) {
            char *sts = sas_string_to_sign(&s, (enum sas_service)svc, "devstoreaccount1",
                                           "/blob/devstoreaccount1/c/b", query_get(&q, "snapshot"));
            static const unsigned char key[32];
            sas_signature_ok(&s, key, sizeof key, sts);
            free(sts);
        }
    }
    query_finish(&q);
    return 0;
}
