/*
 * query.c: percent-decoding, percent-encoding and the URL query parser of query.h. Every pair
 * is kept in order, duplicates included, and the parser enforces the limits of spmig_limits.h on
 * client bytes. What a parameter means (SAS fields, comp=, restype=) is the caller's business.
 */
#include "query.h"
#include "hex.h"
#include "sp_names.h"
#include "spmig_limits.h"
#include "xmalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *query_decode(const char *s, size_t len, bool plus_is_space, size_t *out_len)
{
    char *out = xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            unsigned char byte;
            if (i + 2 >= len || hex_decode(s + i + 1, 1, &byte) < 0)
                goto fail;
            c = (char)byte;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0')
            goto fail;
        out[n++] = c;
    }
    out[n] = '\0';
    /* A name or value that is not UTF-8, or holds a character XML cannot carry, would be
     * kept and then written into a list that is no longer well-formed. */
    if (!sp_names_xml_text_valid(out))
        goto fail;
    if (out_len)
        *out_len = n;
    return out;

fail:
    free(out);
    return NULL;
}

void query_finish(struct query *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->pairs[i].name);
        free(q->pairs[i].value);
    }
    free(q->pairs);
    q->pairs = NULL;
    q->n = 0;
}

int query_parse(const char *raw, size_t len, struct query *q)
{
    q->pairs = NULL;
    q->n = 0;
    if (len > LIMIT_URI_BYTES)
        return -1;
    size_t cap = 0;
    size_t i = 0;
    while (i <= len) {
        size_t end = i;
        while (end < len && raw[end] != '&')
            end++;
        if (end > i) {
            const char *seg = raw + i;
            size_t seglen = end - i;
            const char *eq = memchr(seg, '=', seglen);
            size_t namelen = eq ? (size_t)(eq - seg) : seglen;
            size_t vallen = eq ? seglen - namelen - 1 : 0;
            if (q->n == LIMIT_QUERY_PARAMS || vallen > LIMIT_URI_BYTES)
                goto fail;
            char *name = query_decode(seg, namelen, true, NULL);
            char *value = name ? query_decode(eq ? eq + 1 : "", vallen, true, NULL) : NULL;
            if (!value) {
                free(name);
                goto fail;
            }
            if (q->n == cap) {
                cap = cap ? cap * 2 : 8;
                q->pairs = xrealloc(q->pairs, cap * sizeof *q->pairs);
            }
            q->pairs[q->n].name = name;
            q->pairs[q->n].value = value;
            q->n++;
        }
        i = end + 1;
    }
    return 0;

fail:
    query_finish(q);
    return -1;
}

const char *query_get(const struct query *q, const char *name)
{
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->pairs[i].name, name) == 0)
            return q->pairs[i].value;
    }
    return NULL;
}

const char *query_get_ci(const struct query *q, const char *name)
{
    for (size_t i = 0; i < q->n; i++) {
        if (strcasecmp(q->pairs[i].name, name) == 0)
            return q->pairs[i].value;
    }
    return NULL;
}

size_t query_count(const struct query *q, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->pairs[i].name, name) == 0)
            n++;
    }
    return n;
}

static char *encode(const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(s);
    char *out = xmalloc(3 * len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 0x0f];
        }
    }
    out[n] = '\0';
    return out;
}

char *query_encode(const char *s)
{
    return encode(s, false);
}

char *query_encode_path(const char *s)
{
    return encode(s, true);
}
