/*
 * jobs.h: migration jobs as the database keeps them (the queue the import workers take from,
 * states, attempts), each job's event log (for GetMigrationJobProgress), the names handed out
 * by Provision*, and the in-memory registry of job keys. A key is never written anywhere: it
 * lives here from CreateMigrationJobEncrypted until the job ends, then it is wiped.
 */
#ifndef SPMIG_JOBS_H
#define SPMIG_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOBS_KEY_LEN 32

enum job_state { JOB_ENDED = 0, JOB_QUEUED = 2, JOB_PROCESSING = 4 };

struct job {
    char uuid[37];
    int64_t site_id;
    char web_uuid[37];
    char *source_uri, *manifest_uri, *queue_uri; /* queue_uri may be NULL */
    bool encrypted;
    int state;
    int attempt; /* 1 for the first run */
    int64_t owner_id;
    int64_t created_ms, started_ms, ended_ms;
};
void job_finish(struct job *j);

/* Records a new queued job (uuid filled in by the caller). 0 or -1. */
int jobs_create(const struct job *j);
/* 0, or -1 if there is no such job. */
int jobs_get(const char *uuid, struct job *out);
/* Takes the oldest queued job: marks it processing, counts an attempt. 1 taken, 0 none, -1. */
int jobs_claim(struct job *out);
int jobs_end(const char *uuid);
/* Removes a queued job; returns 1 if it was queued and is gone, 0 if not queued, -1. */
int jobs_delete_queued(const char *uuid);
/* Calls fn for each queued or processing job of a site. */
int jobs_each_active(int64_t site_id, void (*fn)(void *ctx, const struct job *j), void *ctx);
/* Calls fn for at most max jobs, newest first, after skipping skip of them (a page of the
 * list). Returns how many it called fn for. */
int jobs_each_page(int64_t skip, unsigned max, void (*fn)(void *ctx, const struct job *j),
                   void *ctx);
/* At start: every job left processing goes back to queued. Returns how many. */
int jobs_requeue_interrupted(void);

/* Event log: appends json (time_ms of the event); returns the new sequence number or -1. */
int64_t jobs_log_append(const char *uuid, int64_t time_ms, const char *json);
/* Whether the job's log holds an event named event ("JobStart"). */
bool jobs_log_has(const char *uuid, const char *event);
/* Events with seq > after, at most max, in order; *last gets the last seq seen (after if
 * none). */
int jobs_log_read(const char *uuid, int64_t after, unsigned max,
                  void (*fn)(void *ctx, const char *json), void *ctx, int64_t *last);

/* Keys, in memory only. put copies key; get copies it out (false if none); drop wipes it. */
void jobs_key_put(const char *uuid, const unsigned char key[JOBS_KEY_LEN]);
bool jobs_key_get(const char *uuid, unsigned char key[JOBS_KEY_LEN]);
void jobs_key_drop(const char *uuid);
/* Wipes every key (at stop). */
void jobs_keys_wipe(void);

#endif
