/*
 * odata.h: the three JSON answer shapes of SharePoint REST, chosen by the Accept header:
 * odata=verbose ({"d":{...}} with __metadata), odata=minimalmetadata (the default, with
 * odata.metadata/odata.type) and odata=nometadata; and SharePoint's error body. The one place
 * where SharePoint answers get their shape.
 */
#ifndef SPMIG_ODATA_H
#define SPMIG_ODATA_H

#include <cjson/cJSON.h>

#include "http.h"
#include "sp_hresult.h"

enum odata_mode { ODATA_MINIMAL, ODATA_VERBOSE, ODATA_NOMETA };

enum odata_mode odata_mode(const struct http_request *req);

/* An entity: props (consumed) with its type ("SP.Web") and its REST uri (may be NULL). */
void odata_entity(struct http_request *req, unsigned status, const char *type, const char *uri,
                  cJSON *props);
/*
 * A collection: items (consumed) is an array of objects; each may carry "__type", "__uri"
 * and "__etag" strings, which become its metadata (or are dropped). So may the objects and
 * arrays of objects it holds (expanded navigation properties).
 */
void odata_collection(struct http_request *req, cJSON *items);
/* One page of a collection: the same shape, with next (may be NULL) as the link to the
 * following page (__next in verbose, odata.nextLink otherwise). */
void odata_collection_page(struct http_request *req, cJSON *items, const char *next);
/* The result of a function (method) called name: a primitive or an object of type type
 * (type NULL for primitives). value is consumed. */
void odata_result(struct http_request *req, const char *name, const char *type, cJSON *value);
/* SharePoint's error body {"error":{"code":"<hresult>, <type>","message":{...}}}. */
void odata_error(struct http_request *req, unsigned status, enum sp_hresult hresult,
                 const char *type, const char *message);

/* 400 ArgumentException whose error object also carries "problems" (consumed): the list of
 * every fault found in one request (a bulk upload), each an object the caller shapes. */
void odata_bad_argument_list(struct http_request *req, const char *message, cJSON *problems);

/* The common answers, shared by every JSON API on the SharePoint listener (REST, the
 * Migration Manager API, the emulator's controls). message NULL: SharePoint's own words. */
void odata_not_found(struct http_request *req, const char *message);      /* 404 */
void odata_access_denied(struct http_request *req);                       /* 403 */
void odata_bad_argument(struct http_request *req, const char *message);   /* 400 */
void odata_exists(struct http_request *req, const char *message);         /* 409 */
void odata_internal_error(struct http_request *req, const char *message); /* 500 */
/* 405 with an Allow header: allowed lists the methods ("GET, POST"). */
void odata_method_not_allowed(struct http_request *req, const char *allowed);

#endif
