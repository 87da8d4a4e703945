/*
 * package.h: the migration package (package-format.md): its XML files parsed, checked and
 * turned into the model the import job walks, plus the issues found on the way. Each file is
 * read as a stream (no network, no DTD, no entities, a size cap) and never held whole: it
 * must have the right root and namespace and validate against spmig's own lenient XSD
 * (schema/package/) while the C checks of package-format.md section 8 run on each element.
 * Only the compact model stays. Reading blobs and writing packages are not here.
 */
#ifndef SPMIG_PACKAGE_H
#define SPMIG_PACKAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "uuid.h"

/* Limits (candidates for spmig_limits.h). */
#define PACKAGE_XML_MAX_BYTES (32 * 1024 * 1024) /* one XML file of the package */
#define PACKAGE_MAX_MANIFESTS 1000               /* ManifestFile entries in SystemData.xml */
#define PACKAGE_MAX_FILE_SIZE (250LL << 30)      /* FileSize: 250 GiB, the Migration API cap */

/* Model values meaning "not given". */
#define PACKAGE_NO_TIME INT64_MIN
#define PACKAGE_NO_SIZE (-1)
/* The user id SharePoint records for System Account (SHAREPOINT\system), used for a missing
 * or unresolvable Author/ModifiedBy. */
#define PACKAGE_SYSTEM_ACCOUNT 1073741823

/*
 * Error codes of issues: signed HRESULTs as SharePoint puts them in ErrorCode.
 *   PACKAGE_E_INVALIDARG      0x80070057 E_INVALIDARG: missing or malformed attribute, GUID,
 *                             version label, time, ObjectType, SourceType, url/name mismatch
 *   PACKAGE_E_NOT_FOUND       0x80070002 ERROR_FILE_NOT_FOUND: a package file is missing or
 *                             unreadable; ParentWebId is not the target web
 *   PACKAGE_E_PATH_NOT_FOUND  0x80070003 ERROR_PATH_NOT_FOUND: parent folder unknown, later
 *                             in the package, not a folder, or not imported
 *   PACKAGE_E_ALREADY_EXISTS  0x800700B7 ERROR_ALREADY_EXISTS: duplicate id, IntId, url
 *                             (name conflict), user id or login, file given twice
 *   PACKAGE_E_PATH_TOO_LONG   0x800700CE ERROR_FILENAME_EXCED_RANGE: path over
 *                             LIMIT_SP_PATH_UNITS (400 UTF-16 units)
 *   PACKAGE_E_FILE_TOO_LARGE  0x800700DF ERROR_FILE_TOO_LARGE: FileSize over 250 GiB
 *   PACKAGE_E_INVALID_NAME    0x81020073 SharePoint "The file or folder name contains
 *                             characters that are not permitted": any rule of
 *                             sp_names.h (characters, spaces, reserved names, _vti_, ~$,
 *                             folder-only names)
 *   PACKAGE_E_ITEM_NOT_FOUND  0x81020016 SharePoint "Item does not exist": ListItem DocId
 *   PACKAGE_E_LIST_NOT_FOUND  0x81020026 SharePoint "List does not exist": a library, list,
 *                             root folder or RootObject that is not the job's target
 *   PACKAGE_E_USER            0x80131600 the code SPException carries ("User cannot be
 *                             found"): Author/ModifiedBy not in UserGroup.xml (warning)
 *   PACKAGE_E_XML             0x80131940 System.Xml.XmlException: not well-formed, DOCTYPE,
 *                             wrong root or namespace, too large
 *   PACKAGE_E_XML_SCHEMA      0x80131941 System.Xml.Schema.XmlSchemaValidationException
 */
#define PACKAGE_E_INVALIDARG     (-2147024809)
#define PACKAGE_E_NOT_FOUND      (-2147024894)
#define PACKAGE_E_PATH_NOT_FOUND (-2147024893)
#define PACKAGE_E_ALREADY_EXISTS (-2147024713)
#define PACKAGE_E_PATH_TOO_LONG  (-2147024690)
#define PACKAGE_E_FILE_TOO_LARGE (-2147024673)
#define PACKAGE_E_INVALID_NAME   (-2130575245)
#define PACKAGE_E_ITEM_NOT_FOUND (-2130575338)
#define PACKAGE_E_LIST_NOT_FOUND (-2130575322)
#define PACKAGE_E_USER           (-2146232832)
#define PACKAGE_E_XML            (-2146232000)
#define PACKAGE_E_XML_SCHEMA     (-2146231999)

/* The files of a package. Manifests have any names SystemData.xml lists; the others have
 * the fixed names package_file_name gives. */
enum package_file {
    PACKAGE_MANIFEST,
    PACKAGE_EXPORT_SETTINGS,
    PACKAGE_SYSTEM_DATA,
    PACKAGE_USER_GROUP,
    PACKAGE_ROOT_OBJECT_MAP,
    PACKAGE_LOOKUP_LIST_MAP,
    PACKAGE_REQUIREMENTS,
    PACKAGE_VIEW_FORMS_LIST,
    PACKAGE_FILE_KINDS
};

/* "Manifest.xml", "ExportSettings.xml", ... (static strings). */
const char *package_file_name(enum package_file kind);

/* Where the package goes: the job's web and document library. Strings are copied. */
struct package_target {
    unsigned char web_id[UUID_LEN];
    unsigned char list_id[UUID_LEN];
    unsigned char root_folder_id[UUID_LEN]; /* the library's root folder */
    const char *web_url;                    /* server-relative: "/sites/hr", or "/" */
    const char *root_folder_url;            /* server-relative: "/sites/hr/Shared Documents" */
};

/*
 * One problem. A warning changes nothing; an error excludes its object (and the objects
 * under it) from the import; a fatal issue stops the job.
 */
enum package_level { PACKAGE_WARNING, PACKAGE_ERROR, PACKAGE_FATAL };

struct package_issue {
    enum package_level level;
    const char *object_type; /* static: "File", "Folder", "ListItem", "List", "User" or "" */
    char *url;               /* as the package gives it (web-relative), or the file name; "" */
    char *id;                /* the object's id as written, or "" */
    int32_t error_code;      /* PACKAGE_E_* */
    const char *error_type;  /* static: "Microsoft.SharePoint.SPException", ... */
    char *message;
};

/* A user of UserGroup.xml. Strings are "" when absent. */
struct package_user {
    int id;
    char *name, *login, *email;
    bool is_site_admin, is_deleted;
};

/* One version of a file. */
struct package_version {
    char *label;       /* "2.0" */
    int major, minor;  /* 2, 0 */
    char *file_value;  /* the content blob's name in the content container */
    int64_t file_size; /* FileSize, or PACKAGE_NO_SIZE */
    bool has_md5;      /* MD5Hash given */
    unsigned char md5[16];
    bool has_iv; /* InitializationVector given (an alternative to blob metadata) */
    unsigned char iv[16];
    int author, editor;        /* user ids after resolution; PACKAGE_SYSTEM_ACCOUNT if none */
    int64_t created, modified; /* ms since the epoch (zoneless times read as UTC) or
                                  PACKAGE_NO_TIME */
    char *checkin_comment;     /* NULL when absent */
};

enum package_kind { PACKAGE_FOLDER, PACKAGE_FILE };

/*
 * A folder or file to create, in package order (parents always before their children). The
 * library's root folder is the target's and never appears here.
 */
struct package_object {
    enum package_kind kind;
    bool excluded; /* an error was reported on it or on a parent: do not import */
    unsigned char id[UUID_LEN];
    unsigned char parent_id[UUID_LEN]; /* a folder earlier in objects, or the root folder */
    char *url;                         /* web-relative: "Shared Documents/Reports/Q1.docx";
                                          checked equal (ASCII case aside) to the parent's url
                                          + "/" + name */
    char *name;                        /* leaf name */
    int list_item_int_id;              /* 0 when neither the object nor a ListItem gave one */
    bool has_list_item_id;             /* a ListItem for it was in the package */
    unsigned char list_item_id[UUID_LEN];
    int author, editor; /* user ids after resolution; PACKAGE_SYSTEM_ACCOUNT if none */
    int64_t created, modified;
    /* Files: at least one, sorted by label, the current version last. Folders: none. */
    struct package_version *versions;
    size_t n_versions;
};

struct package_state; /* private parse state */

/*
 * The whole package; made by package_create, package_load or package_load_from, freed by
 * package_destroy with all its strings (the parser puts them in one arena; strings set by
 * hand are freed one by one). A finished package of files costs about 330 bytes a file.
 */
struct package {
    struct package_target target; /* a copy; its strings are owned */
    /* ExportSettings.xml */
    char *site_url, *source_type; /* NULL until parsed */
    /* SystemData.xml: the manifests, in the order to import them */
    char **manifest_names;
    size_t n_manifest_names;
    /* UserGroup.xml */
    struct package_user *users;
    size_t n_users;
    /* Manifests */
    struct package_object *objects;
    size_t n_objects;
    /* What went wrong, in the order found */
    struct package_issue *issues;
    size_t n_issues;
    size_t n_warnings, n_errors, n_fatal;
    struct package_state *state;
};

/* An empty package for target; the caller frees it with package_destroy. Never NULL. */
struct package *package_create(const struct package_target *target);
void package_destroy(struct package *p);

/*
 * Parses one file of the package, of kind, named name (for messages and, for manifests, to
 * match SystemData.xml). Manifests are processed in the order given, so give them in
 * SystemData order; other files may come in any order. Problems become issues; returns -1
 * when a fatal one was added (the package is then failed), else 0.
 */
int package_parse(struct package *p, enum package_file kind, const char *name, const void *xml,
                  size_t len);

/*
 * One file of a package as a stream of bytes. read copies up to cap bytes into buf and returns
 * how many (0 at the end), or -1 when the bytes cannot be read, with a reason in *why
 * (malloc'ed, the caller frees it) if it has one. close (may be NULL) frees what ctx holds.
 */
struct package_stream {
    void *ctx;
    ssize_t (*read)(void *ctx, void *buf, size_t cap, char **why);
    void (*close)(void *ctx);
};

/*
 * package_parse for a file read from s, in pieces of any size, up to PACKAGE_XML_MAX_BYTES.
 * Memory does not grow with the file beyond the model it adds. A stream that fails is a fatal
 * "Cannot read" issue (PACKAGE_E_NOT_FOUND), one that goes past the cap a fatal
 * PACKAGE_E_XML; either wins over whatever the bytes read until then showed. The stream is
 * read to its end (or its failure) but not closed.
 */
int package_parse_stream(struct package *p, enum package_file kind, const char *name,
                         const struct package_stream *s);

/*
 * Ends parsing: missing required files (fatal) or optional ones (warning), manifests listed
 * but not given (fatal), Author/ModifiedBy that are not users (warning, System Account).
 * Call it once, after the last package_parse. Returns -1 if the package has a fatal issue.
 */
int package_finish(struct package *p);

/*
 * Reads the file name of the manifest container for package_load. Returns 0 with *data (of
 * *len bytes, malloc'ed, package_load frees it), 1 when there is no such file, or -1 when it
 * exists but cannot be read, with an optional message in *why (malloc'ed, or left NULL).
 */
typedef int (*package_read_fn)(void *ctx, const char *name, char **data, size_t *len, char **why);

/*
 * Reads, parses and checks a whole package: SystemData.xml first, the other fixed files, then
 * each listed manifest in order, stopping at the first fatal issue, then package_finish.
 * Returns the package (never NULL), which the caller frees with package_destroy; it has
 * failed when n_fatal > 0.
 */
struct package *package_load(const struct package_target *target, package_read_fn read, void *ctx);

/*
 * Opens the file name of the manifest container for package_load_from: 0 with *s ready (the
 * loader closes it), 1 when there is no such file, or -1 when it exists but cannot be read,
 * with an optional message in *why (malloc'ed, or left NULL).
 */
typedef int (*package_open_fn)(void *ctx, const char *name, struct package_stream *s, char **why);

/* package_load with each file read as a stream (package_parse_stream). */
struct package *package_load_from(const struct package_target *target, package_open_fn open,
                                  void *ctx);

/* The user with id, or NULL (System Account and unknown ids). */
const struct package_user *package_user_find(const struct package *p, int id);

#endif
