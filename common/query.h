/*
 * query.h: percent-decoding and -encoding, and the URL query string. The parser keeps every
 * pair in order, duplicates included, so callers can refuse a duplicated field; it owns the
 * decoded strings. It is the first code that sees client bytes on every request, and it is
 * fuzzed.
 */
#ifndef SPMIG_QUERY_H
#define SPMIG_QUERY_H

#include <stdbool.h>
#include <stddef.h>

struct query_pair {
    char *name;  /* decoded, NUL-terminated */
    char *value; /* decoded, NUL-terminated ("" for "name" or "name=") */
};

struct query {
    struct query_pair *pairs;
    size_t n;
};

/*
 * Percent-decodes len bytes of s into a new string (the caller frees it), '+' decoded as a
 * space when plus_is_space. Returns NULL for a malformed escape, a decoded NUL byte, or a
 * result that is not UTF-8 text XML can carry (sp_names_xml_text_valid).
 * *out_len (if given) receives the decoded length.
 */
char *query_decode(const char *s, size_t len, bool plus_is_space, size_t *out_len);

/*
 * Parses "a=1&b=2" (no leading '?'); empty segments ("a=1&&b=2") are skipped; names and
 * values are decoded with '+' as a space. Returns 0, or -1 on a malformed escape, a NUL, more
 * than LIMIT_QUERY_PARAMS pairs or more than LIMIT_URI_BYTES of input (so no value is longer);
 * on -1 q is left empty. Release with query_finish.
 */
int query_parse(const char *raw, size_t len, struct query *q);
void query_finish(struct query *q);
/* First value of name (case-sensitive), or NULL. */
const char *query_get(const struct query *q, const char *name);
/* Like query_get but ignores the case of name (Azure's comp=, restype= are matched so). */
const char *query_get_ci(const struct query *q, const char *name);
/* How many times name (case-sensitive) appears. */
size_t query_count(const struct query *q, const char *name);

/*
 * Percent-encodes s for use in a URL query value or one path segment (unreserved characters
 * kept, everything else %XX uppercase). The caller frees the result.
 */
char *query_encode(const char *s);
/* The same for a URL path of several segments: '/' is kept too. The caller frees the result. */
char *query_encode_path(const char *s);

#endif
