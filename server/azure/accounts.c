/*
 * accounts.c: loads the storage accounts from the database into a fixed table at start,
 * creating devstoreaccount1 (documented key) and the internal account (random key) the first
 * time. Keys are wiped at unload and never logged.
 */
#include "accounts.h"
#include "b64.h"
#include "crypto.h"
#include "db.h"
#include "log.h"

#include <string.h>

#define MAX_ACCOUNTS 8

static struct account table[MAX_ACCOUNTS];
static size_t ntable;

static int insert(struct db *d, const char *name, const unsigned char *key, size_t keylen,
                  bool internal)
{
    sqlite3_stmt *st = db_stmt(d, "INSERT OR IGNORE INTO accounts (name, key, internal) "
                                  "VALUES (?1, ?2, ?3)");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, key, (int)keylen, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, internal);
    return db_exec_stmt(d, st);
}

int accounts_load(void)
{
    struct db *d = db_acquire();
    int rc = 0;
    unsigned char devkey[ACCOUNTS_KEY_MAX];
    long devlen = b64_decode_to(ACCOUNTS_DEV_KEY, strlen(ACCOUNTS_DEV_KEY), devkey, sizeof devkey);
    unsigned char internal_key[64];
    crypto_random(internal_key, sizeof internal_key);
    db_write_begin(d);
    if (devlen < 0 || insert(d, ACCOUNTS_DEV_NAME, devkey, (size_t)devlen, false) < 0 ||
        insert(d, ACCOUNTS_INTERNAL, internal_key, sizeof internal_key, true) < 0)
        rc = -1;
    if (db_write_end(d, rc == 0) < 0)
        rc = -1;
    crypto_wipe(internal_key, sizeof internal_key);
    if (rc < 0) {
        log_error("accounts: cannot create the storage accounts");
        db_release(d);
        return -1;
    }
    sqlite3_stmt *st = db_stmt(d, "SELECT name, key, internal FROM accounts ORDER BY name");
    ntable = 0;
    while (sqlite3_step(st) == SQLITE_ROW && ntable < MAX_ACCOUNTS) {
        struct account *a = &table[ntable];
        const char *name = (const char *)sqlite3_column_text(st, 0);
        int keylen = sqlite3_column_bytes(st, 1);
        if (strlen(name) >= sizeof a->name || keylen <= 0 || keylen > ACCOUNTS_KEY_MAX)
            continue;
        strcpy(a->name, name);
        memcpy(a->key, sqlite3_column_blob(st, 1), (size_t)keylen);
        a->keylen = (size_t)keylen;
        a->internal = sqlite3_column_int(st, 2) != 0;
        ntable++;
    }
    sqlite3_reset(st);
    db_release(d);
    return 0;
}

void accounts_unload(void)
{
    crypto_wipe(table, sizeof table);
    ntable = 0;
}

const struct account *accounts_find(const char *name)
{
    for (size_t i = 0; i < ntable; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}
