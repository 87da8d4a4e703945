/*
 * mm_json.h: the JSON shapes of Migration Manager: tasks, agents, reports and the settings
 * (their check, their defaults, and a task's effective settings: the global ones overridden
 * by its own). Pure shaping over mm_store's structs; no HTTP and no SQL of its own (an
 * agent's name is read through mm_store).
 */
#ifndef SPMIG_MM_JSON_H
#define SPMIG_MM_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "mm_store.h"

/* Checks a settings object and returns its normalised copy (only the keys given; the caller
 * deletes it), or NULL with why in err. bulk: also accept Migration Manager's JSON names
 * (MigrateHiddenItems, MigrateItemsCreatedAfter, MigrateItemsModifiedAfter,
 * SkipFilesWithExtensions, MigrateOneNoteNotebook). */
cJSON *mm_json_settings_check(const cJSON *in, bool bulk, char *err, size_t cap);
/* Every setting with its value: defaults, then global, then own (each may be NULL). New
 * object; the caller deletes it. */
cJSON *mm_json_settings_effective(const cJSON *global, const cJSON *own);
/* 'yyyy-mm-dd', a real date. */
bool mm_json_is_date(const char *s);

/* A task as the admin API shows it; global is the global settings (may be NULL). */
cJSON *mm_json_task(const struct mm_task *t, const cJSON *global);
/* An agent as the admin API shows it (running tasks read from the store). */
cJSON *mm_json_agent(const struct mm_agent *a);
/* ISO 8601 time, or JSON null for 0. */
cJSON *mm_json_time(int64_t ms);

#endif
