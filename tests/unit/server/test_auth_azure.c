/*
 * Unit tests for auth_azure.c: each credential kind accepted when right and refused with
 * Azure's status and code when not, with requests built by hand (no listener needed).
 * The SAS under test are made with sas_build, whose output test_sas checks against the
 * Azure SDK's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "auth_azure.h"
#include "b64.h"
#include "clock.h"
#include "sas.h"
#include "sharedkey.h"
#include "timefmt.h"
#include "xmalloc.h"

static struct account dev;

static int setup(void **state)
{
    (void)state;
    strcpy(dev.name, ACCOUNTS_DEV_NAME);
    long n = b64_decode_to(ACCOUNTS_DEV_KEY, strlen(ACCOUNTS_DEV_KEY), dev.key, sizeof dev.key);
    assert_true(n > 0);
    dev.keylen = (size_t)n;
    return 0;
}

struct fake {
    struct http_request req;
};

static void fake_init(struct fake *f, const char *method, const char *path, const char *query)
{
    memset(f, 0, sizeof *f);
    f->req.method = method;
    f->req.raw_path = xstrdup(path);
    f->req.client_ipv4 = 0x7f000001;
    strcpy(f->req.request_id, "00000000-0000-4000-8000-000000000000");
    strbuf_init(&f->req.pending_headers, 0);
    if (query)
        assert_int_equal(query_parse(query, strlen(query), &f->req.query), 0);
}

static void fake_finish(struct fake *f)
{
    if (f->req.reply)
        MHD_destroy_response(f->req.reply);
    strbuf_finish(&f->req.pending_headers);
    query_finish(&f->req.query);
    free(f->req.raw_path);
}

/* The value of a reply header set through http_set_header, or NULL. */
static const char *reply_header(const struct fake *f, const char *name)
{
    const char *p = f->req.pending_headers.data;
    const char *end = p ? p + f->req.pending_headers.len : NULL;
    while (p && p < end) {
        const char *v = p + strlen(p) + 1;
        if (strcmp(p, name) == 0)
            return v;
        p = v + strlen(v) + 1;
    }
    return NULL;
}

static char *container_sas(const char *perms, int64_t start, int64_t expiry, const char *ip,
                           const char *proto)
{
    struct sas_grant g = {.svc = SAS_BLOB,
                          .permissions = perms,
                          .resource = "c",
                          .start_ms = start,
                          .expiry_ms = expiry,
                          .ip = ip,
                          .protocol = proto,
                          .account_name = ACCOUNTS_DEV_NAME,
                          .container = "box"};
    return sas_build(&g, dev.key, dev.keylen);
}

static bool check(struct fake *f, const char *perms, enum auth_level level, bool service_ok)
{
    struct auth_need n = {.svc = SAS_BLOB,
                          .level = level,
                          .perms = perms,
                          .service_sas_ok = service_ok,
                          .container = "box",
                          .blob = "b.txt"};
    return auth_azure_check(&f->req, &dev, &n);
}

static void expect_refusal(struct fake *f, unsigned status, const char *code)
{
    assert_int_equal(f->req.status, status);
    assert_non_null(reply_header(f, "x-ms-error-code"));
    assert_string_equal(reply_header(f, "x-ms-error-code"), code);
}

static void test_container_sas_window(void **state)
{
    (void)state;
    int64_t now = clock_now_ms();
    char *q = container_sas("rw", now - 60000, now + 3600000, NULL, NULL);
    struct fake f;
    fake_init(&f, "GET", "/devstoreaccount1/box/b.txt", q);
    assert_true(check(&f, "r", AUTH_OBJECT, true));
    fake_finish(&f);

    /* Listing needs 'l', which sp=rw lacks. */
    fake_init(&f, "GET", "/devstoreaccount1/box", q);
    assert_false(check(&f, "l", AUTH_CONTAINER, true));
    expect_refusal(&f, 403, "AuthorizationPermissionMismatch");
    fake_finish(&f);

    /* Two hours later on the emulator clock the SAS has expired. */
    int64_t saved = clock_offset_ms();
    assert_int_equal(clock_set_offset_ms(saved + 2 * 3600000), 0);
    fake_init(&f, "GET", "/devstoreaccount1/box/b.txt", q);
    assert_false(check(&f, "r", AUTH_OBJECT, true));
    expect_refusal(&f, 403, "AuthenticationFailed");
    fake_finish(&f);
    free(q);

    /* Not yet valid. */
    now = clock_now_ms();
    q = container_sas("r", now + 3600000, now + 7200000, NULL, NULL);
    fake_init(&f, "GET", "/devstoreaccount1/box/b.txt", q);
    assert_false(check(&f, "r", AUTH_OBJECT, true));
    expect_refusal(&f, 403, "AuthenticationFailed");
    fake_finish(&f);
    free(q);
}

static void test_tampered_and_misused(void **state)
{
    (void)state;
    int64_t now = clock_now_ms();
    char *q = container_sas("rw", 0, now + 3600000, NULL, NULL);
    /* Change one letter of the permissions: the signature no longer matches. */
    char *t = xstrdup(q);
    char *sp = strstr(t, "sp=rw");
    assert_non_null(sp);
    sp[3] = 'l';
    struct fake f;
    fake_init(&f, "GET", "/devstoreaccount1/box/b.txt", t);
    assert_false(check(&f, "r", AUTH_OBJECT, true));
    expect_refusal(&f, 403, "AuthenticationFailed");
    fake_finish(&f);
    free(t);

    /* The same SAS on another container fails its signature. */
    struct auth_need n = {.svc = SAS_BLOB,
                          .level = AUTH_OBJECT,
                          .perms = "r",
                          .service_sas_ok = true,
                          .container = "other",
                          .blob = "b.txt"};
    fake_init(&f, "GET", "/devstoreaccount1/other/b.txt", q);
    assert_false(auth_azure_check(&f.req, &dev, &n));
    expect_refusal(&f, 403, "AuthenticationFailed");
    fake_finish(&f);

    /* A service SAS may not do account-level work such as creating a container. */
    fake_init(&f, "PUT", "/devstoreaccount1/box", q);
    assert_false(check(&f, "cw", AUTH_CONTAINER, false));
    expect_refusal(&f, 403, "AuthorizationFailure");
    fake_finish(&f);
    free(q);
}

static void test_ip_and_protocol(void **state)
{
    (void)state;
    int64_t now = clock_now_ms();
    char *q = container_sas("r", 0, now + 3600000, "10.0.0.1-10.0.0.9", NULL);
    struct fake f;
    fake_init(&f, "GET", "/devstoreaccount1/box/b.txt", q);
    assert_false(check(&f, "r", AUTH_OBJECT, true));
    expect_refusal(&f, 403, "AuthorizationSourceIPMismatch");
    fake_finish(&f);
    free(q);
    q = container_sas("r", 0, now + 3600000, "127.0.0.1", "https");
    fake_init(&f, "GET", "/devstoreaccount1/box/b.txt", q);
    assert_false(check(&f, "r", AUTH_OBJECT, true));
    expect_refusal(&f, 403, "AuthorizationProtocolMismatch");
    fake_finish(&f);
    free(q);
}

static void test_account_sas(void **state)
{
    (void)state;
    struct sas_grant g = {.svc = SAS_BLOB,
                          .account = true,
                          .permissions = "rl",
                          .services = "q",
                          .resource_types = "co",
                          .expiry_ms = clock_now_ms() + 3600000,
                          .account_name = ACCOUNTS_DEV_NAME};
    char *q = sas_build(&g, dev.key, dev.keylen);
    struct fake f;
    fake_init(&f, "GET", "/devstoreaccount1/box/b.txt", q);
    assert_false(check(&f, "r", AUTH_OBJECT, true));
    expect_refusal(&f, 403, "AuthorizationServiceMismatch");
    fake_finish(&f);
    free(q);
    g.services = "b";
    g.resource_types = "o";
    q = sas_build(&g, dev.key, dev.keylen);
    fake_init(&f, "GET", "/devstoreaccount1/box/b.txt", q);
    assert_true(check(&f, "r", AUTH_OBJECT, true));
    fake_finish(&f);
    fake_init(&f, "GET", "/devstoreaccount1/box", q);
    assert_false(check(&f, "l", AUTH_CONTAINER, true));
    expect_refusal(&f, 403, "AuthorizationResourceTypeMismatch");
    fake_finish(&f);
    free(q);
}

static void test_sharedkey(void **state)
{
    (void)state;
    char date[TIMEFMT_BUF];
    timefmt_rfc1123(clock_real_ms(), date);
    struct fake f;
    fake_init(&f, "GET", "/devstoreaccount1/box/b.txt", NULL);
    f.req.headers[0] = (struct sharedkey_header){"x-ms-date", date};
    f.req.headers[1] = (struct sharedkey_header){"x-ms-version", "2021-12-02"};
    f.req.nheaders = 2;
    struct sharedkey_request r = {.method = "GET",
                                  .raw_path = f.req.raw_path,
                                  .query = &f.req.query,
                                  .headers = f.req.headers,
                                  .nheaders = 2};
    char *sts = sharedkey_string_to_sign(&r, ACCOUNTS_DEV_NAME);
    char sig[45];
    assert_int_equal(sas_sign(dev.key, dev.keylen, sts, sig), 0);
    free(sts);
    char *authz = xasprintf("SharedKey %s:%s", ACCOUNTS_DEV_NAME, sig);
    f.req.headers[2] = (struct sharedkey_header){"Authorization", authz};
    f.req.nheaders = 3;
    assert_true(check(&f, "r", AUTH_OBJECT, true));
    fake_finish(&f);
    free(authz);

    /* Signed for another path: refused. */
    fake_init(&f, "GET", "/devstoreaccount1/box/other.txt", NULL);
    authz = xasprintf("SharedKey %s:%s", ACCOUNTS_DEV_NAME, sig);
    f.req.headers[0] = (struct sharedkey_header){"x-ms-date", date};
    f.req.headers[1] = (struct sharedkey_header){"x-ms-version", "2021-12-02"};
    f.req.headers[2] = (struct sharedkey_header){"Authorization", authz};
    f.req.nheaders = 3;
    assert_false(check(&f, "r", AUTH_OBJECT, true));
    expect_refusal(&f, 403, "AuthenticationFailed");
    fake_finish(&f);
    free(authz);
}

static void test_no_credentials(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "GET", "/devstoreaccount1/box/b.txt", NULL);
    assert_false(check(&f, "r", AUTH_OBJECT, true));
    expect_refusal(&f, 401, "NoAuthenticationInformation");
    fake_finish(&f);
    /* A malformed SAS (duplicated field) is an authentication failure. */
    fake_init(&f, "GET", "/devstoreaccount1/box/b.txt",
              "sv=2021-12-02&sp=r&sp=r&sr=c&se=2099-01-01&sig=AAAA");
    assert_false(check(&f, "r", AUTH_OBJECT, true));
    expect_refusal(&f, 403, "AuthenticationFailed");
    fake_finish(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_sas_window),
        cmocka_unit_test(test_tampered_and_misused),
        cmocka_unit_test(test_ip_and_protocol),
        cmocka_unit_test(test_account_sas),
        cmocka_unit_test(test_sharedkey),
        cmocka_unit_test(test_no_credentials),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
