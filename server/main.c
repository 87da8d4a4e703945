/*
 * main.c: spmigd's start and stop. Reads the settings, prepares the data dir (or a scratch
 * one for --in-memory), opens the database and stores, starts the three listeners, prints the
 * ready line, and on SIGTERM/SIGINT stops accepting, lets in-flight requests end and closes
 * the database. No request handling lives here.
 */
#include "accounts.h"
#include "audit.h"
#include "blob_api.h"
#include "extents.h"
#include "fileio.h"
#include "clock.h"
#include "config.h"
#include "emu_api.h"
#include "db.h"
#include "http.h"
#include "import_job.h"
#include "jobs.h"
#include "lifecycle.h"
#include "migration_api.h"
#include "mm_api.h"
#include "mm_dispatch.h"
#include "log.h"
#include "queue_api.h"
#include "sp_api.h"
#include "sp_auth.h"
#include "sp_model.h"
#include "spmig_limits.h"
#include "store_files.h"
#include "web_page.h"
#include "xmalloc.h"

#include <errno.h>
#include <libxml/parser.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static char *scratch_dir(void)
{
    const char *bases[] = {"/dev/shm", getenv("TMPDIR"), "/tmp"};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        if (!bases[i])
            continue;
        char *tmpl = xasprintf("%s/spmigd-XXXXXX", bases[i]);
        if (mkdtemp(tmpl))
            return tmpl;
        free(tmpl);
    }
    return NULL;
}

/* Writes the endpoints file atomically (temp file, then rename). */
static int write_endpoints(const char *dir, const char *json)
{
    char *tmp = xasprintf("%s/endpoints.json.tmp", dir);
    char *final = xasprintf("%s/endpoints.json", dir);
    FILE *f = fopen(tmp, "w");
    int rc = -1;
    if (f) {
        rc = fprintf(f, "%s\n", json) < 0 ? -1 : 0;
        if (fclose(f) != 0)
            rc = -1;
        if (rc == 0 && rename(tmp, final) < 0)
            rc = -1;
    }
    if (rc < 0)
        log_error("cannot write %s: %s", final, strerror(errno));
    free(tmp);
    free(final);
    return rc;
}

/* The saved clock, or --clock-offset when it is later. 0, or -1 when the offset takes the clock
 * past the last time the formats can write. */
static int restore_clock(const struct config *cfg)
{
    struct db *d = db_acquire();
    char *saved = db_setting_get(d, "clock_offset_ms");
    int64_t offset = saved ? strtoll(saved, NULL, 10) : 0;
    free(saved);
    if (offset < 0 || offset > LIMIT_TIME_MAX_MS - clock_real_ms()) {
        log_warn("the saved clock offset %" PRId64 " ms is out of range: starting from 0", offset);
        offset = 0;
    }
    bool changed = cfg->clock_offset_ms > offset;
    if (changed)
        offset = cfg->clock_offset_ms;
    if (clock_set_offset_ms(offset) < 0) {
        log_error("--clock-offset takes the clock past 9999-12-31T23:59:59.999Z");
        db_release(d);
        return -1;
    }
    if (changed) { /* a start that changes nothing writes nothing (it may be a full disk) */
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRId64, offset);
        db_write_begin(d);
        db_write_end(d, db_setting_set(d, "clock_offset_ms", buf) == 0);
    }
    db_release(d);
    return 0;
}

int main(int argc, char **argv)
{
    /* Everything spmigd creates is its user's alone, whatever the data directory's mode:
     * the database and its WAL hold the account key and jobs' SAS URLs. Set once, here,
     * before any file (SQLite's included) is made. */
    umask(077);
    struct config cfg;
    int rc = config_load(&cfg, argc, argv);
    if (rc != 0) {
        config_finish(&cfg);
        return rc > 0 ? 0 : 2;
    }
    log_set_level((enum log_level)cfg.log_level);
    xmlInitParser(); /* once, before any thread parses */

    /* Signals are taken by sigwait below; every thread started later inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    char *dir = NULL;
    if (cfg.in_memory) {
        dir = scratch_dir();
        if (!dir) {
            fprintf(stderr, "spmigd: cannot create a scratch directory for --in-memory\n");
            config_finish(&cfg);
            return 2;
        }
    } else {
        dir = xstrdup(cfg.data_dir);
        if (fileio_mkdirs(dir, 0700) < 0) {
            fprintf(stderr, "spmigd: cannot create data dir %s: %s\n", dir, strerror(errno));
            free(dir);
            config_finish(&cfg);
            return 2;
        }
    }
    int exit_code = 2;
    struct http_server *sp = NULL, *blob = NULL, *queue = NULL;
    bool workers = false;
    char *lockpath = xasprintf("%s/spmig.lock", dir);
    int lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(lockpath);
    if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
        fprintf(stderr, "spmigd: data dir %s is in use by another spmigd (or not writable)\n", dir);
        goto out;
    }
    char *dbpath = xasprintf("%s/spmig.db", dir);
    int dbrc = db_open(dbpath, cfg.durability_fsync);
    free(dbpath);
    if (dbrc < 0 || store_files_init(dir, cfg.durability_fsync) < 0 || accounts_load() < 0) {
        fprintf(stderr, "spmigd: cannot open the store in %s (see the log above)\n", dir);
        goto out_db;
    }
    audit_start();
    if (restore_clock(&cfg) < 0)
        goto out_db;
    extents_remove_orphans();
    char *token_file = xasprintf("%s/admin-token", dir);
    if (sp_model_init(cfg.tenant) < 0 ||
        sp_auth_init(cfg.tenant, cfg.admin_token, token_file) < 0) {
        fprintf(stderr, "spmigd: cannot set up the tenant (see the log above)\n");
        free(token_file);
        goto out_db;
    }
    if (import_job_start(cfg.import_workers) < 0) {
        free(token_file);
        goto out_db;
    }
    workers = true;
    if (lifecycle_start(&cfg.policy, cfg.has_seed, cfg.seed) < 0 ||
        mm_dispatch_start(cfg.agent_timeout, cfg.agent_grace) < 0) {
        free(token_file);
        goto out_listeners;
    }

    /* Storage first: the SharePoint listener hands out their URLs. */
    const struct http_limits lim = {cfg.max_connections, cfg.max_connections_per_client,
                                    cfg.connection_timeout, cfg.header_timeout};
    blob = http_server_create(cfg.host, cfg.blob_port, &blob_api_ops, &lim);
    queue = http_server_create(cfg.host, cfg.queue_port, &queue_api_ops, &lim);
    /* The name clients reach the listeners by: --public-host, else --host; on a wildcard
     * address without --public-host, the storage URLs name the host each client called. */
    const char *name = cfg.public_host ? cfg.public_host : cfg.host;
    char host[300];
    snprintf(host, sizeof host, strchr(name, ':') ? "[%s]" : "%s", name);
    bool wildcard = !cfg.public_host && (!strcmp(cfg.host, "0.0.0.0") || !strcmp(cfg.host, "::"));
    if (blob && queue) {
        char *b = xasprintf("http://%s:%u", wildcard ? "" : host, http_server_port(blob));
        char *q = xasprintf("http://%s:%u", wildcard ? "" : host, http_server_port(queue));
        migration_api_register(b, q);
        emu_api_register();
        mm_api_register();
        web_page_register();
        free(b);
        free(q);
        sp = http_server_create(cfg.host, cfg.sp_port, &sp_api_ops, &lim);
    }
    if (!sp || !blob || !queue) {
        fprintf(stderr, "spmigd: cannot start the listeners on %s (ports %u, %u, %u)\n", cfg.host,
                cfg.sp_port, cfg.blob_port, cfg.queue_port);
        free(token_file);
        goto out_listeners;
    }
    char *ready = xasprintf("{\"ready\":true,\"sp\":\"http://%s:%u\",\"blob\":\"http://%s:%u\","
                            "\"queue\":\"http://%s:%u\"}",
                            host, http_server_port(sp), host, http_server_port(blob), host,
                            http_server_port(queue));
    if (cfg.in_memory && !cfg.admin_token)
        fprintf(stderr, "spmigd: --in-memory without --admin-token: the admin token is in %s\n",
                token_file);
    free(token_file);
    if (!cfg.in_memory)
        write_endpoints(dir, ready);
    printf("%s\n", ready);
    fflush(stdout);
    free(ready);

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("stopping on signal %d", sig);
    mm_dispatch_stop(); /* wakes the heartbeats waiting in long polls */
    http_server_quiesce(sp);
    http_server_quiesce(blob);
    http_server_quiesce(queue);
    exit_code = 0;
out_listeners:
    http_server_destroy(sp);
    http_server_destroy(blob);
    http_server_destroy(queue);
    mm_dispatch_stop();
    lifecycle_stop();
    if (workers)
        import_job_stop();
out_db:
    audit_stop();
    jobs_keys_wipe();
    accounts_unload();
    db_close();
out:
    if (lockfd >= 0)
        close(lockfd);
    if (cfg.in_memory)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
    config_finish(&cfg);
    xmlCleanupParser();
    return exit_code;
}
