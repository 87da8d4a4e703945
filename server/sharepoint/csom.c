/*
 * csom.c: evaluates ProcessQuery. Object paths are resolved on demand (in any order, loops
 * refused) into the objects this emulator has: the ClientContext, SP.Site, SP.Web, the web's
 * lists, a list, a folder, a file. Actions run in order; the first that fails ends the request
 * with ErrorInfo, as SharePoint does. Values use the protocol's encodings ("/Guid(...)/",
 * "/Date(...)/"). No SQL here: sp_model reads the content; SP.Site's other methods come from
 * csom_add_site_method.
 */
#include "csom.h"
#include "csom_request.h"
#include "sp_hresult.h"
#include "sp_model.h"
#include "strbuf.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CONTEXT_TYPE_ID  "{3747adcd-a3c3-41b9-bfab-4a64dd2f1e0a}"
#define IDENTITY_PREFIX  "740c6a0b-85e2-48a0-a494-e0f1759d4aa7"
#define SITE_METHODS_MAX 32

static struct {
    const char *name;
    csom_site_method_fn *fn;
} site_methods[SITE_METHODS_MAX];
static size_t n_site_methods;

void csom_add_site_method(const char *name, csom_site_method_fn *fn)
{
    if (n_site_methods < SITE_METHODS_MAX) {
        site_methods[n_site_methods].name = name;
        site_methods[n_site_methods++].fn = fn;
    }
}

enum kind { K_NONE, K_CONTEXT, K_SITE, K_WEB, K_LISTS, K_LIST, K_FOLDER, K_FILE };
static const char *type_name[] = {
    "",        "SP.ClientContext", "SP.Site", "SP.Web", "SP.ListCollection",
    "SP.List", "SP.Folder",        "SP.File"};

struct obj {
    enum kind kind;
    struct sp_model_list list; /* K_LIST */
    struct sp_model_item item; /* K_FOLDER, K_FILE */
};

struct eval {
    struct http_request *req;
    struct sp_call call;
    const struct csom_request *r;
    struct obj *objs; /* by index of r->paths */
    char *state;      /* 0 not yet, 1 resolving, 2 resolved */
    struct sp_error err;
};

static bool fail(struct eval *e, long code, const char *type, const char *fmt, const char *arg)
{
    e->err.status = 200;
    e->err.hresult = code;
    e->err.type = type;
    snprintf(e->err.message, sizeof e->err.message, fmt, arg ? arg : "");
    return false;
}

static bool unknown_member(struct eval *e, const char *name)
{
    return fail(e, SP_HRESULT_CLIENT_QUERY,
                "Microsoft.SharePoint.Client.InvalidClientQueryException",
                "Field or property \"%s\" does not exist.", name);
}

static const char *param_str(const cJSON *params, int i)
{
    const cJSON *v = cJSON_GetArrayItem(params, i);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- values ---- */

/*
 * The protocol's encoded values are strings between escaped slashes ("\/Guid(...)\/"), which
 * is how clients tell them from text. cJSON writes '/' as it is, so they are made with a
 * marker byte (0x01, which cJSON writes as \u0001 and no name or title may hold) that
 * reply() turns into "\/".
 */
#define MARK      "\x01"
#define MARK_JSON "\\u0001"

static cJSON *encoded(const char *kind, const char *inner)
{
    char *s = xasprintf(MARK "%s(%s)" MARK, kind, inner);
    cJSON *v = cJSON_CreateString(s);
    free(s);
    return v;
}

cJSON *csom_guid(const char *uuid)
{
    return encoded("Guid", uuid);
}

cJSON *csom_base64(const char *b64)
{
    return encoded("Base64Binary", b64);
}

static cJSON *guid(const char *uuid)
{
    return csom_guid(uuid);
}

static cJSON *date(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[80];
    snprintf(buf, sizeof buf, "%d,%d,%d,%d,%d,%d,%d", tm.tm_year + 1900, tm.tm_mon, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return encoded("Date", buf);
}

static char *identity(const struct eval *e, const struct obj *o)
{
    const struct sp_model_site *s = &e->call.site;
    switch (o->kind) {
    case K_SITE:
        return xasprintf(IDENTITY_PREFIX "|740c6a0b-85e2-48a0-a494-e0f1759d4aa7:site:%s", s->uuid);
    case K_WEB:
        return xasprintf(IDENTITY_PREFIX "|740c6a0b-85e2-48a0-a494-e0f1759d4aa7:site:%s:web:%s",
                         s->uuid, s->web_uuid);
    case K_LIST:
        return xasprintf(IDENTITY_PREFIX
                         "|740c6a0b-85e2-48a0-a494-e0f1759d4aa7:site:%s:web:%s:list:%s",
                         s->uuid, s->web_uuid, o->list.uuid);
    case K_FOLDER:
    case K_FILE:
        return xasprintf(IDENTITY_PREFIX "|740c6a0b-85e2-48a0-a494-e0f1759d4aa7:site:%s:web:%s:"
                                         "%s:%s",
                         s->uuid, s->web_uuid, o->kind == K_FILE ? "file" : "folder", o->item.uuid);
    default:
        return NULL;
    }
}

/* The scalar properties of each kind, all of them answered to SelectAllProperties. */
static const char *const props_site[] = {"Id", "Url", "ServerRelativeUrl", NULL};
static const char *const props_web[] = {"Id", "Title", "Url", "ServerRelativeUrl", NULL};
static const char *const props_list[] = {
    "Id", "Title", "ItemCount", "BaseTemplate", "Created", "LastItemModifiedDate", NULL};
static const char *const props_item[] = {
    "UniqueId", "Name", "ServerRelativeUrl", "Exists", "TimeCreated", "TimeLastModified", NULL};
static const char *const props_file[] = {
    "UniqueId",       "Name",        "ServerRelativeUrl", "Exists", "Length",
    "UIVersionLabel", "TimeCreated", "TimeLastModified",  NULL};

static const char *const *props_of(enum kind k)
{
    switch (k) {
    case K_SITE:
        return props_site;
    case K_WEB:
        return props_web;
    case K_LIST:
        return props_list;
    case K_FOLDER:
        return props_item;
    case K_FILE:
        return props_file;
    default:
        return NULL;
    }
}

/* The absolute URL of a server-relative one. */
static cJSON *absolute(struct eval *e, const char *rel)
{
    char *b = sp_call_base_url(e->req);
    char *u = xasprintf("%s%s", b, strcmp(rel, "/") ? rel : "");
    free(b);
    cJSON *v = cJSON_CreateString(u);
    free(u);
    return v;
}

/* Adds property name of o to out; false (err set) when o has no such property. */
static bool add_prop(struct eval *e, const struct obj *o, const char *name, cJSON *out)
{
    const struct sp_model_site *s = &e->call.site;
    cJSON *v = NULL;
    switch (o->kind) {
    case K_SITE:
    case K_WEB: {
        bool web = o->kind == K_WEB;
        if (!strcmp(name, "Id"))
            v = guid(web ? s->web_uuid : s->uuid);
        else if (web && !strcmp(name, "Title"))
            v = cJSON_CreateString(s->title ? s->title : "");
        else if (!strcmp(name, "Url"))
            v = absolute(e, s->url);
        else if (!strcmp(name, "ServerRelativeUrl"))
            v = cJSON_CreateString(s->url);
        break;
    }
    case K_LIST:
        if (!strcmp(name, "Id"))
            v = guid(o->list.uuid);
        else if (!strcmp(name, "Title"))
            v = cJSON_CreateString(o->list.title);
        else if (!strcmp(name, "ItemCount"))
            v = cJSON_CreateNumber((double)o->list.item_count);
        else if (!strcmp(name, "BaseTemplate"))
            v = cJSON_CreateNumber(o->list.base_template);
        else if (!strcmp(name, "Created"))
            v = date(o->list.created_ms);
        else if (!strcmp(name, "LastItemModifiedDate"))
            v = date(o->list.modified_ms);
        break;
    case K_FOLDER:
    case K_FILE:
        if (!strcmp(name, "UniqueId"))
            v = guid(o->item.uuid);
        else if (!strcmp(name, "Name"))
            v = cJSON_CreateString(o->item.name);
        else if (!strcmp(name, "ServerRelativeUrl"))
            v = cJSON_CreateString(o->item.path);
        else if (!strcmp(name, "Exists"))
            v = cJSON_CreateTrue();
        else if (!strcmp(name, "TimeCreated"))
            v = date(o->item.created_ms);
        else if (!strcmp(name, "TimeLastModified"))
            v = date(o->item.modified_ms);
        else if (o->kind == K_FILE && !strcmp(name, "Length"))
            v = cJSON_CreateNumber((double)o->item.size);
        else if (o->kind == K_FILE && !strcmp(name, "UIVersionLabel"))
            v = cJSON_CreateString(o->item.version ? o->item.version : "1.0");
        break;
    default:
        break;
    }
    if (!v)
        return unknown_member(e, name);
    cJSON_AddItemToObject(out, name, v);
    return true;
}

/* o as a Query answers it: type, identity, and the selected properties. */
static cJSON *object_json(struct eval *e, const struct obj *o, const struct csom_select *sel)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "_ObjectType_", type_name[o->kind]);
    char *id = identity(e, o);
    if (id)
        cJSON_AddStringToObject(out, "_ObjectIdentity_", id);
    free(id);
    const char *const *all = props_of(o->kind);
    if (sel->all && all)
        for (size_t i = 0; all[i]; i++)
            add_prop(e, o, all[i], out);
    for (size_t i = 0; i < sel->n; i++) {
        if (cJSON_GetObjectItemCaseSensitive(out, sel->names[i]))
            continue;
        if (!add_prop(e, o, sel->names[i], out)) {
            cJSON_Delete(out);
            return NULL;
        }
    }
    return out;
}

/* ---- object paths ---- */

static void obj_finish(struct obj *o)
{
    sp_model_list_finish(&o->list);
    sp_model_item_finish(&o->item);
    memset(o, 0, sizeof *o);
}

static bool item_at(struct eval *e, const char *url, bool folder, struct obj *out)
{
    if (!url)
        return fail(e, SP_HRESULT_INVALID_ARG, "System.ArgumentException",
                    "The URL parameter is missing.%s", NULL);
    if (sp_model_item_by_path(url, &out->item) != SP_MODEL_OK || out->item.is_folder != folder ||
        strncasecmp(out->item.path, e->call.site.url, strlen(e->call.site.url)) != 0) {
        sp_model_item_finish(&out->item);
        return fail(e, SP_HRESULT_FILE_NOT_FOUND, "System.IO.FileNotFoundException",
                    "File Not Found.%s", NULL);
    }
    out->kind = folder ? K_FOLDER : K_FILE;
    return true;
}

static bool resolve(struct eval *e, long id, const struct obj **out);

static bool resolve_child(struct eval *e, const struct csom_path *p, struct obj *o)
{
    const struct obj *parent;
    if (!resolve(e, p->parent, &parent))
        return false;
    const char *n = p->name;
    if (p->kind == CSOM_PATH_PROPERTY) {
        if (parent->kind == K_CONTEXT && !strcmp(n, "Site"))
            o->kind = K_SITE;
        else if ((parent->kind == K_CONTEXT && !strcmp(n, "Web")) ||
                 (parent->kind == K_SITE && !strcmp(n, "RootWeb")))
            o->kind = K_WEB;
        else if (parent->kind == K_WEB && !strcmp(n, "Lists"))
            o->kind = K_LISTS;
        else if (parent->kind == K_LIST && !strcmp(n, "RootFolder"))
            return item_at(e, parent->list.root_url, true, o);
        else if (parent->kind == K_WEB && !strcmp(n, "RootFolder"))
            return item_at(e, e->call.site.url, true, o);
        else
            return unknown_member(e, n);
        return true;
    }
    /* A method path. */
    if (parent->kind == K_LISTS && (!strcmp(n, "GetByTitle") || !strcmp(n, "GetById"))) {
        const char *arg = param_str(p->params, 0);
        int rc = !arg                       ? SP_MODEL_NOT_FOUND
                 : !strcmp(n, "GetByTitle") ? sp_model_list_by_title(e->call.site.id, arg, &o->list)
                                            : sp_model_list_by_uuid(arg, &o->list);
        if (rc != SP_MODEL_OK || o->list.site_id != e->call.site.id) {
            sp_model_list_finish(&o->list);
            char msg[300];
            snprintf(msg, sizeof msg, "List '%.100s' does not exist at site with URL '%.150s'.",
                     arg ? arg : "", e->call.site.url);
            return fail(e, SP_HRESULT_LIST_NOT_FOUND, "System.ArgumentException", "%s", msg);
        }
        o->kind = K_LIST;
        return true;
    }
    if (parent->kind == K_WEB && !strcmp(n, "GetFolderByServerRelativeUrl"))
        return item_at(e, param_str(p->params, 0), true, o);
    if (parent->kind == K_WEB && !strcmp(n, "GetFileByServerRelativeUrl"))
        return item_at(e, param_str(p->params, 0), false, o);
    return unknown_member(e, n);
}

static bool resolve(struct eval *e, long id, const struct obj **out)
{
    const struct csom_path *p = csom_request_path(e->r, id);
    if (!p) {
        char num[24];
        snprintf(num, sizeof num, "%ld", id);
        return fail(e, SP_HRESULT_CLIENT_QUERY,
                    "Microsoft.SharePoint.Client.InvalidClientQueryException",
                    "The object path %s is not in the request.", num);
    }
    size_t i = (size_t)(p - e->r->paths);
    if (e->state[i] == 2) {
        *out = &e->objs[i];
        return true;
    }
    if (e->state[i] == 1)
        return fail(e, SP_HRESULT_CLIENT_QUERY,
                    "Microsoft.SharePoint.Client.InvalidClientQueryException",
                    "The object paths refer to each other in a loop.%s", NULL);
    e->state[i] = 1;
    struct obj *o = &e->objs[i];
    bool ok;
    switch (p->kind) {
    case CSOM_PATH_STATIC_PROPERTY:
        ok = !strcasecmp(p->type_id, CONTEXT_TYPE_ID) && !strcmp(p->name, "Current");
        if (ok)
            o->kind = K_CONTEXT;
        else
            ok = unknown_member(e, p->name);
        break;
    case CSOM_PATH_PROPERTY:
    case CSOM_PATH_METHOD:
        ok = resolve_child(e, p, o);
        break;
    default:
        ok = fail(e, SP_HRESULT_CLIENT_QUERY,
                  "Microsoft.SharePoint.Client.InvalidClientQueryException",
                  "This kind of object path (identity, constructor, static method) is not "
                  "supported.%s",
                  NULL);
        break;
    }
    if (!ok) {
        obj_finish(o);
        e->state[i] = 0;
        return false;
    }
    e->state[i] = 2;
    *out = o;
    return true;
}

/* ---- actions ---- */

struct lists_ctx {
    struct eval *e;
    const struct csom_select *sel;
    cJSON *items;
    bool ok;
};

static void add_list(void *ctx, const struct sp_model_list *l)
{
    struct lists_ctx *c = ctx;
    if (!c->ok)
        return;
    struct obj o = {.kind = K_LIST, .list = *l};
    cJSON *j = object_json(c->e, &o, c->sel);
    if (!j)
        c->ok = false;
    else
        cJSON_AddItemToArray(c->items, j);
}

static cJSON *query(struct eval *e, const struct csom_action *a, const struct obj *o)
{
    if (o->kind == K_LISTS) {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "_ObjectType_", type_name[K_LISTS]);
        struct lists_ctx c = {e, &a->child, cJSON_AddArrayToObject(out, "_Child_Items_"), true};
        sp_model_list_each(e->call.site.id, add_list, &c);
        if (!c.ok) {
            cJSON_Delete(out);
            return NULL;
        }
        return out;
    }
    if (o->kind == K_CONTEXT) {
        unknown_member(e, "ClientContext");
        return NULL;
    }
    return object_json(e, o, &a->select);
}

/* Runs one action; *value receives what it answers (NULL: nothing). */
static bool act(struct eval *e, const struct csom_action *a, cJSON **value)
{
    *value = NULL;
    const struct obj *o = NULL;
    if (a->kind == CSOM_ACT_STATIC_METHOD)
        return unknown_member(e, a->name);
    if (!resolve(e, a->path, &o))
        return false;
    switch (a->kind) {
    case CSOM_ACT_OBJECT_PATH:
        *value = cJSON_CreateObject();
        cJSON_AddFalseToObject(*value, "IsNull");
        return true;
    case CSOM_ACT_IDENTITY_QUERY: {
        char *id = identity(e, o);
        if (!id)
            return unknown_member(e, "_ObjectIdentity_");
        *value = cJSON_CreateObject();
        cJSON_AddStringToObject(*value, "_ObjectType_", type_name[o->kind]);
        cJSON_AddStringToObject(*value, "_ObjectIdentity_", id);
        free(id);
        return true;
    }
    case CSOM_ACT_QUERY:
        *value = query(e, a, o);
        return *value != NULL;
    case CSOM_ACT_METHOD:
        if (o->kind == K_SITE)
            for (size_t i = 0; i < n_site_methods; i++)
                if (!strcmp(site_methods[i].name, a->name))
                    return site_methods[i].fn(&e->call, a->params, value, &e->err) == 0;
        return unknown_member(e, a->name);
    default:
        return fail(e, SP_HRESULT_CLIENT_QUERY,
                    "Microsoft.SharePoint.Client.InvalidClientQueryException",
                    "Setting properties is not supported.%s", NULL);
    }
}

static void reply(struct http_request *req, cJSON *arr)
{
    char *text = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    /* The markers of encoded values become escaped slashes (text only shrinks). */
    char *w = text;
    for (const char *r = text; *r;) {
        if (!strncmp(r, MARK_JSON, 6)) {
            *w++ = '\\';
            *w++ = '/';
            r += 6;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    http_reply(req, 200, "application/json; charset=utf-8", text, strlen(text));
}

static cJSON *header(struct http_request *req, const struct sp_error *err)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "SchemaVersion", "15.0.0.0");
    cJSON_AddStringToObject(h, "LibraryVersion", "16.0.0.0");
    if (err) {
        cJSON *ei = cJSON_AddObjectToObject(h, "ErrorInfo");
        cJSON_AddStringToObject(ei, "ErrorMessage", err->message);
        cJSON_AddNullToObject(ei, "ErrorValue");
        cJSON_AddStringToObject(ei, "TraceCorrelationId", req->request_id);
        cJSON_AddNumberToObject(ei, "ErrorCode", (double)err->hresult);
        cJSON_AddStringToObject(ei, "ErrorTypeName", err->type);
    } else {
        cJSON_AddNullToObject(h, "ErrorInfo");
    }
    cJSON_AddStringToObject(h, "TraceCorrelationId", req->request_id);
    return h;
}

void csom_process(struct http_request *req, const struct sp_auth_principal *who,
                  const char *site_url)
{
    struct eval e = {.req = req, .call = {.who = *who, .host = http_header(req, "Host")}};
    struct csom_request r;
    char why[300];
    if (csom_request_parse(req->body.data, req->body.len, &r, why, sizeof why) < 0) {
        struct sp_error err;
        sp_error_set(&err, 200, SP_HRESULT_CLIENT_QUERY,
                     "Microsoft.SharePoint.Client.InvalidClientQueryException", why);
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, header(req, &err));
        reply(req, arr);
        return;
    }
    e.r = &r;
    e.objs = xcalloc(r.npaths + 1, sizeof *e.objs);
    e.state = xcalloc(r.npaths + 1, 1);
    bool ok = sp_model_site_get(site_url, &e.call.site) == SP_MODEL_OK;
    if (!ok)
        fail(&e, SP_HRESULT_FILE_NOT_FOUND, "System.IO.FileNotFoundException",
             "The site does not exist.%s", NULL);
    else if (!sp_auth_can_read_site(who, e.call.site.id))
        ok = fail(&e, SP_HRESULT_ACCESS_DENIED, "System.UnauthorizedAccessException",
                  "Access denied. You do not have permission to perform this action or access "
                  "this resource.%s",
                  NULL);
    cJSON *results = cJSON_CreateArray();
    for (size_t i = 0; ok && i < r.nactions; i++) {
        cJSON *v = NULL;
        ok = act(&e, &r.actions[i], &v);
        if (ok && v) {
            cJSON_AddItemToArray(results, cJSON_CreateNumber((double)r.actions[i].id));
            cJSON_AddItemToArray(results, v);
        }
    }
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, header(req, ok ? NULL : &e.err));
    if (ok) {
        cJSON *it;
        while ((it = cJSON_DetachItemFromArray(results, 0)))
            cJSON_AddItemToArray(arr, it);
    }
    cJSON_Delete(results);
    for (size_t i = 0; i < r.npaths; i++)
        obj_finish(&e.objs[i]);
    free(e.objs);
    free(e.state);
    sp_model_site_finish(&e.call.site);
    csom_request_finish(&r);
    reply(req, arr);
}
