/*
 * sp_import.c: imports staged under a job: what a job stages is held in in-memory indexes
 * and written as rows tagged pending_job in short batches, invisible to every read until one
 * commit transaction reveals them (or a restart drops them). The content model it writes
 * into, and every read, are sp_model.c's; no HTTP, no package parsing here.
 */
#include "sp_import.h"
#include "sp_model_internal.h"
#include "clock.h"
#include "db.h"
#include "digest_map.h"
#include "extents.h"
#include "log.h"
#include "sp_names.h"
#include "spmig_limits.h"
#include "uuid.h"
#include "xmalloc.h"

/* Objects staged in memory before one short write transaction sends them to the database. */
#define SP_MODEL_BATCH 256

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- imports ---- */

struct staged_version {
    char *label, *comment;
    int major, minor;
    uint64_t size;
    int64_t created_ms, author_id;
    char extent[STORE_FILES_PATH_MAX]; /* "" when the bytes are small: */
    struct extents_small small;        /* already written to a pack at staging */
};

/* An object accepted but not yet in the database. */
struct staged {
    bool is_folder;
    int int_id; /* < 0: a placeholder, numbered at commit */
    char uuid[SP_MODEL_UUID_LEN], item_uuid[SP_MODEL_UUID_LEN], parent_uuid[SP_MODEL_UUID_LEN];
    char *name, *path;
    int64_t created_ms, modified_ms, author_id, editor_id;
    struct staged_version *versions;
    size_t nversions;
};

/* A folder children may name as parent: staged by this job, or live (looked up once, or met
 * at the path of a folder of the package, which is then merged into it). uuid is the folder's
 * UniqueId in the library, which children take as their parent: the live folder's, not the
 * package's, when the two differ. */
struct folder_rec {
    char *path;
    char uuid[SP_MODEL_UUID_LEN];
    bool live;
};

struct sp_import {
    struct db *d; /* held from begin to commit or abort */
    int64_t id;   /* the sp_imports row, the pending_job of every staged row */
    int64_t list_id;
    int64_t system_id;
    char root_uuid[SP_MODEL_UUID_LEN];
    char *job;
    bool failed; /* a flush failed: only abort remains */
    size_t nstaged;
    int64_t nauto; /* items staged without an int id; the last placeholder is -nauto */
    struct staged batch[SP_MODEL_BATCH];
    size_t nbatch;
    /* by_uuid: folder_rec index, or -1 for a staged file. by_path: folded paths staged.
     * by_int: int ids staged. by_extent: extent paths staged. */
    struct digest_map by_uuid, by_path, by_int, by_extent;
    struct folder_rec *folders;
    size_t nfolders, capfolders;
};

static int64_t folder_add(struct sp_import *imp, const char *path, const char *uuid, bool live)
{
    if (imp->nfolders == imp->capfolders) {
        imp->capfolders = imp->capfolders ? imp->capfolders * 2 : 64;
        imp->folders = xrealloc(imp->folders, imp->capfolders * sizeof *imp->folders);
    }
    imp->folders[imp->nfolders].path = xstrdup(path);
    memcpy(imp->folders[imp->nfolders].uuid, uuid, SP_MODEL_UUID_LEN);
    imp->folders[imp->nfolders].live = live;
    return (int64_t)imp->nfolders++;
}

/* Frees the batch, its small extents settled (their rows committed, or never to be);
 * unlink: also remove its extent files (they have no rows). */
static void batch_clear(struct sp_import *imp, bool unlink)
{
    for (size_t i = 0; i < imp->nbatch; i++) {
        struct staged *s = &imp->batch[i];
        for (size_t j = 0; j < s->nversions; j++) {
            if (unlink && s->versions[j].extent[0])
                store_files_unlink(s->versions[j].extent);
            extents_small_settled(&s->versions[j].small);
            free(s->versions[j].label);
            free(s->versions[j].comment);
        }
        free(s->versions);
        free(s->name);
        free(s->path);
    }
    imp->nbatch = 0;
}

static void import_free(struct sp_import *imp)
{
    batch_clear(imp, true);
    digest_map_finish(&imp->by_uuid);
    digest_map_finish(&imp->by_path);
    digest_map_finish(&imp->by_int);
    digest_map_finish(&imp->by_extent);
    for (size_t i = 0; i < imp->nfolders; i++)
        free(imp->folders[i].path);
    free(imp->folders);
    free(imp->job);
    db_release(imp->d);
    free(imp);
}

struct sp_import *sp_import_begin(int64_t list_id, const char *job_uuid)
{
    assert(job_uuid);
    int64_t system_id;
    if (sp_model_user_ensure(SYSTEM_LOGIN, SYSTEM_TITLE, NULL, &system_id) != SP_MODEL_OK)
        return NULL;
    struct db *d = db_acquire();
    struct sp_model_list l = {0};
    if (sp_model_list_by_id_tx(d, list_id, &l) != SP_MODEL_OK) {
        log_error("sp_model: import of job %s: no list %lld", job_uuid, (long long)list_id);
        db_release(d);
        return NULL;
    }
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO sp_imports (job_uuid, list_id, started_ms) VALUES "
                                  "(?1, ?2, ?3)");
    sqlite3_bind_text(st, 1, job_uuid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, list_id);
    sqlite3_bind_int64(st, 3, clock_now_ms());
    int rc = sp_model_step_write(d, st);
    int64_t id = sqlite3_last_insert_rowid(db_handle(d));
    if (db_write_end(d, rc == SP_MODEL_OK) < 0 || rc != SP_MODEL_OK) {
        log_error("sp_model: cannot start the import of job %s", job_uuid);
        sp_model_list_finish(&l);
        db_release(d);
        return NULL;
    }
    struct sp_import *imp = xcalloc(1, sizeof *imp);
    /* The import holds d until it ends: a small cache keeps jobs side by side from each
     * growing a large one (pages not in it come from the OS's cache). */
    db_set_cache(d, DB_CACHE_JOB_KIB);
    imp->d = d;
    imp->id = id;
    imp->list_id = list_id;
    imp->system_id = system_id;
    imp->job = xstrdup(job_uuid);
    memcpy(imp->root_uuid, l.root_folder_uuid, SP_MODEL_UUID_LEN);
    digest_map_put(&imp->by_uuid, l.root_folder_uuid, 36,
                   folder_add(imp, l.root_url, l.root_folder_uuid, true));
    sp_model_list_finish(&l);
    return imp;
}

/*
 * In a write transaction: sends the batch to the database as rows of this job. Int ids from
 * the package are reserved in the list's counter now, so no other job hands them out; the
 * others keep their placeholders (-1, -2, ...) until commit numbers them after every id of
 * the job. The batch stays in memory (the caller clears it once the transaction committed).
 * 0 or -1.
 */
static int flush_rows(struct sp_import *imp)
{
    struct db *d = imp->d;
    if (!imp->nbatch)
        return 0;
    int64_t reserve = 0;
    for (size_t i = 0; i < imp->nbatch; i++)
        if (imp->batch[i].int_id >= reserve)
            reserve = (int64_t)imp->batch[i].int_id + 1;
    sqlite3_stmt *st =
        db_stmt(d, "UPDATE sp_lists SET next_int_id = max(next_int_id, ?2) WHERE id = ?1");
    sqlite3_bind_int64(st, 1, imp->list_id);
    sqlite3_bind_int64(st, 2, reserve);
    if (db_exec_stmt(d, st) < 0)
        return -1;
    if (sqlite3_changes(db_handle(d)) != 1) {
        log_error("sp_model: import of job %s: list %lld is gone", imp->job,
                  (long long)imp->list_id);
        return -1;
    }
    for (size_t i = 0; i < imp->nbatch; i++) {
        struct staged *s = &imp->batch[i];
        const struct staged_version *cur = s->nversions ? &s->versions[s->nversions - 1] : NULL;
        st = db_stmt(d, "INSERT INTO sp_items (pending_job, list_id, int_id, uuid, item_uuid, "
                        "parent_uuid, is_folder, path, name, size, version, created_ms, "
                        "modified_ms, author_id, editor_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                        "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
        sqlite3_bind_int64(st, 1, imp->id);
        sqlite3_bind_int64(st, 2, imp->list_id);
        sqlite3_bind_int(st, 3, s->int_id);
        sqlite3_bind_text(st, 4, s->uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, s->item_uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, s->parent_uuid, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 7, s->is_folder);
        sqlite3_bind_text(st, 8, s->path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, s->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 10, cur ? (sqlite3_int64)cur->size : 0);
        if (cur)
            sqlite3_bind_text(st, 11, cur->label, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 12, s->created_ms);
        sqlite3_bind_int64(st, 13, s->modified_ms);
        sqlite3_bind_int64(st, 14, s->author_id);
        sqlite3_bind_int64(st, 15, s->editor_id);
        if (db_exec_stmt(d, st) < 0)
            return -1;
        int64_t item_id = sqlite3_last_insert_rowid(db_handle(d));
        for (size_t j = 0; j < s->nversions; j++) {
            const struct staged_version *v = &s->versions[j];
            int64_t extent = v->extent[0] ? extents_insert(d, v->extent, v->size)
                                          : extents_insert_small(d, &v->small);
            if (extent < 0)
                return -1;
            st = db_stmt(d, "INSERT INTO sp_versions (item_id, seq, label, major, minor, size, "
                            "created_ms, author_id, comment, extent_id) VALUES (?1, ?2, ?3, ?4, "
                            "?5, ?6, ?7, ?8, ?9, ?10)");
            sqlite3_bind_int64(st, 1, item_id);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)j);
            sqlite3_bind_text(st, 3, v->label, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 4, v->major);
            sqlite3_bind_int(st, 5, v->minor);
            sqlite3_bind_int64(st, 6, (sqlite3_int64)v->size);
            sqlite3_bind_int64(st, 7, v->created_ms);
            sqlite3_bind_int64(st, 8, v->author_id);
            sqlite3_bind_text(st, 9, v->comment, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 10, extent);
            if (db_exec_stmt(d, st) < 0)
                return -1;
        }
    }
    return 0;
}

/* In the commit transaction: numbers the job's items without an int id (placeholders -1 to
 * -nauto in staging order) from the list's counter, after the ids the job reserved. */
static int number_items(struct sp_import *imp)
{
    struct db *d = imp->d;
    if (!imp->nauto)
        return 0;
    sqlite3_stmt *st = db_stmt(d, "UPDATE sp_lists SET next_int_id = next_int_id + ?2 WHERE id "
                                  "= ?1 RETURNING next_int_id - ?2");
    sqlite3_bind_int64(st, 1, imp->list_id);
    sqlite3_bind_int64(st, 2, imp->nauto);
    int64_t base = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        base = sqlite3_column_int64(st, 0);
    while (sqlite3_step(st) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    if (base < 1 || base + imp->nauto > INT32_MAX) {
        log_error("sp_model: import of job %s: no item ids left in list %lld", imp->job,
                  (long long)imp->list_id);
        return -1;
    }
    /* -1 becomes base, -2 base + 1, ...: new values are above every id in the job. */
    st = db_stmt(d, "UPDATE sp_items SET int_id = ?2 - 1 - int_id WHERE pending_job = ?1 AND "
                    "int_id < 0");
    sqlite3_bind_int64(st, 1, imp->id);
    sqlite3_bind_int64(st, 2, base);
    return db_exec_stmt(d, st);
}

/* One short write transaction for the batch. 0, or -1 (then the import has failed). */
static int flush(struct sp_import *imp)
{
    db_write_begin(imp->d);
    int rc = flush_rows(imp);
    if (db_write_end(imp->d, rc == 0) < 0)
        rc = -1;
    if (rc < 0) {
        log_error("sp_model: import of job %s: cannot stage %zu objects", imp->job, imp->nbatch);
        imp->failed = true;
        return -1;
    }
    batch_clear(imp, false);
    return 0;
}

/* A live row that an object being staged meets, by uuid, path or int id. */
struct live_hit {
    bool found, is_folder;
    int64_t id, list_id;
    int int_id;
    char *path;
    char uuid[SP_MODEL_UUID_LEN];
};

/* Looks up the live rows with uuid, with path, and with int_id in the import's list (-1: do
 * not look) in one statement. hits[0..2] in that order; free their paths. */
static int live_hits(struct sp_import *imp, const char *uuid, const char *path, int int_id,
                     struct live_hit hits[3])
{
    sqlite3_stmt *st = db_stmt(
        imp->d, "SELECT 0, id, list_id, is_folder, int_id, path, uuid FROM sp_items WHERE "
                "pending_job = 0 AND uuid = ?1 UNION ALL SELECT 1, id, list_id, is_folder, int_id, "
                "path, uuid FROM sp_items WHERE pending_job = 0 AND path = ?2 UNION ALL SELECT 2, "
                "id, list_id, is_folder, int_id, path, uuid FROM sp_items WHERE pending_job = 0 "
                "AND list_id = ?3 AND int_id = ?4");
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, imp->list_id);
    sqlite3_bind_int(st, 4, int_id);
    memset(hits, 0, 3 * sizeof *hits);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct live_hit *h = &hits[sqlite3_column_int(st, 0) % 3];
        h->found = true;
        h->id = sqlite3_column_int64(st, 1);
        h->list_id = sqlite3_column_int64(st, 2);
        h->is_folder = sqlite3_column_int(st, 3) != 0;
        h->int_id = sqlite3_column_int(st, 4);
        free(h->path);
        h->path = db_col_str(st, 5);
        const char *u = (const char *)sqlite3_column_text(st, 6);
        snprintf(h->uuid, sizeof h->uuid, "%s", u ? u : "");
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("sp_model: import of job %s: %s", imp->job, sqlite3_errmsg(db_handle(imp->d)));
        return SP_MODEL_INTERNAL;
    }
    return SP_MODEL_OK;
}

/* The folder parent of the import's list, staged or live; NULL if none. The record moves
 * with the next folder_add. */
static const struct folder_rec *parent_folder(struct sp_import *imp, const char *parent)
{
    int64_t v;
    if (digest_map_get(&imp->by_uuid, parent, 36, &v))
        return v >= 0 ? &imp->folders[v] : NULL;
    sqlite3_stmt *st = db_stmt(imp->d, "SELECT path FROM sp_items WHERE pending_job = 0 AND uuid "
                                       "= ?1 AND list_id = ?2 AND is_folder = 1");
    sqlite3_bind_text(st, 1, parent, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, imp->list_id);
    const struct folder_rec *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        v = folder_add(imp, (const char *)sqlite3_column_text(st, 0), parent, true);
        digest_map_put(&imp->by_uuid, parent, 36, v);
        out = &imp->folders[v];
    }
    sqlite3_reset(st);
    return out;
}

/* What both kinds of object share. */
struct obj_in {
    bool is_folder;
    const char *uuid, *item_uuid, *parent_uuid, *name;
    int int_id;
    int64_t created_ms, modified_ms, author_id, editor_id;
};

static int version_check(struct sp_import *imp, const struct sp_import_version_spec *v, size_t nv)
{
    for (size_t i = 0; i < nv; i++) {
        assert(v[i].extent || ((v[i].data || !v[i].size) && v[i].size <= LIMIT_INLINE_BYTES));
        if (v[i].label && (!v[i].label[0] || strlen(v[i].label) > SP_MODEL_LABEL_MAX))
            return SP_MODEL_BAD_NAME;
        if (v[i].major < 0 || v[i].minor < 0)
            return SP_MODEL_BAD_NAME;
        if (!v[i].extent)
            continue; /* inline bytes, copied when staged */
        if (!v[i].extent[0] || strlen(v[i].extent) >= STORE_FILES_PATH_MAX)
            return SP_MODEL_BAD_NAME;
        int64_t dummy;
        if (digest_map_get(&imp->by_extent, v[i].extent, strlen(v[i].extent), &dummy))
            return SP_MODEL_CONFLICT;
        for (size_t j = 0; j < i; j++)
            if (v[j].extent && strcmp(v[i].extent, v[j].extent) == 0)
                return SP_MODEL_CONFLICT;
    }
    return SP_MODEL_OK;
}

/* A live folder a folder being staged is merged into. */
struct live_folder {
    char *path;
    char uuid[SP_MODEL_UUID_LEN];
};

/*
 * Decides what staging in means against the live rows: SP_MODEL_OK to stage it (*int_id set to
 * the id to use, 0 for a new one), SP_MODEL_EXISTS when a folder is already there (merged: *into
 * is the live folder, its children go under it), or SP_MODEL_CONFLICT. A folder is merged into
 * the live folder with its uuid (at the same path), or else into the live folder at its path
 * whatever that one's ids: as in a library, a folder path holds one folder.
 */
static int live_decide(struct sp_import *imp, const struct obj_in *in, const char *uuid,
                       const char *path, int *int_id, struct live_folder *into)
{
    struct live_hit h[3];
    int rc = live_hits(imp, uuid, path, in->int_id ? in->int_id : -1, h);
    if (rc != SP_MODEL_OK)
        goto out;
    const struct live_hit *u = &h[0], *p = &h[1], *n = &h[2];
    if (in->is_folder) {
        const struct live_hit *m = NULL;
        if (u->found)
            m = u->is_folder && u->list_id == imp->list_id && strcasecmp(u->path, path) == 0 &&
                        (!n->found || n->id == u->id)
                    ? u
                    : NULL;
        else if (p->found)
            m = p->is_folder && p->list_id == imp->list_id ? p : NULL; /* its ids give way */
        if (m) {
            rc = SP_MODEL_EXISTS;
            into->path = xstrdup(m->path);
            memcpy(into->uuid, m->uuid, SP_MODEL_UUID_LEN);
        } else if (u->found || p->found || n->found) {
            rc = SP_MODEL_CONFLICT;
        }
        *int_id = in->int_id;
        goto out;
    }
    /* A file replaces the live file with its uuid and the one at its path. */
    if ((u->found && (u->is_folder || u->list_id != imp->list_id)) || (p->found && p->is_folder))
        rc = SP_MODEL_CONFLICT;
    else if (n->found && !(u->found && n->id == u->id) && !(p->found && n->id == p->id))
        rc = SP_MODEL_CONFLICT;
    *int_id = in->int_id ? in->int_id : u->found ? u->int_id : p->found ? p->int_id : 0;
out:
    for (int i = 0; i < 3; i++)
        free(h[i].path);
    return rc;
}

static int stage(struct sp_import *imp, const struct obj_in *in,
                 const struct sp_import_version_spec *versions, size_t nversions)
{
    if (imp->failed)
        return SP_MODEL_INTERNAL;
    /* The rules of every name first; a folder's own ones once its parent is known. */
    if (sp_names_check(in->name, SP_NAMES_FILE) != SP_NAMES_OK)
        return SP_MODEL_BAD_NAME;
    if (in->int_id < 0)
        return SP_MODEL_CONFLICT;
    char uuid[SP_MODEL_UUID_LEN], item_uuid[SP_MODEL_UUID_LEN], parent[SP_MODEL_UUID_LEN];
    if (!sp_model_uuid_or(in->uuid, uuid, NULL) ||
        !sp_model_uuid_or(in->item_uuid, item_uuid, NULL) ||
        !sp_model_uuid_or(in->parent_uuid, parent, imp->root_uuid))
        return SP_MODEL_BAD_NAME;
    if (in->is_folder && strcmp(uuid, imp->root_uuid) == 0) {
        /* A package's first folder is the library root, which is there already. */
        const char *leaf = strrchr(imp->folders[0].path, '/') + 1;
        return strcasecmp(leaf, in->name) == 0 ? SP_MODEL_OK : SP_MODEL_CONFLICT;
    }
    if (in->is_folder) {
        bool top = strcmp(parent, imp->root_uuid) == 0;
        if (sp_names_check(in->name, top ? SP_NAMES_ROOT_FOLDER : SP_NAMES_FOLDER) != SP_NAMES_OK)
            return SP_MODEL_BAD_NAME;
    }
    int rc = version_check(imp, versions, nversions);
    if (rc != SP_MODEL_OK)
        return rc;
    if (imp->nbatch == SP_MODEL_BATCH && flush(imp) < 0)
        return SP_MODEL_INTERNAL;

    int64_t v;
    if (digest_map_get(&imp->by_uuid, uuid, 36, &v) && (v < 0 || !imp->folders[v].live))
        return SP_MODEL_EXISTS; /* staged twice by this job */
    const struct folder_rec *pf = parent_folder(imp, parent);
    if (!pf)
        return SP_MODEL_NOT_FOUND;
    char *path = xasprintf("%s/%s", pf->path, in->name);
    memcpy(parent, pf->uuid, SP_MODEL_UUID_LEN); /* the live folder's, if merged into one */
    char folded[SP_MODEL_PATH_MAX_BYTES + 1];
    if (sp_names_check_path(path) != SP_NAMES_OK) {
        rc = SP_MODEL_BAD_NAME;
        goto fail;
    }
    sp_model_fold(path, folded, sizeof folded);
    if (digest_map_get(&imp->by_path, folded, strlen(folded), &v)) {
        rc = SP_MODEL_EXISTS;
        goto fail;
    }
    int int_id = 0;
    struct live_folder into = {0};
    rc = live_decide(imp, in, uuid, path, &int_id, &into);
    if (rc == SP_MODEL_EXISTS) {
        /* The folder is there already: nothing to stage, children go under it. */
        digest_map_put(&imp->by_uuid, uuid, 36, folder_add(imp, into.path, into.uuid, true));
        free(into.path);
        free(path);
        return SP_MODEL_OK;
    }
    if (rc == SP_MODEL_OK && int_id && digest_map_get(&imp->by_int, &int_id, sizeof int_id, &v))
        rc = SP_MODEL_EXISTS;
    if (rc != SP_MODEL_OK)
        goto fail;

    /* Small versions go to a pack now, outside the write transaction that records them. */
    struct extents_small *small = xcalloc(nversions ? nversions : 1, sizeof *small);
    for (size_t i = 0; i < nversions && rc == SP_MODEL_OK; i++)
        if (!versions[i].extent && extents_small_write(STORE_FILES_POOL_LIBRARY, versions[i].data,
                                                       versions[i].size, &small[i]) < 0)
            rc = SP_MODEL_INTERNAL;
    if (rc != SP_MODEL_OK) {
        for (size_t i = 0; i < nversions; i++)
            extents_small_settled(&small[i]); /* written, never to be recorded */
        free(small);
        goto fail;
    }
    int64_t now = clock_now_ms();
    struct staged *s = &imp->batch[imp->nbatch++];
    memset(s, 0, sizeof *s);
    s->is_folder = in->is_folder;
    s->int_id = int_id;
    memcpy(s->uuid, uuid, SP_MODEL_UUID_LEN);
    memcpy(s->item_uuid, item_uuid, SP_MODEL_UUID_LEN);
    memcpy(s->parent_uuid, parent, SP_MODEL_UUID_LEN);
    s->name = xstrdup(in->name);
    s->path = path;
    s->created_ms = in->created_ms ? in->created_ms : now;
    s->modified_ms = in->modified_ms ? in->modified_ms : now;
    s->author_id = in->author_id ? in->author_id : imp->system_id;
    s->editor_id = in->editor_id ? in->editor_id : imp->system_id;
    if (nversions) {
        s->versions = xcalloc(nversions, sizeof *s->versions);
        s->nversions = nversions;
    }
    for (size_t i = 0; i < nversions; i++) {
        const struct sp_import_version_spec *in_v = &versions[i];
        struct staged_version *out_v = &s->versions[i];
        out_v->label =
            in_v->label ? xstrdup(in_v->label) : xasprintf("%d.%d", in_v->major, in_v->minor);
        out_v->comment = in_v->comment ? xstrdup(in_v->comment) : NULL;
        out_v->major = in_v->major;
        out_v->minor = in_v->minor;
        out_v->size = in_v->size;
        out_v->created_ms = in_v->created_ms ? in_v->created_ms : s->modified_ms;
        out_v->author_id = in_v->author_id ? in_v->author_id : s->editor_id;
        if (in_v->extent) {
            snprintf(out_v->extent, sizeof out_v->extent, "%s", in_v->extent);
            digest_map_put(&imp->by_extent, in_v->extent, strlen(in_v->extent), 1);
        } else {
            out_v->small = small[i];
        }
    }
    free(small);
    digest_map_put(&imp->by_uuid, uuid, 36,
                   in->is_folder ? folder_add(imp, path, uuid, false) : -1);
    digest_map_put(&imp->by_path, folded, strlen(folded), 1);
    if (int_id)
        digest_map_put(&imp->by_int, &int_id, sizeof int_id, 1);
    else
        s->int_id = (int)-++imp->nauto;
    imp->nstaged++;
    return SP_MODEL_OK;
fail:
    free(path);
    return rc;
}

#define OBJ_IN(f, folder)                                                                          \
    {                                                                                              \
        .is_folder = (folder), .uuid = (f)->uuid, .item_uuid = (f)->item_uuid,                     \
        .parent_uuid = (f)->parent_uuid, .name = (f)->name, .int_id = (f)->int_id,                 \
        .created_ms = (f)->created_ms, .modified_ms = (f)->modified_ms,                            \
        .author_id = (f)->author_id, .editor_id = (f)->editor_id                                   \
    }

int sp_import_folder(struct sp_import *imp, const struct sp_import_folder_spec *f)
{
    const struct obj_in in = OBJ_IN(f, true);
    return stage(imp, &in, NULL, 0);
}

int sp_import_file(struct sp_import *imp, const struct sp_import_file_spec *f)
{
    assert(f->nversions > 0 && f->versions);
    const struct obj_in in = OBJ_IN(f, false);
    return stage(imp, &in, f->versions, f->nversions);
}

/* Drops the rows job staged, releasing their extents, in one transaction. 0 or -1. */
static int drop_job(struct db *d, int64_t job)
{
    struct extents_garbage g = {0};
    db_write_begin(d);
    sqlite3_stmt *st = db_stmt(d, "DELETE FROM sp_versions WHERE item_id IN (SELECT id FROM "
                                  "sp_items WHERE pending_job = ?1) RETURNING extent_id");
    sqlite3_bind_int64(st, 1, job);
    int rc = extents_release_rows(d, st, &g);
    if (rc == 0) {
        st = db_stmt(d, "DELETE FROM sp_items WHERE pending_job = ?1");
        sqlite3_bind_int64(st, 1, job);
        rc = db_exec_stmt(d, st);
    }
    if (rc == 0) {
        st = db_stmt(d, "DELETE FROM sp_imports WHERE id = ?1");
        sqlite3_bind_int64(st, 1, job);
        rc = db_exec_stmt(d, st);
    }
    bool committed = db_write_end(d, rc == 0) == 0 && rc == 0;
    extents_collect(&g, committed);
    return committed ? 0 : -1;
}

void sp_import_abort(struct sp_import *imp)
{
    if (!imp)
        return;
    if (drop_job(imp->d, imp->id) < 0)
        log_error("sp_model: cannot drop the rows staged by job %s; they go at next start",
                  imp->job);
    import_free(imp); /* also removes the files of the batch not yet flushed */
}

/* The live files a job's staged files replace: same uuid in the list, or same path. */
#define REPLACED_CTE                                                                               \
    "WITH r (id) AS (SELECT l.id FROM sp_items s JOIN sp_items l ON l.pending_job = 0 AND "        \
    "l.uuid = s.uuid AND l.list_id = s.list_id WHERE s.pending_job = ?1 AND s.is_folder = 0 "      \
    "AND l.is_folder = 0 UNION SELECT l.id FROM sp_items s JOIN sp_items l ON l.pending_job = "    \
    "0 AND l.path = s.path WHERE s.pending_job = ?1 AND s.is_folder = 0 AND l.is_folder = 0) "

/* A staged folder and the live folder at its path, which it is merged into at commit. */
struct merge {
    char staged_uuid[SP_MODEL_UUID_LEN], live_uuid[SP_MODEL_UUID_LEN];
    char *staged_path, *live_path;
};

static void merges_free(struct merge *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].staged_path);
        free(m[i].live_path);
    }
    free(m);
}

/*
 * In the commit transaction: merges the job's staged folders into the live folders another
 * job revealed at their paths since they were staged, whatever those folders' ids (the same
 * rule as staging, live_decide). The live folder is kept; the staged one's children take it
 * as parent, and the paths of its staged descendants take its spelling (paths compare
 * case-insensitively, so only the case of letters can differ). *merged: folders merged.
 * 0 or -1.
 */
static int merge_folders(struct sp_import *imp, int *merged)
{
    struct db *d = imp->d;
    sqlite3_stmt *st = db_stmt(
        d, "SELECT s.uuid, s.path, l.uuid, l.path FROM sp_items s JOIN sp_items l ON "
           "l.pending_job = 0 AND l.path = s.path AND l.list_id = s.list_id AND l.is_folder = 1 "
           "WHERE s.pending_job = ?1 AND s.is_folder = 1");
    sqlite3_bind_int64(st, 1, imp->id);
    struct merge *m = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            m = xrealloc(m, cap * sizeof *m);
        }
        snprintf(m[n].staged_uuid, SP_MODEL_UUID_LEN, "%s", sqlite3_column_text(st, 0));
        m[n].staged_path = db_col_str(st, 1);
        snprintf(m[n].live_uuid, SP_MODEL_UUID_LEN, "%s", sqlite3_column_text(st, 2));
        m[n].live_path = db_col_str(st, 3);
        n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("sp_model: import of job %s: %s", imp->job, sqlite3_errmsg(db_handle(d)));
        merges_free(m, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(m[i].staged_uuid, m[i].live_uuid) != 0) {
            st = db_stmt(d, "UPDATE sp_items SET parent_uuid = ?3 WHERE pending_job = ?1 AND "
                            "parent_uuid = ?2");
            sqlite3_bind_int64(st, 1, imp->id);
            sqlite3_bind_text(st, 2, m[i].staged_uuid, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, m[i].live_uuid, -1, SQLITE_STATIC);
            if (db_exec_stmt(d, st) < 0)
                goto fail;
        }
        if (strcmp(m[i].staged_path, m[i].live_path) != 0) {
            /* Under "a/": after "a/" and before "a0" ('0' follows '/'), case-insensitively. */
            st = db_stmt(d, "UPDATE sp_items SET path = ?3 || substr(path, length(?3) + 1) WHERE "
                            "pending_job = ?1 AND path > ?2 || '/' AND path < ?2 || '0'");
            sqlite3_bind_int64(st, 1, imp->id);
            sqlite3_bind_text(st, 2, m[i].staged_path, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, m[i].live_path, -1, SQLITE_STATIC);
            if (db_exec_stmt(d, st) < 0)
                goto fail;
        }
        st = db_stmt(d, "DELETE FROM sp_items WHERE pending_job = ?1 AND uuid = ?2");
        sqlite3_bind_int64(st, 1, imp->id);
        sqlite3_bind_text(st, 2, m[i].staged_uuid, -1, SQLITE_STATIC);
        if (db_exec_stmt(d, st) < 0)
            goto fail;
    }
    *merged = (int)n;
    merges_free(m, n);
    return 0;
fail:
    merges_free(m, n);
    return -1;
}

static int commit_rows(struct sp_import *imp, struct extents_garbage *g)
{
    struct db *d = imp->d;
    int merged = 0;
    if (flush_rows(imp) < 0 || number_items(imp) < 0 || merge_folders(imp, &merged) < 0)
        return -1;
    sqlite3_stmt *st =
        db_stmt(d, REPLACED_CTE "DELETE FROM sp_versions WHERE item_id IN r RETURNING extent_id");
    sqlite3_bind_int64(st, 1, imp->id);
    if (extents_release_rows(d, st, g) < 0)
        return -1;
    st = db_stmt(d, REPLACED_CTE "DELETE FROM sp_items WHERE id IN r");
    sqlite3_bind_int64(st, 1, imp->id);
    if (db_exec_stmt(d, st) < 0)
        return -1;
    int replaced = sqlite3_changes(db_handle(d));
    /* The reveal. A UNIQUE index refuses what contradicts the live rows (a path, uuid or
     * int id another job took since staging). */
    st = db_stmt(d, "UPDATE sp_items SET pending_job = 0 WHERE pending_job = ?1");
    sqlite3_bind_int64(st, 1, imp->id);
    if (db_exec_stmt(d, st) < 0)
        return -1;
    int revealed = sqlite3_changes(db_handle(d));
    st =
        db_stmt(d, "UPDATE sp_lists SET modified_ms = ?2, item_count = (SELECT count(*) FROM "
                   "sp_items WHERE pending_job = 0 AND list_id = ?1 AND int_id > 0) WHERE id = ?1");
    sqlite3_bind_int64(st, 1, imp->list_id);
    sqlite3_bind_int64(st, 2, clock_now_ms());
    if (db_exec_stmt(d, st) < 0)
        return -1;
    st = db_stmt(d, "DELETE FROM sp_imports WHERE id = ?1");
    sqlite3_bind_int64(st, 1, imp->id);
    if (db_exec_stmt(d, st) < 0)
        return -1;
    log_info("sp_model: job %s committed %d objects into list %lld (%d files replaced, %d "
             "folders merged)",
             imp->job, revealed, (long long)imp->list_id, replaced, merged);
    return 0;
}

int sp_import_commit(struct sp_import *imp)
{
    if (imp->failed) {
        sp_import_abort(imp);
        return -1;
    }
    struct extents_garbage g = {0};
    db_write_begin(imp->d);
    int rc = commit_rows(imp, &g);
    bool committed = db_write_end(imp->d, rc == 0) == 0 && rc == 0;
    extents_collect(&g, committed);
    if (!committed) {
        log_error("sp_model: cannot commit the import of job %s", imp->job);
        sp_import_abort(imp);
        return -1;
    }
    batch_clear(imp, false);
    import_free(imp);
    return 0;
}

int sp_import_drop_stale(void)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT id, job_uuid FROM sp_imports ORDER BY id");
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            ids = xrealloc(ids, cap * sizeof *ids);
        }
        ids[n++] = sqlite3_column_int64(st, 0);
        log_info("sp_model: dropping the rows staged by interrupted job %s",
                 (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (drop_job(d, ids[i]) < 0)
            rc = -1;
    free(ids);
    db_release(d);
    return rc;
}
