/*
 * emu_api.c: /_emu, the emulator's own controls: GET health, GET/POST sites, POST users,
 * faults, GET/POST clock, GET audit; GET jobs and containers are emu_lists'.
 * Everything but health needs an admin calling in person; who may do what is the table
 * `permissions` below (docs/emu-permissions.md), and nobody grants a role above their own.
 * Answers are plain JSON (no OData wrapping); errors use the SharePoint error body.
 */
#include "emu_api.h"
#include "emu_lists.h"
#include "clock.h"
#include "faults.h"
#include "audit.h"
#include "lifecycle.h"
#include "odata.h"
#include "query.h"
#include "sp_routes.h"
#include "spmig_limits.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <inttypes.h>
#include <stdlib.h>

#include <stdio.h>
#include <string.h>

static void reply(struct http_request *req, unsigned status, cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    http_reply(req, status, "application/json;charset=utf-8", text, strlen(text));
}

static const char *body_str(const cJSON *body, const char *name)
{
    const cJSON *v = body ? cJSON_GetObjectItem(body, name) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *site_json(const struct sp_model_site *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "url", s->url);
    cJSON_AddStringToObject(o, "title", s->title);
    cJSON_AddStringToObject(o, "id", s->uuid);
    cJSON_AddStringToObject(o, "webId", s->web_uuid);
    return o;
}

static void add_site(void *ctx, const struct sp_model_site *s)
{
    cJSON_AddItemToArray(ctx, site_json(s));
}

static void sites(struct http_request *req, cJSON *body)
{
    if (strcmp(req->method, "GET") == 0) {
        cJSON *arr = cJSON_CreateArray();
        sp_model_site_each(add_site, arr);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "sites", arr);
        reply(req, 200, o);
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        odata_method_not_allowed(req, "GET, POST");
        return;
    }
    const char *url = body_str(body, "url");
    const char *title = body_str(body, "title");
    if (!url) {
        odata_bad_argument(req, "A site needs a \"url\" such as \"/sites/hr\".");
        return;
    }
    struct sp_model_site s = {0};
    int rc = sp_model_site_create(url, title ? title : url, &s);
    if (rc == SP_MODEL_EXISTS)
        odata_exists(req, "A site already exists at that URL.");
    else if (rc == SP_MODEL_BAD_NAME)
        odata_bad_argument(req, "A site url is \"/sites/<name>\" with letters, digits, '-', '_' "
                                "or '.' in the name.");
    else if (rc != SP_MODEL_OK)
        odata_internal_error(req, "The site could not be created.");
    else
        reply(req, 201, site_json(&s));
    sp_model_site_finish(&s);
}

static void users(struct http_request *req, const struct sp_auth_principal *who, cJSON *body)
{
    if (strcmp(req->method, "POST") != 0) {
        odata_method_not_allowed(req, "POST");
        return;
    }
    const char *login = body_str(body, "login");
    const char *role_name = body_str(body, "role");
    const char *site_url = body_str(body, "site");
    enum sp_auth_role role;
    if (!login || !role_name || sp_auth_role_parse(role_name, &role) < 0) {
        odata_bad_argument(req, "A user needs a \"login\" and a \"role\" (GlobalAdmin, "
                                "SharePointAdmin, SiteOwner or Member).");
        return;
    }
    if (role > who->role) {
        audit_record("refused", req->path, "403: a role above the caller's own");
        odata_error(req, 403, SP_HRESULT_ACCESS_DENIED, "System.UnauthorizedAccessException",
                    "Access denied. Nobody grants a role above their own.");
        return;
    }
    int64_t site_id = 0;
    if (role == SP_AUTH_SITE_OWNER || role == SP_AUTH_MEMBER) {
        struct sp_model_site s = {0};
        if (sp_model_site_get(site_url ? site_url : "/", &s) != SP_MODEL_OK) {
            sp_model_site_finish(&s);
            odata_not_found(req, "The site does not exist.");
            return;
        }
        site_id = s.id;
        sp_model_site_finish(&s);
    }
    char token[SP_AUTH_TOKEN_LEN];
    int64_t id;
    int rc = sp_auth_user_create(login, role, site_id, token, &id);
    if (rc == SP_AUTH_EXISTS) {
        odata_exists(req, "A user with that login exists.");
        return;
    }
    if (rc == SP_AUTH_INVALID) {
        odata_bad_argument(req, "The user could not be created: a login is 1 to 255 characters.");
        return;
    }
    if (rc != SP_AUTH_OK) {
        odata_internal_error(req, "The user could not be saved (is the disk full?).");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "login", login);
    cJSON_AddStringToObject(o, "role", sp_auth_role_name(role));
    if (site_id)
        cJSON_AddStringToObject(o, "site", site_url ? site_url : "/");
    cJSON_AddStringToObject(o, "token", token);
    memset(token, 0, sizeof token);
    reply(req, 201, o);
}

static void faults(struct http_request *req, cJSON *body)
{
    if (strcmp(req->method, "GET") == 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "faults", faults_list());
        reply(req, 200, o);
    } else if (strcmp(req->method, "DELETE") == 0) {
        faults_clear();
        http_reply(req, 204, NULL, NULL, 0);
    } else if (strcmp(req->method, "POST") == 0) {
        char why[200];
        int id = body ? faults_add(body, why, sizeof why) : -1;
        if (!body)
            snprintf(why, sizeof why,
                     "Send a JSON rule such as {\"status\":429,\"retryAfter\":2}.");
        if (id < 0) {
            odata_bad_argument(req, why);
            return;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", id);
        reply(req, 201, o);
    } else {
        odata_method_not_allowed(req, "GET, POST, DELETE");
    }
}

static cJSON *clock_json(void)
{
    char t[TIMEFMT_BUF];
    int64_t now = clock_now_ms(), off = clock_offset_ms();
    timefmt_iso8601(now, t);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "now", t);
    cJSON_AddNumberToObject(o, "nowMs", (double)now);
    char d[64]; /* P<days>DT<h>H<m>M<s>.<ms>S */
    snprintf(d, sizeof d, "P%" PRId64 "DT%" PRId64 "H%" PRId64 "M%" PRId64 ".%03" PRId64 "S",
             off / 86400000, off / 3600000 % 24, off / 60000 % 60, off / 1000 % 60, off % 1000);
    cJSON_AddStringToObject(o, "offset", d);
    cJSON_AddNumberToObject(o, "offsetMs", (double)off);
    cJSON_AddNumberToObject(o, "deadlinesDue", (double)lifecycle_due_count());
    int64_t next = lifecycle_next_deadline_ms();
    if (next < 0) {
        cJSON_AddNullToObject(o, "nextDeadline");
    } else {
        timefmt_iso8601(next, t);
        cJSON_AddStringToObject(o, "nextDeadline", t);
    }
    return o;
}

static void clock_move(struct http_request *req, cJSON *body)
{
    const char *adv = body_str(body, "advance");
    const char *set = body_str(body, "set");
    int64_t ms, offset;
    if ((adv != NULL) == (set != NULL)) {
        odata_bad_argument(req, "Send {\"advance\":\"P3DT1S\"} or "
                                "{\"set\":\"2026-12-01T00:00:00Z\"}.");
        return;
    }
    if (adv) {
        if (adv[0] == '-' || timefmt_parse_duration(adv, &ms) < 0 || ms < 0) {
            odata_bad_argument(req, "\"advance\" must be a positive ISO 8601 duration such as "
                                    "P3DT1S (the clock never moves backwards).");
            return;
        }
        ms += clock_now_ms(); /* both at most LIMIT_TIME_MAX_MS: no overflow */
    } else if (timefmt_parse_iso8601(set, &ms) < 0) {
        odata_bad_argument(req, "\"set\" must be an RFC 3339 time such as "
                                "2026-12-01T00:00:00Z.");
        return;
    }
    if (ms > LIMIT_TIME_MAX_MS) {
        odata_bad_argument(req, "The emulator clock cannot go past 9999-12-31T23:59:59.999Z, "
                                "the last time its formats can write.");
        return;
    }
    offset = ms - clock_real_ms();
    int rc =
        offset < clock_offset_ms() ? LIFECYCLE_CLOCK_REFUSED : lifecycle_clock_set_offset(offset);
    if (rc == LIFECYCLE_CLOCK_REFUSED) {
        odata_error(req, 409, SP_HRESULT_INVALID_ARG, "System.ArgumentException",
                    "The emulator clock cannot move backwards: choose a time after the "
                    "current emulator time (GET /_emu/clock).");
        return;
    }
    if (rc < 0) {
        odata_internal_error(req, "The clock move could not be saved (is the disk full?); the "
                                  "clock did not move.");
        return;
    }
    reply(req, 200, clock_json());
}

static void clock_route(struct http_request *req, cJSON *body)
{
    if (strcmp(req->method, "GET") == 0)
        reply(req, 200, clock_json());
    else if (strcmp(req->method, "POST") == 0)
        clock_move(req, body);
    else
        odata_method_not_allowed(req, "GET, POST");
}

static void audit_route(struct http_request *req)
{
    const char *top = query_get(&req->query, "top");
    if (!top)
        top = query_get(&req->query, "$top");
    const char *skip = query_get(&req->query, "skiptoken");
    if (!skip)
        skip = query_get(&req->query, "$skiptoken");
    unsigned long n = top ? strtoul(top, NULL, 10) : 100;
    long long from = skip ? strtoll(skip, NULL, 10) : 0;
    reply(req, 200, audit_json((unsigned)(n > 1000 ? 1000 : n), from));
}

/* Who may do what (docs/emu-permissions.md): a control and method not listed is every
 * admin's (and answers 404 or 405 when it does not exist). Reading is every admin's; what
 * changes the emulator's behaviour for everyone (the clock, faults) is the GlobalAdmin's. */
static const struct {
    const char *what, *method;
    enum sp_auth_role least;
} permissions[] = {
    {"clock", "POST", SP_AUTH_GLOBAL_ADMIN},
    {"faults", "POST", SP_AUTH_GLOBAL_ADMIN},
    {"faults", "DELETE", SP_AUTH_GLOBAL_ADMIN},
};

static bool permitted(const struct sp_auth_principal *who, const char *what, const char *method)
{
    if (!sp_auth_is_admin(who))
        return false;
    for (size_t i = 0; i < sizeof permissions / sizeof permissions[0]; i++)
        if (strcmp(permissions[i].what, what) == 0 && strcmp(permissions[i].method, method) == 0)
            return who->role >= permissions[i].least;
    return true;
}

static void handle(struct http_request *req, const struct sp_auth_principal *who, cJSON *body)
{
    const char *what = req->path + 6;
    if (strcmp(what, "health") == 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "ok");
        cJSON_AddStringToObject(o, "version", SPMIG_VERSION);
        reply(req, 200, o);
        return;
    }
    if (!who) {
        audit_record("refused", req->path, "401: no admin token");
        odata_error(req, 401, SP_HRESULT_ACCESS_DENIED, "System.UnauthorizedAccessException",
                    "Access denied. Send the admin token (Authorization: Bearer ...).");
        return;
    }
    if (!permitted(who, what, req->method)) {
        audit_record("refused", req->path,
                     sp_auth_is_admin(who) ? "403: not a GlobalAdmin" : "403: not an admin");
        odata_access_denied(req);
        return;
    }
    if (strcmp(what, "sites") == 0)
        sites(req, body);
    else if (strcmp(what, "users") == 0)
        users(req, who, body);
    else if (strcmp(what, "faults") == 0)
        faults(req, body);
    else if (strcmp(what, "clock") == 0)
        clock_route(req, body);
    else if (strcmp(what, "audit") == 0 && strcmp(req->method, "GET") == 0)
        audit_route(req);
    else if (strcmp(what, "jobs") == 0 || strncmp(what, "jobs/", 5) == 0 ||
             strcmp(what, "containers") == 0)
        emu_lists_route(req, what);
    else
        odata_not_found(req, "No such emulator control.");
}

void emu_api_register(void)
{
    sp_routes_add_prefix("/_emu/", handle);
}
