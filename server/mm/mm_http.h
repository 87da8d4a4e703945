/*
 * mm_http.h: what both Migration Manager listeners-within-the-listener share: the request's
 * path after /api/mm/ split into decoded segments, JSON replies, an mm_store result turned
 * into SharePoint's error body, the page options (top, skiptoken) and who the caller is.
 * Routing itself is mm_api's (admin) and mm_agent_api's (agents).
 */
#ifndef SPMIG_MM_HTTP_H
#define SPMIG_MM_HTTP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "mm_store.h"
#include "sp_auth.h"

#define MM_HTTP_PREFIX   "/api/mm/"
#define MM_HTTP_MAX_SEGS 6

struct mm_http_path {
    char *seg[MM_HTTP_MAX_SEGS]; /* decoded; NULL past n */
    int n;
    bool bad; /* malformed escape, empty segment or too many segments */
};

/* Splits req's raw path after the prefix. Free with mm_http_path_finish. */
void mm_http_path_init(struct mm_http_path *p, const struct http_request *req);
void mm_http_path_finish(struct mm_http_path *p);
bool mm_http_seg_is(const struct mm_http_path *p, int i, const char *s);

/* Replies with o (consumed) as JSON. */
void mm_http_reply(struct http_request *req, unsigned status, cJSON *o);
/* Replies the SharePoint error for an mm_store result other than MM_OK (message NULL: a
 * default for the result). */
void mm_http_fail(struct http_request *req, int rc, const char *message);
/* 401 with message (NULL: the default) and WWW-Authenticate. */
void mm_http_unauthorized(struct http_request *req, const char *message);

/* The body as a JSON object (new, the caller deletes it), NULL when there is none; *bad when
 * there is one that is not a JSON object. */
cJSON *mm_http_json_body(struct http_request *req, bool *bad);

/* The string member name of o, or NULL (absent, not a string, o NULL). */
const char *mm_http_str(const cJSON *o, const char *name);

/* top (1..LIMIT_MM_PAGE, default LIMIT_MM_PAGE_DEFAULT) and skiptoken (a seq, default 0),
 * "$top"/"$skiptoken" accepted too. false after replying 400. */
bool mm_http_page(struct http_request *req, int *top, int64_t *after);
/* Adds "value" (consumed) and, when the page is full, "nextLink" (path with the page options
 * and extra, an already-encoded "&name=value..." or "") to o. */
void mm_http_page_links(cJSON *o, cJSON *value, const char *path, int top, int n, int64_t last,
                        const char *extra);

/* True if who is an admin; otherwise replies 401 or 403 and returns false. */
bool mm_http_require_admin(struct http_request *req, const struct sp_auth_principal *who);

#endif
