/*
 * sp_model.c: the SharePoint content of sp_model.h in SQLite (schema/003_sharepoint.sql):
 * sites, libraries, folders and files with their list items and versions, and site users.
 * Imports staged under a job are sp_import.c's. The bytes stay in extents (files, or ranges
 * of packs when small) whose reference counts extents.c keeps; no HTTP or JSON here.
 */
#include "sp_model.h"
#include "sp_model_internal.h"
#include "clock.h"
#include "crypto.h"
#include "db.h"
#include "extents.h"
#include "log.h"
#include "sp_names.h"
#include "spmig_limits.h"
#include "uuid.h"
#include "xmalloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SP_MODEL_SITE_NAME_MAX 128

_Static_assert(SP_MODEL_UUID_LEN == UUID_BUF, "sp_model GUIDs are uuid.h's text form");

#define SITE_COLS "id, uuid, web_uuid, root_folder_uuid, url, title, created_ms"
#define LIST_COLS                                                                                  \
    "id, site_id, uuid, root_folder_uuid, title, root_url, base_template, created_ms, "            \
    "modified_ms, item_count"
#define ITEM_COLS                                                                                  \
    "id, list_id, int_id, uuid, item_uuid, parent_uuid, is_folder, path, name, size, version, "    \
    "created_ms, modified_ms, author_id, editor_id"

/* ---- small helpers ---- */

static void uuid_new(char out[SP_MODEL_UUID_LEN])
{
    unsigned char u[UUID_LEN];
    uuid_v4(u);
    uuid_format(u, out);
}

/* Accepts a GUID in either case, optionally in braces; writes it lowercase. */
static bool uuid_norm(const char *in, char out[SP_MODEL_UUID_LEN])
{
    unsigned char u[UUID_LEN];
    if (uuid_parse(in, u) < 0)
        return false;
    uuid_format(u, out);
    return true;
}

/* in normalised into out; a NULL in gives dflt, or a new uuid if dflt is NULL too. */
bool sp_model_uuid_or(const char *in, char out[SP_MODEL_UUID_LEN], const char *dflt)
{
    if (in)
        return uuid_norm(in, out);
    if (dflt)
        memcpy(out, dflt, SP_MODEL_UUID_LEN);
    else
        uuid_new(out);
    return true;
}

/* ASCII case folding, the same SQLite's NOCASE does. */
void sp_model_fold(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
    out[i] = '\0';
}

/* Site and library titles: sp_names.h's title rules; NULL is no title. */
static bool title_valid(const char *title)
{
    return title && sp_names_check_title(title) == SP_NAMES_OK;
}

static bool site_url_valid(const char *url)
{
    if (strcmp(url, "/") == 0)
        return true;
    if (strncasecmp(url, "/sites/", 7) != 0)
        return false;
    const char *name = url + 7;
    size_t n = strlen(name);
    if (n < 1 || n > SP_MODEL_SITE_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* Copies a server-relative path for a lookup, without a trailing '/'; false if it cannot be
 * one (then nothing has that path). */
static bool path_norm(const char *in, char out[SP_MODEL_PATH_MAX_BYTES + 2])
{
    size_t n = in ? strlen(in) : 0;
    if (n == 0 || in[0] != '/' || n > SP_MODEL_PATH_MAX_BYTES + 1)
        return false;
    if (n > 1 && in[n - 1] == '/')
        n--;
    memcpy(out, in, n);
    out[n] = '\0';
    return true;
}

/* Steps a statement that writes one row: SP_MODEL_OK, SP_MODEL_EXISTS on a UNIQUE violation (not
 * logged: callers expect it) or SP_MODEL_INTERNAL after logging. Resets st. */
int sp_model_step_write(struct db *d, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return SP_MODEL_OK;
    if (rc == SQLITE_CONSTRAINT)
        return SP_MODEL_EXISTS;
    log_error("sp_model: %s: %s", sqlite3_sql(st), sqlite3_errmsg(db_handle(d)));
    return SP_MODEL_INTERNAL;
}

/* ---- finish ---- */

void sp_model_site_finish(struct sp_model_site *s)
{
    if (!s)
        return;
    free(s->url);
    free(s->title);
    memset(s, 0, sizeof *s);
}

void sp_model_list_finish(struct sp_model_list *l)
{
    if (!l)
        return;
    free(l->title);
    free(l->root_url);
    memset(l, 0, sizeof *l);
}

void sp_model_item_finish(struct sp_model_item *i)
{
    if (!i)
        return;
    free(i->path);
    free(i->name);
    free(i->version);
    memset(i, 0, sizeof *i);
}

void sp_model_version_finish(struct sp_model_version *v)
{
    if (!v)
        return;
    free(v->label);
    free(v->comment);
    free(v->data);
    store_files_release(v->hold);
    memset(v, 0, sizeof *v);
}

void sp_model_user_finish(struct sp_model_user *u)
{
    if (!u)
        return;
    free(u->login);
    free(u->title);
    free(u->email);
    memset(u, 0, sizeof *u);
}

/* ---- users ---- */

static int user_find(struct db *d, const char *login, int64_t *id)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT id FROM sp_users WHERE login = ?1");
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    int rc = SP_MODEL_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = SP_MODEL_OK;
    }
    sqlite3_reset(st);
    return rc;
}

/* In a write transaction. */
static int user_ensure_tx(struct db *d, const char *login, const char *title, const char *email,
                          int64_t *id)
{
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO sp_users (login, title, email) VALUES (?1, ?2, ?3) "
                                  "ON CONFLICT (login) DO NOTHING");
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, email, -1, SQLITE_STATIC);
    int rc = sp_model_step_write(d, st);
    if (rc != SP_MODEL_OK)
        return SP_MODEL_INTERNAL;
    return user_find(d, login, id) == SP_MODEL_OK ? SP_MODEL_OK : SP_MODEL_INTERNAL;
}

int sp_model_user_ensure(const char *login, const char *title, const char *email, int64_t *id)
{
    if (!login || !login[0] || strlen(login) > SP_MODEL_LOGIN_MAX_BYTES ||
        !sp_names_utf8_valid(login))
        return SP_MODEL_BAD_NAME;
    struct db *d = db_acquire();
    int rc = user_find(d, login, id);
    if (rc == SP_MODEL_NOT_FOUND) {
        db_write_begin(d);
        rc = user_ensure_tx(d, login, title, email, id);
        if (db_write_end(d, rc == SP_MODEL_OK) < 0)
            rc = SP_MODEL_INTERNAL;
    }
    db_release(d);
    return rc;
}

int sp_model_user_get(int64_t id, struct sp_model_user *out)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT id, login, title, email FROM sp_users WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    int rc = SP_MODEL_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        out->login = db_col_str(st, 1);
        out->title = db_col_str(st, 2);
        out->email = db_col_str(st, 3);
        rc = SP_MODEL_OK;
    }
    sqlite3_reset(st);
    db_release(d);
    return rc;
}

/* ---- sites ---- */

static void site_from_row(sqlite3_stmt *st, struct sp_model_site *out)
{
    out->id = sqlite3_column_int64(st, 0);
    db_col_copy(st, 1, out->uuid, sizeof out->uuid);
    db_col_copy(st, 2, out->web_uuid, sizeof out->web_uuid);
    db_col_copy(st, 3, out->root_folder_uuid, sizeof out->root_folder_uuid);
    out->url = db_col_str(st, 4);
    out->title = db_col_str(st, 5);
    out->created_ms = sqlite3_column_int64(st, 6);
}

/* Steps st once into out (which may be NULL); resets st. */
static int site_step(sqlite3_stmt *st, struct sp_model_site *out)
{
    int rc = SP_MODEL_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (out)
            site_from_row(st, out);
        rc = SP_MODEL_OK;
    }
    sqlite3_reset(st);
    return rc;
}

static int site_by_id(struct db *d, int64_t id, struct sp_model_site *out)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT " SITE_COLS " FROM sp_sites WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    return site_step(st, out);
}

static void list_from_row(sqlite3_stmt *st, struct sp_model_list *out)
{
    out->id = sqlite3_column_int64(st, 0);
    out->site_id = sqlite3_column_int64(st, 1);
    db_col_copy(st, 2, out->uuid, sizeof out->uuid);
    db_col_copy(st, 3, out->root_folder_uuid, sizeof out->root_folder_uuid);
    out->title = db_col_str(st, 4);
    out->root_url = db_col_str(st, 5);
    out->base_template = sqlite3_column_int(st, 6);
    out->created_ms = sqlite3_column_int64(st, 7);
    out->modified_ms = sqlite3_column_int64(st, 8);
    out->item_count = sqlite3_column_int64(st, 9);
}

static int list_step(sqlite3_stmt *st, struct sp_model_list *out)
{
    int rc = SP_MODEL_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (out)
            list_from_row(st, out);
        rc = SP_MODEL_OK;
    }
    sqlite3_reset(st);
    return rc;
}

int sp_model_list_by_id_tx(struct db *d, int64_t id, struct sp_model_list *out)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT " LIST_COLS " FROM sp_lists WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    return list_step(st, out);
}

/*
 * In a write transaction: a library of site with its root folder item named folder. The
 * root folder's path is the site url + "/" + folder.
 */
static int list_create_tx(struct db *d, const struct sp_model_site *site, const char *title,
                          const char *folder, int base_template, struct sp_model_list *out)
{
    if (!title_valid(title) || sp_names_check(folder, SP_NAMES_FILE) != SP_NAMES_OK)
        return SP_MODEL_BAD_NAME;
    if (strcmp(site->url, "/") == 0 && strcasecmp(folder, "sites") == 0)
        return SP_MODEL_BAD_NAME; /* the managed path of site collections */
    char *root_url = xasprintf("%s/%s", strcmp(site->url, "/") == 0 ? "" : site->url, folder);
    if (sp_names_check_path(root_url) != SP_NAMES_OK) {
        free(root_url);
        return SP_MODEL_BAD_NAME;
    }
    int64_t system_id;
    int rc = user_ensure_tx(d, SYSTEM_LOGIN, SYSTEM_TITLE, NULL, &system_id);
    char uuid[SP_MODEL_UUID_LEN], root_uuid[SP_MODEL_UUID_LEN], item_uuid[SP_MODEL_UUID_LEN];
    uuid_new(uuid);
    uuid_new(root_uuid);
    uuid_new(item_uuid);
    int64_t now = clock_now_ms();
    int64_t list_id = 0;
    if (rc == SP_MODEL_OK) {
        sqlite3_stmt *st =
            db_stmt(d, "INSERT INTO sp_lists (site_id, uuid, root_folder_uuid, title, root_url, "
                       "base_template, created_ms, modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                       "?7, ?7)");
        sqlite3_bind_int64(st, 1, site->id);
        sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, root_uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, title, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, root_url, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, base_template);
        sqlite3_bind_int64(st, 7, now);
        rc = sp_model_step_write(d, st);
        list_id = sqlite3_last_insert_rowid(db_handle(d));
    }
    if (rc == SP_MODEL_OK) {
        sqlite3_stmt *st = db_stmt(
            d, "INSERT INTO sp_items (list_id, int_id, uuid, item_uuid, parent_uuid, is_folder, "
               "path, name, created_ms, modified_ms, author_id, editor_id) VALUES (?1, 0, ?2, ?3, "
               "?4, 1, ?5, ?6, ?7, ?7, ?8, ?8)");
        sqlite3_bind_int64(st, 1, list_id);
        sqlite3_bind_text(st, 2, root_uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, item_uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, site->root_folder_uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, root_url, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, folder, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, now);
        sqlite3_bind_int64(st, 8, system_id);
        rc = sp_model_step_write(d, st); /* SP_MODEL_EXISTS: a folder already has that path */
    }
    if (rc == SP_MODEL_OK && out)
        rc = sp_model_list_by_id_tx(d, list_id, out) == SP_MODEL_OK ? SP_MODEL_OK
                                                                    : SP_MODEL_INTERNAL;
    free(root_url);
    return rc;
}

static int site_create_tx(struct db *d, const char *url_in, const char *title,
                          struct sp_model_site *out)
{
    if (!url_in || !site_url_valid(url_in) || !title_valid(title))
        return SP_MODEL_BAD_NAME;
    char url[8 + SP_MODEL_SITE_NAME_MAX];
    if (strcmp(url_in, "/") == 0)
        strcpy(url, "/");
    else
        snprintf(url, sizeof url, "/sites/%s", url_in + 7); /* the managed path in lowercase */
    char uuid[SP_MODEL_UUID_LEN], web[SP_MODEL_UUID_LEN], root[SP_MODEL_UUID_LEN];
    uuid_new(uuid);
    uuid_new(web);
    uuid_new(root);
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO sp_sites (uuid, web_uuid, root_folder_uuid, url, "
                                  "title, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, web, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, root, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, title, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, clock_now_ms());
    int rc = sp_model_step_write(d, st);
    if (rc != SP_MODEL_OK)
        return rc;
    struct sp_model_site s = {0};
    if (site_by_id(d, sqlite3_last_insert_rowid(db_handle(d)), &s) != SP_MODEL_OK)
        return SP_MODEL_INTERNAL;
    rc = list_create_tx(d, &s, "Documents", "Shared Documents", 101, NULL);
    if (rc != SP_MODEL_OK) {
        log_error("sp_model: cannot create the Documents library of %s", url);
        rc = SP_MODEL_INTERNAL;
    }
    if (rc == SP_MODEL_OK && out)
        *out = s;
    else
        sp_model_site_finish(&s);
    return rc;
}

int sp_model_init(const char *tenant)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    int64_t system_id;
    int rc = user_ensure_tx(d, SYSTEM_LOGIN, SYSTEM_TITLE, NULL, &system_id);
    sqlite3_stmt *st = db_stmt(d, "SELECT 1 FROM sp_sites WHERE url = '/'");
    bool have_root = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (rc == SP_MODEL_OK && !have_root) {
        rc = site_create_tx(d, "/", tenant, NULL);
        if (rc == SP_MODEL_OK)
            log_info("sp_model: created the root site of tenant %s", tenant);
        else
            log_error("sp_model: cannot create the root site of tenant %s (%d)", tenant, rc);
    }
    if (db_write_end(d, rc == SP_MODEL_OK) < 0)
        rc = SP_MODEL_INTERNAL;
    db_release(d);
    return rc == SP_MODEL_OK ? 0 : -1;
}

int sp_model_site_create(const char *url, const char *title, struct sp_model_site *out)
{
    struct db *d = db_acquire();
    db_write_begin(d);
    int rc = site_create_tx(d, url, title, out);
    if (db_write_end(d, rc == SP_MODEL_OK) < 0) {
        if (out)
            sp_model_site_finish(out);
        rc = SP_MODEL_INTERNAL;
    }
    db_release(d);
    return rc;
}

int sp_model_site_get(const char *url, struct sp_model_site *out)
{
    char buf[SP_MODEL_PATH_MAX_BYTES + 2];
    if (!path_norm(url, buf))
        return SP_MODEL_NOT_FOUND;
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " SITE_COLS " FROM sp_sites WHERE url = ?1");
    sqlite3_bind_text(st, 1, buf, -1, SQLITE_STATIC);
    int rc = site_step(st, out);
    db_release(d);
    return rc;
}

int sp_model_site_by_web(const char *web_uuid, struct sp_model_site *out)
{
    char u[SP_MODEL_UUID_LEN];
    if (!web_uuid || !uuid_norm(web_uuid, u))
        return SP_MODEL_NOT_FOUND;
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " SITE_COLS " FROM sp_sites WHERE web_uuid = ?1");
    sqlite3_bind_text(st, 1, u, -1, SQLITE_STATIC);
    int rc = site_step(st, out);
    db_release(d);
    return rc;
}

int sp_model_site_each(void (*fn)(void *ctx, const struct sp_model_site *s), void *ctx)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " SITE_COLS " FROM sp_sites ORDER BY url");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sp_model_site s = {0};
        site_from_row(st, &s);
        fn(ctx, &s);
        sp_model_site_finish(&s);
    }
    sqlite3_reset(st);
    db_release(d);
    return rc == SQLITE_DONE ? SP_MODEL_OK : SP_MODEL_INTERNAL;
}

/* ---- lists ---- */

int sp_model_list_create(int64_t site_id, const char *title, int base_template,
                         struct sp_model_list *out)
{
    if (!title_valid(title) || sp_names_check(title, SP_NAMES_FILE) != SP_NAMES_OK)
        return SP_MODEL_BAD_NAME;
    struct db *d = db_acquire();
    db_write_begin(d);
    struct sp_model_site s = {0};
    int rc = site_by_id(d, site_id, &s);
    if (rc == SP_MODEL_OK)
        rc = list_create_tx(d, &s, title, title, base_template, out);
    sp_model_site_finish(&s);
    if (db_write_end(d, rc == SP_MODEL_OK) < 0) {
        if (out)
            sp_model_list_finish(out);
        rc = SP_MODEL_INTERNAL;
    }
    db_release(d);
    return rc;
}

int sp_model_list_by_title(int64_t site_id, const char *title, struct sp_model_list *out)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st =
        db_stmt(d, "SELECT " LIST_COLS " FROM sp_lists WHERE site_id = ?1 AND title = ?2");
    sqlite3_bind_int64(st, 1, site_id);
    sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
    int rc = list_step(st, out);
    db_release(d);
    return rc;
}

int sp_model_list_by_uuid(const char *uuid, struct sp_model_list *out)
{
    char u[SP_MODEL_UUID_LEN];
    if (!uuid || !uuid_norm(uuid, u))
        return SP_MODEL_NOT_FOUND;
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " LIST_COLS " FROM sp_lists WHERE uuid = ?1");
    sqlite3_bind_text(st, 1, u, -1, SQLITE_STATIC);
    int rc = list_step(st, out);
    db_release(d);
    return rc;
}

int sp_model_list_each(int64_t site_id, void (*fn)(void *ctx, const struct sp_model_list *l),
                       void *ctx)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st =
        db_stmt(d, "SELECT " LIST_COLS " FROM sp_lists WHERE site_id = ?1 ORDER BY title");
    sqlite3_bind_int64(st, 1, site_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sp_model_list l = {0};
        list_from_row(st, &l);
        fn(ctx, &l);
        sp_model_list_finish(&l);
    }
    sqlite3_reset(st);
    db_release(d);
    return rc == SQLITE_DONE ? SP_MODEL_OK : SP_MODEL_INTERNAL;
}

/* ---- items ---- */

static void item_from_row(sqlite3_stmt *st, struct sp_model_item *out)
{
    out->id = sqlite3_column_int64(st, 0);
    out->list_id = sqlite3_column_int64(st, 1);
    out->int_id = sqlite3_column_int(st, 2);
    db_col_copy(st, 3, out->uuid, sizeof out->uuid);
    db_col_copy(st, 4, out->item_uuid, sizeof out->item_uuid);
    db_col_copy(st, 5, out->parent_uuid, sizeof out->parent_uuid);
    out->is_folder = sqlite3_column_int(st, 6) != 0;
    out->path = db_col_str(st, 7);
    out->name = db_col_str(st, 8);
    out->size = (uint64_t)sqlite3_column_int64(st, 9);
    out->version = db_col_str(st, 10);
    out->created_ms = sqlite3_column_int64(st, 11);
    out->modified_ms = sqlite3_column_int64(st, 12);
    out->author_id = sqlite3_column_int64(st, 13);
    out->editor_id = sqlite3_column_int64(st, 14);
}

static int item_step(sqlite3_stmt *st, struct sp_model_item *out)
{
    int rc = SP_MODEL_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (out)
            item_from_row(st, out);
        rc = SP_MODEL_OK;
    }
    sqlite3_reset(st);
    return rc;
}

/* Steps st to the end, calling fn for every item row. Resets st. */
static int item_each(struct db *d, sqlite3_stmt *st,
                     void (*fn)(void *ctx, const struct sp_model_item *i), void *ctx)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sp_model_item it = {0};
        item_from_row(st, &it);
        fn(ctx, &it);
        sp_model_item_finish(&it);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("sp_model: %s: %s", sqlite3_sql(st), sqlite3_errmsg(db_handle(d)));
        return SP_MODEL_INTERNAL;
    }
    return SP_MODEL_OK;
}

static int item_by_path(struct db *d, const char *path, struct sp_model_item *out)
{
    sqlite3_stmt *st =
        db_stmt(d, "SELECT " ITEM_COLS " FROM sp_items WHERE pending_job = 0 AND path = ?1");
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    return item_step(st, out);
}

int sp_model_item_by_path(const char *path, struct sp_model_item *out)
{
    char buf[SP_MODEL_PATH_MAX_BYTES + 2];
    if (!path_norm(path, buf))
        return SP_MODEL_NOT_FOUND;
    struct db *d = db_acquire();
    int rc = item_by_path(d, buf, out);
    db_release(d);
    return rc;
}

int sp_model_item_by_uuid(int64_t list_id, const char *uuid, struct sp_model_item *out)
{
    char u[SP_MODEL_UUID_LEN];
    if (!uuid || !uuid_norm(uuid, u))
        return SP_MODEL_NOT_FOUND;
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " ITEM_COLS " FROM sp_items WHERE pending_job = 0 AND "
                                  "uuid = ?1 AND list_id = ?2");
    sqlite3_bind_text(st, 1, u, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, list_id);
    int rc = item_step(st, out);
    db_release(d);
    return rc;
}

int sp_model_item_by_int_id(int64_t list_id, int int_id, struct sp_model_item *out)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT " ITEM_COLS " FROM sp_items WHERE pending_job = 0 AND "
                                  "list_id = ?1 AND int_id = ?2");
    sqlite3_bind_int64(st, 1, list_id);
    sqlite3_bind_int(st, 2, int_id);
    int rc = item_step(st, out);
    db_release(d);
    return rc;
}

int sp_model_folder_children(const char *folder_path, bool folders,
                             void (*fn)(void *ctx, const struct sp_model_item *i), void *ctx)
{
    char buf[SP_MODEL_PATH_MAX_BYTES + 2];
    if (!path_norm(folder_path, buf))
        return SP_MODEL_NOT_FOUND;
    struct db *d = db_acquire();
    db_read_begin(d);
    struct sp_model_item folder = {0};
    int rc = item_by_path(d, buf, &folder);
    if (rc == SP_MODEL_OK && !folder.is_folder)
        rc = SP_MODEL_NOT_FOUND;
    if (rc == SP_MODEL_OK) {
        sqlite3_stmt *st = db_stmt(d, "SELECT " ITEM_COLS " FROM sp_items WHERE pending_job = 0 "
                                      "AND parent_uuid = ?1 AND is_folder = ?2 ORDER BY name");
        sqlite3_bind_text(st, 1, folder.uuid, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, folders ? 1 : 0);
        rc = item_each(d, st, fn, ctx);
    }
    sp_model_item_finish(&folder);
    db_read_end(d);
    db_release(d);
    return rc;
}

int sp_model_list_items(int64_t list_id, int after, unsigned max,
                        void (*fn)(void *ctx, const struct sp_model_item *i), void *ctx)
{
    struct db *d = db_acquire();
    db_read_begin(d);
    int rc = sp_model_list_by_id_tx(d, list_id, NULL);
    if (rc == SP_MODEL_OK) {
        sqlite3_stmt *st =
            db_stmt(d, "SELECT " ITEM_COLS " FROM sp_items WHERE pending_job = 0 "
                       "AND list_id = ?1 AND int_id > max(?2, 0) ORDER BY int_id LIMIT ?3");
        sqlite3_bind_int64(st, 1, list_id);
        sqlite3_bind_int(st, 2, after);
        sqlite3_bind_int64(st, 3, max ? (sqlite3_int64)max : -1);
        rc = item_each(d, st, fn, ctx);
    }
    db_read_end(d);
    db_release(d);
    return rc;
}

/* ---- versions ---- */

#define VERSION_SELECT                                                                             \
    "SELECT v.label, v.major, v.minor, v.size, v.created_ms, v.author_id, v.comment, "             \
    "v.seq = (SELECT max(seq) FROM sp_versions WHERE item_id = ?1), " EXTENTS_LOCATION_COLS(       \
        "e") " FROM sp_versions v "                                                                \
             "JOIN extents e ON e.id = v.extent_id JOIN sp_items i ON i.id = v.item_id AND "       \
             "i.pending_job = 0 WHERE v.item_id = ?1 "

/* Fills out from a VERSION_SELECT row; returns the id of the version's extent. */
static int64_t version_from_row(sqlite3_stmt *st, struct sp_model_version *out)
{
    out->label = db_col_str(st, 0);
    out->major = sqlite3_column_int(st, 1);
    out->minor = sqlite3_column_int(st, 2);
    out->size = (uint64_t)sqlite3_column_int64(st, 3);
    out->created_ms = sqlite3_column_int64(st, 4);
    out->author_id = sqlite3_column_int64(st, 5);
    out->comment = db_col_str(st, 6);
    out->is_current = sqlite3_column_int(st, 7) != 0;
    struct extents_location loc;
    extents_location_decode(st, 8, &loc);
    snprintf(out->extent, sizeof out->extent, "%s", extents_location_small(&loc) ? "" : loc.path);
    return loc.id;
}

int sp_model_file_versions(int64_t item_id, void (*fn)(void *ctx, const struct sp_model_version *v),
                           void *ctx)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, VERSION_SELECT "ORDER BY v.seq");
    sqlite3_bind_int64(st, 1, item_id);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sp_model_version v = {0};
        version_from_row(st, &v);
        fn(ctx, &v);
        sp_model_version_finish(&v);
        n++;
    }
    sqlite3_reset(st);
    db_release(d);
    if (rc != SQLITE_DONE)
        return SP_MODEL_INTERNAL;
    return n ? SP_MODEL_OK : SP_MODEL_NOT_FOUND;
}

int sp_model_file_version(int64_t item_id, const char *label, struct sp_model_version *out)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st;
    if (label) {
        st = db_stmt(d, VERSION_SELECT "AND v.label = ?2 ORDER BY v.seq DESC LIMIT 1");
        sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
    } else {
        st = db_stmt(d, VERSION_SELECT "ORDER BY v.seq DESC LIMIT 1");
    }
    sqlite3_bind_int64(st, 1, item_id);
    int rc = SP_MODEL_NOT_FOUND;
    /* Before the transaction: a file it finds stays until the caller opened it. */
    uint64_t hold = store_files_hold();
    db_read_begin(d); /* the row and its inline bytes alike */
    int64_t extent = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        extent = version_from_row(st, out);
        rc = SP_MODEL_OK;
    }
    sqlite3_reset(st);
    if (rc == SP_MODEL_OK && !out->extent[0]) {
        assert(out->size <= LIMIT_INLINE_BYTES);
        out->data = xmalloc(out->size ? out->size : 1);
        long n = extents_read_small(d, extent, 0, out->data, out->size);
        if (n < 0 || (uint64_t)n != out->size) {
            log_error("sp_model: small extent %lld of item %lld is missing or short",
                      (long long)extent, (long long)item_id);
            sp_model_version_finish(out);
            rc = SP_MODEL_INTERNAL;
        }
    }
    db_read_end(d);
    db_release(d);
    if (rc == SP_MODEL_OK)
        out->hold = hold;
    else
        store_files_release(hold);
    return rc;
}
