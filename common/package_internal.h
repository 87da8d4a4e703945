/*
 * package_internal.h: what the three parts of the package module share, and nobody else:
 * package.c (the model, its lookup tables, issues, finish and load), package_xml.c (reading
 * one XML file as a stream and validating it) and package_checks.c (the rules each element
 * of a file must follow). Not an interface: include package.h outside the module.
 */
#ifndef SPMIG_PACKAGE_INTERNAL_H
#define SPMIG_PACKAGE_INTERNAL_H

#include "digest_map.h"
#include "package.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ET_SP     "Microsoft.SharePoint.SPException"
#define ET_XML    "System.Xml.XmlException"
#define ET_SCHEMA "System.Xml.Schema.XmlSchemaValidationException"

#define NO_USER INT_MIN /* Author/ModifiedBy absent, before package_finish resolves users */

/* What each kind of file is: its fixed name, root element, namespace and schema. */
struct package_file_info {
    const char *file, *root, *ns, *xsd;
    bool required;
};
extern const struct package_file_info package_files[PACKAGE_FILE_KINDS];

/* ---- Lookup tables: 16-byte keys to (kind, index) in digest maps ---- */

enum package_ref_kind { REF_ROOT, REF_OBJECT, REF_LIST_ITEM, REF_LIST, REF_USER };

struct package_ref {
    enum package_ref_kind kind;
    size_t index; /* into objects (REF_OBJECT, REF_LIST_ITEM: the item's document), users */
};

bool package_map_get(const struct digest_map *m, const unsigned char key[16],
                     struct package_ref *out);
/* Adds key, which must not be there yet. */
void package_map_put(struct digest_map *m, const unsigned char key[16], struct package_ref r);
/* Keys for things that are not GUIDs: a tag and an int, or a digest of a case-folded text. */
void package_int_key(int v, unsigned char key[16]);
void package_text_key(const char *s, unsigned char key[16]);

/* ---- Parse state ---- */

/* A copy of an object of an earlier file as it was before a list item of the file being read
 * changed it (package_rollback puts it back). */
struct package_undo {
    size_t index;
    struct package_object before;
};

struct package_state {
    struct digest_map ids;    /* GUIDs of folders, files, list items, the root folder */
    struct digest_map intids; /* list item integer ids */
    struct digest_map urls;   /* objects by case-folded url (name conflicts) */
    struct digest_map users;  /* user ids */
    struct digest_map logins; /* user logins, case-folded */
    bool have[PACKAGE_FILE_KINDS];
    char **manifests_seen; /* names of the manifests parsed */
    size_t n_manifests_seen;
    bool root_folder_seen; /* the SPFolder of the library's root folder */
    char *root_url;        /* the root folder, web-relative: "Shared Documents" */
    bool finished;
    size_t cap_objects;
    /* Changes to objects of earlier files made by the file being read (see package_mark). */
    size_t first_object; /* objects before this index belong to earlier files */
    struct package_undo *undo;
    size_t n_undo, cap_undo;
    /* The string arena: model strings live in blocks that package_destroy frees whole. */
    struct package_block *blocks;
};

/* A copy of s in the package's arena (freed with the package); NULL stays NULL. */
char *package_strdup(struct package *p, const char *s);
/* n bytes of the arena, aligned for any model struct. */
void *package_alloc(struct package *p, size_t n);

/*
 * Where a file began, so that a file that turns out not to be a well-formed, valid document
 * leaves nothing behind but its one fatal issue, as if it had been refused before any of its
 * content was looked at. package_mark is taken before the file is read; package_rollback
 * drops the issues, objects, users and names added since and undoes changes to earlier
 * objects; package_mark_done ends the mark when the file is kept.
 */
struct package_mark {
    size_t n_issues, n_warnings, n_errors, n_fatal;
    size_t n_objects, n_users, n_manifest_names;
    bool root_folder_seen, had_site_url, had_source_type;
};
void package_mark(struct package *p, struct package_mark *m);
void package_rollback(struct package *p, const struct package_mark *m);
void package_mark_done(struct package *p);
/* Records object i before a change, if it belongs to an earlier file. */
void package_note_change(struct package *p, size_t i);

/* ---- Issues ---- */

void package_add_issue_v(struct package *p, enum package_level level, const char *object_type,
                         const char *url, const char *id, int32_t code, const char *error_type,
                         const char *fmt, va_list ap);

/* A problem with a whole file (url: the file name). */
__attribute__((format(printf, 6, 7))) void
package_file_issue(struct package *p, enum package_level level, const char *file, int32_t code,
                   const char *error_type, const char *fmt, ...);

/* ---- Elements as package_xml.c hands them to package_checks.c ---- */

struct package_attr {
    const char *name, *value; /* attributes in no namespace, entities decoded */
};

struct package_elem {
    const char *name; /* local name */
    const struct package_attr *attrs;
    size_t n_attrs;
};

/* The value of attribute name (in no namespace) of e, or NULL. */
const char *package_elem_attr(const struct package_elem *e, const char *name);

/* An SPObject of a manifest: its attributes, its first child element (the typed child) and,
 * when that child has a Versions element, the elements in the first one. */
struct package_spobject {
    struct package_elem sp;
    const struct package_elem *child; /* NULL when the SPObject is empty */
    bool has_versions;
    const struct package_elem *versions;
    size_t n_versions;
};

/*
 * package_checks.c: the rules of package-format.md section 8, one call per element, in
 * document order, each after the element and everything in it passed the schema.
 */
void package_check_spobject(struct package *p, const struct package_spobject *o);
void package_check_export_settings(struct package *p, const char *name,
                                   const struct package_elem *root);
/* Returns false when the rest of the list must be ignored. */
bool package_check_manifest_file(struct package *p, const char *name, const struct package_elem *m);
void package_check_user(struct package *p, const struct package_elem *u);
void package_check_root_object(struct package *p, const struct package_elem *r);

/*
 * package_xml.c: reads one file of kind from s (already counted as given), checks it is a
 * well-formed document without DOCTYPE, of the right root and namespace, valid against its
 * schema, and hands its elements to package_checks.c on the way. Problems with the file
 * itself become one fatal issue (and the file leaves nothing else behind).
 */
void package_xml_read(struct package *p, enum package_file kind, const char *name,
                      const struct package_stream *s);

#endif
