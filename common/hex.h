/*
 * hex.h: lowercase hex encoding of bytes, and decoding of either case.
 */
#ifndef SPMIG_HEX_H
#define SPMIG_HEX_H

#include <stddef.h>

/* Writes 2*n lowercase hex characters and a NUL into out. */
void hex_encode(const void *data, size_t n, char *out);
/* Decodes exactly 2*n characters into n bytes; returns 0, or -1 on a non-hex character. */
int hex_decode(const char *s, size_t n, unsigned char *out);

#endif
