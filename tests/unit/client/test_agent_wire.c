/*
 * test_agent_wire.c: unit tests of client/agent_wire.c: task specs with every setting, their
 * defaults and what is refused; heartbeat orders (unreadable ones left out); progress
 * answers; the register answer; request bodies; statuses; the credential file (mode 0600,
 * round trip, missing and broken files).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_wire.h"

static int parse(const char *json, struct agent_wire_task *t)
{
    char err[AGENT_WIRE_ERR];
    return agent_wire_task_parse(json, strlen(json), t, err);
}

static void test_task_full(void **unused)
{
    (void)unused;
    struct agent_wire_task t;
    assert_int_equal(
        parse("{\"id\":\"t-1\",\"name\":\"HR\",\"source\":\"/srv/hr\",\"round\":2,"
              "\"destination\":{\"siteUrl\":\"/sites/hr\",\"library\":\"Docs\",\"folder\":\"In\"},"
              "\"settings\":{\"scanOnly\":true,\"preservePermissions\":true,"
              "\"migrateHiddenFiles\":false,\"migrateInvalidCharacters\":false,"
              "\"createdAfter\":\"2024-01-02\",\"modifiedAfter\":\"2024-02-03T00:00:00Z\","
              "\"skipExtensions\":[\"tmp\",\"BAK\"],\"replaceInvalidCharactersWith\":\"_\"}}",
              &t),
        0);
    assert_string_equal(t.id, "t-1");
    assert_string_equal(t.name, "HR");
    assert_string_equal(t.source, "/srv/hr");
    assert_string_equal(t.site_url, "/sites/hr");
    assert_string_equal(t.library, "Docs");
    assert_string_equal(t.folder, "In");
    assert_int_equal(t.round, 2);
    assert_true(t.scan_only);
    assert_true(t.preserve_permissions);
    assert_true(t.skip_hidden);
    assert_true(t.skip_invalid_chars);
    assert_int_equal(t.created_after_ms, 1704153600000LL);
    assert_int_equal(t.modified_after_ms, 1706918400000LL);
    assert_string_equal(t.skip_extensions, "tmp:BAK");
    assert_int_equal(t.replace_char, '_');
    assert_null(t.token);
    agent_wire_task_finish(&t);
}

static void test_task_defaults_and_flat(void **unused)
{
    (void)unused;
    struct agent_wire_task t;
    /* Destination and settings may sit in the spec itself; absent settings keep MM's
     * defaults (hidden files and invalid characters migrated). */
    assert_int_equal(parse("{\"id\":\"a\",\"source\":\"/s\",\"siteUrl\":\"http://h/sites/x\","
                           "\"skipExtensions\":\"exe:dll\",\"accessToken\":\"tok\"}",
                           &t),
                     0);
    assert_string_equal(t.site_url, "http://h/sites/x");
    assert_null(t.library);
    assert_false(t.skip_hidden);
    assert_false(t.skip_invalid_chars);
    assert_false(t.scan_only);
    assert_int_equal(t.created_after_ms, 0);
    assert_string_equal(t.skip_extensions, "exe:dll");
    assert_string_equal(t.token, "tok");
    assert_int_equal(t.replace_char, '\0');
    agent_wire_task_finish(&t);
}

static void test_task_refused(void **unused)
{
    (void)unused;
    const char *bad[] = {
        "[]",
        "not json",
        "{\"source\":\"/s\",\"siteUrl\":\"/x\"}",          /* no id */
        "{\"id\":\"a\",\"siteUrl\":\"/x\"}",               /* no source */
        "{\"id\":\"a\",\"source\":\"/s\"}",                /* no site */
        "{\"id\":7,\"source\":\"/s\",\"siteUrl\":\"/x\"}", /* wrong type */
        "{\"id\":\"a\",\"source\":\"/s\",\"siteUrl\":\"/x\",\"round\":-1}",
        "{\"id\":\"a\",\"source\":\"/s\",\"siteUrl\":\"/x\",\"scanOnly\":\"yes\"}",
        "{\"id\":\"a\",\"source\":\"/s\",\"siteUrl\":\"/x\",\"createdAfter\":\"01/02/2024\"}",
        "{\"id\":\"a\",\"source\":\"/s\",\"siteUrl\":\"/"
        "x\",\"replaceInvalidCharactersWith\":\"|\"}",
        "{\"id\":\"a\",\"source\":\"/s\",\"siteUrl\":\"/"
        "x\",\"replaceInvalidCharactersWith\":\"ab\"}",
        "{\"id\":\"a\",\"source\":\"/s\",\"siteUrl\":\"/x\",\"skipExtensions\":[1]}",
        "{\"id\":\"a\",\"source\":\"/s\",\"siteUrl\":\"/x\",\"skipExtensions\":[\"a:b\"]}",
        "{\"id\":\"a\",\"source\":\"/s\",\"siteUrl\":\"/x\",\"settings\":3}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct agent_wire_task t;
        assert_int_equal(parse(bad[i], &t), -1);
        assert_null(t.id);
    }
}

/* A scan reads the source only: Migration Manager's scans have no destination. */
static void test_scan_without_destination(void **unused)
{
    (void)unused;
    struct agent_wire_task t;
    assert_int_equal(parse("{\"id\":\"s1\",\"source\":\"/share\",\"destination\":null,"
                           "\"settings\":{\"scanOnly\":true}}",
                           &t),
                     0);
    assert_true(t.scan_only);
    assert_null(t.site_url);
    agent_wire_task_finish(&t);
    /* A migration still needs one. */
    assert_int_equal(parse("{\"id\":\"m1\",\"source\":\"/share\",\"destination\":null}", &t), -1);
    assert_null(t.id);
}

static void test_heartbeat_orders(void **unused)
{
    (void)unused;
    const char *body =
        "{\"heartbeatSeconds\":15,\"orders\":["
        "{\"order\":\"run\",\"task\":{\"id\":\"t1\",\"source\":\"/s\",\"siteUrl\":\"/x\"}},"
        "{\"order\":\"pause\",\"taskId\":\"t2\"},{\"order\":\"resume\",\"taskId\":\"t3\"},"
        "{\"order\":\"cancel\",\"taskId\":\"t4\"},{\"order\":\"explode\",\"taskId\":\"t5\"},"
        "{\"order\":\"pause\"},{\"order\":\"run\",\"task\":\"x\"},7]}";
    struct agent_wire_order *o;
    size_t n;
    int hb = 0;
    assert_int_equal(agent_wire_parse_heartbeat(body, strlen(body), &o, &n, &hb), 0);
    assert_int_equal(hb, 15);
    assert_int_equal(n, 4);
    assert_int_equal(o[0].kind, AGENT_WIRE_RUN);
    assert_string_equal(o[0].task_id, "t1");
    struct agent_wire_task t;
    char err[AGENT_WIRE_ERR];
    assert_int_equal(agent_wire_task_parse(o[0].task_json, strlen(o[0].task_json), &t, err), 0);
    assert_string_equal(t.source, "/s");
    agent_wire_task_finish(&t);
    assert_int_equal(o[1].kind, AGENT_WIRE_PAUSE);
    assert_string_equal(o[1].task_id, "t2");
    assert_null(o[1].task_json);
    assert_int_equal(o[2].kind, AGENT_WIRE_RESUME);
    assert_int_equal(o[3].kind, AGENT_WIRE_CANCEL);
    agent_wire_orders_free(o, n);

    hb = 9;
    assert_int_equal(agent_wire_parse_heartbeat("{}", 2, &o, &n, &hb), 0);
    assert_int_equal(n, 0);
    assert_int_equal(hb, 9);
    agent_wire_orders_free(o, n);
    assert_int_equal(agent_wire_parse_heartbeat("<html>", 6, &o, &n, &hb), -1);
    assert_int_equal(agent_wire_parse_heartbeat(NULL, 0, &o, &n, &hb), -1);
}

static void test_progress_answer(void **unused)
{
    (void)unused;
    assert_int_equal(agent_wire_parse_progress_answer("{\"order\":\"pause\"}", 17),
                     AGENT_WIRE_PAUSE);
    assert_int_equal(agent_wire_parse_progress_answer("{\"order\":\"cancel\"}", 18),
                     AGENT_WIRE_CANCEL);
    assert_int_equal(agent_wire_parse_progress_answer("{\"state\":\"Paused\"}", 18),
                     AGENT_WIRE_PAUSE);
    assert_int_equal(agent_wire_parse_progress_answer("{\"state\":\"Cancelled\"}", 21),
                     AGENT_WIRE_CANCEL);
    assert_int_equal(agent_wire_parse_progress_answer("{\"state\":\"InProgress\"}", 22), -1);
    assert_int_equal(agent_wire_parse_progress_answer("{\"order\":\"run\"}", 15), -1);
    assert_int_equal(agent_wire_parse_progress_answer("{\"order\":null}", 14), -1);
    assert_int_equal(agent_wire_parse_progress_answer("", 0), -1);
    assert_int_equal(agent_wire_parse_progress_answer(NULL, 0), -1);
}

static void test_register_answer(void **unused)
{
    (void)unused;
    char *id, *cred, err[AGENT_WIRE_ERR];
    const char *ok = "{\"id\":\"ag-1\",\"credential\":\"mma1.ag-1.secret\"}";
    assert_int_equal(agent_wire_parse_register(ok, strlen(ok), &id, &cred, err), 0);
    assert_string_equal(id, "ag-1");
    assert_string_equal(cred, "mma1.ag-1.secret");
    free(id);
    free(cred);
    const char *bad = "{\"id\":\"ag-1\"}";
    assert_int_equal(agent_wire_parse_register(bad, strlen(bad), &id, &cred, err), -1);
    assert_null(id);
    assert_null(cred);
}

static void test_bodies(void **unused)
{
    (void)unused;
    struct agent_wire_share sh[2] = {{"/srv/a", true, NULL}, {"/srv/b", false, "denied"}};
    char *b = agent_wire_register_body("pc1", "Default", "1.0", "host-1", sh, 2, 3);
    cJSON *j = cJSON_Parse(b);
    assert_string_equal(cJSON_GetObjectItem(j, "name")->valuestring, "pc1");
    assert_string_equal(cJSON_GetObjectItem(j, "host")->valuestring, "host-1");
    assert_int_equal(cJSON_GetObjectItem(j, "maxTasks")->valueint, 3);
    cJSON *s1 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "shares"), 1);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(s1, "readable")));
    assert_string_equal(cJSON_GetObjectItem(s1, "error")->valuestring, "denied");
    cJSON_Delete(j);
    free(b);

    struct agent_wire_running run[1] = {{"t1", "Scanning"}};
    b = agent_wire_heartbeat_body("1.0", run, 1, 1);
    j = cJSON_Parse(b);
    assert_int_equal(cJSON_GetObjectItem(j, "free")->valueint, 1);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "running"), 0), "taskId")
            ->valuestring,
        "t1");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "running"), 0), "state")
            ->valuestring,
        "Scanning");
    cJSON_Delete(j);
    free(b);

    struct migrate_progress p = {.round = 1,
                                 .phase = MIGRATE_IN_PROGRESS,
                                 .files_scanned = 10,
                                 .bytes_scanned = 1000,
                                 .to_migrate = 9,
                                 .files_to_migrate = 8,
                                 .bytes_to_migrate = 800,
                                 .migrated = 6,
                                 .files_migrated = 5,
                                 .files_failed = 1};
    b = agent_wire_progress_body(&p);
    j = cJSON_Parse(b);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "InProgress");
    assert_int_equal(cJSON_GetObjectItem(j, "round")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(j, "filesScanned")->valueint, 10);
    assert_int_equal(cJSON_GetObjectItem(j, "bytesScanned")->valueint, 1000);
    assert_int_equal(cJSON_GetObjectItem(j, "filesTotal")->valueint, 8);
    assert_int_equal(cJSON_GetObjectItem(j, "bytesTotal")->valueint, 800);
    assert_int_equal(cJSON_GetObjectItem(j, "filesMigrated")->valueint, 5);
    assert_int_equal(cJSON_GetObjectItem(j, "filesFailed")->valueint, 1);
    cJSON_Delete(j);
    free(b);

    b = agent_wire_end_body(2, "Failed", "disk full", NULL);
    assert_string_equal(b, "{\"round\":2,\"status\":\"Failed\",\"reason\":\"disk full\"}");
    free(b);
    b = agent_wire_end_body(1, "Completed", NULL, &p);
    j = cJSON_Parse(b);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "counts"), "filesMigrated")->valueint, 5);
    cJSON_Delete(j);
    free(b);
    b = agent_wire_end_body(0, "Completed", "", NULL);
    assert_string_equal(b, "{\"round\":0,\"status\":\"Completed\"}");
    free(b);

    assert_string_equal(agent_wire_status("Completed with issues"), "CompletedWithIssues");
    assert_string_equal(agent_wire_status("Paused"), "Paused");
    assert_string_equal(agent_wire_status("Cancelled"), "Cancelled");
    assert_string_equal(agent_wire_status("odd"), "Failed");
}

static void test_credential_file(void **unused)
{
    (void)unused;
    char dir[] = "/tmp/test_agent_wire_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/agent.json", dir);
    struct agent_wire_credential c = {0}, in;
    char err[AGENT_WIRE_ERR];
    assert_int_equal(agent_wire_credential_load(path, &c, err), 1);
    in = (struct agent_wire_credential){"http://h:1", "pc1", "ag-1", "mma1.ag-1.s"};
    assert_int_equal(agent_wire_credential_save(path, &in), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(agent_wire_credential_load(path, &c, err), 0);
    assert_string_equal(c.server, "http://h:1");
    assert_string_equal(c.name, "pc1");
    assert_string_equal(c.id, "ag-1");
    assert_string_equal(c.credential, "mma1.ag-1.s");
    agent_wire_credential_finish(&c);
    assert_null(c.credential);
    FILE *f = fopen(path, "w");
    fputs("{\"name\":\"pc1\"}", f);
    fclose(f);
    assert_int_equal(agent_wire_credential_load(path, &c, err), -1);
    assert_non_null(strstr(err, "not an agent credential"));
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_full),        cmocka_unit_test(test_task_defaults_and_flat),
        cmocka_unit_test(test_task_refused),     cmocka_unit_test(test_scan_without_destination),
        cmocka_unit_test(test_heartbeat_orders), cmocka_unit_test(test_progress_answer),
        cmocka_unit_test(test_register_answer),  cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_credential_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
