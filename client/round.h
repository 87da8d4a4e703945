/*
 * round.h: what the threads of one `spmig migrate` round share: the round itself (target,
 * state file, reports, the queue of files to upload, the packages in flight, the first fatal
 * error) and how a package's items are settled. migrate.c runs the main thread, upload.c the
 * upload workers, follow.c the report queue's reader; each takes the round's mutex for what
 * it changes here.
 */
#ifndef SPMIG_ROUND_H
#define SPMIG_ROUND_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aes.h"
#include "azure.h"
#include "http.h"
#include "migrate.h"
#include "package_write.h"
#include "packager.h"
#include "report.h"
#include "sp.h"
#include "state.h"
#include "uuid.h"

#define ROUND_IN_FLIGHT 8 /* packages between provisioning and JobEnd */
#define ROUND_RESUBMITS 3 /* submits of a package again after the server lost its key */

/* Result categories of ItemReport. */
#define ROUND_CAT_SCAN   "SCAN FILE FAILURE"
#define ROUND_CAT_PACK   "PACKAGING FAILURE"
#define ROUND_CAT_UPLOAD "UPLOADING FAILURE"
#define ROUND_CAT_SUBMIT "SUBMITTING FAILURE"
#define ROUND_CAT_SERVER "SERVER FAILURE"

/* A package on its way: provisioned, uploading, submitted, then settled. */
struct job {
    struct pack *p;
    struct azc_sas data, meta;
    unsigned char key[AES_KEY_LEN];
    char job_id[UUID_BUF]; /* "" until submitted */
    size_t files_left;
    int64_t last_event; /* mono ms of submit or the last event */
    bool fatal_event;   /* JobFatalError seen */
    bool key_lost;      /* ... sent in plain: the server lost the job's key (it restarted) */
    int resubmits;      /* times submitted again after a lost key */
    char *fatal_msg;
    struct job *next;
};

struct task {
    struct job *job;
    size_t idx;
    struct task *next;
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
    bool paused; /* the pause request stopped the walk */
    char fatal[512];
    /* progress */
    uint64_t items_seen, items_settled, bytes_to_send, bytes_sent, packages;
    uint64_t files_scanned, bytes_scanned, migrated, bytes_migrated, failed;
    uint64_t files_to_send, files_migrated, files_failed;
    int64_t started;
};

/* Calls the options' progress hook (if any) with the round's counts. */
void round_progress(struct run *r);

/* Wall clock and monotonic time, ms. */
int64_t round_now_ms(void);
int64_t round_mono_ms(void);

/* Records the first fatal error (or "interrupted" after Ctrl-C) and stops every thread. */
void round_fatal(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether the round is stopping (Ctrl-C counts). */
bool round_stopping(struct run *r);
/* An HTTP client for one thread with the round's retry settings. */
struct httpc *round_http(const struct run *r);
/* One ItemReport row for o (p and job_id may be NULL). */
void round_report(struct run *r, const struct pack *p, const struct pack_obj *o, const char *job_id,
                  const char *status, const char *category, const char *code, const char *msg);
/* Marks every item of j not failed yet. */
void round_fail_all(struct job *j, const char *category, const char *code, const char *msg);
/* Settles every item of j (failed ones as marked, the rest migrated): state, reports, one
 * package slot freed; frees j. */
void round_settle(struct run *r, struct job *j);
void round_job_free(struct job *j);
/* The package writer's view of a target; its strings point into t and source. */
struct pkgw_target round_pkgw_target(const struct spc_target *t, const char *source);
/* The source as an absolute path without a trailing '/'; NULL with err. */
char *round_source_root(const char *source, char err[512]);

#endif
