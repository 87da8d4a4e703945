/*
 * round.c: the parts of a round every thread uses: the fatal error, time, and settling a
 * package's items into the state file and the reports. Who runs when is in migrate.c.
 */
#include "round.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "crypto.h"
#include "xmalloc.h"

int64_t round_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t round_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void round_fatal(struct run *r, const char *fmt, ...)
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

bool round_stopping(struct run *r)
{
    if (r->o->cancel && *r->o->cancel)
        round_fatal(r, "interrupted");
    pthread_mutex_lock(&r->mu);
    bool s = r->stop;
    pthread_mutex_unlock(&r->mu);
    return s;
}

struct httpc *round_http(const struct run *r)
{
    struct httpc_options ho = {.max_attempts = r->o->max_attempts, .cancel = r->o->cancel};
    return httpc_create(&ho);
}

void round_progress(struct run *r)
{
    if (!r->o->on_progress)
        return;
    pthread_mutex_lock(&r->mu);
    struct migrate_progress p = {
        .round = r->round,
        .phase = r->scan_done ? MIGRATE_IN_PROGRESS : MIGRATE_SCANNING,
        .files_scanned = r->files_scanned,
        .bytes_scanned = r->bytes_scanned,
        .to_migrate = r->items_seen,
        .bytes_to_migrate = r->bytes_to_send,
        .migrated = r->migrated,
        .bytes_migrated = r->bytes_migrated,
        .failed = r->failed,
        .files_to_migrate = r->files_to_send,
        .files_migrated = r->files_migrated,
        .files_failed = r->files_failed,
    };
    pthread_mutex_unlock(&r->mu);
    r->o->on_progress(r->o->progress_ctx, &p);
}

/* -- outcomes --------------------------------------------------------------------------------- */

void round_report(struct run *r, const struct pack *p, const struct pack_obj *o, const char *job_id,
                  const char *status, const char *category, const char *code, const char *msg)
{
    char *source =
        o->src_rel[0] ? xasprintf("%s/%s", r->src_root, o->src_rel) : xstrdup(r->src_root);
    /* A scan without a destination reports none. */
    char *dest = r->dest_origin[0]
                     ? xasprintf("%s%s/%s", r->dest_origin, r->target.root_folder_url, o->rel)
                     : xstrdup("");
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
        round_fatal(r, "cannot write the reports: %s", strerror(errno));
    bool migrated = strcmp(status, "Migrated") == 0, failed = strcmp(status, "Failed") == 0;
    if (migrated || failed) {
        pthread_mutex_lock(&r->mu);
        if (migrated) {
            r->migrated++;
            r->bytes_migrated += o->is_folder ? 0 : (uint64_t)o->size;
            r->files_migrated += !o->is_folder;
        } else {
            r->failed++;
            r->files_failed += !o->is_folder;
        }
        pthread_mutex_unlock(&r->mu);
    }
    free(source);
    free(dest);
}

void round_job_free(struct job *j)
{
    crypto_wipe(j->key, sizeof j->key);
    azc_sas_finish(&j->data);
    azc_sas_finish(&j->meta);
    free(j->fatal_msg);
    pack_destroy(j->p);
    free(j);
}

/* Settles every item of j (failed ones as marked, the rest migrated) and frees j. */
void round_settle(struct run *r, struct job *j)
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
            round_report(r, p, o, j->job_id, "Failed", o->category, o->code, o->message);
            state_outcome(r->st, o->src_rel, r->round, "failed", o->size, 0, 0);
        } else {
            round_report(r, p, o, j->job_id, "Migrated", NULL, NULL, NULL);
            state_outcome(r->st, o->src_rel, r->round, "migrated", o->size, o->size, o->mtime_ns);
        }
    }
    if (state_batch_end(r->st) < 0)
        round_fatal(r, "cannot write the state file");
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
    round_job_free(j);
    round_progress(r); /* a package boundary */
}

/* Marks every item of j not failed yet. */
void round_fail_all(struct job *j, const char *category, const char *code, const char *msg)
{
    for (size_t i = 0; i < j->p->n; i++)
        if (!j->p->obj[i].ancestor && !j->p->obj[i].failed)
            pack_obj_fail(&j->p->obj[i], category, code, msg);
}

/* The source as an absolute path without a trailing '/'. */
char *round_source_root(const char *source, char err[512])
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

struct pkgw_target round_pkgw_target(const struct spc_target *t, const char *source)
{
    return (struct pkgw_target){
        .site_url = t->site_url,
        .web_id = t->web_id,
        .web_url = t->web_url,
        .web_root_folder_id = t->web_root_folder_id,
        .list_id = t->list_id,
        .list_title = t->list_title,
        .root_folder_id = t->root_folder_id,
        .root_folder_url = t->root_folder_url,
        .source_location = source,
    };
}
