/*
 * sp_model_internal.h: what sp_model.c shares with sp_import.c and nobody else: the
 * limits of stored values, the system account, and the helpers both write rows with.
 */
#ifndef SPMIG_SP_MODEL_INTERNAL_H
#define SPMIG_SP_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sqlite3.h>

#include "db.h"
#include "sp_model.h"
#include "spmig_limits.h"

#define SP_MODEL_LABEL_MAX 32
/* A path of LIMIT_SP_PATH_UNITS UTF-16 units has at most three bytes of UTF-8 a unit (a
 * four-byte character is two units). */
#define SP_MODEL_PATH_MAX_BYTES (3 * LIMIT_SP_PATH_UNITS)

#define SYSTEM_LOGIN "SHAREPOINT\\system"
#define SYSTEM_TITLE "System Account"

/* in normalised into out; a NULL in gives dflt, or a new uuid if dflt is NULL too. False if
 * in is not a GUID. */
bool sp_model_uuid_or(const char *in, char out[SP_MODEL_UUID_LEN], const char *dflt);
/* ASCII case folding, the same SQLite's NOCASE does. */
void sp_model_fold(const char *in, char *out, size_t cap);
/* Steps a statement that writes one row: SP_MODEL_OK, SP_MODEL_EXISTS on a UNIQUE violation (not
 * logged: callers expect it) or SP_MODEL_INTERNAL after logging. Resets st. */
int sp_model_step_write(struct db *d, sqlite3_stmt *st);
/* The list with this row id, read on d. */
int sp_model_list_by_id_tx(struct db *d, int64_t id, struct sp_model_list *out);

#endif
