/*
 * soak.c: the load test. Many concurrent keep-alive connections (1,000 by default) spread
 * over spmigd's three listeners run small mixed operations for a fixed time (Blob: Put Blob
 * and Get Blob of 1 KiB; Queue: Put Message, then Get Messages + Delete Message; SharePoint:
 * GET /_api/web with the bearer token), while an attacker keeps slow connections open that
 * send one header byte a second. Reports throughput, p50/p99 latency per listener, errors,
 * and how often the server cut the attacker off. Starting spmigd is the caller's job.
 *
 * Clients connect from several loopback addresses (127.0.0.2 and up), as many machines
 * would; the attacker from one address of its own.
 */
#include "azhttp.h"
#include "b64.h"
#include "sas.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ACCOUNT "devstoreaccount1"
#define DEV_KEY_B64                                                                                \
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define CONTAINER  "soak"
#define QUEUE      "soakq"
#define CONNS_MAX  4000
#define SLOW_MAX   2000
#define SOURCES    50  /* client source addresses 127.0.0.2 .. 127.0.0.51 */
#define BUCKETS    120 /* latency histogram: 10 buckets a decade from 10 us to 10^12 us */
#define BODY_BYTES 1024

enum kind { K_BLOB, K_QUEUE, K_SP, KINDS };
static const char *kind_name[KINDS] = {"blob", "queue", "sp"};

static struct {
    const char *host, *token;
    int port[KINDS];
    int conns, slow, seconds;
    enum kind mix[KINDS]; /* the kinds connections take in turn */
    int nmix;
} opt = {.host = "127.0.0.1",
         .conns = 1000,
         .slow = 300,
         .seconds = 60,
         .mix = {K_BLOB, K_QUEUE, K_SP},
         .nmix = KINDS};

/* "--mix blob,sp": the kinds the connections take in turn; 0, or -1 for an unknown one. */
static int parse_mix(const char *v)
{
    opt.nmix = 0;
    char *copy = strdup(v), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < KINDS && strcmp(t, kind_name[k]) != 0)
            k++;
        if (k == KINDS || opt.nmix == KINDS) {
            free(copy);
            return -1;
        }
        opt.mix[opt.nmix++] = (enum kind)k;
    }
    free(copy);
    return opt.nmix ? 0 : -1;
}

static char *acct_sas;
static _Atomic bool stopping;
static _Atomic uint64_t ops[KINDS], errors[KINDS], hist[KINDS][BUCKETS];
static _Atomic uint64_t slow_cut, slow_opened;
static char first_error[KINDS][AZHTTP_ERR_LEN + 64];
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void record(enum kind k, double seconds, bool ok, const char *why)
{
    if (!ok) {
        atomic_fetch_add(&errors[k], 1);
        pthread_mutex_lock(&err_lock);
        if (!first_error[k][0])
            snprintf(first_error[k], sizeof first_error[k], "%s", why);
        pthread_mutex_unlock(&err_lock);
        return;
    }
    atomic_fetch_add(&ops[k], 1);
    double us = seconds * 1e6;
    int b = us <= 10 ? 0 : (int)(10 * log10(us / 10));
    atomic_fetch_add(&hist[k][b < BUCKETS ? b : BUCKETS - 1], 1);
}

/* The latency (ms) under which a fraction q of k's operations finished: the bucket's top. */
static double quantile(enum kind k, double q)
{
    uint64_t total = 0, seen = 0;
    for (int b = 0; b < BUCKETS; b++)
        total += hist[k][b];
    for (int b = 0; b < BUCKETS; b++) {
        seen += hist[k][b];
        if (total && seen >= q * total)
            return 10 * pow(10, (b + 1) / 10.0) / 1000;
    }
    return 0;
}

/* One timed request; ok when the status is want. */
static bool timed(struct azconn *c, enum kind k, const char *method, const char *target,
                  const char *hdrs, const void *body, size_t n, int want, struct azsink *sk)
{
    char err[AZHTTP_ERR_LEN];
    double t0 = now_s();
    int rc = azhttp_expect(c, method, target, hdrs, body, n, sk, want, err);
    char why[AZHTTP_ERR_LEN + 64];
    snprintf(why, sizeof why, "%s %s: %s", method, kind_name[k], err);
    record(k, now_s() - t0, rc == 0, why);
    return rc == 0;
}

struct worker {
    pthread_t th;
    int id;
    enum kind kind;
    char source[16];
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct azconn c;
    azconn_init(&c, opt.host, opt.port[w->kind]);
    c.source = w->source;
    unsigned char body[BODY_BYTES];
    memset(body, 'a' + w->id % 26, sizeof body);
    unsigned char got[BODY_BYTES + 16];
    char target[1024], hdrs[600];
    unsigned n = 0;
    while (!atomic_load(&stopping)) {
        n++;
        switch (w->kind) {
        case K_BLOB: {
            snprintf(target, sizeof target, "/%s/%s/w%d-%u?%s", ACCOUNT, CONTAINER, w->id, n % 8,
                     acct_sas);
            if (timed(&c, K_BLOB, "PUT", target, "x-ms-blob-type: BlockBlob\r\n", body, sizeof body,
                      201, NULL)) {
                struct azsink sk = {.buf = got, .cap = sizeof got};
                if (timed(&c, K_BLOB, "GET", target, NULL, NULL, 0, 200, &sk) &&
                    (sk.len != sizeof body || memcmp(got, body, sizeof body) != 0))
                    record(K_BLOB, 0, false, "GET blob: other bytes than were put");
            }
            break;
        }
        case K_QUEUE: {
            snprintf(target, sizeof target, "/%s/%s/messages?%s", ACCOUNT, QUEUE, acct_sas);
            static const char msg[] =
                "<QueueMessage><MessageText>soak</MessageText></QueueMessage>";
            timed(&c, K_QUEUE, "POST", target, NULL, msg, sizeof msg - 1, 201, NULL);
            snprintf(target, sizeof target, "/%s/%s/messages?numofmessages=1&%s", ACCOUNT, QUEUE,
                     acct_sas);
            unsigned char xml[4096];
            struct azsink sk = {.buf = xml, .cap = sizeof xml - 1};
            if (!timed(&c, K_QUEUE, "GET", target, NULL, NULL, 0, 200, &sk))
                break;
            xml[sk.len] = '\0';
            const char *id = strstr((char *)xml, "<MessageId>");
            const char *pop = strstr((char *)xml, "<PopReceipt>");
            if (!id || !pop)
                break; /* another worker took them all */
            char idv[64] = "", popv[128] = "", pope[400];
            sscanf(id + 11, "%63[^<]", idv);
            sscanf(pop + 12, "%127[^<]", popv);
            azhttp_pct_encode(popv, pope, sizeof pope);
            snprintf(target, sizeof target, "/%s/%s/messages/%s?popreceipt=%s&%s", ACCOUNT, QUEUE,
                     idv, pope, acct_sas);
            timed(&c, K_QUEUE, "DELETE", target, NULL, NULL, 0, 204, NULL);
            break;
        }
        default:
            snprintf(hdrs, sizeof hdrs,
                     "Authorization: Bearer %s\r\nAccept: application/json;odata=nometadata\r\n",
                     opt.token);
            timed(&c, K_SP, "GET", "/_api/web", hdrs, NULL, 0, 200, NULL);
            break;
        }
    }
    azconn_finish(&c);
    return NULL;
}

/* The attacker: opt.slow sockets from one address, each sending one more header byte a
 * second; a socket the server closed is opened again. */
static int slow_open(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.250", &src.sin_addr);
    bind(fd, (struct sockaddr *)&src, sizeof src);
    static unsigned next;
    dst.sin_port = htons((uint16_t)opt.port[next++ % KINDS]);
    inet_pton(AF_INET, opt.host, &dst.sin_addr);
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    atomic_fetch_add(&slow_opened, 1);
    return fd;
}

static void *attack(void *arg)
{
    (void)arg;
    static int fds[SLOW_MAX];
    static unsigned sent[SLOW_MAX];
    static const char head[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for (int i = 0; i < opt.slow; i++)
        fds[i] = slow_open();
    while (!atomic_load(&stopping)) {
        for (int i = 0; i < opt.slow; i++) {
            if (fds[i] < 0) {
                fds[i] = slow_open();
                sent[i] = 0;
                continue;
            }
            char c = head[sent[i] < sizeof head - 1 ? sent[i] : sizeof head - 2];
            char sink[256];
            /* An answer (an error) or a close from the server: it cut the attacker off. */
            ssize_t r = recv(fds[i], sink, sizeof sink, MSG_DONTWAIT);
            bool cut = r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
            if (!cut && send(fds[i], &c, 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN)
                cut = true;
            if (cut) {
                atomic_fetch_add(&slow_cut, 1);
                close(fds[i]);
                fds[i] = -1;
                continue;
            }
            sent[i]++;
        }
        sleep(1);
    }
    for (int i = 0; i < opt.slow; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return NULL;
}

static bool setup(void)
{
    size_t keylen;
    unsigned char key[64];
    long k = b64_decode_to(DEV_KEY_B64, strlen(DEV_KEY_B64), key, sizeof key);
    keylen = k > 0 ? (size_t)k : 0;
    struct sas_grant ag = {.svc = SAS_BLOB,
                           .account = true,
                           .version = AZHTTP_VERSION,
                           .permissions = "rwdlacup",
                           .services = "bq",
                           .resource_types = "sco",
                           .expiry_ms = (int64_t)time(NULL) * 1000 + 86400000,
                           .account_name = ACCOUNT};
    acct_sas = sas_build(&ag, key, keylen);
    char target[2048], err[AZHTTP_ERR_LEN];
    struct azconn c;
    azconn_init(&c, opt.host, opt.port[K_BLOB]);
    snprintf(target, sizeof target, "/%s/%s?restype=container&%s", ACCOUNT, CONTAINER, acct_sas);
    bool ok = acct_sas && azhttp_expect(&c, "PUT", target, NULL, NULL, 0, NULL, 201, err) == 0;
    azconn_finish(&c);
    azconn_init(&c, opt.host, opt.port[K_QUEUE]);
    snprintf(target, sizeof target, "/%s/%s?%s", ACCOUNT, QUEUE, acct_sas);
    ok = ok && azhttp_expect(&c, "PUT", target, NULL, NULL, 0, NULL, 201, err) == 0;
    azconn_finish(&c);
    if (!ok)
        fprintf(stderr, "soak: setup failed: %s\n", err);
    return ok;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: soak --blob PORT --queue PORT --sp PORT --token T [--conns N (1000)] "
            "[--slow N (300)] [--seconds S (60)] [--host 127.0.0.1] [--mix blob,queue,sp]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (!strcmp(a, "--blob"))
            opt.port[K_BLOB] = atoi(v);
        else if (!strcmp(a, "--queue"))
            opt.port[K_QUEUE] = atoi(v);
        else if (!strcmp(a, "--sp"))
            opt.port[K_SP] = atoi(v);
        else if (!strcmp(a, "--token"))
            opt.token = v;
        else if (!strcmp(a, "--conns"))
            opt.conns = atoi(v);
        else if (!strcmp(a, "--slow"))
            opt.slow = atoi(v);
        else if (!strcmp(a, "--seconds"))
            opt.seconds = atoi(v);
        else if (!strcmp(a, "--host"))
            opt.host = v;
        else if (!strcmp(a, "--mix")) {
            if (parse_mix(v) < 0)
                usage();
        } else
            usage();
        i++;
    }
    if (!opt.port[K_BLOB] || !opt.port[K_QUEUE] || !opt.port[K_SP] || !opt.token || opt.conns < 1 ||
        opt.conns > CONNS_MAX || opt.slow < 0 || opt.slow > SLOW_MAX || opt.seconds < 1 ||
        opt.seconds > 3600)
        usage();
    if (!setup())
        return 1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t attacker;
    if (opt.slow)
        pthread_create(&attacker, &attr, attack, NULL);
    struct worker *w = calloc((size_t)opt.conns, sizeof *w);
    for (int i = 0; i < opt.conns; i++) {
        w[i].id = i;
        w[i].kind = opt.mix[i % opt.nmix];
        snprintf(w[i].source, sizeof w[i].source, "127.0.0.%d", 2 + i % SOURCES);
        if (pthread_create(&w[i].th, &attr, work, &w[i]) != 0) {
            fprintf(stderr, "soak: cannot start connection thread %d\n", i);
            return 1;
        }
    }
    double t0 = now_s();
    while (now_s() - t0 < opt.seconds)
        usleep(100 * 1000);
    atomic_store(&stopping, true);
    for (int i = 0; i < opt.conns; i++)
        pthread_join(w[i].th, NULL);
    if (opt.slow)
        pthread_join(attacker, NULL);
    double took = now_s() - t0;
    printf("| listener | operations | ops/s | p50 ms | p99 ms | errors "
           "|\n|---|---|---|---|---|---|\n");
    uint64_t all_errors = 0;
    for (int k = 0; k < KINDS; k++) {
        all_errors += errors[k];
        printf("| %s | %llu | %.0f | %.2f | %.2f | %llu |\n", kind_name[k],
               (unsigned long long)ops[k], ops[k] / took, quantile(k, 0.5), quantile(k, 0.99),
               (unsigned long long)errors[k]);
    }
    printf("\n%d connections for %.0f s; %d slow attacker sockets: opened %llu times, cut off "
           "by the server %llu times\n",
           opt.conns, took, opt.slow, (unsigned long long)slow_opened,
           (unsigned long long)slow_cut);
    for (int k = 0; k < KINDS; k++)
        if (first_error[k][0])
            printf("first %s error: %s\n", kind_name[k], first_error[k]);
    free(w);
    free(acct_sas);
    return all_errors ? 1 : 0;
}
