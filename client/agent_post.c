/*
 * agent_post.c: `spmig agent`'s poster thread: each task's latest counts to the progress
 * route (obeying the pause or cancel its answer carries), and every round's reports and end
 * from the task folders that hold an end.json, until the server has taken them. Task threads
 * and orders are agent.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_internal.h"
#include "report.h"
#include "xmalloc.h"

static void agent_post_progress(struct agent *a, struct httpc *h)
{
    int64_t now = agent_mono_ms();
    for (;;) {
        struct agent_task *pick = NULL;
        struct migrate_progress p;
        pthread_mutex_lock(&a->mu);
        /* A task whose round is over gets its last counts at once (before its end). */
        for (struct agent_task *t = a->tasks; t; t = t->next)
            if (t->running && t->seq != t->posted_seq && (t->done || now - t->posted_ms >= 1000)) {
                pick = t;
                p = t->last;
                t->posted_seq = t->seq;
                t->posted_ms = now;
                break;
            }
        char *id = pick ? xstrdup(pick->id) : NULL;
        pthread_mutex_unlock(&a->mu);
        if (!pick)
            return;
        char *body = agent_wire_progress_body(&p);
        char *path = xasprintf("/api/mm/agent/tasks/%s/progress", id);
        struct httpc_response r;
        int got = agent_call(a, h, "POST", path, a->cred.credential, NULL, body, strlen(body), &r);
        if (got == 0 && (agent_ok(r.status) || r.status == 404)) {
            /* 404: the task was deleted; stop it. */
            int order = r.status == 404 ? AGENT_WIRE_CANCEL
                                        : agent_wire_parse_progress_answer(r.body.data, r.body.len);
            pthread_mutex_lock(&a->mu);
            for (struct agent_task *t = a->tasks; t; t = t->next)
                if (strcmp(t->id, id) == 0 && order == AGENT_WIRE_PAUSE)
                    t->pause = 1;
                else if (strcmp(t->id, id) == 0 && order == AGENT_WIRE_CANCEL)
                    t->cancel = 1;
            pthread_mutex_unlock(&a->mu);
        }
        httpc_response_finish(&r);
        free(path);
        free(body);
        free(id);
    }
}

/* Whether an answer closes a report or an end: taken (2xx), or never to be: the task is
 * deleted (404), in another round (409) or no longer this agent's (403: sent back to the
 * queue while this agent was away, and taken by another). */
static bool agent_post_closed(int got, long status)
{
    return got == 0 && (agent_ok(status) || status == 403 || status == 404 || status == 409);
}

/* Uploads the round's reports and posts its end for one task folder holding end.json. 0 when
 * the server has it all (or will never take it), -1 to try again later. */
static int agent_post_end(struct agent *a, struct httpc *h, const char *id, const char *dir)
{
    char *end_path = xasprintf("%s/end.json", dir);
    char buf[4096];
    FILE *f = fopen(end_path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    int round = 0;
    const char *rp = strstr(buf, "\"round\":");
    if (rp)
        round = atoi(rp + 8);
    static const char *const names[][2] = {
        {"ItemReport", "csv"},    {"ItemFailureReport", "csv"}, {"ScanSummary", "csv"},
        {"SummaryReport", "csv"}, {"summary", "json"},
    };
    char *report_dir = xasprintf("%s/reports", dir);
    int rc = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && rc == 0; i++) {
        char *file = report_path(report_dir, names[i][0], round, names[i][1]);
        char *data = NULL;
        size_t len = 0;
        FILE *rf = fopen(file, "rb");
        if (rf) {
            struct stat st;
            if (fstat(fileno(rf), &st) == 0 && st.st_size < (off_t)HTTPC_BODY_MAX) {
                data = xmalloc((size_t)st.st_size + 1);
                len = fread(data, 1, (size_t)st.st_size, rf);
            }
            fclose(rf);
        }
        if (data) {
            const char *base = strrchr(file, '/') + 1;
            char *path = xasprintf("/api/mm/agent/tasks/%s/reports/%s", id, base);
            struct httpc_response r;
            int got = agent_call(a, h, "PUT", path, a->cred.credential,
                                 strcmp(names[i][1], "json") == 0 ? "application/json"
                                                                  : "text/csv; charset=utf-8",
                                 data, len, &r);
            if (!agent_post_closed(got, r.status))
                rc = -1;
            httpc_response_finish(&r);
            free(path);
            free(data);
        }
        free(file);
    }
    if (rc == 0) {
        char *path = xasprintf("/api/mm/agent/tasks/%s/end", id);
        struct httpc_response r;
        int got = agent_call(a, h, "POST", path, a->cred.credential, NULL, buf, n, &r);
        if (!agent_post_closed(got, r.status))
            rc = -1;
        else
            unlink(end_path);
        httpc_response_finish(&r);
        free(path);
    }
    free(report_dir);
    free(end_path);
    return rc;
}

/* A task folder with an unsent end, this run's or an earlier one's: sent unless its thread
 * still runs or its last counts are not posted yet. */
static void agent_post_dir(struct agent *a, const char *id, const char *dir, void *ctx)
{
    struct httpc *h = ctx;
    bool running = false;
    pthread_mutex_lock(&a->mu);
    for (struct agent_task *t = a->tasks; t; t = t->next)
        if (strcmp(t->id, id) == 0 && t->running && (!t->done || t->seq != t->posted_seq))
            running = true;
    pthread_mutex_unlock(&a->mu);
    char *end = xasprintf("%s/end.json", dir);
    if (!running && access(end, F_OK) == 0)
        agent_post_end(a, h, id, dir);
    free(end);
}

static void agent_post_ends(struct agent *a, struct httpc *h)
{
    agent_each_task_dir(a, agent_post_dir, h);
}

void *agent_post_main(void *arg)
{
    struct agent *a = arg;
    struct httpc_options ho = {.max_attempts = 2, .timeout_s = 60};
    struct httpc *h = httpc_create(&ho);
    int64_t last_flush = 0;
    while (h && !a->poster_stop) {
        /* Taken before the last counts go, so the end follows them in the same pass. */
        pthread_mutex_lock(&a->mu);
        bool ended = a->ended;
        a->ended = false;
        pthread_mutex_unlock(&a->mu);
        agent_post_progress(a, h);
        if (ended || agent_mono_ms() - last_flush >= 2000) {
            agent_post_ends(a, h);
            last_flush = agent_mono_ms();
        }
        agent_sleep(&a->poster_stop, 250);
    }
    if (h) {
        agent_post_progress(a, h);
        agent_post_ends(a, h); /* a last try; what fails waits for the next start */
    }
    httpc_destroy(h);
    return NULL;
}
