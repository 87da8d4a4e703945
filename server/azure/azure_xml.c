/*
 * azure_xml.c: parses the XML bodies of Put Block List and Put/Update Message. A document
 * with a DTD is refused outright, so no entity (internal or external) can be declared, let
 * alone expanded; libxml2 runs with XML_PARSE_NONET and its default size and depth limits,
 * and only on a body within the shape bounds of xml_bounds.c (attributes, depth, elements,
 * names). It does not look blocks or messages up.
 */
#include "azure_xml.h"
#include "b64.h"
#include "spmig_limits.h"
#include "xmalloc.h"
#include "xml_bounds.h"

#include <libxml/tree.h>
#include <string.h>

int azure_xml_block_list(const char *xml, size_t len, struct blob_store_block_ref **refs, size_t *n,
                         const char **code)
{
    *refs = NULL;
    *n = 0;
    *code = "InvalidXmlDocument";
    xmlDocPtr doc = xml_bounds_read(xml, len, "blocklist.xml", NULL);
    if (!doc)
        return -1;
    int rc = -1;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (doc->intSubset || doc->extSubset || !root || xmlStrcmp(root->name, BAD_CAST "BlockList"))
        goto out;
    size_t cap = 0;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_COMMENT_NODE)
            continue;
        if (c->type != XML_ELEMENT_NODE)
            goto fail;
        char list;
        if (!xmlStrcmp(c->name, BAD_CAST "Latest"))
            list = 'L';
        else if (!xmlStrcmp(c->name, BAD_CAST "Committed"))
            list = 'C';
        else if (!xmlStrcmp(c->name, BAD_CAST "Uncommitted"))
            list = 'U';
        else
            goto fail;
        if (*n == LIMIT_BLOCKS_PER_BLOB) {
            *code = "InvalidBlockList";
            goto fail;
        }
        for (xmlNodePtr t = c->children; t; t = t->next)
            if (t->type != XML_TEXT_NODE)
                goto fail;
        xmlChar *text = xmlNodeGetContent(c);
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *refs = xrealloc(*refs, cap * sizeof **refs);
        }
        struct blob_store_block_ref *r = &(*refs)[*n];
        long k = text ? b64_decode_to((const char *)text, strlen((const char *)text), r->id,
                                      sizeof r->id)
                      : -1;
        xmlFree(text);
        if (k <= 0) {
            *code = "InvalidBlockId";
            goto fail;
        }
        r->idlen = (size_t)k;
        r->list = list;
        (*n)++;
    }
    rc = 0;
    goto out;
fail:
    free(*refs);
    *refs = NULL;
    *n = 0;
out:
    xmlFreeDoc(doc);
    return rc;
}

char *azure_xml_queue_message(const char *body, size_t blen, size_t *len)
{
    if (blen == 0 || blen > LIMIT_MESSAGE_BODY)
        return NULL;
    xmlDocPtr doc = xml_bounds_read(body, blen, NULL, NULL);
    if (!doc)
        return NULL;
    char *text = NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (doc->intSubset || doc->extSubset || !root ||
        xmlStrcmp(root->name, BAD_CAST "QueueMessage") != 0)
        goto done;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, BAD_CAST "MessageText") != 0)
            continue;
        xmlChar *content = xmlNodeGetContent(n);
        text = xstrdup(content ? (const char *)content : "");
        *len = strlen(text);
        xmlFree(content);
        break;
    }
done:
    xmlFreeDoc(doc);
    return text;
}
