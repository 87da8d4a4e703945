/*
 * sp_auth.h: who may call the SharePoint listener. Principals (tenant admin and the users
 * made through /_emu/users) with a role and a bearer token of which only the SHA-256 hash is
 * kept; site ownership per site. The admin and its token are made at first start (token
 * written to <data-dir>/admin-token, mode 0600) unless --admin-token gives one. No HTTP here.
 */
#ifndef SPMIG_SP_AUTH_H
#define SPMIG_SP_AUTH_H

#include <stdbool.h>
#include <stdint.h>

enum spa_role {
    SPA_MEMBER = 1,
    SPA_SITE_OWNER = 2,
    SPA_SHAREPOINT_ADMIN = 3,
    SPA_GLOBAL_ADMIN = 4,
};

#define SPA_TOKEN_LEN 44 /* 43 base64url characters and a NUL */
#define SPA_LOGIN_MAX 256
/* Longest token accepted (--admin-token or a header); printable ASCII without spaces. */
#define SPA_TOKEN_MAX 512

struct spa_principal {
    int64_t id;
    char login[SPA_LOGIN_MAX];
    enum spa_role role;
};

enum spa_err { SPA_OK = 0, SPA_NO_TOKEN, SPA_BAD_TOKEN, SPA_EXISTS, SPA_INVALID, SPA_INTERNAL };

/*
 * Makes sure the tenant admin (login "admin@<tenant>.onmicrosoft.com", GlobalAdmin) exists.
 * admin_token non-NULL: it becomes the admin's token (every start). NULL: on first start a
 * token is generated and written to token_file (mode 0600); later starts keep it. 0 or -1.
 * Whenever the admin's token is set, token_file (if not NULL) is rewritten atomically with
 * it, so the file never holds a stale token.
 */
int spa_init(const char *tenant, const char *admin_token, const char *token_file);
/* Checks an Authorization header value ("Bearer <token>", scheme in any case). SPA_OK,
 * SPA_NO_TOKEN (NULL or empty), SPA_BAD_TOKEN (another scheme, malformed, unknown token). */
int spa_authenticate(const char *authorization, struct spa_principal *out);
/*
 * Makes a principal. site_id > 0 makes it owner (SiteOwner) or member (Member) of that site.
 * token receives its new bearer token. Returns SPA_OK, SPA_EXISTS (login taken) or
 * SPA_INVALID (empty or over-long login).
 */
int spa_user_create(const char *login, enum spa_role role, int64_t site_id,
                    char token[SPA_TOKEN_LEN], int64_t *id);
/* Global or SharePoint admins, and owners of site_id. */
bool spa_can_manage_site(const struct spa_principal *p, int64_t site_id);
/* Anyone with a role on the site, and admins. */
bool spa_can_read_site(const struct spa_principal *p, int64_t site_id);
bool spa_is_admin(const struct spa_principal *p);
const char *spa_role_name(enum spa_role r);
/* Parses "GlobalAdmin", "SharePointAdmin", "SiteOwner", "Member"; 0 or -1. */
int spa_role_parse(const char *name, enum spa_role *r);

#endif
