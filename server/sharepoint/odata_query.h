/*
 * odata_query.h: the OData v3 query options of SharePoint REST ($select, $expand, $filter,
 * $orderby, $top, $skip, $skiptoken), parsed once into a tree and checked against the
 * properties of the type a route serves; then evaluated over the JSON objects a route builds.
 * It reads client bytes and is fuzzed. It knows no route, no model and no answer shape: a
 * refusal is handed back as SharePoint's status, HRESULT, type and message.
 */
#ifndef SPMIG_ODATA_QUERY_H
#define SPMIG_ODATA_QUERY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "query.h"
#include "sp_hresult.h"
#include "spmig_limits.h"

enum odq_kind {
    ODQ_AND,
    ODQ_OR,
    ODQ_NOT,
    ODQ_CMP,         /* a (field) cmp b (literal) */
    ODQ_STARTSWITH,  /* startswith(a field, b string) */
    ODQ_SUBSTRINGOF, /* substringof(b string, a field): b is in a */
    ODQ_DATEPART,    /* year(a) ... second(a): text is the function's name */
    ODQ_FIELD,       /* text: "Name" or "Lookup/Name" */
    ODQ_STRING,      /* text */
    ODQ_NUMBER,      /* number */
    ODQ_DATETIME,    /* ms */
    ODQ_BOOL,        /* boolean */
    ODQ_NULL,
};

enum odq_cmp { ODQ_EQ, ODQ_NE, ODQ_GT, ODQ_GE, ODQ_LT, ODQ_LE };

struct odq_node {
    enum odq_kind kind;
    enum odq_cmp cmp;
    char *text;
    double number;
    int64_t ms;
    bool boolean;
    struct odq_node *a, *b;
};

struct odq_order {
    char *field; /* "Name" or "Lookup/Name" */
    bool desc;
};

struct odata_query {
    bool has_select;
    bool select_all; /* "*" among the fields */
    char *select[LIMIT_ODATA_SELECT];
    size_t nselect;
    char *expand[LIMIT_ODATA_EXPAND]; /* "Author" or "Folder/Files" */
    size_t nexpand;
    struct odq_node *filter; /* NULL: none */
    struct odq_order orderby[LIMIT_ODATA_ORDERBY];
    size_t norderby;
    bool has_top;
    unsigned top;
    bool has_skip;
    unsigned skip;
    bool has_skiptoken;
    int skiptoken_id; /* p_ID of "Paged=TRUE&p_ID=n"; below 0 reads as 0 */
};

/* A refusal, in SharePoint's words. */
struct odq_error {
    unsigned status;
    enum sp_hresult hresult;
    const char *type;
    char message[320];
};

/*
 * Parses every "$" option of q (other names, such as @aliases, are not this module's).
 * Unknown, repeated or malformed options are refused. Returns 0, or -1 with err filled and
 * out left empty; release with odata_query_finish either way.
 */
int odata_query_parse(const struct query *q, struct odata_query *out, struct odq_error *err);
void odata_query_finish(struct odata_query *q);

/* What a route serves: the type, its properties and its navigation properties (each list
 * NULL-terminated). items: list items, whose refusals name columns as SharePoint's do. */
struct odata_type {
    const char *name;
    const char *const *props;
    const char *const *navs;
    bool items;
};

/*
 * Checks the names q uses against t: every selected, filtered or sorted field is a property,
 * or a navigation property named in $expand ("Author/Title"); every expanded name is a
 * navigation property. collection: the address is a collection ($filter, $orderby, $top and
 * $skip mean something), else they are refused. Returns 0 or -1 with err.
 */
int odata_query_check(const struct odata_query *q, const struct odata_type *t, bool collection,
                      struct odq_error *err);

/* Whether $expand names nav (case-insensitive; "Folder/Files" expands Folder). */
bool odata_query_expands(const struct odata_query *q, const char *nav);
/* Whether obj passes $filter (no filter: true). */
bool odata_query_match(const struct odata_query *q, const cJSON *obj);
/* Orders a and b by $orderby, then by tiebreak (a property both carry, e.g. "Id"). */
int odata_query_compare(const struct odata_query *q, const cJSON *a, const cJSON *b,
                        const char *tiebreak);
/*
 * Trims obj to $select: keeps the selected properties (an expanded navigation property keeps
 * only its selected sub-fields) and every name starting with "__" (the shape's hints). No
 * $select or "*": obj is left whole.
 */
void odata_query_select(const struct odata_query *q, cJSON *obj);

#endif
