/*
 * libFuzzer target: the XML of CSOM's ProcessQuery (csom_request.c). Whatever is accepted
 * must hold what the parser promises: paths and actions with their ids and names, parameters
 * as arrays; whatever is refused must say why and leave nothing behind.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "csom_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csom_request r;
    char err[200] = "";
    if (csom_request_parse((const char *)data, size, &r, err, sizeof err) < 0) {
        assert(err[0] && !r.actions && !r.paths);
        return 0;
    }
    for (size_t i = 0; i < r.npaths; i++) {
        const struct csom_path *p = &r.paths[i];
        assert(p->id >= 0 && cJSON_IsArray(p->params));
        assert(p->kind == CSOM_PATH_CONSTRUCTOR || (p->name && p->name[0]));
        assert(csom_request_path(&r, p->id) == p);
    }
    for (size_t i = 0; i < r.nactions; i++) {
        const struct csom_action *a = &r.actions[i];
        assert(a->id >= 0 && cJSON_IsArray(a->params));
        assert(a->kind == CSOM_ACT_STATIC_METHOD || a->path >= 0);
    }
    csom_request_finish(&r);
    return 0;
}
