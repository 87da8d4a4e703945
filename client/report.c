/*
 * report.c: writes one round's reports (report.h) in Migration Manager's names and column
 * orders: item rows as they come, the summaries (CSV and JSON, each replaced atomically) at
 * the end. It formats and writes; deciding statuses, categories and counts is the caller's.
 *
 * CSV decisions: UTF-8 without a byte order mark (scripts and diff read it as is; Excel's
 * "From Text/CSV" import reads UTF-8 either way), every field in double quotes with '"'
 * doubled, CRLF after each row, line breaks inside a field kept inside the quotes (RFC 4180).
 * A field that starts with '=', '+', '-', '@', a tab or a carriage return gets a leading '\''
 * so that a spreadsheet shows it as text instead of running it as a formula (OWASP's advice on
 * CSV injection); a source name such as "-draft.docx" therefore reads "'-draft.docx".
 */
#include "report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#define REPORT_GB (1024.0 * 1024.0 * 1024.0) /* SPMT's GB columns: 2^30 bytes */

struct report {
    pthread_mutex_t mu;
    char *dir;
    int round;
    char *task_id;
    char *device;
    FILE *items;
    FILE *failures; /* NULL until the first failed item */
    bool append;    /* a resumed round: keep the rows written before */
    int err;        /* the first I/O error (errno), 0 while all is well */
};

static const char *const report_item_cols[] = {
    "Source",         "Destination",      "Item name",
    "Extension",      "Item size",        "Content type",
    "Status",         "Result category",  "Message",
    "Error code",     "Source item ID",   "Destination item ID",
    "Package number", "Migration job ID", "Incremental round",
    "Task ID",        "Device name",
};

static const char *const report_scan_cols[] = {
    "Incremental round",        "Total scanned items",        "Total scanned folders",
    "Total scanned list items", "Total scanned files",        "Folders with issues",
    "Items with issues",        "Items filtered out",         "Folders to be migrated",
    "Items to be migrated",     "Total items to be migrated", "Device name",
};

static const char *const report_summary_cols[] = {
    "Source",
    "Destination",
    "Status",
    "Total bytes",
    "Total GB",
    "Count of files",
    "Migrated bytes",
    "Migrated GB in current round",
    "GB not migrated in current round",
    "Total scanned items",
    "Total to be migrated in current round",
    "Migrated items in current round",
    "Items not migrated in current round",
    "Warning count in current round",
    "Start time",
    "End time",
    "Duration",
    "GB/hour",
    "Round number",
    "Workflow ID",
    "Task ID",
    "Log Path",
};

#define REPORT_NCOLS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- CSV ---- */

/* Appends one quoted field (a ',' first unless it opens the row). NULL is "". */
static void report_csv_field(struct strbuf *sb, const char *s, bool first)
{
    if (!s)
        s = "";
    if (!first)
        strbuf_append(sb, ",", 1);
    strbuf_append(sb, "\"", 1);
    if (s[0] && strchr("=+-@\t\r", s[0]))
        strbuf_append(sb, "'", 1);
    for (const char *p = s; *p; p++) {
        size_t run = strcspn(p, "\"");
        strbuf_append(sb, p, run);
        p += run;
        if (!*p)
            break;
        strbuf_append(sb, "\"\"", 2);
    }
    strbuf_append(sb, "\"", 1);
}

static void report_csv_row(struct strbuf *sb, const char *const *fields, size_t n)
{
    for (size_t i = 0; i < n; i++)
        report_csv_field(sb, fields[i], i == 0);
    strbuf_append(sb, "\r\n", 2);
}

/* ---- files ---- */

/* Replaces path with data (fileio_replace), mode 0644. 0, or -1 with errno set, logged. */
static int report_write_atomic(const char *path, const char *data, size_t len)
{
    if (fileio_replace(path, data, len, 0644) == 0)
        return 0;
    int e = errno;
    log_error("report: cannot write %s: %s", path, strerror(e));
    errno = e;
    return -1;
}

/* Writes sb to f and flushes, so that a crash keeps the row. Records the first error. */
static int report_put(struct report *r, FILE *f, const struct strbuf *sb)
{
    if (r->err) {
        errno = r->err;
        return -1;
    }
    if (fwrite(sb->data, 1, sb->len, f) != sb->len || fflush(f) != 0) {
        r->err = errno ? errno : EIO;
        log_error("report: cannot write to %s: %s", r->dir, strerror(r->err));
        errno = r->err;
        return -1;
    }
    return 0;
}

static FILE *report_create_csv(struct report *r, const char *base)
{
    char *path = report_path(r->dir, base, r->round, "csv");
    FILE *f = fopen(path, r->append ? "ae" : "we");
    if (!f) {
        int e = errno;
        log_error("report: cannot create %s: %s", path, strerror(e));
        free(path);
        errno = e;
        return NULL;
    }
    free(path);
    if (r->append && ftell(f) > 0)
        return f; /* the header is there already */
    struct strbuf sb;
    strbuf_init(&sb, 0);
    report_csv_row(&sb, report_item_cols, REPORT_NCOLS(report_item_cols));
    if (fwrite(sb.data, 1, sb.len, f) != sb.len || fflush(f) != 0) {
        int e = errno ? errno : EIO;
        strbuf_finish(&sb);
        fclose(f);
        errno = e;
        return NULL;
    }
    strbuf_finish(&sb);
    return f;
}

char *report_path(const char *dir, const char *base, int round, const char *ext)
{
    if (!ext || !ext[0])
        return xasprintf("%s/%s_R%d", dir, base, round);
    return xasprintf("%s/%s_R%d.%s", dir, base, round, ext[0] == '.' ? ext + 1 : ext);
}

static struct report *open_round(const char *dir, int round, const char *task_id,
                                 const char *device, bool append)
{
    if (fileio_mkdirs(dir, 0755) != 0) {
        int e = errno;
        log_error("report: cannot create the folder %s: %s", dir, strerror(e));
        errno = e;
        return NULL;
    }
    struct report *r = xcalloc(1, sizeof(*r));
    r->dir = xstrdup(dir);
    r->round = round;
    r->append = append;
    r->task_id = xstrdup(task_id ? task_id : "");
    if (device) {
        r->device = xstrdup(device);
    } else {
        char host[HOST_NAME_MAX + 1] = "";
        if (gethostname(host, sizeof(host)) != 0 || !host[0])
            strcpy(host, "localhost");
        host[HOST_NAME_MAX] = '\0';
        r->device = xstrdup(host);
    }
    pthread_mutex_init(&r->mu, NULL);
    r->items = report_create_csv(r, "ItemReport");
    if (!r->items) {
        int e = errno;
        pthread_mutex_destroy(&r->mu);
        free(r->device), free(r->task_id), free(r->dir), free(r);
        errno = e;
        return NULL;
    }
    if (append)
        return r;
    /* A failure report left by an earlier attempt at this round would tell of failures this
     * attempt may not have: it only exists when this attempt writes it. */
    char *fpath = report_path(dir, "ItemFailureReport", round, "csv");
    unlink(fpath);
    free(fpath);
    return r;
}

struct report *report_open(const char *dir, int round, const char *task_id, const char *device)
{
    return open_round(dir, round, task_id, device, false);
}

struct report *report_resume(const char *dir, int round, const char *task_id, const char *device)
{
    return open_round(dir, round, task_id, device, true);
}

/* ---- items ---- */

/* The last component of a path ('/' or '\\' separated). */
static const char *report_basename(const char *path)
{
    const char *b = path;
    for (const char *p = path; *p; p++)
        if ((*p == '/' || *p == '\\') && p[1])
            b = p + 1;
    return b;
}

int report_item(struct report *r, const struct report_item *it)
{
    const char *name = it->name ? it->name : report_basename(it->source ? it->source : "");
    char size[24], pkg[16], round[16];
    snprintf(size, sizeof(size), "%" PRId64, it->size);
    snprintf(pkg, sizeof(pkg), "%d", it->package_no);
    snprintf(round, sizeof(round), "%d", r->round);
    bool failed = it->status && strcmp(it->status, "Failed") == 0;

    pthread_mutex_lock(&r->mu);
    const char *fields[] = {
        it->source,
        it->destination,
        name,
        it->is_folder ? "" : scan_extension(name),
        size,
        it->is_folder ? "Folder" : "File",
        it->status,
        it->result_category,
        it->message,
        it->error_code,
        it->source_item_id ? it->source_item_id : "N/A",
        it->dest_item_id ? it->dest_item_id : "N/A",
        it->package_no ? pkg : "N/A",
        it->job_id ? it->job_id : "N/A",
        round,
        r->task_id,
        r->device,
    };
    struct strbuf sb;
    strbuf_init(&sb, 0);
    report_csv_row(&sb, fields, REPORT_NCOLS(fields));
    int rc = report_put(r, r->items, &sb);
    if (rc == 0 && failed) {
        if (!r->failures) {
            r->failures = report_create_csv(r, "ItemFailureReport");
            if (!r->failures) {
                r->err = errno;
                rc = -1;
            }
        }
        if (rc == 0)
            rc = report_put(r, r->failures, &sb);
    }
    int e = r->err;
    pthread_mutex_unlock(&r->mu);
    strbuf_finish(&sb);
    if (rc != 0)
        errno = e;
    return rc;
}

/* ---- summaries ---- */

static void report_u64(char out[24], uint64_t v)
{
    snprintf(out, 24, "%" PRIu64, v);
}

static void report_gb(char out[32], uint64_t bytes)
{
    snprintf(out, 32, "%.2f", (double)bytes / REPORT_GB);
}

/*
 * ScanSummary's row from the scan's totals. As in the rest of the set, "items" in a column
 * that has a "folders" sibling means files: Items with issues = files failed, Items to be
 * migrated = files to migrate, Total items to be migrated = files and folders. A file share
 * has no list items (0).
 */
static char *report_scan_csv(const struct report *r, const struct scan_totals *t)
{
    char n[11][24];
    snprintf(n[0], 24, "%d", r->round);
    report_u64(n[1], t->files + t->folders);
    report_u64(n[2], t->folders);
    report_u64(n[3], 0); /* a file share has no list items */
    report_u64(n[4], t->files);
    report_u64(n[5], t->folders_failed);
    report_u64(n[6], t->files_failed);
    report_u64(n[7], t->filtered);
    report_u64(n[8], t->folders_to_migrate);
    report_u64(n[9], t->files_to_migrate);
    report_u64(n[10], t->folders_to_migrate + t->files_to_migrate);
    const char *row[] = {n[0], n[1], n[2], n[3], n[4],  n[5],
                         n[6], n[7], n[8], n[9], n[10], r->device};
    struct strbuf sb;
    strbuf_init(&sb, 0);
    report_csv_row(&sb, report_scan_cols, REPORT_NCOLS(report_scan_cols));
    report_csv_row(&sb, row, REPORT_NCOLS(row));
    return strbuf_steal(&sb);
}

/*
 * SummaryReport's row (SPMT's columns). GB are 2^30 bytes with two decimals; times are UTC in
 * ISO 8601 ("2026-11-22T12:55:53Z"); Duration is HH:MM:SS with hours past 24 as they come;
 * GB/hour is migrated GB over the duration (0 for no time); Items not migrated = failed
 * (skipped items are unchanged, not "not migrated"); GB not migrated = bytes meant to be sent
 * but not imported. The agent has no SPMT workflow: Workflow ID is "N/A".
 */
static char *report_summary_csv(const struct report *r, const struct report_summary *s)
{
    char tb[24], tgb[32], nfiles[24], mb[24], mgb[32], notgb[32], scanned[24], tomig[24];
    char mig[24], notmig[24], warn[24], start[TIMEFMT_BUF], end[TIMEFMT_BUF], dur[32];
    char rate[32], round[16];
    int64_t ms = s->end_ms > s->start_ms ? s->end_ms - s->start_ms : 0;
    report_u64(tb, s->total_bytes);
    report_gb(tgb, s->total_bytes);
    report_u64(nfiles, s->scan.files);
    report_u64(mb, s->migrated_bytes);
    report_gb(mgb, s->migrated_bytes);
    report_gb(notgb, s->to_migrate_bytes > s->migrated_bytes
                         ? s->to_migrate_bytes - s->migrated_bytes
                         : 0);
    report_u64(scanned, s->scan.files + s->scan.folders);
    report_u64(tomig, s->to_migrate);
    report_u64(mig, s->migrated);
    report_u64(notmig, s->failed);
    report_u64(warn, s->warnings);
    timefmt_iso8601(s->start_ms, start);
    timefmt_iso8601(s->end_ms, end);
    snprintf(dur, sizeof(dur), "%02" PRId64 ":%02d:%02d", ms / 3600000, (int)(ms / 60000 % 60),
             (int)(ms / 1000 % 60));
    double hours = (double)ms / 3600000.0;
    snprintf(rate, sizeof(rate), "%.2f",
             hours > 0 ? (double)s->migrated_bytes / REPORT_GB / hours : 0.0);
    snprintf(round, sizeof(round), "%d", r->round);
    const char *row[] = {
        s->source, s->destination, s->status, tb,    tgb,        nfiles,      mb,    mgb,
        notgb,     scanned,        tomig,     mig,   notmig,     warn,        start, end,
        dur,       rate,           round,     "N/A", r->task_id, s->log_path,
    };
    struct strbuf sb;
    strbuf_init(&sb, 0);
    report_csv_row(&sb, report_summary_cols, REPORT_NCOLS(report_summary_cols));
    report_csv_row(&sb, row, REPORT_NCOLS(row));
    return strbuf_steal(&sb);
}

/* The JSON summary; the caller frees it. */
static char *report_json(const struct report *r, const struct report_summary *s)
{
    const struct scan_totals *t = &s->scan;
    char start[TIMEFMT_BUF], end[TIMEFMT_BUF];
    timefmt_iso8601(s->start_ms, start);
    timefmt_iso8601(s->end_ms, end);
    int64_t ms = s->end_ms > s->start_ms ? s->end_ms - s->start_ms : 0;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        abort();
    cJSON_AddNumberToObject(o, "round", r->round);
    cJSON_AddStringToObject(o, "status", s->status ? s->status : "");
    cJSON_AddNumberToObject(o, "scanned", (double)(t->files + t->folders));
    cJSON_AddNumberToObject(o, "to_migrate", (double)s->to_migrate);
    cJSON_AddNumberToObject(o, "migrated", (double)s->migrated);
    cJSON_AddNumberToObject(o, "failed", (double)s->failed);
    cJSON_AddNumberToObject(o, "skipped", (double)s->skipped);
    cJSON_AddNumberToObject(o, "filtered", (double)t->filtered);
    cJSON_AddNumberToObject(o, "warnings", (double)s->warnings);
    cJSON_AddNumberToObject(o, "bytes", (double)s->migrated_bytes);
    cJSON_AddNumberToObject(o, "to_migrate_bytes", (double)s->to_migrate_bytes);
    cJSON_AddNumberToObject(o, "total_bytes", (double)s->total_bytes);
    cJSON_AddNumberToObject(o, "seconds", (double)ms / 1000.0);
    cJSON_AddNumberToObject(o, "packages", (double)s->packages);
    cJSON_AddNumberToObject(o, "jobs", (double)s->jobs);
    cJSON_AddStringToObject(o, "start_time", start);
    cJSON_AddStringToObject(o, "end_time", end);
    cJSON_AddStringToObject(o, "source", s->source ? s->source : "");
    cJSON_AddStringToObject(o, "destination", s->destination ? s->destination : "");
    cJSON_AddStringToObject(o, "task_id", r->task_id);
    cJSON_AddStringToObject(o, "device", r->device);
    cJSON_AddBoolToObject(o, "scan_only", s->scan_only);
    cJSON_AddBoolToObject(o, "preserve_permissions", s->preserve_permissions);
    if (s->failure_reason)
        cJSON_AddStringToObject(o, "failure_reason", s->failure_reason);
    else
        cJSON_AddNullToObject(o, "failure_reason");
    if (s->log_path)
        cJSON_AddStringToObject(o, "log_path", s->log_path);
    else
        cJSON_AddNullToObject(o, "log_path");
    cJSON *sc = cJSON_AddObjectToObject(o, "scan");
    cJSON_AddNumberToObject(sc, "files", (double)t->files);
    cJSON_AddNumberToObject(sc, "folders", (double)t->folders);
    cJSON_AddNumberToObject(sc, "bytes", (double)t->bytes);
    cJSON_AddNumberToObject(sc, "files_to_migrate", (double)t->files_to_migrate);
    cJSON_AddNumberToObject(sc, "folders_to_migrate", (double)t->folders_to_migrate);
    cJSON_AddNumberToObject(sc, "bytes_to_migrate", (double)t->bytes_to_migrate);
    cJSON_AddNumberToObject(sc, "files_failed", (double)t->files_failed);
    cJSON_AddNumberToObject(sc, "folders_failed", (double)t->folders_failed);
    cJSON_AddNumberToObject(sc, "filtered", (double)t->filtered);
    cJSON_AddNumberToObject(sc, "warnings", (double)t->warnings);
    cJSON_AddNumberToObject(sc, "max_path", (double)t->max_path);
    char *text = cJSON_Print(o); /* cJSON's allocator is malloc: freed with free() */
    cJSON_Delete(o);
    if (!text)
        abort();
    return text;
}

/* Closes a report CSV; records the first error. */
static void report_fclose(struct report *r, FILE *f)
{
    if (!f)
        return;
    if ((fflush(f) != 0 || fsync(fileno(f)) != 0) && !r->err)
        r->err = errno ? errno : EIO;
    if (fclose(f) != 0 && !r->err)
        r->err = errno ? errno : EIO;
}

/* s NULL closes the item reports without writing the summaries (a run abandoned before it
 * has anything to summarise). */
int report_close(struct report *r, const struct report_summary *s)
{
    if (!r)
        return 0;
    pthread_mutex_lock(&r->mu);
    report_fclose(r, r->items);
    report_fclose(r, r->failures);
    int rc = r->err ? -1 : 0;
    if (s) {
        struct {
            const char *base, *ext;
            char *text;
        } out[] = {
            {"ScanSummary", "csv", report_scan_csv(r, &s->scan)},
            {"SummaryReport", "csv", report_summary_csv(r, s)},
            {"summary", "json", report_json(r, s)},
        };
        for (size_t i = 0; i < REPORT_NCOLS(out); i++) {
            char *path = report_path(r->dir, out[i].base, r->round, out[i].ext);
            if (report_write_atomic(path, out[i].text, strlen(out[i].text)) != 0)
                rc = -1;
            free(path);
        }
        /* summary.json: the latest round's, next to the round's own. */
        char *latest = xasprintf("%s/summary.json", r->dir);
        if (report_write_atomic(latest, out[2].text, strlen(out[2].text)) != 0)
            rc = -1;
        free(latest);
        for (size_t i = 0; i < REPORT_NCOLS(out); i++)
            free(out[i].text);
    }
    pthread_mutex_unlock(&r->mu);
    pthread_mutex_destroy(&r->mu);
    free(r->device), free(r->task_id), free(r->dir), free(r);
    return rc;
}
