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

static void internal_error(struct http_request *req, const char *what)
{
    log_error("migration: %s", what);
    odata_internal_error(req, what);
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

static char *storage_uri(bool queue, const char *name, const char *sas)
{
    return xasprintf("%s/%s/%s?%s", queue ? queue_base : blob_base, ACCOUNTS_INTERNAL, name, sas);
}

static void provision_containers(struct http_request *req, struct sp_call *c)
{
    if (!sp_call_require_manager(req, c))
        return;
    int64_t now = clock_now_ms(), expiry = now + lifecycle_policy()->key_ttl_ms;
    char data[64], meta[64];
    if (provision_one(false, c->site.id, now, expiry, data) < 0 ||
        provision_one(false, c->site.id, now, expiry, meta) < 0) {
        internal_error(req, "The migration containers could not be provisioned.");
        return;
    }
    char *sas_d = service_sas(SAS_BLOB, data, "rw", now, expiry);
    char *sas_m = service_sas(SAS_BLOB, meta, "rw", now, expiry);
    char *uri_d = storage_uri(false, data, sas_d);
    char *uri_m = storage_uri(false, meta, sas_m);
    unsigned char key[32];
    char key_b64[48];
    crypto_random(key, sizeof key);
    b64_encode_to(key, sizeof key, key_b64);
    crypto_wipe(key, sizeof key);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "DataContainerUri", uri_d);
    cJSON_AddStringToObject(o, "EncryptionKey", key_b64);
    cJSON_AddStringToObject(o, "MetadataContainerUri", uri_m);
    crypto_wipe(key_b64, sizeof key_b64);
    log_info("migration: provisioned containers %s and %s for %s", data, meta, c->site.url);
    odata_result(req, "ProvisionMigrationContainers", "SP.ProvisionedMigrationContainersInfo", o);
    free(sas_d);
    free(sas_m);
    free(uri_d);
    free(uri_m);
}

static void provision_queue(struct http_request *req, struct sp_call *c)
{
    if (!sp_call_require_manager(req, c))
        return;
    int64_t now = clock_now_ms(), expiry = now + lifecycle_policy()->queue_sas_ttl_ms;
    char name[64];
    if (provision_one(true, c->site.id, now, expiry, name) < 0) {
        internal_error(req, "The migration queue could not be provisioned.");
        return;
    }
    char *sas = service_sas(SAS_QUEUE, name, "rap", now, expiry);
    char *uri = storage_uri(true, name, sas);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "JobQueueUri", uri);
    log_info("migration: provisioned queue %s for %s", name, c->site.url);
    odata_result(req, "ProvisionMigrationQueue", "SP.ProvisionedMigrationQueueInfo", o);
    free(sas);
    free(uri);
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

/* The port of an "http://host:port" base, or 0. */
static unsigned base_port(const char *base)
{
    const char *colon = base ? strrchr(base, ':') : NULL;
    return colon && colon[1] ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
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

static void submit(struct http_request *req, struct sp_call *c, bool encrypted)
{
    if (!sp_call_require_manager(req, c))
        return;
    char buf[64], why[320];
    const char *web = sp_call_arg(c, "gWebId", 0, buf, sizeof buf);
    const char *src = sp_call_arg(c, "azureContainerSourceUri", 1, NULL, 0);
    const char *man = sp_call_arg(c, "azureContainerManifestUri", 2, NULL, 0);
    const char *queue = sp_call_arg(c, "azureQueueReportUri", 3, NULL, 0);
    unsigned char web_id[16], site_web[16];
    if (!web || uuid_parse(web, web_id) < 0 || uuid_parse(c->site.web_uuid, site_web) < 0 ||
        memcmp(web_id, site_web, 16) != 0) {
        odata_bad_argument(req, "gWebId is not the id of this site's web.");
        return;
    }
    unsigned char key[32];
    if (encrypted) {
        const cJSON *opt = c->body ? cJSON_GetObjectItem(c->body, "options") : NULL;
        const cJSON *k = opt ? cJSON_GetObjectItem(opt, "AES256CBCKey") : NULL;
        if (!cJSON_IsString(k) ||
            b64_decode_to(k->valuestring, strlen(k->valuestring), key, sizeof key) != 32) {
            odata_bad_argument(req, "options.AES256CBCKey must be the base64 of a 32-byte key.");
            return;
        }
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
        odata_bad_argument(req, why);
        return;
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
        internal_error(req, "The migration job could not be created.");
        return;
    }
    log_info("migration: job %s queued for %s", j.uuid, c->site.url);
    audit_record("job", j.uuid, c->site.url);
    import_job_queued(&j);
    odata_result(req, encrypted ? "CreateMigrationJobEncrypted" : "CreateMigrationJob", NULL,
                 cJSON_CreateString(j.uuid));
}

/* ---- status ---- */

/* Finds the job an id argument names and checks the caller may see it. */
static int job_for_call(struct http_request *req, struct sp_call *c, const char *argname,
                        struct job *j)
{
    char buf[64];
    const char *id = sp_call_arg(c, argname, 0, buf, sizeof buf);
    unsigned char u[16];
    char norm[37];
    if (!id || uuid_parse(id, u) < 0) {
        odata_bad_argument(req, "The job id is not a GUID.");
        return -1;
    }
    uuid_format(u, norm);
    if (jobs_get(norm, j) < 0 || j->site_id != c->site.id) {
        job_finish(j);
        return 1; /* not found: callers answer in their own way */
    }
    if (j->owner_id != c->who.id && !sp_auth_admin_on_sites(&c->who)) {
        job_finish(j);
        odata_access_denied(req);
        return -1;
    }
    return 0;
}

static void job_status(struct http_request *req, struct sp_call *c)
{
    struct job j = {0};
    int rc = job_for_call(req, c, "id", &j);
    if (rc < 0)
        return;
    int state = rc == 0 ? j.state : JOB_ENDED;
    odata_result(req, "GetMigrationJobStatus", NULL, cJSON_CreateNumber(state));
    job_finish(&j);
}

static void add_log(void *ctx, const char *json)
{
    cJSON_AddItemToArray(ctx, cJSON_CreateString(json));
}

static void job_progress(struct http_request *req, struct sp_call *c)
{
    struct job j = {0};
    int rc = job_for_call(req, c, "jobId", &j);
    if (rc < 0)
        return;
    if (rc > 0) {
        odata_error(req, 500, SP_HRESULT_JOB_NOT_FOUND, "Microsoft.SharePoint.SPException",
                    "Job not found");
        return;
    }
    if (j.state == JOB_ENDED &&
        clock_now_ms() > j.ended_ms + lifecycle_policy()->progress_keep_ms) {
        job_finish(&j);
        odata_error(req, 500, SP_HRESULT_JOB_EXPIRED, "Microsoft.SharePoint.SPException",
                    "Job status expired");
        return;
    }
    char buf[32];
    const char *tok = sp_call_arg(c, "nextToken", 1, buf, sizeof buf);
    int64_t after = tok ? strtoll(tok, NULL, 10) : 0;
    if (after < 0)
        after = 0;
    cJSON *logs = cJSON_CreateArray();
    int64_t last;
    jobs_log_read(j.uuid, after, 1000, add_log, logs, &last);
    cJSON *o = cJSON_CreateObject();
    if (odata_mode(req) == ODATA_VERBOSE) {
        cJSON *l = cJSON_AddObjectToObject(o, "Logs");
        cJSON *md = cJSON_AddObjectToObject(l, "__metadata");
        cJSON_AddStringToObject(md, "type", "Collection(Edm.String)");
        cJSON_AddItemToObject(l, "results", logs);
    } else {
        cJSON_AddItemToObject(o, "Logs", logs);
    }
    snprintf(buf, sizeof buf, "%lld", (long long)last);
    cJSON_AddStringToObject(o, "NextToken", buf);
    odata_result(req, "GetMigrationJobProgress", "SP.MigrationJobProgress", o);
    job_finish(&j);
}

static void job_delete(struct http_request *req, struct sp_call *c)
{
    if (!sp_call_require_manager(req, c))
        return;
    struct job j = {0};
    int rc = job_for_call(req, c, "id", &j);
    if (rc < 0)
        return;
    bool deleted = rc == 0 && jobs_delete_queued(j.uuid) == 1;
    if (deleted) {
        jobs_key_drop(j.uuid);
        import_job_deleted(&j);
    }
    odata_result(req, "DeleteMigrationJob", NULL, cJSON_CreateBool(deleted));
    job_finish(&j);
}

static void add_status(void *ctx, const struct job *j)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "JobId", j->uuid);
    cJSON_AddNumberToObject(o, "JobState", j->state);
    cJSON_AddStringToObject(o, "__type", "SP.SPMigrationJobStatus");
    cJSON_AddItemToArray(ctx, o);
}

static void migration_status(struct http_request *req, struct sp_call *c)
{
    if (!sp_call_require_manager(req, c))
        return;
    cJSON *arr = cJSON_CreateArray();
    jobs_each_active(c->site.id, add_status, arr);
    odata_collection(req, arr);
}

static void submit_plain(struct http_request *req, struct sp_call *c)
{
    submit(req, c, false);
}

static void submit_encrypted(struct http_request *req, struct sp_call *c)
{
    submit(req, c, true);
}

void migration_api_register(const char *blob_url, const char *queue_url)
{
    static const struct sp_routes_method methods[] = {
        {"ProvisionMigrationContainers", true, provision_containers},
        {"ProvisionMigrationQueue", true, provision_queue},
        {"CreateMigrationJob", true, submit_plain},
        {"CreateMigrationJobEncrypted", true, submit_encrypted},
        {"GetMigrationJobStatus", false, job_status},
        {"GetMigrationJobProgress", false, job_progress},
        {"DeleteMigrationJob", true, job_delete},
        {"GetMigrationStatus", false, migration_status},
    };
    free(blob_base);
    free(queue_base);
    blob_base = xstrdup(blob_url);
    queue_base = xstrdup(queue_url);
    sp_routes_add_site_methods(methods, sizeof methods / sizeof methods[0]);
}
