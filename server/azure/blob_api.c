/*
 * blob_api.c: the Azure Blob REST listener. Splits the path into account, container and
 * blob, picks the operation from method and query, authorises it (auth_azure), streams
 * upload bodies into extents while hashing them (small ones are buffered and stored inline),
 * and turns blob_store's results into Azure's status codes, headers and XML. It holds no
 * state between requests.
 */
#include "blob_api.h"
#include "auth_azure.h"
#include "azure_reply.h"
#include "b64.h"
#include "blob_store.h"
#include "azure_xml.h"
#include "clock.h"
#include "log.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum op {
    OP_NONE,
    OP_LIST_CONTAINERS,
    OP_GET_SERVICE_PROPS,
    OP_GET_ACCOUNT_INFO,
    OP_CREATE_CONTAINER,
    OP_DELETE_CONTAINER,
    OP_GET_CONTAINER_PROPS,
    OP_SET_CONTAINER_META,
    OP_LIST_BLOBS,
    OP_PUT_BLOB,
    OP_PUT_BLOCK,
    OP_PUT_BLOCK_LIST,
    OP_GET_BLOCK_LIST,
    OP_GET_BLOB,
    OP_GET_BLOB_META,
    OP_SET_BLOB_META,
    OP_SET_BLOB_PROPS,
    OP_SNAPSHOT,
    OP_DELETE_BLOB,
};

enum extent_state { EXT_NONE, EXT_OPEN, EXT_CLOSED };

struct blob_ctx {
    enum op op;
    const struct account *acct;
    char *container;
    char *blob;
    const char *snapshot;
    struct blob_store_container cont;
    struct store_files_writer w;
    enum extent_state ext;
    bool inline_body; /* the upload is small: buffered in req->body, stored inline */
    bool want_md5;
    unsigned char md5[CRYPTO_MD5_LEN];
    unsigned char block_id[64];
    size_t block_idlen;
    char *metadata;   /* JSON from x-ms-meta-* */
    unsigned granted; /* SAS_PERM letters the credentials grant */
};

/* ---- small helpers ---- */

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

static void set_md5_header(struct http_request *req, const char *name, const unsigned char *md5)
{
    char buf[32];
    b64_encode_to(md5, CRYPTO_MD5_LEN, buf);
    http_set_header(req, name, buf);
}

static void store_error(struct http_request *req, int rc)
{
    switch (rc) {
    case BLOB_STORE_NO_CONTAINER:
        azure_reply_error_code(req, 404, "ContainerNotFound");
        break;
    case BLOB_STORE_CONTAINER_EXISTS:
        azure_reply_error_code(req, 409, "ContainerAlreadyExists");
        break;
    case BLOB_STORE_NO_BLOB:
        azure_reply_error_code(req, 404, "BlobNotFound");
        break;
    case BLOB_STORE_BLOB_EXISTS:
        azure_reply_error_code(req, 409, "BlobAlreadyExists");
        break;
    case BLOB_STORE_COND_FAILED:
        azure_reply_error_code(req, 412, "ConditionNotMet");
        break;
    case BLOB_STORE_NOT_MODIFIED:
        reply_empty(req, 304);
        break;
    case BLOB_STORE_BAD_BLOCK_LIST:
        azure_reply_error_code(req, 400, "InvalidBlockList");
        break;
    case BLOB_STORE_BLOCK_ID_LENGTH:
        azure_reply_error(
            req, 400, "InvalidBlobOrBlock",
            "The specified blob or block content is invalid. All block ids of a blob must "
            "have the same length.",
            NULL, NULL);
        break;
    case BLOB_STORE_TOO_MANY_BLOCKS:
        azure_reply_error(
            req, 409, "BlockCountExceedsLimit",
            "The committed block count cannot exceed the maximum limit of 50,000 blocks.", NULL,
            NULL);
        break;
    case BLOB_STORE_SNAPSHOTS_PRESENT:
        azure_reply_error(req, 409, "SnapshotsPresent",
                          "This operation is not permitted because the blob has snapshots.", NULL,
                          NULL);
        break;
    default:
        azure_reply_error_code(req, 500, "InternalError");
        break;
    }
}

static void bad_query(struct http_request *req, const char *name, const char *value)
{
    char *msg = xasprintf("Value for one of the query parameters specified in the request URI is "
                          "invalid. QueryParameterName: %s",
                          name);
    azure_reply_error(req, 400, "InvalidQueryParameterValue", msg, "QueryParameterName", name);
    free(msg);
    (void)value;
}

static void bad_header(struct http_request *req, const char *name)
{
    azure_reply_error(req, 400, "InvalidHeaderValue", NULL, "HeaderName", name);
}

/* Container names: 3-63 of a-z, 0-9 and single hyphens, starting and ending alphanumeric. */
static bool valid_container_name(const char *s)
{
    size_t n = strlen(s);
    if (strcmp(s, "$root") == 0 || strcmp(s, "$logs") == 0 || strcmp(s, "$web") == 0)
        return true;
    if (n < 3 || n > LIMIT_CONTAINER_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
        if (c == '-' && (i == 0 || i == n - 1 || s[i - 1] == '-'))
            return false;
    }
    return true;
}

/* Blob names: 1-1024 characters, no control characters, no "." or ".." segment and no
 * leading '/', so no name can be read as a path out of its container. */
static bool valid_blob_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > LIMIT_BLOB_NAME || s[0] == '/' || s[0] == '\\')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\')
            return false;
    const char *seg = s;
    while (seg) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        seg = end ? end + 1 : NULL;
    }
    return true;
}

/* Splits the raw path into account, container and blob, each decoded on its own so an
 * encoded '/' cannot move a boundary. Returns 0 or -1 (malformed). */
static int split_path(const char *raw, char **account, char **container, char **blob)
{
    *account = *container = *blob = NULL;
    if (*raw != '/')
        return -1;
    raw++;
    const char *s1 = strchr(raw, '/');
    size_t alen = s1 ? (size_t)(s1 - raw) : strlen(raw);
    *account = query_decode(raw, alen, false, NULL);
    if (!*account)
        return -1;
    if (!s1 || !s1[1])
        return 0;
    const char *c = s1 + 1;
    const char *s2 = strchr(c, '/');
    size_t clen = s2 ? (size_t)(s2 - c) : strlen(c);
    *container = query_decode(c, clen, false, NULL);
    if (!*container)
        return -1;
    if (!s2 || !s2[1])
        return 0;
    *blob = query_decode(s2 + 1, strlen(s2 + 1), false, NULL);
    return *blob ? 0 : -1;
}

static int read_md5_header(struct http_request *req, const char *name, bool *has,
                           unsigned char md5[CRYPTO_MD5_LEN])
{
    const char *v = http_header(req, name);
    *has = false;
    if (!v)
        return 0;
    if (b64_decode_to(v, strlen(v), md5, CRYPTO_MD5_LEN) != CRYPTO_MD5_LEN) {
        azure_reply_error(
            req, 400, "InvalidMd5",
            "The MD5 value specified in the request is invalid. The MD5 value must be "
            "128 bits and Base64-encoded.",
            NULL, NULL);
        return -1;
    }
    *has = true;
    return 0;
}

static void read_cond(struct http_request *req, struct blob_store_cond *c)
{
    memset(c, 0, sizeof *c);
    c->if_match = http_header(req, "If-Match");
    c->if_none_match = http_header(req, "If-None-Match");
    const char *ims = http_header(req, "If-Modified-Since");
    const char *ius = http_header(req, "If-Unmodified-Since");
    /* Unparseable dates are ignored, as HTTP (and Azure) do. */
    c->has_ims = ims && timefmt_parse_rfc1123(ims, &c->ims) == 0;
    c->has_ius = ius && timefmt_parse_rfc1123(ius, &c->ius) == 0;
}

static char *dup_header(struct http_request *req, const char *a, const char *b)
{
    const char *v = http_header(req, a);
    if (!v && b)
        v = http_header(req, b);
    return v ? xstrdup(v) : NULL;
}

/* Content headers of Put Blob (standard headers allowed) or Put Block List / Set Blob
 * Properties (x-ms-blob-* only). */
static void read_content_headers(struct http_request *req, bool standard,
                                 struct blob_store_props *p)
{
    p->content_type = dup_header(req, "x-ms-blob-content-type", standard ? "Content-Type" : NULL);
    p->content_encoding =
        dup_header(req, "x-ms-blob-content-encoding", standard ? "Content-Encoding" : NULL);
    p->content_language =
        dup_header(req, "x-ms-blob-content-language", standard ? "Content-Language" : NULL);
    p->content_disposition = dup_header(req, "x-ms-blob-content-disposition", NULL);
    p->cache_control =
        dup_header(req, "x-ms-blob-cache-control", standard ? "Cache-Control" : NULL);
}

static void common_write_headers(struct http_request *req, const struct blob_store_props *out)
{
    http_set_header(req, "ETag", out->etag);
    set_time_header(req, "Last-Modified", out->modified_ms);
}

/* ---- operation choice ---- */

static bool query_is(const struct http_request *req, const char *name, const char *value)
{
    const char *v = query_get_ci(&req->query, name);
    return v && strcasecmp(v, value) == 0;
}

static enum op pick_op(struct http_request *req, struct blob_ctx *c)
{
    const char *m = req->method;
    bool get = strcmp(m, "GET") == 0 || req->is_head;
    bool put = strcmp(m, "PUT") == 0;
    bool del = strcmp(m, "DELETE") == 0;
    const char *comp = query_get_ci(&req->query, "comp");
    if (!c->container) {
        if (get && comp && strcasecmp(comp, "list") == 0)
            return OP_LIST_CONTAINERS;
        if (get && query_is(req, "restype", "service") && comp &&
            strcasecmp(comp, "properties") == 0)
            return OP_GET_SERVICE_PROPS;
        if (get && query_is(req, "restype", "account") && comp &&
            strcasecmp(comp, "properties") == 0)
            return OP_GET_ACCOUNT_INFO;
        return OP_NONE;
    }
    if (!c->blob) {
        if (!query_is(req, "restype", "container"))
            return OP_NONE;
        if (put && !comp)
            return OP_CREATE_CONTAINER;
        if (put && strcasecmp(comp, "metadata") == 0)
            return OP_SET_CONTAINER_META;
        if (del && !comp)
            return OP_DELETE_CONTAINER;
        if (get && (!comp || strcasecmp(comp, "metadata") == 0))
            return OP_GET_CONTAINER_PROPS;
        if (get && strcasecmp(comp, "list") == 0)
            return OP_LIST_BLOBS;
        return OP_NONE;
    }
    if (put) {
        if (!comp)
            return OP_PUT_BLOB;
        if (strcasecmp(comp, "block") == 0)
            return OP_PUT_BLOCK;
        if (strcasecmp(comp, "blocklist") == 0)
            return OP_PUT_BLOCK_LIST;
        if (strcasecmp(comp, "metadata") == 0)
            return OP_SET_BLOB_META;
        if (strcasecmp(comp, "properties") == 0)
            return OP_SET_BLOB_PROPS;
        if (strcasecmp(comp, "snapshot") == 0)
            return OP_SNAPSHOT;
        return OP_NONE;
    }
    if (get) {
        if (!comp)
            return OP_GET_BLOB;
        if (strcasecmp(comp, "metadata") == 0)
            return OP_GET_BLOB_META;
        if (strcasecmp(comp, "blocklist") == 0)
            return OP_GET_BLOCK_LIST;
        return OP_NONE;
    }
    if (del && !comp)
        return OP_DELETE_BLOB;
    return OP_NONE;
}

/* What each operation needs from its credentials (auth_azure). */
static const struct {
    enum auth_level level;
    const char *perms; /* any one letter grants it */
    bool service_sas_ok;
} op_needs[] = {
    [OP_LIST_CONTAINERS] = {AUTH_SERVICE, "l", false},
    [OP_GET_SERVICE_PROPS] = {AUTH_SERVICE, "r", false},
    [OP_GET_ACCOUNT_INFO] = {AUTH_SERVICE, "r", false},
    [OP_CREATE_CONTAINER] = {AUTH_CONTAINER, "cw", false},
    [OP_DELETE_CONTAINER] = {AUTH_CONTAINER, "d", false},
    [OP_GET_CONTAINER_PROPS] = {AUTH_CONTAINER, "r", false},
    [OP_SET_CONTAINER_META] = {AUTH_CONTAINER, "w", false},
    [OP_LIST_BLOBS] = {AUTH_CONTAINER, "l", true},
    [OP_PUT_BLOB] = {AUTH_OBJECT, "cw", true},
    [OP_PUT_BLOCK] = {AUTH_OBJECT, "w", true},
    [OP_PUT_BLOCK_LIST] = {AUTH_OBJECT, "w", true},
    [OP_GET_BLOCK_LIST] = {AUTH_OBJECT, "r", true},
    [OP_GET_BLOB] = {AUTH_OBJECT, "r", true},
    [OP_GET_BLOB_META] = {AUTH_OBJECT, "r", true},
    [OP_SET_BLOB_META] = {AUTH_OBJECT, "w", true},
    [OP_SET_BLOB_PROPS] = {AUTH_OBJECT, "w", true},
    [OP_SNAPSHOT] = {AUTH_OBJECT, "cw", true},
    [OP_DELETE_BLOB] = {AUTH_OBJECT, "d", true},
};

static void fill_need(const struct blob_ctx *c, struct auth_need *n)
{
    memset(n, 0, sizeof *n);
    n->svc = SAS_BLOB;
    n->container = c->container;
    n->blob = c->blob;
    n->snapshot = c->snapshot;
    n->level = op_needs[c->op].level;
    n->perms = op_needs[c->op].perms;
    n->service_sas_ok = op_needs[c->op].service_sas_ok;
    /* Deleting a snapshot may also use the newer "delete version" letter. */
    if (c->op == OP_DELETE_BLOB && c->snapshot)
        n->perms = "dx";
}

/* ---- body sinks ---- */

static int extent_sink(struct http_request *req, const char *data, size_t n)
{
    struct blob_ctx *c = req->ctx;
    if (store_files_writer_write(&c->w, data, n) < 0) {
        azure_reply_error_code(req, 500, "InternalError");
        return -1;
    }
    return 0;
}

/*
 * Features spmigd does not have are refused, never ignored (docs/decisions.md): no blob or
 * container is ever leased, so a lease id is a precondition that fails as on an unleased one
 * (412); tags, tiers, customer keys and immutability are 400 UnsupportedHeader. True when an
 * answer was sent.
 */
static bool refuse_unsupported(struct http_request *req, const struct blob_ctx *c)
{
    if (http_header(req, "x-ms-lease-id")) {
        const char *code =
            c->blob ? "LeaseNotPresentWithBlobOperation" : "LeaseNotPresentWithContainerOperation";
        azure_reply_error(req, 412, code, NULL, NULL, NULL);
        return true;
    }
    static const char *unsupported[] = {
        "x-ms-tags",
        "x-ms-if-tags",
        "x-ms-access-tier",
        "x-ms-encryption-key",
        "x-ms-encryption-scope",
        "x-ms-default-encryption-scope",
        "x-ms-immutability-policy-until-date",
        "x-ms-immutability-policy-mode",
        "x-ms-legal-hold",
        "x-ms-blob-public-access",
    };
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (http_header(req, unsupported[i])) {
            azure_reply_error(req, 400, "UnsupportedHeader",
                              "One of the HTTP headers specified in the request is not supported "
                              "by spmigd.",
                              "HeaderName", unsupported[i]);
            return true;
        }
    return false;
}

static int begin_upload(struct http_request *req, struct blob_ctx *c, uint64_t max, bool want_md5)
{
    if (!req->has_length && !req->chunked) {
        /* No body framing: HTTP reads no body, and Azure does not take that for an empty one. */
        azure_reply_error_code(req, 411, "MissingContentLengthHeader");
        return -1;
    }
    if (req->has_length && req->content_length > max) {
        azure_reply_error_code(req, 413, "RequestBodyTooLarge");
        return -1;
    }
    bool want_crc = http_header(req, "x-ms-content-crc64") != NULL;
    if (req->has_length && req->content_length <= LIMIT_INLINE_BYTES) {
        /* Small bodies are held in memory, then go into a pack: no file to create. */
        c->inline_body = true;
        c->want_md5 = want_md5;
        req->body_mode = HTTP_BODY_BUFFER;
        req->body_max = LIMIT_INLINE_BYTES;
        return 0;
    }
    if (store_files_writer_open(&c->w, want_md5, want_crc) < 0) {
        azure_reply_error_code(req, 500, "InternalError");
        return -1;
    }
    if (req->has_length)
        store_files_writer_reserve(&c->w, req->content_length);
    c->ext = EXT_OPEN;
    req->body_mode = HTTP_BODY_SINK;
    req->sink = extent_sink;
    return 0;
}

/* Closes the upload and checks the hashes the client sent. Returns 0 or replies and -1. */
static int end_upload(struct http_request *req, struct blob_ctx *c)
{
    if (req->body_seen > LIMIT_PUT_BLOB_BYTES) {
        azure_reply_error_code(req, 413, "RequestBodyTooLarge");
        return -1;
    }
    const char *crc = http_header(req, "x-ms-content-crc64");
    uint64_t crc64 = 0;
    if (c->inline_body) {
        const char *body = req->body.data ? req->body.data : "";
        if (c->want_md5)
            crypto_md5(body, req->body.len, c->md5);
        if (crc)
            crc64 = crypto_crc64(0, body, req->body.len);
    } else {
        int rc = store_files_writer_close(&c->w, c->md5);
        c->ext = rc == 0 ? EXT_CLOSED : EXT_NONE;
        if (rc < 0) {
            azure_reply_error_code(req, 500, "InternalError");
            return -1;
        }
        crc64 = c->w.crc64;
    }
    bool has;
    unsigned char want[CRYPTO_MD5_LEN];
    if (read_md5_header(req, "Content-MD5", &has, want) < 0)
        return -1;
    if (has && memcmp(want, c->md5, CRYPTO_MD5_LEN) != 0) {
        azure_reply_error_code(req, 400, "Md5Mismatch");
        return -1;
    }
    if (crc) {
        unsigned char got[8];
        for (int i = 0; i < 8; i++)
            got[i] = (unsigned char)(crc64 >> (8 * i));
        unsigned char sent[8];
        if (b64_decode_to(crc, strlen(crc), sent, sizeof sent) != 8) {
            bad_header(req, "x-ms-content-crc64");
            return -1;
        }
        if (memcmp(sent, got, 8) != 0) {
            azure_reply_error_code(req, 400, "Crc64Mismatch");
            return -1;
        }
        char out[16];
        b64_encode_to(got, 8, out);
        http_set_header(req, "x-ms-content-crc64", out);
    }
    return 0;
}

/* ---- begin ---- */

static void blob_begin(struct http_request *req)
{
    struct blob_ctx *c = xcalloc(1, sizeof *c);
    req->ctx = c;
    char *account;
    if (split_path(req->raw_path, &account, &c->container, &c->blob) < 0) {
        free(account);
        azure_reply_error_code(req, 400, "InvalidUri");
        return;
    }
    c->acct = auth_azure_account(req, account);
    free(account);
    if (!c->acct)
        return;
    if (c->container && !valid_container_name(c->container)) {
        azure_reply_error(req, 400, "InvalidResourceName",
                          "The specified resource name contains invalid characters.", NULL, NULL);
        return;
    }
    if (c->blob && !valid_blob_name(c->blob)) {
        azure_reply_error(
            req, 400, "InvalidResourceName",
            "The specified blob name is not valid: it may not be empty, start with '/', "
            "hold control characters or a '.' or '..' segment.",
            NULL, NULL);
        return;
    }
    c->snapshot = query_get(&req->query, "snapshot");
    c->op = pick_op(req, c);
    req->op = (int)c->op;
    if (c->op == OP_NONE) {
        const char *comp = query_get_ci(&req->query, "comp");
        if (comp)
            azure_reply_error(req, 400, "UnsupportedQueryParameter", NULL, "QueryParameterName",
                              "comp");
        else
            azure_reply_error_code(req, 405, "UnsupportedHttpVerb");
        return;
    }
    if (c->snapshot && c->op != OP_GET_BLOB && c->op != OP_GET_BLOB_META &&
        c->op != OP_GET_BLOCK_LIST && c->op != OP_DELETE_BLOB) {
        bad_query(req, "snapshot", c->snapshot);
        return;
    }
    struct auth_need need;
    fill_need(c, &need);
    if (!auth_azure_check(req, c->acct, &need))
        return;
    c->granted = need.granted;
    if (refuse_unsupported(req, c))
        return;
    if (c->blob || c->op == OP_LIST_BLOBS) {
        int rc = blob_store_container_get(c->acct->name, c->container, &c->cont);
        if (rc != BLOB_STORE_OK) {
            store_error(req, rc);
            return;
        }
    }
    switch (c->op) {
    case OP_PUT_BLOB: {
        const char *type = http_header(req, "x-ms-blob-type");
        if (!type) {
            azure_reply_error(req, 400, "MissingRequiredHeader", NULL, "HeaderName",
                              "x-ms-blob-type");
            return;
        }
        if (strcmp(type, "BlockBlob") != 0) {
            azure_reply_error(
                req, 400, "InvalidHeaderValue",
                "Only block blobs are supported by spmigd (x-ms-blob-type: BlockBlob).",
                "HeaderName", "x-ms-blob-type");
            return;
        }
        if (http_header(req, "x-ms-copy-source")) {
            azure_reply_error(req, 400, "UnsupportedHeader",
                              "Put Blob From URL is not supported by spmigd.", "HeaderName",
                              "x-ms-copy-source");
            return;
        }
        if (azure_reply_metadata_read(req, &c->metadata) < 0)
            return;
        begin_upload(req, c, LIMIT_PUT_BLOB_BYTES, true);
        return;
    }
    case OP_PUT_BLOCK: {
        const char *id = query_get(&req->query, "blockid");
        long k = id ? b64_decode_to(id, strlen(id), c->block_id, sizeof c->block_id) : -1;
        if (k <= 0) {
            bad_query(req, "blockid", id);
            return;
        }
        c->block_idlen = (size_t)k;
        begin_upload(req, c, LIMIT_PUT_BLOCK_BYTES, http_header(req, "Content-MD5") != NULL);
        return;
    }
    case OP_PUT_BLOCK_LIST:
        if (azure_reply_metadata_read(req, &c->metadata) < 0)
            return;
        req->body_mode = HTTP_BODY_BUFFER;
        req->body_max = LIMIT_BLOCK_LIST_BODY;
        return;
    case OP_SET_BLOB_META:
    case OP_SET_CONTAINER_META:
    case OP_CREATE_CONTAINER:
    case OP_SNAPSHOT:
        azure_reply_metadata_read(req, &c->metadata);
        return;
    default:
        return;
    }
}

/* ---- finish: one function per operation ---- */

static void do_put_blob(struct http_request *req, struct blob_ctx *c)
{
    if (end_upload(req, c) < 0)
        return;
    struct blob_store_props in = {0}, out;
    read_content_headers(req, true, &in);
    if (!in.content_type)
        in.content_type = xstrdup("application/octet-stream");
    bool has;
    if (read_md5_header(req, "x-ms-blob-content-md5", &has, in.md5) < 0) {
        blob_store_props_finish(&in);
        return;
    }
    in.has_md5 = true;
    if (!has)
        memcpy(in.md5, c->md5, CRYPTO_MD5_LEN);
    /* Put Blob always hashes the body (want_md5), so the store knows whether they agree. */
    in.md5_checked = memcmp(in.md5, c->md5, CRYPTO_MD5_LEN) == 0;
    in.metadata = c->metadata;
    c->metadata = NULL;
    struct blob_store_cond cond;
    read_cond(req, &cond);
    /* Without "w", a SAS may create a blob but not overwrite one (Azure's rule). */
    bool create_only = !(c->granted & SAS_PERM('w'));
    if (create_only && !cond.if_none_match)
        cond.if_none_match = "*";
    int rc = c->inline_body
                 ? blob_store_blob_put_inline(c->cont.id, c->blob, &in, req->body.data,
                                              req->body.len, &cond, &out)
                 : blob_store_blob_put(c->cont.id, c->blob, &in, c->w.path, c->w.size, &cond, &out);
    blob_store_props_finish(&in);
    if (rc == BLOB_STORE_BLOB_EXISTS && create_only) {
        azure_reply_error_code(req, 403, "AuthorizationPermissionMismatch");
        return;
    }
    if (rc != BLOB_STORE_OK) {
        store_error(req, rc);
        return;
    }
    c->ext = EXT_NONE; /* the store owns the extent now */
    reply_empty(req, 201);
    common_write_headers(req, &out);
    set_md5_header(req, "Content-MD5", c->md5);
    http_set_header(req, "x-ms-request-server-encrypted", "true");
}

static void do_put_block(struct http_request *req, struct blob_ctx *c)
{
    if (end_upload(req, c) < 0)
        return;
    int rc = c->inline_body
                 ? blob_store_block_put_inline(c->cont.id, c->blob, c->block_id, c->block_idlen,
                                               req->body.data, req->body.len)
                 : blob_store_block_put(c->cont.id, c->blob, c->block_id, c->block_idlen, c->w.path,
                                        c->w.size);
    if (rc != BLOB_STORE_OK) {
        store_error(req, rc);
        return;
    }
    c->ext = EXT_NONE;
    reply_empty(req, 201);
    if (http_header(req, "Content-MD5"))
        set_md5_header(req, "Content-MD5", c->md5);
    http_set_header(req, "x-ms-request-server-encrypted", "true");
}

static void do_put_block_list(struct http_request *req, struct blob_ctx *c)
{
    bool has;
    unsigned char want[CRYPTO_MD5_LEN];
    if (read_md5_header(req, "Content-MD5", &has, want) < 0)
        return;
    if (has) {
        unsigned char got[CRYPTO_MD5_LEN];
        crypto_md5(req->body.data ? req->body.data : "", req->body.len, got);
        if (memcmp(got, want, sizeof got) != 0) {
            azure_reply_error_code(req, 400, "Md5Mismatch");
            return;
        }
    }
    struct blob_store_block_ref *refs;
    size_t n;
    const char *code;
    if (azure_xml_block_list(req->body.data ? req->body.data : "", req->body.len, &refs, &n,
                             &code) < 0) {
        azure_reply_error_code(req, 400, code);
        return;
    }
    struct blob_store_props in = {0}, out;
    read_content_headers(req, false, &in);
    if (read_md5_header(req, "x-ms-blob-content-md5", &in.has_md5, in.md5) < 0) {
        blob_store_props_finish(&in);
        free(refs);
        return;
    }
    in.metadata = c->metadata;
    c->metadata = NULL;
    struct blob_store_cond cond;
    read_cond(req, &cond);
    int rc = blob_store_block_list_commit(c->cont.id, c->blob, refs, n, &in, &cond, &out);
    blob_store_props_finish(&in);
    free(refs);
    if (rc != BLOB_STORE_OK) {
        store_error(req, rc);
        return;
    }
    reply_empty(req, 201);
    common_write_headers(req, &out);
    http_set_header(req, "x-ms-request-server-encrypted", "true");
}

/* A content header of a blob, or the override a SAS signed for it (rscc, rscd, ...). */
static void content_header(struct http_request *req, const char *name, const char *value,
                           const char *override)
{
    const char *o = sas_present(&req->query) ? query_get(&req->query, override) : NULL;
    if (o || value)
        http_set_header(req, name, o ? o : value);
}

static void put_props_headers(struct http_request *req, const struct blob_store_props *p)
{
    http_set_header(req, "ETag", p->etag);
    set_time_header(req, "Last-Modified", p->modified_ms);
    set_time_header(req, "x-ms-creation-time", p->created_ms);
    azure_reply_metadata_headers(req, p->metadata);
    http_set_header(req, "x-ms-blob-type", "BlockBlob");
    http_set_header(req, "x-ms-server-encrypted", "true");
    http_set_header(req, "x-ms-lease-status", "unlocked");
    http_set_header(req, "x-ms-lease-state", "available");
    http_set_header(req, "Accept-Ranges", "bytes");
    content_header(req, "Content-Type", p->content_type, "rsct");
    content_header(req, "Content-Encoding", p->content_encoding, "rsce");
    content_header(req, "Content-Language", p->content_language, "rscl");
    content_header(req, "Content-Disposition", p->content_disposition, "rscd");
    content_header(req, "Cache-Control", p->cache_control, "rscc");
}

/* Parses "bytes=a-b" or "bytes=a-". Returns 1 for a range, 0 for none or unparseable. */
static int parse_range(const char *v, uint64_t *start, uint64_t *end, bool *open_end)
{
    if (!v || strncmp(v, "bytes=", 6) != 0)
        return 0;
    const char *p = v + 6;
    if (*p < '0' || *p > '9')
        return 0;
    char *e;
    errno = 0;
    unsigned long long a = strtoull(p, &e, 10);
    if (errno || *e != '-')
        return 0;
    p = e + 1;
    *open_end = *p == '\0';
    unsigned long long b = 0;
    if (!*open_end) {
        if (*p < '0' || *p > '9')
            return 0;
        b = strtoull(p, &e, 10);
        if (errno || *e != '\0' || b < a)
            return 0;
    }
    *start = a;
    *end = b;
    return 1;
}

/* Callback replies read the blob through blob_store's reader (several extents, or a range). */
static ssize_t blob_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
    return blob_store_reader_read(ctx, pos, buf, max);
}

static void blob_read_free(void *ctx)
{
    blob_store_reader_destroy(ctx);
}

static ssize_t no_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
    return -1;
}

static void do_get_blob(struct http_request *req, struct blob_ctx *c)
{
    struct blob_store_cond cond;
    read_cond(req, &cond);
    struct blob_store_blob b;
    int rc = blob_store_blob_read(c->cont.id, c->blob, c->snapshot, &cond, &b);
    if (rc == BLOB_STORE_NOT_MODIFIED) {
        reply_empty(req, 304);
        http_set_header(req, "ETag", b.props.etag);
        set_time_header(req, "Last-Modified", b.props.modified_ms);
        blob_store_blob_finish(&b);
        return;
    }
    if (rc != BLOB_STORE_OK) {
        if (rc == BLOB_STORE_COND_FAILED)
            blob_store_blob_finish(&b);
        store_error(req, rc);
        return;
    }
    uint64_t size = b.props.size, start = 0, len = size;
    bool ranged = false, open_end;
    uint64_t a, z;
    const char *rv = http_header(req, "x-ms-range");
    if (!rv)
        rv = http_header(req, "Range");
    if (!req->is_head && parse_range(rv, &a, &z, &open_end)) {
        if (a >= size) {
            blob_store_blob_finish(&b);
            azure_reply_error_code(req, 416, "InvalidRange");
            char cr[48];
            snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
            http_set_header(req, "Content-Range", cr);
            return;
        }
        if (open_end || z >= size)
            z = size - 1;
        start = a;
        len = z - a + 1;
        ranged = true;
    }
    bool range_md5 = query_is(req, "x-ms-range-get-content-md5", "true") ||
                     (http_header(req, "x-ms-range-get-content-md5") &&
                      strcasecmp(http_header(req, "x-ms-range-get-content-md5"), "true") == 0);
    if (range_md5 && (!ranged || len > 4 * 1024 * 1024)) {
        blob_store_blob_finish(&b);
        azure_reply_error(req, 400, "OutOfRangeInput",
                          "x-ms-range-get-content-md5 needs a range of at most 4 MiB.", NULL, NULL);
        return;
    }
    unsigned status = ranged ? 206 : 200;
    if (req->is_head) {
        http_reply_reader(req, 200, size, no_read, NULL, NULL);
    } else if (range_md5) {
        struct blob_store_reader *r = blob_store_reader_create(&b, start);
        char *buf = xmalloc(len ? len : 1);
        uint64_t got = 0;
        while (got < len) {
            long n = blob_store_reader_read(r, got, buf + got, len - got);
            if (n <= 0)
                break;
            got += (uint64_t)n;
        }
        blob_store_reader_destroy(r);
        if (got != len) {
            free(buf);
            blob_store_blob_finish(&b);
            azure_reply_error_code(req, 500, "InternalError");
            return;
        }
        unsigned char md5[CRYPTO_MD5_LEN];
        crypto_md5(buf, len, md5);
        http_reply(req, status, NULL, buf, len);
        set_md5_header(req, "Content-MD5", md5);
    } else if (b.data) {
        /* One inline extent, read with the row: answer from memory. */
        char *body = NULL;
        if (start == 0 && len == size) {
            body = (char *)b.data;
            b.data = NULL;
        } else if (len) {
            body = xmalloc(len);
            memcpy(body, b.data + start, len);
        }
        http_reply(req, status, NULL, body, len);
    } else if (b.nsegs == 1 || len == 0) {
        int fd = b.nsegs ? store_files_open(b.segs[0].loc.path) : -1;
        if (b.nsegs && fd < 0) {
            blob_store_blob_finish(&b);
            azure_reply_error_code(req, 500, "InternalError");
            return;
        }
        if (fd < 0)
            http_reply(req, status, NULL, NULL, 0);
        else
            http_reply_fd(req, status, fd, start, len);
    } else {
        http_reply_reader(req, status, len, blob_read, blob_store_reader_create(&b, start),
                          blob_read_free);
    }
    put_props_headers(req, &b.props);
    if (ranged) {
        char cr[80];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)start,
                 (unsigned long long)(start + len - 1), (unsigned long long)size);
        http_set_header(req, "Content-Range", cr);
        if (b.props.has_md5)
            set_md5_header(req, "x-ms-blob-content-md5", b.props.md5);
    } else if (b.props.has_md5) {
        set_md5_header(req, "Content-MD5", b.props.md5);
    }
    if (req->is_head) {
        http_set_header(req, "x-ms-access-tier", "Hot");
        http_set_header(req, "x-ms-access-tier-inferred", "true");
    }
    blob_store_blob_finish(&b);
}

static void do_get_blob_meta(struct http_request *req, struct blob_ctx *c)
{
    struct blob_store_blob b;
    int rc = blob_store_blob_read(c->cont.id, c->blob, c->snapshot, NULL, &b);
    if (rc != BLOB_STORE_OK) {
        store_error(req, rc);
        return;
    }
    reply_empty(req, 200);
    http_set_header(req, "ETag", b.props.etag);
    set_time_header(req, "Last-Modified", b.props.modified_ms);
    azure_reply_metadata_headers(req, b.props.metadata);
    blob_store_blob_finish(&b);
}

static void do_set_blob_meta(struct http_request *req, struct blob_ctx *c)
{
    struct blob_store_cond cond;
    read_cond(req, &cond);
    struct blob_store_props out;
    int rc = blob_store_blob_set_metadata(c->cont.id, c->blob, c->metadata, &cond, &out);
    if (rc != BLOB_STORE_OK) {
        store_error(req, rc);
        return;
    }
    reply_empty(req, 200);
    common_write_headers(req, &out);
    http_set_header(req, "x-ms-request-server-encrypted", "true");
}

static void do_set_blob_props(struct http_request *req, struct blob_ctx *c)
{
    struct blob_store_props in = {0}, out;
    read_content_headers(req, false, &in);
    if (read_md5_header(req, "x-ms-blob-content-md5", &in.has_md5, in.md5) < 0) {
        blob_store_props_finish(&in);
        return;
    }
    struct blob_store_cond cond;
    read_cond(req, &cond);
    int rc = blob_store_blob_set_properties(c->cont.id, c->blob, &in, &cond, &out);
    blob_store_props_finish(&in);
    if (rc != BLOB_STORE_OK) {
        store_error(req, rc);
        return;
    }
    reply_empty(req, 200);
    common_write_headers(req, &out);
}

static void do_snapshot(struct http_request *req, struct blob_ctx *c)
{
    struct blob_store_cond cond;
    read_cond(req, &cond);
    struct blob_store_props out;
    char snap[BLOB_STORE_SNAPSHOT_LEN];
    bool has_meta = c->metadata && strcmp(c->metadata, "{}") != 0;
    int rc = blob_store_blob_snapshot(c->cont.id, c->blob, has_meta ? c->metadata : NULL, &cond,
                                      snap, &out);
    if (rc != BLOB_STORE_OK) {
        store_error(req, rc);
        return;
    }
    reply_empty(req, 201);
    common_write_headers(req, &out);
    http_set_header(req, "x-ms-snapshot", snap);
    http_set_header(req, "x-ms-request-server-encrypted", "false");
}

static void do_delete_blob(struct http_request *req, struct blob_ctx *c)
{
    const char *ds = http_header(req, "x-ms-delete-snapshots");
    enum blob_store_delete_mode mode = BLOB_STORE_DELETE_BLOB;
    if (ds && strcmp(ds, "include") == 0)
        mode = BLOB_STORE_DELETE_INCLUDE;
    else if (ds && strcmp(ds, "only") == 0)
        mode = BLOB_STORE_DELETE_ONLY;
    else if (ds) {
        bad_header(req, "x-ms-delete-snapshots");
        return;
    }
    if (ds && c->snapshot) {
        azure_reply_error(req, 400, "InvalidQueryParameterValue",
                          "x-ms-delete-snapshots cannot be used when deleting a snapshot.",
                          "QueryParameterName", "snapshot");
        return;
    }
    struct blob_store_cond cond;
    read_cond(req, &cond);
    int rc = blob_store_blob_delete(c->cont.id, c->blob, c->snapshot, mode, &cond);
    if (rc != BLOB_STORE_OK) {
        store_error(req, rc);
        return;
    }
    reply_empty(req, 202);
    http_set_header(req, "x-ms-delete-type-permanent", "true");
}

static void block_xml(struct strbuf *sb, const char *tag, const struct blob_store_block_info *b,
                      size_t n)
{
    strbuf_printf(sb, "<%s>", tag);
    for (size_t i = 0; i < n; i++) {
        char id[96];
        b64_encode_to(b[i].id, b[i].idlen, id);
        strbuf_printf(sb, "<Block><Name>%s</Name><Size>%llu</Size></Block>", id,
                      (unsigned long long)b[i].size);
    }
    strbuf_printf(sb, "</%s>", tag);
}

static void do_get_block_list(struct http_request *req, struct blob_ctx *c)
{
    const char *type = query_get_ci(&req->query, "blocklisttype");
    bool committed = true, uncommitted = false;
    if (type && strcasecmp(type, "uncommitted") == 0)
        committed = false, uncommitted = true;
    else if (type && strcasecmp(type, "all") == 0)
        uncommitted = true;
    else if (type && strcasecmp(type, "committed") != 0) {
        bad_query(req, "blocklisttype", type);
        return;
    }
    struct blob_store_block_list l;
    int rc =
        blob_store_block_list_get(c->cont.id, c->blob, c->snapshot, committed, uncommitted, &l);
    if (rc != BLOB_STORE_OK) {
        store_error(req, rc);
        return;
    }
    struct strbuf sb;
    strbuf_init(&sb, 0);
    strbuf_puts(&sb, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    if (committed)
        block_xml(&sb, "CommittedBlocks", l.committed, l.ncommitted);
    if (uncommitted)
        block_xml(&sb, "UncommittedBlocks", l.uncommitted, l.nuncommitted);
    strbuf_puts(&sb, "</BlockList>");
    size_t len = sb.len;
    azure_reply_xml(req, 200, strbuf_steal(&sb), len);
    if (l.blob_exists) {
        http_set_header(req, "ETag", l.props.etag);
        set_time_header(req, "Last-Modified", l.props.modified_ms);
        char sz[24];
        snprintf(sz, sizeof sz, "%llu", (unsigned long long)l.props.size);
        http_set_header(req, "x-ms-blob-content-length", sz);
    }
    blob_store_block_list_finish(&l);
}

/* ---- containers and listings ---- */

static void do_create_container(struct http_request *req, struct blob_ctx *c)
{
    struct blob_store_container out = {0};
    int rc = blob_store_container_create(c->acct->name, c->container, c->metadata, &out);
    if (rc != BLOB_STORE_OK) {
        store_error(req, rc);
        return;
    }
    reply_empty(req, 201);
    http_set_header(req, "ETag", out.etag);
    set_time_header(req, "Last-Modified", out.modified_ms);
    blob_store_container_finish(&out);
}

static void container_headers(struct http_request *req, const struct blob_store_container *k)
{
    http_set_header(req, "ETag", k->etag);
    set_time_header(req, "Last-Modified", k->modified_ms);
}

static void do_get_container_props(struct http_request *req, struct blob_ctx *c)
{
    struct blob_store_container k = {0};
    int rc = blob_store_container_get(c->acct->name, c->container, &k);
    if (rc != BLOB_STORE_OK) {
        store_error(req, rc);
        return;
    }
    reply_empty(req, 200);
    container_headers(req, &k);
    azure_reply_metadata_headers(req, k.metadata);
    http_set_header(req, "x-ms-lease-status", "unlocked");
    http_set_header(req, "x-ms-lease-state", "available");
    http_set_header(req, "x-ms-has-immutability-policy", "false");
    http_set_header(req, "x-ms-has-legal-hold", "false");
    http_set_header(req, "x-ms-default-encryption-scope", "$account-encryption-key");
    http_set_header(req, "x-ms-deny-encryption-scope-override", "false");
    blob_store_container_finish(&k);
}

static void do_set_container_meta(struct http_request *req, struct blob_ctx *c)
{
    struct blob_store_container k = {0};
    int rc = blob_store_container_set_metadata(c->acct->name, c->container, c->metadata, &k);
    if (rc != BLOB_STORE_OK) {
        store_error(req, rc);
        return;
    }
    reply_empty(req, 200);
    container_headers(req, &k);
    blob_store_container_finish(&k);
}

static void do_delete_container(struct http_request *req, struct blob_ctx *c)
{
    int rc = blob_store_container_delete(c->acct->name, c->container);
    if (rc != BLOB_STORE_OK) {
        store_error(req, rc);
        return;
    }
    reply_empty(req, 202);
}

static int read_maxresults(struct http_request *req, unsigned *max)
{
    const char *v = query_get_ci(&req->query, "maxresults");
    *max = 5000;
    if (!v)
        return 0;
    char *e;
    errno = 0;
    long n = strtol(v, &e, 10);
    if (errno || *e || n < 1) {
        bad_query(req, "maxresults", v);
        return -1;
    }
    *max = n > 5000 ? 5000 : (unsigned)n;
    return 0;
}

static char *endpoint(struct http_request *req, const char *account)
{
    const char *host = http_header(req, "Host");
    return xasprintf("http://%s/%s/", host ? host : "127.0.0.1", account);
}

static void xml_elem(struct strbuf *sb, const char *tag, const char *value)
{
    strbuf_printf(sb, "<%s>", tag);
    if (value)
        strbuf_xml_escape(sb, value);
    strbuf_printf(sb, "</%s>", tag);
}

static void xml_time(struct strbuf *sb, const char *tag, int64_t ms)
{
    char t[TIMEFMT_BUF];
    timefmt_rfc1123(ms, t);
    xml_elem(sb, tag, t);
}

struct list_ctx {
    struct strbuf *sb;
    bool metadata;
};

static void list_container_cb(void *ctx, const char *name, const struct blob_store_container *k)
{
    struct list_ctx *l = ctx;
    struct strbuf *sb = l->sb;
    strbuf_puts(sb, "<Container>");
    xml_elem(sb, "Name", name);
    strbuf_puts(sb, "<Properties>");
    xml_time(sb, "Last-Modified", k->modified_ms);
    xml_elem(sb, "Etag", k->etag);
    strbuf_puts(sb, "<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>"
                    "<DefaultEncryptionScope>$account-encryption-key</DefaultEncryptionScope>"
                    "<DenyEncryptionScopeOverride>false</DenyEncryptionScopeOverride>"
                    "<HasImmutabilityPolicy>false</HasImmutabilityPolicy>"
                    "<HasLegalHold>false</HasLegalHold></Properties>");
    if (l->metadata)
        azure_reply_metadata_xml(sb, k->metadata);
    strbuf_puts(sb, "</Container>");
}

static bool include_has(const char *include, const char *what)
{
    if (!include)
        return false;
    size_t n = strlen(what);
    for (const char *p = include; (p = strcasestr(p, what)); p += n)
        if ((p == include || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return true;
    return false;
}

static void do_list_containers(struct http_request *req, struct blob_ctx *c)
{
    unsigned max;
    if (read_maxresults(req, &max) < 0)
        return;
    const char *prefix = query_get(&req->query, "prefix");
    const char *marker = query_get(&req->query, "marker");
    struct strbuf sb;
    strbuf_init(&sb, 0);
    char *ep = endpoint(req, c->acct->name);
    strbuf_puts(&sb, "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "
                     "ServiceEndpoint=\"");
    strbuf_xml_escape(&sb, ep);
    strbuf_puts(&sb, "\">");
    free(ep);
    if (prefix)
        xml_elem(&sb, "Prefix", prefix);
    if (marker)
        xml_elem(&sb, "Marker", marker);
    if (query_get_ci(&req->query, "maxresults"))
        strbuf_printf(&sb, "<MaxResults>%u</MaxResults>", max);
    strbuf_puts(&sb, "<Containers>");
    struct list_ctx l = {&sb, include_has(query_get_ci(&req->query, "include"), "metadata")};
    char *next = NULL;
    blob_store_container_list(c->acct->name, prefix, marker, max, list_container_cb, &l, &next);
    strbuf_puts(&sb, "</Containers>");
    /* blob_store_container_list gives the last name returned; only a full page continues. */
    struct strbuf probe;
    strbuf_init(&probe, 0);
    unsigned more = 0;
    if (next) {
        char *after = NULL;
        struct list_ctx none = {&probe, false};
        blob_store_container_list(c->acct->name, prefix, next, 1, list_container_cb, &none, &after);
        more = after != NULL;
        free(after);
    }
    strbuf_finish(&probe);
    xml_elem(&sb, "NextMarker", more ? next : "");
    free(next);
    strbuf_puts(&sb, "</EnumerationResults>");
    size_t len = sb.len;
    azure_reply_xml(req, 200, strbuf_steal(&sb), len);
}

static void list_blob_cb(void *ctx, const char *prefix, const struct blob_store_props *p)
{
    struct list_ctx *l = ctx;
    struct strbuf *sb = l->sb;
    if (!p) {
        strbuf_puts(sb, "<BlobPrefix>");
        xml_elem(sb, "Name", prefix);
        strbuf_puts(sb, "</BlobPrefix>");
        return;
    }
    strbuf_puts(sb, "<Blob>");
    xml_elem(sb, "Name", p->name);
    if (p->snapshot[0])
        xml_elem(sb, "Snapshot", p->snapshot);
    strbuf_puts(sb, "<Properties>");
    xml_time(sb, "Creation-Time", p->created_ms);
    xml_time(sb, "Last-Modified", p->modified_ms);
    xml_elem(sb, "Etag", p->etag);
    strbuf_printf(sb, "<Content-Length>%llu</Content-Length>", (unsigned long long)p->size);
    xml_elem(sb, "Content-Type", p->content_type);
    xml_elem(sb, "Content-Encoding", p->content_encoding);
    xml_elem(sb, "Content-Language", p->content_language);
    strbuf_puts(sb, "<Content-CRC64 />");
    if (p->has_md5) {
        char md5[32];
        b64_encode_to(p->md5, CRYPTO_MD5_LEN, md5);
        xml_elem(sb, "Content-MD5", md5);
    } else {
        strbuf_puts(sb, "<Content-MD5 />");
    }
    xml_elem(sb, "Cache-Control", p->cache_control);
    xml_elem(sb, "Content-Disposition", p->content_disposition);
    strbuf_puts(sb, "<BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier>"
                    "<AccessTierInferred>true</AccessTierInferred>"
                    "<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>"
                    "<ServerEncrypted>true</ServerEncrypted></Properties>");
    if (l->metadata)
        azure_reply_metadata_xml(sb, p->metadata);
    strbuf_puts(sb, "</Blob>");
}

static void do_list_blobs(struct http_request *req, struct blob_ctx *c)
{
    struct blob_store_list_opts o = {0};
    if (read_maxresults(req, &o.max) < 0)
        return;
    o.prefix = query_get(&req->query, "prefix");
    o.delimiter = query_get(&req->query, "delimiter");
    o.marker = query_get(&req->query, "marker");
    const char *include = query_get_ci(&req->query, "include");
    o.snapshots = include_has(include, "snapshots");
    o.metadata = include_has(include, "metadata");
    struct strbuf sb;
    strbuf_init(&sb, 0);
    char *ep = endpoint(req, c->acct->name);
    strbuf_puts(&sb, "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "
                     "ServiceEndpoint=\"");
    strbuf_xml_escape(&sb, ep);
    strbuf_puts(&sb, "\" ContainerName=\"");
    strbuf_xml_escape(&sb, c->container);
    strbuf_puts(&sb, "\">");
    free(ep);
    if (o.prefix)
        xml_elem(&sb, "Prefix", o.prefix);
    if (o.marker)
        xml_elem(&sb, "Marker", o.marker);
    if (query_get_ci(&req->query, "maxresults"))
        strbuf_printf(&sb, "<MaxResults>%u</MaxResults>", o.max);
    if (o.delimiter)
        xml_elem(&sb, "Delimiter", o.delimiter);
    strbuf_puts(&sb, "<Blobs>");
    struct list_ctx l = {&sb, o.metadata};
    char *next = NULL;
    int rc = blob_store_list(c->cont.id, &o, list_blob_cb, &l, &next);
    if (rc != BLOB_STORE_OK) {
        strbuf_finish(&sb);
        free(next);
        store_error(req, rc);
        return;
    }
    strbuf_puts(&sb, "</Blobs>");
    xml_elem(&sb, "NextMarker", next ? next : "");
    free(next);
    strbuf_puts(&sb, "</EnumerationResults>");
    size_t len = sb.len;
    azure_reply_xml(req, 200, strbuf_steal(&sb), len);
}

static void do_service_props(struct http_request *req)
{
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties><Logging><Version>1.0"
        "</Version><Read>false</Read><Write>false</Write><Delete>false</Delete><RetentionPolicy>"
        "<Enabled>false</Enabled></RetentionPolicy></Logging><HourMetrics><Version>1.0</Version>"
        "<Enabled>false</Enabled><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy>"
        "</HourMetrics><MinuteMetrics><Version>1.0</Version><Enabled>false</Enabled>"
        "<RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></MinuteMetrics><Cors />"
        "<DeleteRetentionPolicy><Enabled>false</Enabled></DeleteRetentionPolicy>"
        "</StorageServiceProperties>";
    azure_reply_xml(req, 200, xstrdup(xml), strlen(xml));
}

static void blob_finish(struct http_request *req)
{
    struct blob_ctx *c = req->ctx;
    switch (c->op) {
    case OP_LIST_CONTAINERS:
        do_list_containers(req, c);
        break;
    case OP_GET_SERVICE_PROPS:
        do_service_props(req);
        break;
    case OP_GET_ACCOUNT_INFO:
        reply_empty(req, 200);
        http_set_header(req, "x-ms-sku-name", "Standard_LRS");
        http_set_header(req, "x-ms-account-kind", "StorageV2");
        break;
    case OP_CREATE_CONTAINER:
        do_create_container(req, c);
        break;
    case OP_DELETE_CONTAINER:
        do_delete_container(req, c);
        break;
    case OP_GET_CONTAINER_PROPS:
        do_get_container_props(req, c);
        break;
    case OP_SET_CONTAINER_META:
        do_set_container_meta(req, c);
        break;
    case OP_LIST_BLOBS:
        do_list_blobs(req, c);
        break;
    case OP_PUT_BLOB:
        do_put_blob(req, c);
        break;
    case OP_PUT_BLOCK:
        do_put_block(req, c);
        break;
    case OP_PUT_BLOCK_LIST:
        do_put_block_list(req, c);
        break;
    case OP_GET_BLOCK_LIST:
        do_get_block_list(req, c);
        break;
    case OP_GET_BLOB:
        do_get_blob(req, c);
        break;
    case OP_GET_BLOB_META:
        do_get_blob_meta(req, c);
        break;
    case OP_SET_BLOB_META:
        do_set_blob_meta(req, c);
        break;
    case OP_SET_BLOB_PROPS:
        do_set_blob_props(req, c);
        break;
    case OP_SNAPSHOT:
        do_snapshot(req, c);
        break;
    case OP_DELETE_BLOB:
        do_delete_blob(req, c);
        break;
    case OP_NONE:
        azure_reply_error_code(req, 400, "InvalidUri");
        break;
    }
}

static void blob_cleanup(struct http_request *req)
{
    struct blob_ctx *c = req->ctx;
    if (!c)
        return;
    if (c->ext == EXT_OPEN)
        store_files_writer_abort(&c->w);
    else if (c->ext == EXT_CLOSED)
        store_files_unlink(c->w.path);
    blob_store_container_finish(&c->cont);
    free(c->metadata);
    free(c->container);
    free(c->blob);
    free(c);
    req->ctx = NULL;
}

const struct http_listener_ops blob_api_ops = {
    .begin = blob_begin,
    .finish = blob_finish,
    .cleanup = blob_cleanup,
    .decorate = azure_reply_decorate,
    .error = azure_reply_transport_error,
};
