/*
 * web_page.c: serves the Migration center's embedded files at / on the SharePoint listener,
 * with content types, gzip when the client takes it, ETag revalidation and the security
 * headers (CSP, nosniff, no framing). It does not know what the page does: that is the
 * JavaScript in web/, which talks to /api/mm and /_emu like any client.
 */
#include "web_page.h"
#include "http.h"
#include "odata.h"
#include "sp_routes.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct web_asset *find_asset(const char *path)
{
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0)
        path = "/index.html";
    for (size_t i = 0; i < web_asset_count; i++)
        if (strcmp(web_assets[i].path, path) == 0)
            return &web_assets[i];
    return NULL;
}

/* Steps over optional white space. */
static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

bool web_page_accepts_gzip(const char *accept_encoding)
{
    const char *p = accept_encoding;
    while (p && *p) {
        p = skip_ws(p);
        size_t n = strcspn(p, ",;");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        bool named = (n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 1 && *p == '*');
        p += strcspn(p, ",;");
        double q = 1.0;
        while (*p == ';') { /* parameters: only q matters */
            p = skip_ws(p + 1);
            if ((p[0] == 'q' || p[0] == 'Q') && skip_ws(p + 1)[0] == '=')
                q = strtod(skip_ws(skip_ws(p + 1) + 1), NULL);
            p += strcspn(p, ",;");
        }
        if (named && q > 0.0)
            return true;
        if (*p == ',')
            p++;
    }
    return false;
}

/* Whether an If-None-Match list names etag (quoted) or is "*"; weak tags compare weakly. */
static bool etag_listed(const char *list, const char *etag)
{
    size_t len = strlen(etag);
    const char *p = list;
    while (p && *p) {
        p = skip_ws(p);
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, len) == 0 && (p[len] == ',' || p[len] == ' ' || p[len] == '\0'))
            return true;
        p = strchr(p, ',');
        if (p)
            p++;
    }
    return false;
}

void web_page_plan(const char *method, const char *path, const char *accept_encoding,
                   const char *if_none_match, struct web_page_plan *out)
{
    memset(out, 0, sizeof *out);
    out->asset = path ? find_asset(path) : NULL;
    if (!out->asset) {
        out->status = 404;
        return;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        out->status = 405;
        return;
    }
    out->gzip = web_page_accepts_gzip(accept_encoding);
    snprintf(out->etag, sizeof out->etag, "\"%s%s\"", out->asset->etag, out->gzip ? "-gz" : "");
    out->status = if_none_match && etag_listed(if_none_match, out->etag) ? 304 : 200;
}

static void security_headers(struct http_request *req)
{
    http_set_header(req, "Content-Security-Policy", WEB_PAGE_CSP);
    http_set_header(req, "X-Content-Type-Options", "nosniff");
    http_set_header(req, "X-Frame-Options", "DENY");
    http_set_header(req, "Referrer-Policy", "no-referrer");
    http_set_header(req, "Cross-Origin-Opener-Policy", "same-origin");
}

static void handle(struct http_request *req, const struct sp_auth_principal *who, cJSON *body)
{
    struct web_page_plan plan;
    web_page_plan(req->method, req->path, http_header(req, "Accept-Encoding"),
                  http_header(req, "If-None-Match"), &plan);
    security_headers(req);
    if (plan.status == 404) {
        odata_not_found(req, "No such page (the Migration center is at /).");
        return;
    }
    if (plan.status == 405) {
        odata_method_not_allowed(req, "GET, HEAD");
        return;
    }
    http_set_header(req, "ETag", plan.etag);
    http_set_header(req, "Cache-Control", WEB_PAGE_CACHE_CONTROL);
    http_set_header(req, "Vary", "Accept-Encoding");
    if (plan.status == 304) {
        http_reply(req, 304, NULL, NULL, 0);
        return;
    }
    const struct web_asset *a = plan.asset;
    size_t len = plan.gzip ? a->gz_len : a->raw_len;
    char *copy = xmalloc(len ? len : 1);
    memcpy(copy, plan.gzip ? a->gz : a->raw, len);
    if (plan.gzip)
        http_set_header(req, "Content-Encoding", "gzip");
    http_reply(req, 200, a->content_type, copy, len);
}

void web_page_register(void)
{
    sp_routes_add_prefix("/", handle);
}
