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

enum sp_auth_role {
    SP_AUTH_MEMBER = 1,
    SP_AUTH_SITE_OWNER = 2,
    SP_AUTH_SHAREPOINT_ADMIN = 3,
    SP_AUTH_GLOBAL_ADMIN = 4,
};

#define SP_AUTH_TOKEN_LEN 44 /* 43 base64url characters and a NUL */
#define SP_AUTH_LOGIN_MAX 256
/* Longest token accepted (--admin-token or a header); printable ASCII without spaces. */
#define SP_AUTH_TOKEN_MAX 512

struct sp_auth_principal {
    int64_t id;
    char login[SP_AUTH_LOGIN_MAX];
    enum sp_auth_role role;
    /* The call came with a delegated credential (sp_auth_set_delegate) acting for this
     * principal: it has the principal's rights on sites, not on the tenant. */
    bool delegated;
};

enum sp_auth_err {
    SP_AUTH_OK = 0,
    SP_AUTH_NO_TOKEN,
    SP_AUTH_BAD_TOKEN,
    SP_AUTH_EXISTS,
    SP_AUTH_INVALID,
    SP_AUTH_INTERNAL
};

/*
 * Makes sure the tenant admin (login "admin@<tenant>.onmicrosoft.com", GlobalAdmin) exists.
 * admin_token non-NULL: it becomes the admin's token (every start). NULL: on first start a
 * token is generated and written to token_file (mode 0600); later starts keep it. 0 or -1.
 * Whenever the admin's token is set, token_file (if not NULL) is rewritten atomically with
 * it, so the file never holds a stale token.
 */
int sp_auth_init(const char *tenant, const char *admin_token, const char *token_file);
/* Checks an Authorization header value ("Bearer <token>", scheme in any case). SP_AUTH_OK,
 * SP_AUTH_NO_TOKEN (NULL or empty), SP_AUTH_BAD_TOKEN (another scheme, malformed, unknown token).
 */
int sp_auth_authenticate(const char *authorization, struct sp_auth_principal *out);
/*
 * Credentials issued by a layer above (Migration Manager's agent credentials): a bearer token
 * that starts with prefix is handed to fn instead of being looked up among the principals. fn
 * fills out with the principal the credential acts for and answers SP_AUTH_OK, or
 * SP_AUTH_BAD_TOKEN. Set once at start, before the listeners run; one delegate.
 */
typedef int sp_auth_delegate_fn(const char *token, struct sp_auth_principal *out);
void sp_auth_set_delegate(const char *prefix, sp_auth_delegate_fn *fn);
/* The principal with this id: SP_AUTH_OK, or SP_AUTH_BAD_TOKEN when there is none. */
int sp_auth_principal_get(int64_t id, struct sp_auth_principal *out);
/*
 * Makes a principal. site_id > 0 makes it owner (SiteOwner) or member (Member) of that site.
 * token receives its new bearer token. Returns SP_AUTH_OK, SP_AUTH_EXISTS (login taken) or
 * SP_AUTH_INVALID (empty or over-long login).
 */
int sp_auth_user_create(const char *login, enum sp_auth_role role, int64_t site_id,
                        char token[SP_AUTH_TOKEN_LEN], int64_t *id);
/* Global or SharePoint admins, and owners of site_id. */
bool sp_auth_can_manage_site(const struct sp_auth_principal *p, int64_t site_id);
/* Anyone with a role on the site, and admins. */
bool sp_auth_can_read_site(const struct sp_auth_principal *p, int64_t site_id);
/* A GlobalAdmin or SharePointAdmin calling in person: may administer the tenant (/_emu,
 * Migration Manager). */
bool sp_auth_is_admin(const struct sp_auth_principal *p);
/* An admin's rights on every site, also through a delegated credential. */
bool sp_auth_admin_on_sites(const struct sp_auth_principal *p);
const char *sp_auth_role_name(enum sp_auth_role r);
/* Parses "GlobalAdmin", "SharePointAdmin", "SiteOwner", "Member"; 0 or -1. */
int sp_auth_role_parse(const char *name, enum sp_auth_role *r);

#endif
