/*
 * follow.h: the reader of a round's report queue: it takes the messages, decrypts each job's
 * events with that job's key, matches JobError to the package's items (by UniqueId, then by
 * url), and settles a package on JobEnd (or JobFatalError, or a job silent past
 * --job-timeout); a job whose key the server lost in a restart is submitted again instead.
 * Messages of a job not registered yet wait until it is.
 */
#ifndef SPMIG_FOLLOW_H
#define SPMIG_FOLLOW_H

#include <pthread.h>

#include "round.h"

struct pending;

struct follow {
    struct run *r;
    struct httpc *h;
    struct pending *pending; /* messages of jobs not known yet */
    pthread_t thread;
};

/* The thread: follows until the round stops or every package is settled. arg: struct follow. */
void *follow_main(void *arg);

#endif
