/*
 * auth_azure.c: the gate of the Blob and Queue listeners. Verifies SharedKey, account SAS and
 * service SAS exactly as Azure documents them (signature first, then time window against the
 * emulator clock, source IP, protocol, service, resource type, permission), and answers a
 * refusal with Azure's code and detail. It does not know what the operations do.
 */
#include "auth_azure.h"
#include "audit.h"
#include "azure_reply.h"
#include "clock.h"
#include "crypto.h"
#include "log.h"
#include "sharedkey.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <stdlib.h>
#include <string.h>

#define SHAREDKEY_SKEW_MS (15 * 60 * 1000)

static void refuse(struct http_request *req, unsigned status, const char *code, const char *detail)
{
    log_info("auth: refused %s %s: %s%s%s", req->method, req->raw_path, code, detail ? ": " : "",
             detail ? detail : "");
    char *why = xasprintf("%u %s%s%s", status, code, detail ? ": " : "", detail ? detail : "");
    audit_record("refused", req->raw_path, why); /* the path without its query: no SAS */
    free(why);
    azure_reply_error(req, status, code, NULL, detail ? "AuthenticationErrorDetail" : NULL, detail);
}

static bool check_sharedkey(struct http_request *req, const struct account *acct, const char *authz)
{
    char name[64], sig[128];
    if (sharedkey_parse_authorization(authz, name, sizeof name, sig, sizeof sig) < 0) {
        refuse(req, 403, "AuthenticationFailed",
               "The Authorization header is not of the form 'SharedKey account:signature'.");
        return false;
    }
    if (strcmp(name, acct->name) != 0) {
        char *d = xasprintf("The account '%s' in the Authorization header does not match the "
                            "account '%s' of the request URI.",
                            name, acct->name);
        refuse(req, 403, "AuthenticationFailed", d);
        free(d);
        return false;
    }
    const char *date = http_header(req, "x-ms-date");
    if (!date)
        date = http_header(req, "Date");
    int64_t when;
    if (!date || timefmt_parse_rfc1123(date, &when) < 0) {
        refuse(req, 403, "AuthenticationFailed",
               "Request date header (x-ms-date or Date) is missing or not a valid RFC 1123 date.");
        return false;
    }
    /* Against real time: the SDK stamps its own wall clock, which moving the emulator's
     * clock does not change. */
    int64_t skew = when - clock_real_ms();
    if (skew > SHAREDKEY_SKEW_MS || skew < -SHAREDKEY_SKEW_MS) {
        char *d = xasprintf("Request date header too old or too new: '%s'", date);
        refuse(req, 403, "AuthenticationFailed", d);
        free(d);
        return false;
    }
    struct sharedkey_request sr = {.method = req->method,
                                   .raw_path = req->raw_path,
                                   .query = &req->query,
                                   .headers = req->headers,
                                   .nheaders = req->nheaders};
    char *sts = sharedkey_string_to_sign(&sr, acct->name);
    char expect[45];
    bool ok =
        sts && sas_sign(acct->key, acct->keylen, sts, expect) == 0 && crypto_streq(expect, sig);
    if (!ok) {
        char *d = xasprintf("The MAC signature found in the HTTP request '%s' is not the same as "
                            "any computed signature. Server used following string to sign: '%s'.",
                            sig, sts ? sts : "");
        refuse(req, 403, "AuthenticationFailed", d);
        free(d);
    }
    free(sts);
    return ok;
}

static bool perms_grant(unsigned perms, const char *need)
{
    for (const char *p = need; *p; p++)
        if (perms & SAS_PERM(*p))
            return true;
    return false;
}

/* The checks every SAS goes through after its signature: time, IP, protocol, permission. */
static bool check_sas_use(struct http_request *req, const struct sas *s,
                          const struct auth_need *need)
{
    int64_t now = clock_now_ms();
    if ((s->has_start && now < s->start_ms) || now > s->expiry_ms) {
        char st[TIMEFMT_BUF] = "", se[TIMEFMT_BUF], cur[TIMEFMT_BUF];
        if (s->has_start)
            timefmt_rfc1123(s->start_ms, st);
        timefmt_rfc1123(s->expiry_ms, se);
        timefmt_rfc1123(now, cur);
        char *d = xasprintf("Signature not valid in the specified time frame: Start [%s] - Expiry "
                            "[%s] - Current [%s]",
                            st, se, cur);
        refuse(req, 403, "AuthenticationFailed", d);
        free(d);
        return false;
    }
    if (s->has_ip && (req->client_ipv4 < s->ip_lo || req->client_ipv4 > s->ip_hi)) {
        refuse(req, 403, "AuthorizationSourceIPMismatch", NULL);
        return false;
    }
    if (s->https_only) {
        refuse(req, 403, "AuthorizationProtocolMismatch", NULL);
        return false;
    }
    if (s->is_account) {
        unsigned svc = need->svc == SAS_BLOB ? SAS_SS_BLOB : SAS_SS_QUEUE;
        if (!(s->services & svc)) {
            refuse(req, 403, "AuthorizationServiceMismatch", NULL);
            return false;
        }
        unsigned type = need->level == AUTH_SERVICE     ? SAS_SRT_SERVICE
                        : need->level == AUTH_CONTAINER ? SAS_SRT_CONTAINER
                                                        : SAS_SRT_OBJECT;
        if (!(s->types & type)) {
            refuse(req, 403, "AuthorizationResourceTypeMismatch", NULL);
            return false;
        }
    }
    if (!perms_grant(s->perms, need->perms)) {
        refuse(req, 403, "AuthorizationPermissionMismatch", NULL);
        return false;
    }
    return true;
}

static char *service_resource(struct http_request *req, const struct sas *s,
                              const struct account *acct, const struct auth_need *need)
{
    if (need->svc == SAS_QUEUE)
        return xasprintf("/queue/%s/%s", acct->name, need->container ? need->container : "");
    const char *sr = s->sr ? s->sr : "";
    if (strcmp(sr, "c") == 0)
        return xasprintf("/blob/%s/%s", acct->name, need->container ? need->container : "");
    return xasprintf("/blob/%s/%s/%s", acct->name, need->container ? need->container : "",
                     need->blob ? need->blob : "");
}

static bool check_sas(struct http_request *req, const struct account *acct, struct auth_need *need)
{
    struct sas s;
    char err[256];
    if (sas_parse(&req->query, need->svc, &s, err, sizeof err) < 0) {
        refuse(req, 403, "AuthenticationFailed", err);
        return false;
    }
    if (!s.is_account) {
        if (s.si) {
            refuse(req, 403, "AuthenticationFailed",
                   "Stored access policies (si) are not supported by this emulator.");
            return false;
        }
        if (need->svc == SAS_BLOB && (!s.sr || (strcmp(s.sr, "c") && strcmp(s.sr, "b") &&
                                                strcmp(s.sr, "bs") && strcmp(s.sr, "bv")))) {
            refuse(req, 403, "AuthenticationFailed",
                   "sr must be c, b, bs or bv for a blob service SAS.");
            return false;
        }
    }
    char *sts;
    if (s.is_account) {
        sts = sas_string_to_sign(&s, need->svc, acct->name, NULL, NULL);
    } else {
        char *resource = service_resource(req, &s, acct, need);
        /* Only a snapshot (bs) or version (bv) SAS signs the snapshot time. */
        bool signs_snapshot = s.sr && (!strcmp(s.sr, "bs") || !strcmp(s.sr, "bv"));
        sts = sas_string_to_sign(&s, need->svc, acct->name, resource,
                                 signs_snapshot ? need->snapshot : NULL);
        free(resource);
    }
    if (!sas_signature_ok(&s, acct->key, acct->keylen, sts)) {
        char *d = xasprintf("Signature did not match. String to sign used was %s", sts);
        refuse(req, 403, "AuthenticationFailed", d);
        free(d);
        free(sts);
        return false;
    }
    free(sts);
    if (!s.is_account && !need->service_sas_ok) {
        refuse(req, 403, "AuthorizationFailure", NULL);
        return false;
    }
    if (!s.is_account && need->svc == SAS_BLOB && need->level == AUTH_CONTAINER &&
        strcmp(s.sr, "c") != 0) {
        refuse(req, 403, "AuthorizationResourceTypeMismatch", NULL);
        return false;
    }
    need->granted = s.perms;
    return check_sas_use(req, &s, need);
}

bool auth_azure_check(struct http_request *req, const struct account *acct, struct auth_need *need)
{
    need->granted = 0;
    const char *authz = http_header(req, "Authorization");
    if (authz) {
        if (strncmp(authz, "SharedKey ", 10) == 0) {
            need->granted = ~0u;
            return check_sharedkey(req, acct, authz);
        }
        refuse(req, 403, "AuthenticationFailed",
               "Only the SharedKey scheme and shared access signatures are supported.");
        return false;
    }
    if (sas_present(&req->query))
        return check_sas(req, acct, need);
    log_info("auth: refused %s %s: no credentials", req->method, req->raw_path);
    audit_record("refused", req->raw_path, "401 NoAuthenticationInformation");
    azure_reply_error(
        req, 401, "NoAuthenticationInformation",
        "Server failed to authenticate the request. Please refer to the information in "
        "the www-authenticate header.",
        NULL, NULL);
    http_set_header(req, "WWW-Authenticate", "SharedKey realm=\"spmigd\"");
    return false;
}

const struct account *auth_azure_account(struct http_request *req, const char *name)
{
    const struct account *a = accounts_find(name);
    if (a)
        return a;
    if (http_header(req, "Authorization") || sas_present(&req->query)) {
        char *msg = xasprintf("The account '%s' does not exist on this server.", name);
        refuse(req, 403, "AuthenticationFailed", msg);
        free(msg);
    } else {
        azure_reply_error_code(req, 404, "ResourceNotFound");
    }
    return NULL;
}
