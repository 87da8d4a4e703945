/*
 * scan.h: walks a source folder (the "file share") and judges every entry against the rules
 * SharePoint puts on names and paths (sp_names.h, the same rules the import applies), sizes
 * and types: what can be migrated, what is filtered out, and what fails, with Migration
 * Manager's error codes and messages. The walk streams: entries go to a callback, folders
 * before their contents and names in byte order within a folder, so memory grows with depth,
 * not with the share's size. Reading file contents, packaging and uploading are not here.
 */
#ifndef SPMIG_SCAN_H
#define SPMIG_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp_names.h"

#define SCAN_MAX_FILE_SIZE (250LL << 30) /* 250 GiB: the Migration API's cap */

/* What the scan decided for an entry. SCAN_OK and the warnings are migrated. */
enum scan_verdict {
    SCAN_OK,
    SCAN_WARN_EMPTY,             /* a 0-byte file: migrated, reported */
    SCAN_FILTERED_HIDDEN,        /* a hidden entry (name starts with '.') and skip_hidden is set */
    SCAN_FILTERED_SYSTEM,        /* Thumbs.db, .DS_Store and the like: never migrated */
    SCAN_FILTERED_EXTENSION,     /* a file whose extension is in skip_extensions */
    SCAN_FILTERED_CREATED,       /* a file created before created_after_ms */
    SCAN_FILTERED_MODIFIED,      /* a file last modified before modified_after_ms */
    SCAN_FILTERED_INVALID_CHARS, /* a name with invalid characters and skip_invalid_chars */
    SCAN_FAIL_INVALID_CHARS,
    SCAN_FAIL_SPACES,        /* leading or trailing space in the name */
    SCAN_FAIL_RESERVED,      /* "." or "..", .lock, CON, PRN, AUX, NUL, COM0-9, LPT0-9 (the whole
                                name: "CON.txt" is fine), desktop.ini, _vti_ anywhere, a ~$ prefix */
    SCAN_FAIL_FOLDER_NAME,   /* a folder name SharePoint keeps for its own folders: "forms" at
                                the library root, a leading '~', a thicket ending (_files...) */
    SCAN_FAIL_PATH_TOO_LONG, /* over LIMIT_SP_PATH_UNITS UTF-16 units */
    SCAN_FAIL_TOO_LARGE,
    SCAN_FAIL_SYMLINK,    /* a symbolic link: not followed, not migrated */
    SCAN_FAIL_SPECIAL,    /* a device, FIFO or socket */
    SCAN_FAIL_UNREADABLE, /* no read access (a folder: its contents are not walked) */
    SCAN_FAIL_PARENT,     /* under a folder that failed: not migrated */
    SCAN_VERDICTS
};

enum scan_kind { SCAN_FILE, SCAN_FOLDER };

struct scan_entry {
    enum scan_kind kind;
    const char *rel;  /* path under the source root, '/'-separated, no leading '/' */
    const char *name; /* the last component of rel */
    /* The same in the destination: equal to rel and name unless replace_char changed a name
     * on the way (the folders above included). */
    const char *dest_rel, *dest_name;
    int depth;        /* 1 for the root's children */
    int64_t size;     /* files: bytes; folders: 0 */
    int64_t mtime_ns; /* modification time, ns since the epoch */
    int64_t ctime_ns; /* birth time when the file system gives it, else the earliest of
                         mtime and ctime */
    uint32_t uid;     /* owner */
    enum scan_verdict verdict;
};

struct scan_options {
    /* The destination path the entries go under, server-relative and decoded, as in
     * "/sites/hr/Shared Documents/Imported": its length counts toward LIMIT_SP_PATH_UNITS.
     * NULL or "" for none. */
    const char *dest_prefix;
    /* The entries go into a folder below the library's root folder (--folder), not into the
     * root itself: the root's own rules ("forms") do not apply to the top entries. */
    bool in_folder;
    /* Migration Manager's filters (AND-combined: an entry any of them matches is filtered
     * out). Dates apply to files only. */
    bool skip_hidden;
    int64_t created_after_ms, modified_after_ms; /* 0: no cut-off */
    /* "TXT:exe:jpeg": extensions without the dot, any case; only the last extension of a
     * name counts ("a.tar.gz" is "gz"). NULL or "": none. */
    const char *skip_extensions;
    /* Names with characters SharePoint forbids: false (the default, "migrate files and
     * folders with invalid characters" on) fails them, each reported; true filters them out.
     * replace_char (when not '\0') takes precedence: such a name goes to the destination with
     * each invalid character replaced (sp_names_replace_invalid) and is judged as replaced. */
    bool skip_invalid_chars;
    char replace_char;
};

/* Totals of a scan, as ScanSummary reports them. */
struct scan_totals {
    uint64_t files, folders; /* every entry seen (the root not counted) */
    uint64_t bytes;          /* of all files seen */
    uint64_t files_to_migrate, folders_to_migrate, bytes_to_migrate;
    uint64_t files_failed, folders_failed; /* SCAN_FAIL_* */
    uint64_t filtered;                     /* SCAN_FILTERED_* */
    uint64_t warnings;                     /* SCAN_WARN_* */
    size_t max_path; /* longest destination path, in UTF-16 units (SharePoint's characters) */
};

/* Called for every entry, in walk order; return non-zero to stop the walk (scan_walk then
 * returns that value). The entry and its strings live until the callback returns. */
typedef int (*scan_fn)(void *ctx, const struct scan_entry *e);

/*
 * Walks root (a folder; symlinks under it are reported, never followed; the root itself may
 * be a symlink to a folder). totals (may be NULL) is filled in. Returns 0 when the walk
 * finished, the callback's non-zero value when it stopped the walk, or -1 when root cannot be
 * opened as a folder (errno set).
 */
int scan_walk(const char *root, const struct scan_options *opt, scan_fn fn, void *ctx,
              struct scan_totals *totals);

/* The verdict for a name alone (sp_names.h's rules, folder-only ones for the folder kinds),
 * for one component: SCAN_OK or a SCAN_FAIL_* of the name. */
enum scan_verdict scan_check_name(const char *name, enum sp_names_kind kind);

/* A file's extension as reports show it: from the last '.' on, dot included; "" when there
 * is no dot, when the only dot opens the name (".bashrc") or when nothing follows the last
 * dot. Points into name. */
const char *scan_extension(const char *name);

/* Whether name's extension is in list (the skip_extensions form). */
bool scan_extension_listed(const char *name, const char *list);

/* Whether a verdict means the entry is migrated (SCAN_OK or a warning). */
bool scan_migrates(enum scan_verdict v);
/* Whether it is a filter (counted as filtered out, not failed). */
bool scan_filtered(enum scan_verdict v);

/* Migration Manager's error code ("0x0111000B"), "" for SCAN_OK (static strings). */
const char *scan_error_code(enum scan_verdict v);
/* A message for reports: "Scan file failure: Target path is too long" (static strings). */
const char *scan_message(enum scan_verdict v);

/* The same for an entry of kind k: Migration Manager words some failures differently for a
 * folder (an unreadable folder is 0x01110003, "cannot access source folder"; an unreadable
 * file 0x01110009, "could not read file metadata"). scan_error_code and scan_message give the
 * file's. Static strings. */
const char *scan_error_code_kind(enum scan_verdict v, enum scan_kind k);
const char *scan_message_kind(enum scan_verdict v, enum scan_kind k);

#endif
