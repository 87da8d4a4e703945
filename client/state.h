/*
 * state.h: the client's incremental state file (SQLite, schema/client/): the rounds of a
 * migration, every item with the ids its packages gave it, and each item's outcome in the
 * round being reported. Reruns ask it what changed; resumed rounds ask it what is done. One
 * process at a time holds a state file. Thread-safe (one connection behind a mutex).
 */
#ifndef SPMIG_STATE_H
#define SPMIG_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "uuid.h"

#define STATE_ERR 512

struct state;

/*
 * Opens (creating it, mode 0600, and its folder) the state file at path and locks it for this
 * process. NULL with err when it cannot be opened or another process holds it.
 */
struct state *state_open(const char *path, char err[STATE_ERR]);
void state_close(struct state *s);

/* The default state folder: $XDG_STATE_HOME/spmig, else $HOME/.local/state/spmig (malloc'ed). */
char *state_default_dir(void);
/*
 * "<dir>/<16 hex digits of SHA-256 of the key parts>.db" (malloc'ed): one file per source and
 * destination, the destination named by its ids (web and library) so that a server moving to
 * another address keeps its state.
 */
char *state_file_path(const char *dir, const char *source, const char *web_id, const char *list_id,
                      const char *folder);

/* Meta values: get returns a malloc'ed copy or NULL. */
char *state_meta_get(struct state *s, const char *key);
int state_meta_set(struct state *s, const char *key, const char *value);

/*
 * Starts a round: resumes the last one if it never ended (*resumed true), else begins the next
 * (0 for the first). Returns 0 with *round set.
 */
int state_round_begin(struct state *s, int64_t now_ms, int *round, bool *resumed);
/* The same, but a new round is numbered at least min_round (a task that continues elsewhere
 * keeps its round numbers). */
int state_round_begin_at(struct state *s, int64_t now_ms, int min_round, int *round, bool *resumed);
int state_round_end(struct state *s, int round, int64_t now_ms, const char *status);

struct state_item {
    bool known; /* a row exists */
    bool is_folder;
    char unique_id[UUID_BUF], item_id[UUID_BUF];
    bool migrated; /* migrated in some round: size and mtime_ns are what was sent */
    int64_t size, mtime_ns;
    int migrated_round, reported_round; /* -1 when never */
    char outcome[16];                   /* in reported_round, or "" */
};

/* Seeds the ids of items made from now on (NULL: random ids); see state_item_ids. */
void state_set_id_seed(struct state *s, const char *seed);

/* A new item's UniqueId and list item GUID: random without a seed, else name-based ids
 * (uuid_v8_name) of "<seed>/<file|folder>/UniqueId" (and ".../ListItemId") and rel, the same
 * on every machine. */
void state_item_ids(const char *seed, const char *rel, bool is_folder, char unique_id[UUID_BUF],
                    char item_id[UUID_BUF]);

/*
 * The item at rel; when there is none, one is made with fresh ids (and remembered), so the ids
 * stay the same whatever happens next. Returns 0, -1 on a database error.
 */
int state_item(struct state *s, const char *rel, bool is_folder, struct state_item *out);

/* The outcome of rel in round: "migrated" (size and mtime_ns become what was migrated),
 * "failed", "skipped" or "filtered"; bytes is what the summary counts for it. */
int state_outcome(struct state *s, const char *rel, int round, const char *outcome, int64_t bytes,
                  int64_t size, int64_t mtime_ns);

/* Groups writes into one transaction (nestable; the mutex is held in between). */
void state_batch_begin(struct state *s);
int state_batch_end(struct state *s);

/* Items and bytes per outcome reported in round. */
struct state_counts {
    uint64_t migrated, failed, skipped, filtered;
    uint64_t migrated_bytes, failed_bytes, skipped_bytes;
};
int state_counts(struct state *s, int round, struct state_counts *out);

#endif
