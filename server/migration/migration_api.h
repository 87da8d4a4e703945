/*
 * migration_api.h: the Migration API on /_api/site/: ProvisionMigrationContainers,
 * ProvisionMigrationQueue, CreateMigrationJob, CreateMigrationJobEncrypted,
 * GetMigrationJobStatus, GetMigrationJobProgress, DeleteMigrationJob, GetMigrationStatus.
 * Validates submissions, keeps job keys in memory only (job_keys), queues jobs for
 * import_job and reads their event log.
 */
#ifndef SPMIG_MIGRATION_API_H
#define SPMIG_MIGRATION_API_H

/* Registers the Migration API's methods on /_api/site/ (sp_routes.h). blob_url and
 * queue_url ("http://127.0.0.1:10000", copied) are where clients reach the storage
 * listeners: the SAS URIs it hands out start with them. A base without a host
 * ("http://:10000", for a listener on every interface) takes the host each client called
 * the SharePoint listener by, from its Host header. Call once at start. */
void migration_api_register(const char *blob_url, const char *queue_url);

#endif
