/*
 * test_sharedkey.c: unit tests of common/sharedkey.c: the SharedKey string-to-sign (checked
 * and signed against independent vectors) and the Authorization header parser. Looking up
 * the account key and comparing signatures are the server's auth_azure, not tested here.
 */

/*
 * How the vectors were computed (never with this code): the SDK cases ran the Azure SDK for
 * Python's own signer (azure.storage.blob._shared.authentication.SharedKeyCredentialPolicy,
 * Debian python3-azure-storage, azure-storage-blob 12.15.0b1) on an azure.core HttpRequest
 * with the same method, URL and headers, capturing the string it signed and the
 * Authorization header it set. The hand cases cover rules the SDK never exercises (value
 * trimming and folding, merged duplicate names, Range, Content-Length "0" before
 * 2015-02-21): their strings were written from Microsoft's "Authorize with Shared Key" page
 * and signed with Python's hmac.new(base64.b64decode(DEV_KEY), sts, hashlib.sha256).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "crypto.h"
#include "spmig_limits.h"
#include "query.h"
#include "sharedkey.h"

#define DEV_KEY                                                                                    \
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define ACCOUNT "devstoreaccount1"

/* Builds the string-to-sign of the request, checks it, signs it with the dev key and
 * checks the signature. */
static void check(const char *method, const char *path, const char *rawq,
                  const struct sharedkey_header *h, size_t nh, const char *want_sts,
                  const char *want_sig)
{
    struct query q;
    assert_int_equal(query_parse(rawq, strlen(rawq), &q), 0);
    struct sharedkey_request r = {method, path, &q, h, nh};
    char *sts = sharedkey_string_to_sign(&r, ACCOUNT);
    assert_non_null(sts);
    if (strcmp(sts, want_sts) != 0)
        fail_msg("string-to-sign\n got  %s\n want %s", sts, want_sts);
    unsigned char key[64], mac[CRYPTO_SHA256_LEN];
    assert_int_equal(b64_decode_to(DEV_KEY, strlen(DEV_KEY), key, sizeof key), 64);
    assert_int_equal(crypto_hmac_sha256(key, sizeof key, sts, strlen(sts), mac), 0);
    char sig[45];
    b64_encode_to(mac, sizeof mac, sig);
    assert_string_equal(sig, want_sig);
    crypto_wipe(key, sizeof key);
    free(sts);
    query_finish(&q);
}

/* SDK: PUT http://127.0.0.1:10000/devstoreaccount1/mycontainer/dir/a%20b.txt
 *      ?comp=block&blockid=QUFBQQ%3D%3D&timeout=30 */
static void test_sdk_put_block(void **state)
{
    (void)state;
    const struct sharedkey_header h[] = {
        {"Host", "127.0.0.1:10000"}, /* not signed */
        {"x-ms-version", "2021-12-02"},
        {"x-ms-date", "Sun, 22 Nov 2026 12:55:53 GMT"},
        {"Content-Length", "11"},
        {"Content-Type", "application/octet-stream"},
        {"x-ms-client-request-id", "abc-123"},
        {"Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww=="},
        {"User-Agent", "azsdk-python-storage-blob/12.15.0b1"}, /* not signed */
    };
    check("PUT", "/devstoreaccount1/mycontainer/dir/a%20b.txt",
          "comp=block&blockid=QUFBQQ%3D%3D&timeout=30", h, sizeof h / sizeof h[0],
          "PUT\n\n\n11\nXrY7u+Ae7tCTyyK7j1rNww==\napplication/octet-stream\n\n\n\n\n\n\nx-ms-"
          "client-request-id:abc-123\nx-ms-date:Sun, 22 Nov 2026 12:55:53 GMT\nx-ms-version:2021-"
          "12-02\n/devstoreaccount1/devstoreaccount1/mycontainer/dir/a%20b.txt\nblockid:QUFBQQ==\n"
          "comp:block\ntimeout:30",
          "AMD0AVu3JWixCceEiXHsnskAXKbqI4qLnxA4agT/lKs=");
}

/* SDK: GET .../devstoreaccount1/mycontainer?restype=container&comp=list&prefix=dir%2F
 *      &include=metadata, Content-Length 0 (signed as empty), headers out of order. */
static void test_sdk_list(void **state)
{
    (void)state;
    const struct sharedkey_header h[] = {
        {"x-ms-version", "2021-12-02"},
        {"x-ms-date", "Sun, 22 Nov 2026 12:55:53 GMT"},
        {"Content-Length", "0"},
        {"If-None-Match", "\"0x8D\""},
        {"x-ms-meta-b", "2"},
        {"x-ms-meta-a", "1"},
        {"x-ms-blob-type", "BlockBlob"},
    };
    check(
        "GET", "/devstoreaccount1/mycontainer",
        "restype=container&comp=list&prefix=dir%2F&include=metadata", h, sizeof h / sizeof h[0],
        "GET\n\n\n\n\n\n\n\n\n\"0x8D\"\n\n\nx-ms-blob-type:BlockBlob\nx-ms-date:Sun, 22 Nov 2026 "
        "12:55:53 GMT\nx-ms-meta-a:1\nx-ms-meta-b:2\nx-ms-version:2021-12-02\n/devstoreaccount1/"
        "devstoreaccount1/mycontainer\ncomp:list\ninclude:metadata\nprefix:dir/\nrestype:container",
        "x0bJpEbLzBfEly5ExN3v1y16I5NPn0sNKWRwxhLH0fw=");
}

/* SDK: DELETE http://127.0.0.1:10001/devstoreaccount1/myqueue/messages/id1
 *      ?popreceipt=AgAAAAMAAAAAAAAA%2B%2FZ (values are signed decoded) */
static void test_sdk_queue_delete(void **state)
{
    (void)state;
    const struct sharedkey_header h[] = {
        {"x-ms-version", "2021-02-12"},
        {"x-ms-date", "Sun, 22 Nov 2026 12:55:53 GMT"},
    };
    check("DELETE", "/devstoreaccount1/myqueue/messages/id1", "popreceipt=AgAAAAMAAAAAAAAA%2B%2FZ",
          h, 2,
          "DELETE\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Sun, 22 Nov 2026 12:55:53 GMT\nx-ms-version:"
          "2021-02-12\n/devstoreaccount1/devstoreaccount1/myqueue/messages/id1\npopreceipt:"
          "AgAAAAMAAAAAAAAA+/Z",
          "VikmVVpHctYM0zPooEqsBEHQkl9JZRfYEqP/ZYf2+2M=");
}

/* Hand case: names of any case, values trimmed and folded, Range signed, a query name
 * given three times in two cases merged with its values sorted, an empty value. */
static void test_hand_canonicalisation(void **state)
{
    (void)state;
    const struct sharedkey_header h[] = {
        {"X-MS-Date", "Sun, 22 Nov 2026 12:55:53 GMT"},
        {"x-ms-meta-NOTE", "  hello    wide \t world  "},
        {"RANGE", "bytes=0-99"},
        {"x-Ms-Version", "\t2021-12-02 "},
    };
    check("GET", "/devstoreaccount1/c/b",
          "include=snapshots&Comp=list&include=metadata&Include=copy&restype=", h, 4,
          "GET\n\n\n\n\n\n\n\n\n\n\nbytes=0-99\nx-ms-date:Sun, 22 Nov 2026 12:55:53 GMT\nx-ms-meta-"
          "note:hello wide world\nx-ms-version:2021-12-02\n/devstoreaccount1/devstoreaccount1/c/"
          "b\ncomp:list\ninclude:copy,metadata,snapshots\nrestype:",
          "Wy0PbEbTA5dYSspaFaGiqFROZlFpTeZVRX1AcTPjCXs=");
}

/* Hand case: before 2015-02-21 a zero Content-Length is signed as "0". */
static void test_hand_old_version_length(void **state)
{
    (void)state;
    const struct sharedkey_header h[] = {
        {"x-ms-date", "Sun, 22 Nov 2026 12:55:53 GMT"},
        {"x-ms-version", "2014-02-14"},
        {"Content-Length", "0"},
    };
    check("PUT", "/devstoreaccount1/c", "", h, 3,
          "PUT\n\n\n0\n\n\n\n\n\n\n\n\nx-ms-date:Sun, 22 Nov 2026 12:55:53 GMT\nx-ms-version:"
          "2014-02-14\n/devstoreaccount1/devstoreaccount1/c",
          "jIszrMMNT4e/CYReC60ntHrkxEHL+QxfqwmQ7a7U1SI=");
}

static char *sts_of(const char *method, const char *path, const char *rawq,
                    const struct sharedkey_header *h, size_t nh)
{
    struct query q;
    assert_int_equal(query_parse(rawq, strlen(rawq), &q), 0);
    struct sharedkey_request r = {method, path, &q, h, nh};
    char *sts = sharedkey_string_to_sign(&r, ACCOUNT);
    query_finish(&q);
    return sts;
}

static void test_header_order(void **state)
{
    (void)state;
    /* The SDK's _storage_header_sort orders x-ms-meta-a, -a-b, -a_b, -a1, -ab ('_' before
     * digits, unlike byte order); python3 printed that order for these names. */
    const struct sharedkey_header h[] = {
        {"x-ms-meta-a1", "1"},  {"x-ms-meta-a_b", "2"}, {"x-ms-meta-a", "3"},
        {"x-ms-meta-a-b", "4"}, {"x-ms-meta-ab", "5"},
    };
    char *sts = sts_of("GET", "/a", "", h, 5);
    assert_string_equal(sts, "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-meta-a:3\nx-ms-meta-a-b:4\nx-ms-meta-"
                             "a_b:2\nx-ms-meta-a1:1\nx-ms-meta-ab:5\n/devstoreaccount1/a");
    free(sts);
}

static void test_duplicate_header_names(void **state)
{
    (void)state;
    /* Two headers of one name (any case) are one canonical header, values in order. */
    const struct sharedkey_header h[] = {
        {"x-ms-meta-z", "last"},
        {"x-ms-meta-x", " b "},
        {"X-Ms-Meta-X", "a"},
    };
    char *sts = sts_of("HEAD", "/a", "", h, 3);
    assert_string_equal(
        sts, "HEAD\n\n\n\n\n\n\n\n\n\n\n\nx-ms-meta-x:b,a\nx-ms-meta-z:last\n/devstoreaccount1/a");
    free(sts);
}

static void test_standard_headers(void **state)
{
    (void)state;
    /* All eleven, given in reverse order and odd case; only x-ms-* are canonicalised. */
    const struct sharedkey_header h[] = {
        {"range", "r"},
        {"if-unmodified-since", "ius"},
        {"if-none-match", "inm"},
        {"if-match", "im"},
        {"if-modified-since", "ims"},
        {"date", "d"},
        {"content-type", "ct"},
        {"content-md5", "md5"},
        {"content-length", "5"},
        {"content-language", "cl"},
        {"content-encoding", "ce"},
        {"x-custom", "ignored"},
    };
    char *sts = sts_of("POST", "/devstoreaccount1/q/messages", "", h, sizeof h / sizeof h[0]);
    assert_string_equal(sts, "POST\nce\ncl\n5\nmd5\nct\nd\nims\nim\ninm\nius\nr\n"
                             "/devstoreaccount1/devstoreaccount1/q/messages");
    free(sts);
}

static void test_no_query_no_headers(void **state)
{
    (void)state;
    struct sharedkey_request r = {"GET", "/devstoreaccount1/", NULL, NULL, 0};
    char *sts = sharedkey_string_to_sign(&r, ACCOUNT);
    assert_string_equal(sts, "GET\n\n\n\n\n\n\n\n\n\n\n\n/devstoreaccount1/devstoreaccount1/");
    free(sts);
}

static void test_too_many_headers(void **state)
{
    (void)state;
    struct sharedkey_header *h = calloc(LIMIT_HEADER_COUNT + 1, sizeof *h);
    char(*names)[16] = calloc(LIMIT_HEADER_COUNT + 1, sizeof *names);
    assert_non_null(h);
    assert_non_null(names);
    for (size_t i = 0; i <= LIMIT_HEADER_COUNT; i++) {
        snprintf(names[i], sizeof names[i], "x-ms-h%zu", i);
        h[i].name = names[i];
        h[i].value = "v";
    }
    struct sharedkey_request r = {"GET", "/a", NULL, h, LIMIT_HEADER_COUNT};
    char *sts = sharedkey_string_to_sign(&r, ACCOUNT);
    assert_non_null(sts);
    free(sts);
    r.nheaders = LIMIT_HEADER_COUNT + 1;
    assert_null(sharedkey_string_to_sign(&r, ACCOUNT));
    free(names);
    free(h);
}

static void test_parse_authorization(void **state)
{
    (void)state;
    char acct[32], sig[64];
    assert_int_equal(sharedkey_parse_authorization(
                         "SharedKey devstoreaccount1:AMD0AVu3JWixCceEiXHsnskAXKbqI4qLnxA4agT/lKs=",
                         acct, sizeof acct, sig, sizeof sig),
                     0);
    assert_string_equal(acct, "devstoreaccount1");
    assert_string_equal(sig, "AMD0AVu3JWixCceEiXHsnskAXKbqI4qLnxA4agT/lKs=");

    const char *bad[] = {
        "",
        "SharedKey",
        "SharedKey ",
        "SharedKey devstoreaccount1",  /* no colon */
        "SharedKey :sig",              /* no account */
        "SharedKey devstoreaccount1:", /* no signature */
        "SharedKeyLite devstoreaccount1:sig",
        "sharedkey devstoreaccount1:sig",
        "Bearer abc",
        "SharedKey  devstoreaccount1:sig", /* two spaces */
        "SharedKey dev account:sig",
        "SharedKey devstoreaccount1:si g",
        "SharedKey devstoreaccount1:sig ",
        "SharedKey devstoreaccount1:a:b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sharedkey_parse_authorization(bad[i], acct, sizeof acct, sig, sizeof sig) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
    }

    /* Parts that do not fit (NUL included) are refused. */
    assert_int_equal(sharedkey_parse_authorization("SharedKey abcd:efgh", acct, 5, sig, 5), 0);
    assert_string_equal(acct, "abcd");
    assert_string_equal(sig, "efgh");
    assert_int_equal(sharedkey_parse_authorization("SharedKey abcde:efgh", acct, 5, sig, 5), -1);
    assert_int_equal(sharedkey_parse_authorization("SharedKey abcd:efghi", acct, 5, sig, 5), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdk_put_block),
        cmocka_unit_test(test_sdk_list),
        cmocka_unit_test(test_sdk_queue_delete),
        cmocka_unit_test(test_hand_canonicalisation),
        cmocka_unit_test(test_hand_old_version_length),
        cmocka_unit_test(test_header_order),
        cmocka_unit_test(test_duplicate_header_names),
        cmocka_unit_test(test_standard_headers),
        cmocka_unit_test(test_no_query_no_headers),
        cmocka_unit_test(test_too_many_headers),
        cmocka_unit_test(test_parse_authorization),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
