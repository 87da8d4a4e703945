/*
 * agent_wire.h: what `spmig agent` says to and reads from spmigd's /api/mm/agent routes
 * (docs/migration-manager.md): the JSON bodies it sends, the orders, task specs and answers
 * it parses, and its credential file. No I/O but the credential file; agent.c does the HTTP.
 */
#ifndef SPMIG_AGENT_WIRE_H
#define SPMIG_AGENT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate.h"

#define AGENT_WIRE_ERR 256

/* A task as the server hands it out: where from, where to, and its settings. Strings are
 * malloc'ed (NULL when absent); agent_wire_task_finish frees them. */
struct agent_wire_task {
    char *id, *name;
    char *source;                      /* "source" */
    char *site_url, *library, *folder; /* "destination": {"siteUrl", "library", "folder"} */
    char *token; /* "accessToken" for the site, or NULL (see agent.c for the fallback) */
    int round;   /* the round the server expects (0 first) */
    bool scan_only, preserve_permissions, skip_hidden, skip_invalid_chars;
    int64_t created_after_ms, modified_after_ms; /* 0: none */
    char *skip_extensions;                       /* "txt:exe" */
    char replace_char;                           /* '\0': none */
};

void agent_wire_task_finish(struct agent_wire_task *t);

/*
 * Parses a task spec (a JSON object's text). 0, or -1 with err when it is not an object, has
 * no id, source or site, or a setting has the wrong type or an invalid value. On failure t
 * holds nothing to free.
 */
int agent_wire_task_parse(const char *json, size_t len, struct agent_wire_task *t,
                          char err[AGENT_WIRE_ERR]);

enum agent_wire_order_kind {
    AGENT_WIRE_RUN,
    AGENT_WIRE_PAUSE,
    AGENT_WIRE_RESUME,
    AGENT_WIRE_CANCEL,
};

struct agent_wire_order {
    enum agent_wire_order_kind kind;
    char *task_id;   /* every order */
    char *task_json; /* run: the task spec as received (for agent_wire_task_parse and to keep) */
};

/*
 * Parses a heartbeat answer {"orders": [...], "heartbeatSeconds": N}. Orders it cannot read
 * are left out (one line each on stderr). *orders is a malloc'ed array of *n (free with
 * agent_wire_orders_free); *heartbeat_s is left alone when the answer has none. 0, or -1 when
 * the body is not a JSON object.
 */
int agent_wire_parse_heartbeat(const char *body, size_t len, struct agent_wire_order **orders,
                               size_t *n, int *heartbeat_s);
void agent_wire_orders_free(struct agent_wire_order *o, size_t n);

/* A progress answer's order for the task: AGENT_WIRE_PAUSE, AGENT_WIRE_CANCEL, or -1 for
 * none (go on). Reads {"order": "pause"|"cancel"} or {"state": "Paused"|"Cancelled"}. */
int agent_wire_parse_progress_answer(const char *body, size_t len);

/* The register answer: the agent's id and credential, malloc'ed. 0, or -1 with err. */
int agent_wire_parse_register(const char *body, size_t len, char **id, char **credential,
                              char err[AGENT_WIRE_ERR]);

/* One share as the agent checked it. */
struct agent_wire_share {
    const char *path;
    bool readable;
    const char *error; /* why not, or NULL */
};

/* A task as the heartbeat reports it. */
struct agent_wire_running {
    const char *id;
    const char *state; /* "Scanning", "InProgress", "Paused" */
};

/* Request bodies (malloc'ed JSON text). */
/* host: the machine's name as the agents list shows it (NULL: none). */
char *agent_wire_register_body(const char *name, const char *group, const char *version,
                               const char *host, const struct agent_wire_share *shares, size_t n,
                               int max_tasks);
char *agent_wire_heartbeat_body(const char *version, const struct agent_wire_running *tasks,
                                size_t n, int free_slots);
char *agent_wire_progress_body(const struct migrate_progress *p);
/* counts may be NULL (an end without a round run here, such as a paused task cancelled). */
char *agent_wire_end_body(int round, const char *status, const char *reason,
                          const struct migrate_progress *counts);

/* migrate_result's status in the contract's words: "Completed with issues" becomes
 * "CompletedWithIssues"; the others are the same. Static strings. */
const char *agent_wire_status(const char *migrate_status);

/* The agent's credential file (<work dir>/agent.json, mode 0600). */
struct agent_wire_credential {
    char *server, *name, *id, *credential;
};

/* Writes it whole (fileio_replace, mode 0600). 0, or -1 with errno set. */
int agent_wire_credential_save(const char *path, const struct agent_wire_credential *c);
/* Reads it: 0 with every field malloc'ed, 1 when there is no file, -1 when it cannot be read
 * or is not one (err says why). */
int agent_wire_credential_load(const char *path, struct agent_wire_credential *c,
                               char err[AGENT_WIRE_ERR]);
/* Frees the fields, wiping the credential first. */
void agent_wire_credential_finish(struct agent_wire_credential *c);

#endif
