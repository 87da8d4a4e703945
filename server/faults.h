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

#endif
