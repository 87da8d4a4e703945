/*
 * mm_agent_api.c: what an agent calls. Registration makes the trust (a fresh credential of
 * which only the SHA-256 of the secret is kept); every other call checks the credential
 * (revoked, expired after LIMIT_MM_TRUST_DAYS unused on the emulator clock), records the
 * agent's liveness and answers with its orders. The heartbeat long-polls on mm_dispatch's
 * wake generation. Task state changes go through mm_store; the rules through mm_dispatch.
 */
#include "mm_agent_api.h"
#include "b64.h"
#include "clock.h"
#include "crypto.h"
#include "log.h"
#include "mm_dispatch.h"
#include "mm_json.h"
#include "mm_zip.h"
#include "odata.h"
#include "query.h"
#include "sp_call.h"
#include "spmig_limits.h"
#include "xmalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int heartbeat_seconds(void)
{
    unsigned s = mm_dispatch_timeout_s() / 3;
    return s ? (int)s : 1;
}

/* ---- registration ---- */

static bool text_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            return false;
    return true;
}

/* The checked shares (new array) or NULL with why; *readable counts the readable ones. */
static cJSON *check_shares(const cJSON *in, int *readable, char *err, size_t cap)
{
    *readable = 0;
    if (!cJSON_IsArray(in) || cJSON_GetArraySize(in) == 0 ||
        cJSON_GetArraySize(in) > LIMIT_MM_SHARES) {
        snprintf(err, cap, "\"shares\" must list 1 to %d shares.", LIMIT_MM_SHARES);
        return NULL;
    }
    cJSON *out = cJSON_CreateArray();
    const cJSON *s;
    cJSON_ArrayForEach(s, in)
    {
        const char *path = mm_http_str(s, "path");
        const cJSON *r = cJSON_GetObjectItem(s, "readable");
        const cJSON *e = cJSON_GetObjectItem(s, "error");
        if (!path || !*path || !text_ok(path, LIMIT_MM_PATH) || !cJSON_IsBool(r) ||
            (e && !cJSON_IsNull(e) && !cJSON_IsString(e))) {
            snprintf(err, cap,
                     "Each share is {\"path\":string,\"readable\":bool,\"error\":"
                     "string|null}.");
            cJSON_Delete(out);
            return NULL;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", path);
        cJSON_AddBoolToObject(o, "readable", cJSON_IsTrue(r));
        if (cJSON_IsString(e))
            cJSON_AddStringToObject(o, "error", e->valuestring);
        else
            cJSON_AddNullToObject(o, "error");
        cJSON_AddItemToArray(out, o);
        *readable += cJSON_IsTrue(r);
    }
    return out;
}

void mm_agent_api_register(struct http_request *req, const struct sp_auth_principal *who)
{
    if (!mm_http_require_admin(req, who))
        return;
    if (strcmp(req->method, "POST") != 0) {
        odata_method_not_allowed(req, "POST");
        return;
    }
    bool bad;
    cJSON *body = mm_http_json_body(req, &bad);
    char err[200];
    const char *name = mm_http_str(body, "name");
    const char *friendly = mm_http_str(body, "friendlyName");
    const char *host = mm_http_str(body, "host");
    const char *version = mm_http_str(body, "version");
    const char *group = mm_http_str(body, "group");
    const cJSON *max = cJSON_GetObjectItem(body, "maxTasks");
    int readable = 0;
    cJSON *shares = NULL;
    struct mm_agent old = {0};
    if (!body || !name || !*name || !text_ok(name, LIMIT_MM_NAME)) {
        odata_bad_argument(req, "An agent needs a \"name\" of 1 to 255 characters.");
        goto out;
    }
    if ((friendly && !text_ok(friendly, LIMIT_MM_NAME)) ||
        (host && !text_ok(host, LIMIT_MM_NAME)) ||
        (version && !text_ok(version, LIMIT_MM_VERSION))) {
        odata_bad_argument(req, "\"friendlyName\", \"host\" and \"version\" are short strings.");
        goto out;
    }
    if (max &&
        (!cJSON_IsNumber(max) || max->valuedouble < 1 || max->valuedouble > LIMIT_MM_AGENT_TASKS ||
         max->valuedouble != (int)max->valuedouble)) {
        snprintf(err, sizeof err, "\"maxTasks\" must be a whole number from 1 to %d.",
                 LIMIT_MM_AGENT_TASKS);
        odata_bad_argument(req, err);
        goto out;
    }
    if (group && !mm_store_group_exists(group)) {
        odata_bad_argument(req, "The agent group does not exist.");
        goto out;
    }
    shares = check_shares(cJSON_GetObjectItem(body, "shares"), &readable, err, sizeof err);
    if (!shares) {
        odata_bad_argument(req, err);
        goto out;
    }
    if (readable == 0) {
        odata_bad_argument(req, "No share is readable by the agent's account: it cannot be "
                                "trusted with any task.");
        goto out;
    }
    if (mm_store_agent_by_name(name, &old) == MM_OK && !old.deleted && mm_dispatch_live(&old)) {
        odata_exists(req, "An agent with this name is connected: two live agents cannot share "
                          "a name.");
        goto out;
    }
    unsigned char raw[32], hash[CRYPTO_SHA256_LEN];
    crypto_random(raw, sizeof raw);
    char secret[64];
    size_t n = b64_encode_to(raw, sizeof raw, secret);
    crypto_wipe(raw, sizeof raw);
    for (size_t i = 0; i < n; i++)
        secret[i] = secret[i] == '+' ? '-' : secret[i] == '/' ? '_' : secret[i];
    secret[MM_AGENT_SECRET_LEN] = '\0';
    crypto_sha256(secret, MM_AGENT_SECRET_LEN, hash);
    char *shares_text = cJSON_PrintUnformatted(shares);
    struct mm_agent a = {
        .name = (char *)name,
        .friendly_name = (char *)(friendly ? friendly : ""),
        .host = (char *)(host ? host : ""),
        .version = (char *)(version ? version : ""),
        .group = (char *)group,
        .shares = shares_text,
        .max_tasks = max ? (int)max->valuedouble : 1,
        .trustee = who->id,
    };
    int rc = mm_store_agent_register(&a, hash);
    free(shares_text);
    if (rc != MM_OK) {
        crypto_wipe(secret, sizeof secret);
        mm_http_fail(req, rc, "The agent could not be registered.");
        goto out;
    }
    struct mm_agent now = {0};
    mm_store_agent_get(a.id, &now);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", a.id);
    char *cred = xasprintf(MM_AGENT_CRED_PREFIX "%s.%s", a.id, secret);
    cJSON_AddStringToObject(o, "credential", cred);
    crypto_wipe(cred, strlen(cred));
    crypto_wipe(secret, sizeof secret);
    free(cred);
    cJSON_AddNumberToObject(o, "heartbeatSeconds", heartbeat_seconds());
    cJSON_AddItemToObject(o, "agent", mm_json_agent(&now));
    mm_agent_finish(&now);
    log_info("mm: agent %s registered as %s", name, a.id);
    mm_dispatch_wake();
    mm_http_reply(req, 201, o);
out:
    mm_agent_finish(&old);
    cJSON_Delete(shares);
    cJSON_Delete(body);
}

/* ---- the credential ---- */

/* Checks an agent credential (mma1.<id>.<secret>). NULL with a filled, or why it is refused
 * (a is then empty). */
static const char *credential_check(const char *cred, struct mm_agent *a)
{
    memset(a, 0, sizeof *a);
    size_t plen = strlen(MM_AGENT_CRED_PREFIX);
    if (!cred || strncmp(cred, MM_AGENT_CRED_PREFIX, plen) != 0 ||
        strlen(cred) != plen + UUID_STR_LEN + 1 + MM_AGENT_SECRET_LEN ||
        cred[plen + UUID_STR_LEN] != '.')
        return "Access denied. Send the agent credential (Authorization: Bearer mma1....).";
    char id[UUID_BUF];
    memcpy(id, cred + plen, UUID_STR_LEN);
    id[UUID_STR_LEN] = '\0';
    const char *secret = cred + plen + UUID_STR_LEN + 1;
    unsigned char hash[CRYPTO_SHA256_LEN];
    crypto_sha256(secret, MM_AGENT_SECRET_LEN, hash);
    const char *why = NULL;
    if (mm_store_agent_get(id, a) != MM_OK || a->deleted || !a->has_hash ||
        !crypto_memeq(hash, a->hash, sizeof hash))
        why = a->deleted ? "The agent's trust was revoked; register the agent again"
                         : "Access denied. The agent credential is not valid.";
    else if (clock_now_ms() - a->used_ms > (int64_t)LIMIT_MM_TRUST_DAYS * 86400000)
        why = "The agent's trust has expired; register the agent again";
    crypto_wipe(hash, sizeof hash);
    if (why)
        mm_agent_finish(a);
    return why;
}

/* Checks the Authorization header; fills a and returns true, or replies 401/403. */
static bool authenticate(struct http_request *req, const struct sp_auth_principal *who,
                         struct mm_agent *a)
{
    const char *h = http_header(req, "Authorization");
    const char *cred = h && !strncasecmp(h, "Bearer ", 7) ? h + 7 : NULL;
    if (who && !who->delegated) {
        odata_access_denied(req); /* a user token on an agent route */
        return false;
    }
    const char *why = credential_check(cred, a);
    if (why) {
        mm_http_unauthorized(req, why);
        return false;
    }
    return true;
}

int mm_agent_api_delegate(const char *token, struct sp_auth_principal *out)
{
    struct mm_agent a;
    if (credential_check(token, &a))
        return SP_AUTH_BAD_TOKEN;
    int rc = a.trustee ? sp_auth_principal_get(a.trustee, out) : SP_AUTH_BAD_TOKEN;
    mm_agent_finish(&a);
    if (rc == SP_AUTH_OK)
        out->delegated = true;
    return rc;
}

/* ---- heartbeat ---- */

struct beat {
    struct http_request *req;
    const struct mm_agent *agent;
    cJSON *orders;
    cJSON *global;
    const cJSON *running; /* the agent's "running" list */
};

static cJSON *task_spec(struct beat *b, const struct mm_task *t, bool resume)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", t->id);
    cJSON_AddStringToObject(o, "name", t->name);
    cJSON_AddNumberToObject(o, "round", t->round);
    cJSON_AddStringToObject(o, "source", t->source);
    if (t->site[0]) {
        cJSON *d = cJSON_AddObjectToObject(o, "destination");
        char *base = sp_call_base_url(b->req);
        char *url = xasprintf("%s%s", base, strcmp(t->site, "/") ? t->site : "");
        cJSON_AddStringToObject(d, "siteUrl", url);
        free(url);
        free(base);
        cJSON_AddStringToObject(d, "library", t->library);
        cJSON_AddStringToObject(d, "folder", t->folder);
    } else {
        cJSON_AddNullToObject(o, "destination");
    }
    cJSON *own = cJSON_Parse(t->settings);
    cJSON *eff = mm_json_settings_effective(b->global, own);
    cJSON_Delete(own);
    if (t->scan)
        cJSON_ReplaceItemInObjectCaseSensitive(eff, "scanOnly", cJSON_CreateTrue());
    cJSON_AddItemToObject(o, "settings", eff);
    cJSON_AddBoolToObject(o, "resume", resume);
    return o;
}

static void add_run(void *ctx, const struct mm_task *t)
{
    struct beat *b = ctx;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "order", "run");
    cJSON_AddItemToObject(o, "task", task_spec(b, t, t->resume));
    cJSON_AddItemToArray(b->orders, o);
}

static void add_order(struct beat *b, const char *kind, const char *task)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "order", kind);
    cJSON_AddStringToObject(o, "taskId", task);
    cJSON_AddItemToArray(b->orders, o);
}

static void stored_order(void *ctx, const char *kind, const char *task)
{
    add_order(ctx, kind, task);
}

static bool agent_lists(const cJSON *running, const char *task)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, running)
    {
        const char *id = mm_http_str(r, "taskId");
        if (id && !strcmp(id, task))
            return true;
    }
    return false;
}

/* A task the server has on this agent (Scanning, InProgress) that the agent does not list
 * is sent again (the run order was lost, or the agent restarted). */
static void resend_missing(void *ctx, const char *task, const char *status)
{
    struct beat *b = ctx;
    if (!strcmp(status, "Paused") || agent_lists(b->running, task))
        return;
    struct mm_task t = {0};
    if (mm_store_task_get(task, &t) != MM_OK)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "order", "run");
    cJSON_AddItemToObject(o, "task", task_spec(b, &t, true));
    cJSON_AddItemToArray(b->orders, o);
    mm_task_finish(&t);
}

/* Tasks the agent runs that are no longer its (requeued, deleted) are cancelled. */
static void cancel_strays(struct beat *b)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, b->running)
    {
        const char *id = mm_http_str(r, "taskId");
        if (!id)
            continue;
        struct mm_task t = {0};
        bool mine = mm_store_task_get(id, &t) == MM_OK && !strcmp(t.agent, b->agent->id);
        if (!mine)
            add_order(b, "cancel", id);
        mm_task_finish(&t);
    }
}

/* The tasks of the agent's list that it has ended since (the server let go of them after the
 * agent's end). Its "free" counted them as busy; their slots are free now, so a waiting
 * heartbeat fills them at once instead of at the agent's next call. */
static int ended_since(const struct beat *b)
{
    static const char *const ends[] = {"Completed", "CompletedWithIssues", "Failed", "Cancelled"};
    int n = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, b->running)
    {
        const char *id = mm_http_str(r, "taskId");
        struct mm_task t = {0};
        if (id && mm_store_task_get(id, &t) == MM_OK && !t.agent[0] && t.ran_by &&
            !strcmp(t.ran_by, b->agent->name))
            for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
                n += !strcmp(t.status, ends[i]);
        mm_task_finish(&t);
    }
    return n;
}

static void heartbeat(struct http_request *req, struct mm_agent *a)
{
    bool bad;
    cJSON *body = mm_http_json_body(req, &bad);
    const cJSON *running = cJSON_GetObjectItem(body, "running");
    const cJSON *free_slots = cJSON_GetObjectItem(body, "free");
    if (bad || (running && !cJSON_IsArray(running)) ||
        (free_slots && !cJSON_IsNumber(free_slots))) {
        cJSON_Delete(body);
        odata_bad_argument(req, "A heartbeat is {\"version\":string,\"running\":[{\"taskId\","
                                "\"state\"}],\"free\":number}.");
        return;
    }
    long wait = 0;
    const char *w = query_get(&req->query, "wait");
    if (w) {
        char *end;
        wait = strtol(w, &end, 10);
        if (!*w || *end || wait < 0) {
            cJSON_Delete(body);
            odata_bad_argument(req, "wait is a number of seconds (at most 25).");
            return;
        }
    }
    if (wait > LIMIT_MM_WAIT_SECONDS)
        wait = LIMIT_MM_WAIT_SECONDS;
    /* A waiting agent must not look disconnected: answer before half the timeout. */
    long most = (long)mm_dispatch_timeout_s() / 2;
    if (wait > most)
        wait = most;
    const char *version = mm_http_str(body, "version");
    int free_n = -1;
    if (free_slots && free_slots->valuedouble >= 0)
        free_n = free_slots->valuedouble > LIMIT_MM_AGENT_TASKS ? LIMIT_MM_AGENT_TASKS
                                                                : (int)free_slots->valuedouble;
    mm_store_agent_touch(a->id, version, free_n);
    struct beat b = {.req = req,
                     .agent = a,
                     .orders = cJSON_CreateArray(),
                     .global = mm_store_settings_get(),
                     .running = running};
    int64_t deadline = clock_real_ms() + wait * 1000;
    uint64_t gen = mm_dispatch_generation();
    mm_store_orders_pop(a->id, stored_order, &b);
    cancel_strays(&b);
    mm_store_agent_tasks(a->id, resend_missing, &b);
    for (;;) {
        struct mm_agent now = {0};
        if (mm_store_agent_get(a->id, &now) != MM_OK || now.deleted) {
            mm_agent_finish(&now);
            break;
        }
        if (now.free >= 0)
            now.free += ended_since(&b);
        mm_dispatch_assign(&now, add_run, &b);
        mm_agent_finish(&now);
        if (cJSON_GetArraySize(b.orders) > 0 || clock_real_ms() >= deadline ||
            mm_dispatch_stopping())
            break;
        gen = mm_dispatch_wait(gen, deadline);
        mm_store_orders_pop(a->id, stored_order, &b);
    }
    mm_store_agent_seen(a->id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "orders", b.orders);
    cJSON_AddNumberToObject(o, "heartbeatSeconds", heartbeat_seconds());
    cJSON_Delete(b.global);
    cJSON_Delete(body);
    mm_http_reply(req, 200, o);
}

/* ---- progress, end, reports ---- */

/* A count: a number from 0 to 2^53 (beyond that a double no longer counts by one). */
static int64_t num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(o, name);
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
        return 0;
    return v->valuedouble < 9007199254740992.0 ? (int64_t)v->valuedouble : 9007199254740992LL;
}

static void read_counts(const cJSON *o, struct mm_progress *p)
{
    p->files_scanned = num(o, "filesScanned");
    p->bytes_scanned = num(o, "bytesScanned");
    p->files_total = num(o, "filesTotal");
    p->bytes_total = num(o, "bytesTotal");
    p->files_migrated = num(o, "filesMigrated");
    p->bytes_migrated = num(o, "bytesMigrated");
    p->files_failed = num(o, "filesFailed");
}

/* The task, checked to be the caller's and of the round given (if any); replies otherwise. */
static bool own_task(struct http_request *req, const char *id, const struct mm_agent *a,
                     const cJSON *body, struct mm_task *t)
{
    if (mm_store_task_get(id, t) != MM_OK) {
        odata_not_found(req, "The task does not exist (it may have been deleted).");
        return false;
    }
    if (strcmp(t->agent, a->id) != 0) {
        mm_task_finish(t);
        odata_access_denied(req);
        return false;
    }
    const cJSON *round = cJSON_GetObjectItem(body, "round");
    if (round && (!cJSON_IsNumber(round) || round->valuedouble != (double)t->round)) {
        mm_task_finish(t);
        odata_exists(req, "The round is not the task's current round.");
        return false;
    }
    return true;
}

static void progress(struct http_request *req, const struct mm_agent *a, const char *id)
{
    bool bad;
    cJSON *body = mm_http_json_body(req, &bad);
    const char *status = mm_http_str(body, "status");
    if (!body || !status || (strcmp(status, "Scanning") && strcmp(status, "InProgress"))) {
        cJSON_Delete(body);
        odata_bad_argument(req, "Progress is {\"round\",\"status\":\"Scanning\"|\"InProgress\","
                                "\"filesScanned\",...}.");
        return;
    }
    struct mm_task t = {0};
    if (!own_task(req, id, a, body, &t)) {
        cJSON_Delete(body);
        return;
    }
    struct mm_progress p = {.round = t.round, .status = status};
    read_counts(body, &p);
    const char *order = NULL;
    int rc = mm_store_task_progress(id, a->id, &p, &order);
    mm_task_finish(&t);
    cJSON_Delete(body);
    if (rc != MM_OK) {
        mm_http_fail(req, rc, NULL);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (order)
        cJSON_AddStringToObject(o, "order", order);
    else
        cJSON_AddNullToObject(o, "order");
    mm_http_reply(req, 200, o);
}

static void end_round(struct http_request *req, const struct mm_agent *a, const char *id)
{
    static const char *ends[] = {"Completed", "CompletedWithIssues", "Failed", "Paused",
                                 "Cancelled"};
    bool bad;
    cJSON *body = mm_http_json_body(req, &bad);
    const char *status = mm_http_str(body, "status");
    const cJSON *reason = cJSON_GetObjectItem(body, "reason");
    bool known = false;
    for (size_t i = 0; status && i < sizeof ends / sizeof ends[0]; i++)
        known |= !strcmp(status, ends[i]);
    if (!body || !known || (reason && !cJSON_IsNull(reason) && !cJSON_IsString(reason))) {
        cJSON_Delete(body);
        odata_bad_argument(req, "The end of a round is {\"round\",\"status\":\"Completed\"|"
                                "\"CompletedWithIssues\"|\"Failed\"|\"Paused\"|\"Cancelled\","
                                "\"reason\",\"counts\":{...}}.");
        return;
    }
    struct mm_task t = {0};
    if (!own_task(req, id, a, body, &t)) {
        cJSON_Delete(body);
        return;
    }
    struct mm_progress p = {.round = t.round};
    read_counts(cJSON_GetObjectItem(body, "counts"), &p);
    cJSON *global = mm_store_settings_get(), *own = cJSON_Parse(t.settings);
    cJSON *eff = mm_json_settings_effective(global, own);
    bool rerun = cJSON_IsTrue(cJSON_GetObjectItem(eff, "autoRerun"));
    cJSON_Delete(eff);
    cJSON_Delete(own);
    cJSON_Delete(global);
    int rc = mm_store_task_end(id, a->id, &p, status,
                               cJSON_IsString(reason) ? reason->valuestring : NULL, rerun);
    mm_task_finish(&t);
    cJSON_Delete(body);
    if (rc != MM_OK) {
        mm_http_fail(req, rc, NULL);
        return;
    }
    mm_dispatch_wake(); /* a slot is free, or the task is queued again */
    struct mm_task now = {0};
    cJSON *o =
        mm_store_task_get(id, &now) == MM_OK ? mm_json_task(&now, NULL) : cJSON_CreateObject();
    mm_task_finish(&now);
    mm_http_reply(req, 200, o);
}

static bool report_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > LIMIT_MM_REPORT_NAME || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

/* The round a report's name carries ("ItemReport_R2.csv" -> 2), else fallback. */
static int name_round(const char *name, int fallback)
{
    const char *r = NULL;
    for (const char *p = strstr(name, "_R"); p; p = strstr(p + 1, "_R"))
        r = p;
    if (!r || r[2] < '0' || r[2] > '9')
        return fallback;
    long v = strtol(r + 2, NULL, 10);
    return v >= 0 && v < 1000000 ? (int)v : fallback;
}

static void report_put(struct http_request *req, const struct mm_agent *a, const char *id,
                       const char *name)
{
    if (!report_name_ok(name)) {
        char msg[80];
        snprintf(msg, sizeof msg, "A report name is 1 to %d of A-Z a-z 0-9 _ . -",
                 LIMIT_MM_REPORT_NAME);
        odata_bad_argument(req, msg);
        return;
    }
    if (req->body.len > LIMIT_MM_REPORT_BYTES) {
        odata_error(req, 413, SP_HRESULT_INVALID_ARG, "System.ArgumentException",
                    "The report is too large.");
        return;
    }
    struct mm_task t = {0};
    if (!own_task(req, id, a, NULL, &t))
        return;
    int round = name_round(name, t.round);
    mm_task_finish(&t);
    const char *data = req->body.data ? req->body.data : "";
    struct mm_report_body b = {.size = req->body.len};
    unsigned char *z = NULL;
    if (mm_zip_deflate(data, req->body.len, &z, &b.stored, &b.crc32) < 0) {
        odata_internal_error(req, "The report could not be compressed.");
        return;
    }
    b.deflated = z;
    int rc = mm_store_report_put(id, a->id, name, round, &b);
    free(z);
    if (rc != MM_OK) {
        mm_http_fail(req, rc, rc == MM_FULL ? "The task holds the most reports it may." : NULL);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddNumberToObject(o, "round", round);
    cJSON_AddNumberToObject(o, "size", (double)req->body.len);
    mm_http_reply(req, 201, o);
}

void mm_agent_api_serve(struct http_request *req, const struct sp_auth_principal *who,
                        const struct mm_http_path *p)
{
    struct mm_agent a = {0};
    if (!authenticate(req, who, &a))
        return;
    const char *m = req->method;
    if (p->n == 2 && mm_http_seg_is(p, 1, "heartbeat")) {
        if (strcmp(m, "POST"))
            odata_method_not_allowed(req, "POST");
        else
            heartbeat(req, &a);
    } else if (p->n == 4 && mm_http_seg_is(p, 1, "tasks") &&
               (mm_http_seg_is(p, 3, "progress") || mm_http_seg_is(p, 3, "end"))) {
        mm_store_agent_touch(a.id, NULL, -1);
        if (strcmp(m, "POST"))
            odata_method_not_allowed(req, "POST");
        else if (mm_http_seg_is(p, 3, "progress"))
            progress(req, &a, p->seg[2]);
        else
            end_round(req, &a, p->seg[2]);
    } else if (p->n == 5 && mm_http_seg_is(p, 1, "tasks") && mm_http_seg_is(p, 3, "reports")) {
        mm_store_agent_touch(a.id, NULL, -1);
        if (strcmp(m, "PUT"))
            odata_method_not_allowed(req, "PUT");
        else
            report_put(req, &a, p->seg[2], p->seg[4]);
    } else {
        odata_not_found(req, "No such agent route.");
    }
    mm_agent_finish(&a);
}
