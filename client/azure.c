/*
 * azure.c: Blob and Queue requests over SAS URLs, with Azure's headers and the XML of block
 * lists and queue messages. It does not retry (http.c does) or encrypt (the caller does).
 */
#include "azure.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "query.h"
#include "xmalloc.h"

int azc_sas_parse(const char *uri, struct azc_sas *out)
{
    memset(out, 0, sizeof *out);
    const char *q = strchr(uri, '?');
    const char *scheme = strstr(uri, "://");
    if (!q || !scheme || !strchr(scheme + 3, '/') || strchr(scheme + 3, '/') > q)
        return -1;
    size_t blen = (size_t)(q - uri);
    while (blen && uri[blen - 1] == '/')
        blen--;
    out->base = xstrndup(uri, blen);
    out->query = xstrdup(q + 1);
    return 0;
}

void azc_sas_finish(struct azc_sas *s)
{
    free(s->base);
    free(s->query);
    s->base = s->query = NULL;
}

char *azc_blob_url(const struct azc_sas *c, const char *name, const char *extra)
{
    char *path = query_encode_path(name);
    char *url =
        xasprintf("%s/%s?%s%s%s", c->base, path, c->query, extra ? "&" : "", extra ? extra : "");
    free(path);
    return url;
}

/* Fills err from an answer that is not the one expected. */
static int fail(char err[AZC_ERR], const char *what, const char *name, int rc,
                const struct httpc_response *r)
{
    if (rc < 0)
        snprintf(err, AZC_ERR, "%s %.200s: %.200s", what, name, r->error);
    else
        snprintf(err, AZC_ERR, "%s %.200s: HTTP %ld %.120s", what, name, r->status,
                 r->error_code[0] ? r->error_code : "");
    return -1;
}

/* One request whose success is status `want`. */
static int call(struct httpc *h, const char *what, const char *name, const char *method,
                const char *url, const char *const *headers, const void *body, size_t len,
                long want, struct httpc_response *r, char err[AZC_ERR])
{
    int rc = httpc_request(h, method, url, headers, body, len, r);
    if (rc < 0 || r->status != want)
        return fail(err, what, name, rc, r);
    return 0;
}

/*
 * One PUT on blob name (query extra) answered 201: x-ms-version, content_type (may be NULL),
 * md5 (may be NULL) as header md5_name, iv_b64 (may be NULL) as x-ms-meta-IV. The answer's
 * x-ms-snapshot goes to snapshot when it is not NULL.
 */
static int put(struct httpc *h, const struct azc_sas *c, const char *what, const char *name,
               const char *extra, const char *content_type, const char *md5_name,
               const unsigned char md5[16], const char *iv_b64, const void *body, size_t len,
               char snapshot[64], char err[AZC_ERR])
{
    char ctype[96], md5h[64], ivh[96], b[32];
    const char *hdr[6];
    size_t k = 0;
    hdr[k++] = "x-ms-version: " AZC_VERSION;
    if (strcmp(what, "Put Blob") == 0)
        hdr[k++] = "x-ms-blob-type: BlockBlob";
    if (content_type) {
        snprintf(ctype, sizeof ctype, "Content-Type: %s", content_type);
        hdr[k++] = ctype;
    }
    if (md5) {
        b64_encode_to(md5, 16, b);
        snprintf(md5h, sizeof md5h, "%s: %s", md5_name, b);
        hdr[k++] = md5h;
    }
    if (iv_b64) {
        snprintf(ivh, sizeof ivh, "x-ms-meta-IV: %s", iv_b64);
        hdr[k++] = ivh;
    }
    hdr[k] = NULL;
    char *url = azc_blob_url(c, name, extra);
    struct httpc_response r;
    httpc_response_init(&r);
    int rc = call(h, what, name, "PUT", url, hdr, body, len, 201, &r, err);
    if (rc == 0 && snapshot)
        snprintf(snapshot, 64, "%s", r.snapshot);
    httpc_response_finish(&r);
    free(url);
    return rc;
}

int azc_put_blob(struct httpc *h, const struct azc_sas *c, const char *name, const void *data,
                 size_t len, const unsigned char md5[16], const char *iv_b64, char err[AZC_ERR])
{
    return put(h, c, "Put Blob", name, NULL, "application/octet-stream", "Content-MD5", md5, iv_b64,
               data, len, NULL, err);
}

int azc_put_block(struct httpc *h, const struct azc_sas *c, const char *name, const char *block_id,
                  const void *data, size_t len, const unsigned char md5[16], char err[AZC_ERR])
{
    char *id = query_encode(block_id);
    char *extra = xasprintf("comp=block&blockid=%s", id);
    int rc =
        put(h, c, "Put Block", name, extra, NULL, "Content-MD5", md5, NULL, data, len, NULL, err);
    free(extra);
    free(id);
    return rc;
}

int azc_put_block_list(struct httpc *h, const struct azc_sas *c, const char *name, char *const *ids,
                       size_t n, const unsigned char blob_md5[16], const char *iv_b64,
                       char err[AZC_ERR])
{
    struct strbuf xml;
    strbuf_init(&xml, 0);
    strbuf_puts(&xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    for (size_t i = 0; i < n; i++) {
        strbuf_puts(&xml, "<Latest>");
        strbuf_xml_escape(&xml, ids[i]);
        strbuf_puts(&xml, "</Latest>");
    }
    strbuf_puts(&xml, "</BlockList>");
    int rc = put(h, c, "Put Block List", name, "comp=blocklist", "application/xml",
                 "x-ms-blob-content-md5", blob_md5, iv_b64, xml.data, xml.len, NULL, err);
    strbuf_finish(&xml);
    return rc;
}

int azc_snapshot(struct httpc *h, const struct azc_sas *c, const char *name, char snapshot[64],
                 char err[AZC_ERR])
{
    return put(h, c, "Snapshot Blob", name, "comp=snapshot", NULL, NULL, NULL, NULL, NULL, 0,
               snapshot, err);
}

int azc_get_blob(struct httpc *h, const struct azc_sas *c, const char *name, struct strbuf *out,
                 char iv_b64[64], char err[AZC_ERR])
{
    const char *hdr[] = {"x-ms-version: " AZC_VERSION, NULL};
    char *url = azc_blob_url(c, name, NULL);
    struct httpc_response r;
    httpc_response_init(&r);
    int rc = httpc_request(h, "GET", url, hdr, NULL, 0, &r);
    if (rc == 0 && r.status == 404) {
        rc = 1;
    } else if (rc < 0 || r.status != 200) {
        rc = fail(err, "Get Blob", name, rc, &r);
    } else {
        if (strbuf_append(out, r.body.data ? r.body.data : "", r.body.len) < 0)
            rc = fail(err, "Get Blob", name, -1, &r);
        if (iv_b64)
            snprintf(iv_b64, 64, "%s", r.meta_iv);
    }
    httpc_response_finish(&r);
    free(url);
    return rc;
}

/* The text of child `name` of node, or NULL (xmlFree it). */
static char *child_text(xmlNode *node, const char *name)
{
    for (xmlNode *c = node->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0) {
            xmlChar *t = xmlNodeGetContent(c);
            char *s = xstrdup(t ? (const char *)t : "");
            xmlFree(t);
            return s;
        }
    return NULL;
}

int azc_queue_get(struct httpc *h, const struct azc_sas *q, int n, int visibility_s,
                  struct azc_message **out, size_t *count, char err[AZC_ERR])
{
    *out = NULL;
    *count = 0;
    const char *hdr[] = {"x-ms-version: " AZC_VERSION, NULL};
    char *url = xasprintf("%s/messages?%s&numofmessages=%d&visibilitytimeout=%d", q->base, q->query,
                          n, visibility_s);
    struct httpc_response r;
    httpc_response_init(&r);
    int rc = call(h, "Get Messages", "", "GET", url, hdr, NULL, 0, 200, &r, err);
    free(url);
    if (rc < 0)
        goto out;
    xmlDoc *doc = xmlReadMemory(r.body.data ? r.body.data : "", (int)r.body.len, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || strcmp((const char *)root->name, "QueueMessagesList") != 0) {
        snprintf(err, AZC_ERR, "Get Messages: the answer is not a QueueMessagesList");
        xmlFreeDoc(doc);
        rc = -1;
        goto out;
    }
    size_t cap = 0;
    for (xmlNode *m = root->children; m; m = m->next) {
        if (m->type != XML_ELEMENT_NODE || strcmp((const char *)m->name, "QueueMessage") != 0)
            continue;
        struct azc_message msg = {child_text(m, "MessageId"), child_text(m, "PopReceipt"),
                                  child_text(m, "MessageText")};
        if (!msg.id || !msg.pop_receipt || !msg.text) {
            free(msg.id);
            free(msg.pop_receipt);
            free(msg.text);
            continue;
        }
        if (*count == cap) {
            cap = cap ? cap * 2 : 8;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        (*out)[(*count)++] = msg;
    }
    xmlFreeDoc(doc);
out:
    httpc_response_finish(&r);
    return rc;
}

int azc_queue_delete(struct httpc *h, const struct azc_sas *q, const struct azc_message *m,
                     char err[AZC_ERR])
{
    const char *hdr[] = {"x-ms-version: " AZC_VERSION, NULL};
    char *id = query_encode(m->id), *pop = query_encode(m->pop_receipt);
    char *url = xasprintf("%s/messages/%s?%s&popreceipt=%s", q->base, id, q->query, pop);
    struct httpc_response r;
    httpc_response_init(&r);
    int rc = httpc_request(h, "DELETE", url, hdr, NULL, 0, &r);
    /* 404: already gone (deleted by an earlier attempt whose answer was lost). */
    if (rc < 0 || (r.status != 204 && r.status != 404))
        rc = fail(err, "Delete Message", m->id, rc, &r);
    else
        rc = 0;
    httpc_response_finish(&r);
    free(url);
    free(id);
    free(pop);
    return rc;
}

void azc_messages_free(struct azc_message *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].id);
        free(m[i].pop_receipt);
        free(m[i].text);
    }
    free(m);
}
