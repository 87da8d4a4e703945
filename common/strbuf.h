/*
 * strbuf.h: a growable byte buffer with a maximum fixed at creation. Appending past the
 * maximum fails (returns -1) and leaves the buffer as it was; the caller turns that into its
 * own error (413 for bodies). The buffer is always NUL-terminated.
 */
#ifndef SPMIG_STRBUF_H
#define SPMIG_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *data; /* NUL-terminated, owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* 0 = unbounded (internal use only) */
};

void strbuf_init(struct strbuf *sb, size_t max);
void strbuf_finish(struct strbuf *sb);
int strbuf_append(struct strbuf *sb, const void *data, size_t n);
int strbuf_puts(struct strbuf *sb, const char *s);
int strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with XML's five special characters escaped. */
int strbuf_xml_escape(struct strbuf *sb, const char *s);
/* Hands the data to the caller (who frees it) and resets the buffer. Never NULL. */
char *strbuf_steal(struct strbuf *sb);

#endif
