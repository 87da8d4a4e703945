/*
 * events.h: the migration job events of the report queue (spo-migration-api.md section 3).
 * Builders return one event as a cJSON object whose every value is a string; the queue form
 * is base64 of the compact JSON text, or for encrypted jobs base64 of the envelope
 * {"Label":"Encrypted","JobId":..,"IV":..,"Content":base64(AES-256-CBC(json))}. The decoder
 * undoes either form (the client, and tests). Who sends, stores or pages events is not here.
 */
#ifndef SPMIG_EVENTS_H
#define SPMIG_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "aes.h"

/* What every event of one job repeats. Strings are borrowed for the call; NULL reads as "". */
struct events_job {
    const char *job_id;         /* GUID, lowercase */
    const char *correlation_id; /* GUID */
    const char *site_id, *web_id, *db_id, *farm_id, *server_id, *subscription_id;
    unsigned retry_count; /* TotalRetryCount */
};

/*
 * File size buckets of CreatedOrUpdatedFileStatsBySize, named as the service names them
 * ("0-1K", "1-10K", "10-100K", "100K-1M", "1-10M", "10-100M" are attested; the larger ones
 * follow the pattern). A bucket holds sizes from its lower bound (included) to its upper
 * bound (excluded), in powers of 1024.
 */
#define EVENTS_SIZE_BUCKETS 10

/* Keys of ObjectsStatsByType. */
enum events_object_kind {
    EVENTS_SPUSER,
    EVENTS_SPFOLDER,
    EVENTS_SPDOCUMENTLIBRARY,
    EVENTS_SPFILE,
    EVENTS_SPLISTITEM,
    EVENTS_OBJECT_KINDS
};

struct events_size_stat {
    uint64_t count, total_size, total_download_ms, total_creation_ms;
};

struct events_type_stat {
    uint64_t count, total_time_ms, accumulated_versions, objects_with_versions;
};

/* The totals JobProgress and JobEnd report; caller-owned, zeroed by events_counters_init. */
struct events_counters {
    uint64_t files_created;         /* FilesCreated: file versions written */
    uint64_t files_created_current; /* FilesCreatedIrrespectiveOfVersions: current versions */
    uint64_t bytes_processed;       /* BytesProcessed: all versions */
    uint64_t bytes_current;         /* BytesProcessedOnlyCurrentVersion */
    uint64_t objects_processed;     /* ObjectsProcessed */
    uint64_t expected_objects;      /* TotalExpectedSPObjects */
    uint64_t expected_bytes;        /* TotalExpectedBytes */
    uint64_t errors;                /* TotalErrors */
    uint64_t warnings;              /* TotalWarnings */
    uint64_t duration_ms;           /* TotalDurationInMs */
    uint64_t cpu_ms;                /* CpuDurationInMs */
    uint64_t sql_ms;                /* SqlDurationInMs */
    uint64_t sql_queries;           /* SqlQueryCount */
    uint64_t sql_throttle_wait_ms;  /* WaitTimeOnSqlThrottlingMilliseconds */
    struct events_size_stat by_size[EVENTS_SIZE_BUCKETS];
    struct events_type_stat by_type[EVENTS_OBJECT_KINDS];
};

void events_counters_init(struct events_counters *c);
/*
 * One file version of size bytes written: FilesCreated, BytesProcessed and its size bucket;
 * with current (the file's last version), also the two current-version totals.
 */
void events_count_file(struct events_counters *c, uint64_t size, bool current, uint64_t download_ms,
                       uint64_t creation_ms);
/*
 * One object of kind done in ms milliseconds: ObjectsProcessed and ObjectsStatsByType. For a
 * file, versions is its number of versions: more than one adds versions - 1 to
 * AccumulatedVersions and counts it in ObjectsWithVersions.
 */
void events_count_object(struct events_counters *c, enum events_object_kind kind, uint64_t ms,
                         unsigned versions);

/* The per-object part of JobError, JobWarning and JobFatalError. NULL reads as "". */
struct events_object_error {
    const char *object_type; /* "File", "Folder", "ListItem", "List", ... or "" */
    const char *url;
    const char *id;
    int32_t error_code;     /* signed HRESULT, e.g. -2147024809 */
    const char *error_type; /* NULL: "Microsoft.SharePoint.SPException" */
    const char *message;
};

enum events_severity { EVENTS_WARNING, EVENTS_ERROR, EVENTS_FATAL };

/*
 * Builders: each returns a new object, with Event, JobId and Time (now_ms as
 * "MM/dd/yyyy HH:mm:ss.fff" UTC) first and CorrelationId last, that the caller frees with
 * cJSON_Delete. They only allocate, and abort on out of memory like xmalloc.
 */
cJSON *events_job_queued(const struct events_job *job, int64_t now_ms);
cJSON *events_job_start(const struct events_job *job, int64_t now_ms);
cJSON *events_job_progress(const struct events_job *job, int64_t now_ms,
                           const struct events_counters *c);
cJSON *events_job_end(const struct events_job *job, int64_t now_ms,
                      const struct events_counters *c);
/* JobWarning, JobError or JobFatalError. */
cJSON *events_job_issue(const struct events_job *job, int64_t now_ms, enum events_severity sev,
                        const struct events_object_error *e);
cJSON *events_job_cancelled(const struct events_job *job, int64_t now_ms, bool by_user);
cJSON *events_job_deleted(const struct events_job *job, int64_t now_ms);
/* JobLogFileCreate with FileName, e.g. "Import-<jobId>-1.log". */
cJSON *events_job_log_file_create(const struct events_job *job, int64_t now_ms,
                                  const char *file_name);

/* The compact JSON text of an event; the caller frees it with free(). */
char *events_to_json(const cJSON *event);

/*
 * The queue message text for one event's JSON text: base64 of it, or with key (job_id
 * required) base64 of the encrypted envelope, with a fresh random IV. The caller frees it.
 */
char *events_encode_message(const char *json, const char *job_id,
                            const unsigned char key[AES_KEY_LEN]);
/*
 * Undoes events_encode_message: text is base64 of either a plain event or an envelope. An
 * envelope needs key (may be NULL for plain jobs). Returns the plain JSON text of the event,
 * NUL-terminated, which the caller frees with free(); NULL if the text is not base64, not a
 * JSON object, an envelope without a key, or does not decrypt (wrong key, bad padding).
 */
char *events_decode_message(const char *text, size_t len, const unsigned char *key);
/*
 * The JobId of a queue message, read without the key: the envelope's, or the plain event's.
 * It is what lets one queue serve many jobs. Copies at most cap - 1 bytes to out (always
 * NUL-terminated, "" when the text is not base64 of a JSON object with a string JobId).
 */
void events_message_job_id(const char *text, size_t len, char *out, size_t cap);

#endif
