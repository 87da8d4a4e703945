/*
 * import_job.c: the timer job. A fixed pool of worker threads takes queued jobs from jobs.h;
 * each job reads its package from the manifest container's newest snapshots, decrypts with
 * the job's key, validates it (package.h), imports folders and files into the library
 * through sp_model's staged import, and reports events (JobStart ... JobEnd, always last) to
 * its event log and report queue, then writes Import-<job>-<attempt>.log/.wrn/.err.
 */
#include "import_job.h"
#include "accounts.h"
#include "aes.h"
#include "b64.h"
#include "blob_store.h"
#include "clock.h"
#include "crypto.h"
#include "events.h"
#include "faults.h"
#include "log.h"
#include "package.h"
#include "query.h"
#include "queue_store.h"
#include "sp_import.h"
#include "sp_model.h"
#include "spmig_limits.h"
#include "store_files.h"
#include "strbuf.h"
#include "timefmt.h"
#include "uuid.h"
#include "xmalloc.h"
#include "xml_bounds.h"

#include <cjson/cJSON.h>
#include <libxml/xmlreader.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static pthread_t *workers;
static unsigned nworkers;
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;
static _Atomic bool stopping;
static unsigned pending_wakes;

/* ---- where a job's storage lives ---- */

/* account and name of "http://host/<account>/<name>?sas" (both owned by the caller). */
static int split_uri(const char *uri, char **account, char **name)
{
    *account = *name = NULL;
    const char *p = uri ? strstr(uri, "://") : NULL;
    const char *path = p ? strchr(p + 3, '/') : NULL;
    const char *slash = path ? strchr(path + 1, '/') : NULL;
    if (!slash)
        return -1;
    const char *end = slash + 1 + strcspn(slash + 1, "?/");
    *account = query_decode(path + 1, (size_t)(slash - path - 1), false, NULL);
    *name = query_decode(slash + 1, (size_t)(end - slash - 1), false, NULL);
    if (!*account || !*name) {
        free(*account);
        free(*name);
        *account = *name = NULL;
        return -1;
    }
    return 0;
}

/* ---- events ---- */

/*
 * One of the job's log files (.log, .wrn, .err). Lines go through a small buffer into a new
 * extent as the job runs, encrypted on the way for encrypted jobs, so a job of any size holds
 * at most LOG_FLUSH bytes of each; write_log_file puts the extent into the manifest container.
 * A log that never outgrew the buffer is put from memory as a small blob, creating no file.
 */
enum { LOG_FLUSH = 64 * 1024 };

struct log_out {
    struct strbuf pending;
    struct store_files_writer w;
    bool open, failed;
    struct aes *a; /* encrypting, for encrypted jobs */
    unsigned char iv[AES_IV_LEN];
};

struct run {
    struct job *job;
    bool has_key;
    unsigned char key[AES_KEY_LEN];
    struct events_job ej;
    char correlation[37];
    char site_uuid[37];
    char *queue_account, *queue_name;
    struct events_counters counters;
    struct log_out log, wrn, err;
    int64_t last_progress_ms;
    struct { /* package user ids already mapped to site users */
        int id;
        int64_t site_id;
    } users[16];
    size_t n_users;
};

/* Starts lf's cipher on first use, for encrypted jobs; false if it cannot. */
static bool log_cipher(struct run *r, struct log_out *lf)
{
    if (r->has_key && !lf->a && !lf->failed) {
        crypto_random(lf->iv, sizeof lf->iv);
        lf->a = aes_create(r->key, lf->iv, true);
        lf->failed = !lf->a;
    }
    return !lf->failed;
}

/* Opens lf's extent (and cipher) on first use; false if the file cannot be written. */
static bool log_begin(struct run *r, struct log_out *lf)
{
    if (!lf->open && !lf->failed) {
        if (store_files_writer_open(&lf->w, true, false) < 0) {
            lf->failed = true;
            return false;
        }
        lf->open = true;
        log_cipher(r, lf);
    }
    return lf->open && !lf->failed;
}

/* Writes what lf holds to its extent; after a failure lines are dropped (the file is not
 * put). */
static void log_flush(struct run *r, struct log_out *lf)
{
    if (lf->pending.len && log_begin(r, lf)) {
        int rc = 0;
        if (lf->a) {
            unsigned char out[4096 + AES_BLOCK_LEN];
            for (size_t at = 0; rc == 0 && at < lf->pending.len; at += 4096) {
                size_t n = lf->pending.len - at < 4096 ? lf->pending.len - at : 4096, outlen = 0;
                rc = aes_update(lf->a, lf->pending.data + at, n, out, &outlen);
                if (rc == 0)
                    rc = store_files_writer_write(&lf->w, out, outlen);
            }
        } else {
            rc = store_files_writer_write(&lf->w, lf->pending.data, lf->pending.len);
        }
        lf->failed = rc < 0;
    }
    lf->pending.len = 0;
    if (lf->pending.data)
        lf->pending.data[0] = '\0';
}

static void log_line(struct run *r, struct log_out *lf, const char *level, const char *type,
                     const char *url, const char *msg)
{
    char t[TIMEFMT_BUF];
    timefmt_sp_event(clock_now_ms(), t);
    strbuf_printf(&lf->pending, "[%s] %s: [%s] [%s] %s\n", t, level, type ? type : "",
                  url ? url : "", msg ? msg : "");
    if (lf->pending.len >= LOG_FLUSH)
        log_flush(r, lf);
}

/* Drops a log file that was never put (a job parked by shutdown, no manifest container). */
static void log_drop(struct log_out *lf)
{
    if (lf->open)
        store_files_writer_abort(&lf->w);
    aes_destroy(lf->a);
    lf->a = NULL;
    lf->open = false;
    strbuf_finish(&lf->pending);
}

/* Posts an event's JSON to the job's report queue (encrypted when the job is), if it has one. */
static void post(struct run *r, const char *json)
{
    if (!r->queue_name)
        return;
    char *text = events_encode_message(json, r->job->uuid, r->has_key ? r->key : NULL);
    int rc = queue_store_put(r->queue_account, r->queue_name, text, strlen(text), 0, 0, NULL);
    if (rc != QUEUE_STORE_OK)
        log_warn("import: job %s: cannot post to its report queue %s (error %d)", r->job->uuid,
                 r->queue_name, rc);
    free(text);
}

/* Records an event in the job's progress log and posts it to its report queue. For JobEnd
 * (last): once it is in the queue the job is over for whoever reads it, so by then the job's
 * import logs are written and GetMigrationJobStatus must say it ended. */
static void record(struct run *r, cJSON *ev, bool last)
{
    char *json = events_to_json(ev);
    cJSON_Delete(ev);
    jobs_log_append(r->job->uuid, clock_now_ms(), json);
    if (last)
        jobs_end(r->job->uuid);
    post(r, json);
    free(json);
}

static void emit(struct run *r, cJSON *ev)
{
    record(r, ev, false);
}

/* The ids JobStart reports for the "farm" this process plays; fixed for its lifetime. */
static char farm_id[UUID_BUF], server_id[UUID_BUF], subscription_id[UUID_BUF];
static pthread_once_t ids_once = PTHREAD_ONCE_INIT;

static void make_ids(void)
{
    char *ids[] = {farm_id, server_id, subscription_id};
    for (int i = 0; i < 3; i++) {
        unsigned char u[UUID_LEN];
        uuid_v4(u);
        uuid_format(u, ids[i]);
    }
}

static void run_init(struct run *r, struct job *j)
{
    pthread_once(&ids_once, make_ids);
    memset(r, 0, sizeof *r);
    r->job = j;
    r->has_key = j->encrypted && jobs_key_get(j->uuid, r->key);
    struct sp_model_site s = {0};
    if (sp_model_site_by_web(j->web_uuid, &s) == SP_MODEL_OK)
        snprintf(r->site_uuid, sizeof r->site_uuid, "%s", s.uuid);
    sp_model_site_finish(&s);
    unsigned char c[UUID_LEN];
    uuid_v4(c);
    uuid_format(c, r->correlation);
    r->ej.job_id = j->uuid;
    r->ej.correlation_id = r->correlation;
    r->ej.site_id = r->site_uuid;
    r->ej.web_id = j->web_uuid;
    r->ej.db_id = r->site_uuid;
    r->ej.farm_id = farm_id;
    r->ej.server_id = server_id;
    r->ej.subscription_id = subscription_id;
    r->ej.retry_count = j->attempt > 1 ? (unsigned)j->attempt - 1 : 0;
    if (j->queue_uri)
        split_uri(j->queue_uri, &r->queue_account, &r->queue_name);
    events_counters_init(&r->counters);
    strbuf_init(&r->log.pending, 0);
    strbuf_init(&r->wrn.pending, 0);
    strbuf_init(&r->err.pending, 0);
}

static void run_finish(struct run *r)
{
    crypto_wipe(r->key, sizeof r->key);
    free(r->queue_account);
    free(r->queue_name);
    log_drop(&r->log);
    log_drop(&r->wrn);
    log_drop(&r->err);
}

void import_job_queued(const struct job *j)
{
    struct run r;
    run_init(&r, (struct job *)j);
    emit(&r, events_job_queued(&r.ej, clock_now_ms()));
    run_finish(&r);
    pthread_mutex_lock(&wake_lock);
    pending_wakes++;
    pthread_cond_signal(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
}

void import_job_deleted(const struct job *j)
{
    struct run r;
    run_init(&r, (struct job *)j);
    emit(&r, events_job_deleted(&r.ej, clock_now_ms()));
    run_finish(&r);
}

/* A warning, error or fatal error: an event and a line in the logs. */
static void issue(struct run *r, enum events_severity sev, const char *type, const char *url,
                  const char *id, int32_t code, const char *etype, const char *msg)
{
    struct events_object_error e = {type, url, id, code, etype, msg};
    emit(r, events_job_issue(&r->ej, clock_now_ms(), sev, &e));
    const char *level = sev == EVENTS_WARNING ? "Warning"
                        : sev == EVENTS_ERROR ? "Error"
                                              : "FatalError";
    log_line(r, &r->log, level, type, url, msg);
    log_line(r, sev == EVENTS_WARNING ? &r->wrn : &r->err, level, type, url, msg);
    if (sev == EVENTS_WARNING)
        r->counters.warnings++;
    else
        r->counters.errors++;
}

static void maybe_progress(struct run *r, bool force)
{
    int64_t now = clock_real_ms();
    if (!force && r->counters.objects_processed % 250 != 0 && now - r->last_progress_ms < 2000)
        return;
    r->last_progress_ms = now;
    emit(r, events_job_progress(&r->ej, clock_now_ms(), &r->counters));
}

/* ---- reading and decrypting blobs ---- */

/* The IV of a blob: its "IV" metadata (any case), base64 of 16 bytes. */
static bool blob_iv(const struct blob_store_props *p, unsigned char iv[AES_IV_LEN])
{
    cJSON *m = p->metadata ? cJSON_Parse(p->metadata) : NULL;
    cJSON *v = m ? cJSON_GetObjectItem(m, "IV") : NULL; /* case-insensitive */
    bool ok = cJSON_IsString(v) &&
              b64_decode_to(v->valuestring, strlen(v->valuestring), iv, AES_IV_LEN) == AES_IV_LEN;
    cJSON_Delete(m);
    return ok;
}

/*
 * The newest snapshot of a blob, read a chunk at a time and decrypted on the way (with the
 * IV the manifest gives, else the blob's IV metadata), so no blob is ever held whole.
 */
struct blob_reader {
    const char *name;
    struct blob_store_blob b;
    struct aes *a;        /* decrypting, for encrypted jobs */
    struct crypto_md5 *m; /* of the stored bytes, when wanted */
    bool known_md5;       /* instead: b.props.md5 is theirs (md5_checked) */
    size_t chunk;         /* bytes read from the blob at a time */
    unsigned char *in, *out;
    struct blob_store_reader *rd; /* the stored bytes, in extent files or packs alike */
    uint64_t pos;                 /* of the next read */
    bool done, broken;
    char why[300]; /* what went wrong */
};

/*
 * Opens name in container_id for reading in chunks of chunk bytes, hashing the stored bytes
 * when md5 says so (MD5_IF_STORED: when the blob has a Content-MD5 to compare with). Returns
 * 0, 1 when there is no such blob, or -1 when it cannot be read (no snapshot, no IV for an
 * encrypted job), with the reason in br->why either way; only after 0 must blob_close follow.
 */
enum blob_md5 { MD5_NEVER, MD5_IF_STORED, MD5_ALWAYS };

static int blob_open(struct blob_reader *br, struct run *r, int64_t container_id, const char *name,
                     const unsigned char *iv_given, size_t chunk, enum blob_md5 md5)
{
    memset(br, 0, sizeof *br);
    br->name = name;
    br->chunk = chunk;
    int rc = blob_store_blob_read_latest(container_id, name, &br->b);
    if (rc == BLOB_STORE_NO_BLOB) {
        snprintf(br->why, sizeof br->why, "The blob '%s' does not exist.", name);
        return 1;
    }
    if (rc == BLOB_STORE_NO_SNAPSHOT) {
        snprintf(br->why, sizeof br->why,
                 "The blob '%s' has no snapshot: take one after uploading it.", name);
        return -1;
    }
    if (rc != BLOB_STORE_OK) {
        snprintf(br->why, sizeof br->why, "The blob '%s' could not be read.", name);
        return -1;
    }
    if (r->job->encrypted) {
        unsigned char iv[AES_IV_LEN];
        if (iv_given)
            memcpy(iv, iv_given, AES_IV_LEN);
        else if (!blob_iv(&br->b.props, iv)) {
            snprintf(br->why, sizeof br->why, "The blob '%s' has no IV metadata (x-ms-meta-IV).",
                     name);
            blob_store_blob_finish(&br->b);
            return -1;
        }
        br->a = aes_create(r->key, iv, false);
    }
    /* A Content-MD5 the store computed over these bytes itself needs no second pass: the
     * bytes read are the ones it was computed over. */
    if (br->b.props.md5_checked)
        br->known_md5 = true;
    else if (md5 == MD5_ALWAYS || (md5 == MD5_IF_STORED && br->b.props.has_md5))
        br->m = crypto_md5_create();
    br->in = xmalloc(chunk);
    br->out = xmalloc(chunk + AES_BLOCK_LEN);
    br->rd = blob_store_reader_create(&br->b, 0); /* takes the segments; b keeps its props */
    return 0;
}

/* The next piece of plaintext in *data (valid until the next call): its length, 0 at the
 * end, or -1 with the reason in br->why. */
static ssize_t blob_next(struct blob_reader *br, const void **data)
{
    while (!br->done && !br->broken) {
        if (br->pos == br->b.props.size) {
            br->done = true;
            size_t outlen = 0;
            if (br->a && aes_final(br->a, br->out, &outlen) < 0)
                break;
            *data = br->out;
            return (ssize_t)outlen;
        }
        long n = blob_store_reader_read(br->rd, br->pos, br->in, br->chunk);
        if (n <= 0)
            goto unreadable;
        br->pos += (uint64_t)n;
        if (br->m)
            crypto_md5_update(br->m, br->in, (size_t)n);
        if (!br->a) {
            *data = br->in;
            return n;
        }
        size_t outlen = 0;
        if (aes_update(br->a, br->in, (size_t)n, br->out, &outlen) < 0)
            break;
        if (outlen) {
            *data = br->out;
            return (ssize_t)outlen;
        }
    }
    if (br->done && !br->broken)
        return 0;
    if (!br->broken)
        snprintf(br->why, sizeof br->why,
                 "The blob '%s' does not decrypt with the job's key (corrupt "
                 "ciphertext, wrong key or bad padding).",
                 br->name);
    br->broken = true;
    return -1;
unreadable:
    snprintf(br->why, sizeof br->why, "The bytes of blob '%s' could not be read.", br->name);
    br->broken = true;
    return -1;
}

/* Ends a read; md5 (may be NULL) receives the MD5 of the stored bytes read (the checked
 * Content-MD5 when the store computed one), or zeros when they were not hashed. */
static void blob_close(struct blob_reader *br, unsigned char md5[16])
{
    unsigned char ignored[16];
    if (br->m)
        crypto_md5_final(br->m, md5 ? md5 : ignored);
    else if (md5 && br->known_md5)
        memcpy(md5, br->b.props.md5, 16);
    else if (md5)
        memset(md5, 0, 16);
    blob_store_reader_destroy(br->rd);
    aes_destroy(br->a);
    free(br->in);
    free(br->out);
    blob_store_blob_finish(&br->b);
}

/*
 * Where the plaintext of one file version goes: held in memory while it fits in
 * LIMIT_INLINE_BYTES (then staged as a small extent in a pack, which creates no file), spilled to a
 * new extent file once it does not. Zero-initialise; version_out_close ends the writing, then
 * version_out_drop removes what was written unless the import took it over.
 */
struct version_out {
    bool may_inline; /* false: straight to a file */
    bool spilled;    /* the bytes are in w (open or closed), buf is gone */
    unsigned char *buf;
    size_t len, cap;
    struct store_files_writer w;
};

/* Starts writing to a file of about hint bytes: opens w and moves what buf held into it. 0 or
 * -1. */
static int version_out_spill(struct version_out *o, uint64_t hint)
{
    if (store_files_writer_open(&o->w, false, false) < 0)
        return -1;
    /* Whole pages only: the plaintext may be up to a cipher block shorter than the hint. */
    store_files_writer_reserve(&o->w, hint & ~(uint64_t)4095);
    o->spilled = true;
    int rc = o->len ? store_files_writer_write(&o->w, o->buf, o->len) : 0;
    free(o->buf);
    o->buf = NULL;
    o->len = o->cap = 0;
    return rc;
}

/* Appends n bytes; hint: the most bytes to expect in all (the blob's stored size). 0 or -1. */
static int version_out_write(struct version_out *o, const void *data, size_t n, uint64_t hint)
{
    if (!o->spilled && o->may_inline && o->len + n <= LIMIT_INLINE_BYTES) {
        if (o->len + n > o->cap) {
            size_t want = hint < LIMIT_INLINE_BYTES ? (size_t)hint : LIMIT_INLINE_BYTES;
            if (want < o->len + n)
                want = o->len + n;
            o->buf = xrealloc(o->buf, want);
            o->cap = want;
        }
        if (n)
            memcpy(o->buf + o->len, data, n);
        o->len += n;
        return 0;
    }
    if (!o->spilled && version_out_spill(o, hint) < 0)
        return -1;
    return store_files_writer_write(&o->w, data, n);
}

/* Ends the writing: closes the file, if any. 0, or -1 (then no file is left). */
static int version_out_close(struct version_out *o)
{
    return o->spilled ? store_files_writer_close(&o->w, NULL) : 0;
}

/* Points spec at the bytes (the file or the buffer); o must stay until they are staged. */
static void version_out_spec(const struct version_out *o, struct sp_import_version_spec *spec)
{
    spec->extent = o->spilled ? o->w.path : NULL;
    spec->data = o->spilled ? NULL : o->buf;
}

/* Frees the buffer; remove: also removes the closed file (the import did not take it). */
static void version_out_drop(struct version_out *o, bool remove)
{
    if (o->spilled && remove && !o->w.error)
        store_files_unlink(o->w.path);
    free(o->buf);
    memset(o, 0, sizeof *o);
}

/*
 * Copies the newest snapshot of name in container_id, decrypted, into out, at most limit
 * bytes. Returns 0, or -1 with a reason in why; *md5 receives the MD5 of the stored bytes when
 * want_md5 or the blob has its own Content-MD5 (then in *stored_md5), *size the plaintext's
 * length.
 */
static int read_blob(struct run *r, int64_t container_id, const char *name,
                     const unsigned char *iv_given, bool want_md5, struct version_out *out,
                     uint64_t limit, uint64_t *size, unsigned char md5[16], bool *has_stored,
                     unsigned char stored_md5[16], char *why, size_t cap)
{
    struct blob_reader br;
    *size = 0;
    if (blob_open(&br, r, container_id, name, iv_given, 256 * 1024,
                  want_md5 ? MD5_ALWAYS : MD5_IF_STORED) != 0) {
        snprintf(why, cap, "%s", br.why);
        return -1;
    }
    *has_stored = br.b.props.has_md5;
    if (br.b.props.has_md5)
        memcpy(stored_md5, br.b.props.md5, 16);
    /* The plaintext is at most the stored size, and at least that less the padding. */
    uint64_t stored = br.b.props.size;
    if (stored > (uint64_t)LIMIT_INLINE_BYTES + AES_BLOCK_LEN)
        out->may_inline = false;
    const void *data;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = blob_next(&br, &data)) > 0) {
        if (*size + (uint64_t)n > limit) {
            snprintf(why, cap, "The blob '%s' is larger than the package declares.", name);
            rc = -1;
        } else if (version_out_write(out, data, (size_t)n, stored) < 0) {
            snprintf(why, cap, "The blob '%s' could not be written.", name);
            rc = -1;
        }
        *size += (uint64_t)n;
    }
    if (rc == 0 && n < 0) {
        snprintf(why, cap, "%s", br.why);
        rc = -1;
    }
    blob_close(&br, md5);
    return rc;
}

/* ---- the package ---- */

/* A file of the manifest container as a package_stream. */
struct xml_source {
    struct blob_reader br;
    const unsigned char *pending;
    size_t n_pending;
    struct xml_bounds bounds; /* xml_source_io: the shape of what libxml2 was given */
};

static ssize_t xml_source_read(void *ctx, void *buf, size_t cap, char **why)
{
    struct xml_source *s = ctx;
    while (!s->n_pending) {
        const void *data;
        ssize_t n = blob_next(&s->br, &data);
        if (n < 0) {
            if (why && !*why)
                *why = xstrdup(s->br.why);
            return -1;
        }
        if (n == 0)
            return 0;
        s->pending = data;
        s->n_pending = (size_t)n;
    }
    size_t n = s->n_pending < cap ? s->n_pending : cap;
    memcpy(buf, s->pending, n);
    s->pending += n;
    s->n_pending -= n;
    return (ssize_t)n;
}

static void xml_source_close(void *ctx)
{
    struct xml_source *s = ctx;
    blob_close(&s->br, NULL);
    free(s);
}

struct reader {
    struct run *r;
    int64_t manifest_container;
};

/* package_open_fn over the manifest container. Chunks of 64 KiB: a file of any size is read
 * in constant memory. */
static int open_package_file(void *ctx, const char *name, struct package_stream *out, char **why)
{
    struct reader *rd = ctx;
    struct xml_source *s = xcalloc(1, sizeof *s);
    xml_bounds_init(&s->bounds);
    int rc = blob_open(&s->br, rd->r, rd->manifest_container, name, NULL, 64 * 1024, MD5_NEVER);
    if (rc != 0) {
        if (rc < 0)
            *why = xstrdup(s->br.why);
        free(s);
        return rc;
    }
    *out = (struct package_stream){s, xml_source_read, xml_source_close};
    return 0;
}

/* libxml2's read callback over an xml_source; fills the request unless the file ends. A
 * file past the shape bounds (xml_bounds.c) fails here, before libxml2 spends on it; the
 * package's own read reports why. */
static int xml_source_io(void *ctx, char *buf, int len)
{
    struct xml_source *s = ctx;
    int got = 0;
    while (got < len) {
        char *why = NULL;
        ssize_t n = xml_source_read(ctx, buf + got, (size_t)(len - got), &why);
        free(why);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        if (xml_bounds_feed(&s->bounds, buf + got, (size_t)n) != XML_BOUNDS_OK)
            return -1;
        got += (int)n;
    }
    return got;
}

/*
 * The Id attribute of the first element called element in a file of the manifest container,
 * read with libxml2's streaming reader (no DTD, no entities, no network). 0, or -1 if there is
 * none or the file cannot be read to its end. Validation proper is package.c's; this only
 * tells the job which library to load for.
 */
static int first_element_id(struct reader *rd, const char *name, const char *element,
                            unsigned char id[UUID_LEN])
{
    struct package_stream s;
    char *why = NULL;
    if (open_package_file(rd, name, &s, &why) != 0) {
        free(why);
        return -1;
    }
    xmlTextReaderPtr xr = xmlReaderForIO(xml_source_io, NULL, s.ctx, NULL, NULL,
                                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    int rc = -1;
    while (xr && rc < 0 && xmlTextReaderRead(xr) == 1) {
        if (xmlTextReaderNodeType(xr) == XML_READER_TYPE_DOCUMENT_TYPE)
            break;
        if (xmlTextReaderNodeType(xr) != XML_READER_TYPE_ELEMENT ||
            xmlStrcmp(xmlTextReaderConstLocalName(xr), BAD_CAST element) != 0)
            continue;
        xmlChar *v = xmlTextReaderGetAttribute(xr, BAD_CAST "Id");
        xmlChar *type = xmlTextReaderGetAttribute(xr, BAD_CAST "Type");
        bool is_list = !type || xmlStrcmp(type, BAD_CAST "List") == 0;
        if (v && is_list && uuid_parse((const char *)v, id) == 0)
            rc = 0;
        xmlFree(v);
        xmlFree(type);
    }
    xmlFreeTextReader(xr);
    /* As before the file was streamed: one that does not read (or decrypt) to its end
     * names nothing. */
    char buf[16384];
    ssize_t n;
    while ((n = xml_source_read(s.ctx, buf, sizeof buf, NULL)) > 0)
        ;
    if (n < 0)
        rc = -1;
    xml_source_close(s.ctx);
    return rc;
}

/* Finds the target library: the first RootObject of type List, else the first
 * DocumentLibrary of the first manifest. Fills list (caller finishes it). 0 or -1. */
static int find_list(struct run *r, int64_t manifest_container, const struct sp_model_site *site,
                     struct sp_model_list *list, char *why, size_t cap)
{
    struct reader rd = {r, manifest_container};
    const char *files[] = {"RootObjectMap.xml", "Manifest.xml"};
    const char *attr_of[] = {"RootObject", "DocumentLibrary"};
    for (int f = 0; f < 2; f++) {
        unsigned char id[UUID_LEN];
        if (first_element_id(&rd, files[f], attr_of[f], id) == 0) {
            char s[UUID_BUF];
            uuid_format(id, s);
            if (sp_model_list_by_uuid(s, list) == SP_MODEL_OK && list->site_id == site->id)
                return 0;
            sp_model_list_finish(list);
            snprintf(why, cap, "The package's library %s is not a library of %s.", s, site->url);
            return -1;
        }
    }
    snprintf(why, cap,
             "The package names no target library (no RootObject of type List and no "
             "DocumentLibrary in Manifest.xml).");
    return -1;
}

/* Maps package user ids to site users, created on first use; the first few are remembered
 * for the job, as nearly every file names the same one or two. */
static int64_t site_user(struct run *r, const struct package *p, int id)
{
    for (size_t i = 0; i < r->n_users; i++)
        if (r->users[i].id == id)
            return r->users[i].site_id;
    const struct package_user *u = package_user_find(p, id);
    int64_t sid = 0;
    int rc = SP_MODEL_OK;
    if (u && u->login[0])
        rc = sp_model_user_ensure(u->login, u->name[0] ? u->name : u->login, u->email, &sid);
    if (rc == SP_MODEL_OK && r->n_users < sizeof r->users / sizeof r->users[0]) {
        r->users[r->n_users].id = id;
        r->users[r->n_users++].site_id = sid;
    }
    return sid; /* 0: the system account */
}

static int64_t when(int64_t t, int64_t fallback)
{
    return t == PACKAGE_NO_TIME ? fallback : t;
}

/* The HRESULT and text of a failed staging, as SharePoint would report them. */
static int32_t sp_model_error_code(int rc)
{
    return rc == SP_MODEL_BAD_NAME                            ? PACKAGE_E_INVALID_NAME
           : rc == SP_MODEL_CONFLICT || rc == SP_MODEL_EXISTS ? PACKAGE_E_ALREADY_EXISTS
           : rc == SP_MODEL_NOT_FOUND                         ? PACKAGE_E_PATH_NOT_FOUND
                                                              : PACKAGE_E_INVALIDARG;
}

static const char *sp_model_error_text(int rc, const char *what)
{
    switch (rc) {
    case SP_MODEL_BAD_NAME:
        return "The name or path breaks SharePoint's rules.";
    case SP_MODEL_CONFLICT:
    case SP_MODEL_EXISTS:
        return "Its ids (UniqueId or list item Id) are taken by other content of "
               "the library.";
    case SP_MODEL_NOT_FOUND:
        return "Its parent folder is not in the library.";
    default:
        return what;
    }
}

/* Imports one file with all its versions; reports its own errors. */
static void import_file(struct run *r, struct sp_import *imp, const struct package *p,
                        const struct package_object *o, int64_t source_container)
{
    char id[UUID_BUF], parent[UUID_BUF], item[UUID_BUF];
    uuid_format(o->id, id);
    uuid_format(o->parent_id, parent);
    uuid_format(o->list_item_id, item);
    struct sp_import_version_spec *vs = xcalloc(o->n_versions, sizeof *vs);
    struct version_out *ws = xcalloc(o->n_versions, sizeof *ws);
    size_t done = 0, held = 0; /* held: inline bytes of this file's versions so far */
    char why[400] = "";
    int64_t now = clock_now_ms();
    for (; done < o->n_versions; done++) {
        const struct package_version *v = &o->versions[done];
        struct version_out *w = &ws[done];
        w->may_inline = held + LIMIT_INLINE_BYTES <= LIMIT_IMPORT_INLINE_HELD;
        uint64_t limit =
            v->file_size >= 0 ? (uint64_t)v->file_size : (uint64_t)PACKAGE_MAX_FILE_SIZE;
        uint64_t size = 0;
        unsigned char md5[16], stored[16];
        bool has_stored = false;
        int rc = read_blob(r, source_container, v->file_value, v->has_iv ? v->iv : NULL, v->has_md5,
                           w, limit, &size, md5, &has_stored, stored, why, sizeof why);
        int crc = version_out_close(w);
        if (rc == 0 && crc < 0)
            snprintf(why, sizeof why, "The server could not store the file."), rc = -1;
        if (rc == 0 && v->has_md5 && memcmp(md5, v->md5, 16) != 0)
            snprintf(why, sizeof why, "The MD5Hash of '%s' does not match its blob.",
                     v->file_value),
                rc = -1;
        if (rc == 0 && has_stored && memcmp(md5, stored, 16) != 0)
            snprintf(why, sizeof why, "The blob '%s' does not match its Content-MD5.",
                     v->file_value),
                rc = -1;
        if (rc == 0 && v->file_size >= 0 && size != (uint64_t)v->file_size)
            snprintf(why, sizeof why, "The file is %llu bytes, but the package declares %lld.",
                     (unsigned long long)size, (long long)v->file_size),
                rc = -1;
        if (rc < 0) {
            version_out_drop(w, crc == 0);
            break;
        }
        if (!w->spilled)
            held += w->len;
        vs[done] = (struct sp_import_version_spec){.label = v->label,
                                                   .major = v->major,
                                                   .minor = v->minor,
                                                   .size = size,
                                                   .created_ms = when(v->modified, now),
                                                   .author_id = site_user(r, p, v->editor),
                                                   .comment = v->checkin_comment};
        version_out_spec(w, &vs[done]);
    }
    int rc = -1;
    if (done == o->n_versions) {
        struct sp_import_file_spec f = {.uuid = id,
                                        .item_uuid = o->has_list_item_id ? item : NULL,
                                        .parent_uuid = parent,
                                        .name = o->name,
                                        .int_id = o->list_item_int_id,
                                        .created_ms = when(o->created, now),
                                        .modified_ms = when(o->modified, now),
                                        .author_id = site_user(r, p, o->author),
                                        .editor_id = site_user(r, p, o->editor),
                                        .versions = vs,
                                        .nversions = o->n_versions};
        rc = sp_import_file(imp, &f);
        if (rc == SP_MODEL_OK) {
            for (size_t i = 0; i < o->n_versions; i++)
                events_count_file(&r->counters, vs[i].size, i + 1 == o->n_versions, 0, 0);
            events_count_object(&r->counters, EVENTS_SPFILE, 0, (unsigned)o->n_versions);
            log_line(r, &r->log, "Progress", "File", o->url, "Imported.");
        } else {
            snprintf(why, sizeof why, "%s",
                     sp_model_error_text(rc, "The file could not be imported."));
        }
    }
    for (size_t i = 0; i < done; i++)
        version_out_drop(&ws[i], rc != SP_MODEL_OK); /* on SP_MODEL_OK the import took the files */
    if (rc != SP_MODEL_OK) {
        /* rc -1: the bytes failed (read_blob or the checks), which is an argument problem. */
        issue(r, EVENTS_ERROR, "File", o->url, id,
              rc < 0 ? PACKAGE_E_INVALIDARG : sp_model_error_code(rc),
              "Microsoft.SharePoint.SPException", why);
        r->counters.objects_processed++; /* done, if not imported */
    }
    free(vs);
    free(ws);
}

static void import_folder(struct run *r, struct sp_import *imp, const struct package *p,
                          const struct package_object *o)
{
    char id[UUID_BUF], parent[UUID_BUF], item[UUID_BUF];
    uuid_format(o->id, id);
    uuid_format(o->parent_id, parent);
    uuid_format(o->list_item_id, item);
    int64_t now = clock_now_ms();
    struct sp_import_folder_spec f = {.uuid = id,
                                      .item_uuid = o->has_list_item_id ? item : NULL,
                                      .parent_uuid = parent,
                                      .name = o->name,
                                      .int_id = o->list_item_int_id,
                                      .created_ms = when(o->created, now),
                                      .modified_ms = when(o->modified, now),
                                      .author_id = site_user(r, p, o->author),
                                      .editor_id = site_user(r, p, o->editor)};
    int rc = sp_import_folder(imp, &f);
    if (rc == SP_MODEL_OK) {
        events_count_object(&r->counters, EVENTS_SPFOLDER, 0, 0);
        log_line(r, &r->log, "Progress", "Folder", o->url, "Imported.");
    } else {
        issue(r, EVENTS_ERROR, "Folder", o->url, id, sp_model_error_code(rc),
              "Microsoft.SharePoint.SPException",
              sp_model_error_text(rc, "The folder could not be imported."));
        r->counters.objects_processed++; /* done, if not imported */
    }
}

/* Puts blob name into container with what lf holds (encrypted for encrypted jobs, with its IV
 * in metadata). */
static void write_small_log(struct run *r, int64_t container, const char *name, struct log_out *lf)
{
    if (!log_cipher(r, lf))
        return;
    size_t n = lf->pending.len, outlen = 0, tail = 0;
    unsigned char *out = xmalloc(n + AES_BLOCK_LEN);
    char *meta = NULL;
    if (lf->a) {
        if (aes_update(lf->a, lf->pending.data, n, out, &outlen) < 0 ||
            aes_final(lf->a, out + outlen, &tail) < 0) {
            free(out);
            return;
        }
        char ivb[32];
        b64_encode_to(lf->iv, sizeof lf->iv, ivb);
        meta = xasprintf("{\"IV\":\"%s\"}", ivb);
    } else if (n) {
        memcpy(out, lf->pending.data, n);
        outlen = n;
    }
    struct blob_store_props in = {0};
    in.has_md5 = in.md5_checked = true;
    crypto_md5(out, outlen + tail, in.md5);
    in.content_type = "text/plain";
    in.metadata = meta;
    blob_store_blob_put_inline(container, name, &in, out, outlen + tail, NULL, NULL);
    free(meta);
    free(out);
}

/* Writes Import-<job>-<attempt>.<ext> into the manifest container (encrypted for encrypted
 * jobs, with its IV in metadata). */
static void write_log_file(struct run *r, int64_t container, const char *ext, struct log_out *lf)
{
    char name[96];
    snprintf(name, sizeof name, "Import-%s-%d.%s", r->job->uuid, r->job->attempt, ext);
    if (!lf->open && !lf->failed && lf->pending.len + AES_BLOCK_LEN <= LIMIT_INLINE_BYTES) {
        write_small_log(r, container, name, lf);
        return;
    }
    log_flush(r, lf);
    if (!log_begin(r, lf))
        return; /* log_drop removes the extent */
    int rc = 0;
    char *meta = NULL;
    if (lf->a) {
        unsigned char tail[AES_BLOCK_LEN];
        size_t n = 0;
        rc = aes_final(lf->a, tail, &n);
        if (rc == 0)
            rc = store_files_writer_write(&lf->w, tail, n);
        char ivb[32];
        b64_encode_to(lf->iv, sizeof lf->iv, ivb);
        meta = xasprintf("{\"IV\":\"%s\"}", ivb);
    }
    unsigned char md5[16];
    lf->open = false;
    if (rc < 0 || store_files_writer_close(&lf->w, md5) < 0) {
        store_files_writer_abort(&lf->w);
        free(meta);
        return;
    }
    struct blob_store_props in = {0};
    in.has_md5 = true;
    memcpy(in.md5, md5, 16);
    in.content_type = "text/plain";
    in.metadata = meta;
    if (blob_store_blob_put(container, name, &in, lf->w.path, lf->w.size, NULL, NULL) !=
        BLOB_STORE_OK)
        store_files_unlink(lf->w.path);
    free(meta);
}

static void run_job(struct job *j)
{
    struct run r;
    run_init(&r, j);
    int64_t started = clock_real_ms();
    log_info("import: job %s attempt %d started", j->uuid, j->attempt);
    char why[400] = "";
    char *macct = NULL, *mname = NULL, *sacct = NULL, *sname = NULL;
    struct blob_store_container mc = {0}, sc = {0};
    struct sp_model_site site = {0};
    struct sp_model_list list = {0};
    struct package *pkg = NULL;
    struct sp_import *imp = NULL;
    /* A job taken again after a restart goes on as a retry (TotalRetryCount): it started
     * once, and its log says so once. */
    if (!jobs_log_has(j->uuid, "JobStart"))
        emit(&r, events_job_start(&r.ej, clock_now_ms()));
    if (j->encrypted && !r.has_key) {
        snprintf(why, sizeof why,
                 "The encryption key is not available (the server restarted "
                 "after the job was submitted): submit the job again.");
        goto fatal;
    }
    if (split_uri(j->manifest_uri, &macct, &mname) < 0 ||
        blob_store_container_get(macct, mname, &mc) != BLOB_STORE_OK ||
        split_uri(j->source_uri, &sacct, &sname) < 0 ||
        blob_store_container_get(sacct, sname, &sc) != BLOB_STORE_OK) {
        snprintf(why, sizeof why, "The job's containers no longer exist.");
        goto fatal;
    }
    if (sp_model_site_by_web(j->web_uuid, &site) != SP_MODEL_OK) {
        snprintf(why, sizeof why, "The job's web no longer exists.");
        goto fatal;
    }
    if (find_list(&r, mc.id, &site, &list, why, sizeof why) < 0)
        goto fatal;
    struct package_target t = {.web_url = site.url, .root_folder_url = list.root_url};
    uuid_parse(site.web_uuid, t.web_id);
    uuid_parse(list.uuid, t.list_id);
    uuid_parse(list.root_folder_uuid, t.root_folder_id);
    struct reader rd = {&r, mc.id};
    pkg = package_load_from(&t, open_package_file, &rd);
    for (size_t i = 0; i < pkg->n_issues; i++) {
        const struct package_issue *is = &pkg->issues[i];
        enum events_severity sev = is->level == PACKAGE_WARNING ? EVENTS_WARNING
                                   : is->level == PACKAGE_ERROR ? EVENTS_ERROR
                                                                : EVENTS_FATAL;
        issue(&r, sev, is->object_type, is->url, is->id, is->error_code, is->error_type,
              is->message);
    }
    if (pkg->n_fatal)
        goto end;
    r.counters.expected_objects = pkg->n_objects;
    for (size_t i = 0; i < pkg->n_objects; i++)
        for (size_t v = 0; v < pkg->objects[i].n_versions; v++)
            if (pkg->objects[i].versions[v].file_size > 0)
                r.counters.expected_bytes += (uint64_t)pkg->objects[i].versions[v].file_size;
    imp = sp_import_begin(list.id, j->uuid);
    if (!imp) {
        snprintf(why, sizeof why, "The import could not start.");
        goto fatal;
    }
    for (size_t i = 0; i < pkg->n_objects && !atomic_load(&stopping); i++) {
        const struct package_object *o = &pkg->objects[i];
        if (o->excluded)
            continue;
        if (o->kind == PACKAGE_FOLDER)
            import_folder(&r, imp, pkg, o);
        else
            import_file(&r, imp, pkg, o, sc.id);
        maybe_progress(&r, false);
    }
    if (atomic_load(&stopping)) {
        /* Stopping: the job is left processing and starts again after the restart. */
        sp_import_abort(imp);
        imp = NULL;
        log_info("import: job %s parked by shutdown", j->uuid);
        goto out;
    }
    if (sp_import_commit(imp) < 0) {
        imp = NULL;
        snprintf(why, sizeof why, "The imported content could not be committed.");
        goto fatal;
    }
    imp = NULL;
    goto end;
fatal:
    issue(&r, EVENTS_FATAL, "", "", "", PACKAGE_E_INVALIDARG, "Microsoft.SharePoint.SPException",
          why);
end:
    sp_import_abort(imp);
    r.counters.duration_ms = (uint64_t)(clock_real_ms() - started);
    cJSON *end_event = events_job_end(&r.ej, clock_now_ms(), &r.counters);
    strbuf_printf(&r.log.pending,
                  "Totals: objects %llu, files %llu, bytes %llu, warnings %llu, errors "
                  "%llu\n",
                  (unsigned long long)r.counters.objects_processed,
                  (unsigned long long)r.counters.files_created,
                  (unsigned long long)r.counters.bytes_processed,
                  (unsigned long long)r.counters.warnings, (unsigned long long)r.counters.errors);
    if (mc.id) {
        write_log_file(&r, mc.id, "log", &r.log);
        write_log_file(&r, mc.id, "wrn", &r.wrn);
        write_log_file(&r, mc.id, "err", &r.err);
    }
    record(&r, end_event, true);
    jobs_key_drop(j->uuid);
    log_info("import: job %s ended: %llu objects, %llu errors", j->uuid,
             (unsigned long long)r.counters.objects_processed,
             (unsigned long long)r.counters.errors);
out:
    package_destroy(pkg);
    sp_model_list_finish(&list);
    sp_model_site_finish(&site);
    blob_store_container_finish(&mc);
    blob_store_container_finish(&sc);
    free(macct);
    free(mname);
    free(sacct);
    free(sname);
    run_finish(&r);
}

static void *worker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stopping)) {
        struct job j = {0};
        int rc = faults_named(FAULTS_IMPORT_JOB) ? 0 : jobs_claim(&j);
        if (rc == 1) {
            run_job(&j);
            job_finish(&j);
            continue;
        }
        pthread_mutex_lock(&wake_lock);
        if (!pending_wakes && !atomic_load(&stopping)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&wake_cond, &wake_lock, &ts);
        }
        if (pending_wakes)
            pending_wakes--;
        pthread_mutex_unlock(&wake_lock);
    }
    return NULL;
}

int import_job_start(unsigned n)
{
    sp_import_drop_stale();
    int requeued = jobs_requeue_interrupted();
    if (requeued > 0)
        log_info("import: %d interrupted jobs queued again", requeued);
    atomic_store(&stopping, false);
    workers = xcalloc(n, sizeof *workers);
    for (nworkers = 0; nworkers < n; nworkers++) {
        if (pthread_create(&workers[nworkers], NULL, worker, NULL) != 0) {
            log_error("import: cannot start worker %u", nworkers);
            import_job_stop();
            return -1;
        }
    }
    return 0;
}

void import_job_stop(void)
{
    pthread_mutex_lock(&wake_lock);
    atomic_store(&stopping, true);
    pthread_cond_broadcast(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
    for (unsigned i = 0; i < nworkers; i++)
        pthread_join(workers[i], NULL);
    free(workers);
    workers = NULL;
    nworkers = 0;
}
