/*
 * uuid.c: GUID generation, parsing and formatting. Only the text form and the 16 bytes: it
 * does not know which object a GUID names, and comparisons are plain memcmp on the bytes.
 */
#include "uuid.h"
#include "crypto.h"
#include "hex.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* Offsets of the hyphens in the 36-character form. */
static const int hyphen_at[4] = {8, 13, 18, 23};

void uuid_v4(unsigned char out[UUID_LEN])
{
    crypto_random(out, UUID_LEN);
    out[6] = (unsigned char)((out[6] & 0x0f) | 0x40); /* version 4 */
    out[8] = (unsigned char)((out[8] & 0x3f) | 0x80); /* variant 10xx */
}

void uuid_v8_name(const char *seed, const char *name, unsigned char out[UUID_LEN])
{
    size_t ns = strlen(seed), nn = strlen(name);
    unsigned char *buf = xmalloc(ns + 1 + nn);
    memcpy(buf, seed, ns);
    buf[ns] = 0;
    memcpy(buf + ns + 1, name, nn);
    unsigned char h[CRYPTO_SHA256_LEN];
    if (crypto_sha256(buf, ns + 1 + nn, h) != 0)
        abort(); /* SHA-256 of memory cannot fail but for a broken OpenSSL */
    free(buf);
    memcpy(out, h, UUID_LEN);
    out[6] = (unsigned char)((out[6] & 0x0f) | 0x80); /* version 8 */
    out[8] = (unsigned char)((out[8] & 0x3f) | 0x80); /* variant 10xx */
}

int uuid_parse(const char *s, unsigned char out[UUID_LEN])
{
    size_t len = strlen(s);
    if (len == UUID_STR_LEN + 2 && s[0] == '{' && s[len - 1] == '}') {
        s++;
        len -= 2;
    }
    if (len != UUID_STR_LEN)
        return -1;
    for (int i = 0; i < 4; i++)
        if (s[hyphen_at[i]] != '-')
            return -1;
    /* The five groups, as (offset, bytes). hex_decode refuses anything but hex digits. */
    static const int group[5][2] = {{0, 4}, {9, 2}, {14, 2}, {19, 2}, {24, 6}};
    unsigned char tmp[UUID_LEN];
    int at = 0;
    for (int g = 0; g < 5; g++) {
        if (hex_decode(s + group[g][0], (size_t)group[g][1], tmp + at) < 0)
            return -1;
        at += group[g][1];
    }
    memcpy(out, tmp, UUID_LEN);
    return 0;
}

void uuid_format(const unsigned char u[UUID_LEN], char out[UUID_BUF])
{
    static const int bytes[5] = {4, 2, 2, 2, 6};
    char *p = out;
    int at = 0;
    for (int g = 0; g < 5; g++) {
        if (g)
            *p++ = '-';
        hex_encode(u + at, (size_t)bytes[g], p);
        p += 2 * bytes[g];
        at += bytes[g];
    }
    *p = '\0';
}

bool uuid_is_nil(const unsigned char u[UUID_LEN])
{
    unsigned char acc = 0;
    for (int i = 0; i < UUID_LEN; i++)
        acc |= u[i];
    return acc == 0;
}
