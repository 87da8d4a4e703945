/*
 * sp_path.c: splits a SharePoint REST path into segments and decodes their arguments:
 * 'text' with '' for a quote, guid'...', numbers, true/false, null and @aliases from the
 * query string. It knows no method names; sp_api does the matching.
 */
#include "sp_path.h"
#include "xmalloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sp_path_finish(struct sp_path *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->seg[i].name);
        for (size_t j = 0; j < p->seg[i].nargs; j++) {
            free(p->seg[i].args[j].name);
            free(p->seg[i].args[j].value);
        }
    }
    memset(p, 0, sizeof *p);
}

/* Decodes one literal starting at *s; advances *s past it. NULL on a malformed literal. */
static char *literal(const char **s, const struct query *q, int depth)
{
    const char *p = *s;
    if (*p == '@' && depth == 0) {
        const char *e = p + 1;
        while (*e && *e != ',' && *e != ')')
            e++;
        char *alias = xstrndup(p, (size_t)(e - p));
        const char *v = query_get(q, alias);
        free(alias);
        if (!v)
            return NULL;
        const char *vp = v;
        char *out = literal(&vp, q, depth + 1);
        if (!out || *vp) {
            free(out);
            return NULL;
        }
        *s = e;
        return out;
    }
    if (strncasecmp(p, "guid'", 5) == 0)
        p += 4;
    if (*p == '\'') {
        p++;
        size_t cap = strlen(p) + 1, n = 0;
        char *out = xmalloc(cap);
        for (;;) {
            if (!*p) {
                free(out);
                return NULL;
            }
            if (*p == '\'') {
                if (p[1] == '\'') {
                    out[n++] = '\'';
                    p += 2;
                    continue;
                }
                p++;
                break;
            }
            out[n++] = *p++;
        }
        out[n] = '\0';
        *s = p;
        return out;
    }
    /* A bare token: number, true, false, null. */
    const char *e = p;
    while (*e && *e != ',' && *e != ')')
        e++;
    if (e == p)
        return NULL;
    for (const char *c = p; c < e; c++)
        if (!(*c == '-' || *c == '.' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
              (*c >= 'A' && *c <= 'Z')))
            return NULL;
    *s = e;
    return xstrndup(p, (size_t)(e - p));
}

static int fail(char *err, size_t errlen, const char *why, struct sp_path *p)
{
    snprintf(err, errlen, "%s", why);
    sp_path_finish(p);
    return -1;
}

int sp_path_parse(const char *s, const struct query *q, struct sp_path *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    while (*s == '/')
        s++;
    while (*s) {
        if (p->n == SP_PATH_MAX_SEGMENTS)
            return fail(err, errlen, "The request path has too many segments.", p);
        struct sp_segment *g = &p->seg[p->n];
        const char *e = s;
        while (*e && *e != '/' && *e != '(')
            e++;
        if (e == s)
            return fail(err, errlen, "The request path has an empty segment.", p);
        g->name = xstrndup(s, (size_t)(e - s));
        p->n++;
        s = e;
        if (*s == '(') {
            g->has_parens = 1;
            s++;
            while (*s != ')') {
                if (g->nargs == SP_PATH_MAX_ARGS)
                    return fail(err, errlen, "Too many arguments.", p);
                struct sp_arg *a = &g->args[g->nargs];
                /* name=value or a positional value */
                const char *eq = s;
                while (*eq && *eq != '=' && *eq != '\'' && *eq != ',' && *eq != ')')
                    eq++;
                if (*eq == '=') {
                    a->name = xstrndup(s, (size_t)(eq - s));
                    s = eq + 1;
                }
                a->value = literal(&s, q, 0);
                if (!a->value) {
                    free(a->name);
                    a->name = NULL;
                    return fail(err, errlen, "An argument in the request path is malformed.", p);
                }
                g->nargs++;
                if (*s == ',')
                    s++;
                else if (*s != ')')
                    return fail(err, errlen, "An argument list in the request path is not closed.",
                                p);
            }
            s++;
        }
        if (*s == '/')
            s++;
        else if (*s)
            return fail(err, errlen, "Unexpected characters after an argument list.", p);
    }
    return 0;
}

const char *sp_path_arg(const struct sp_segment *s, const char *name, int pos)
{
    for (size_t i = 0; i < s->nargs; i++)
        if (s->args[i].name && name && strcasecmp(s->args[i].name, name) == 0)
            return s->args[i].value;
    if (pos >= 0 && (size_t)pos < s->nargs && !s->args[pos].name)
        return s->args[pos].value;
    return NULL;
}
