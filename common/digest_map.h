/*
 * digest_map.h: an open-addressing hash map from byte strings to int64 values that keeps no
 * keys: a slot holds a 128-bit keyed digest of its key (two 64-bit hash chains seeded from
 * the RNG per map), so a map costs 24 bytes a slot and no allocation per key, and keys an
 * attacker chooses cannot be made to collide. Two different keys of one map share a digest
 * (and so one slot) with a probability of about n^2 / 2^129; users accept that.
 */
#ifndef SPMIG_DIGEST_MAP_H
#define SPMIG_DIGEST_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct digest_map_slot; /* 24 bytes: the digest and the value */

/* Caller-owned; all zero (or digest_map_init) is an empty map. Not thread-safe. */
struct digest_map {
    struct digest_map_slot *slots;
    size_t cap, n;           /* cap: 0 or a power of two; n: keys held */
    uint64_t seed_a, seed_b; /* drawn when the first key goes in */
};

void digest_map_init(struct digest_map *m);
/* Frees the slots; m is then an empty map again (a later put draws new seeds). */
void digest_map_finish(struct digest_map *m);

/* Whether key (len bytes, any bytes) is in m; its value goes to *val if val is not NULL. */
bool digest_map_get(const struct digest_map *m, const void *key, size_t len, int64_t *val);
/* Adds key with val, or gives a key already there val (any int64). Returns whether key was
 * new. Grows m as needed (out of memory aborts). */
bool digest_map_put(struct digest_map *m, const void *key, size_t len, int64_t val);
/* Number of keys in m. */
size_t digest_map_count(const struct digest_map *m);

#endif
