/*
 * sp.h: the SharePoint REST calls of a migration, in odata=nometadata JSON: the target's ids
 * (web, library, root folder, an existing destination folder), the Migration API
 * (ProvisionMigrationContainers, ProvisionMigrationQueue, CreateMigrationJob[Encrypted],
 * GetMigrationJobStatus, GetMigrationJobProgress) and the emulator's /_emu controls. Requests
 * go through http.h; errors come back as one line with SharePoint's message.
 */
#ifndef SPMIG_SP_H
#define SPMIG_SP_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "aes.h"
#include "http.h"
#include "uuid.h"

#define SPC_ERR 512

struct spc {
    struct httpc *h; /* not owned */
    char *origin;    /* "http://127.0.0.1:8080" */
    char *site;      /* server-relative site path: "" for the root site, "/sites/hr" */
    char *auth;      /* "Authorization: Bearer <token>", or NULL */
};

/* Splits a site URL ("http://host:port/sites/hr"); -1 with err if it is not http(s). token
 * (may be NULL) goes with every request as a bearer token. */
int spc_init(struct spc *s, struct httpc *h, const char *site_url, const char *token,
             char err[SPC_ERR]);
void spc_finish(struct spc *s);

/*
 * One call of the site's REST API: method on "<site>/_api/<tail>" (tail already escaped), with
 * body (may be NULL) as JSON. Returns the answer's JSON (caller frees with cJSON_Delete; an
 * empty 2xx answer gives an empty object), or NULL with err ("<status> <message>").
 */
cJSON *spc_call(struct spc *s, const char *method, const char *tail, const cJSON *body,
                char err[SPC_ERR]);
/* The same for "/_emu/<path>" (tenant-wide, not under the site). */
cJSON *spc_emu(struct spc *s, const char *method, const char *path, const cJSON *body,
               char err[SPC_ERR]);

/* Where a migration goes. */
struct spc_target {
    char site_url[1024]; /* absolute, for ExportSettings */
    char web_id[UUID_BUF], web_root_folder_id[UUID_BUF], list_id[UUID_BUF];
    char root_folder_id[UUID_BUF]; /* the library's */
    char web_url[1024];            /* server-relative: "/" or "/sites/hr" */
    char list_title[256];
    char root_folder_url[1024]; /* server-relative: "/sites/hr/Shared Documents" */
};

/* Reads the target of library (a title, "Documents" when NULL). */
int spc_target(struct spc *s, const char *library, struct spc_target *t, char err[SPC_ERR]);

/* The UniqueId of the folder at server_relative, 1 when there is none, -1 on error. */
int spc_folder_id(struct spc *s, const char *server_relative, char id[UUID_BUF], char err[SPC_ERR]);

/* ProvisionMigrationContainers: two SAS URIs (caller frees) and the AES-256 key. */
int spc_provision_containers(struct spc *s, char **data_uri, char **manifest_uri,
                             unsigned char key[AES_KEY_LEN], char err[SPC_ERR]);
/* ProvisionMigrationQueue: the report queue's SAS URI (caller frees). */
int spc_provision_queue(struct spc *s, char **queue_uri, char err[SPC_ERR]);
/* CreateMigrationJobEncrypted (key given) or CreateMigrationJob (key NULL); the job's id. */
int spc_create_job(struct spc *s, const char *web_id, const char *data_uri,
                   const char *manifest_uri, const char *queue_uri, const unsigned char *key,
                   char job_id[UUID_BUF], char err[SPC_ERR]);
/* GetMigrationJobStatus: 0 None, 2 Queued, 4 Processing. */
int spc_job_status(struct spc *s, const char *job_id, int *status, char err[SPC_ERR]);
/* GetMigrationJobProgress from token: the answer's object ({"Logs":[...],"NextToken":..}). */
cJSON *spc_job_progress(struct spc *s, const char *job_id, const char *token, char err[SPC_ERR]);

#endif
