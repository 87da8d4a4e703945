/*
 * sp_routes.h: the SharePoint listener's route table. It is filled once at start, before the
 * listener runs (main.c has each subsystem register itself), and only read afterwards, so it
 * needs no lock. A subsystem registers a path prefix it serves whole (/_emu/, /api/mm/, the
 * web page at /) or the methods it serves on /_api/site/ (the Migration API). sp_api routes
 * through it and never names a subsystem.
 */
#ifndef SPMIG_SP_ROUTES_H
#define SPMIG_SP_ROUTES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "sp_auth.h"
#include "sp_call.h"

/* Serves a request under a registered prefix, after its JSON body was parsed (body NULL if
 * there is none; a body that is not a JSON object never gets here) and its bearer token
 * checked (who NULL when the caller did not authenticate: the handler decides whether that
 * is allowed). It always replies. */
typedef void sp_routes_prefix_fn(struct http_request *req, const struct sp_auth_principal *who,
                                 cJSON *body);
/* Serves /_api/site/<name> for an authenticated caller who may read c->site. */
typedef void sp_routes_method_fn(struct http_request *req, struct sp_call *c);

struct sp_routes_method {
    const char *name; /* matched case-insensitively, as SharePoint does */
    bool post_only;   /* other methods get 405 */
    sp_routes_method_fn *fn;
};

/* The most routes of each kind; registering more is a programming error (assert). */
#define SP_ROUTES_MAX_PREFIXES 16
#define SP_ROUTES_MAX_METHODS  64

/* prefix ("/_emu/") must stay valid; it matches paths that start with it. The longest
 * registered prefix wins, except that the root prefix "/" gets a REST call (a path holding
 * "/_api") only when sp_api does not serve it. */
void sp_routes_add_prefix(const char *prefix, sp_routes_prefix_fn *fn);
/* Like sp_routes_add_prefix, for a subsystem that takes bodies other than JSON objects (CSV,
 * report files): the handler always gets body NULL and reads req->body (at most body_max
 * bytes, else the listener answers 413). */
void sp_routes_add_prefix_raw(const char *prefix, sp_routes_prefix_fn *fn, size_t body_max);
/* methods[0..n) must stay valid (static storage). */
void sp_routes_add_site_methods(const struct sp_routes_method *methods, size_t n);

/* The handler of the longest prefix path starts with, or NULL; *root tells whether it is the
 * root prefix "/". */
sp_routes_prefix_fn *sp_routes_prefix(const char *path, bool *root);
/* The registered site method called name, or NULL. */
const struct sp_routes_method *sp_routes_site_method(const char *name);

/* For the prefix path falls under: whether it takes raw bodies (false when no prefix does),
 * and its body limit (*body_max; left alone unless raw). */
bool sp_routes_prefix_raw(const char *path, size_t *body_max);

/* Forgets every route (for tests that register their own). */
void sp_routes_reset(void);

#endif
