/*
 * emu_lists.c: lists Migration API jobs across sites and owners, reads a job's event log, and
 * pages the provisioned containers and queues, as JSON for /_emu. It reads through jobs.h,
 * lifecycle.h and sp_model.h; it never changes a job or a container (migration_api.c and
 * lifecycle.c do).
 */
#include "emu_lists.h"
#include "jobs.h"
#include "lifecycle.h"
#include "odata.h"
#include "query.h"
#include "sp_model.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMU_LISTS_PAGE_DEFAULT 100
#define EMU_LISTS_PAGE_MAX     1000

static void reply(struct http_request *req, cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    http_reply(req, 200, "application/json;charset=utf-8", text, strlen(text));
}

/* A query number from lo to hi (def when absent); false after replying 400. */
static bool number(struct http_request *req, const char *name, int64_t lo, int64_t hi, int64_t def,
                   int64_t *out)
{
    const char *v = query_get(&req->query, name);
    char *end;
    *out = def;
    if (!v)
        return true;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) {
        char msg[120];
        snprintf(msg, sizeof msg, "%s must be a number from %" PRId64 " to %" PRId64 ".", name, lo,
                 hi);
        odata_bad_argument(req, msg);
        return false;
    }
    *out = n;
    return true;
}

static void add_time(cJSON *o, const char *name, int64_t ms)
{
    char t[TIMEFMT_BUF];
    if (ms <= 0) {
        cJSON_AddNullToObject(o, name);
        return;
    }
    timefmt_iso8601(ms, t);
    cJSON_AddStringToObject(o, name, t);
}

static const char *state_name(int state)
{
    return state == JOB_QUEUED ? "Queued" : state == JOB_PROCESSING ? "Processing" : "Ended";
}

static void add_job(void *ctx, const struct job *j)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", j->uuid);
    cJSON_AddStringToObject(o, "status", state_name(j->state));
    struct sp_model_site s = {0};
    if (sp_model_site_by_web(j->web_uuid, &s) == SP_MODEL_OK)
        cJSON_AddStringToObject(o, "site", s.url);
    else
        cJSON_AddNullToObject(o, "site");
    sp_model_site_finish(&s);
    cJSON_AddBoolToObject(o, "encrypted", j->encrypted);
    cJSON_AddNumberToObject(o, "attempt", j->attempt);
    add_time(o, "created", j->created_ms);
    add_time(o, "started", j->started_ms);
    add_time(o, "ended", j->ended_ms);
    cJSON_AddItemToArray(ctx, o);
}

/* top and skiptoken of a paged list; false after replying 400. */
static bool page_args(struct http_request *req, int64_t *top, int64_t *skip)
{
    return number(req, "top", 1, EMU_LISTS_PAGE_MAX, EMU_LISTS_PAGE_DEFAULT, top) &&
           number(req, "skiptoken", 0, INT64_MAX / 2, 0, skip);
}

/* Adds nextLink to o: path?top=&skiptoken= for the page after this one, or null. */
static void add_next_link(cJSON *o, const char *path, bool more, int64_t top, int64_t skip)
{
    if (!more) {
        cJSON_AddNullToObject(o, "nextLink");
        return;
    }
    char *link = xasprintf("%s?top=%" PRId64 "&skiptoken=%" PRId64, path, top, skip + top);
    cJSON_AddStringToObject(o, "nextLink", link);
    free(link);
}

static void list(struct http_request *req)
{
    int64_t top, skip;
    if (!page_args(req, &top, &skip))
        return;
    cJSON *arr = cJSON_CreateArray();
    /* One more than asked tells whether there is a next page. */
    int n = jobs_each_page(skip, (unsigned)top + 1, add_job, arr);
    if (n > top)
        cJSON_DeleteItemFromArray(arr, (int)top);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "value", arr);
    add_next_link(o, "/_emu/jobs", n > top, top, skip);
    reply(req, o);
}

static void add_event(void *ctx, const char *json)
{
    cJSON *e = cJSON_Parse(json);
    if (e)
        cJSON_AddItemToArray(ctx, e);
}

static void events(struct http_request *req, const char *id)
{
    struct job j = {0};
    if (strlen(id) >= sizeof j.uuid || jobs_get(id, &j) < 0) {
        odata_not_found(req, "No such job.");
        return;
    }
    job_finish(&j);
    int64_t after, top, last;
    if (!number(req, "after", 0, INT64_MAX / 2, 0, &after) ||
        !number(req, "top", 1, EMU_LISTS_PAGE_MAX, EMU_LISTS_PAGE_MAX, &top))
        return;
    cJSON *arr = cJSON_CreateArray();
    if (jobs_log_read(id, after, (unsigned)top, add_event, arr, &last) < 0) {
        cJSON_Delete(arr);
        odata_error(req, 500, SP_HRESULT_FAIL, "System.Exception", "The event log is unreadable.");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "value", arr);
    cJSON_AddNumberToObject(o, "last", (double)last);
    reply(req, o);
}

static void containers(struct http_request *req)
{
    if (!query_get(&req->query, "top") && !query_get(&req->query, "skiptoken")) {
        reply(req, lifecycle_containers_json()); /* whole, oldest first, as before paging */
        return;
    }
    int64_t top, skip;
    if (!page_args(req, &top, &skip))
        return;
    bool more;
    cJSON *o = lifecycle_containers_page_json(skip, (unsigned)top, &more);
    add_next_link(o, "/_emu/containers", more, top, skip);
    reply(req, o);
}

void emu_lists_route(struct http_request *req, const char *what)
{
    if (strcmp(req->method, "GET") != 0) {
        odata_method_not_allowed(req, "GET");
        return;
    }
    if (strcmp(what, "containers") == 0) {
        containers(req);
        return;
    }
    if (strcmp(what, "jobs") == 0) {
        list(req);
        return;
    }
    const char *id = what + strlen("jobs/");
    const char *slash = strchr(id, '/');
    if (!slash || strcmp(slash, "/events") != 0) {
        odata_not_found(req, "No such emulator control.");
        return;
    }
    char *uuid = xstrndup(id, (size_t)(slash - id));
    events(req, uuid);
    free(uuid);
}
