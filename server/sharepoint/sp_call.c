/*
 * sp_call.c: what every handler of an authenticated SharePoint call shares: its arguments
 * (JSON body or URL), the site-manager check with its audit entry, and the base URL answers
 * are built on. It neither parses paths (sp_path) nor routes (sp_routes, sp_api).
 */
#include "sp_call.h"
#include "audit.h"
#include "log.h"
#include "odata.h"
#include "sp_hresult.h"
#include "xmalloc.h"

#include <stdio.h>

const char *sp_call_arg(const struct sp_call *c, const char *name, int pos, char *buf, size_t cap)
{
    const cJSON *scopes[2] = {c->body, NULL};
    if (c->body)
        scopes[1] = cJSON_GetObjectItem(c->body, "parameters"); /* case-insensitive */
    for (int i = 0; i < 2; i++) {
        const cJSON *v = scopes[i] ? cJSON_GetObjectItem(scopes[i], name) : NULL;
        if (cJSON_IsString(v))
            return v->valuestring;
        if (cJSON_IsNumber(v)) {
            snprintf(buf, cap, "%.0f", v->valuedouble);
            return buf;
        }
    }
    return c->seg ? sp_path_arg(c->seg, name, pos) : NULL;
}

int sp_error_set(struct sp_error *e, unsigned status, long hresult, const char *type,
                 const char *message)
{
    e->status = status;
    e->hresult = hresult;
    e->type = type;
    snprintf(e->message, sizeof e->message, "%s", message);
    return -1;
}

void sp_call_fail(struct http_request *req, const struct sp_error *e)
{
    odata_error(req, e->status, (enum sp_hresult)e->hresult, e->type, e->message);
}

int sp_call_check_manager(const struct sp_call *c, struct sp_error *e)
{
    if (sp_auth_can_manage_site(&c->who, c->site.id))
        return 0;
    log_info("sp: %s may not manage %s", c->who.login, c->site.url);
    audit_record("refused", c->site.url, "403: the user may not manage the site");
    return sp_error_set(e, 403, SP_HRESULT_ACCESS_DENIED, "System.UnauthorizedAccessException",
                        "Access denied. You do not have permission to perform this action or "
                        "access this resource.");
}

bool sp_call_require_manager(struct http_request *req, const struct sp_call *c)
{
    struct sp_error e;
    if (sp_call_check_manager(c, &e) == 0)
        return true;
    sp_call_fail(req, &e);
    return false;
}

char *sp_call_base_url(struct http_request *req)
{
    const char *host = http_header(req, "Host");
    return xasprintf("http://%s", host ? host : "localhost");
}
