/*
 * libFuzzer target: SharePoint's name, title and path rules (common/sp_names.c). The first
 * byte picks the kind of name, the rest (up to a NUL) is the name. Besides the sanitizers it
 * checks the rules against themselves: UTF-8 validity and the UTF-16 length against RFC
 * 3629's table of well-formed sequences, the folder kinds only adding rules, and a path
 * judged by its length alone.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_names.h"
#include "spmig_limits.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 3629 section 4: the length of the well-formed sequence at p, or 0 if there is none. */
static size_t oracle_seq(const unsigned char *p)
{
    unsigned c = p[0];
#define TAIL(i) (p[i] >= 0x80 && p[i] <= 0xBF)
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return TAIL(1) ? 2 : 0;
    if (c == 0xE0)
        return p[1] >= 0xA0 && p[1] <= 0xBF && TAIL(2) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
        return TAIL(1) && TAIL(2) ? 3 : 0;
    if (c == 0xED)
        return p[1] >= 0x80 && p[1] <= 0x9F && TAIL(2) ? 3 : 0;
    if (c == 0xF0)
        return p[1] >= 0x90 && p[1] <= 0xBF && TAIL(2) && TAIL(3) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3)
        return TAIL(1) && TAIL(2) && TAIL(3) ? 4 : 0;
    if (c == 0xF4)
        return p[1] >= 0x80 && p[1] <= 0x8F && TAIL(2) && TAIL(3) ? 4 : 0;
    return 0;
#undef TAIL
}

/* Whether s is well-formed, and its UTF-16 length when it is. */
static bool oracle(const char *s, size_t *units)
{
    const unsigned char *p = (const unsigned char *)s;
    *units = 0;
    while (*p) {
        size_t n = oracle_seq(p);
        if (n == 0)
            return false;
        *units += n == 4 ? 2 : 1;
        p += n;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    enum sp_names_kind kind = (enum sp_names_kind)(data[0] % 3);
    char *name = xstrndup((const char *)data + 1, size - 1);

    size_t units;
    bool valid = oracle(name, &units);
    if (sp_names_utf8_valid(name) != valid)
        abort();
    if (valid && sp_names_utf16_len(name) != units)
        abort();

    enum sp_names_verdict v = sp_names_check(name, kind);
    if ((int)v < (int)SP_NAMES_OK || (int)v > (int)SP_NAMES_THICKET || !sp_names_reason(v))
        abort();
    if (!valid && name[0] && v != SP_NAMES_BAD_UTF8)
        abort();
    /* The folder kinds only add rules: what a folder may be called, a file may too, and what
     * may sit in a library root may sit deeper. */
    enum sp_names_verdict file = sp_names_check(name, SP_NAMES_FILE);
    enum sp_names_verdict folder = sp_names_check(name, SP_NAMES_FOLDER);
    enum sp_names_verdict root = sp_names_check(name, SP_NAMES_ROOT_FOLDER);
    if ((folder == SP_NAMES_OK && file != SP_NAMES_OK) ||
        (root == SP_NAMES_OK && folder != SP_NAMES_OK))
        abort();
    if (file == SP_NAMES_FORMS || file == SP_NAMES_FOLDER_TILDE || file == SP_NAMES_THICKET)
        abort();
    /* A path is judged by its encoding and length only. */
    enum sp_names_verdict path = sp_names_check_path(name);
    enum sp_names_verdict want = !valid                        ? SP_NAMES_BAD_UTF8
                                 : units > LIMIT_SP_PATH_UNITS ? SP_NAMES_TOO_LONG
                                                               : SP_NAMES_OK;
    if (path != want)
        abort();
    enum sp_names_verdict title = sp_names_check_title(name);
    if (title == SP_NAMES_OK && (!valid || units > LIMIT_SP_TITLE_UNITS || !name[0]))
        abort();
    free(name);
    return 0;
}
