/*
 * mm_fixture.h: what the Migration Manager unit tests share over a store opened by
 * store_fixture: making an agent and a task in one call, and reading a task's status.
 */
#ifndef SPMIG_MM_FIXTURE_H
#define SPMIG_MM_FIXTURE_H

#include <stdint.h>

#include "mm_store.h"

/* Registers an agent (group NULL: Default) with shares (JSON) and max slots; id receives
 * its id. Fails the test on error. */
void mm_fixture_agent(const char *name, const char *group, const char *shares, int max,
                      char id[UUID_BUF]);
/* Inserts a task of source into group (schedule 0: none) to /sites/x, library L. */
void mm_fixture_task(const char *source, const char *group, int64_t schedule, char id[UUID_BUF]);
/* The task's status (a static buffer, valid until the next call). */
const char *mm_fixture_status(const char *id);
/* Stores text as report name of task (deflated, as the agent API keeps it). The store's
 * answer. */
int mm_fixture_report_put(const char *task, const char *agent, const char *name, int round,
                          const char *text);
/* A report's bytes, inflated (malloc'd, the caller frees), or NULL when there is none. */
char *mm_fixture_report(const char *task, const char *name, size_t *n);

#endif
