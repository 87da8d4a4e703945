/*
 * xml_bounds.h: a byte scanner that bounds the shape of an XML document a client sends
 * (attributes per element, depth, elements, name lengths) before libxml2 sees it, because
 * libxml2's cost on some shapes grows with the square of their size (its duplicate attribute
 * check). It reads pieces of any size as they arrive and keeps a few counters; it does not
 * check well-formedness (libxml2 does that next). xml_bounds_read is the one way a client's
 * whole body in memory reaches libxml2: scanned first, then parsed without network or noise.
 */
#ifndef SPMIG_XML_BOUNDS_H
#define SPMIG_XML_BOUNDS_H

#include <stddef.h>

#include <libxml/tree.h>

enum xml_bounds_verdict {
    XML_BOUNDS_OK = 0,
    XML_BOUNDS_ATTRIBUTES, /* an element has more than LIMIT_XML_ATTRIBUTES attributes */
    XML_BOUNDS_DEPTH,      /* elements nest deeper than LIMIT_XML_DEPTH */
    XML_BOUNDS_ELEMENTS,   /* more than LIMIT_XML_ELEMENTS elements */
    XML_BOUNDS_NAME,       /* an element or attribute name longer than LIMIT_XML_NAME */
    XML_BOUNDS_DOCTYPE,    /* a document type declaration; nothing after it is scanned */
};

struct xml_bounds {
    int state;
    enum xml_bounds_verdict verdict;
    unsigned depth, attrs, name_len;
    unsigned long elements;
    unsigned match; /* characters of the current terminator or "<!" opening matched */
    char quote;     /* the quote that opened the attribute value being skipped */
    char last;      /* the last character of a tag that was not a space */
};

void xml_bounds_init(struct xml_bounds *b);
/* Scans the next n bytes. Returns XML_BOUNDS_OK or the first bound the document broke (the
 * same verdict on every later call). */
enum xml_bounds_verdict xml_bounds_feed(struct xml_bounds *b, const char *p, size_t n);
/* A short English reason for a verdict ("too many attributes on one element"). */
const char *xml_bounds_reason(enum xml_bounds_verdict v);

/* Parses a client's len bytes into a tree (freed with xmlFreeDoc) once their shape is within
 * bounds: XML_PARSE_NONET, no messages. NULL when a bound is broken (*verdict says which,
 * verdict may be NULL) or the bytes are not well-formed XML (*verdict XML_BOUNDS_OK). */
xmlDocPtr xml_bounds_read(const char *xml, size_t len, const char *url,
                          enum xml_bounds_verdict *verdict);

#endif
