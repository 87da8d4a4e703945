/*
 * libFuzzer target: the package parser reading a stream cut at any points. The first bytes
 * choose the piece sizes, the rest is parsed as each kind of package file twice, whole (from
 * memory) and as a stream of those pieces; both packages must have the same issues and
 * objects, or the stream reader depends on where its input is cut.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct pieces {
    const uint8_t *data;
    size_t len, pos;
    const uint8_t *sizes;
    size_t n_sizes, k;
};

static ssize_t pieces_read(void *ctx, void *buf, size_t cap, char **why)
{
    (void)why;
    struct pieces *p = ctx;
    size_t n = p->n_sizes ? (size_t)p->sizes[p->k++ % p->n_sizes] + 1 : cap;
    if (n > cap)
        n = cap;
    if (n > p->len - p->pos)
        n = p->len - p->pos;
    memcpy(buf, p->data + p->pos, n);
    p->pos += n;
    return (ssize_t)n;
}

static void same(const struct package *a, const struct package *b)
{
    if (a->n_issues != b->n_issues || a->n_objects != b->n_objects || a->n_users != b->n_users)
        abort();
    for (size_t i = 0; i < a->n_issues; i++)
        if (a->issues[i].error_code != b->issues[i].error_code ||
            strcmp(a->issues[i].message, b->issues[i].message) != 0)
            abort();
    for (size_t i = 0; i < a->n_objects; i++)
        if (strcmp(a->objects[i].url, b->objects[i].url) != 0 ||
            a->objects[i].excluded != b->objects[i].excluded ||
            a->objects[i].n_versions != b->objects[i].n_versions)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct package_target target;
    if (!target.web_url) {
        uuid_parse("5cfdbe90-402b-4794-b19d-08bf0b6e7a7e", target.web_id);
        uuid_parse("1d4a2089-bf6c-4e1d-be58-dc2972873c19", target.list_id);
        uuid_parse("808b844d-5249-4bd2-adbf-a9fff3d27fbd", target.root_folder_id);
        target.web_url = "/sites/hr";
        target.root_folder_url = "/sites/hr/Shared Documents";
    }
    if (size < 1)
        return 0;
    size_t n_sizes = data[0] % 8;
    if (size < 1 + n_sizes)
        return 0;
    const uint8_t *sizes = data + 1, *xml = data + 1 + n_sizes;
    size_t len = size - 1 - n_sizes;
    struct package *whole = package_create(&target), *cut = package_create(&target);
    for (int k = 0; k < PACKAGE_FILE_KINDS; k++) {
        const char *name = package_file_name((enum package_file)k);
        package_parse(whole, (enum package_file)k, name, xml, len);
        struct pieces p = {xml, len, 0, sizes, n_sizes, 0};
        struct package_stream s = {&p, pieces_read, NULL};
        package_parse_stream(cut, (enum package_file)k, name, &s);
    }
    package_finish(whole);
    package_finish(cut);
    same(whole, cut);
    package_destroy(whole);
    package_destroy(cut);
    return 0;
}
