/*
 * csom.h: CSOM's client query protocol on POST <site>/_vti_bin/client.svc/ProcessQuery. It
 * evaluates a request's actions in order against the site the URL names (the ClientContext,
 * SP.Site, SP.Web, its lists, folders and files, read from sp_model) and answers with the
 * protocol's JSON array, errors as its ErrorInfo. Methods on SP.Site that live in layers
 * above (the Migration API) are added with csom_add_site_method, so CSOM reaches the same
 * code as REST. The request's XML is csom_request's business.
 */
#ifndef SPMIG_CSOM_H
#define SPMIG_CSOM_H

#include <cjson/cJSON.h>

#include "http.h"
#include "sp_auth.h"
#include "sp_call.h"

/*
 * A method of SP.Site: params is the JSON array of the action's parameters (csom_request.h
 * says how each type is given). 0 with *result set (JSON, the caller owns it; NULL for a method
 * that returns nothing), or -1 with err filled (its hresult is ErrorInfo's ErrorCode).
 */
typedef int csom_site_method_fn(const struct sp_call *c, const cJSON *params, cJSON **result,
                                struct sp_error *err);
/* Values in the protocol's encodings, which clients recognise by their escaped slashes
 * ("\/Guid(...)\/", "\/Base64Binary(...)\/"): a GUID, and bytes given in base64. */
cJSON *csom_guid(const char *uuid);
cJSON *csom_base64(const char *b64);

/* Adds a method; name is kept (a string literal). At start, before the listeners run. */
void csom_add_site_method(const char *name, csom_site_method_fn *fn);

/* Answers one ProcessQuery request on site_url for who (authenticated). */
void csom_process(struct http_request *req, const struct sp_auth_principal *who,
                  const char *site_url);

#endif
