/*
 * emu_api.h: /_emu, the emulator's own controls: health, sites, users (and, with their
 * issues, faults, clock, containers, audit). Admin only, except the health check.
 */
#ifndef SPMIG_EMU_API_H
#define SPMIG_EMU_API_H

#include "sp_api.h"

/* Handles a request whose path starts with "/_emu/"; always replies. who is NULL when the
 * caller did not authenticate. */
void emu_api_handle(struct http_request *req, const struct sp_auth_principal *who, cJSON *body);

#endif
