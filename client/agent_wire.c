/*
 * agent_wire.c: the JSON of `spmig agent`'s conversation with /api/mm/ (agent_wire.h), and
 * its credential file. Parsing is strict about types and lenient about what is absent (a
 * setting left out keeps Migration Manager's default). The HTTP calls and the threads that
 * make them are agent.c's.
 */
#include "agent_wire.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "fileio.h"
#include "sp_names.h"
#include "spmig_limits.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

void agent_wire_task_finish(struct agent_wire_task *t)
{
    free(t->id);
    free(t->name);
    free(t->source);
    free(t->site_url);
    free(t->library);
    free(t->folder);
    if (t->token)
        crypto_wipe(t->token, strlen(t->token));
    free(t->token);
    free(t->skip_extensions);
    memset(t, 0, sizeof *t);
}

/* The string member name of o, copied; NULL when absent or null. -1 when of another type. */
static int agent_wire_str(const cJSON *o, const char *name, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return -1;
    *out = xstrdup(v->valuestring);
    return 0;
}

/* A boolean member: def when absent or null, -1 when of another type. */
static int agent_wire_bool(const cJSON *o, const char *name, bool def, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = def;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsBool(v))
        return -1;
    *out = cJSON_IsTrue(v);
    return 0;
}

/* A day ("2024-01-31") or a full ISO 8601 time: 0 when absent, -1 when unreadable. */
static int agent_wire_date(const cJSON *o, const char *name, int64_t *ms)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *ms = 0;
    if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0]))
        return 0;
    if (!cJSON_IsString(v) || timefmt_parse_iso8601(v->valuestring, ms) < 0 || *ms <= 0)
        return -1;
    return 0;
}

/* skipExtensions: "txt:exe" or ["txt", "exe"]; NULL when absent. */
static int agent_wire_extensions(const cJSON *o, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "skipExtensions");
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsString(v)) {
        *out = xstrdup(v->valuestring);
        return 0;
    }
    if (!cJSON_IsArray(v))
        return -1;
    struct strbuf sb;
    strbuf_init(&sb, LIMIT_SMALL_BODY);
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e) || strchr(e->valuestring, ':') ||
            (sb.len && strbuf_puts(&sb, ":") < 0) || strbuf_puts(&sb, e->valuestring) < 0) {
            strbuf_finish(&sb);
            return -1;
        }
    }
    *out = xstrdup(sb.len ? sb.data : "");
    strbuf_finish(&sb);
    return 0;
}

/* The settings, from "settings" or, when the spec has none, from the spec itself. */
static int agent_wire_settings(const cJSON *spec, struct agent_wire_task *t, char *err)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(spec, "settings");
    if (!s || cJSON_IsNull(s))
        s = spec;
    if (!cJSON_IsObject(s)) {
        snprintf(err, AGENT_WIRE_ERR, "settings is not an object");
        return -1;
    }
    bool hidden, invalid;
    char *replace = NULL;
    const char *bad = NULL;
    if (agent_wire_bool(s, "scanOnly", false, &t->scan_only) < 0)
        bad = "scanOnly";
    else if (agent_wire_bool(s, "preservePermissions", false, &t->preserve_permissions) < 0)
        bad = "preservePermissions";
    else if (agent_wire_bool(s, "migrateHiddenFiles", true, &hidden) < 0)
        bad = "migrateHiddenFiles";
    else if (agent_wire_bool(s, "migrateInvalidCharacters", true, &invalid) < 0)
        bad = "migrateInvalidCharacters";
    else if (agent_wire_date(s, "createdAfter", &t->created_after_ms) < 0)
        bad = "createdAfter";
    else if (agent_wire_date(s, "modifiedAfter", &t->modified_after_ms) < 0)
        bad = "modifiedAfter";
    else if (agent_wire_extensions(s, &t->skip_extensions) < 0)
        bad = "skipExtensions";
    else if (agent_wire_str(s, "replaceInvalidCharactersWith", &replace) < 0 ||
             (replace && replace[0] &&
              (strlen(replace) != 1 || sp_names_invalid_char(replace[0]) || replace[0] == ' ' ||
               (unsigned char)replace[0] >= 0x80)))
        bad = "replaceInvalidCharactersWith";
    if (bad) {
        free(replace);
        snprintf(err, AGENT_WIRE_ERR, "the setting %s is not valid", bad);
        return -1;
    }
    t->skip_hidden = !hidden;
    t->skip_invalid_chars = !invalid;
    t->replace_char = replace ? replace[0] : '\0';
    free(replace);
    return 0;
}

int agent_wire_task_parse(const char *json, size_t len, struct agent_wire_task *t,
                          char err[AGENT_WIRE_ERR])
{
    memset(t, 0, sizeof *t);
    cJSON *j = cJSON_ParseWithLength(json, len);
    int rc = -1;
    if (!cJSON_IsObject(j)) {
        snprintf(err, AGENT_WIRE_ERR, "the task is not a JSON object");
        goto out;
    }
    const cJSON *dest = cJSON_GetObjectItemCaseSensitive(j, "destination");
    if (!dest || cJSON_IsNull(dest))
        dest = j;
    const cJSON *round = cJSON_GetObjectItemCaseSensitive(j, "round");
    if (agent_wire_str(j, "id", &t->id) < 0 || agent_wire_str(j, "name", &t->name) < 0 ||
        agent_wire_str(j, "source", &t->source) < 0 ||
        agent_wire_str(j, "accessToken", &t->token) < 0 || !cJSON_IsObject(dest) ||
        agent_wire_str(dest, "siteUrl", &t->site_url) < 0 ||
        agent_wire_str(dest, "library", &t->library) < 0 ||
        agent_wire_str(dest, "folder", &t->folder) < 0 ||
        (round && !cJSON_IsNull(round) &&
         (!cJSON_IsNumber(round) || round->valuedouble < 0 || round->valuedouble > 1e6))) {
        snprintf(err, AGENT_WIRE_ERR, "a field of the task has the wrong type");
        goto out;
    }
    t->round = cJSON_IsNumber(round) ? (int)round->valuedouble : 0;
    if (agent_wire_settings(j, t, err) < 0)
        goto out;
    /* A scan reads the source only: it may have no destination, as Migration Manager's scans
     * have none. */
    if (!t->id || !t->id[0] || !t->source || !t->source[0] ||
        (!t->scan_only && (!t->site_url || !t->site_url[0]))) {
        snprintf(err, AGENT_WIRE_ERR, "the task has no id, source or destination siteUrl");
        goto out;
    }
    if (t->site_url && !t->site_url[0]) {
        free(t->site_url);
        t->site_url = NULL;
    }
    rc = 0;
out:
    cJSON_Delete(j);
    if (rc < 0)
        agent_wire_task_finish(t);
    return rc;
}

static int agent_wire_order_kind(const char *s)
{
    static const char *const names[] = {"run", "pause", "resume", "cancel"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int agent_wire_parse_heartbeat(const char *body, size_t len, struct agent_wire_order **orders,
                               size_t *n, int *heartbeat_s)
{
    *orders = NULL;
    *n = 0;
    cJSON *j = cJSON_ParseWithLength(body ? body : "", len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return -1;
    }
    const cJSON *hb = cJSON_GetObjectItemCaseSensitive(j, "heartbeatSeconds");
    if (cJSON_IsNumber(hb) && hb->valuedouble >= 1 && hb->valuedouble <= 3600)
        *heartbeat_s = (int)hb->valuedouble;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "orders");
    size_t cap = (size_t)cJSON_GetArraySize(list);
    if (cap)
        *orders = xcalloc(cap, sizeof **orders);
    const cJSON *o;
    cJSON_ArrayForEach(o, list)
    {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "order");
        int k = cJSON_IsString(kind) ? agent_wire_order_kind(kind->valuestring) : -1;
        const cJSON *task = cJSON_GetObjectItemCaseSensitive(o, "task");
        const cJSON *tid = cJSON_GetObjectItemCaseSensitive(k == AGENT_WIRE_RUN ? task : o,
                                                            k == AGENT_WIRE_RUN ? "id" : "taskId");
        if (k < 0 || !cJSON_IsString(tid) || !tid->valuestring[0] ||
            (k == AGENT_WIRE_RUN && !cJSON_IsObject(task))) {
            fprintf(stderr, "spmig agent: an order it cannot read was left out\n");
            continue;
        }
        struct agent_wire_order *out = &(*orders)[(*n)++];
        out->kind = (enum agent_wire_order_kind)k;
        out->task_id = xstrdup(tid->valuestring);
        if (k == AGENT_WIRE_RUN) {
            out->task_json = cJSON_PrintUnformatted(task);
            if (!out->task_json)
                abort();
        }
    }
    cJSON_Delete(j);
    return 0;
}

void agent_wire_orders_free(struct agent_wire_order *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(o[i].task_id);
        free(o[i].task_json);
    }
    free(o);
}

int agent_wire_parse_progress_answer(const char *body, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(body ? body : "", len);
    int rc = -1;
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(j, "order");
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(j, "state");
    if (cJSON_IsString(order)) {
        int k = agent_wire_order_kind(order->valuestring);
        if (k == AGENT_WIRE_PAUSE || k == AGENT_WIRE_CANCEL)
            rc = k;
    }
    if (rc < 0 && cJSON_IsString(state)) {
        if (strcmp(state->valuestring, "Paused") == 0)
            rc = AGENT_WIRE_PAUSE;
        else if (strcmp(state->valuestring, "Cancelled") == 0)
            rc = AGENT_WIRE_CANCEL;
    }
    cJSON_Delete(j);
    return rc;
}

int agent_wire_parse_register(const char *body, size_t len, char **id, char **credential,
                              char err[AGENT_WIRE_ERR])
{
    *id = *credential = NULL;
    cJSON *j = cJSON_ParseWithLength(body ? body : "", len);
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(j, "id");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "credential");
    int rc = -1;
    if (cJSON_IsString(i) && i->valuestring[0] && cJSON_IsString(c) && c->valuestring[0]) {
        *id = xstrdup(i->valuestring);
        *credential = xstrdup(c->valuestring);
        rc = 0;
    } else {
        snprintf(err, AGENT_WIRE_ERR, "the register answer has no id and credential");
    }
    if (cJSON_IsString(c))
        crypto_wipe(c->valuestring, strlen(c->valuestring));
    cJSON_Delete(j);
    return rc;
}

/* The text of o, freed; abort on no memory (cJSON's only failure here). */
static char *agent_wire_print(cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text)
        abort();
    return text;
}

static cJSON *agent_wire_object(void)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        abort();
    return o;
}

char *agent_wire_register_body(const char *name, const char *group, const char *version,
                               const char *host, const struct agent_wire_share *shares, size_t n,
                               int max_tasks)
{
    cJSON *o = agent_wire_object();
    cJSON_AddStringToObject(o, "name", name);
    if (group)
        cJSON_AddStringToObject(o, "group", group);
    cJSON_AddStringToObject(o, "version", version);
    if (host && *host)
        cJSON_AddStringToObject(o, "host", host);
    cJSON_AddNumberToObject(o, "maxTasks", max_tasks);
    cJSON *a = cJSON_AddArrayToObject(o, "shares");
    for (size_t i = 0; i < n; i++) {
        cJSON *s = agent_wire_object();
        cJSON_AddStringToObject(s, "path", shares[i].path);
        cJSON_AddBoolToObject(s, "readable", shares[i].readable);
        if (shares[i].error)
            cJSON_AddStringToObject(s, "error", shares[i].error);
        cJSON_AddItemToArray(a, s);
    }
    return agent_wire_print(o);
}

char *agent_wire_heartbeat_body(const char *version, const struct agent_wire_running *tasks,
                                size_t n, int free_slots)
{
    cJSON *o = agent_wire_object();
    cJSON_AddStringToObject(o, "version", version);
    cJSON_AddNumberToObject(o, "free", free_slots);
    cJSON *a = cJSON_AddArrayToObject(o, "running");
    for (size_t i = 0; i < n; i++) {
        cJSON *t = agent_wire_object();
        cJSON_AddStringToObject(t, "taskId", tasks[i].id);
        cJSON_AddStringToObject(t, "state", tasks[i].state);
        cJSON_AddItemToArray(a, t);
    }
    return agent_wire_print(o);
}

/* The contract's Counts (files only, as the server shows them). */
static void agent_wire_counts(cJSON *o, const struct migrate_progress *p)
{
    cJSON_AddNumberToObject(o, "filesScanned", (double)p->files_scanned);
    cJSON_AddNumberToObject(o, "bytesScanned", (double)p->bytes_scanned);
    cJSON_AddNumberToObject(o, "filesTotal", (double)p->files_to_migrate);
    cJSON_AddNumberToObject(o, "bytesTotal", (double)p->bytes_to_migrate);
    cJSON_AddNumberToObject(o, "filesMigrated", (double)p->files_migrated);
    cJSON_AddNumberToObject(o, "bytesMigrated", (double)p->bytes_migrated);
    cJSON_AddNumberToObject(o, "filesFailed", (double)p->files_failed);
}

char *agent_wire_progress_body(const struct migrate_progress *p)
{
    cJSON *o = agent_wire_object();
    cJSON_AddNumberToObject(o, "round", p->round);
    cJSON_AddStringToObject(o, "status", p->phase == MIGRATE_SCANNING ? "Scanning" : "InProgress");
    agent_wire_counts(o, p);
    return agent_wire_print(o);
}

char *agent_wire_end_body(int round, const char *status, const char *reason,
                          const struct migrate_progress *counts)
{
    cJSON *o = agent_wire_object();
    cJSON_AddNumberToObject(o, "round", round);
    cJSON_AddStringToObject(o, "status", status);
    if (reason && reason[0])
        cJSON_AddStringToObject(o, "reason", reason);
    if (counts)
        agent_wire_counts(cJSON_AddObjectToObject(o, "counts"), counts);
    return agent_wire_print(o);
}

const char *agent_wire_status(const char *s)
{
    static const char *const known[] = {"Completed", "CompletedWithIssues", "Failed", "Paused",
                                        "Cancelled"};
    if (strcmp(s, "Completed with issues") == 0)
        return "CompletedWithIssues";
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(s, known[i]) == 0)
            return known[i];
    return "Failed";
}

int agent_wire_credential_save(const char *path, const struct agent_wire_credential *c)
{
    cJSON *o = agent_wire_object();
    cJSON_AddStringToObject(o, "server", c->server);
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddStringToObject(o, "id", c->id);
    cJSON_AddStringToObject(o, "credential", c->credential);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        abort();
    size_t n = strlen(text);
    int rc = fileio_replace(path, text, n, 0600);
    int e = errno;
    crypto_wipe(text, n);
    free(text);
    errno = e;
    return rc;
}

int agent_wire_credential_load(const char *path, struct agent_wire_credential *c,
                               char err[AGENT_WIRE_ERR])
{
    memset(c, 0, sizeof *c);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, AGENT_WIRE_ERR, "%s: %s", path, strerror(errno));
        return -1;
    }
    char buf[8192];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 0 || (size_t)n >= sizeof buf) {
        snprintf(err, AGENT_WIRE_ERR, "%s: %s", path, n < 0 ? strerror(errno) : "too large");
        return -1;
    }
    cJSON *j = cJSON_ParseWithLength(buf, (size_t)n);
    crypto_wipe(buf, sizeof buf);
    int rc = -1;
    if (agent_wire_str(j, "server", &c->server) == 0 && agent_wire_str(j, "name", &c->name) == 0 &&
        agent_wire_str(j, "id", &c->id) == 0 &&
        agent_wire_str(j, "credential", &c->credential) == 0 && c->server && c->name && c->id &&
        c->credential)
        rc = 0;
    const cJSON *cred = cJSON_GetObjectItemCaseSensitive(j, "credential");
    if (cJSON_IsString(cred))
        crypto_wipe(cred->valuestring, strlen(cred->valuestring));
    cJSON_Delete(j);
    if (rc < 0) {
        agent_wire_credential_finish(c);
        snprintf(err, AGENT_WIRE_ERR, "%s: not an agent credential file", path);
    }
    return rc;
}

void agent_wire_credential_finish(struct agent_wire_credential *c)
{
    if (c->credential)
        crypto_wipe(c->credential, strlen(c->credential));
    free(c->server);
    free(c->name);
    free(c->id);
    free(c->credential);
    memset(c, 0, sizeof *c);
}
