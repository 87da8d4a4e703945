/*
 * azhttp.h: the benchmark's minimal HTTP/1.1 client (plain blocking keep-alive sockets, one
 * per thread). Every request carries x-ms-version AZHTTP_VERSION.
 */
#ifndef SPMIG_AZHTTP_H
#define SPMIG_AZHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AZHTTP_VERSION "2025-11-05" /* Azurite 3.35.0 refuses anything newer */
#define AZHTTP_ERR_LEN 200          /* size of every err buffer below */

/* One connection; host is a dotted IPv4 address the caller keeps alive. */
struct azconn {
    int fd;
    const char *host;
    int port;
    const char *source; /* a local IPv4 address to connect from (NULL: any) */
    char *rbuf;
    size_t rpos, rlen;
};

/* Where a response body goes: copied into buf (up to cap) and/or compared with expect. */
struct azsink {
    unsigned char *buf;
    size_t cap, len;
    const unsigned char *expect;
    size_t expect_len;
    bool overflow, mismatch; /* buf too small; body differs from expect (or is longer) */
    uint64_t total;          /* body bytes seen */
};

struct azreply {
    int status;
    char error_code[64]; /* x-ms-error-code, if any */
};

/* Sets c up without connecting (the first request connects); aborts if out of memory. */
void azconn_init(struct azconn *c, const char *host, int port);
/* Connects (closing any previous socket); 0 or -1 with errno. */
int azconn_open(struct azconn *c);
void azconn_close(struct azconn *c);
/* Closes and frees what azconn_init allocated. */
void azconn_finish(struct azconn *c);

/*
 * Sends one request (target = path and query, hdrs = extra header lines each ending in CRLF,
 * body may be NULL) and reads the whole answer, its body going to sk (may be NULL). A
 * connection the server closed while idle is reopened and the request sent once more, but
 * only when no byte of an answer had arrived. Returns 0 with rp filled, or -1 with a reason
 * in err.
 */
int azhttp_do(struct azconn *c, const char *method, const char *target, const char *hdrs,
              const void *body, size_t blen, struct azsink *sk, struct azreply *rp, char *err);

/* azhttp_do, then requires status want: 0, -1 (transport) or -status, with err filled. */
int azhttp_expect(struct azconn *c, const char *method, const char *target, const char *hdrs,
                  const void *body, size_t blen, struct azsink *sk, int want, char *err);

/* Percent-encodes everything outside the unreserved set into out (cap bytes, truncating). */
void azhttp_pct_encode(const char *in, char *out, size_t cap);

#endif
