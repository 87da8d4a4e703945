/*
 * faults.c: the fault rules of faults.h in a small array under a mutex. Checking a call is a
 * scan of the rules (there are a handful), done before the call does any work.
 */
#include "faults.h"
#include "xmalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_RULES 64

struct rule {
    int id;
    unsigned status, retry_after;
    char *user, *operation;
    long remaining; /* -1: until cleared */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct rule rules[MAX_RULES];
static size_t nrules;
static int next_id = 1;

static void rule_free(struct rule *r)
{
    free(r->user);
    free(r->operation);
    memset(r, 0, sizeof *r);
}

int faults_add(const cJSON *in, char *why, size_t cap)
{
    const cJSON *status = cJSON_GetObjectItem(in, "status");
    const cJSON *retry = cJSON_GetObjectItem(in, "retryAfter");
    const cJSON *user = cJSON_GetObjectItem(in, "user");
    const cJSON *op = cJSON_GetObjectItem(in, "operation");
    const cJSON *count = cJSON_GetObjectItem(in, "count");
    if (!cJSON_IsNumber(status) ||
        (status->valueint != 429 && status->valueint != 503 && status->valueint != 500)) {
        snprintf(why, cap, "\"status\" must be 429, 503 or 500.");
        return -1;
    }
    if ((retry &&
         (!cJSON_IsNumber(retry) || retry->valuedouble < 0 || retry->valuedouble > 3600)) ||
        (user && !cJSON_IsString(user)) || (op && !cJSON_IsString(op)) ||
        (count && (!cJSON_IsNumber(count) || count->valuedouble < 1))) {
        snprintf(why, cap,
                 "\"retryAfter\" is 0..3600 seconds, \"user\" and \"operation\" are "
                 "strings, \"count\" is at least 1.");
        return -1;
    }
    pthread_mutex_lock(&lock);
    if (nrules == MAX_RULES) {
        pthread_mutex_unlock(&lock);
        snprintf(why, cap, "At most %d fault rules at once.", MAX_RULES);
        return -1;
    }
    struct rule *r = &rules[nrules++];
    r->id = next_id++;
    r->status = (unsigned)status->valueint;
    r->retry_after = retry ? (unsigned)retry->valuedouble : (r->status == 500 ? 0 : 1);
    r->user = user ? xstrdup(user->valuestring) : NULL;
    r->operation = op ? xstrdup(op->valuestring) : NULL;
    r->remaining = count ? (long)count->valuedouble : -1;
    int id = r->id;
    pthread_mutex_unlock(&lock);
    return id;
}

cJSON *faults_list(void)
{
    cJSON *arr = cJSON_CreateArray();
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nrules; i++) {
        const struct rule *r = &rules[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", r->id);
        cJSON_AddNumberToObject(o, "status", r->status);
        cJSON_AddNumberToObject(o, "retryAfter", r->retry_after);
        if (r->user)
            cJSON_AddStringToObject(o, "user", r->user);
        if (r->operation)
            cJSON_AddStringToObject(o, "operation", r->operation);
        if (r->remaining >= 0)
            cJSON_AddNumberToObject(o, "count", (double)r->remaining);
        cJSON_AddItemToArray(arr, o);
    }
    pthread_mutex_unlock(&lock);
    return arr;
}

void faults_clear(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nrules; i++)
        rule_free(&rules[i]);
    nrules = 0;
    pthread_mutex_unlock(&lock);
}

bool faults_named(const char *operation)
{
    bool found = false;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nrules && !found; i++)
        found = rules[i].operation && strcasecmp(rules[i].operation, operation) == 0;
    pthread_mutex_unlock(&lock);
    return found;
}

bool faults_check(const char *login, const char *operation, struct fault_hit *hit)
{
    bool found = false;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nrules && !found; i++) {
        struct rule *r = &rules[i];
        if (r->user && (!login || strcasecmp(r->user, login) != 0))
            continue;
        if (r->operation && (!operation || strcasecmp(r->operation, operation) != 0))
            continue;
        hit->status = r->status;
        hit->retry_after = r->retry_after;
        found = true;
        if (r->remaining > 0 && --r->remaining == 0) {
            rule_free(r);
            rules[i] = rules[--nrules];
            memset(&rules[nrules], 0, sizeof rules[nrules]);
        }
    }
    pthread_mutex_unlock(&lock);
    return found;
}
