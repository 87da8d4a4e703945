/*
 * mm_store.h: Migration Manager's state in SQLite (schema 009): groups, agents and their
 * credential hashes, tasks with their queue place, round, progress and own settings, the
 * orders waiting for agents, the global settings and the report files. Every change of a
 * task's state is one transaction here; the rules that choose (which agent may take which
 * task, when an agent is lost) are mm_dispatch's. No HTTP and no JSON shaping here.
 */
#ifndef SPMIG_MM_STORE_H
#define SPMIG_MM_STORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "spmig_limits.h"
#include "uuid.h"

enum mm_rc {
    MM_OK = 0,
    MM_NOT_FOUND,
    MM_CONFLICT, /* the state does not allow it (409) */
    MM_FORBIDDEN,
    MM_INVALID,
    MM_FULL, /* a limit was reached */
    MM_ERROR,
};

struct mm_agent {
    int64_t seq;
    char id[UUID_BUF];
    char *name, *friendly_name, *group, *version, *host;
    char *shares; /* JSON [{"path","readable","error"}] */
    bool enabled, deleted, has_hash;
    unsigned char hash[CRYPTO_SHA256_LEN];
    int64_t used_ms, seen_ms, activity_ms, created_ms;
    int max_tasks, free;
    int64_t trustee; /* the principal whose admin credential made the trust */
};

struct mm_task {
    int64_t seq;
    char id[UUID_BUF];
    char *name, *source, *site, *library, *folder, *group;
    char *settings; /* the task's own settings, a JSON object */
    bool scan, resume;
    int64_t schedule_ms; /* 0: none */
    char status[24];
    int64_t queued_ms;
    char agent[UUID_BUF]; /* "" when none */
    char *ran_by;         /* the name of the agent that took it last, or NULL */
    int round, reruns;
    int64_t files_scanned, bytes_scanned, files_total, bytes_total, files_migrated, bytes_migrated,
        files_failed;
    int64_t created_ms, started_ms, completed_ms; /* 0: not yet */
    char *failure_reason;                         /* NULL: none */
};

struct mm_report {
    char name[LIMIT_MM_REPORT_NAME + 1];
    int round;
    int64_t size, stored; /* its bytes; deflated as kept */
    uint32_t crc32;
    int64_t created_ms;
};

void mm_agent_finish(struct mm_agent *a);
void mm_task_finish(struct mm_task *t);

/* ---- settings and groups ---- */

/* The global settings object (a new cJSON the caller deletes). */
cJSON *mm_store_settings_get(void);
int mm_store_settings_put(const cJSON *settings);

bool mm_store_group_exists(const char *name);
/* Calls fn for every group with its agent count, by name. */
int mm_store_group_each(void (*fn)(void *ctx, const char *name, int agents), void *ctx);
int mm_store_group_add(const char *name);    /* MM_OK, MM_CONFLICT (exists) */
int mm_store_group_delete(const char *name); /* MM_OK, MM_NOT_FOUND, MM_CONFLICT */

/* ---- agents ---- */

int mm_store_agent_get(const char *id, struct mm_agent *out); /* MM_OK, MM_NOT_FOUND */
int mm_store_agent_by_name(const char *name, struct mm_agent *out);
/* Live (not deleted) agents after seq, at most max; fn owns nothing. */
int mm_store_agent_list(int64_t after, int max, void (*fn)(void *ctx, const struct mm_agent *a),
                        void *ctx);
/* Live agents of a group (all groups when group is NULL). */
int mm_store_agent_each(const char *group, void (*fn)(void *ctx, const struct mm_agent *a),
                        void *ctx);
/* Registers a (the name, friendly name, host, version, group, shares, max_tasks) with the
 * secret's hash: a deleted or absent name makes/takes over the row, keeping its id; a->id
 * receives it. The caller checked that the name is free. */
int mm_store_agent_register(struct mm_agent *a, const unsigned char hash[CRYPTO_SHA256_LEN]);
/* PATCH: any of enabled (-1 leaves it), group, friendly_name (NULL leaves it). */
int mm_store_agent_update(const char *id, int enabled, const char *group,
                          const char *friendly_name);
/* Revokes the trust and sends its running tasks back to the queue. */
int mm_store_agent_delete(const char *id);
/* A call by the agent: liveness, credential use, version and free slots (free < 0 or
 * version NULL leave them). */
int mm_store_agent_touch(const char *id, const char *version, int free);
/* Liveness only, not a use of the credential: the end of a long poll that began before the
 * emulator clock jumped must not renew a trust the jump expired. */
int mm_store_agent_seen(const char *id);
/* Ids of the tasks an agent holds (Scanning, InProgress, Paused) into fn; returns how many. */
int mm_store_agent_tasks(const char *id,
                         void (*fn)(void *ctx, const char *task, const char *status), void *ctx);
/* Marks every agent seen now (at start: each gets the timeout and grace to come back). */
int mm_store_agents_revive(void);

/* ---- tasks ---- */

/* Inserts tasks[0..n) in one transaction (ids filled in, status Queued or Scheduled).
 * MM_CONFLICT when one duplicates an existing task (*bad its index), MM_FULL when the
 * tenant would hold more than LIMIT_MM_TASKS. Nothing is inserted unless MM_OK. */
int mm_store_task_insert(struct mm_task *tasks, size_t n, size_t *bad);
/* Whether a task with this source and destination exists. */
bool mm_store_task_duplicate(const struct mm_task *t);
int64_t mm_store_task_count(void);
int mm_store_task_get(const char *id, struct mm_task *out); /* MM_OK, MM_NOT_FOUND */

struct mm_task_filter {
    const char *status; /* NULL: any */
    const char *search; /* substring of name, source or destination; NULL: none */
    int scan;           /* -1 any, 0 migrations, 1 scans */
};
/* Tasks after seq in seq order, at most max, into fn (which owns nothing). Returns how many
 * were given, or -1. */
int mm_store_task_list(const struct mm_task_filter *f, int64_t after, int max,
                       void (*fn)(void *ctx, const struct mm_task *t), void *ctx);
/* Admin actions; live_agent tells whether an agent counts as connected. MM_OK, MM_NOT_FOUND,
 * MM_CONFLICT. */
int mm_store_task_run(const char *id, bool (*live_agent)(const struct mm_agent *a));
int mm_store_task_pause(const char *id, bool (*live_agent)(const struct mm_agent *a));
int mm_store_task_cancel(const char *id);
int mm_store_task_delete(const char *id);

/* Agent reports. caller is the calling agent's id: MM_FORBIDDEN when the task is not its. */
struct mm_progress {
    int round;
    const char *status; /* Scanning or InProgress */
    int64_t files_scanned, bytes_scanned, files_total, bytes_total, files_migrated, bytes_migrated,
        files_failed;
};
/* Records progress; *order receives "pause", "cancel" or NULL (static strings). */
int mm_store_task_progress(const char *id, const char *caller, const struct mm_progress *p,
                           const char **order);
/* Closes a round with status (Completed, CompletedWithIssues, Failed, Paused, Cancelled);
 * a Failed task with auto rerun on is queued again for up to LIMIT_MM_AUTO_RERUNS rounds. */
int mm_store_task_end(const char *id, const char *caller, const struct mm_progress *p,
                      const char *status, const char *reason, bool auto_rerun);

/* ---- dispatch ---- */

/* Assigns to agent up to slots Queued tasks of its group whose source holds(ctx, source)
 * accepts, oldest first; each becomes Scanning on agent and is handed to fn. Returns how
 * many. */
int mm_store_dispatch(const char *agent, const char *group, int slots,
                      bool (*holds)(void *ctx, const char *source), void *hctx,
                      void (*fn)(void *ctx, const struct mm_task *t), void *ctx);
/* Pops the agent's waiting orders into fn(kind, task id). */
int mm_store_orders_pop(const char *agent,
                        void (*fn)(void *ctx, const char *kind, const char *task), void *ctx);
/* Queues Scheduled tasks whose time came; returns how many (or -1). */
int mm_store_schedules_due(int64_t now);
/* Sends back to the queue the running tasks of agents deleted or not seen since
 * lost_before; returns how many (or -1). */
int mm_store_requeue_lost(int64_t lost_before);

/* ---- reports ---- */

/* A report as it is kept: deflated (mm_zip_deflate), with the length and CRC-32 of its bytes. */
struct mm_report_body {
    const void *deflated;
    size_t stored, size;
    uint32_t crc32;
};
/* Stores (replacing) a report of task. MM_NOT_FOUND, MM_FORBIDDEN, MM_FULL (too many). */
int mm_store_report_put(const char *task, const char *caller, const char *name, int round,
                        const struct mm_report_body *b);
/* The task's reports by name into fn. */
int mm_store_report_list(const char *task, void (*fn)(void *ctx, const struct mm_report *r),
                         void *ctx);
/* A report as kept: *deflated (malloc'd, the caller frees) with its stored length, and the
 * length and CRC-32 of its bytes in *r. MM_OK or MM_NOT_FOUND. */
int mm_store_report_get(const char *task, const char *name, void **deflated, struct mm_report *r);

#endif
