/*
 * lifecycle.h: what time does to provisioned containers and queues. Each one gets a schedule
 * at provisioning (key expiry, data de-link, removal of the soft-deleted bytes, purge) kept
 * as rows of a deadlines table; a sweeper thread applies every deadline the emulator clock
 * has passed. Also moving the clock (persisted, forward only).
 */
#ifndef SPMIG_LIFECYCLE_H
#define SPMIG_LIFECYCLE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* Takes the policies and seed (copied) and starts the sweeper, which first catches up with
 * every deadline already due. 0 or -1. */
int lifecycle_start(const struct policy *p, bool has_seed, uint64_t seed);
void lifecycle_stop(void);
/* The policies in force (defaults before lifecycle_start). */
const struct policy *lifecycle_policy(void);

/* Records a freshly provisioned name of site_id (the provisioned table's one writer), draws
 * its schedule, writes its deadlines and audits the provision, in one transaction. 0; 1 if
 * the name was ever provisioned before (nothing is written); -1 on failure. */
int lifecycle_provision(const char *name, bool queue, int64_t site_id, int64_t created_ms,
                        int64_t key_expiry_ms);

/* Moves the clock to offset (ms): persists it, then applies it and wakes the sweeper. 0;
 * LIFECYCLE_CLOCK_REFUSED if it would move the clock backwards or past LIMIT_TIME_MAX_MS;
 * LIFECYCLE_CLOCK_FAILED if it cannot be persisted (the clock does not move). */
#define LIFECYCLE_CLOCK_REFUSED (-1)
#define LIFECYCLE_CLOCK_FAILED  (-2)
int lifecycle_clock_set_offset(int64_t offset_ms);

/* Applies at most max (capped at 256) deadlines due now; returns how many were applied (a
 * failed one stays for a later sweep), or -1. The sweeper's step. */
int lifecycle_sweep(unsigned max);
/* Deadlines due now and not applied yet. */
int64_t lifecycle_due_count(void);

/* The earliest deadline not applied yet (ms on the emulator clock), or -1 if none. */
int64_t lifecycle_next_deadline_ms(void);

/* {"containers":[...]} every provisioned name with its schedule and state, oldest first.
 * Caller frees. */
cJSON *lifecycle_containers_json(void);
/* The same for one page, newest first: at most top names after skipping skip; *more tells
 * whether more follow. Caller frees. */
cJSON *lifecycle_containers_page_json(int64_t skip, unsigned top, bool *more);
#endif
