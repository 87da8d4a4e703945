/*
 * sp_auth.c: the principals of the SharePoint listener and their site roles in SQLite
 * (schema/003_sharepoint.sql), their bearer tokens (random, handed out once, kept only as
 * SHA-256) and the admin-token file. It says who a caller is and which role they hold; which
 * operation needs which role is the API's decision. Tokens never reach a log.
 */
#include "sp_auth.h"
#include "b64.h"
#include "clock.h"
#include "crypto.h"
#include "db.h"
#include "fileio.h"
#include "log.h"
#include "xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_RAW 32

static const char *const role_names[] = {
    [SP_AUTH_MEMBER] = "Member",
    [SP_AUTH_SITE_OWNER] = "SiteOwner",
    [SP_AUTH_SHAREPOINT_ADMIN] = "SharePointAdmin",
    [SP_AUTH_GLOBAL_ADMIN] = "GlobalAdmin",
};

static bool role_valid(int r)
{
    return r >= SP_AUTH_MEMBER && r <= SP_AUTH_GLOBAL_ADMIN;
}

const char *sp_auth_role_name(enum sp_auth_role r)
{
    return role_valid((int)r) ? role_names[r] : "Unknown";
}

int sp_auth_role_parse(const char *name, enum sp_auth_role *r)
{
    for (int i = SP_AUTH_MEMBER; name && i <= SP_AUTH_GLOBAL_ADMIN; i++) {
        if (strcasecmp(name, role_names[i]) == 0) {
            *r = (enum sp_auth_role)i;
            return 0;
        }
    }
    return -1;
}

bool sp_auth_admin_on_sites(const struct sp_auth_principal *p)
{
    return p && (p->role == SP_AUTH_GLOBAL_ADMIN || p->role == SP_AUTH_SHAREPOINT_ADMIN);
}

bool sp_auth_is_admin(const struct sp_auth_principal *p)
{
    return sp_auth_admin_on_sites(p) && !p->delegated;
}

/* ---- tokens ---- */

/* A new token: 32 random bytes in base64url without padding (43 characters). */
static void token_new(char out[SP_AUTH_TOKEN_LEN])
{
    unsigned char raw[TOKEN_RAW];
    char b64[64];
    crypto_random(raw, sizeof raw);
    size_t n = b64_encode_to(raw, sizeof raw, b64);
    crypto_wipe(raw, sizeof raw);
    while (n && b64[n - 1] == '=')
        n--;
    if (n > SP_AUTH_TOKEN_LEN - 1) /* never: 32 bytes make 43 characters; tells the compiler so */
        n = SP_AUTH_TOKEN_LEN - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
    out[n] = '\0';
    crypto_wipe(b64, sizeof b64);
}

/* 1..SP_AUTH_TOKEN_MAX printable ASCII characters, no spaces. */
static bool token_valid(const char *t, size_t n)
{
    if (n == 0 || n > SP_AUTH_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (t[i] <= 0x20 || t[i] >= 0x7f)
            return false;
    return true;
}

static int token_hash(const char *t, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
    return crypto_sha256(t, n, out);
}

/* Writes token and a newline to path, replacing it whole (fileio_replace), mode 0600. 0, or -1
 * after logging (path is then unchanged). */
/* True when path already holds exactly len bytes equal to line (nothing to write). */
static bool token_file_holds(const char *path, const char *line, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[SP_AUTH_TOKEN_MAX + 2];
    ssize_t got = len <= sizeof buf ? read(fd, buf, sizeof buf) : -1;
    close(fd);
    bool same = got == (ssize_t)len && crypto_memeq(buf, line, len);
    crypto_wipe(buf, sizeof buf);
    return same;
}

static int token_file_write(const char *path, const char *token)
{
    size_t n = strlen(token);
    char *line = xmalloc(n + 2);
    memcpy(line, token, n);
    line[n] = '\n';
    line[n + 1] = '\0';
    /* A start that changes nothing writes nothing: it may be a full disk. */
    int rc = token_file_holds(path, line, n + 1) ? 0 : fileio_replace(path, line, n + 1, 0600);
    int err = errno;
    crypto_wipe(line, n + 2);
    free(line);
    if (rc < 0)
        log_error("sp_auth: cannot write the admin token to %s: %s", path, strerror(err));
    return rc;
}

/* ---- principals ---- */

static int principal_by_login(struct db *d, const char *login, int64_t *id)
{
    sqlite3_stmt *st = db_stmt(d, "SELECT id FROM sp_principals WHERE login = ?1");
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    sqlite3_reset(st);
    return rc;
}

/* Inserts a principal; SP_AUTH_OK, SP_AUTH_EXISTS (login or, vanishingly unlikely, token hash
 * taken) or SP_AUTH_INTERNAL. */
static int principal_insert(struct db *d, const char *login, enum sp_auth_role role,
                            const unsigned char hash[CRYPTO_SHA256_LEN], int64_t *id)
{
    sqlite3_stmt *st = db_stmt(d, "INSERT INTO sp_principals (login, role, token_hash, "
                                  "created_ms) VALUES (?1, ?2, ?3, ?4)");
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)role);
    sqlite3_bind_blob(st, 3, hash, CRYPTO_SHA256_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, clock_now_ms());
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT)
        return SP_AUTH_EXISTS;
    if (rc != SQLITE_DONE) {
        log_error("sp_auth: cannot add principal %s: %s", login, sqlite3_errmsg(db_handle(d)));
        return SP_AUTH_INTERNAL;
    }
    *id = sqlite3_last_insert_rowid(db_handle(d));
    return SP_AUTH_OK;
}

int sp_auth_init(const char *tenant, const char *admin_token, const char *token_file)
{
    char login[SP_AUTH_LOGIN_MAX];
    int n = snprintf(login, sizeof login, "admin@%s.onmicrosoft.com", tenant);
    if (n < 0 || (size_t)n >= sizeof login) {
        log_error("sp_auth: tenant name too long");
        return -1;
    }
    if (admin_token && !token_valid(admin_token, strlen(admin_token))) {
        log_error("sp_auth: the admin token must be 1 to %d printable characters without spaces",
                  SP_AUTH_TOKEN_MAX);
        return -1;
    }
    struct db *d = db_acquire();
    db_write_begin(d);
    int64_t id = 0;
    bool exists = principal_by_login(d, login, &id) == 0;
    int rc = 0;
    if (exists && !admin_token) {
        /* Keep the token; make sure the role was not changed by hand. */
        sqlite3_stmt *st =
            db_stmt(d, "UPDATE sp_principals SET role = ?2 WHERE id = ?1 AND role != ?2");
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, SP_AUTH_GLOBAL_ADMIN);
        rc = db_exec_stmt(d, st);
        if (token_file && access(token_file, F_OK) != 0)
            log_warn("sp_auth: %s is missing and the admin token cannot be recovered; start "
                     "with --admin-token to set a new one",
                     token_file);
    } else {
        char generated[SP_AUTH_TOKEN_LEN];
        const char *token = admin_token;
        if (!token) {
            token_new(generated);
            token = generated;
        }
        unsigned char hash[CRYPTO_SHA256_LEN];
        rc = token_hash(token, strlen(token), hash);
        if (rc == 0 && exists) {
            sqlite3_stmt *st = db_stmt(d, "UPDATE sp_principals SET role = ?2, token_hash = ?3 "
                                          "WHERE id = ?1 AND (role != ?2 OR token_hash IS NOT ?3)");
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int(st, 2, SP_AUTH_GLOBAL_ADMIN);
            sqlite3_bind_blob(st, 3, hash, sizeof hash, SQLITE_STATIC);
            rc = db_exec_stmt(d, st);
        } else if (rc == 0) {
            rc = principal_insert(d, login, SP_AUTH_GLOBAL_ADMIN, hash, &id) == SP_AUTH_OK ? 0 : -1;
        }
        if (rc == 0 && token_file)
            rc = token_file_write(token_file, token);
        crypto_wipe(generated, sizeof generated);
        crypto_wipe(hash, sizeof hash);
        if (rc == 0)
            log_info("sp_auth: %s the token of %s%s%s", exists ? "replaced" : "created", login,
                     token_file ? ", written to " : "", token_file ? token_file : "");
    }
    if (db_write_end(d, rc == 0) < 0)
        rc = -1;
    db_release(d);
    if (rc < 0)
        log_error("sp_auth: cannot set up the tenant admin %s", login);
    return rc;
}

static const char *delegate_prefix;
static sp_auth_delegate_fn *delegate_fn;

void sp_auth_set_delegate(const char *prefix, sp_auth_delegate_fn *fn)
{
    delegate_prefix = prefix;
    delegate_fn = fn;
}

static void principal_row(sqlite3_stmt *st, struct sp_auth_principal *out)
{
    out->id = sqlite3_column_int64(st, 0);
    snprintf(out->login, sizeof out->login, "%s", (const char *)sqlite3_column_text(st, 1));
    out->role = (enum sp_auth_role)sqlite3_column_int(st, 2);
    out->delegated = false;
}

int sp_auth_principal_get(int64_t id, struct sp_auth_principal *out)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st = db_stmt(d, "SELECT id, login, role FROM sp_principals WHERE id = ?1");
    sqlite3_bind_int64(st, 1, id);
    int rc = SP_AUTH_BAD_TOKEN;
    if (sqlite3_step(st) == SQLITE_ROW) {
        principal_row(st, out);
        rc = SP_AUTH_OK;
    }
    sqlite3_reset(st);
    db_release(d);
    return rc;
}

int sp_auth_authenticate(const char *authorization, struct sp_auth_principal *out)
{
    if (!authorization)
        return SP_AUTH_NO_TOKEN;
    const char *p = authorization;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return SP_AUTH_NO_TOKEN;
    if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
        return SP_AUTH_BAD_TOKEN;
    p += 6;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (!token_valid(p, n))
        return SP_AUTH_BAD_TOKEN;
    if (delegate_fn && n > strlen(delegate_prefix) &&
        !strncmp(p, delegate_prefix, strlen(delegate_prefix))) {
        char token[SP_AUTH_TOKEN_MAX + 1];
        memcpy(token, p, n);
        token[n] = '\0';
        struct sp_auth_principal ignored;
        int rc = delegate_fn(token, out ? out : &ignored);
        crypto_wipe(token, n);
        return rc;
    }
    unsigned char hash[CRYPTO_SHA256_LEN];
    if (token_hash(p, n, hash) < 0)
        return SP_AUTH_INTERNAL;
    struct db *d = db_acquire();
    sqlite3_stmt *st =
        db_stmt(d, "SELECT id, login, role FROM sp_principals WHERE token_hash = ?1");
    sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_STATIC);
    int rc = SP_AUTH_BAD_TOKEN;
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (out)
            principal_row(st, out);
        rc = SP_AUTH_OK;
    }
    sqlite3_reset(st);
    db_release(d);
    crypto_wipe(hash, sizeof hash);
    return rc;
}

int sp_auth_user_create(const char *login, enum sp_auth_role role, int64_t site_id,
                        char token[SP_AUTH_TOKEN_LEN], int64_t *id)
{
    if (!login || !login[0] || strlen(login) >= SP_AUTH_LOGIN_MAX || !role_valid((int)role))
        return SP_AUTH_INVALID;
    for (const unsigned char *c = (const unsigned char *)login; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return SP_AUTH_INVALID;
    char tok[SP_AUTH_TOKEN_LEN];
    unsigned char hash[CRYPTO_SHA256_LEN];
    token_new(tok);
    if (token_hash(tok, strlen(tok), hash) < 0)
        return SP_AUTH_INTERNAL;
    struct db *d = db_acquire();
    db_write_begin(d);
    int64_t pid = 0;
    int rc = principal_insert(d, login, role, hash, &pid);
    if (rc == SP_AUTH_OK && site_id > 0) {
        sqlite3_stmt *st = db_stmt(d, "INSERT INTO sp_site_roles (principal_id, site_id, role) "
                                      "VALUES (?1, ?2, ?3)");
        sqlite3_bind_int64(st, 1, pid);
        sqlite3_bind_int64(st, 2, site_id);
        sqlite3_bind_int(st, 3, role == SP_AUTH_MEMBER ? SP_AUTH_MEMBER : SP_AUTH_SITE_OWNER);
        rc = db_exec_stmt(d, st) == 0 ? SP_AUTH_OK : SP_AUTH_INTERNAL;
    }
    if (db_write_end(d, rc == SP_AUTH_OK) < 0)
        rc = SP_AUTH_INTERNAL;
    db_release(d);
    if (rc == SP_AUTH_OK) {
        memcpy(token, tok, SP_AUTH_TOKEN_LEN);
        if (id)
            *id = pid;
        log_info("sp_auth: created principal %s (%s)", login, sp_auth_role_name(role));
    }
    crypto_wipe(tok, sizeof tok);
    crypto_wipe(hash, sizeof hash);
    return rc;
}

/* The principal's role on site_id, or 0 if none. */
static int site_role(int64_t principal_id, int64_t site_id)
{
    struct db *d = db_acquire();
    sqlite3_stmt *st =
        db_stmt(d, "SELECT role FROM sp_site_roles WHERE principal_id = ?1 AND site_id = ?2");
    sqlite3_bind_int64(st, 1, principal_id);
    sqlite3_bind_int64(st, 2, site_id);
    int role = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        role = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    db_release(d);
    return role;
}

bool sp_auth_can_manage_site(const struct sp_auth_principal *p, int64_t site_id)
{
    if (!p)
        return false;
    return sp_auth_admin_on_sites(p) || site_role(p->id, site_id) == SP_AUTH_SITE_OWNER;
}

bool sp_auth_can_read_site(const struct sp_auth_principal *p, int64_t site_id)
{
    if (!p)
        return false;
    return sp_auth_admin_on_sites(p) || site_role(p->id, site_id) != 0;
}
