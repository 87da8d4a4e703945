/*
 * mm_bulk.h: Migration Manager's bulk task files: the six-column CSV (optional header, BOM,
 * CRLF, quoted fields; columns B and C empty for file shares) and the JSON
 * {"Tasks":[{"SourcePath","TargetPath","TargetList","TargetListRelativePath","Settings"}]}.
 * Parsing and the checks that need nothing but the bytes; every problem is kept with its
 * task (line) and column, worded as Migration Manager words it ("Task 3, parameter 1. The
 * source path should not be empty"). Whether a site exists or a task is a duplicate is
 * asked through callbacks, so the parser stays pure (and fuzzable).
 */
#ifndef SPMIG_MM_BULK_H
#define SPMIG_MM_BULK_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct mm_bulk_row {
    int task; /* the CSV line where the row starts, or the JSON task's index, from 1 */
    char *source, *site, *library, *folder; /* site server-relative ("/sites/hr") */
    cJSON *settings;                        /* checked settings, or NULL */
};

struct mm_bulk {
    struct mm_bulk_row *rows;
    size_t n, cap;
    cJSON *problems; /* [{"task","column","message"}] (column 0: the whole task) */
    size_t nproblems;
};

void mm_bulk_init(struct mm_bulk *b);
void mm_bulk_finish(struct mm_bulk *b);

/* Parses data[0..n) as CSV (json false) or JSON into b: rows, or problems. Never fails
 * otherwise; b->nproblems tells. */
void mm_bulk_parse(struct mm_bulk *b, const char *data, size_t n, bool json);

/* The checks against the tenant: a site that does not exist, a task that duplicates one
 * of the tenant's (dup) or an earlier row. Adds problems to b. */
void mm_bulk_check(struct mm_bulk *b, bool (*site_exists)(void *ctx, const char *site),
                   bool (*dup)(void *ctx, const struct mm_bulk_row *r), void *ctx);

/* A site URL as a server-relative path ("https://x/sites/hr/" -> "/sites/hr"); a new
 * string, or NULL when it is not a URL or a path. */
char *mm_bulk_site_path(const char *url);
/* A source path Migration Manager takes: \\server\share..., or an absolute path. */
bool mm_bulk_source_ok(const char *s);

#endif
