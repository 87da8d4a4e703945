/*
 * blocklist.h: the XML body of Put Block List (<BlockList><Latest>id</Latest>...), parsed with
 * libxml2 without DTDs, entity expansion or network access. Client bytes: it is fuzzed.
 */
#ifndef SPMIG_BLOCKLIST_H
#define SPMIG_BLOCKLIST_H

#include <stddef.h>

#include "blob_store.h"

/*
 * Parses len bytes of xml. Returns 0 with *refs (the caller frees it) and *n, or -1 with
 * *code set to the Azure error code (InvalidXmlDocument, InvalidBlockId, InvalidBlockList).
 */
int blocklist_parse(const char *xml, size_t len, struct bstore_block_ref **refs, size_t *n,
                    const char **code);

#endif
