/*
 * package_write.h: writes the XML files of a migration package (package-format.md) from a
 * flat list of folders and files, with libxml2's xmlTextWriter. The client builds its packages
 * with it; what it writes passes the server's package_parse without an issue. Reading,
 * checking and importing packages are in package.h; encrypting and uploading are the client's.
 */
#ifndef SPMIG_PACKAGE_WRITE_H
#define SPMIG_PACKAGE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "package.h"
#include "strbuf.h"

/* The target: ids and urls read through REST. GUIDs are "xxxxxxxx-xxxx-..." strings. */
struct pkgw_target {
    const char *site_url;           /* absolute url of the site, for ExportSettings SiteUrl */
    const char *web_id;             /* the web's Id */
    const char *web_url;            /* server-relative: "/" or "/sites/hr" */
    const char *web_root_folder_id; /* UniqueId of the web's root folder */
    const char *list_id;            /* the document library's Id */
    const char *list_title;         /* "Documents" */
    const char *root_folder_id;     /* UniqueId of the library's root folder */
    const char *root_folder_url;    /* server-relative: "/sites/hr/Shared Documents" */
    const char *source_location;    /* ExportSettings FileLocation: the source share's path */
};

/* A user of UserGroup.xml; id is what objects name in author and editor. */
struct pkgw_user {
    int id;
    const char *name, *login, *email;
};

/*
 * A folder or file under the library's root folder. Objects are written in the order given,
 * which must put every folder before what it contains; a folder may be one that exists in the
 * target already (same id and url: the import merges it).
 */
struct pkgw_object {
    bool is_folder;
    const char *rel;       /* path under the root folder, '/'-separated: "Reports/Q1.docx" */
    const char *id;        /* the folder's or file's UniqueId */
    const char *item_id;   /* its list item's id */
    const char *parent_id; /* the containing folder's id; NULL for the library root folder */
    int int_id;            /* ListItemIntId / IntId; 0 to leave it out (the server numbers it) */
    int author, editor;    /* pkgw_user ids */
    int64_t created_ms, modified_ms; /* ms since the epoch, written as UTC xs:dateTime */
    /* Files only (one version, "1.0" when NULL): */
    const char *blob; /* FileValue: the content blob's name */
    int64_t size;     /* FileSize: the plaintext size */
    bool has_md5;     /* write MD5Hash (base64 of md5, the plaintext's) */
    unsigned char md5[16];
    const char *version;
};

struct pkgw_package {
    const struct pkgw_target *target;
    const struct pkgw_user *users;
    size_t n_users;
    const struct pkgw_object *objects;
    size_t n_objects;
};

/*
 * Appends one file of the package to out: kind PACKAGE_MANIFEST writes "Manifest.xml" (the
 * library root folder, the library, then each object followed by its list item), the others
 * write the fixed files (SystemData.xml lists "Manifest.xml" as the one manifest). Strings are
 * escaped as XML needs. Returns 0, or -1 when out's limit is reached or libxml2 fails (out then
 * holds a partial file).
 */
int pkgw_write(const struct pkgw_package *pkg, enum package_file kind, struct strbuf *out);

#endif
