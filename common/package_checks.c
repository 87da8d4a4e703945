/*
 * package_checks.c: the rules of package-format.md sections 7 and 8 that the schemas cannot
 * say, applied to one element at a time as package_xml.c hands them over: GUIDs, the target
 * web and library, parents before children, names and paths, duplicates, versions, users and
 * the small files' contents. Each SPObject becomes an object of the model (or an issue). It
 * never sees XML text, only attributes already past the schema.
 */
#include "package_internal.h"
#include "b64.h"
#include "sp_names.h"
#include "spmig_limits.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *package_elem_attr(const struct package_elem *e, const char *name)
{
    for (size_t i = 0; i < e->n_attrs; i++)
        if (strcmp(e->attrs[i].name, name) == 0)
            return e->attrs[i].value;
    return NULL;
}

#define attr package_elem_attr

/* ---- Issues about objects ---- */

/* The object an issue is about. */
struct obj {
    struct package *p;
    const char *type; /* "File", "Folder", "ListItem", "List", "User" or "" */
    const char *url, *id;
};

/* Reports an error on the object; returns -1 so callers can `return obj_error(...)`. */
__attribute__((format(printf, 3, 4))) static int obj_error(const struct obj *o, int32_t code,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    package_add_issue_v(o->p, PACKAGE_ERROR, o->type, o->url, o->id, code, ET_SP, fmt, ap);
    va_end(ap);
    return -1;
}

__attribute__((format(printf, 4, 5))) static int
obj_issue(const struct obj *o, enum package_level level, int32_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    package_add_issue_v(o->p, level, o->type, o->url, o->id, code, ET_SP, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- Attribute values ---- */

/* Integers as XSD writes them (the schema already checked the lexical form, which allows
 * surrounding white space and a sign). */
static bool parse_ll(const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || errno)
        return false;
    while (isspace((unsigned char)*end))
        end++;
    if (*end || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

/* An xs:int user id, or NO_USER when absent. */
static int user_attr(const char *v)
{
    long long x;
    return v && parse_ll(v, INT_MIN + 1LL, INT_MAX, &x) ? (int)x : NO_USER;
}

/* GUID attribute what = v: 0 and out set, 1 when absent, -1 (error reported) if malformed. */
static int guid_attr(const struct obj *o, const char *what, const char *v,
                     unsigned char out[UUID_LEN])
{
    if (!v)
        return 1;
    if (uuid_parse(v, out) < 0)
        return obj_error(o, PACKAGE_E_INVALIDARG, "%s '%s' is not a valid GUID", what, v);
    return 0;
}

/* Same, and the attribute is required. */
static int guid_required(const struct obj *o, const char *what, const char *v,
                         unsigned char out[UUID_LEN])
{
    if (!v)
        return obj_error(o, PACKAGE_E_INVALIDARG, "%s is missing", what);
    return guid_attr(o, what, v, out);
}

/* xs:dateTime what = v as ms since the epoch; a time without a zone is UTC. */
static int time_attr(const struct obj *o, const char *what, const char *v, int64_t *out)
{
    *out = PACKAGE_NO_TIME;
    if (!v)
        return 0;
    char buf[TIMEFMT_BUF + 2];
    size_t n = strlen(v);
    const char *t = strchr(v, 'T');
    bool zoned = n && (v[n - 1] == 'Z' || (t && (strchr(t, '+') || strchr(t, '-'))));
    if (n + 2 > sizeof buf || !t)
        goto bad;
    snprintf(buf, sizeof buf, "%s%s", v, zoned ? "" : "Z");
    if (timefmt_parse_iso8601(buf, out) < 0)
        goto bad;
    return 0;
bad:
    *out = PACKAGE_NO_TIME;
    return obj_error(o, PACKAGE_E_INVALIDARG, "%s '%s' is not a supported time", what, v);
}

/* ---- Name and path rules (package-format.md section 7; sp_names.c owns them) ---- */

/* Checks the leaf name (a folder's folder-only rules too, "forms" when its parent is the
 * library root) and the decoded server-relative path of url. */
static int check_name_and_path(const struct obj *o, const char *name, const char *url,
                               enum sp_names_kind kind)
{
    const char *web = o->p->target.web_url;
    size_t len =
        (strcmp(web, "/") == 0 ? 0 : sp_names_utf16_len(web)) + 1 + sp_names_utf16_len(url);
    enum sp_names_verdict v = sp_names_check(name, kind);
    if (v == SP_NAMES_OK)
        v = sp_names_check_length(len);
    if (v == SP_NAMES_TOO_LONG)
        return obj_error(o, PACKAGE_E_PATH_TOO_LONG,
                         "The path is %zu characters long; the limit is %d", len,
                         LIMIT_SP_PATH_UNITS);
    if (v != SP_NAMES_OK)
        return obj_error(o, PACKAGE_E_INVALID_NAME, "The name '%s' %s", name, sp_names_reason(v));
    return 0;
}

/* ---- The small files ---- */

static const char *const source_types[] = {
    "AmazonS3",         "AzureStorage",           "Box",         "Dropbox",         "Egnyte",
    "FileShare",        "GoogleCloudStorage",     "GoogleDrive", "MicrosoftStream", "OneDrive",
    "SharePointOnline", "SharePointOnPremServer", "Other",
};

void package_check_export_settings(struct package *p, const char *name,
                                   const struct package_elem *root)
{
    const char *site = attr(root, "SiteUrl");
    const char *type = attr(root, "SourceType");
    p->site_url = package_strdup(p, site ? site : "");
    if (!type) {
        package_file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_INVALIDARG, ET_SP,
                           "ExportSettings has no SourceType");
        return;
    }
    p->source_type = package_strdup(p, type);
    bool known = false;
    for (size_t i = 0; i < sizeof source_types / sizeof source_types[0]; i++)
        known = known || strcmp(type, source_types[i]) == 0;
    if (!known)
        package_file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_INVALIDARG, ET_SP,
                           "ExportSettings SourceType '%s' is not a known source type", type);
    else if (strcmp(type, "Other") == 0 && !attr(root, "DetailedSource"))
        package_file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_INVALIDARG, ET_SP,
                           "ExportSettings SourceType 'Other' needs a DetailedSource");
}

bool package_check_manifest_file(struct package *p, const char *name, const struct package_elem *m)
{
    const char *mname = attr(m, "Name"); /* the schema requires it */
    if (!mname)
        return false;
    for (size_t i = 0; i < p->n_manifest_names; i++)
        if (strcmp(p->manifest_names[i], mname) == 0) {
            package_file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_ALREADY_EXISTS, ET_SP,
                               "SystemData lists the manifest '%s' twice", mname);
            return false;
        }
    if (p->n_manifest_names == PACKAGE_MAX_MANIFESTS) {
        package_file_issue(p, PACKAGE_FATAL, name, PACKAGE_E_INVALIDARG, ET_SP,
                           "SystemData lists more than %d manifests", PACKAGE_MAX_MANIFESTS);
        return false;
    }
    p->manifest_names =
        xrealloc(p->manifest_names, (p->n_manifest_names + 1) * sizeof *p->manifest_names);
    p->manifest_names[p->n_manifest_names++] = package_strdup(p, mname);
    return true;
}

void package_check_user(struct package *p, const struct package_elem *u)
{
    struct package_state *st = p->state;
    const char *id = attr(u, "Id");
    const char *login = attr(u, "Login");
    struct obj o = {p, "User", login ? login : "", id};
    int uid = user_attr(id); /* the schema requires an xs:int Id */
    unsigned char key[16], lkey[16];
    package_int_key(uid, key);
    if (login)
        package_text_key(login, lkey);
    if (uid == NO_USER || package_map_get(&st->users, key, NULL)) {
        obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_ALREADY_EXISTS,
                  "The user id %s appears more than once in UserGroup.xml", id ? id : "");
        return;
    }
    if (login && *login && package_map_get(&st->logins, lkey, NULL)) {
        obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_ALREADY_EXISTS,
                  "The login '%s' appears more than once in UserGroup.xml", login);
        return;
    }
    if (login && !strchr(login, '|') && !strchr(login, '@'))
        obj_issue(&o, PACKAGE_WARNING, PACKAGE_E_USER,
                  "The login '%s' is neither a claim nor a UPN", login);
    const char *nm = attr(u, "Name"), *em = attr(u, "Email");
    const char *admin = attr(u, "IsSiteAdmin"), *del = attr(u, "IsDeleted");
    if (p->n_users % 32 == 0)
        p->users = xrealloc(p->users, (p->n_users + 32) * sizeof *p->users);
    p->users[p->n_users] = (struct package_user){
        .id = uid,
        .name = package_strdup(p, nm ? nm : ""),
        .login = package_strdup(p, login ? login : ""),
        .email = package_strdup(p, em ? em : ""),
        .is_site_admin = admin && (strcmp(admin, "true") == 0 || strcmp(admin, "1") == 0),
        .is_deleted = del && (strcmp(del, "true") == 0 || strcmp(del, "1") == 0),
    };
    package_map_put(&st->users, key, (struct package_ref){REF_USER, p->n_users});
    if (login && *login)
        package_map_put(&st->logins, lkey, (struct package_ref){REF_USER, p->n_users});
    p->n_users++;
}

void package_check_root_object(struct package *p, const struct package_elem *r)
{
    const char *type = attr(r, "Type"), *id = attr(r, "Id");
    const char *parent = attr(r, "ParentId");
    struct obj o = {p, "List", attr(r, "Url"), id};
    unsigned char u[UUID_LEN];
    if (!type || strcmp(type, "List") != 0)
        return;
    if (!id || uuid_parse(id, u) < 0 || memcmp(u, p->target.list_id, UUID_LEN) != 0)
        obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_LIST_NOT_FOUND,
                  "RootObject %s is not the target list", id ? id : "");
    else if (parent && (uuid_parse(parent, u) < 0 || memcmp(u, p->target.web_id, UUID_LEN) != 0))
        obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_NOT_FOUND,
                  "RootObject ParentId %s is not the target web", parent);
}

/* ---- Manifest objects ---- */

/* The parent web of an object, when given, must be the target web. */
static int check_web(const struct obj *o, const char *v)
{
    unsigned char u[UUID_LEN];
    int rc = guid_attr(o, "ParentWebId", v, u);
    if (rc < 0)
        return -1;
    if (rc == 0 && memcmp(u, o->p->target.web_id, UUID_LEN) != 0)
        return obj_error(o, PACKAGE_E_NOT_FOUND, "The parent web %s was not found", v);
    return 0;
}

/* An optional list id (ListId, ContainingDocumentLibrary, ParentListId) must be the target. */
static int check_list(const struct obj *o, const char *what, const char *v)
{
    unsigned char u[UUID_LEN];
    int rc = guid_attr(o, what, v, u);
    if (rc < 0)
        return -1;
    if (rc == 0 && memcmp(u, o->p->target.list_id, UUID_LEN) != 0)
        return obj_error(o, PACKAGE_E_LIST_NOT_FOUND, "%s %s is not the target list", what, v);
    return 0;
}

/* The url of the folder parent_id names, for a child; NULL (error reported) if there is no
 * such folder before this object, or it was not imported. */
static const char *parent_url(const struct obj *o, const unsigned char parent_id[UUID_LEN],
                              const char *text)
{
    struct package_state *st = o->p->state;
    struct package_ref r;
    if (!package_map_get(&st->ids, parent_id, &r)) {
        obj_error(o, PACKAGE_E_PATH_NOT_FOUND,
                  "The parent folder %s was not found before this object", text);
        return NULL;
    }
    if (r.kind == REF_ROOT)
        return st->root_url;
    const struct package_object *par = &o->p->objects[r.index];
    if (r.kind != REF_OBJECT || par->kind != PACKAGE_FOLDER) {
        obj_error(o, PACKAGE_E_PATH_NOT_FOUND, "The parent %s is not a folder", text);
        return NULL;
    }
    if (par->excluded) {
        obj_error(o, PACKAGE_E_PATH_NOT_FOUND, "The parent folder %s was not imported", par->url);
        return NULL;
    }
    return par->url;
}

/* The checks folders and files share once the parent is known: name, url, path, name
 * conflict, list item id. */
static int check_placement(const struct obj *o, const char *purl, const char *name, const char *url,
                           int intid, bool is_folder)
{
    struct package_state *st = o->p->state;
    enum sp_names_kind kind = !is_folder             ? SP_NAMES_FILE
                              : purl == st->root_url ? SP_NAMES_ROOT_FOLDER
                                                     : SP_NAMES_FOLDER;
    if (check_name_and_path(o, name, url, kind) < 0)
        return -1;
    size_t pl = strlen(purl);
    if (strncasecmp(url, purl, pl) != 0 || url[pl] != '/' || strcmp(url + pl + 1, name) != 0)
        return obj_error(o, PACKAGE_E_INVALIDARG,
                         "The url '%s' is not the parent folder's url '%s' and the name '%s'", url,
                         purl, name);
    unsigned char key[16];
    package_text_key(url, key);
    if (package_map_get(&st->urls, key, NULL))
        return obj_error(o, PACKAGE_E_ALREADY_EXISTS,
                         "An item with the url '%s' is already in the package", url);
    if (intid) {
        package_int_key(intid, key);
        if (package_map_get(&st->intids, key, NULL))
            return obj_error(o, PACKAGE_E_ALREADY_EXISTS,
                             "The list item id %d is already used in the package", intid);
    }
    return 0;
}

/* Appends a new object with its url and name (kept once when the name ends the url) and
 * returns its index. */
static size_t add_object(struct package *p, enum package_kind kind, const char *url,
                         const char *name)
{
    struct package_state *st = p->state;
    if (p->n_objects == st->cap_objects) {
        st->cap_objects = st->cap_objects ? 2 * st->cap_objects : 64;
        p->objects = xrealloc(p->objects, st->cap_objects * sizeof *p->objects);
    }
    struct package_object *ob = &p->objects[p->n_objects];
    memset(ob, 0, sizeof *ob);
    ob->kind = kind;
    ob->author = ob->editor = NO_USER;
    ob->created = ob->modified = PACKAGE_NO_TIME;
    ob->url = package_strdup(p, url);
    size_t ul = strlen(url), nl = strlen(name);
    if (nl <= ul && strcmp(url + ul - nl, name) == 0 && (nl == ul || url[ul - nl - 1] == '/'))
        ob->name = ob->url + ul - nl;
    else
        ob->name = package_strdup(p, name);
    return p->n_objects++;
}

/* Registers object i under its id, url and list item id, for lookups by later objects. */
static void register_object(struct package *p, size_t i)
{
    struct package_state *st = p->state;
    const struct package_object *ob = &p->objects[i];
    unsigned char key[16];
    package_map_put(&st->ids, ob->id, (struct package_ref){REF_OBJECT, i});
    if (ob->excluded)
        return; /* its url and list item id stay free; children see it excluded */
    package_text_key(ob->url, key);
    package_map_put(&st->urls, key, (struct package_ref){REF_OBJECT, i});
    if (ob->list_item_int_id) {
        package_int_key(ob->list_item_int_id, key);
        package_map_put(&st->intids, key, (struct package_ref){REF_OBJECT, i});
    }
}

/* An optional positive xs:int list item id; 0 when absent, -1 (error) when not positive. */
static int intid_attr(const struct obj *o, const char *what, const char *v)
{
    long long x;
    if (!v)
        return 0;
    if (!parse_ll(v, 1, INT_MAX, &x))
        return obj_error(o, PACKAGE_E_INVALIDARG, "%s %s is not a positive integer", what, v);
    return (int)x;
}

/* Is id already used? Reports the duplicate. */
static bool duplicate_id(const struct obj *o, const unsigned char id[UUID_LEN])
{
    if (!package_map_get(&o->p->state->ids, id, NULL))
        return false;
    obj_error(o, PACKAGE_E_ALREADY_EXISTS, "The id %s is already used in the package", o->id);
    return true;
}

static void on_folder(struct package *p, const struct package_spobject *rec)
{
    const struct package_elem *f = rec->child;
    struct package_state *st = p->state;
    const char *id = attr(f, "Id"), *url = attr(f, "Url");
    const char *name = attr(f, "Name"), *parent = attr(f, "ParentFolderId");
    struct obj o = {p, "Folder", url, id};
    unsigned char uid[UUID_LEN], pid[UUID_LEN];
    if (guid_required(&o, "Id", id, uid) < 0)
        return;
    if (memcmp(uid, p->target.root_folder_id, UUID_LEN) == 0) {
        /* The library's root folder: it exists already; only its web and url must agree. */
        if (st->root_folder_seen)
            obj_error(&o, PACKAGE_E_ALREADY_EXISTS, "The root folder appears twice");
        else if (check_web(&o, attr(f, "ParentWebId")) == 0 && url &&
                 strcasecmp(url, st->root_url) != 0)
            obj_error(&o, PACKAGE_E_LIST_NOT_FOUND,
                      "The root folder url '%s' is not the target library's '%s'", url,
                      st->root_url);
        st->root_folder_seen = true;
        return;
    }
    if (duplicate_id(&o, uid))
        return;

    if (!name && url) {
        const char *slash = strrchr(url, '/');
        name = slash ? slash + 1 : url;
    }
    size_t i = add_object(p, PACKAGE_FOLDER, url ? url : "", name ? name : "");
    struct package_object *ob = &p->objects[i];
    memcpy(ob->id, uid, UUID_LEN);
    ob->author = user_attr(attr(f, "Author"));
    ob->editor = user_attr(attr(f, "ModifiedBy"));
    const char *purl;
    int intid;
    if (!url)
        goto error_missing_url;
    if (guid_required(&o, "ParentFolderId", parent, pid) < 0 ||
        check_web(&o, attr(f, "ParentWebId")) < 0 ||
        check_list(&o, "ContainingDocumentLibrary", attr(f, "ContainingDocumentLibrary")) < 0 ||
        (intid = intid_attr(&o, "ListItemIntId", attr(f, "ListItemIntId"))) < 0 ||
        time_attr(&o, "TimeCreated", attr(f, "TimeCreated"), &ob->created) < 0 ||
        time_attr(&o, "TimeLastModified", attr(f, "TimeLastModified"), &ob->modified) < 0)
        goto error;
    memcpy(ob->parent_id, pid, UUID_LEN);
    if (!(purl = parent_url(&o, pid, parent)) ||
        check_placement(&o, purl, ob->name, url, intid, true))
        goto error;
    ob->list_item_int_id = intid;
    register_object(p, i);
    return;

error_missing_url:
    obj_error(&o, PACKAGE_E_INVALIDARG, "Url is missing");
error:
    p->objects[i].excluded = true;
    register_object(p, i);
}

/* Parses a version label "major.minor" (digits only; minor < 512 as SharePoint's UI version
 * number major * 512 + minor must fit an int). */
static bool parse_label(const char *v, int *major, int *minor)
{
    const char *dot = strchr(v, '.');
    if (!dot || dot == v || !dot[1] || dot - v > 7 || strlen(dot + 1) > 3)
        return false;
    for (const char *c = v; *c; c++)
        if (c != dot && !isdigit((unsigned char)*c))
            return false;
    *major = atoi(v);
    *minor = atoi(dot + 1);
    return *major <= INT_MAX / 512 - 1 && *minor < 512;
}

/*
 * Reads the version attributes of a File element (the outer one or one in Versions). Fields
 * not given are inherited from def when it is not NULL. The strings of v point into the
 * element (or are static) until commit_version copies them into the package.
 */
static int read_version(const struct obj *o, const struct package_elem *f,
                        struct package_version *v, const struct package_version *def)
{
    memset(v, 0, sizeof *v);
    v->file_size = PACKAGE_NO_SIZE;
    const char *label = attr(f, "Version"), *fv = attr(f, "FileValue");
    const char *size = attr(f, "FileSize"), *md5 = attr(f, "MD5Hash");
    const char *iv = attr(f, "InitializationVector");
    v->label = (char *)label;
    v->file_value = (char *)fv;
    v->checkin_comment = (char *)attr(f, "CheckinComment");
    v->author = user_attr(attr(f, "Author"));
    v->editor = user_attr(attr(f, "ModifiedBy"));
    if (label && !parse_label(label, &v->major, &v->minor))
        return obj_error(o, PACKAGE_E_INVALIDARG, "The version label '%s' is not major.minor",
                         label);
    if (fv && !*fv)
        return obj_error(o, PACKAGE_E_INVALIDARG, "FileValue is empty");
    long long n;
    if (size) {
        if (!parse_ll(size, 0, LLONG_MAX, &n))
            return obj_error(o, PACKAGE_E_INVALIDARG, "FileSize %s is not a size", size);
        if (n > PACKAGE_MAX_FILE_SIZE)
            return obj_error(o, PACKAGE_E_FILE_TOO_LARGE,
                             "FileSize %lld is over the limit of %lld bytes", n,
                             PACKAGE_MAX_FILE_SIZE);
        v->file_size = n;
    }
    if (md5) {
        if (b64_decode_to(md5, strlen(md5), v->md5, sizeof v->md5) != 16)
            return obj_error(o, PACKAGE_E_INVALIDARG, "MD5Hash is not base64 of 16 bytes");
        v->has_md5 = true;
    }
    if (iv) {
        if (b64_decode_to(iv, strlen(iv), v->iv, sizeof v->iv) != 16)
            return obj_error(o, PACKAGE_E_INVALIDARG,
                             "InitializationVector is not base64 of 16 bytes");
        v->has_iv = true;
    }
    if (time_attr(o, "TimeCreated", attr(f, "TimeCreated"), &v->created) < 0 ||
        time_attr(o, "TimeLastModified", attr(f, "TimeLastModified"), &v->modified) < 0)
        return -1;
    if (def) {
        if (v->author == NO_USER)
            v->author = def->author;
        if (v->editor == NO_USER)
            v->editor = def->editor;
        if (v->created == PACKAGE_NO_TIME)
            v->created = def->created;
        if (v->modified == PACKAGE_NO_TIME)
            v->modified = def->modified;
    }
    return 0;
}

static int version_cmp(const void *a, const void *b)
{
    const struct package_version *x = a, *y = b;
    if (x->major != y->major)
        return x->major < y->major ? -1 : 1;
    return x->minor < y->minor ? -1 : x->minor > y->minor;
}

/* Gives the object the n versions of vs, their strings copied into the package. */
static void commit_versions(struct package *p, struct package_object *ob,
                            const struct package_version *vs, size_t n)
{
    ob->versions = package_alloc(p, n * sizeof *ob->versions);
    ob->n_versions = n;
    for (size_t i = 0; i < n; i++) {
        struct package_version *v = &ob->versions[i];
        *v = vs[i];
        v->label = package_strdup(p, v->label);
        v->file_value = package_strdup(p, v->file_value);
        v->checkin_comment = package_strdup(p, v->checkin_comment);
    }
}

/* Checks the versions in Versions (each with its FileValue) and the outer File's place among
 * them, leaving them sorted, the current one last, in *out (n; the caller frees it). */
static int versions_of(const struct obj *o, const struct package_spobject *rec,
                       const unsigned char id[UUID_LEN], const struct package_version *outer,
                       struct package_version **out, size_t *nout)
{
    size_t n = 0;
    struct package_version *vs = xmalloc((rec->n_versions + 1) * sizeof *vs);
    *out = vs;
    *nout = 0;
    for (size_t i = 0; i < rec->n_versions; i++) {
        const struct package_elem *vf = &rec->versions[i];
        struct package_version *v = &vs[n++];
        if (read_version(o, vf, v, outer) < 0)
            return -1;
        const char *vid = attr(vf, "Id");
        unsigned char u[UUID_LEN];
        if (!v->label)
            return obj_error(o, PACKAGE_E_INVALIDARG, "A version in Versions has no label");
        if (!v->file_value)
            return obj_error(o, PACKAGE_E_INVALIDARG, "Version %s has no FileValue", v->label);
        if (vid && (uuid_parse(vid, u) < 0 || memcmp(u, id, UUID_LEN) != 0))
            return obj_error(o, PACKAGE_E_INVALIDARG, "Version %s has another Id (%s)", v->label,
                             vid);
    }
    qsort(vs, n, sizeof *vs, version_cmp);
    for (size_t k = 1; k < n; k++)
        if (version_cmp(&vs[k - 1], &vs[k]) == 0)
            return obj_error(o, PACKAGE_E_ALREADY_EXISTS, "The version %s appears twice",
                             vs[k].label);
    *nout = n;
    if (!outer->label)
        return 0; /* the highest version is the current one */
    const struct package_version *top = &vs[n - 1];
    int cmp = version_cmp(outer, top);
    if (cmp > 0 && outer->file_value) {
        /* The current version given outside Versions only: it comes last. */
        vs[(*nout)++] = *outer;
        return 0;
    }
    if (cmp > 0)
        return obj_error(o, PACKAGE_E_INVALIDARG,
                         "The file's version %s is not in its Versions and has no FileValue",
                         outer->label);
    if (cmp < 0)
        return obj_error(o, PACKAGE_E_INVALIDARG,
                         "The file's version %s is not its highest version (%s)", outer->label,
                         top->label);
    return 0;
}

/* Builds the version list of a file: the versions in Versions or the outer File alone. */
static int file_versions(const struct obj *o, const struct package_spobject *rec,
                         struct package_object *ob, struct package_version *outer)
{
    if (!rec->has_versions) {
        if (!outer->file_value)
            return obj_error(o, PACKAGE_E_INVALIDARG, "The file has no FileValue");
        if (!outer->label) {
            outer->label = "1.0";
            outer->major = 1;
        }
        commit_versions(o->p, ob, outer, 1);
        return 0;
    }
    struct package_version *vs;
    size_t n;
    int rc = versions_of(o, rec, ob->id, outer, &vs, &n);
    if (rc == 0)
        commit_versions(o->p, ob, vs, n);
    free(vs);
    return rc;
}

static void on_file(struct package *p, const struct package_spobject *rec)
{
    const struct package_elem *f = rec->child;
    const char *id = attr(f, "Id"), *url = attr(f, "Url");
    const char *name = attr(f, "Name"), *parent = attr(f, "ParentId");
    struct obj o = {p, "File", url, id};
    unsigned char uid[UUID_LEN], pid[UUID_LEN];
    if (guid_required(&o, "Id", id, uid) < 0 || duplicate_id(&o, uid))
        return;

    size_t i = add_object(p, PACKAGE_FILE, url ? url : "", name ? name : "");
    struct package_object *ob = &p->objects[i];
    memcpy(ob->id, uid, UUID_LEN);
    struct package_version outer;
    int rc = read_version(&o, f, &outer, NULL);
    ob->author = outer.author;
    ob->editor = outer.editor;
    ob->created = outer.created;
    ob->modified = outer.modified;
    const char *purl;
    int intid = 0;
    if (rc < 0)
        goto error;
    if (!url || !name) {
        obj_error(&o, PACKAGE_E_INVALIDARG, "%s is missing", url ? "Name" : "Url");
        goto error;
    }
    if (guid_required(&o, "ParentId", parent, pid) < 0 ||
        check_web(&o, attr(f, "ParentWebId")) < 0 ||
        check_list(&o, "ListId", attr(f, "ListId")) < 0 ||
        (intid = intid_attr(&o, "ListItemIntId", attr(f, "ListItemIntId"))) < 0)
        goto error;
    memcpy(ob->parent_id, pid, UUID_LEN);
    if (!(purl = parent_url(&o, pid, parent)) ||
        check_placement(&o, purl, name, url, intid, false) ||
        file_versions(&o, rec, ob, &outer) < 0)
        goto error;
    ob->list_item_int_id = intid;
    register_object(p, i);
    return;

error:
    /* Never imported: it keeps no versions. */
    ob->versions = NULL;
    ob->n_versions = 0;
    ob->excluded = true;
    register_object(p, i);
}

static void on_list_item(struct package *p, const struct package_spobject *rec)
{
    const struct package_elem *li = rec->child;
    struct package_state *st = p->state;
    const char *id = attr(li, "Id"), *doc = attr(li, "DocId");
    const char *url = attr(li, "FileUrl");
    struct obj o = {p, "ListItem", url, id};
    unsigned char uid[UUID_LEN], did[UUID_LEN];
    int intid;
    if (guid_required(&o, "Id", id, uid) < 0 || guid_required(&o, "DocId", doc, did) < 0 ||
        check_web(&o, attr(li, "ParentWebId")) < 0 ||
        check_list(&o, "ParentListId", attr(li, "ParentListId")) < 0 ||
        (intid = intid_attr(&o, "IntId", attr(li, "IntId"))) < 0 || duplicate_id(&o, uid))
        return;
    struct package_ref r;
    if (!package_map_get(&st->ids, did, &r) || r.kind == REF_LIST_ITEM || r.kind == REF_LIST) {
        obj_error(&o, PACKAGE_E_ITEM_NOT_FOUND,
                  "The DocId %s is not a file or folder before this list item", doc);
        return;
    }
    if (r.kind == REF_ROOT)
        return; /* the root folder's item exists already */
    struct package_object *ob = &p->objects[r.index];
    if (ob->excluded)
        return; /* the error was reported on the document */
    if (ob->has_list_item_id) {
        obj_error(&o, PACKAGE_E_ALREADY_EXISTS, "The document %s already has a list item", doc);
        return;
    }
    unsigned char key[16];
    if (intid && ob->list_item_int_id && intid != ob->list_item_int_id) {
        obj_error(&o, PACKAGE_E_INVALIDARG, "IntId %d does not match the ListItemIntId %d of %s",
                  intid, ob->list_item_int_id, ob->url);
        return;
    }
    if (intid && !ob->list_item_int_id) {
        package_int_key(intid, key);
        if (package_map_get(&st->intids, key, NULL)) {
            obj_error(&o, PACKAGE_E_ALREADY_EXISTS,
                      "The list item id %d is already used in the package", intid);
            return;
        }
    }
    package_note_change(p, r.index);
    if (intid && !ob->list_item_int_id) {
        package_map_put(&st->intids, key, (struct package_ref){REF_OBJECT, r.index});
        ob->list_item_int_id = intid;
    }
    ob->has_list_item_id = true;
    memcpy(ob->list_item_id, uid, UUID_LEN);
    package_map_put(&st->ids, uid, (struct package_ref){REF_LIST_ITEM, r.index});
    /* Who and when, if the document did not say. */
    int author = user_attr(attr(li, "Author")), editor = user_attr(attr(li, "ModifiedBy"));
    if (ob->author == NO_USER)
        ob->author = author;
    if (ob->editor == NO_USER)
        ob->editor = editor;
}

/* SPDocumentLibrary and SPList: must be the target library; anything else is fatal. */
static void on_list(struct package *p, const struct package_spobject *rec)
{
    const struct package_elem *l = rec->child;
    const char *id = attr(l, "Id"), *root_id = attr(l, "RootFolderId");
    const char *root_url = attr(l, "RootFolderUrl"), *web = attr(l, "ParentWebId");
    struct obj o = {p, "List", root_url, id};
    unsigned char u[UUID_LEN];
    if (!id || uuid_parse(id, u) < 0 || memcmp(u, p->target.list_id, UUID_LEN) != 0)
        obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_LIST_NOT_FOUND,
                  "The list %s is not the target library", id ? id : "(no Id)");
    else if (root_id &&
             (uuid_parse(root_id, u) < 0 || memcmp(u, p->target.root_folder_id, UUID_LEN) != 0))
        obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_LIST_NOT_FOUND,
                  "RootFolderId %s is not the target library's root folder", root_id);
    else if (root_url && strcasecmp(root_url, p->target.root_folder_url) != 0)
        obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_LIST_NOT_FOUND,
                  "RootFolderUrl '%s' is not the target library's '%s'", root_url,
                  p->target.root_folder_url);
    else if (web && (uuid_parse(web, u) < 0 || memcmp(u, p->target.web_id, UUID_LEN) != 0))
        obj_issue(&o, PACKAGE_FATAL, PACKAGE_E_NOT_FOUND, "The parent web %s was not found", web);
}

/* ObjectType values the Migration API accepts, the typed child each holds, and what the
 * import does with it (NULL: carried, not imported). */
static const struct {
    const char *type, *child;
    void (*handle)(struct package *, const struct package_spobject *);
    const char *report_as; /* ObjectType in issues */
} object_types[] = {
    {"SPFolder", "Folder", on_folder, "Folder"},
    {"SPFile", "File", on_file, "File"},
    {"SPListItem", "ListItem", on_list_item, "ListItem"},
    {"SPDocumentLibrary", "DocumentLibrary", on_list, "List"},
    {"SPList", "List", on_list, "List"},
    {"SPContentType", "ContentType", NULL, ""},
    {"SPDocumentTemplate", "DocumentTemplate", NULL, ""},
    {"DeploymentUserX", "UserX", NULL, ""},
    {"DeploymentGroupX", "GroupX", NULL, ""},
    {"DeploymentRoles", "Roles", NULL, ""},
    {"DeploymentRoleX", "RoleX", NULL, ""},
    {"DeploymentRoleAssignments", "RoleAssignments", NULL, ""},
    {"DeploymentRoleAssignmentX", "RoleAssignmentX", NULL, ""},
};

void package_check_spobject(struct package *p, const struct package_spobject *rec)
{
    const struct package_elem *sp = &rec->sp, *child = rec->child;
    const char *type = attr(sp, "ObjectType"), *id = attr(sp, "Id");
    const char *url = attr(sp, "Url");
    size_t k = 0, n = sizeof object_types / sizeof object_types[0];
    while (type && k < n && strcmp(type, object_types[k].type) != 0)
        k++;
    /* Issues name the object as its typed child does (web-relative url) when it can. */
    const char *cid = child ? attr(child, "Id") : NULL;
    const char *curl = NULL;
    if (child)
        curl = attr(child, strcmp(child->name, "ListItem") ? "Url" : "FileUrl");
    struct obj o = {p, k < n ? object_types[k].report_as : "", curl ? curl : url, id};
    unsigned char u[UUID_LEN], cu[UUID_LEN];
    if (!type)
        obj_error(&o, PACKAGE_E_INVALIDARG, "SPObject has no ObjectType");
    else if (k == n)
        obj_error(&o, PACKAGE_E_INVALIDARG, "ObjectType '%s' is not allowed", type);
    else if (!child || strcmp(child->name, object_types[k].child) != 0)
        obj_error(&o, PACKAGE_E_INVALIDARG, "An SPObject of type %s must hold one %s element", type,
                  object_types[k].child);
    else if (guid_attr(&o, "SPObject Id", id, u) < 0 || check_web(&o, attr(sp, "ParentWebId")) < 0)
        ; /* reported */
    else if (id && cid && uuid_parse(cid, cu) == 0 && memcmp(u, cu, UUID_LEN) != 0)
        obj_error(&o, PACKAGE_E_INVALIDARG, "The SPObject Id %s differs from its %s Id %s", id,
                  object_types[k].child, cid);
    else if (object_types[k].handle)
        object_types[k].handle(p, rec);
}
