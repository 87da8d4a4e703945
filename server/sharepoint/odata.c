/*
 * odata.c: builds SharePoint REST answers in the shape the caller's Accept header asks for.
 * It knows nothing of sites or files: callers hand it cJSON objects and type names.
 */
#include "odata.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum odata_mode odata_mode(const struct http_request *req)
{
    const char *a = http_header(req, "Accept");
    if (a && strstr(a, "odata=verbose"))
        return ODATA_VERBOSE;
    if (a && strstr(a, "odata=nometadata"))
        return ODATA_NOMETA;
    return ODATA_MINIMAL;
}

static const char *content_type(enum odata_mode m)
{
    switch (m) {
    case ODATA_VERBOSE:
        return "application/json;odata=verbose;charset=utf-8";
    case ODATA_NOMETA:
        return "application/json;odata=nometadata;charset=utf-8";
    default:
        return "application/json;odata=minimalmetadata;charset=utf-8";
    }
}

static void send_json(struct http_request *req, unsigned status, cJSON *root)
{
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    http_reply(req, status, content_type(odata_mode(req)), text, strlen(text));
}

/* The address of uri relative to the service root ("Web/Lists(...)"), as editLink has it. */
static const char *relative(const char *uri)
{
    const char *api = strstr(uri, "/_api/");
    return api ? api + 6 : uri;
}

static void decorate(cJSON *obj, enum odata_mode m, const char *type, const char *uri);

/* Decorates the expanded entities obj holds; in verbose an expanded collection becomes
 * {"results":[...]} as SharePoint writes it. */
static void decorate_children(cJSON *obj, enum odata_mode m)
{
    cJSON *c;
    cJSON_ArrayForEach(c, obj)
    {
        if (cJSON_IsObject(c) && cJSON_GetObjectItemCaseSensitive(c, "__type")) {
            decorate(c, m, NULL, NULL);
        } else if (cJSON_IsArray(c) && c->string) {
            cJSON *e;
            cJSON_ArrayForEach(e, c) if (cJSON_IsObject(e)) decorate(e, m, NULL, NULL);
            if (m == ODATA_VERBOSE) {
                cJSON *wrap = cJSON_CreateObject();
                cJSON *arr = cJSON_CreateArray();
                arr->child = c->child;
                c->child = NULL;
                cJSON_AddItemToObject(wrap, "results", arr);
                wrap->string = xstrdup(c->string); /* the replaced item's name */
                cJSON_ReplaceItemViaPointer(obj, c, wrap);
                c = wrap;
            }
        }
    }
}

/* Moves the "__type"/"__uri"/"__etag" hints of obj into the metadata the mode wants. */
static void decorate(cJSON *obj, enum odata_mode m, const char *type, const char *uri)
{
    cJSON *t = cJSON_DetachItemFromObjectCaseSensitive(obj, "__type");
    cJSON *u = cJSON_DetachItemFromObjectCaseSensitive(obj, "__uri");
    cJSON *e = cJSON_DetachItemFromObjectCaseSensitive(obj, "__etag");
    const char *etag = cJSON_IsString(e) ? e->valuestring : NULL;
    if (!type && cJSON_IsString(t))
        type = t->valuestring;
    if (!uri && cJSON_IsString(u))
        uri = u->valuestring;
    decorate_children(obj, m);
    if (m == ODATA_VERBOSE && type) {
        cJSON *md = cJSON_CreateObject();
        if (uri) {
            cJSON_AddStringToObject(md, "id", uri);
            cJSON_AddStringToObject(md, "uri", uri);
        }
        if (etag)
            cJSON_AddStringToObject(md, "etag", etag);
        cJSON_AddStringToObject(md, "type", type);
        /* __metadata comes first, as SharePoint writes it */
        cJSON_AddItemToObject(obj, "__metadata", md);
        cJSON_DetachItemViaPointer(obj, md);
        md->next = obj->child;
        if (obj->child) {
            md->prev = obj->child->prev;
            obj->child->prev = md;
        } else {
            md->prev = md;
        }
        obj->child = md;
    } else if (m == ODATA_MINIMAL && type) {
        cJSON_AddStringToObject(obj, "odata.type", type);
        if (uri) {
            cJSON_AddStringToObject(obj, "odata.id", uri);
            cJSON_AddStringToObject(obj, "odata.editLink", relative(uri));
        }
        if (etag)
            cJSON_AddStringToObject(obj, "odata.etag", etag);
    }
    cJSON_Delete(t);
    cJSON_Delete(u);
    cJSON_Delete(e);
}

void odata_entity(struct http_request *req, unsigned status, const char *type, const char *uri,
                  cJSON *props)
{
    enum odata_mode m = odata_mode(req);
    cJSON *t = cJSON_GetObjectItemCaseSensitive(props, "__type");
    cJSON *u = cJSON_GetObjectItemCaseSensitive(props, "__uri");
    if (!type && cJSON_IsString(t))
        type = t->valuestring;
    if (!uri && cJSON_IsString(u))
        uri = u->valuestring;
    /* absolute, as SharePoint writes it: the service root of the entity's address */
    const char *api = uri ? strstr(uri, "/_api/") : NULL;
    char *md = !type ? NULL
               : api ? xasprintf("%.*s$metadata#%s/@Element", (int)(api + 6 - uri), uri, type)
                     : xasprintf("$metadata#%s/@Element", type);
    char *keep_type = type ? xstrdup(type) : NULL, *keep_uri = uri ? xstrdup(uri) : NULL;
    type = keep_type;
    uri = keep_uri;
    decorate(props, m, type, uri);
    if (m == ODATA_VERBOSE) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "d", props);
        send_json(req, status, root);
    } else {
        if (m == ODATA_MINIMAL && md)
            cJSON_AddStringToObject(props, "odata.metadata", md);
        send_json(req, status, props);
    }
    free(md);
    free(keep_type);
    free(keep_uri);
}

void odata_collection(struct http_request *req, cJSON *items)
{
    odata_collection_page(req, items, NULL);
}

void odata_collection_page(struct http_request *req, cJSON *items, const char *next)
{
    enum odata_mode m = odata_mode(req);
    cJSON *it;
    cJSON_ArrayForEach(it, items) decorate(it, m, NULL, NULL);
    cJSON *root = cJSON_CreateObject();
    if (m == ODATA_VERBOSE) {
        cJSON *d = cJSON_AddObjectToObject(root, "d");
        cJSON_AddItemToObject(d, "results", items);
        if (next)
            cJSON_AddStringToObject(d, "__next", next);
    } else {
        cJSON_AddItemToObject(root, "value", items);
        if (next)
            cJSON_AddStringToObject(root, "odata.nextLink", next);
    }
    send_json(req, 200, root);
}

void odata_result(struct http_request *req, const char *name, const char *type, cJSON *value)
{
    enum odata_mode m = odata_mode(req);
    cJSON *root;
    if (m == ODATA_VERBOSE) {
        if (type)
            decorate(value, m, type, NULL);
        root = cJSON_CreateObject();
        cJSON *d = cJSON_AddObjectToObject(root, "d");
        cJSON_AddItemToObject(d, name, value);
    } else if (type && cJSON_IsObject(value)) {
        decorate(value, m, type, NULL);
        root = value;
    } else {
        root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "value", value);
    }
    send_json(req, 200, root);
}

void odata_error(struct http_request *req, unsigned status, enum sp_hresult hresult,
                 const char *type, const char *message)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(root, "error");
    char code[200];
    snprintf(code, sizeof code, "%ld, %s", (long)hresult, type);
    cJSON_AddStringToObject(err, "code", code);
    cJSON *msg = cJSON_AddObjectToObject(err, "message");
    cJSON_AddStringToObject(msg, "lang", "en-US");
    cJSON_AddStringToObject(msg, "value", message);
    send_json(req, status, root);
}

void odata_bad_argument_list(struct http_request *req, const char *message, cJSON *problems)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(root, "error");
    char code[200];
    snprintf(code, sizeof code, "%ld, %s", (long)SP_HRESULT_INVALID_ARG,
             "System.ArgumentException");
    cJSON_AddStringToObject(err, "code", code);
    cJSON *msg = cJSON_AddObjectToObject(err, "message");
    cJSON_AddStringToObject(msg, "lang", "en-US");
    cJSON_AddStringToObject(msg, "value", message);
    cJSON_AddItemToObject(err, "problems", problems);
    send_json(req, 400, root);
}

void odata_not_found(struct http_request *req, const char *message)
{
    odata_error(req, 404, SP_HRESULT_FILE_NOT_FOUND, "System.IO.FileNotFoundException",
                message ? message : "File Not Found.");
}

void odata_access_denied(struct http_request *req)
{
    odata_error(req, 403, SP_HRESULT_ACCESS_DENIED, "System.UnauthorizedAccessException",
                "Access denied. You do not have permission to perform this action or access this "
                "resource.");
}

void odata_bad_argument(struct http_request *req, const char *message)
{
    odata_error(req, 400, SP_HRESULT_INVALID_ARG, "System.ArgumentException", message);
}

void odata_exists(struct http_request *req, const char *message)
{
    odata_error(req, 409, SP_HRESULT_ALREADY_EXISTS, "Microsoft.SharePoint.SPException",
                message ? message : "The object already exists.");
}

void odata_internal_error(struct http_request *req, const char *message)
{
    odata_error(req, 500, SP_HRESULT_FAIL, "System.Exception",
                message ? message : "An unexpected error occurred on the server.");
}

void odata_method_not_allowed(struct http_request *req, const char *allowed)
{
    char msg[96];
    snprintf(msg, sizeof msg, "The HTTP method %.16s is not allowed on this resource: use %s.",
             req->method, allowed);
    http_set_header(req, "Allow", allowed);
    odata_error(req, 405, SP_HRESULT_INVALID_ARG, "System.ArgumentException", msg);
}
