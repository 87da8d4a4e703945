/*
 * digest_map.c: the digest-keyed hash map of digest_map.h: the keyed 128-bit digest, linear
 * probing, growth to keep the load under three quarters. What keys and values mean is the
 * user's (common/package.c: ids of a package; server/sharepoint/sp_import.c: what a job
 * staged); there is no removal and no iteration.
 */
#include "digest_map.h"
#include "crypto.h"
#include "xmalloc.h"

#include <stdlib.h>
#include <string.h>

/* A slot is unused while its digest is all zero; digest() never makes that one. */
struct digest_map_slot {
    uint64_t a, b; /* the digest */
    int64_t val;
};

void digest_map_init(struct digest_map *m)
{
    memset(m, 0, sizeof *m);
}

void digest_map_finish(struct digest_map *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

size_t digest_map_count(const struct digest_map *m)
{
    return m->n;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void digest(const struct digest_map *m, const void *key, size_t len, uint64_t *a,
                   uint64_t *b)
{
    const unsigned char *p = key;
    uint64_t x = m->seed_a ^ len, y = m->seed_b ^ (len * 0x9e3779b97f4a7c15ULL);
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = 0;
        memcpy(&w, p + i, len - i < 8 ? len - i : 8);
        x = mix(x ^ w);
        y = mix(y + (w ^ 0xd6e8feb86659fd93ULL)) ^ x;
    }
    *a = mix(x);
    *b = mix(y ^ *a);
    if (!(*a | *b)) /* the mark of an unused slot */
        *b = 1;
}

static bool unused(const struct digest_map_slot *s)
{
    return !(s->a | s->b);
}

/* The slot holding digest (a, b), or the unused slot where it would go; cap > n. */
static struct digest_map_slot *find(const struct digest_map *m, uint64_t a, uint64_t b)
{
    size_t i = (size_t)a & (m->cap - 1);
    for (;;) {
        struct digest_map_slot *s = &m->slots[i];
        if (unused(s) || (s->a == a && s->b == b))
            return s;
        i = (i + 1) & (m->cap - 1);
    }
}

bool digest_map_get(const struct digest_map *m, const void *key, size_t len, int64_t *val)
{
    if (!m->n)
        return false;
    uint64_t a, b;
    digest(m, key, len, &a, &b);
    const struct digest_map_slot *s = find(m, a, b);
    if (unused(s))
        return false;
    if (val)
        *val = s->val;
    return true;
}

bool digest_map_put(struct digest_map *m, const void *key, size_t len, int64_t val)
{
    if (!m->cap) {
        crypto_random(&m->seed_a, sizeof m->seed_a);
        crypto_random(&m->seed_b, sizeof m->seed_b);
    }
    if ((m->n + 1) * 4 > m->cap * 3) { /* keep the load under three quarters */
        struct digest_map old = *m;
        m->cap = old.cap ? old.cap * 2 : 64;
        m->slots = xcalloc(m->cap, sizeof *m->slots);
        for (size_t i = 0; i < old.cap; i++)
            if (!unused(&old.slots[i]))
                *find(m, old.slots[i].a, old.slots[i].b) = old.slots[i];
        free(old.slots);
    }
    uint64_t a, b;
    digest(m, key, len, &a, &b);
    struct digest_map_slot *s = find(m, a, b);
    bool added = unused(s);
    if (added) {
        s->a = a;
        s->b = b;
        m->n++;
    }
    s->val = val;
    return added;
}
