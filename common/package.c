/*
 * package.c: the package model of package.h and its bookkeeping: creating and freeing it (its
 * strings live in one arena), the lookup tables the checks use while files are read, issues,
 * marks that let a file that fails as a document leave nothing behind, which files were given,
 * package_finish and the loaders. Reading XML is package_xml.c's, the rules package_checks.c's.
 */
#include "package_internal.h"
#include "crypto.h"
#include "xmalloc.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct package_file_info package_files[PACKAGE_FILE_KINDS] = {
    [PACKAGE_MANIFEST] = {"Manifest.xml", "SPObjects", "urn:deployment-manifest-schema",
                          "Manifest.xsd", true},
    [PACKAGE_EXPORT_SETTINGS] = {"ExportSettings.xml", "ExportSettings",
                                 "urn:deployment-exportsettings-schema", "ExportSettings.xsd",
                                 true},
    [PACKAGE_SYSTEM_DATA] = {"SystemData.xml", "SystemData", "urn:deployment-systemdata-schema",
                             "SystemData.xsd", true},
    [PACKAGE_USER_GROUP] = {"UserGroup.xml", "UserGroupMap", "urn:deployment-usergroupmap-schema",
                            "UserGroup.xsd", true},
    [PACKAGE_ROOT_OBJECT_MAP] = {"RootObjectMap.xml", "RootObjects",
                                 "urn:deployment-rootobjectmap-schema", "RootObjectMap.xsd", false},
    [PACKAGE_LOOKUP_LIST_MAP] = {"LookupListMap.xml", "LookupLists",
                                 "urn:deployment-lookuplistmap-schema", "LookupListMap.xsd", false},
    [PACKAGE_REQUIREMENTS] = {"Requirements.xml", "Requirements",
                              "urn:deployment-requirements-schema", "Requirements.xsd", false},
    /* Sic: "viewformlist", no "s" after "form", unlike the root element. */
    [PACKAGE_VIEW_FORMS_LIST] = {"ViewFormsList.xml", "ViewFormsList",
                                 "urn:deployment-viewformlist-schema", "ViewFormsList.xsd", false},
};

const char *package_file_name(enum package_file kind)
{
    return package_files[kind].file;
}

/* ---- Lookup tables ---- */

/* A package_ref as a digest_map value: the kind above the index's 32 bits. */
bool package_map_get(const struct digest_map *m, const unsigned char key[16],
                     struct package_ref *out)
{
    int64_t v;
    if (!digest_map_get(m, key, 16, &v))
        return false;
    if (out)
        *out = (struct package_ref){(enum package_ref_kind)(v >> 32), (size_t)(v & UINT32_MAX)};
    return true;
}

void package_map_put(struct digest_map *m, const unsigned char key[16], struct package_ref r)
{
    assert(r.index <= UINT32_MAX);
    bool added = digest_map_put(m, key, 16, (int64_t)r.kind << 32 | (int64_t)r.index);
    assert(added);
    (void)added;
}

void package_int_key(int v, unsigned char key[16])
{
    memset(key, 0, 16);
    key[0] = 'I';
    memcpy(key + 1, &v, sizeof v);
}

void package_text_key(const char *s, unsigned char key[16])
{
    size_t n = strlen(s);
    char small[512];
    char *lower = n < sizeof small ? small : xmalloc(n + 1);
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)s[i]); /* ASCII only: the C locale */
    unsigned char d[CRYPTO_SHA256_LEN];
    if (crypto_sha256(lower, n, d) < 0) {
        fprintf(stderr, "spmig: OpenSSL SHA-256 failed\n");
        abort();
    }
    if (lower != small)
        free(lower);
    memcpy(key, d, 16);
}

/* ---- The string arena ---- */

/* Blocks grow from 16 KiB to 1 MiB, so a package of any size has few of them. */
struct package_block {
    struct package_block *next;
    size_t cap, used;
    _Alignas(max_align_t) unsigned char data[];
};

void *package_alloc(struct package *p, size_t n)
{
    struct package_state *st = p->state;
    const size_t align = _Alignof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    struct package_block *b = st->blocks;
    if (b) /* strings leave used anywhere */
        b->used = (b->used + align - 1) & ~(align - 1);
    if (!b || b->used > b->cap || b->cap - b->used < n) {
        size_t cap = b ? 2 * b->cap : 16 * 1024;
        if (cap > 1024 * 1024)
            cap = 1024 * 1024;
        if (cap < n)
            cap = n;
        struct package_block *nb = xmalloc(sizeof *nb + cap);
        nb->cap = cap;
        nb->used = 0;
        nb->next = b;
        st->blocks = b = nb;
    }
    void *out = b->data + b->used;
    b->used += n;
    return out;
}

char *package_strdup(struct package *p, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    /* Strings need no alignment: take bytes from the block directly. */
    struct package_block *b = p->state->blocks;
    char *out;
    if (b && b->cap - b->used >= n) {
        out = (char *)b->data + b->used;
        b->used += n;
    } else {
        out = package_alloc(p, n);
    }
    memcpy(out, s, n);
    return out;
}

/* Is ptr in the arena? Model strings set by hand (malloc'ed) are freed one by one. */
static bool in_arena(const struct package_state *st, const void *ptr)
{
    const unsigned char *c = ptr;
    for (const struct package_block *b = st->blocks; b; b = b->next)
        if (c >= b->data && c < b->data + b->cap)
            return true;
    return false;
}

static void free_owned(const struct package_state *st, void *ptr)
{
    if (ptr && !in_arena(st, ptr))
        free(ptr);
}

/* ---- Package ---- */

/* The web-relative form of a server-relative url under web ("/sites/hr" + "/sites/hr/x" ->
 * "x"); the whole url without its leading slash if it is not under web. */
static char *web_relative(const char *web, const char *url)
{
    size_t wl = strcmp(web, "/") == 0 ? 0 : strlen(web);
    if (strncasecmp(url, web, wl) == 0 && url[wl] == '/')
        return xstrdup(url + wl + 1);
    return xstrdup(url[0] == '/' ? url + 1 : url);
}

struct package *package_create(const struct package_target *target)
{
    struct package *p = xcalloc(1, sizeof *p);
    p->target = *target;
    p->target.web_url = xstrdup(target->web_url);
    p->target.root_folder_url = xstrdup(target->root_folder_url);
    struct package_state *st = xcalloc(1, sizeof *st); /* the maps empty */
    st->root_url = web_relative(p->target.web_url, p->target.root_folder_url);
    /* The root folder exists before any package: children may name it as their parent. */
    package_map_put(&st->ids, target->root_folder_id, (struct package_ref){REF_ROOT, 0});
    p->state = st;
    return p;
}

static void object_finish(const struct package_state *st, struct package_object *o)
{
    free_owned(st, o->url);
    free_owned(st, o->name);
    for (size_t i = 0; i < o->n_versions; i++) {
        free_owned(st, o->versions[i].label);
        free_owned(st, o->versions[i].file_value);
        free_owned(st, o->versions[i].checkin_comment);
    }
    free_owned(st, o->versions);
}

void package_destroy(struct package *p)
{
    if (!p)
        return;
    struct package_state *st = p->state;
    free((char *)p->target.web_url);
    free((char *)p->target.root_folder_url);
    free_owned(st, p->site_url);
    free_owned(st, p->source_type);
    for (size_t i = 0; i < p->n_manifest_names; i++)
        free_owned(st, p->manifest_names[i]);
    free(p->manifest_names);
    for (size_t i = 0; i < p->n_users; i++) {
        free_owned(st, p->users[i].name);
        free_owned(st, p->users[i].login);
        free_owned(st, p->users[i].email);
    }
    free(p->users);
    for (size_t i = 0; i < p->n_objects; i++)
        object_finish(st, &p->objects[i]);
    free(p->objects);
    for (size_t i = 0; i < p->n_issues; i++) {
        free(p->issues[i].url);
        free(p->issues[i].id);
        free(p->issues[i].message);
    }
    free(p->issues);
    digest_map_finish(&st->ids);
    digest_map_finish(&st->intids);
    digest_map_finish(&st->urls);
    digest_map_finish(&st->users);
    digest_map_finish(&st->logins);
    for (size_t i = 0; i < st->n_manifests_seen; i++)
        free(st->manifests_seen[i]);
    free(st->manifests_seen);
    free(st->root_url);
    free(st->undo);
    while (st->blocks) {
        struct package_block *next = st->blocks->next;
        free(st->blocks);
        st->blocks = next;
    }
    free(st);
    free(p);
}

const struct package_user *package_user_find(const struct package *p, int id)
{
    unsigned char key[16];
    struct package_ref r;
    package_int_key(id, key);
    return package_map_get(&p->state->users, key, &r) ? &p->users[r.index] : NULL;
}

/* ---- Issues ---- */

void package_add_issue_v(struct package *p, enum package_level level, const char *object_type,
                         const char *url, const char *id, int32_t code, const char *error_type,
                         const char *fmt, va_list ap)
{
    if (p->n_issues % 64 == 0)
        p->issues = xrealloc(p->issues, (p->n_issues + 64) * sizeof *p->issues);
    struct package_issue *is = &p->issues[p->n_issues++];
    is->level = level;
    is->object_type = object_type;
    is->url = xstrdup(url ? url : "");
    is->id = xstrdup(id ? id : "");
    is->error_code = code;
    is->error_type = error_type;
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    is->message = xstrdup(buf);
    if (level == PACKAGE_WARNING)
        p->n_warnings++;
    else if (level == PACKAGE_ERROR)
        p->n_errors++;
    else
        p->n_fatal++;
}

void package_file_issue(struct package *p, enum package_level level, const char *file, int32_t code,
                        const char *error_type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    package_add_issue_v(p, level, "", file, "", code, error_type, fmt, ap);
    va_end(ap);
}

/* ---- Marks ---- */

void package_mark(struct package *p, struct package_mark *m)
{
    struct package_state *st = p->state;
    *m = (struct package_mark){
        .n_issues = p->n_issues,
        .n_warnings = p->n_warnings,
        .n_errors = p->n_errors,
        .n_fatal = p->n_fatal,
        .n_objects = p->n_objects,
        .n_users = p->n_users,
        .n_manifest_names = p->n_manifest_names,
        .root_folder_seen = st->root_folder_seen,
        .had_site_url = p->site_url != NULL,
        .had_source_type = p->source_type != NULL,
    };
    st->first_object = p->n_objects;
    st->n_undo = 0;
}

void package_note_change(struct package *p, size_t i)
{
    struct package_state *st = p->state;
    if (i >= st->first_object)
        return;
    if (st->n_undo == st->cap_undo) {
        st->cap_undo = st->cap_undo ? 2 * st->cap_undo : 8;
        st->undo = xrealloc(st->undo, st->cap_undo * sizeof *st->undo);
    }
    st->undo[st->n_undo++] = (struct package_undo){i, p->objects[i]};
}

void package_mark_done(struct package *p)
{
    struct package_state *st = p->state;
    st->n_undo = 0;
    st->first_object = p->n_objects;
}

/* Fills the object tables again from the objects there are (after a rollback). */
static void rebuild_object_maps(struct package *p)
{
    struct package_state *st = p->state;
    digest_map_finish(&st->ids);
    digest_map_finish(&st->intids);
    digest_map_finish(&st->urls);
    package_map_put(&st->ids, p->target.root_folder_id, (struct package_ref){REF_ROOT, 0});
    unsigned char key[16];
    for (size_t i = 0; i < p->n_objects; i++) {
        const struct package_object *ob = &p->objects[i];
        package_map_put(&st->ids, ob->id, (struct package_ref){REF_OBJECT, i});
        if (ob->has_list_item_id)
            package_map_put(&st->ids, ob->list_item_id, (struct package_ref){REF_LIST_ITEM, i});
        if (ob->excluded)
            continue;
        package_text_key(ob->url, key);
        package_map_put(&st->urls, key, (struct package_ref){REF_OBJECT, i});
        if (ob->list_item_int_id) {
            package_int_key(ob->list_item_int_id, key);
            package_map_put(&st->intids, key, (struct package_ref){REF_OBJECT, i});
        }
    }
}

static void rebuild_user_maps(struct package *p)
{
    struct package_state *st = p->state;
    digest_map_finish(&st->users);
    digest_map_finish(&st->logins);
    unsigned char key[16];
    for (size_t i = 0; i < p->n_users; i++) {
        package_int_key(p->users[i].id, key);
        package_map_put(&st->users, key, (struct package_ref){REF_USER, i});
        if (p->users[i].login[0]) {
            package_text_key(p->users[i].login, key);
            package_map_put(&st->logins, key, (struct package_ref){REF_USER, i});
        }
    }
}

void package_rollback(struct package *p, const struct package_mark *m)
{
    struct package_state *st = p->state;
    for (size_t i = m->n_issues; i < p->n_issues; i++) {
        free(p->issues[i].url);
        free(p->issues[i].id);
        free(p->issues[i].message);
    }
    p->n_issues = m->n_issues;
    p->n_warnings = m->n_warnings;
    p->n_errors = m->n_errors;
    p->n_fatal = m->n_fatal;
    bool objects = p->n_objects != m->n_objects || st->n_undo;
    while (st->n_undo) {
        const struct package_undo *u = &st->undo[--st->n_undo];
        p->objects[u->index] = u->before;
    }
    for (size_t i = m->n_objects; i < p->n_objects; i++)
        object_finish(st, &p->objects[i]);
    p->n_objects = m->n_objects;
    if (objects)
        rebuild_object_maps(p);
    st->root_folder_seen = m->root_folder_seen;
    if (p->n_users != m->n_users) {
        for (size_t i = m->n_users; i < p->n_users; i++) {
            free_owned(st, p->users[i].name);
            free_owned(st, p->users[i].login);
            free_owned(st, p->users[i].email);
        }
        p->n_users = m->n_users;
        rebuild_user_maps(p);
    }
    for (size_t i = m->n_manifest_names; i < p->n_manifest_names; i++)
        free_owned(st, p->manifest_names[i]);
    p->n_manifest_names = m->n_manifest_names;
    if (!m->had_site_url) {
        free_owned(st, p->site_url);
        p->site_url = NULL;
    }
    if (!m->had_source_type) {
        free_owned(st, p->source_type);
        p->source_type = NULL;
    }
    package_mark_done(p);
}

/* ---- Files, finish, load ---- */

/* Counts the file as given; false (with a fatal issue) when it was given before. */
static bool note_file(struct package *p, enum package_file kind, const char *name)
{
    struct package_state *st = p->state;
    assert(!st->finished);
    if (kind == PACKAGE_MANIFEST) {
        for (size_t i = 0; i < st->n_manifests_seen; i++)
            if (strcmp(st->manifests_seen[i], name) == 0) {
                package_file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_ALREADY_EXISTS, ET_SP,
                                   "The manifest %s was given twice", name);
                return false;
            }
        st->manifests_seen =
            xrealloc(st->manifests_seen, (st->n_manifests_seen + 1) * sizeof *st->manifests_seen);
        st->manifests_seen[st->n_manifests_seen++] = xstrdup(name);
    } else if (st->have[kind]) {
        package_file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_ALREADY_EXISTS, ET_SP,
                           "%s was given twice", name);
        return false;
    }
    st->have[kind] = true;
    return true;
}

int package_parse_stream(struct package *p, enum package_file kind, const char *name,
                         const struct package_stream *s)
{
    size_t fatal_before = p->n_fatal;
    if (!note_file(p, kind, name))
        return -1;
    package_xml_read(p, kind, name, s);
    return p->n_fatal > fatal_before ? -1 : 0;
}

/* A stream over bytes in memory. */
struct mem_stream {
    const char *data;
    size_t len, pos;
};

static ssize_t mem_read(void *ctx, void *buf, size_t cap, char **why)
{
    (void)why;
    struct mem_stream *m = ctx;
    size_t n = m->len - m->pos < cap ? m->len - m->pos : cap;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

int package_parse(struct package *p, enum package_file kind, const char *name, const void *xml,
                  size_t len)
{
    size_t fatal_before = p->n_fatal;
    if (!note_file(p, kind, name))
        return -1;
    if (len > PACKAGE_XML_MAX_BYTES) {
        package_file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_XML, ET_XML,
                           "%s is %zu bytes; the limit is %d", name, len, PACKAGE_XML_MAX_BYTES);
        return -1;
    }
    struct mem_stream m = {xml, len, 0};
    struct package_stream s = {&m, mem_read, NULL};
    package_xml_read(p, kind, name, &s);
    return p->n_fatal > fatal_before ? -1 : 0;
}

/* Author/ModifiedBy: a user of UserGroup.xml, or System Account. An id that was given but
 * is not a user is kept in *unknown (the first one) for the warning. */
static void resolve_user(const struct package *p, int *id, int *unknown)
{
    if (*id != NO_USER && !package_user_find(p, *id) && *unknown == NO_USER)
        *unknown = *id;
    if (*id == NO_USER || !package_user_find(p, *id))
        *id = PACKAGE_SYSTEM_ACCOUNT;
}

__attribute__((format(printf, 5, 6))) static void user_warning(struct package *p, const char *type,
                                                               const char *url, const char *id,
                                                               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    package_add_issue_v(p, PACKAGE_WARNING, type, url, id, PACKAGE_E_USER, ET_SP, fmt, ap);
    va_end(ap);
}

static void resolve_users(struct package *p)
{
    for (size_t i = 0; i < p->n_objects; i++) {
        struct package_object *ob = &p->objects[i];
        int unknown = NO_USER;
        resolve_user(p, &ob->author, &unknown);
        resolve_user(p, &ob->editor, &unknown);
        for (size_t k = 0; k < ob->n_versions; k++) {
            resolve_user(p, &ob->versions[k].author, &unknown);
            resolve_user(p, &ob->versions[k].editor, &unknown);
        }
        if (unknown != NO_USER && !ob->excluded) {
            char id[UUID_BUF];
            uuid_format(ob->id, id);
            user_warning(p, ob->kind == PACKAGE_FILE ? "File" : "Folder", ob->url, id,
                         "Failed to ensure user %d: not in UserGroup.xml; System Account is used",
                         unknown);
        }
    }
}

int package_finish(struct package *p)
{
    struct package_state *st = p->state;
    assert(!st->finished);
    st->finished = true;
    /* After a fatal issue, manifests that were never read are not news. */
    bool failed_before = p->n_fatal > 0;
    for (int k = 0; k < PACKAGE_FILE_KINDS; k++) {
        if (k == PACKAGE_MANIFEST || st->have[k])
            continue;
        if (package_files[k].required)
            package_file_issue(p, PACKAGE_FATAL, package_files[k].file, PACKAGE_E_NOT_FOUND, ET_SP,
                               "The required file %s is missing", package_files[k].file);
        else
            package_file_issue(p, PACKAGE_WARNING, package_files[k].file, PACKAGE_E_NOT_FOUND,
                               ET_SP, "The file %s is missing", package_files[k].file);
    }
    for (size_t i = 0; !failed_before && i < p->n_manifest_names; i++) {
        bool seen = false;
        for (size_t j = 0; j < st->n_manifests_seen; j++)
            seen = seen || strcmp(st->manifests_seen[j], p->manifest_names[i]) == 0;
        if (!seen)
            package_file_issue(p, PACKAGE_FATAL, p->manifest_names[i], PACKAGE_E_NOT_FOUND, ET_SP,
                               "The manifest %s listed in SystemData.xml is missing",
                               p->manifest_names[i]);
    }
    /* After a fatal issue nothing is imported: warnings about users would only be noise. */
    if (!p->n_fatal)
        resolve_users(p);
    /* What only the checks needed goes; the model keeps no slack. */
    digest_map_finish(&st->ids);
    digest_map_finish(&st->intids);
    digest_map_finish(&st->urls);
    free(st->undo);
    st->undo = NULL;
    st->n_undo = st->cap_undo = 0;
    if (p->n_objects && p->n_objects < st->cap_objects) {
        p->objects = xrealloc(p->objects, p->n_objects * sizeof *p->objects);
        st->cap_objects = p->n_objects;
    }
    return p->n_fatal ? -1 : 0;
}

/* Reads one file for a loader; false when the load must stop. */
typedef bool (*load_fn)(struct package *p, void *ctx, enum package_file kind, const char *name);

static struct package *load_all(const struct package_target *target, load_fn one, void *ctx)
{
    static const enum package_file order[] = {
        PACKAGE_SYSTEM_DATA,     PACKAGE_EXPORT_SETTINGS, PACKAGE_USER_GROUP,
        PACKAGE_ROOT_OBJECT_MAP, PACKAGE_LOOKUP_LIST_MAP, PACKAGE_REQUIREMENTS,
        PACKAGE_VIEW_FORMS_LIST,
    };
    struct package *p = package_create(target);
    bool go = true;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        go &= one(p, ctx, order[i], package_files[order[i]].file);
    for (size_t i = 0; go && i < p->n_manifest_names; i++)
        go = one(p, ctx, PACKAGE_MANIFEST, p->manifest_names[i]);
    package_finish(p);
    return p;
}

/* A file that exists but cannot be read: fatal, and the load stops. */
static bool unreadable(struct package *p, enum package_file kind, const char *name, char *why)
{
    p->state->have[kind] = kind != PACKAGE_MANIFEST;
    package_file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_NOT_FOUND, ET_SP, "Cannot read %s: %s",
                       name, why ? why : "read failed");
    free(why);
    return false;
}

struct opener {
    package_open_fn open;
    void *ctx;
};

static bool load_stream(struct package *p, void *ctx, enum package_file kind, const char *name)
{
    const struct opener *o = ctx;
    struct package_stream s = {0};
    char *why = NULL;
    int rc = o->open(o->ctx, name, &s, &why);
    if (rc == 1) {
        free(why);
        return true; /* package_finish reports what is missing */
    }
    if (rc < 0)
        return unreadable(p, kind, name, why);
    free(why);
    rc = package_parse_stream(p, kind, name, &s);
    if (s.close)
        s.close(s.ctx);
    return rc == 0;
}

struct package *package_load_from(const struct package_target *target, package_open_fn open,
                                  void *ctx)
{
    struct opener o = {open, ctx};
    return load_all(target, load_stream, &o);
}

struct whole_reader {
    package_read_fn read;
    void *ctx;
};

static bool load_whole(struct package *p, void *ctx, enum package_file kind, const char *name)
{
    const struct whole_reader *r = ctx;
    char *data = NULL, *why = NULL;
    size_t len = 0;
    int rc = r->read(r->ctx, name, &data, &len, &why);
    if (rc == 1) {
        free(data);
        free(why);
        return true;
    }
    if (rc < 0) {
        free(data);
        return unreadable(p, kind, name, why);
    }
    free(why);
    rc = package_parse(p, kind, name, data, len);
    free(data);
    return rc == 0;
}

struct package *package_load(const struct package_target *target, package_read_fn read, void *ctx)
{
    struct whole_reader r = {read, ctx};
    return load_all(target, load_whole, &r);
}
