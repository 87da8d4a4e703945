/*
 * events.c: builds the migration job events (every value a string, nested statistics as
 * JSON-encoded strings, key order as the service's samples show it) and their queue message
 * form, plain or in the encrypted envelope. It keeps no state: counting happens in the
 * caller's events_counters, sending and the event log belong to the import job.
 */
#include "events.h"
#include "b64.h"
#include "crypto.h"
#include "spmig_limits.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATION_TYPE      "None" /* import through the Migration API */
#define MIGRATION_DIRECTION "Import"
#define DEFAULT_ERROR_TYPE  "Microsoft.SharePoint.SPException"

static const struct {
    const char *name;
    uint64_t below; /* upper bound, excluded; 0 = no bound */
} buckets[EVENTS_SIZE_BUCKETS] = {
    {"0-1K", 1ULL << 10},    {"1-10K", 10ULL << 10}, {"10-100K", 100ULL << 10},
    {"100K-1M", 1ULL << 20}, {"1-10M", 10ULL << 20}, {"10-100M", 100ULL << 20},
    {"100M-1G", 1ULL << 30}, {"1-10G", 10ULL << 30}, {"10-100G", 100ULL << 30},
    {"100G-1T", 0},
};

static const char *const kind_names[EVENTS_OBJECT_KINDS] = {
    "SPUser", "SPFolder", "SPDocumentLibrary", "SPFile", "SPListItem",
};

void events_counters_init(struct events_counters *c)
{
    memset(c, 0, sizeof *c);
}

void events_count_file(struct events_counters *c, uint64_t size, bool current, uint64_t download_ms,
                       uint64_t creation_ms)
{
    size_t b = 0;
    while (buckets[b].below && size >= buckets[b].below)
        b++;
    struct events_size_stat *s = &c->by_size[b];
    s->count++;
    s->total_size += size;
    s->total_download_ms += download_ms;
    s->total_creation_ms += creation_ms;
    c->files_created++;
    c->bytes_processed += size;
    if (current) {
        c->files_created_current++;
        c->bytes_current += size;
    }
}

void events_count_object(struct events_counters *c, enum events_object_kind kind, uint64_t ms,
                         unsigned versions)
{
    struct events_type_stat *t = &c->by_type[kind];
    t->count++;
    t->total_time_ms += ms;
    if (versions > 1) {
        t->accumulated_versions += versions - 1;
        t->objects_with_versions++;
    }
    c->objects_processed++;
}

/* cJSON reports out of memory by returning NULL; like xmalloc, give up loudly. */
static void add(cJSON *obj, const char *key, const char *value)
{
    if (!cJSON_AddStringToObject(obj, key, value ? value : "")) {
        fprintf(stderr, "spmig: out of memory building an event\n");
        abort();
    }
}

static void add_u64(cJSON *obj, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    add(obj, key, buf);
}

static cJSON *begin(const char *event, const struct events_job *job, int64_t now_ms)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj) {
        fprintf(stderr, "spmig: out of memory building an event\n");
        abort();
    }
    char t[TIMEFMT_BUF];
    timefmt_sp_event(now_ms, t);
    add(obj, "Event", event);
    add(obj, "JobId", job->job_id);
    add(obj, "Time", t);
    return obj;
}

static cJSON *end(cJSON *obj, const struct events_job *job)
{
    add(obj, "CorrelationId", job->correlation_id);
    return obj;
}

static void add_common(cJSON *obj, const struct events_job *job)
{
    add_u64(obj, "TotalRetryCount", job->retry_count);
    add(obj, "MigrationType", MIGRATION_TYPE);
    add(obj, "MigrationDirection", MIGRATION_DIRECTION);
}

cJSON *events_job_queued(const struct events_job *job, int64_t now_ms)
{
    cJSON *obj = begin("JobQueued", job, now_ms);
    add(obj, "SiteId", job->site_id);
    add(obj, "DbId", job->db_id);
    add_common(obj, job);
    return end(obj, job);
}

cJSON *events_job_start(const struct events_job *job, int64_t now_ms)
{
    cJSON *obj = begin("JobStart", job, now_ms);
    add(obj, "SiteId", job->site_id);
    add(obj, "WebId", job->web_id);
    add(obj, "DBId", job->db_id); /* sic: JobStart spells it DBId, JobQueued DbId */
    add(obj, "FarmId", job->farm_id);
    add(obj, "ServerId", job->server_id);
    add(obj, "SubscriptionId", job->subscription_id);
    add_common(obj, job);
    return end(obj, job);
}

/* The two nested statistics, as JSON texts with integer numbers; only non-empty entries. */
static void add_stats(cJSON *obj, const struct events_counters *c)
{
    struct strbuf sb;
    strbuf_init(&sb, 0);
    strbuf_puts(&sb, "{");
    bool first = true;
    for (size_t b = 0; b < EVENTS_SIZE_BUCKETS; b++) {
        const struct events_size_stat *s = &c->by_size[b];
        if (!s->count)
            continue;
        strbuf_printf(&sb,
                      "%s\"%s\":{\"Count\":%" PRIu64 ",\"TotalSize\":%" PRIu64
                      ",\"TotalDownloadTime\":%" PRIu64 ",\"TotalCreationTime\":%" PRIu64 "}",
                      first ? "" : ",", buckets[b].name, s->count, s->total_size,
                      s->total_download_ms, s->total_creation_ms);
        first = false;
    }
    strbuf_puts(&sb, "}");
    add(obj, "CreatedOrUpdatedFileStatsBySize", sb.data);
    strbuf_finish(&sb);

    strbuf_puts(&sb, "{");
    first = true;
    for (size_t k = 0; k < EVENTS_OBJECT_KINDS; k++) {
        const struct events_type_stat *t = &c->by_type[k];
        if (!t->count)
            continue;
        strbuf_printf(&sb,
                      "%s\"%s\":{\"Count\":%" PRIu64 ",\"TotalTime\":%" PRIu64
                      ",\"AccumulatedVersions\":%" PRIu64 ",\"ObjectsWithVersions\":%" PRIu64 "}",
                      first ? "" : ",", kind_names[k], t->count, t->total_time_ms,
                      t->accumulated_versions, t->objects_with_versions);
        first = false;
    }
    strbuf_puts(&sb, "}");
    add(obj, "ObjectsStatsByType", sb.data);
    strbuf_finish(&sb);
}

/* The fields JobProgress and JobEnd share, up to SqlQueryCount. */
static void add_totals(cJSON *obj, const struct events_job *job, const struct events_counters *c)
{
    add_u64(obj, "FilesCreated", c->files_created);
    add_u64(obj, "BytesProcessed", c->bytes_processed);
    add_u64(obj, "ObjectsProcessed", c->objects_processed);
    add_u64(obj, "TotalExpectedSPObjects", c->expected_objects);
    add_u64(obj, "TotalErrors", c->errors);
    add_u64(obj, "TotalWarnings", c->warnings);
    add_common(obj, job);
    add_u64(obj, "WaitTimeOnSqlThrottlingMilliseconds", c->sql_throttle_wait_ms);
    add_u64(obj, "TotalDurationInMs", c->duration_ms);
    add_u64(obj, "CpuDurationInMs", c->cpu_ms);
    add_u64(obj, "SqlDurationInMs", c->sql_ms);
    add_u64(obj, "SqlQueryCount", c->sql_queries);
}

cJSON *events_job_progress(const struct events_job *job, int64_t now_ms,
                           const struct events_counters *c)
{
    cJSON *obj = begin("JobProgress", job, now_ms);
    add_totals(obj, job, c);
    add_stats(obj, c);
    add_u64(obj, "TotalExpectedBytes", c->expected_bytes);
    return end(obj, job);
}

cJSON *events_job_end(const struct events_job *job, int64_t now_ms, const struct events_counters *c)
{
    cJSON *obj = begin("JobEnd", job, now_ms);
    add_totals(obj, job, c);
    add(obj, "IsShallowCopy", "False");
    add_stats(obj, c);
    add_u64(obj, "TotalExpectedBytes", c->expected_bytes);
    add_u64(obj, "FilesCreatedIrrespectiveOfVersions", c->files_created_current);
    add_u64(obj, "BytesProcessedOnlyCurrentVersion", c->bytes_current);
    return end(obj, job);
}

cJSON *events_job_issue(const struct events_job *job, int64_t now_ms, enum events_severity sev,
                        const struct events_object_error *e)
{
    static const char *const names[] = {"JobWarning", "JobError", "JobFatalError"};
    cJSON *obj = begin(names[sev], job, now_ms);
    add_common(obj, job);
    add(obj, "ObjectType", e->object_type);
    add(obj, "Url", e->url);
    add(obj, "Id", e->id);
    char code[16];
    snprintf(code, sizeof code, "%" PRId32, e->error_code);
    add(obj, "ErrorCode", code);
    add(obj, "ErrorType", e->error_type ? e->error_type : DEFAULT_ERROR_TYPE);
    add(obj, "Message", e->message);
    return end(obj, job);
}

cJSON *events_job_cancelled(const struct events_job *job, int64_t now_ms, bool by_user)
{
    cJSON *obj = begin("JobCancelled", job, now_ms);
    add_u64(obj, "TotalRetryCount", job->retry_count);
    add(obj, "CancelledByUser", by_user ? "true" : "false");
    add(obj, "MigrationType", MIGRATION_TYPE);
    add(obj, "MigrationDirection", MIGRATION_DIRECTION);
    return end(obj, job);
}

cJSON *events_job_deleted(const struct events_job *job, int64_t now_ms)
{
    return end(begin("JobDeleted", job, now_ms), job);
}

cJSON *events_job_log_file_create(const struct events_job *job, int64_t now_ms,
                                  const char *file_name)
{
    cJSON *obj = begin("JobLogFileCreate", job, now_ms);
    add(obj, "FileName", file_name);
    return end(obj, job);
}

char *events_to_json(const cJSON *event)
{
    char *text = cJSON_PrintUnformatted(event);
    if (!text) {
        fprintf(stderr, "spmig: out of memory printing an event\n");
        abort();
    }
    /* Hand out memory from our allocator, whatever hooks cJSON was given. */
    char *copy = xstrdup(text);
    cJSON_free(text);
    return copy;
}

char *events_encode_message(const char *json, const char *job_id,
                            const unsigned char key[AES_KEY_LEN])
{
    size_t len = strlen(json);
    if (!key)
        return b64_encode(json, len);

    unsigned char iv[AES_IV_LEN];
    crypto_random(iv, sizeof iv);
    size_t ctlen;
    unsigned char *ct = aes_encrypt_buf(key, iv, json, len, &ctlen);
    if (!ct)
        return NULL;
    char *iv64 = b64_encode(iv, sizeof iv);
    char *ct64 = b64_encode(ct, ctlen);
    free(ct);
    cJSON *env = cJSON_CreateObject();
    if (!env) {
        fprintf(stderr, "spmig: out of memory building an event\n");
        abort();
    }
    add(env, "Label", "Encrypted");
    add(env, "JobId", job_id);
    add(env, "IV", iv64);
    add(env, "Content", ct64);
    free(iv64);
    free(ct64);
    char *text = events_to_json(env);
    cJSON_Delete(env);
    char *out = b64_encode(text, strlen(text));
    free(text);
    return out;
}

static bool is_object(const char *text, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(text, len);
    bool ok = cJSON_IsObject(j);
    cJSON_Delete(j);
    return ok;
}

char *events_decode_message(const char *text, size_t len, const unsigned char *key)
{
    if (len > LIMIT_MESSAGE_BYTES)
        return NULL;
    size_t n;
    unsigned char *raw = b64_decode(text, len, &n);
    if (!raw)
        return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)raw, n);
    if (!cJSON_IsObject(j))
        goto fail;
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(j, "Label");
    if (!cJSON_IsString(label) || strcmp(label->valuestring, "Encrypted") != 0) {
        if (strlen((char *)raw) != n) /* a NUL inside: not one JSON text */
            goto fail;
        cJSON_Delete(j);
        return (char *)raw; /* a plain event; b64_decode NUL-terminated it */
    }

    const cJSON *iv64 = cJSON_GetObjectItemCaseSensitive(j, "IV");
    const cJSON *ct64 = cJSON_GetObjectItemCaseSensitive(j, "Content");
    unsigned char iv[AES_IV_LEN];
    if (!key || !cJSON_IsString(iv64) || !cJSON_IsString(ct64) ||
        b64_decode_to(iv64->valuestring, strlen(iv64->valuestring), iv, sizeof iv) != AES_IV_LEN)
        goto fail;
    size_t ctlen, ptlen;
    unsigned char *ct = b64_decode(ct64->valuestring, strlen(ct64->valuestring), &ctlen);
    if (!ct)
        goto fail;
    unsigned char *pt = aes_decrypt_buf(key, iv, ct, ctlen, &ptlen);
    free(ct);
    if (!pt)
        goto fail;
    if (strlen((char *)pt) != ptlen || !is_object((char *)pt, ptlen)) {
        free(pt);
        goto fail;
    }
    cJSON_Delete(j);
    free(raw);
    return (char *)pt;

fail:
    cJSON_Delete(j);
    free(raw);
    return NULL;
}

void events_message_job_id(const char *text, size_t len, char *out, size_t cap)
{
    assert(cap > 0);
    out[0] = '\0';
    if (len > LIMIT_MESSAGE_BYTES)
        return;
    size_t n;
    unsigned char *raw = b64_decode(text, len, &n);
    if (!raw)
        return;
    cJSON *j = cJSON_ParseWithLength((const char *)raw, n);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "JobId");
    if (cJSON_IsObject(j) && cJSON_IsString(id))
        snprintf(out, cap, "%s", id->valuestring);
    cJSON_Delete(j);
    free(raw);
}
