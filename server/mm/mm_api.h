/*
 * mm_api.h: Migration Manager's HTTP API on the SharePoint listener, the prefix /api/mm/:
 * the admin routes (agents, groups, tasks, bulk, settings, scans, reports, summary) here,
 * the agent routes handed to mm_agent_api. Registering also needs the dispatcher running
 * (mm_dispatch_start) for scheduled tasks and lost agents.
 */
#ifndef SPMIG_MM_API_H
#define SPMIG_MM_API_H

/* Registers the /api/mm/ prefix (sp_routes.h). Call once at start. */
void mm_api_register(void);

#endif
