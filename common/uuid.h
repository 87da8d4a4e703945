/*
 * uuid.h: GUIDs as 16 bytes in the order they are written (RFC 4122, not Microsoft's
 * mixed-endian struct layout): random version-4 ids, name-based version-8 ids, strict parsing of
 * the text form and lowercase formatting, as SharePoint writes them.
 */
#ifndef SPMIG_UUID_H
#define SPMIG_UUID_H

#include <stdbool.h>

#define UUID_LEN     16
#define UUID_STR_LEN 36                 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
#define UUID_BUF     (UUID_STR_LEN + 1) /* with the NUL */

/* A random (version 4, RFC 4122 variant) id from the OpenSSL RNG. */
void uuid_v4(unsigned char out[UUID_LEN]);
/*
 * A name-based id (RFC 9562 version 8, RFC 4122 variant): the first 16 bytes of the SHA-256 of
 * seed, one NUL byte and name, with the version and variant bits set. The same seed and name
 * give the same id on every machine; the NUL keeps ("ab", "c") and ("a", "bc") apart.
 */
void uuid_v8_name(const char *seed, const char *name, unsigned char out[UUID_LEN]);
/*
 * Parses the 36-character form, hex digits of either case, optionally inside one pair of
 * braces ("{...}"). Anything else (no hyphens, wrong positions, spaces, trailing bytes,
 * "urn:uuid:") is -1 and leaves out untouched; 0 on success.
 */
int uuid_parse(const char *s, unsigned char out[UUID_LEN]);
/* Writes the lowercase 36-character form and a NUL. */
void uuid_format(const unsigned char u[UUID_LEN], char out[UUID_BUF]);
/* True when all 16 bytes are zero (the nil GUID). */
bool uuid_is_nil(const unsigned char u[UUID_LEN]);

#endif
