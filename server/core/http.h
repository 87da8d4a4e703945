/*
 * http.h: the libmicrohttpd glue every listener shares. One daemon per listener, the raw
 * request line kept intact (path still encoded, query parsed once), headers collected and
 * bounded, the body either buffered (bounded) or streamed to a sink, and replies built from
 * a buffer, a file descriptor (sendfile) or a reader callback. What a request means is the
 * listener's business (blob_api, queue_api, sp_api): this module never looks at paths.
 */
#ifndef SPMIG_HTTP_H
#define SPMIG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spmig_limits.h"
#include "query.h"
#include "sharedkey.h"
#include "strbuf.h"

struct http_request;

/* How the body of a request is taken in; chosen by the listener's begin callback. */
enum http_body_mode {
    HTTP_BODY_DISCARD = 0, /* read and dropped (the default; also after an early reply) */
    HTTP_BODY_BUFFER,      /* kept in req->body, at most req->body_max bytes, else 413 */
    HTTP_BODY_SINK,        /* handed to req->sink as it arrives */
};

/* A body consumer: returns 0, or -1 to fail the request (the sink sets the reply first). */
typedef int (*http_sink_fn)(struct http_request *req, const char *data, size_t n);

/* Reader for callback replies: fills buf from position pos; returns bytes, 0 at the end,
 * or -1 on error (the connection is then closed). */
typedef ssize_t (*http_reader_fn)(void *ctx, uint64_t pos, char *buf, size_t max);
typedef void (*http_reader_free_fn)(void *ctx);

struct http_listener_ops {
    /* Called once the headers are in. Either replies at once (an error: the body is then
     * discarded) or picks a body mode. */
    void (*begin)(struct http_request *req);
    /* Called when the whole body has been taken in, unless a reply was already made. Must
     * reply. */
    void (*finish)(struct http_request *req);
    /* Called when the request ends in any way, to release req->ctx. May be NULL. */
    void (*cleanup)(struct http_request *req);
    /* Headers every reply of this listener carries (x-ms-request-id, ...). May be NULL. */
    void (*decorate)(struct http_request *req);
    /* Builds this listener's error reply for a transport-level failure (413, 400 ...). */
    void (*error)(struct http_request *req, unsigned status, const char *code, const char *msg);
};

struct http_request {
    /* The request as received. */
    const char *method; /* "GET", "PUT", ... */
    bool is_head;
    char *raw_uri;      /* the request target as received */
    char *raw_path;     /* its path part, still percent-encoded */
    char *path;         /* the path decoded; NULL if it held a malformed escape or NUL */
    struct query query; /* decoded query pairs */
    bool query_bad;     /* the query string was malformed */
    bool target_cut;    /* the request target held a NUL byte (raw_uri stops there) */
    struct sharedkey_header headers[LIMIT_HEADER_COUNT];
    size_t nheaders;
    bool too_many_headers;
    bool bad_header; /* a header held a NUL byte or was not UTF-8 */
    bool ambiguous;  /* Content-Length, Transfer-Encoding, Host or Authorization twice, differing */
    uint32_t client_ipv4; /* host order; 0 if the peer is not IPv4 */
    bool has_length;      /* Content-Length was given */
    bool chunked;         /* Transfer-Encoding: chunked (the body's length is not said) */
    uint64_t content_length;
    uint64_t body_seen;  /* bytes of body taken in so far */
    char request_id[37]; /* a fresh UUID for x-ms-request-id */

    /* Body handling, set by begin. */
    enum http_body_mode body_mode;
    size_t body_max;
    struct strbuf body; /* HTTP_BODY_BUFFER */
    http_sink_fn sink;  /* HTTP_BODY_SINK */

    /* Listener state. */
    void *ctx;
    int op; /* the listener's operation code, for logs */

    /* Internal: the reply being built. */
    void *reply; /* struct MHD_Response * */
    unsigned status;
    struct strbuf pending_headers;
    bool overflow;
    void *conn; /* struct MHD_Connection * */
    const struct http_listener_ops *ops;
};

/* A header's value (case-insensitive name), or NULL. */
const char *http_header(const struct http_request *req, const char *name);

/* Adds a reply header; may be called before or after the reply is made. name and value
 * are copied. */
void http_set_header(struct http_request *req, const char *name, const char *value);

/* Replies with a body the reply takes ownership of (freed with free()); body may be NULL
 * when len is 0. content_type may be NULL. */
void http_reply(struct http_request *req, unsigned status, const char *content_type, char *body,
                size_t len);
/* Replies with len bytes of fd from off (sent with sendfile); the reply owns fd. */
void http_reply_fd(struct http_request *req, unsigned status, int fd, uint64_t off, uint64_t len);
/* Replies with len bytes produced by reader; free_fn(ctx) is called when done. */
void http_reply_reader(struct http_request *req, unsigned status, uint64_t len,
                       http_reader_fn reader, void *ctx, http_reader_free_fn free_fn);
bool http_replied(const struct http_request *req);

/*
 * Runs one request through a listener's ops in this thread, without a socket, the way a
 * connection would (target checks, begin, the body, finish, decorate), and releases it.
 * Returns the status answered. For fuzzing and tests; headers are borrowed.
 */
unsigned http_run_local(const struct http_listener_ops *ops, const char *method, const char *target,
                        const struct sharedkey_header *headers, size_t n, const void *body,
                        size_t len);

struct http_server;

/* How much a listener lets its clients hold. */
struct http_limits {
    unsigned max_conns;        /* connections at once */
    unsigned per_client;       /* connections at once from one client address */
    unsigned idle_timeout_s;   /* a connection with nothing received or sent is closed */
    unsigned header_timeout_s; /* a request's headers must arrive within this */
};

/*
 * Starts a listener on host:port (port 0 picks a free one) with the given ops: one thread per
 * connection, within lim. A watchdog closes connections that take longer than
 * lim->header_timeout_s to send a request's headers (counted from the connection, or from the
 * previous answer plus the idle timeout on a kept-alive one), or whose body arrives slower than
 * LIMIT_BODY_MIN_BYTES per LIMIT_BODY_WINDOW_SECONDS. Returns NULL after logging why if it
 * cannot.
 */
struct http_server *http_server_create(const char *host, uint16_t port,
                                       const struct http_listener_ops *ops,
                                       const struct http_limits *lim);
uint16_t http_server_port(const struct http_server *s);
/* Stops accepting new connections (in-flight requests finish). */
void http_server_quiesce(struct http_server *s);
void http_server_destroy(struct http_server *s);

#endif
