/*
 * sp_routes.c: the route table behind sp_routes.h: two small arrays filled at start and
 * searched linearly (a handful of entries). It knows no subsystem and serves no request.
 */
#include "sp_routes.h"

#include <assert.h>
#include <string.h>
#include <strings.h>

static struct {
    const char *prefix;
    sp_routes_prefix_fn *fn;
    bool raw;
    size_t body_max;
} prefixes[SP_ROUTES_MAX_PREFIXES];
static size_t nprefixes;

static const struct sp_routes_method *methods[SP_ROUTES_MAX_METHODS];
static size_t nmethods;

void sp_routes_add_prefix(const char *prefix, sp_routes_prefix_fn *fn)
{
    sp_routes_add_prefix_raw(prefix, fn, 0);
    prefixes[nprefixes - 1].raw = false;
}

void sp_routes_add_prefix_raw(const char *prefix, sp_routes_prefix_fn *fn, size_t body_max)
{
    assert(prefix && prefix[0] == '/' && fn);
    assert(nprefixes < SP_ROUTES_MAX_PREFIXES);
    for (size_t i = 0; i < nprefixes; i++)
        assert(strcmp(prefixes[i].prefix, prefix) != 0);
    prefixes[nprefixes].prefix = prefix;
    prefixes[nprefixes].fn = fn;
    prefixes[nprefixes].raw = true;
    prefixes[nprefixes].body_max = body_max;
    nprefixes++;
}

void sp_routes_add_site_methods(const struct sp_routes_method *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert(m[i].name && m[i].fn);
        assert(nmethods < SP_ROUTES_MAX_METHODS);
        assert(!sp_routes_site_method(m[i].name));
        methods[nmethods++] = &m[i];
    }
}

/* The index of the longest prefix path starts with, or -1; *len its length. */
static int longest(const char *path, size_t *len)
{
    size_t best = 0;
    int at = -1;
    for (size_t i = 0; path && i < nprefixes; i++) {
        size_t n = strlen(prefixes[i].prefix);
        if (n > best && strncmp(path, prefixes[i].prefix, n) == 0) {
            best = n;
            at = (int)i;
        }
    }
    *len = best;
    return at;
}

sp_routes_prefix_fn *sp_routes_prefix(const char *path, bool *root)
{
    size_t best;
    int at = longest(path, &best);
    if (root)
        *root = best == 1;
    return at < 0 ? NULL : prefixes[at].fn;
}

bool sp_routes_prefix_raw(const char *path, size_t *body_max)
{
    size_t best;
    int at = longest(path, &best);
    if (at < 0 || !prefixes[at].raw)
        return false;
    *body_max = prefixes[at].body_max;
    return true;
}

const struct sp_routes_method *sp_routes_site_method(const char *name)
{
    for (size_t i = 0; i < nmethods; i++)
        if (strcasecmp(methods[i]->name, name) == 0)
            return methods[i];
    return NULL;
}

void sp_routes_reset(void)
{
    nprefixes = nmethods = 0;
}
