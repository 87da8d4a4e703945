/*
 * azhttp.c: the benchmark's HTTP/1.1 client: one blocking keep-alive socket per connection,
 * requests written with one sendmsg, answers parsed just enough (status line, Content-Length,
 * chunked bodies, Connection: close, x-ms-error-code). No TLS, no redirects, no pipelining.
 */
#include "azhttp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define RBUF_SIZE    (256 * 1024)
#define IO_TIMEOUT_S 60 /* no single socket read or write waits longer */

/* Percent-encodes everything outside the unreserved set. */
void azhttp_pct_encode(const char *in, char *out, size_t cap)
{
    static const char hexd[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hexd[*p >> 4];
            out[o++] = hexd[*p & 15];
        }
    }
    out[o] = '\0';
}

/* ---------------------------------------------------------------- HTTP/1.1 client */

void azconn_init(struct azconn *c, const char *host, int port)
{
    c->fd = -1;
    c->host = host;
    c->port = port;
    c->source = NULL;
    c->rbuf = malloc(RBUF_SIZE);
    if (!c->rbuf)
        abort(); /* out of memory */
    c->rpos = c->rlen = 0;
}

void azconn_close(struct azconn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->rpos = c->rlen = 0;
}

void azconn_finish(struct azconn *c)
{
    azconn_close(c);
    free(c->rbuf);
    c->rbuf = NULL;
}

int azconn_open(struct azconn *c)
{
    azconn_close(c);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (c->source) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        if (inet_pton(AF_INET, c->source, &src.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    if (inet_pton(AF_INET, c->host, &sa.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    return 0;
}

/* Reads more bytes into the buffer; returns the count, 0 at EOF, -1 on error. */
static ssize_t conn_fill(struct azconn *c)
{
    if (c->rpos > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    if (c->rlen == RBUF_SIZE)
        return -1;
    ssize_t n;
    do
        n = recv(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        c->rlen += (size_t)n;
    return n;
}

/* One CRLF-terminated line (CRLF stripped) into out; -1 on EOF/error/too long. */
static int conn_line(struct azconn *c, char *out, size_t cap)
{
    for (;;) {
        char *s = c->rbuf + c->rpos;
        size_t avail = c->rlen - c->rpos;
        char *nl = memchr(s, '\n', avail);
        if (nl) {
            size_t len = (size_t)(nl - s);
            size_t keep = len > 0 && s[len - 1] == '\r' ? len - 1 : len;
            if (keep >= cap)
                return -1;
            memcpy(out, s, keep);
            out[keep] = '\0';
            c->rpos += len + 1;
            return (int)keep;
        }
        if (conn_fill(c) <= 0)
            return -1;
    }
}

static void sink_put(struct azsink *sk, const unsigned char *p, size_t n)
{
    if (!sk)
        return;
    if (sk->expect && !sk->mismatch) {
        if (sk->total + n > sk->expect_len || memcmp(sk->expect + sk->total, p, n) != 0)
            sk->mismatch = true;
    }
    if (sk->buf) {
        size_t room = sk->cap - sk->len, k = n < room ? n : room;
        memcpy(sk->buf + sk->len, p, k);
        sk->len += k;
        if (k < n)
            sk->overflow = true;
    }
    sk->total += n;
}

/* Moves exactly n body bytes (or until EOF when n is UINT64_MAX) to the sink. */
static int conn_body(struct azconn *c, uint64_t n, struct azsink *sk)
{
    bool to_eof = n == UINT64_MAX;
    while (n > 0) {
        if (c->rpos == c->rlen) {
            c->rpos = c->rlen = 0;
            ssize_t r = conn_fill(c);
            if (r == 0 && to_eof)
                return 0;
            if (r <= 0)
                return -1;
        }
        size_t avail = c->rlen - c->rpos;
        size_t k = (uint64_t)avail < n ? avail : (size_t)n;
        sink_put(sk, (unsigned char *)c->rbuf + c->rpos, k);
        c->rpos += k;
        if (!to_eof)
            n -= k;
    }
    return 0;
}

static int send_all(int fd, struct iovec *iov, int niov)
{
    while (niov > 0) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)niov};
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (niov > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            niov--;
        }
        if (niov > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

/*
 * Sends one request (target = path and query, hdrs = extra header lines each ending in CRLF)
 * and reads the whole answer, its body going to sk (may be NULL). A connection the server
 * closed while idle is reopened and the request sent once more, but only when no byte of an
 * answer had arrived. Returns 0 with rp filled, or -1 with a reason in err.
 */
int azhttp_do(struct azconn *c, const char *method, const char *target, const char *hdrs,
              const void *body, size_t blen, struct azsink *sk, struct azreply *rp, char *err)
{
    char head[4096];
    bool has_body = body || strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0;
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s:%d\r\nx-ms-version: " AZHTTP_VERSION "\r\n%s",
                      method, target, c->host, c->port, hdrs ? hdrs : "");
    if (has_body)
        hl += snprintf(head + hl, sizeof head - (size_t)hl, "Content-Length: %zu\r\n", blen);
    hl += snprintf(head + hl, sizeof head - (size_t)hl, "\r\n");
    if ((size_t)hl >= sizeof head) {
        snprintf(err, AZHTTP_ERR_LEN, "request head too long");
        return -1;
    }
    char line[8192];
    for (int attempt = 0;; attempt++) {
        if (c->fd < 0 && azconn_open(c) < 0) {
            snprintf(err, AZHTTP_ERR_LEN, "connect %s:%d: %s", c->host, c->port, strerror(errno));
            return -1;
        }
        struct iovec iov[2] = {{head, (size_t)hl}, {(void *)body, blen}};
        bool ok = send_all(c->fd, iov, body && blen ? 2 : 1) == 0;
        int ll = ok ? conn_line(c, line, sizeof line) : -1;
        if (ll < 0) {
            int e = errno;
            azconn_close(c);
            if (attempt == 0)
                continue; /* stale keep-alive connection: once more on a new one */
            snprintf(err, AZHTTP_ERR_LEN, "%s %s: no answer (%s)", method, target, strerror(e));
            return -1;
        }
        break;
    }
    memset(rp, 0, sizeof *rp);
    if (sscanf(line, "HTTP/1.%*d %d", &rp->status) != 1) {
        snprintf(err, AZHTTP_ERR_LEN, "bad status line: %.80s", line);
        azconn_close(c);
        return -1;
    }
    int64_t clen = -1;
    bool chunked = false, close_after = false;
    for (;;) {
        int ll = conn_line(c, line, sizeof line);
        if (ll < 0) {
            snprintf(err, AZHTTP_ERR_LEN, "truncated header block");
            azconn_close(c);
            return -1;
        }
        if (ll == 0)
            break;
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (strcasecmp(line, "content-length") == 0)
            clen = strtoll(v, NULL, 10);
        else if (strcasecmp(line, "transfer-encoding") == 0)
            chunked = strcasestr(v, "chunked") != NULL;
        else if (strcasecmp(line, "connection") == 0)
            close_after = strcasestr(v, "close") != NULL;
        else if (strcasecmp(line, "x-ms-error-code") == 0)
            snprintf(rp->error_code, sizeof rp->error_code, "%s", v);
    }
    int rc = 0;
    if (strcmp(method, "HEAD") == 0 || rp->status == 204 || rp->status == 304 || rp->status < 200) {
        /* no body */
    } else if (chunked) {
        for (;;) {
            if (conn_line(c, line, sizeof line) < 0) {
                rc = -1;
                break;
            }
            uint64_t sz = strtoull(line, NULL, 16);
            if (sz == 0) {
                while ((rc = conn_line(c, line, sizeof line)) > 0)
                    ; /* trailers */
                rc = rc < 0 ? -1 : 0;
                break;
            }
            if (conn_body(c, sz, sk) < 0 || conn_line(c, line, sizeof line) != 0) {
                rc = -1;
                break;
            }
        }
    } else if (clen >= 0) {
        rc = conn_body(c, (uint64_t)clen, sk);
    } else {
        rc = conn_body(c, UINT64_MAX, sk);
        close_after = true;
    }
    if (rc < 0) {
        snprintf(err, AZHTTP_ERR_LEN, "%s: truncated body (status %d)", method, rp->status);
        azconn_close(c);
        return -1;
    }
    if (close_after)
        azconn_close(c);
    return 0;
}

/* http_do, then requires status want; err describes any failure. */
int azhttp_expect(struct azconn *c, const char *method, const char *target, const char *hdrs,
                  const void *body, size_t blen, struct azsink *sk, int want, char *err)
{
    struct azreply rp;
    if (azhttp_do(c, method, target, hdrs, body, blen, sk, &rp, err) < 0)
        return -1;
    if (rp.status != want) {
        snprintf(err, AZHTTP_ERR_LEN, "%s -> %d %s (wanted %d)", method, rp.status,
                 rp.error_code[0] ? rp.error_code : "", want);
        return -rp.status;
    }
    return 0;
}
