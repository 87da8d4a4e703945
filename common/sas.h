/*
 * sas.h: Azure shared access signatures, both sides: parse and check the SAS fields of a
 * request's query, build the string-to-sign for every signed version from 2015-04-05 to the
 * newest (account SAS, blob service SAS, queue service SAS), sign it, and build new SAS query
 * strings. What a SAS may do for a given operation is auth_azure's business, not this module's.
 */
#ifndef SPMIG_SAS_H
#define SPMIG_SAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query.h"

enum sas_service { SAS_BLOB, SAS_QUEUE };

/* Permission letters as a bit set: bit (letter - 'a'). */
#define SAS_PERM(c) (1u << ((unsigned)(c) - 'a'))

/* Account SAS ss= letters and srt= letters, as bit sets. */
#define SAS_SS_BLOB       1u
#define SAS_SS_QUEUE      2u
#define SAS_SS_TABLE      4u
#define SAS_SS_FILE       8u
#define SAS_SRT_SERVICE   1u
#define SAS_SRT_CONTAINER 2u
#define SAS_SRT_OBJECT    4u

struct sas {
    /* The decoded fields; pointers into the query the SAS was parsed from (NULL if absent). */
    const char *sv, *ss, *srt, *sp, *st, *se, *sip, *spr, *sr, *si, *sig, *ses;
    const char *rscc, *rscd, *rsce, *rscl, *rsct, *sdd;
    bool is_account;   /* ss/srt present: an account SAS */
    unsigned perms;    /* SAS_PERM bits of sp */
    unsigned services; /* account SAS: SAS_SS_* */
    unsigned types;    /* account SAS: SAS_SRT_* */
    bool has_start;
    int64_t start_ms, expiry_ms;
    bool https_only; /* spr=https */
    bool has_ip;     /* sip given: the range below, IPv4, inclusive, host order */
    uint32_t ip_lo, ip_hi;
};

/* True when the query carries a SAS at all (a "sig" field). */
bool sas_present(const struct query *q);

/*
 * Reads the SAS fields of q into s for a request to service svc and checks their form:
 * every field at most once, sv a date, sp letters known for the kind of SAS, st/se valid
 * ISO 8601, spr "https" or "https,http", sip an IPv4 address or range, sr known, sig valid
 * base64 of 32 bytes, ss/srt letters known. Signature, time and permissions are not checked
 * here. Returns 0, or -1 with a one-line reason for AuthenticationErrorDetail in err.
 * s points into q: q must outlive s.
 */
int sas_parse(const struct query *q, enum sas_service svc, struct sas *s, char *err, size_t errlen);

/*
 * The string-to-sign of s, laid out for its signed version (s->sv).
 * Account SAS: account is the account name; resource is ignored.
 * Blob service SAS: resource is "/blob/<account>/<container>" (sr=c) or
 *   "/blob/<account>/<container>/<blob>" (sr=b, bs, bv), blob name decoded; snapshot is the
 *   request's snapshot= value or NULL.
 * Queue service SAS: resource is "/queue/<account>/<queue>".
 * Returns a new string the caller frees.
 */
char *sas_string_to_sign(const struct sas *s, enum sas_service svc, const char *account,
                         const char *resource, const char *snapshot);

/* base64(HMAC-SHA256(key, sts)) into out (45 bytes with the NUL). Returns 0 or -1. */
int sas_sign(const void *key, size_t keylen, const char *sts, char out[45]);

/* Signs sts with key and compares with s->sig in constant time. */
bool sas_signature_ok(const struct sas *s, const void *key, size_t keylen, const char *sts);

/*
 * What a new SAS grants; the fields are plain values, NULL or 0 where not wanted.
 * sas_build returns the query string (no leading '?', values percent-encoded, fields in
 * the order the Azure SDK for Python writes them: st se sp sip spr sv, then ss srt or sr,
 * then sig) for a SAS signed with key. The caller frees it; NULL if signing fails.
 */
struct sas_grant {
    enum sas_service svc;
    bool account;               /* account SAS (ss, srt) instead of a service SAS */
    const char *version;        /* sv; NULL = SAS_DEFAULT_VERSION */
    const char *permissions;    /* sp */
    const char *services;       /* ss (account SAS) */
    const char *resource_types; /* srt (account SAS) */
    const char *resource;       /* sr (blob service SAS): "c" or "b" */
    int64_t start_ms;           /* 0 = no st */
    int64_t expiry_ms;
    const char *ip;       /* sip */
    const char *protocol; /* spr */
    const char *account_name;
    const char *container; /* blob: container; queue: queue name */
    const char *blob;      /* blob service SAS with sr=b */
};
#define SAS_DEFAULT_VERSION "2021-12-02"
char *sas_build(const struct sas_grant *g, const void *key, size_t keylen);

#endif
