/*
 * agent.c: `spmig agent`'s threads. The main thread checks the shares, registers or reuses
 * agent.json, and long-polls the heartbeat, starting, pausing, resuming and cancelling tasks
 * as ordered; each task runs in its own thread through migrate_run and leaves its round's end
 * on disk for the poster thread (agent_post.c) to send. The JSON is agent_wire.c's; the
 * migration itself is migrate.c's.
 */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent_internal.h"
#include "agent_wire.h"
#include "crypto.h"
#include "fileio.h"
#include "http.h"
#include "migrate.h"
#include "spmig_limits.h"
#include "state.h"
#include "xmalloc.h"

int64_t agent_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms milliseconds in small steps; false when stop was set meanwhile. */
bool agent_sleep(const volatile sig_atomic_t *stop, int ms)
{
    for (int slept = 0; slept < ms; slept += 100) {
        if (stop && *stop)
            return false;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return !(stop && *stop);
}

bool agent_task_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (!n || n > AGENT_TASK_ID_MAX)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

/* -- HTTP ------------------------------------------------------------------------------------ */

/* One request to /api/mm/ with a bearer token; 0 with r filled, -1 when no answer came. */
int agent_call(struct agent *a, struct httpc *h, const char *method, const char *path,
               const char *bearer, const char *content_type, const void *body, size_t len,
               struct httpc_response *r)
{
    char *url = xasprintf("%s%s", a->base, path);
    char *auth = xasprintf("Authorization: Bearer %s", bearer);
    char *ct = xasprintf("Content-Type: %s", content_type ? content_type : "application/json");
    const char *headers[] = {auth, ct, "Accept: application/json", NULL};
    httpc_response_init(r);
    int rc = httpc_request(h, method, url, headers, body, len, r);
    crypto_wipe(auth, strlen(auth));
    free(auth);
    free(ct);
    free(url);
    return rc;
}

bool agent_ok(long status)
{
    return status >= 200 && status < 300;
}

/* -- shares and trust ------------------------------------------------------------------------ */

/* Opens and lists each share; prints each result. The number readable. */
static size_t agent_check_shares(const struct agent_options *o, struct agent_wire_share *out,
                                 char errs[][128])
{
    size_t ok = 0;
    for (size_t i = 0; i < o->n_shares; i++) {
        out[i] = (struct agent_wire_share){.path = o->shares[i]};
        DIR *d = opendir(o->shares[i]);
        if (d)
            errno = 0; /* readdir's end and its failure differ only by errno */
        if (d && (readdir(d) || errno == 0)) {
            out[i].readable = true;
            ok++;
            fprintf(stderr, "spmig agent: share %s: readable\n", o->shares[i]);
        } else {
            snprintf(errs[i], 128, "%s", strerror(errno ? errno : EACCES));
            out[i].error = errs[i];
            fprintf(stderr, "spmig agent: share %s: not readable: %s\n", o->shares[i], errs[i]);
        }
        if (d)
            closedir(d);
    }
    return ok;
}

/* Registers with the admin token and keeps the credential in agent.json. 0 or -1. */
static int agent_register(struct agent *a, struct httpc *h)
{
    const struct agent_options *o = a->o;
    if (!o->token) {
        fprintf(stderr, "spmig agent: no credential and no admin token (--token or SPMIG_TOKEN) "
                        "to register with\n");
        return -1;
    }
    struct agent_wire_share shares[AGENT_MAX_SHARES];
    char errs[AGENT_MAX_SHARES][128];
    agent_check_shares(o, shares, errs);
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) < 0)
        host[0] = '\0';
    char *body = agent_wire_register_body(o->name, o->group, SPMIG_VERSION, host, shares,
                                          o->n_shares, o->max_tasks);
    struct httpc_response r;
    int rc =
        agent_call(a, h, "POST", "/api/mm/agents/register", o->token, NULL, body, strlen(body), &r);
    free(body);
    char err[AGENT_WIRE_ERR] = "";
    char *id = NULL, *cred = NULL;
    if (rc < 0 || !agent_ok(r.status) ||
        agent_wire_parse_register(r.body.data, r.body.len, &id, &cred, err) < 0) {
        fprintf(stderr, "spmig agent: register: %s\n",
                rc < 0        ? r.error
                : err[0]      ? err
                : r.body.data ? r.body.data
                              : "refused");
        if (rc == 0 && !agent_ok(r.status))
            fprintf(stderr, "spmig agent: register: HTTP %ld\n", r.status);
        httpc_response_finish(&r);
        return -1;
    }
    httpc_response_finish(&r);
    agent_wire_credential_finish(&a->cred);
    a->cred = (struct agent_wire_credential){
        .server = xstrdup(a->base), .name = xstrdup(o->name), .id = id, .credential = cred};
    if (agent_wire_credential_save(a->cred_path, &a->cred) < 0) {
        fprintf(stderr, "spmig agent: %s: %s\n", a->cred_path, strerror(errno));
        return -1;
    }
    fprintf(stderr, "spmig agent: registered as %s (agent %s)\n", o->name, id);
    return 0;
}

/* -- a task's thread ------------------------------------------------------------------------- */

static void agent_on_progress(void *ctx, const struct migrate_progress *p)
{
    struct agent_task *t = ctx;
    pthread_mutex_lock(&t->a->mu);
    t->last = *p;
    t->seq++;
    pthread_mutex_unlock(&t->a->mu);
}

/* Writes the round's end for the poster: <task dir>/end.json. */
static void agent_task_end(struct agent_task *t, int round, const char *status, const char *reason,
                           const struct migrate_progress *counts)
{
    char *body = agent_wire_end_body(round, status, reason, counts);
    char *path = xasprintf("%s/end.json", t->dir);
    if (fileio_replace(path, body, strlen(body), 0600) < 0)
        fprintf(stderr, "spmig agent: task %s: %s: %s\n", t->id, path, strerror(errno));
    free(path);
    free(body);
}

static void *agent_task_main(void *arg)
{
    struct agent_task *t = arg;
    struct agent *a = t->a;
    struct agent_wire_task spec;
    char err[AGENT_WIRE_ERR];
    if (agent_wire_task_parse(t->spec_json, strlen(t->spec_json), &spec, err) < 0) {
        agent_task_end(t, 0, "Failed", err, NULL);
        goto done;
    }
    char *site = !spec.site_url            ? NULL
                 : spec.site_url[0] == '/' ? xasprintf("%s%s", a->base, spec.site_url)
                                           : xstrdup(spec.site_url);
    char *state_dir = xasprintf("%s/state", t->dir);
    char *report_dir = xasprintf("%s/reports", t->dir);
    struct migrate_result res = {.round = spec.round};
    struct migrate_options mo = {
        .source = spec.source,
        .site_url = site,
        .list_title = spec.library,
        .folder = spec.folder && spec.folder[0] ? spec.folder : NULL,
        .report_dir = report_dir,
        .state_dir = state_dir,
        /* The task's own token when the server gives one, else the agent's credential: the
         * server takes it on the site for the admin who made the trust, so revoking the agent
         * stops its migrations too. */
        .token = spec.token ? spec.token : a->cred.credential,
        .user_domain = a->o->user_domain,
        .parallel = a->o->parallel,
        .max_attempts = a->o->max_attempts,
        .cancel = &t->cancel,
        .pause = &t->pause,
        .scan_only = spec.scan_only,
        .preserve_permissions = spec.preserve_permissions,
        .skip_hidden = spec.skip_hidden,
        .created_after_ms = spec.created_after_ms,
        .modified_after_ms = spec.modified_after_ms,
        .skip_extensions = spec.skip_extensions,
        .skip_invalid_chars = spec.skip_invalid_chars,
        .replace_char = spec.replace_char,
        .id_seed = spec.id,
        .on_progress = agent_on_progress,
        .progress_ctx = t,
        .result = &res,
        .first_round = spec.round,
    };
    fprintf(stderr, "spmig agent: task %s: %s -> %s\n", t->id, spec.source,
            site ? site : "(scan only)");
    int rc = migrate_run(&mo);
    const char *status = res.status[0] ? agent_wire_status(res.status) : "Failed";
    const char *reason = res.reason[0] ? res.reason : rc == MIGRATE_EXIT_FATAL ? "fatal error" : "";
    pthread_mutex_lock(&a->mu);
    struct migrate_progress last = t->last;
    pthread_mutex_unlock(&a->mu);
    agent_task_end(t, res.round, status, reason, &last);
    fprintf(stderr, "spmig agent: task %s: round %d %s\n", t->id, res.round, status);
    /* A paused task is held (and reported) across a restart of the agent. */
    char *marker = xasprintf("%s/paused", t->dir);
    if (rc == MIGRATE_EXIT_PAUSED)
        fileio_replace(marker, "", 0, 0600);
    else
        unlink(marker);
    free(marker);
    pthread_mutex_lock(&a->mu);
    t->paused = rc == MIGRATE_EXIT_PAUSED;
    t->gone = !t->paused;
    pthread_mutex_unlock(&a->mu);
    free(site);
    free(state_dir);
    free(report_dir);
    agent_wire_task_finish(&spec);
done:
    pthread_mutex_lock(&a->mu);
    t->done = true;
    a->ended = true;
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* -- orders ---------------------------------------------------------------------------------- */

static struct agent_task *agent_find(struct agent *a, const char *id)
{
    for (struct agent_task *t = a->tasks; t; t = t->next)
        if (strcmp(t->id, id) == 0)
            return t;
    return NULL;
}

/* Starts t's thread (a->mu held). */
static void agent_start(struct agent *a, struct agent_task *t)
{
    t->pause = t->cancel = 0;
    t->paused = t->gone = t->done = false;
    t->seq = t->posted_seq = 0;
    t->running = true;
    if (pthread_create(&t->thread, NULL, agent_task_main, t) != 0) {
        t->running = false;
        fprintf(stderr, "spmig agent: task %s: cannot start a thread\n", t->id);
    }
}

/* Slots taken: by a task whose thread runs (one that has returned is not joined yet, its
 * slot already free) or that is held paused. */
static int agent_slots_used(struct agent *a)
{
    int n = 0;
    for (struct agent_task *t = a->tasks; t; t = t->next)
        n += (t->running && !t->done) || t->paused;
    return n;
}

/* A task's record, loading its spec from task.json when it is not in memory (a restart). */
static struct agent_task *agent_task_get(struct agent *a, const char *id, const char *spec_json)
{
    struct agent_task *t = agent_find(a, id);
    if (t) {
        if (spec_json) { /* a new round of a task held here: its spec may have changed */
            free(t->spec_json);
            t->spec_json = xstrdup(spec_json);
            char *spec_path = xasprintf("%s/task.json", t->dir);
            if (fileio_replace(spec_path, spec_json, strlen(spec_json), 0600) < 0)
                fprintf(stderr, "spmig agent: %s: %s\n", spec_path, strerror(errno));
            free(spec_path);
        }
        return t;
    }
    char *dir = xasprintf("%s/tasks/%s", a->work_dir, id);
    char *spec_path = xasprintf("%s/task.json", dir);
    char *loaded = NULL;
    if (!spec_json) {
        FILE *f = fopen(spec_path, "r");
        if (f) {
            loaded = xcalloc(1, LIMIT_MM_TASK_SPEC + 1);
            if (fread(loaded, 1, LIMIT_MM_TASK_SPEC, f) == 0) {
                free(loaded);
                loaded = NULL;
            }
            fclose(f);
        }
        if (!loaded) {
            free(dir);
            free(spec_path);
            return NULL;
        }
    }
    t = xcalloc(1, sizeof *t);
    t->a = a;
    t->id = xstrdup(id);
    t->dir = dir;
    t->spec_json = loaded ? loaded : xstrdup(spec_json);
    if (fileio_mkdirs(dir, 0700) < 0 ||
        fileio_replace(spec_path, t->spec_json, strlen(t->spec_json), 0600) < 0)
        fprintf(stderr, "spmig agent: %s: %s\n", dir, strerror(errno));
    free(spec_path);
    t->next = a->tasks;
    a->tasks = t;
    return t;
}

void agent_each_task_dir(struct agent *a,
                         void (*fn)(struct agent *a, const char *id, const char *dir, void *ctx),
                         void *ctx)
{
    char *tasks_dir = xasprintf("%s/tasks", a->work_dir);
    DIR *d = opendir(tasks_dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!agent_task_id_ok(de->d_name))
            continue;
        char *dir = xasprintf("%s/%s", tasks_dir, de->d_name);
        fn(a, de->d_name, dir, ctx);
        free(dir);
    }
    if (d)
        closedir(d);
    free(tasks_dir);
}

/* Whether the task's last round has an end the server has not taken yet (a->mu held). */
static bool agent_end_pending(const struct agent_task *t)
{
    char *end = xasprintf("%s/end.json", t->dir);
    bool pending = access(end, F_OK) == 0;
    free(end);
    return pending;
}

/* Holds a task an earlier run left paused (a "paused" marker beside task.json), or whose
 * round's end is still to be sent: the heartbeat lists both, so the server neither runs
 * them again nor gives their slot away. */
static void agent_load_held(struct agent *a, const char *id, const char *dir, void *ctx)
{
    (void)ctx;
    char *marker = xasprintf("%s/paused", dir);
    char *end = xasprintf("%s/end.json", dir);
    bool paused = access(marker, F_OK) == 0;
    if (paused || access(end, F_OK) == 0) {
        pthread_mutex_lock(&a->mu);
        struct agent_task *t = agent_task_get(a, id, NULL);
        if (t) {
            t->paused = paused;
            t->gone = !paused;
        }
        pthread_mutex_unlock(&a->mu);
        if (t && paused)
            fprintf(stderr, "spmig agent: task %s: paused, waiting for resume\n", id);
    }
    free(end);
    free(marker);
}

static void agent_apply(struct agent *a, const struct agent_wire_order *o)
{
    if (!agent_task_id_ok(o->task_id)) {
        fprintf(stderr, "spmig agent: an order for a task id it cannot use was left out\n");
        return;
    }
    pthread_mutex_lock(&a->mu);
    struct agent_task *t = agent_find(a, o->task_id);
    switch (o->kind) {
    case AGENT_WIRE_RUN:
    case AGENT_WIRE_RESUME:
        if (t && t->running && !t->done)
            break;
        if (t && t->running) {
            /* Its last round is over (paused, or its end taken) but the thread not joined
             * yet: joined now, else the order would be dropped as one for a running task. */
            pthread_mutex_unlock(&a->mu);
            pthread_join(t->thread, NULL);
            pthread_mutex_lock(&a->mu);
            t->running = false;
        }
        if (!t && o->kind == AGENT_WIRE_RUN && agent_slots_used(a) >= a->o->max_tasks) {
            fprintf(stderr, "spmig agent: task %s: no free slot, left for the server\n",
                    o->task_id);
            break;
        }
        t = agent_task_get(a, o->task_id, o->task_json);
        if (t)
            agent_start(a, t);
        else
            fprintf(stderr, "spmig agent: resume %s: the task is unknown here\n", o->task_id);
        break;
    case AGENT_WIRE_PAUSE:
        if (t && t->running)
            t->pause = 1;
        break;
    case AGENT_WIRE_CANCEL:
        if (t && t->running) {
            t->cancel = 1;
        } else if (t && t->paused) {
            t->paused = false;
            t->gone = true;
            char *marker = xasprintf("%s/paused", t->dir);
            unlink(marker);
            free(marker);
            agent_task_end(t, t->last.round, "Cancelled", "", NULL);
        }
        break;
    }
    pthread_mutex_unlock(&a->mu);
}

/* Joins the task threads that returned; forgets tasks that are over and whose end the
 * server has taken. */
static void agent_reap(struct agent *a)
{
    pthread_mutex_lock(&a->mu);
    for (struct agent_task **pp = &a->tasks; *pp;) {
        struct agent_task *t = *pp;
        if (t->running && t->done && t->seq == t->posted_seq) {
            pthread_mutex_unlock(&a->mu);
            pthread_join(t->thread, NULL);
            pthread_mutex_lock(&a->mu);
            t->running = false;
        }
        if (!t->running && t->gone && !agent_end_pending(t)) {
            *pp = t->next;
            free(t->id);
            free(t->dir);
            free(t->spec_json);
            free(t);
            continue;
        }
        pp = &t->next;
    }
    pthread_mutex_unlock(&a->mu);
}

/* The heartbeat's body: the tasks this agent holds (running, paused, or over with an end
 * not yet taken: a task left out is sent again as a run) and its free slots. */
static char *agent_heartbeat_body(struct agent *a)
{
    pthread_mutex_lock(&a->mu);
    struct agent_wire_running run[AGENT_MAX_TASKS * 2];
    size_t n = 0;
    for (struct agent_task *t = a->tasks; t && n < AGENT_MAX_TASKS * 2; t = t->next)
        if (t->running || t->paused || t->gone)
            run[n++] = (struct agent_wire_running){
                .id = t->id,
                .state = t->running && t->last.phase == MIGRATE_SCANNING ? "Scanning"
                         : !t->running && t->paused                      ? "Paused"
                                                                         : "InProgress",
            };
    int free_slots = a->o->max_tasks - agent_slots_used(a);
    char *body = agent_wire_heartbeat_body(SPMIG_VERSION, run, n, free_slots < 0 ? 0 : free_slots);
    pthread_mutex_unlock(&a->mu);
    return body;
}

/* -- the main loop --------------------------------------------------------------------------- */

static int agent_loop(struct agent *a)
{
    const struct agent_options *o = a->o;
    struct httpc_options ho = {
        .max_attempts = 2, .timeout_s = AGENT_WAIT_S + 30, .cancel = o->stop};
    struct httpc *h = httpc_create(&ho);
    if (!h)
        return 2;
    int backoff_s = 1, heartbeat_s = 1, rc = 0;
    while (!*o->stop) {
        agent_reap(a);
        char *body = agent_heartbeat_body(a);
        char path[64];
        snprintf(path, sizeof path, "/api/mm/agent/heartbeat?wait=%d", AGENT_WAIT_S);
        struct httpc_response r;
        int got = agent_call(a, h, "POST", path, a->cred.credential, NULL, body, strlen(body), &r);
        free(body);
        if (got == 0 && r.status == 401) {
            fprintf(stderr, "spmig agent: the server refused the credential: %s\n",
                    r.body.data ? r.body.data : "");
            httpc_response_finish(&r);
            if (!o->token || agent_register(a, h) < 0) {
                fprintf(stderr, "spmig agent: the agent's trust is gone; register it again\n");
                rc = 2;
                break;
            }
            continue;
        }
        if (got < 0 || !agent_ok(r.status)) {
            if (got < 0 && *o->stop) {
                httpc_response_finish(&r);
                break;
            }
            fprintf(stderr, "spmig agent: heartbeat: %s; again in %d s\n",
                    got < 0 ? r.error : "the server refused it", backoff_s);
            httpc_response_finish(&r);
            agent_sleep(o->stop, backoff_s * 1000);
            backoff_s = backoff_s * 2 > AGENT_BACKOFF_MAX_S ? AGENT_BACKOFF_MAX_S : backoff_s * 2;
            continue;
        }
        backoff_s = 1;
        struct agent_wire_order *orders;
        size_t n;
        if (agent_wire_parse_heartbeat(r.body.data, r.body.len, &orders, &n, &heartbeat_s) == 0) {
            for (size_t i = 0; i < n; i++)
                agent_apply(a, &orders[i]);
            agent_wire_orders_free(orders, n);
        }
        httpc_response_finish(&r);
        /* The long poll paces the loop; a server that answers at once gets a short pause. */
        agent_sleep(o->stop, heartbeat_s > 1 ? 200 : 100);
    }
    httpc_destroy(h);
    return rc;
}

/* Pauses every running task at a package boundary and waits for it. */
static void agent_pause_all(struct agent *a)
{
    pthread_mutex_lock(&a->mu);
    for (struct agent_task *t = a->tasks; t; t = t->next)
        if (t->running)
            t->pause = 1;
    pthread_mutex_unlock(&a->mu);
    for (;;) {
        agent_reap(a);
        bool any = false;
        pthread_mutex_lock(&a->mu);
        for (struct agent_task *t = a->tasks; t; t = t->next)
            any |= t->running;
        pthread_mutex_unlock(&a->mu);
        if (!any)
            break;
        agent_sleep(NULL, 100);
    }
}

int agent_run(const struct agent_options *o)
{
    struct agent a = {.o = o};
    pthread_mutex_init(&a.mu, NULL);
    int rc = 2;
    size_t blen = strlen(o->server);
    while (blen && o->server[blen - 1] == '/')
        blen--;
    a.base = xstrndup(o->server, blen);
    if (o->work_dir) {
        a.work_dir = xstrdup(o->work_dir);
    } else {
        char *sd = state_default_dir();
        a.work_dir = xasprintf("%s/agent/%s", sd, o->name);
        free(sd);
    }
    a.cred_path = xasprintf("%s/agent.json", a.work_dir);
    struct agent_wire_share shares[AGENT_MAX_SHARES];
    char errs[AGENT_MAX_SHARES][128];
    pthread_t poster;
    bool poster_started = false;
    if (agent_check_shares(o, shares, errs) == 0) {
        fprintf(stderr, "spmig agent: no share is readable; not starting\n");
        goto out;
    }
    if (fileio_mkdirs(a.work_dir, 0700) < 0) {
        fprintf(stderr, "spmig agent: %s: %s\n", a.work_dir, strerror(errno));
        goto out;
    }
    char err[AGENT_WIRE_ERR];
    int got = agent_wire_credential_load(a.cred_path, &a.cred, err);
    if (got < 0)
        fprintf(stderr, "spmig agent: %s; registering again\n", err);
    if (got == 0 && strcmp(a.cred.name, o->name) != 0) {
        fprintf(stderr, "spmig agent: %s belongs to agent %s; registering as %s\n", a.cred_path,
                a.cred.name, o->name);
        agent_wire_credential_finish(&a.cred);
        got = 1;
    }
    if (got != 0) {
        struct httpc_options ho = {.max_attempts = 6};
        struct httpc *h = httpc_create(&ho);
        int reg = h ? agent_register(&a, h) : -1;
        httpc_destroy(h);
        if (reg < 0)
            goto out;
    } else {
        fprintf(stderr, "spmig agent: agent %s (%s), credential from %s\n", a.cred.name, a.cred.id,
                a.cred_path);
    }
    if (pthread_create(&poster, NULL, agent_post_main, &a) != 0) {
        fprintf(stderr, "spmig agent: cannot start a thread\n");
        goto out;
    }
    poster_started = true;
    agent_each_task_dir(&a, agent_load_held, NULL);
    fprintf(stderr, "spmig agent: ready, %d task slots\n", o->max_tasks);
    rc = agent_loop(&a);
    fprintf(stderr, "spmig agent: stopping: running tasks pause at a package boundary\n");
    agent_pause_all(&a);
out:
    if (poster_started) {
        a.poster_stop = 1;
        pthread_join(poster, NULL);
    }
    while (a.tasks) {
        struct agent_task *t = a.tasks;
        a.tasks = t->next;
        free(t->id);
        free(t->dir);
        free(t->spec_json);
        free(t);
    }
    agent_wire_credential_finish(&a.cred);
    free(a.cred_path);
    free(a.work_dir);
    free(a.base);
    pthread_mutex_destroy(&a.mu);
    return rc;
}
