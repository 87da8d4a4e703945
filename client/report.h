/*
 * report.h: the reports of one migration round, in Migration Manager's file names and column
 * orders (migration-manager.md section 4): ItemReport_R<n>.csv (every item attempted),
 * ItemFailureReport_R<n>.csv (failures only, created on the first one), ScanSummary_R<n>.csv,
 * SummaryReport_R<n>.csv, and summary_R<n>.json plus a copy as summary.json (the latest round).
 * CSVs are UTF-8, every field quoted, CRLF line ends. Rows are written as they come, so a
 * crash keeps what was reported; the summaries are written by report_close. Thread-safe.
 */
#ifndef SPMIG_REPORT_H
#define SPMIG_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "scan.h"

/* One row of ItemReport. NULL strings are written as "" (ids and job: "N/A"). */
struct report_item {
    const char *source;          /* the source path, as given plus the relative path */
    const char *destination;     /* the destination url, absolute */
    const char *name;            /* item name; NULL: the last component of source */
    int64_t size;                /* bytes (folders 0) */
    bool is_folder;              /* Content type "Folder" or "File"; Extension "" for folders */
    const char *status;          /* "Migrated", "Failed", "Skipped" or "Filtered out" */
    const char *result_category; /* "", "SCAN FILE FAILURE", "PACKAGING FAILURE",
                                    "UPLOADING FAILURE", "SUBMITTING FAILURE", "SERVER FAILURE" */
    const char *message;
    const char *error_code;     /* "0x0111000B", or "" */
    const char *source_item_id; /* NULL: "N/A" */
    const char *dest_item_id;   /* the UniqueId given in the package; NULL: "N/A" */
    int package_no;             /* 0: "N/A" */
    const char *job_id;         /* NULL: "N/A" */
};

/* What report_close summarises. */
struct report_summary {
    bool scan_only;            /* a scan-only round: nothing was sent */
    bool preserve_permissions; /* the task's setting, recorded (ACLs are not carried) */
    const char *source, *destination;
    const char *status;                    /* "Completed", "Completed with issues", "Failed" */
    const char *failure_reason;            /* a fatal error's one line, or NULL */
    int64_t start_ms, end_ms;              /* wall clock, ms since the epoch */
    struct scan_totals scan;               /* this round's scan */
    uint64_t total_bytes;                  /* all files of the source */
    uint64_t to_migrate, to_migrate_bytes; /* items (files and folders) and file bytes sent
                                              this round */
    uint64_t migrated, migrated_bytes;     /* items imported this round, and their file bytes */
    uint64_t failed;                       /* items that failed, scan failures included */
    uint64_t skipped;                      /* unchanged since an earlier round */
    uint64_t warnings;
    uint64_t packages, jobs;
    const char *log_path; /* or NULL */
};

struct report;

/*
 * Opens the reports of round in dir (created, with parents, if missing; mode 0755), writes
 * ItemReport_R<round>.csv's header. task_id names the migration (a GUID string) and device
 * the machine (NULL: the host name). Returns NULL with errno set when a file cannot be made.
 */
struct report *report_open(const char *dir, int round, const char *task_id, const char *device);

/* The same for a round an earlier run began and did not finish: its rows are kept and new
 * ones appended (ItemReport's header is written only to a new file). */
struct report *report_resume(const char *dir, int round, const char *task_id, const char *device);

/* Appends one item (and to ItemFailureReport when status is "Failed"). 0, or -1 on an I/O
 * error (errno set; later calls keep failing). */
int report_item(struct report *r, const struct report_item *it);

/*
 * Writes ScanSummary, SummaryReport and the JSON summaries, flushes and closes everything and
 * frees r. The JSON holds at least scanned, migrated, failed, skipped, filtered, warnings,
 * bytes (migrated bytes), seconds, round, status, packages, jobs. Returns 0, or -1 when
 * something could not be written (r is freed anyway). report_close(NULL, ...) is a no-op.
 */
int report_close(struct report *r, const struct report_summary *s);

/* The path of a round's file ("<dir>/ItemReport_R<round>.csv"), malloc'ed. */
char *report_path(const char *dir, const char *base, int round, const char *ext);

#endif
