/*
 * web_page.h: the Migration center at / on the SharePoint listener. Serves the embedded files
 * (web_assets.h) to anyone, without a token: the page signs in itself and calls /api/mm and
 * /_emu with a bearer token. What each answer carries is decided by web_page_plan, which the
 * handler and the unit tests share.
 */
#ifndef SPMIG_WEB_PAGE_H
#define SPMIG_WEB_PAGE_H

#include <stdbool.h>

#include "web_assets.h"

/* Every answer of the page carries this policy: nothing from other hosts, no inline script or
 * style, never framed. */
#define WEB_PAGE_CSP                                                                               \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "                 \
    "frame-ancestors 'none'"

/* Assets are not fingerprinted, so browsers keep them but ask again each time (ETag). */
#define WEB_PAGE_CACHE_CONTROL "no-cache"

struct web_page_plan {
    unsigned status;               /* 200, 304, 404 or 405 */
    const struct web_asset *asset; /* for 200 and 304 */
    bool gzip;                     /* send asset->gz with Content-Encoding: gzip */
    char etag[40];                 /* the quoted ETag of the variant sent, for 200 and 304 */
};

/* What to answer to method path (decoded, "/" meaning /index.html) for a client that sent
 * accept_encoding and if_none_match (either may be NULL). */
void web_page_plan(const char *method, const char *path, const char *accept_encoding,
                   const char *if_none_match, struct web_page_plan *out);

/* Whether an Accept-Encoding value allows gzip (a "gzip" or "*" coding whose q is not 0). */
bool web_page_accepts_gzip(const char *accept_encoding);

/* Registers the root route "/" with the SharePoint listener (sp_routes). */
void web_page_register(void);

#endif
