/*
 * package_write.c: writes the XML files of a migration package (package-format.md) from the
 * flat object list of package_write.h, streaming libxml2's xmlTextWriter straight into the
 * caller's strbuf. It knows the files' roots, namespaces, element and attribute names; it
 * does not choose ids, scan the share, read, encrypt or upload anything.
 */
#include "package_write.h"
#include "b64.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/chvalid.h>
#include <libxml/globals.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlwriter.h>

/* The root element and default namespace of each file (package-format.md section 1.2). */
static const struct {
    const char *root, *ns;
} roots[PACKAGE_FILE_KINDS] = {
    [PACKAGE_MANIFEST] = {"SPObjects", "urn:deployment-manifest-schema"},
    [PACKAGE_EXPORT_SETTINGS] = {"ExportSettings", "urn:deployment-exportsettings-schema"},
    [PACKAGE_SYSTEM_DATA] = {"SystemData", "urn:deployment-systemdata-schema"},
    [PACKAGE_USER_GROUP] = {"UserGroupMap", "urn:deployment-usergroupmap-schema"},
    [PACKAGE_ROOT_OBJECT_MAP] = {"RootObjects", "urn:deployment-rootobjectmap-schema"},
    [PACKAGE_LOOKUP_LIST_MAP] = {"LookupLists", "urn:deployment-lookuplistmap-schema"},
    [PACKAGE_REQUIREMENTS] = {"Requirements", "urn:deployment-requirements-schema"},
    /* Sic: "viewformlist", no "s" after "form", unlike the root element. */
    [PACKAGE_VIEW_FORMS_LIST] = {"ViewFormsList", "urn:deployment-viewformlist-schema"},
};

/* SystemData's SchemaVersion, as every generator we know writes it for SharePoint Online. */
#define SCHEMA_VERSION   "15.0.0.0"
#define SCHEMA_BUILD     "16.0.3111.1200"
#define SCHEMA_DATABASE  "11552"
#define SCHEMA_SITE_VERS "15"

/* The times xs:dateTime can carry and the server reads: years 0001 to 9999, in ms. */
#define TIME_MIN_MS (-62135596800000LL) /* 0001-01-01T00:00:00Z */
#define TIME_MAX_MS 253402300799999LL   /* 9999-12-31T23:59:59.999Z */

/*
 * One file being written. Errors are sticky: the first one is logged and sets failed, and
 * every helper does nothing after that, so the writing code reads as a plain sequence and
 * pkgw_write checks once at the end.
 */
struct pw {
    xmlTextWriterPtr w;
    struct strbuf *out;
    const char *file; /* for messages */
    size_t object;    /* the manifest object being written, from 1; 0 for none */
    bool failed;
    bool full;         /* out's limit was reached */
    char xml_why[256]; /* libxml2's first error message */
};

/* The output sink: libxml2 hands over its buffered output in chunks of about 4 KB. */
static int sink_write(void *ctx, const char *buf, int len)
{
    struct pw *pw = ctx;
    if (len < 0 || strbuf_append(pw->out, buf, (size_t)len) < 0) {
        pw->full = true;
        return -1;
    }
    return len;
}

static int sink_close(void *ctx)
{
    (void)ctx;
    return 0;
}

/* libxml2's errors while we write (a failed sink shows up as an I/O error): kept for our log
 * line instead of going to stderr on their own. */
static void on_xml_error(void *ctx, xmlErrorPtr e)
{
    struct pw *pw = ctx;
    if (pw->xml_why[0] || !e || !e->message)
        return;
    snprintf(pw->xml_why, sizeof pw->xml_why, "%s", e->message);
    size_t n = strlen(pw->xml_why);
    while (n && (pw->xml_why[n - 1] == '\n' || pw->xml_why[n - 1] == ' '))
        pw->xml_why[--n] = '\0';
}

/* Checks the result of a libxml2 writer call. */
static void check(struct pw *pw, int rc)
{
    if (rc >= 0 || pw->failed)
        return;
    pw->failed = true;
    if (pw->full)
        log_error("package_write: %s: the output limit of %zu bytes was reached", pw->file,
                  pw->out->max);
    else
        log_error("package_write: %s: libxml2 failed: %s", pw->file,
                  pw->xml_why[0] ? pw->xml_why : "error");
}

/* A value the package cannot carry: logged, and the file fails. */
__attribute__((format(printf, 2, 3))) static void bad_input(struct pw *pw, const char *fmt, ...)
{
    if (pw->failed)
        return;
    pw->failed = true;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (pw->object)
        log_error("package_write: %s: object %zu: %s", pw->file, pw->object, buf);
    else
        log_error("package_write: %s: %s", pw->file, buf);
}

/* Is s valid UTF-8 made only of characters XML 1.0 allows? libxml2 would otherwise write
 * bytes that no parser accepts (control characters, broken sequences). */
static bool xml_text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);
    while (left) {
        int n = left > 4 ? 4 : (int)left;
        int c = xmlGetUTF8Char(p, &n);
        if (c < 0 || n <= 0 || !xmlIsCharQ(c))
            return false;
        /* libxml2 2.9 lets some overlong forms through ("\xc0\xaf" for '/'): the shortest
         * form is the only valid one. */
        if (n != (c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4))
            return false;
        p += n;
        left -= (size_t)n;
    }
    return true;
}

static void start(struct pw *pw, const char *name)
{
    if (!pw->failed)
        check(pw, xmlTextWriterStartElement(pw->w, BAD_CAST name));
}

static void end(struct pw *pw)
{
    if (!pw->failed)
        check(pw, xmlTextWriterEndElement(pw->w));
}

static void empty(struct pw *pw, const char *name)
{
    start(pw, name);
    end(pw);
}

/* An attribute; value NULL leaves it out. Escaping is libxml2's. */
static void attr(struct pw *pw, const char *name, const char *value)
{
    if (pw->failed || !value)
        return;
    if (!xml_text_ok(value)) {
        bad_input(pw, "the %s value is not UTF-8 text that XML can carry", name);
        return;
    }
    check(pw, xmlTextWriterWriteAttribute(pw->w, BAD_CAST name, BAD_CAST value));
}

/* An attribute that must be there: NULL fails the file. */
static void attr_req(struct pw *pw, const char *name, const char *value)
{
    if (!value)
        bad_input(pw, "%s is required but was not given", name);
    attr(pw, name, value);
}

static void attr_int(struct pw *pw, const char *name, long long v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", v);
    attr(pw, name, buf);
}

/* ms since the epoch as UTC xs:dateTime without zone or fraction: "2024-03-01T09:15:00". */
static void attr_time(struct pw *pw, const char *name, int64_t ms)
{
    if (ms < TIME_MIN_MS || ms > TIME_MAX_MS) {
        bad_input(pw, "%s %" PRId64 " ms is outside the years 1 to 9999", name, ms);
        return;
    }
    char buf[TIMEFMT_BUF];
    timefmt_iso8601(ms, buf); /* "...T09:15:00Z": seconds, then the zone */
    size_t n = strlen(buf);
    if (n && buf[n - 1] == 'Z')
        buf[n - 1] = '\0';
    attr(pw, name, buf);
}

/* The root element of kind, with its default namespace. The declaration is written as a
 * plain first attribute: xmlTextWriterStartElementNS would put it after the others. */
static void start_root(struct pw *pw, enum package_file kind)
{
    start(pw, roots[kind].root);
    attr(pw, "xmlns", roots[kind].ns);
}

/* ---- Urls ---- */

/* The web-relative form of a server-relative url under web: ("/sites/hr",
 * "/sites/hr/Shared Documents") -> "Shared Documents". A url not under web loses only its
 * leading slash, as the server's parser reads it. Points into url. */
static const char *web_relative(const char *web, const char *url)
{
    size_t wl = strcmp(web, "/") == 0 ? 0 : strlen(web);
    if (strncasecmp(url, web, wl) == 0 && url[wl] == '/')
        return url + wl + 1;
    return url[0] == '/' ? url + 1 : url;
}

/* The last segment of a '/'-separated path. */
static const char *leaf(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The urls of one object, made once for its two SPObjects. */
struct urls {
    char *server; /* "/sites/hr/Shared Documents/Reports/Q1.docx" */
    char *web;    /* "Shared Documents/Reports/Q1.docx" */
    char *dir;    /* "sites/hr/Shared Documents/Reports" (DirName: no leading slash) */
};

static void urls_init(struct urls *u, const struct pkgw_target *t, const char *rel)
{
    const char *root = t->root_folder_url;
    const char *root_web = web_relative(t->web_url, root);
    const char *root_dir = root[0] == '/' ? root + 1 : root;
    const char *slash = strrchr(rel, '/');
    u->server = xasprintf("%s/%s", root, rel);
    u->web = xasprintf("%s/%s", root_web, rel);
    if (slash)
        u->dir = xasprintf("%s/%.*s", root_dir, (int)(slash - rel), rel);
    else
        u->dir = xstrdup(root_dir);
}

static void urls_finish(struct urls *u)
{
    free(u->server);
    free(u->web);
    free(u->dir);
}

/* ---- Manifest.xml ---- */

/* Opens an SPObject wrapper; the caller writes its one typed child and closes it. */
static void start_spobject(struct pw *pw, const struct pkgw_target *t, const char *type,
                           const char *id, const char *parent_id, const char *url)
{
    start(pw, "SPObject");
    attr_req(pw, "Id", id);
    attr(pw, "ObjectType", type);
    attr_req(pw, "ParentId", parent_id);
    attr_req(pw, "ParentWebId", t->web_id);
    attr_req(pw, "ParentWebUrl", t->web_url);
    attr(pw, "Url", url);
}

/* The library's root folder (it exists in the target) and the library itself. */
static void write_library(struct pw *pw, const struct pkgw_target *t)
{
    const char *root_web = web_relative(t->web_url, t->root_folder_url);
    start_spobject(pw, t, "SPFolder", t->root_folder_id, t->web_root_folder_id, t->root_folder_url);
    start(pw, "Folder");
    attr(pw, "Id", t->root_folder_id);
    attr(pw, "Url", root_web);
    attr(pw, "Name", leaf(t->root_folder_url));
    attr(pw, "ParentFolderId", t->web_root_folder_id);
    attr(pw, "ParentWebId", t->web_id);
    attr(pw, "ParentWebUrl", t->web_url);
    attr_req(pw, "ContainingDocumentLibrary", t->list_id);
    attr(pw, "SortBehavior", "1");
    end(pw);
    end(pw);

    start_spobject(pw, t, "SPDocumentLibrary", t->list_id, t->web_id, t->root_folder_url);
    start(pw, "DocumentLibrary");
    attr(pw, "Id", t->list_id);
    attr(pw, "BaseTemplate", "DocumentLibrary");
    attr(pw, "Title", t->list_title);
    attr(pw, "RootFolderId", t->root_folder_id);
    attr(pw, "RootFolderUrl", t->root_folder_url);
    attr(pw, "ParentWebId", t->web_id);
    attr(pw, "ParentWebUrl", t->web_url);
    empty(pw, "ContentTypes");
    end(pw);
    end(pw);
}

/* Author, ModifiedBy, TimeCreated, TimeLastModified: Folder, File and ListItem share them. */
static void write_stamps(struct pw *pw, const struct pkgw_object *o)
{
    attr_int(pw, "Author", o->author);
    attr_int(pw, "ModifiedBy", o->editor);
    attr_time(pw, "TimeCreated", o->created_ms);
    attr_time(pw, "TimeLastModified", o->modified_ms);
}

static void write_folder(struct pw *pw, const struct pkgw_target *t, const struct pkgw_object *o,
                         const struct urls *u, const char *parent_id)
{
    start_spobject(pw, t, "SPFolder", o->id, parent_id, u->server);
    start(pw, "Folder");
    attr(pw, "Id", o->id);
    attr(pw, "Url", u->web);
    attr(pw, "Name", leaf(o->rel));
    attr(pw, "ParentFolderId", parent_id);
    attr(pw, "ParentWebId", t->web_id);
    attr(pw, "ParentWebUrl", t->web_url);
    attr(pw, "ContainingDocumentLibrary", t->list_id);
    if (o->int_id)
        attr_int(pw, "ListItemIntId", o->int_id);
    write_stamps(pw, o);
    attr(pw, "SortBehavior", "1");
    end(pw);
    end(pw);
}

static void write_file(struct pw *pw, const struct pkgw_target *t, const struct pkgw_object *o,
                       const struct urls *u, const char *parent_id)
{
    start_spobject(pw, t, "SPFile", o->id, parent_id, u->server);
    start(pw, "File");
    attr(pw, "Id", o->id);
    attr(pw, "Url", u->web);
    attr(pw, "Name", leaf(o->rel));
    if (o->int_id)
        attr_int(pw, "ListItemIntId", o->int_id);
    attr(pw, "ListId", t->list_id);
    attr(pw, "ParentId", parent_id);
    attr(pw, "ParentWebId", t->web_id);
    attr(pw, "ParentWebUrl", t->web_url);
    attr_req(pw, "FileValue", o->blob);
    if (o->size < 0)
        bad_input(pw, "FileSize %" PRId64 " is negative", o->size);
    attr_int(pw, "FileSize", o->size);
    if (o->has_md5) {
        char md5[25]; /* b64_encoded_len(16) + 1 */
        b64_encode_to(o->md5, sizeof o->md5, md5);
        attr(pw, "MD5Hash", md5);
    }
    attr(pw, "Version", o->version ? o->version : "1.0");
    write_stamps(pw, o);
    end(pw);
    end(pw);
}

/* The list item of a folder or file: its own id, paired with the document by DocId. */
static void write_list_item(struct pw *pw, const struct pkgw_target *t, const struct pkgw_object *o,
                            const struct urls *u, const char *parent_id)
{
    start_spobject(pw, t, "SPListItem", o->item_id, t->list_id, u->server);
    start(pw, "ListItem");
    attr(pw, "Id", o->item_id);
    if (o->int_id)
        attr_int(pw, "IntId", o->int_id);
    attr(pw, "DocId", o->id);
    attr(pw, "DocType", o->is_folder ? "Folder" : "File");
    attr(pw, "Name", leaf(o->rel));
    attr(pw, "FileUrl", u->web);
    attr(pw, "DirName", u->dir);
    attr(pw, "ParentFolderId", parent_id);
    attr(pw, "ParentListId", t->list_id);
    attr(pw, "ParentWebId", t->web_id);
    if (o->int_id)
        attr_int(pw, "Order", 100LL * o->int_id); /* what generators write: IntId * 100 */
    attr(pw, "Version", !o->is_folder && o->version ? o->version : "1.0");
    write_stamps(pw, o);
    attr(pw, "ModerationStatus", "Approved");
    empty(pw, "Fields");
    end(pw);
    end(pw);
}

static void write_manifest(struct pw *pw, const struct pkgw_package *pkg)
{
    const struct pkgw_target *t = pkg->target;
    start_root(pw, PACKAGE_MANIFEST);
    write_library(pw, t);
    for (size_t i = 0; i < pkg->n_objects && !pw->failed; i++) {
        const struct pkgw_object *o = &pkg->objects[i];
        pw->object = i + 1;
        if (!o->rel || !o->id || !o->item_id) {
            bad_input(pw, "no %s", !o->rel ? "rel" : !o->id ? "id" : "item_id");
            break;
        }
        const char *parent_id = o->parent_id ? o->parent_id : t->root_folder_id;
        struct urls u;
        urls_init(&u, t, o->rel);
        if (o->is_folder)
            write_folder(pw, t, o, &u, parent_id);
        else
            write_file(pw, t, o, &u, parent_id);
        write_list_item(pw, t, o, &u, parent_id);
        urls_finish(&u);
    }
    pw->object = 0;
    end(pw);
}

/* ---- The other files ---- */

static void write_export_settings(struct pw *pw, const struct pkgw_target *t)
{
    start_root(pw, PACKAGE_EXPORT_SETTINGS);
    attr_req(pw, "SiteUrl", t->site_url);
    attr(pw, "FileLocation", t->source_location);
    attr(pw, "IncludeSecurity", "None");
    attr(pw, "IncludeVersions", "All");
    attr(pw, "SourceType", "FileShare");
    start(pw, "ExportObjects");
    start(pw, "DeploymentObject");
    attr(pw, "Id", t->list_id);
    attr(pw, "Type", "List");
    attr(pw, "ParentId", t->web_id);
    end(pw);
    end(pw);
    end(pw);
}

static void system_object(struct pw *pw, const char *id, const char *type, const char *url)
{
    start(pw, "SystemObject");
    attr(pw, "Id", id);
    attr(pw, "Type", type);
    attr(pw, "Url", url);
    end(pw);
}

/*
 * SystemObjects: what the import must leave alone. Generators also list the site's user
 * information list; its id is not in pkgw_target, and an invented one would name nothing,
 * so it is left out (the list is optional in every schema).
 */
static void write_system_data(struct pw *pw, const struct pkgw_package *pkg)
{
    const struct pkgw_target *t = pkg->target;
    /* The root folder and the library, then a folder or file and its list item each. */
    size_t objects = pkg->n_objects < (INT32_MAX - 2) / 2 ? 2 + 2 * pkg->n_objects : INT32_MAX;
    start_root(pw, PACKAGE_SYSTEM_DATA);
    start(pw, "SchemaVersion");
    attr(pw, "Version", SCHEMA_VERSION);
    attr(pw, "Build", SCHEMA_BUILD);
    attr(pw, "DatabaseVersion", SCHEMA_DATABASE);
    attr(pw, "SiteVersion", SCHEMA_SITE_VERS);
    attr_int(pw, "ObjectsProcessed", (long long)objects);
    end(pw);
    start(pw, "ManifestFiles");
    start(pw, "ManifestFile");
    attr(pw, "Name", package_file_name(PACKAGE_MANIFEST));
    end(pw);
    end(pw);
    start(pw, "SystemObjects");
    system_object(pw, t->web_root_folder_id, "Folder", t->web_url);
    system_object(pw, t->web_id, "Web", t->web_url);
    system_object(pw, t->list_id, "List", t->root_folder_url);
    end(pw);
    empty(pw, "RootWebOnlyLists");
    end(pw);
}

static void write_user_group(struct pw *pw, const struct pkgw_package *pkg)
{
    start_root(pw, PACKAGE_USER_GROUP);
    start(pw, "Users");
    for (size_t i = 0; i < pkg->n_users; i++) {
        const struct pkgw_user *u = &pkg->users[i];
        start(pw, "User");
        attr_int(pw, "Id", u->id);
        attr(pw, "Name", u->name);
        attr(pw, "Login", u->login);
        attr(pw, "Email", u->email);
        attr(pw, "IsDomainGroup", "false");
        attr(pw, "IsSiteAdmin", "false");
        attr(pw, "IsDeleted", "false");
        end(pw);
    }
    end(pw);
    empty(pw, "Groups");
    end(pw);
}

static void write_root_object_map(struct pw *pw, const struct pkgw_target *t)
{
    start_root(pw, PACKAGE_ROOT_OBJECT_MAP);
    start(pw, "RootObject");
    attr(pw, "Id", t->list_id);
    attr(pw, "Type", "List");
    attr(pw, "ParentId", t->web_id);
    attr(pw, "WebUrl", t->web_url);
    attr(pw, "Url", t->root_folder_url);
    attr(pw, "IsDependency", "false");
    end(pw);
    end(pw);
}

/* ---- The entry point ---- */

/* The target fields every file uses: checked once, so the writers can use them freely. */
static bool target_ok(struct pw *pw, const struct pkgw_target *t)
{
    const char *missing = !t->web_id               ? "web_id"
                          : !t->web_url            ? "web_url"
                          : !t->list_id            ? "list_id"
                          : !t->root_folder_id     ? "root_folder_id"
                          : !t->root_folder_url    ? "root_folder_url"
                          : !t->web_root_folder_id ? "web_root_folder_id"
                                                   : NULL;
    if (missing)
        bad_input(pw, "the target has no %s", missing);
    return !missing;
}

static void write_body(struct pw *pw, const struct pkgw_package *pkg, enum package_file kind)
{
    const struct pkgw_target *t = pkg->target;
    switch (kind) {
    case PACKAGE_MANIFEST:
        write_manifest(pw, pkg);
        break;
    case PACKAGE_EXPORT_SETTINGS:
        write_export_settings(pw, t);
        break;
    case PACKAGE_SYSTEM_DATA:
        write_system_data(pw, pkg);
        break;
    case PACKAGE_USER_GROUP:
        write_user_group(pw, pkg);
        break;
    case PACKAGE_ROOT_OBJECT_MAP:
        write_root_object_map(pw, t);
        break;
    case PACKAGE_LOOKUP_LIST_MAP:
    case PACKAGE_REQUIREMENTS:
    case PACKAGE_VIEW_FORMS_LIST:
        /* Empty roots: a file share has no lookups, requirements, views or forms. */
        start_root(pw, kind);
        end(pw);
        break;
    case PACKAGE_FILE_KINDS:
        break;
    }
}

int pkgw_write(const struct pkgw_package *pkg, enum package_file kind, struct strbuf *out)
{
    if ((unsigned)kind >= PACKAGE_FILE_KINDS) {
        log_error("package_write: no such package file kind %d", (int)kind);
        return -1;
    }
    struct pw pw = {.out = out, .file = package_file_name(kind)};
    if (!target_ok(&pw, pkg->target))
        return -1;

    /* libxml2 reports through this thread's handler; ours keeps the message for one log
     * line. The caller's handler comes back before we return. */
    xmlStructuredErrorFunc saved = xmlStructuredError;
    void *saved_ctx = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(&pw, on_xml_error);

    /* A custom sink, not xmlNewTextWriterMemory: output reaches out as it is made, in small
     * chunks, so the whole file never sits in a second buffer and out's limit stops the
     * writing as soon as it is reached. The writer owns and closes the output buffer. */
    int rc = -1;
    xmlOutputBufferPtr ob = xmlOutputBufferCreateIO(sink_write, sink_close, &pw, NULL);
    if (!ob) {
        log_error("package_write: %s: cannot create libxml2's output buffer", pw.file);
        goto out;
    }
    pw.w = xmlNewTextWriter(ob);
    if (!pw.w) {
        xmlOutputBufferClose(ob); /* not taken over when the writer cannot be made */
        log_error("package_write: %s: cannot create libxml2's text writer", pw.file);
        goto out;
    }
    check(&pw, xmlTextWriterSetIndent(pw.w, 1));
    check(&pw, xmlTextWriterSetIndentString(pw.w, BAD_CAST "  "));
    if (!pw.failed)
        check(&pw, xmlTextWriterStartDocument(pw.w, "1.0", "UTF-8", NULL));
    write_body(&pw, pkg, kind);
    if (!pw.failed)
        check(&pw, xmlTextWriterEndDocument(pw.w));
    if (!pw.failed)
        check(&pw, xmlTextWriterFlush(pw.w));
    xmlFreeTextWriter(pw.w); /* closes ob; after a failure what was flushed stays in out */
    rc = pw.failed ? -1 : 0;
out:
    xmlSetStructuredErrorFunc(saved_ctx, saved);
    return rc;
}
