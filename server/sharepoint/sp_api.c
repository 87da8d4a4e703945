/*
 * sp_api.c: the SharePoint listener. Authenticates the bearer token, finds the site the URL
 * names, parses the REST path once and routes it: the read API and library creation here,
 * everything else through the route table (sp_routes) that subsystems fill at start, so it
 * names none of them. Shapes come from odata.c; content from sp_model. It keeps no state
 * between requests.
 */
#include "sp_api.h"
#include "json_in.h"
#include "audit.h"
#include "clock.h"
#include "faults.h"
#include "log.h"
#include "csom.h"
#include "odata.h"
#include "sp_call.h"
#include "sp_routes.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "/sites/hr" + "/_api/" + tail, absolute. */
static char *api_uri(struct http_request *req, const struct sp_model_site *s, const char *tail)
{
    char *b = sp_call_base_url(req);
    char *u = xasprintf("%s%s/_api/%s", b, strcmp(s->url, "/") ? s->url : "", tail);
    free(b);
    return u;
}

/* ---- the types served, as $select, $filter, $orderby and $expand see them ---- */

static const char *const web_props[] = {"Id",      "Title",     "Url", "ServerRelativeUrl",
                                        "Created", "UIVersion", NULL};
static const char *const web_navs[] = {"RootFolder", "Lists", NULL};
static const struct odata_type web_type = {"SP.Web", web_props, web_navs, false};
static const char *const site_props[] = {"Id", "Url", "ServerRelativeUrl", NULL};
static const char *const site_navs[] = {"RootWeb", NULL};
static const struct odata_type site_type = {"SP.Site", site_props, site_navs, false};
static const char *const list_props[] = {
    "Id",        "Title",   "BaseTemplate",         "BaseType",
    "ItemCount", "Created", "LastItemModifiedDate", "ParentWebUrl",
    NULL};
static const char *const list_navs[] = {"RootFolder", "Items", NULL};
static const struct odata_type list_type = {"SP.List", list_props, list_navs, false};
static const char *const folder_props[] = {
    "Exists", "Name", "ServerRelativeUrl", "UniqueId", "TimeCreated", "TimeLastModified", NULL};
static const char *const folder_navs[] = {"Files", "Folders", "ListItemAllFields", NULL};
static const struct odata_type folder_type = {"SP.Folder", folder_props, folder_navs, false};
/* The web's root folder holds the libraries, which are not its children here. */
static const char *const no_navs[] = {NULL};
static const struct odata_type web_folder_type = {"SP.Folder", folder_props, no_navs, false};
static const char *const file_props[] = {"Exists",
                                         "Name",
                                         "ServerRelativeUrl",
                                         "UniqueId",
                                         "Length",
                                         "TimeCreated",
                                         "TimeLastModified",
                                         "UIVersionLabel",
                                         "UIVersion",
                                         "MajorVersion",
                                         "MinorVersion",
                                         "AuthorId",
                                         "ModifiedById",
                                         NULL};
static const char *const file_navs[] = {"Author", "ModifiedBy", "ListItemAllFields", "Versions",
                                        NULL};
static const struct odata_type file_type = {"SP.File", file_props, file_navs, false};
static const char *const item_props[] = {"Id",
                                         "ID",
                                         "GUID",
                                         "UniqueId",
                                         "FileLeafRef",
                                         "FileRef",
                                         "FileDirRef",
                                         "FSObjType",
                                         "Created",
                                         "Modified",
                                         "AuthorId",
                                         "EditorId",
                                         "File_x0020_Size",
                                         "OData__UIVersionString",
                                         NULL};
static const char *const item_navs[] = {"Author", "Editor", "File", "Folder", NULL};
static const struct odata_type item_type = {"SP.ListItem", item_props, item_navs, true};
static const char *const version_props[] = {"ID",      "VersionLabel", "IsCurrentVersion", "Size",
                                            "Created", "CreatedById",  "CheckInComment",   NULL};
static const struct odata_type version_type = {"SP.FileVersion", version_props, no_navs, false};
static const char *const user_props[] = {"Id", "Title", "LoginName", "EMail", NULL};
static const struct odata_type user_type = {"SP.User", user_props, no_navs, false};

/* The request's options fit t (an entity, or a collection of t); otherwise the refusal is
 * sent. */
static bool options_fit(struct http_request *req, const struct sp_call *c,
                        const struct odata_type *t, bool collection)
{
    struct odq_error err;
    if (odata_query_check(c->odata, t, collection, &err) == 0)
        return true;
    odata_error(req, err.status, err.hresult, err.type, err.message);
    return false;
}

static bool expands(const struct sp_call *c, const char *nav)
{
    return odata_query_expands(c->odata, nav);
}

/* A server-relative path as the literal of a canonical address ("decodedurl='...'"). */
static char *path_address(const char *kind, const char *path)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    for (const char *p = path; *p; p++)
        strbuf_printf(&b, *p == '\'' ? "''" : "%c", *p);
    char *enc = query_encode_path(b.data ? b.data : "");
    char *tail = xasprintf("Web/%sByServerRelativePath(decodedurl='%s')", kind, enc);
    free(enc);
    strbuf_finish(&b);
    return tail;
}

/* Adds the navigation properties of t that obj does not expand as deferred links (verbose
 * only, as SharePoint gives them): {"__deferred":{"uri":"<uri>/<name>"}}. */
static void add_deferred(struct http_request *req, cJSON *obj, const struct odata_type *t)
{
    const cJSON *uri = cJSON_GetObjectItemCaseSensitive(obj, "__uri");
    if (odata_mode(req) != ODATA_VERBOSE || !cJSON_IsString(uri))
        return;
    /* a file item has no Folder, a folder item no File */
    const cJSON *kind = t->items ? cJSON_GetObjectItemCaseSensitive(obj, "FSObjType") : NULL;
    const char *none = !kind ? NULL : kind->valueint ? "File" : "Folder";
    for (size_t i = 0; t->navs[i]; i++) {
        if (cJSON_GetObjectItemCaseSensitive(obj, t->navs[i]) ||
            (none && strcmp(t->navs[i], none) == 0))
            continue;
        cJSON *d = cJSON_AddObjectToObject(obj, t->navs[i]);
        char *u = xasprintf("%s/%s", uri->valuestring, t->navs[i]);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(d, "__deferred"), "uri", u);
        free(u);
    }
}

/* ---- JSON of the model ---- */

static void add_time(cJSON *o, const char *name, int64_t ms)
{
    char t[TIMEFMT_BUF];
    timefmt_iso8601(ms, t);
    cJSON_AddStringToObject(o, name, t);
}

static void add_int64_string(cJSON *o, const char *name, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    cJSON_AddStringToObject(o, name, b);
}

static void add_hints(struct http_request *req, const struct sp_call *c, cJSON *o, const char *type,
                      const char *tail, const char *etag)
{
    cJSON_AddStringToObject(o, "__type", type);
    if (tail) {
        char *uri = api_uri(req, &c->site, tail);
        cJSON_AddStringToObject(o, "__uri", uri);
        free(uri);
    }
    if (etag)
        cJSON_AddStringToObject(o, "__etag", etag);
}

static void parse_label(const char *label, int *major, int *minor)
{
    *major = *minor = 0;
    if (label)
        sscanf(label, "%d.%d", major, minor);
}

static cJSON *item_json(struct http_request *req, const struct sp_call *c,
                        const struct sp_model_item *i, const char *list_uuid);

/* The web's root folder (not an item of any library). */
static cJSON *web_root_folder_json(struct http_request *req, const struct sp_call *c)
{
    const struct sp_model_site *s = &c->site;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "Exists", true);
    cJSON_AddStringToObject(o, "Name", "");
    cJSON_AddStringToObject(o, "ServerRelativeUrl", s->url);
    cJSON_AddStringToObject(o, "UniqueId", s->root_folder_uuid);
    add_time(o, "TimeCreated", s->created_ms);
    add_time(o, "TimeLastModified", s->created_ms);
    add_hints(req, c, o, "SP.Folder", "Web/RootFolder", NULL);
    return o;
}

static void collect_list(void *ctx, const struct sp_model_list *l);

struct collect {
    struct http_request *req;
    const struct sp_call *call;
    cJSON *arr;
    int last;
    unsigned count;
};

static cJSON *web_json(struct http_request *req, const struct sp_call *c)
{
    const struct sp_model_site *s = &c->site;
    cJSON *o = cJSON_CreateObject();
    char *b = sp_call_base_url(req);
    char *full = xasprintf("%s%s", b, strcmp(s->url, "/") ? s->url : "");
    cJSON_AddStringToObject(o, "Id", s->web_uuid);
    cJSON_AddStringToObject(o, "Title", s->title);
    cJSON_AddStringToObject(o, "Url", full);
    cJSON_AddStringToObject(o, "ServerRelativeUrl", s->url);
    add_time(o, "Created", s->created_ms);
    cJSON_AddNumberToObject(o, "UIVersion", 15);
    if (expands(c, "RootFolder"))
        cJSON_AddItemToObject(o, "RootFolder", web_root_folder_json(req, c));
    if (expands(c, "Lists")) {
        struct collect col = {req, c, cJSON_AddArrayToObject(o, "Lists"), 0, 0};
        sp_model_list_each(s->id, collect_list, &col);
    }
    add_hints(req, c, o, "SP.Web", "Web", NULL);
    free(full);
    free(b);
    return o;
}

static cJSON *folder_json(struct http_request *req, const struct sp_call *c,
                          const struct sp_model_item *i, bool nested);
static cJSON *file_json(struct http_request *req, const struct sp_call *c,
                        const struct sp_model_item *i, bool nested);

static void collect_child(void *ctx, const struct sp_model_item *i)
{
    struct collect *col = ctx;
    cJSON_AddItemToArray(col->arr, i->is_folder ? folder_json(col->req, col->call, i, true)
                                                : file_json(col->req, col->call, i, true));
}

/* nested: an entity inside another's answer, whose own navigation properties stay deferred. */
static cJSON *folder_json(struct http_request *req, const struct sp_call *c,
                          const struct sp_model_item *i, bool nested)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "Exists", true);
    cJSON_AddStringToObject(o, "Name", i->name);
    cJSON_AddStringToObject(o, "ServerRelativeUrl", i->path);
    cJSON_AddStringToObject(o, "UniqueId", i->uuid);
    add_time(o, "TimeCreated", i->created_ms);
    add_time(o, "TimeLastModified", i->modified_ms);
    if (!nested) {
        if (expands(c, "Files") || expands(c, "Folders")) {
            for (int f = 0; f < 2; f++) {
                if (!expands(c, f ? "Folders" : "Files"))
                    continue;
                struct collect col = {req, c, cJSON_AddArrayToObject(o, f ? "Folders" : "Files"), 0,
                                      0};
                sp_model_folder_children(i->path, f, collect_child, &col);
            }
        }
        if (expands(c, "ListItemAllFields") && i->int_id > 0)
            cJSON_AddItemToObject(o, "ListItemAllFields", item_json(req, c, i, NULL));
    }
    char *tail = path_address("GetFolder", i->path);
    add_hints(req, c, o, "SP.Folder", tail, NULL);
    free(tail);
    return o;
}

static cJSON *user_json(int64_t id)
{
    struct sp_model_user u = {0};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "Id", (double)id);
    if (sp_model_user_get(id, &u) == SP_MODEL_OK) {
        cJSON_AddStringToObject(o, "Title", u.title ? u.title : u.login);
        cJSON_AddStringToObject(o, "LoginName", u.login);
        cJSON_AddStringToObject(o, "EMail", u.email ? u.email : "");
    }
    sp_model_user_finish(&u);
    cJSON_AddStringToObject(o, "__type", "SP.User");
    return o;
}

static void collect_version(void *ctx, const struct sp_model_version *v);

struct version_ctx {
    struct collect col;
    const char *file_tail;
};

static cJSON *file_json(struct http_request *req, const struct sp_call *c,
                        const struct sp_model_item *i, bool nested)
{
    cJSON *o = cJSON_CreateObject();
    int major, minor;
    parse_label(i->version, &major, &minor);
    cJSON_AddBoolToObject(o, "Exists", true);
    cJSON_AddStringToObject(o, "Name", i->name);
    cJSON_AddStringToObject(o, "ServerRelativeUrl", i->path);
    cJSON_AddStringToObject(o, "UniqueId", i->uuid);
    add_int64_string(o, "Length", i->size);
    add_time(o, "TimeCreated", i->created_ms);
    add_time(o, "TimeLastModified", i->modified_ms);
    cJSON_AddStringToObject(o, "UIVersionLabel", i->version ? i->version : "1.0");
    cJSON_AddNumberToObject(o, "UIVersion", major * 512 + minor);
    cJSON_AddNumberToObject(o, "MajorVersion", major);
    cJSON_AddNumberToObject(o, "MinorVersion", minor);
    cJSON_AddNumberToObject(o, "AuthorId", (double)i->author_id);
    cJSON_AddNumberToObject(o, "ModifiedById", (double)i->editor_id);
    char *tail = path_address("GetFile", i->path);
    if (!nested) {
        if (expands(c, "Author"))
            cJSON_AddItemToObject(o, "Author", user_json(i->author_id));
        if (expands(c, "ModifiedBy"))
            cJSON_AddItemToObject(o, "ModifiedBy", user_json(i->editor_id));
        if (expands(c, "ListItemAllFields"))
            cJSON_AddItemToObject(o, "ListItemAllFields", item_json(req, c, i, NULL));
        if (expands(c, "Versions")) {
            struct version_ctx v = {{req, c, cJSON_AddArrayToObject(o, "Versions"), 0, 0}, tail};
            sp_model_file_versions(i->id, collect_version, &v);
        }
    }
    /* A file's etag names its UniqueId and version, as SharePoint's does. */
    char *etag = xasprintf("\"{%s},%d\"", i->uuid, major * 512 + minor);
    for (char *p = etag; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    add_hints(req, c, o, "SP.File", tail, etag);
    free(etag);
    free(tail);
    return o;
}

/* The list a list item belongs to, for the item's canonical address. */
struct find_list {
    int64_t id;
    char uuid[SP_MODEL_UUID_LEN];
};

static void match_list(void *ctx, const struct sp_model_list *l)
{
    struct find_list *f = ctx;
    if (l->id == f->id)
        memcpy(f->uuid, l->uuid, sizeof f->uuid);
}

/* list_uuid: the item's list, NULL to look it up. */
static cJSON *item_json(struct http_request *req, const struct sp_call *c,
                        const struct sp_model_item *i, const char *list_uuid)
{
    cJSON *o = cJSON_CreateObject();
    char *dir = xstrdup(i->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    cJSON_AddNumberToObject(o, "Id", i->int_id);
    cJSON_AddNumberToObject(o, "ID", i->int_id);
    cJSON_AddStringToObject(o, "GUID", i->item_uuid);
    cJSON_AddStringToObject(o, "UniqueId", i->uuid);
    cJSON_AddStringToObject(o, "FileLeafRef", i->name);
    cJSON_AddStringToObject(o, "FileRef", i->path);
    cJSON_AddStringToObject(o, "FileDirRef", *dir ? dir : "/");
    cJSON_AddNumberToObject(o, "FSObjType", i->is_folder ? 1 : 0);
    add_time(o, "Created", i->created_ms);
    add_time(o, "Modified", i->modified_ms);
    cJSON_AddNumberToObject(o, "AuthorId", (double)i->author_id);
    cJSON_AddNumberToObject(o, "EditorId", (double)i->editor_id);
    if (!i->is_folder) {
        add_int64_string(o, "File_x0020_Size", i->size);
        cJSON_AddStringToObject(o, "OData__UIVersionString", i->version ? i->version : "1.0");
    }
    if (expands(c, "Author"))
        cJSON_AddItemToObject(o, "Author", user_json(i->author_id));
    if (expands(c, "Editor"))
        cJSON_AddItemToObject(o, "Editor", user_json(i->editor_id));
    if (expands(c, "File"))
        cJSON_AddItemToObject(o, "File",
                              i->is_folder ? cJSON_CreateNull() : file_json(req, c, i, true));
    if (expands(c, "Folder"))
        cJSON_AddItemToObject(o, "Folder",
                              i->is_folder ? folder_json(req, c, i, true) : cJSON_CreateNull());
    struct find_list f = {i->list_id, ""};
    if (list_uuid)
        snprintf(f.uuid, sizeof f.uuid, "%s", list_uuid);
    else
        sp_model_list_each(c->site.id, match_list, &f);
    char *tail = xasprintf("Web/Lists(guid'%s')/Items(%d)", f.uuid, i->int_id);
    int major, minor;
    parse_label(i->version, &major, &minor);
    char *etag = xasprintf("\"%d\"", i->is_folder || major < 1 ? 1 : major);
    add_hints(req, c, o, "SP.ListItem", f.uuid[0] ? tail : NULL, etag);
    free(etag);
    free(tail);
    free(dir);
    return o;
}

static cJSON *list_json(struct http_request *req, const struct sp_call *c,
                        const struct sp_model_list *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Id", l->uuid);
    cJSON_AddStringToObject(o, "Title", l->title);
    cJSON_AddNumberToObject(o, "BaseTemplate", l->base_template);
    cJSON_AddNumberToObject(o, "BaseType", l->base_template == 101 ? 1 : 0);
    cJSON_AddNumberToObject(o, "ItemCount", (double)l->item_count);
    add_time(o, "Created", l->created_ms);
    add_time(o, "LastItemModifiedDate", l->modified_ms);
    cJSON_AddStringToObject(o, "ParentWebUrl", c->site.url);
    if (expands(c, "RootFolder")) {
        struct sp_model_item root = {0};
        if (sp_model_item_by_path(l->root_url, &root) == SP_MODEL_OK)
            cJSON_AddItemToObject(o, "RootFolder", folder_json(req, c, &root, true));
        sp_model_item_finish(&root);
    }
    char *tail = xasprintf("Web/Lists(guid'%s')", l->uuid);
    add_hints(req, c, o, "SP.List", tail, NULL);
    free(tail);
    return o;
}

/* ---- answers ---- */

/* Sends one entity of type t: deferred links, $select, then the shape. */
static void send_entity(struct http_request *req, const struct sp_call *c,
                        const struct odata_type *t, unsigned status, cJSON *o)
{
    add_deferred(req, o, t);
    odata_query_select(c->odata, o);
    odata_entity(req, status, NULL, NULL, o);
}

struct sort_by {
    const struct odata_query *q;
    const char *tiebreak;
};

static int sort_cmp(const void *a, const void *b, void *ctx)
{
    const struct sort_by *by = ctx;
    return odata_query_compare(by->q, *(cJSON *const *)a, *(cJSON *const *)b, by->tiebreak);
}

/* Sorts arr by $orderby, then by the property tiebreak (NULL: ties keep no order, as
 * SharePoint promises none). */
static void sort_array(const struct odata_query *q, cJSON *arr, const char *tiebreak)
{
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (!q->norderby || n < 2)
        return;
    cJSON **v = xmalloc(n * sizeof *v);
    size_t k = 0;
    while (arr->child)
        v[k++] = cJSON_DetachItemViaPointer(arr, arr->child);
    struct sort_by by = {q, tiebreak};
    qsort_r(v, n, sizeof *v, sort_cmp, &by);
    for (k = 0; k < n; k++)
        cJSON_AddItemToArray(arr, v[k]);
    free(v);
}

/* Sends a collection of t held in memory: $filter, $orderby, $skip, $top, then deferred links
 * and $select on what is left. */
static void send_collection(struct http_request *req, const struct sp_call *c,
                            const struct odata_type *t, cJSON *arr)
{
    const struct odata_query *q = c->odata;
    cJSON *e = arr->child;
    unsigned skipped = 0, kept = 0;
    while (e) {
        cJSON *next = e->next;
        bool drop = !odata_query_match(q, e);
        if (drop)
            cJSON_Delete(cJSON_DetachItemViaPointer(arr, e));
        e = next;
    }
    sort_array(q, arr, NULL);
    e = arr->child;
    while (e) {
        cJSON *next = e->next;
        bool drop = false;
        if (q->has_skip && skipped < q->skip) {
            skipped++;
            drop = true;
        } else if (q->has_top && kept >= q->top) {
            drop = true;
        } else {
            kept++;
        }
        if (drop)
            cJSON_Delete(cJSON_DetachItemViaPointer(arr, e));
        else {
            add_deferred(req, e, t);
            odata_query_select(q, e);
        }
        e = next;
    }
    odata_collection(req, arr);
}

/* ---- routes ---- */

static bool seg_is(const struct sp_path *p, size_t i, const char *name)
{
    return i < p->n && strcasecmp(p->seg[i].name, name) == 0;
}

static void collect_list(void *ctx, const struct sp_model_list *l)
{
    struct collect *c = ctx;
    cJSON_AddItemToArray(c->arr, list_json(c->req, c->call, l));
}

static cJSON *version_json(struct http_request *req, const struct sp_call *c, const char *file_tail,
                           const struct sp_model_version *v)
{
    cJSON *o = cJSON_CreateObject();
    int id = v->major * 512 + v->minor;
    cJSON_AddNumberToObject(o, "ID", id);
    cJSON_AddStringToObject(o, "VersionLabel", v->label);
    cJSON_AddBoolToObject(o, "IsCurrentVersion", v->is_current);
    cJSON_AddNumberToObject(o, "Size", (double)v->size);
    add_time(o, "Created", v->created_ms);
    cJSON_AddNumberToObject(o, "CreatedById", (double)v->author_id);
    cJSON_AddStringToObject(o, "CheckInComment", v->comment ? v->comment : "");
    char *tail = xasprintf("%s/Versions(%d)", file_tail, id);
    add_hints(req, c, o, "SP.FileVersion", tail, NULL);
    free(tail);
    return o;
}

static void collect_version(void *ctx, const struct sp_model_version *v)
{
    struct version_ctx *vc = ctx;
    if (v->is_current)
        return; /* File/Versions lists the earlier versions only, as SharePoint does */
    cJSON_AddItemToArray(vc->col.arr, version_json(vc->col.req, vc->col.call, vc->file_tail, v));
}

/* Sends the bytes of a file version; takes its inline bytes, if any. */
static void send_content(struct http_request *req, struct sp_model_version *v)
{
    if (!v->extent[0]) {
        http_reply(req, 200, "application/octet-stream", (char *)v->data, (size_t)v->size);
        v->data = NULL;
        return;
    }
    int fd = store_files_open(v->extent);
    if (fd < 0) {
        odata_error(req, 500, SP_HRESULT_FAIL, "System.IO.IOException",
                    "The file's content could not be read.");
        return;
    }
    http_reply_fd(req, 200, fd, 0, v->size);
    http_set_header(req, "Content-Type", "application/octet-stream");
}

/* A key that must be a non-negative integer ("Items(12)", "Versions(512)"); -1 if it is not. */
static long int_key(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n > 10 || strspn(s, "0123456789") != n)
        return -1;
    long v = strtol(s, NULL, 10);
    return v > INT32_MAX ? -1 : v;
}

static bool refuse_bad_key(struct http_request *req, const char *what, const char *key)
{
    char msg[160];
    snprintf(msg, sizeof msg, "The key '%.64s' of %s is not valid: an integer is expected.",
             key ? key : "", what);
    odata_error(req, 400, SP_HRESULT_CLIENT_QUERY,
                "Microsoft.SharePoint.Client.InvalidClientQueryException", msg);
    return false;
}

static void user_route(struct http_request *req, struct sp_call *c, const struct sp_path *p,
                       size_t at, int64_t id)
{
    if (at != p->n)
        odata_bad_argument(req, "The user resource does not support this request.");
    else if (options_fit(req, c, &user_type, false))
        send_entity(req, c, &user_type, 200, user_json(id));
}

static void item_route(struct http_request *req, struct sp_call *c, const struct sp_path *p,
                       size_t at, const struct sp_model_item *it);
static void folder_route(struct http_request *req, struct sp_call *c, const struct sp_path *p,
                         size_t at, const struct sp_model_item *it);

static void versions_route(struct http_request *req, struct sp_call *c, const struct sp_path *p,
                           size_t at, const struct sp_model_item *it)
{
    char *file_tail = path_address("GetFile", it->path);
    if (at + 1 == p->n && !p->seg[at].has_parens) {
        if (options_fit(req, c, &version_type, true)) {
            struct version_ctx v = {{req, c, cJSON_CreateArray(), 0, 0}, file_tail};
            sp_model_file_versions(it->id, collect_version, &v);
            send_collection(req, c, &version_type, v.col.arr);
        }
        free(file_tail);
        return;
    }
    /* Versions/GetById(512)[/$value] or Versions(512)[/$value] */
    size_t key = at + (p->seg[at].has_parens ? 0 : 1);
    const struct sp_segment *g = key < p->n ? &p->seg[key] : NULL;
    const char *id =
        g && (g == &p->seg[at] || seg_is(p, key, "GetById")) ? sp_path_arg(g, "id", 0) : NULL;
    size_t rest = key + 1;
    long n = int_key(id);
    if (!g || !id || (rest < p->n && !(seg_is(p, rest, "$value") && rest + 1 == p->n))) {
        odata_bad_argument(req, "The versions resource does not support this request.");
    } else if (n < 0) {
        refuse_bad_key(req, "a file version", id);
    } else {
        char label[32];
        snprintf(label, sizeof label, "%ld.%ld", n / 512, n % 512);
        struct sp_model_version v = {0};
        if (sp_model_file_version(it->id, label, &v) != SP_MODEL_OK)
            odata_not_found(req, "Version not found.");
        else if (rest < p->n)
            send_content(req, &v);
        else if (options_fit(req, c, &version_type, false))
            send_entity(req, c, &version_type, 200, version_json(req, c, file_tail, &v));
        sp_model_version_finish(&v);
    }
    free(file_tail);
}

static void file_route(struct http_request *req, struct sp_call *c, const struct sp_path *p,
                       size_t at, const struct sp_model_item *it)
{
    if (at == p->n) {
        if (options_fit(req, c, &file_type, false))
            send_entity(req, c, &file_type, 200, file_json(req, c, it, false));
        return;
    }
    if (seg_is(p, at, "$value") && at + 1 == p->n) {
        struct sp_model_version v = {0};
        if (sp_model_file_version(it->id, NULL, &v) != SP_MODEL_OK)
            odata_not_found(req, NULL);
        else
            send_content(req, &v);
        sp_model_version_finish(&v);
        return;
    }
    if (seg_is(p, at, "Versions")) {
        versions_route(req, c, p, at, it);
        return;
    }
    if (seg_is(p, at, "ListItemAllFields")) {
        item_route(req, c, p, at + 1, it);
        return;
    }
    if (seg_is(p, at, "Author") || seg_is(p, at, "ModifiedBy")) {
        user_route(req, c, p, at + 1, seg_is(p, at, "Author") ? it->author_id : it->editor_id);
        return;
    }
    odata_bad_argument(req, "The file resource does not support this request.");
}

/* The folder or file at path (NULL: none), and what follows it from segment at; 404 when
 * nothing of that kind is there. */
static void entry_route(struct http_request *req, struct sp_call *c, const struct sp_path *p,
                        size_t at, const char *path, bool folder)
{
    struct sp_model_item it = {0};
    if (!path || sp_model_item_by_path(path, &it) != SP_MODEL_OK || it.is_folder != folder)
        odata_not_found(req, NULL);
    else if (folder)
        folder_route(req, c, p, at, &it);
    else
        file_route(req, c, p, at, &it);
    sp_model_item_finish(&it);
}

static void folder_route(struct http_request *req, struct sp_call *c, const struct sp_path *p,
                         size_t at, const struct sp_model_item *it)
{
    if (at == p->n) {
        if (options_fit(req, c, &folder_type, false))
            send_entity(req, c, &folder_type, 200, folder_json(req, c, it, false));
        return;
    }
    bool folders = seg_is(p, at, "Folders");
    if ((folders || seg_is(p, at, "Files")) && p->seg[at].has_parens) {
        /* Folders('name') / Files('name'): a child by its name */
        const char *name = sp_path_arg(&p->seg[at], "url", 0);
        if (!name)
            name = sp_path_arg(&p->seg[at], "name", -1);
        char *path =
            name && *name && !strchr(name, '/') ? xasprintf("%s/%s", it->path, name) : NULL;
        entry_route(req, c, p, at + 1, path, folders);
        free(path);
        return;
    }
    if ((folders || seg_is(p, at, "Files")) && at + 1 == p->n) {
        const struct odata_type *t = folders ? &folder_type : &file_type;
        if (!options_fit(req, c, t, true))
            return;
        struct collect col = {req, c, cJSON_CreateArray(), 0, 0};
        sp_model_folder_children(it->path, folders, collect_child, &col);
        send_collection(req, c, t, col.arr);
        return;
    }
    if (seg_is(p, at, "ListItemAllFields")) {
        if (it->int_id > 0)
            item_route(req, c, p, at + 1, it);
        else /* a library's root folder is no item */
            odata_not_found(req, "The root folder of a library is not a list item.");
        return;
    }
    odata_bad_argument(req, "The folder resource does not support this request.");
}

/* A list item (at: the segment after its key) and what hangs off it. */
static void item_route(struct http_request *req, struct sp_call *c, const struct sp_path *p,
                       size_t at, const struct sp_model_item *it)
{
    if (at == p->n) {
        if (options_fit(req, c, &item_type, false))
            send_entity(req, c, &item_type, 200, item_json(req, c, it, NULL));
    } else if (seg_is(p, at, "File") && !it->is_folder) {
        file_route(req, c, p, at + 1, it);
    } else if (seg_is(p, at, "Folder") && it->is_folder) {
        folder_route(req, c, p, at + 1, it);
    } else if (seg_is(p, at, "Author") || seg_is(p, at, "Editor")) {
        user_route(req, c, p, at + 1, seg_is(p, at, "Author") ? it->author_id : it->editor_id);
    } else {
        odata_bad_argument(req, "The list item resource does not support this request.");
    }
}

static void refuse_threshold(struct http_request *req)
{
    odata_error(req, 500, SP_HRESULT_THROTTLED, "Microsoft.SharePoint.SPQueryThrottledException",
                "The attempted operation is prohibited because it exceeds the list view "
                "threshold.");
}

/* The link to the page after item last: this page's options but the position. */
static char *next_link(struct http_request *req, const struct sp_call *c,
                       const struct sp_model_list *l, int last, unsigned top)
{
    struct strbuf q;
    strbuf_init(&q, 0);
    for (size_t i = 0; i < req->query.n; i++) {
        const char *n = req->query.pairs[i].name;
        if (strcasecmp(n, "$skiptoken") == 0 || strcasecmp(n, "$top") == 0)
            continue;
        char *en = query_encode(n), *ev = query_encode(req->query.pairs[i].value);
        strbuf_printf(&q, "&%s=%s", en, ev);
        free(en);
        free(ev);
    }
    char *tail = xasprintf("Web/Lists(guid'%s')/Items?%%24skiptoken=Paged%%3DTRUE%%26p_ID%%3D%d&"
                           "%%24top=%u%s",
                           l->uuid, last, top, q.data ? q.data : "");
    strbuf_finish(&q);
    char *next = api_uri(req, &c->site, tail);
    free(tail);
    return next;
}

/* Items read from the model at a time while a $filter looks for a page of matches. */
#define ITEM_SCAN_BATCH 500

struct item_scan {
    struct http_request *req;
    const struct sp_call *call;
    const char *list_uuid;
    cJSON *batch;
    int last;
    unsigned count;
};

static void scan_item(void *ctx, const struct sp_model_item *i)
{
    struct item_scan *s = ctx;
    cJSON_AddItemToArray(s->batch, item_json(s->req, s->call, i, s->list_uuid));
    s->last = i->int_id;
    s->count++;
}

/* Moves the items of src from the one after position (NULL: the first) into page until it
 * holds top; returns how many are left after the last one moved. */
static unsigned take_page(cJSON *src, cJSON *from, cJSON *page, unsigned top)
{
    unsigned taken = (unsigned)cJSON_GetArraySize(page), left = 0;
    for (cJSON *e = from; e;) {
        cJSON *next = e->next;
        if (taken < top) {
            cJSON_AddItemToArray(page, cJSON_DetachItemViaPointer(src, e));
            taken++;
        } else {
            left++;
        }
        e = next;
    }
    return left;
}

static void items_route(struct http_request *req, struct sp_call *c, const struct sp_model_list *l,
                        const struct sp_path *p, size_t at)
{
    /* Items(n), Items/GetById(n) */
    const struct sp_segment *key = NULL;
    if (at - 1 < p->n && p->seg[at - 1].has_parens)
        key = &p->seg[at - 1];
    else if (at < p->n && strcasecmp(p->seg[at].name, "GetById") == 0)
        key = &p->seg[at++];
    if (key) {
        const char *id = sp_path_arg(key, "id", 0);
        long n = int_key(id);
        struct sp_model_item it = {0};
        if (n < 0)
            refuse_bad_key(req, "a list item", id);
        else if (sp_model_item_by_int_id(l->id, (int)n, &it) != SP_MODEL_OK || n == 0)
            odata_error(req, 404, SP_HRESULT_INVALID_ARG, "System.ArgumentException",
                        "Item does not exist. It may have been deleted by another user.");
        else
            item_route(req, c, p, at, &it);
        sp_model_item_finish(&it);
        return;
    }
    if (at != p->n) {
        odata_bad_argument(req, "The items resource does not support this request.");
        return;
    }
    const struct odata_query *q = c->odata;
    if (!options_fit(req, c, &item_type, true))
        return;
    unsigned top = !q->has_top                      ? 100
                   : q->top > LIMIT_ODATA_ITEMS_TOP ? LIMIT_ODATA_ITEMS_TOP
                                                    : q->top;
    int after = q->has_skiptoken ? q->skiptoken_id : 0;
    cJSON *page = cJSON_CreateArray();
    char *next = NULL;
    if ((q->filter || q->norderby) && l->item_count > LIMIT_ODATA_VIEW_THRESHOLD) {
        cJSON_Delete(page);
        refuse_threshold(req);
        return;
    }
    if (q->norderby) {
        /* The whole (filtered) list, sorted, then the page after the token's item. */
        struct item_scan s = {req, c, l->uuid, cJSON_CreateArray(), 0, 0};
        sp_model_list_items(l->id, 0, LIMIT_ODATA_VIEW_THRESHOLD, scan_item, &s);
        cJSON *e = s.batch->child;
        while (e) {
            cJSON *nx = e->next;
            if (!odata_query_match(q, e))
                cJSON_Delete(cJSON_DetachItemViaPointer(s.batch, e));
            e = nx;
        }
        sort_array(q, s.batch, "Id");
        cJSON *from = s.batch->child;
        if (after > 0) {
            struct sp_model_item it = {0};
            cJSON *pos = sp_model_item_by_int_id(l->id, after, &it) == SP_MODEL_OK
                             ? item_json(req, c, &it, l->uuid)
                             : NULL;
            sp_model_item_finish(&it);
            if (!pos) {
                cJSON_Delete(s.batch);
                cJSON_Delete(page);
                odata_bad_argument(req, "The $skiptoken names an item that does not exist.");
                return;
            }
            while (from && odata_query_compare(q, from, pos, NULL) < 0)
                from = from->next;
            /* among equal keys, the order is by Id */
            while (from && odata_query_compare(q, from, pos, NULL) == 0 &&
                   cJSON_GetObjectItem(from, "Id")->valueint <= after)
                from = from->next;
            cJSON_Delete(pos);
        }
        unsigned left = top ? take_page(s.batch, from, page, top) : 0;
        cJSON *last = cJSON_GetArrayItem(page, cJSON_GetArraySize(page) - 1);
        if (left && last)
            next = next_link(req, c, l, cJSON_GetObjectItem(last, "Id")->valueint, top);
        cJSON_Delete(s.batch);
    } else {
        /* In the order of ids, from the token's position, in batches of one page. */
        bool full = false, more = top > 0;
        int pos = after;
        /* a filter may drop most of a batch: read at least a few hundred at a time */
        unsigned batch = q->filter && top < ITEM_SCAN_BATCH ? ITEM_SCAN_BATCH : top;
        while (more && !full) {
            struct item_scan s = {req, c, l->uuid, cJSON_CreateArray(), 0, 0};
            sp_model_list_items(l->id, pos, batch, scan_item, &s);
            more = s.count == batch;
            pos = s.last;
            cJSON *e = s.batch->child;
            while (e) {
                cJSON *nx = e->next;
                if (!odata_query_match(q, e))
                    cJSON_Delete(cJSON_DetachItemViaPointer(s.batch, e));
                e = nx;
            }
            take_page(s.batch, s.batch->child, page, top);
            cJSON_Delete(s.batch);
            full = (unsigned)cJSON_GetArraySize(page) == top;
        }
        cJSON *last = cJSON_GetArrayItem(page, cJSON_GetArraySize(page) - 1);
        if (full && last)
            next = next_link(req, c, l, cJSON_GetObjectItem(last, "Id")->valueint, top);
    }
    cJSON *e;
    cJSON_ArrayForEach(e, page)
    {
        add_deferred(req, e, &item_type);
        odata_query_select(q, e);
    }
    odata_collection_page(req, page, next);
    free(next);
}

static void list_route(struct http_request *req, struct sp_call *c, const struct sp_model_list *l,
                       const struct sp_path *p, size_t at)
{
    if (at == p->n) {
        if (options_fit(req, c, &list_type, false))
            send_entity(req, c, &list_type, 200, list_json(req, c, l));
        return;
    }
    if (seg_is(p, at, "RootFolder")) {
        struct sp_model_item root = {0};
        if (sp_model_item_by_path(l->root_url, &root) != SP_MODEL_OK)
            odata_not_found(req, NULL);
        else
            folder_route(req, c, p, at + 1, &root);
        sp_model_item_finish(&root);
        return;
    }
    if (seg_is(p, at, "Items")) {
        items_route(req, c, l, p, at + 1);
        return;
    }
    odata_bad_argument(req, "The list resource does not support this request.");
}

static void create_list(struct http_request *req, struct sp_call *c)
{
    if (!sp_call_require_manager(req, c))
        return;
    const cJSON *title = c->body ? cJSON_GetObjectItem(c->body, "Title") : NULL;
    const cJSON *tmpl = c->body ? cJSON_GetObjectItem(c->body, "BaseTemplate") : NULL;
    if (!cJSON_IsString(title) || !*title->valuestring) {
        odata_bad_argument(req, "A list needs a Title.");
        return;
    }
    int base = cJSON_IsNumber(tmpl) ? tmpl->valueint : 101;
    if (base != 101) {
        odata_bad_argument(req, "Only document libraries (BaseTemplate 101) are supported.");
        return;
    }
    struct sp_model_list l = {0};
    int rc = sp_model_list_create(c->site.id, title->valuestring, base, &l);
    if (rc == SP_MODEL_EXISTS)
        odata_error(req, 500, SP_HRESULT_LIST_EXISTS, "Microsoft.SharePoint.SPException",
                    "A list, survey, discussion board, or document library with the specified "
                    "title already exists in this Web site.  Please choose another title.");
    else if (rc == SP_MODEL_BAD_NAME)
        odata_bad_argument(req, "The list title holds characters SharePoint does not allow.");
    else if (rc != SP_MODEL_OK)
        odata_internal_error(req, "The list could not be created.");
    else
        send_entity(req, c, &list_type, 201, list_json(req, c, &l));
    sp_model_list_finish(&l);
}

/* The read API is GET (and HEAD) only; callers let their few writes through first. */
static bool read_method(struct http_request *req, const char *allowed)
{
    if (strcmp(req->method, "GET") == 0 || req->is_head)
        return true;
    odata_method_not_allowed(req, allowed);
    return false;
}

static void web_route(struct http_request *req, struct sp_call *c, const struct sp_path *p)
{
    size_t at = 1;
    bool lists = at + 1 == p->n && seg_is(p, at, "Lists") && !p->seg[at].has_parens;
    if (lists && strcmp(req->method, "POST") == 0) {
        create_list(req, c);
        return;
    }
    if (!read_method(req, lists ? "GET, HEAD, POST" : "GET, HEAD"))
        return;
    if (at == p->n) {
        if (options_fit(req, c, &web_type, false))
            send_entity(req, c, &web_type, 200, web_json(req, c));
        return;
    }
    if (seg_is(p, at, "RootFolder") && at + 1 == p->n) {
        if (options_fit(req, c, &web_folder_type, false))
            send_entity(req, c, &web_folder_type, 200, web_root_folder_json(req, c));
        return;
    }
    if (lists) {
        if (!options_fit(req, c, &list_type, true))
            return;
        struct collect col = {req, c, cJSON_CreateArray(), 0, 0};
        sp_model_list_each(c->site.id, collect_list, &col);
        send_collection(req, c, &list_type, col.arr);
        return;
    }
    struct sp_model_list l = {0};
    int rc = -1;
    size_t next = at + 1;
    if (seg_is(p, at, "Lists") && p->seg[at].has_parens) {
        const char *id = sp_path_arg(&p->seg[at], "id", 0);
        rc = id ? sp_model_list_by_uuid(id, &l) : SP_MODEL_NOT_FOUND;
    } else if (seg_is(p, at, "Lists") && next < p->n &&
               (seg_is(p, next, "GetByTitle") || seg_is(p, next, "GetById"))) {
        const char *v = sp_path_arg(&p->seg[next], NULL, 0);
        if (!v)
            v = sp_path_arg(&p->seg[next], "title", -1);
        if (!v)
            v = sp_path_arg(&p->seg[next], "id", -1);
        rc = !v                              ? SP_MODEL_NOT_FOUND
             : seg_is(p, next, "GetByTitle") ? sp_model_list_by_title(c->site.id, v, &l)
                                             : sp_model_list_by_uuid(v, &l);
        next++;
    } else if (seg_is(p, at, "GetFolderByServerRelativeUrl") ||
               seg_is(p, at, "GetFileByServerRelativeUrl") ||
               seg_is(p, at, "GetFolderByServerRelativePath") ||
               seg_is(p, at, "GetFileByServerRelativePath")) {
        const char *url = sp_path_arg(&p->seg[at], "serverRelativeUrl", 0);
        if (!url)
            url = sp_path_arg(&p->seg[at], "DecodedUrl", -1);
        bool folder = strncasecmp(p->seg[at].name, "GetFolder", 9) == 0;
        char *path = url ? xstrdup(url) : NULL;
        size_t n = path ? strlen(path) : 0;
        while (n > 1 && path[n - 1] == '/')
            path[--n] = '\0';
        entry_route(req, c, p, at + 1, path, folder);
        free(path);
        return;
    } else {
        odata_bad_argument(req, "The web resource does not support this request.");
        return;
    }
    if (rc != SP_MODEL_OK) {
        odata_error(req, 404, SP_HRESULT_LIST_NOT_FOUND, "System.ArgumentException",
                    "List does not exist at this site.");
        sp_model_list_finish(&l);
        return;
    }
    if (l.site_id != c->site.id) {
        odata_error(req, 404, SP_HRESULT_LIST_NOT_FOUND, "System.ArgumentException",
                    "List does not exist at this site.");
    } else {
        list_route(req, c, &l, p, next);
    }
    sp_model_list_finish(&l);
}

static void contextinfo(struct http_request *req, struct sp_call *c)
{
    cJSON *o = cJSON_CreateObject();
    char digest[96];
    char when[TIMEFMT_BUF];
    timefmt_iso8601(clock_now_ms(), when);
    snprintf(digest, sizeof digest, "0x%s,%s", req->request_id, when);
    char *b = sp_call_base_url(req);
    char *web = xasprintf("%s%s", b, strcmp(c->site.url, "/") ? c->site.url : "");
    cJSON_AddNumberToObject(o, "FormDigestTimeoutSeconds", 1800);
    cJSON_AddStringToObject(o, "FormDigestValue", digest);
    cJSON_AddStringToObject(o, "LibraryVersion", "16.0.0.0");
    cJSON_AddStringToObject(o, "SiteFullUrl", web);
    cJSON_AddStringToObject(o, "WebFullUrl", web);
    free(web);
    free(b);
    odata_result(req, "GetContextWebInformation", "SP.ContextWebInformation", o);
}

static void site_route(struct http_request *req, struct sp_call *c, const struct sp_path *p)
{
    const struct sp_routes_method *m = p->n == 2 ? sp_routes_site_method(p->seg[1].name) : NULL;
    if (m) {
        c->seg = &p->seg[1];
        if (m->post_only && strcmp(req->method, "POST") != 0)
            odata_method_not_allowed(req, "POST");
        else
            m->fn(req, c);
        return;
    }
    /* The site and its root web are read here; any other name is an unknown method. */
    bool read = p->n == 1 || seg_is(p, 1, "RootWeb");
    if (read && !read_method(req, "GET, HEAD"))
        return;
    if (p->n == 1) {
        cJSON *o = cJSON_CreateObject();
        char *b = sp_call_base_url(req);
        char *full = xasprintf("%s%s", b, strcmp(c->site.url, "/") ? c->site.url : "");
        cJSON_AddStringToObject(o, "Id", c->site.uuid);
        cJSON_AddStringToObject(o, "Url", full);
        cJSON_AddStringToObject(o, "ServerRelativeUrl", c->site.url);
        free(full);
        free(b);
        add_hints(req, c, o, "SP.Site", "Site", NULL);
        if (options_fit(req, c, &site_type, false))
            send_entity(req, c, &site_type, 200, o);
        else
            cJSON_Delete(o);
        return;
    }
    if (seg_is(p, 1, "RootWeb") && p->n == 2) {
        if (options_fit(req, c, &web_type, false))
            send_entity(req, c, &web_type, 200, web_json(req, c));
        return;
    }
    odata_bad_argument(req, "The site resource does not support this request.");
}

/* Splits "/sites/hr/_api/web" into the site url ("/sites/hr") and the REST tail ("web").
 * Returns NULL when the path is not a REST call. */
static const char *split_api(const char *path, char **site_url)
{
    const char *api = strcasestr(path, "/_api");
    if (!api || (api[5] != '/' && api[5] != '\0'))
        return NULL;
    *site_url = api == path ? xstrdup("/") : xstrndup(path, (size_t)(api - path));
    return api[5] ? api + 6 : api + 5;
}

/* The site of a CSOM endpoint path (<site>/_vti_bin/client.svc/ProcessQuery), or NULL. */
static char *csom_site(const char *path)
{
    static const char tail[] = "/_vti_bin/client.svc/ProcessQuery";
    size_t n = strlen(path), t = sizeof tail - 1;
    if (n < t || strcasecmp(path + n - t, tail) != 0)
        return NULL;
    return n == t ? xstrdup("/") : xstrndup(path, n - t);
}

static void sp_begin(struct http_request *req)
{
    req->body_mode = HTTP_BODY_BUFFER;
    req->body_max = LIMIT_SMALL_BODY;
    sp_routes_prefix_raw(req->path, &req->body_max);
}

static cJSON *parse_body(struct http_request *req, bool *bad)
{
    *bad = false;
    if (!req->body.len)
        return NULL;
    const char *ct = http_header(req, "Content-Type");
    if (ct && !strstr(ct, "json"))
        return NULL;
    cJSON *b = json_in_parse(req->body.data, req->body.len);
    if (!b || !cJSON_IsObject(b)) {
        cJSON_Delete(b);
        *bad = true;
        return NULL;
    }
    return b;
}

/* SharePoint reads a POST that carries X-HTTP-Method as the method it names (clients that
 * cannot send MERGE, PUT or DELETE tunnel them so). Returns false, answered, when the header
 * names no such method. */
static bool method_override(struct http_request *req)
{
    static const char *const verbs[] = {"MERGE", "PUT", "PATCH", "DELETE"};
    const char *o = http_header(req, "X-HTTP-Method");
    if (!o || strcmp(req->method, "POST") != 0)
        return true;
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (strcasecmp(o, verbs[i]) == 0) {
            req->method = verbs[i];
            return true;
        }
    odata_error(req, 400, SP_HRESULT_CLIENT_QUERY,
                "Microsoft.SharePoint.Client.InvalidClientQueryException",
                "The X-HTTP-Method header names no method this POST may stand for (MERGE, PUT, "
                "PATCH or DELETE).");
    return false;
}

static void api_call(struct http_request *req, const struct sp_auth_principal *who,
                     const char *tail, const char *site_url, cJSON *body)
{
    if (!method_override(req))
        return;
    struct sp_call c = {.who = *who, .body = body, .host = http_header(req, "Host")};
    if (sp_model_site_get(site_url, &c.site) != SP_MODEL_OK) {
        odata_not_found(req, "The site does not exist.");
        return;
    }
    if (!sp_auth_can_read_site(who, c.site.id)) {
        audit_record("refused", c.site.url, "403: the user may not read the site");
        odata_access_denied(req);
        sp_model_site_finish(&c.site);
        return;
    }
    struct sp_path p;
    char err[160];
    if (sp_path_parse(tail, &req->query, &p, err, sizeof err) < 0) {
        odata_bad_argument(req, err);
        sp_model_site_finish(&c.site);
        return;
    }
    struct odata_query oq;
    struct odq_error qerr;
    if (odata_query_parse(&req->query, &oq, &qerr) < 0) {
        odata_error(req, qerr.status, qerr.hresult, qerr.type, qerr.message);
        sp_path_finish(&p);
        sp_model_site_finish(&c.site);
        return;
    }
    c.odata = &oq;
    /* The operation a fault rule may name: the last segment ("items", "GetMigrationJobStatus"). */
    struct fault_hit hit;
    if (p.n && faults_check(who->login, p.seg[p.n - 1].name, &hit)) {
        if (hit.status == 500) {
            odata_error(req, 500, SP_HRESULT_FAIL, "System.Exception",
                        "An injected failure (see /_emu/faults).");
        } else {
            odata_error(req, hit.status, SP_HRESULT_THROTTLED,
                        "Microsoft.SharePoint.SPQueryThrottledException",
                        hit.status == 429 ? "The request has been throttled (see /_emu/faults)."
                                          : "The server is busy (see /_emu/faults).");
        }
        if (hit.retry_after) {
            char ra[16];
            snprintf(ra, sizeof ra, "%u", hit.retry_after);
            http_set_header(req, "Retry-After", ra);
        }
        log_info("sp: injected %u for %s on %s", hit.status, who->login, p.seg[p.n - 1].name);
    } else if (p.n == 0)
        odata_bad_argument(req, "The request names no resource.");
    else if (seg_is(&p, 0, "contextinfo") && p.n == 1)
        contextinfo(req, &c);
    else if (seg_is(&p, 0, "web"))
        web_route(req, &c, &p);
    else if (seg_is(&p, 0, "site"))
        site_route(req, &c, &p);
    else
        odata_bad_argument(req, "The request names an unknown resource.");
    odata_query_finish(&oq);
    sp_path_finish(&p);
    sp_model_site_finish(&c.site);
}

static void sp_finish(struct http_request *req)
{
    const char *path = req->path;
    bool bad_body = false;
    size_t unused;
    cJSON *body = sp_routes_prefix_raw(path, &unused) ? NULL : parse_body(req, &bad_body);
    if (bad_body) {
        odata_error(req, 400, SP_HRESULT_CLIENT_QUERY,
                    "Microsoft.SharePoint.Client.InvalidClientQueryException",
                    "Invalid JSON. The request body is not a JSON object.");
        return;
    }
    struct sp_auth_principal who;
    int auth = sp_auth_authenticate(http_header(req, "Authorization"), &who);
    char *csom = csom_site(path);
    char *site_url = NULL;
    bool root;
    sp_routes_prefix_fn *route = sp_routes_prefix(path, &root);
    const char *tail = route && !root ? NULL : csom ? NULL : split_api(path, &site_url);
    if (route && !tail && !csom) {
        route(req, auth == SP_AUTH_OK ? &who : NULL, body);
    } else if (!tail && !csom) {
        odata_not_found(req, NULL);
    } else if (auth != SP_AUTH_OK) {
        log_info("sp: refused %s %s: %s", req->method, path,
                 auth == SP_AUTH_NO_TOKEN ? "no bearer token" : "unknown token");
        audit_record("refused", path,
                     auth == SP_AUTH_NO_TOKEN ? "401: no bearer token" : "401: unknown token");
        odata_error(req, 401, SP_HRESULT_ACCESS_DENIED, "System.UnauthorizedAccessException",
                    "Access denied. Send a valid bearer token (Authorization: Bearer ...).");
        http_set_header(req, "WWW-Authenticate", "Bearer realm=\"spmigd\"");
    } else if (csom && strcmp(req->method, "POST") != 0) {
        odata_method_not_allowed(req, "POST");
    } else if (csom) {
        csom_process(req, &who, csom);
    } else {
        api_call(req, &who, tail, site_url, body);
    }
    free(csom);
    free(site_url);
    cJSON_Delete(body);
}

static void sp_decorate(struct http_request *req)
{
    http_set_header(req, "request-id", req->request_id);
    http_set_header(req, "SPRequestGuid", req->request_id);
    http_set_header(req, "X-SharePointHealthScore", "0");
    http_set_header(req, "MicrosoftSharePointTeamServices", "16.0.0.0");
    http_set_header(req, "Server", "spmigd/" SPMIG_VERSION);
}

static void sp_transport_error(struct http_request *req, unsigned status, const char *code,
                               const char *msg)
{
    odata_error(req, status, SP_HRESULT_INVALID_ARG, "System.ArgumentException", msg);
}

const struct http_listener_ops sp_api_ops = {
    .begin = sp_begin,
    .finish = sp_finish,
    .cleanup = NULL,
    .decorate = sp_decorate,
    .error = sp_transport_error,
};
