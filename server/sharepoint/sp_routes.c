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
} prefixes[SP_ROUTES_MAX_PREFIXES];
static size_t nprefixes;

static const struct sp_routes_method *methods[SP_ROUTES_MAX_METHODS];
static size_t nmethods;

void sp_routes_add_prefix(const char *prefix, sp_routes_prefix_fn *fn)
{
    assert(prefix && prefix[0] == '/' && fn);
    assert(nprefixes < SP_ROUTES_MAX_PREFIXES);
    for (size_t i = 0; i < nprefixes; i++)
        assert(strcmp(prefixes[i].prefix, prefix) != 0);
    prefixes[nprefixes].prefix = prefix;
    prefixes[nprefixes].fn = fn;
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

sp_routes_prefix_fn *sp_routes_prefix(const char *path, bool *root)
{
    size_t best = 0;
    sp_routes_prefix_fn *fn = NULL;
    for (size_t i = 0; i < nprefixes; i++) {
        size_t n = strlen(prefixes[i].prefix);
        if (n > best && strncmp(path, prefixes[i].prefix, n) == 0) {
            best = n;
            fn = prefixes[i].fn;
        }
    }
    if (root)
        *root = best == 1;
    return fn;
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
