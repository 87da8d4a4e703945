/*
 * sharedkey.c: the SharedKey string-to-sign of Azure Blob and Queue requests (verb, the
 * standard headers, canonicalised x-ms-* headers, canonicalised resource) and parsing of the
 * "SharedKey account:signature" header. Signing and comparing are crypto.c's, and deciding
 * whether the request may proceed is the server's auth_azure.
 */
#include "sharedkey.h"
#include "spmig_limits.h"
#include "strbuf.h"
#include "xmalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The standard headers of the string-to-sign, in order. */
static const char *const standard[] = {
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-MD5",
    "Content-Type",
    "Date",
    "If-Modified-Since",
    "If-Match",
    "If-None-Match",
    "If-Unmodified-Since",
    "Range",
};

/* Versions before this one sign a zero Content-Length as "0" rather than as "". */
#define SV_EMPTY_LENGTH "2015-02-21"

static const char *header(const struct sharedkey_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    }
    return NULL;
}

/*
 * The order of canonicalised header names. The Azure SDK for Python sorts them by this
 * table (its _storage_header_sort), which is what the service expects; for the letters,
 * digits and '-' of ordinary x-ms-* names it is plain byte order. Bytes not in the table
 * sort after all that are, by value.
 */
static int weight(unsigned char c)
{
    static const char order[] = "-!#$%&*.^_|~+\"'(),/`0123456789:;<=>?@"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz{}";
    const char *at = c ? strchr(order, c) : NULL;
    return at ? (int)(at - order) : (int)sizeof order + c;
}

static int name_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        if (!*a || !*b)
            return (unsigned char)*a - (unsigned char)*b;
        int d = weight((unsigned char)*a) - weight((unsigned char)*b);
        if (d)
            return d;
    }
}

struct canon {
    char *name;  /* lowercased */
    char *value; /* canonical value; for query parameters, one of the values */
};

static int canon_cmp_header(const void *a, const void *b)
{
    const struct canon *x = a, *y = b;
    return name_cmp(x->name, y->name);
}

static int canon_cmp_query(const void *a, const void *b)
{
    const struct canon *x = a, *y = b;
    int d = strcmp(x->name, y->name);
    return d ? d : strcmp(x->value, y->value);
}

static char *lower(const char *s)
{
    char *out = xstrdup(s);
    for (char *p = out; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    return out;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Appends v trimmed, with each inner run of white space folded into one space. */
static void put_folded(struct strbuf *sb, const char *v)
{
    while (is_space(*v))
        v++;
    bool pending = false;
    for (; *v; v++) {
        if (is_space(*v)) {
            pending = true;
            continue;
        }
        if (pending)
            strbuf_append(sb, " ", 1);
        pending = false;
        strbuf_append(sb, v, 1);
    }
}

/*
 * Appends "name:value\n" for every x-ms-* header, names lowercased and sorted. Headers whose
 * lowercased names are equal make one line, values joined by ',' in the order received (as
 * a proxy would combine them).
 */
static void put_x_ms_headers(struct strbuf *sb, const struct sharedkey_request *r)
{
    struct canon *h = xcalloc(r->nheaders ? r->nheaders : 1, sizeof *h);
    size_t n = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strncasecmp(r->headers[i].name, "x-ms-", 5) != 0)
            continue;
        /* Insertion sort, stable so equal names keep their order; n <= LIMIT_HEADER_COUNT. */
        struct canon c = {lower(r->headers[i].name), (char *)r->headers[i].value /* borrowed */};
        size_t j = n++;
        while (j > 0 && canon_cmp_header(&h[j - 1], &c) > 0) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = c;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(h[i - 1].name, h[i].name) == 0) {
            strbuf_append(sb, ",", 1);
        } else {
            if (i > 0)
                strbuf_append(sb, "\n", 1);
            strbuf_puts(sb, h[i].name);
            strbuf_append(sb, ":", 1);
        }
        put_folded(sb, h[i].value);
    }
    if (n > 0)
        strbuf_append(sb, "\n", 1);
    for (size_t i = 0; i < n; i++)
        free(h[i].name);
    free(h);
}

static void put_query(struct strbuf *sb, const struct query *q)
{
    if (!q || q->n == 0)
        return;
    struct canon *p = xcalloc(q->n, sizeof *p);
    for (size_t i = 0; i < q->n; i++) {
        p[i].name = lower(q->pairs[i].name);
        p[i].value = q->pairs[i].value; /* borrowed */
    }
    qsort(p, q->n, sizeof *p, canon_cmp_query);
    for (size_t i = 0; i < q->n; i++) {
        if (i > 0 && strcmp(p[i - 1].name, p[i].name) == 0) {
            strbuf_append(sb, ",", 1);
        } else {
            strbuf_append(sb, "\n", 1);
            strbuf_puts(sb, p[i].name);
            strbuf_append(sb, ":", 1);
        }
        strbuf_puts(sb, p[i].value);
    }
    for (size_t i = 0; i < q->n; i++)
        free(p[i].name);
    free(p);
}

char *sharedkey_string_to_sign(const struct sharedkey_request *r, const char *account)
{
    if (r->nheaders > LIMIT_HEADER_COUNT)
        return NULL;
    struct strbuf sb;
    strbuf_init(&sb, 0); /* unbounded: the request's size is bounded by the HTTP layer */
    strbuf_puts(&sb, r->method);
    strbuf_append(&sb, "\n", 1);

    const char *version = header(r, "x-ms-version");
    for (size_t i = 0; i < sizeof standard / sizeof standard[0]; i++) {
        const char *v = header(r, standard[i]);
        if (v && strcmp(standard[i], "Content-Length") == 0 && strcmp(v, "0") == 0 &&
            !(version && strcmp(version, SV_EMPTY_LENGTH) < 0))
            v = NULL;
        if (v)
            strbuf_puts(&sb, v);
        strbuf_append(&sb, "\n", 1);
    }

    put_x_ms_headers(&sb, r);

    strbuf_append(&sb, "/", 1);
    strbuf_puts(&sb, account);
    strbuf_puts(&sb, r->raw_path);
    put_query(&sb, r->query);
    return strbuf_steal(&sb);
}

int sharedkey_parse_authorization(const char *value, char *account, size_t acctlen, char *sig,
                                  size_t siglen)
{
    static const char scheme[] = "SharedKey ";
    if (strncmp(value, scheme, sizeof scheme - 1) != 0)
        return -1;
    const char *a = value + sizeof scheme - 1;
    const char *colon = strchr(a, ':');
    if (!colon || colon == a)
        return -1;
    const char *s = colon + 1;
    size_t alen = (size_t)(colon - a), slen = strlen(s);
    if (slen == 0 || alen >= acctlen || slen >= siglen)
        return -1;
    for (const char *p = a; p < colon; p++) {
        if (is_space(*p))
            return -1;
    }
    for (const char *p = s; *p; p++) {
        if (is_space(*p) || *p == ':')
            return -1;
    }
    memcpy(account, a, alen);
    account[alen] = '\0';
    memcpy(sig, s, slen + 1);
    return 0;
}
