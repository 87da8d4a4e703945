/*
 * azload.c: the benchmark's load generator. Runs the same Blob and Queue loads against
 * several Azure Storage endpoints (spmigd and Azurite) side by side, samples each server's
 * CPU time and peak RSS from /proc, and prints a markdown report. One thread per connection,
 * each with a blocking keep-alive socket (azhttp.c). Starting and stopping the servers is
 * run.sh's job.
 */
#include "azhttp.h"
#include "b64.h"
#include "sas.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SAS_VERSION "2025-11-05"
#define ACCOUNT     "devstoreaccount1"
#define DEV_KEY_B64                                                                                \
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define BENCH_CONTAINER "bench"
#define SCALE_CONTAINER "scale"
#define BENCH_QUEUE     "benchq"
#define TARGETS_MAX     4
#define RUNS_MAX        9
#define SCALE_MAX       6
#define CONC_MAX        256
#define MAX_ERRORS      50 /* a phase stops after this many failed operations */

/* ---------------------------------------------------------------- options and state */

static struct {
    long small_n, small_size, large_mib, block_mib, queue_n, msg_len;
    int conc, inflight, runs;
    long scale[SCALE_MAX];
    int nscale;
    double max_seconds, phase_seconds;
    bool do_small, do_large, do_queue, do_scale;
    const char *raw_path;
} opt = {
    .small_n = 2000,
    .small_size = 4096,
    .large_mib = 256,
    .block_mib = 4,
    .queue_n = 2000,
    .msg_len = 256,
    .conc = 16,
    .inflight = 4,
    .runs = 3,
    .scale = {1000, 10000, 100000},
    .nscale = 3,
    .max_seconds = 780,
    .phase_seconds = 240,
    .do_small = true,
    .do_large = true,
    .do_queue = true,
    .do_scale = true,
};

/* One measured quantity for one target: a value per run plus what it cost the server. */
struct measure {
    double v[RUNS_MAX];    /* the figure (req/s, MiB/s, ...) */
    double cpu[RUNS_MAX];  /* server CPU seconds during the run */
    double ccpu[RUNS_MAX]; /* load generator CPU seconds during the run */
    double wall[RUNS_MAX];
    double foreign[RUNS_MAX]; /* share of one CPU other processes used during the run */
    long ops[RUNS_MAX];
    long size_at[RUNS_MAX]; /* scaling: blobs in the container when the run began */
    int n;
    long errors;
    char note[AZHTTP_ERR_LEN];
};

enum { M_SMALL_PUT, M_SMALL_GET, M_LARGE_UP, M_LARGE_DOWN, M_QPUT, M_QPAIR, M_COUNT };

struct target {
    char name[32];
    char host[64];
    int blob_port, queue_port;
    pid_t pid;
    long scale_max; /* 0: every scaling size */
    char *acct_sas, *csas_bench, *csas_scale, *qsas;
    bool blob_ok, queue_ok;
    char blob_note[AZHTTP_ERR_LEN], queue_note[AZHTTP_ERR_LEN];
    struct measure m[M_COUNT];
    struct measure scale_put[SCALE_MAX], scale_get[SCALE_MAX];
    char scale_note[SCALE_MAX][AZHTTP_ERR_LEN];
    long scale_count; /* blobs in the scale container so far */
    double rss_start, hwm_after[4], rss_end, cpu_total;
};

static struct target targets[TARGETS_MAX];
static int ntargets;
static unsigned char key[64];
static size_t keylen;
static double t_begin;
static unsigned char *large_data;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double global_deadline(void)
{
    return t_begin + opt.max_seconds;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("azload: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void progress(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%6.1fs] ", now_s() - t_begin);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void *xcalloc_or_die(size_t n, size_t sz)
{
    void *p = calloc(n, sz);
    if (!p)
        die("out of memory");
    return p;
}

/* ---------------------------------------------------------------- /proc sampling */

/* utime + stime of pid in seconds, or -1. */
static double proc_cpu(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* comm may hold spaces; fields restart after it */
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14)
     * stime(15) */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A "VmXxx:  1234 kB" field of /proc/pid/status in MiB, or -1. */
static double proc_status_mib(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    double v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            v = strtod(line + fl + 1, NULL) / 1024.0;
            break;
        }
    }
    fclose(f);
    return v;
}

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---------------------------------------------------------------- deterministic data */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void fill_random(uint64_t seed, unsigned char *p, size_t n)
{
    uint64_t s = seed;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t r = splitmix(&s);
        memcpy(p + i, &r, 8);
    }
    if (i < n) {
        uint64_t r = splitmix(&s);
        memcpy(p + i, &r, n - i);
    }
}

static uint64_t name_seed(const char *name)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

/* ---------------------------------------------------------------- phases */

struct scratch {
    unsigned char *expect; /* small blob content, regenerated per request */
    unsigned char *body;   /* response body buffer */
    size_t body_cap;
    long empty_polls;
};

struct phase;
typedef int (*op_fn)(struct phase *ph, struct azconn *c, long i, struct scratch *s, char *err);

struct phase {
    struct target *t;
    int port;
    long n;
    int conc;
    op_fn op;
    const char *container, *sas, *prefix;
    long offset; /* first index for fill names */
    double deadline;
    atomic_long next, done, errors, empty_polls;
    atomic_bool stop;
    pthread_barrier_t start;
    pthread_mutex_t mu;
    char first_err[AZHTTP_ERR_LEN];
};

struct phase_result {
    long done, errors, empty_polls;
    double wall, server_cpu, client_cpu;
    double foreign_cpu; /* CPU seconds used by every other process on the machine */
    bool timed_out;
    char err[AZHTTP_ERR_LEN];
};

/* Busy CPU seconds of the whole machine (all CPUs) from /proc/stat, or -1. */
static double machine_busy(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    unsigned long long u = 0, ni = 0, sy = 0, id = 0, io = 0, irq = 0, sirq = 0, st = 0;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &ni, &sy, &id, &io, &irq,
                   &sirq, &st);
    fclose(f);
    if (n != 8)
        return -1;
    return (double)(u + ni + sy + irq + sirq + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The clocks a timed phase reads at its start and end. */
struct clocks {
    double wall, server, client, busy, targets;
};

static void clocks_read(const struct target *t, struct clocks *c)
{
    c->targets = 0;
    for (int x = 0; x < ntargets; x++) {
        double v = proc_cpu(targets[x].pid);
        c->targets += v > 0 ? v : 0;
    }
    c->server = proc_cpu(t->pid);
    c->client = self_cpu();
    c->busy = machine_busy();
    c->wall = now_s();
}

/* Fills the time fields of r from the clocks read at the start. */
static void clocks_since(const struct target *t, const struct clocks *c0, struct phase_result *r)
{
    struct clocks c1;
    clocks_read(t, &c1);
    r->wall = c1.wall - c0->wall;
    r->server_cpu = c1.server - c0->server;
    r->client_cpu = c1.client - c0->client;
    r->foreign_cpu = (c1.busy - c0->busy) - (c1.targets - c0->targets) - r->client_cpu;
    if (r->foreign_cpu < 0 || c0->busy < 0)
        r->foreign_cpu = 0;
}

static void phase_error(struct phase *ph, const char *msg)
{
    pthread_mutex_lock(&ph->mu);
    if (!ph->first_err[0])
        snprintf(ph->first_err, sizeof ph->first_err, "%s", msg);
    pthread_mutex_unlock(&ph->mu);
    if (atomic_fetch_add(&ph->errors, 1) + 1 >= MAX_ERRORS)
        atomic_store(&ph->stop, true);
}

static void *phase_worker(void *arg)
{
    struct phase *ph = arg;
    struct azconn c;
    azconn_init(&c, ph->t->host, ph->port);
    char err[AZHTTP_ERR_LEN];
    if (azconn_open(&c) < 0) {
        snprintf(err, sizeof err, "connect: %s", strerror(errno));
        phase_error(ph, err);
    }
    struct scratch s = {0};
    s.expect = xcalloc_or_die(1, (size_t)opt.small_size + 1);
    s.body_cap = (size_t)opt.small_size + 65536;
    s.body = xcalloc_or_die(1, s.body_cap);
    pthread_barrier_wait(&ph->start);
    while (!atomic_load(&ph->stop) && now_s() < ph->deadline) {
        long i = atomic_fetch_add(&ph->next, 1);
        if (i >= ph->n)
            break;
        err[0] = '\0';
        if (ph->op(ph, &c, i, &s, err) == 0)
            atomic_fetch_add(&ph->done, 1);
        else
            phase_error(ph, err);
    }
    atomic_fetch_add(&ph->empty_polls, s.empty_polls);
    free(s.expect);
    free(s.body);
    azconn_finish(&c);
    return NULL;
}

/*
 * Before a timed phase: flushes dirty pages (sync), then waits (at most SETTLE_MAX_S) until
 * every other target is idle: under SETTLE_IDLE of a CPU over a SETTLE_WINDOW_S window.
 * Azurite saves its database a few seconds after a burst of writes, and the kernel writes
 * back a fill of 100,000 files for a while; on two cores either would otherwise be charged to
 * the next run.
 */
#define SETTLE_MAX_S    8.0
#define SETTLE_WINDOW_S 0.25
#define SETTLE_IDLE     0.05 /* other targets: share of one CPU */
#define SETTLE_FOREIGN  0.20 /* every other process on the machine */
static void settle_others(const struct target *t)
{
    sync(); /* the previous phase's dirty pages are written back now, not during this one */
    double until = now_s() + SETTLE_MAX_S;
    while (now_s() < until && now_s() < global_deadline()) {
        struct clocks c0, c1;
        clocks_read(t, &c0);
        struct timespec ts = {0, (long)(SETTLE_WINDOW_S * 1e9)};
        nanosleep(&ts, NULL);
        clocks_read(t, &c1);
        double other_targets = (c1.targets - c0.targets) - (c1.server - c0.server);
        double foreign = (c1.busy - c0.busy) - (c1.targets - c0.targets) - (c1.client - c0.client);
        if (other_targets < SETTLE_IDLE * SETTLE_WINDOW_S &&
            (c0.busy < 0 || foreign < SETTLE_FOREIGN * SETTLE_WINDOW_S))
            break;
    }
}

/* Runs n operations over conc connections; the clock starts once every connection is open. */
static struct phase_result run_phase(struct target *t, int port, long n, int conc, op_fn op,
                                     const char *container, const char *sas, const char *prefix,
                                     long offset, double limit_s)
{
    struct phase ph = {.t = t,
                       .port = port,
                       .n = n,
                       .conc = conc,
                       .op = op,
                       .container = container,
                       .sas = sas,
                       .prefix = prefix,
                       .offset = offset};
    settle_others(t);
    double dl = now_s() + limit_s;
    ph.deadline = dl < global_deadline() ? dl : global_deadline();
    atomic_init(&ph.next, 0);
    atomic_init(&ph.done, 0);
    atomic_init(&ph.errors, 0);
    atomic_init(&ph.empty_polls, 0);
    atomic_init(&ph.stop, false);
    pthread_mutex_init(&ph.mu, NULL);
    pthread_barrier_init(&ph.start, NULL, (unsigned)conc + 1);
    pthread_t th[CONC_MAX];
    for (int k = 0; k < conc; k++)
        if (pthread_create(&th[k], NULL, phase_worker, &ph) != 0)
            die("pthread_create failed");
    pthread_barrier_wait(&ph.start);
    struct clocks c0;
    clocks_read(t, &c0);
    for (int k = 0; k < conc; k++)
        pthread_join(th[k], NULL);
    struct phase_result r = {0};
    clocks_since(t, &c0, &r);
    r.done = atomic_load(&ph.done);
    r.errors = atomic_load(&ph.errors);
    r.empty_polls = atomic_load(&ph.empty_polls);
    r.timed_out = r.done < n && r.errors < MAX_ERRORS;
    snprintf(r.err, sizeof r.err, "%s", ph.first_err);
    pthread_barrier_destroy(&ph.start);
    pthread_mutex_destroy(&ph.mu);
    return r;
}

static void blob_name(const struct phase *ph, long i, char *out, size_t cap)
{
    snprintf(out, cap, "%s-%07ld", ph->prefix, ph->offset + i);
}

static int op_small_put(struct phase *ph, struct azconn *c, long i, struct scratch *s, char *err)
{
    char name[128], target[2048];
    blob_name(ph, i, name, sizeof name);
    fill_random(name_seed(name), s->expect, (size_t)opt.small_size);
    snprintf(target, sizeof target, "/" ACCOUNT "/%s/%s?%s", ph->container, name, ph->sas);
    return azhttp_expect(c, "PUT", target,
                         "x-ms-blob-type: BlockBlob\r\nContent-Type: application/octet-stream\r\n",
                         s->expect, (size_t)opt.small_size, NULL, 201, err);
}

static int op_small_get(struct phase *ph, struct azconn *c, long i, struct scratch *s, char *err)
{
    char name[128], target[2048];
    blob_name(ph, i, name, sizeof name);
    fill_random(name_seed(name), s->expect, (size_t)opt.small_size);
    snprintf(target, sizeof target, "/" ACCOUNT "/%s/%s?%s", ph->container, name, ph->sas);
    struct azsink sk = {.expect = s->expect, .expect_len = (size_t)opt.small_size};
    int rc = azhttp_expect(c, "GET", target, NULL, NULL, 0, &sk, 200, err);
    if (rc == 0 && (sk.mismatch || sk.total != (uint64_t)opt.small_size)) {
        snprintf(err, AZHTTP_ERR_LEN, "GET %s: content differs (%" PRIu64 " bytes)", name,
                 sk.total);
        return -1;
    }
    return rc;
}

static void block_id(long i, char out[64])
{
    char raw[32], b64[48];
    snprintf(raw, sizeof raw, "block-%06ld", i); /* 12 bytes: every id the same length */
    b64_encode_to(raw, strlen(raw), b64);
    azhttp_pct_encode(b64, out, 64);
}

static int op_put_block(struct phase *ph, struct azconn *c, long i, struct scratch *s, char *err)
{
    char id[64], target[2048];
    block_id(i, id);
    snprintf(target, sizeof target, "/" ACCOUNT "/%s/%s?comp=block&blockid=%s&%s", ph->container,
             ph->prefix, id, ph->sas);
    size_t bs = (size_t)opt.block_mib << 20;
    return azhttp_expect(c, "PUT", target, NULL, large_data + (size_t)i * bs, bs, NULL, 201, err);
}

static void message_text(long i, char *out)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t s = (uint64_t)i * 7919u + 17;
    int n = snprintf(out, 32, "msg-%07ld-", i);
    for (long k = n; k < opt.msg_len; k++)
        out[k] = alpha[splitmix(&s) % (sizeof alpha - 1)];
    out[opt.msg_len] = '\0';
}

static int op_queue_put(struct phase *ph, struct azconn *c, long i, struct scratch *s, char *err)
{
    char target[2048], body[128 + 65536];
    char text[65536 + 1];
    message_text(ph->offset + i, text);
    int bl = snprintf(body, sizeof body,
                      "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessage><MessageText>%s"
                      "</MessageText></QueueMessage>",
                      text);
    snprintf(target, sizeof target, "/" ACCOUNT "/%s/messages?%s", ph->container, ph->sas);
    return azhttp_expect(c, "POST", target, "Content-Type: application/xml\r\n", body, (size_t)bl,
                         NULL, 201, err);
}

/* Copies the text of the first <tag>...</tag> in xml, undoing the five XML entities. */
static bool xml_field(const char *xml, const char *tag, char *out, size_t cap)
{
    char open[64], close_tag[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close_tag, sizeof close_tag, "</%s>", tag);
    const char *a = strstr(xml, open);
    if (!a)
        return false;
    a += strlen(open);
    const char *b = strstr(a, close_tag);
    if (!b)
        return false;
    static const struct {
        const char *ent;
        char ch;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    size_t o = 0;
    while (a < b && o + 1 < cap) {
        bool done = false;
        if (*a == '&') {
            for (size_t k = 0; k < sizeof ents / sizeof ents[0]; k++) {
                size_t el = strlen(ents[k].ent);
                if ((size_t)(b - a) >= el && strncmp(a, ents[k].ent, el) == 0) {
                    out[o++] = ents[k].ch;
                    a += el;
                    done = true;
                    break;
                }
            }
        }
        if (!done)
            out[o++] = *a++;
    }
    out[o] = '\0';
    return a == b;
}

/* One Get Messages (numofmessages=1) that yields a message, then its Delete Message. */
static int op_queue_pair(struct phase *ph, struct azconn *c, long i, struct scratch *s, char *err)
{
    char target[4096], id[256], pop[512], pop_enc[1536];
    (void)i;
    for (;;) {
        if (atomic_load(&ph->stop) || now_s() >= ph->deadline) {
            snprintf(err, AZHTTP_ERR_LEN, "no message before the deadline");
            return -1;
        }
        snprintf(target, sizeof target,
                 "/" ACCOUNT "/%s/messages?numofmessages=1&visibilitytimeout=120&%s", ph->container,
                 ph->sas);
        struct azsink sk = {.buf = s->body, .cap = s->body_cap - 1};
        int rc = azhttp_expect(c, "GET", target, NULL, NULL, 0, &sk, 200, err);
        if (rc != 0)
            return -1;
        s->body[sk.len] = '\0';
        if (xml_field((char *)s->body, "MessageId", id, sizeof id) &&
            xml_field((char *)s->body, "PopReceipt", pop, sizeof pop))
            break;
        s->empty_polls++;
    }
    char id_enc[768];
    azhttp_pct_encode(id, id_enc, sizeof id_enc);
    azhttp_pct_encode(pop, pop_enc, sizeof pop_enc);
    snprintf(target, sizeof target, "/" ACCOUNT "/%s/messages/%s?popreceipt=%s&%s", ph->container,
             id_enc, pop_enc, ph->sas);
    return azhttp_expect(c, "DELETE", target, NULL, NULL, 0, NULL, 204, err) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- setup */

static char *mint(const struct sas_grant *g)
{
    char *s = sas_build(g, key, keylen);
    if (!s)
        die("cannot sign a SAS");
    return s;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Creates the containers and the queue with an account SAS and mints the service SAS the loads use.
 */
static void target_setup(struct target *t)
{
    int64_t exp = wall_ms() + 24 * 3600 * 1000LL;
    struct sas_grant ag = {.svc = SAS_BLOB,
                           .account = true,
                           .version = SAS_VERSION,
                           .permissions = "rwdlacup",
                           .services = "bq",
                           .resource_types = "sco",
                           .expiry_ms = exp,
                           .account_name = ACCOUNT};
    t->acct_sas = mint(&ag);
    struct sas_grant cg = {.svc = SAS_BLOB,
                           .version = SAS_VERSION,
                           .permissions = "rw",
                           .resource = "c",
                           .expiry_ms = exp,
                           .account_name = ACCOUNT,
                           .container = BENCH_CONTAINER};
    t->csas_bench = mint(&cg);
    cg.container = SCALE_CONTAINER;
    t->csas_scale = mint(&cg);
    struct sas_grant qg = {.svc = SAS_QUEUE,
                           .version = SAS_VERSION,
                           .permissions = "raup",
                           .expiry_ms = exp,
                           .account_name = ACCOUNT,
                           .container = BENCH_QUEUE};
    t->qsas = mint(&qg);

    char target[2048], err[AZHTTP_ERR_LEN];
    struct azreply rp;
    struct azconn c;
    azconn_init(&c, t->host, t->blob_port);
    t->blob_ok = true;
    const char *containers[] = {BENCH_CONTAINER, SCALE_CONTAINER};
    for (int k = 0; k < 2; k++) {
        snprintf(target, sizeof target, "/" ACCOUNT "/%s?restype=container&%s", containers[k],
                 t->acct_sas);
        err[0] = '\0';
        int rc = azhttp_do(&c, "PUT", target, NULL, NULL, 0, NULL, &rp, err);
        if (rc < 0 || (rp.status != 201 && rp.status != 409)) {
            if (rc == 0)
                snprintf(err, sizeof err, "Create Container -> %d %s", rp.status, rp.error_code);
            snprintf(t->blob_note, sizeof t->blob_note, "%s", err);
            t->blob_ok = false;
        }
    }
    azconn_finish(&c);
    azconn_init(&c, t->host, t->queue_port);
    snprintf(target, sizeof target, "/" ACCOUNT "/" BENCH_QUEUE "?%s", t->acct_sas);
    err[0] = '\0';
    int qrc = azhttp_do(&c, "PUT", target, NULL, NULL, 0, NULL, &rp, err);
    if (qrc < 0 || (rp.status != 201 && rp.status != 204)) {
        if (qrc == 0)
            snprintf(err, sizeof err, "Create Queue -> %d %s", rp.status, rp.error_code);
        snprintf(t->queue_note, sizeof t->queue_note, "%s", err);
        t->queue_ok = false;
    } else {
        t->queue_ok = true;
    }
    azconn_finish(&c);
    progress("%s: blob %s, queue %s", t->name, t->blob_ok ? "ready" : t->blob_note,
             t->queue_ok ? "ready" : t->queue_note);
}

static bool parse_url(const char *url, char *host, size_t cap, int *port)
{
    const char *p = strncmp(url, "http://", 7) == 0 ? url + 7 : url;
    const char *colon = strrchr(p, ':');
    if (!colon || (size_t)(colon - p) >= cap)
        return false;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    *port = atoi(colon + 1);
    return *port > 0 && *port < 65536;
}

/* NAME=BLOB_URL,QUEUE_URL,PID */
static void add_target(const char *spec)
{
    if (ntargets == TARGETS_MAX)
        die("too many targets");
    struct target *t = &targets[ntargets++];
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    char *eq = strchr(buf, '=');
    char *c1 = eq ? strchr(eq, ',') : NULL;
    char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    if (!c2)
        die("target must be NAME=BLOB_URL,QUEUE_URL,PID: %s", spec);
    *eq = *c1 = *c2 = '\0';
    snprintf(t->name, sizeof t->name, "%.31s", buf);
    char qhost[64];
    if (!parse_url(eq + 1, t->host, sizeof t->host, &t->blob_port) ||
        !parse_url(c1 + 1, qhost, sizeof qhost, &t->queue_port))
        die("bad URL in %s", spec);
    t->pid = (pid_t)atoi(c2 + 1);
    if (t->pid <= 0 || proc_cpu(t->pid) < 0)
        die("no process %s for target %s", c2 + 1, t->name);
}

/* ---------------------------------------------------------------- loads */

static void record(struct measure *m, double v, const struct phase_result *r, long n, long size_at)
{
    if (m->n >= RUNS_MAX)
        return;
    int k = m->n++;
    m->v[k] = v;
    m->cpu[k] = r->server_cpu;
    m->ccpu[k] = r->client_cpu;
    m->wall[k] = r->wall;
    m->foreign[k] = r->wall > 0 ? r->foreign_cpu / r->wall : 0;
    m->ops[k] = r->done;
    m->size_at[k] = size_at;
    m->errors += r->errors;
    if (r->done < n && !m->note[0])
        snprintf(m->note, sizeof m->note, "run %d: %ld of %ld done%s%.120s", k + 1, r->done, n,
                 r->timed_out ? " (time limit)" : "; ", r->err);
    else if (r->errors && !m->note[0])
        snprintf(m->note, sizeof m->note, "run %d: %.180s", k + 1, r->err);
}

static FILE *raw;

/* Share of one CPU that other processes used during each timed phase: noise on a shared box. */
#define FOREIGN_MAX 512
static double foreign[FOREIGN_MAX];
static int nforeign;
static char foreign_worst[128];
static double foreign_worst_v;

static void raw_line(const struct target *t, const char *what, int run, double v, const char *unit,
                     const struct phase_result *r, long size_at)
{
    if (r->wall > 0.05 && nforeign < FOREIGN_MAX) {
        double f = r->foreign_cpu / r->wall;
        foreign[nforeign++] = f;
        if (f > foreign_worst_v) {
            foreign_worst_v = f;
            snprintf(foreign_worst, sizeof foreign_worst, "%s %s run %d", t->name, what, run);
        }
    }
    if (!raw)
        return;
    fprintf(raw, "%s\t%s\t%d\t%.3f\t%s\t%ld\t%ld\t%.3f\t%.3f\t%.3f\t%.3f\t%ld\t%s\n", t->name, what,
            run, v, unit, r->done, r->errors, r->wall, r->server_cpu, r->client_cpu, r->foreign_cpu,
            size_at, r->err);
    fflush(raw);
}

static void small_run(struct target *t, int run, const char *container, const char *sas,
                      const char *prefix, long size_at, struct measure *mput, struct measure *mget)
{
    long n = opt.small_n;
    struct phase_result r = run_phase(t, t->blob_port, n, opt.conc, op_small_put, container, sas,
                                      prefix, 0, opt.phase_seconds);
    double v = r.wall > 0 ? (double)r.done / r.wall : 0;
    record(mput, v, &r, n, size_at);
    raw_line(t, mput == &t->m[M_SMALL_PUT] ? "small_put" : "scale_put", run, v, "req/s", &r,
             size_at);
    progress("%s %s PUT run %d: %.0f req/s (%ld ok, %ld err, server CPU %.2fs, others %.2fs) %s",
             t->name, prefix, run, v, r.done, r.errors, r.server_cpu, r.foreign_cpu, r.err);
    long puts_done = r.done;
    if (size_at >= 0)
        t->scale_count += puts_done;
    /* GET only what was written, so a short PUT run does not turn into GET errors */
    long gn = r.errors ? puts_done : n;
    r = run_phase(t, t->blob_port, gn, opt.conc, op_small_get, container, sas, prefix, 0,
                  opt.phase_seconds);
    v = r.wall > 0 ? (double)r.done / r.wall : 0;
    record(mget, v, &r, n, size_at);
    raw_line(t, mget == &t->m[M_SMALL_GET] ? "small_get" : "scale_get", run, v, "req/s", &r,
             size_at);
    progress("%s %s GET run %d: %.0f req/s (%ld ok, %ld err, server CPU %.2fs, others %.2fs) %s",
             t->name, prefix, run, v, r.done, r.errors, r.server_cpu, r.foreign_cpu, r.err);
}

static void load_small(struct target *t, int run)
{
    if (!t->blob_ok)
        return;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "small-r%d", run);
    small_run(t, run, BENCH_CONTAINER, t->csas_bench, prefix, -1, &t->m[M_SMALL_PUT],
              &t->m[M_SMALL_GET]);
}

static void load_large(struct target *t, int run)
{
    if (!t->blob_ok)
        return;
    size_t bs = (size_t)opt.block_mib << 20, total = (size_t)opt.large_mib << 20;
    long nblocks = (long)(total / bs);
    double mib = (double)total / 1048576.0;
    char name[64], target[2048], err[AZHTTP_ERR_LEN] = "";
    snprintf(name, sizeof name, "large-r%d", run);

    /* upload: Put Block x nblocks, inflight at a time, then Put Block List (timed together) */
    settle_others(t);
    struct clocks c0;
    clocks_read(t, &c0);
    struct phase_result r = run_phase(t, t->blob_port, nblocks, opt.inflight, op_put_block,
                                      BENCH_CONTAINER, t->csas_bench, name, 0, opt.phase_seconds);
    size_t xml_cap = 128 + (size_t)nblocks * 64;
    char *xml = xcalloc_or_die(1, xml_cap);
    size_t xl =
        (size_t)snprintf(xml, xml_cap, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    for (long i = 0; i < nblocks; i++) {
        char raw_id[32], b64[48];
        snprintf(raw_id, sizeof raw_id, "block-%06ld", i);
        b64_encode_to(raw_id, strlen(raw_id), b64);
        xl += (size_t)snprintf(xml + xl, xml_cap - xl, "<Latest>%s</Latest>", b64);
    }
    xl += (size_t)snprintf(xml + xl, xml_cap - xl, "</BlockList>");
    struct azconn c;
    azconn_init(&c, t->host, t->blob_port);
    int rc = -1;
    if (r.done == nblocks) {
        snprintf(target, sizeof target, "/" ACCOUNT "/" BENCH_CONTAINER "/%s?comp=blocklist&%s",
                 name, t->csas_bench);
        rc = azhttp_expect(&c, "PUT", target, "Content-Type: application/xml\r\n", xml, xl, NULL,
                           201, err);
    } else {
        snprintf(err, sizeof err, "%ld of %ld blocks: %.150s", r.done, nblocks, r.err);
    }
    free(xml);
    clocks_since(t, &c0, &r);
    r.done = rc == 0 ? 1 : 0;
    r.errors = rc == 0 ? 0 : 1;
    snprintf(r.err, sizeof r.err, "%s", rc == 0 ? "" : err);
    double v = rc == 0 ? mib / r.wall : 0;
    record(&t->m[M_LARGE_UP], v, &r, 1, -1);
    raw_line(t, "large_upload", run, v, "MiB/s", &r, -1);
    progress("%s large upload run %d: %.1f MiB/s (%.2fs, server CPU %.2fs) %s", t->name, run, v,
             r.wall, r.server_cpu, r.err);

    /* download: one streaming GET, every byte compared with what was sent */
    if (rc == 0) {
        snprintf(target, sizeof target, "/" ACCOUNT "/" BENCH_CONTAINER "/%s?%s", name,
                 t->csas_bench);
        azconn_close(&c);
        azconn_open(&c);
        struct azsink sk = {.expect = large_data, .expect_len = total};
        err[0] = '\0';
        settle_others(t);
        clocks_read(t, &c0);
        rc = azhttp_expect(&c, "GET", target, NULL, NULL, 0, &sk, 200, err);
        memset(&r, 0, sizeof r);
        clocks_since(t, &c0, &r);
        if (rc == 0 && (sk.mismatch || sk.total != total)) {
            snprintf(err, sizeof err, "content differs (%" PRIu64 " bytes)", sk.total);
            rc = -1;
        }
        r.done = rc == 0 ? 1 : 0;
        r.errors = rc == 0 ? 0 : 1;
        snprintf(r.err, sizeof r.err, "%s", rc == 0 ? "" : err);
        v = rc == 0 ? mib / r.wall : 0;
        record(&t->m[M_LARGE_DOWN], v, &r, 1, -1);
        raw_line(t, "large_download", run, v, "MiB/s", &r, -1);
        progress("%s large download run %d: %.1f MiB/s (%.2fs, server CPU %.2fs) %s", t->name, run,
                 v, r.wall, r.server_cpu, r.err);
    }
    azconn_finish(&c);
}

static void load_queue(struct target *t, int run)
{
    if (!t->queue_ok)
        return;
    long n = opt.queue_n;
    struct phase_result r = run_phase(t, t->queue_port, n, opt.conc, op_queue_put, BENCH_QUEUE,
                                      t->qsas, "q", (long)(run - 1) * n, opt.phase_seconds);
    double v = r.wall > 0 ? (double)r.done / r.wall : 0;
    record(&t->m[M_QPUT], v, &r, n, -1);
    raw_line(t, "queue_put", run, v, "msg/s", &r, -1);
    progress("%s queue put run %d: %.0f msg/s (%ld ok, %ld err, server CPU %.2fs) %s", t->name, run,
             v, r.done, r.errors, r.server_cpu, r.err);
    r = run_phase(t, t->queue_port, r.done, opt.conc, op_queue_pair, BENCH_QUEUE, t->qsas, "q", 0,
                  opt.phase_seconds);
    v = r.wall > 0 ? (double)r.done / r.wall : 0;
    record(&t->m[M_QPAIR], v, &r, n, -1);
    raw_line(t, "queue_get_delete", run, v, "pairs/s", &r, -1);
    progress("%s queue get+delete run %d: %.0f pairs/s (%ld ok, %ld err, %ld empty polls, "
             "server CPU %.2fs) %s",
             t->name, run, v, r.done, r.errors, r.empty_polls, r.server_cpu, r.err);
}

static double median(const double *v, int n);

/* Fills the scale container to size blobs (when time allows), then measures small PUT and GET. */
static void load_scale(struct target *t, int k)
{
    long size = opt.scale[k];
    if (!t->blob_ok)
        return;
    if (t->scale_max && size > t->scale_max) {
        snprintf(t->scale_note[k], AZHTTP_ERR_LEN, "not run (limited to %ld blobs for this server)",
                 t->scale_max);
        return;
    }
    /* A guess from the small-load medians: stop before a fill that cannot end in time. */
    double put_rate = t->m[M_SMALL_PUT].n ? median(t->m[M_SMALL_PUT].v, t->m[M_SMALL_PUT].n) : 0;
    double get_rate = t->m[M_SMALL_GET].n ? median(t->m[M_SMALL_GET].v, t->m[M_SMALL_GET].n) : 0;
    if (put_rate > 0 && get_rate > 0) {
        double need = (double)(size > t->scale_count ? size - t->scale_count : 0) / put_rate +
                      opt.runs * ((double)opt.small_n / put_rate + (double)opt.small_n / get_rate);
        double left = global_deadline() - now_s();
        if (need > left) {
            snprintf(t->scale_note[k], AZHTTP_ERR_LEN,
                     "not run: would need ~%.0f s at the small-load rates, %.0f s left", need,
                     left);
            progress("%s scale %ld: %s", t->name, size, t->scale_note[k]);
            return;
        }
    }
    if (t->scale_count < size) {
        long n = size - t->scale_count;
        double cpu0 = proc_cpu(t->pid);
        struct phase_result r =
            run_phase(t, t->blob_port, n, opt.conc, op_small_put, SCALE_CONTAINER, t->csas_scale,
                      "fill", t->scale_count, opt.max_seconds);
        t->scale_count += r.done;
        progress("%s fill to %ld: %ld blobs in %.1fs (%.0f/s, server CPU %.1fs) %s", t->name, size,
                 r.done, r.wall, r.wall > 0 ? (double)r.done / r.wall : 0, proc_cpu(t->pid) - cpu0,
                 r.err);
        if (r.done < n) {
            snprintf(t->scale_note[k], AZHTTP_ERR_LEN, "fill stopped at %ld blobs: %.150s",
                     t->scale_count, r.timed_out ? "time limit" : r.err);
            return;
        }
    }
    for (int run = 1; run <= opt.runs; run++) {
        char prefix[48];
        snprintf(prefix, sizeof prefix, "s%ld-r%d", size, run);
        small_run(t, run, SCALE_CONTAINER, t->csas_scale, prefix, t->scale_count, &t->scale_put[k],
                  &t->scale_get[k]);
        if (now_s() >= global_deadline())
            break;
    }
}

/* ---------------------------------------------------------------- report */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    if (n <= 0)
        return 0;
    double s[RUNS_MAX];
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof s[0], cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void fmt_num(double v, char *out, size_t cap)
{
    if (v >= 100)
        snprintf(out, cap, "%.0f", v);
    else if (v >= 10)
        snprintf(out, cap, "%.1f", v);
    else
        snprintf(out, cap, "%.2f", v);
}

/* A run during which other processes used more than this share of one CPU is marked. */
#define NOISY_RUN 0.25

static void fmt_runs(const struct measure *m, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (int k = 0; k < m->n && o < cap; k++) {
        char num[32];
        fmt_num(m->v[k], num, sizeof num);
        o += (size_t)snprintf(out + o, cap - o, "%s%s%s", k ? " / " : "", num,
                              m->foreign[k] > NOISY_RUN ? "†" : "");
    }
    if (!m->n)
        snprintf(out, cap, "n/a");
}

static void fmt_median(const struct measure *m, char *out, size_t cap)
{
    if (!m->n) {
        snprintf(out, cap, "n/a");
        return;
    }
    char num[32];
    fmt_num(median(m->v, m->n), num, sizeof num);
    snprintf(out, cap, "**%s**", num);
}

static struct {
    char label[128];
    const char *unit, *target;
    double want; /* subject/baseline ratio required; 0 = none */
} rows[M_COUNT] = {
    [M_SMALL_PUT] = {"", "req/s", ">= 10x", 10}, [M_SMALL_GET] = {"", "req/s", ">= 10x", 10},
    [M_LARGE_UP] = {"", "MiB/s", ">= 3x", 3},    [M_LARGE_DOWN] = {"", "MiB/s", "(none)", 0},
    [M_QPUT] = {"", "msg/s", "(none)", 0},       [M_QPAIR] = {"", "pairs/s", ">= 10x", 10},
};

static void make_labels(void)
{
    snprintf(rows[M_SMALL_PUT].label, sizeof rows[0].label, "small Put Blob %ld B x %ld, c=%d",
             opt.small_size, opt.small_n, opt.conc);
    snprintf(rows[M_SMALL_GET].label, sizeof rows[0].label,
             "small Get Blob %ld B x %ld, c=%d (verified)", opt.small_size, opt.small_n, opt.conc);
    snprintf(rows[M_LARGE_UP].label, sizeof rows[0].label,
             "%ld MiB upload: %ld x %ld MiB Put Block (%d in flight) + Put Block List",
             opt.large_mib, opt.large_mib / opt.block_mib, opt.block_mib, opt.inflight);
    snprintf(rows[M_LARGE_DOWN].label, sizeof rows[0].label,
             "%ld MiB download: one streaming GET (verified)", opt.large_mib);
    snprintf(rows[M_QPUT].label, sizeof rows[0].label, "queue Put Message %ld chars x %ld, c=%d",
             opt.msg_len, opt.queue_n, opt.conc);
    snprintf(rows[M_QPAIR].label, sizeof rows[0].label,
             "queue Get Messages + Delete Message x %ld, %d workers", opt.queue_n, opt.conc);
}

static const char *verdict(double ratio, double want)
{
    if (want <= 0)
        return "-";
    return ratio >= want ? "met" : "**missed**";
}

static void print_report(FILE *out)
{
    struct target *a = &targets[0], *b = ntargets > 1 ? &targets[1] : NULL;
    char s1[64], s2[64], r1[160], r2[160];
    make_labels();
    fprintf(out, "### Throughput (median of %d runs, same server process)\n\n", opt.runs);
    fprintf(out, "| load | unit | %s | %s | ratio %s/%s | target | verdict | %s runs | %s runs |\n",
            a->name, b ? b->name : "-", a->name, b ? b->name : "-", a->name, b ? b->name : "-");
    fprintf(out, "|---|---|---|---|---|---|---|---|---|\n");
    for (int m = 0; m < M_COUNT; m++) {
        fmt_median(&a->m[m], s1, sizeof s1);
        fmt_runs(&a->m[m], r1, sizeof r1);
        char ratio[32] = "-";
        const char *v = "-";
        if (b) {
            fmt_median(&b->m[m], s2, sizeof s2);
            fmt_runs(&b->m[m], r2, sizeof r2);
            if (a->m[m].n && b->m[m].n) {
                double ra = median(a->m[m].v, a->m[m].n) / median(b->m[m].v, b->m[m].n);
                snprintf(ratio, sizeof ratio, "%.1fx", ra);
                v = verdict(ra, rows[m].want);
            }
        } else {
            snprintf(s2, sizeof s2, "-");
            snprintf(r2, sizeof r2, "-");
        }
        if (!a->m[m].n && rows[m].want > 0)
            v = "**not measured**";
        fprintf(out, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", rows[m].label,
                rows[m].unit, s1, s2, ratio, rows[m].target, v, r1, r2);
    }

    if (nforeign > 0) {
        /* median() takes at most RUNS_MAX values: sort a copy here */
        double *sorted = xcalloc_or_die((size_t)nforeign, sizeof *sorted);
        memcpy(sorted, foreign, sizeof *sorted * (size_t)nforeign);
        qsort(sorted, (size_t)nforeign, sizeof *sorted, cmp_double);
        fprintf(out,
                "\nOther processes on the machine during the %d timed phases used a median "
                "of %.0f%% of one CPU (max %.0f%%, in %s).\n",
                nforeign, 100 * sorted[nforeign / 2], 100 * foreign_worst_v, foreign_worst);
        fprintf(out, "A run marked † had other processes using more than %.0f%% of one CPU.\n",
                100 * NOISY_RUN);
        free(sorted);
    }
    fprintf(out, "\n### Memory and CPU\n\n");
    fprintf(out, "| | %s | %s | target |\n|---|---|---|---|\n", a->name, b ? b->name : "-");
    fprintf(out, "| RSS at start (MiB) | %.1f | %.1f | |\n", a->rss_start, b ? b->rss_start : 0);
    static const char *sect[] = {"small", "large", "queue", "scaling"};
    for (int k = 0; k < 4; k++)
        fprintf(out, "| peak RSS (VmHWM) after the %s load (MiB) | %.1f | %.1f | |\n", sect[k],
                a->hwm_after[k], b ? b->hwm_after[k] : 0);
    double ha = a->hwm_after[3], hb = b ? b->hwm_after[3] : 0;
    if (b && ha > 0 && hb > 0)
        fprintf(out,
                "| **peak RSS, whole run (MiB)** | **%.1f** | **%.1f** | <= 1/5 of %s: %s "
                "(%s/%s = %.3f) |\n",
                ha, hb, b->name, ha <= hb / 5 ? "met" : "**missed**", a->name, b->name, ha / hb);
    fprintf(out, "| RSS at the end (MiB) | %.1f | %.1f | |\n", a->rss_end, b ? b->rss_end : 0);
    fprintf(out, "| server CPU, whole run (s) | %.1f | %.1f | |\n", a->cpu_total,
            b ? b->cpu_total : 0);

    fprintf(out, "\n### Server CPU per operation (median run; the load generator's own CPU in "
                 "brackets)\n\n");
    fprintf(out, "| load | %s server CPU | %s server CPU |\n|---|---|---|\n", a->name,
            b ? b->name : "-");
    for (int m = 0; m < M_COUNT; m++) {
        char cell[2][96];
        for (int x = 0; x < 2; x++) {
            struct target *t = x == 0 ? a : b;
            snprintf(cell[x], sizeof cell[x], "-");
            if (!t || !t->m[m].n)
                continue;
            const struct measure *me = &t->m[m];
            /* pick the median run */
            double med = median(me->v, me->n);
            int mk = 0;
            for (int k = 0; k < me->n; k++)
                if (me->v[k] == med)
                    mk = k;
            bool per_op = m != M_LARGE_UP && m != M_LARGE_DOWN;
            if (per_op && me->ops[mk] > 0)
                snprintf(cell[x], sizeof cell[x], "%.3f ms/op (%.3f ms/op)",
                         1000 * me->cpu[mk] / (double)me->ops[mk],
                         1000 * me->ccpu[mk] / (double)me->ops[mk]);
            else
                snprintf(cell[x], sizeof cell[x], "%.2f s in %.2f s wall (%.2f s)", me->cpu[mk],
                         me->wall[mk], me->ccpu[mk]);
        }
        fprintf(out, "| %s | %s | %s |\n", rows[m].label, cell[0], cell[1]);
    }

    if (opt.do_scale) {
        fprintf(out,
                "\n### Scaling: small Put/Get Blob (%ld B, c=%d, %ld each per run) by blobs "
                "already in one container\n\n",
                opt.small_size, opt.conc, opt.small_n);
        fprintf(out,
                "| container size | %s PUT req/s | %s GET req/s | %s PUT req/s | %s GET req/s "
                "| %s runs (PUT; GET) | %s runs (PUT; GET) | blobs at the start of each run |\n",
                a->name, a->name, b ? b->name : "-", b ? b->name : "-", a->name, b ? b->name : "-");
        fprintf(out, "|---|---|---|---|---|---|---|---|\n");
        for (int k = 0; k < opt.nscale; k++) {
            char c[4][64], runs[2][200], sizes[160] = "";
            for (int x = 0; x < 2; x++) {
                struct target *t = x == 0 ? a : b;
                if (!t) {
                    snprintf(c[2 * x], 64, "-");
                    snprintf(c[2 * x + 1], 64, "-");
                    snprintf(runs[x], 200, "-");
                    continue;
                }
                fmt_median(&t->scale_put[k], c[2 * x], 64);
                fmt_median(&t->scale_get[k], c[2 * x + 1], 64);
                char rp[96], rg[96];
                fmt_runs(&t->scale_put[k], rp, sizeof rp);
                fmt_runs(&t->scale_get[k], rg, sizeof rg);
                if (t->scale_put[k].n)
                    snprintf(runs[x], 200, "%s; %s", rp, rg);
                else
                    snprintf(runs[x], 200, "%s", t->scale_note[k][0] ? t->scale_note[k] : "n/a");
                size_t o = strlen(sizes);
                for (int r = 0; r < t->scale_put[k].n && o < sizeof sizes; r++)
                    o += (size_t)snprintf(sizes + o, sizeof sizes - o, "%s%ld",
                                          r ? "/" : (x ? "; " : ""), t->scale_put[k].size_at[r]);
                if (o < sizeof sizes && t->scale_put[k].n)
                    snprintf(sizes + o, sizeof sizes - o, " (%s)", t->name);
            }
            fprintf(out, "| %ld | %s | %s | %s | %s | %s | %s | %s |\n", opt.scale[k], c[0], c[1],
                    c[2], c[3], runs[0], runs[1], sizes);
        }
        /*
         * Flatness of the subject: no size may fall below 80% of the first size's median
         * (a rise is not a miss). The spread, largest over smallest median, is shown as well.
         */
        for (int x = 0; x < ntargets && x < 2; x++) {
            struct target *t = &targets[x];
            if (!t->scale_put[0].n || !t->scale_get[0].n)
                continue;
            double p0 = median(t->scale_put[0].v, t->scale_put[0].n);
            double g0 = median(t->scale_get[0].v, t->scale_get[0].n);
            double worst = 1, pmin = p0, pmax = p0, gmin = g0, gmax = g0;
            long last = 0;
            fprintf(out, "\n%s, relative to %ld blobs:", t->name, opt.scale[0]);
            for (int k = 1; k < opt.nscale; k++) {
                if (!t->scale_put[k].n || !t->scale_get[k].n)
                    continue;
                double p = median(t->scale_put[k].v, t->scale_put[k].n);
                double g = median(t->scale_get[k].v, t->scale_get[k].n);
                fprintf(out, " at %ld PUT %.2f, GET %.2f;", opt.scale[k], p / p0, g / g0);
                worst = p / p0 < worst ? p / p0 : worst;
                worst = g / g0 < worst ? g / g0 : worst;
                pmin = p < pmin ? p : pmin;
                pmax = p > pmax ? p : pmax;
                gmin = g < gmin ? g : gmin;
                gmax = g > gmax ? g : gmax;
                last = opt.scale[k];
            }
            if (!last) {
                fprintf(out, " no larger size measured\n");
                continue;
            }
            fprintf(out, " spread (largest / smallest median) PUT %.2f, GET %.2f.", pmax / pmin,
                    gmax / gmin);
            if (x == 0)
                fprintf(out, " Target (no drop below 0.80 up to %ld blobs): %s\n", last,
                        worst >= 0.8 ? "met" : "**missed**");
            else
                fprintf(out, " (no target for this server)\n");
        }
    }
    for (int x = 0; x < ntargets; x++) {
        struct target *t = &targets[x];
        for (int m = 0; m < M_COUNT; m++)
            if (t->m[m].note[0] || t->m[m].errors)
                fprintf(out, "\nNote (%s, %s): %ld failed operations; %s\n", t->name, rows[m].label,
                        t->m[m].errors, t->m[m].note);
        if (!t->queue_ok)
            fprintf(out, "\nNote (%s): queue not measured: %s\n", t->name, t->queue_note);
        if (!t->blob_ok)
            fprintf(out, "\nNote (%s): blob not measured: %s\n", t->name, t->blob_note);
        for (int k = 0; k < opt.nscale; k++) {
            if (t->scale_put[k].errors || t->scale_get[k].errors)
                fprintf(out, "\nNote (%s, scaling %ld): %ld failed PUT, %ld failed GET; %s %s\n",
                        t->name, opt.scale[k], t->scale_put[k].errors, t->scale_get[k].errors,
                        t->scale_put[k].note, t->scale_get[k].note);
        }
    }
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fputs("usage: azload [options] NAME=BLOB_URL,QUEUE_URL,PID [NAME=...]\n"
          "       azload --free-ports N      print N free loopback TCP ports and exit\n"
          "Runs the benchmark loads against every target in turn; the first target is compared\n"
          "with the second. Markdown report on stdout, progress on stderr.\n"
          "  --runs N            runs per measure (3)\n"
          "  --small N           small blobs per run (2000); --small-size BYTES (4096)\n"
          "  --conc N            connections for small and queue loads (16)\n"
          "  --large-mib N       large blob size (256); --block-mib N (4); --inflight N (4)\n"
          "  --queue N           messages per run (2000); --msg-len N (256)\n"
          "  --scale A,B,C       container sizes for the scaling load (1000,10000,100000)\n"
          "  --scale-max NAME=N  largest scaling size for target NAME\n"
          "  --loads LIST        subset of small,large,queue,scale (all)\n"
          "  --max-seconds S     whole-run time limit (780); --phase-seconds S per phase (240)\n"
          "  --key BASE64        account key (the development key)\n"
          "  --raw FILE          every run as a TSV line\n",
          stderr);
    exit(2);
}

static int free_ports(int n)
{
    int fds[32];
    if (n < 1 || n > 32)
        usage();
    for (int k = 0; k < n; k++) {
        fds[k] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof sa;
        if (fds[k] < 0 || bind(fds[k], (struct sockaddr *)&sa, sizeof sa) < 0 ||
            getsockname(fds[k], (struct sockaddr *)&sa, &sl) < 0)
            die("cannot find a free port");
        printf("%s%d", k ? " " : "", ntohs(sa.sin_port));
    }
    printf("\n");
    for (int k = 0; k < n; k++)
        close(fds[k]);
    return 0;
}

static long parse_long(const char *s, long lo, long hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi)
        die("bad number: %s", s);
    return v;
}

int main(int argc, char **argv)
{
    const char *key_b64 = DEV_KEY_B64;
    const char *scale_max[TARGETS_MAX * 2] = {0};
    int nscale_max = 0;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--") == 0) {
            i++;
            break;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(o, "--free-ports") == 0)
            return free_ports((int)parse_long(v, 1, 32));
        else if (strcmp(o, "--runs") == 0)
            opt.runs = (int)parse_long(v, 1, RUNS_MAX);
        else if (strcmp(o, "--small") == 0)
            opt.small_n = parse_long(v, 1, 10000000);
        else if (strcmp(o, "--small-size") == 0)
            opt.small_size = parse_long(v, 1, 4 << 20);
        else if (strcmp(o, "--conc") == 0)
            opt.conc = (int)parse_long(v, 1, CONC_MAX);
        else if (strcmp(o, "--large-mib") == 0)
            opt.large_mib = parse_long(v, 1, 4096);
        else if (strcmp(o, "--block-mib") == 0)
            opt.block_mib = parse_long(v, 1, 100);
        else if (strcmp(o, "--inflight") == 0)
            opt.inflight = (int)parse_long(v, 1, CONC_MAX);
        else if (strcmp(o, "--queue") == 0)
            opt.queue_n = parse_long(v, 1, 1000000);
        else if (strcmp(o, "--msg-len") == 0)
            opt.msg_len = parse_long(v, 16, 60000);
        else if (strcmp(o, "--max-seconds") == 0)
            opt.max_seconds = (double)parse_long(v, 1, 86400);
        else if (strcmp(o, "--phase-seconds") == 0)
            opt.phase_seconds = (double)parse_long(v, 1, 86400);
        else if (strcmp(o, "--raw") == 0)
            opt.raw_path = v;
        else if (strcmp(o, "--key") == 0)
            key_b64 = v;
        else if (strcmp(o, "--scale-max") == 0 && nscale_max < TARGETS_MAX * 2)
            scale_max[nscale_max++] = v;
        else if (strcmp(o, "--scale") == 0) {
            opt.nscale = 0;
            char buf[256];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *tok = strtok(buf, ","); tok && opt.nscale < SCALE_MAX;
                 tok = strtok(NULL, ","))
                opt.scale[opt.nscale++] = parse_long(tok, 1, 100000000);
        } else if (strcmp(o, "--loads") == 0) {
            opt.do_small = strstr(v, "small") != NULL;
            opt.do_large = strstr(v, "large") != NULL;
            opt.do_queue = strstr(v, "queue") != NULL;
            opt.do_scale = strstr(v, "scale") != NULL;
        } else
            usage();
    }
    for (; i < argc; i++)
        add_target(argv[i]);
    if (ntargets == 0)
        usage();
    for (int k = 0; k < nscale_max; k++) {
        const char *eq = strchr(scale_max[k], '=');
        if (!eq)
            usage();
        for (int x = 0; x < ntargets; x++)
            if (strncmp(targets[x].name, scale_max[k], (size_t)(eq - scale_max[k])) == 0 &&
                targets[x].name[eq - scale_max[k]] == '\0')
                targets[x].scale_max = parse_long(eq + 1, 1, 100000000);
    }
    long kl = b64_decode_to(key_b64, strlen(key_b64), key, sizeof key);
    if (kl <= 0)
        die("the key is not base64");
    keylen = (size_t)kl;
    if ((opt.large_mib % opt.block_mib) != 0)
        die("--large-mib must be a multiple of --block-mib");
    signal(SIGPIPE, SIG_IGN);
    if (opt.raw_path) {
        raw = fopen(opt.raw_path, "w");
        if (!raw)
            die("cannot write %s", opt.raw_path);
        fprintf(raw, "target\tmeasure\trun\tvalue\tunit\tops\terrors\twall_s\tserver_cpu_s\t"
                     "client_cpu_s\tforeign_cpu_s\tcontainer_size\terror\n");
    }
    t_begin = now_s();

    for (int x = 0; x < ntargets; x++) {
        targets[x].rss_start = proc_status_mib(targets[x].pid, "VmRSS");
        targets[x].cpu_total = proc_cpu(targets[x].pid);
        target_setup(&targets[x]);
    }
    /* each run goes over every target before the next run starts, so slow drift in the
     * machine's speed touches all of them alike */
    if (opt.do_small)
        for (int run = 1; run <= opt.runs; run++)
            for (int x = 0; x < ntargets; x++)
                load_small(&targets[x], run);
    for (int x = 0; x < ntargets; x++)
        targets[x].hwm_after[0] = proc_status_mib(targets[x].pid, "VmHWM");
    if (opt.do_large && now_s() < global_deadline()) {
        size_t total = (size_t)opt.large_mib << 20;
        large_data = malloc(total);
        if (!large_data)
            die("out of memory for the large blob");
        fill_random(0x5eed, large_data, total);
        for (int run = 1; run <= opt.runs; run++)
            for (int x = 0; x < ntargets; x++)
                load_large(&targets[x], run);
        free(large_data);
        large_data = NULL;
    }
    for (int x = 0; x < ntargets; x++)
        targets[x].hwm_after[1] = proc_status_mib(targets[x].pid, "VmHWM");
    if (opt.do_queue && now_s() < global_deadline())
        for (int run = 1; run <= opt.runs; run++)
            for (int x = 0; x < ntargets; x++)
                load_queue(&targets[x], run);
    for (int x = 0; x < ntargets; x++)
        targets[x].hwm_after[2] = proc_status_mib(targets[x].pid, "VmHWM");
    if (opt.do_scale)
        for (int k = 0; k < opt.nscale; k++)
            for (int x = 0; x < ntargets; x++)
                if (now_s() < global_deadline())
                    load_scale(&targets[x], k);
    for (int x = 0; x < ntargets; x++) {
        struct target *t = &targets[x];
        t->hwm_after[3] = proc_status_mib(t->pid, "VmHWM");
        t->rss_end = proc_status_mib(t->pid, "VmRSS");
        t->cpu_total = proc_cpu(t->pid) - t->cpu_total;
    }
    progress("done");
    print_report(stdout);
    if (raw)
        fclose(raw);
    for (int x = 0; x < ntargets; x++) {
        free(targets[x].acct_sas);
        free(targets[x].csas_bench);
        free(targets[x].csas_scale);
        free(targets[x].qsas);
    }
    return 0;
}
