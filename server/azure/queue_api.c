/*
 * queue_api.c: the Azure Queue REST listener. Splits /<account>/<queue>[/messages[/<id>]],
 * picks the operation from method and query, authorises it (auth_azure), checks its query
 * parameters, parses the <QueueMessage> body with libxml2 and turns queue_store's results
 * into Azure's status codes, headers and XML. It holds no queue state.
 */
#include "queue_api.h"
#include "auth_azure.h"
#include "azure_xml.h"
#include "azure_reply.h"
#include "queue_store.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum op {
    OP_NONE,
    OP_LIST_QUEUES,
    OP_CREATE_QUEUE,
    OP_DELETE_QUEUE,
    OP_GET_METADATA,
    OP_SET_METADATA,
    OP_PUT_MESSAGE,
    OP_GET_MESSAGES,
    OP_PEEK_MESSAGES,
    OP_CLEAR_MESSAGES,
    OP_DELETE_MESSAGE,
    OP_UPDATE_MESSAGE,
};

/* What each operation needs from its credentials. Account SAS letters follow Microsoft's
 * table (create queue: c or w; messages: a, p, r, u); the queue service SAS letters are
 * r (peek, metadata), a (put), u (update), p (get, delete). */
static const struct {
    enum auth_level level;
    const char *perms; /* any one letter grants it */
    bool service_sas_ok;
} op_needs[] = {
    [OP_LIST_QUEUES] = {AUTH_SERVICE, "l", false},
    [OP_CREATE_QUEUE] = {AUTH_CONTAINER, "cw", false},
    [OP_DELETE_QUEUE] = {AUTH_CONTAINER, "d", false},
    [OP_GET_METADATA] = {AUTH_CONTAINER, "r", true},
    [OP_SET_METADATA] = {AUTH_CONTAINER, "w", false},
    [OP_PUT_MESSAGE] = {AUTH_OBJECT, "a", true},
    [OP_GET_MESSAGES] = {AUTH_OBJECT, "p", true},
    [OP_PEEK_MESSAGES] = {AUTH_OBJECT, "r", true},
    [OP_CLEAR_MESSAGES] = {AUTH_OBJECT, "d", false},
    [OP_DELETE_MESSAGE] = {AUTH_OBJECT, "p", true},
    [OP_UPDATE_MESSAGE] = {AUTH_OBJECT, "u", true},
};

struct queue_ctx {
    enum op op;
    const struct account *acct;
    char *queue;      /* decoded; NULL at service level */
    char *message_id; /* decoded; NULL unless /messages/<id> */
    bool messages;    /* the path names the messages of the queue */
    char *metadata;   /* canonical JSON of x-ms-meta-*, for create and set */
    /* Query parameters, checked in begin. */
    unsigned num;
    int64_t visibility_ms, ttl_ms;
    const char *receipt;
};

/* ---- answers ---- */

static void reply_empty(struct http_request *req, unsigned status)
{
    http_reply(req, status, NULL, NULL, 0);
}

static void set_time_header(struct http_request *req, const char *name, int64_t ms)
{
    char buf[TIMEFMT_BUF];
    timefmt_rfc1123(ms, buf);
    http_set_header(req, name, buf);
}

static void store_error(struct http_request *req, int rc)
{
    switch (rc) {
    case QUEUE_STORE_NO_QUEUE:
        azure_reply_error_code(req, 404, "QueueNotFound");
        break;
    case QUEUE_STORE_QUEUE_EXISTS:
        azure_reply_error_code(req, 409, "QueueAlreadyExists");
        break;
    case QUEUE_STORE_NO_MESSAGE:
        azure_reply_error_code(req, 404, "MessageNotFound");
        break;
    case QUEUE_STORE_RECEIPT_MISMATCH:
        azure_reply_error_code(req, 400, "PopReceiptMismatch");
        break;
    case QUEUE_STORE_BAD_RECEIPT:
        azure_reply_error(req, 400, "InvalidQueryParameterValue", NULL, "QueryParameterName",
                          "popreceipt");
        break;
    case QUEUE_STORE_TOO_LARGE:
        /* What the service answers for text over 64 KiB (the error-code table's
         * MessageTooLarge is not what it sends). */
        azure_reply_error(req, 413, "RequestBodyTooLarge", NULL, "MaxLimit", "65536");
        break;
    case QUEUE_STORE_BAD_ARG:
        azure_reply_error(req, 400, "InvalidQueryParameterValue", NULL, "QueryParameterName",
                          "visibilitytimeout");
        break;
    default:
        azure_reply_error_code(req, 500, "InternalError");
        break;
    }
}

static void bad_query(struct http_request *req, const char *name)
{
    azure_reply_error(req, 400, "InvalidQueryParameterValue", NULL, "QueryParameterName", name);
}

static void out_of_range(struct http_request *req, const char *name)
{
    azure_reply_error(req, 400, "OutOfRangeQueryParameterValue",
                      "One of the query parameters specified in the request URI is outside the "
                      "permissible range.",
                      "QueryParameterName", name);
}

static void missing_query(struct http_request *req, const char *name)
{
    azure_reply_error(req, 400, "MissingRequiredQueryParameter",
                      "A query parameter that's mandatory for this request is not specified.",
                      "QueryParameterName", name);
}

/* ---- request pieces ---- */

/* Splits the raw path into its segments, each decoded on its own so an encoded '/' cannot
 * move a boundary: account, queue, "messages", message id. Returns 0, or -1 if malformed or
 * not a queue resource. */
static int split_path(const char *raw, char **account, struct queue_ctx *c)
{
    char *seg[4] = {NULL, NULL, NULL, NULL};
    size_t n = 0;
    if (*raw != '/')
        return -1;
    const char *p = raw + 1;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0) {
            if (end && end[1]) /* an empty segment in the middle: "//" */
                goto bad;
            break; /* one trailing slash */
        }
        if (n == 4)
            goto bad;
        seg[n] = query_decode(p, len, false, NULL);
        if (!seg[n])
            goto bad;
        n++;
        if (!end)
            break;
        p = end + 1;
    }
    if (n == 0 || (n >= 3 && strcmp(seg[2], "messages") != 0))
        goto bad;
    *account = seg[0];
    c->queue = seg[1];
    c->messages = n >= 3;
    free(seg[2]);
    c->message_id = seg[3];
    return 0;
bad:
    for (size_t i = 0; i < n; i++)
        free(seg[i]);
    return -1;
}

static bool query_is(const struct http_request *req, const char *name, const char *value)
{
    const char *v = query_get_ci(&req->query, name);
    return v && strcasecmp(v, value) == 0;
}

static enum op pick_op(struct http_request *req, const struct queue_ctx *c)
{
    const char *m = req->method;
    bool get = strcmp(m, "GET") == 0 || req->is_head;
    bool put = strcmp(m, "PUT") == 0;
    bool del = strcmp(m, "DELETE") == 0;
    bool post = strcmp(m, "POST") == 0;
    const char *comp = query_get_ci(&req->query, "comp");
    if (!c->queue)
        return get && comp && strcasecmp(comp, "list") == 0 ? OP_LIST_QUEUES : OP_NONE;
    if (!c->messages) {
        if (put && !comp)
            return OP_CREATE_QUEUE;
        if (del && !comp)
            return OP_DELETE_QUEUE;
        if (comp && strcasecmp(comp, "metadata") == 0)
            return get ? OP_GET_METADATA : put ? OP_SET_METADATA : OP_NONE;
        return OP_NONE;
    }
    if (comp)
        return OP_NONE;
    if (!c->message_id) {
        if (post)
            return OP_PUT_MESSAGE;
        if (get && !req->is_head)
            return query_is(req, "peekonly", "true") ? OP_PEEK_MESSAGES : OP_GET_MESSAGES;
        if (del)
            return OP_CLEAR_MESSAGES;
        return OP_NONE;
    }
    if (del)
        return OP_DELETE_MESSAGE;
    if (put)
        return OP_UPDATE_MESSAGE;
    return OP_NONE;
}

/* A decimal integer query value (an optional '-', then digits): 0, 1 if absent, -1 if
 * malformed or out of int64's range. */
static int query_int(struct http_request *req, const char *name, int64_t *out)
{
    const char *v = query_get(&req->query, name);
    if (!v)
        return 1;
    const char *d = v[0] == '-' ? v + 1 : v;
    if (!*d || strspn(d, "0123456789") != strlen(d))
        return -1;
    errno = 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (errno || *end)
        return -1;
    *out = x;
    return 0;
}

/* Reads an integer parameter in [lo, hi] (default def when absent). Replies and returns -1
 * when it is malformed or out of range. */
static int query_range(struct http_request *req, const char *name, int64_t lo, int64_t hi,
                       int64_t def, int64_t *out)
{
    int rc = query_int(req, name, out);
    if (rc < 0) {
        bad_query(req, name);
        return -1;
    }
    if (rc > 0) {
        *out = def;
        return 0;
    }
    if (*out < lo || *out > hi) {
        out_of_range(req, name);
        return -1;
    }
    return 0;
}

/* ---- begin: route, authorise, check parameters, pick the body mode ---- */

static int check_params(struct http_request *req, struct queue_ctx *c)
{
    const int64_t max_vis = LIMIT_VISIBILITY_SECONDS;
    int64_t v;
    switch (c->op) {
    case OP_PUT_MESSAGE: {
        int64_t ttl;
        if (query_range(req, "visibilitytimeout", 0, max_vis, 0, &v) < 0)
            return -1;
        int rc = query_int(req, "messagettl", &ttl);
        if (rc < 0) {
            bad_query(req, "messagettl");
            return -1;
        }
        if (rc == 0 && ttl < 1 && ttl != -1) {
            out_of_range(req, "messagettl");
            return -1;
        }
        if (rc > 0)
            ttl = LIMIT_DEFAULT_TTL_SECONDS;
        if (ttl != -1 && v >= ttl) {
            azure_reply_error(
                req, 400, "InvalidQueryParameterValue",
                "Value for one of the query parameters specified in the request URI is "
                "invalid: messagettl must be greater than visibilitytimeout.",
                "QueryParameterName", "visibilitytimeout");
            return -1;
        }
        c->visibility_ms = v * 1000;
        /* Beyond the year 9999 the store stops counting anyway. */
        c->ttl_ms = ttl == -1                           ? QUEUE_STORE_TTL_NEVER
                    : ttl > QUEUE_STORE_NEVER_MS / 1000 ? QUEUE_STORE_NEVER_MS
                                                        : ttl * 1000;
        return 0;
    }
    case OP_GET_MESSAGES:
        if (query_range(req, "numofmessages", 1, LIMIT_MESSAGES_PER_GET, 1, &v) < 0)
            return -1;
        c->num = (unsigned)v;
        if (query_range(req, "visibilitytimeout", 1, max_vis,
                        QUEUE_STORE_DEFAULT_GET_VISIBILITY_MS / 1000, &v) < 0)
            return -1;
        c->visibility_ms = v * 1000;
        return 0;
    case OP_PEEK_MESSAGES:
        if (query_range(req, "numofmessages", 1, LIMIT_MESSAGES_PER_GET, 1, &v) < 0)
            return -1;
        c->num = (unsigned)v;
        return 0;
    case OP_UPDATE_MESSAGE:
    case OP_DELETE_MESSAGE:
        c->receipt = query_get(&req->query, "popreceipt");
        if (!c->receipt) {
            missing_query(req, "popreceipt");
            return -1;
        }
        if (c->op == OP_DELETE_MESSAGE)
            return 0;
        if (!query_get(&req->query, "visibilitytimeout")) {
            missing_query(req, "visibilitytimeout");
            return -1;
        }
        if (query_range(req, "visibilitytimeout", 0, max_vis, 0, &v) < 0)
            return -1;
        c->visibility_ms = v * 1000;
        return 0;
    case OP_LIST_QUEUES: {
        if (query_range(req, "maxresults", 1, INT64_MAX, 5000, &v) < 0)
            return -1;
        c->num = v > 5000 ? 5000 : (unsigned)v;
        const char *inc = query_get(&req->query, "include");
        if (inc && strcmp(inc, "metadata") != 0 && *inc) {
            bad_query(req, "include");
            return -1;
        }
        return 0;
    }
    default:
        return 0;
    }
}

static void queue_begin(struct http_request *req)
{
    struct queue_ctx *c = xcalloc(1, sizeof *c);
    req->ctx = c;
    char *account = NULL;
    if (split_path(req->raw_path, &account, c) < 0) {
        azure_reply_error_code(req, 400, "InvalidUri");
        return;
    }
    c->acct = auth_azure_account(req, account);
    free(account);
    if (!c->acct)
        return;
    c->op = pick_op(req, c);
    req->op = (int)c->op;
    if (c->op == OP_NONE) {
        const char *comp = query_get_ci(&req->query, "comp");
        if (comp && strcasecmp(comp, "list") && strcasecmp(comp, "metadata"))
            azure_reply_error(req, 400, "UnsupportedQueryParameter", NULL, "QueryParameterName",
                              "comp");
        else
            azure_reply_error_code(req, 405, "UnsupportedHttpVerb");
        return;
    }
    struct auth_need need = {
        .svc = SAS_QUEUE,
        .level = op_needs[c->op].level,
        .perms = op_needs[c->op].perms,
        .service_sas_ok = op_needs[c->op].service_sas_ok,
        .container = c->queue,
    };
    if (!auth_azure_check(req, c->acct, &need))
        return;
    if (c->queue && !queue_store_valid_name(c->queue)) {
        size_t n = strlen(c->queue);
        if (n < 3 || n > LIMIT_QUEUE_NAME)
            azure_reply_error(req, 400, "OutOfRangeInput",
                              "The specified resource name length is not within the permissible "
                              "limits.",
                              NULL, NULL);
        else
            azure_reply_error(req, 400, "InvalidResourceName",
                              "The specifed resource name contains invalid characters.", NULL,
                              NULL);
        return;
    }
    if (check_params(req, c) < 0)
        return;
    switch (c->op) {
    case OP_CREATE_QUEUE:
    case OP_SET_METADATA:
        azure_reply_metadata_read(req, &c->metadata);
        return;
    case OP_PUT_MESSAGE:
    case OP_UPDATE_MESSAGE:
        req->body_mode = HTTP_BODY_BUFFER;
        req->body_max = LIMIT_MESSAGE_BODY;
        return;
    default:
        return;
    }
}

/* ---- finish: one function per operation ---- */

static void do_list(struct http_request *req, struct queue_ctx *c)
{
    const char *prefix = query_get(&req->query, "prefix");
    const char *marker = query_get(&req->query, "marker");
    const char *inc = query_get(&req->query, "include");
    bool with_meta = inc && strcmp(inc, "metadata") == 0;
    struct queue_store_list l;
    int rc = queue_store_queue_list(c->acct->name, prefix, marker && *marker ? marker : NULL,
                                    c->num, with_meta, &l);
    if (rc != QUEUE_STORE_OK) {
        store_error(req, rc);
        return;
    }
    struct strbuf sb;
    strbuf_init(&sb, 0);
    const char *host = http_header(req, "Host");
    strbuf_puts(&sb, "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "
                     "ServiceEndpoint=\"http://");
    strbuf_xml_escape(&sb, host ? host : "127.0.0.1");
    strbuf_puts(&sb, "/");
    strbuf_xml_escape(&sb, c->acct->name);
    strbuf_puts(&sb, "/\">");
    if (prefix) {
        strbuf_puts(&sb, "<Prefix>");
        strbuf_xml_escape(&sb, prefix);
        strbuf_puts(&sb, "</Prefix>");
    }
    if (marker) {
        strbuf_puts(&sb, "<Marker>");
        strbuf_xml_escape(&sb, marker);
        strbuf_puts(&sb, "</Marker>");
    }
    if (query_get(&req->query, "maxresults"))
        strbuf_printf(&sb, "<MaxResults>%u</MaxResults>", c->num);
    strbuf_puts(&sb, "<Queues>");
    for (size_t i = 0; i < l.n; i++) {
        strbuf_puts(&sb, "<Queue><Name>");
        strbuf_xml_escape(&sb, l.queues[i].name);
        strbuf_puts(&sb, "</Name>");
        if (with_meta)
            azure_reply_metadata_xml(&sb, l.queues[i].metadata);
        strbuf_puts(&sb, "</Queue>");
    }
    strbuf_puts(&sb, "</Queues>");
    if (l.next_marker) {
        strbuf_puts(&sb, "<NextMarker>");
        strbuf_xml_escape(&sb, l.next_marker);
        strbuf_puts(&sb, "</NextMarker>");
    } else {
        strbuf_puts(&sb, "<NextMarker />");
    }
    strbuf_puts(&sb, "</EnumerationResults>");
    queue_store_list_finish(&l);
    size_t len = sb.len;
    azure_reply_xml(req, 200, strbuf_steal(&sb), len);
}

static void do_create(struct http_request *req, struct queue_ctx *c)
{
    bool created;
    int rc = queue_store_queue_create(c->acct->name, c->queue, c->metadata, &created);
    if (rc != QUEUE_STORE_OK) {
        store_error(req, rc);
        return;
    }
    reply_empty(req, created ? 201 : 204);
}

static void do_get_metadata(struct http_request *req, struct queue_ctx *c)
{
    struct queue_store_queue q;
    int rc = queue_store_queue_get(c->acct->name, c->queue, &q);
    if (rc != QUEUE_STORE_OK) {
        store_error(req, rc);
        return;
    }
    reply_empty(req, 200);
    char count[24];
    snprintf(count, sizeof count, "%" PRIu64, q.approx_messages);
    http_set_header(req, "x-ms-approximate-messages-count", count);
    azure_reply_metadata_headers(req, q.metadata);
    queue_store_queue_finish(&q);
}

static void message_times(struct strbuf *sb, const struct queue_store_message *m)
{
    char t[TIMEFMT_BUF];
    timefmt_rfc1123(m->inserted_ms, t);
    strbuf_printf(sb, "<InsertionTime>%s</InsertionTime>", t);
    timefmt_rfc1123(m->expires_ms, t);
    strbuf_printf(sb, "<ExpirationTime>%s</ExpirationTime>", t);
}

static void do_put_message(struct http_request *req, struct queue_ctx *c)
{
    size_t len = 0;
    char *text = azure_xml_queue_message(req->body.data, req->body.len, &len);
    if (!text) {
        azure_reply_error_code(req, 400, "InvalidXmlDocument");
        return;
    }
    struct queue_store_message m;
    int rc = queue_store_put(c->acct->name, c->queue, text, len, c->visibility_ms, c->ttl_ms, &m);
    free(text);
    if (rc != QUEUE_STORE_OK) {
        store_error(req, rc);
        return;
    }
    char t[TIMEFMT_BUF];
    struct strbuf sb;
    strbuf_init(&sb, 0);
    strbuf_printf(&sb,
                  "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList><QueueMessage>"
                  "<MessageId>%s</MessageId>",
                  m.id);
    message_times(&sb, &m);
    timefmt_rfc1123(m.visible_ms, t);
    strbuf_printf(&sb,
                  "<PopReceipt>%s</PopReceipt><TimeNextVisible>%s</TimeNextVisible>"
                  "</QueueMessage></QueueMessagesList>",
                  m.pop_receipt, t);
    size_t n = sb.len;
    azure_reply_xml(req, 201, strbuf_steal(&sb), n);
}

static void do_get_messages(struct http_request *req, struct queue_ctx *c, bool peek)
{
    struct queue_store_message m[LIMIT_MESSAGES_PER_GET];
    size_t count;
    int rc = peek ? queue_store_peek(c->acct->name, c->queue, c->num, m, &count)
                  : queue_store_get(c->acct->name, c->queue, c->num, c->visibility_ms, m, &count);
    if (rc != QUEUE_STORE_OK) {
        store_error(req, rc);
        return;
    }
    struct strbuf sb;
    strbuf_init(&sb, 0);
    strbuf_puts(&sb, "<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    strbuf_puts(&sb, count ? "<QueueMessagesList>" : "<QueueMessagesList />");
    for (size_t i = 0; i < count; i++) {
        char t[TIMEFMT_BUF];
        strbuf_printf(&sb, "<QueueMessage><MessageId>%s</MessageId>", m[i].id);
        message_times(&sb, &m[i]);
        if (!peek) {
            timefmt_rfc1123(m[i].visible_ms, t);
            strbuf_printf(&sb, "<PopReceipt>%s</PopReceipt><TimeNextVisible>%s</TimeNextVisible>",
                          m[i].pop_receipt, t);
        }
        strbuf_printf(&sb, "<DequeueCount>%" PRId64 "</DequeueCount><MessageText>",
                      m[i].dequeue_count);
        strbuf_xml_escape(&sb, m[i].text);
        strbuf_puts(&sb, "</MessageText></QueueMessage>");
    }
    if (count)
        strbuf_puts(&sb, "</QueueMessagesList>");
    queue_store_messages_finish(m, count);
    size_t n = sb.len;
    azure_reply_xml(req, 200, strbuf_steal(&sb), n);
}

static void do_update_message(struct http_request *req, struct queue_ctx *c)
{
    char *text = NULL;
    size_t len = 0;
    if (req->body.len) {
        text = azure_xml_queue_message(req->body.data, req->body.len, &len);
        if (!text) {
            azure_reply_error_code(req, 400, "InvalidXmlDocument");
            return;
        }
    }
    struct queue_store_message m;
    int rc = queue_store_update(c->acct->name, c->queue, c->message_id, c->receipt,
                                c->visibility_ms, text, len, &m);
    free(text);
    if (rc != QUEUE_STORE_OK) {
        store_error(req, rc);
        return;
    }
    reply_empty(req, 204);
    http_set_header(req, "x-ms-popreceipt", m.pop_receipt);
    set_time_header(req, "x-ms-time-next-visible", m.visible_ms);
}

static void queue_finish(struct http_request *req)
{
    struct queue_ctx *c = req->ctx;
    int rc;
    switch (c->op) {
    case OP_LIST_QUEUES:
        do_list(req, c);
        return;
    case OP_CREATE_QUEUE:
        do_create(req, c);
        return;
    case OP_DELETE_QUEUE:
        rc = queue_store_queue_delete(c->acct->name, c->queue);
        break;
    case OP_GET_METADATA:
        do_get_metadata(req, c);
        return;
    case OP_SET_METADATA:
        rc = queue_store_queue_set_metadata(c->acct->name, c->queue, c->metadata);
        break;
    case OP_PUT_MESSAGE:
        do_put_message(req, c);
        return;
    case OP_GET_MESSAGES:
    case OP_PEEK_MESSAGES:
        do_get_messages(req, c, c->op == OP_PEEK_MESSAGES);
        return;
    case OP_CLEAR_MESSAGES:
        rc = queue_store_clear(c->acct->name, c->queue);
        break;
    case OP_DELETE_MESSAGE:
        rc = queue_store_delete(c->acct->name, c->queue, c->message_id, c->receipt);
        break;
    case OP_UPDATE_MESSAGE:
        do_update_message(req, c);
        return;
    default:
        azure_reply_error_code(req, 500, "InternalError");
        return;
    }
    if (rc != QUEUE_STORE_OK)
        store_error(req, rc);
    else
        reply_empty(req, 204);
}

static void queue_cleanup(struct http_request *req)
{
    struct queue_ctx *c = req->ctx;
    if (!c)
        return;
    free(c->queue);
    free(c->message_id);
    free(c->metadata);
    free(c);
    req->ctx = NULL;
}

const struct http_listener_ops queue_api_ops = {
    .begin = queue_begin,
    .finish = queue_finish,
    .cleanup = queue_cleanup,
    .decorate = azure_reply_decorate,
    .error = azure_reply_transport_error,
};
