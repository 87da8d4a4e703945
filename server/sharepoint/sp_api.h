/*
 * sp_api.h: the SharePoint listener: routes /_api and /sites/<name>/_api requests after
 * authenticating the bearer token, serves the read API (web, lists, folders, files, items,
 * versions) and library creation, and hands /_api/site/<migration method> to migration_api
 * and /_emu/... to emu_api. Answer shapes come from odata.c.
 */
#ifndef SPMIG_SP_API_H
#define SPMIG_SP_API_H

#include <cjson/cJSON.h>

#include "http.h"
#include "sp_auth.h"
#include "sp_model.h"
#include "sp_path.h"

extern const struct http_listener_ops sp_api_ops;

/* Where clients reach the storage listeners ("http://127.0.0.1:10000"); set by main before
 * the SharePoint listener starts. */
void sp_api_set_endpoints(const char *blob_url, const char *queue_url);
const char *sp_api_blob_url(void);
const char *sp_api_queue_url(void);

/* One authenticated call, as the handlers behind the router see it. */
struct sp_call {
    struct sp_auth_principal who;
    struct sp_model_site site;    /* the site the URL names */
    const struct sp_segment *seg; /* the method segment */
    cJSON *body;                  /* the JSON body, or NULL */
};

/* An argument by name: from the JSON body (case-insensitive, also inside a "parameters"
 * object), else from the URL segment (named, or positional pos). NULL if absent or not a
 * string/number (numbers are rendered into buf of size cap). */
const char *sp_call_arg(const struct sp_call *c, const char *name, int pos, char *buf, size_t cap);

#endif
