/*
 * sp_import.h: staging an import into a library under a job, and revealing it in one
 * commit: what import_job feeds, object by object, parents first. The model it writes and
 * its error codes are sp_model.h's.
 */
#ifndef SPMIG_SP_IMPORT_H
#define SPMIG_SP_IMPORT_H

#include "sp_model.h"

struct sp_import;

struct sp_import_folder_spec {
    const char *uuid, *item_uuid, *parent_uuid; /* parent: a folder of the list */
    const char *name;
    int int_id;                      /* 0: assign the next free one */
    int64_t created_ms, modified_ms; /* 0: now */
    int64_t author_id, editor_id;    /* 0: the system account */
};

struct sp_import_version_spec {
    const char *label; /* "1.0" */
    int major, minor;
    const char *extent; /* a closed extent file (store_files) with the bytes, or NULL: */
    const void *data;   /* the bytes themselves (written to a pack at once), size at most
                           LIMIT_INLINE_BYTES */
    uint64_t size;
    int64_t created_ms;
    int64_t author_id;
    const char *comment;
};

struct sp_import_file_spec {
    const char *uuid, *item_uuid, *parent_uuid;
    const char *name;
    int int_id;
    int64_t created_ms, modified_ms;
    int64_t author_id, editor_id;
    const struct sp_import_version_spec *versions; /* oldest first, the current one last */
    size_t nversions;
};

/*
 * Starts staging an import into list for job job_uuid. Staged rows are invisible to every
 * read above until sp_import_commit. Returns NULL after logging.
 */
struct sp_import *sp_import_begin(int64_t list_id, const char *job_uuid);
/*
 * Stages one folder or file (parents first: the parent must be an existing folder of the
 * list or one staged earlier). A file whose uuid or path exists replaces the old one with all
 * its versions at commit. On SP_MODEL_OK the import owns the version extents; otherwise the caller
 * still does. Staging is batched: rows reach the database every few hundred objects.
 * NULL uuid or item_uuid: a new one; NULL parent_uuid: the library root. A folder whose path
 * holds a folder is merged into it, whatever its ids (SP_MODEL_OK: nothing is staged, its staged
 * children go under the existing folder and take its UniqueId as parent); so is one that another
 * import reveals at its path before this one commits. Staging the library root folder itself (a
 * package's first SPFolder) is SP_MODEL_OK and changes nothing.
 * Errors: SP_MODEL_BAD_NAME (a name sp_names.h refuses, folder-only rules included, a path over
 * LIMIT_SP_PATH_UNITS, malformed GUID or version label), SP_MODEL_NOT_FOUND (no such parent
 * folder in the list), SP_MODEL_EXISTS (uuid, path or int id staged twice by this import),
 * SP_MODEL_CONFLICT (contradicts a live item: folder vs file, a folder's uuid at another path, an
 * int id held by another item, an extent given twice), SP_MODEL_INTERNAL (the import has failed:
 * only abort or commit, which then aborts, remain). An import is used by one thread at a time; it
 * holds a database connection until it ends.
 */
int sp_import_folder(struct sp_import *imp, const struct sp_import_folder_spec *f);
int sp_import_file(struct sp_import *imp, const struct sp_import_file_spec *f);
/* Reveals everything staged in one transaction and frees imp: folders merge into those other
 * imports revealed at their paths meanwhile, files replace theirs (the later commit wins).
 * 0 or -1 (then as abort). */
int sp_import_commit(struct sp_import *imp);
/* Drops everything staged (and its extents) and frees imp. abort(NULL) is a no-op. */
void sp_import_abort(struct sp_import *imp);
/* At start: drops rows staged by jobs that did not commit (a crash or restart). */
int sp_import_drop_stale(void);

#endif
