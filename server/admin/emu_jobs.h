/*
 * emu_jobs.h: GET /_emu/jobs (every Migration API job, newest first, paged) and
 * GET /_emu/jobs/<id>/events (a job's event log), for the Migration center and for tools
 * that want to see jobs they did not submit. emu_api checks the admin token first.
 */
#ifndef SPMIG_EMU_JOBS_H
#define SPMIG_EMU_JOBS_H

#include "http.h"

/* Serves req, whose path is /_emu/jobs or /_emu/jobs/...; what is the part after "/_emu/". */
void emu_jobs_route(struct http_request *req, const char *what);

#endif
