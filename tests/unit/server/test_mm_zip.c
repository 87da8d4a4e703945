/*
 * Unit tests for mm_zip.c: zip's CRC-32 check value, and an archive of stored entries whose
 * size matches mm_zip_size and whose records carry the right signatures and offsets.
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

static void test_crc(void **state)
{
    (void)state;
    assert_int_equal(mm_zip_crc32(0, "123456789", 9), 0xcbf43926u);
    uint32_t c = mm_zip_crc32(0, "1234", 4);
    assert_int_equal(mm_zip_crc32(c, "56789", 5), 0xcbf43926u);
    assert_int_equal(mm_zip_crc32(0, "", 0), 0);
}

static void test_archive(void **state)
{
    (void)state;
    struct mm_zip_entry e[2] = {{"a.csv", 0, 3, 1700000000000}, {"summary_R0.json", 0, 2, 0}};
    e[0].crc32 = mm_zip_crc32(0, "abc", 3);
    e[1].crc32 = mm_zip_crc32(0, "{}", 2);
    unsigned char buf[512];
    size_t n = 0;
    size_t off1 = 0;
    n += mm_zip_local(&e[0], buf + n);
    memcpy(buf + n, "abc", 3);
    n += 3;
    off1 = n;
    n += mm_zip_local(&e[1], buf + n);
    memcpy(buf + n, "{}", 2);
    n += 2;
    size_t cl;
    unsigned char *cd = mm_zip_central(e, 2, &cl);
    memcpy(buf + n, cd, cl);
    size_t cd_at = n;
    n += cl;
    free(cd);
    assert_int_equal(n, mm_zip_size(e, 2));
    assert_int_equal(rd32(buf), 0x04034b50u);
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
        cmocka_unit_test(test_crc),
        cmocka_unit_test(test_archive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
