/*
 * libFuzzer target: whole requests to the SharePoint listener, run in this process through
 * http_run_local against a real store in a scratch directory: the REST routes and their
 * arguments, the Migration API, /_emu and /api/mm with every JSON body they parse. The input
 * is "METHOD TARGET\n", header lines "Name: value\n", an empty line, then the body. Every
 * answer must be a status the listener may give; nothing may crash or leak.
 */
#include <assert.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "db.h"
#include "emu_api.h"
#include "http.h"
#include "migration_api.h"
#include "mm_api.h"
#include "sp_api.h"
#include "sp_auth.h"
#include "sp_model.h"
#include "store_files.h"

#define FUZZ_TOKEN  "fuzz-admin-token"
#define MAX_HEADERS 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/fuzz-sp-request-XXXXXX";

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_dir(void)
{
    db_close();
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!mkdtemp(dir))
        abort();
    atexit(remove_dir);
    char db[sizeof dir + 16];
    snprintf(db, sizeof db, "%s/spmig.db", dir);
    if (db_open(db, false) < 0 || store_files_init(dir, false) < 0 || accounts_load() < 0 ||
        sp_model_init("contoso") < 0 || sp_auth_init("contoso", FUZZ_TOKEN, NULL) < 0)
        abort();
    migration_api_register("http://127.0.0.1:10000", "http://127.0.0.1:10001");
    emu_api_register();
    mm_api_register();
    return 0;
}

/* The next line of [*p, end) without its '\n', NUL-terminated in place of it; NULL at the end. */
static char *next_line(char **p, char *end)
{
    if (*p >= end)
        return NULL;
    char *line = *p, *nl = memchr(line, '\n', (size_t)(end - line));
    if (!nl)
        return NULL;
    *nl = '\0';
    *p = nl + 1;
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *p = buf, *end = buf + size;
    char *first = next_line(&p, end);
    char *sp = first ? strchr(first, ' ') : NULL;
    if (!sp || sp == first || !sp[1] || memchr(first, '\0', (size_t)(sp - first))) {
        free(buf);
        return 0;
    }
    *sp = '\0';
    const char *method = first, *target = sp + 1;
    struct sharedkey_header h[MAX_HEADERS];
    size_t n = 0;
    char *line;
    while ((line = next_line(&p, end)) && *line && n < MAX_HEADERS) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ')
            value++;
        h[n].name = line;
        h[n].value = value;
        n++;
    }
    unsigned status = http_run_local(&sp_api_ops, method, target, h, n, p, (size_t)(end - p));
    assert(status >= 200 && status <= 599);
    free(buf);
    return 0;
}
