/*
 * config.h: spmigd's settings. Embedded defaults, then the --config JSON file, then SPMIG_*
 * environment variables, then command-line flags, each overriding the one before. Parsing and
 * validation only: nothing here starts anything. Read-only once the listeners start.
 */
#ifndef SPMIG_CONFIG_H
#define SPMIG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

struct config {
    char *host;
    char *public_host; /* NULL: --host, or each request's Host when --host is a wildcard */
    uint16_t sp_port, blob_port, queue_port;
    char *data_dir;
    bool in_memory;
    bool durability_fsync; /* --durability fsync */
    char *admin_token;     /* NULL: generated at first start */
    char *tenant;          /* the tenant's name, "contoso" */
    unsigned import_workers;
    unsigned max_connections;            /* per listener */
    unsigned connection_timeout;         /* seconds */
    unsigned max_connections_per_client; /* per listener and client address */
    unsigned header_timeout;             /* seconds to send a request's headers */
    unsigned agent_timeout; /* seconds without a call before an agent is Disconnected */
    unsigned agent_grace;   /* seconds more before its tasks go back to the queue */
    int64_t clock_offset_ms;
    uint64_t seed;
    bool has_seed;
    int log_level;        /* enum log_level */
    struct policy policy; /* --config "policies", validated */
};

/*
 * Fills cfg from defaults, file, environment and argv. Returns 0 to go on, 1 when the
 * program should exit successfully (--help, --version were printed), or -1 after printing a
 * one-line reason on stderr.
 */
int config_load(struct config *cfg, int argc, char **argv);
void config_finish(struct config *cfg);

#endif
