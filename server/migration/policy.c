/*
 * policy.c: lifecycle policy values: defaults, the "policies" JSON object of --config,
 * validation with one-line reasons, and the seeded draws (splitmix64 over seed, sequence
 * and salt). Applying a schedule is lifecycle.c's business.
 */
#include "policy.h"
#include "timefmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_MS (3650LL * POLICY_DAY_MS)

void policy_defaults(struct policy *p)
{
    p->key_ttl_ms = 3 * POLICY_DAY_MS;
    p->queue_sas_ttl_ms = 21 * POLICY_DAY_MS;
    p->container_data_delete = (struct policy_range){4 * POLICY_DAY_MS, 30 * POLICY_DAY_MS};
    p->container_purge = (struct policy_range){30 * POLICY_DAY_MS, 90 * POLICY_DAY_MS};
    p->queue_data_delete = p->container_data_delete;
    p->queue_purge = p->container_purge;
    p->soft_delete_grace_ms = POLICY_DAY_MS;
    p->progress_keep_ms = 4 * POLICY_DAY_MS;
}

/* A number of days or an ISO 8601 duration; -1 with why filled on a bad value. */
static int parse_duration(const cJSON *v, const char *name, int64_t *ms, char *why, size_t cap)
{
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!isfinite(d) || d < 0 || d * POLICY_DAY_MS > (double)MAX_MS) {
            snprintf(why, cap, "policy %s: %g days is negative or longer than 3650 days", name, d);
            return -1;
        }
        *ms = (int64_t)(d * POLICY_DAY_MS + 0.5);
        return 0;
    }
    if (cJSON_IsString(v)) {
        if (v->valuestring[0] == '-') {
            snprintf(why, cap, "policy %s: \"%s\" is negative", name, v->valuestring);
            return -1;
        }
        if (timefmt_parse_duration(v->valuestring, ms) == 0 && *ms >= 0)
            return 0;
        snprintf(why, cap, "policy %s: \"%s\" is not an ISO 8601 duration such as P3D", name,
                 v->valuestring);
        return -1;
    }
    snprintf(why, cap, "policy %s: expected a number of days or an ISO 8601 duration", name);
    return -1;
}

static int parse_range(const cJSON *v, const char *name, struct policy_range *r, char *why,
                       size_t cap)
{
    if (!cJSON_IsObject(v)) {
        int64_t ms;
        if (parse_duration(v, name, &ms, why, cap) < 0)
            return -1;
        r->min_ms = r->max_ms = ms;
        return 0;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (strcmp(it->string, "min") != 0 && strcmp(it->string, "max") != 0) {
            snprintf(why, cap, "policy %s: unknown key \"%s\" (use \"min\" and \"max\")", name,
                     it->string);
            return -1;
        }
    }
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(v, "min");
    const cJSON *mx = cJSON_GetObjectItemCaseSensitive(v, "max");
    if (mn && parse_duration(mn, name, &r->min_ms, why, cap) < 0)
        return -1;
    if (mx && parse_duration(mx, name, &r->max_ms, why, cap) < 0)
        return -1;
    return 0;
}

int policy_parse(struct policy *p, const cJSON *o, char *why, size_t cap)
{
    if (!cJSON_IsObject(o)) {
        snprintf(why, cap, "\"policies\" must be a JSON object");
        return -1;
    }
    static const struct {
        const char *name;
        size_t off;
        bool range;
    } keys[] = {
        {"key_ttl", offsetof(struct policy, key_ttl_ms), false},
        {"queue_sas_ttl", offsetof(struct policy, queue_sas_ttl_ms), false},
        {"container_data_deletion", offsetof(struct policy, container_data_delete), true},
        {"container_purge", offsetof(struct policy, container_purge), true},
        {"queue_data_deletion", offsetof(struct policy, queue_data_delete), true},
        {"queue_purge", offsetof(struct policy, queue_purge), true},
        {"soft_delete_grace", offsetof(struct policy, soft_delete_grace_ms), false},
        {"progress_keep", offsetof(struct policy, progress_keep_ms), false},
    };
    const cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        size_t i = 0;
        while (i < sizeof keys / sizeof keys[0] && strcmp(keys[i].name, it->string) != 0)
            i++;
        if (i == sizeof keys / sizeof keys[0]) {
            snprintf(why, cap, "unknown policy \"%s\"", it->string);
            return -1;
        }
        char *field = (char *)p + keys[i].off;
        int rc = keys[i].range ? parse_range(it, it->string, (struct policy_range *)field, why, cap)
                               : parse_duration(it, it->string, (int64_t *)field, why, cap);
        if (rc < 0)
            return -1;
    }
    return policy_validate(p, why, cap);
}

static int check_range(const struct policy_range *r, const char *name, char *why, size_t cap)
{
    if (r->min_ms < 0 || r->max_ms < 0 || r->max_ms > MAX_MS) {
        snprintf(why, cap, "policy %s: must be between 0 and 3650 days", name);
        return -1;
    }
    if (r->min_ms > r->max_ms) {
        snprintf(why, cap, "policy %s: min is greater than max", name);
        return -1;
    }
    return 0;
}

int policy_validate(const struct policy *p, char *why, size_t cap)
{
    const struct {
        int64_t v;
        const char *name;
    } single[] = {{p->key_ttl_ms, "key_ttl"},
                  {p->queue_sas_ttl_ms, "queue_sas_ttl"},
                  {p->soft_delete_grace_ms, "soft_delete_grace"},
                  {p->progress_keep_ms, "progress_keep"}};
    for (size_t i = 0; i < sizeof single / sizeof single[0]; i++) {
        if (single[i].v < 0 || single[i].v > MAX_MS) {
            snprintf(why, cap, "policy %s: must be between 0 and 3650 days", single[i].name);
            return -1;
        }
    }
    if (p->key_ttl_ms == 0 || p->queue_sas_ttl_ms == 0) {
        snprintf(why, cap, "policy %s: must be longer than zero",
                 p->key_ttl_ms == 0 ? "key_ttl" : "queue_sas_ttl");
        return -1;
    }
    if (check_range(&p->container_data_delete, "container_data_deletion", why, cap) < 0 ||
        check_range(&p->container_purge, "container_purge", why, cap) < 0 ||
        check_range(&p->queue_data_delete, "queue_data_deletion", why, cap) < 0 ||
        check_range(&p->queue_purge, "queue_purge", why, cap) < 0)
        return -1;
    if (p->container_data_delete.max_ms > p->container_purge.min_ms) {
        snprintf(why, cap,
                 "policies: container data deletion (max) comes after the container "
                 "purge (min)");
        return -1;
    }
    if (p->queue_data_delete.max_ms > p->queue_purge.min_ms) {
        snprintf(why, cap, "policies: queue data deletion (max) comes after the queue purge (min)");
        return -1;
    }
    return 0;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

int64_t policy_draw(const struct policy_range *r, uint64_t seed, uint64_t seq, unsigned salt)
{
    if (r->max_ms <= r->min_ms)
        return r->min_ms;
    uint64_t h = splitmix64(splitmix64(seed ^ splitmix64(seq)) + salt);
    if (r->min_ms % POLICY_DAY_MS == 0 && r->max_ms % POLICY_DAY_MS == 0) {
        uint64_t days = (uint64_t)((r->max_ms - r->min_ms) / POLICY_DAY_MS) + 1;
        return r->min_ms + (int64_t)(h % days) * POLICY_DAY_MS;
    }
    uint64_t span = (uint64_t)(r->max_ms - r->min_ms) + 1;
    return r->min_ms + (int64_t)(h % span);
}
