/*
 * odata_query.c: parses SharePoint's OData query options into a tree, checks the names it
 * uses against a type, and evaluates $filter, $orderby and $select over cJSON objects. Every
 * size a client chooses is bounded (spmig_limits.h). It does not page, fetch or shape answers.
 */
#include "odata_query.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CLIENT_QUERY "Microsoft.SharePoint.Client.InvalidClientQueryException"

static int fail(struct odq_error *err, unsigned status, enum sp_hresult hr, const char *type,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err->status = status;
    err->hresult = hr;
    err->type = type;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- names ---- */

static bool name_char(char c, bool first)
{
    return c == '_' || isalpha((unsigned char)c) || (!first && isdigit((unsigned char)c));
}

/* Length of "Name" or "Name/Sub" at s, 0 if none. */
static size_t path_len(const char *s)
{
    size_t n = 0;
    for (int part = 0; part < 2; part++) {
        if (!name_char(s[n], true))
            return part ? n - 1 : 0;
        while (name_char(s[n], false))
            n++;
        if (s[n] != '/' || part == 1)
            break;
        n++;
    }
    return n <= LIMIT_ODATA_NAME ? n : 0;
}

static void skip_ws(const char **s)
{
    while (**s == ' ' || **s == '\t')
        (*s)++;
}

/* ---- $filter ---- */

struct fparser {
    const char *text;
    const char *p;
    unsigned nodes;
    unsigned depth;
    struct odq_error *err;
};

static int fsyntax(struct fparser *f, const char *why)
{
    return fail(f->err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                "The expression \"%.120s\" is not valid: %s at character %zu.", f->text, why,
                (size_t)(f->p - f->text) + 1);
}

static struct odq_node *node_new(struct fparser *f, enum odq_kind kind)
{
    if (++f->nodes > LIMIT_ODATA_FILTER_NODES) {
        fsyntax(f, "the expression has too many terms");
        return NULL;
    }
    struct odq_node *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    return n;
}

static void node_free(struct odq_node *n)
{
    if (!n)
        return;
    node_free(n->a);
    node_free(n->b);
    free(n->text);
    free(n);
}

/* A keyword (case-insensitive) followed by no name character. */
static bool keyword(struct fparser *f, const char *kw)
{
    skip_ws(&f->p);
    size_t n = strlen(kw);
    if (strncasecmp(f->p, kw, n) != 0 || name_char(f->p[n], false))
        return false;
    f->p += n;
    return true;
}

static bool punct(struct fparser *f, char c)
{
    skip_ws(&f->p);
    if (*f->p != c)
        return false;
    f->p++;
    return true;
}

static struct odq_node *parse_or(struct fparser *f);

static struct odq_node *parse_string(struct fparser *f)
{
    /* the value is never longer than what is left of the text */
    struct {
        char *d;
        size_t n;
    } b = {xmalloc(strlen(f->p) + 1), 0};
    f->p++; /* the opening quote */
    for (;;) {
        if (!*f->p) {
            free(b.d);
            fsyntax(f, "a string literal is not closed");
            return NULL;
        }
        if (*f->p == '\'') {
            if (f->p[1] != '\'')
                break;
            f->p++;
        }
        b.d[b.n++] = *f->p++;
    }
    f->p++;
    b.d[b.n] = '\0';
    struct odq_node *n = node_new(f, ODQ_STRING);
    if (!n) {
        free(b.d);
        return NULL;
    }
    n->text = b.d;
    return n;
}

static struct odq_node *parse_number(struct fparser *f)
{
    const char *s = f->p;
    if (*s == '-')
        s++;
    if (!isdigit((unsigned char)*s)) {
        fsyntax(f, "a number is expected");
        return NULL;
    }
    char *end;
    errno = 0;
    double v = strtod(f->p, &end);
    if (errno || !isfinite(v) || end == f->p) {
        fsyntax(f, "the number is out of range");
        return NULL;
    }
    /* OData's type suffixes: L (Int64), M (Decimal), D (Double), F (Single). */
    if (*end && strchr("LlMmDdFf", *end) && !name_char(end[1], false))
        end++;
    if (name_char(*end, false)) {
        fsyntax(f, "a number runs into a name");
        return NULL;
    }
    f->p = end;
    struct odq_node *n = node_new(f, ODQ_NUMBER);
    if (n)
        n->number = v;
    return n;
}

static struct odq_node *parse_datetime(struct fparser *f)
{
    /* at the quote after "datetime" */
    const char *close = strchr(f->p + 1, '\'');
    if (!close || close - f->p > 40) {
        fsyntax(f, "a datetime literal is not closed");
        return NULL;
    }
    char buf[48];
    size_t len = (size_t)(close - f->p - 1);
    memcpy(buf, f->p + 1, len);
    buf[len] = '\0';
    int64_t ms;
    /* SharePoint reads datetime'2024-01-31T10:00:00Z' and the forms without a zone or time. */
    char full[64];
    if (len == 10)
        snprintf(full, sizeof full, "%sT00:00:00Z", buf);
    else if (len && buf[len - 1] != 'Z' && !strchr(buf + 10, '+'))
        snprintf(full, sizeof full, "%sZ", buf);
    else
        snprintf(full, sizeof full, "%s", buf);
    if (timefmt_parse_iso8601(full, &ms) < 0) {
        fsyntax(f, "the datetime literal is not an ISO 8601 time");
        return NULL;
    }
    f->p = close + 1;
    struct odq_node *n = node_new(f, ODQ_DATETIME);
    if (n)
        n->ms = ms;
    return n;
}

static struct odq_node *parse_field(struct fparser *f)
{
    size_t n = path_len(f->p);
    if (!n) {
        fsyntax(f, "a field, a literal or a function is expected");
        return NULL;
    }
    struct odq_node *node = node_new(f, ODQ_FIELD);
    if (node) {
        node->text = xstrndup(f->p, n);
        f->p += n;
    }
    return node;
}

/* The functions and operators of OData v3 that SharePoint does not evaluate. */
static const char *const unsupported_fns[] = {
    "endswith", "indexof", "replace", "substring", "tolower", "toupper", "trim", "concat",
    "length",   "round",   "floor",   "ceiling",   "isof",    "cast",    NULL,
};
static const char *const dateparts[] = {"year", "month", "day", "hour", "minute", "second", NULL};

static bool nested(struct fparser *f)
{
    if (++f->depth > LIMIT_ODATA_FILTER_DEPTH) {
        fsyntax(f, "the expression is nested too deeply");
        return false;
    }
    return true;
}

static struct odq_node *parse_call(struct fparser *f, const char *name, size_t len)
{
    struct odq_node *n = NULL, *x = NULL, *y = NULL;
    bool starts = len == 10 && strncasecmp(name, "startswith", 10) == 0;
    bool subof = len == 11 && strncasecmp(name, "substringof", 11) == 0;
    const char *part = NULL;
    for (size_t i = 0; dateparts[i]; i++)
        if (strlen(dateparts[i]) == len && strncasecmp(name, dateparts[i], len) == 0)
            part = dateparts[i];
    for (size_t i = 0; unsupported_fns[i]; i++)
        if (strlen(unsupported_fns[i]) == len && strncasecmp(name, unsupported_fns[i], len) == 0) {
            fail(f->err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                 "The function '%s' is not supported in a SharePoint $filter.", unsupported_fns[i]);
            return NULL;
        }
    if (!starts && !subof && !part) {
        fail(f->err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
             "Unknown function '%.*s' in $filter.", (int)(len > 64 ? 64 : len), name);
        return NULL;
    }
    if (!nested(f))
        return NULL;
    f->p += len;
    punct(f, '(');
    skip_ws(&f->p);
    if (part) {
        if (!(x = parse_field(f)))
            goto bad;
    } else if (starts) {
        if (!(x = parse_field(f)))
            goto bad;
        if (!punct(f, ',')) {
            fsyntax(f, "',' is expected");
            goto bad;
        }
        skip_ws(&f->p);
        if (*f->p != '\'') {
            fsyntax(f, "startswith takes a field and a string");
            goto bad;
        }
        if (!(y = parse_string(f)))
            goto bad;
    } else {
        if (*f->p != '\'') {
            fsyntax(f, "substringof takes a string and a field");
            goto bad;
        }
        if (!(y = parse_string(f)))
            goto bad;
        if (!punct(f, ',')) {
            fsyntax(f, "',' is expected");
            goto bad;
        }
        skip_ws(&f->p);
        if (!(x = parse_field(f)))
            goto bad;
    }
    if (!punct(f, ')')) {
        fsyntax(f, "')' is expected");
        goto bad;
    }
    f->depth--;
    if (!(n = node_new(f, part ? ODQ_DATEPART : starts ? ODQ_STARTSWITH : ODQ_SUBSTRINGOF)))
        goto bad;
    n->a = x;
    n->b = y;
    if (part)
        n->text = xstrdup(part);
    return n;
bad:
    node_free(x);
    node_free(y);
    return NULL;
}

/* A field, a literal, a function call or a parenthesised expression. */
static struct odq_node *parse_primary(struct fparser *f)
{
    skip_ws(&f->p);
    const char *s = f->p;
    if (*s == '(') {
        if (!nested(f))
            return NULL;
        f->p++;
        struct odq_node *n = parse_or(f);
        if (!n)
            return NULL;
        if (!punct(f, ')')) {
            node_free(n);
            fsyntax(f, "')' is expected");
            return NULL;
        }
        f->depth--;
        return n;
    }
    if (*s == '\'')
        return parse_string(f);
    if (*s == '-' || isdigit((unsigned char)*s))
        return parse_number(f);
    if (strncasecmp(s, "datetime'", 9) == 0) {
        f->p += 8;
        return parse_datetime(f);
    }
    if (strncasecmp(s, "guid'", 5) == 0) {
        f->p += 4;
        struct odq_node *n = parse_string(f);
        return n;
    }
    size_t len = 0;
    while (name_char(s[len], len == 0))
        len++;
    const char *after = s + len;
    while (*after == ' ')
        after++;
    if (len && *after == '(')
        return parse_call(f, s, len);
    struct odq_node *n = NULL;
    if (keyword(f, "true") || keyword(f, "false")) {
        if ((n = node_new(f, ODQ_BOOL)))
            n->boolean = tolower((unsigned char)*s) == 't';
        return n;
    }
    if (keyword(f, "null"))
        return node_new(f, ODQ_NULL);
    return parse_field(f);
}

static bool is_literal(const struct odq_node *n)
{
    return n->kind >= ODQ_STRING;
}

static bool is_value(const struct odq_node *n)
{
    return n->kind == ODQ_FIELD || n->kind == ODQ_DATEPART || is_literal(n);
}

static struct odq_node *parse_cmp(struct fparser *f)
{
    static const char *const ops[] = {"eq", "ne", "gt", "ge", "lt", "le"};
    static const char *const arith[] = {"add", "sub", "mul", "div", "mod"};
    struct odq_node *a = parse_primary(f);
    if (!a)
        return NULL;
    for (size_t i = 0; i < 5; i++)
        if (keyword(f, arith[i])) {
            node_free(a);
            fail(f->err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                 "The arithmetic operator '%s' is not supported in a SharePoint $filter.",
                 arith[i]);
            return NULL;
        }
    for (size_t i = 0; i < 6; i++) {
        if (!keyword(f, ops[i]))
            continue;
        struct odq_node *b = parse_primary(f);
        if (!b) {
            node_free(a);
            return NULL;
        }
        /* SharePoint compares a field with a literal, in either order. */
        if (is_literal(a) && (b->kind == ODQ_FIELD || b->kind == ODQ_DATEPART)) {
            struct odq_node *t = a;
            a = b;
            b = t;
            static const enum odq_cmp mirror[] = {ODQ_EQ, ODQ_NE, ODQ_LT, ODQ_LE, ODQ_GT, ODQ_GE};
            i = mirror[i];
        }
        if (!(a->kind == ODQ_FIELD || a->kind == ODQ_DATEPART) || !is_literal(b)) {
            node_free(a);
            node_free(b);
            fsyntax(f, "a comparison takes one field and one literal");
            return NULL;
        }
        struct odq_node *n = node_new(f, ODQ_CMP);
        if (!n) {
            node_free(a);
            node_free(b);
            return NULL;
        }
        n->cmp = (enum odq_cmp)i;
        n->a = a;
        n->b = b;
        return n;
    }
    if (is_value(a)) {
        node_free(a);
        fsyntax(f, "a comparison operator (eq ne gt ge lt le) is expected");
        return NULL;
    }
    return a;
}

static struct odq_node *parse_not(struct fparser *f)
{
    if (!keyword(f, "not"))
        return parse_cmp(f);
    if (!nested(f))
        return NULL;
    struct odq_node *x = parse_not(f);
    f->depth--;
    if (!x)
        return NULL;
    struct odq_node *n = node_new(f, ODQ_NOT);
    if (!n) {
        node_free(x);
        return NULL;
    }
    n->a = x;
    return n;
}

static struct odq_node *parse_binary(struct fparser *f, bool is_or)
{
    struct odq_node *a = is_or ? parse_binary(f, false) : parse_not(f);
    while (a && keyword(f, is_or ? "or" : "and")) {
        struct odq_node *b = is_or ? parse_binary(f, false) : parse_not(f);
        struct odq_node *n = b ? node_new(f, is_or ? ODQ_OR : ODQ_AND) : NULL;
        if (!n) {
            node_free(a);
            node_free(b);
            return NULL;
        }
        n->a = a;
        n->b = b;
        a = n;
    }
    return a;
}

static struct odq_node *parse_or(struct fparser *f)
{
    return parse_binary(f, true);
}

static int parse_filter(const char *text, struct odata_query *out, struct odq_error *err)
{
    struct fparser f = {.text = text, .p = text, .err = err};
    struct odq_node *n = parse_or(&f);
    if (!n)
        return -1;
    skip_ws(&f.p);
    if (*f.p) {
        node_free(n);
        return fsyntax(&f, "the expression ends too early");
    }
    out->filter = n;
    return 0;
}

/* ---- $select, $expand, $orderby, $top, $skip, $skiptoken ---- */

static int bad_list(struct odq_error *err, const char *option, const char *text)
{
    return fail(err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                "The expression \"%.120s\" is not valid: %s takes a comma-separated list of "
                "fields (Field or Field/SubField).",
                text, option);
}

/* Splits a comma-separated list of paths; orderby: each may end in " asc" or " desc". */
static int parse_paths(const char *option, const char *text, char **names, bool *desc, size_t max,
                       size_t *count, bool star, struct odq_error *err)
{
    const char *p = text;
    for (;;) {
        skip_ws(&p);
        size_t n = star && *p == '*' ? 1 : path_len(p);
        if (!n)
            return bad_list(err, option, text);
        if (*count == max)
            return fail(err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                        "%s names more than %zu fields.", option, max);
        names[*count] = xstrndup(p, n);
        p += n;
        if (desc) {
            const char *q = p;
            skip_ws(&q);
            desc[*count] = false;
            if (q != p && strncasecmp(q, "desc", 4) == 0 && !name_char(q[4], false)) {
                desc[*count] = true;
                p = q + 4;
            } else if (q != p && strncasecmp(q, "asc", 3) == 0 && !name_char(q[3], false)) {
                p = q + 3;
            }
        }
        (*count)++;
        skip_ws(&p);
        if (!*p)
            return 0;
        if (*p++ != ',')
            return bad_list(err, option, text);
    }
}

static int parse_count(const char *option, const char *v, unsigned *out, struct odq_error *err)
{
    size_t n = strlen(v);
    if (!n || n > 10 || strspn(v, "0123456789") != n || strtoull(v, NULL, 10) > INT32_MAX)
        return fail(err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                    "Invalid value '%.64s' for %s query option found. The %s query option "
                    "requires a non-negative integer value.",
                    v, option, option);
    *out = (unsigned)strtoul(v, NULL, 10);
    return 0;
}

/* "Paged=TRUE&p_ID=12": SharePoint's position after item 12 (other p_ fields name the sort
 * values of that item; the position is taken from the item itself). */
static int parse_skiptoken(const char *v, struct odata_query *out, struct odq_error *err)
{
    struct query t = {0};
    bool have_id = false;
    int rc = query_parse(v, strlen(v), &t);
    for (size_t i = 0; rc == 0 && i < t.n; i++) {
        const char *name = t.pairs[i].name, *val = t.pairs[i].value;
        if (strcasecmp(name, "Paged") == 0) {
            rc = strcasecmp(val, "TRUE") == 0 ? 0 : -1;
        } else if (strcasecmp(name, "p_ID") == 0) {
            char *end;
            errno = 0;
            long id = strtol(val, &end, 10);
            if (end == val || *end || errno || id > INT32_MAX || id < INT32_MIN || have_id)
                rc = -1;
            out->skiptoken_id = id < 0 ? 0 : (int)id;
            have_id = true;
        } else if (strncasecmp(name, "p_", 2) != 0) {
            rc = -1;
        }
    }
    query_finish(&t);
    if (rc < 0 || !have_id)
        return fail(err, 400, SP_HRESULT_INVALID_ARG, "System.ArgumentException",
                    "The $skiptoken is not valid: Paged=TRUE&p_ID=<item id>.");
    out->has_skiptoken = true;
    return 0;
}

static const char *const options[] = {"$select", "$expand", "$filter",    "$orderby",
                                      "$top",    "$skip",   "$skiptoken", NULL};

int odata_query_parse(const struct query *q, struct odata_query *out, struct odq_error *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < q->n; i++) {
        const char *name = q->pairs[i].name, *v = q->pairs[i].value;
        if (name[0] != '$')
            continue;
        size_t k = 0;
        while (options[k] && strcmp(options[k], name) != 0)
            k++;
        if (!options[k]) {
            if (strcmp(name, "$inlinecount") == 0 || strcmp(name, "$format") == 0)
                return fail(err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                            "The query option %s is not supported by SharePoint REST%s.", name,
                            name[1] == 'i' ? "; a list's ItemCount gives its size" : "");
            return fail(err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                        "The query parameter '%.64s' begins with a system-reserved '$' "
                        "character but is not recognized.",
                        name);
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(q->pairs[j].name, name) == 0)
                return fail(err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                            "Query option '%s' was specified more than once, but it must be "
                            "specified at most once.",
                            name);
        int rc = 0;
        switch (k) {
        case 0:
            out->has_select = true;
            rc = parse_paths(name, v, out->select, NULL, LIMIT_ODATA_SELECT, &out->nselect, true,
                             err);
            for (size_t s = 0; s < out->nselect; s++)
                if (strcmp(out->select[s], "*") == 0)
                    out->select_all = true;
            break;
        case 1:
            rc = parse_paths(name, v, out->expand, NULL, LIMIT_ODATA_EXPAND, &out->nexpand, false,
                             err);
            break;
        case 2:
            rc = parse_filter(v, out, err);
            break;
        case 3: {
            char *names[LIMIT_ODATA_ORDERBY];
            bool desc[LIMIT_ODATA_ORDERBY];
            size_t n = 0;
            rc = parse_paths(name, v, names, desc, LIMIT_ODATA_ORDERBY, &n, false, err);
            for (size_t o = 0; o < n; o++)
                out->orderby[o] = (struct odq_order){names[o], desc[o]};
            out->norderby = n;
            break;
        }
        case 4:
            out->has_top = true;
            rc = parse_count(name, v, &out->top, err);
            break;
        case 5:
            out->has_skip = true;
            rc = parse_count(name, v, &out->skip, err);
            break;
        default:
            rc = parse_skiptoken(v, out, err);
            break;
        }
        if (rc < 0) {
            odata_query_finish(out);
            return -1;
        }
    }
    return 0;
}

void odata_query_finish(struct odata_query *q)
{
    for (size_t i = 0; i < q->nselect; i++)
        free(q->select[i]);
    for (size_t i = 0; i < q->nexpand; i++)
        free(q->expand[i]);
    for (size_t i = 0; i < q->norderby; i++)
        free(q->orderby[i].field);
    node_free(q->filter);
    memset(q, 0, sizeof *q);
}

/* ---- checking names against a type ---- */

static bool in_list(const char *const *list, const char *name, size_t len)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strlen(list[i]) == len && strncasecmp(list[i], name, len) == 0)
            return true;
    return false;
}

static bool expands_n(const struct odata_query *q, const char *nav, size_t len)
{
    for (size_t i = 0; i < q->nexpand; i++) {
        const char *e = q->expand[i];
        if (strncasecmp(e, nav, len) == 0 && (e[len] == '\0' || e[len] == '/'))
            return true;
    }
    return false;
}

bool odata_query_expands(const struct odata_query *q, const char *nav)
{
    return expands_n(q, nav, strlen(nav));
}

static int unknown_field(const struct odata_type *t, const char *name, struct odq_error *err)
{
    if (t->items)
        return fail(err, 400, SP_HRESULT_INVALID_ARG, "System.ArgumentException",
                    "Column '%s' does not exist. It may have been deleted by another user.", name);
    return fail(err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                "The property '%s' does not exist on type '%s'. Make sure to only use property "
                "names that are defined by the type.",
                name, t->name);
}

/* A field path used by $select ("Author/Title", "*"), $filter or $orderby (in_filter). */
static int check_path(const struct odata_query *q, const struct odata_type *t, const char *path,
                      bool in_filter, struct odq_error *err)
{
    if (strcmp(path, "*") == 0)
        return 0;
    const char *slash = strchr(path, '/');
    size_t head = slash ? (size_t)(slash - path) : strlen(path);
    if (in_list(t->props, path, head) && !slash)
        return 0;
    if (!in_list(t->navs, path, head))
        return unknown_field(t, path, err);
    if (!slash && !in_filter)
        return 0; /* a navigation property selected whole: deferred unless expanded */
    if (!slash)
        return fail(err, 400, SP_HRESULT_SP_EXCEPTION, "Microsoft.SharePoint.SPException",
                    "The field '%s' of type 'Lookup' cannot be used in the query filter "
                    "expression.",
                    path);
    if (!expands_n(q, path, head))
        return fail(err, 400, SP_HRESULT_CLIENT_QUERY, "Microsoft.SharePoint.SPException",
                    "The query to field '%s' is not valid. The $select query string must "
                    "specify the target fields and the $expand query string must contains %.*s.",
                    path, (int)head, path);
    return 0;
}

static int check_filter(const struct odata_query *q, const struct odata_type *t,
                        const struct odq_node *n, struct odq_error *err)
{
    if (!n)
        return 0;
    if (n->kind == ODQ_FIELD)
        return check_path(q, t, n->text, true, err);
    if (check_filter(q, t, n->a, err) < 0)
        return -1;
    return check_filter(q, t, n->b, err);
}

int odata_query_check(const struct odata_query *q, const struct odata_type *t, bool collection,
                      struct odq_error *err)
{
    for (size_t i = 0; i < q->nexpand; i++) {
        const char *e = q->expand[i];
        const char *slash = strchr(e, '/');
        size_t head = slash ? (size_t)(slash - e) : strlen(e);
        if (!in_list(t->navs, e, head)) {
            if (t->items)
                return fail(err, 400, SP_HRESULT_CLIENT_QUERY, "Microsoft.SharePoint.SPException",
                            "The query to field '%s' is not valid.", e);
            return unknown_field(t, e, err);
        }
    }
    for (size_t i = 0; i < q->nselect; i++)
        if (check_path(q, t, q->select[i], false, err) < 0)
            return -1;
    if (!collection && q->filter)
        return fail(err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                    "Query option $filter cannot be applied to the requested resource.");
    if (!collection && (q->norderby || q->has_top || q->has_skip || q->has_skiptoken))
        return fail(err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                    "Query options $orderby, $skip, $skiptoken and $top cannot be applied to the "
                    "requested resource.");
    if (t->items && q->has_skip)
        return fail(err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                    "The query option $skip is not supported on list items: page them with "
                    "$skiptoken (the next link of each page).");
    if (!t->items && q->has_skiptoken)
        return fail(err, 400, SP_HRESULT_CLIENT_QUERY, CLIENT_QUERY,
                    "The query option $skiptoken is only supported on list items.");
    for (size_t i = 0; i < q->norderby; i++)
        if (check_path(q, t, q->orderby[i].field, true, err) < 0)
            return -1;
    return check_filter(q, t, q->filter, err);
}

/* ---- evaluation ---- */

static const cJSON *field_value(const cJSON *obj, const char *path)
{
    const char *slash = strchr(path, '/');
    if (!slash)
        return cJSON_GetObjectItem(obj, path);
    char head[LIMIT_ODATA_NAME + 1];
    size_t n = (size_t)(slash - path);
    if (n > LIMIT_ODATA_NAME)
        return NULL;
    memcpy(head, path, n);
    head[n] = '\0';
    const cJSON *nav = cJSON_GetObjectItem(obj, head);
    return cJSON_IsObject(nav) ? cJSON_GetObjectItem(nav, slash + 1) : NULL;
}

static int sign(double d)
{
    return d < 0 ? -1 : d > 0 ? 1 : 0;
}

/* A value as a number: numbers, booleans and strings that are wholly a number (sizes). */
static bool as_number(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return true;
    }
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v) ? 1 : 0;
        return true;
    }
    if (cJSON_IsString(v) && *v->valuestring) {
        char *end;
        *out = strtod(v->valuestring, &end);
        return !*end;
    }
    return false;
}

static bool datepart(const cJSON *v, const char *part, double *out)
{
    int64_t ms;
    if (!cJSON_IsString(v) || timefmt_parse_iso8601(v->valuestring, &ms) < 0)
        return false;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    int x = strcmp(part, "year") == 0     ? tm.tm_year + 1900
            : strcmp(part, "month") == 0  ? tm.tm_mon + 1
            : strcmp(part, "day") == 0    ? tm.tm_mday
            : strcmp(part, "hour") == 0   ? tm.tm_hour
            : strcmp(part, "minute") == 0 ? tm.tm_min
                                          : tm.tm_sec;
    *out = x;
    return true;
}

/* Orders a field value against a literal: <0, 0, >0, or 2 when they do not compare. */
static int compare_literal(const cJSON *v, const struct odq_node *lit)
{
    double d;
    int64_t ms;
    switch (lit->kind) {
    case ODQ_STRING:
        if (cJSON_IsString(v))
            return sign(strcasecmp(v->valuestring, lit->text));
        if (as_number(v, &d)) {
            char *end;
            double x = strtod(lit->text, &end);
            return *lit->text && !*end ? sign(d - x) : 2;
        }
        return 2;
    case ODQ_NUMBER:
        return as_number(v, &d) ? sign(d - lit->number) : 2;
    case ODQ_DATETIME:
        if (!cJSON_IsString(v) || timefmt_parse_iso8601(v->valuestring, &ms) < 0)
            return 2;
        return ms < lit->ms ? -1 : ms > lit->ms;
    case ODQ_BOOL:
        return as_number(v, &d) ? sign(d - (lit->boolean ? 1 : 0)) : 2;
    default:
        return 2;
    }
}

static bool eval(const struct odq_node *n, const cJSON *obj)
{
    switch (n->kind) {
    case ODQ_AND:
        return eval(n->a, obj) && eval(n->b, obj);
    case ODQ_OR:
        return eval(n->a, obj) || eval(n->b, obj);
    case ODQ_NOT:
        return !eval(n->a, obj);
    case ODQ_STARTSWITH:
    case ODQ_SUBSTRINGOF: {
        const cJSON *v = field_value(obj, n->a->text);
        if (!cJSON_IsString(v))
            return false;
        size_t len = strlen(n->b->text);
        if (n->kind == ODQ_STARTSWITH)
            return strncasecmp(v->valuestring, n->b->text, len) == 0;
        return strcasestr(v->valuestring, n->b->text) != NULL;
    }
    case ODQ_CMP: {
        const cJSON *v;
        cJSON *part = NULL;
        if (n->a->kind == ODQ_DATEPART) {
            double d;
            if (datepart(field_value(obj, n->a->a->text), n->a->text, &d))
                part = cJSON_CreateNumber(d);
            v = part;
        } else {
            v = field_value(obj, n->a->text);
        }
        bool missing = !v || cJSON_IsNull(v);
        int c = n->b->kind == ODQ_NULL ? (missing ? 0 : 2) : missing ? 2 : compare_literal(v, n->b);
        cJSON_Delete(part);
        switch (n->cmp) {
        case ODQ_EQ:
            return c == 0;
        case ODQ_NE:
            return c != 0;
        case ODQ_GT:
            return c == 1;
        case ODQ_GE:
            return c == 0 || c == 1;
        case ODQ_LT:
            return c == -1;
        default:
            return c == 0 || c == -1;
        }
    }
    default:
        return false;
    }
}

bool odata_query_match(const struct odata_query *q, const cJSON *obj)
{
    return !q->filter || eval(q->filter, obj);
}

static int compare_values(const cJSON *a, const cJSON *b)
{
    bool na = !a || cJSON_IsNull(a), nb = !b || cJSON_IsNull(b);
    if (na || nb)
        return nb - na;
    double x, y;
    if (cJSON_IsString(a) && cJSON_IsString(b)) {
        char *ea, *eb;
        x = strtod(a->valuestring, &ea);
        y = strtod(b->valuestring, &eb);
        if (*a->valuestring && *b->valuestring && !*ea && !*eb)
            return sign(x - y);
        return sign(strcasecmp(a->valuestring, b->valuestring));
    }
    if (as_number(a, &x) && as_number(b, &y))
        return sign(x - y);
    return 0;
}

int odata_query_compare(const struct odata_query *q, const cJSON *a, const cJSON *b,
                        const char *tiebreak)
{
    for (size_t i = 0; i < q->norderby; i++) {
        const char *f = q->orderby[i].field;
        int c = compare_values(field_value(a, f), field_value(b, f));
        if (c)
            return q->orderby[i].desc ? -c : c;
    }
    return tiebreak
               ? compare_values(cJSON_GetObjectItem(a, tiebreak), cJSON_GetObjectItem(b, tiebreak))
               : 0;
}

/* Keeps in obj the properties named by sel (whole: name; sub-fields: prefix/name). */
static void trim(cJSON *obj, const struct odata_query *q, const char *prefix, size_t plen)
{
    cJSON *c = obj->child;
    while (c) {
        cJSON *next = c->next;
        bool whole = false, sub = false;
        size_t n = strlen(c->string);
        for (size_t i = 0; i < q->nselect && !whole; i++) {
            const char *s = q->select[i];
            if (plen && (strncasecmp(s, prefix, plen) != 0 || s[plen] != '/'))
                continue;
            s += plen ? plen + 1 : 0;
            if (strcasecmp(s, c->string) == 0)
                whole = true;
            else if (!plen && strncasecmp(s, c->string, n) == 0 && s[n] == '/')
                sub = true;
        }
        if (strncmp(c->string, "__", 2) == 0 || whole) {
            /* kept */
        } else if (sub && cJSON_IsObject(c)) {
            trim(c, q, c->string, n);
        } else if (sub && cJSON_IsArray(c)) {
            cJSON *e;
            cJSON_ArrayForEach(e, c) if (cJSON_IsObject(e)) trim(e, q, c->string, n);
        } else {
            cJSON_Delete(cJSON_DetachItemViaPointer(obj, c));
        }
        c = next;
    }
}

void odata_query_select(const struct odata_query *q, cJSON *obj)
{
    if (!q->has_select || q->select_all || !cJSON_IsObject(obj))
        return;
    trim(obj, q, NULL, 0);
}
