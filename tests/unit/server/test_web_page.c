/* Unit tests for web_page.c: which file, which encoding, which ETag and status each request
 * gets, Accept-Encoding parsing, and that every embedded file has a type and a gzip copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "web_page.h"

static void test_root_is_index(void **state)
{
    (void)state;
    struct web_page_plan p;
    web_page_plan("GET", "/", NULL, NULL, &p);
    assert_int_equal(p.status, 200);
    assert_string_equal(p.asset->path, "/index.html");
    assert_string_equal(p.asset->content_type, "text/html; charset=utf-8");
    assert_false(p.gzip);
    assert_int_equal(strlen(p.etag), 34); /* 32 hex digits, quoted */
    assert_int_equal(p.etag[0], '"');

    struct web_page_plan again;
    web_page_plan("HEAD", "/index.html", NULL, NULL, &again);
    assert_int_equal(again.status, 200);
    assert_ptr_equal(again.asset, p.asset);
    assert_string_equal(again.etag, p.etag);
}

static void test_types_and_misses(void **state)
{
    (void)state;
    struct web_page_plan p;
    web_page_plan("GET", "/app.js", NULL, NULL, &p);
    assert_int_equal(p.status, 200);
    assert_string_equal(p.asset->content_type, "text/javascript; charset=utf-8");
    web_page_plan("GET", "/app.css", NULL, NULL, &p);
    assert_string_equal(p.asset->content_type, "text/css; charset=utf-8");
    web_page_plan("GET", "/missing.js", NULL, NULL, &p);
    assert_int_equal(p.status, 404);
    assert_null(p.asset);
    web_page_plan("GET", "/../index.html", NULL, NULL, &p);
    assert_int_equal(p.status, 404);
    web_page_plan("GET", "/sites/hr", NULL, NULL, &p);
    assert_int_equal(p.status, 404);
    web_page_plan("GET", NULL, NULL, NULL, &p); /* a path with a bad escape */
    assert_int_equal(p.status, 404);
    web_page_plan("POST", "/", NULL, NULL, &p);
    assert_int_equal(p.status, 405);
    web_page_plan("DELETE", "/app.js", NULL, NULL, &p);
    assert_int_equal(p.status, 405);
}

static void test_accept_encoding(void **state)
{
    (void)state;
    assert_true(web_page_accepts_gzip("gzip"));
    assert_true(web_page_accepts_gzip("gzip, deflate, br, zstd"));
    assert_true(web_page_accepts_gzip("br;q=1.0, GZIP;q=0.5"));
    assert_true(web_page_accepts_gzip("*"));
    assert_true(web_page_accepts_gzip("deflate , gzip ; q = 0.8"));
    assert_false(web_page_accepts_gzip(NULL));
    assert_false(web_page_accepts_gzip(""));
    assert_false(web_page_accepts_gzip("identity"));
    assert_false(web_page_accepts_gzip("gzip;q=0"));
    assert_false(web_page_accepts_gzip("gzip;q=0.000, br"));
    assert_false(web_page_accepts_gzip("x-gzip2, gzipx"));
}

static void test_gzip_and_revalidation(void **state)
{
    (void)state;
    struct web_page_plan plain, gz;
    web_page_plan("GET", "/app.js", "identity", NULL, &plain);
    web_page_plan("GET", "/app.js", "gzip, br", NULL, &gz);
    assert_false(plain.gzip);
    assert_true(gz.gzip);
    assert_string_not_equal(plain.etag, gz.etag); /* two representations, two tags */

    struct web_page_plan p;
    web_page_plan("GET", "/app.js", "gzip", gz.etag, &p);
    assert_int_equal(p.status, 304);
    web_page_plan("GET", "/app.js", NULL, plain.etag, &p);
    assert_int_equal(p.status, 304);
    web_page_plan("GET", "/app.js", NULL, gz.etag, &p); /* the other variant's tag */
    assert_int_equal(p.status, 200);
    char list[120];
    snprintf(list, sizeof list, "\"nope\", W/%s", plain.etag);
    web_page_plan("GET", "/app.js", NULL, list, &p);
    assert_int_equal(p.status, 304);
    web_page_plan("GET", "/app.js", NULL, "*", &p);
    assert_int_equal(p.status, 304);
    web_page_plan("GET", "/app.css", NULL, plain.etag, &p); /* another file's tag */
    assert_int_equal(p.status, 200);
}

static void test_every_asset(void **state)
{
    (void)state;
    assert_true(web_asset_count >= 3);
    size_t gz_total = 0;
    for (size_t i = 0; i < web_asset_count; i++) {
        const struct web_asset *a = &web_assets[i];
        assert_int_equal(a->path[0], '/');
        assert_non_null(strchr(a->content_type, '/'));
        assert_int_equal(strlen(a->etag), 32);
        assert_true(a->raw_len > 0);
        assert_true(a->gz_len > 18);
        assert_int_equal(a->gz[0], 0x1f); /* gzip magic */
        assert_int_equal(a->gz[1], 0x8b);
        gz_total += a->gz_len;
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(web_assets[j].path, a->path);
    }
    assert_true(gz_total < 200 * 1024); /* the page's budget */
}

static void test_csp_is_strict(void **state)
{
    (void)state;
    assert_null(strstr(WEB_PAGE_CSP, "unsafe"));
    assert_non_null(strstr(WEB_PAGE_CSP, "default-src 'self'"));
    assert_non_null(strstr(WEB_PAGE_CSP, "frame-ancestors 'none'"));
    assert_non_null(strstr(WEB_PAGE_CSP, "object-src 'none'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_is_index),   cmocka_unit_test(test_types_and_misses),
        cmocka_unit_test(test_accept_encoding), cmocka_unit_test(test_gzip_and_revalidation),
        cmocka_unit_test(test_every_asset),     cmocka_unit_test(test_csp_is_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
