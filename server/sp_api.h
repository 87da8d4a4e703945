/*
 * sp_api.h: the SharePoint listener (SharePoint REST, /_emu control, the admin page). For
 * now it serves the health check and answers everything else with SharePoint's JSON error
 * body; the Migration API issue fills it in.
 */
#ifndef SPMIG_SP_API_H
#define SPMIG_SP_API_H

#include "http.h"

extern const struct http_listener_ops sp_api_ops;

/* SharePoint's error body {"error":{"code":"<hresult>, <type>","message":{...}}}. */
void sp_error(struct http_request *req, unsigned status, long hresult, const char *type,
              const char *message);

#endif
