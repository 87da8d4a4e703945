/*
 * sas.c: Azure shared access signatures (account SAS, blob and queue service SAS): reading and
 * checking the form of the SAS fields of a query, the string-to-sign of every signed version
 * from 2015-04-05 on, signing and constant-time verification, and building new SAS query
 * strings. Whether a SAS is in its time window, from an allowed address, or grants a given
 * operation is decided by the server's auth_azure, not here.
 */
#include "sas.h"
#include "b64.h"
#include "crypto.h"
#include "spmig_limits.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Signed versions where the string-to-sign changed. A version is compared as a string
 * (YYYY-MM-DD orders like the date); anything newer than the newest layout uses it.
 */
#define SV_MIN       "2015-04-05" /* oldest accepted; account SAS exists from here */
#define SV_SR_SNAP   "2018-11-09" /* blob service SAS: sr and snapshot time signed */
#define SV_ENC_SCOPE "2020-12-06" /* blob service and account SAS: ses signed */

#define PERMS_ACCOUNT "rwdxylacuptfi"
#define PERMS_BLOB    "racwdxyltmeopi"
#define PERMS_QUEUE   "raup"

/* The SAS fields and where struct sas keeps each. */
static const struct {
    const char *name;
    size_t off;
} fields[] = {
    {"sv", offsetof(struct sas, sv)},     {"ss", offsetof(struct sas, ss)},
    {"srt", offsetof(struct sas, srt)},   {"sp", offsetof(struct sas, sp)},
    {"st", offsetof(struct sas, st)},     {"se", offsetof(struct sas, se)},
    {"sip", offsetof(struct sas, sip)},   {"spr", offsetof(struct sas, spr)},
    {"sr", offsetof(struct sas, sr)},     {"si", offsetof(struct sas, si)},
    {"sig", offsetof(struct sas, sig)},   {"ses", offsetof(struct sas, ses)},
    {"rscc", offsetof(struct sas, rscc)}, {"rscd", offsetof(struct sas, rscd)},
    {"rsce", offsetof(struct sas, rsce)}, {"rscl", offsetof(struct sas, rscl)},
    {"rsct", offsetof(struct sas, rsct)}, {"sdd", offsetof(struct sas, sdd)},
};

bool sas_present(const struct query *q)
{
    return query_get(q, "sig") != NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* True for "YYYY-MM-DD" naming a real date. */
static bool is_date(const char *v)
{
    int64_t ms;
    return strlen(v) == 10 && timefmt_parse_iso8601(v, &ms) == 0;
}

/*
 * Turns a string of letters from alphabet into a SAS_PERM-style bit set (bit = letter - 'a'
 * for permissions; for ss/srt the caller maps positions). Returns 0, or -1 naming the bad
 * letter in err.
 */
static int letters(const char *v, const char *alphabet, const char *field, unsigned *bits,
                   char *err, size_t errlen)
{
    *bits = 0;
    if (!*v)
        return fail(err, errlen, "SAS field '%s' is empty", field);
    for (const char *c = v; *c; c++) {
        const char *at = strchr(alphabet, *c);
        if (!at || *c < 'a' || *c > 'z')
            return fail(err, errlen, "unknown letter '%c' in SAS field '%s'", *c, field);
        unsigned bit = SAS_PERM(*c);
        if (*bits & bit)
            return fail(err, errlen, "letter '%c' given twice in SAS field '%s'", *c, field);
        *bits |= bit;
    }
    return 0;
}

/* Maps the letters of v (each in alphabet, at most once) to bit (1 << position). */
static int letter_set(const char *v, const char *alphabet, const char *field, unsigned *out,
                      char *err, size_t errlen)
{
    unsigned perm_bits;
    if (letters(v, alphabet, field, &perm_bits, err, errlen) < 0)
        return -1;
    *out = 0;
    for (size_t i = 0; alphabet[i]; i++) {
        if (perm_bits & SAS_PERM(alphabet[i]))
            *out |= 1u << i;
    }
    return 0;
}

/* "a.b.c.d": four decimal octets, no leading zeros, no sign, nothing else. */
static int parse_ipv4(const char *p, const char *end, uint32_t *out)
{
    uint32_t v = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (p == end || *p != '.')
                return -1;
            p++;
        }
        int n = 0, octet = 0;
        while (p + n < end && p[n] >= '0' && p[n] <= '9' && n < 4) {
            octet = octet * 10 + (p[n] - '0');
            n++;
        }
        if (n == 0 || n > 3 || octet > 255 || (n > 1 && p[0] == '0'))
            return -1;
        v = v << 8 | (uint32_t)octet;
        p += n;
    }
    if (p != end)
        return -1;
    *out = v;
    return 0;
}

static int parse_sip(const char *v, uint32_t *lo, uint32_t *hi)
{
    const char *end = v + strlen(v);
    const char *dash = strchr(v, '-');
    if (!dash)
        return parse_ipv4(v, end, lo) < 0 ? -1 : (*hi = *lo, 0);
    if (parse_ipv4(v, dash, lo) < 0 || parse_ipv4(dash + 1, end, hi) < 0 || *lo > *hi)
        return -1;
    return 0;
}

static bool all_digits(const char *v)
{
    if (!*v)
        return false;
    for (; *v; v++) {
        if (*v < '0' || *v > '9')
            return false;
    }
    return true;
}

int sas_parse(const struct query *q, enum sas_service svc, struct sas *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (query_count(q, fields[i].name) > 1)
            return fail(err, errlen, "duplicate SAS field '%s'", fields[i].name);
        const char *v = query_get(q, fields[i].name);
        if (v && strlen(v) > LIMIT_SAS_FIELD)
            return fail(err, errlen, "SAS field '%s' is longer than %d bytes", fields[i].name,
                        LIMIT_SAS_FIELD);
        *(const char **)((char *)s + fields[i].off) = v;
    }

    if (!s->sig)
        return fail(err, errlen, "missing SAS field 'sig'");
    unsigned char raw[CRYPTO_SHA256_LEN];
    if (b64_decode_to(s->sig, strlen(s->sig), raw, sizeof raw) != CRYPTO_SHA256_LEN)
        return fail(err, errlen, "SAS field 'sig' is not the base64 of 32 bytes");

    if (!s->sv)
        return fail(err, errlen, "missing SAS field 'sv'");
    if (!is_date(s->sv))
        return fail(err, errlen, "SAS field 'sv' is not a version date");
    if (strcmp(s->sv, SV_MIN) < 0)
        return fail(err, errlen, "signed version '%s' is not supported (%s or later)", s->sv,
                    SV_MIN);

    s->is_account = s->ss || s->srt;
    const char *alphabet = PERMS_QUEUE;
    if (s->is_account) {
        if (!s->ss)
            return fail(err, errlen, "missing SAS field 'ss'");
        if (!s->srt)
            return fail(err, errlen, "missing SAS field 'srt'");
        /* Positions in these alphabets match SAS_SS_* and SAS_SRT_* bit order. */
        if (letter_set(s->ss, "bqtf", "ss", &s->services, err, errlen) < 0 ||
            letter_set(s->srt, "sco", "srt", &s->types, err, errlen) < 0)
            return -1;
        alphabet = PERMS_ACCOUNT;
    } else if (svc == SAS_BLOB) {
        alphabet = PERMS_BLOB;
    }

    if (!s->sp)
        return fail(err, errlen, "missing SAS field 'sp'");
    if (letters(s->sp, alphabet, "sp", &s->perms, err, errlen) < 0)
        return -1;

    if (!s->se)
        return fail(err, errlen, "missing SAS field 'se'");
    if (timefmt_parse_iso8601(s->se, &s->expiry_ms) < 0)
        return fail(err, errlen, "SAS field 'se' is not a valid ISO 8601 time");
    if (s->st) {
        if (timefmt_parse_iso8601(s->st, &s->start_ms) < 0)
            return fail(err, errlen, "SAS field 'st' is not a valid ISO 8601 time");
        s->has_start = true;
    }

    if (s->sip) {
        if (parse_sip(s->sip, &s->ip_lo, &s->ip_hi) < 0)
            return fail(err, errlen, "SAS field 'sip' is not an IPv4 address or range");
        s->has_ip = true;
    }

    if (s->spr) {
        if (strcmp(s->spr, "https") == 0)
            s->https_only = true;
        else if (strcmp(s->spr, "https,http") != 0 && strcmp(s->spr, "http,https") != 0)
            return fail(err, errlen, "SAS field 'spr' must be 'https' or 'https,http'");
    }

    if (s->sdd && !all_digits(s->sdd))
        return fail(err, errlen, "SAS field 'sdd' is not a number");
    if (!s->is_account && svc == SAS_BLOB) {
        if (!s->sr)
            return fail(err, errlen, "missing SAS field 'sr'");
        static const char *const known[] = {"c", "b", "bs", "bv", "d"};
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok |= strcmp(s->sr, known[i]) == 0;
        if (!ok)
            return fail(err, errlen, "unknown signed resource '%s' in SAS field 'sr'", s->sr);
        if (strcmp(s->sr, "d") == 0 && !s->sdd)
            return fail(err, errlen, "missing SAS field 'sdd' (needed with sr=d)");
    }
    return 0;
}

static void line(struct strbuf *sb, const char *v)
{
    if (v)
        strbuf_puts(sb, v);
    strbuf_append(sb, "\n", 1);
}

char *sas_string_to_sign(const struct sas *s, enum sas_service svc, const char *account,
                         const char *resource, const char *snapshot)
{
    struct strbuf sb;
    strbuf_init(&sb, 0); /* unbounded: every part is bounded by LIMIT_SAS_FIELD or ours */
    assert(s->sv);
    bool enc_scope = strcmp(s->sv, SV_ENC_SCOPE) >= 0;

    if (s->is_account) {
        line(&sb, account);
        line(&sb, s->sp);
        line(&sb, s->ss);
        line(&sb, s->srt);
        line(&sb, s->st);
        line(&sb, s->se);
        line(&sb, s->sip);
        line(&sb, s->spr);
        line(&sb, s->sv);
        if (enc_scope)
            line(&sb, s->ses);
        return strbuf_steal(&sb);
    }

    line(&sb, s->sp);
    line(&sb, s->st);
    line(&sb, s->se);
    line(&sb, resource);
    line(&sb, s->si);
    line(&sb, s->sip);
    line(&sb, s->spr);
    if (svc == SAS_QUEUE) {
        strbuf_puts(&sb, s->sv); /* the last line has no newline */
        return strbuf_steal(&sb);
    }
    line(&sb, s->sv);
    if (strcmp(s->sv, SV_SR_SNAP) >= 0) {
        line(&sb, s->sr);
        line(&sb, snapshot);
    }
    if (enc_scope)
        line(&sb, s->ses);
    line(&sb, s->rscc);
    line(&sb, s->rscd);
    line(&sb, s->rsce);
    line(&sb, s->rscl);
    if (s->rsct)
        strbuf_puts(&sb, s->rsct);
    return strbuf_steal(&sb);
}

int sas_sign(const void *key, size_t keylen, const char *sts, char out[45])
{
    unsigned char mac[CRYPTO_SHA256_LEN];
    if (crypto_hmac_sha256(key, keylen, sts, strlen(sts), mac) < 0)
        return -1;
    b64_encode_to(mac, sizeof mac, out);
    return 0;
}

/*
 * Signatures this thread verified last. A client signs every request of a container with one
 * SAS, so the same string-to-sign and signature come back thousands of times, and an HMAC
 * through OpenSSL 3 costs more than the rest of the check. Only successes are remembered,
 * every input is compared in full (the signature in constant time), and nothing here is
 * heap memory, so a thread that ends leaves nothing behind.
 */
#define SIG_MEMO     8
#define SIG_MEMO_STS 512
#define SIG_MEMO_KEY 64
static _Thread_local struct {
    char sig[45];
    char sts[SIG_MEMO_STS];
    unsigned char key[SIG_MEMO_KEY];
    size_t keylen;
} memo[SIG_MEMO];
static _Thread_local unsigned memo_next;

bool sas_signature_ok(const struct sas *s, const void *key, size_t keylen, const char *sts)
{
    if (!s->sig)
        return false;
    bool memoable = keylen <= SIG_MEMO_KEY && strlen(sts) < SIG_MEMO_STS && strlen(s->sig) < 45;
    for (unsigned i = 0; memoable && i < SIG_MEMO; i++)
        if (memo[i].keylen == keylen && memo[i].sig[0] && !memcmp(memo[i].key, key, keylen) &&
            !strcmp(memo[i].sts, sts) && crypto_streq(memo[i].sig, s->sig))
            return true;
    char want[45];
    if (sas_sign(key, keylen, sts, want) < 0 || !crypto_streq(want, s->sig))
        return false;
    if (memoable) {
        unsigned i = memo_next++ % SIG_MEMO;
        memcpy(memo[i].sig, want, sizeof want);
        snprintf(memo[i].sts, sizeof memo[i].sts, "%s", sts);
        memcpy(memo[i].key, key, keylen);
        memo[i].keylen = keylen;
    }
    return true;
}

/* Appends "&name=<encoded value>" (no '&' for the first field) when value is set. */
static void put(struct strbuf *sb, const char *name, const char *value)
{
    if (!value)
        return;
    char *enc = query_encode(value);
    strbuf_printf(sb, "%s%s=%s", sb->len ? "&" : "", name, enc);
    free(enc);
}

char *sas_build(const struct sas_grant *g, const void *key, size_t keylen)
{
    assert(g->permissions && g->account_name);
    char st[TIMEFMT_BUF], se[TIMEFMT_BUF];
    struct sas s;
    memset(&s, 0, sizeof s);
    s.sv = g->version ? g->version : SAS_DEFAULT_VERSION;
    s.sp = g->permissions;
    if (g->start_ms) {
        timefmt_iso8601(g->start_ms, st);
        s.st = st;
    }
    timefmt_iso8601(g->expiry_ms, se);
    s.se = se;
    s.sip = g->ip;
    s.spr = g->protocol;

    char *resource = NULL;
    if (g->account) {
        assert(g->services && g->resource_types);
        s.is_account = true;
        s.ss = g->services;
        s.srt = g->resource_types;
    } else if (g->svc == SAS_BLOB) {
        assert(g->container);
        s.sr = g->resource ? g->resource : g->blob ? "b" : "c";
        resource = g->blob ? xasprintf("/blob/%s/%s/%s", g->account_name, g->container, g->blob)
                           : xasprintf("/blob/%s/%s", g->account_name, g->container);
    } else {
        assert(g->container);
        resource = xasprintf("/queue/%s/%s", g->account_name, g->container);
    }

    char *sts = sas_string_to_sign(&s, g->svc, g->account_name, resource, NULL);
    char sig[45];
    int rc = sas_sign(key, keylen, sts, sig);
    free(sts);
    free(resource);
    if (rc < 0)
        return NULL;

    /* The Azure SDK for Python's order: its _SharedAccessHelper adds st, se, sp, sip, spr and
     * sv, then ss and srt (account) or sr (blob), then sig. */
    struct strbuf sb;
    strbuf_init(&sb, 0);
    put(&sb, "st", s.st);
    put(&sb, "se", s.se);
    put(&sb, "sp", s.sp);
    put(&sb, "sip", s.sip);
    put(&sb, "spr", s.spr);
    put(&sb, "sv", s.sv);
    put(&sb, "ss", s.ss);
    put(&sb, "srt", s.srt);
    put(&sb, "sr", s.sr);
    put(&sb, "sig", sig);
    return strbuf_steal(&sb);
}
