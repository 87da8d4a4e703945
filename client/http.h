/*
 * http.h: the client's HTTP over libcurl, with the retry policy every call shares: transient
 * failures (connection errors, timeouts, 408, 500, 502, 504) are retried with exponential
 * backoff and jitter, 429 and 503 wait for their Retry-After, and nothing retries more than
 * max_attempts times. The method does not matter: a POST whose answer was lost (the
 * connection dropped after it was sent, a 500) is sent again like any request. One httpc is
 * one connection (kept alive) for one thread. What the requests mean (SharePoint REST, Blob,
 * Queue) is in sp.h and azure.h.
 */
#ifndef SPMIG_HTTP_H
#define SPMIG_HTTP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define HTTPC_BODY_MAX (64u << 20) /* largest answer body kept */

struct httpc_options {
    long timeout_s;   /* one attempt, whole request (0: 300) */
    int max_attempts; /* attempts in all, >= 1 (0: 6) */
    long max_wait_s;  /* longest Retry-After honoured (0: 120) */
    long backoff_ms;  /* first backoff (0: 500), doubled per attempt, up to 8 s */
    const volatile sig_atomic_t *cancel; /* set: stop waiting and fail, or NULL */
};

struct httpc_response {
    long status;          /* 0 when no answer came */
    struct strbuf body;   /* the answer's body (bounded by HTTPC_BODY_MAX) */
    char error_code[128]; /* x-ms-error-code, or "" */
    char content_md5[64]; /* Content-MD5 */
    char snapshot[64];    /* x-ms-snapshot */
    char content_type[128];
    char meta_iv[64]; /* x-ms-meta-IV */
    int attempts;
    char error[256]; /* why no answer came (transport), or "" */
};

struct httpc;

/* A client for one thread; NULL only if libcurl cannot make a handle. Strings of opt are
 * copied. */
struct httpc *httpc_create(const struct httpc_options *opt);
void httpc_destroy(struct httpc *c);

/* Starts and ends libcurl for the process (once each, before and after every other call). */
int httpc_global_init(void);
void httpc_global_cleanup(void);

void httpc_response_init(struct httpc_response *r);
void httpc_response_finish(struct httpc_response *r);

/*
 * Sends one request, retried as the policy says. headers: NULL-terminated "Name: value"
 * strings (may be NULL); body of len bytes (NULL: none; a POST then sends an empty body).
 * Returns 0 when an answer came (any status, the last attempt's; r filled in), -1 when none
 * came within the attempts or the wait was cancelled (r->error says why).
 */
int httpc_request(struct httpc *c, const char *method, const char *url, const char *const *headers,
                  const void *body, size_t len, struct httpc_response *r);

#endif
