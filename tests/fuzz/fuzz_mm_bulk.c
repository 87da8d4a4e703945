/*
 * libFuzzer target: Migration Manager's bulk task files (mm_bulk.c). The first byte picks
 * the format (even: CSV, odd: JSON); the rest is the file. Every row kept must hold checked
 * fields, and the duplicate check must hold up over whatever rows came through.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mm_bulk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool any_site(void *ctx, const char *site)
{
    (void)ctx;
    return site[0] == '/';
}

static bool no_dup(void *ctx, const struct mm_bulk_row *r)
{
    (void)ctx;
    return r->source[0] == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct mm_bulk b;
    mm_bulk_init(&b);
    mm_bulk_parse(&b, (const char *)data + 1, size - 1, data[0] & 1);
    for (size_t i = 0; i < b.n; i++) {
        assert(b.rows[i].source[0] && b.rows[i].library[0]);
        assert(b.rows[i].site[0] == '/');
    }
    mm_bulk_check(&b, any_site, no_dup, NULL);
    mm_bulk_finish(&b);
    return 0;
}
