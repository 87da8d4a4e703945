/*
 * libFuzzer target: the Azure XML body parsers, block list and queue message (libxml2 with
 * no DTD, entities or network).
 */
#include <stdint.h>
#include <stdlib.h>

#include "azure_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct blob_store_block_ref *refs;
    size_t n;
    const char *code;
    if (azure_xml_block_list((const char *)data, size, &refs, &n, &code) == 0)
        free(refs);
    size_t len;
    free(azure_xml_queue_message((const char *)data, size, &len));
    return 0;
}
