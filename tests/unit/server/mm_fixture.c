/*
 * mm_fixture.c: agents and tasks made in one call for the mm unit tests, and a task's
 * status read back. It opens no store (store_fixture does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mm_fixture.h"
#include "mm_zip.h"

#include <stdlib.h>
#include <string.h>

void mm_fixture_agent(const char *name, const char *group, const char *shares, int max,
                      char id[UUID_BUF])
{
    unsigned char hash[CRYPTO_SHA256_LEN] = {1};
    struct mm_agent a = {
        .name = (char *)name, .group = (char *)group, .shares = (char *)shares, .max_tasks = max};
    assert_int_equal(mm_store_agent_register(&a, hash), MM_OK);
    strcpy(id, a.id);
}

void mm_fixture_task(const char *source, const char *group, int64_t schedule, char id[UUID_BUF])
{
    struct mm_task t = {.name = (char *)source,
                        .source = (char *)source,
                        .site = "/sites/x",
                        .library = "L",
                        .folder = "",
                        .group = (char *)group,
                        .schedule_ms = schedule};
    assert_int_equal(mm_store_task_insert(&t, 1, NULL), MM_OK);
    strcpy(id, t.id);
}

const char *mm_fixture_status(const char *id)
{
    static char s[24];
    struct mm_task t = {0};
    assert_int_equal(mm_store_task_get(id, &t), MM_OK);
    strcpy(s, t.status);
    mm_task_finish(&t);
    return s;
}

int mm_fixture_report_put(const char *task, const char *agent, const char *name, int round,
                          const char *text)
{
    struct mm_report_body b = {.size = strlen(text)};
    unsigned char *z = NULL;
    assert_int_equal(mm_zip_deflate(text, b.size, &z, &b.stored, &b.crc32), 0);
    b.deflated = z;
    int rc = mm_store_report_put(task, agent, name, round, &b);
    free(z);
    return rc;
}

char *mm_fixture_report(const char *task, const char *name, size_t *n)
{
    void *z = NULL;
    struct mm_report r;
    if (mm_store_report_get(task, name, &z, &r) != MM_OK)
        return NULL;
    unsigned char *data = NULL;
    assert_int_equal(mm_zip_inflate(z, (size_t)r.stored, (size_t)r.size, &data), 0);
    free(z);
    *n = (size_t)r.size;
    return (char *)data;
}
