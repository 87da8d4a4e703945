/*
 * emu_api.h: /_emu, the emulator's own controls: health, sites, users (and, with their
 * issues, faults, clock, containers, audit). Admin only, except the health check.
 */
#ifndef SPMIG_EMU_API_H
#define SPMIG_EMU_API_H

/* Registers the /_emu/ prefix on the SharePoint listener (sp_routes.h). Call once at start. */
void emu_api_register(void);

#endif
