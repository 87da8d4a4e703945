/*
 * azure_reply.c: the one place where Blob and Queue answers get their Azure shape: the
 * <Error> XML body with RequestId and Time, x-ms-error-code, and the headers every answer
 * carries. Operations decide which error; this module decides how it looks on the wire.
 */
#include "azure_reply.h"
#include "clock.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

static const struct {
    const char *code;
    const char *message;
} messages[] = {
    {"AuthenticationFailed", "Server failed to authenticate the request. Make sure the value of "
                             "Authorization header is formed correctly including the signature."},
    {"AuthorizationPermissionMismatch",
     "This request is not authorized to perform this operation using this permission."},
    {"AuthorizationFailure", "This request is not authorized to perform this operation."},
    {"AuthorizationResourceTypeMismatch",
     "This request is not authorized to perform this operation using this resource type."},
    {"AuthorizationServiceMismatch",
     "This request is not authorized to perform this operation using this service."},
    {"AuthorizationProtocolMismatch",
     "This request is not authorized to perform this operation using this protocol."},
    {"AuthorizationSourceIPMismatch",
     "This request is not authorized to perform this operation using this source IP."},
    {"BlobNotFound", "The specified blob does not exist."},
    {"BlobAlreadyExists", "The specified blob already exists."},
    {"ContainerNotFound", "The specified container does not exist."},
    {"ContainerAlreadyExists", "The specified container already exists."},
    {"ContainerBeingDeleted", "The specified container is being deleted."},
    {"ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met."},
    {"InvalidBlockList", "The specified block list is invalid."},
    {"InvalidBlockId", "The specified block ID is invalid. The block ID must be Base64-encoded."},
    {"InvalidBlobOrBlock", "The specified blob or block content is invalid."},
    {"InvalidRange", "The range specified is invalid for the current size of the resource."},
    {"InvalidXmlDocument", "XML specified is not syntactically valid."},
    {"InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format."},
    {"InvalidQueryParameterValue",
     "Value for one of the query parameters specified in the request URI is invalid."},
    {"InvalidResourceName", "The specifed resource name contains invalid characters."},
    {"InvalidUri", "The requested URI does not represent any resource on the server."},
    {"Md5Mismatch", "The MD5 value specified in the request did not match with the MD5 value "
                    "calculated by the server."},
    {"Crc64Mismatch", "The CRC64 value specified in the request did not match with the CRC64 "
                      "value calculated by the server."},
    {"MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified."},
    {"MissingContentLengthHeader", "The Content-Length header was not specified."},
    {"OutOfRangeInput", "One of the request inputs is out of range."},
    {"RequestBodyTooLarge", "The request body is too large and exceeds the maximum permissible "
                            "limit."},
    {"ResourceNotFound", "The specified resource does not exist."},
    {"UnsupportedHttpVerb", "The resource doesn't support specified Http Verb."},
    {"UnsupportedQueryParameter", "One of the query parameters specified in the request URI is "
                                  "not supported."},
    {"InternalError", "The server encountered an internal error. Please retry the request."},
    {"LeaseNotPresentWithBlobOperation", "There is currently no lease on the blob."},
    {"LeaseNotPresentWithContainerOperation", "There is currently no lease on the container."},
    {"UnsupportedHeader", "One of the HTTP headers specified in the request is not supported."},
    {"QueueNotFound", "The specified queue does not exist."},
    {"QueueAlreadyExists", "The specified queue already exists."},
    {"MessageNotFound", "The specified message does not exist."},
    {"MessageTooLarge", "The message exceeds the maximum allowed size."},
    {"PopReceiptMismatch", "The specified pop receipt did not match the pop receipt for a "
                           "dequeued message."},
};

const char *azure_reply_error_message(const char *code)
{
    for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
        if (strcmp(messages[i].code, code) == 0)
            return messages[i].message;
    return "The request could not be completed.";
}

void azure_reply_error(struct http_request *req, unsigned status, const char *code,
                       const char *message, const char *detail_name, const char *detail_value)
{
    char when[TIMEFMT_BUF];
    timefmt_iso8601_7(clock_now_ms(), when);
    struct strbuf sb;
    strbuf_init(&sb, 0);
    strbuf_puts(&sb, "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>");
    strbuf_xml_escape(&sb, code);
    strbuf_puts(&sb, "</Code><Message>");
    strbuf_xml_escape(&sb, message ? message : azure_reply_error_message(code));
    strbuf_printf(&sb, "\nRequestId:%s\nTime:%s</Message>", req->request_id, when);
    if (detail_name && detail_value) {
        strbuf_printf(&sb, "<%s>", detail_name);
        strbuf_xml_escape(&sb, detail_value);
        strbuf_printf(&sb, "</%s>", detail_name);
    }
    strbuf_puts(&sb, "</Error>");
    size_t len = sb.len;
    if (req->is_head) {
        strbuf_finish(&sb);
        http_reply(req, status, NULL, NULL, 0);
    } else {
        http_reply(req, status, "application/xml", strbuf_steal(&sb), len);
    }
    http_set_header(req, "x-ms-error-code", code);
}

void azure_reply_error_code(struct http_request *req, unsigned status, const char *code)
{
    azure_reply_error(req, status, code, NULL, NULL, NULL);
}

void azure_reply_decorate(struct http_request *req)
{
    char date[TIMEFMT_BUF];
    timefmt_rfc1123(clock_now_ms(), date);
    const char *version = http_header(req, "x-ms-version");
    http_set_header(req, "x-ms-request-id", req->request_id);
    http_set_header(req, "x-ms-version", version && *version ? version : AZURE_SERVICE_VERSION);
    http_set_header(req, "Date", date);
    http_set_header(req, "Server", "spmigd/" SPMIG_VERSION);
    const char *client_id = http_header(req, "x-ms-client-request-id");
    if (client_id && strlen(client_id) <= 1024)
        http_set_header(req, "x-ms-client-request-id", client_id);
}

void azure_reply_transport_error(struct http_request *req, unsigned status, const char *code,
                                 const char *msg)
{
    azure_reply_error(req, status, code, msg, NULL, NULL);
}

void azure_reply_xml(struct http_request *req, unsigned status, char *body, size_t len)
{
    http_reply(req, status, "application/xml", body, len);
}

/* ---- x-ms-meta-* ---- */

static int cmp_meta(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcasecmp(x->string, y->string);
}

/* Reads x-ms-meta-* into canonical JSON (names sorted, case-insensitively unique, the last
 * header winning) so that equal metadata gives equal text. Replies and returns -1 when a name
 * is not a C# identifier or the whole is over LIMIT_METADATA_BYTES. */
int azure_reply_metadata_read(struct http_request *req, char **out)
{
    const cJSON *items[LIMIT_HEADER_COUNT];
    size_t n = 0, total = 0;
    cJSON *all = cJSON_CreateObject();
    for (size_t i = 0; i < req->nheaders; i++) {
        const char *name = req->headers[i].name;
        if (strncasecmp(name, "x-ms-meta-", 10) != 0)
            continue;
        const char *key = name + 10;
        bool ok = isalpha((unsigned char)key[0]) || key[0] == '_';
        for (const char *p = key; ok && *p; p++)
            ok = isalnum((unsigned char)*p) || *p == '_';
        if (!ok) {
            cJSON_Delete(all);
            azure_reply_error(req, 400, "InvalidMetadata",
                              "The metadata specified is invalid. It has characters that are not "
                              "permitted.",
                              "HeaderName", name);
            return -1;
        }
        total += strlen(key) + strlen(req->headers[i].value);
        if (total > LIMIT_METADATA_BYTES) {
            cJSON_Delete(all);
            azure_reply_error(
                req, 400, "MetadataTooLarge",
                "The size of the specified metadata exceeds the maximum size permitted.", NULL,
                NULL);
            return -1;
        }
        cJSON_DeleteItemFromObject(all, key); /* case-insensitive */
        cJSON_AddStringToObject(all, key, req->headers[i].value);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, all)
    {
        items[n++] = it;
    }
    qsort(items, n, sizeof items[0], cmp_meta);
    cJSON *sorted = cJSON_CreateObject();
    for (size_t i = 0; i < n; i++)
        cJSON_AddStringToObject(sorted, items[i]->string, items[i]->valuestring);
    *out = cJSON_PrintUnformatted(sorted);
    cJSON_Delete(sorted);
    cJSON_Delete(all);
    return 0;
}

void azure_reply_metadata_headers(struct http_request *req, const char *json)
{
    cJSON *obj = json ? cJSON_Parse(json) : NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (!cJSON_IsString(it))
            continue;
        char *h = xasprintf("x-ms-meta-%s", it->string);
        http_set_header(req, h, it->valuestring);
        free(h);
    }
    cJSON_Delete(obj);
}

void azure_reply_metadata_xml(struct strbuf *sb, const char *json)
{
    cJSON *obj = json ? cJSON_Parse(json) : NULL;
    if (!obj || !obj->child) {
        strbuf_puts(sb, "<Metadata />");
        cJSON_Delete(obj);
        return;
    }
    const cJSON *it;
    strbuf_puts(sb, "<Metadata>");
    cJSON_ArrayForEach(it, obj)
    {
        if (!cJSON_IsString(it))
            continue;
        strbuf_printf(sb, "<%s>", it->string);
        strbuf_xml_escape(sb, it->valuestring);
        strbuf_printf(sb, "</%s>", it->string);
    }
    strbuf_puts(sb, "</Metadata>");
    cJSON_Delete(obj);
}
