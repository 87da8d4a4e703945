/*
 * Unit tests for sp_auth.c on a real temporary store: the admin and its token file (mode,
 * kept across starts, replaced by --admin-token), Authorization header checks, users with
 * site roles, and who may manage or read which site.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_fixture.h"
#include "db.h"
#include "sp_auth.h"
#include "sp_model.h"
#include "store_files.h"
#include "xmalloc.h"

static char dir[FIXTURE_DIR_LEN];
static char token_file[128];

static int setup(void **state)
{
    (void)state;
    fixture_open(dir);
    snprintf(token_file, sizeof token_file, "%s/admin-token", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_close(dir);
    return 0;
}

static void read_token_file(char *out, size_t cap)
{
    FILE *f = fopen(token_file, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
}

static bool is_b64url(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
            return false;
    return true;
}

static int auth_token(const char *token, struct sp_auth_principal *p)
{
    char *h = xasprintf("Bearer %s", token);
    int rc = sp_auth_authenticate(h, p);
    free(h);
    return rc;
}

static int files_in_dir(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void test_init_token_file(void **state)
{
    (void)state;
    int files_before = files_in_dir();
    assert_int_equal(sp_auth_init("contoso", NULL, token_file), 0);
    struct stat st;
    assert_int_equal(stat(token_file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char first[128];
    read_token_file(first, sizeof first);
    assert_int_equal(strlen(first), 44);
    assert_int_equal(first[43], '\n');
    assert_true(is_b64url(first, 43));
    first[43] = '\0';
    assert_int_equal(files_in_dir(), files_before + 1); /* no temporary left behind */

    struct sp_auth_principal p = {0};
    assert_int_equal(auth_token(first, &p), SP_AUTH_OK);
    assert_string_equal(p.login, "admin@contoso.onmicrosoft.com");
    assert_int_equal(p.role, SP_AUTH_GLOBAL_ADMIN);
    assert_true(sp_auth_is_admin(&p));

    /* A second start keeps the token and the file. */
    assert_int_equal(sp_auth_init("contoso", NULL, token_file), 0);
    char second[128];
    read_token_file(second, sizeof second);
    second[43] = '\0';
    assert_string_equal(first, second);
    assert_int_equal(auth_token(first, &p), SP_AUTH_OK);

    /* --admin-token replaces it, in the database and in the file. */
    assert_int_equal(sp_auth_init("contoso", "my-chosen-admin-token", token_file), 0);
    assert_int_equal(auth_token(first, &p), SP_AUTH_BAD_TOKEN);
    assert_int_equal(auth_token("my-chosen-admin-token", &p), SP_AUTH_OK);
    assert_int_equal(p.role, SP_AUTH_GLOBAL_ADMIN);
    char third[128];
    read_token_file(third, sizeof third);
    assert_string_equal(third, "my-chosen-admin-token\n");
    assert_int_equal(stat(token_file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* ... and a later start without it keeps the chosen one. */
    assert_int_equal(sp_auth_init("contoso", NULL, token_file), 0);
    assert_int_equal(auth_token("my-chosen-admin-token", &p), SP_AUTH_OK);
    assert_int_equal(files_in_dir(), files_before + 1);

    /* Tokens that cannot be sent in a header are refused. */
    assert_int_equal(sp_auth_init("contoso", "has space", token_file), -1);
    assert_int_equal(sp_auth_init("contoso", "", token_file), -1);
    assert_int_equal(auth_token("my-chosen-admin-token", &p), SP_AUTH_OK);
}

static void test_init_without_file(void **state)
{
    (void)state;
    /* --admin-token on the very first start, with no file wanted. */
    assert_int_equal(sp_auth_init("fabrikam", "first-start-token", NULL), 0);
    assert_int_not_equal(access(token_file, F_OK), 0);
    struct sp_auth_principal p = {0};
    assert_int_equal(auth_token("first-start-token", &p), SP_AUTH_OK);
    assert_string_equal(p.login, "admin@fabrikam.onmicrosoft.com");
}

static void test_authenticate_headers(void **state)
{
    (void)state;
    assert_int_equal(sp_auth_init("contoso", "tok-123", NULL), 0);
    struct sp_auth_principal p = {0};
    assert_int_equal(sp_auth_authenticate(NULL, &p), SP_AUTH_NO_TOKEN);
    assert_int_equal(sp_auth_authenticate("", &p), SP_AUTH_NO_TOKEN);
    assert_int_equal(sp_auth_authenticate("   ", &p), SP_AUTH_NO_TOKEN);
    assert_int_equal(sp_auth_authenticate("Bearer", &p), SP_AUTH_BAD_TOKEN);
    assert_int_equal(sp_auth_authenticate("Bearer ", &p), SP_AUTH_BAD_TOKEN);
    assert_int_equal(sp_auth_authenticate("Basic dXNlcjpwYXNz", &p), SP_AUTH_BAD_TOKEN);
    assert_int_equal(sp_auth_authenticate("Bearertok-123", &p), SP_AUTH_BAD_TOKEN);
    assert_int_equal(sp_auth_authenticate("tok-123", &p), SP_AUTH_BAD_TOKEN);
    assert_int_equal(sp_auth_authenticate("Bearer tok-1234", &p), SP_AUTH_BAD_TOKEN);
    assert_int_equal(sp_auth_authenticate("Bearer tok-12", &p), SP_AUTH_BAD_TOKEN);
    assert_int_equal(sp_auth_authenticate("Bearer tok-123 extra", &p), SP_AUTH_BAD_TOKEN);
    assert_int_equal(sp_auth_authenticate("Bearer tok-\x01"
                                          "123",
                                          &p),
                     SP_AUTH_BAD_TOKEN);
    char *huge = xcalloc(1, SP_AUTH_TOKEN_MAX + 16);
    strcpy(huge, "Bearer ");
    memset(huge + 7, 'a', SP_AUTH_TOKEN_MAX + 1);
    assert_int_equal(sp_auth_authenticate(huge, &p), SP_AUTH_BAD_TOKEN);
    free(huge);
    assert_int_equal(sp_auth_authenticate("Bearer tok-123", &p), SP_AUTH_OK);
    assert_int_equal(sp_auth_authenticate("bearer tok-123", &p), SP_AUTH_OK);
    assert_int_equal(sp_auth_authenticate("BEARER \t tok-123  ", &p), SP_AUTH_OK);
    assert_int_equal(p.role, SP_AUTH_GLOBAL_ADMIN);
}

static void test_users_and_roles(void **state)
{
    (void)state;
    assert_int_equal(sp_model_init("contoso"), 0);
    struct sp_model_site a = {0}, b = {0};
    assert_int_equal(sp_model_site_create("/sites/a", "A", &a), SP_MODEL_OK);
    assert_int_equal(sp_model_site_create("/sites/b", "B", &b), SP_MODEL_OK);

    char owner_tok[SP_AUTH_TOKEN_LEN], member_tok[SP_AUTH_TOKEN_LEN],
        spadmin_tok[SP_AUTH_TOKEN_LEN], lone_tok[SP_AUTH_TOKEN_LEN];
    int64_t owner_id = 0, member_id = 0;
    assert_int_equal(
        sp_auth_user_create("owner@contoso.com", SP_AUTH_SITE_OWNER, a.id, owner_tok, &owner_id),
        SP_AUTH_OK);
    assert_int_equal(strlen(owner_tok), 43);
    assert_true(is_b64url(owner_tok, 43));
    assert_int_equal(
        sp_auth_user_create("member@contoso.com", SP_AUTH_MEMBER, a.id, member_tok, &member_id),
        SP_AUTH_OK);
    assert_string_not_equal(owner_tok, member_tok);
    assert_int_equal(
        sp_auth_user_create("spadmin@contoso.com", SP_AUTH_SHAREPOINT_ADMIN, 0, spadmin_tok, NULL),
        SP_AUTH_OK);
    assert_int_equal(sp_auth_user_create("lone@contoso.com", SP_AUTH_SITE_OWNER, 0, lone_tok, NULL),
                     SP_AUTH_OK);
    char t[SP_AUTH_TOKEN_LEN];
    assert_int_equal(sp_auth_user_create("OWNER@CONTOSO.COM", SP_AUTH_MEMBER, 0, t, NULL),
                     SP_AUTH_EXISTS);
    assert_int_equal(sp_auth_user_create("", SP_AUTH_MEMBER, 0, t, NULL), SP_AUTH_INVALID);
    char long_login[SP_AUTH_LOGIN_MAX + 8];
    memset(long_login, 'x', sizeof long_login - 1);
    long_login[sizeof long_login - 1] = '\0';
    assert_int_equal(sp_auth_user_create(long_login, SP_AUTH_MEMBER, 0, t, NULL), SP_AUTH_INVALID);
    assert_int_equal(sp_auth_user_create("bad-role", (enum sp_auth_role)9, 0, t, NULL),
                     SP_AUTH_INVALID);

    struct sp_auth_principal owner = {0}, member = {0}, spadmin = {0}, lone = {0};
    assert_int_equal(auth_token(owner_tok, &owner), SP_AUTH_OK);
    assert_int_equal(owner.id, owner_id);
    assert_string_equal(owner.login, "owner@contoso.com");
    assert_int_equal(owner.role, SP_AUTH_SITE_OWNER);
    assert_int_equal(auth_token(member_tok, &member), SP_AUTH_OK);
    assert_int_equal(member.id, member_id);
    assert_int_equal(auth_token(spadmin_tok, &spadmin), SP_AUTH_OK);
    assert_int_equal(auth_token(lone_tok, &lone), SP_AUTH_OK);

    assert_true(sp_auth_can_manage_site(&owner, a.id));
    assert_false(sp_auth_can_manage_site(&owner, b.id));
    assert_true(sp_auth_can_read_site(&owner, a.id));
    assert_false(sp_auth_can_read_site(&owner, b.id));
    assert_false(sp_auth_can_manage_site(&member, a.id));
    assert_true(sp_auth_can_read_site(&member, a.id));
    assert_false(sp_auth_can_read_site(&member, b.id));
    assert_true(sp_auth_can_manage_site(&spadmin, a.id));
    assert_true(sp_auth_can_manage_site(&spadmin, b.id));
    assert_true(sp_auth_can_read_site(&spadmin, b.id));
    assert_false(sp_auth_can_manage_site(&lone, a.id)); /* SiteOwner of no site */
    assert_false(sp_auth_is_admin(&owner));
    assert_false(sp_auth_can_manage_site(NULL, a.id));

    sp_model_site_finish(&a);
    sp_model_site_finish(&b);
}

/* A stand-in for a layer above: "dlg.good" acts for principal 1 (the admin), anything else
 * with the prefix is refused. */
static int delegate_calls;
static int fake_delegate(const char *token, struct sp_auth_principal *out)
{
    delegate_calls++;
    if (strcmp(token, "dlg.good") != 0)
        return SP_AUTH_BAD_TOKEN;
    int rc = sp_auth_principal_get(1, out);
    out->delegated = true;
    return rc;
}

static void test_delegate(void **state)
{
    (void)state;
    assert_int_equal(sp_model_init("contoso"), 0);
    assert_int_equal(sp_auth_init("contoso", "dlg.admin-token", NULL), 0);
    struct sp_model_site a = {0};
    assert_int_equal(sp_model_site_create("/sites/a", "A", &a), SP_MODEL_OK);
    sp_auth_set_delegate("dlg.", fake_delegate);
    delegate_calls = 0;
    struct sp_auth_principal p = {0}, admin = {0};
    assert_int_equal(sp_auth_authenticate("Bearer dlg.good", &p), SP_AUTH_OK);
    assert_int_equal(delegate_calls, 1);
    assert_true(p.delegated);
    assert_int_equal(p.role, SP_AUTH_GLOBAL_ADMIN);
    /* Rights on sites, none on the tenant. */
    assert_true(sp_auth_admin_on_sites(&p));
    assert_true(sp_auth_can_manage_site(&p, a.id));
    assert_false(sp_auth_is_admin(&p));
    assert_int_equal(sp_auth_authenticate("Bearer dlg.forged", &p), SP_AUTH_BAD_TOKEN);
    /* The prefix alone is no credential; a principal's own token that happens to start with
     * the prefix goes to the delegate, never to the principals table. */
    assert_int_equal(sp_auth_authenticate("Bearer dlg.", &p), SP_AUTH_BAD_TOKEN);
    assert_int_equal(sp_auth_authenticate("Bearer dlg.admin-token", &p), SP_AUTH_BAD_TOKEN);
    assert_int_equal(delegate_calls, 3);
    sp_auth_set_delegate(NULL, NULL);
    assert_int_equal(sp_auth_authenticate("Bearer dlg.admin-token", &admin), SP_AUTH_OK);
    assert_false(admin.delegated);
    assert_true(sp_auth_is_admin(&admin));
    assert_int_equal(sp_auth_principal_get(admin.id, &p), SP_AUTH_OK);
    assert_string_equal(p.login, admin.login);
    assert_int_equal(sp_auth_principal_get(9999, &p), SP_AUTH_BAD_TOKEN);
    sp_model_site_finish(&a);
}

static void test_role_names(void **state)
{
    (void)state;
    enum sp_auth_role r;
    const enum sp_auth_role all[] = {SP_AUTH_MEMBER, SP_AUTH_SITE_OWNER, SP_AUTH_SHAREPOINT_ADMIN,
                                     SP_AUTH_GLOBAL_ADMIN};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(sp_auth_role_parse(sp_auth_role_name(all[i]), &r), 0);
        assert_int_equal(r, all[i]);
    }
    assert_string_equal(sp_auth_role_name(SP_AUTH_GLOBAL_ADMIN), "GlobalAdmin");
    assert_string_equal(sp_auth_role_name(SP_AUTH_SHAREPOINT_ADMIN), "SharePointAdmin");
    assert_string_equal(sp_auth_role_name(SP_AUTH_SITE_OWNER), "SiteOwner");
    assert_string_equal(sp_auth_role_name(SP_AUTH_MEMBER), "Member");
    assert_int_equal(sp_auth_role_parse("siteowner", &r), 0);
    assert_int_equal(r, SP_AUTH_SITE_OWNER);
    assert_int_equal(sp_auth_role_parse("Owner", &r), -1);
    assert_int_equal(sp_auth_role_parse(NULL, &r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_token_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_without_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authenticate_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_and_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delegate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_role_names, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
