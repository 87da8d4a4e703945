/*
 * sp_model.h: the SharePoint content spmigd holds: sites (one web each), document libraries,
 * folders and files with their list items and versions, and the site users that authors and
 * editors point to. Imported bytes live in extents (extents.h, store_files.h). Imports are
 * staged under a job id and revealed in one step, so a reader never sees half a job. No
 * HTTP, no JSON: sp_api formats, import_job feeds.
 */
#ifndef SPMIG_SP_MODEL_H
#define SPMIG_SP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_files.h"

#define SP_MODEL_UUID_LEN        37  /* 36 characters and a NUL, lowercase */
#define SP_MODEL_LOGIN_MAX_BYTES 512 /* site user logins (claims) */

enum sp_model_err {
    SP_MODEL_OK = 0,
    SP_MODEL_NOT_FOUND, /* no such site, list, folder, file, version or user */
    SP_MODEL_EXISTS,    /* a site, list or item of that name or id exists */
    SP_MODEL_BAD_NAME,  /* a name or URL breaks SharePoint's rules */
    SP_MODEL_CONFLICT,  /* ids that contradict what exists (e.g. a file id used by a folder) */
    SP_MODEL_INTERNAL,
};

/* A site collection and its one web. url is server-relative: "/" or "/sites/hr". */
struct sp_model_site {
    int64_t id;
    char uuid[SP_MODEL_UUID_LEN];             /* SPSite.Id */
    char web_uuid[SP_MODEL_UUID_LEN];         /* SPWeb.Id, the gWebId of migration jobs */
    char root_folder_uuid[SP_MODEL_UUID_LEN]; /* the web's root folder */
    char *url;
    char *title;
    int64_t created_ms;
};

/* A document library. */
struct sp_model_list {
    int64_t id;
    int64_t site_id;
    char uuid[SP_MODEL_UUID_LEN];
    char root_folder_uuid[SP_MODEL_UUID_LEN];
    char *title;       /* "Documents" */
    char *root_url;    /* server-relative root folder: "/Shared Documents", "/sites/hr/Docs" */
    int base_template; /* 101 */
    int64_t created_ms, modified_ms;
    int64_t item_count;
};

/* A folder or file with its list item. */
struct sp_model_item {
    int64_t id;
    int64_t list_id;
    int int_id;                          /* list item Id */
    char uuid[SP_MODEL_UUID_LEN];        /* File/Folder UniqueId */
    char item_uuid[SP_MODEL_UUID_LEN];   /* the list item's own GUID */
    char parent_uuid[SP_MODEL_UUID_LEN]; /* the containing folder's UniqueId */
    bool is_folder;
    char *path;    /* server-relative: "/sites/hr/Shared Documents/a/b.txt" */
    char *name;    /* leaf */
    uint64_t size; /* files: current version's length */
    char *version; /* files: current version label, "1.0" */
    int64_t created_ms, modified_ms;
    int64_t author_id, editor_id; /* sp_model_user ids */
};

struct sp_model_version {
    char *label; /* "1.0" */
    int major, minor;
    uint64_t size;
    int64_t created_ms;
    int64_t author_id;
    char *comment;
    bool is_current;
    char extent[STORE_FILES_PATH_MAX]; /* the bytes' extent file; "" for a small extent */
    unsigned char *data; /* a small extent's bytes (size of them), by sp_model_file_version only */
    uint64_t hold;       /* sp_model_file_version: the extent file stays until ..._finish */
};

/* A site user (authors and editors of content); login is a claim or UPN. */
struct sp_model_user {
    int64_t id;
    char *login, *title, *email;
};

void sp_model_site_finish(struct sp_model_site *s);
void sp_model_list_finish(struct sp_model_list *l);
void sp_model_item_finish(struct sp_model_item *i);
void sp_model_version_finish(struct sp_model_version *v);
void sp_model_user_finish(struct sp_model_user *u);

/*
 * Creates the tenant's root site "/" (title tenant) with its "Documents" library at
 * "/Shared Documents" if there is none yet. Called at start. 0 or -1.
 */
int sp_model_init(const char *tenant);

/* Sites. url: "/" or "/sites/<name>" (name: letters, digits, '-', '_', '.'). A new site
 * gets its "Documents" library at <url>/Shared Documents, as SharePoint makes it. */
int sp_model_site_create(const char *url, const char *title, struct sp_model_site *out);
int sp_model_site_get(const char *url, struct sp_model_site *out); /* case-insensitive */
int sp_model_site_by_web(const char *web_uuid, struct sp_model_site *out);
/* Calls fn for every site, ordered by url. */
int sp_model_site_each(void (*fn)(void *ctx, const struct sp_model_site *s), void *ctx);

/*
 * Lists. A new library gets a root folder named from its title (spaces kept, SharePoint's
 * invalid characters refused) directly under the site url. The title must be a valid title
 * and a valid name (sp_names.h), else SP_MODEL_BAD_NAME.
 */
int sp_model_list_create(int64_t site_id, const char *title, int base_template,
                         struct sp_model_list *out);
int sp_model_list_by_title(int64_t site_id, const char *title, struct sp_model_list *out);
int sp_model_list_by_uuid(const char *uuid, struct sp_model_list *out);
int sp_model_list_each(int64_t site_id, void (*fn)(void *ctx, const struct sp_model_list *l),
                       void *ctx);

/* Items. path is server-relative (case-insensitive, no trailing '/'). The library root folder
 * itself is an item with is_folder set and int_id 0. */
int sp_model_item_by_path(const char *path, struct sp_model_item *out);
int sp_model_item_by_uuid(int64_t list_id, const char *uuid, struct sp_model_item *out);
int sp_model_item_by_int_id(int64_t list_id, int int_id, struct sp_model_item *out);
/* Children of a folder (by its server-relative path), folders or files, ordered by name. */
int sp_model_folder_children(const char *folder_path, bool folders,
                             void (*fn)(void *ctx, const struct sp_model_item *i), void *ctx);
/* Items of a list ordered by int_id, those with int_id > after, at most max (0: all). */
int sp_model_list_items(int64_t list_id, int after, unsigned max,
                        void (*fn)(void *ctx, const struct sp_model_item *i), void *ctx);
/* Versions of a file item, oldest first (the current one last). */
int sp_model_file_versions(int64_t item_id, void (*fn)(void *ctx, const struct sp_model_version *v),
                           void *ctx);
/* The current version (label NULL) or the named one; for a small version, out->data holds
 * its bytes (freed by sp_model_version_finish). A version's extent file stays on disk until
 * sp_model_version_finish, so it can be opened after a later import replaced it. */
int sp_model_file_version(int64_t item_id, const char *label, struct sp_model_version *out);

/* Users: the one with this login (case-insensitive), created if missing. */
int sp_model_user_ensure(const char *login, const char *title, const char *email, int64_t *id);
int sp_model_user_get(int64_t id, struct sp_model_user *out);

#endif
