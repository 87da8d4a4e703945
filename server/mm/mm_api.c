/*
 * mm_api.c: the admin side of /api/mm/ (GlobalAdmin or SharePointAdmin): agents, groups,
 * tasks and their actions, bulk creation, global settings, scans, a task's reports (one
 * file or a zip streamed one report at a time) and the aggregate SummaryReport CSV. It
 * checks requests and shapes answers; state changes are mm_store's, the rules mm_dispatch's,
 * the agent routes mm_agent_api's.
 */
#include "mm_api.h"
#include "mm_agent_api.h"
#include "mm_bulk.h"
#include "mm_dispatch.h"
#include "mm_http.h"
#include "mm_json.h"
#include "mm_store.h"
#include "mm_zip.h"
#include "odata.h"
#include "query.h"
#include "sp_call.h"
#include "sp_model.h"
#include "sp_routes.h"
#include "spmig_limits.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool method_is(struct http_request *req, const char *m)
{
    return strcmp(req->method, m) == 0;
}

/* 1 to LIMIT_MM_NAME bytes without control characters; a group name (path) also without
 * slashes, as it is a path segment. */
static bool name_ok(const char *s, bool path)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > LIMIT_MM_NAME)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (path && (s[i] == '/' || s[i] == '\\')))
            return false;
    return true;
}

/* ---- agents ---- */

struct page {
    cJSON *value;
    int64_t last;
    const cJSON *global;
};

static void add_agent(void *ctx, const struct mm_agent *a)
{
    struct page *p = ctx;
    cJSON_AddItemToArray(p->value, mm_json_agent(a));
    p->last = a->seq;
}

static void agents(struct http_request *req, const struct mm_http_path *p, cJSON *body)
{
    if (p->n == 1) {
        if (!method_is(req, "GET")) {
            odata_method_not_allowed(req, "GET");
            return;
        }
        int top;
        int64_t after;
        if (!mm_http_page(req, &top, &after))
            return;
        struct page pg = {.value = cJSON_CreateArray()};
        int n = mm_store_agent_list(after, top, add_agent, &pg);
        cJSON *o = cJSON_CreateObject();
        mm_http_page_links(o, pg.value, MM_HTTP_PREFIX "agents", top, n, pg.last, "");
        mm_http_reply(req, 200, o);
        return;
    }
    if (p->n != 2) {
        odata_not_found(req, NULL);
        return;
    }
    const char *id = p->seg[1];
    struct mm_agent a = {0};
    if (mm_store_agent_get(id, &a) != MM_OK || a.deleted) {
        mm_agent_finish(&a);
        odata_not_found(req, "The agent does not exist.");
        return;
    }
    mm_agent_finish(&a);
    int rc = MM_OK;
    if (method_is(req, "DELETE")) {
        rc = mm_store_agent_delete(id);
        if (rc == MM_OK) {
            mm_dispatch_wake();
            http_reply(req, 204, NULL, NULL, 0);
            return;
        }
    } else if (method_is(req, "PATCH")) {
        const cJSON *en = cJSON_GetObjectItem(body, "enabled");
        const cJSON *g = cJSON_GetObjectItem(body, "group");
        const cJSON *f = cJSON_GetObjectItem(body, "friendlyName");
        if (!body || (en && !cJSON_IsBool(en)) || (g && !cJSON_IsString(g)) ||
            (f && !cJSON_IsString(f)) || (f && strlen(f->valuestring) > LIMIT_MM_NAME)) {
            odata_bad_argument(req, "PATCH an agent with {\"enabled\":bool,\"group\":string,"
                                    "\"friendlyName\":string}.");
            return;
        }
        if (g && !mm_store_group_exists(g->valuestring)) {
            odata_bad_argument(req, "The agent group does not exist.");
            return;
        }
        rc = mm_store_agent_update(id, en ? cJSON_IsTrue(en) : -1, g ? g->valuestring : NULL,
                                   f ? f->valuestring : NULL);
        mm_dispatch_wake();
    } else if (!method_is(req, "GET")) {
        odata_method_not_allowed(req, "GET, PATCH, DELETE");
        return;
    }
    if (rc == MM_OK)
        rc = mm_store_agent_get(id, &a);
    if (rc != MM_OK) {
        mm_http_fail(req, rc, NULL);
        return;
    }
    mm_http_reply(req, 200, mm_json_agent(&a));
    mm_agent_finish(&a);
}

/* ---- groups ---- */

static void add_group(void *ctx, const char *name, int count)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddNumberToObject(o, "agents", count);
    cJSON_AddItemToArray(ctx, o);
}

static void groups(struct http_request *req, const struct mm_http_path *p, cJSON *body)
{
    if (p->n == 1 && method_is(req, "GET")) {
        cJSON *arr = cJSON_CreateArray();
        mm_store_group_each(add_group, arr);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "value", arr);
        cJSON_AddNullToObject(o, "nextLink");
        mm_http_reply(req, 200, o);
    } else if (p->n == 1 && method_is(req, "POST")) {
        const char *name = mm_http_str(body, "name");
        if (!name_ok(name, true)) {
            odata_bad_argument(req,
                               "A group needs a \"name\" of 1 to 255 characters (no / or \\).");
            return;
        }
        int rc = mm_store_group_add(name);
        if (rc != MM_OK) {
            mm_http_fail(req, rc, "A group with this name exists.");
            return;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddNumberToObject(o, "agents", 0);
        mm_http_reply(req, 201, o);
    } else if (p->n == 1) {
        odata_method_not_allowed(req, "GET, POST");
    } else if (p->n == 2 && method_is(req, "DELETE")) {
        if (!strcasecmp(p->seg[1], "Default")) {
            odata_exists(req, "The Default group always exists.");
            return;
        }
        int rc = mm_store_group_delete(p->seg[1]);
        if (rc == MM_OK)
            http_reply(req, 204, NULL, NULL, 0);
        else
            mm_http_fail(req, rc,
                         rc == MM_CONFLICT ? "The group has agents: move them first."
                                           : "The group does not exist.");
    } else if (p->n == 2) {
        odata_method_not_allowed(req, "DELETE");
    } else {
        odata_not_found(req, NULL);
    }
}

/* ---- settings ---- */

static void settings(struct http_request *req, cJSON *body)
{
    if (method_is(req, "PUT")) {
        char err[200];
        cJSON *s = body ? mm_json_settings_check(body, false, err, sizeof err) : NULL;
        if (!body)
            snprintf(err, sizeof err, "Send the settings as a JSON object.");
        if (!s) {
            odata_bad_argument(req, err);
            return;
        }
        const char *g = mm_http_str(s, "group");
        if (g && !mm_store_group_exists(g)) {
            cJSON_Delete(s);
            odata_bad_argument(req, "The agent group does not exist.");
            return;
        }
        int rc = mm_store_settings_put(s);
        cJSON_Delete(s);
        if (rc != MM_OK) {
            mm_http_fail(req, rc, NULL);
            return;
        }
    } else if (!method_is(req, "GET")) {
        odata_method_not_allowed(req, "GET, PUT");
        return;
    }
    cJSON *g = mm_store_settings_get();
    mm_http_reply(req, 200, mm_json_settings_effective(g, NULL));
    cJSON_Delete(g);
}

/* ---- tasks ---- */

/* A new task's settings: the global settings as they are now, overridden by its own (own may
 * be NULL), without the group (the task keeps it in its own column). New string. */
static char *task_settings(const cJSON *global, const cJSON *own)
{
    cJSON *eff = mm_json_settings_effective(global, own);
    cJSON_DeleteItemFromObjectCaseSensitive(eff, "group");
    char *text = cJSON_PrintUnformatted(eff);
    cJSON_Delete(eff);
    return text;
}

static void reply_task(struct http_request *req, unsigned status, const char *id)
{
    struct mm_task t = {0};
    if (mm_store_task_get(id, &t) != MM_OK) {
        odata_not_found(req, "The task does not exist.");
        return;
    }
    cJSON *g = mm_store_settings_get();
    mm_http_reply(req, status, mm_json_task(&t, g));
    cJSON_Delete(g);
    mm_task_finish(&t);
}

/* The group a new task goes to: given, else its settings', else the global settings',
 * else Default. */
static const char *task_group(const char *given, const cJSON *own, const cJSON *global)
{
    if (given)
        return given;
    const char *g = mm_http_str(own, "group");
    if (!g)
        g = mm_http_str(global, "group");
    return g ? g : "Default";
}

static bool site_exists(void *ctx, const char *site)
{
    (void)ctx;
    struct sp_model_site s = {0};
    bool yes = sp_model_site_get(site, &s) == SP_MODEL_OK;
    sp_model_site_finish(&s);
    return yes;
}

/* Fills t from a destination object {"site","library","folder"}; false with why in err. */
static bool destination(const cJSON *d, struct mm_task *t, char *err, size_t cap)
{
    const char *site = mm_http_str(d, "site"), *lib = mm_http_str(d, "library");
    const char *folder = mm_http_str(d, "folder");
    char *path = site ? mm_bulk_site_path(site) : NULL;
    if (!path || !lib || !*lib || strlen(lib) > LIMIT_MM_NAME ||
        (folder && strlen(folder) > LIMIT_SP_PATH_UNITS)) {
        free(path);
        snprintf(err, cap,
                 "A destination is {\"site\":\"/sites/x\" or its URL,\"library\":"
                 "\"Documents\",\"folder\":\"a/b\" or null}.");
        return false;
    }
    if (!site_exists(NULL, path)) {
        free(path);
        snprintf(err, cap, "Destination site or web doesn't exist");
        return false;
    }
    t->site = path;
    t->library = xstrdup(lib);
    const char *f = folder ? folder : "";
    while (*f == '/')
        f++;
    size_t n = strlen(f);
    while (n && f[n - 1] == '/')
        n--;
    t->folder = xstrndup(f, n);
    return true;
}

static void insert_reply(struct http_request *req, struct mm_task *tasks, size_t n, bool single)
{
    size_t bad = 0;
    int rc = mm_store_task_insert(tasks, n, &bad);
    if (rc == MM_CONFLICT) {
        char msg[120];
        snprintf(msg, sizeof msg, "Task %zu. A duplicate task has already been created", bad + 1);
        odata_exists(req, single ? "A duplicate task has already been created" : msg);
        return;
    }
    if (rc == MM_FULL) {
        char msg[120];
        snprintf(msg, sizeof msg, "The tenant would hold more than %d tasks.", LIMIT_MM_TASKS);
        odata_bad_argument(req, msg);
        return;
    }
    if (rc != MM_OK) {
        mm_http_fail(req, rc, NULL);
        return;
    }
    mm_dispatch_wake();
    if (single) {
        reply_task(req, 201, tasks[0].id);
        return;
    }
    cJSON *g = mm_store_settings_get();
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        if (n <= LIMIT_MM_BULK_ECHO) {
            struct mm_task t = {0};
            if (mm_store_task_get(tasks[i].id, &t) == MM_OK)
                cJSON_AddItemToArray(arr, mm_json_task(&t, g));
            mm_task_finish(&t);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "id", tasks[i].id);
            cJSON_AddStringToObject(o, "name", tasks[i].name);
            cJSON_AddItemToArray(arr, o);
        }
    }
    cJSON_Delete(g);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "count", (double)n);
    cJSON_AddItemToObject(o, "value", arr);
    mm_http_reply(req, 201, o);
}

static void free_tasks(struct mm_task *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mm_task_finish(&t[i]);
    free(t);
}

static void task_create(struct http_request *req, cJSON *body)
{
    char err[200];
    const char *source = mm_http_str(body, "source");
    const char *name = mm_http_str(body, "name");
    const char *group = mm_http_str(body, "group");
    const cJSON *sched = cJSON_GetObjectItem(body, "schedule");
    const cJSON *sj = cJSON_GetObjectItem(body, "settings");
    struct mm_task *t = xcalloc(1, sizeof *t);
    cJSON *own = NULL, *global = mm_store_settings_get();
    if (!body || !source || !*source || strlen(source) > LIMIT_MM_NAME ||
        !mm_bulk_source_ok(source)) {
        odata_bad_argument(req, "A task needs a \"source\" such as \\\\server\\share\\folder "
                                "(at most 255 characters).");
        goto out;
    }
    if (name && !name_ok(name, false)) {
        odata_bad_argument(req, "A task name has 1 to 255 characters.");
        goto out;
    }
    if (sj && !cJSON_IsNull(sj) && !(own = mm_json_settings_check(sj, false, err, sizeof err))) {
        odata_bad_argument(req, err);
        goto out;
    }
    if (!destination(cJSON_GetObjectItem(body, "destination"), t, err, sizeof err)) {
        odata_bad_argument(req, err);
        goto out;
    }
    group = task_group(group, own, global);
    if (!mm_store_group_exists(group)) {
        odata_bad_argument(req, "The agent group does not exist.");
        goto out;
    }
    if (sched && !cJSON_IsNull(sched) &&
        (!cJSON_IsString(sched) ||
         timefmt_parse_iso8601(sched->valuestring, &t->schedule_ms) < 0)) {
        odata_bad_argument(req, "\"schedule\" is an ISO 8601 time such as 2026-12-01T08:00:00Z, "
                                "or null.");
        goto out;
    }
    t->name = xstrdup(name ? name : source);
    t->source = xstrdup(source);
    t->group = xstrdup(group);
    t->settings = task_settings(global, own);
    insert_reply(req, t, 1, true);
out:
    cJSON_Delete(own);
    cJSON_Delete(global);
    free_tasks(t, 1);
}

static void add_task(void *ctx, const struct mm_task *t)
{
    struct page *p = ctx;
    cJSON_AddItemToArray(p->value, mm_json_task(t, p->global));
    p->last = t->seq;
}

static void task_list(struct http_request *req, int scan, const char *path)
{
    int top;
    int64_t after;
    if (!mm_http_page(req, &top, &after))
        return;
    struct mm_task_filter f = {.status = query_get(&req->query, "status"),
                               .search = query_get(&req->query, "search"),
                               .scan = scan};
    if (f.status && !*f.status)
        f.status = NULL;
    if (f.search && (!*f.search || strlen(f.search) > LIMIT_MM_NAME))
        f.search = NULL;
    cJSON *g = mm_store_settings_get();
    struct page pg = {.value = cJSON_CreateArray(), .global = g};
    int n = mm_store_task_list(&f, after, top, add_task, &pg);
    struct strbuf extra;
    strbuf_init(&extra, 0);
    strbuf_append(&extra, "", 0);
    const char *names[2] = {"status", "search"}, *vals[2] = {f.status, f.search};
    for (int i = 0; i < 2; i++)
        if (vals[i]) {
            char *e = query_encode(vals[i]);
            strbuf_printf(&extra, "&%s=%s", names[i], e);
            free(e);
        }
    cJSON *o = cJSON_CreateObject();
    mm_http_page_links(o, pg.value, path, top, n < 0 ? 0 : n, pg.last, extra.data);
    strbuf_finish(&extra);
    cJSON_Delete(g);
    mm_http_reply(req, 200, o);
}

/* ---- bulk ---- */

static bool bulk_dup(void *ctx, const struct mm_bulk_row *r)
{
    (void)ctx;
    struct mm_task t = {
        .source = r->source, .site = r->site, .library = r->library, .folder = r->folder};
    return mm_store_task_duplicate(&t);
}

static void bulk(struct http_request *req)
{
    if (!method_is(req, "POST")) {
        odata_method_not_allowed(req, "POST");
        return;
    }
    const char *ct = http_header(req, "Content-Type");
    bool json = ct && strstr(ct, "json");
    if (ct && !json && !strstr(ct, "csv") && !strstr(ct, "text/plain")) {
        odata_bad_argument(req, "Send the tasks as text/csv or application/json.");
        return;
    }
    struct mm_bulk b;
    mm_bulk_init(&b);
    mm_bulk_parse(&b, req->body.data ? req->body.data : "", req->body.len, json);
    mm_bulk_check(&b, site_exists, bulk_dup, NULL);
    if (b.nproblems == 0 && mm_store_task_count() + (int64_t)b.n > LIMIT_MM_TASKS) {
        cJSON *o = cJSON_CreateObject();
        char msg[120];
        snprintf(msg, sizeof msg, "The tenant would hold more than %d tasks", LIMIT_MM_TASKS);
        cJSON_AddNumberToObject(o, "task", 0);
        cJSON_AddNumberToObject(o, "column", 0);
        cJSON_AddStringToObject(o, "message", msg);
        cJSON_AddItemToArray(b.problems, o);
        b.nproblems++;
    }
    if (b.nproblems) {
        char msg[200];
        snprintf(msg, sizeof msg, "%zu problem(s) found; no task was created.%s", b.nproblems,
                 b.nproblems > LIMIT_MM_BULK_PROBLEMS ? " Only the first ones are listed." : "");
        cJSON *problems = b.problems;
        b.problems = NULL;
        odata_bad_argument_list(req, msg, problems);
        mm_bulk_finish(&b);
        return;
    }
    cJSON *global = mm_store_settings_get();
    struct mm_task *tasks = xcalloc(b.n, sizeof *tasks);
    for (size_t i = 0; i < b.n; i++) {
        struct mm_bulk_row *r = &b.rows[i];
        tasks[i].name = xstrdup(r->source);
        tasks[i].source = xstrdup(r->source);
        tasks[i].site = xstrdup(r->site);
        tasks[i].library = xstrdup(r->library);
        tasks[i].folder = xstrdup(r->folder);
        tasks[i].group = xstrdup(task_group(NULL, r->settings, global));
        tasks[i].settings = task_settings(global, r->settings);
    }
    bool groups_ok = true;
    for (size_t i = 0; i < b.n && groups_ok; i++)
        if (i == 0 || strcmp(tasks[i].group, tasks[i - 1].group))
            groups_ok = mm_store_group_exists(tasks[i].group);
    if (!groups_ok)
        odata_bad_argument(req, "The agent group of the tasks does not exist.");
    else
        insert_reply(req, tasks, b.n, false);
    free_tasks(tasks, b.n);
    cJSON_Delete(global);
    mm_bulk_finish(&b);
}

/* ---- scans ---- */

static void scans_create(struct http_request *req, cJSON *body)
{
    const cJSON *sources = cJSON_GetObjectItem(body, "sources");
    const char *group = mm_http_str(body, "group");
    int n = cJSON_GetArraySize(sources);
    if (!cJSON_IsArray(sources) || n < 1 || n > LIMIT_MM_BULK_ECHO) {
        odata_bad_argument(req, "A scan is {\"sources\":[\"\\\\\\\\server\\\\share\",...],"
                                "\"group\":name}.");
        return;
    }
    if (!group)
        group = "Default";
    if (!mm_store_group_exists(group)) {
        odata_bad_argument(req, "The agent group does not exist.");
        return;
    }
    cJSON *global = mm_store_settings_get(), *own = cJSON_CreateObject();
    cJSON_AddTrueToObject(own, "scanOnly");
    char *settings = task_settings(global, own);
    cJSON_Delete(own);
    cJSON_Delete(global);
    struct mm_task *tasks = xcalloc((size_t)n, sizeof *tasks);
    int i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, sources)
    {
        if (!cJSON_IsString(s) || strlen(s->valuestring) > LIMIT_MM_NAME ||
            !mm_bulk_source_ok(s->valuestring)) {
            char msg[120];
            snprintf(msg, sizeof msg, "Source %d. The source path is invalid", i + 1);
            odata_bad_argument(req, msg);
            free_tasks(tasks, (size_t)n);
            free(settings);
            return;
        }
        tasks[i].name = xstrdup(s->valuestring);
        tasks[i].source = xstrdup(s->valuestring);
        tasks[i].group = xstrdup(group);
        tasks[i].settings = xstrdup(settings);
        tasks[i].scan = true;
        i++;
    }
    insert_reply(req, tasks, (size_t)n, false);
    free_tasks(tasks, (size_t)n);
    free(settings);
}

static void scans_copy(struct http_request *req, cJSON *body)
{
    const cJSON *ids = cJSON_GetObjectItem(body, "ids");
    int n = cJSON_GetArraySize(ids);
    char err[200];
    if (!cJSON_IsArray(ids) || n < 1 || n > LIMIT_MM_BULK_ECHO) {
        odata_bad_argument(req, "Copy scans with {\"ids\":[...],\"destination\":{...}}.");
        return;
    }
    struct mm_task dest = {0};
    if (!destination(cJSON_GetObjectItem(body, "destination"), &dest, err, sizeof err)) {
        odata_bad_argument(req, err);
        return;
    }
    struct mm_task *tasks = xcalloc((size_t)n, sizeof *tasks);
    int i = 0;
    const cJSON *id;
    cJSON_ArrayForEach(id, ids)
    {
        struct mm_task scan = {0};
        if (!cJSON_IsString(id) || mm_store_task_get(id->valuestring, &scan) != MM_OK ||
            !scan.scan) {
            if (cJSON_IsString(id))
                mm_task_finish(&scan);
            odata_not_found(req, "A scan of that id does not exist.");
            free_tasks(tasks, (size_t)n);
            mm_task_finish(&dest);
            return;
        }
        tasks[i].name = xstrdup(scan.name);
        tasks[i].source = xstrdup(scan.source);
        tasks[i].group = xstrdup(scan.group);
        tasks[i].site = xstrdup(dest.site);
        tasks[i].library = xstrdup(dest.library);
        tasks[i].folder = xstrdup(dest.folder);
        cJSON *own = cJSON_Parse(scan.settings);
        cJSON_ReplaceItemInObjectCaseSensitive(own, "scanOnly", cJSON_CreateFalse());
        tasks[i].settings = task_settings(NULL, own);
        cJSON_Delete(own);
        mm_task_finish(&scan);
        i++;
    }
    insert_reply(req, tasks, (size_t)n, false);
    free_tasks(tasks, (size_t)n);
    mm_task_finish(&dest);
}

/* ---- reports ---- */

struct zip_reader {
    char task[UUID_BUF];
    struct mm_zip_entry *entries;
    size_t n, cap;
    size_t seg;         /* the segment held: entry seg (header and data), n: the directory */
    unsigned char *buf; /* its bytes */
    size_t len;
    uint64_t start; /* where it starts in the archive */
    bool loaded;
};

static void add_entry(void *ctx, const struct mm_report *r)
{
    struct zip_reader *z = ctx;
    if (z->n == z->cap) {
        z->cap = z->cap ? z->cap * 2 : 8;
        z->entries = xrealloc(z->entries, z->cap * sizeof *z->entries);
    }
    struct mm_zip_entry *e = &z->entries[z->n++];
    snprintf(e->name, sizeof e->name, "%s", r->name);
    e->crc32 = r->crc32;
    e->size = (uint32_t)r->size;
    e->stored = (uint32_t)r->stored;
    e->mtime_ms = r->created_ms;
}

static void zip_free(void *ctx)
{
    struct zip_reader *z = ctx;
    free(z->entries);
    free(z->buf);
    free(z);
}

/* Loads segment z->seg into buf. 0 or -1. */
static int zip_load(struct zip_reader *z)
{
    free(z->buf);
    z->buf = NULL;
    if (z->seg == z->n) {
        z->buf = mm_zip_central(z->entries, z->n, &z->len);
        return 0;
    }
    const struct mm_zip_entry *e = &z->entries[z->seg];
    void *data = NULL;
    struct mm_report r;
    /* The same report as listed, or the archive would not match its directory: cut it. */
    if (mm_store_report_get(z->task, e->name, &data, &r) != MM_OK || r.stored != e->stored ||
        r.crc32 != e->crc32) {
        free(data);
        return -1;
    }
    z->buf = xmalloc(30 + MM_ZIP_NAME_MAX + e->stored);
    size_t h = mm_zip_local(e, z->buf);
    memcpy(z->buf + h, data, e->stored);
    free(data);
    z->len = h + e->stored;
    return 0;
}

static ssize_t zip_read(void *ctx, uint64_t pos, char *out, size_t max)
{
    struct zip_reader *z = ctx;
    for (;;) {
        if (!z->loaded) {
            if (zip_load(z) < 0)
                return -1;
            z->loaded = true;
        }
        if (pos < z->start)
            return -1; /* only forward reads */
        if (pos < z->start + z->len) {
            size_t off = (size_t)(pos - z->start), n = z->len - off;
            if (n > max)
                n = max;
            memcpy(out, z->buf + off, n);
            return (ssize_t)n;
        }
        if (z->seg == z->n)
            return 0;
        z->start += z->len;
        z->seg++;
        z->loaded = false;
    }
}

static void add_report(void *ctx, const struct mm_report *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddNumberToObject(o, "round", r->round);
    cJSON_AddNumberToObject(o, "size", (double)r->size);
    cJSON_AddItemToArray(ctx, o);
}

static const char *report_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && !strcasecmp(dot, ".csv"))
        return "text/csv;charset=utf-8";
    if (dot && !strcasecmp(dot, ".json"))
        return "application/json;charset=utf-8";
    return "application/octet-stream";
}

static void reports(struct http_request *req, const char *task, const char *name, bool zip)
{
    if (!method_is(req, "GET")) {
        odata_method_not_allowed(req, "GET");
        return;
    }
    struct mm_task t = {0};
    if (mm_store_task_get(task, &t) != MM_OK) {
        odata_not_found(req, "The task does not exist.");
        return;
    }
    mm_task_finish(&t);
    if (zip) {
        struct zip_reader *z = xcalloc(1, sizeof *z);
        snprintf(z->task, sizeof z->task, "%s", task);
        mm_store_report_list(task, add_entry, z);
        uint64_t size = mm_zip_size(z->entries, z->n);
        char *cd = xasprintf("attachment; filename=\"reports-%s.zip\"", task);
        http_set_header(req, "Content-Type", "application/zip");
        http_set_header(req, "Content-Disposition", cd);
        free(cd);
        http_reply_reader(req, 200, size, zip_read, z, zip_free);
        return;
    }
    if (!name) {
        cJSON *arr = cJSON_CreateArray();
        mm_store_report_list(task, add_report, arr);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "value", arr);
        cJSON_AddNullToObject(o, "nextLink");
        mm_http_reply(req, 200, o);
        return;
    }
    void *z;
    struct mm_report r;
    if (mm_store_report_get(task, name, &z, &r) != MM_OK) {
        odata_not_found(req, "The task has no report of that name.");
        return;
    }
    unsigned char *data = NULL;
    int rc = mm_zip_inflate(z, (size_t)r.stored, (size_t)r.size, &data);
    free(z);
    if (rc < 0) {
        odata_internal_error(req, "The report is damaged.");
        return;
    }
    http_reply(req, 200, report_type(name), (char *)data, (size_t)r.size);
}

/* ---- summary ---- */

static void csv_field(struct strbuf *sb, const char *s, bool last)
{
    strbuf_puts(sb, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            strbuf_puts(sb, "\"\"");
        else
            strbuf_append(sb, p, 1);
    }
    strbuf_puts(sb, last ? "\"\r\n" : "\",");
}

static void summary_row(struct strbuf *sb, const struct mm_task *t, const char *base)
{
    char num[16][40];
    char *dest = t->site[0] ? xasprintf("%s%s/%s%s%s", base, strcmp(t->site, "/") ? t->site : "",
                                        t->library, t->folder[0] ? "/" : "", t->folder)
                            : xstrdup("");
    int64_t end = t->completed_ms ? t->completed_ms : 0;
    double minutes = t->started_ms && end ? (double)(end - t->started_ms) / 60000.0 : 0;
    snprintf(num[0], 40, "%" PRId64, t->files_scanned);
    snprintf(num[1], 40, "%" PRId64, t->files_total);
    snprintf(num[2], 40, "%" PRId64, t->files_migrated);
    snprintf(num[3], 40, "%" PRId64, t->files_failed);
    snprintf(num[4], 40, "%" PRId64, t->bytes_total);
    snprintf(num[5], 40, "%.2f", (double)t->bytes_total / 1073741824.0);
    snprintf(num[6], 40, "%" PRId64, t->bytes_migrated);
    snprintf(num[7], 40, "%.2f", (double)t->bytes_migrated / 1073741824.0);
    snprintf(num[8], 40, "%.1f", minutes);
    const char *fields[] = {t->name,
                            t->status,
                            t->source,
                            dest,
                            num[0],
                            num[1],
                            num[2],
                            num[3],
                            num[4],
                            num[5],
                            num[6],
                            num[7],
                            t->ran_by ? t->ran_by : "",
                            num[8],
                            t->id,
                            t->failure_reason ? t->failure_reason : "",
                            t->group};
    size_t n = sizeof fields / sizeof fields[0];
    for (size_t i = 0; i < n; i++)
        csv_field(sb, fields[i], i + 1 == n);
    free(dest);
}

struct summary {
    struct strbuf *sb;
    const char *base;
    int64_t last;
};

static void summary_each(void *ctx, const struct mm_task *t)
{
    struct summary *s = ctx;
    summary_row(s->sb, t, s->base);
    s->last = t->seq;
}

static void summary(struct http_request *req)
{
    if (!method_is(req, "GET")) {
        odata_method_not_allowed(req, "GET");
        return;
    }
    static const char *head[] = {"Task name",
                                 "Status",
                                 "Source",
                                 "Destination",
                                 "Total scanned items",
                                 "Total to be migrated items",
                                 "Migrated items",
                                 "Items not migrated",
                                 "Total bytes",
                                 "Total GB",
                                 "Migrated bytes",
                                 "Migrated GB",
                                 "Agent",
                                 "Duration (minutes)",
                                 "TaskID",
                                 "Task failure reason",
                                 "Agent group"};
    struct strbuf sb;
    strbuf_init(&sb, 0);
    strbuf_puts(&sb, "\xef\xbb\xbf");
    size_t nh = sizeof head / sizeof head[0];
    for (size_t i = 0; i < nh; i++)
        csv_field(&sb, head[i], i + 1 == nh);
    char *base = sp_call_base_url(req);
    struct summary s = {.sb = &sb, .base = base};
    const char *ids = query_get(&req->query, "ids");
    if (ids && *ids) {
        char *copy = xstrdup(ids), *save = NULL;
        int count = 0;
        for (char *id = strtok_r(copy, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
            struct mm_task t = {0};
            if (++count > LIMIT_MM_SUMMARY_IDS)
                break;
            if (mm_store_task_get(id, &t) == MM_OK)
                summary_row(&sb, &t, base);
            mm_task_finish(&t);
        }
        free(copy);
    } else {
        struct mm_task_filter f = {.scan = -1};
        int got = 0;
        for (int n; got < LIMIT_MM_SUMMARY_IDS &&
                    (n = mm_store_task_list(&f, s.last, LIMIT_MM_PAGE, summary_each, &s)) > 0;)
            got += n;
    }
    free(base);
    http_set_header(req, "Content-Disposition", "attachment; filename=\"SummaryReport.csv\"");
    size_t len = sb.len;
    http_reply(req, 200, "text/csv;charset=utf-8", strbuf_steal(&sb), len);
}

/* ---- routing ---- */

static void tasks(struct http_request *req, const struct mm_http_path *p, cJSON *body)
{
    if (p->n == 1) {
        if (method_is(req, "POST"))
            task_create(req, body);
        else if (method_is(req, "GET"))
            task_list(req, 0, MM_HTTP_PREFIX "tasks");
        else
            odata_method_not_allowed(req, "GET, POST");
        return;
    }
    if (p->n == 2 && mm_http_seg_is(p, 1, "bulk")) {
        bulk(req);
        return;
    }
    const char *id = p->seg[1];
    if (p->n == 2) {
        if (method_is(req, "GET")) {
            reply_task(req, 200, id);
        } else if (method_is(req, "DELETE")) {
            int rc = mm_store_task_delete(id);
            if (rc != MM_OK) {
                mm_http_fail(req, rc, "The task does not exist.");
                return;
            }
            mm_dispatch_wake();
            http_reply(req, 204, NULL, NULL, 0);
        } else {
            odata_method_not_allowed(req, "GET, DELETE");
        }
        return;
    }
    if (p->n == 3 && (mm_http_seg_is(p, 2, "run") || mm_http_seg_is(p, 2, "pause") ||
                      mm_http_seg_is(p, 2, "cancel"))) {
        if (!method_is(req, "POST")) {
            odata_method_not_allowed(req, "POST");
            return;
        }
        int rc = mm_http_seg_is(p, 2, "run")     ? mm_store_task_run(id, mm_dispatch_live)
                 : mm_http_seg_is(p, 2, "pause") ? mm_store_task_pause(id, mm_dispatch_live)
                                                 : mm_store_task_cancel(id);
        if (rc != MM_OK) {
            mm_http_fail(req, rc,
                         rc == MM_NOT_FOUND ? "The task does not exist."
                                            : "The task's status does not allow this action.");
            return;
        }
        mm_dispatch_wake();
        reply_task(req, 200, id);
        return;
    }
    if ((p->n == 3 || p->n == 4) && mm_http_seg_is(p, 2, "reports")) {
        reports(req, id, p->n == 4 ? p->seg[3] : NULL, false);
        return;
    }
    if (p->n == 3 && mm_http_seg_is(p, 2, "reports.zip")) {
        reports(req, id, NULL, true);
        return;
    }
    odata_not_found(req, NULL);
}

static void scans(struct http_request *req, const struct mm_http_path *p, cJSON *body)
{
    if (p->n == 1 && method_is(req, "POST"))
        scans_create(req, body);
    else if (p->n == 1 && method_is(req, "GET"))
        task_list(req, 1, MM_HTTP_PREFIX "scans");
    else if (p->n == 1)
        odata_method_not_allowed(req, "GET, POST");
    else if (p->n == 2 && mm_http_seg_is(p, 1, "copy") && method_is(req, "POST"))
        scans_copy(req, body);
    else if (p->n == 2 && mm_http_seg_is(p, 1, "copy"))
        odata_method_not_allowed(req, "POST");
    else
        odata_not_found(req, NULL);
}

static void route(struct http_request *req, const struct sp_auth_principal *who, cJSON *unused)
{
    (void)unused;
    struct mm_http_path p;
    mm_http_path_init(&p, req);
    if (p.bad || p.n == 0) {
        odata_not_found(req, NULL);
        mm_http_path_finish(&p);
        return;
    }
    if (mm_http_seg_is(&p, 0, "agent")) {
        mm_agent_api_serve(req, who, &p);
        mm_http_path_finish(&p);
        return;
    }
    if (p.n == 2 && mm_http_seg_is(&p, 0, "agents") && mm_http_seg_is(&p, 1, "register")) {
        mm_agent_api_register(req, who);
        mm_http_path_finish(&p);
        return;
    }
    if (!mm_http_require_admin(req, who)) {
        mm_http_path_finish(&p);
        return;
    }
    cJSON *body = NULL;
    bool bad = false;
    if (!(p.n == 2 && mm_http_seg_is(&p, 0, "tasks") && mm_http_seg_is(&p, 1, "bulk")))
        body = mm_http_json_body(req, &bad);
    if (bad) {
        odata_error(req, 400, SP_HRESULT_CLIENT_QUERY,
                    "Microsoft.SharePoint.Client.InvalidClientQueryException",
                    "Invalid JSON. The request body is not a JSON object.");
    } else if (req->body.len > LIMIT_SMALL_BODY && body) {
        odata_error(req, 413, SP_HRESULT_INVALID_ARG, "System.ArgumentException",
                    "The request body is too large.");
    } else if (mm_http_seg_is(&p, 0, "agents")) {
        agents(req, &p, body);
    } else if (mm_http_seg_is(&p, 0, "groups")) {
        groups(req, &p, body);
    } else if (mm_http_seg_is(&p, 0, "tasks")) {
        tasks(req, &p, body);
    } else if (mm_http_seg_is(&p, 0, "scans")) {
        scans(req, &p, body);
    } else if (p.n == 1 && mm_http_seg_is(&p, 0, "settings")) {
        settings(req, body);
    } else if (p.n == 1 && mm_http_seg_is(&p, 0, "summary.csv")) {
        summary(req);
    } else {
        odata_not_found(req, NULL);
    }
    cJSON_Delete(body);
    mm_http_path_finish(&p);
}

void mm_api_register(void)
{
    size_t max =
        LIMIT_MM_BULK_BYTES > LIMIT_MM_REPORT_BYTES ? LIMIT_MM_BULK_BYTES : LIMIT_MM_REPORT_BYTES;
    sp_routes_add_prefix_raw(MM_HTTP_PREFIX, route, max);
    sp_auth_set_delegate(MM_AGENT_CRED_PREFIX, mm_agent_api_delegate);
}
