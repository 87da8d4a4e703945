/*
 * sp_names.h: SharePoint Online's rules for file, folder and library names, titles and
 * server-relative paths, in one place. The client's scan, the package checks and the server's
 * import all ask here, so what the scan lets through the import accepts and the other way
 * round (the choices the published rules leave open are in docs/decisions.md). Lengths are
 * counted as SharePoint counts them: in UTF-16 code units.
 */
#ifndef SPMIG_SP_NAMES_H
#define SPMIG_SP_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Which rule a name, title or path breaks; the first rule in this order decides. */
enum sp_names_verdict {
    SP_NAMES_OK = 0,
    SP_NAMES_EMPTY,        /* "" */
    SP_NAMES_BAD_UTF8,     /* not well-formed UTF-8 (overlong, surrogate, cut, past U+10FFFF) */
    SP_NAMES_BAD_CHAR,     /* one of " * : < > ? / \ | */
    SP_NAMES_CONTROL,      /* U+0000 to U+001F or DEL (U+007F) */
    SP_NAMES_TOO_LONG,     /* over LIMIT_SP_PATH_UNITS (titles: LIMIT_SP_TITLE_UNITS) */
    SP_NAMES_SPACES,       /* a leading or trailing space */
    SP_NAMES_DOTS,         /* "." or ".." */
    SP_NAMES_RESERVED,     /* .lock, CON, PRN, AUX, NUL, COM0-9, LPT0-9, desktop.ini (whole
                              name, any case: "CON.txt" is fine) */
    SP_NAMES_VTI,          /* "_vti_" anywhere, any case */
    SP_NAMES_TILDE_DOLLAR, /* begins with "~$" */
    /* Folder-only rules. */
    SP_NAMES_FORMS,        /* "forms" (any case) directly in a library's root folder */
    SP_NAMES_FOLDER_TILDE, /* a folder name beginning with '~' */
    SP_NAMES_THICKET,      /* a folder name ending like a thicket folder: _files, -Dateien, ... */
};

/* What a name is the name of: the folder-only rules apply to the last two. */
enum sp_names_kind {
    SP_NAMES_FILE,        /* a file, or a name no folder rule applies to (a library title) */
    SP_NAMES_FOLDER,      /* a folder inside another folder of the library */
    SP_NAMES_ROOT_FOLDER, /* a folder directly in a library's root folder */
};

/* Whether name may be a file or folder name of this kind: SP_NAMES_OK or the rule it breaks.
 * Every rule except the path length of the whole path, which sp_names_check_path and
 * sp_names_check_length judge. */
enum sp_names_verdict sp_names_check(const char *name, enum sp_names_kind kind);

/* A decoded server-relative path ("/sites/hr/Shared Documents/a.txt"): SP_NAMES_OK,
 * SP_NAMES_BAD_UTF8 or SP_NAMES_TOO_LONG. Its segments are sp_names_check's business. */
enum sp_names_verdict sp_names_check_path(const char *path);

/* A path of this many UTF-16 code units (sp_names_utf16_len, summed over its parts and
 * separators): SP_NAMES_OK or SP_NAMES_TOO_LONG. */
enum sp_names_verdict sp_names_check_length(size_t units);

/* A site or library title: SP_NAMES_OK, SP_NAMES_EMPTY, SP_NAMES_BAD_UTF8, SP_NAMES_CONTROL
 * or SP_NAMES_TOO_LONG (over LIMIT_SP_TITLE_UNITS). A library's title is its root folder's
 * name too, which sp_names_check judges. */
enum sp_names_verdict sp_names_check_title(const char *title);

/* Whether c is one of the characters SP_NAMES_BAD_CHAR and SP_NAMES_CONTROL forbid. */
bool sp_names_invalid_char(char c);

/* Replaces, in place, every character SP_NAMES_BAD_CHAR and SP_NAMES_CONTROL forbid with
 * `with` (Migration Manager's "Replace invalid characters"); returns how many. The result may
 * still break another rule (sp_names_check judges it); `with` should be a valid character. */
size_t sp_names_replace_invalid(char *name, char with);

/* Whether s is well-formed UTF-8: shortest forms only, no surrogates, nothing past U+10FFFF. */
bool sp_names_utf8_valid(const char *s);
/* Well-formed UTF-8 (as above) of characters XML 1.0 can carry: no C0 control but tab, LF
 * and CR, no U+FFFE or U+FFFF. What a client names or sends that may be written into XML. */
bool sp_names_xml_text_valid(const char *s);

/* The length of s in UTF-16 code units, as SharePoint counts characters: one a character,
 * two for one outside the Basic Multilingual Plane (four bytes of UTF-8). Exact for valid
 * UTF-8; for anything else every byte that is not a continuation byte counts one (a
 * four-byte lead two). */
size_t sp_names_utf16_len(const char *s);

/* Why, as words that follow "The name 'x' ": "contains _vti_", "is a reserved name", ...
 * "" for SP_NAMES_OK. Static strings. */
const char *sp_names_reason(enum sp_names_verdict v);

#endif
