/*
 * azure_xml.h: the XML request bodies of the Blob and Queue listeners (Put Block List's
 * <BlockList>, Put/Update Message's <QueueMessage>), parsed with libxml2 without DTDs, entity
 * expansion or network access. Client bytes: both parsers are fuzzed.
 */
#ifndef SPMIG_AZURE_XML_H
#define SPMIG_AZURE_XML_H

#include <stddef.h>

#include "blob_store.h"

/*
 * Parses len bytes of xml. Returns 0 with *refs (the caller frees it) and *n, or -1 with
 * *code set to the Azure error code (InvalidXmlDocument, InvalidBlockId, InvalidBlockList).
 */
int azure_xml_block_list(const char *xml, size_t len, struct blob_store_block_ref **refs, size_t *n,
                         const char **code);

/*
 * Parses <QueueMessage><MessageText>...</MessageText></QueueMessage>. Returns the text (the
 * caller frees it, *len its length in bytes), or NULL if the body is not such a document.
 */
char *azure_xml_queue_message(const char *body, size_t blen, size_t *len);

#endif
