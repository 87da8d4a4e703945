/*
 * libFuzzer target: the Put Block List body parser (libxml2 with no DTD, entities or
 * network).
 */
#include <stdint.h>
#include <stdlib.h>

#include "blocklist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bstore_block_ref *refs;
    size_t n;
    const char *code;
    if (blocklist_parse((const char *)data, size, &refs, &n, &code) == 0)
        free(refs);
    return 0;
}
