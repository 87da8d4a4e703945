/*
 * faults.h: throttling and injected failures for the SharePoint listener, switched on through
 * /_emu/faults so clients can prove they cope: 429 or 503 with Retry-After, per user or for
 * the whole tenant, for every call or for named operations, a given number of times or until
 * cleared. Rules live in memory only; they are test controls, not state.
 */
#ifndef SPMIG_FAULTS_H
#define SPMIG_FAULTS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

struct fault_hit {
    unsigned status;      /* 429, 503 or 500 */
    unsigned retry_after; /* seconds; 0 for none */
};

/*
 * Adds a rule from its JSON form {"status":429,"retryAfter":5,"user":"login",
 * "operation":"CreateMigrationJobEncrypted","count":3}; all but status optional (user: any,
 * operation: any, count: until cleared). Returns the rule's id, or -1 with a reason in why.
 */
int faults_add(const cJSON *rule, char *why, size_t cap);
/* The rules as a JSON array (the caller frees it). */
cJSON *faults_list(void);
/* Removes every rule. */
void faults_clear(void);
/* Whether a call of operation by login is hit by a rule (using one of its counts). */
bool faults_check(const char *login, const char *operation, struct fault_hit *hit);
/* Whether a rule names operation itself (rules for every operation do not count); uses no
 * count. The timer job asks it for FAULTS_IMPORT_JOB: while such a rule is set, queued jobs
 * stay queued, as on a farm too busy to take them, so clients can test their job timeouts. */
#define FAULTS_IMPORT_JOB "ImportJob"
bool faults_named(const char *operation);

#endif
