/*
 * package.c: parses the XML files of a migration package with libxml2 (from memory, no
 * network, any DOCTYPE refused before its internal subset is read, no entity substitution,
 * a size cap), validates each against spmig's embedded lenient XSDs, runs the checks of
 * package-format.md section 8 and builds the model of package.h. It never touches blobs,
 * the store or the network: the caller hands it bytes (package_load through a callback).
 */
#include "package.h"
#include "b64.h"
#include "crypto.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

/* Generated from the XSDs in schema/package/ by schema/embed.py (see common/meson.build). */
struct package_xsd_file {
    const char *name;
    const char *text;
};
extern const struct package_xsd_file package_xsd_files[];
extern const size_t package_xsd_file_count;

#define ET_SP     "Microsoft.SharePoint.SPException"
#define ET_XML    "System.Xml.XmlException"
#define ET_SCHEMA "System.Xml.Schema.XmlSchemaValidationException"

#define NO_USER INT_MIN /* Author/ModifiedBy absent, before package_finish resolves users */

static const struct {
    const char *file, *root, *ns, *xsd;
    bool required;
} files[PACKAGE_FILE_KINDS] = {
    [PACKAGE_MANIFEST] = {"Manifest.xml", "SPObjects", "urn:deployment-manifest-schema",
                          "Manifest.xsd", true},
    [PACKAGE_EXPORT_SETTINGS] = {"ExportSettings.xml", "ExportSettings",
                                 "urn:deployment-exportsettings-schema", "ExportSettings.xsd",
                                 true},
    [PACKAGE_SYSTEM_DATA] = {"SystemData.xml", "SystemData", "urn:deployment-systemdata-schema",
                             "SystemData.xsd", true},
    [PACKAGE_USER_GROUP] = {"UserGroup.xml", "UserGroupMap", "urn:deployment-usergroupmap-schema",
                            "UserGroup.xsd", true},
    [PACKAGE_ROOT_OBJECT_MAP] = {"RootObjectMap.xml", "RootObjects",
                                 "urn:deployment-rootobjectmap-schema", "RootObjectMap.xsd", false},
    [PACKAGE_LOOKUP_LIST_MAP] = {"LookupListMap.xml", "LookupLists",
                                 "urn:deployment-lookuplistmap-schema", "LookupListMap.xsd", false},
    [PACKAGE_REQUIREMENTS] = {"Requirements.xml", "Requirements",
                              "urn:deployment-requirements-schema", "Requirements.xsd", false},
    /* Sic: "viewformlist", no "s" after "form", unlike the root element. */
    [PACKAGE_VIEW_FORMS_LIST] = {"ViewFormsList.xml", "ViewFormsList",
                                 "urn:deployment-viewformlist-schema", "ViewFormsList.xsd", false},
};

const char *package_file_name(enum package_file kind)
{
    return files[kind].file;
}

/* ---- Lookup tables: 16-byte keys to (kind, index), open addressing, seeded hash ---- */

enum ref_kind { REF_ROOT, REF_OBJECT, REF_LIST_ITEM, REF_LIST, REF_USER };

struct ref {
    enum ref_kind kind;
    size_t index; /* into objects (REF_OBJECT, REF_LIST_ITEM: the item's document), users */
};

struct slot {
    bool used;
    unsigned char key[16];
    struct ref ref;
};

struct idmap {
    struct slot *slots;
    size_t cap, n; /* cap is 0 or a power of two */
    uint64_t seed;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static size_t slot_of(const struct idmap *m, const unsigned char key[16])
{
    uint64_t a, b;
    memcpy(&a, key, 8);
    memcpy(&b, key + 8, 8);
    /* The seed is random per package, so crafted ids cannot be made to collide. */
    return (size_t)(mix64(mix64(a ^ m->seed) ^ b) & (m->cap - 1));
}

static bool map_get(const struct idmap *m, const unsigned char key[16], struct ref *out)
{
    if (!m->cap)
        return false;
    for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i].used)
            return false;
        if (memcmp(m->slots[i].key, key, 16) == 0) {
            if (out)
                *out = m->slots[i].ref;
            return true;
        }
    }
}

static void map_put_slot(struct idmap *m, const unsigned char key[16], struct ref r)
{
    size_t i = slot_of(m, key);
    while (m->slots[i].used)
        i = (i + 1) & (m->cap - 1);
    m->slots[i].used = true;
    memcpy(m->slots[i].key, key, 16);
    m->slots[i].ref = r;
}

/* Adds key, which must not be there yet. */
static void map_put(struct idmap *m, const unsigned char key[16], struct ref r)
{
    assert(!map_get(m, key, NULL));
    if (2 * (m->n + 1) > m->cap) { /* keep the load under one half */
        struct idmap bigger = {.cap = m->cap ? 2 * m->cap : 64, .seed = m->seed};
        bigger.slots = xcalloc(bigger.cap, sizeof *bigger.slots);
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].used)
                map_put_slot(&bigger, m->slots[i].key, m->slots[i].ref);
        free(m->slots);
        m->slots = bigger.slots;
        m->cap = bigger.cap;
    }
    map_put_slot(m, key, r);
    m->n++;
}

/* Keys for things that are not GUIDs: a tag and an int, or a digest of a case-folded text. */
static void int_key(int v, unsigned char key[16])
{
    memset(key, 0, 16);
    key[0] = 'I';
    memcpy(key + 1, &v, sizeof v);
}

static void text_key(const char *s, unsigned char key[16])
{
    size_t n = strlen(s);
    char *lower = xmalloc(n + 1);
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)s[i]); /* ASCII only: the C locale */
    unsigned char d[CRYPTO_SHA256_LEN];
    if (crypto_sha256(lower, n, d) < 0) {
        fprintf(stderr, "spmig: OpenSSL SHA-256 failed\n");
        abort();
    }
    free(lower);
    memcpy(key, d, 16);
}

/* ---- Package state ---- */

struct package_state {
    struct idmap ids;    /* GUIDs of folders, files, list items, the list, the root folder */
    struct idmap intids; /* list item integer ids */
    struct idmap urls;   /* objects by case-folded url (name conflicts) */
    struct idmap users;  /* user ids */
    struct idmap logins; /* user logins, case-folded */
    bool have[PACKAGE_FILE_KINDS];
    char **manifests_seen; /* names of the manifests parsed */
    size_t n_manifests_seen;
    bool root_folder_seen; /* the SPFolder of the library's root folder */
    char *root_url;        /* the root folder, web-relative: "Shared Documents" */
    bool finished;
};

/* The web-relative form of a server-relative url under web ("/sites/hr" + "/sites/hr/x" ->
 * "x"); the whole url without its leading slash if it is not under web. */
static char *web_relative(const char *web, const char *url)
{
    size_t wl = strcmp(web, "/") == 0 ? 0 : strlen(web);
    if (strncasecmp(url, web, wl) == 0 && url[wl] == '/')
        return xstrdup(url + wl + 1);
    return xstrdup(url[0] == '/' ? url + 1 : url);
}

struct package *package_create(const struct package_target *target)
{
    struct package *p = xcalloc(1, sizeof *p);
    p->target = *target;
    p->target.web_url = xstrdup(target->web_url);
    p->target.root_folder_url = xstrdup(target->root_folder_url);
    struct package_state *st = xcalloc(1, sizeof *st);
    uint64_t seed;
    crypto_random(&seed, sizeof seed);
    st->ids.seed = seed;
    st->intids.seed = seed ^ 1;
    st->urls.seed = seed ^ 2;
    st->users.seed = seed ^ 3;
    st->logins.seed = seed ^ 4;
    st->root_url = web_relative(p->target.web_url, p->target.root_folder_url);
    /* The root folder exists before any package: children may name it as their parent. */
    map_put(&st->ids, target->root_folder_id, (struct ref){REF_ROOT, 0});
    p->state = st;
    return p;
}

static void version_finish(struct package_version *v)
{
    free(v->label);
    free(v->file_value);
    free(v->checkin_comment);
}

static void object_finish(struct package_object *o)
{
    free(o->url);
    free(o->name);
    for (size_t i = 0; i < o->n_versions; i++)
        version_finish(&o->versions[i]);
    free(o->versions);
}

void package_destroy(struct package *p)
{
    if (!p)
        return;
    free((char *)p->target.web_url);
    free((char *)p->target.root_folder_url);
    free(p->site_url);
    free(p->source_type);
    for (size_t i = 0; i < p->n_manifest_names; i++)
        free(p->manifest_names[i]);
    free(p->manifest_names);
    for (size_t i = 0; i < p->n_users; i++) {
        free(p->users[i].name);
        free(p->users[i].login);
        free(p->users[i].email);
    }
    free(p->users);
    for (size_t i = 0; i < p->n_objects; i++)
        object_finish(&p->objects[i]);
    free(p->objects);
    for (size_t i = 0; i < p->n_issues; i++) {
        free(p->issues[i].url);
        free(p->issues[i].id);
        free(p->issues[i].message);
    }
    free(p->issues);
    struct package_state *st = p->state;
    free(st->ids.slots);
    free(st->intids.slots);
    free(st->urls.slots);
    free(st->users.slots);
    free(st->logins.slots);
    for (size_t i = 0; i < st->n_manifests_seen; i++)
        free(st->manifests_seen[i]);
    free(st->manifests_seen);
    free(st->root_url);
    free(st);
    free(p);
}

const struct package_user *package_user_find(const struct package *p, int id)
{
    unsigned char key[16];
    struct ref r;
    int_key(id, key);
    return map_get(&p->state->users, key, &r) ? &p->users[r.index] : NULL;
}

/* ---- Issues ---- */

static void add_issue_v(struct package *p, enum package_level level, const char *object_type,
                        const char *url, const char *id, int32_t code, const char *error_type,
                        const char *fmt, va_list ap)
{
    if (p->n_issues % 64 == 0)
        p->issues = xrealloc(p->issues, (p->n_issues + 64) * sizeof *p->issues);
    struct package_issue *is = &p->issues[p->n_issues++];
    is->level = level;
    is->object_type = object_type;
    is->url = xstrdup(url ? url : "");
    is->id = xstrdup(id ? id : "");
    is->error_code = code;
    is->error_type = error_type;
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    is->message = xstrdup(buf);
    if (level == PACKAGE_WARNING)
        p->n_warnings++;
    else if (level == PACKAGE_ERROR)
        p->n_errors++;
    else
        p->n_fatal++;
}

/* A problem with a whole file (url: the file name). */
__attribute__((format(printf, 6, 7))) static void
file_issue(struct package *p, enum package_level level, const char *file, int32_t code,
           const char *error_type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_issue_v(p, level, "", file, "", code, error_type, fmt, ap);
    va_end(ap);
}

/* The object an issue is about. */
struct obj {
    struct package *p;
    const char *type; /* "File", "Folder", "ListItem", "List", "User" or "" */
    const char *url, *id;
};

/* Reports an error on the object; returns -1 so callers can `return obj_error(...)`. */
__attribute__((format(printf, 3, 4))) static int obj_error(const struct obj *o, int32_t code,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_issue_v(o->p, PACKAGE_ERROR, o->type, o->url, o->id, code, ET_SP, fmt, ap);
    va_end(ap);
    return -1;
}

__attribute__((format(printf, 4, 5))) static int
obj_issue(const struct obj *o, enum package_level level, int32_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_issue_v(o->p, level, o->type, o->url, o->id, code, ET_SP, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- Attribute helpers ---- */

/* Attribute values copied out of the tree, freed together when an object is done. */
struct scratch {
    xmlChar **v;
    size_t n;
};

static const char *attr(struct scratch *s, xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, BAD_CAST name);
    if (!v)
        return NULL;
    if (s->n % 32 == 0)
        s->v = xrealloc(s->v, (s->n + 32) * sizeof *s->v);
    s->v[s->n++] = v;
    return (const char *)v;
}

static void scratch_free(struct scratch *s)
{
    for (size_t i = 0; i < s->n; i++)
        xmlFree(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

/* Integers as XSD writes them (the schema already checked the lexical form, which allows
 * surrounding white space and a sign). */
static bool parse_ll(const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || errno)
        return false;
    while (isspace((unsigned char)*end))
        end++;
    if (*end || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

/* An xs:int user id, or NO_USER when absent. */
static int user_attr(const char *v)
{
    long long x;
    return v && parse_ll(v, INT_MIN + 1LL, INT_MAX, &x) ? (int)x : NO_USER;
}

/* GUID attribute what = v: 0 and out set, 1 when absent, -1 (error reported) if malformed. */
static int guid_attr(const struct obj *o, const char *what, const char *v,
                     unsigned char out[UUID_LEN])
{
    if (!v)
        return 1;
    if (uuid_parse(v, out) < 0)
        return obj_error(o, PACKAGE_E_INVALIDARG, "%s '%s' is not a valid GUID", what, v);
    return 0;
}

/* Same, and the attribute is required. */
static int guid_required(const struct obj *o, const char *what, const char *v,
                         unsigned char out[UUID_LEN])
{
    if (!v)
        return obj_error(o, PACKAGE_E_INVALIDARG, "%s is missing", what);
    return guid_attr(o, what, v, out);
}

/* xs:dateTime what = v as ms since the epoch; a time without a zone is UTC. */
static int time_attr(const struct obj *o, const char *what, const char *v, int64_t *out)
{
    *out = PACKAGE_NO_TIME;
    if (!v)
        return 0;
    char buf[TIMEFMT_BUF + 2];
    size_t n = strlen(v);
    const char *t = strchr(v, 'T');
    bool zoned = n && (v[n - 1] == 'Z' || (t && (strchr(t, '+') || strchr(t, '-'))));
    if (n + 2 > sizeof buf || !t)
        goto bad;
    snprintf(buf, sizeof buf, "%s%s", v, zoned ? "" : "Z");
    if (timefmt_parse_iso8601(buf, out) < 0)
        goto bad;
    return 0;
bad:
    *out = PACKAGE_NO_TIME;
    return obj_error(o, PACKAGE_E_INVALIDARG, "%s '%s' is not a supported time", what, v);
}

/* ---- Name and path rules (package-format.md section 7) ---- */

static const char *const reserved_names[] = {
    ".lock", "CON",  "PRN",  "AUX",  "NUL",  "COM0", "COM1", "COM2",        "COM3",
    "COM4",  "COM5", "COM6", "COM7", "COM8", "COM9", "LPT0", "LPT1",        "LPT2",
    "LPT3",  "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "desktop.ini",
};

/* Why name cannot be a file or folder name in SharePoint Online, or NULL if it can. */
static const char *name_problem(const char *name)
{
    size_t n = strlen(name);
    if (n == 0)
        return "is empty";
    if (name[0] == ' ' || name[n - 1] == ' ')
        return "begins or ends with a space";
    for (const char *c = name; *c; c++) {
        if (strchr("\"*:<>?/\\|", *c))
            return "contains a character that is not allowed (\" * : < > ? / \\ |)";
        if ((unsigned char)*c < 0x20)
            return "contains a control character";
    }
    for (size_t i = 0; i < sizeof reserved_names / sizeof reserved_names[0]; i++)
        if (strcasecmp(name, reserved_names[i]) == 0)
            return "is a reserved name";
    if (strcasestr(name, "_vti_"))
        return "contains _vti_";
    if (name[0] == '~' && name[1] == '$')
        return "begins with ~$";
    return NULL;
}

/* Length in UTF-16 code units, as SharePoint counts characters (the text is valid UTF-8:
 * libxml2 guarantees it). */
static size_t utf16_len(const char *s)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if ((*c & 0xc0) != 0x80)
            n++;
        if (*c >= 0xf0)
            n++; /* outside the BMP: a surrogate pair */
    }
    return n;
}

/* Checks the leaf name and the decoded server-relative path of url. */
static int check_name_and_path(const struct obj *o, const char *name, const char *url)
{
    const char *why = name_problem(name);
    if (why)
        return obj_error(o, PACKAGE_E_INVALID_NAME, "The name '%s' %s", name, why);
    const char *web = o->p->target.web_url;
    size_t len = (strcmp(web, "/") == 0 ? 0 : utf16_len(web)) + 1 + utf16_len(url);
    if (len > PACKAGE_MAX_PATH)
        return obj_error(o, PACKAGE_E_PATH_TOO_LONG,
                         "The path is %zu characters long; the limit is %d", len, PACKAGE_MAX_PATH);
    return 0;
}

/* ---- XML reading and schemas ---- */

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
        const char *text = NULL;
        for (size_t i = 0; i < package_xsd_file_count; i++)
            if (strcmp(package_xsd_files[i].name, files[k].xsd) == 0)
                text = package_xsd_files[i].text;
        if (!text) {
            log_error("package: no embedded schema %s", files[k].xsd);
            continue;
        }
        xmlSchemaParserCtxtPtr pc = xmlSchemaNewMemParserCtxt(text, (int)strlen(text));
        if (!pc) {
            log_error("package: cannot load schema %s", files[k].xsd);
            continue;
        }
        xmlSchemaSetParserStructuredErrors(pc, schema_compile_error, (void *)files[k].xsd);
        schemas[k] = xmlSchemaParse(pc);
        xmlSchemaFreeParserCtxt(pc);
    }
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
    xmlParserCtxtPtr ctxt = ctx;
    *(bool *)ctxt->_private = true;
    xmlStopParser(ctxt);
}

static const char *trim_message(const char *m, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", m ? m : "error");
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return buf;
}

/* Parses one file; NULL (and a fatal issue) if it is not a well-formed document we accept. */
static xmlDocPtr read_doc(struct package *p, const char *name, const char *xml, size_t len)
{
    if (len > PACKAGE_XML_MAX_BYTES) {
        file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_XML, ET_XML,
                   "%s is %zu bytes; the limit is %d", name, len, PACKAGE_XML_MAX_BYTES);
        return NULL;
    }
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_XML, ET_XML, "Out of memory reading %s", name);
        return NULL;
    }
    /* Encoding errors reach libxml2's generic handler whatever the options say; this
     * thread's handler is made silent (as azure_xml.c does): the issue carries the error. */
    xmlSetGenericErrorFunc(NULL, silent);
    bool doctype = false;
    ctxt->_private = &doctype;
    ctxt->sax->internalSubset = refuse_doctype;
    /* No XML_PARSE_NOENT (entities stay unexpanded), no DTD loading, no network.
     * XML_PARSE_HUGE because libxml2 2.9 refuses an in-memory document past 10 MB ("Huge
     * input lookup") and real manifests reach 25 MB (AMR splits there); what HUGE lifts (text
     * and name lengths, depth 256 -> 2048) stays bounded by PACKAGE_XML_MAX_BYTES, and with
     * no DOCTYPE there is no entity to amplify. */
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, xml, (int)len, name, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                          XML_PARSE_HUGE);
    if (doctype || (doc && (doc->intSubset || doc->extSubset))) {
        file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_XML, ET_XML,
                   "%s has a DOCTYPE; document type declarations are not allowed", name);
        goto fail;
    }
    if (!doc || !xmlDocGetRootElement(doc)) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        char buf[512];
        file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_XML, ET_XML, "%s line %d: %s", name,
                   e ? e->line : 0, trim_message(e ? e->message : NULL, buf, sizeof buf));
        goto fail;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;

fail:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return NULL;
}

struct first_error {
    bool set;
    int line;
    char message[512];
};

static void on_schema_error(void *ctx, xmlErrorPtr e)
{
    struct first_error *fe = ctx;
    if (fe->set || !e)
        return;
    fe->set = true;
    fe->line = e->line;
    trim_message(e->message, fe->message, sizeof fe->message);
}

/* Root element, namespace and schema of doc as file kind; 0, or -1 with a fatal issue. */
static int check_doc(struct package *p, enum package_file kind, const char *name, xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    const char *ns = root->ns && root->ns->href ? (const char *)root->ns->href : "";
    if (strcmp((const char *)root->name, files[kind].root) != 0 || strcmp(ns, files[kind].ns)) {
        file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_XML, ET_XML,
                   "%s: the root element is {%s}%s; expected {%s}%s", name, ns,
                   (const char *)root->name, files[kind].ns, files[kind].root);
        return -1;
    }
    pthread_once(&schemas_once, schemas_load);
    if (!schemas[kind]) {
        file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_XML_SCHEMA, ET_SCHEMA,
                   "Internal error: the schema %s is not available", files[kind].xsd);
        return -1;
    }
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schemas[kind]);
    if (!vc) {
        file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_XML_SCHEMA, ET_SCHEMA,
                   "Out of memory validating %s", name);
        return -1;
    }
    struct first_error fe = {0};
    xmlSchemaSetValidStructuredErrors(vc, on_schema_error, &fe);
    int rc = xmlSchemaValidateDoc(vc, doc);
    xmlSchemaFreeValidCtxt(vc);
    if (rc != 0) {
        file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_XML_SCHEMA, ET_SCHEMA, "%s line %d: %s", name,
                   fe.line, fe.set ? fe.message : "the document is not valid");
        return -1;
    }
    return 0;
}

static xmlNodePtr first_element(xmlNodePtr n)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

static xmlNodePtr next_element(xmlNodePtr n)
{
    for (xmlNodePtr c = n->next; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

static xmlNodePtr child_named(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = first_element(n); c; c = next_element(c))
        if (strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

/* ---- The small files ---- */

static const char *const source_types[] = {
    "AmazonS3",         "AzureStorage",           "Box",         "Dropbox",         "Egnyte",
    "FileShare",        "GoogleCloudStorage",     "GoogleDrive", "MicrosoftStream", "OneDrive",
    "SharePointOnline", "SharePointOnPremServer", "Other",
};

static void parse_export_settings(struct package *p, const char *name, xmlNodePtr root)
{
    struct scratch s = {0};
    const char *site = attr(&s, root, "SiteUrl");
    const char *type = attr(&s, root, "SourceType");
    p->site_url = xstrdup(site ? site : "");
    if (!type) {
        file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_INVALIDARG, ET_SP,
                   "ExportSettings has no SourceType");
        goto out;
    }
    p->source_type = xstrdup(type);
    bool known = false;
    for (size_t i = 0; i < sizeof source_types / sizeof source_types[0]; i++)
        known = known || strcmp(type, source_types[i]) == 0;
    if (!known)
        file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_INVALIDARG, ET_SP,
                   "ExportSettings SourceType '%s' is not a known source type", type);
    else if (strcmp(type, "Other") == 0 && !attr(&s, root, "DetailedSource"))
        file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_INVALIDARG, ET_SP,
                   "ExportSettings SourceType 'Other' needs a DetailedSource");
out:
    scratch_free(&s);
}

static void parse_system_data(struct package *p, const char *name, xmlNodePtr root)
{
    xmlNodePtr list = child_named(root, "ManifestFiles"); /* the schema requires it */
    for (xmlNodePtr m = first_element(list); m; m = next_element(m)) {
        struct scratch s = {0};
        const char *mname = attr(&s, m, "Name");
        bool dup = false, stop = true;
        for (size_t i = 0; i < p->n_manifest_names; i++)
            dup = dup || strcmp(p->manifest_names[i], mname) == 0;
        if (dup)
            file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_ALREADY_EXISTS, ET_SP,
                       "SystemData lists the manifest '%s' twice", mname);
        else if (p->n_manifest_names == PACKAGE_MAX_MANIFESTS)
            file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_INVALIDARG, ET_SP,
                       "SystemData lists more than %d manifests", PACKAGE_MAX_MANIFESTS);
        else {
            p->manifest_names =
                xrealloc(p->manifest_names, (p->n_manifest_names + 1) * sizeof *p->manifest_names);
            p->manifest_names[p->n_manifest_names++] = xstrdup(mname);
            stop = false;
        }
        scratch_free(&s);
        if (stop)
            return;
    }
}

static void parse_user_group(struct package *p, xmlNodePtr root)
{
    struct package_state *st = p->state;
    xmlNodePtr users = child_named(root, "Users");
    for (xmlNodePtr u = first_element(users); u; u = next_element(u)) {
        struct scratch s = {0};
        const char *id = attr(&s, u, "Id");
        const char *login = attr(&s, u, "Login");
        struct obj o = {p, "User", login ? login : "", id};
        int uid = user_attr(id); /* the schema requires an xs:int Id */
        unsigned char key[16], lkey[16];
        int_key(uid, key);
        if (login)
            text_key(login, lkey);
        if (uid == NO_USER || map_get(&st->users, key, NULL)) {
            obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_ALREADY_EXISTS,
                      "The user id %s appears more than once in UserGroup.xml", id);
        } else if (login && *login && map_get(&st->logins, lkey, NULL)) {
            obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_ALREADY_EXISTS,
                      "The login '%s' appears more than once in UserGroup.xml", login);
        } else {
            if (login && !strchr(login, '|') && !strchr(login, '@'))
                obj_issue(&o, PACKAGE_WARNING, PACKAGE_E_USER,
                          "The login '%s' is neither a claim nor a UPN", login);
            const char *nm = attr(&s, u, "Name"), *em = attr(&s, u, "Email");
            const char *admin = attr(&s, u, "IsSiteAdmin"), *del = attr(&s, u, "IsDeleted");
            if (p->n_users % 32 == 0)
                p->users = xrealloc(p->users, (p->n_users + 32) * sizeof *p->users);
            p->users[p->n_users] = (struct package_user){
                .id = uid,
                .name = xstrdup(nm ? nm : ""),
                .login = xstrdup(login ? login : ""),
                .email = xstrdup(em ? em : ""),
                .is_site_admin = admin && (strcmp(admin, "true") == 0 || strcmp(admin, "1") == 0),
                .is_deleted = del && (strcmp(del, "true") == 0 || strcmp(del, "1") == 0),
            };
            map_put(&st->users, key, (struct ref){REF_USER, p->n_users});
            if (login && *login)
                map_put(&st->logins, lkey, (struct ref){REF_USER, p->n_users});
            p->n_users++;
        }
        scratch_free(&s);
    }
}

static void parse_root_object_map(struct package *p, xmlNodePtr root)
{
    for (xmlNodePtr r = first_element(root); r; r = next_element(r)) {
        struct scratch s = {0};
        const char *type = attr(&s, r, "Type"), *id = attr(&s, r, "Id");
        const char *parent = attr(&s, r, "ParentId");
        struct obj o = {p, "List", attr(&s, r, "Url"), id};
        unsigned char u[UUID_LEN];
        if (strcmp(type, "List") == 0) {
            if (uuid_parse(id, u) < 0 || memcmp(u, p->target.list_id, UUID_LEN) != 0)
                obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_LIST_NOT_FOUND,
                          "RootObject %s is not the target list", id);
            else if (parent &&
                     (uuid_parse(parent, u) < 0 || memcmp(u, p->target.web_id, UUID_LEN) != 0))
                obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_NOT_FOUND,
                          "RootObject ParentId %s is not the target web", parent);
        }
        scratch_free(&s);
    }
}

/* ---- Manifest objects ---- */

/* The parent web of an object, when given, must be the target web. */
static int check_web(const struct obj *o, const char *v)
{
    unsigned char u[UUID_LEN];
    int rc = guid_attr(o, "ParentWebId", v, u);
    if (rc < 0)
        return -1;
    if (rc == 0 && memcmp(u, o->p->target.web_id, UUID_LEN) != 0)
        return obj_error(o, PACKAGE_E_NOT_FOUND, "The parent web %s was not found", v);
    return 0;
}

/* An optional list id (ListId, ContainingDocumentLibrary, ParentListId) must be the target. */
static int check_list(const struct obj *o, const char *what, const char *v)
{
    unsigned char u[UUID_LEN];
    int rc = guid_attr(o, what, v, u);
    if (rc < 0)
        return -1;
    if (rc == 0 && memcmp(u, o->p->target.list_id, UUID_LEN) != 0)
        return obj_error(o, PACKAGE_E_LIST_NOT_FOUND, "%s %s is not the target list", what, v);
    return 0;
}

/* The url of the folder parent_id names, for a child; NULL (error reported) if there is no
 * such folder before this object, or it was not imported. */
static const char *parent_url(const struct obj *o, const unsigned char parent_id[UUID_LEN],
                              const char *text)
{
    struct package_state *st = o->p->state;
    struct ref r;
    if (!map_get(&st->ids, parent_id, &r)) {
        obj_error(o, PACKAGE_E_PATH_NOT_FOUND,
                  "The parent folder %s was not found before this object", text);
        return NULL;
    }
    if (r.kind == REF_ROOT)
        return st->root_url;
    const struct package_object *par = &o->p->objects[r.index];
    if (r.kind != REF_OBJECT || par->kind != PACKAGE_FOLDER) {
        obj_error(o, PACKAGE_E_PATH_NOT_FOUND, "The parent %s is not a folder", text);
        return NULL;
    }
    if (par->excluded) {
        obj_error(o, PACKAGE_E_PATH_NOT_FOUND, "The parent folder %s was not imported", par->url);
        return NULL;
    }
    return par->url;
}

/* The checks folders and files share once the parent is known: name, url, path, name
 * conflict, list item id. */
static int check_placement(const struct obj *o, const char *purl, const char *name, const char *url,
                           int intid)
{
    struct package_state *st = o->p->state;
    if (check_name_and_path(o, name, url) < 0)
        return -1;
    size_t pl = strlen(purl);
    if (strncasecmp(url, purl, pl) != 0 || url[pl] != '/' || strcmp(url + pl + 1, name) != 0)
        return obj_error(o, PACKAGE_E_INVALIDARG,
                         "The url '%s' is not the parent folder's url '%s' and the name '%s'", url,
                         purl, name);
    unsigned char key[16];
    text_key(url, key);
    if (map_get(&st->urls, key, NULL))
        return obj_error(o, PACKAGE_E_ALREADY_EXISTS,
                         "An item with the url '%s' is already in the package", url);
    if (intid) {
        int_key(intid, key);
        if (map_get(&st->intids, key, NULL))
            return obj_error(o, PACKAGE_E_ALREADY_EXISTS,
                             "The list item id %d is already used in the package", intid);
    }
    return 0;
}

/* Appends a new object (all fields but kind zero) and returns its index. */
static size_t add_object(struct package *p, enum package_kind kind)
{
    if (p->n_objects % 64 == 0)
        p->objects = xrealloc(p->objects, (p->n_objects + 64) * sizeof *p->objects);
    struct package_object *ob = &p->objects[p->n_objects];
    memset(ob, 0, sizeof *ob);
    ob->kind = kind;
    ob->author = ob->editor = NO_USER;
    ob->created = ob->modified = PACKAGE_NO_TIME;
    return p->n_objects++;
}

/* Registers object i under its id, url and list item id, for lookups by later objects. */
static void register_object(struct package *p, size_t i)
{
    struct package_state *st = p->state;
    const struct package_object *ob = &p->objects[i];
    unsigned char key[16];
    map_put(&st->ids, ob->id, (struct ref){REF_OBJECT, i});
    if (ob->excluded)
        return; /* its url and list item id stay free; children see it excluded */
    text_key(ob->url, key);
    map_put(&st->urls, key, (struct ref){REF_OBJECT, i});
    if (ob->list_item_int_id) {
        int_key(ob->list_item_int_id, key);
        map_put(&st->intids, key, (struct ref){REF_OBJECT, i});
    }
}

/* An optional positive xs:int list item id; 0 when absent, -1 (error) when not positive. */
static int intid_attr(const struct obj *o, const char *what, const char *v)
{
    long long x;
    if (!v)
        return 0;
    if (!parse_ll(v, 1, INT_MAX, &x))
        return obj_error(o, PACKAGE_E_INVALIDARG, "%s %s is not a positive integer", what, v);
    return (int)x;
}

/* Is id already used? Reports the duplicate. */
static bool duplicate_id(const struct obj *o, const unsigned char id[UUID_LEN])
{
    if (!map_get(&o->p->state->ids, id, NULL))
        return false;
    obj_error(o, PACKAGE_E_ALREADY_EXISTS, "The id %s is already used in the package", o->id);
    return true;
}

static void on_folder(struct package *p, struct scratch *s, xmlNodePtr f)
{
    struct package_state *st = p->state;
    const char *id = attr(s, f, "Id"), *url = attr(s, f, "Url");
    const char *name = attr(s, f, "Name"), *parent = attr(s, f, "ParentFolderId");
    struct obj o = {p, "Folder", url, id};
    unsigned char uid[UUID_LEN], pid[UUID_LEN];
    if (guid_required(&o, "Id", id, uid) < 0)
        return;
    if (memcmp(uid, p->target.root_folder_id, UUID_LEN) == 0) {
        /* The library's root folder: it exists already; only its web and url must agree. */
        if (st->root_folder_seen)
            obj_error(&o, PACKAGE_E_ALREADY_EXISTS, "The root folder appears twice");
        else if (check_web(&o, attr(s, f, "ParentWebId")) == 0 && url &&
                 strcasecmp(url, st->root_url) != 0)
            obj_error(&o, PACKAGE_E_LIST_NOT_FOUND,
                      "The root folder url '%s' is not the target library's '%s'", url,
                      st->root_url);
        st->root_folder_seen = true;
        return;
    }
    if (duplicate_id(&o, uid))
        return;

    size_t i = add_object(p, PACKAGE_FOLDER);
    struct package_object *ob = &p->objects[i];
    memcpy(ob->id, uid, UUID_LEN);
    ob->url = xstrdup(url ? url : "");
    if (!name && url) {
        const char *slash = strrchr(url, '/');
        name = slash ? slash + 1 : url;
    }
    ob->name = xstrdup(name ? name : "");
    ob->author = user_attr(attr(s, f, "Author"));
    ob->editor = user_attr(attr(s, f, "ModifiedBy"));
    const char *purl;
    int intid;
    if (!url)
        goto error_missing_url;
    if (guid_required(&o, "ParentFolderId", parent, pid) < 0 ||
        check_web(&o, attr(s, f, "ParentWebId")) < 0 ||
        check_list(&o, "ContainingDocumentLibrary", attr(s, f, "ContainingDocumentLibrary")) < 0 ||
        (intid = intid_attr(&o, "ListItemIntId", attr(s, f, "ListItemIntId"))) < 0 ||
        time_attr(&o, "TimeCreated", attr(s, f, "TimeCreated"), &ob->created) < 0 ||
        time_attr(&o, "TimeLastModified", attr(s, f, "TimeLastModified"), &ob->modified) < 0)
        goto error;
    memcpy(ob->parent_id, pid, UUID_LEN);
    if (!(purl = parent_url(&o, pid, parent)) || check_placement(&o, purl, ob->name, url, intid))
        goto error;
    ob->list_item_int_id = intid;
    register_object(p, i);
    return;

error_missing_url:
    obj_error(&o, PACKAGE_E_INVALIDARG, "Url is missing");
error:
    p->objects[i].excluded = true;
    register_object(p, i);
}

/* Parses a version label "major.minor" (digits only; minor < 512 as SharePoint's UI version
 * number major * 512 + minor must fit an int). */
static bool parse_label(const char *v, int *major, int *minor)
{
    const char *dot = strchr(v, '.');
    if (!dot || dot == v || !dot[1] || dot - v > 7 || strlen(dot + 1) > 3)
        return false;
    for (const char *c = v; *c; c++)
        if (c != dot && !isdigit((unsigned char)*c))
            return false;
    *major = atoi(v);
    *minor = atoi(dot + 1);
    return *major <= INT_MAX / 512 - 1 && *minor < 512;
}

/* Reads the version attributes of a File element (the outer one or one in Versions). Fields
 * not given are inherited from def when it is not NULL. */
static int read_version(const struct obj *o, struct scratch *s, xmlNodePtr f,
                        struct package_version *v, const struct package_version *def)
{
    memset(v, 0, sizeof *v);
    v->file_size = PACKAGE_NO_SIZE;
    const char *label = attr(s, f, "Version"), *fv = attr(s, f, "FileValue");
    const char *size = attr(s, f, "FileSize"), *md5 = attr(s, f, "MD5Hash");
    const char *iv = attr(s, f, "InitializationVector");
    const char *comment = attr(s, f, "CheckinComment");
    v->label = label ? xstrdup(label) : NULL;
    v->file_value = fv ? xstrdup(fv) : NULL;
    v->checkin_comment = comment ? xstrdup(comment) : NULL;
    v->author = user_attr(attr(s, f, "Author"));
    v->editor = user_attr(attr(s, f, "ModifiedBy"));
    if (label && !parse_label(label, &v->major, &v->minor))
        return obj_error(o, PACKAGE_E_INVALIDARG, "The version label '%s' is not major.minor",
                         label);
    if (fv && !*fv)
        return obj_error(o, PACKAGE_E_INVALIDARG, "FileValue is empty");
    long long n;
    if (size) {
        if (!parse_ll(size, 0, LLONG_MAX, &n))
            return obj_error(o, PACKAGE_E_INVALIDARG, "FileSize %s is not a size", size);
        if (n > PACKAGE_MAX_FILE_SIZE)
            return obj_error(o, PACKAGE_E_FILE_TOO_LARGE,
                             "FileSize %lld is over the limit of %lld bytes", n,
                             PACKAGE_MAX_FILE_SIZE);
        v->file_size = n;
    }
    if (md5) {
        if (b64_decode_to(md5, strlen(md5), v->md5, sizeof v->md5) != 16)
            return obj_error(o, PACKAGE_E_INVALIDARG, "MD5Hash is not base64 of 16 bytes");
        v->has_md5 = true;
    }
    if (iv) {
        if (b64_decode_to(iv, strlen(iv), v->iv, sizeof v->iv) != 16)
            return obj_error(o, PACKAGE_E_INVALIDARG,
                             "InitializationVector is not base64 of 16 bytes");
        v->has_iv = true;
    }
    if (time_attr(o, "TimeCreated", attr(s, f, "TimeCreated"), &v->created) < 0 ||
        time_attr(o, "TimeLastModified", attr(s, f, "TimeLastModified"), &v->modified) < 0)
        return -1;
    if (def) {
        if (v->author == NO_USER)
            v->author = def->author;
        if (v->editor == NO_USER)
            v->editor = def->editor;
        if (v->created == PACKAGE_NO_TIME)
            v->created = def->created;
        if (v->modified == PACKAGE_NO_TIME)
            v->modified = def->modified;
    }
    return 0;
}

static int version_cmp(const void *a, const void *b)
{
    const struct package_version *x = a, *y = b;
    if (x->major != y->major)
        return x->major < y->major ? -1 : 1;
    return x->minor < y->minor ? -1 : x->minor > y->minor;
}

/* Builds the version list of a file: the versions in Versions (each with its FileValue) or
 * the outer File alone, and checks the labels. The outer version is consumed. */
static int file_versions(const struct obj *o, struct scratch *s, xmlNodePtr f,
                         struct package_object *ob, struct package_version *outer)
{
    xmlNodePtr vs = child_named(f, "Versions");
    if (!vs) {
        if (!outer->file_value)
            return obj_error(o, PACKAGE_E_INVALIDARG, "The file has no FileValue");
        if (!outer->label) {
            outer->label = xstrdup("1.0");
            outer->major = 1;
        }
        ob->versions = xmalloc(sizeof *ob->versions);
        ob->versions[0] = *outer;
        ob->n_versions = 1;
        memset(outer, 0, sizeof *outer);
        return 0;
    }
    size_t cap = 0;
    for (xmlNodePtr vf = first_element(vs); vf; vf = next_element(vf)) {
        if (ob->n_versions == cap) {
            cap = cap ? 2 * cap : 8;
            ob->versions = xrealloc(ob->versions, (cap + 1) * sizeof *ob->versions);
        }
        struct package_version *v = &ob->versions[ob->n_versions++];
        int rc = read_version(o, s, vf, v, outer);
        if (rc < 0)
            return -1;
        const char *vid = attr(s, vf, "Id");
        unsigned char u[UUID_LEN];
        if (!v->label)
            return obj_error(o, PACKAGE_E_INVALIDARG, "A version in Versions has no label");
        if (!v->file_value)
            return obj_error(o, PACKAGE_E_INVALIDARG, "Version %s has no FileValue", v->label);
        if (vid && (uuid_parse(vid, u) < 0 || memcmp(u, ob->id, UUID_LEN) != 0))
            return obj_error(o, PACKAGE_E_INVALIDARG, "Version %s has another Id (%s)", v->label,
                             vid);
    }
    qsort(ob->versions, ob->n_versions, sizeof *ob->versions, version_cmp);
    for (size_t k = 1; k < ob->n_versions; k++)
        if (version_cmp(&ob->versions[k - 1], &ob->versions[k]) == 0)
            return obj_error(o, PACKAGE_E_ALREADY_EXISTS, "The version %s appears twice",
                             ob->versions[k].label);
    const struct package_version *top = &ob->versions[ob->n_versions - 1];
    if (!outer->label)
        return 0; /* the highest version is the current one */
    int cmp = version_cmp(outer, top);
    if (cmp > 0 && outer->file_value) {
        /* The current version given outside Versions only: it comes last. */
        ob->versions[ob->n_versions++] = *outer;
        memset(outer, 0, sizeof *outer);
        return 0;
    }
    if (cmp > 0)
        return obj_error(o, PACKAGE_E_INVALIDARG,
                         "The file's version %s is not in its Versions and has no FileValue",
                         outer->label);
    if (cmp < 0)
        return obj_error(o, PACKAGE_E_INVALIDARG,
                         "The file's version %s is not its highest version (%s)", outer->label,
                         top->label);
    return 0;
}

static void on_file(struct package *p, struct scratch *s, xmlNodePtr f)
{
    const char *id = attr(s, f, "Id"), *url = attr(s, f, "Url");
    const char *name = attr(s, f, "Name"), *parent = attr(s, f, "ParentId");
    struct obj o = {p, "File", url, id};
    unsigned char uid[UUID_LEN], pid[UUID_LEN];
    if (guid_required(&o, "Id", id, uid) < 0 || duplicate_id(&o, uid))
        return;

    size_t i = add_object(p, PACKAGE_FILE);
    struct package_object *ob = &p->objects[i];
    memcpy(ob->id, uid, UUID_LEN);
    ob->url = xstrdup(url ? url : "");
    ob->name = xstrdup(name ? name : "");
    struct package_version outer;
    int rc = read_version(&o, s, f, &outer, NULL);
    ob->author = outer.author;
    ob->editor = outer.editor;
    ob->created = outer.created;
    ob->modified = outer.modified;
    const char *purl;
    int intid = 0;
    if (rc < 0)
        goto error;
    if (!url || !name) {
        obj_error(&o, PACKAGE_E_INVALIDARG, "%s is missing", url ? "Name" : "Url");
        goto error;
    }
    if (guid_required(&o, "ParentId", parent, pid) < 0 ||
        check_web(&o, attr(s, f, "ParentWebId")) < 0 ||
        check_list(&o, "ListId", attr(s, f, "ListId")) < 0 ||
        (intid = intid_attr(&o, "ListItemIntId", attr(s, f, "ListItemIntId"))) < 0)
        goto error;
    memcpy(ob->parent_id, pid, UUID_LEN);
    if (!(purl = parent_url(&o, pid, parent)) || check_placement(&o, purl, name, url, intid) ||
        file_versions(&o, s, f, ob, &outer) < 0)
        goto error;
    version_finish(&outer);
    ob->list_item_int_id = intid;
    register_object(p, i);
    return;

error:
    version_finish(&outer);
    p->objects[i].excluded = true;
    register_object(p, i);
}

static void on_list_item(struct package *p, struct scratch *s, xmlNodePtr li)
{
    struct package_state *st = p->state;
    const char *id = attr(s, li, "Id"), *doc = attr(s, li, "DocId");
    const char *url = attr(s, li, "FileUrl");
    struct obj o = {p, "ListItem", url, id};
    unsigned char uid[UUID_LEN], did[UUID_LEN];
    int intid;
    if (guid_required(&o, "Id", id, uid) < 0 || guid_required(&o, "DocId", doc, did) < 0 ||
        check_web(&o, attr(s, li, "ParentWebId")) < 0 ||
        check_list(&o, "ParentListId", attr(s, li, "ParentListId")) < 0 ||
        (intid = intid_attr(&o, "IntId", attr(s, li, "IntId"))) < 0 || duplicate_id(&o, uid))
        return;
    struct ref r;
    if (!map_get(&st->ids, did, &r) || r.kind == REF_LIST_ITEM || r.kind == REF_LIST) {
        obj_error(&o, PACKAGE_E_ITEM_NOT_FOUND,
                  "The DocId %s is not a file or folder before this list item", doc);
        return;
    }
    if (r.kind == REF_ROOT)
        return; /* the root folder's item exists already */
    struct package_object *ob = &p->objects[r.index];
    if (ob->excluded)
        return; /* the error was reported on the document */
    if (ob->has_list_item_id) {
        obj_error(&o, PACKAGE_E_ALREADY_EXISTS, "The document %s already has a list item", doc);
        return;
    }
    unsigned char key[16];
    if (intid && ob->list_item_int_id && intid != ob->list_item_int_id) {
        obj_error(&o, PACKAGE_E_INVALIDARG, "IntId %d does not match the ListItemIntId %d of %s",
                  intid, ob->list_item_int_id, ob->url);
        return;
    }
    if (intid && !ob->list_item_int_id) {
        int_key(intid, key);
        if (map_get(&st->intids, key, NULL)) {
            obj_error(&o, PACKAGE_E_ALREADY_EXISTS,
                      "The list item id %d is already used in the package", intid);
            return;
        }
        map_put(&st->intids, key, (struct ref){REF_OBJECT, r.index});
        ob->list_item_int_id = intid;
    }
    ob->has_list_item_id = true;
    memcpy(ob->list_item_id, uid, UUID_LEN);
    map_put(&st->ids, uid, (struct ref){REF_LIST_ITEM, r.index});
    /* Who and when, if the document did not say. */
    int author = user_attr(attr(s, li, "Author")), editor = user_attr(attr(s, li, "ModifiedBy"));
    if (ob->author == NO_USER)
        ob->author = author;
    if (ob->editor == NO_USER)
        ob->editor = editor;
}

/* SPDocumentLibrary and SPList: must be the target library; anything else is fatal. */
static void on_list(struct package *p, struct scratch *s, xmlNodePtr l)
{
    const char *id = attr(s, l, "Id"), *root_id = attr(s, l, "RootFolderId");
    const char *root_url = attr(s, l, "RootFolderUrl"), *web = attr(s, l, "ParentWebId");
    struct obj o = {p, "List", root_url, id};
    unsigned char u[UUID_LEN];
    if (!id || uuid_parse(id, u) < 0 || memcmp(u, p->target.list_id, UUID_LEN) != 0)
        obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_LIST_NOT_FOUND,
                  "The list %s is not the target library", id ? id : "(no Id)");
    else if (root_id &&
             (uuid_parse(root_id, u) < 0 || memcmp(u, p->target.root_folder_id, UUID_LEN) != 0))
        obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_LIST_NOT_FOUND,
                  "RootFolderId %s is not the target library's root folder", root_id);
    else if (root_url && strcasecmp(root_url, p->target.root_folder_url) != 0)
        obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_LIST_NOT_FOUND,
                  "RootFolderUrl '%s' is not the target library's '%s'", root_url,
                  p->target.root_folder_url);
    else if (web && (uuid_parse(web, u) < 0 || memcmp(u, p->target.web_id, UUID_LEN) != 0))
        obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_NOT_FOUND, "The parent web %s was not found", web);
}

/* ObjectType values the Migration API accepts, the typed child each holds, and what the
 * import does with it (NULL: carried, not imported). */
static const struct {
    const char *type, *child;
    void (*handle)(struct package *, struct scratch *, xmlNodePtr);
    const char *report_as; /* ObjectType in issues */
} object_types[] = {
    {"SPFolder", "Folder", on_folder, "Folder"},
    {"SPFile", "File", on_file, "File"},
    {"SPListItem", "ListItem", on_list_item, "ListItem"},
    {"SPDocumentLibrary", "DocumentLibrary", on_list, "List"},
    {"SPList", "List", on_list, "List"},
    {"SPContentType", "ContentType", NULL, ""},
    {"SPDocumentTemplate", "DocumentTemplate", NULL, ""},
    {"DeploymentUserX", "UserX", NULL, ""},
    {"DeploymentGroupX", "GroupX", NULL, ""},
    {"DeploymentRoles", "Roles", NULL, ""},
    {"DeploymentRoleX", "RoleX", NULL, ""},
    {"DeploymentRoleAssignments", "RoleAssignments", NULL, ""},
    {"DeploymentRoleAssignmentX", "RoleAssignmentX", NULL, ""},
};

static void on_spobject(struct package *p, xmlNodePtr sp)
{
    struct scratch s = {0};
    const char *type = attr(&s, sp, "ObjectType"), *id = attr(&s, sp, "Id");
    const char *url = attr(&s, sp, "Url");
    xmlNodePtr child = first_element(sp); /* the schema allows one at most */
    size_t k = 0, n = sizeof object_types / sizeof object_types[0];
    while (type && k < n && strcmp(type, object_types[k].type) != 0)
        k++;
    /* Issues name the object as its typed child does (web-relative url) when it can. */
    const char *cid = child ? attr(&s, child, "Id") : NULL;
    const char *curl = NULL;
    if (child)
        curl = attr(&s, child, strcmp((const char *)child->name, "ListItem") ? "Url" : "FileUrl");
    struct obj o = {p, k < n ? object_types[k].report_as : "", curl ? curl : url, id};
    unsigned char u[UUID_LEN], cu[UUID_LEN];
    if (!type)
        obj_error(&o, PACKAGE_E_INVALIDARG, "SPObject has no ObjectType");
    else if (k == n)
        obj_error(&o, PACKAGE_E_INVALIDARG, "ObjectType '%s' is not allowed", type);
    else if (!child || strcmp((const char *)child->name, object_types[k].child) != 0)
        obj_error(&o, PACKAGE_E_INVALIDARG, "An SPObject of type %s must hold one %s element", type,
                  object_types[k].child);
    else if (guid_attr(&o, "SPObject Id", id, u) < 0 ||
             check_web(&o, attr(&s, sp, "ParentWebId")) < 0)
        ; /* reported */
    else if (id && cid && uuid_parse(cid, cu) == 0 && memcmp(u, cu, UUID_LEN) != 0)
        obj_error(&o, PACKAGE_E_INVALIDARG, "The SPObject Id %s differs from its %s Id %s", id,
                  object_types[k].child, cid);
    else if (object_types[k].handle)
        object_types[k].handle(p, &s, child);
    scratch_free(&s);
}

static void parse_manifest(struct package *p, xmlNodePtr root)
{
    for (xmlNodePtr sp = first_element(root); sp; sp = next_element(sp))
        on_spobject(p, sp);
}

/* ---- Files, finish, load ---- */

int package_parse(struct package *p, enum package_file kind, const char *name, const void *xml,
                  size_t len)
{
    struct package_state *st = p->state;
    size_t fatal_before = p->n_fatal;
    assert(!st->finished);
    if (kind == PACKAGE_MANIFEST) {
        for (size_t i = 0; i < st->n_manifests_seen; i++)
            if (strcmp(st->manifests_seen[i], name) == 0) {
                file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_ALREADY_EXISTS, ET_SP,
                           "The manifest %s was given twice", name);
                return -1;
            }
        st->manifests_seen =
            xrealloc(st->manifests_seen, (st->n_manifests_seen + 1) * sizeof *st->manifests_seen);
        st->manifests_seen[st->n_manifests_seen++] = xstrdup(name);
    } else if (st->have[kind]) {
        file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_ALREADY_EXISTS, ET_SP, "%s was given twice",
                   name);
        return -1;
    }
    st->have[kind] = true;

    xmlDocPtr doc = read_doc(p, name, xml, len);
    if (!doc)
        return -1;
    if (check_doc(p, kind, name, doc) == 0) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        switch (kind) {
        case PACKAGE_MANIFEST:
            parse_manifest(p, root);
            break;
        case PACKAGE_EXPORT_SETTINGS:
            parse_export_settings(p, name, root);
            break;
        case PACKAGE_SYSTEM_DATA:
            parse_system_data(p, name, root);
            break;
        case PACKAGE_USER_GROUP:
            parse_user_group(p, root);
            break;
        case PACKAGE_ROOT_OBJECT_MAP:
            parse_root_object_map(p, root);
            break;
        default:
            break; /* the schema check is all the other files get */
        }
    }
    xmlFreeDoc(doc);
    return p->n_fatal > fatal_before ? -1 : 0;
}

/* Author/ModifiedBy: a user of UserGroup.xml, or System Account. An id that was given but
 * is not a user is kept in *unknown (the first one) for the warning. */
static void resolve_user(const struct package *p, int *id, int *unknown)
{
    if (*id != NO_USER && !package_user_find(p, *id) && *unknown == NO_USER)
        *unknown = *id;
    if (*id == NO_USER || !package_user_find(p, *id))
        *id = PACKAGE_SYSTEM_ACCOUNT;
}

static void resolve_users(struct package *p)
{
    for (size_t i = 0; i < p->n_objects; i++) {
        struct package_object *ob = &p->objects[i];
        int unknown = NO_USER;
        resolve_user(p, &ob->author, &unknown);
        resolve_user(p, &ob->editor, &unknown);
        for (size_t k = 0; k < ob->n_versions; k++) {
            resolve_user(p, &ob->versions[k].author, &unknown);
            resolve_user(p, &ob->versions[k].editor, &unknown);
        }
        if (unknown != NO_USER && !ob->excluded) {
            char id[UUID_BUF];
            uuid_format(ob->id, id);
            struct obj o = {p, ob->kind == PACKAGE_FILE ? "File" : "Folder", ob->url, id};
            obj_issue(&o, PACKAGE_WARNING, PACKAGE_E_USER,
                      "Failed to ensure user %d: not in UserGroup.xml; System Account is used",
                      unknown);
        }
    }
}

int package_finish(struct package *p)
{
    struct package_state *st = p->state;
    assert(!st->finished);
    st->finished = true;
    /* After a fatal issue, manifests that were never read are not news. */
    bool failed_before = p->n_fatal > 0;
    for (int k = 0; k < PACKAGE_FILE_KINDS; k++) {
        if (k == PACKAGE_MANIFEST || st->have[k])
            continue;
        if (files[k].required)
            file_issue(p, PACKAGE_FATAL, files[k].file, PACKAGE_E_NOT_FOUND, ET_SP,
                       "The required file %s is missing", files[k].file);
        else
            file_issue(p, PACKAGE_WARNING, files[k].file, PACKAGE_E_NOT_FOUND, ET_SP,
                       "The file %s is missing", files[k].file);
    }
    for (size_t i = 0; !failed_before && i < p->n_manifest_names; i++) {
        bool seen = false;
        for (size_t j = 0; j < st->n_manifests_seen; j++)
            seen = seen || strcmp(st->manifests_seen[j], p->manifest_names[i]) == 0;
        if (!seen)
            file_issue(p, PACKAGE_FATAL, p->manifest_names[i], PACKAGE_E_NOT_FOUND, ET_SP,
                       "The manifest %s listed in SystemData.xml is missing", p->manifest_names[i]);
    }
    /* After a fatal issue nothing is imported: warnings about users would only be noise. */
    if (!p->n_fatal)
        resolve_users(p);
    return p->n_fatal ? -1 : 0;
}

/* Reads and parses one file for package_load; false when the load must stop. */
static bool load_one(struct package *p, package_read_fn read, void *ctx, enum package_file kind,
                     const char *name)
{
    char *data = NULL, *why = NULL;
    size_t len = 0;
    int rc = read(ctx, name, &data, &len, &why);
    if (rc == 1) {
        free(data);
        free(why);
        return true; /* package_finish reports what is missing */
    }
    if (rc < 0) {
        p->state->have[kind] = kind != PACKAGE_MANIFEST;
        file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_NOT_FOUND, ET_SP, "Cannot read %s: %s", name,
                   why ? why : "read failed");
        free(data);
        free(why);
        return false;
    }
    free(why);
    rc = package_parse(p, kind, name, data, len);
    free(data);
    return rc == 0;
}

struct package *package_load(const struct package_target *target, package_read_fn read, void *ctx)
{
    static const enum package_file order[] = {
        PACKAGE_SYSTEM_DATA,     PACKAGE_EXPORT_SETTINGS, PACKAGE_USER_GROUP,
        PACKAGE_ROOT_OBJECT_MAP, PACKAGE_LOOKUP_LIST_MAP, PACKAGE_REQUIREMENTS,
        PACKAGE_VIEW_FORMS_LIST,
    };
    struct package *p = package_create(target);
    bool go = true;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        go &= load_one(p, read, ctx, order[i], files[order[i]].file);
    for (size_t i = 0; go && i < p->n_manifest_names; i++)
        go = load_one(p, read, ctx, PACKAGE_MANIFEST, p->manifest_names[i]);
    package_finish(p);
    return p;
}
