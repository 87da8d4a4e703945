/*
 * sp.c: SharePoint REST for the client: requests in odata=nometadata, answers unwrapped from
 * their shapes, SharePoint's error bodies turned into one line. The Migration API's meaning
 * (what a job does with the ids) is the server's.
 */
#include "sp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "crypto.h"
#include "query.h"
#include "xmalloc.h"

#define NOMETADATA "application/json;odata=nometadata"

int spc_init(struct spc *s, struct httpc *h, const char *site_url, const char *token,
             char err[SPC_ERR])
{
    memset(s, 0, sizeof *s);
    s->h = h;
    const char *p = strstr(site_url, "://");
    if (!p || (strncasecmp(site_url, "http://", 7) != 0 && strncasecmp(site_url, "https://", 8))) {
        snprintf(err, SPC_ERR, "site URL %s: not an http(s) URL", site_url);
        return -1;
    }
    const char *path = strchr(p + 3, '/');
    if (strchr(site_url, '?') || strchr(site_url, '#')) {
        snprintf(err, SPC_ERR, "site URL %s: has a query or fragment", site_url);
        return -1;
    }
    if (!path)
        path = site_url + strlen(site_url);
    s->origin = xstrndup(site_url, (size_t)(path - site_url));
    size_t n = strlen(path);
    while (n && path[n - 1] == '/')
        n--;
    s->site = xstrndup(path, n);
    s->auth = token ? xasprintf("Authorization: Bearer %s", token) : NULL;
    return 0;
}

void spc_finish(struct spc *s)
{
    free(s->origin);
    free(s->site);
    if (s->auth) {
        crypto_wipe(s->auth, strlen(s->auth));
        free(s->auth);
    }
    s->origin = s->site = s->auth = NULL;
}

/* "<status> <SharePoint's message>" from an error answer. */
static void error_line(const struct httpc_response *r, int rc, char err[SPC_ERR])
{
    if (rc < 0) {
        snprintf(err, SPC_ERR, "%s", r->error);
        return;
    }
    cJSON *j = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    const cJSON *v = cJSON_IsObject(m) ? cJSON_GetObjectItemCaseSensitive(m, "value") : m;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    if (cJSON_IsString(v))
        snprintf(err, SPC_ERR, "HTTP %ld: %s%s%s%s", r->status, v->valuestring,
                 cJSON_IsString(code) ? " (" : "", cJSON_IsString(code) ? code->valuestring : "",
                 cJSON_IsString(code) ? ")" : "");
    else
        snprintf(err, SPC_ERR, "HTTP %ld: %.200s", r->status, r->body.data ? r->body.data : "");
    cJSON_Delete(j);
}

static cJSON *request(struct spc *s, const char *method, const char *url, const cJSON *body,
                      char err[SPC_ERR])
{
    const char *hdr[] = {"Accept: " NOMETADATA, "Content-Type: " NOMETADATA, s->auth, NULL};
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    struct httpc_response r;
    httpc_response_init(&r);
    cJSON *out = NULL;
    int rc =
        httpc_request(s->h, method, url, hdr, text ? text : (strcmp(method, "POST") ? NULL : ""),
                      text ? strlen(text) : 0, &r);
    if (rc < 0 || r.status < 200 || r.status > 299) {
        error_line(&r, rc, err);
    } else if (r.body.len == 0) {
        out = cJSON_CreateObject();
    } else {
        out = cJSON_ParseWithLength(r.body.data, r.body.len);
        if (!out)
            snprintf(err, SPC_ERR, "%s %s: the answer is not JSON", method, url);
    }
    if (text) {
        crypto_wipe(text, strlen(text)); /* may hold a job key */
        cJSON_free(text);
    }
    httpc_response_finish(&r);
    return out;
}

cJSON *spc_call(struct spc *s, const char *method, const char *tail, const cJSON *body,
                char err[SPC_ERR])
{
    char *url = xasprintf("%s%s/_api/%s", s->origin, s->site, tail);
    cJSON *j = request(s, method, url, body, err);
    free(url);
    return j;
}

cJSON *spc_emu(struct spc *s, const char *method, const char *path, const cJSON *body,
               char err[SPC_ERR])
{
    char *url = xasprintf("%s/_emu/%s", s->origin, path);
    cJSON *j = request(s, method, url, body, err);
    free(url);
    return j;
}

/* Copies the string member name of o into dst; -1 with err if missing. */
static int member(const cJSON *o, const char *name, char *dst, size_t cap, const char *what,
                  char err[SPC_ERR])
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap) {
        snprintf(err, SPC_ERR, "%s: the answer has no %s", what, name);
        return -1;
    }
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

/* A string literal of a REST path: quotes doubled, then percent-encoded. */
static char *literal(const char *v)
{
    size_t n = strlen(v), q = 0;
    for (size_t i = 0; i < n; i++)
        q += v[i] == '\'';
    char *dq = xmalloc(n + q + 1), *o = dq;
    for (size_t i = 0; i < n; i++) {
        *o++ = v[i];
        if (v[i] == '\'')
            *o++ = '\'';
    }
    *o = '\0';
    char *esc = query_encode(dq);
    char *out = xasprintf("'%s'", esc);
    free(esc);
    free(dq);
    return out;
}

int spc_target(struct spc *s, const char *library, struct spc_target *t, char err[SPC_ERR])
{
    memset(t, 0, sizeof *t);
    int rc = -1;
    char *lit = literal(library ? library : "Documents");
    char *tail = xasprintf("web/lists/getbytitle(%s)?$expand=RootFolder", lit);
    cJSON *web = spc_call(s, "GET", "web?$expand=RootFolder", NULL, err);
    cJSON *list = web ? spc_call(s, "GET", tail, NULL, err) : NULL;
    if (!web || !list)
        goto out;
    const cJSON *wroot = cJSON_GetObjectItemCaseSensitive(web, "RootFolder");
    const cJSON *lroot = cJSON_GetObjectItemCaseSensitive(list, "RootFolder");
    if (member(web, "Id", t->web_id, sizeof t->web_id, "web", err) ||
        member(web, "ServerRelativeUrl", t->web_url, sizeof t->web_url, "web", err) ||
        member(web, "Url", t->site_url, sizeof t->site_url, "web", err) ||
        member(wroot, "UniqueId", t->web_root_folder_id, sizeof t->web_root_folder_id,
               "web RootFolder", err) ||
        member(list, "Id", t->list_id, sizeof t->list_id, "library", err) ||
        member(list, "Title", t->list_title, sizeof t->list_title, "library", err) ||
        member(lroot, "UniqueId", t->root_folder_id, sizeof t->root_folder_id, "library RootFolder",
               err) ||
        member(lroot, "ServerRelativeUrl", t->root_folder_url, sizeof t->root_folder_url,
               "library RootFolder", err))
        goto out;
    rc = 0;
out:
    cJSON_Delete(web);
    cJSON_Delete(list);
    free(tail);
    free(lit);
    return rc;
}

int spc_folder_id(struct spc *s, const char *server_relative, char id[UUID_BUF], char err[SPC_ERR])
{
    char *lit = literal(server_relative);
    char *tail = xasprintf("web/GetFolderByServerRelativeUrl(%s)", lit);
    char *url = xasprintf("%s%s/_api/%s", s->origin, s->site, tail);
    const char *hdr[] = {"Accept: " NOMETADATA, s->auth, NULL};
    struct httpc_response r;
    httpc_response_init(&r);
    int rc = httpc_request(s->h, "GET", url, hdr, NULL, 0, &r);
    if (rc == 0 && r.status == 404) {
        rc = 1;
    } else if (rc < 0 || r.status != 200) {
        error_line(&r, rc, err);
        rc = -1;
    } else {
        cJSON *j = cJSON_ParseWithLength(r.body.data ? r.body.data : "", r.body.len);
        rc = member(j, "UniqueId", id, UUID_BUF, "folder", err);
        cJSON_Delete(j);
    }
    httpc_response_finish(&r);
    free(url);
    free(tail);
    free(lit);
    return rc;
}

int spc_provision_containers(struct spc *s, char **data_uri, char **manifest_uri,
                             unsigned char key[AES_KEY_LEN], char err[SPC_ERR])
{
    *data_uri = *manifest_uri = NULL;
    cJSON *j = spc_call(s, "POST", "site/ProvisionMigrationContainers", NULL, err);
    if (!j)
        return -1;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "DataContainerUri");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "MetadataContainerUri");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "EncryptionKey");
    int rc = -1;
    if (!cJSON_IsString(d) || !cJSON_IsString(m) || !cJSON_IsString(k)) {
        snprintf(err, SPC_ERR, "ProvisionMigrationContainers: incomplete answer");
    } else if (b64_decode_to(k->valuestring, strlen(k->valuestring), key, AES_KEY_LEN) !=
               AES_KEY_LEN) {
        snprintf(err, SPC_ERR, "ProvisionMigrationContainers: the key is not 32 bytes");
    } else {
        *data_uri = xstrdup(d->valuestring);
        *manifest_uri = xstrdup(m->valuestring);
        rc = 0;
    }
    if (cJSON_IsString(k))
        crypto_wipe(k->valuestring, strlen(k->valuestring));
    cJSON_Delete(j);
    return rc;
}

int spc_provision_queue(struct spc *s, char **queue_uri, char err[SPC_ERR])
{
    *queue_uri = NULL;
    cJSON *j = spc_call(s, "POST", "site/ProvisionMigrationQueue", NULL, err);
    if (!j)
        return -1;
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "JobQueueUri");
    int rc = -1;
    if (cJSON_IsString(q)) {
        *queue_uri = xstrdup(q->valuestring);
        rc = 0;
    } else {
        snprintf(err, SPC_ERR, "ProvisionMigrationQueue: the answer has no JobQueueUri");
    }
    cJSON_Delete(j);
    return rc;
}

/* A method's result in nometadata: the value itself, or {"value": ...}. */
static const cJSON *result_value(const cJSON *j)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "value");
    return v ? v : j;
}

int spc_create_job(struct spc *s, const char *web_id, const char *data_uri,
                   const char *manifest_uri, const char *queue_uri, const unsigned char *key,
                   char job_id[UUID_BUF], char err[SPC_ERR])
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "gWebId", web_id);
    cJSON_AddStringToObject(body, "azureContainerSourceUri", data_uri);
    cJSON_AddStringToObject(body, "azureContainerManifestUri", manifest_uri);
    cJSON_AddStringToObject(body, "azureQueueReportUri", queue_uri);
    char kb[64] = "";
    if (key) {
        b64_encode_to(key, AES_KEY_LEN, kb);
        cJSON *o = cJSON_AddObjectToObject(body, "options");
        cJSON_AddStringToObject(o, "AES256CBCKey", kb);
    }
    cJSON *j = spc_call(
        s, "POST", key ? "site/CreateMigrationJobEncrypted" : "site/CreateMigrationJob", body, err);
    if (key) {
        cJSON *o = cJSON_GetObjectItemCaseSensitive(body, "options");
        cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "AES256CBCKey");
        crypto_wipe(k->valuestring, strlen(k->valuestring));
        crypto_wipe(kb, sizeof kb);
    }
    cJSON_Delete(body);
    if (!j)
        return -1;
    const cJSON *v = result_value(j);
    int rc = -1;
    if (cJSON_IsString(v) && strlen(v->valuestring) < UUID_BUF) {
        memcpy(job_id, v->valuestring, strlen(v->valuestring) + 1);
        rc = 0;
    } else {
        snprintf(err, SPC_ERR, "CreateMigrationJob: the answer is not a job id");
    }
    cJSON_Delete(j);
    return rc;
}

int spc_job_status(struct spc *s, const char *job_id, int *status, char err[SPC_ERR])
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "id", job_id);
    cJSON *j = spc_call(s, "POST", "site/GetMigrationJobStatus", body, err);
    cJSON_Delete(body);
    if (!j)
        return -1;
    const cJSON *v = result_value(j);
    int rc = -1;
    if (cJSON_IsNumber(v)) {
        *status = v->valueint;
        rc = 0;
    } else if (cJSON_IsString(v)) {
        *status = atoi(v->valuestring);
        rc = 0;
    } else {
        snprintf(err, SPC_ERR, "GetMigrationJobStatus: the answer is not a number");
    }
    cJSON_Delete(j);
    return rc;
}

cJSON *spc_job_progress(struct spc *s, const char *job_id, const char *token, char err[SPC_ERR])
{
    char *lj = literal(job_id), *lt = literal(token);
    char *tail = xasprintf("site/GetMigrationJobProgress(jobId=%s,nextToken=%s)", lj, lt);
    cJSON *j = spc_call(s, "GET", tail, NULL, err);
    free(tail);
    free(lj);
    free(lt);
    return j;
}
