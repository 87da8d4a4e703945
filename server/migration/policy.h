/*
 * policy.h: the lifecycle policies (key and queue SAS lifetimes, data deletion and purge
 * ranges for provisioned containers and queues, the soft-delete grace, job progress
 * retention), their defaults from the real service, parsing from the --config "policies"
 * object, validation, and the reproducible draws. Pure: no database, no clock.
 */
#ifndef SPMIG_POLICY_H
#define SPMIG_POLICY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_DAY_MS (24LL * 3600 * 1000)

/* A duration drawn uniformly from [min_ms, max_ms]; min == max is a fixed value. */
struct policy_range {
    int64_t min_ms, max_ms;
};

struct policy {
    int64_t key_ttl_ms;                        /* container SAS: 3 days */
    int64_t queue_sas_ttl_ms;                  /* queue SAS: 21 days */
    struct policy_range container_data_delete; /* 4..30 days after creation */
    struct policy_range container_purge;       /* 30..90 days after creation */
    struct policy_range queue_data_delete;     /* 4..30 days */
    struct policy_range queue_purge;           /* 30..90 days */
    int64_t soft_delete_grace_ms;              /* soft-deleted bytes kept: 1 day */
    int64_t progress_keep_ms;                  /* job progress after the end: 4 days */
};

/* Fills p with the real service's defaults. */
void policy_defaults(struct policy *p);
/*
 * Applies a "policies" JSON object over p. A value is a number of days (fractions allowed),
 * an ISO 8601 duration string ("P3D", "PT36H"), or for a range {"min":..,"max":..} or a single
 * value (fixed). Unknown keys, wrong types and invalid policies fail: returns -1 with a
 * one-line reason in why. Validates the result (policy_validate).
 */
int policy_parse(struct policy *p, const cJSON *o, char *why, size_t cap);
/* Checks ranges: positive, min <= max, at most 10 years, data deletion not after purge. */
int policy_validate(const struct policy *p, char *why, size_t cap);
/*
 * Draws a duration from r. Reproducible: the result depends only on (seed, seq, salt), so two
 * servers with the same seed that provision in the same order draw the same schedule. Whole
 * days when both bounds are whole days.
 */
int64_t policy_draw(const struct policy_range *r, uint64_t seed, uint64_t seq, unsigned salt);

#endif
