/*
 * sp_call.h: one authenticated SharePoint REST call as every handler behind the listener sees
 * it (the caller, the site the URL names, the method segment, the JSON body), how handlers
 * read its arguments, and the checks they share. It routes nothing (sp_routes, sp_api).
 */
#ifndef SPMIG_SP_CALL_H
#define SPMIG_SP_CALL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "odata_query.h"
#include "sp_auth.h"
#include "sp_model.h"
#include "sp_path.h"

struct sp_call {
    struct sp_auth_principal who;
    struct sp_model_site site;       /* the site the URL names */
    const struct sp_segment *seg;    /* the method segment */
    cJSON *body;                     /* the JSON body, or NULL */
    const struct odata_query *odata; /* the request's OData query options */
    const char *host;                /* the request's Host header, or NULL */
};

/* An argument by name: from the JSON body (case-insensitive, also inside a "parameters"
 * object), else from the URL segment (named, or positional pos). NULL if absent or not a
 * string/number (numbers are rendered into buf of size cap). */
const char *sp_call_arg(const struct sp_call *c, const char *name, int pos, char *buf, size_t cap);

/* An error a handler found, answered by whichever protocol called: REST with the status and
 * SharePoint's JSON error (sp_call_fail), CSOM with ErrorInfo. */
struct sp_error {
    unsigned status;
    long hresult;
    const char *type; /* static */
    char message[400];
};
/* Fills e; returns -1, for `return sp_error_set(...)`. */
int sp_error_set(struct sp_error *e, unsigned status, long hresult, const char *type,
                 const char *message);
/* Answers e on a REST call. */
void sp_call_fail(struct http_request *req, const struct sp_error *e);

/* 0 if the caller may manage c's site (provision, submit, create lists); otherwise audits the
 * refusal and returns -1 with e set (403). */
int sp_call_check_manager(const struct sp_call *c, struct sp_error *e);
/* sp_call_check_manager that answers the refusal itself; true when the caller may. */
bool sp_call_require_manager(struct http_request *req, const struct sp_call *c);

/* "http://<Host>" as the client addressed the server. Caller frees. */
char *sp_call_base_url(struct http_request *req);

#endif
