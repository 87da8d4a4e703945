/*
 * xml_bounds.c: the shape bounds of a client's XML, checked on the bytes as they arrive and
 * before libxml2 parses them (see xml_bounds.h). A small state machine over tags, attribute
 * values, comments, CDATA sections and processing instructions; it trusts libxml2 to refuse
 * what is malformed and only counts. It owns no memory.
 */
#include "xml_bounds.h"
#include "spmig_limits.h"

#include <stdbool.h>
#include <stdint.h>

#include <libxml/parser.h>

enum {
    S_TEXT,
    S_LT,         /* after '<' */
    S_BANG,       /* after "<!" */
    S_BANG_DASH,  /* after "<!-" */
    S_BANG_CDATA, /* inside "<![CDATA[", match characters of it seen */
    S_COMMENT,    /* until "-->"; match counts the '-' just seen */
    S_CDATA,      /* until "]]>"; match counts the ']' just seen */
    S_PI,         /* until "?>" */
    S_START_NAME, /* an element's name in its start tag */
    S_TAG,        /* between the attributes of a start tag */
    S_ATTR_NAME,  /* an attribute's name */
    S_ATTR_VALUE, /* a quoted attribute value */
    S_END_NAME,   /* an end tag */
    S_STOPPED,    /* a verdict was reached */
};

static const char cdata_open[] = "[CDATA[";

void xml_bounds_init(struct xml_bounds *b)
{
    *b = (struct xml_bounds){.state = S_TEXT};
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static enum xml_bounds_verdict stop(struct xml_bounds *b, enum xml_bounds_verdict v)
{
    b->verdict = v;
    b->state = S_STOPPED;
    return v;
}

/* The '>' that ends a start tag: "/>" closes the element it opened. */
static void end_start_tag(struct xml_bounds *b)
{
    if (b->last == '/' && b->depth > 0)
        b->depth--;
    b->state = S_TEXT;
}

static enum xml_bounds_verdict step(struct xml_bounds *b, char c)
{
    switch (b->state) {
    case S_TEXT:
        if (c == '<')
            b->state = S_LT;
        break;
    case S_LT:
        if (c == '/') {
            b->name_len = 0;
            b->state = S_END_NAME;
        } else if (c == '!') {
            b->state = S_BANG;
        } else if (c == '?') {
            b->match = 0;
            b->state = S_PI;
        } else {
            if (++b->elements > LIMIT_XML_ELEMENTS)
                return stop(b, XML_BOUNDS_ELEMENTS);
            if (++b->depth > LIMIT_XML_DEPTH)
                return stop(b, XML_BOUNDS_DEPTH);
            b->attrs = 0;
            b->name_len = 1;
            b->last = c;
            b->state = S_START_NAME;
        }
        break;
    case S_BANG:
        if (c == '-') {
            b->state = S_BANG_DASH;
        } else if (c == '[') {
            b->match = 1;
            b->state = S_BANG_CDATA;
        } else {
            return stop(b, XML_BOUNDS_DOCTYPE);
        }
        break;
    case S_BANG_DASH:
        b->match = 0;
        b->state = c == '-' ? S_COMMENT : S_TEXT; /* "<!-x" is libxml2's error to report */
        break;
    case S_BANG_CDATA:
        if (c != cdata_open[b->match])
            b->state = S_TEXT;
        else if (cdata_open[++b->match] == '\0') {
            b->match = 0;
            b->state = S_CDATA;
        }
        break;
    case S_COMMENT:
    case S_CDATA: {
        char twice = b->state == S_COMMENT ? '-' : ']';
        if (c == '>' && b->match >= 2)
            b->state = S_TEXT;
        else
            b->match = c == twice ? b->match + 1 : 0;
        break;
    }
    case S_PI:
        if (c == '>' && b->match)
            b->state = S_TEXT;
        else
            b->match = c == '?';
        break;
    case S_START_NAME:
    case S_ATTR_NAME:
        if (c == '>') {
            end_start_tag(b);
        } else if (c == '"' || c == '\'') {
            b->quote = c;
            b->state = S_ATTR_VALUE;
        } else if (is_space(c) || c == '=' || c == '/') {
            b->last = c == '/' ? '/' : b->last;
            b->state = S_TAG;
        } else if (++b->name_len > LIMIT_XML_NAME) {
            return stop(b, XML_BOUNDS_NAME);
        } else {
            b->last = c;
        }
        break;
    case S_TAG:
        if (is_space(c))
            break;
        if (c == '>') {
            end_start_tag(b);
        } else if (c == '"' || c == '\'') {
            b->quote = c;
            b->state = S_ATTR_VALUE;
        } else if (c == '/' || c == '=') {
            b->last = c;
        } else {
            if (++b->attrs > LIMIT_XML_ATTRIBUTES)
                return stop(b, XML_BOUNDS_ATTRIBUTES);
            b->name_len = 1;
            b->last = c;
            b->state = S_ATTR_NAME;
        }
        break;
    case S_ATTR_VALUE:
        if (c == b->quote) {
            b->last = c;
            b->state = S_TAG;
        }
        break;
    case S_END_NAME:
        if (c == '>') {
            if (b->depth > 0)
                b->depth--;
            b->state = S_TEXT;
        } else if (!is_space(c) && ++b->name_len > LIMIT_XML_NAME) {
            return stop(b, XML_BOUNDS_NAME);
        }
        break;
    }
    return XML_BOUNDS_OK;
}

enum xml_bounds_verdict xml_bounds_feed(struct xml_bounds *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n && b->state != S_STOPPED; i++) {
        /* Text is most of a document: skip to the next tag at once. */
        if (b->state == S_TEXT && p[i] != '<')
            continue;
        step(b, p[i]);
    }
    return b->verdict;
}

const char *xml_bounds_reason(enum xml_bounds_verdict v)
{
    switch (v) {
    case XML_BOUNDS_OK:
        return "within bounds";
    case XML_BOUNDS_ATTRIBUTES:
        return "an element has more attributes than the limit";
    case XML_BOUNDS_DEPTH:
        return "elements nest deeper than the limit";
    case XML_BOUNDS_ELEMENTS:
        return "the document has more elements than the limit";
    case XML_BOUNDS_NAME:
        return "an element or attribute name is longer than the limit";
    case XML_BOUNDS_DOCTYPE:
        return "document type declarations are not allowed";
    }
    return "unknown";
}

static void silent(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

xmlDocPtr xml_bounds_read(const char *xml, size_t len, const char *url,
                          enum xml_bounds_verdict *verdict)
{
    struct xml_bounds b;
    xml_bounds_init(&b);
    enum xml_bounds_verdict v =
        len > INT32_MAX ? XML_BOUNDS_ELEMENTS : xml_bounds_feed(&b, xml, len);
    if (verdict)
        *verdict = v;
    if (v != XML_BOUNDS_OK)
        return NULL;
    xmlSetGenericErrorFunc(NULL, silent);
    return xmlReadMemory(xml, (int)len, url, NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}
