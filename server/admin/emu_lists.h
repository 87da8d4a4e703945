/*
 * emu_lists.h: the lists /_emu answers with: GET /_emu/jobs (every Migration API job, newest
 * first, paged), GET /_emu/jobs/<id>/events (a job's event log) and GET /_emu/containers
 * (whole, or paged newest first with top/skiptoken), for the Migration center and for tools
 * that want to see what they did not make. emu_api checks the admin token first.
 */
#ifndef SPMIG_EMU_LISTS_H
#define SPMIG_EMU_LISTS_H

#include "http.h"

/* Serves req, whose path is /_emu/jobs, /_emu/jobs/... or /_emu/containers; what is the part
 * after "/_emu/". */
void emu_lists_route(struct http_request *req, const char *what);

#endif
