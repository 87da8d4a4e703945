/*
 * audit.h: the audit log: what the lifecycle policies did to provisioned names, what was
 * provisioned, clock moves, and every refused access, at emulator time, in the audit table.
 * Any layer may write to it; only /_emu/audit reads it.
 */
#ifndef SPMIG_AUDIT_H
#define SPMIG_AUDIT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"

/* Entries are written only between audit_start and audit_stop (before the database is open
 * and after it closes, a refusal still answers but leaves no entry). */
void audit_start(void);
void audit_stop(void);

/* Appends an entry in its own write transaction. Never logs secrets: callers pass names and
 * reasons only. Failures are logged and otherwise ignored. */
void audit_record(const char *kind, const char *subject, const char *detail);
/* Appends an entry inside the write transaction d holds, so it commits or rolls back with
 * the change it describes. 0 or -1. */
int audit_record_tx(struct db *d, const char *kind, const char *subject, const char *detail);

/* {"value":[...],"nextSkipToken":...} newest first, at most top (1..1000), ids below
 * skiptoken (0: from the newest). Caller frees with cJSON_Delete. */
cJSON *audit_json(unsigned top, int64_t skiptoken);

#endif
