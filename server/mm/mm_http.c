/*
 * mm_http.c: the helpers mm_api and mm_agent_api share (path segments, JSON replies, errors,
 * paging, the admin check). It serves no route.
 */
#include "mm_http.h"
#include "json_in.h"
#include "odata.h"
#include "query.h"
#include "spmig_limits.h"
#include "xmalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mm_http_path_init(struct mm_http_path *p, const struct http_request *req)
{
    memset(p, 0, sizeof *p);
    const char *s = req->raw_path + strlen(MM_HTTP_PREFIX);
    if (strncmp(req->raw_path, MM_HTTP_PREFIX, strlen(MM_HTTP_PREFIX)) != 0) {
        p->bad = true;
        return;
    }
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || p->n == MM_HTTP_MAX_SEGS) {
            p->bad = true;
            return;
        }
        size_t len;
        char *d = query_decode(s, n, false, &len);
        if (!d || strlen(d) != len) {
            free(d);
            p->bad = true;
            return;
        }
        p->seg[p->n++] = d;
        s += n + (e ? 1 : 0);
        if (e && !*s) /* a trailing '/' is allowed */
            break;
    }
}

void mm_http_path_finish(struct mm_http_path *p)
{
    for (int i = 0; i < MM_HTTP_MAX_SEGS; i++)
        free(p->seg[i]);
    memset(p, 0, sizeof *p);
}

bool mm_http_seg_is(const struct mm_http_path *p, int i, const char *s)
{
    return i < p->n && strcmp(p->seg[i], s) == 0;
}

void mm_http_reply(struct http_request *req, unsigned status, cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    http_reply(req, status, "application/json;charset=utf-8", text, strlen(text));
}

void mm_http_fail(struct http_request *req, int rc, const char *message)
{
    switch (rc) {
    case MM_NOT_FOUND:
        odata_not_found(req, message ? message : "The object does not exist.");
        break;
    case MM_CONFLICT:
        odata_exists(req, message ? message : "The request conflicts with the object's state.");
        break;
    case MM_FORBIDDEN:
        odata_access_denied(req);
        break;
    case MM_INVALID:
    case MM_FULL:
        odata_bad_argument(req, message ? message : "The request is not valid.");
        break;
    default:
        odata_internal_error(req, message);
        break;
    }
}

void mm_http_unauthorized(struct http_request *req, const char *message)
{
    odata_error(req, 401, SP_HRESULT_ACCESS_DENIED, "System.UnauthorizedAccessException",
                message ? message
                        : "Access denied. Send a valid bearer token (Authorization: Bearer ...).");
    http_set_header(req, "WWW-Authenticate", "Bearer realm=\"spmigd\"");
}

cJSON *mm_http_json_body(struct http_request *req, bool *bad)
{
    *bad = false;
    if (!req->body.len)
        return NULL;
    cJSON *b = json_in_parse(req->body.data, req->body.len);
    if (!cJSON_IsObject(b)) {
        cJSON_Delete(b);
        *bad = true;
        return NULL;
    }
    return b;
}

const char *mm_http_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *opt(struct http_request *req, const char *name)
{
    const char *v = query_get(&req->query, name);
    if (!v) {
        char dollar[32];
        snprintf(dollar, sizeof dollar, "$%s", name);
        v = query_get(&req->query, dollar);
    }
    return v;
}

bool mm_http_page(struct http_request *req, int *top, int64_t *after)
{
    *top = LIMIT_MM_PAGE_DEFAULT;
    *after = 0;
    const char *t = opt(req, "top"), *s = opt(req, "skiptoken");
    char *end;
    if (t) {
        long v = strtol(t, &end, 10);
        if (!*t || *end || v < 1 || v > LIMIT_MM_PAGE) {
            char msg[80];
            snprintf(msg, sizeof msg, "top must be a number from 1 to %d.", LIMIT_MM_PAGE);
            odata_bad_argument(req, msg);
            return false;
        }
        *top = (int)v;
    }
    if (s) {
        long long v = strtoll(s, &end, 10);
        if (!*s || *end || v < 0) {
            odata_bad_argument(req, "skiptoken must be the one a nextLink gave.");
            return false;
        }
        *after = v;
    }
    return true;
}

void mm_http_page_links(cJSON *o, cJSON *value, const char *path, int top, int n, int64_t last,
                        const char *extra)
{
    cJSON_AddItemToObject(o, "value", value);
    if (n < top) {
        cJSON_AddNullToObject(o, "nextLink");
        return;
    }
    char *link = xasprintf("%s?top=%d&skiptoken=%" PRId64 "%s", path, top, last, extra);
    cJSON_AddStringToObject(o, "nextLink", link);
    free(link);
}

bool mm_http_require_admin(struct http_request *req, const struct sp_auth_principal *who)
{
    if (who && sp_auth_is_admin(who))
        return true;
    const char *auth = http_header(req, "Authorization");
    if (who || (auth && !strncmp(auth, "Bearer mma1.", 12)))
        odata_access_denied(req);
    else
        mm_http_unauthorized(req, NULL);
    return false;
}
