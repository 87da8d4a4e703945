/*
 * migration_api.c: the Migration API methods of /_api/site/. Provisioning creates fresh,
 * never-reused containers and queues in the internal account with SAS URIs; submission
 * checks what SharePoint checks (web id, distinct containers, SAS permissions and start time,
 * encryption on provisioned containers) before queueing the job; status and progress read the
 * job table and its event log. Keys pass through to jobs.h's memory registry only.
 */
#include "migration_api.h"
#include "accounts.h"
#include "b64.h"
#include "blob_store.h"
#include "clock.h"
#include "crypto.h"
#include "hex.h"
#include "import_job.h"
#include "jobs.h"
#include "audit.h"
#include "lifecycle.h"
#include "log.h"
#include "csom.h"
#include "odata.h"
#include "queue_store.h"
#include "sp_call.h"
#include "sp_routes.h"
#include "sas.h"
#include "timefmt.h"
#include "uuid.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Lifetimes (key TTL, queue SAS, progress retention) come from lifecycle_policy(). */
#define PROVISION_SAS_VERSION "2018-03-28"

/* Where clients reach the storage listeners, from migration_api_register. */
static char *blob_base, *queue_base;

/* "<kind>-<n>-<yyyymmdd of expiry>-<32 hex>", the shape of the real names. */
static void new_name(int kind, int64_t expiry_ms, char out[64])
{
    unsigned char r[18];
    crypto_random(r, sizeof r);
    char hex[33];
    hex_encode(r, 16, hex);
    char day[TIMEFMT_BUF];
    timefmt_iso8601(expiry_ms, day); /* YYYY-MM-DDT... */
    unsigned n = 1000u + ((unsigned)r[16] << 8 | r[17]) % 9000u;
    snprintf(out, 64, "%d-%u-%.4s%.2s%.2s-%s", kind, n, day, day + 5, day + 8, hex);
}

static char *service_sas(enum sas_service svc, const char *name, const char *perms, int64_t start,
                         int64_t expiry)
{
    const struct account *a = accounts_find(ACCOUNTS_INTERNAL);
    struct sas_grant g = {.svc = svc,
                          .version = PROVISION_SAS_VERSION,
                          .permissions = perms,
                          .resource = svc == SAS_BLOB ? "c" : NULL,
                          .start_ms = start,
                          .expiry_ms = expiry,
                          .account_name = ACCOUNTS_INTERNAL,
                          .container = name};
    return a ? sas_build(&g, a->key, a->keylen) : NULL;
}

/* Creates one container (blob) or queue with a never-used name; fills name. 0 or -1. */
static int provision_one(bool queue, int64_t site_id, int64_t now, int64_t expiry, char name[64])
{
    for (int tries = 0; tries < 8; tries++) {
        new_name(queue ? 2 : 0, expiry, name);
        int rc = lifecycle_provision(name, queue, site_id, now, expiry);
        if (rc > 0)
            continue; /* used before: draw again */
        if (rc < 0)
            return -1;
        if (queue) {
            bool created;
            return queue_store_queue_create(ACCOUNTS_INTERNAL, name, NULL, &created) ==
                           QUEUE_STORE_OK
                       ? 0
                       : -1;
        }
        return blob_store_container_create(ACCOUNTS_INTERNAL, name, NULL, NULL) == BLOB_STORE_OK
                   ? 0
                   : -1;
    }
    return -1;
}

/* The port of an "http://host:port" base, or 0. */
static unsigned base_port(const char *base)
{
    const char *colon = base ? strrchr(base, ':') : NULL;
    return colon && colon[1] ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
}

/*
 * The host part of the request's Host header ("localhost", "spmigd", "[::1]"), the name the
 * client called this server by; "localhost" when it is missing or holds anything else.
 */
static char *request_host(const char *h)
{
    size_t n = 0;
    if (h && h[0] == '[') {
        n = strspn(h + 1, "0123456789abcdefABCDEF:.") + 1;
        n = h[n] == ']' ? n + 1 : 0;
    } else if (h)
        n = strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
    if (n == 0 || n > 255 || (h[n] != '\0' && h[n] != ':'))
        return xstrdup("localhost");
    return xasprintf("%.*s", (int)n, h);
}

static char *storage_uri(const struct sp_call *c, bool queue, const char *name, const char *sas)
{
    const char *base = queue ? queue_base : blob_base;
    if (strncmp(base, "http://:", 8) != 0)
        return xasprintf("%s/%s/%s?%s", base, ACCOUNTS_INTERNAL, name, sas);
    char *host = request_host(c->host);
    char *uri =
        xasprintf("http://%s:%u/%s/%s?%s", host, base_port(base), ACCOUNTS_INTERNAL, name, sas);
    free(host);
    return uri;
}

/*
 * Each method is computed once, for REST and for CSOM alike: X_do fills *out (JSON, the
 * caller owns it) and returns 0, or returns -1 with e set; rest_X and csom_X answer it in
 * their protocol's shapes.
 */

static int provision_containers_do(const struct sp_call *c, cJSON **out, struct sp_error *e)
{
    if (sp_call_check_manager(c, e) < 0)
        return -1;
    int64_t now = clock_now_ms(), expiry = now + lifecycle_policy()->key_ttl_ms;
    char data[64], meta[64];
    if (provision_one(false, c->site.id, now, expiry, data) < 0 ||
        provision_one(false, c->site.id, now, expiry, meta) < 0) {
        log_error("migration: the migration containers could not be provisioned");
        return sp_error_set(e, 500, SP_HRESULT_FAIL, "System.Exception",
                            "The migration containers could not be provisioned.");
    }
    char *sas_d = service_sas(SAS_BLOB, data, "rw", now, expiry);
    char *sas_m = service_sas(SAS_BLOB, meta, "rw", now, expiry);
    char *uri_d = storage_uri(c, false, data, sas_d);
    char *uri_m = storage_uri(c, false, meta, sas_m);
    unsigned char key[32];
    char key_b64[48];
    crypto_random(key, sizeof key);
    b64_encode_to(key, sizeof key, key_b64);
    crypto_wipe(key, sizeof key);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "DataContainerUri", uri_d);
    cJSON_AddStringToObject(*out, "EncryptionKey", key_b64);
    cJSON_AddStringToObject(*out, "MetadataContainerUri", uri_m);
    crypto_wipe(key_b64, sizeof key_b64);
    log_info("migration: provisioned containers %s and %s for %s", data, meta, c->site.url);
    free(sas_d);
    free(sas_m);
    free(uri_d);
    free(uri_m);
    return 0;
}

static int provision_queue_do(const struct sp_call *c, cJSON **out, struct sp_error *e)
{
    if (sp_call_check_manager(c, e) < 0)
        return -1;
    int64_t now = clock_now_ms(), expiry = now + lifecycle_policy()->queue_sas_ttl_ms;
    char name[64];
    if (provision_one(true, c->site.id, now, expiry, name) < 0) {
        log_error("migration: the migration queue could not be provisioned");
        return sp_error_set(e, 500, SP_HRESULT_FAIL, "System.Exception",
                            "The migration queue could not be provisioned.");
    }
    char *sas = service_sas(SAS_QUEUE, name, "rap", now, expiry);
    char *uri = storage_uri(c, true, name, sas);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "JobQueueUri", uri);
    log_info("migration: provisioned queue %s for %s", name, c->site.url);
    free(sas);
    free(uri);
    return 0;
}

/* ---- submission ---- */

/* A storage URI taken apart: http://host/<account>/<name>?<sas>. */
struct target {
    char *account, *name;
    struct query q;
    struct sas sas;
    bool internal;
};

static void target_finish(struct target *t)
{
    free(t->account);
    free(t->name);
    query_finish(&t->q);
}

/*
 * Whether uri's scheme and authority ("http://host:port/...") reach this server's listener
 * whose base is base. The host may have any name (localhost, an address, a container's
 * name): the port and the scheme tell this server from another.
 */
static bool reaches(const char *uri, const char *base)
{
    if (strncasecmp(uri, "http://", 7) != 0)
        return false;
    const char *host = uri + 7, *end = host + strcspn(host, "/?#");
    const char *colon = NULL;
    for (const char *p = host; p < end; p++)
        if (*p == ':')
            colon = p; /* the last one: "[::1]:10000" */
    if (!colon || colon == host || (colon[-1] != ']' && memchr(host, '[', (size_t)(colon - host))))
        return false;
    char *stop;
    unsigned long port = strtoul(colon + 1, &stop, 10);
    return stop == end && port == base_port(base) && port != 0;
}

/*
 * Parses and checks one storage URI: path style on this emulator, a SAS whose signature,
 * start and expiry hold now, with at least the letters want (any of alt if given). Returns 0
 * or -1 with a reason in why.
 */
static int check_target(const char *what, const char *uri, enum sas_service svc, const char *want,
                        const char *alt, struct target *t, char *why, size_t cap)
{
    memset(t, 0, sizeof *t);
    const char *p = uri ? strstr(uri, "://") : NULL;
    const char *path = p ? strchr(p + 3, '/') : NULL;
    const char *qm = path ? strchr(path, '?') : NULL;
    if (!path || !qm) {
        snprintf(why, cap, "%s is not a storage URI with a SAS.", what);
        return -1;
    }
    if (!reaches(uri, svc == SAS_BLOB ? blob_base : queue_base)) {
        snprintf(why, cap, "%s names a storage host that is not this server's %s service (%s).",
                 what, svc == SAS_BLOB ? "Blob" : "Queue",
                 svc == SAS_BLOB ? blob_base : queue_base);
        return -1;
    }
    const char *slash = strchr(path + 1, '/');
    if (!slash || slash > qm) {
        snprintf(why, cap, "%s does not name an account and a %s (http://host/<account>/<name>).",
                 what, svc == SAS_BLOB ? "container" : "queue");
        return -1;
    }
    t->account = query_decode(path + 1, (size_t)(slash - path - 1), false, NULL);
    t->name = query_decode(slash + 1, (size_t)(qm - slash - 1), false, NULL);
    const struct account *a = t->account ? accounts_find(t->account) : NULL;
    char err[256];
    if (!a || !t->name || !*t->name || strchr(t->name, '/')) {
        snprintf(why, cap, "%s names no storage account or %s of this server.", what,
                 svc == SAS_BLOB ? "container" : "queue");
        return -1;
    }
    t->internal = a->internal;
    if (query_parse(qm + 1, strlen(qm + 1), &t->q) < 0 || !sas_present(&t->q) ||
        sas_parse(&t->q, svc, &t->sas, err, sizeof err) < 0) {
        snprintf(why, cap, "The SAS of %s is malformed or missing.", what);
        return -1;
    }
    char *res = xasprintf("/%s/%s/%s", svc == SAS_BLOB ? "blob" : "queue", a->name, t->name);
    char *sts = sas_string_to_sign(&t->sas, svc, a->name, res, NULL);
    bool ok = sts && sas_signature_ok(&t->sas, a->key, a->keylen, sts);
    free(sts);
    free(res);
    int64_t now = clock_now_ms();
    if (!ok) {
        snprintf(why, cap, "The SAS of %s is not valid (signature mismatch).", what);
        return -1;
    }
    if (t->sas.has_start && t->sas.start_ms > now) {
        snprintf(why, cap, "The SAS of %s starts in the future.", what);
        return -1;
    }
    if (t->sas.expiry_ms <= now) {
        snprintf(why, cap, "The SAS of %s has expired.", what);
        return -1;
    }
    bool has_want = true, has_alt = !alt;
    for (const char *l = want; *l; l++)
        has_want = has_want && (t->sas.perms & SAS_PERM(*l));
    for (const char *l = alt ? alt : ""; *l; l++)
        has_alt = has_alt || (t->sas.perms & SAS_PERM(*l));
    if (!has_want || !has_alt) {
        snprintf(why, cap, "The SAS of %s lacks the permissions the job needs (%s%s%s).", what,
                 want, alt ? " and one of " : "", alt ? alt : "");
        return -1;
    }
    bool exists;
    if (svc == SAS_BLOB) {
        exists = blob_store_container_get(a->name, t->name, NULL) == BLOB_STORE_OK;
    } else {
        struct queue_store_queue qq;
        exists = queue_store_queue_get(a->name, t->name, &qq) == QUEUE_STORE_OK;
        if (exists)
            queue_store_queue_finish(&qq);
    }
    if (!exists) {
        snprintf(why, cap, "%s does not exist.", what);
        return -1;
    }
    return 0;
}

static int bad_argument(struct sp_error *e, const char *message)
{
    return sp_error_set(e, 400, SP_HRESULT_INVALID_ARG, "System.ArgumentException", message);
}

static int submit_do(const struct sp_call *c, bool encrypted, cJSON **out, struct sp_error *e)
{
    if (sp_call_check_manager(c, e) < 0)
        return -1;
    char buf[64], why[320];
    const char *web = sp_call_arg(c, "gWebId", 0, buf, sizeof buf);
    const char *src = sp_call_arg(c, "azureContainerSourceUri", 1, NULL, 0);
    const char *man = sp_call_arg(c, "azureContainerManifestUri", 2, NULL, 0);
    const char *queue = sp_call_arg(c, "azureQueueReportUri", 3, NULL, 0);
    unsigned char web_id[16], site_web[16];
    if (!web || uuid_parse(web, web_id) < 0 || uuid_parse(c->site.web_uuid, site_web) < 0 ||
        memcmp(web_id, site_web, 16) != 0)
        return bad_argument(e, "gWebId is not the id of this site's web.");
    unsigned char key[32];
    if (encrypted) {
        const cJSON *opt = c->body ? cJSON_GetObjectItem(c->body, "options") : NULL;
        const cJSON *k = opt ? cJSON_GetObjectItem(opt, "AES256CBCKey") : NULL;
        if (!cJSON_IsString(k) ||
            b64_decode_to(k->valuestring, strlen(k->valuestring), key, sizeof key) != 32)
            return bad_argument(e, "options.AES256CBCKey must be the base64 of a 32-byte key.");
    }
    struct target ts = {0}, tm = {0}, tq = {0};
    bool own = true;
    int rc =
        check_target("azureContainerSourceUri", src, SAS_BLOB, "r", NULL, &ts, why, sizeof why);
    if (rc == 0) {
        own = !ts.internal;
        /* Own storage: content r+l, manifest r+l+w. Provisioned containers: r+w, no list. */
        rc = check_target("azureContainerManifestUri", man, SAS_BLOB, own ? "rlw" : "rw", NULL, &tm,
                          why, sizeof why);
    }
    if (rc == 0 && own && !(ts.sas.perms & SAS_PERM('l'))) {
        snprintf(why, sizeof why, "The SAS of azureContainerSourceUri needs read and list.");
        rc = -1;
    }
    if (rc == 0 && strcmp(ts.account, tm.account) == 0 && strcmp(ts.name, tm.name) == 0) {
        snprintf(why, sizeof why, "The source and manifest containers must differ.");
        rc = -1;
    }
    if (rc == 0 && (ts.internal || tm.internal) && !encrypted) {
        snprintf(why, sizeof why,
                 "Containers provisioned by SharePoint need "
                 "CreateMigrationJobEncrypted: an unencrypted job on them is "
                 "refused.");
        rc = -1;
    }
    if (rc == 0 && queue && *queue)
        rc =
            check_target("azureQueueReportUri", queue, SAS_QUEUE, "ra", "up", &tq, why, sizeof why);
    if (rc < 0) {
        target_finish(&ts);
        target_finish(&tm);
        target_finish(&tq);
        crypto_wipe(key, sizeof key);
        log_info("migration: job refused for %s: %s", c->site.url, why);
        audit_record("refused", c->site.url, why);
        return bad_argument(e, why);
    }
    struct job j = {.site_id = c->site.id,
                    .source_uri = (char *)src,
                    .manifest_uri = (char *)man,
                    .queue_uri = queue && *queue ? (char *)queue : NULL,
                    .encrypted = encrypted,
                    .owner_id = c->who.id,
                    .created_ms = clock_now_ms()};
    unsigned char id[16];
    uuid_v4(id);
    uuid_format(id, j.uuid);
    snprintf(j.web_uuid, sizeof j.web_uuid, "%s", c->site.web_uuid);
    if (encrypted)
        jobs_key_put(j.uuid, key);
    crypto_wipe(key, sizeof key);
    target_finish(&ts);
    target_finish(&tm);
    target_finish(&tq);
    if (jobs_create(&j) < 0) {
        jobs_key_drop(j.uuid);
        log_error("migration: the migration job could not be created");
        return sp_error_set(e, 500, SP_HRESULT_FAIL, "System.Exception",
                            "The migration job could not be created.");
    }
    log_info("migration: job %s queued for %s", j.uuid, c->site.url);
    audit_record("job", j.uuid, c->site.url);
    import_job_queued(&j);
    *out = cJSON_CreateString(j.uuid);
    return 0;
}

/* ---- status ---- */

/* Finds the job an id argument names and checks the caller may see it: 0 found, 1 not
 * found (callers answer in their own way), -1 with e set. */
static int job_for_call(const struct sp_call *c, const char *argname, struct job *j,
                        struct sp_error *e)
{
    char buf[64];
    const char *id = sp_call_arg(c, argname, 0, buf, sizeof buf);
    unsigned char u[16];
    char norm[37];
    if (!id || uuid_parse(id, u) < 0)
        return bad_argument(e, "The job id is not a GUID.");
    uuid_format(u, norm);
    if (jobs_get(norm, j) < 0 || j->site_id != c->site.id) {
        job_finish(j);
        return 1;
    }
    if (j->owner_id != c->who.id && !sp_auth_admin_on_sites(&c->who)) {
        job_finish(j);
        return sp_error_set(e, 403, SP_HRESULT_ACCESS_DENIED, "System.UnauthorizedAccessException",
                            "Access denied. You do not have permission to perform this action or "
                            "access this resource.");
    }
    return 0;
}

static int job_status_do(const struct sp_call *c, cJSON **out, struct sp_error *e)
{
    struct job j = {0};
    int rc = job_for_call(c, "id", &j, e);
    if (rc < 0)
        return -1;
    *out = cJSON_CreateNumber(rc == 0 ? j.state : JOB_ENDED);
    job_finish(&j);
    return 0;
}

static void add_log(void *ctx, const char *json)
{
    cJSON_AddItemToArray(ctx, cJSON_CreateString(json));
}

/* *out: {"Logs": [...], "NextToken": "..."}. */
static int job_progress_do(const struct sp_call *c, cJSON **out, struct sp_error *e)
{
    struct job j = {0};
    int rc = job_for_call(c, "jobId", &j, e);
    if (rc < 0)
        return -1;
    if (rc > 0)
        return sp_error_set(e, 500, SP_HRESULT_JOB_NOT_FOUND, "Microsoft.SharePoint.SPException",
                            "Job not found");
    if (j.state == JOB_ENDED &&
        clock_now_ms() > j.ended_ms + lifecycle_policy()->progress_keep_ms) {
        job_finish(&j);
        return sp_error_set(e, 500, SP_HRESULT_JOB_EXPIRED, "Microsoft.SharePoint.SPException",
                            "Job status expired");
    }
    char buf[32];
    const char *tok = sp_call_arg(c, "nextToken", 1, buf, sizeof buf);
    int64_t after = tok ? strtoll(tok, NULL, 10) : 0;
    if (after < 0)
        after = 0;
    *out = cJSON_CreateObject();
    cJSON *logs = cJSON_AddArrayToObject(*out, "Logs");
    int64_t last;
    jobs_log_read(j.uuid, after, 1000, add_log, logs, &last);
    snprintf(buf, sizeof buf, "%lld", (long long)last);
    cJSON_AddStringToObject(*out, "NextToken", buf);
    job_finish(&j);
    return 0;
}

static int job_delete_do(const struct sp_call *c, cJSON **out, struct sp_error *e)
{
    if (sp_call_check_manager(c, e) < 0)
        return -1;
    struct job j = {0};
    int rc = job_for_call(c, "id", &j, e);
    if (rc < 0)
        return -1;
    bool deleted = rc == 0 && jobs_delete_queued(j.uuid) == 1;
    if (deleted) {
        jobs_key_drop(j.uuid);
        import_job_deleted(&j);
    }
    *out = cJSON_CreateBool(deleted);
    job_finish(&j);
    return 0;
}

static void add_status(void *ctx, const struct job *j)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "JobId", j->uuid);
    cJSON_AddNumberToObject(o, "JobState", j->state);
    cJSON_AddStringToObject(o, "__type", "SP.SPMigrationJobStatus");
    cJSON_AddItemToArray(ctx, o);
}

/* ---- REST ---- */

static void rest(struct http_request *req, int rc, const char *name, const char *type, cJSON *out,
                 const struct sp_error *e)
{
    if (rc < 0)
        sp_call_fail(req, e);
    else
        odata_result(req, name, type, out);
}

static void rest_provision_containers(struct http_request *req, struct sp_call *c)
{
    struct sp_error e;
    cJSON *out = NULL;
    int rc = provision_containers_do(c, &out, &e);
    rest(req, rc, "ProvisionMigrationContainers", "SP.ProvisionedMigrationContainersInfo", out, &e);
}

static void rest_provision_queue(struct http_request *req, struct sp_call *c)
{
    struct sp_error e;
    cJSON *out = NULL;
    int rc = provision_queue_do(c, &out, &e);
    rest(req, rc, "ProvisionMigrationQueue", "SP.ProvisionedMigrationQueueInfo", out, &e);
}

static void rest_submit_plain(struct http_request *req, struct sp_call *c)
{
    struct sp_error e;
    cJSON *out = NULL;
    int rc = submit_do(c, false, &out, &e);
    rest(req, rc, "CreateMigrationJob", NULL, out, &e);
}

static void rest_submit_encrypted(struct http_request *req, struct sp_call *c)
{
    struct sp_error e;
    cJSON *out = NULL;
    int rc = submit_do(c, true, &out, &e);
    rest(req, rc, "CreateMigrationJobEncrypted", NULL, out, &e);
}

static void rest_job_status(struct http_request *req, struct sp_call *c)
{
    struct sp_error e;
    cJSON *out = NULL;
    int rc = job_status_do(c, &out, &e);
    rest(req, rc, "GetMigrationJobStatus", NULL, out, &e);
}

static void rest_job_progress(struct http_request *req, struct sp_call *c)
{
    struct sp_error e;
    cJSON *out = NULL;
    int rc = job_progress_do(c, &out, &e);
    if (rc == 0 && odata_mode(req) == ODATA_VERBOSE) {
        /* Verbose wraps the collection of strings. */
        cJSON *logs = cJSON_DetachItemFromObject(out, "Logs");
        cJSON *l = cJSON_CreateObject();
        cJSON *md = cJSON_AddObjectToObject(l, "__metadata");
        cJSON_AddStringToObject(md, "type", "Collection(Edm.String)");
        cJSON_AddItemToObject(l, "results", logs);
        cJSON_AddItemToObject(out, "Logs", l);
    }
    rest(req, rc, "GetMigrationJobProgress", "SP.MigrationJobProgress", out, &e);
}

static void rest_job_delete(struct http_request *req, struct sp_call *c)
{
    struct sp_error e;
    cJSON *out = NULL;
    int rc = job_delete_do(c, &out, &e);
    rest(req, rc, "DeleteMigrationJob", NULL, out, &e);
}

static void rest_migration_status(struct http_request *req, struct sp_call *c)
{
    if (!sp_call_require_manager(req, c))
        return;
    cJSON *arr = cJSON_CreateArray();
    jobs_each_active(c->site.id, add_status, arr);
    odata_collection(req, arr);
}

/* ---- CSOM ---- */

/* c with a body naming the positional CSOM parameters as the REST arguments are named. */
static struct sp_call csom_call(const struct sp_call *c, const cJSON *params,
                                const char *const *names, cJSON **body)
{
    struct sp_call call = *c;
    *body = cJSON_CreateObject();
    const cJSON *p = params ? params->child : NULL;
    for (size_t i = 0; names[i] && p; i++, p = p->next)
        cJSON_AddItemToObject(*body, names[i], cJSON_Duplicate(p, true));
    call.body = *body;
    call.seg = NULL;
    return call;
}

static void csom_type(cJSON *o, const char *type)
{
    cJSON_AddStringToObject(o, "_ObjectType_", type);
}

static int csom_provision_containers(const struct sp_call *c, const cJSON *params, cJSON **result,
                                     struct sp_error *e)
{
    if (provision_containers_do(c, result, e) < 0)
        return -1;
    /* The key is a byte array in CSOM. */
    cJSON *k = cJSON_GetObjectItem(*result, "EncryptionKey");
    cJSON *bytes = csom_base64(k->valuestring);
    crypto_wipe(k->valuestring, strlen(k->valuestring));
    cJSON_ReplaceItemInObject(*result, "EncryptionKey", bytes);
    csom_type(*result, "SP.ProvisionedMigrationContainersInfo");
    return 0;
}

static int csom_provision_queue(const struct sp_call *c, const cJSON *params, cJSON **result,
                                struct sp_error *e)
{
    if (provision_queue_do(c, result, e) < 0)
        return -1;
    csom_type(*result, "SP.ProvisionedMigrationQueueInfo");
    return 0;
}

static const char *const submit_params[] = {"gWebId",
                                            "azureContainerSourceUri",
                                            "azureContainerManifestUri",
                                            "azureQueueReportUri",
                                            "options",
                                            NULL};

/* SP.EncryptionOption's key as clients send it: base64 text, or an array of byte values. */
static void csom_key_to_base64(cJSON *body)
{
    cJSON *opt = cJSON_GetObjectItem(body, "options");
    cJSON *k = opt ? cJSON_GetObjectItem(opt, "AES256CBCKey") : NULL;
    if (!cJSON_IsArray(k) || cJSON_GetArraySize(k) > 64)
        return;
    unsigned char bytes[64];
    int n = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, k)
    {
        if (!cJSON_IsNumber(b) || b->valuedouble < 0 || b->valuedouble > 255)
            return;
        bytes[n++] = (unsigned char)b->valuedouble;
    }
    char text[100];
    b64_encode_to(bytes, (size_t)n, text);
    cJSON_ReplaceItemInObject(opt, "AES256CBCKey", cJSON_CreateString(text));
    crypto_wipe(bytes, sizeof bytes);
    crypto_wipe(text, sizeof text);
}

static int csom_submit(const struct sp_call *c, const cJSON *params, bool encrypted, cJSON **result,
                       struct sp_error *e)
{
    cJSON *body;
    struct sp_call call = csom_call(c, params, submit_params, &body);
    if (encrypted)
        csom_key_to_base64(body);
    cJSON *id = NULL;
    int rc = submit_do(&call, encrypted, &id, e);
    cJSON_Delete(body);
    if (rc == 0) {
        *result = csom_guid(id->valuestring);
        cJSON_Delete(id);
    }
    return rc;
}

static int csom_submit_plain(const struct sp_call *c, const cJSON *params, cJSON **result,
                             struct sp_error *e)
{
    return csom_submit(c, params, false, result, e);
}

static int csom_submit_encrypted(const struct sp_call *c, const cJSON *params, cJSON **result,
                                 struct sp_error *e)
{
    return csom_submit(c, params, true, result, e);
}

static int csom_job(const struct sp_call *c, const cJSON *params, const char *name,
                    int (*fn)(const struct sp_call *, cJSON **, struct sp_error *), cJSON **result,
                    struct sp_error *e)
{
    const char *const names[] = {name, "nextToken", NULL};
    cJSON *body;
    struct sp_call call = csom_call(c, params, names, &body);
    int rc = fn(&call, result, e);
    cJSON_Delete(body);
    return rc;
}

static int csom_job_status(const struct sp_call *c, const cJSON *params, cJSON **result,
                           struct sp_error *e)
{
    return csom_job(c, params, "id", job_status_do, result, e);
}

static int csom_job_delete(const struct sp_call *c, const cJSON *params, cJSON **result,
                           struct sp_error *e)
{
    return csom_job(c, params, "id", job_delete_do, result, e);
}

static int csom_job_progress(const struct sp_call *c, const cJSON *params, cJSON **result,
                             struct sp_error *e)
{
    if (csom_job(c, params, "jobId", job_progress_do, result, e) < 0)
        return -1;
    csom_type(*result, "SP.MigrationJobProgress");
    return 0;
}

void migration_api_register(const char *blob_url, const char *queue_url)
{
    static const struct sp_routes_method methods[] = {
        {"ProvisionMigrationContainers", true, rest_provision_containers},
        {"ProvisionMigrationQueue", true, rest_provision_queue},
        {"CreateMigrationJob", true, rest_submit_plain},
        {"CreateMigrationJobEncrypted", true, rest_submit_encrypted},
        {"GetMigrationJobStatus", false, rest_job_status},
        {"GetMigrationJobProgress", false, rest_job_progress},
        {"DeleteMigrationJob", true, rest_job_delete},
        {"GetMigrationStatus", false, rest_migration_status},
    };
    free(blob_base);
    free(queue_base);
    blob_base = xstrdup(blob_url);
    queue_base = xstrdup(queue_url);
    sp_routes_add_site_methods(methods, sizeof methods / sizeof methods[0]);
    csom_add_site_method("ProvisionMigrationContainers", csom_provision_containers);
    csom_add_site_method("ProvisionMigrationQueue", csom_provision_queue);
    csom_add_site_method("CreateMigrationJob", csom_submit_plain);
    csom_add_site_method("CreateMigrationJobEncrypted", csom_submit_encrypted);
    csom_add_site_method("GetMigrationJobStatus", csom_job_status);
    csom_add_site_method("GetMigrationJobProgress", csom_job_progress);
    csom_add_site_method("DeleteMigrationJob", csom_job_delete);
}
