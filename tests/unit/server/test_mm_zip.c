/*
 * Unit tests for mm_zip.c: deflate and inflate round trips with zip's CRC-32 (its check
 * value), refusals of damaged or mis-sized streams, and an archive of deflated entries whose
 * size matches mm_zip_size and whose records carry the right signatures, method and offsets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mm_zip.h"

#include <stdlib.h>
#include <string.h>

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_deflate(void **state)
{
    (void)state;
    unsigned char *z = NULL, *back = NULL;
    size_t zn = 0;
    uint32_t crc = 0;
    assert_int_equal(mm_zip_deflate("123456789", 9, &z, &zn, &crc), 0);
    assert_int_equal(crc, 0xcbf43926u); /* CRC-32/ISO-HDLC check value */
    assert_int_equal(mm_zip_inflate(z, zn, 9, &back), 0);
    assert_memory_equal(back, "123456789", 9);
    assert_int_equal(back[9], 0);
    free(back);
    /* The wrong size, a cut stream, bytes that are no deflate stream: refused. */
    assert_int_equal(mm_zip_inflate(z, zn, 8, &back), -1);
    assert_int_equal(mm_zip_inflate(z, zn, 10, &back), -1);
    assert_int_equal(mm_zip_inflate(z, zn - 1, 9, &back), -1);
    assert_int_equal(mm_zip_inflate("\xff\xff\xff", 3, 9, &back), -1);
    free(z);
    /* Empty, and a large repetitive report that shrinks. */
    assert_int_equal(mm_zip_deflate("", 0, &z, &zn, &crc), 0);
    assert_int_equal(crc, 0);
    assert_int_equal(mm_zip_inflate(z, zn, 0, &back), 0);
    free(back);
    free(z);
    size_t big = 1 << 20;
    char *csv = malloc(big);
    for (size_t i = 0; i < big; i++)
        csv[i] = "Source,Destination,Status\n"[i % 26];
    assert_int_equal(mm_zip_deflate(csv, big, &z, &zn, &crc), 0);
    assert_true(zn < big / 20);
    assert_int_equal(mm_zip_inflate(z, zn, big, &back), 0);
    assert_memory_equal(back, csv, big);
    free(back);
    free(z);
    free(csv);
}

static void test_archive(void **state)
{
    (void)state;
    struct mm_zip_entry e[2] = {{"a.csv", 0, 3, 0, 1700000000000}, {"summary_R0.json", 0, 2, 0, 0}};
    unsigned char *za, *zb;
    size_t na, nb;
    assert_int_equal(mm_zip_deflate("abc", 3, &za, &na, &e[0].crc32), 0);
    assert_int_equal(mm_zip_deflate("{}", 2, &zb, &nb, &e[1].crc32), 0);
    e[0].stored = (uint32_t)na;
    e[1].stored = (uint32_t)nb;
    unsigned char buf[512];
    size_t n = 0;
    size_t off1 = 0;
    n += mm_zip_local(&e[0], buf + n);
    memcpy(buf + n, za, na);
    n += na;
    off1 = n;
    n += mm_zip_local(&e[1], buf + n);
    memcpy(buf + n, zb, nb);
    n += nb;
    free(za);
    free(zb);
    size_t cl;
    unsigned char *cd = mm_zip_central(e, 2, &cl);
    memcpy(buf + n, cd, cl);
    size_t cd_at = n;
    n += cl;
    free(cd);
    assert_int_equal(n, mm_zip_size(e, 2));
    assert_int_equal(rd32(buf), 0x04034b50u);
    assert_int_equal(buf[8], 8); /* deflated */
    assert_int_equal(rd32(buf + 18), na);
    assert_int_equal(rd32(buf + 22), 3);
    assert_int_equal(rd32(buf + off1), 0x04034b50u);
    assert_int_equal(rd32(buf + cd_at), 0x02014b50u);
    const unsigned char *end = buf + n - 22;
    assert_int_equal(rd32(end), 0x06054b50u);
    assert_int_equal(rd32(end + 16), cd_at);     /* directory offset */
    assert_int_equal(rd32(buf + cd_at + 42), 0); /* first entry at 0 */
    const unsigned char *second = buf + cd_at + 46 + strlen("a.csv");
    assert_int_equal(rd32(second + 42), off1);
    assert_int_equal(rd32(second + 16), e[1].crc32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deflate),
        cmocka_unit_test(test_archive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
