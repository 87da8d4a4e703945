/*
 * mm_agent_api.h: the routes agents call: POST /api/mm/agents/register (with an admin
 * token: the trust is made) and /api/mm/agent/... with the agent credential (heartbeat long
 * poll and its orders, task progress, report uploads, the end of a round). mm_api routes
 * here; this module owns the credential's format and check, also where the credential is
 * used on SharePoint REST (the agent migrates for the admin who made the trust).
 */
#ifndef SPMIG_MM_AGENT_API_H
#define SPMIG_MM_AGENT_API_H

#include "http.h"
#include "mm_http.h"
#include "sp_auth.h"

/* The credential: "mma1.<agent id>.<43 characters of base64url>". */
#define MM_AGENT_CRED_PREFIX "mma1."
#define MM_AGENT_SECRET_LEN  43

void mm_agent_api_register(struct http_request *req, const struct sp_auth_principal *who);
/* sp_auth's delegate for agent credentials: a valid, unexpired credential acts for the admin
 * who registered the agent (out->delegated: rights on sites, not on the tenant). */
int mm_agent_api_delegate(const char *token, struct sp_auth_principal *out);
/* p->seg[0] is "agent". */
void mm_agent_api_serve(struct http_request *req, const struct sp_auth_principal *who,
                        const struct mm_http_path *p);

#endif
