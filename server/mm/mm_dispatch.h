/*
 * mm_dispatch.h: Migration Manager's dispatcher. The rules that match tasks and agents (an
 * agent's state, which share holds a source, how many slots are free), the wake-up of
 * waiting heartbeats when a task becomes runnable, and the thread that starts scheduled
 * tasks when the emulator clock reaches them and sends the tasks of lost agents back to the
 * queue. State lives in mm_store; HTTP in mm_agent_api and mm_api.
 */
#ifndef SPMIG_MM_DISPATCH_H
#define SPMIG_MM_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "mm_store.h"

/* Sets the disconnect timeout and the grace before a lost agent's tasks go back to the
 * queue (seconds), without starting the thread (unit tests). */
void mm_dispatch_init(unsigned timeout_s, unsigned grace_s);
/* mm_dispatch_init, every agent given the timeout from now, and the sweeper thread. 0/-1. */
int mm_dispatch_start(unsigned timeout_s, unsigned grace_s);
void mm_dispatch_stop(void);
unsigned mm_dispatch_timeout_s(void);

/* A task became runnable (or an agent's orders changed): wakes every waiting heartbeat. */
void mm_dispatch_wake(void);
/* The current wake generation, and a wait until it moves past gen or until deadline
 * (real milliseconds, clock_real_ms). Returns the new generation. */
uint64_t mm_dispatch_generation(void);
uint64_t mm_dispatch_wait(uint64_t gen, int64_t deadline);
/* True once mm_dispatch_stop began: waits no longer wait. */
bool mm_dispatch_stopping(void);

/* True if share (a path) holds source: equal, or source continues it after a separator
 * ('\' or '/'), compared per path component without case. */
bool mm_dispatch_share_holds(const char *share, const char *source);
/* True if one of the readable shares of shares_json holds source. */
bool mm_dispatch_shares_hold(const char *shares_json, const char *source);
/* Connected: called within the timeout (on the emulator clock). */
bool mm_dispatch_live(const struct mm_agent *a);
/* Enabled, Disabled, InUse or Disconnected (in that order of precedence: Disconnected,
 * Disabled, InUse). */
const char *mm_dispatch_agent_state(const struct mm_agent *a, int running);
/* Slots the agent can take now (0 when disabled or disconnected). */
int mm_dispatch_slots(const struct mm_agent *a, int running);
/* Assigns tasks to agent a: each given to fn; returns how many. */
int mm_dispatch_assign(const struct mm_agent *a, void (*fn)(void *ctx, const struct mm_task *t),
                       void *ctx);
/* Why a Queued task waits ("" when an agent could take it now): into out (cap bytes). */
void mm_dispatch_waiting_reason(const struct mm_task *t, char *out, size_t cap);
/* One sweep at emulator time now: due schedules queued, lost agents' tasks requeued. Returns
 * how many tasks became runnable. */
int mm_dispatch_sweep(int64_t now);

#endif
