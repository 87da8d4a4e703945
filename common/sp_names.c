/*
 * sp_names.c: the one copy of SharePoint Online's name, title and path rules (sp_names.h):
 * characters, UTF-8 validity, reserved names, folder-only names and lengths in UTF-16 units.
 * It judges strings only; reporting a verdict (scan codes, package issues, HTTP errors) and
 * knowing where an item goes (library root or not) are the callers' business.
 */
#include "sp_names.h"

#include <string.h>

#include "spmig_limits.h"

/* Whole names SharePoint keeps for itself, compared without regard to ASCII case. COM0-9 and
 * LPT0-9 are matched apart. */
static const char *const sp_names_reserved[] = {".lock", "CON", "PRN", "AUX", "NUL", "desktop.ini"};

/*
 * Endings that make a folder a thicket folder (the hidden folder Office saves next to a web
 * page: "Report.htm" and "Report_files"), which SharePoint will not create. The list of
 * Microsoft's KB 905231, in the languages Office writes them; compared without regard to case.
 */
static const char *const sp_names_thicket[] = {
    ".files",     "_files",    "-Dateien",   "_fichiers",    "_bestanden", "_file",
    "_archivos",  "-filer",    "_tiedostot", "_pliki",       "_soubory",   "_elemei",
    "_ficheiros", "_arquivos", "_dosyalar",  "_datoteke",    "_fitxers",   "_failid",
    "_fails",     "_bylos",    "_fajlovi",   "_fitxategiak",
};

#define SP_NAMES_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static char sp_names_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The first n bytes of a and b are equal but for ASCII case (a locale never changes it). */
static bool sp_names_eq_n(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sp_names_lower(a[i]) != sp_names_lower(b[i]))
            return false;
    return true;
}

static bool sp_names_eq(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && sp_names_eq_n(a, b, n);
}

static bool sp_names_contains(const char *hay, const char *needle)
{
    size_t hn = strlen(hay), nn = strlen(needle);
    for (size_t i = 0; i + nn <= hn; i++)
        if (sp_names_eq_n(hay + i, needle, nn))
            return true;
    return false;
}

static bool sp_names_ends_with(const char *s, size_t n, const char *suffix)
{
    size_t sn = strlen(suffix);
    return n >= sn && sp_names_eq_n(s + n - sn, suffix, sn);
}

/* Walks s as UTF-8; with xml_chars, also refuses what XML 1.0 cannot carry (C0 controls but
 * tab, LF and CR; U+FFFE, U+FFFF). */
static bool utf8_walk(const char *s, bool xml_chars)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        int more;
        unsigned min;
        if (c < 0x80) {
            if (xml_chars && c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return false;
            p++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            more = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            more = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            more = 3, min = 0x10000, c &= 0x07;
        } else {
            return false; /* a continuation byte first, or 0xF8 and above */
        }
        p++;
        for (int i = 0; i < more; i++, p++) {
            if ((*p & 0xC0) != 0x80)
                return false; /* cut short (the NUL stops here too) */
            c = (c << 6) | (*p & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return false;
        if (xml_chars && (c == 0xFFFE || c == 0xFFFF))
            return false;
    }
    return true;
}

bool sp_names_utf8_valid(const char *s)
{
    return utf8_walk(s, false);
}

bool sp_names_xml_text_valid(const char *s)
{
    return utf8_walk(s, true);
}

size_t sp_names_utf16_len(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            n++;
        if (*p >= 0xF0)
            n++; /* outside the BMP: a surrogate pair */
    }
    return n;
}

enum sp_names_verdict sp_names_check_length(size_t units)
{
    return units > LIMIT_SP_PATH_UNITS ? SP_NAMES_TOO_LONG : SP_NAMES_OK;
}

enum sp_names_verdict sp_names_check_path(const char *path)
{
    if (!sp_names_utf8_valid(path))
        return SP_NAMES_BAD_UTF8;
    return sp_names_check_length(sp_names_utf16_len(path));
}

/* The characters no name may hold: the forbidden ASCII set and the controls. */
static const char sp_names_bad_chars[] = "\"*:<>?/\\|";

static bool sp_names_is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7F;
}

static bool sp_names_has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (sp_names_is_control(*p))
            return true;
    return false;
}

bool sp_names_invalid_char(char c)
{
    return c != '\0' && (strchr(sp_names_bad_chars, c) || sp_names_is_control((unsigned char)c));
}

size_t sp_names_replace_invalid(char *name, char with)
{
    size_t n = 0;
    for (char *p = name; *p; p++)
        if (sp_names_invalid_char(*p)) {
            *p = with;
            n++;
        }
    return n;
}

/* CON, PRN, AUX, NUL, COM0-9, LPT0-9, .lock and desktop.ini, as the whole name. */
static bool sp_names_is_reserved(const char *name, size_t n)
{
    for (size_t i = 0; i < SP_NAMES_COUNT(sp_names_reserved); i++)
        if (sp_names_eq(name, sp_names_reserved[i]))
            return true;
    return n == 4 && (sp_names_eq_n(name, "COM", 3) || sp_names_eq_n(name, "LPT", 3)) &&
           name[3] >= '0' && name[3] <= '9';
}

static enum sp_names_verdict sp_names_check_folder(const char *name, size_t n,
                                                   enum sp_names_kind kind)
{
    if (kind == SP_NAMES_ROOT_FOLDER && sp_names_eq(name, "forms"))
        return SP_NAMES_FORMS;
    if (name[0] == '~')
        return SP_NAMES_FOLDER_TILDE;
    for (size_t i = 0; i < SP_NAMES_COUNT(sp_names_thicket); i++)
        if (sp_names_ends_with(name, n, sp_names_thicket[i]))
            return SP_NAMES_THICKET;
    return SP_NAMES_OK;
}

enum sp_names_verdict sp_names_check(const char *name, enum sp_names_kind kind)
{
    size_t n = strlen(name);
    if (n == 0)
        return SP_NAMES_EMPTY;
    if (!sp_names_utf8_valid(name))
        return SP_NAMES_BAD_UTF8;
    if (strpbrk(name, sp_names_bad_chars))
        return SP_NAMES_BAD_CHAR;
    if (sp_names_has_control(name))
        return SP_NAMES_CONTROL;
    if (sp_names_check_length(sp_names_utf16_len(name)) != SP_NAMES_OK)
        return SP_NAMES_TOO_LONG;
    if (name[0] == ' ' || name[n - 1] == ' ')
        return SP_NAMES_SPACES;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return SP_NAMES_DOTS;
    if (sp_names_is_reserved(name, n))
        return SP_NAMES_RESERVED;
    if (sp_names_contains(name, "_vti_"))
        return SP_NAMES_VTI;
    if (name[0] == '~' && name[1] == '$')
        return SP_NAMES_TILDE_DOLLAR;
    if (kind == SP_NAMES_FOLDER || kind == SP_NAMES_ROOT_FOLDER)
        return sp_names_check_folder(name, n, kind);
    return SP_NAMES_OK;
}

enum sp_names_verdict sp_names_check_title(const char *title)
{
    if (!title[0])
        return SP_NAMES_EMPTY;
    if (!sp_names_utf8_valid(title))
        return SP_NAMES_BAD_UTF8;
    if (sp_names_has_control(title))
        return SP_NAMES_CONTROL;
    if (sp_names_utf16_len(title) > LIMIT_SP_TITLE_UNITS)
        return SP_NAMES_TOO_LONG;
    return SP_NAMES_OK;
}

const char *sp_names_reason(enum sp_names_verdict v)
{
    switch (v) {
    case SP_NAMES_OK:
        return "";
    case SP_NAMES_EMPTY:
        return "is empty";
    case SP_NAMES_BAD_UTF8:
        return "is not valid UTF-8";
    case SP_NAMES_BAD_CHAR:
        return "contains a character that is not allowed (\" * : < > ? / \\ |)";
    case SP_NAMES_CONTROL:
        return "contains a control character";
    case SP_NAMES_TOO_LONG:
        return "is too long";
    case SP_NAMES_SPACES:
        return "begins or ends with a space";
    case SP_NAMES_DOTS:
        return "is . or ..";
    case SP_NAMES_RESERVED:
        return "is a reserved name";
    case SP_NAMES_VTI:
        return "contains _vti_";
    case SP_NAMES_TILDE_DOLLAR:
        return "begins with ~$";
    case SP_NAMES_FORMS:
        return "is forms, which a library keeps at its root for its forms folder";
    case SP_NAMES_FOLDER_TILDE:
        return "is a folder name beginning with ~";
    case SP_NAMES_THICKET:
        return "ends like a thicket folder (_files, -Dateien and the like)";
    }
    return "";
}
