/*
 * test_events.c: unit tests of common/events.c: each event's fields and order, every value a
 * string, the nested statistics, and the queue form both ways. ENCRYPTED_MSG was made with
 * Python's `cryptography` (AES-256-CBC, PKCS7, key 40..5f, IV 00112233..ff) and json/base64,
 * never with this code, so decoding it checks the envelope against an outside implementation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "events.h"

#define JOB_ID "d812e5a0-d95a-4e4f-bcb7-d4415e88c8ee"
#define CORR   "7d3e7a8e-4445-4ce0-adb1-078e78cbf686"
/* 2026-05-20T09:20:51.129Z */
#define NOW_MS 1779268851129LL

static const struct events_job job = {
    .job_id = JOB_ID,
    .correlation_id = CORR,
    .site_id = "48f1d2c4-0000-4000-8000-000000000001",
    .web_id = "0b7c0000-0000-4000-8000-000000000002",
    .db_id = "de6b0000-0000-4000-8000-000000000003",
    .farm_id = "f77d0000-0000-4000-8000-000000000004",
    .server_id = "44af0000-0000-4000-8000-000000000005",
    .subscription_id = "82ab0000-0000-4000-8000-000000000006",
    .retry_count = 0,
};

#define PY_EVENT                                                                                   \
    "{\"Event\":\"JobStart\",\"JobId\":\"d812e5a0-d95a-4e4f-bcb7-d4415e88c8ee\",\"Time\":\"05/"    \
    "20/2026 09:20:51.129\",\"TotalRetryCount\":\"0\",\"MigrationType\":\"None\","                 \
    "\"MigrationDirection\":\"Import\",\"CorrelationId\":\"7d3e7a8e-4445-4ce0-adb1-"               \
    "078e78cbf686\"}"

#define ENCRYPTED_MSG                                                                              \
    "eyJMYWJlbCI6IkVuY3J5cHRlZCIsIkpvYklkIjoiZDgxMmU1YTAtZDk1YS00ZTRmLWJjYjctZDQ0MTVlODhjOGVlIiw"  \
    "iSVYiOiJBQkVpTTBSVlpuZUltYXE3ek4zdS93PT0iLCJDb250ZW50IjoiOU5MOFlrVVVoRFE3QU14Z1lJaEtHd3RTVk"  \
    "hBSC91TW5YWFVWQzRvTWMwRXd1aDBEdG9BcExKL1hBR3ZNVTlaMjVRRGRtQ0hlU3ZYak1CYlBFVU9RMHlQQjZ5RUo4"   \
    "akV3WlNnU2FaYmlBWEpqTm9ON2E1WWpCbE1VSXRETzJTbkswOWtxMEtiUWxJNjUzZUowc3dpZ1RNaStXUzZzWlZRVE"   \
    "thdDJCTm5qOTE0NmoyYW9NYUw4VjFsQ0Y3TzVGbTBURFp0d21KckYvaFBDSmNpazZNdENTWm9halpVWkxCcXliWFJH"   \
    "ejdqOHJRRXBUYjVqNEtYS2NBakZkcVJFQUdWSW41cnhKWWVJUnZ4bUVpaG5hMy9yTXhXMndQZENxaWRaRW1OVGdTQz"   \
    "FxZjZCV3dtT3hVUm9Jcms0dmtDNUVjOEcifQ=="

static unsigned char job_key[AES_KEY_LEN];

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < AES_KEY_LEN; i++)
        job_key[i] = (unsigned char)(0x40 + i);
    return 0;
}

/* Checks that obj has exactly the keys in order, every value a string; returns obj. */
static const cJSON *assert_keys(const cJSON *obj, const char *const *keys)
{
    const cJSON *it = obj->child;
    size_t i = 0;
    for (; keys[i]; i++, it = it->next) {
        assert_non_null(it);
        assert_string_equal(it->string, keys[i]);
        assert_true(cJSON_IsString(it));
    }
    assert_null(it);
    return obj;
}

static const char *get(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static void test_queued_start(void **state)
{
    (void)state;
    cJSON *q = events_job_queued(&job, NOW_MS);
    static const char *const qk[] = {"Event",         "JobId",
                                     "Time",          "SiteId",
                                     "DbId",          "TotalRetryCount",
                                     "MigrationType", "MigrationDirection",
                                     "CorrelationId", NULL};
    assert_keys(q, qk);
    assert_string_equal(get(q, "Event"), "JobQueued");
    assert_string_equal(get(q, "Time"), "05/20/2026 09:20:51.129");
    assert_string_equal(get(q, "MigrationType"), "None");
    assert_string_equal(get(q, "MigrationDirection"), "Import");
    assert_string_equal(get(q, "TotalRetryCount"), "0");
    cJSON_Delete(q);

    cJSON *s = events_job_start(&job, NOW_MS);
    static const char *const sk[] = {"Event",          "JobId",
                                     "Time",           "SiteId",
                                     "WebId",          "DBId",
                                     "FarmId",         "ServerId",
                                     "SubscriptionId", "TotalRetryCount",
                                     "MigrationType",  "MigrationDirection",
                                     "CorrelationId",  NULL};
    assert_keys(s, sk);
    assert_string_equal(get(s, "WebId"), job.web_id);
    assert_string_equal(get(s, "CorrelationId"), CORR);
    cJSON_Delete(s);
}

static void test_counters_and_progress(void **state)
{
    (void)state;
    struct events_counters c;
    events_counters_init(&c);
    c.expected_objects = 9;
    c.expected_bytes = 2000;
    /* Q1: one version of 18234 bytes; Q2: 38912 then current 40960; a 0-byte and a 1 KiB. */
    events_count_file(&c, 18234, true, 3, 40);
    events_count_file(&c, 38912, false, 5, 50);
    events_count_file(&c, 40960, true, 6, 60);
    events_count_file(&c, 0, true, 0, 1);
    events_count_file(&c, 1024, true, 1, 2);
    events_count_object(&c, EVENTS_SPFOLDER, 10, 0);
    events_count_object(&c, EVENTS_SPFILE, 20, 1);
    events_count_object(&c, EVENTS_SPFILE, 30, 2);
    events_count_object(&c, EVENTS_SPLISTITEM, 5, 0);
    c.errors = 1;
    c.warnings = 2;
    assert_int_equal(c.files_created, 5);
    assert_int_equal(c.files_created_current, 4);
    assert_int_equal(c.bytes_processed, 18234 + 38912 + 40960 + 1024);
    assert_int_equal(c.bytes_current, 18234 + 40960 + 1024);
    assert_int_equal(c.objects_processed, 4);

    cJSON *p = events_job_progress(&job, NOW_MS, &c);
    static const char *const pk[] = {"Event",
                                     "JobId",
                                     "Time",
                                     "FilesCreated",
                                     "BytesProcessed",
                                     "ObjectsProcessed",
                                     "TotalExpectedSPObjects",
                                     "TotalErrors",
                                     "TotalWarnings",
                                     "TotalRetryCount",
                                     "MigrationType",
                                     "MigrationDirection",
                                     "WaitTimeOnSqlThrottlingMilliseconds",
                                     "TotalDurationInMs",
                                     "CpuDurationInMs",
                                     "SqlDurationInMs",
                                     "SqlQueryCount",
                                     "CreatedOrUpdatedFileStatsBySize",
                                     "ObjectsStatsByType",
                                     "TotalExpectedBytes",
                                     "CorrelationId",
                                     NULL};
    assert_keys(p, pk);
    assert_string_equal(get(p, "FilesCreated"), "5");
    assert_string_equal(get(p, "BytesProcessed"), "99130");
    assert_string_equal(get(p, "TotalExpectedSPObjects"), "9");
    assert_string_equal(get(p, "TotalErrors"), "1");
    assert_string_equal(get(p, "TotalWarnings"), "2");
    assert_string_equal(get(p, "TotalExpectedBytes"), "2000");
    assert_string_equal(get(p, "CreatedOrUpdatedFileStatsBySize"),
                        "{\"0-1K\":{\"Count\":1,\"TotalSize\":0,\"TotalDownloadTime\":0,"
                        "\"TotalCreationTime\":1},"
                        "\"1-10K\":{\"Count\":1,\"TotalSize\":1024,\"TotalDownloadTime\":1,"
                        "\"TotalCreationTime\":2},"
                        "\"10-100K\":{\"Count\":3,\"TotalSize\":98106,\"TotalDownloadTime\":14,"
                        "\"TotalCreationTime\":150}}");
    /* The nested string is itself JSON. */
    cJSON *stats = cJSON_Parse(get(p, "ObjectsStatsByType"));
    assert_non_null(stats);
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(stats, "SPFile");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(file, "Count")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(file, "TotalTime")->valueint, 50);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(file, "AccumulatedVersions")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(file, "ObjectsWithVersions")->valueint, 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(stats, "SPUser")); /* none counted */
    assert_non_null(cJSON_GetObjectItemCaseSensitive(stats, "SPFolder"));
    cJSON_Delete(stats);
    cJSON_Delete(p);

    cJSON *e = events_job_end(&job, NOW_MS, &c);
    static const char *const ek[] = {"Event",
                                     "JobId",
                                     "Time",
                                     "FilesCreated",
                                     "BytesProcessed",
                                     "ObjectsProcessed",
                                     "TotalExpectedSPObjects",
                                     "TotalErrors",
                                     "TotalWarnings",
                                     "TotalRetryCount",
                                     "MigrationType",
                                     "MigrationDirection",
                                     "WaitTimeOnSqlThrottlingMilliseconds",
                                     "TotalDurationInMs",
                                     "CpuDurationInMs",
                                     "SqlDurationInMs",
                                     "SqlQueryCount",
                                     "IsShallowCopy",
                                     "CreatedOrUpdatedFileStatsBySize",
                                     "ObjectsStatsByType",
                                     "TotalExpectedBytes",
                                     "FilesCreatedIrrespectiveOfVersions",
                                     "BytesProcessedOnlyCurrentVersion",
                                     "CorrelationId",
                                     NULL};
    assert_keys(e, ek);
    assert_string_equal(get(e, "IsShallowCopy"), "False");
    assert_string_equal(get(e, "FilesCreatedIrrespectiveOfVersions"), "4");
    assert_string_equal(get(e, "BytesProcessedOnlyCurrentVersion"), "60218");
    cJSON_Delete(e);
}

static void test_empty_stats_and_buckets(void **state)
{
    (void)state;
    struct events_counters c;
    events_counters_init(&c);
    cJSON *e = events_job_end(&job, 0, &c);
    assert_string_equal(get(e, "Time"), "01/01/1970 00:00:00.000");
    assert_string_equal(get(e, "CreatedOrUpdatedFileStatsBySize"), "{}");
    assert_string_equal(get(e, "ObjectsStatsByType"), "{}");
    cJSON_Delete(e);

    /* Bucket edges: 1023 | 1024, 1 MiB - 1 | 1 MiB, and 250 GiB in the last bucket. */
    events_count_file(&c, 1023, true, 0, 0);
    events_count_file(&c, 10240, true, 0, 0);
    events_count_file(&c, (1 << 20) - 1, true, 0, 0);
    events_count_file(&c, 1 << 20, true, 0, 0);
    events_count_file(&c, 250ULL << 30, true, 0, 0);
    cJSON *p = events_job_progress(&job, 0, &c);
    cJSON *s = cJSON_Parse(get(p, "CreatedOrUpdatedFileStatsBySize"));
    assert_non_null(s);
    const char *names[] = {"0-1K", "10-100K", "100K-1M", "1-10M", "100G-1T"};
    for (size_t i = 0; i < 5; i++) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(s, names[i]);
        assert_non_null(b);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(b, "Count")->valueint, 1);
    }
    assert_null(cJSON_GetObjectItemCaseSensitive(s, "1-10K"));
    cJSON_Delete(s);
    /* 250 GiB prints exactly, not as a double. */
    assert_non_null(strstr(get(p, "CreatedOrUpdatedFileStatsBySize"), "268435456000"));
    cJSON_Delete(p);
}

static void test_issue_events(void **state)
{
    (void)state;
    struct events_object_error err = {
        .object_type = "File",
        .url = "Shared Documents/a.pdf",
        .id = "cb47aaaa-0000-4000-8000-000000000000",
        .error_code = -2147024816,
        .message = "The file exists",
    };
    static const char *const k[] = {
        "Event",         "JobId", "Time", "TotalRetryCount", "MigrationType", "MigrationDirection",
        "ObjectType",    "Url",   "Id",   "ErrorCode",       "ErrorType",     "Message",
        "CorrelationId", NULL};
    const char *names[] = {"JobWarning", "JobError", "JobFatalError"};
    enum events_severity sev[] = {EVENTS_WARNING, EVENTS_ERROR, EVENTS_FATAL};
    for (int i = 0; i < 3; i++) {
        cJSON *e = events_job_issue(&job, NOW_MS, sev[i], &err);
        assert_keys(e, k);
        assert_string_equal(get(e, "Event"), names[i]);
        assert_string_equal(get(e, "ErrorCode"), "-2147024816");
        assert_string_equal(get(e, "ErrorType"), "Microsoft.SharePoint.SPException");
        assert_string_equal(get(e, "Url"), "Shared Documents/a.pdf");
        cJSON_Delete(e);
    }
    /* A fatal error with no object: empty strings, not missing keys. */
    struct events_object_error fatal = {
        .error_code = -2147213196, .error_type = "System.Xml.XmlException", .message = "bad"};
    cJSON *e = events_job_issue(&job, NOW_MS, EVENTS_FATAL, &fatal);
    assert_keys(e, k);
    assert_string_equal(get(e, "ObjectType"), "");
    assert_string_equal(get(e, "Id"), "");
    assert_string_equal(get(e, "ErrorCode"), "-2147213196");
    assert_string_equal(get(e, "ErrorType"), "System.Xml.XmlException");
    cJSON_Delete(e);
}

static void test_small_events(void **state)
{
    (void)state;
    cJSON *c = events_job_cancelled(&job, NOW_MS, false);
    static const char *const ck[] = {"Event",
                                     "JobId",
                                     "Time",
                                     "TotalRetryCount",
                                     "CancelledByUser",
                                     "MigrationType",
                                     "MigrationDirection",
                                     "CorrelationId",
                                     NULL};
    assert_keys(c, ck);
    assert_string_equal(get(c, "CancelledByUser"), "false");
    cJSON_Delete(c);
    c = events_job_cancelled(&job, NOW_MS, true);
    assert_string_equal(get(c, "CancelledByUser"), "true");
    cJSON_Delete(c);

    cJSON *d = events_job_deleted(&job, NOW_MS);
    static const char *const dk[] = {"Event", "JobId", "Time", "CorrelationId", NULL};
    assert_keys(d, dk);
    cJSON_Delete(d);

    cJSON *l = events_job_log_file_create(&job, NOW_MS, "Import-" JOB_ID "-1.log");
    static const char *const lk[] = {"Event", "JobId", "Time", "FileName", "CorrelationId", NULL};
    assert_keys(l, lk);
    assert_string_equal(get(l, "FileName"), "Import-" JOB_ID "-1.log");
    cJSON_Delete(l);

    /* A job with no ids at all still gives strings. */
    struct events_job empty = {0};
    cJSON *q = events_job_queued(&empty, NOW_MS);
    assert_string_equal(get(q, "JobId"), "");
    assert_string_equal(get(q, "SiteId"), "");
    cJSON_Delete(q);
}

static void test_plain_round_trip(void **state)
{
    (void)state;
    cJSON *ev = events_job_start(&job, NOW_MS);
    char *json = events_to_json(ev);
    cJSON_Delete(ev);
    assert_non_null(strstr(json, "\"Event\":\"JobStart\""));
    char *msg = events_encode_message(json, JOB_ID, NULL);
    /* Plain form: the message is base64 of exactly the JSON. */
    size_t n;
    unsigned char *raw = b64_decode(msg, strlen(msg), &n);
    assert_non_null(raw);
    assert_string_equal((char *)raw, json);
    free(raw);
    char *back = events_decode_message(msg, strlen(msg), NULL);
    assert_non_null(back);
    assert_string_equal(back, json);
    free(back);
    /* A key on a plain message is harmless. */
    back = events_decode_message(msg, strlen(msg), job_key);
    assert_string_equal(back, json);
    free(back);
    free(msg);
    free(json);
}

static void test_encrypted_round_trip(void **state)
{
    (void)state;
    cJSON *ev = events_job_queued(&job, NOW_MS);
    char *json = events_to_json(ev);
    cJSON_Delete(ev);
    char *m1 = events_encode_message(json, JOB_ID, job_key);
    char *m2 = events_encode_message(json, JOB_ID, job_key);
    assert_non_null(m1);
    assert_string_not_equal(m1, m2); /* a fresh IV per message */

    size_t n;
    unsigned char *raw = b64_decode(m1, strlen(m1), &n);
    assert_non_null(raw);
    cJSON *env = cJSON_Parse((char *)raw);
    static const char *const k[] = {"Label", "JobId", "IV", "Content", NULL};
    assert_keys(env, k);
    assert_string_equal(get(env, "Label"), "Encrypted");
    assert_string_equal(get(env, "JobId"), JOB_ID);
    unsigned char iv[32];
    assert_int_equal(b64_decode_to(get(env, "IV"), strlen(get(env, "IV")), iv, sizeof iv), 16);
    size_t ctlen;
    unsigned char *ct = b64_decode(get(env, "Content"), strlen(get(env, "Content")), &ctlen);
    assert_non_null(ct);
    assert_int_equal(ctlen, strlen(json) + 16 - strlen(json) % 16);
    free(ct);
    cJSON_Delete(env);
    free(raw);

    char *back = events_decode_message(m1, strlen(m1), job_key);
    assert_non_null(back);
    assert_string_equal(back, json);
    free(back);
    /* No key, or the wrong one: nothing. */
    assert_null(events_decode_message(m1, strlen(m1), NULL));
    unsigned char other[AES_KEY_LEN];
    memcpy(other, job_key, sizeof other);
    other[31] ^= 0x55;
    back = events_decode_message(m1, strlen(m1), other);
    /* A wrong key fails the padding check with probability 1 - ~2^-8; if the padding happens
     * to pass, the garbage is still not a JSON object. */
    assert_null(back);
    free(m1);
    free(m2);
    free(json);
}

static void test_python_vector(void **state)
{
    (void)state;
    char *back = events_decode_message(ENCRYPTED_MSG, strlen(ENCRYPTED_MSG), job_key);
    assert_non_null(back);
    assert_string_equal(back, PY_EVENT);
    free(back);
}

static void test_decode_refuses(void **state)
{
    (void)state;
    const char *bad[] = {
        "not base64!",
        "e30",                          /* "{}" without padding */
        "W10=",                         /* "[]": not an object */
        "eyJhIjox",                     /* '{"a":1' truncated JSON */
        "eyJMYWJlbCI6IkVuY3J5cHRlZCJ9", /* {"Label":"Encrypted"}: no IV or Content */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(events_decode_message(bad[i], strlen(bad[i]), job_key));
    /* A tampered envelope: the last character of the base64 changes the padding block. */
    char *m = strdup(ENCRYPTED_MSG);
    /* Flip one ciphertext character well inside Content ("...OU5MOFlr...": the 'N'). */
    char *c = strstr(m, "OU5MOFlr");
    assert_non_null(c);
    c[2] = c[2] == 'M' ? 'N' : 'M';
    char *back = events_decode_message(m, strlen(m), job_key);
    if (back) {
        /* The flipped block garbles two plaintext blocks; it must not equal the original. */
        assert_string_not_equal(back, PY_EVENT);
        free(back);
    }
    free(m);
    /* "{}" is a (useless) plain object: accepted, decoding is not validation. */
    char *e = events_decode_message("e30=", 4, NULL);
    assert_string_equal(e, "{}");
    free(e);
}

static void test_message_job_id(void **state)
{
    (void)state;
    char id[64];
    /* An envelope, read without the key (the one made by Python above). */
    events_message_job_id(ENCRYPTED_MSG, strlen(ENCRYPTED_MSG), id, sizeof id);
    assert_string_equal(id, JOB_ID);
    /* A plain event, and one made here with a key. */
    cJSON *ev = events_job_end(&job, NOW_MS, &(struct events_counters){0});
    char *json = events_to_json(ev);
    cJSON_Delete(ev);
    char *plain = events_encode_message(json, JOB_ID, NULL);
    char *sealed = events_encode_message(json, JOB_ID, job_key);
    memset(id, 'x', sizeof id);
    events_message_job_id(plain, strlen(plain), id, sizeof id);
    assert_string_equal(id, JOB_ID);
    memset(id, 'x', sizeof id);
    events_message_job_id(sealed, strlen(sealed), id, sizeof id);
    assert_string_equal(id, JOB_ID);
    /* A small buffer gets a truncated, terminated id. */
    char small[9];
    events_message_job_id(sealed, strlen(sealed), small, sizeof small);
    assert_string_equal(small, "d812e5a0");
    free(plain);
    free(sealed);
    free(json);
    /* Nothing usable: "". */
    const char *bad[] = {
        "not base64!",
        "W10=",                     /* [] */
        "eyJKb2JJZCI6MX0=",         /* {"JobId":1} */
        "eyJFdmVudCI6IkpvYkVuZCJ9", /* {"Event":"JobEnd"} */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(id, 'x', sizeof id);
        events_message_job_id(bad[i], strlen(bad[i]), id, sizeof id);
        assert_string_equal(id, "");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queued_start),
        cmocka_unit_test(test_counters_and_progress),
        cmocka_unit_test(test_empty_stats_and_buckets),
        cmocka_unit_test(test_issue_events),
        cmocka_unit_test(test_small_events),
        cmocka_unit_test(test_plain_round_trip),
        cmocka_unit_test(test_encrypted_round_trip),
        cmocka_unit_test(test_python_vector),
        cmocka_unit_test(test_decode_refuses),
        cmocka_unit_test(test_message_job_id),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
