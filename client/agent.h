/*
 * agent.h: `spmig agent`, a Migration Manager agent: it checks its shares, registers with
 * spmigd (or reuses its credential), long-polls the heartbeat for orders, runs each task it
 * is given in its own thread through migrate_run, posts progress, uploads the round's reports
 * and closes the round. The protocol is docs/migration-manager.md; its JSON is agent_wire.h.
 */
#ifndef SPMIG_AGENT_H
#define SPMIG_AGENT_H

#include <signal.h>
#include <stddef.h>

#define AGENT_MAX_SHARES    64
#define AGENT_MAX_TASKS     16 /* --max-tasks' ceiling */
#define AGENT_DEFAULT_TASKS 5  /* --max-tasks when not given, as Migration Manager's agent */
#define AGENT_WAIT_S        20 /* the heartbeat's long poll */
#define AGENT_BACKOFF_MAX_S 30 /* longest pause between heartbeats while the server is away */

struct agent_options {
    const char *server; /* the SharePoint listener, "http://127.0.0.1:8080" */
    const char *name;
    const char *const *shares;
    size_t n_shares;
    const char *group;    /* NULL: the server's Default */
    const char *work_dir; /* NULL: "<state dir>/agent/<name>" */
    int max_tasks;        /* 1..AGENT_MAX_TASKS */
    const char *token;    /* the admin token, or NULL (then agent.json must hold a credential) */
    int parallel;         /* upload connections per task */
    int max_attempts;     /* HTTP attempts per request of a task (0: the default) */
    const char *user_domain;
    const volatile sig_atomic_t *stop; /* set by SIGTERM/SIGINT: pause the tasks and leave */
};

/* Runs the agent until stop is set. Returns 0 after a clean stop, 2 when it cannot start or
 * its trust is gone without a token to register again (one line on stderr). */
int agent_run(const struct agent_options *o);

#endif
