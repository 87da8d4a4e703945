/*
 * csom_request.c: parses ProcessQuery's XML with libxml2 once xml_bounds has bounded its shape
 * (no network, no DTD, entities left unexpanded and refused) into object paths and actions;
 * parameters become cJSON values. It checks shape and bounds only: which members exist is csom.c's
 * business.
 */
#include "csom_request.h"
#include "spmig_limits.h"
#include "xmalloc.h"
#include "xml_bounds.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parse {
    char *err;
    size_t cap;
    size_t objects; /* paths, actions, parameters and properties so far */
};

static bool fail(struct parse *p, const char *fmt, const char *what)
{
    snprintf(p->err, p->cap, fmt, what ? what : "");
    return false;
}

static bool is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* The attribute's value (xmlFree'd by the caller) or NULL. */
static char *attr(const xmlNode *n, const char *name)
{
    return (char *)xmlGetProp(n, (const xmlChar *)name);
}

static char *attr_dup(const xmlNode *n, const char *name)
{
    char *v = attr(n, name);
    char *out = v ? xstrdup(v) : NULL;
    xmlFree(v);
    return out;
}

/* A whole decimal number attribute; false when absent or malformed. */
static bool attr_long(const xmlNode *n, const char *name, long *out)
{
    char *v = attr(n, name), *end;
    bool ok = false;
    if (v && *v) {
        errno = 0;
        long x = strtol(v, &end, 10);
        ok = !*end && errno == 0 && x >= 0;
        *out = x;
    }
    xmlFree(v);
    return ok;
}

static bool count(struct parse *p)
{
    if (++p->objects <= LIMIT_CSOM_OBJECTS)
        return true;
    snprintf(p->err, p->cap,
             "The request has more than %d object paths, actions, parameters "
             "and queried properties.",
             LIMIT_CSOM_OBJECTS);
    return false;
}

static char *text_of(const xmlNode *n)
{
    xmlChar *t = xmlNodeGetContent(n);
    char *s = xstrdup(t ? (const char *)t : "");
    xmlFree(t);
    return s;
}

static cJSON *value(struct parse *p, const xmlNode *n, int depth);

/* The properties of a value object (TypeId="...") into an object. */
static cJSON *value_object(struct parse *p, const xmlNode *n, const char *type_id, int depth)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "__TypeId", type_id);
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        char *name = is(c, "Property") ? attr(c, "Name") : NULL;
        cJSON *v = name && *name ? value(p, c, depth + 1) : NULL;
        if (!v) {
            if (!name || !*name)
                fail(p, "A value object's child is not a named Property.%s", NULL);
            xmlFree(name);
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddItemToObject(o, name, v);
        xmlFree(name);
    }
    return o;
}

/* One typed value (a Parameter, Property or array Object element). */
static cJSON *value(struct parse *p, const xmlNode *n, int depth)
{
    if (depth > LIMIT_CSOM_DEPTH) {
        fail(p, "Parameters are nested too deeply.%s", NULL);
        return NULL;
    }
    if (!count(p))
        return NULL;
    char *type = attr(n, "Type"), *type_id = attr(n, "TypeId");
    cJSON *v = NULL;
    if (type_id && *type_id) {
        v = value_object(p, n, type_id, depth);
    } else if (!type) {
        fail(p, "A parameter has neither Type nor TypeId.%s", NULL);
    } else if (!strcmp(type, "Null")) {
        v = cJSON_CreateNull();
    } else if (!strcmp(type, "Array")) {
        v = cJSON_CreateArray();
        for (const xmlNode *c = n->children; c && v; c = c->next) {
            if (c->type != XML_ELEMENT_NODE)
                continue;
            cJSON *item = is(c, "Object") ? value(p, c, depth + 1) : NULL;
            if (!item) {
                if (!is(c, "Object"))
                    fail(p, "An array holds an element other than Object.%s", NULL);
                cJSON_Delete(v);
                v = NULL;
                break;
            }
            cJSON_AddItemToArray(v, item);
        }
    } else {
        char *t = text_of(n);
        if (!strcmp(type, "String") || !strcmp(type, "Base64Binary") || !strcmp(type, "DateTime") ||
            !strcmp(type, "Char")) {
            v = cJSON_CreateString(t);
        } else if (!strcmp(type, "Guid")) {
            size_t l = strlen(t);
            if (l == 38 && t[0] == '{' && t[37] == '}') {
                t[37] = '\0';
                v = cJSON_CreateString(t + 1);
            } else {
                v = cJSON_CreateString(t);
            }
        } else if (!strcmp(type, "Boolean")) {
            if (!strcmp(t, "true") || !strcmp(t, "false"))
                v = cJSON_CreateBool(!strcmp(t, "true"));
            else
                fail(p, "\"%s\" is not a Boolean.", t);
        } else if (!strcmp(type, "Int32") || !strcmp(type, "Int64") || !strcmp(type, "Int16") ||
                   !strcmp(type, "Byte") || !strcmp(type, "UInt32") || !strcmp(type, "Double") ||
                   !strcmp(type, "Single") || !strcmp(type, "Enum") || !strcmp(type, "Number")) {
            char *end;
            errno = 0;
            double d = strtod(t, &end);
            if (*t && !*end && errno == 0)
                v = cJSON_CreateNumber(d);
            else
                fail(p, "\"%s\" is not a number.", t);
        } else {
            fail(p, "The parameter type %s is not supported.", type);
        }
        free(t);
    }
    xmlFree(type);
    xmlFree(type_id);
    return v;
}

/* The Parameters child of n (if any) into an array; NULL on a bad parameter. */
static cJSON *parameters(struct parse *p, const xmlNode *n)
{
    cJSON *arr = cJSON_CreateArray();
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!is(c, "Parameters"))
            continue;
        for (const xmlNode *q = c->children; q; q = q->next) {
            if (q->type != XML_ELEMENT_NODE)
                continue;
            cJSON *v = is(q, "Parameter") ? value(p, q, 0) : NULL;
            if (!v) {
                if (!is(q, "Parameter"))
                    fail(p, "Parameters holds an element other than Parameter.%s", NULL);
                cJSON_Delete(arr);
                return NULL;
            }
            cJSON_AddItemToArray(arr, v);
        }
    }
    return arr;
}

static bool select_of(struct parse *p, const xmlNode *q, struct csom_select *s)
{
    char *all = attr(q, "SelectAllProperties");
    s->all = all && !strcmp(all, "true");
    xmlFree(all);
    for (const xmlNode *c = q->children; c; c = c->next) {
        if (!is(c, "Properties"))
            continue;
        for (const xmlNode *pr = c->children; pr; pr = pr->next) {
            if (!is(pr, "Property"))
                continue;
            char *name = attr_dup(pr, "Name");
            if (!name || !*name) {
                free(name);
                return fail(p, "A queried property has no Name.%s", NULL);
            }
            if (!count(p)) {
                free(name);
                return false;
            }
            s->names = xrealloc(s->names, (s->n + 1) * sizeof *s->names);
            s->names[s->n++] = name;
        }
    }
    return true;
}

/* The index of n's element name in names, or -1. */
static int element_index(const xmlNode *n, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (is(n, names[i]))
            return (int)i;
    return -1;
}

static bool path_of(struct parse *p, const xmlNode *n, struct csom_path *out)
{
    /* In the order of enum csom_path_kind. */
    static const char *const elements[] = {"StaticProperty", "StaticMethod", "Property",
                                           "Method",         "Identity",     "Constructor"};
    memset(out, 0, sizeof *out);
    int k = element_index(n, elements, sizeof elements / sizeof elements[0]);
    if (k < 0)
        return fail(p, "Unknown object path %s.", (const char *)n->name);
    out->kind = (enum csom_path_kind)k;
    out->parent = -1;
    if (!attr_long(n, "Id", &out->id))
        return fail(p, "An object path has no valid Id.%s", NULL);
    bool parented = out->kind == CSOM_PATH_PROPERTY || out->kind == CSOM_PATH_METHOD;
    if (parented && !attr_long(n, "ParentId", &out->parent))
        return fail(p, "Object path %s needs a ParentId.", (const char *)n->name);
    out->name = attr_dup(n, "Name");
    out->type_id = attr_dup(n, "TypeId");
    if (out->kind != CSOM_PATH_CONSTRUCTOR && (!out->name || !*out->name))
        return fail(p, "Object path %s needs a Name.", (const char *)n->name);
    bool typed = out->kind == CSOM_PATH_STATIC_PROPERTY || out->kind == CSOM_PATH_STATIC_METHOD ||
                 out->kind == CSOM_PATH_CONSTRUCTOR;
    if (typed && (!out->type_id || !*out->type_id))
        return fail(p, "Object path %s needs a TypeId.", (const char *)n->name);
    out->params = parameters(p, n);
    return out->params != NULL;
}

static bool action_of(struct parse *p, const xmlNode *n, struct csom_action *out)
{
    /* In the order of enum csom_action_kind. */
    static const char *const elements[] = {"ObjectPath", "ObjectIdentityQuery", "Query",
                                           "Method",     "SetProperty",         "StaticMethod"};
    memset(out, 0, sizeof *out);
    int k = element_index(n, elements, sizeof elements / sizeof elements[0]);
    if (k < 0)
        return fail(p, "Unknown action %s.", (const char *)n->name);
    out->kind = (enum csom_action_kind)k;
    out->path = -1;
    if (!attr_long(n, "Id", &out->id))
        return fail(p, "An action has no valid Id.%s", NULL);
    if (out->kind != CSOM_ACT_STATIC_METHOD && !attr_long(n, "ObjectPathId", &out->path))
        return fail(p, "Action %s needs an ObjectPathId.", (const char *)n->name);
    out->name = attr_dup(n, "Name");
    out->type_id = attr_dup(n, "TypeId");
    bool named = out->kind == CSOM_ACT_METHOD || out->kind == CSOM_ACT_SET_PROPERTY ||
                 out->kind == CSOM_ACT_STATIC_METHOD;
    if (named && (!out->name || !*out->name))
        return fail(p, "Action %s needs a Name.", (const char *)n->name);
    if (out->kind == CSOM_ACT_STATIC_METHOD && (!out->type_id || !*out->type_id))
        return fail(p, "Action %s needs a TypeId.", (const char *)n->name);
    if (out->kind == CSOM_ACT_SET_PROPERTY) {
        out->params = cJSON_CreateArray();
        for (const xmlNode *c = n->children; c; c = c->next)
            if (is(c, "Parameter")) {
                cJSON *v = value(p, c, 0);
                if (!v)
                    return false;
                cJSON_AddItemToArray(out->params, v);
            }
        if (cJSON_GetArraySize(out->params) != 1)
            return fail(p, "SetProperty needs one Parameter.%s", NULL);
        return true;
    }
    out->params = parameters(p, n);
    if (!out->params)
        return false;
    if (out->kind == CSOM_ACT_QUERY)
        for (const xmlNode *c = n->children; c; c = c->next) {
            if (is(c, "Query") && !select_of(p, c, &out->select))
                return false;
            if (is(c, "ChildItemQuery")) {
                out->has_child = true;
                if (!select_of(p, c, &out->child))
                    return false;
            }
        }
    return true;
}

static void select_finish(struct csom_select *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
}

void csom_request_finish(struct csom_request *r)
{
    for (size_t i = 0; i < r->npaths; i++) {
        free(r->paths[i].name);
        free(r->paths[i].type_id);
        cJSON_Delete(r->paths[i].params);
    }
    for (size_t i = 0; i < r->nactions; i++) {
        struct csom_action *a = &r->actions[i];
        free(a->name);
        free(a->type_id);
        cJSON_Delete(a->params);
        select_finish(&a->select);
        select_finish(&a->child);
    }
    free(r->paths);
    free(r->actions);
    memset(r, 0, sizeof *r);
}

const struct csom_path *csom_request_path(const struct csom_request *r, long id)
{
    for (size_t i = 0; i < r->npaths; i++)
        if (r->paths[i].id == id)
            return &r->paths[i];
    return NULL;
}

int csom_request_parse(const char *xml, size_t len, struct csom_request *out, char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    struct parse p = {err, cap, 0};
    if (len == 0 || len > LIMIT_SMALL_BODY || len > (size_t)INT32_MAX) {
        fail(&p, "The request body is empty or too large.%s", NULL);
        return -1;
    }
    enum xml_bounds_verdict v;
    xmlDocPtr doc = xml_bounds_read(xml, len, NULL, &v);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    bool ok = false;
    if (v != XML_BOUNDS_OK) {
        fail(&p, "The request is refused: %s.", xml_bounds_reason(v));
    } else if (!root) {
        fail(&p, "The request is not well-formed XML.%s", NULL);
    } else if (doc->intSubset || doc->extSubset) {
        fail(&p, "A document type declaration is not allowed.%s", NULL);
    } else if (!is(root, "Request")) {
        fail(&p, "The root element is not Request.%s", NULL);
    } else {
        ok = true;
        for (const xmlNode *sec = root->children; sec && ok; sec = sec->next) {
            bool actions = is(sec, "Actions"), paths = is(sec, "ObjectPaths");
            if (!actions && !paths)
                continue;
            for (const xmlNode *n = sec->children; n && ok; n = n->next) {
                if (n->type == XML_ENTITY_REF_NODE) {
                    ok = fail(&p, "Entities are not allowed.%s", NULL);
                    break;
                }
                if (n->type != XML_ELEMENT_NODE)
                    continue;
                if (!count(&p)) {
                    ok = false;
                    break;
                }
                if (actions) {
                    out->actions =
                        xrealloc(out->actions, (out->nactions + 1) * sizeof *out->actions);
                    ok = action_of(&p, n, &out->actions[out->nactions++]);
                } else {
                    out->paths = xrealloc(out->paths, (out->npaths + 1) * sizeof *out->paths);
                    ok = path_of(&p, n, &out->paths[out->npaths++]);
                }
            }
        }
    }
    for (size_t i = 0; ok && i < out->npaths; i++)
        for (size_t j = i + 1; ok && j < out->npaths; j++)
            if (out->paths[i].id == out->paths[j].id)
                ok = fail(&p, "Two object paths share an Id.%s", NULL);
    xmlFreeDoc(doc);
    if (!ok) {
        csom_request_finish(out);
        return -1;
    }
    return 0;
}
