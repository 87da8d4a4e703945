/*
 * azure_reply.h: how the Blob and Queue listeners answer. The Azure error body
 * (<Error><Code/><Message/>...</Error> with RequestId and Time in the message), the
 * x-ms-error-code header, and the headers every answer carries (x-ms-request-id,
 * x-ms-version, Date, Server). Every error of those listeners is made here and only here.
 */
#ifndef SPMIG_AZURE_REPLY_H
#define SPMIG_AZURE_REPLY_H

#include "http.h"

/* The x-ms-version spmigd answers with when the request names none. */
#define AZURE_SERVICE_VERSION "2021-12-02"

/* An error answer. detail_name/detail_value add one extra element (e.g.
 * "AuthenticationErrorDetail", "QueryParameterName", "HeaderName"); both may be NULL. */
void azure_reply_error(struct http_request *req, unsigned status, const char *code,
                       const char *message, const char *detail_name, const char *detail_value);
/* Shorthand for the common codes with Azure's standard message text. */
void azure_reply_error_code(struct http_request *req, unsigned status, const char *code);
/* The standard message of a code, or a generic one. */
const char *azure_reply_error_message(const char *code);

/* Adds x-ms-request-id, x-ms-version, Date and Server to the reply; the ops.decorate of both
 * Azure listeners. */
void azure_reply_decorate(struct http_request *req);
/* The transport-level error hook (413, 400) for both Azure listeners. */
void azure_reply_transport_error(struct http_request *req, unsigned status, const char *code,
                                 const char *msg);

/* An XML body reply (application/xml). body is owned by the reply. */
void azure_reply_xml(struct http_request *req, unsigned status, char *body, size_t len);

/*
 * x-ms-meta-* headers to canonical JSON (names sorted, case-insensitively unique, the last
 * header winning), so equal metadata gives equal text; *out is freed with free(). Replies and
 * returns -1 when a name is not a C# identifier or the whole is over LIMIT_METADATA_BYTES.
 */
int azure_reply_metadata_read(struct http_request *req, char **out);
/* The metadata JSON as x-ms-meta-* reply headers. */
void azure_reply_metadata_headers(struct http_request *req, const char *json);
/* The metadata JSON as a <Metadata> element of a listing. */
void azure_reply_metadata_xml(struct strbuf *sb, const char *json);

#endif
