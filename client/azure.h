/*
 * azure.h: the few Azure Blob and Queue operations a migration needs, over SAS URLs such as
 * ProvisionMigrationContainers and ProvisionMigrationQueue hand out: Put Blob, Put Block,
 * Put Block List (each with Content-MD5 and the x-ms-meta-IV of an encrypted blob), Snapshot
 * Blob, Get Blob, and Get Messages / Delete Message on the report queue. Requests go through
 * http.h (its retries); encryption and what the blobs hold are the caller's.
 */
#ifndef SPMIG_AZURE_H
#define SPMIG_AZURE_H

#include <stddef.h>

#include "http.h"
#include "strbuf.h"

#define AZC_VERSION "2023-11-03" /* x-ms-version sent */

/* A container or queue SAS URL split at '?': base "http://h:p/account/name", query "sv=..". */
struct azc_sas {
    char *base;
    char *query;
};

/* Splits uri; -1 if it has no '?' or no path. Free with azc_sas_finish. */
int azc_sas_parse(const char *uri, struct azc_sas *out);
void azc_sas_finish(struct azc_sas *s);

/* "<base>/<escaped name>?<query>[&<extra>]", malloc'ed. */
char *azc_blob_url(const struct azc_sas *c, const char *name, const char *extra);

/* Every call: 0 on success, -1 with a one-line reason in err (e.g. "Put Blob x: 403
 * AuthenticationFailed" or the transport error). iv_b64 (may be NULL) is sent as
 * x-ms-meta-IV; md5 (may be NULL) as Content-MD5. */
#define AZC_ERR 512
int azc_put_blob(struct httpc *h, const struct azc_sas *c, const char *name, const void *data,
                 size_t len, const unsigned char md5[16], const char *iv_b64, char err[AZC_ERR]);
int azc_put_block(struct httpc *h, const struct azc_sas *c, const char *name, const char *block_id,
                  const void *data, size_t len, const unsigned char md5[16], char err[AZC_ERR]);
/* Commits ids (base64 block ids, in order) as the blob's content; blob_md5 (may be NULL) is
 * stored as the blob's Content-MD5 (x-ms-blob-content-md5). */
int azc_put_block_list(struct httpc *h, const struct azc_sas *c, const char *name, char *const *ids,
                       size_t n, const unsigned char blob_md5[16], const char *iv_b64,
                       char err[AZC_ERR]);
/* Takes a snapshot; its time goes to snapshot (may be NULL). */
int azc_snapshot(struct httpc *h, const struct azc_sas *c, const char *name, char snapshot[64],
                 char err[AZC_ERR]);
/* Reads a blob into out; 1 (not -1) when it does not exist. The IV metadata, if any, goes to
 * iv_b64 (NULL to ignore). */
int azc_get_blob(struct httpc *h, const struct azc_sas *c, const char *name, struct strbuf *out,
                 char iv_b64[64], char err[AZC_ERR]);

struct azc_message {
    char *id, *pop_receipt, *text;
};

/* Gets up to n (1..32) messages, invisible for visibility_s seconds. *out (malloc'ed array of
 * *count) is freed with azc_messages_free. */
int azc_queue_get(struct httpc *h, const struct azc_sas *q, int n, int visibility_s,
                  struct azc_message **out, size_t *count, char err[AZC_ERR]);
int azc_queue_delete(struct httpc *h, const struct azc_sas *q, const struct azc_message *m,
                     char err[AZC_ERR]);
void azc_messages_free(struct azc_message *m, size_t n);

#endif
