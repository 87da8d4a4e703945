/*
 * migrate.c: one round of `spmig migrate`. The main thread scans and cuts packages (bounded:
 * MIGRATE_IN_FLIGHT packages between provisioning and JobEnd), --parallel workers read,
 * encrypt and upload files and submit a package when its last file is up, and one follower
 * reads the report queue and settles each package's items on JobEnd. Outcomes go to the state
 * file and the reports as they are known. Also `spmig package`, which writes the same packages
 * unencrypted into a folder.
 */
#include "migrate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aes.h"
#include "azure.h"
#include "b64.h"
#include "crypto.h"
#include "events.h"
#include "http.h"
#include "log.h"
#include "packager.h"
#include "report.h"
#include "scan.h"
#include "sp.h"
#include "state.h"
#include "xmalloc.h"

#define MIGRATE_IN_FLIGHT  8          /* packages between provisioning and JobEnd */
#define MIGRATE_BLOCK      (4u << 20) /* plaintext per Put Block; smaller files: one Put Blob */
#define MIGRATE_READ_TRIES 3          /* reads of a file that changes while it is read */

static const char CAT_SCAN[] = "SCAN FILE FAILURE", CAT_PACK[] = "PACKAGING FAILURE",
                  CAT_UPLOAD[] = "UPLOADING FAILURE", CAT_SUBMIT[] = "SUBMITTING FAILURE",
                  CAT_SERVER[] = "SERVER FAILURE";

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A package on its way: provisioned, uploading, submitted, then settled. */
struct job {
    struct pack *p;
    struct azc_sas data, meta;
    unsigned char key[AES_KEY_LEN];
    char job_id[UUID_BUF]; /* "" until submitted */
    size_t files_left;
    int64_t last_event; /* mono ms of submit or the last event */
    bool fatal_event;   /* JobFatalError seen */
    char *fatal_msg;
    uint64_t warnings;
    struct job *next;
};

struct task {
    struct job *job;
    size_t idx;
    struct task *next;
};

/* A queue message whose job was not known yet when it came. */
struct pending {
    struct azc_message m;
    char job_id[UUID_BUF];
    int64_t since;
    struct pending *next;
};

struct run {
    const struct migrate_options *o;
    struct state *st;
    struct report *rep;
    int round;
    bool resumed;
    char *src_root;
    char *dest_origin; /* "http://host:port" */
    struct spc_target target;
    struct pkgw_target pt;
    struct azc_sas queue;
    const char *domain;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct task *tasks, *tasks_tail;
    struct job *jobs; /* in flight */
    int in_flight;
    bool scan_done, stop;
    char fatal[512];
    /* progress */
    uint64_t items_seen, items_settled, bytes_to_send, bytes_sent, packages;
    int64_t started;
};

static void set_fatal(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_fatal(struct run *r, const char *fmt, ...)
{
    pthread_mutex_lock(&r->mu);
    if (!r->fatal[0] && r->o->cancel && *r->o->cancel) {
        snprintf(r->fatal, sizeof r->fatal, "interrupted"); /* whatever failed because of it */
    } else if (!r->fatal[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->fatal, sizeof r->fatal, fmt, ap);
        va_end(ap);
    }
    r->stop = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static bool stopping(struct run *r)
{
    if (r->o->cancel && *r->o->cancel)
        set_fatal(r, "interrupted");
    pthread_mutex_lock(&r->mu);
    bool s = r->stop;
    pthread_mutex_unlock(&r->mu);
    return s;
}

static struct httpc *new_http(const struct run *r)
{
    struct httpc_options ho = {.max_attempts = r->o->max_attempts, .cancel = r->o->cancel};
    return httpc_create(&ho);
}

/* -- outcomes --------------------------------------------------------------------------------- */

static void report_obj(struct run *r, const struct pack *p, const struct pack_obj *o,
                       const char *job_id, const char *status, const char *category,
                       const char *code, const char *msg)
{
    char *source =
        o->src_rel[0] ? xasprintf("%s/%s", r->src_root, o->src_rel) : xstrdup(r->src_root);
    char *dest = xasprintf("%s%s/%s", r->dest_origin, r->target.root_folder_url, o->rel);
    struct report_item it = {
        .source = source,
        .destination = dest,
        .size = o->size,
        .is_folder = o->is_folder,
        .status = status,
        .result_category = category ? category : "",
        .message = msg ? msg : "",
        .error_code = code ? code : "",
        .dest_item_id = o->uid,
        .package_no = p ? p->no : 0,
        .job_id = job_id && job_id[0] ? job_id : NULL,
    };
    if (report_item(r->rep, &it) < 0)
        set_fatal(r, "cannot write the reports: %s", strerror(errno));
    free(source);
    free(dest);
}

static void job_free(struct job *j)
{
    crypto_wipe(j->key, sizeof j->key);
    azc_sas_finish(&j->data);
    azc_sas_finish(&j->meta);
    free(j->fatal_msg);
    pack_destroy(j->p);
    free(j);
}

/* Settles every item of j (failed ones as marked, the rest migrated) and frees j. */
static void settle(struct run *r, struct job *j)
{
    struct pack *p = j->p;
    state_batch_begin(r->st);
    uint64_t n = 0;
    for (size_t i = 0; i < p->n; i++) {
        struct pack_obj *o = &p->obj[i];
        if (o->ancestor)
            continue;
        n++;
        if (o->failed) {
            report_obj(r, p, o, j->job_id, "Failed", o->category, o->code, o->message);
            state_outcome(r->st, o->src_rel, r->round, "failed", o->size, 0, 0);
        } else {
            report_obj(r, p, o, j->job_id, "Migrated", NULL, NULL, NULL);
            state_outcome(r->st, o->src_rel, r->round, "migrated", o->size, o->size, o->mtime_ns);
        }
    }
    if (state_batch_end(r->st) < 0)
        set_fatal(r, "cannot write the state file");
    if (!r->o->progress)
        fprintf(stderr, "spmig: package %d: %zu items, job %s settled\n", p->no, (size_t)n,
                j->job_id[0] ? j->job_id : "(not submitted)");
    pthread_mutex_lock(&r->mu);
    for (struct job **pp = &r->jobs; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    r->in_flight--;
    r->items_settled += n;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    job_free(j);
}

/* Marks every item of j not failed yet. */
static void fail_all(struct job *j, const char *category, const char *code, const char *msg)
{
    for (size_t i = 0; i < j->p->n; i++)
        if (!j->p->obj[i].ancestor && !j->p->obj[i].failed)
            pack_obj_fail(&j->p->obj[i], category, code, msg);
}

/* -- upload ----------------------------------------------------------------------------------- */

struct worker {
    struct run *r;
    struct httpc *h;
    unsigned char *in, *out; /* MIGRATE_BLOCK and MIGRATE_BLOCK + 2 AES blocks */
    pthread_t thread;
};

/* Reads up to n bytes at off; returns bytes read (short only at the end) or -1. */
static ssize_t read_full(int fd, unsigned char *buf, size_t n, off_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, buf + got, n - got, off + (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

enum up_result { UP_OK, UP_CHANGED, UP_ITEM_FAILED, UP_FATAL };

/* One attempt at sending the file open on fd as blob name; sets o's md5 and size. */
static enum up_result send_file(struct worker *w, struct job *j, struct pack_obj *o, int fd,
                                const char *name, char err[AZC_ERR])
{
    struct stat before, after;
    if (fstat(fd, &before) < 0) {
        snprintf(err, AZC_ERR, "%s", strerror(errno));
        return UP_ITEM_FAILED;
    }
    unsigned char iv[AES_IV_LEN];
    crypto_random(iv, sizeof iv);
    char iv_b64[32];
    b64_encode_to(iv, sizeof iv, iv_b64);
    struct aes *a = aes_create(j->key, iv, true);
    /* The manifest's MD5Hash is the blob's Content-MD5: of the ciphertext, as a whole. */
    struct crypto_md5 *blob_md5 = crypto_md5_create();
    unsigned char whole[16];
    enum up_result res = UP_OK;
    char **ids = NULL;
    size_t n_ids = 0;
    int64_t total = 0;
    for (off_t off = 0;; off += MIGRATE_BLOCK) {
        ssize_t got = read_full(fd, w->in, MIGRATE_BLOCK, off);
        if (got < 0) {
            snprintf(err, AZC_ERR, "read: %s", strerror(errno));
            res = UP_ITEM_FAILED;
            break;
        }
        total += got;
        size_t outlen = 0, fin = 0;
        aes_update(a, w->in, (size_t)got, w->out, &outlen);
        bool last = (size_t)got < MIGRATE_BLOCK;
        if (last) {
            aes_final(a, w->out + outlen, &fin);
            outlen += fin;
        }
        unsigned char md5[16];
        crypto_md5(w->out, outlen, md5);
        crypto_md5_update(blob_md5, w->out, outlen);
        if (last) {
            crypto_md5_final(blob_md5, whole); /* frees it */
            blob_md5 = NULL;
        }
        int rc;
        if (last && off == 0) {
            rc = azc_put_blob(w->h, &j->data, name, w->out, outlen, md5, iv_b64, err);
        } else {
            char raw[24], id[40];
            snprintf(raw, sizeof raw, "blk%08zu", n_ids);
            b64_encode_to(raw, strlen(raw), id);
            ids = xrealloc(ids, (n_ids + 1) * sizeof *ids);
            ids[n_ids++] = xstrdup(id);
            rc = azc_put_block(w->h, &j->data, name, id, w->out, outlen, md5, err);
            if (rc == 0 && last)
                rc = azc_put_block_list(w->h, &j->data, name, ids, n_ids, whole, iv_b64, err);
        }
        if (rc < 0) {
            res = strstr(err, "HTTP ") ? UP_ITEM_FAILED : UP_FATAL;
            break;
        }
        pthread_mutex_lock(&w->r->mu);
        w->r->bytes_sent += (uint64_t)got;
        pthread_mutex_unlock(&w->r->mu);
        if (last)
            break;
    }
    if (res == UP_OK) {
        memcpy(o->md5, whole, sizeof whole);
        o->has_md5 = true;
        if (fstat(fd, &after) < 0 || after.st_size != before.st_size ||
            after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
            after.st_mtim.tv_nsec != before.st_mtim.tv_nsec || total != after.st_size)
            res = UP_CHANGED;
        o->size = total;
        o->mtime_ns = (int64_t)after.st_mtim.tv_sec * 1000000000 + after.st_mtim.tv_nsec;
    }
    for (size_t i = 0; i < n_ids; i++)
        free(ids[i]);
    free(ids);
    crypto_md5_destroy(blob_md5);
    aes_destroy(a);
    return res;
}

/* Reads, encrypts, uploads and snapshots one file of j; failures mark the item. */
static void upload(struct worker *w, struct job *j, struct pack_obj *o)
{
    struct run *r = w->r;
    char *path = xasprintf("%s/%s", r->src_root, o->src_rel);
    char name[UUID_BUF + 8], err[AZC_ERR] = "";
    pack_blob_name(o, name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "Packaging failure: Can't open file (%s)", strerror(errno));
        pack_obj_fail(o, CAT_PACK, "0x01410001", msg);
        goto out;
    }
    enum up_result res = UP_CHANGED;
    for (int t = 0; t < MIGRATE_READ_TRIES && res == UP_CHANGED; t++)
        res = send_file(w, j, o, fd, name, err);
    close(fd);
    if (res == UP_OK && azc_snapshot(w->h, &j->data, name, NULL, err) < 0)
        res = strstr(err, "HTTP ") ? UP_ITEM_FAILED : UP_FATAL;
    switch (res) {
    case UP_OK:
        break;
    case UP_CHANGED:
        pack_obj_fail(o, CAT_PACK, "0x02080001",
                      "The file changed while it was being read; it will be sent in the next "
                      "round");
        break;
    case UP_ITEM_FAILED:
        pack_obj_fail(o, CAT_UPLOAD, "0x01510001", err);
        break;
    case UP_FATAL:
        set_fatal(r, "upload of %s: %s", o->src_rel, err);
        break;
    }
out:
    free(path);
}

/* -- submit ----------------------------------------------------------------------------------- */

/* Writes, encrypts and uploads the package's XML files, then submits the job. 0 when
 * submitted, -1 when the package failed (items marked), -2 on a fatal error. */
static int submit(struct run *r, struct httpc *h, struct job *j)
{
    static const enum package_file kinds[] = {
        PACKAGE_MANIFEST,     PACKAGE_EXPORT_SETTINGS, PACKAGE_SYSTEM_DATA,
        PACKAGE_USER_GROUP,   PACKAGE_ROOT_OBJECT_MAP, PACKAGE_LOOKUP_LIST_MAP,
        PACKAGE_REQUIREMENTS, PACKAGE_VIEW_FORMS_LIST,
    };
    char err[SPC_ERR] = "";
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        struct strbuf xml;
        strbuf_init(&xml, PACKAGE_XML_MAX_BYTES);
        if (pack_write_xml(j->p, &r->pt, r->domain, kinds[k], &xml) < 0) {
            strbuf_finish(&xml);
            fail_all(j, CAT_PACK, "0x0204000A", "Packaging failure: cannot write the manifest");
            return -1;
        }
        unsigned char iv[AES_IV_LEN], md5[16];
        crypto_random(iv, sizeof iv);
        size_t clen = 0;
        unsigned char *c = aes_encrypt_buf(j->key, iv, xml.data ? xml.data : "", xml.len, &clen);
        strbuf_finish(&xml);
        crypto_md5(c, clen, md5);
        char iv_b64[32];
        b64_encode_to(iv, sizeof iv, iv_b64);
        const char *name = package_file_name(kinds[k]);
        int rc = azc_put_blob(h, &j->meta, name, c, clen, md5, iv_b64, err);
        free(c);
        if (rc == 0)
            rc = azc_snapshot(h, &j->meta, name, NULL, err);
        if (rc < 0) {
            if (!strstr(err, "HTTP "))
                return -2;
            fail_all(j, CAT_UPLOAD, "0x01510001", err);
            return -1;
        }
    }
    struct spc sp;
    if (spc_init(&sp, h, r->o->site_url, r->o->token, err) < 0)
        return -2;
    char *data_uri = xasprintf("%s?%s", j->data.base, j->data.query);
    char *meta_uri = xasprintf("%s?%s", j->meta.base, j->meta.query);
    char *queue_uri = xasprintf("%s?%s", r->queue.base, r->queue.query);
    char job_id[UUID_BUF];
    int rc =
        spc_create_job(&sp, r->target.web_id, data_uri, meta_uri, queue_uri, j->key, job_id, err);
    free(data_uri);
    free(meta_uri);
    free(queue_uri);
    spc_finish(&sp);
    if (rc < 0) {
        if (!strstr(err, "HTTP "))
            return -2;
        fail_all(j, CAT_SUBMIT, "0x01610002", err);
        return -1;
    }
    pthread_mutex_lock(&r->mu);
    memcpy(j->job_id, job_id, sizeof job_id);
    j->last_event = mono_ms();
    pthread_mutex_unlock(&r->mu);
    return 0;
}

/* The last file of j is up (or j has none): submit it, or settle it if nothing is left. */
static void package_ready(struct run *r, struct httpc *h, struct job *j)
{
    bool any = false;
    for (size_t i = 0; i < j->p->n; i++)
        any |= !j->p->obj[i].ancestor && !j->p->obj[i].failed;
    if (stopping(r))
        return; /* left unsettled: the resumed round sends it again */
    int rc = any ? submit(r, h, j) : -1;
    if (rc == -2) {
        set_fatal(r, "package %d could not be submitted: the server does not answer", j->p->no);
        return;
    }
    if (rc == -1)
        settle(r, j);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->r;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (!r->tasks && !r->stop)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->stop) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        struct task *t = r->tasks;
        r->tasks = t->next;
        if (!r->tasks)
            r->tasks_tail = NULL;
        pthread_mutex_unlock(&r->mu);
        upload(w, t->job, &t->job->p->obj[t->idx]);
        pthread_mutex_lock(&r->mu);
        bool last = --t->job->files_left == 0;
        pthread_mutex_unlock(&r->mu);
        if (last)
            package_ready(r, w->h, t->job);
        free(t);
    }
    return NULL;
}

/* -- the report queue ------------------------------------------------------------------------- */

static struct job *job_by_id(struct run *r, const char *id)
{
    for (struct job *j = r->jobs; j; j = j->next)
        if (j->job_id[0] && strcasecmp(j->job_id, id) == 0)
            return j;
    return NULL;
}

/* The JobId of a queue message: of the envelope, or of the plain event. "" if none. */
static void message_job_id(const char *text, char out[UUID_BUF])
{
    out[0] = '\0';
    size_t n = 0;
    unsigned char *raw = b64_decode(text, strlen(text), &n);
    if (!raw)
        return;
    cJSON *j = cJSON_ParseWithLength((const char *)raw, n);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "JobId");
    if (cJSON_IsString(id))
        snprintf(out, UUID_BUF, "%s", id->valuestring);
    cJSON_Delete(j);
    free(raw);
}

static const char *event_str(const cJSON *e, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Applies one event to its job; true when it was JobEnd. */
static bool apply_event(struct run *r, struct job *j, const cJSON *e)
{
    const char *ev = event_str(e, "Event");
    j->last_event = mono_ms();
    if (strcmp(ev, "JobWarning") == 0) {
        j->warnings++;
    } else if (strcmp(ev, "JobError") == 0) {
        const char *id = event_str(e, "Id"), *url = event_str(e, "Url");
        long code = strtol(event_str(e, "ErrorCode"), NULL, 10);
        char hex[16];
        snprintf(hex, sizeof hex, "0x%08lX", (unsigned long)(uint32_t)code);
        char *msg = xasprintf("%s", event_str(e, "Message"));
        for (size_t i = 0; i < j->p->n; i++) {
            struct pack_obj *o = &j->p->obj[i];
            bool hit = (id[0] && strcasecmp(o->uid, id) == 0) ||
                       (url[0] && strlen(url) > strlen(o->rel) &&
                        strcmp(url + strlen(url) - strlen(o->rel), o->rel) == 0 &&
                        url[strlen(url) - strlen(o->rel) - 1] == '/');
            if (!hit)
                continue;
            if (!o->ancestor) {
                if (!o->failed)
                    pack_obj_fail(o, CAT_SERVER, hex, msg);
            } else {
                /* A folder above items failed: what is under it was not imported. */
                size_t len = strlen(o->rel);
                for (size_t k = 0; k < j->p->n; k++) {
                    struct pack_obj *c = &j->p->obj[k];
                    if (!c->ancestor && !c->failed && strncmp(c->rel, o->rel, len) == 0 &&
                        c->rel[len] == '/')
                        pack_obj_fail(c, CAT_SERVER, "0x0111000F",
                                      "The parent folder wasn't migrated");
                }
            }
        }
        free(msg);
    } else if (strcmp(ev, "JobFatalError") == 0 || strcmp(ev, "JobCancelled") == 0 ||
               strcmp(ev, "JobDeleted") == 0) {
        j->fatal_event = true;
        free(j->fatal_msg);
        j->fatal_msg = xasprintf("%s: %s", ev, event_str(e, "Message"));
        if (strcmp(ev, "JobFatalError") != 0)
            return true; /* no JobEnd follows these */
    } else if (strcmp(ev, "JobEnd") == 0) {
        return true;
    }
    return false;
}

/* Handles one message of a known job; true if the job ended (and was settled). */
static bool handle_message(struct run *r, struct job *j, const char *text)
{
    char *json = events_decode_message(text, strlen(text), j->key);
    if (!json) {
        log_msg(LOG_WARN, "a report queue message of job %s does not decrypt", j->job_id);
        return false;
    }
    cJSON *e = cJSON_Parse(json);
    free(json);
    bool end = e && apply_event(r, j, e);
    cJSON_Delete(e);
    if (end) {
        if (j->fatal_event)
            fail_all(j, CAT_SERVER, "0x01710006", j->fatal_msg);
        settle(r, j);
    }
    return end;
}

static void pending_free(struct pending *p)
{
    free(p->m.id);
    free(p->m.pop_receipt);
    free(p->m.text);
    free(p);
}

struct follower {
    struct run *r;
    struct httpc *h;
    struct pending *pending;
    pthread_t thread;
};

static void follow_once(struct follower *f, bool *got)
{
    struct run *r = f->r;
    struct azc_message *msgs = NULL;
    size_t n = 0;
    char err[AZC_ERR];
    *got = false;
    if (azc_queue_get(f->h, &r->queue, 32, 60, &msgs, &n, err) < 0) {
        set_fatal(r, "the report queue: %s", err);
        return;
    }
    *got = n > 0;
    /* Messages of jobs not known yet wait in pending, in the order they came. */
    for (size_t i = 0; i < n; i++) {
        struct pending *p = xcalloc(1, sizeof *p);
        p->m = msgs[i];
        message_job_id(p->m.text, p->job_id);
        p->since = mono_ms();
        struct pending **tail = &f->pending;
        while (*tail)
            tail = &(*tail)->next;
        *tail = p;
    }
    free(msgs);
    for (struct pending **pp = &f->pending; *pp;) {
        struct pending *p = *pp;
        pthread_mutex_lock(&r->mu);
        struct job *j = p->job_id[0] ? job_by_id(r, p->job_id) : NULL;
        pthread_mutex_unlock(&r->mu);
        bool old = mono_ms() - p->since > 120000;
        if (!j && !old && p->job_id[0]) {
            pp = &p->next;
            continue;
        }
        if (j)
            handle_message(r, j, p->m.text);
        if (azc_queue_delete(f->h, &r->queue, &p->m, err) < 0 && !strstr(err, "HTTP ")) {
            set_fatal(r, "the report queue: %s", err);
            return;
        }
        *pp = p->next;
        pending_free(p);
    }
}

/* Fails jobs that have been silent too long. */
static void check_timeouts(struct run *r)
{
    long limit = r->o->job_timeout_s > 0 ? r->o->job_timeout_s : 600;
    for (;;) {
        struct job *late = NULL;
        pthread_mutex_lock(&r->mu);
        for (struct job *j = r->jobs; j && !late; j = j->next)
            if (j->job_id[0] && mono_ms() - j->last_event > limit * 1000)
                late = j;
        pthread_mutex_unlock(&r->mu);
        if (!late)
            return;
        char msg[128];
        snprintf(msg, sizeof msg,
                 "Errors or timeout for Server Processing the file: no event "
                 "for %ld s",
                 limit);
        fail_all(late, CAT_SERVER, "0x01710009", msg);
        settle(r, late);
    }
}

static void *follower_main(void *arg)
{
    struct follower *f = arg;
    struct run *r = f->r;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        bool done = r->stop || (r->scan_done && r->in_flight == 0);
        bool submitted = false;
        for (struct job *j = r->jobs; j; j = j->next)
            submitted |= j->job_id[0] != '\0';
        pthread_mutex_unlock(&r->mu);
        if (done)
            break;
        bool got = false;
        if (submitted || f->pending)
            follow_once(f, &got);
        check_timeouts(r);
        if (!got) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    while (f->pending) {
        struct pending *p = f->pending;
        f->pending = p->next;
        pending_free(p);
    }
    return NULL;
}

/* -- progress --------------------------------------------------------------------------------- */

struct progress {
    struct run *r;
    pthread_t thread;
    bool on;
};

static void human_bytes(double b, char *out, size_t cap)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4)
        b /= 1000, i++;
    snprintf(out, cap, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

static void progress_draw(struct run *r, bool final)
{
    pthread_mutex_lock(&r->mu);
    uint64_t seen = r->items_seen, settled = r->items_settled, sent = r->bytes_sent,
             total = r->bytes_to_send;
    bool scanned = r->scan_done;
    pthread_mutex_unlock(&r->mu);
    double secs = (double)(mono_ms() - r->started) / 1000.0;
    double rate = secs > 0 ? (double)sent / secs : 0;
    char b1[32], b2[32], b3[32], eta[32] = "--:--";
    human_bytes((double)sent, b1, sizeof b1);
    human_bytes((double)total, b2, sizeof b2);
    human_bytes(rate, b3, sizeof b3);
    if (scanned && rate > 0 && total >= sent) {
        long s = (long)((double)(total - sent) / rate);
        snprintf(eta, sizeof eta, "%02ld:%02ld", s / 60, s % 60);
    }
    int width = 24, fill = seen ? (int)((double)settled / (double)seen * width) : 0;
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %llu/%llu%s items  %s/%s  %s/s  ETA %s \033[K%s", bar,
            (unsigned long long)settled, (unsigned long long)seen, scanned ? "" : "+", b1, b2, b3,
            eta, final ? "\n" : "");
}

static void *progress_main(void *arg)
{
    struct progress *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->r->mu);
        bool on = p->on;
        pthread_mutex_unlock(&p->r->mu);
        if (!on)
            break;
        progress_draw(p->r, false);
        struct timespec ts = {0, 250 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* -- the main thread: scan and cut packages --------------------------------------------------- */

struct walk {
    struct run *r;
    struct httpc *h; /* the main thread's */
    struct packer *pk;
};

/* A package is cut: provision its containers and queue its files. */
static int on_pack(void *ctx, struct pack *p)
{
    struct walk *w = ctx;
    struct run *r = w->r;
    pthread_mutex_lock(&r->mu);
    while (r->in_flight >= MIGRATE_IN_FLIGHT && !r->stop)
        pthread_cond_wait(&r->cv, &r->mu);
    bool stop = r->stop;
    if (!stop) {
        r->in_flight++;
        r->packages++;
    }
    pthread_mutex_unlock(&r->mu);
    if (stop) {
        pack_destroy(p);
        return 1;
    }
    struct job *j = xcalloc(1, sizeof *j);
    j->p = p;
    pthread_mutex_lock(&r->mu);
    j->next = r->jobs;
    r->jobs = j;
    pthread_mutex_unlock(&r->mu);
    char err[SPC_ERR];
    struct spc sp;
    char *d = NULL, *m = NULL;
    int rc = spc_init(&sp, w->h, r->o->site_url, r->o->token, err);
    if (rc == 0)
        rc = spc_provision_containers(&sp, &d, &m, j->key, err);
    spc_finish(&sp);
    if (rc == 0 && (azc_sas_parse(d, &j->data) < 0 || azc_sas_parse(m, &j->meta) < 0)) {
        snprintf(err, sizeof err, "ProvisionMigrationContainers: a container URI has no SAS");
        rc = -1;
    }
    free(d);
    free(m);
    if (rc < 0) {
        if (!strstr(err, "HTTP ")) {
            set_fatal(r, "ProvisionMigrationContainers: %s", err);
            return 1;
        }
        fail_all(j, CAT_UPLOAD, "0x01610001", err);
        settle(r, j);
        return 0;
    }
    struct task *first = NULL, *last = NULL;
    size_t files = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->obj[i].is_folder || p->obj[i].ancestor)
            continue;
        struct task *t = xcalloc(1, sizeof *t);
        t->job = j;
        t->idx = i;
        if (last)
            last->next = t;
        else
            first = t;
        last = t;
        files++;
    }
    if (!files) {
        package_ready(r, w->h, j);
        return stopping(r);
    }
    pthread_mutex_lock(&r->mu);
    j->files_left = files;
    if (r->tasks_tail)
        r->tasks_tail->next = first;
    else
        r->tasks = first;
    r->tasks_tail = last;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return 0;
}

/* A report row and state outcome for an entry the scan does not send. */
static void settle_entry(struct run *r, const struct scan_entry *e, const struct state_item *si,
                         const char *status, const char *outcome, const char *category,
                         const char *code, const char *msg)
{
    struct pack_obj o = {.is_folder = e->kind == SCAN_FOLDER, .size = e->size};
    char *rel = r->o->folder && r->o->folder[0] ? xasprintf("%s/%s", r->o->folder, e->rel)
                                                : xstrdup(e->rel);
    o.rel = rel;
    o.src_rel = (char *)e->rel;
    memcpy(o.uid, si->unique_id, sizeof o.uid);
    report_obj(r, NULL, &o, NULL, status, category, code, msg);
    free(rel);
    state_outcome(r->st, e->rel, r->round, outcome, e->size, 0, 0);
}

static int on_entry(void *ctx, const struct scan_entry *e)
{
    struct walk *w = ctx;
    struct run *r = w->r;
    if (stopping(r))
        return 1;
    struct state_item si;
    if (state_item(r->st, e->rel, e->kind == SCAN_FOLDER, &si) < 0) {
        set_fatal(r, "cannot write the state file");
        return 1;
    }
    bool done_before = r->resumed && si.reported_round == r->round;
    bool send = false;
    if (!scan_migrates(e->verdict)) {
        if (!done_before) {
            bool filtered = scan_filtered(e->verdict);
            settle_entry(r, e, &si, filtered ? "Filtered out" : "Failed",
                         filtered ? "filtered" : "failed", filtered ? "" : CAT_SCAN,
                         scan_error_code(e->verdict), scan_message(e->verdict));
        }
    } else if (!done_before) {
        bool unchanged = si.migrated && (e->kind == SCAN_FOLDER ||
                                         (si.size == e->size && si.mtime_ns == e->mtime_ns));
        if (unchanged) {
            char msg[96];
            snprintf(msg, sizeof msg, "Unchanged since round %d", si.migrated_round);
            settle_entry(r, e, &si, "Skipped", "skipped", "", "", msg);
        } else {
            send = true;
        }
    }
    if (send) {
        pthread_mutex_lock(&r->mu);
        r->items_seen++;
        if (e->kind == SCAN_FILE)
            r->bytes_to_send += (uint64_t)e->size;
        pthread_mutex_unlock(&r->mu);
    }
    return packer_visit(w->pk, e, si.unique_id, si.item_id, send);
}

/* The ids of the destination folder's parts (--folder), existing or remembered. */
static int base_folders(struct run *r, struct httpc *h, struct pack_base **out, size_t *n,
                        char **strs)
{
    *out = NULL;
    *n = 0;
    const char *f = r->o->folder;
    if (!f || !f[0])
        return 0;
    char err[SPC_ERR];
    struct spc sp;
    if (spc_init(&sp, h, r->o->site_url, r->o->token, err) < 0)
        return -1;
    char *copy = xstrdup(f);
    size_t cap = 0;
    int rc = 0;
    for (char *slash = copy;; slash++) {
        slash = strchr(slash, '/');
        if (slash)
            *slash = '\0';
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        char key[PATH_MAX];
        snprintf(key, sizeof key, "dest:%s", copy);
        char *known = state_meta_get(r->st, key);
        char uid[UUID_BUF] = "", item[UUID_BUF] = "";
        if (known && sscanf(known, "%36s %36s", uid, item) != 2)
            uid[0] = '\0';
        free(known);
        char *path = xasprintf("%s/%s", r->target.root_folder_url, copy);
        char live[UUID_BUF];
        int got = spc_folder_id(&sp, path, live, err);
        free(path);
        if (got < 0) {
            set_fatal(r, "the destination folder %s: %s", copy, err);
            rc = -1;
            break;
        }
        if (got == 0)
            memcpy(uid, live, sizeof uid);
        if (!uid[0] || !item[0]) {
            unsigned char u[UUID_LEN];
            if (!uid[0]) {
                uuid_v4(u);
                uuid_format(u, uid);
            }
            uuid_v4(u);
            uuid_format(u, item);
        }
        char *val = xasprintf("%s %s", uid, item);
        state_meta_set(r->st, key, val);
        free(val);
        size_t k = (*n)++;
        strs[3 * k] = xstrdup(copy);
        strs[3 * k + 1] = xstrdup(uid);
        strs[3 * k + 2] = xstrdup(item);
        (*out)[k] = (struct pack_base){strs[3 * k], strs[3 * k + 1], strs[3 * k + 2]};
        if (!slash)
            break;
        *slash = '/';
    }
    free(copy);
    spc_finish(&sp);
    return rc;
}

static void fill_pkgw_target(struct run *r)
{
    r->pt = (struct pkgw_target){
        .site_url = r->target.site_url,
        .web_id = r->target.web_id,
        .web_url = r->target.web_url,
        .web_root_folder_id = r->target.web_root_folder_id,
        .list_id = r->target.list_id,
        .list_title = r->target.list_title,
        .root_folder_id = r->target.root_folder_id,
        .root_folder_url = r->target.root_folder_url,
        .source_location = r->src_root,
    };
}

/* The source as an absolute path without a trailing '/'. */
static char *source_root(const char *source, char err[512])
{
    char *abs = realpath(source, NULL);
    if (!abs) {
        snprintf(err, 512, "%s: %s", source, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (stat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, 512, "%s: not a folder", source);
        free(abs);
        return NULL;
    }
    char *out = xstrdup(abs);
    free(abs);
    return out;
}

static char *default_report_dir(const char *state_dir, const char *state_path)
{
    const char *base = strrchr(state_path, '/');
    base = base ? base + 1 : state_path;
    size_t n = strlen(base);
    if (n > 3 && strcmp(base + n - 3, ".db") == 0)
        n -= 3;
    return xasprintf("%s/reports/%.*s", state_dir, (int)n, base);
}

int migrate_run(const struct migrate_options *o)
{
    struct run r = {.o = o, .started = mono_ms()};
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    r.domain = o->user_domain ? o->user_domain : "contoso.com";
    int exit_code = 2;
    char err[SPC_ERR];
    char *state_dir = o->state_dir ? xstrdup(o->state_dir) : state_default_dir();
    char *state_path = NULL, *report_dir = NULL, *queue_uri = NULL;
    struct httpc *h = NULL;
    struct worker *workers = NULL;
    struct follower fol = {.r = &r};
    struct progress prog = {.r = &r};
    struct pack_base *base = NULL;
    size_t n_base = 0;
    char *base_strs[3 * 64] = {0};
    int n_workers = o->parallel < 1 ? 1 : o->parallel > 64 ? 64 : o->parallel;
    int started_workers = 0;
    bool follower_started = false;
    int64_t start_wall = now_ms();
    struct scan_totals totals = {0};

    r.src_root = source_root(o->source, err);
    if (!r.src_root) {
        fprintf(stderr, "spmig: %s\n", err);
        goto out;
    }
    h = new_http(&r);
    struct spc sp;
    if (!h || spc_init(&sp, h, o->site_url, o->token, err) < 0) {
        fprintf(stderr, "spmig: %s\n", h ? err : "cannot start libcurl");
        goto out;
    }
    r.dest_origin = xstrdup(sp.origin);
    int rc = spc_target(&sp, o->library, &r.target, err);
    if (rc == 0)
        rc = spc_provision_queue(&sp, &queue_uri, err);
    spc_finish(&sp);
    if (rc < 0) {
        fprintf(stderr, "spmig: %s: %s\n", o->site_url, err);
        goto out;
    }
    if (azc_sas_parse(queue_uri, &r.queue) < 0) {
        fprintf(stderr, "spmig: ProvisionMigrationQueue: the queue URI has no SAS\n");
        goto out;
    }
    fill_pkgw_target(&r);

    state_path =
        state_file_path(state_dir, r.src_root, r.target.web_id, r.target.list_id, o->folder);
    r.st = state_open(state_path, err);
    if (!r.st) {
        fprintf(stderr, "spmig: %s\n", err);
        goto out;
    }
    char *task_id = state_meta_get(r.st, "task_id");
    if (!task_id) {
        unsigned char u[UUID_LEN];
        char s[UUID_BUF];
        uuid_v4(u);
        uuid_format(u, s);
        task_id = xstrdup(s);
        state_meta_set(r.st, "task_id", task_id);
        state_meta_set(r.st, "source", r.src_root);
        state_meta_set(r.st, "site", o->site_url);
        state_meta_set(r.st, "library", o->library ? o->library : "Documents");
        state_meta_set(r.st, "folder", o->folder ? o->folder : "");
    }
    if (state_round_begin(r.st, start_wall, &r.round, &r.resumed) < 0) {
        fprintf(stderr, "spmig: cannot write the state file %s\n", state_path);
        free(task_id);
        goto out;
    }
    report_dir = o->report_dir ? xstrdup(o->report_dir) : default_report_dir(state_dir, state_path);
    r.rep = r.resumed ? report_resume(report_dir, r.round, task_id, NULL)
                      : report_open(report_dir, r.round, task_id, NULL);
    free(task_id);
    if (!r.rep) {
        fprintf(stderr, "spmig: cannot write reports in %s: %s\n", report_dir, strerror(errno));
        goto out;
    }
    if (r.resumed)
        fprintf(stderr, "spmig: resuming round %d\n", r.round);
    if (base_folders(&r, h, &base, &n_base, base_strs) < 0)
        goto stop;

    workers = xcalloc((size_t)n_workers, sizeof *workers);
    for (int i = 0; i < n_workers; i++) {
        workers[i].r = &r;
        workers[i].h = new_http(&r);
        workers[i].in = xmalloc(MIGRATE_BLOCK);
        workers[i].out = xmalloc(MIGRATE_BLOCK + 2 * AES_BLOCK_LEN);
        if (!workers[i].h || pthread_create(&workers[i].thread, NULL, worker_main, &workers[i])) {
            httpc_destroy(workers[i].h);
            free(workers[i].in);
            free(workers[i].out);
            set_fatal(&r, "cannot start the upload workers");
            goto stop;
        }
        started_workers++;
    }
    fol.h = new_http(&r);
    if (!fol.h || pthread_create(&fol.thread, NULL, follower_main, &fol)) {
        set_fatal(&r, "cannot start the queue follower");
        goto stop;
    }
    follower_started = true;
    if (o->progress) {
        prog.on = true;
        if (pthread_create(&prog.thread, NULL, progress_main, &prog))
            prog.on = false;
    }

    struct walk w = {.r = &r, .h = h};
    w.pk = packer_create(base, n_base, on_pack, &w);
    struct scan_options so = {.dest_prefix = NULL, .skip_hidden = o->skip_hidden};
    char *prefix = xasprintf("%s%s%s", r.target.root_folder_url,
                             o->folder && o->folder[0] ? "/" : "", o->folder ? o->folder : "");
    so.dest_prefix = prefix;
    int walked = scan_walk(r.src_root, &so, on_entry, &w, &totals);
    if (walked < 0)
        set_fatal(&r, "%s: %s", r.src_root, strerror(errno));
    if (walked == 0 && packer_finish(w.pk) == 0)
        ; /* the last package is on its way */
    else if (walked != 0)
        packer_destroy(w.pk);
    free(prefix);
    pthread_mutex_lock(&r.mu);
    r.scan_done = true;
    pthread_cond_broadcast(&r.cv);
    while (r.in_flight > 0 && !r.stop)
        pthread_cond_wait(&r.cv, &r.mu);
    pthread_mutex_unlock(&r.mu);

stop:
    pthread_mutex_lock(&r.mu);
    r.stop = true;
    r.scan_done = true;
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);
    for (int i = 0; i < started_workers; i++) {
        pthread_join(workers[i].thread, NULL);
        httpc_destroy(workers[i].h);
        free(workers[i].in);
        free(workers[i].out);
    }
    if (follower_started)
        pthread_join(fol.thread, NULL);
    httpc_destroy(fol.h);
    if (prog.on) {
        pthread_mutex_lock(&r.mu);
        prog.on = false;
        pthread_mutex_unlock(&r.mu);
        pthread_join(prog.thread, NULL);
        progress_draw(&r, true);
    }
    /* Jobs and tasks still here were cut short by a fatal error: the next run sends them. */
    while (r.tasks) {
        struct task *t = r.tasks;
        r.tasks = t->next;
        free(t);
    }
    while (r.jobs) {
        struct job *j = r.jobs;
        r.jobs = j->next;
        job_free(j);
    }
    {
        struct state_counts c;
        state_counts(r.st, r.round, &c);
        struct report_summary s = {
            .source = r.src_root,
            .destination = o->site_url,
            .start_ms = start_wall,
            .end_ms = now_ms(),
            .scan = totals,
            .total_bytes = totals.bytes,
            .to_migrate = r.items_seen,
            .to_migrate_bytes = r.bytes_to_send,
            .migrated = c.migrated,
            .migrated_bytes = c.migrated_bytes,
            .failed = c.failed,
            .skipped = c.skipped,
            .warnings = totals.warnings,
            .packages = r.packages,
            .jobs = r.packages,
            .log_path = NULL,
        };
        if (r.fatal[0]) {
            s.status = "Failed";
            s.failure_reason = r.fatal;
            exit_code = 2;
        } else {
            s.status = c.failed ? "Completed with issues" : "Completed";
            exit_code = c.failed ? 1 : 0;
        }
        if (report_close(r.rep, &s) < 0 && exit_code != 2) {
            fprintf(stderr, "spmig: cannot write the reports in %s\n", report_dir);
            exit_code = 2;
        }
        r.rep = NULL;
        if (!r.fatal[0])
            state_round_end(r.st, r.round, now_ms(), s.status);
        fprintf(stderr,
                "spmig: round %d %s: %llu migrated, %llu failed, %llu skipped, %llu filtered; "
                "reports in %s\n",
                r.round, r.fatal[0] ? "stopped" : "done", (unsigned long long)c.migrated,
                (unsigned long long)c.failed, (unsigned long long)c.skipped,
                (unsigned long long)c.filtered, report_dir);
        if (r.fatal[0])
            fprintf(stderr, "spmig: %s (run again to resume)\n", r.fatal);
    }
out:
    free(workers);
    for (size_t i = 0; i < 3 * n_base; i++)
        free(base_strs[i]);
    free(base);
    state_close(r.st);
    azc_sas_finish(&r.queue);
    httpc_destroy(h);
    free(queue_uri);
    free(r.src_root);
    free(r.dest_origin);
    free(state_path);
    free(state_dir);
    free(report_dir);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    return exit_code;
}

/* -- spmig package ---------------------------------------------------------------------------- */

struct pkgdir {
    const char *outdir;
    const char *src_root;
    struct pkgw_target *pt;
    const char *domain;
    int packages;
    uint64_t items, failed;
    char err[512];
};

/* Copies the source file of o to path, taking its MD5 and size on the way. */
static int copy_file(const char *src, const char *dst, struct pack_obj *o)
{
    int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return -1;
    }
    unsigned char *buf = xmalloc(1 << 20);
    struct crypto_md5 *m = crypto_md5_create();
    int64_t total = 0;
    int rc = 0;
    for (;;) {
        ssize_t k = read(in, buf, 1 << 20);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = k < 0 ? -1 : 0;
            break;
        }
        crypto_md5_update(m, buf, (size_t)k);
        if (write(out, buf, (size_t)k) != k) {
            rc = -1;
            break;
        }
        total += k;
    }
    crypto_md5_final(m, o->md5); /* frees m */
    o->has_md5 = true;
    o->size = total;
    free(buf);
    close(in);
    if (close(out) < 0)
        rc = -1;
    return rc;
}

static int write_text(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : -1;
}

static int on_pack_dir(void *ctx, struct pack *p)
{
    struct pkgdir *d = ctx;
    char *dir = xasprintf("%s/package-%04d", d->outdir, p->no);
    char *content = xasprintf("%s/content", dir);
    int rc = 0;
    if ((mkdir(dir, 0755) < 0 && errno != EEXIST) ||
        (mkdir(content, 0755) < 0 && errno != EEXIST)) {
        snprintf(d->err, sizeof d->err, "%s: %s", dir, strerror(errno));
        rc = 1;
        goto out;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct pack_obj *o = &p->obj[i];
        if (o->is_folder || o->ancestor)
            continue;
        char name[UUID_BUF + 8];
        pack_blob_name(o, name);
        char *src = xasprintf("%s/%s", d->src_root, o->src_rel);
        char *dst = xasprintf("%s/%s", content, name);
        if (copy_file(src, dst, o) < 0) {
            fprintf(stderr, "spmig: %s: %s (left out)\n", src, strerror(errno));
            pack_obj_fail(o, CAT_PACK, "0x01410001", "Packaging failure: Can't open file");
            unlink(dst);
            d->failed++;
        }
        free(src);
        free(dst);
    }
    for (int k = 0; k < PACKAGE_FILE_KINDS; k++) {
        struct strbuf xml;
        strbuf_init(&xml, PACKAGE_XML_MAX_BYTES);
        char *path = xasprintf("%s/%s", dir, package_file_name((enum package_file)k));
        if (pack_write_xml(p, d->pt, d->domain, (enum package_file)k, &xml) < 0 ||
            write_text(path, xml.data ? xml.data : "", xml.len) < 0) {
            snprintf(d->err, sizeof d->err, "%s: cannot write", path);
            rc = 1;
        }
        free(path);
        strbuf_finish(&xml);
        if (rc)
            goto out;
    }
    d->packages++;
    d->items += p->n_items;
out:
    free(dir);
    free(content);
    pack_destroy(p);
    return rc;
}

struct pkg_walk {
    struct packer *pk;
};

static int on_entry_dir(void *ctx, const struct scan_entry *e)
{
    struct pkg_walk *w = ctx;
    unsigned char u[UUID_LEN];
    char uid[UUID_BUF], item[UUID_BUF];
    uuid_v4(u);
    uuid_format(u, uid);
    uuid_v4(u);
    uuid_format(u, item);
    return packer_visit(w->pk, e, uid, item, scan_migrates(e->verdict));
}

int migrate_package(const struct migrate_options *o, const char *outdir)
{
    char err[SPC_ERR];
    char *src = source_root(o->source, err);
    if (!src) {
        fprintf(stderr, "spmig: %s\n", err);
        return 2;
    }
    struct spc_target t = {0};
    int code = 2;
    if (o->site_url) {
        struct httpc_options ho = {.max_attempts = o->max_attempts, .cancel = o->cancel};
        struct httpc *h = httpc_create(&ho);
        struct spc sp;
        int rc = h ? spc_init(&sp, h, o->site_url, o->token, err) : -1;
        if (rc == 0) {
            rc = spc_target(&sp, o->library, &t, err);
            spc_finish(&sp);
        }
        httpc_destroy(h);
        if (rc < 0) {
            fprintf(stderr, "spmig: %s: %s\n", o->site_url, h ? err : "cannot start libcurl");
            free(src);
            return 2;
        }
    } else {
        /* No server: ids made up for inspection. */
        unsigned char u[UUID_LEN];
        char *ids[] = {t.web_id, t.web_root_folder_id, t.list_id, t.root_folder_id};
        for (size_t i = 0; i < 4; i++) {
            uuid_v4(u);
            uuid_format(u, ids[i]);
        }
        snprintf(t.site_url, sizeof t.site_url, "https://contoso.sharepoint.com");
        snprintf(t.web_url, sizeof t.web_url, "/");
        snprintf(t.list_title, sizeof t.list_title, "%s", o->library ? o->library : "Documents");
        snprintf(t.root_folder_url, sizeof t.root_folder_url, "/Shared Documents");
    }
    if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "spmig: %s: %s\n", outdir, strerror(errno));
        free(src);
        return 2;
    }
    struct pkgw_target pt = {
        .site_url = t.site_url,
        .web_id = t.web_id,
        .web_url = t.web_url,
        .web_root_folder_id = t.web_root_folder_id,
        .list_id = t.list_id,
        .list_title = t.list_title,
        .root_folder_id = t.root_folder_id,
        .root_folder_url = t.root_folder_url,
        .source_location = src,
    };
    struct pkgdir d = {.outdir = outdir,
                       .src_root = src,
                       .pt = &pt,
                       .domain = o->user_domain ? o->user_domain : "contoso.com"};
    struct pack_base *base = NULL;
    size_t n_base = 0;
    char *strs[3 * 64] = {0};
    if (o->folder && o->folder[0]) {
        char *copy = xstrdup(o->folder);
        for (char *s = copy; n_base < 64; s++) {
            s = strchr(s, '/');
            if (s)
                *s = '\0';
            unsigned char u[UUID_LEN];
            char a[UUID_BUF], b[UUID_BUF];
            uuid_v4(u);
            uuid_format(u, a);
            uuid_v4(u);
            uuid_format(u, b);
            base = xrealloc(base, (n_base + 1) * sizeof *base);
            strs[3 * n_base] = xstrdup(copy);
            strs[3 * n_base + 1] = xstrdup(a);
            strs[3 * n_base + 2] = xstrdup(b);
            base[n_base] =
                (struct pack_base){strs[3 * n_base], strs[3 * n_base + 1], strs[3 * n_base + 2]};
            n_base++;
            if (!s)
                break;
            *s = '/';
        }
        free(copy);
    }
    struct pkg_walk w = {packer_create(base, n_base, on_pack_dir, &d)};
    struct scan_options so = {.skip_hidden = o->skip_hidden};
    struct scan_totals totals;
    int walked = scan_walk(src, &so, on_entry_dir, &w, &totals);
    if (walked == 0) {
        walked = packer_finish(w.pk);
    } else {
        packer_destroy(w.pk);
    }
    if (walked < 0)
        fprintf(stderr, "spmig: %s: %s\n", src, strerror(errno));
    else if (walked > 0)
        fprintf(stderr, "spmig: %s\n", d.err);
    else {
        fprintf(stderr,
                "spmig: %d packages, %llu items in %s (%llu left out by the scan, %llu "
                "unreadable)\n",
                d.packages, (unsigned long long)d.items, outdir,
                (unsigned long long)(totals.files_failed + totals.folders_failed + totals.filtered),
                (unsigned long long)d.failed);
        code = totals.files_failed + totals.folders_failed + d.failed ? 1 : 0;
    }
    for (size_t i = 0; i < 3 * n_base; i++)
        free(strs[i]);
    free(base);
    free(src);
    return code;
}
