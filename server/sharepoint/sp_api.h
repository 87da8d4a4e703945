/*
 * sp_api.h: the SharePoint listener: routes /_api and /sites/<name>/_api requests after
 * authenticating the bearer token, serves the read API (web, lists, folders, files, items,
 * versions) and library creation, and hands the rest to what subsystems registered in
 * sp_routes.h (prefixes such as /_emu/, methods on /_api/site/). Answer shapes come from
 * odata.c.
 */
#ifndef SPMIG_SP_API_H
#define SPMIG_SP_API_H

#include "http.h"

extern const struct http_listener_ops sp_api_ops;

#endif
