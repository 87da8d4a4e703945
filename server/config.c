/*
 * config.c: spmigd's settings from four layers (embedded defaults < --config JSON file <
 * SPMIG_* environment < command-line flags). One table names every setting once, with its
 * flag, JSON key and environment variable, so the layers cannot drift apart.
 */
#include "config.h"
#include "log.h"
#include "spmig_limits.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_STR, K_FILE, K_PORT, K_UINT, K_BOOL, K_DURATION, K_U64, K_LOGLEVEL, K_DURABILITY };

struct setting {
    const char *flag; /* without "--" */
    const char *env;
    const char *json;
    enum kind kind;
    size_t offset;
    const char *help;
};

#define OFF(f) offsetof(struct config, f)

static const struct setting settings[] = {
    {"host", "SPMIG_HOST", "host", K_STR, OFF(host), "address to listen on (127.0.0.1)"},
    {"public-host", "SPMIG_PUBLIC_HOST", "public_host", K_STR, OFF(public_host),
     "host name in the storage URLs handed to clients (--host; the one each client called "
     "when --host is 0.0.0.0 or ::)"},
    {"sp-port", "SPMIG_SP_PORT", "sp_port", K_PORT, OFF(sp_port), "SharePoint listener (8080)"},
    {"blob-port", "SPMIG_BLOB_PORT", "blob_port", K_PORT, OFF(blob_port), "Blob listener (10000)"},
    {"queue-port", "SPMIG_QUEUE_PORT", "queue_port", K_PORT, OFF(queue_port),
     "Queue listener (10001)"},
    {"data-dir", "SPMIG_DATA_DIR", "data_dir", K_STR, OFF(data_dir),
     "state directory (./spmig-data)"},
    {"in-memory", "SPMIG_IN_MEMORY", "in_memory", K_BOOL, OFF(in_memory),
     "keep all state in memory, nothing persists"},
    {"durability", "SPMIG_DURABILITY", "durability", K_DURABILITY, OFF(durability_fsync),
     "os (default: survives kill -9) or fsync (survives power loss)"},
    {"admin-token", "SPMIG_ADMIN_TOKEN", "admin_token", K_STR, OFF(admin_token),
     "token of the tenant admin (default: generated)"},
    {"admin-token-file", "SPMIG_ADMIN_TOKEN_FILE", "admin_token_file", K_FILE, OFF(admin_token),
     "read the admin token from the first line of a file (a mounted secret)"},
    {"tenant", "SPMIG_TENANT", "tenant", K_STR, OFF(tenant), "tenant name (contoso)"},
    {"import-workers", "SPMIG_IMPORT_WORKERS", "import_workers", K_UINT, OFF(import_workers),
     "import job threads (2)"},
    {"max-connections", "SPMIG_MAX_CONNECTIONS", "max_connections", K_UINT, OFF(max_connections),
     "connections per listener (256)"},
    {"connection-timeout", "SPMIG_CONNECTION_TIMEOUT", "connection_timeout", K_UINT,
     OFF(connection_timeout), "seconds an idle connection stays open (30)"},
    {"max-connections-per-client", "SPMIG_MAX_CONNECTIONS_PER_CLIENT", "max_connections_per_client",
     K_UINT, OFF(max_connections_per_client),
     "connections per listener from one client address (64)"},
    {"header-timeout", "SPMIG_HEADER_TIMEOUT", "header_timeout", K_UINT, OFF(header_timeout),
     "seconds a client has to send a request's headers (10)"},
    {"agent-timeout", "SPMIG_AGENT_TIMEOUT", "agent_timeout", K_UINT, OFF(agent_timeout),
     "seconds without a call before an agent is Disconnected (30)"},
    {"agent-grace", "SPMIG_AGENT_GRACE", "agent_grace", K_UINT, OFF(agent_grace),
     "seconds more before a lost agent's tasks go back to the queue (60)"},
    {"clock-offset", "SPMIG_CLOCK_OFFSET", "clock_offset", K_DURATION, OFF(clock_offset_ms),
     "start with the clock moved forward by an ISO 8601 duration (P3D)"},
    {"seed", "SPMIG_SEED", "seed", K_U64, OFF(seed), "seed for reproducible policy draws"},
    {"log-level", "SPMIG_LOG_LEVEL", "log_level", K_LOGLEVEL, OFF(log_level),
     "error, warn, info or debug (warn)"},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

/*
 * The first line of a small file (a secret mounted into a container), without its line end
 * and trailing blanks: a new string, or NULL after a one-line reason on stderr.
 */
static char *read_first_line(const char *path, const char *flag)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "spmigd: cannot read --%s %s: %s\n", flag, path, strerror(errno));
        return NULL;
    }
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    n = strcspn(buf, "\r\n");
    while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    buf[n] = '\0';
    char *text = n > 0 && n < sizeof buf - 1 ? xstrdup(buf) : NULL;
    memset(buf, 0, sizeof buf);
    if (!text)
        fprintf(stderr, "spmigd: --%s %s: the first line must hold 1 to %zu characters\n", flag,
                path, sizeof buf - 2);
    return text;
}

static int apply(struct config *cfg, const struct setting *s, const char *v, const char *origin)
{
    char *base = (char *)cfg;
    char *end;
    errno = 0;
    switch (s->kind) {
    case K_STR: {
        char **p = (char **)(base + s->offset);
        free(*p);
        *p = xstrdup(v);
        return 0;
    }
    case K_FILE: {
        char *text = read_first_line(v, s->flag);
        if (!text)
            return -1;
        char **p = (char **)(base + s->offset);
        if (*p)
            memset(*p, 0, strlen(*p));
        free(*p);
        *p = text;
        return 0;
    }
    case K_PORT: {
        unsigned long n = strtoul(v, &end, 10);
        if (errno || *end || !*v || n > 65535)
            break;
        *(uint16_t *)(base + s->offset) = (uint16_t)n;
        return 0;
    }
    case K_UINT: {
        unsigned long n = strtoul(v, &end, 10);
        if (errno || *end || !*v || n > 100000)
            break;
        *(unsigned *)(base + s->offset) = (unsigned)n;
        return 0;
    }
    case K_U64: {
        unsigned long long n = strtoull(v, &end, 10);
        if (errno || *end || !*v)
            break;
        *(uint64_t *)(base + s->offset) = n;
        cfg->has_seed = true;
        return 0;
    }
    case K_BOOL:
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes")) {
            *(bool *)(base + s->offset) = true;
            return 0;
        }
        if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")) {
            *(bool *)(base + s->offset) = false;
            return 0;
        }
        break;
    case K_DURATION: {
        int64_t ms;
        if (timefmt_parse_duration(v, &ms) < 0 || ms < 0)
            break;
        *(int64_t *)(base + s->offset) = ms;
        return 0;
    }
    case K_LOGLEVEL: {
        static const char *names[] = {"error", "warn", "info", "debug"};
        for (int i = 0; i < 4; i++)
            if (!strcmp(v, names[i])) {
                *(int *)(base + s->offset) = i;
                return 0;
            }
        break;
    }
    case K_DURABILITY:
        if (!strcmp(v, "os") || !strcmp(v, "fsync")) {
            *(bool *)(base + s->offset) = !strcmp(v, "fsync");
            return 0;
        }
        break;
    }
    fprintf(stderr, "spmigd: invalid value '%s' for %s (%s)\n", v, s->flag, origin);
    return -1;
}

static const struct setting *find_flag(const char *name)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (!strcmp(settings[i].flag, name))
            return &settings[i];
    return NULL;
}

static int load_file(struct config *cfg, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "spmigd: cannot open config file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + n > 1024 * 1024) {
            fclose(f);
            free(text);
            fprintf(stderr, "spmigd: config file %s is larger than 1 MiB\n", path);
            return -1;
        }
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            text = xrealloc(text, cap);
        }
        memcpy(text + len, buf, n);
        len += n;
    }
    fclose(f);
    cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (!cJSON_IsObject(root)) {
        fprintf(stderr, "spmigd: config file %s is not a JSON object\n", path);
        cJSON_Delete(root);
        return -1;
    }
    int rc = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        const struct setting *s = NULL;
        for (size_t i = 0; i < NSETTINGS; i++)
            if (!strcmp(settings[i].json, it->string))
                s = &settings[i];
        if (!s) {
            if (!strcmp(it->string, "policies")) {
                char why[200];
                if (policy_parse(&cfg->policy, it, why, sizeof why) == 0)
                    continue;
                fprintf(stderr, "spmigd: %s in %s\n", why, path);
                rc = -1;
                break;
            }
            fprintf(stderr, "spmigd: unknown setting \"%s\" in %s\n", it->string, path);
            rc = -1;
            break;
        }
        char tmp[64];
        const char *v = NULL;
        if (cJSON_IsString(it))
            v = it->valuestring;
        else if (cJSON_IsBool(it))
            v = cJSON_IsTrue(it) ? "true" : "false";
        else if (cJSON_IsNumber(it)) {
            snprintf(tmp, sizeof tmp, "%.0f", it->valuedouble);
            v = tmp;
        }
        if (!v || apply(cfg, s, v, path) < 0) {
            if (!v)
                fprintf(stderr, "spmigd: setting \"%s\" in %s has the wrong type\n", it->string,
                        path);
            rc = -1;
            break;
        }
    }
    cJSON_Delete(root);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: spmigd [OPTION]...\n"
                 "Offline emulator of the SharePoint Online migration backend: SharePoint REST,\n"
                 "Azure Blob and Queue endpoints, the import timer job.\n\n"
                 "Options (each also as SPMIG_* environment variable or --config JSON key):\n");
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &settings[i];
        char left[48];
        snprintf(left, sizeof left, "--%s%s", s->flag, s->kind == K_BOOL ? "" : " VALUE");
        fprintf(out, "  %-30s %s\n", left, s->help);
    }
    fprintf(out, "  %-30s %s\n  %-30s %s\n  %-30s %s\n", "--config FILE",
            "read settings from a JSON file", "--help", "show this help and exit", "--version",
            "show the version and exit");
}

int config_load(struct config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = xstrdup("127.0.0.1");
    cfg->sp_port = 8080;
    cfg->blob_port = 10000;
    cfg->queue_port = 10001;
    cfg->data_dir = xstrdup("./spmig-data");
    cfg->tenant = xstrdup("contoso");
    cfg->import_workers = 2;
    cfg->max_connections = 256;
    cfg->connection_timeout = LIMIT_CONNECTION_TIMEOUT;
    cfg->max_connections_per_client = LIMIT_CONNECTIONS_PER_CLIENT;
    cfg->header_timeout = LIMIT_HEADER_TIMEOUT;
    cfg->agent_timeout = 30;
    cfg->agent_grace = 60;
    cfg->log_level = LOG_WARN;
    policy_defaults(&cfg->policy);

    /* First pass: --help, --version and --config, which decide what else is read. */
    const char *config_file = getenv("SPMIG_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("spmigd %s\n", SPMIG_VERSION);
            return 1;
        }
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config_file = argv[++i];
        else if (!strncmp(argv[i], "--config=", 9))
            config_file = argv[i] + 9;
    }
    if (config_file && load_file(cfg, config_file) < 0)
        return -1;
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *v = getenv(settings[i].env);
        if (v && apply(cfg, &settings[i], v, settings[i].env) < 0)
            return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "spmigd: unexpected argument '%s' (try --help)\n", a);
            return -1;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        char name[64];
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
        if (!strcmp(name, "config")) {
            if (!eq)
                i++;
            continue;
        }
        const struct setting *s = find_flag(name);
        if (!s) {
            fprintf(stderr, "spmigd: unknown option '--%s' (try --help)\n", name);
            return -1;
        }
        const char *v;
        if (eq)
            v = eq + 1;
        else if (s->kind == K_BOOL)
            v = "true";
        else if (i + 1 < argc)
            v = argv[++i];
        else {
            fprintf(stderr, "spmigd: option '--%s' needs a value\n", name);
            return -1;
        }
        if (apply(cfg, s, v, "command line") < 0)
            return -1;
    }
    if (cfg->import_workers == 0 || cfg->import_workers > 64) {
        fprintf(stderr, "spmigd: --import-workers must be between 1 and 64\n");
        return -1;
    }
    if (cfg->max_connections < 4) {
        fprintf(stderr, "spmigd: --max-connections must be at least 4\n");
        return -1;
    }
    if (cfg->agent_timeout < 2) {
        fprintf(stderr, "spmigd: --agent-timeout must be at least 2 seconds\n");
        return -1;
    }
    if (cfg->max_connections_per_client == 0 || cfg->header_timeout == 0) {
        fprintf(stderr, "spmigd: --max-connections-per-client and --header-timeout must be at "
                        "least 1\n");
        return -1;
    }
    if (cfg->connection_timeout == 0) {
        fprintf(stderr, "spmigd: --connection-timeout must be at least 1 second\n");
        return -1;
    }
    return 0;
}

void config_finish(struct config *cfg)
{
    free(cfg->host);
    free(cfg->public_host);
    free(cfg->data_dir);
    free(cfg->tenant);
    if (cfg->admin_token) {
        memset(cfg->admin_token, 0, strlen(cfg->admin_token));
        free(cfg->admin_token);
    }
    memset(cfg, 0, sizeof *cfg);
}
