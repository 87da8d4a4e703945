/*
 * sp_path.h: the SharePoint REST path after "_api/": segments such as
 * "web", "lists/getbytitle('Documents')", "GetMigrationJobProgress(jobId='..',nextToken=0)"
 * or "GetFileByServerRelativeUrl(@u)" with "@u='...'" in the query. Names are matched
 * case-insensitively by the caller; argument values are decoded (quotes, doubled quotes,
 * guid'..', aliases). It reads client bytes and is fuzzed.
 */
#ifndef SPMIG_SP_PATH_H
#define SPMIG_SP_PATH_H

#include <stddef.h>

#include "query.h"

#define SP_PATH_MAX_SEGMENTS 16
#define SP_PATH_MAX_ARGS     8

struct sp_arg {
    char *name;  /* NULL for a positional argument */
    char *value; /* decoded */
};

struct sp_segment {
    char *name;
    int has_parens; /* "name()" as opposed to "name" */
    struct sp_arg args[SP_PATH_MAX_ARGS];
    size_t nargs;
};

struct sp_path {
    struct sp_segment seg[SP_PATH_MAX_SEGMENTS];
    size_t n;
};

/*
 * Parses the decoded path after "_api/" (no leading '/'). Aliases ("@name") are looked up in
 * q (their values are quoted literals too). Returns 0, or -1 with a one-line reason in err.
 * On -1 nothing needs freeing; otherwise release with sp_path_finish.
 */
int sp_path_parse(const char *s, const struct query *q, struct sp_path *p, char *err,
                  size_t errlen);
void sp_path_finish(struct sp_path *p);
/* The value of the argument called name (case-insensitive), else the positional one at pos
 * (-1: none), else NULL. */
const char *sp_path_arg(const struct sp_segment *s, const char *name, int pos);

#endif
