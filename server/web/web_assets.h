/*
 * web_assets.h: the Migration center's files as web/embed_assets.py embeds them at build time
 * (the HTML, CSS and JavaScript of web/). The table is generated; web_page.c serves it.
 */
#ifndef SPMIG_WEB_ASSETS_H
#define SPMIG_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
    const char *path;         /* "/app.js" */
    const char *content_type; /* "text/javascript; charset=utf-8" */
    const unsigned char *raw;
    size_t raw_len;
    const unsigned char *gz; /* the same bytes, gzip-compressed */
    size_t gz_len;
    const char *etag; /* 32 hex digits of the SHA-256 of raw, without quotes */
};

extern const struct web_asset web_assets[];
extern const size_t web_asset_count;

#endif
