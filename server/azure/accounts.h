/*
 * accounts.h: the storage accounts and their keys. devstoreaccount1 has the publicly
 * documented development key; the internal account (for provisioned migration containers)
 * gets a random key at first start, kept in the database and never sent anywhere. Looked up
 * on every authenticated request, so the set is loaded once and read without locks.
 */
#ifndef SPMIG_ACCOUNTS_H
#define SPMIG_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#define ACCOUNTS_DEV_NAME "devstoreaccount1"
#define ACCOUNTS_DEV_KEY                                                                           \
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define ACCOUNTS_INTERNAL "spmigstore"
#define ACCOUNTS_KEY_MAX  64

struct account {
    char name[32];
    unsigned char key[ACCOUNTS_KEY_MAX];
    size_t keylen;
    bool internal;
};

/* Loads the accounts, creating both on first start. Needs db_open first. 0 or -1. */
int accounts_load(void);
void accounts_unload(void);
/* The account of that name (case-sensitive), or NULL. The pointer lives until unload. */
const struct account *accounts_find(const char *name);

#endif
