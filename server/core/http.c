/*
 * http.c: libmicrohttpd glue for all three listeners. It keeps the raw request target (the
 * URI log callback sees it before libmicrohttpd decodes anything), collects and bounds the
 * headers, feeds the body to the mode the listener chose, and queues the one reply. It never
 * interprets paths or bodies: that is the listeners' job through http_listener_ops.
 */
#include "http.h"
#include "crypto.h"
#include "gate.h"
#include "log.h"
#include "sp_names.h"
#include "xmalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Bodies from this size up are followed by malloc_trim (request_release). */
#define HTTP_TRIM_AFTER_BYTES (1024 * 1024)

/* What a connection is doing, for the watchdog. */
enum { CONN_WAIT_HEADERS, CONN_BODY, CONN_BUSY, CONN_QUEUED /* waiting for a gate slot */ };

/* One open connection (libmicrohttpd's socket context). The connection's thread writes the
 * atomics; the watchdog reads them and keeps the window fields, under the server's lock. */
struct http_conn {
    struct http_conn *prev, *next;
    int fd;
    _Atomic int state;
    _Atomic int64_t deadline_ms; /* CONN_WAIT_HEADERS: headers complete by then */
    _Atomic uint64_t body_seen;  /* CONN_BODY: bytes of this request's body so far */
    _Atomic unsigned serial;     /* bumped at each request */
    unsigned win_serial;         /* watchdog: the request its window belongs to */
    int64_t win_start_ms;
    uint64_t win_seen;
};

struct http_server {
    struct MHD_Daemon *daemon;
    const struct http_listener_ops *ops;
    struct http_limits lim;
    uint16_t port;
    pthread_mutex_t lock; /* conns, stopping */
    pthread_cond_t wake;
    struct http_conn *conns;
    bool stopping;
    pthread_t watchdog;
    bool watchdog_running;
};

enum { PHASE_NEW, PHASE_BODY, PHASE_DONE };

/* Per-request private state that http.h does not show. */
struct req_private {
    struct http_request req;
    int phase;
    const char *target_at; /* the request target in libmicrohttpd's read buffer ... */
    size_t target_len;     /* ... and its length before libmicrohttpd decoded it in place */
};

const char *http_header(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

void http_set_header(struct http_request *req, const char *name, const char *value)
{
    strbuf_append(&req->pending_headers, name, strlen(name) + 1);
    strbuf_append(&req->pending_headers, value, strlen(value) + 1);
}

bool http_replied(const struct http_request *req)
{
    return req->reply != NULL;
}

static void set_reply(struct http_request *req, unsigned status, struct MHD_Response *r)
{
    if (!r) {
        log_error("http: cannot create a reply");
        abort();
    }
    if (req->reply)
        MHD_destroy_response(req->reply);
    req->reply = r;
    req->status = status;
}

void http_reply(struct http_request *req, unsigned status, const char *content_type, char *body,
                size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    set_reply(req, status, r);
    if (content_type)
        http_set_header(req, "Content-Type", content_type);
}

void http_reply_fd(struct http_request *req, unsigned status, int fd, uint64_t off, uint64_t len)
{
    set_reply(req, status, MHD_create_response_from_fd_at_offset64(len, fd, off));
}

struct reader_box {
    http_reader_fn reader;
    void *ctx;
    http_reader_free_fn free_fn;
};

static ssize_t reader_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct reader_box *b = cls;
    ssize_t n = b->reader(b->ctx, pos, buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n;
}

static void reader_free(void *cls)
{
    struct reader_box *b = cls;
    if (b->free_fn)
        b->free_fn(b->ctx);
    free(b);
}

void http_reply_reader(struct http_request *req, unsigned status, uint64_t len,
                       http_reader_fn reader, void *ctx, http_reader_free_fn free_fn)
{
    struct reader_box *b = xmalloc(sizeof *b);
    b->reader = reader;
    b->ctx = ctx;
    b->free_fn = free_fn;
    set_reply(req, status,
              MHD_create_response_from_callback(len, 256 * 1024, reader_cb, b, reader_free));
}

static void make_request_id(char out[37])
{
    unsigned char r[16];
    crypto_random(r, sizeof r);
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

/* libmicrohttpd calls this with the raw request target before it decodes anything: the
 * request's state is born here and handed back as *con_cls. */
static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct req_private *p = xcalloc(1, sizeof *p);
    struct http_request *req = &p->req;
    req->raw_uri = xstrdup(uri ? uri : "");
    p->target_at = uri;
    p->target_len = uri ? strlen(uri) : 0;
    req->conn = conn;
    req->ops = ((struct http_server *)cls)->ops;
    strbuf_init(&req->pending_headers, 0);
    strbuf_init(&req->body, 0);
    make_request_id(req->request_id);
    return p;
}

/* Collects one header. A value that is not UTF-8 (it could be kept and written into XML) is
 * refused here, once, for all listeners; so is a NUL that libmicrohttpd counts (see also
 * header_cut_at_nul). */
static enum MHD_Result header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    struct http_request *req = cls;
    if (strlen(key) != key_size || (value && strlen(value) != value_size) ||
        (value && !sp_names_xml_text_valid(value))) {
        req->bad_header = true;
        return MHD_NO;
    }
    if (req->nheaders == LIMIT_HEADER_COUNT) {
        req->too_many_headers = true;
        return MHD_NO;
    }
    /* A header that frames or authorises the request, sent twice with different values, is
     * read one way here and maybe another by what stands in front (libmicrohttpd frames the
     * body by the first Content-Length): refused, as HTTP requires. */
    static const char *const once[] = {"Content-Length", "Transfer-Encoding", "Host",
                                       "Authorization"};
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++) {
        const char *seen = strcasecmp(key, once[i]) == 0 ? http_header(req, once[i]) : NULL;
        if (seen && strcmp(seen, value ? value : "") != 0)
            req->ambiguous = true;
    }
    req->headers[req->nheaders].name = key;
    req->headers[req->nheaders].value = value ? value : "";
    req->nheaders++;
    return MHD_YES;
}

/*
 * Whether a header's value was cut at a NUL byte. libmicrohttpd (0.9.75) neither refuses a NUL
 * in a header line nor counts past it: the value reaches header_cb as a C string that stops
 * there. The line itself stays in the connection's read buffer, where the request line and the
 * header lines lie in order, each line's end overwritten with NULs (one for LF, two for CRLF)
 * and the block closed by an empty line. So a value followed by anything but its line end
 * before the next header's name (or the end of the block) held a NUL. A layout other than this
 * one (another libmicrohttpd) is not judged; a NUL that ends a value on a LF-only line hides
 * nothing and is not seen.
 */
static bool header_cut_at_nul(const struct http_request *req, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (!ci || !req->method || req->nheaders == 0)
        return false;
    const char *block_end = req->method + ci->header_size;
    for (size_t i = 0; i < req->nheaders; i++) {
        const char *end = req->headers[i].value + strlen(req->headers[i].value);
        bool last = i + 1 == req->nheaders;
        const char *next = last ? block_end : req->headers[i + 1].name;
        if (next <= end || next - end > LIMIT_HEADERS_BYTES)
            return false;
        if ((size_t)(next - end) > (last ? 4u : 2u))
            return true;
        for (const char *p = end; p < next; p++)
            if (*p != '\0')
                return true;
    }
    return false;
}

/* Whether the request target was cut at a NUL byte, as header_cut_at_nul for a header: in the
 * read buffer the target is followed by the NUL that replaced the space before the version,
 * then (only) spaces up to the version. Another layout is not judged. */
static bool target_cut_at_nul(const char *target_at, size_t target_len, const char *version)
{
    if (!target_at || !version)
        return false;
    const char *end = target_at + target_len;
    if (version <= end || version - end > LIMIT_URI_BYTES)
        return false;
    for (const char *p = end + 1; p < version; p++)
        if (*p != ' ')
            return true;
    return false;
}

static void parse_target(struct http_request *req)
{
    const char *q = strchr(req->raw_uri, '?');
    size_t plen = q ? (size_t)(q - req->raw_uri) : strlen(req->raw_uri);
    req->raw_path = xstrndup(req->raw_uri, plen);
    req->path = query_decode(req->raw_path, plen, false, NULL);
    if (q && query_parse(q + 1, strlen(q + 1), &req->query) < 0)
        req->query_bad = true;
}

static void read_length(struct http_request *req)
{
    const char *te = http_header(req, "Transfer-Encoding");
    req->chunked = te && strcasestr(te, "chunked") != NULL;
    const char *cl = http_header(req, "Content-Length");
    if (!cl)
        return;
    char *end;
    unsigned long long v = strtoull(cl, &end, 10);
    if (*cl >= '0' && *cl <= '9' && *end == '\0') {
        req->has_length = true;
        req->content_length = v;
    }
}

static void read_peer(struct http_request *req, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ci->client_addr;
        req->client_ipv4 = ntohl(sin->sin_addr.s_addr);
    }
}

/* Called on the first call of a request: everything up to choosing a body mode. */
static void begin_request(struct http_request *req)
{
    const struct http_listener_ops *ops = req->ops;
    if (strlen(req->raw_uri) > LIMIT_URI_BYTES) {
        ops->error(req, 414, "InvalidUri", "The request URI is too long.");
        return;
    }
    if (req->too_many_headers) {
        ops->error(req, 431, "RequestHeaderFieldsTooLarge",
                   "The request has more headers, or longer ones, than the server accepts.");
        return;
    }
    if (req->ambiguous ||
        (http_header(req, "Content-Length") && http_header(req, "Transfer-Encoding"))) {
        /* Where this request ends is unclear: its connection ends with the answer. */
        http_set_header(req, "Connection", "close");
        ops->error(req, 400, "InvalidHeaderValue",
                   "A header that frames or authorises the request was sent twice with "
                   "different values, or both Content-Length and Transfer-Encoding were sent.");
        return;
    }
    if (req->bad_header) {
        ops->error(req, 400, "InvalidHeaderValue",
                   "The value for one of the HTTP headers is not in the correct format.");
        return;
    }
    if (!req->path || req->target_cut) {
        ops->error(req, 400, "InvalidUri",
                   "The requested URI does not represent any resource on the server.");
        return;
    }
    if (req->query_bad) {
        ops->error(req, 400, "InvalidQueryParameterValue",
                   "The query string is malformed or has too many parameters.");
        return;
    }
    ops->begin(req);
    if (http_replied(req))
        return;
    if (req->body_mode == HTTP_BODY_BUFFER) {
        if (req->has_length && req->content_length > req->body_max) {
            ops->error(req, 413, "RequestBodyTooLarge",
                       "The request body is too large and exceeds the maximum permissible limit.");
            return;
        }
        req->body.max = req->body_max;
    }
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct http_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void take_body(struct http_request *req, const char *data, size_t n)
{
    req->body_seen += n;
    struct http_conn *c = req->conn ? conn_of(req->conn) : NULL; /* none in http_run_local */
    if (c)
        atomic_store(&c->body_seen, req->body_seen);
    if (http_replied(req) || req->overflow)
        return; /* discarding after an early answer */
    switch (req->body_mode) {
    case HTTP_BODY_DISCARD:
        break;
    case HTTP_BODY_BUFFER:
        if (strbuf_append(&req->body, data, n) < 0) {
            req->overflow = true;
            req->ops->error(req, 413, "RequestBodyTooLarge",
                            "The request body is too large and exceeds the maximum permissible "
                            "limit.");
        }
        break;
    case HTTP_BODY_SINK:
        if (req->sink(req, data, n) < 0 && !http_replied(req))
            req->ops->error(req, 500, "InternalError",
                            "The server encountered an internal error. Please retry the request.");
        break;
    }
}

static enum MHD_Result queue_reply(struct MHD_Connection *conn, struct http_request *req)
{
    if (!http_replied(req))
        req->ops->error(req, 500, "InternalError",
                        "The server encountered an internal error. Please retry the request.");
    if (req->ops->decorate)
        req->ops->decorate(req);
    const char *p = req->pending_headers.data;
    const char *end = p + req->pending_headers.len;
    while (p && p < end) {
        const char *name = p;
        const char *value = name + strlen(name) + 1;
        MHD_add_response_header(req->reply, name, value);
        p = value + strlen(value) + 1;
    }
    enum MHD_Result r = MHD_queue_response(conn, req->status, req->reply);
    MHD_destroy_response(req->reply);
    req->reply = NULL;
    return r;
}

static enum MHD_Result access_in(struct MHD_Connection *conn, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct req_private *p = *con_cls;
    struct http_request *req = &p->req;
    struct http_conn *c = conn_of(conn);
    if (p->phase == PHASE_NEW) {
        p->phase = PHASE_BODY;
        if (c) {
            atomic_store(&c->body_seen, 0);
            atomic_fetch_add(&c->serial, 1);
            atomic_store(&c->state, CONN_BODY);
        }
        req->method = method;
        req->is_head = strcmp(method, "HEAD") == 0;
        MHD_get_connection_values_n(conn, MHD_HEADER_KIND, header_cb, req);
        if (!req->too_many_headers && header_cut_at_nul(req, conn))
            req->bad_header = true;
        /* Headers that fill most of libmicrohttpd's memory: refused here, in the listener's
         * own dialect, before libmicrohttpd would have to refuse bigger ones in HTML. */
        const union MHD_ConnectionInfo *hs =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
        if (hs && hs->header_size > LIMIT_HEADER_BLOCK_BYTES)
            req->too_many_headers = true;
        if (target_cut_at_nul(p->target_at, p->target_len, version))
            req->target_cut = true;
        parse_target(req);
        read_length(req);
        read_peer(req, conn);
        begin_request(req);
        /* An answer known before the body: send it now rather than read a body nobody wants. */
        if (http_replied(req)) {
            p->phase = PHASE_DONE;
            if (c)
                atomic_store(&c->state, CONN_BUSY);
            return queue_reply(conn, req);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        take_body(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (p->phase == PHASE_DONE)
        return MHD_YES;
    p->phase = PHASE_DONE;
    if (c)
        atomic_store(&c->state, CONN_BUSY);
    if (!http_replied(req))
        req->ops->finish(req);
    return queue_reply(conn, req);
}

/* Each call into a listener runs with one of the gate's slots (gate.h). */
static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    /* While it waits for a slot the connection reads nothing: the watchdog must not take
     * that for a client that trickles, and the body's window starts again after the wait. */
    struct http_conn *c = conn_of(conn);
    int was = c ? atomic_exchange(&c->state, CONN_QUEUED) : CONN_BUSY;
    gate_enter();
    if (c) {
        atomic_fetch_add(&c->serial, 1);
        atomic_store(&c->state, was == CONN_WAIT_HEADERS ? CONN_BUSY : was);
    }
    enum MHD_Result r = access_in(conn, method, version, upload_data, upload_data_size, con_cls);
    gate_leave();
    return r;
}

/* malloc_trim walks and locks every arena: at most once a second, by one thread at a time. */
static void trim_memory(void)
{
    static _Atomic int64_t last_ms;
    int64_t now = mono_ms(), last = atomic_load(&last_ms);
    if (now - last >= 1000 && atomic_compare_exchange_strong(&last_ms, &last, now))
        malloc_trim(0);
}

/* Releases what a request holds (its listener's state, the reply, the parsed target). */
static void request_release(struct http_request *req)
{
    /* A request that brought a large body (a bulk of tasks, a block list) leaves many freed
     * blocks behind it; glibc keeps them in its arenas unless asked to give them back. */
    bool large = req->body.cap >= HTTP_TRIM_AFTER_BYTES;
    if (req->ops->cleanup)
        req->ops->cleanup(req);
    if (req->reply)
        MHD_destroy_response(req->reply);
    req->reply = NULL;
    strbuf_finish(&req->pending_headers);
    strbuf_finish(&req->body);
    query_finish(&req->query);
    free(req->raw_uri);
    free(req->raw_path);
    free(req->path);
    if (large)
        trim_memory();
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct http_conn *c = conn_of(conn);
    if (c) {
        /* A kept-alive connection may idle before its next request, then send its headers. */
        atomic_store(&c->deadline_ms,
                     mono_ms() + 1000 * (int64_t)(s->lim.idle_timeout_s + s->lim.header_timeout_s));
        atomic_store(&c->state, CONN_WAIT_HEADERS);
    }
    struct req_private *p = *con_cls;
    if (!p)
        return;
    request_release(&p->req);
    free(p);
    *con_cls = NULL;
}

unsigned http_run_local(const struct http_listener_ops *ops, const char *method, const char *target,
                        const struct sharedkey_header *headers, size_t n, const void *body,
                        size_t len)
{
    struct http_request req = {.ops = ops, .method = method};
    req.is_head = strcmp(method, "HEAD") == 0;
    req.raw_uri = xstrdup(target);
    strbuf_init(&req.pending_headers, 0);
    strbuf_init(&req.body, 0);
    make_request_id(req.request_id);
    for (size_t i = 0; i < n; i++) {
        if (req.nheaders == LIMIT_HEADER_COUNT) {
            req.too_many_headers = true;
            break;
        }
        req.headers[req.nheaders++] = headers[i];
    }
    parse_target(&req);
    read_length(&req);
    begin_request(&req);
    if (!http_replied(&req) && len)
        take_body(&req, body, len);
    if (!http_replied(&req))
        ops->finish(&req);
    if (!http_replied(&req))
        ops->error(&req, 500, "InternalError",
                   "The server encountered an internal error. Please retry the request.");
    if (ops->decorate)
        ops->decorate(&req);
    unsigned status = req.status;
    request_release(&req);
    return status;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    log_debug("http: %s", line);
}

static void notify_conn(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    struct http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct http_conn *c = xcalloc(1, sizeof *c);
        c->fd = ci ? ci->connect_fd : -1;
        atomic_store(&c->deadline_ms, mono_ms() + 1000 * (int64_t)s->lim.header_timeout_s);
        pthread_mutex_lock(&s->lock);
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        pthread_mutex_unlock(&s->lock);
        *socket_context = c;
        return;
    }
    /* Closed: libmicrohttpd closes the socket after this, so the watchdog (which only touches
     * sockets under the lock) never shuts down a reused descriptor. */
    struct http_conn *c = *socket_context;
    if (!c)
        return;
    pthread_mutex_lock(&s->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&s->lock);
    free(c);
    *socket_context = NULL;
}

/* Whether c is too slow; the watchdog's window fields are updated on the way. */
static const char *conn_too_slow(struct http_conn *c, int64_t now)
{
    int state = atomic_load(&c->state);
    if (state == CONN_WAIT_HEADERS)
        return now > atomic_load(&c->deadline_ms) ? "its request headers took too long" : NULL;
    if (state != CONN_BODY)
        return NULL;
    unsigned serial = atomic_load(&c->serial);
    uint64_t seen = atomic_load(&c->body_seen);
    if (serial != c->win_serial || seen < c->win_seen) {
        c->win_serial = serial;
        c->win_start_ms = now;
        c->win_seen = seen;
        return NULL;
    }
    if (now - c->win_start_ms < LIMIT_BODY_WINDOW_SECONDS * 1000)
        return NULL;
    if (seen - c->win_seen < LIMIT_BODY_MIN_BYTES)
        return "its request body arrives too slowly";
    c->win_start_ms = now;
    c->win_seen = seen;
    return NULL;
}

/* Closes connections that hold a slot without sending their request at a useful pace: the
 * idle timeout alone never fires on a client that trickles a byte at a time. Shutting the
 * socket down makes the connection's thread see the end of input and close it. */
static void *watchdog_main(void *arg)
{
    struct http_server *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 500 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int rc = pthread_cond_timedwait(&s->wake, &s->lock, &until);
        if (rc != 0 && rc != ETIMEDOUT)
            break;
        int64_t now = mono_ms();
        for (struct http_conn *c = s->conns; c; c = c->next) {
            const char *why = c->fd >= 0 ? conn_too_slow(c, now) : NULL;
            if (why) {
                log_info("http: closing a connection on port %u: %s", s->port, why);
                shutdown(c->fd, SHUT_RDWR);
                c->fd = -1;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void watchdog_stop(struct http_server *s)
{
    if (!s->watchdog_running)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->watchdog, NULL);
    s->watchdog_running = false;
}

struct http_server *http_server_create(const char *host, uint16_t port,
                                       const struct http_listener_ops *ops,
                                       const struct http_limits *lim)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    int rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0 || !ai) {
        log_error("http: cannot resolve listen address %s: %s", host, gai_strerror(rc));
        return NULL;
    }
    struct http_server *s = xcalloc(1, sizeof *s);
    s->ops = ops;
    s->lim = *lim;
    if (s->lim.per_client == 0 || s->lim.per_client > s->lim.max_conns)
        s->lim.per_client = s->lim.max_conns;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The connection memory pool holds a request's headers and its read buffer; libmicrohttpd
     * zeroes all of it before each request on a connection, so it is kept to the header limit
     * (alternated azload runs, 16 connections putting 4 KiB blobs: 11,500 req/s with a
     * 256 KiB pool, 12,900 with this one). */
    s->daemon = MHD_start_daemon(
        flags, port, NULL, NULL, access_cb, s, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, s, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
        MHD_OPTION_NOTIFY_CONNECTION, notify_conn, s, MHD_OPTION_CONNECTION_LIMIT, s->lim.max_conns,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->lim.per_client, MHD_OPTION_CONNECTION_TIMEOUT,
        s->lim.idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)LIMIT_HEADERS_BYTES,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
        MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->daemon) {
        log_error("http: cannot listen on %s:%u", host, port);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : port;
    if (pthread_create(&s->watchdog, NULL, watchdog_main, s) != 0) {
        log_error("http: cannot start the connection watchdog");
        MHD_stop_daemon(s->daemon);
        goto fail;
    }
    s->watchdog_running = true;
    return s;
fail:
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
}

uint16_t http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_quiesce(struct http_server *s)
{
    if (s) {
        MHD_socket fd = MHD_quiesce_daemon(s->daemon);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
    }
}

void http_server_destroy(struct http_server *s)
{
    if (!s)
        return;
    watchdog_stop(s);
    MHD_stop_daemon(s->daemon);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
