/*
 * mm_json.c: Migration Manager's JSON shapes (task, agent, settings) and the check of a
 * settings object. It reads the store only for an agent's name and running tasks, and
 * answers no request.
 */
#include "mm_json.h"
#include "mm_dispatch.h"
#include "spmig_limits.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum kind { K_BOOL, K_DATE, K_EXTS, K_CHAR, K_NAME };

static const struct {
    const char *name, *bulk_name;
    enum kind kind;
} keys[] = {
    {"scanOnly", NULL, K_BOOL},
    {"preservePermissions", NULL, K_BOOL},
    {"migrateHiddenFiles", "MigrateHiddenItems", K_BOOL},
    {"createdAfter", "MigrateItemsCreatedAfter", K_DATE},
    {"modifiedAfter", "MigrateItemsModifiedAfter", K_DATE},
    {"skipExtensions", "SkipFilesWithExtensions", K_EXTS},
    {"migrateInvalidCharacters", NULL, K_BOOL},
    {"replaceInvalidCharactersWith", NULL, K_CHAR},
    {"group", NULL, K_NAME},
    {"autoRerun", NULL, K_BOOL},
    {"migrateOneNoteNotebook", "MigrateOneNoteNotebook", K_BOOL},
};
#define NKEYS (sizeof keys / sizeof keys[0])

bool mm_json_is_date(const char *s)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1601 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* One extension: letters, digits, '_' or '-', at most LIMIT_MM_EXTENSION. */
static bool ext_ok(const char *s, size_t n)
{
    if (n == 0 || n > LIMIT_MM_EXTENSION)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static cJSON *check_exts(const cJSON *v, char *err, size_t cap)
{
    cJSON *out = cJSON_CreateArray();
    if (cJSON_IsString(v)) {
        const char *p = v->valuestring;
        while (*p) {
            const char *e = strchr(p, ':');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            if (n && *p == '.') /* ".txt" is taken as "txt" */
                p++, n--;
            if (!ext_ok(p, n))
                goto bad;
            char *one = xstrndup(p, n);
            cJSON_AddItemToArray(out, cJSON_CreateString(one));
            free(one);
            p += n + (e ? 1 : 0);
            if (e && !*p)
                goto bad;
        }
        return out;
    }
    if (cJSON_IsArray(v)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, v)
        {
            const char *s = cJSON_IsString(x) ? x->valuestring : NULL;
            if (s && *s == '.')
                s++;
            if (!s || !ext_ok(s, strlen(s)))
                goto bad;
            cJSON_AddItemToArray(out, cJSON_CreateString(s));
        }
        return out;
    }
bad:
    cJSON_Delete(out);
    snprintf(err, cap,
             "skipExtensions is a list of extensions without dots, such as \"txt:mp3\" "
             "or [\"txt\",\"mp3\"].");
    return NULL;
}

cJSON *mm_json_settings_check(const cJSON *in, bool bulk, char *err, size_t cap)
{
    if (!cJSON_IsObject(in)) {
        snprintf(err, cap, "The settings must be a JSON object.");
        return NULL;
    }
    cJSON *out = cJSON_CreateObject();
    const cJSON *v;
    cJSON_ArrayForEach(v, in)
    {
        size_t k = NKEYS;
        for (size_t i = 0; i < NKEYS; i++)
            if (!strcmp(v->string, keys[i].name) ||
                (bulk && (!strcasecmp(v->string, keys[i].name) ||
                          (keys[i].bulk_name && !strcasecmp(v->string, keys[i].bulk_name)))))
                k = i;
        if (k == NKEYS) {
            snprintf(err, cap, "Unknown setting \"%.64s\".", v->string);
            goto bad;
        }
        const char *name = keys[k].name;
        cJSON *item = NULL;
        switch (keys[k].kind) {
        case K_BOOL:
            if (cJSON_IsBool(v))
                item = cJSON_CreateBool(cJSON_IsTrue(v));
            else if (bulk && cJSON_IsString(v) &&
                     (!strcasecmp(v->valuestring, "true") || !strcasecmp(v->valuestring, "false")))
                item = cJSON_CreateBool(!strcasecmp(v->valuestring, "true"));
            else
                snprintf(err, cap, "%s must be true or false.", name);
            break;
        case K_DATE:
            if (cJSON_IsNull(v) || (cJSON_IsString(v) && !*v->valuestring))
                item = cJSON_CreateNull();
            else if (cJSON_IsString(v) && mm_json_is_date(v->valuestring))
                item = cJSON_CreateString(v->valuestring);
            else
                snprintf(err, cap, "%s must be a date yyyy-mm-dd or null.", name);
            break;
        case K_EXTS:
            item = check_exts(v, err, cap);
            break;
        case K_CHAR:
            if (cJSON_IsNull(v))
                item = cJSON_CreateNull();
            else if (cJSON_IsString(v) && strlen(v->valuestring) == 1 &&
                     !strchr("\"*:<>?/\\|", v->valuestring[0]) &&
                     (unsigned char)v->valuestring[0] > ' ' && v->valuestring[0] != 0x7f)
                item = cJSON_CreateString(v->valuestring);
            else
                snprintf(err, cap,
                         "%s must be one character allowed in SharePoint names, or "
                         "null.",
                         name);
            break;
        case K_NAME:
            if (cJSON_IsString(v) && *v->valuestring && strlen(v->valuestring) <= LIMIT_MM_NAME)
                item = cJSON_CreateString(v->valuestring);
            else
                snprintf(err, cap, "%s must be a group name of 1 to %d characters.", name,
                         LIMIT_MM_NAME);
            break;
        }
        if (!item)
            goto bad;
        cJSON_DeleteItemFromObjectCaseSensitive(out, name);
        cJSON_AddItemToObject(out, name, item);
    }
    return out;
bad:
    cJSON_Delete(out);
    return NULL;
}

static void overlay(cJSON *into, const cJSON *from)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, from)
    {
        if (!cJSON_GetObjectItemCaseSensitive(into, v->string))
            continue; /* only known keys */
        cJSON_ReplaceItemInObjectCaseSensitive(into, v->string, cJSON_Duplicate(v, true));
    }
}

cJSON *mm_json_settings_effective(const cJSON *global, const cJSON *own)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddFalseToObject(o, "scanOnly");
    cJSON_AddFalseToObject(o, "preservePermissions");
    cJSON_AddTrueToObject(o, "migrateHiddenFiles");
    cJSON_AddNullToObject(o, "createdAfter");
    cJSON_AddNullToObject(o, "modifiedAfter");
    cJSON_AddArrayToObject(o, "skipExtensions");
    cJSON_AddTrueToObject(o, "migrateInvalidCharacters");
    cJSON_AddNullToObject(o, "replaceInvalidCharactersWith");
    cJSON_AddStringToObject(o, "group", "Default");
    cJSON_AddFalseToObject(o, "autoRerun");
    cJSON_AddFalseToObject(o, "migrateOneNoteNotebook");
    if (global)
        overlay(o, global);
    if (own)
        overlay(o, own);
    return o;
}

cJSON *mm_json_time(int64_t ms)
{
    if (!ms)
        return cJSON_CreateNull();
    char t[TIMEFMT_BUF];
    timefmt_iso8601(ms, t);
    return cJSON_CreateString(t);
}

cJSON *mm_json_task(const struct mm_task *t, const cJSON *global)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", t->id);
    cJSON_AddStringToObject(o, "name", t->name);
    cJSON_AddStringToObject(o, "status", t->status);
    char why[200];
    mm_dispatch_waiting_reason(t, why, sizeof why);
    if (why[0])
        cJSON_AddStringToObject(o, "waitingReason", why);
    else
        cJSON_AddNullToObject(o, "waitingReason");
    struct mm_agent a = {0};
    if (t->agent[0] && mm_store_agent_get(t->agent, &a) == MM_OK) {
        cJSON *ag = cJSON_AddObjectToObject(o, "agent");
        cJSON_AddStringToObject(ag, "id", a.id);
        cJSON_AddStringToObject(ag, "name", a.name);
    } else {
        cJSON_AddNullToObject(o, "agent");
    }
    mm_agent_finish(&a);
    if (t->ran_by) /* the agent that took it last, also once it is done */
        cJSON_AddStringToObject(o, "lastAgent", t->ran_by);
    else
        cJSON_AddNullToObject(o, "lastAgent");
    cJSON_AddNumberToObject(o, "round", t->round);
    cJSON *p = cJSON_AddObjectToObject(o, "progress");
    cJSON_AddNumberToObject(p, "filesScanned", (double)t->files_scanned);
    cJSON_AddNumberToObject(p, "bytesScanned", (double)t->bytes_scanned);
    cJSON_AddNumberToObject(p, "filesTotal", (double)t->files_total);
    cJSON_AddNumberToObject(p, "bytesTotal", (double)t->bytes_total);
    cJSON_AddNumberToObject(p, "filesMigrated", (double)t->files_migrated);
    cJSON_AddNumberToObject(p, "bytesMigrated", (double)t->bytes_migrated);
    cJSON_AddNumberToObject(p, "filesFailed", (double)t->files_failed);
    int percent = 0;
    if (!strcmp(t->status, "Completed") || !strcmp(t->status, "CompletedWithIssues"))
        percent = 100;
    else if (t->files_total > 0)
        percent = (int)((t->files_migrated + t->files_failed) * 100 / t->files_total);
    cJSON_AddNumberToObject(p, "percent", percent > 100 ? 100 : percent);
    cJSON_AddItemToObject(o, "created", mm_json_time(t->created_ms));
    cJSON_AddItemToObject(o, "started", mm_json_time(t->started_ms));
    cJSON_AddItemToObject(o, "completed", mm_json_time(t->completed_ms));
    if (t->failure_reason)
        cJSON_AddStringToObject(o, "failureReason", t->failure_reason);
    else
        cJSON_AddNullToObject(o, "failureReason");
    cJSON *own = cJSON_Parse(t->settings);
    cJSON_AddItemToObject(o, "settings", mm_json_settings_effective(global, own));
    cJSON_Delete(own);
    cJSON_AddStringToObject(o, "source", t->source);
    if (t->site[0]) {
        cJSON *d = cJSON_AddObjectToObject(o, "destination");
        cJSON_AddStringToObject(d, "site", t->site);
        cJSON_AddStringToObject(d, "library", t->library);
        cJSON_AddStringToObject(d, "folder", t->folder);
    } else {
        cJSON_AddNullToObject(o, "destination");
    }
    cJSON_AddStringToObject(o, "group", t->group);
    cJSON_AddItemToObject(o, "schedule", mm_json_time(t->schedule_ms));
    cJSON_AddBoolToObject(o, "scan", t->scan);
    return o;
}

static void add_task_id(void *ctx, const char *task, const char *status)
{
    (void)status;
    cJSON_AddItemToArray(ctx, cJSON_CreateString(task));
}

cJSON *mm_json_agent(const struct mm_agent *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", a->id);
    cJSON_AddStringToObject(o, "name", a->name);
    cJSON_AddStringToObject(o, "friendlyName", a->friendly_name);
    cJSON_AddStringToObject(o, "group", a->group);
    cJSON *running = cJSON_CreateArray();
    int n = mm_store_agent_tasks(a->id, add_task_id, running);
    cJSON_AddStringToObject(o, "state", mm_dispatch_agent_state(a, n));
    cJSON_AddItemToObject(o, "lastActivity", mm_json_time(a->activity_ms));
    cJSON_AddStringToObject(o, "version", a->version);
    cJSON_AddStringToObject(o, "host", a->host);
    cJSON *shares = cJSON_Parse(a->shares);
    cJSON_AddItemToObject(o, "shares", shares ? shares : cJSON_CreateArray());
    cJSON_AddNumberToObject(o, "maxTasks", a->max_tasks);
    cJSON_AddItemToObject(o, "runningTasks", running);
    return o;
}
