/*
 * libFuzzer target: the JSON `spmig agent` reads from the server (client/agent_wire.c): a
 * heartbeat answer with its orders, each run order's task spec, a progress answer and a
 * register answer. The first byte picks the parser. Besides the sanitizers it checks that a
 * parsed task has what the agent relies on (id, source, site) and that a run order's spec
 * parses the same twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_task(const char *json, size_t len)
{
    struct agent_wire_task t, u;
    char err[AGENT_WIRE_ERR];
    if (agent_wire_task_parse(json, len, &t, err) < 0)
        return;
    if (!t.id || !t.id[0] || !t.source || !t.site_url || t.round < 0)
        abort();
    if (agent_wire_task_parse(json, len, &u, err) < 0 || strcmp(t.id, u.id) != 0 ||
        t.created_after_ms != u.created_after_ms || t.replace_char != u.replace_char)
        abort();
    agent_wire_task_finish(&t);
    agent_wire_task_finish(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 4) {
    case 0: {
        struct agent_wire_order *o;
        size_t n;
        int hb = 0;
        if (agent_wire_parse_heartbeat(body, len, &o, &n, &hb) == 0) {
            for (size_t i = 0; i < n; i++) {
                if (!o[i].task_id || !o[i].task_id[0])
                    abort();
                if (o[i].kind == AGENT_WIRE_RUN)
                    check_task(o[i].task_json, strlen(o[i].task_json));
            }
            agent_wire_orders_free(o, n);
        }
        break;
    }
    case 1:
        check_task(body, len);
        break;
    case 2:
        (void)agent_wire_parse_progress_answer(body, len);
        break;
    default: {
        char *id, *cred, err[AGENT_WIRE_ERR];
        if (agent_wire_parse_register(body, len, &id, &cred, err) == 0) {
            free(id);
            free(cred);
        }
        break;
    }
    }
    return 0;
}
