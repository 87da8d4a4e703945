/*
 * migrate.h: `spmig migrate`, one round of a migration from a source folder into a SharePoint
 * document library: scan, package, encrypt, upload in parallel, submit, follow the report
 * queue, record outcomes in the state file, write the round's reports. The options are also
 * those of `spmig package` (pkgdir.h).
 */
#ifndef SPMIG_MIGRATE_H
#define SPMIG_MIGRATE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* migrate_run's exit codes. */
#define MIGRATE_EXIT_OK     0 /* every item migrated, unchanged or filtered out */
#define MIGRATE_EXIT_ISSUES 1 /* some items failed: the reports say which */
#define MIGRATE_EXIT_FATAL  2 /* the round stopped on a fatal error (or was cancelled) */
#define MIGRATE_EXIT_PAUSED 3 /* paused at a package boundary: the next run resumes the round */

enum migrate_phase { MIGRATE_SCANNING, MIGRATE_IN_PROGRESS };

/* A round's counts as the progress hook sees them. Items are files and folders. */
struct migrate_progress {
    int round;
    enum migrate_phase phase; /* Scanning until the walk is over, then InProgress */
    uint64_t files_scanned, bytes_scanned;
    uint64_t to_migrate, bytes_to_migrate; /* items and file bytes this round sends */
    uint64_t migrated, bytes_migrated;     /* settled as migrated */
    uint64_t failed;                       /* failed, scan failures included */
    uint64_t files_to_migrate, files_migrated, files_failed; /* the same, files only */
};

/* What a round ended with (filled in by migrate_run when result is set). */
struct migrate_result {
    int round;
    char status[32];  /* "Completed", "Completed with issues", "Failed", "Paused", "Cancelled" */
    char reason[512]; /* a Failed round's one line, else "" */
    char report_dir[4096];
};

struct migrate_options {
    const char *source;     /* the folder to migrate */
    const char *site_url;   /* "http://127.0.0.1:8080/sites/hr" */
    const char *list_title; /* the library's title; NULL: "Documents" */
    const char *folder;     /* folder under the library root, '/'-separated; NULL: the root */
    const char *report_dir; /* NULL: "<state dir>/reports/<state file name>" */
    const char *state_dir;  /* NULL: state_default_dir() */
    const char *token;
    const char *user_domain; /* for owners' logins; NULL: "contoso.com" */
    int parallel;            /* upload connections (1..64) */
    bool skip_hidden;
    bool progress;      /* redraw a progress line on stderr */
    int max_attempts;   /* HTTP attempts per request (0: 6) */
    long job_timeout_s; /* longest silence of a submitted job (0: 600) */
    const volatile sig_atomic_t *cancel;
    /* Set (non-zero) to pause: no new package is cut, those in flight are settled, and the
     * round returns MIGRATE_EXIT_PAUSED with its state saved, to be resumed by the next run. */
    const volatile sig_atomic_t *pause;

    /* Migration Manager's task settings (scan.h has the filters' details). */
    bool scan_only; /* scan and write the reports (what would be migrated), send nothing */
    bool preserve_permissions; /* recorded in the summary only: ACLs are not carried */
    int64_t created_after_ms, modified_after_ms; /* files older are filtered out; 0: off */
    const char *skip_extensions;                 /* "txt:exe", no dots, any case */
    bool skip_invalid_chars; /* filter out names with invalid characters (MM's "off") */
    char replace_char;       /* '\0', or the character invalid ones become */
    /* When set (an agent passes its task id), new items' UniqueId and list item GUID are
     * name-based ids of the seed and the item's source path (uuid_v8_name) instead of random
     * ones, so that a round finished elsewhere without the state file keeps them. */
    const char *id_seed;
    /* Called from any thread with the round's counts at least every second and at every
     * package boundary; it must be quick and thread-safe. NULL: none. */
    void (*on_progress)(void *ctx, const struct migrate_progress *p);
    void *progress_ctx;
    struct migrate_result *result; /* NULL, or filled in when the round returns */
    int first_round; /* the number of a state file's first round (an agent's task moved
                        from another agent continues its round); 0 by default */
};

/* Runs one round. Returns an exit code: MIGRATE_EXIT_OK, MIGRATE_EXIT_ISSUES,
 * MIGRATE_EXIT_FATAL (one line on stderr) or MIGRATE_EXIT_PAUSED. */
int migrate_run(const struct migrate_options *o);

#endif
