/*
 * import_job.h: the timer job. Worker threads take queued jobs (jobs.h), read the package
 * from the manifest container's latest snapshots, decrypt with the job's key, validate it
 * (package.h), import folders and files into the library (sp_model.h), and report events to
 * the job's log and report queue, JobEnd always last.
 */
#ifndef SPMIG_IMPORT_JOB_H
#define SPMIG_IMPORT_JOB_H

#include "jobs.h"

/* Starts n workers. Jobs left processing by a previous run are requeued; encrypted ones end
 * with JobFatalError ("encryption key not available") and JobEnd. 0 or -1. */
int import_job_start(unsigned n);
/* Lets running jobs reach a safe point, then joins the workers. */
void import_job_stop(void);
/* A job was just queued: emits JobQueued and wakes a worker. key is NULL for unencrypted
 * jobs. */
void import_job_queued(const struct job *j);
/* A queued job was deleted: emits JobDeleted. */
void import_job_deleted(const struct job *j);

#endif
