/*
 * b64.c: standard base64 (RFC 4648 with padding) on OpenSSL's EVP_EncodeBlock and
 * EVP_DecodeBlock. OpenSSL's decoder is lenient (it skips white space and counts padding as
 * zero bytes), so every input is checked here first; the URL-safe alphabet is not handled.
 */
#include "b64.h"
#include "xmalloc.h"

#include <assert.h>
#include <stdbool.h>
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

/* EVP_*Block take an int length; larger inputs go through in chunks of this many bytes. */
#define CHUNK_IN  (3 * 1024 * 1024) /* bytes to encode: a multiple of 3 */
#define CHUNK_OUT (4 * 1024 * 1024) /* characters to decode: a multiple of 4 */

size_t b64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

size_t b64_encode_to(const void *data, size_t n, char *out)
{
    const unsigned char *in = data;
    size_t done = 0;
    out[0] = '\0';
    while (n > 0) {
        size_t take = n < CHUNK_IN ? n : CHUNK_IN;
        int w = EVP_EncodeBlock((unsigned char *)out + done, in, (int)take);
        assert(w >= 0 && (size_t)w == b64_encoded_len(take));
        done += (size_t)w;
        in += take;
        n -= take;
    }
    out[done] = '\0';
    return done;
}

char *b64_encode(const void *data, size_t n)
{
    char *out = xmalloc(b64_encoded_len(n) + 1);
    b64_encode_to(data, n, out);
    return out;
}

static bool in_alphabet(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/*
 * Checks that s is strict base64 and returns how many '=' end it (0, 1 or 2), or -1.
 * Non-zero bits under the padding are accepted, as .NET's Convert.FromBase64String and
 * Python's b64decode(validate=True) accept them.
 */
static int check(const char *s, size_t len)
{
    if (len % 4 != 0)
        return -1;
    int pad = 0;
    if (len >= 4 && s[len - 1] == '=') {
        pad = s[len - 2] == '=' ? 2 : 1;
    }
    for (size_t i = 0; i < len - (size_t)pad; i++) {
        if (!in_alphabet((unsigned char)s[i]))
            return -1;
    }
    return pad;
}

/* Decodes len (a multiple of 4, already checked) characters into out, 3 bytes per 4. */
static void decode_raw(const char *s, size_t len, unsigned char *out)
{
    while (len > 0) {
        size_t take = len < CHUNK_OUT ? len : CHUNK_OUT;
        int w = EVP_DecodeBlock(out, (const unsigned char *)s, (int)take);
        assert(w >= 0 && (size_t)w == take / 4 * 3);
        (void)w;
        out += take / 4 * 3;
        s += take;
        len -= take;
    }
}

long b64_decode_to(const char *s, size_t len, unsigned char *out, size_t cap)
{
    int pad = check(s, len);
    if (pad < 0)
        return -1;
    size_t outlen = len / 4 * 3 - (size_t)pad;
    if (outlen > cap || outlen > LONG_MAX)
        return -1;
    if (len == 0)
        return 0;
    /* All quanta but the last go straight to out; the last may carry padding, which OpenSSL
     * writes as zero bytes, so it goes through a small buffer. */
    size_t head = len - 4;
    decode_raw(s, head, out);
    unsigned char last[3];
    decode_raw(s + head, 4, last);
    memcpy(out + head / 4 * 3, last, (size_t)(3 - pad));
    return (long)outlen;
}

unsigned char *b64_decode(const char *s, size_t len, size_t *out_len)
{
    int pad = check(s, len);
    if (pad < 0)
        return NULL;
    size_t full = len / 4 * 3;
    unsigned char *out = xmalloc(full + 1);
    decode_raw(s, len, out);
    size_t n = full - (size_t)pad;
    out[n] = '\0';
    if (out_len)
        *out_len = n;
    return out;
}
