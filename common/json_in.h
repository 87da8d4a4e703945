/*
 * json_in.h: parsing JSON a client sent. cJSON keeps strings as C strings, so a NUL in one
 * (a raw byte or the escape \u0000) would cut it short where it is kept or compared; such a
 * document is refused whole before cJSON sees it. What the JSON means is the caller's.
 */
#ifndef SPMIG_JSON_IN_H
#define SPMIG_JSON_IN_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* Whether text holds a NUL byte or a \u0000 escape. */
bool json_in_has_nul(const char *text, size_t len);
/* Parses len bytes of text; NULL if they are not one JSON document (white space may follow
 * it, nothing else) or hold a NUL (json_in_has_nul). The caller frees the result with
 * cJSON_Delete. */
cJSON *json_in_parse(const char *text, size_t len);

#endif
