/*
 * test_http.c: unit tests of client/http.c's retry policy against a fake HTTP server run in
 * the test (a thread on a loopback socket, port 0) that answers a script and counts the
 * requests it read: transient statuses retried and counted, 4xx (but 408 and 429) answered at
 * once, Retry-After honoured on 429/503 only and capped at max_wait_s, backoff (growing, with
 * jitter) on 5xx and connection errors, the attempt cap, POST retried like any request, and a
 * cancelled wait. The fake closes every connection after its answer, so each attempt is one
 * fresh connection and libcurl never replays a request on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

/* ---- the fake server ---- */

enum fake_act {
    FAKE_ANSWER, /* status, headers, body */
    FAKE_CLOSE,  /* read the request, close without a word: it may have been applied */
    FAKE_RESET,  /* read the request, reset the connection (RST) */
};

struct fake_step {
    enum fake_act act;
    int status;
    const char *headers; /* extra header lines, each ending in \r\n, or NULL */
    const char *body;    /* or NULL */
};

#define FAKE_MAX_REQUESTS 16

struct fake {
    int lfd;
    char url[64];
    const struct fake_step *steps; /* the last one repeats */
    size_t n_steps;
    atomic_int requests;
    atomic_bool stop;
    char method[FAKE_MAX_REQUESTS][8];
    char body[FAKE_MAX_REQUESTS][64];
    pthread_t thread;
};

/* Reads one request (headers and a Content-Length body); 0, or -1 on EOF or junk. */
static int fake_read_request(int fd, char method[8], char body[64])
{
    char buf[8192];
    size_t len = 0;
    char *end = NULL;
    while (!end) {
        if (len == sizeof buf - 1)
            return -1;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    size_t head = (size_t)(end + 4 - buf), want = 0;
    for (char *h = strchr(buf, '\n'); h && h < end; h = strchr(h + 1, '\n'))
        if (strncasecmp(h + 1, "Content-Length:", 15) == 0)
            want = strtoul(h + 16, NULL, 10);
    while (len - head < want) {
        if (len == sizeof buf - 1)
            return -1;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
    }
    snprintf(method, 8, "%.*s", (int)strcspn(buf, " "), buf);
    snprintf(body, 64, "%.*s", (int)want, buf + head);
    return 0;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    while (!atomic_load(&f->stop)) {
        struct pollfd p = {.fd = f->lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        int i = atomic_load(&f->requests);
        char method[8], body[64];
        if (fake_read_request(fd, method, body) < 0) {
            close(fd);
            continue;
        }
        if (i < FAKE_MAX_REQUESTS) {
            memcpy(f->method[i], method, sizeof method);
            memcpy(f->body[i], body, sizeof body);
        }
        const struct fake_step *s = &f->steps[(size_t)i < f->n_steps ? (size_t)i : f->n_steps - 1];
        atomic_fetch_add(&f->requests, 1);
        if (s->act == FAKE_RESET) {
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        } else if (s->act == FAKE_ANSWER) {
            const char *b = s->body ? s->body : "";
            char out[1024];
            int n = snprintf(out, sizeof out,
                             "HTTP/1.1 %d Scripted\r\nContent-Length: %zu\r\nConnection: close\r\n"
                             "%s\r\n%s",
                             s->status, strlen(b), s->headers ? s->headers : "", b);
            /* No cmocka asserts off the test's thread: a broken fake aborts. */
            if (n <= 0 || (size_t)n >= sizeof out || write(fd, out, (size_t)n) != n)
                abort();
        }
        close(fd);
    }
    return NULL;
}

/* Starts a fake that answers steps[0], steps[1], ... in turn. */
static void fake_start(struct fake *f, const struct fake_step *steps, size_t n)
{
    memset(f, 0, sizeof *f);
    f->steps = steps;
    f->n_steps = n;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->lfd, 16), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &alen), 0);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u/x", (unsigned)ntohs(a.sin_port));
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static int fake_stop(struct fake *f)
{
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    close(f->lfd);
    return atomic_load(&f->requests);
}

/* A loopback URL where nothing listens (the port was bound once, then let go). */
static void refused_url(char url[64])
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    snprintf(url, 64, "http://127.0.0.1:%u/x", (unsigned)ntohs(a.sin_port));
}

/* ---- running one request ---- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One request through a fresh client; returns httpc_request's result and fills r. */
static int run(const struct httpc_options *o, const char *method, const char *url, const char *body,
               struct httpc_response *r, double *seconds)
{
    struct httpc *h = httpc_create(o);
    assert_non_null(h);
    httpc_response_init(r);
    double t0 = now_s();
    int rc = httpc_request(h, method, url, NULL, body, body ? strlen(body) : 0, r);
    if (seconds)
        *seconds = now_s() - t0;
    httpc_destroy(h);
    return rc;
}

#define N(steps) (sizeof(steps) / sizeof(steps)[0])

/* ---- tests ---- */

/* 500, 502, 503 and 504 are retried with backoff, each attempt counted, until the 200. The
 * backoff grows: base, 2 base, 4 base, each drawn from its upper half. */
static void test_5xx_then_200(void **st)
{
    (void)st;
    static const struct fake_step steps[] = {
        {FAKE_ANSWER, 500, NULL, NULL},   {FAKE_ANSWER, 502, NULL, NULL},
        {FAKE_ANSWER, 503, NULL, NULL},   {FAKE_ANSWER, 504, NULL, NULL},
        {FAKE_ANSWER, 200, NULL, "done"},
    };
    struct fake f;
    fake_start(&f, steps, N(steps));
    struct httpc_options o = {.backoff_ms = 40};
    struct httpc_response r;
    double took;
    assert_int_equal(run(&o, "GET", f.url, NULL, &r, &took), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.data, "done");
    assert_int_equal(r.attempts, 5);
    assert_string_equal(r.error, "");
    httpc_response_finish(&r);
    assert_int_equal(fake_stop(&f), 5);
    /* At least 20 + 40 + 80 + 160 ms of backoff; far less than a fixed 8 s wait. */
    assert_true(took >= 0.300);
    assert_true(took < 5.0);
}

/* A 4xx is the answer: not retried, whatever follows. So are 5xx codes that are not
 * transient (501, 505). 408 and 429 are the exceptions. */
static void test_4xx_not_retried(void **st)
{
    (void)st;
    static const int codes[] = {400, 401, 403, 404, 409, 412, 413, 416, 501, 505};
    for (size_t i = 0; i < N(codes); i++) {
        const struct fake_step steps[] = {
            {FAKE_ANSWER, codes[i], "x-ms-error-code: BlobNotFound\r\n", "<Error/>"},
            {FAKE_ANSWER, 200, NULL, "not reached"},
        };
        struct fake f;
        fake_start(&f, steps, N(steps));
        struct httpc_options o = {.backoff_ms = 1};
        struct httpc_response r;
        assert_int_equal(run(&o, "PUT", f.url, "data", &r, NULL), 0);
        assert_int_equal(r.status, codes[i]);
        assert_int_equal(r.attempts, 1);
        assert_string_equal(r.error_code, "BlobNotFound");
        assert_string_equal(r.body.data, "<Error/>");
        httpc_response_finish(&r);
        assert_int_equal(fake_stop(&f), 1);
    }
    static const int again[] = {408, 429};
    for (size_t i = 0; i < N(again); i++) {
        const struct fake_step steps[] = {{FAKE_ANSWER, again[i], NULL, NULL},
                                          {FAKE_ANSWER, 200, NULL, "ok"}};
        struct fake f;
        fake_start(&f, steps, N(steps));
        struct httpc_options o = {.backoff_ms = 1};
        struct httpc_response r;
        assert_int_equal(run(&o, "GET", f.url, NULL, &r, NULL), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.attempts, 2);
        httpc_response_finish(&r);
        assert_int_equal(fake_stop(&f), 2);
    }
}

/* Retry-After on a 429 is waited for, instead of the (tiny) backoff. */
static void test_retry_after_honoured(void **st)
{
    (void)st;
    static const struct fake_step steps[] = {{FAKE_ANSWER, 429, "Retry-After: 1\r\n", NULL},
                                             {FAKE_ANSWER, 200, NULL, "ok"}};
    struct fake f;
    fake_start(&f, steps, N(steps));
    struct httpc_options o = {.backoff_ms = 1};
    struct httpc_response r;
    double took;
    assert_int_equal(run(&o, "GET", f.url, NULL, &r, &took), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.attempts, 2);
    httpc_response_finish(&r);
    assert_int_equal(fake_stop(&f), 2);
    assert_true(took >= 0.95);
    assert_true(took < 4.0);
}

/* A Retry-After past max_wait_s waits max_wait_s (the default cap is 120 s). */
static void test_retry_after_capped(void **st)
{
    (void)st;
    static const struct fake_step steps[] = {{FAKE_ANSWER, 503, "Retry-After: 3600\r\n", NULL},
                                             {FAKE_ANSWER, 200, NULL, "ok"}};
    struct fake f;
    fake_start(&f, steps, N(steps));
    struct httpc_options o = {.backoff_ms = 1, .max_wait_s = 1};
    struct httpc_response r;
    double took;
    assert_int_equal(run(&o, "GET", f.url, NULL, &r, &took), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.attempts, 2);
    httpc_response_finish(&r);
    assert_int_equal(fake_stop(&f), 2);
    assert_true(took >= 0.95);
    assert_true(took < 4.0);
}

/* Which answers Retry-After counts on, and its forms: 0 seconds and a date in the past mean
 * at once (not the 2.5-5 s backoff); on a 500 it is ignored (the 1 ms backoff, not 3600 s);
 * text that is neither form falls back to the backoff. */
static void test_retry_after_forms(void **st)
{
    (void)st;
    static const struct {
        int status;
        const char *header;
        long backoff_ms;
        double min_s, max_s;
    } cases[] = {
        {503, "Retry-After: 0\r\n", 5000, 0, 2.0},
        {429, "Retry-After: Thu, 01 Jan 2015 00:00:00 GMT\r\n", 5000, 0, 2.0},
        {500, "Retry-After: 3600\r\n", 1, 0, 2.0},
        {502, "Retry-After: 3600\r\n", 1, 0, 2.0},
        {429, "Retry-After: soon\r\n", 400, 0.2, 3.0},
    };
    for (size_t i = 0; i < N(cases); i++) {
        const struct fake_step steps[] = {{FAKE_ANSWER, cases[i].status, cases[i].header, NULL},
                                          {FAKE_ANSWER, 200, NULL, "ok"}};
        struct fake f;
        fake_start(&f, steps, N(steps));
        struct httpc_options o = {.backoff_ms = cases[i].backoff_ms};
        struct httpc_response r;
        double took;
        assert_int_equal(run(&o, "GET", f.url, NULL, &r, &took), 0);
        assert_int_equal(r.status, 200);
        httpc_response_finish(&r);
        assert_int_equal(fake_stop(&f), 2);
        if (took < cases[i].min_s || took >= cases[i].max_s)
            fail_msg("case %zu (%d, %s): took %.3f s", i, cases[i].status, cases[i].header, took);
    }
}

/* Always 500: max_attempts requests, then the last answer is returned (rc 0: an answer
 * came). The default cap is 6. */
static void test_attempt_cap(void **st)
{
    (void)st;
    static const struct fake_step steps[] = {{FAKE_ANSWER, 500, NULL, "busy"}};
    static const int caps[] = {1, 3, 0};
    static const int want[] = {1, 3, 6};
    for (size_t i = 0; i < N(caps); i++) {
        struct fake f;
        fake_start(&f, steps, N(steps));
        struct httpc_options o = {.backoff_ms = 1, .max_attempts = caps[i]};
        struct httpc_response r;
        assert_int_equal(run(&o, "GET", f.url, NULL, &r, NULL), 0);
        assert_int_equal(r.status, 500);
        assert_string_equal(r.body.data, "busy");
        assert_int_equal(r.attempts, want[i]);
        httpc_response_finish(&r);
        assert_int_equal(fake_stop(&f), want[i]);
    }
    /* 429 with Retry-After: 0 is capped the same way. */
    static const struct fake_step busy[] = {{FAKE_ANSWER, 429, "Retry-After: 0\r\n", NULL}};
    struct fake f;
    fake_start(&f, busy, N(busy));
    struct httpc_options o = {.backoff_ms = 1, .max_attempts = 4};
    struct httpc_response r;
    assert_int_equal(run(&o, "GET", f.url, NULL, &r, NULL), 0);
    assert_int_equal(r.status, 429);
    assert_int_equal(r.attempts, 4);
    httpc_response_finish(&r);
    assert_int_equal(fake_stop(&f), 4);
}

/* Nobody listening: every attempt fails to connect, with backoff between them; after the
 * cap the call fails (-1, status 0) with the transport's reason in r.error. */
static void test_connection_refused(void **st)
{
    (void)st;
    char url[64];
    refused_url(url);
    struct httpc_options o = {.backoff_ms = 40, .max_attempts = 4};
    struct httpc_response r;
    double took;
    assert_int_equal(run(&o, "GET", url, NULL, &r, &took), -1);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.attempts, 4);
    assert_true(strlen(r.error) > 0);
    assert_non_null(strcasestr(r.error, "connect"));
    httpc_response_finish(&r);
    assert_true(took >= 0.140); /* 20 + 40 + 80 ms at least */
    assert_true(took < 5.0);
}

/* A connection reset or closed with no answer is retried like a 5xx; after the cap it is the
 * same failure as a refused connection. */
static void test_connection_reset(void **st)
{
    (void)st;
    static const struct fake_step steps[] = {
        {FAKE_RESET, 0, NULL, NULL}, {FAKE_CLOSE, 0, NULL, NULL}, {FAKE_ANSWER, 200, NULL, "ok"}};
    struct fake f;
    fake_start(&f, steps, N(steps));
    struct httpc_options o = {.backoff_ms = 1};
    struct httpc_response r;
    assert_int_equal(run(&o, "GET", f.url, NULL, &r, NULL), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.attempts, 3);
    assert_string_equal(r.error, "");
    httpc_response_finish(&r);
    assert_int_equal(fake_stop(&f), 3);

    static const struct fake_step resets[] = {{FAKE_RESET, 0, NULL, NULL}};
    fake_start(&f, resets, N(resets));
    o.max_attempts = 3;
    assert_int_equal(run(&o, "GET", f.url, NULL, &r, NULL), -1);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.attempts, 3);
    assert_true(strlen(r.error) > 0);
    httpc_response_finish(&r);
    assert_int_equal(fake_stop(&f), 3);
}

/* The rule for POST is that there is none: the policy does not look at the method, so a
 * POST the server read in full and may have applied (the connection dropped before the
 * answer, or a 500) is sent again, with the same body, like any request. For the client's
 * POSTs that means a lost answer to CreateMigrationJobEncrypted submits the package a second
 * time (a second job importing the same ids), and one to `admin clock --advance` moves the
 * clock twice. A 4xx to a POST is final like any other. */
static void test_post_retried_like_any_request(void **st)
{
    (void)st;
    static const struct fake_step steps[] = {{FAKE_CLOSE, 0, NULL, NULL},
                                             {FAKE_ANSWER, 500, NULL, NULL},
                                             {FAKE_ANSWER, 201, NULL, "made"}};
    struct fake f;
    fake_start(&f, steps, N(steps));
    struct httpc_options o = {.backoff_ms = 1};
    struct httpc_response r;
    const char *body = "{\"parameters\":{\"x\":1}}";
    assert_int_equal(run(&o, "POST", f.url, body, &r, NULL), 0);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body.data, "made");
    assert_int_equal(r.attempts, 3);
    httpc_response_finish(&r);
    assert_int_equal(fake_stop(&f), 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(f.method[i], "POST");
        assert_string_equal(f.body[i], body);
    }

    static const struct fake_step refused[] = {{FAKE_ANSWER, 400, NULL, NULL},
                                               {FAKE_ANSWER, 201, NULL, NULL}};
    fake_start(&f, refused, N(refused));
    assert_int_equal(run(&o, "POST", f.url, body, &r, NULL), 0);
    assert_int_equal(r.status, 400);
    assert_int_equal(r.attempts, 1);
    httpc_response_finish(&r);
    assert_int_equal(fake_stop(&f), 1);
}

static volatile sig_atomic_t cancel_flag;

static void *cancel_soon(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    cancel_flag = 1;
    return NULL;
}

/* Ctrl-C during a Retry-After wait ends it within a step (100 ms): -1, "interrupted". */
static void test_cancelled_wait(void **st)
{
    (void)st;
    static const struct fake_step steps[] = {{FAKE_ANSWER, 503, "Retry-After: 60\r\n", NULL},
                                             {FAKE_ANSWER, 200, NULL, "ok"}};
    struct fake f;
    fake_start(&f, steps, N(steps));
    cancel_flag = 0;
    struct httpc_options o = {.backoff_ms = 1, .cancel = &cancel_flag};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_soon, NULL), 0);
    struct httpc_response r;
    double took;
    assert_int_equal(run(&o, "GET", f.url, NULL, &r, &took), -1);
    pthread_join(t, NULL);
    assert_string_equal(r.error, "interrupted");
    assert_int_equal(r.attempts, 1);
    httpc_response_finish(&r);
    assert_int_equal(fake_stop(&f), 1);
    assert_true(took < 5.0);
}

int main(void)
{
    if (httpc_global_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_5xx_then_200),
        cmocka_unit_test(test_4xx_not_retried),
        cmocka_unit_test(test_retry_after_honoured),
        cmocka_unit_test(test_retry_after_capped),
        cmocka_unit_test(test_retry_after_forms),
        cmocka_unit_test(test_attempt_cap),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_connection_reset),
        cmocka_unit_test(test_post_retried_like_any_request),
        cmocka_unit_test(test_cancelled_wait),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    httpc_global_cleanup();
    return rc;
}
