/*
 * Unit tests for sp_routes.c: the longest registered prefix wins and says whether it is the
 * root prefix; site methods match case-insensitively and keep their POST-only flag; reset
 * forgets everything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sp_routes.h"

static void emu(struct http_request *req, const struct sp_auth_principal *who, cJSON *body)
{
}

static void mm(struct http_request *req, const struct sp_auth_principal *who, cJSON *body)
{
}

static void page(struct http_request *req, const struct sp_auth_principal *who, cJSON *body)
{
}

static void provision(struct http_request *req, struct sp_call *c)
{
}

static void status(struct http_request *req, struct sp_call *c)
{
}

static int reset(void **state)
{
    (void)state;
    sp_routes_reset();
    return 0;
}

static void test_longest_prefix(void **state)
{
    (void)state;
    bool root = true;
    assert_null(sp_routes_prefix("/_emu/health", &root));
    sp_routes_add_prefix("/", page);
    sp_routes_add_prefix("/_emu/", emu);
    sp_routes_add_prefix("/api/mm/", mm);
    assert_ptr_equal(sp_routes_prefix("/_emu/health", &root), emu);
    assert_false(root);
    assert_ptr_equal(sp_routes_prefix("/api/mm/tasks/1", &root), mm);
    assert_false(root);
    /* Prefixes are exact bytes: no case folding, and the trailing '/' is part of it. */
    assert_ptr_equal(sp_routes_prefix("/_EMU/health", &root), page);
    assert_true(root);
    assert_ptr_equal(sp_routes_prefix("/_emu", &root), page);
    assert_true(root);
    assert_ptr_equal(sp_routes_prefix("/index.html", NULL), page);
}

static void test_no_root(void **state)
{
    (void)state;
    sp_routes_add_prefix("/_emu/", emu);
    bool root = true;
    assert_null(sp_routes_prefix("/index.html", &root));
    assert_false(root);
    assert_null(sp_routes_prefix("", &root));
}

static void test_site_methods(void **state)
{
    (void)state;
    static const struct sp_routes_method m[] = {
        {"ProvisionMigrationContainers", true, provision},
        {"GetMigrationJobStatus", false, status},
    };
    assert_null(sp_routes_site_method("GetMigrationJobStatus"));
    sp_routes_add_site_methods(m, 2);
    const struct sp_routes_method *r = sp_routes_site_method("provisionmigrationcontainers");
    assert_non_null(r);
    assert_ptr_equal(r->fn, provision);
    assert_true(r->post_only);
    r = sp_routes_site_method("GETMIGRATIONJOBSTATUS");
    assert_non_null(r);
    assert_false(r->post_only);
    assert_null(sp_routes_site_method("GetMigrationJobStatu"));
    assert_null(sp_routes_site_method(""));
    sp_routes_reset();
    assert_null(sp_routes_site_method("GetMigrationJobStatus"));
}

static void test_raw_prefix(void **state)
{
    (void)state;
    size_t max = 7;
    assert_false(sp_routes_prefix_raw("/api/mm/tasks", &max));
    sp_routes_add_prefix("/_emu/", emu);
    sp_routes_add_prefix_raw("/api/mm/", mm, 1234);
    assert_false(sp_routes_prefix_raw("/_emu/clock", &max));
    assert_int_equal(max, 7);
    assert_true(sp_routes_prefix_raw("/api/mm/tasks/bulk", &max));
    assert_int_equal(max, 1234);
    assert_ptr_equal(sp_routes_prefix("/api/mm/tasks/bulk", NULL), mm);
    assert_false(sp_routes_prefix_raw(NULL, &max));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_longest_prefix, reset),
        cmocka_unit_test_setup(test_no_root, reset),
        cmocka_unit_test_setup(test_site_methods, reset),
        cmocka_unit_test_setup(test_raw_prefix, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
