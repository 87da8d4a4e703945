/*
 * sp_api.c: the SharePoint listener's routing and its JSON answers. It owns the SharePoint
 * error shape; the Migration API, the read API and /_emu controls arrive with their issues.
 */
#include "sp_api.h"
#include "xmalloc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static void reply_json(struct http_request *req, unsigned status, cJSON *obj)
{
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    http_reply(req, status, "application/json;odata=nometadata;charset=utf-8", text, strlen(text));
}

void sp_error(struct http_request *req, unsigned status, long hresult, const char *type,
              const char *message)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(root, "error");
    char code[160];
    snprintf(code, sizeof code, "%ld, %s", hresult, type);
    cJSON_AddStringToObject(err, "code", code);
    cJSON *msg = cJSON_AddObjectToObject(err, "message");
    cJSON_AddStringToObject(msg, "lang", "en-US");
    cJSON_AddStringToObject(msg, "value", message);
    reply_json(req, status, root);
}

static void sp_begin(struct http_request *req)
{
    req->body_mode = HTTP_BODY_BUFFER;
    req->body_max = LIMIT_SMALL_BODY;
}

static void sp_finish(struct http_request *req)
{
    if (strcmp(req->path, "/_emu/health") == 0 && (!strcmp(req->method, "GET") || req->is_head)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "ok");
        cJSON_AddStringToObject(o, "version", SPMIG_VERSION);
        reply_json(req, 200, o);
        return;
    }
    sp_error(req, 404, -2147024894, "System.IO.FileNotFoundException", "File Not Found.");
}

static void sp_decorate(struct http_request *req)
{
    http_set_header(req, "request-id", req->request_id);
    http_set_header(req, "SPRequestGuid", req->request_id);
    http_set_header(req, "X-SharePointHealthScore", "0");
    http_set_header(req, "Server", "spmigd/" SPMIG_VERSION);
}

static void sp_transport_error(struct http_request *req, unsigned status, const char *code,
                               const char *msg)
{
    sp_error(req, status, -2147024809, "System.ArgumentException", msg);
}

const struct http_listener_ops sp_api_ops = {
    .begin = sp_begin,
    .finish = sp_finish,
    .cleanup = NULL,
    .decorate = sp_decorate,
    .error = sp_transport_error,
};
