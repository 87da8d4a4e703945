/*
 * http.c: libcurl with one retry policy for every request the client makes. It owns
 * connections, timeouts, Retry-After and backoff; it does not know what a request means.
 */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

struct httpc {
    CURL *curl;
    struct httpc_options opt;
};

int httpc_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void httpc_global_cleanup(void)
{
    curl_global_cleanup();
}

struct httpc *httpc_create(const struct httpc_options *opt)
{
    CURL *curl = curl_easy_init();
    if (!curl)
        return NULL;
    struct httpc *c = xcalloc(1, sizeof *c);
    c->curl = curl;
    if (opt)
        c->opt = *opt;
    if (c->opt.timeout_s <= 0)
        c->opt.timeout_s = 300;
    if (c->opt.max_attempts <= 0)
        c->opt.max_attempts = 6;
    if (c->opt.max_wait_s <= 0)
        c->opt.max_wait_s = 120;
    if (c->opt.backoff_ms <= 0)
        c->opt.backoff_ms = 500;
    return c;
}

void httpc_destroy(struct httpc *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

void httpc_response_init(struct httpc_response *r)
{
    memset(r, 0, sizeof *r);
    strbuf_init(&r->body, HTTPC_BODY_MAX);
}

void httpc_response_finish(struct httpc_response *r)
{
    strbuf_finish(&r->body);
}

static void response_reset(struct httpc_response *r)
{
    r->status = 0;
    r->body.len = 0;
    if (r->body.data)
        r->body.data[0] = '\0';
    r->error_code[0] = r->content_md5[0] = r->snapshot[0] = r->content_type[0] = r->meta_iv[0] =
        '\0';
    r->error[0] = '\0';
}

struct call {
    struct httpc_response *r;
    long retry_after_s; /* -1: none given */
    const unsigned char *body;
    size_t len;
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct call *k = ctx;
    if (strbuf_append(&k->r->body, data, size * n) < 0)
        return 0; /* over the limit: fails the transfer */
    return size * n;
}

static void header_value(char *dst, size_t cap, const char *v, size_t vlen)
{
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    if (vlen >= cap)
        vlen = cap - 1;
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
}

static long parse_retry_after(const char *v)
{
    char *end;
    errno = 0;
    long s = strtol(v, &end, 10);
    if (end != v && *end == '\0' && errno == 0 && s >= 0)
        return s;
    int64_t when;
    if (timefmt_parse_rfc1123(v, &when) == 0) {
        int64_t now = (int64_t)time(NULL) * 1000;
        return when > now ? (long)((when - now + 999) / 1000) : 0;
    }
    return -1;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    struct call *k = ctx;
    size_t len = size * n;
    const char *colon = memchr(data, ':', len);
    if (!colon)
        return len;
    size_t nlen = (size_t)(colon - data);
    const char *v = colon + 1;
    size_t vlen = len - nlen - 1;
    while (vlen && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    struct {
        const char *name;
        char *dst;
        size_t cap;
    } keep[] = {
        {"x-ms-error-code", k->r->error_code, sizeof k->r->error_code},
        {"Content-MD5", k->r->content_md5, sizeof k->r->content_md5},
        {"x-ms-snapshot", k->r->snapshot, sizeof k->r->snapshot},
        {"Content-Type", k->r->content_type, sizeof k->r->content_type},
        {"x-ms-meta-IV", k->r->meta_iv, sizeof k->r->meta_iv},
    };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (strlen(keep[i].name) == nlen && strncasecmp(data, keep[i].name, nlen) == 0)
            header_value(keep[i].dst, keep[i].cap, v, vlen);
    if (nlen == 11 && strncasecmp(data, "Retry-After", 11) == 0) {
        char tmp[64];
        header_value(tmp, sizeof tmp, v, vlen);
        k->retry_after_s = parse_retry_after(tmp);
    }
    return len;
}

/* Aborts a transfer in flight once the run is cancelled (Ctrl-C). */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const struct httpc *c = ctx;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return c->opt.cancel && *c->opt.cancel ? 1 : 0;
}

static bool transient_status(long s)
{
    return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static bool transient_curl(CURLcode e)
{
    switch (e) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_FAIL_REWIND:
        return true;
    default:
        return false;
    }
}

/* Sleeps ms in small steps; false if cancelled. */
static bool wait_ms(const struct httpc *c, long ms)
{
    while (ms > 0) {
        if (c->opt.cancel && *c->opt.cancel)
            return false;
        long step = ms < 100 ? ms : 100;
        struct timespec ts = {step / 1000, (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return !(c->opt.cancel && *c->opt.cancel);
}

static CURLcode attempt(struct httpc *c, const char *method, const char *url, struct curl_slist *hl,
                        struct call *k)
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, k);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, k);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->opt.timeout_s);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "spmig/" SPMIG_VERSION);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (c->opt.cancel) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        /* The body is in memory: libcurl sends a small one in the same write as the
         * headers (one segment, one wakeup of the server) and a large one in 1 MiB writes,
         * and can resend it on a new connection without rewinding anything. */
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)k->len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, k->body ? (const char *)k->body : "");
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    return curl_easy_perform(h);
}

int httpc_request(struct httpc *c, const char *method, const char *url, const char *const *headers,
                  const void *body, size_t len, struct httpc_response *r)
{
    struct curl_slist *hl = NULL;
    bool typed = false;
    for (size_t i = 0; headers && headers[i]; i++) {
        hl = curl_slist_append(hl, headers[i]);
        typed |= strncasecmp(headers[i], "Content-Type:", 13) == 0;
    }
    hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip */
    if (!typed) /* else libcurl would call the body a form (application/x-www-form-urlencoded) */
        hl = curl_slist_append(hl, "Content-Type:");
    struct call k = {.r = r, .body = body, .len = body ? len : 0};
    int rc = -1;
    r->attempts = 0;
    for (int n = 1;; n++) {
        response_reset(r);
        k.retry_after_s = -1;
        r->attempts = n;
        CURLcode e = attempt(c, method, url, hl, &k);
        bool retry;
        if (e == CURLE_OK) {
            curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
            retry = transient_status(r->status);
            if (!retry) {
                rc = 0;
                break;
            }
        } else {
            snprintf(r->error, sizeof r->error, "%s", curl_easy_strerror(e));
            retry = transient_curl(e);
        }
        if (!retry || n >= c->opt.max_attempts) {
            rc = e == CURLE_OK ? 0 : -1;
            break;
        }
        long delay;
        if ((r->status == 429 || r->status == 503) && k.retry_after_s >= 0) {
            delay =
                (k.retry_after_s > c->opt.max_wait_s ? c->opt.max_wait_s : k.retry_after_s) * 1000;
        } else {
            long base = c->opt.backoff_ms << (n - 1 < 4 ? n - 1 : 4);
            if (base > 8000)
                base = 8000;
            uint32_t jitter;
            crypto_random(&jitter, sizeof jitter);
            delay = base / 2 + (long)(jitter % (uint32_t)(base / 2 + 1));
        }
        log_debug("%s %s: %s%ld, retry %d in %ld ms", method, url, r->error[0] ? r->error : "",
                  r->status, n, delay);
        if (!wait_ms(c, delay)) {
            snprintf(r->error, sizeof r->error, "interrupted");
            rc = -1;
            break;
        }
    }
    curl_slist_free_all(hl);
    return rc;
}
