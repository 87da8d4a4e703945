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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* "/sites/hr" + "/_api/" + tail, absolute. */
static char *api_uri(struct http_request *req, const struct sp_model_site *s, const char *tail)
{
    char *b = sp_call_base_url(req);
    char *u = xasprintf("%s%s/_api/%s", b, strcmp(s->url, "/") ? s->url : "", tail);
    free(b);
    return u;
}

static bool wants_expand(struct http_request *req, const char *what)
{
    const char *e = query_get(&req->query, "$expand");
    if (!e)
        return false;
    size_t n = strlen(what);
    for (const char *p = e; (p = strcasestr(p, what)); p += n)
        if ((p == e || p[-1] == ',') && (p[n] == '\0' || p[n] == ',' || p[n] == '/'))
            return true;
    return false;
}

/* The web's root folder (not an item of any library). */
static cJSON *web_root_folder_json(const struct sp_model_site *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "Exists", true);
    cJSON_AddStringToObject(o, "Name", "");
    cJSON_AddStringToObject(o, "ServerRelativeUrl", s->url);
    cJSON_AddStringToObject(o, "UniqueId", s->root_folder_uuid);
    add_time(o, "TimeCreated", s->created_ms);
    add_time(o, "TimeLastModified", s->created_ms);
    return o;
}

static cJSON *web_json(struct http_request *req, const struct sp_model_site *s)
{
    cJSON *o = cJSON_CreateObject();
    char *b = sp_call_base_url(req);
    char *full = xasprintf("%s%s", b, strcmp(s->url, "/") ? s->url : "");
    cJSON_AddStringToObject(o, "Id", s->web_uuid);
    cJSON_AddStringToObject(o, "Title", s->title);
    cJSON_AddStringToObject(o, "Url", full);
    cJSON_AddStringToObject(o, "ServerRelativeUrl", s->url);
    add_time(o, "Created", s->created_ms);
    cJSON_AddNumberToObject(o, "UIVersion", 15);
    if (wants_expand(req, "RootFolder"))
        cJSON_AddItemToObject(o, "RootFolder", web_root_folder_json(s));
    free(full);
    free(b);
    return o;
}

static cJSON *folder_json(const struct sp_model_item *i)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "Exists", true);
    cJSON_AddStringToObject(o, "Name", i->name);
    cJSON_AddStringToObject(o, "ServerRelativeUrl", i->path);
    cJSON_AddStringToObject(o, "UniqueId", i->uuid);
    add_time(o, "TimeCreated", i->created_ms);
    add_time(o, "TimeLastModified", i->modified_ms);
    cJSON_AddStringToObject(o, "__type", "SP.Folder");
    return o;
}

static void parse_label(const char *label, int *major, int *minor)
{
    *major = *minor = 0;
    if (label)
        sscanf(label, "%d.%d", major, minor);
}

static cJSON *file_json(const struct sp_model_item *i)
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
    cJSON_AddStringToObject(o, "__type", "SP.File");
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
    return o;
}

static cJSON *item_json(struct http_request *req, const struct sp_model_item *i)
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
    if (wants_expand(req, "Author"))
        cJSON_AddItemToObject(o, "Author", user_json(i->author_id));
    if (wants_expand(req, "Editor"))
        cJSON_AddItemToObject(o, "Editor", user_json(i->editor_id));
    cJSON_AddStringToObject(o, "__type", "SP.ListItem");
    free(dir);
    return o;
}

static cJSON *list_json(struct http_request *req, const struct sp_model_site *s,
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
    cJSON_AddStringToObject(o, "ParentWebUrl", s->url);
    if (wants_expand(req, "RootFolder")) {
        struct sp_model_item root = {0};
        if (sp_model_item_by_path(l->root_url, &root) == SP_MODEL_OK) {
            cJSON *f = folder_json(&root);
            cJSON_DeleteItemFromObject(f, "__type");
            cJSON_AddItemToObject(o, "RootFolder", f);
        }
        sp_model_item_finish(&root);
    }
    char *tail = xasprintf("Web/Lists(guid'%s')", l->uuid);
    char *uri = api_uri(req, s, tail);
    cJSON_AddStringToObject(o, "__type", "SP.List");
    cJSON_AddStringToObject(o, "__uri", uri);
    free(uri);
    free(tail);
    return o;
}

/* ---- routes ---- */

static bool seg_is(const struct sp_path *p, size_t i, const char *name)
{
    return i < p->n && strcasecmp(p->seg[i].name, name) == 0;
}

struct collect {
    struct http_request *req;
    const struct sp_model_site *site;
    cJSON *arr;
    int last;
    unsigned count;
};

static void collect_list(void *ctx, const struct sp_model_list *l)
{
    struct collect *c = ctx;
    cJSON_AddItemToArray(c->arr, list_json(c->req, c->site, l));
}

static void collect_item(void *ctx, const struct sp_model_item *i)
{
    struct collect *c = ctx;
    cJSON_AddItemToArray(c->arr, item_json(c->req, i));
    c->last = i->int_id;
    c->count++;
}

static void collect_child(void *ctx, const struct sp_model_item *i)
{
    struct collect *c = ctx;
    cJSON_AddItemToArray(c->arr, i->is_folder ? folder_json(i) : file_json(i));
}

static void collect_version(void *ctx, const struct sp_model_version *v)
{
    struct collect *c = ctx;
    if (v->is_current)
        return; /* File/Versions lists the earlier versions only, as SharePoint does */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "ID", v->major * 512 + v->minor);
    cJSON_AddStringToObject(o, "VersionLabel", v->label);
    cJSON_AddBoolToObject(o, "IsCurrentVersion", false);
    cJSON_AddNumberToObject(o, "Size", (double)v->size);
    add_time(o, "Created", v->created_ms);
    cJSON_AddNumberToObject(o, "CreatedById", (double)v->author_id);
    cJSON_AddStringToObject(o, "CheckInComment", v->comment ? v->comment : "");
    cJSON_AddStringToObject(o, "__type", "SP.FileVersion");
    cJSON_AddItemToArray(c->arr, o);
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

static void file_route(struct http_request *req, struct sp_call *c, const struct sp_path *p,
                       size_t at, const struct sp_model_item *it)
{
    if (at == p->n) {
        odata_entity(req, 200, "SP.File", NULL, file_json(it));
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
        if (at + 1 == p->n) {
            struct collect col = {req, &c->site, cJSON_CreateArray(), 0, 0};
            sp_model_file_versions(it->id, collect_version, &col);
            odata_collection(req, col.arr);
            return;
        }
        /* Versions/GetById(512)/$value or Versions(512)/$value */
        const struct sp_segment *g = &p->seg[at + (p->seg[at].has_parens ? 0 : 1)];
        const char *id = sp_path_arg(g, "id", 0);
        if (id) {
            int n = atoi(id);
            char label[32];
            snprintf(label, sizeof label, "%d.%d", n / 512, n % 512);
            struct sp_model_version v = {0};
            if (sp_model_file_version(it->id, label, &v) != SP_MODEL_OK)
                odata_not_found(req, "Version not found.");
            else if (seg_is(p, p->n - 1, "$value"))
                send_content(req, &v);
            else {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddNumberToObject(o, "ID", n);
                cJSON_AddStringToObject(o, "VersionLabel", v.label);
                cJSON_AddNumberToObject(o, "Size", (double)v.size);
                odata_entity(req, 200, "SP.FileVersion", NULL, o);
            }
            sp_model_version_finish(&v);
            return;
        }
    }
    if (seg_is(p, at, "ListItemAllFields") && at + 1 == p->n) {
        odata_entity(req, 200, "SP.ListItem", NULL, item_json(req, it));
        return;
    }
    if (seg_is(p, at, "Author") || seg_is(p, at, "ModifiedBy")) {
        int64_t id = seg_is(p, at, "Author") ? it->author_id : it->editor_id;
        odata_entity(req, 200, "SP.User", NULL, user_json(id));
        return;
    }
    odata_bad_argument(req, "The file resource does not support this request.");
}

static void folder_route(struct http_request *req, struct sp_call *c, const struct sp_path *p,
                         size_t at, const struct sp_model_item *it)
{
    if (at == p->n) {
        odata_entity(req, 200, "SP.Folder", NULL, folder_json(it));
        return;
    }
    bool folders = seg_is(p, at, "Folders");
    if ((folders || seg_is(p, at, "Files")) && at + 1 == p->n) {
        struct collect col = {req, &c->site, cJSON_CreateArray(), 0, 0};
        sp_model_folder_children(it->path, folders, collect_child, &col);
        odata_collection(req, col.arr);
        return;
    }
    if (seg_is(p, at, "ListItemAllFields") && at + 1 == p->n) {
        odata_entity(req, 200, "SP.ListItem", NULL, item_json(req, it));
        return;
    }
    odata_bad_argument(req, "The folder resource does not support this request.");
}

static void items_route(struct http_request *req, struct sp_call *c, const struct sp_model_list *l,
                        const struct sp_path *p, size_t at)
{
    if (at < p->n && strcasecmp(p->seg[at].name, "GetById") == 0) {
        const char *id = sp_path_arg(&p->seg[at], "id", 0);
        struct sp_model_item it = {0};
        if (!id || sp_model_item_by_int_id(l->id, atoi(id), &it) != SP_MODEL_OK) {
            odata_error(req, 404, SP_HRESULT_INVALID_ARG, "System.ArgumentException",
                        "Item does not exist. It may have been deleted by another user.");
        } else if (at + 1 == p->n) {
            odata_entity(req, 200, "SP.ListItem", NULL, item_json(req, &it));
        } else {
            file_route(req, c, p, at + 2, &it);
        }
        sp_model_item_finish(&it);
        return;
    }
    if (at != p->n) {
        odata_bad_argument(req, "The items resource does not support this request.");
        return;
    }
    unsigned top = 100;
    const char *t = query_get(&req->query, "$top");
    if (t) {
        long v = strtol(t, NULL, 10);
        top = v < 1 ? 1 : v > 5000 ? 5000 : (unsigned)v;
    }
    int after = 0;
    const char *skip = query_get(&req->query, "$skiptoken");
    const char *pid = skip ? strcasestr(skip, "p_ID=") : NULL;
    if (pid) {
        /* The root folder (id 0) is no item: a position before it starts at the first. */
        char *end;
        long v = strtol(pid + 5, &end, 10);
        if (end == pid + 5 || (*end && *end != '&') || v > INT32_MAX || v < INT32_MIN) {
            odata_bad_argument(req, "The $skiptoken is not valid: Paged=TRUE&p_ID=<item id>.");
            return;
        }
        after = v < 0 ? 0 : (int)v;
    }
    struct collect col = {req, &c->site, cJSON_CreateArray(), 0, 0};
    sp_model_list_items(l->id, after, top, collect_item, &col);
    if (col.count == top) {
        /* Tell the client where to continue, as SharePoint's __next does. */
        /* The next page keeps every option of this one but the position. */
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
        char *tail =
            xasprintf("Web/Lists(guid'%s')/Items?%%24skiptoken=Paged%%3DTRUE%%26p_ID%%3D%d&"
                      "%%24top=%u%s",
                      l->uuid, col.last, top, q.data ? q.data : "");
        strbuf_finish(&q);
        char *next = api_uri(req, &c->site, tail);
        enum odata_mode m = odata_mode(req);
        cJSON *root = cJSON_CreateObject();
        cJSON *it;
        cJSON_ArrayForEach(it, col.arr)
        {
            cJSON_DeleteItemFromObject(it, "__type");
        }
        if (m == ODATA_VERBOSE) {
            cJSON *d = cJSON_AddObjectToObject(root, "d");
            cJSON_AddItemToObject(d, "results", col.arr);
            cJSON_AddStringToObject(d, "__next", next);
        } else {
            cJSON_AddItemToObject(root, "value", col.arr);
            cJSON_AddStringToObject(root, "odata.nextLink", next);
        }
        char *text = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        http_reply(req, 200, "application/json;charset=utf-8", text, strlen(text));
        free(next);
        free(tail);
        return;
    }
    odata_collection(req, col.arr);
}

static void list_route(struct http_request *req, struct sp_call *c, const struct sp_model_list *l,
                       const struct sp_path *p, size_t at)
{
    if (at == p->n) {
        cJSON *o = list_json(req, &c->site, l);
        odata_entity(req, 200, NULL, NULL, o);
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
        odata_entity(req, 201, NULL, NULL, list_json(req, &c->site, &l));
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
        char *uri = api_uri(req, &c->site, "Web");
        odata_entity(req, 200, "SP.Web", uri, web_json(req, &c->site));
        free(uri);
        return;
    }
    if (seg_is(p, at, "RootFolder") && at + 1 == p->n) {
        odata_entity(req, 200, "SP.Folder", NULL, web_root_folder_json(&c->site));
        return;
    }
    if (lists) {
        struct collect col = {req, &c->site, cJSON_CreateArray(), 0, 0};
        sp_model_list_each(c->site.id, collect_list, &col);
        odata_collection(req, col.arr);
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
        struct sp_model_item it = {0};
        char *path = url ? xstrdup(url) : NULL;
        size_t n = path ? strlen(path) : 0;
        while (n > 1 && path[n - 1] == '/')
            path[--n] = '\0';
        if (!path || sp_model_item_by_path(path, &it) != SP_MODEL_OK || it.is_folder != folder)
            odata_not_found(req, folder ? "File Not Found." : "File Not Found.");
        else if (folder)
            folder_route(req, c, p, at + 1, &it);
        else
            file_route(req, c, p, at + 1, &it);
        free(path);
        sp_model_item_finish(&it);
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
        char *uri = api_uri(req, &c->site, "Site");
        odata_entity(req, 200, "SP.Site", uri, o);
        free(uri);
        return;
    }
    if (seg_is(p, 1, "RootWeb")) {
        odata_entity(req, 200, "SP.Web", NULL, web_json(req, &c->site));
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

static void api_call(struct http_request *req, const struct sp_auth_principal *who,
                     const char *tail, const char *site_url, cJSON *body)
{
    struct sp_call c = {.who = *who, .body = body};
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
