/*
 * migration_api.h: the Migration API on /_api/site/: ProvisionMigrationContainers,
 * ProvisionMigrationQueue, CreateMigrationJob, CreateMigrationJobEncrypted,
 * GetMigrationJobStatus, GetMigrationJobProgress, DeleteMigrationJob, GetMigrationStatus.
 * Validates submissions, keeps job keys in memory only (job_keys), queues jobs for
 * import_job and reads their event log.
 */
#ifndef SPMIG_MIGRATION_API_H
#define SPMIG_MIGRATION_API_H

#include <stdbool.h>

#include "sp_api.h"

/* Handles c->seg if it names a migration method: replies and returns true; else false. */
bool migration_api_call(struct http_request *req, struct sp_call *c);

#endif
