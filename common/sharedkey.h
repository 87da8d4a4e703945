/*
 * sharedkey.h: the SharedKey scheme of Azure Blob and Queue ("Authorization: SharedKey
 * account:signature", versions 2009-09-19 and later): the canonicalised string-to-sign of a
 * request, and parsing of the Authorization header. Deciding what the request may do is not
 * here. The canonicaliser reads client bytes and is fuzzed.
 */
#ifndef SPMIG_SHAREDKEY_H
#define SPMIG_SHAREDKEY_H

#include <stddef.h>

#include "query.h"

struct sharedkey_header {
    const char *name;  /* as received; compared case-insensitively */
    const char *value; /* as received */
};

struct sharedkey_request {
    const char *method;        /* "GET", "PUT", ... */
    const char *raw_path;      /* the path as on the wire, still percent-encoded: "/acct/c/b" */
    const struct query *query; /* decoded query pairs */
    const struct sharedkey_header *headers; /* every request header */
    size_t nheaders;
};

/*
 * The string-to-sign: VERB, the eleven standard headers (Content-Length empty when 0, unless
 * x-ms-version is older than 2015-02-21), the canonicalised x-ms-* headers (lowercased,
 * sorted as the Azure SDKs sort them, values trimmed, inner runs of white space folded,
 * repeated names joined with ','), and the canonicalised resource "/<account><raw_path>"
 * followed by each query name lowercased with its values sorted and comma-joined, names sorted.
 * Returns a new string the caller frees, or NULL if the request has more than
 * LIMIT_HEADER_COUNT headers.
 */
char *sharedkey_string_to_sign(const struct sharedkey_request *r, const char *account);

/*
 * Splits "SharedKey account:signature" into account (cap acctlen) and signature (cap siglen).
 * Returns 0, or -1 if the value is not of that form or a part does not fit.
 */
int sharedkey_parse_authorization(const char *value, char *account, size_t acctlen, char *sig,
                                  size_t siglen);

#endif
