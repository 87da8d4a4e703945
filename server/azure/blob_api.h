/*
 * blob_api.h: the Azure Blob REST listener (path style: /<account>/<container>/<blob>).
 * Routes each request to one operation, authorises it through auth_azure, runs it on
 * blob_store and formats Azure's answer. It holds no blob state itself.
 */
#ifndef SPMIG_BLOB_API_H
#define SPMIG_BLOB_API_H

#include "http.h"

extern const struct http_listener_ops blob_api_ops;

#endif
