/*
 * follow.c: the report queue of a round, read and applied: envelopes decrypted with the job's
 * key (events.c), JobError and JobFatalError marked on items, JobEnd settles the package or,
 * when the server lost the job's key, submits it again (upload.c).
 */
#include "follow.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "events.h"
#include "log.h"
#include "upload.h"
#include "xmalloc.h"

/* A queue message whose job was not known yet when it came. */
struct pending {
    struct azc_message m;
    char job_id[UUID_BUF];
    int64_t since;
    struct pending *next;
};

static struct job *job_by_id(struct run *r, const char *id)
{
    for (struct job *j = r->jobs; j; j = j->next)
        if (j->job_id[0] && strcasecmp(j->job_id, id) == 0)
            return j;
    return NULL;
}

static const char *event_str(const cJSON *e, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Applies one event to its job (plain: it came without the encrypted envelope); true when
 * it was JobEnd. */
static bool apply_event(struct run *r, struct job *j, const cJSON *e, bool plain)
{
    const char *ev = event_str(e, "Event");
    j->last_event = round_mono_ms();
    if (strcmp(ev, "JobError") == 0) {
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
                    pack_obj_fail(o, ROUND_CAT_SERVER, hex, msg);
            } else {
                /* A folder above items failed: what is under it was not imported. */
                size_t len = strlen(o->rel);
                for (size_t k = 0; k < j->p->n; k++) {
                    struct pack_obj *c = &j->p->obj[k];
                    if (!c->ancestor && !c->failed && strncmp(c->rel, o->rel, len) == 0 &&
                        c->rel[len] == '/')
                        pack_obj_fail(c, ROUND_CAT_SERVER, "0x0111000F",
                                      "The parent folder wasn't migrated");
                }
            }
        }
        free(msg);
    } else if (strcmp(ev, "JobFatalError") == 0 || strcmp(ev, "JobCancelled") == 0 ||
               strcmp(ev, "JobDeleted") == 0) {
        j->fatal_event = true;
        j->key_lost = plain && strcmp(ev, "JobFatalError") == 0;
        free(j->fatal_msg);
        j->fatal_msg = xasprintf("%s: %s", ev, event_str(e, "Message"));
        if (strcmp(ev, "JobFatalError") != 0)
            return true; /* no JobEnd follows these */
    } else if (strcmp(ev, "JobEnd") == 0) {
        return true;
    }
    return false;
}

/* The package of a job whose key the server lost (a restart before the job ran) goes again,
 * a few times at most: its blobs are still in its containers. true when it was submitted. */
static bool resubmit(struct follow *f, struct job *j)
{
    struct run *r = f->r;
    if (!j->key_lost || j->resubmits >= ROUND_RESUBMITS || round_stopping(r))
        return false;
    char err[SPC_ERR];
    char old[UUID_BUF];
    memcpy(old, j->job_id, sizeof old);
    if (upload_create_job(r, f->h, j, err) < 0) {
        log_msg(LOG_WARN, "package %d: submitting it again: %s", j->p->no, err);
        return false;
    }
    j->resubmits++;
    j->fatal_event = j->key_lost = false;
    free(j->fatal_msg);
    j->fatal_msg = NULL;
    fprintf(stderr,
            "spmig: package %d: job %s lost its key on the server; submitted again as job %s\n",
            j->p->no, old, j->job_id);
    return true;
}

/* Handles one message of a known job; true if the job ended (and was settled). */
static bool handle_message(struct follow *f, struct job *j, const char *text)
{
    struct run *r = f->r;
    /* Events of an encrypted job come in the envelope; plain ones mean the key is gone. */
    char *json = events_decode_message(text, strlen(text), NULL);
    bool plain = json != NULL;
    if (!json)
        json = events_decode_message(text, strlen(text), j->key);
    if (!json) {
        log_msg(LOG_WARN, "a report queue message of job %s does not decrypt", j->job_id);
        return false;
    }
    cJSON *e = cJSON_Parse(json);
    free(json);
    bool end = e && apply_event(r, j, e, plain);
    cJSON_Delete(e);
    if (end && j->fatal_event && resubmit(f, j))
        return false;
    if (end) {
        if (j->fatal_event)
            round_fail_all(j, ROUND_CAT_SERVER, "0x01710006", j->fatal_msg);
        round_settle(r, j);
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

static void follow_once(struct follow *f, bool *got)
{
    struct run *r = f->r;
    struct azc_message *msgs = NULL;
    size_t n = 0;
    char err[AZC_ERR];
    *got = false;
    if (azc_queue_get(f->h, &r->queue, 32, 60, &msgs, &n, err) < 0) {
        round_fatal(r, "the report queue: %s", err);
        return;
    }
    *got = n > 0;
    /* Messages of jobs not known yet wait in pending, in the order they came. */
    for (size_t i = 0; i < n; i++) {
        struct pending *p = xcalloc(1, sizeof *p);
        p->m = msgs[i];
        events_message_job_id(p->m.text, strlen(p->m.text), p->job_id, sizeof p->job_id);
        p->since = round_mono_ms();
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
        bool old = round_mono_ms() - p->since > 120000;
        if (!j && !old && p->job_id[0]) {
            pp = &p->next;
            continue;
        }
        if (j)
            handle_message(f, j, p->m.text);
        if (azc_queue_delete(f->h, &r->queue, &p->m, err) < 0 && !strstr(err, "HTTP ")) {
            round_fatal(r, "the report queue: %s", err);
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
            if (j->job_id[0] && round_mono_ms() - j->last_event > limit * 1000)
                late = j;
        pthread_mutex_unlock(&r->mu);
        if (!late)
            return;
        char msg[128];
        snprintf(msg, sizeof msg,
                 "Errors or timeout for Server Processing the file: no event "
                 "for %ld s",
                 limit);
        round_fail_all(late, ROUND_CAT_SERVER, "0x01710009", msg);
        round_settle(r, late);
    }
}

void *follow_main(void *arg)
{
    struct follow *f = arg;
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
