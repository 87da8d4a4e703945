/*
 * package_xml.c: reads one XML file of a package as a stream with libxml2's SAX2 parser and
 * never builds a tree. Any DOCTYPE stops the parse before its internal subset is read,
 * entities are never substituted, nothing is loaded from the network, and the bytes are
 * capped, and the bytes are scanned for their shape (xml_bounds.c) before libxml2 sees them. The
 * file's embedded XSD validates on the same pass (xmlSchemaSAXPlug); the elements
 * package_checks.c looks at are collected one record at a time (an SPObject with its typed
 * child and versions, a user, a manifest name) and handed over once they passed the schema.
 * A file that is not a well-formed, valid document is rolled back to its one fatal issue.
 */
#include "package_internal.h"
#include "log.h"
#include "spmig_limits.h"
#include "xmalloc.h"
#include "xml_bounds.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/xmlschemas.h>

/* Generated from the XSDs in schema/package/ by schema/embed.py (see common/meson.build). */
struct package_xsd_file {
    const char *name;
    const char *text;
};
extern const struct package_xsd_file package_xsd_files[];
extern const size_t package_xsd_file_count;

/* ---- Schemas, compiled once per process ---- */

static xmlSchemaPtr schemas[PACKAGE_FILE_KINDS];
static pthread_once_t schemas_once = PTHREAD_ONCE_INIT;

static void schema_compile_error(void *ctx, xmlErrorPtr e)
{
    log_error("package: embedded schema %s: %s", (const char *)ctx,
              e && e->message ? e->message : "error");
}

static void schemas_load(void)
{
    xmlInitParser();
    for (int k = 0; k < PACKAGE_FILE_KINDS; k++) {
        const char *xsd = package_files[k].xsd, *text = NULL;
        for (size_t i = 0; i < package_xsd_file_count; i++)
            if (strcmp(package_xsd_files[i].name, xsd) == 0)
                text = package_xsd_files[i].text;
        if (!text) {
            log_error("package: no embedded schema %s", xsd);
            continue;
        }
        xmlSchemaParserCtxtPtr pc = xmlSchemaNewMemParserCtxt(text, (int)strlen(text));
        if (!pc) {
            log_error("package: cannot load schema %s", xsd);
            continue;
        }
        xmlSchemaSetParserStructuredErrors(pc, schema_compile_error, (void *)xsd);
        schemas[k] = xmlSchemaParse(pc);
        xmlSchemaFreeParserCtxt(pc);
    }
}

/* ---- One file being read ---- */

/* What an open element is to the record being collected. */
enum role { R_NONE, R_OBJECT, R_CHILD, R_VERSIONS, R_VERSION, R_LIST, R_ITEM };

struct open_elem {
    int line; /* of its start tag, as a tree would record it */
    enum role role;
};

struct rec_attr {
    const xmlChar *name; /* the parser's dictionary string */
    size_t value;        /* offset into text */
};

struct rec_elem {
    const xmlChar *name;
    size_t first, n; /* its attributes in attrs */
};

struct xml_read {
    struct package *p;
    enum package_file kind;
    const char *name;
    const struct package_stream *src;
    xmlParserCtxtPtr ctxt;
    xmlSchemaValidCtxtPtr vctxt;
    /* The source. */
    size_t total;
    bool eof, failed, too_big;
    struct xml_bounds bounds;              /* the shape of the bytes read so far */
    enum xml_bounds_verdict out_of_bounds; /* XML_BOUNDS_OK, or the bound they broke */
    char *why;
    /* What the document showed. */
    bool doctype, wrong_root, model;
    char root_msg[600];
    bool schema_failed;
    int schema_line;
    char schema_msg[512];
    /* Open elements, the root at depth 0. */
    int depth;
    struct open_elem *open;
    size_t cap_open;
    bool closing;     /* the last event was an end tag ... */
    int closing_line; /* ... of an element whose start tag is on this line */
    /* The record being collected and what package_checks.c gets of it. */
    char *text;
    size_t text_len, text_cap;
    struct rec_attr *attrs;
    size_t n_attrs, cap_attrs;
    struct rec_elem *elems;
    size_t n_elems, cap_elems;
    int child;         /* index in elems of an SPObject's typed child, or -1 */
    bool has_versions; /* the child's first Versions element was seen */
    size_t first_version;
    bool list_seen, list_stopped; /* ManifestFiles / Users */
    struct package_attr *out_attrs;
    struct package_elem *out_elems;
    size_t cap_out_attrs, cap_out_elems;
};

/* The stream behind libxml2's input: counts, caps and remembers how it ended. It fills the
 * whole request unless the stream ends: libxml2's pull parser misreads the end of some
 * documents when a read brings only a few bytes. */
static int io_read(void *ctx, char *buf, int len)
{
    struct xml_read *x = ctx;
    int got = 0;
    while (got < len && !x->eof && !x->failed && !x->too_big) {
        ssize_t n = x->src->read(x->src->ctx, buf + got, (size_t)(len - got), &x->why);
        if (n < 0) {
            x->failed = true;
        } else if (n == 0) {
            x->eof = true;
        } else {
            x->total += (size_t)n;
            x->too_big = x->total > PACKAGE_XML_MAX_BYTES;
            /* A DOCTYPE is refuse_doctype's to report: libxml2 stops there. */
            enum xml_bounds_verdict v = xml_bounds_feed(&x->bounds, buf + got, (size_t)n);
            if (v != XML_BOUNDS_DOCTYPE)
                x->out_of_bounds = v;
            got += (int)n;
        }
    }
    return x->failed || x->too_big || x->out_of_bounds ? -1 : got;
}

/* Reads what the parser left (it stops early on a DOCTYPE or an error) so that a stream
 * that fails or is too large at its end is reported as such. */
static void drain(struct xml_read *x)
{
    char buf[16384];
    while (!x->eof && !x->failed && !x->too_big)
        io_read(x, buf, sizeof buf);
}

static void silent(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/* The DOCTYPE callback: any document type declaration ends the parse before its internal
 * subset (where entities would be declared) is read. */
static void refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                           const xmlChar *sys_id)
{
    (void)name;
    (void)ext_id;
    (void)sys_id;
    struct xml_read *x = ctx;
    x->doctype = true;
    xmlStopParser(x->ctxt);
}

static const char *trim_message(const char *m, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", m ? m : "error");
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return buf;
}

/* Validation errors: the first one is the one reported. */
static void on_schema_error(void *ctx, xmlErrorPtr e)
{
    struct xml_read *x = ctx;
    if (x->schema_failed || !e)
        return;
    x->schema_failed = true;
    x->schema_line = e->line;
    trim_message(e->message, x->schema_msg, sizeof x->schema_msg);
}

/* Where the validator is, for its messages: the start tag of the element it is checking, as
 * validating a tree would say (the parser itself may be further on). */
static int locate(void *ctx, const char **file, unsigned long *line)
{
    struct xml_read *x = ctx;
    if (file)
        *file = x->name;
    if (line) {
        if (x->closing)
            *line = (unsigned long)x->closing_line;
        else if (x->depth >= 0)
            *line = (unsigned long)x->open[x->depth].line;
        else
            *line = (unsigned long)xmlSAX2GetLineNumber(x->ctxt);
    }
    return 0;
}

/* Has everything up to here passed? Then records may be handed over. */
static bool usable(const struct xml_read *x)
{
    return x->model && !x->schema_failed && xmlSchemaIsValid(x->vctxt) == 1;
}

/* ---- Records ---- */

static void rec_reset(struct xml_read *x)
{
    x->text_len = x->n_attrs = x->n_elems = 0;
    x->child = -1;
    x->has_versions = false;
    x->first_version = 0;
}

static size_t text_add(struct xml_read *x, const xmlChar *v, const xmlChar *end)
{
    size_t n = (size_t)(end - v), at = x->text_len;
    if (x->text_len + n + 1 > x->text_cap) {
        while (x->text_len + n + 1 > x->text_cap)
            x->text_cap = x->text_cap ? 2 * x->text_cap : 4096;
        x->text = xrealloc(x->text, x->text_cap);
    }
    /* Without entity substitution the parser hands '&' on as "&#38;" (a tree would turn it
     * back into '&'); every other reference arrives decoded. */
    char *out = x->text + at;
    for (const xmlChar *c = v; c < end;) {
        if (*c == '&' && end - c >= 5 && memcmp(c, "&#38;", 5) == 0) {
            *out++ = '&';
            c += 5;
        } else {
            *out++ = (char)*c++;
        }
    }
    *out++ = '\0';
    x->text_len = (size_t)(out - x->text);
    return at;
}

/* Adds an element with its attributes in no namespace; returns its index. */
static size_t rec_add(struct xml_read *x, const xmlChar *localname, int nb_attributes,
                      const xmlChar **attributes)
{
    if (x->n_elems == x->cap_elems) {
        x->cap_elems = x->cap_elems ? 2 * x->cap_elems : 8;
        x->elems = xrealloc(x->elems, x->cap_elems * sizeof *x->elems);
    }
    struct rec_elem *e = &x->elems[x->n_elems];
    e->name = localname;
    e->first = x->n_attrs;
    e->n = 0;
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = &attributes[5 * i]; /* localname, prefix, URI, value, end */
        if (a[2])
            continue;
        if (x->n_attrs == x->cap_attrs) {
            x->cap_attrs = x->cap_attrs ? 2 * x->cap_attrs : 32;
            x->attrs = xrealloc(x->attrs, x->cap_attrs * sizeof *x->attrs);
        }
        x->attrs[x->n_attrs++] = (struct rec_attr){a[0], text_add(x, a[3], a[4])};
        e->n++;
    }
    return x->n_elems++;
}

/* The record as package_checks.c reads it (valid until the next record). */
static const struct package_elem *rec_out(struct xml_read *x)
{
    if (x->n_attrs > x->cap_out_attrs) {
        x->cap_out_attrs = x->cap_attrs;
        x->out_attrs = xrealloc(x->out_attrs, x->cap_out_attrs * sizeof *x->out_attrs);
    }
    if (x->n_elems > x->cap_out_elems) {
        x->cap_out_elems = x->cap_elems;
        x->out_elems = xrealloc(x->out_elems, x->cap_out_elems * sizeof *x->out_elems);
    }
    for (size_t i = 0; i < x->n_attrs; i++)
        x->out_attrs[i] =
            (struct package_attr){(const char *)x->attrs[i].name, x->text + x->attrs[i].value};
    for (size_t i = 0; i < x->n_elems; i++)
        x->out_elems[i] = (struct package_elem){(const char *)x->elems[i].name,
                                                x->out_attrs + x->elems[i].first, x->elems[i].n};
    return x->out_elems;
}

static void hand_over(struct xml_read *x)
{
    if (!usable(x) || !x->n_elems)
        return;
    const struct package_elem *e = rec_out(x);
    switch (x->kind) {
    case PACKAGE_MANIFEST: {
        struct package_spobject o = {.sp = e[0]};
        if (x->child >= 0)
            o.child = &e[x->child];
        o.has_versions = x->has_versions;
        if (x->has_versions) {
            o.versions = e + x->first_version;
            o.n_versions = x->n_elems - x->first_version;
        }
        package_check_spobject(x->p, &o);
        break;
    }
    case PACKAGE_EXPORT_SETTINGS:
        package_check_export_settings(x->p, x->name, &e[0]);
        break;
    case PACKAGE_SYSTEM_DATA:
        if (!x->list_stopped && !package_check_manifest_file(x->p, x->name, &e[0]))
            x->list_stopped = true;
        break;
    case PACKAGE_USER_GROUP:
        package_check_user(x->p, &e[0]);
        break;
    case PACKAGE_ROOT_OBJECT_MAP:
        package_check_root_object(x->p, &e[0]);
        break;
    default:
        break;
    }
}

/* ---- SAX events ---- */

static bool named(const xmlChar *localname, const char *name)
{
    return strcmp((const char *)localname, name) == 0;
}

/* Which part of a record the element at depth d is, if any; starts and fills records. */
static enum role place(struct xml_read *x, int d, const xmlChar *localname, int nb_attributes,
                       const xmlChar **attributes)
{
    enum role parent = x->open[d - 1].role;
    switch (x->kind) {
    case PACKAGE_MANIFEST:
        if (d == 1) {
            rec_reset(x);
            rec_add(x, localname, nb_attributes, attributes);
            return R_OBJECT;
        }
        if (parent == R_OBJECT && x->child < 0) {
            x->child = (int)rec_add(x, localname, nb_attributes, attributes);
            return R_CHILD;
        }
        if (parent == R_CHILD && !x->has_versions && named(localname, "Versions") &&
            named(x->elems[x->child].name, "File")) {
            x->has_versions = true;
            x->first_version = x->n_elems;
            return R_VERSIONS;
        }
        if (parent == R_VERSIONS) {
            rec_add(x, localname, nb_attributes, attributes);
            return R_VERSION;
        }
        return R_NONE;
    case PACKAGE_SYSTEM_DATA:
    case PACKAGE_USER_GROUP:
        if (d == 1 && !x->list_seen &&
            named(localname, x->kind == PACKAGE_SYSTEM_DATA ? "ManifestFiles" : "Users")) {
            x->list_seen = true;
            return R_LIST;
        }
        if (parent != R_LIST)
            return R_NONE;
        rec_reset(x);
        rec_add(x, localname, nb_attributes, attributes);
        return R_ITEM;
    case PACKAGE_ROOT_OBJECT_MAP:
        if (d != 1)
            return R_NONE;
        rec_reset(x);
        rec_add(x, localname, nb_attributes, attributes);
        return R_ITEM;
    default:
        return R_NONE;
    }
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                     int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
                     int nb_defaulted, const xmlChar **attributes)
{
    (void)prefix;
    (void)nb_namespaces;
    (void)namespaces;
    (void)nb_defaulted;
    struct xml_read *x = ctx;
    x->closing = false;
    int d = ++x->depth;
    if ((size_t)d == x->cap_open) { /* the parser bounds the depth */
        x->cap_open = x->cap_open ? 2 * x->cap_open : 64;
        x->open = xrealloc(x->open, x->cap_open * sizeof *x->open);
    }
    x->open[d] = (struct open_elem){xmlSAX2GetLineNumber(x->ctxt), R_NONE};
    if (d == 0) {
        const struct package_file_info *f = &package_files[x->kind];
        const char *ns = uri ? (const char *)uri : "";
        if (!named(localname, f->root) || strcmp(ns, f->ns) != 0) {
            x->wrong_root = true;
            x->model = false;
            snprintf(x->root_msg, sizeof x->root_msg,
                     "%s: the root element is {%s}%s; expected {%s}%s", x->name, ns,
                     (const char *)localname, f->ns, f->root);
        } else if (x->model && x->kind == PACKAGE_EXPORT_SETTINGS) {
            rec_reset(x);
            rec_add(x, localname, nb_attributes, attributes);
            x->open[0].role = R_ITEM;
        }
        return;
    }
    if (x->model && !x->schema_failed)
        x->open[d].role = place(x, d, localname, nb_attributes, attributes);
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    (void)localname;
    (void)prefix;
    (void)uri;
    struct xml_read *x = ctx;
    if (x->depth < 0)
        return;
    const struct open_elem *e = &x->open[x->depth--];
    /* The validator checks this element's content right after this returns. */
    x->closing = true;
    x->closing_line = e->line;
    if (e->role == R_OBJECT || e->role == R_ITEM)
        hand_over(x);
    else if (e->role == R_LIST)
        x->list_stopped = true; /* only the first list counts */
}

/* Text: the validator looks at it in the element that holds it. */
static void on_text(void *ctx, const xmlChar *ch, int len)
{
    (void)ch;
    (void)len;
    struct xml_read *x = ctx;
    x->closing = false;
}

/* ---- The file ---- */

static void read_free(struct xml_read *x)
{
    free(x->why);
    free(x->open);
    free(x->text);
    free(x->attrs);
    free(x->elems);
    free(x->out_attrs);
    free(x->out_elems);
}

/* Why the file as a whole is refused (its one fatal issue), or false when it is not. */
struct refusal {
    int32_t code;
    const char *type;
    char message[1024];
};

static bool refused(const struct xml_read *x, struct refusal *r)
{
    const char *name = x->name;
    char buf[512];
    r->code = PACKAGE_E_XML;
    r->type = ET_XML;
#define SAY(...) snprintf(r->message, sizeof r->message, __VA_ARGS__)
    if (x->failed) {
        r->code = PACKAGE_E_NOT_FOUND;
        r->type = ET_SP;
        SAY("Cannot read %s: %s", name, x->why ? x->why : "read failed");
    } else if (x->too_big) {
        SAY("%s is more than %d bytes, the limit", name, PACKAGE_XML_MAX_BYTES);
    } else if (x->out_of_bounds) {
        SAY("%s: %s (at most %d attributes an element, %d levels, %d elements, names of %d "
            "bytes)",
            name, xml_bounds_reason(x->out_of_bounds), LIMIT_XML_ATTRIBUTES, LIMIT_XML_DEPTH,
            LIMIT_XML_ELEMENTS, LIMIT_XML_NAME);
    } else if (x->doctype) {
        SAY("%s has a DOCTYPE; document type declarations are not allowed", name);
    } else if (!x->ctxt->wellFormed || x->depth != -1) {
        const xmlError *e = xmlCtxtGetLastError(x->ctxt);
        SAY("%s line %d: %s", name, e ? e->line : 0,
            trim_message(e ? e->message : NULL, buf, sizeof buf));
    } else if (x->wrong_root) {
        SAY("%s", x->root_msg);
    } else {
        r->code = PACKAGE_E_XML_SCHEMA;
        r->type = ET_SCHEMA;
        if (!schemas[x->kind])
            SAY("Internal error: the schema %s is not available", package_files[x->kind].xsd);
        else if (!x->vctxt || !x->model)
            SAY("Out of memory validating %s", name);
        else if (x->schema_failed || xmlSchemaIsValid(x->vctxt) != 1)
            SAY("%s line %d: %s", name, x->schema_failed ? x->schema_line : 0,
                x->schema_failed ? x->schema_msg : "the document is not valid");
        else
            return false;
    }
#undef SAY
    return true;
}

void package_xml_read(struct package *p, enum package_file kind, const char *name,
                      const struct package_stream *s)
{
    pthread_once(&schemas_once, schemas_load);
    struct xml_read x = {.p = p, .kind = kind, .name = name, .src = s, .depth = -1, .child = -1};
    xml_bounds_init(&x.bounds);
    struct package_mark mark;
    package_mark(p, &mark);
    /* Encoding errors reach libxml2's generic handler whatever the options say; this
     * thread's handler is made silent (as azure_xml.c does): the issue carries the error. */
    xmlSetGenericErrorFunc(NULL, silent);
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.internalSubset = refuse_doctype;
    sax.characters = on_text;
    sax.ignorableWhitespace = on_text;
    x.ctxt = xmlCreateIOParserCtxt(&sax, &x, io_read, NULL, &x, XML_CHAR_ENCODING_NONE);
    if (!x.ctxt) {
        package_file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_XML, ET_XML,
                           "Out of memory reading %s", name);
        package_mark_done(p);
        read_free(&x);
        return;
    }
    /* No XML_PARSE_NOENT (entities stay unexpanded), no DTD loading, no network.
     * XML_PARSE_HUGE lifts libxml2's limits on text and name lengths and depth (256 -> 2048);
     * they stay bounded by PACKAGE_XML_MAX_BYTES, and with no DOCTYPE there is no entity to
     * amplify. */
    xmlCtxtUseOptions(x.ctxt,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_HUGE);
    xmlSchemaSAXPlugPtr plug = NULL;
    if (schemas[kind] && (x.vctxt = xmlSchemaNewValidCtxt(schemas[kind]))) {
        xmlSchemaSetValidStructuredErrors(x.vctxt, on_schema_error, &x);
        xmlSchemaValidateSetLocator(x.vctxt, locate, &x);
        plug = xmlSchemaSAXPlug(x.vctxt, &x.ctxt->sax, &x.ctxt->userData);
    }
    x.model = plug != NULL;
    xmlParseDocument(x.ctxt);
    if (plug)
        xmlSchemaSAXUnplug(plug);
    drain(&x);
    struct refusal r;
    if (refused(&x, &r)) {
        /* The file is refused whole: nothing it held stays, only its one fatal issue. */
        package_rollback(p, &mark);
        package_file_issue(p, PACKAGE_FATAL, name, r.code, r.type, "%s", r.message);
    }
    package_mark_done(p);
    xmlSchemaFreeValidCtxt(x.vctxt);
    xmlFreeParserCtxt(x.ctxt);
    read_free(&x);
}
