/*
 * auth_azure.h: decides whether a Blob or Queue request may proceed: SharedKey with the
 * account key, account SAS, or service SAS (blob or queue), each verified as Azure documents
 * it against the emulator clock, then the operation's permission. On refusal it makes the
 * Azure error reply itself (AuthenticationFailed with a detail, AuthorizationPermissionMismatch,
 * ...) and the caller just returns. It knows operations only as the needs below.
 */
#ifndef SPMIG_AUTH_AZURE_H
#define SPMIG_AUTH_AZURE_H

#include <stdbool.h>

#include "accounts.h"
#include "http.h"
#include "sas.h"

/* The level of resource an operation acts on (account SAS srt=). */
enum auth_level { AUTH_SERVICE, AUTH_CONTAINER, AUTH_OBJECT };

/* What an operation needs. */
struct auth_need {
    enum sas_service svc;
    enum auth_level level;
    const char *perms;     /* letters any one of which grants the operation ("r", "wc") */
    bool service_sas_ok;   /* false: a service SAS may never do this (create container) */
    const char *container; /* decoded container or queue name (NULL at service level) */
    const char *blob;      /* decoded blob name, or NULL */
    const char *snapshot;  /* the request's snapshot=, or NULL */
    /* Out: the SAS_PERM letters the credentials grant (all of them for SharedKey). */
    unsigned granted;
};

/*
 * Checks req for need against account acct. Returns true if allowed; otherwise the error
 * reply has been made and false is returned. A refusal is logged at info level with its reason.
 */
bool auth_azure_check(struct http_request *req, const struct account *acct, struct auth_need *need);

/*
 * Finds the account a request names; when there is none, makes the reply (403
 * AuthenticationFailed with a detail if the request carries credentials, else 404
 * ResourceNotFound) and returns NULL.
 */
const struct account *auth_azure_account(struct http_request *req, const char *name);

#endif
