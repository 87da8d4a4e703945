/*
 * queue_api.h: the Azure Queue REST listener (path style: /<account>/<queue>[/messages[/<id>]]).
 * Routes each request to one operation, authorises it through auth_azure, runs it on
 * queue_store and formats Azure's XML answer. It holds no queue state itself.
 */
#ifndef SPMIG_QUEUE_API_H
#define SPMIG_QUEUE_API_H

#include "http.h"

extern const struct http_listener_ops queue_api_ops;

#endif
