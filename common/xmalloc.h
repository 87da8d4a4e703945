/*
 * xmalloc.h: allocation for small internal sizes. Out of memory aborts with a message;
 * sizes chosen by a client are bounded by the caller first (see spmig_limits.h) so they never reach
 * here unchecked. Everything returned is freed with free().
 */
#ifndef SPMIG_XMALLOC_H
#define SPMIG_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
