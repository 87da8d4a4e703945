/*
 * csom_request.h: the request of CSOM's client query protocol ([MS-CSOM], the XML body of
 * POST .../_vti_bin/client.svc/ProcessQuery) taken apart: its object paths and its actions in
 * order, each parameter as a JSON value. Strict and bounded: no DTD or entities, at most
 * LIMIT_CSOM_* paths, actions, properties and nesting. Knows nothing of what the objects are
 * (csom.c evaluates them) nor of HTTP.
 */
#ifndef SPMIG_CSOM_REQUEST_H
#define SPMIG_CSOM_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

enum csom_path_kind {
    CSOM_PATH_STATIC_PROPERTY, /* TypeId + Name, e.g. the ClientContext's "Current" */
    CSOM_PATH_STATIC_METHOD,   /* TypeId + Name + Parameters */
    CSOM_PATH_PROPERTY,        /* ParentId + Name */
    CSOM_PATH_METHOD,          /* ParentId + Name + Parameters */
    CSOM_PATH_IDENTITY,        /* Name: an object identity string */
    CSOM_PATH_CONSTRUCTOR,     /* TypeId + Parameters */
};

struct csom_path {
    long id;
    enum csom_path_kind kind;
    long parent;   /* CSOM_PATH_PROPERTY and _METHOD; -1 otherwise */
    char *name;    /* NULL for a constructor */
    char *type_id; /* "{guid}" of static members and constructors, else NULL */
    cJSON *params; /* an array (maybe empty) */
};

/* What a Query action asks of an object, and of each child of a collection. */
struct csom_select {
    bool all;     /* SelectAllProperties="true" */
    char **names; /* the listed properties */
    size_t n;
};

enum csom_action_kind {
    CSOM_ACT_OBJECT_PATH,    /* materialise ObjectPathId */
    CSOM_ACT_IDENTITY_QUERY, /* its identity */
    CSOM_ACT_QUERY,          /* its properties (and its children's) */
    CSOM_ACT_METHOD,         /* call Name on it with Parameters */
    CSOM_ACT_SET_PROPERTY,   /* set Name to the one parameter */
    CSOM_ACT_STATIC_METHOD,  /* call TypeId's Name with Parameters */
};

struct csom_action {
    long id;
    enum csom_action_kind kind;
    long path; /* ObjectPathId; -1 for a static method */
    char *name, *type_id;
    cJSON *params; /* an array (maybe empty) */
    struct csom_select select, child;
    bool has_child; /* a ChildItemQuery was given */
};

struct csom_request {
    struct csom_path *paths;
    size_t npaths;
    struct csom_action *actions;
    size_t nactions;
};

/*
 * Parses len bytes of XML. 0 with out filled (release it with csom_request_finish), or -1 with
 * a reason in err (cap bytes) and out empty. Parameters become JSON: String as a string, Guid
 * as its text without braces, numbers (Int32, Double, Number...) as numbers, Boolean, Null,
 * Base64Binary as its base64 text, DateTime as its text, Array as an array, and a value object
 * (TypeId) as an object of its properties with "__TypeId" set.
 */
int csom_request_parse(const char *xml, size_t len, struct csom_request *out, char *err,
                       size_t cap);
void csom_request_finish(struct csom_request *r);
/* The path with this id, or NULL. */
const struct csom_path *csom_request_path(const struct csom_request *r, long id);

#endif
