/*
 * migrate.c: one round of `spmig migrate`, its main thread: the target and the state file, the
 * scan and the packages cut from it (at most ROUND_IN_FLIGHT between provisioning and JobEnd),
 * the upload workers (upload.c) and the queue follower (follow.c) started and joined, the
 * progress line, and the round's summary and exit code.
 */
#include "migrate.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "follow.h"
#include "round.h"
#include "upload.h"
#include "xmalloc.h"

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
    double secs = (double)(round_mono_ms() - r->started) / 1000.0;
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

/* Redraws the bar (when asked for) four times a second and calls the progress hook (when
 * set) every second. */
static void *progress_main(void *arg)
{
    struct progress *p = arg;
    for (unsigned tick = 0;; tick++) {
        pthread_mutex_lock(&p->r->mu);
        bool on = p->on;
        pthread_mutex_unlock(&p->r->mu);
        if (!on)
            break;
        if (p->r->o->progress)
            progress_draw(p->r, false);
        if (tick % 4 == 0)
            round_progress(p->r);
        struct timespec ts = {0, 250 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* -- the main thread: scan and cut packages --------------------------------------------------- */

struct walk {
    struct run *r;
    struct httpc *h;   /* the main thread's */
    struct packer *pk; /* NULL when only scanning */
    int batched;       /* state writes in the open batch */
};

/* The scan's state writes go in batches of WALK_BATCH entries; a batch is committed before a
 * package is cut, so the ids a package carries are on disk before it can be imported. */
#define WALK_BATCH 256

static void walk_flush(struct walk *w)
{
    if (!w->batched)
        return;
    w->batched = 0;
    if (state_batch_end(w->r->st) < 0)
        round_fatal(w->r, "cannot write the state file");
}

/* A package is cut: provision its containers and queue its files. */
static int on_pack(void *ctx, struct pack *p)
{
    struct walk *w = ctx;
    struct run *r = w->r;
    walk_flush(w); /* also: settling needs the state, and may be what this waits for */
    pthread_mutex_lock(&r->mu);
    while (r->in_flight >= ROUND_IN_FLIGHT && !r->stop)
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
            round_fatal(r, "ProvisionMigrationContainers: %s", err);
            return 1;
        }
        round_fail_all(j, ROUND_CAT_UPLOAD, "0x01610001", err);
        round_settle(r, j);
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
        upload_package_ready(r, w->h, j);
        return round_stopping(r);
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
    char *rel = r->o->folder && r->o->folder[0] ? xasprintf("%s/%s", r->o->folder, e->dest_rel)
                                                : xstrdup(e->dest_rel);
    o.rel = rel;
    o.src_rel = (char *)e->rel;
    memcpy(o.uid, si->unique_id, sizeof o.uid);
    round_report(r, NULL, &o, NULL, status, category, code, msg);
    free(rel);
    if (outcome)
        state_outcome(r->st, e->rel, r->round, outcome, e->size, 0, 0);
}

static bool pause_requested(struct run *r)
{
    if (!r->o->pause || !*r->o->pause)
        return false;
    pthread_mutex_lock(&r->mu);
    r->paused = true;
    pthread_mutex_unlock(&r->mu);
    return true;
}

static int on_entry(void *ctx, const struct scan_entry *e)
{
    struct walk *w = ctx;
    struct run *r = w->r;
    /* Stopping the walk here drops the package being cut (its items have no outcome yet, so
     * the resumed round sends them): the round pauses at a package boundary. */
    if (round_stopping(r) || pause_requested(r))
        return 1;
    pthread_mutex_lock(&r->mu);
    if (e->kind == SCAN_FILE) {
        r->files_scanned++;
        r->bytes_scanned += (uint64_t)e->size;
    }
    pthread_mutex_unlock(&r->mu);
    if (w->batched++ == 0)
        state_batch_begin(r->st);
    struct state_item si;
    if (state_item(r->st, e->rel, e->kind == SCAN_FOLDER, &si) < 0) {
        round_fatal(r, "cannot write the state file");
        return 1;
    }
    bool done_before = r->resumed && si.reported_round == r->round;
    bool send = false;
    if (!scan_migrates(e->verdict)) {
        if (!done_before) {
            bool filtered = scan_filtered(e->verdict);
            settle_entry(r, e, &si, filtered ? "Filtered out" : "Failed",
                         filtered ? "filtered" : "failed", filtered ? "" : ROUND_CAT_SCAN,
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
        if (e->kind == SCAN_FILE) {
            r->files_to_send++;
            r->bytes_to_send += (uint64_t)e->size;
        }
        pthread_mutex_unlock(&r->mu);
    }
    int rc = 0;
    if (!w->pk) {
        /* Only scanning: a row for what a migration would send, no outcome. */
        if (send)
            settle_entry(r, e, &si, "Ready to migrate", NULL, "", "", "");
    } else {
        rc = packer_visit(w->pk, e, si.unique_id, si.item_id, send);
    }
    if (w->batched >= WALK_BATCH)
        walk_flush(w);
    return rc;
}

/* The ids of the destination folder's parts (--folder), existing or remembered. */
static int base_folders(struct run *r, struct httpc *h, struct pack_base **out, size_t *n)
{
    *out = pack_bases(r->o->folder, n);
    if (!*n || !r->o->site_url) /* a scan without a destination has no folders to look up */
        return 0;
    char err[SPC_ERR];
    struct spc sp;
    if (spc_init(&sp, h, r->o->site_url, r->o->token, err) < 0)
        return -1;
    int rc = 0;
    for (size_t k = 0; k < *n && rc == 0; k++) {
        struct pack_base *pb = &(*out)[k];
        char *key = xasprintf("dest:%s", pb->rel);
        char *known = state_meta_get(r->st, key);
        if (known && sscanf(known, "%36s %36s", pb->uid, pb->item_id) != 2)
            pb->uid[0] = pb->item_id[0] = '\0';
        free(known);
        char *path = xasprintf("%s/%s", r->target.root_folder_url, pb->rel);
        char live[UUID_BUF];
        int got = spc_folder_id(&sp, path, live, err);
        free(path);
        if (got < 0) {
            round_fatal(r, "the destination folder %s: %s", pb->rel, err);
            rc = -1;
        } else {
            if (got == 0)
                memcpy(pb->uid, live, sizeof pb->uid);
            /* A seeded round names them by a path no source item can have ("../..."). */
            char fresh_uid[UUID_BUF], fresh_item[UUID_BUF];
            char *name = xasprintf("../%s", pb->rel);
            state_item_ids(r->o->id_seed, name, true, fresh_uid, fresh_item);
            free(name);
            if (!pb->uid[0])
                memcpy(pb->uid, fresh_uid, sizeof pb->uid);
            if (!pb->item_id[0])
                memcpy(pb->item_id, fresh_item, sizeof pb->item_id);
            char *val = xasprintf("%s %s", pb->uid, pb->item_id);
            state_meta_set(r->st, key, val);
            free(val);
        }
        free(key);
    }
    spc_finish(&sp);
    return rc;
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
    struct run r = {.o = o, .started = round_mono_ms()};
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    r.domain = o->user_domain ? o->user_domain : "contoso.com";
    int exit_code = 2;
    char err[SPC_ERR];
    char *state_dir = o->state_dir ? xstrdup(o->state_dir) : state_default_dir();
    char *state_path = NULL, *report_dir = NULL, *queue_uri = NULL;
    struct httpc *h = NULL;
    struct upload_worker *workers = NULL;
    struct follow fol = {.r = &r};
    struct progress prog = {.r = &r};
    struct pack_base *base = NULL;
    size_t n_base = 0;
    int n_workers = o->parallel < 1 ? 1 : o->parallel > 64 ? 64 : o->parallel;
    int started_workers = 0;
    bool follower_started = false;
    int64_t start_wall = round_now_ms();
    struct scan_totals totals = {0};

    r.src_root = round_source_root(o->source, err);
    if (!r.src_root) {
        fprintf(stderr, "spmig: %s\n", err);
        goto out;
    }
    h = round_http(&r);
    if (!h) {
        fprintf(stderr, "spmig: cannot start libcurl\n");
        goto out;
    }
    if (o->site_url) {
        struct spc sp;
        if (spc_init(&sp, h, o->site_url, o->token, err) < 0) {
            fprintf(stderr, "spmig: %s\n", err);
            goto out;
        }
        r.dest_origin = xstrdup(sp.origin);
        int rc = spc_target(&sp, o->list_title, &r.target, err);
        if (rc == 0 && !o->scan_only)
            rc = spc_provision_queue(&sp, &queue_uri, err);
        spc_finish(&sp);
        if (rc < 0) {
            fprintf(stderr, "spmig: %s: %s\n", o->site_url, err);
            goto out;
        }
    } else if (o->scan_only) {
        /* A scan without a destination reads the source only: no SharePoint, no target,
         * reports with an empty destination. */
        r.dest_origin = xstrdup("");
    } else {
        fprintf(stderr, "spmig: no destination site\n");
        goto out;
    }
    if (!o->scan_only && azc_sas_parse(queue_uri, &r.queue) < 0) {
        fprintf(stderr, "spmig: ProvisionMigrationQueue: the queue URI has no SAS\n");
        goto out;
    }
    r.pt = round_pkgw_target(&r.target, r.src_root);

    state_path =
        state_file_path(state_dir, r.src_root, r.target.web_id, r.target.list_id, o->folder);
    r.st = state_open(state_path, err);
    if (!r.st) {
        fprintf(stderr, "spmig: %s\n", err);
        goto out;
    }
    state_set_id_seed(r.st, o->id_seed);
    char *task_id = state_meta_get(r.st, "task_id");
    if (!task_id) {
        unsigned char u[UUID_LEN];
        char s[UUID_BUF];
        uuid_v4(u);
        uuid_format(u, s);
        task_id = xstrdup(o->id_seed && o->id_seed[0] ? o->id_seed : s);
        state_meta_set(r.st, "task_id", task_id);
        state_meta_set(r.st, "source", r.src_root);
        state_meta_set(r.st, "site", o->site_url ? o->site_url : "");
        state_meta_set(r.st, "library", o->list_title ? o->list_title : "Documents");
        state_meta_set(r.st, "folder", o->folder ? o->folder : "");
    }
    if (state_round_begin_at(r.st, start_wall, o->first_round, &r.round, &r.resumed) < 0) {
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
    if (base_folders(&r, h, &base, &n_base) < 0)
        goto stop;

    if (o->scan_only)
        n_workers = 0;
    workers = xcalloc((size_t)n_workers + 1, sizeof *workers);
    for (int i = 0; i < n_workers; i++) {
        workers[i].r = &r;
        workers[i].h = round_http(&r);
        workers[i].in = xmalloc(UPLOAD_BLOCK);
        workers[i].out = xmalloc(UPLOAD_BLOCK + 2 * AES_BLOCK_LEN);
        if (!workers[i].h ||
            pthread_create(&workers[i].thread, NULL, upload_worker_main, &workers[i])) {
            httpc_destroy(workers[i].h);
            free(workers[i].in);
            free(workers[i].out);
            round_fatal(&r, "cannot start the upload workers");
            goto stop;
        }
        started_workers++;
    }
    if (!o->scan_only) {
        fol.h = round_http(&r);
        if (!fol.h || pthread_create(&fol.thread, NULL, follow_main, &fol)) {
            round_fatal(&r, "cannot start the queue follower");
            goto stop;
        }
        follower_started = true;
    }
    if (o->progress || o->on_progress) {
        prog.on = true;
        if (pthread_create(&prog.thread, NULL, progress_main, &prog))
            prog.on = false;
    }

    struct walk w = {.r = &r, .h = h};
    if (!o->scan_only)
        w.pk = packer_create(base, n_base, on_pack, &w);
    struct scan_options so = {
        .in_folder = o->folder && o->folder[0],
        .skip_hidden = o->skip_hidden,
        .created_after_ms = o->created_after_ms,
        .modified_after_ms = o->modified_after_ms,
        .skip_extensions = o->skip_extensions,
        .skip_invalid_chars = o->skip_invalid_chars,
        .replace_char = o->replace_char,
    };
    char *prefix = xasprintf("%s%s%s", r.target.root_folder_url,
                             o->folder && o->folder[0] ? "/" : "", o->folder ? o->folder : "");
    so.dest_prefix = prefix;
    int walked = scan_walk(r.src_root, &so, on_entry, &w, &totals);
    walk_flush(&w);
    if (walked < 0)
        round_fatal(&r, "%s: %s", r.src_root, strerror(errno));
    if (!w.pk)
        ; /* only scanning */
    else if (walked == 0 && packer_finish(w.pk) == 0)
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
    round_progress(&r);

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
        if (o->progress)
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
        round_job_free(j);
    }
    {
        struct state_counts c;
        state_counts(r.st, r.round, &c);
        bool paused = r.paused && !r.fatal[0];
        struct report_summary s = {
            .scan_only = o->scan_only,
            .preserve_permissions = o->preserve_permissions,
            .source = r.src_root,
            .destination = o->site_url ? o->site_url : "",
            .start_ms = start_wall,
            .end_ms = round_now_ms(),
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
        bool cancelled = r.fatal[0] && o->cancel && *o->cancel;
        if (r.fatal[0]) {
            s.status = cancelled ? "Cancelled" : "Failed";
            s.failure_reason = r.fatal;
            exit_code = MIGRATE_EXIT_FATAL;
        } else if (paused) {
            s.status = "Paused";
            exit_code = MIGRATE_EXIT_PAUSED;
        } else {
            s.status = c.failed ? "Completed with issues" : "Completed";
            exit_code = c.failed ? MIGRATE_EXIT_ISSUES : MIGRATE_EXIT_OK;
        }
        if (report_close(r.rep, &s) < 0 && exit_code != MIGRATE_EXIT_FATAL) {
            fprintf(stderr, "spmig: cannot write the reports in %s\n", report_dir);
            exit_code = MIGRATE_EXIT_FATAL;
            s.status = "Failed";
            s.failure_reason = "cannot write the reports";
        }
        r.rep = NULL;
        if (!r.fatal[0] && !paused)
            state_round_end(r.st, r.round, round_now_ms(), s.status);
        if (o->result) {
            o->result->round = r.round;
            snprintf(o->result->status, sizeof o->result->status, "%s", s.status);
            snprintf(o->result->reason, sizeof o->result->reason, "%s",
                     s.failure_reason ? s.failure_reason : "");
            snprintf(o->result->report_dir, sizeof o->result->report_dir, "%s", report_dir);
        }
        fprintf(stderr,
                "spmig: round %d %s: %llu migrated, %llu failed, %llu skipped, %llu filtered; "
                "reports in %s\n",
                r.round,
                r.fatal[0]     ? "stopped"
                : paused       ? "paused (run again to resume)"
                : o->scan_only ? "scanned"
                               : "done",
                (unsigned long long)c.migrated, (unsigned long long)c.failed,
                (unsigned long long)c.skipped, (unsigned long long)c.filtered, report_dir);
        if (r.fatal[0])
            fprintf(stderr, "spmig: %s (run again to resume)\n", r.fatal);
    }
out:
    free(workers);
    pack_bases_free(base, n_base);
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
