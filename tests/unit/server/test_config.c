/*
 * Unit tests for config.c: the four layers in order (defaults < file < environment < flags)
 * and clear refusals of bad values, unknown options and malformed files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static int load(struct config *cfg, int argc, const char **argv)
{
    return config_load(cfg, argc, (char **)argv);
}

static char *write_file(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/spmig-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_defaults(void **state)
{
    (void)state;
    struct config c;
    const char *argv[] = {"spmigd"};
    assert_int_equal(load(&c, 1, argv), 0);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.sp_port, 8080);
    assert_int_equal(c.blob_port, 10000);
    assert_int_equal(c.queue_port, 10001);
    assert_string_equal(c.data_dir, "./spmig-data");
    assert_false(c.in_memory);
    assert_int_equal(c.agent_timeout, 30);
    assert_int_equal(c.agent_grace, 60);
    config_finish(&c);
}

static void test_agent_times(void **state)
{
    (void)state;
    char *path = write_file("{\"agent_timeout\": 12, \"agent_grace\": 7}");
    setenv("SPMIG_AGENT_GRACE", "9", 1);
    struct config c;
    const char *argv[] = {"spmigd", "--config", path, "--agent-timeout", "5"};
    assert_int_equal(load(&c, 5, argv), 0);
    assert_int_equal(c.agent_timeout, 5); /* flag over file */
    assert_int_equal(c.agent_grace, 9);   /* environment over file */
    config_finish(&c);
    unsetenv("SPMIG_AGENT_GRACE");
    unlink(path);
    const char *too_short[] = {"spmigd", "--agent-timeout", "1"};
    assert_int_equal(load(&c, 3, too_short), -1);
    config_finish(&c);
}

static void test_layers(void **state)
{
    (void)state;
    char *path = write_file("{\"blob_port\": 1111, \"queue_port\": 2222, \"sp_port\": 3333, "
                            "\"in_memory\": true, \"clock_offset\": \"P3D\"}");
    setenv("SPMIG_QUEUE_PORT", "4444", 1);
    setenv("SPMIG_SP_PORT", "5555", 1);
    struct config c;
    const char *argv[] = {"spmigd", "--config", path, "--sp-port=6666"};
    assert_int_equal(load(&c, 4, argv), 0);
    assert_int_equal(c.blob_port, 1111);  /* file */
    assert_int_equal(c.queue_port, 4444); /* environment over file */
    assert_int_equal(c.sp_port, 6666);    /* flag over environment */
    assert_true(c.in_memory);
    assert_int_equal(c.clock_offset_ms, 3LL * 24 * 3600 * 1000);
    config_finish(&c);
    unsetenv("SPMIG_QUEUE_PORT");
    unsetenv("SPMIG_SP_PORT");
    unlink(path);
}

static void test_refusals(void **state)
{
    (void)state;
    struct config c;
    const char *bad_port[] = {"spmigd", "--blob-port", "70000"};
    assert_int_equal(load(&c, 3, bad_port), -1);
    config_finish(&c);
    const char *unknown[] = {"spmigd", "--no-such-thing"};
    assert_int_equal(load(&c, 2, unknown), -1);
    config_finish(&c);
    const char *missing[] = {"spmigd", "--host"};
    assert_int_equal(load(&c, 2, missing), -1);
    config_finish(&c);
    const char *dur[] = {"spmigd", "--durability", "sometimes"};
    assert_int_equal(load(&c, 3, dur), -1);
    config_finish(&c);
    char *path = write_file("{\"blob_port\": ");
    const char *badfile[] = {"spmigd", "--config", path};
    assert_int_equal(load(&c, 3, badfile), -1);
    config_finish(&c);
    unlink(path);
    path = write_file("{\"colour\": \"blue\"}");
    const char *unknown_key[] = {"spmigd", "--config", path};
    assert_int_equal(load(&c, 3, unknown_key), -1);
    config_finish(&c);
    unlink(path);
}

/* --admin-token-file: the token from a mounted secret's first line, never its line end. */
static void test_admin_token_file(void **state)
{
    (void)state;
    struct config c;
    char *path = write_file("s3cret-token \r\nsecond line\n");
    const char *flag[] = {"spmigd", "--admin-token-file", path};
    assert_int_equal(load(&c, 3, flag), 0);
    assert_string_equal(c.admin_token, "s3cret-token");
    config_finish(&c);
    setenv("SPMIG_ADMIN_TOKEN_FILE", path, 1);
    const char *plain[] = {"spmigd"};
    assert_int_equal(load(&c, 1, plain), 0);
    assert_string_equal(c.admin_token, "s3cret-token"); /* from the environment */
    config_finish(&c);
    const char *over[] = {"spmigd", "--admin-token", "on-the-line"};
    assert_int_equal(load(&c, 3, over), 0);
    assert_string_equal(c.admin_token, "on-the-line"); /* a flag over the environment */
    config_finish(&c);
    unsetenv("SPMIG_ADMIN_TOKEN_FILE");
    unlink(path);

    path = write_file("\nnot-first\n"); /* an empty first line */
    const char *empty[] = {"spmigd", "--admin-token-file", path};
    assert_int_equal(load(&c, 3, empty), -1);
    config_finish(&c);
    unlink(path);
    const char *missing[] = {"spmigd", "--admin-token-file", "/nonexistent/spmig-token"};
    assert_int_equal(load(&c, 3, missing), -1);
    config_finish(&c);
}

static void test_public_host(void **state)
{
    (void)state;
    struct config c;
    const char *none[] = {"spmigd"};
    assert_int_equal(load(&c, 1, none), 0);
    assert_null(c.public_host);
    config_finish(&c);
    const char *set[] = {"spmigd", "--host", "0.0.0.0", "--public-host", "spmigd"};
    assert_int_equal(load(&c, 5, set), 0);
    assert_string_equal(c.host, "0.0.0.0");
    assert_string_equal(c.public_host, "spmigd");
    config_finish(&c);
}

static void test_help_and_version(void **state)
{
    (void)state;
    struct config c;
    const char *help[] = {"spmigd", "--help"};
    FILE *saved = stdout;
    stdout = fopen("/dev/null", "w");
    assert_int_equal(load(&c, 2, help), 1);
    config_finish(&c);
    const char *version[] = {"spmigd", "--version"};
    assert_int_equal(load(&c, 2, version), 1);
    config_finish(&c);
    fclose(stdout);
    stdout = saved;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),         cmocka_unit_test(test_layers),
        cmocka_unit_test(test_agent_times),      cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_help_and_version), cmocka_unit_test(test_admin_token_file),
        cmocka_unit_test(test_public_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
