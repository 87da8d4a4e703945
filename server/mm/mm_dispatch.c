/*
 * mm_dispatch.c: who may take which task, and when. The matching rules (agent state, share
 * holds source by path component, free slots), the wake generation heartbeats wait on, and
 * the sweeper thread (scheduled tasks, lost agents) that polls the store twice a second on
 * the emulator clock. It keeps no task in memory and shapes no JSON.
 */
#include "mm_dispatch.h"
#include "clock.h"
#include "gate.h"
#include "log.h"
#include "spmig_limits.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SWEEP_EVERY_MS 500

static unsigned timeout_s = 30, grace_s = 60;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static uint64_t generation;
static bool stopping, started;
static pthread_t sweeper;

void mm_dispatch_init(unsigned timeout, unsigned grace)
{
    timeout_s = timeout ? timeout : 1;
    grace_s = grace;
}

unsigned mm_dispatch_timeout_s(void)
{
    return timeout_s;
}

void mm_dispatch_wake(void)
{
    pthread_mutex_lock(&lock);
    generation++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

uint64_t mm_dispatch_generation(void)
{
    pthread_mutex_lock(&lock);
    uint64_t g = generation;
    pthread_mutex_unlock(&lock);
    return g;
}

static void abs_time(int64_t real_ms, struct timespec *ts)
{
    /* clock_real_ms is CLOCK_REALTIME, which is what pthread_cond_timedwait uses. */
    ts->tv_sec = real_ms / 1000;
    ts->tv_nsec = (long)(real_ms % 1000) * 1000000L;
}

uint64_t mm_dispatch_wait(uint64_t gen, int64_t deadline)
{
    struct timespec ts;
    abs_time(deadline, &ts);
    gate_wait_begin(); /* a long poll needs no request slot while it waits */
    pthread_mutex_lock(&lock);
    while (generation == gen && !stopping && clock_real_ms() < deadline)
        pthread_cond_timedwait(&cond, &lock, &ts);
    uint64_t g = generation;
    pthread_mutex_unlock(&lock);
    gate_wait_end();
    return g;
}

bool mm_dispatch_stopping(void)
{
    pthread_mutex_lock(&lock);
    bool s = stopping;
    pthread_mutex_unlock(&lock);
    return s;
}

static bool is_sep(char c)
{
    return c == '\\' || c == '/';
}

bool mm_dispatch_share_holds(const char *share, const char *source)
{
    size_t n = strlen(share);
    while (n > 0 && is_sep(share[n - 1]))
        n--; /* "\\srv\share\" holds what "\\srv\share" holds */
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char a = share[i], b = source[i];
        if (b == '\0')
            return false;
        if (is_sep(a) ? !is_sep(b) : tolower((unsigned char)a) != tolower((unsigned char)b))
            return false;
    }
    return source[n] == '\0' || is_sep(source[n]);
}

bool mm_dispatch_shares_hold(const char *shares_json, const char *source)
{
    cJSON *arr = cJSON_Parse(shares_json);
    bool yes = false;
    const cJSON *s;
    cJSON_ArrayForEach(s, arr)
    {
        const cJSON *path = cJSON_GetObjectItem(s, "path");
        if (cJSON_IsTrue(cJSON_GetObjectItem(s, "readable")) && cJSON_IsString(path) &&
            mm_dispatch_share_holds(path->valuestring, source)) {
            yes = true;
            break;
        }
    }
    cJSON_Delete(arr);
    return yes;
}

bool mm_dispatch_live(const struct mm_agent *a)
{
    return !a->deleted && clock_now_ms() - a->seen_ms <= (int64_t)timeout_s * 1000;
}

const char *mm_dispatch_agent_state(const struct mm_agent *a, int running)
{
    if (!mm_dispatch_live(a))
        return "Disconnected";
    if (!a->enabled)
        return "Disabled";
    if (running >= a->max_tasks)
        return "InUse";
    return "Enabled";
}

int mm_dispatch_slots(const struct mm_agent *a, int running)
{
    if (!mm_dispatch_live(a) || !a->enabled)
        return 0;
    int slots = a->max_tasks - running;
    if (a->free >= 0 && a->free < slots)
        slots = a->free;
    return slots > 0 ? slots : 0;
}

/* The readable share paths of an agent, parsed once per dispatch. */
struct readable {
    const char *path[LIMIT_MM_SHARES];
    int n;
};

static bool holds(void *ctx, const char *source)
{
    const struct readable *r = ctx;
    for (int i = 0; i < r->n; i++)
        if (mm_dispatch_share_holds(r->path[i], source))
            return true;
    return false;
}

int mm_dispatch_assign(const struct mm_agent *a, void (*fn)(void *ctx, const struct mm_task *t),
                       void *ctx)
{
    int running = mm_store_agent_tasks(a->id, NULL, NULL);
    int slots = mm_dispatch_slots(a, running);
    if (slots <= 0)
        return 0;
    cJSON *arr = cJSON_Parse(a->shares);
    struct readable r = {.n = 0};
    const cJSON *s;
    cJSON_ArrayForEach(s, arr)
    {
        const cJSON *path = cJSON_GetObjectItem(s, "path");
        if (r.n < LIMIT_MM_SHARES && cJSON_IsTrue(cJSON_GetObjectItem(s, "readable")) &&
            cJSON_IsString(path))
            r.path[r.n++] = path->valuestring;
    }
    int n = r.n ? mm_store_dispatch(a->id, a->group, slots, holds, &r, fn, ctx) : 0;
    cJSON_Delete(arr);
    return n;
}

struct reason_ctx {
    const char *source;
    int agents, live, holding;
};

static void reason_agent(void *ctx, const struct mm_agent *a)
{
    struct reason_ctx *r = ctx;
    r->agents++;
    if (!mm_dispatch_live(a) || !a->enabled)
        return;
    r->live++;
    if (mm_dispatch_shares_hold(a->shares, r->source))
        r->holding++;
}

void mm_dispatch_waiting_reason(const struct mm_task *t, char *out, size_t cap)
{
    out[0] = '\0';
    if (strcmp(t->status, "Queued") != 0)
        return;
    struct reason_ctx r = {.source = t->source};
    mm_store_agent_each(t->group, reason_agent, &r);
    if (r.agents == 0)
        snprintf(out, cap, "No agent is in the group %s.", t->group);
    else if (r.live == 0)
        snprintf(out, cap, "No agent of the group %s is enabled and connected.", t->group);
    else if (r.holding == 0)
        snprintf(out, cap, "No agent of the group %s has a readable share that holds the source.",
                 t->group);
    else
        snprintf(out, cap, "Waiting for a free agent of the group %s.", t->group);
}

int mm_dispatch_sweep(int64_t now)
{
    int due = mm_store_schedules_due(now);
    int lost = mm_store_requeue_lost(now - (int64_t)(timeout_s + grace_s) * 1000);
    int n = (due > 0 ? due : 0) + (lost > 0 ? lost : 0);
    if (lost > 0)
        log_info("mm: %d task(s) of lost agents back in the queue", lost);
    if (n > 0)
        mm_dispatch_wake();
    return n;
}

static void *sweeper_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        bool stop = stopping;
        pthread_mutex_unlock(&lock);
        if (stop)
            break;
        mm_dispatch_sweep(clock_now_ms());
        struct timespec ts;
        abs_time(clock_real_ms() + SWEEP_EVERY_MS, &ts);
        pthread_mutex_lock(&lock);
        if (!stopping)
            pthread_cond_timedwait(&cond, &lock, &ts);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int mm_dispatch_start(unsigned timeout, unsigned grace)
{
    mm_dispatch_init(timeout, grace);
    if (mm_store_agents_revive() != MM_OK)
        return -1;
    stopping = false;
    if (pthread_create(&sweeper, NULL, sweeper_main, NULL) != 0) {
        log_error("mm: cannot start the dispatcher thread");
        return -1;
    }
    started = true;
    return 0;
}

void mm_dispatch_stop(void)
{
    if (!started)
        return;
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    pthread_join(sweeper, NULL);
    started = false;
}
