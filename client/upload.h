/*
 * upload.h: the upload workers of a round: each takes a file of a package from the round's
 * queue, reads it, encrypts it (AES-256-CBC, a fresh IV), uploads it with Content-MD5 (one
 * Put Blob, or 4 MiB blocks) and snapshots it; the worker that finishes a package's last file
 * writes, encrypts and uploads its XML files and submits the job.
 */
#ifndef SPMIG_UPLOAD_H
#define SPMIG_UPLOAD_H

#include <pthread.h>

#include "round.h"

#define UPLOAD_BLOCK      (4u << 20) /* plaintext per Put Block; smaller files: one Put Blob */
#define UPLOAD_READ_TRIES 3          /* reads of a file that changes while it is read */

struct upload_worker {
    struct run *r;
    struct httpc *h;
    unsigned char *in, *out; /* UPLOAD_BLOCK and UPLOAD_BLOCK + 2 AES blocks */
    pthread_t thread;
};

/* The thread: takes tasks until the round stops. arg is a struct upload_worker. */
void *upload_worker_main(void *arg);
/* The last file of j is up (or j has none): submit j, or settle it if nothing is left. */
void upload_package_ready(struct run *r, struct httpc *h, struct job *j);
/* Submits j's uploaded package as a job (CreateMigrationJobEncrypted with j's containers and
 * key) and records its id. 0; -1 when the server refused it (err says why, nothing marked);
 * -2 when it did not answer. err holds SPC_ERR bytes. */
int upload_create_job(struct run *r, struct httpc *h, struct job *j, char *err);

#endif
