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
};

/* Runs one round. Returns the exit code: 0 every item migrated (or unchanged), 1 some
 * failed (the reports say which), 2 a fatal error (one line on stderr). */
int migrate_run(const struct migrate_options *o);

#endif
