/*
 * agent_internal.h: what agent.c (orders, task threads, the heartbeat) and agent_post.c (the
 * poster of progress, reports and ends) share: an agent's and a task's records and the HTTP
 * and timing functions. Not an interface: agent.h is.
 */
#ifndef SPMIG_AGENT_INTERNAL_H
#define SPMIG_AGENT_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "agent_wire.h"
#include "http.h"
#include "migrate.h"

#define AGENT_TASK_ID_MAX 64 /* task ids name folders and URL segments */

struct agent;

struct agent_task {
    struct agent *a;
    char *id, *dir, *spec_json;
    pthread_t thread;
    bool running; /* a thread runs migrate_run (joined by the main thread when done) */
    bool done;    /* the thread has returned, not joined yet */
    bool paused;  /* the last round ended paused: the task keeps its slot */
    bool gone;    /* finished for good: removed once joined */
    volatile sig_atomic_t pause, cancel;
    struct migrate_progress last; /* under a->mu */
    uint64_t seq, posted_seq;
    int64_t posted_ms;
    struct agent_task *next;
};

struct agent {
    const struct agent_options *o;
    char *base;     /* the server without a trailing '/' */
    char *work_dir; /* created */
    char *cred_path;
    struct agent_wire_credential cred;
    pthread_mutex_t mu;
    struct agent_task *tasks;
    bool ended; /* a round ended since the poster last looked (a->mu): post its end at once */
    volatile sig_atomic_t poster_stop;
};

/* Monotonic time, ms. */
int64_t agent_mono_ms(void);
/* Sleeps ms milliseconds in small steps; false when stop was set meanwhile. */
bool agent_sleep(const volatile sig_atomic_t *stop, int ms);
/* Whether a task id may name a folder and a URL segment ([A-Za-z0-9_-], at most 64). */
bool agent_task_id_ok(const char *id);
/* One request to /api/mm/ with a bearer token; 0 with r filled, -1 when no answer came. */
int agent_call(struct agent *a, struct httpc *h, const char *method, const char *path,
               const char *bearer, const char *content_type, const void *body, size_t len,
               struct httpc_response *r);
bool agent_ok(long status);
/* Calls fn for each folder under <work dir>/tasks named like a task id. */
void agent_each_task_dir(struct agent *a,
                         void (*fn)(struct agent *a, const char *id, const char *dir, void *ctx),
                         void *ctx);

/* The poster thread (agent_post.c): progress at most once a second per task, then, for every
 * task folder with an end.json, the round's reports and its end. arg: the struct agent; it
 * runs until a->poster_stop, then tries once more. */
void *agent_post_main(void *arg);

#endif
