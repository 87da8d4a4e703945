/*
 * b64.h: standard base64 (RFC 4648, with padding), strict on decode: any character outside
 * the alphabet, wrong padding or a length that is not a multiple of 4 is an error.
 */
#ifndef SPMIG_B64_H
#define SPMIG_B64_H

#include <stddef.h>

/* Encodes n bytes; returns a NUL-terminated string the caller frees. */
char *b64_encode(const void *data, size_t n);
/* Encodes into out, which holds at least b64_encoded_len(n) + 1 bytes; returns the length. */
size_t b64_encode_to(const void *data, size_t n, char *out);
size_t b64_encoded_len(size_t n);
/*
 * Decodes len characters of s. Returns a buffer the caller frees (NUL-terminated for
 * convenience, the terminator not counted in *out_len), or NULL if s is not valid base64.
 */
unsigned char *b64_decode(const char *s, size_t len, size_t *out_len);
/* Decodes into out (of size cap); returns the decoded length or -1 if invalid or too long. */
long b64_decode_to(const char *s, size_t len, unsigned char *out, size_t cap);

#endif
