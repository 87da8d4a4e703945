/*
 * test_sp_names.c: unit tests of common/sp_names.c, the one copy of SharePoint's name and
 * path rules. One table pins every name case (each invalid character, control characters and
 * DEL, each reserved name in several cases and with extensions, _vti_, ~$, spaces and dots,
 * the folder-only rules, which rule wins when several apply); generated rows add every
 * control byte, COM0-9/LPT0-9 and every thicket ending. Then UTF-8 validity, lengths in
 * UTF-16 units (paths exactly at the limit and one over, with characters outside the BMP),
 * titles and the reasons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_names.h"
#include "spmig_limits.h"

#define F  SP_NAMES_FILE
#define D  SP_NAMES_FOLDER
#define RD SP_NAMES_ROOT_FOLDER

#define EMOJI "\xf0\x9f\x98\x80" /* U+1F600: 4 bytes of UTF-8, 2 UTF-16 units */
#define EURO  "\xe2\x82\xac"     /* U+20AC: 3 bytes, 1 unit */
#define E_ACU "\xc3\xa9"         /* U+00E9: 2 bytes, 1 unit */

struct name_case {
    const char *name;
    enum sp_names_kind kind;
    enum sp_names_verdict want;
};

static const struct name_case name_cases[] = {
    /* Plain names, and names close to a rule that break none. */
    {"a.txt", F, SP_NAMES_OK},
    {"a b", F, SP_NAMES_OK},
    {"#hash%percent&amp{}", F, SP_NAMES_OK}, /* allowed in SharePoint Online */
    {"na" E_ACU "ve " EURO " " EMOJI ".txt", F, SP_NAMES_OK},
    {"\xc2\x80 C1 control", F, SP_NAMES_OK}, /* U+0080: only C0 and DEL are refused */
    {".hidden", F, SP_NAMES_OK},
    {"...", F, SP_NAMES_OK},
    {"a..b", F, SP_NAMES_OK},
    {"name.", F, SP_NAMES_OK}, /* trailing dots are accepted (docs/decisions.md) */
    {"name.", D, SP_NAMES_OK},
    {"in side", F, SP_NAMES_OK},
    {"", F, SP_NAMES_EMPTY},
    {"", D, SP_NAMES_EMPTY},

    /* Each invalid character, alone, inside and at either end. */
    {"a\"b", F, SP_NAMES_BAD_CHAR},
    {"a*b", F, SP_NAMES_BAD_CHAR},
    {"a:b", F, SP_NAMES_BAD_CHAR},
    {"a<b", F, SP_NAMES_BAD_CHAR},
    {"a>b", F, SP_NAMES_BAD_CHAR},
    {"a?b", F, SP_NAMES_BAD_CHAR},
    {"a/b", F, SP_NAMES_BAD_CHAR},
    {"a\\b", F, SP_NAMES_BAD_CHAR},
    {"a|b", F, SP_NAMES_BAD_CHAR},
    {"\"", F, SP_NAMES_BAD_CHAR},
    {"*", D, SP_NAMES_BAD_CHAR},
    {":start", F, SP_NAMES_BAD_CHAR},
    {"end?", RD, SP_NAMES_BAD_CHAR},
    {"/", F, SP_NAMES_BAD_CHAR},

    /* Control characters (every byte below 0x20 is in the generated rows) and DEL. */
    {"a\tb", F, SP_NAMES_CONTROL},
    {"a\nb", F, SP_NAMES_CONTROL},
    {"a\rb", F, SP_NAMES_CONTROL},
    {"\x01", F, SP_NAMES_CONTROL},
    {"a\x1f", D, SP_NAMES_CONTROL},
    {"a\x7f"
     "b",
     F, SP_NAMES_CONTROL},
    {"\x7f", D, SP_NAMES_CONTROL},

    /* Leading and trailing spaces. */
    {" lead", F, SP_NAMES_SPACES},
    {"trail ", F, SP_NAMES_SPACES},
    {" ", F, SP_NAMES_SPACES},
    {"  both  ", D, SP_NAMES_SPACES},
    {"trail.txt ", F, SP_NAMES_SPACES},

    /* "." and "..". */
    {".", F, SP_NAMES_DOTS},
    {"..", F, SP_NAMES_DOTS},
    {".", D, SP_NAMES_DOTS},

    /* Reserved names: the whole name, any case; with an extension they are fine. */
    {".lock", F, SP_NAMES_RESERVED},
    {".LOCK", F, SP_NAMES_RESERVED},
    {".Lock", D, SP_NAMES_RESERVED},
    {"x.lock", F, SP_NAMES_OK},
    {".locked", F, SP_NAMES_OK},
    {"CON", F, SP_NAMES_RESERVED},
    {"con", F, SP_NAMES_RESERVED},
    {"Con", D, SP_NAMES_RESERVED},
    {"cOn", RD, SP_NAMES_RESERVED},
    {"CON.txt", F, SP_NAMES_OK},
    {"Con.txt", F, SP_NAMES_OK},
    {"CON.tar.gz", F, SP_NAMES_OK},
    {"CON.", F, SP_NAMES_OK},
    {"CONSOLE", F, SP_NAMES_OK},
    {"ACON", F, SP_NAMES_OK},
    {"con1", F, SP_NAMES_OK},
    {"PRN", F, SP_NAMES_RESERVED},
    {"prn", F, SP_NAMES_RESERVED},
    {"prn.doc", F, SP_NAMES_OK},
    {"AUX", F, SP_NAMES_RESERVED},
    {"aux", D, SP_NAMES_RESERVED},
    {"aux.h", F, SP_NAMES_OK},
    {"NUL", F, SP_NAMES_RESERVED},
    {"Nul", F, SP_NAMES_RESERVED},
    {"nul.txt", F, SP_NAMES_OK},
    {"COM", F, SP_NAMES_OK},
    {"COM10", F, SP_NAMES_OK},
    {"COMA", F, SP_NAMES_OK},
    {"COM\xc2\xb9", F, SP_NAMES_OK}, /* COM with a superscript one: Windows' quirk, not ours */
    {"LPT", F, SP_NAMES_OK},
    {"LPT00", F, SP_NAMES_OK},
    {"desktop.ini", F, SP_NAMES_RESERVED},
    {"Desktop.INI", F, SP_NAMES_RESERVED},
    {"DESKTOP.INI", D, SP_NAMES_RESERVED},
    {"desktop.ini.bak", F, SP_NAMES_OK},
    {"desktop", F, SP_NAMES_OK},

    /* _vti_ anywhere, any case. */
    {"_vti_", F, SP_NAMES_VTI},
    {"_VTI_", F, SP_NAMES_VTI},
    {"x_vti_y", F, SP_NAMES_VTI},
    {"my_Vti_file.txt", F, SP_NAMES_VTI},
    {"_vti_cnf", D, SP_NAMES_VTI},
    {"end_vti_", RD, SP_NAMES_VTI},
    {"_vti", F, SP_NAMES_OK},
    {"vti_", F, SP_NAMES_OK},
    {"_vti-", F, SP_NAMES_OK},

    /* A ~$ prefix (Office's owner files); a ~ alone is fine for a file. */
    {"~$report.docx", F, SP_NAMES_TILDE_DOLLAR},
    {"~$", F, SP_NAMES_TILDE_DOLLAR},
    {"~$x", D, SP_NAMES_TILDE_DOLLAR},
    {"~report.docx", F, SP_NAMES_OK},
    {"~", F, SP_NAMES_OK},
    {"a~$b", F, SP_NAMES_OK},
    {"$~", F, SP_NAMES_OK},

    /* Folder-only: "forms" directly in a library root, any case, whole name. */
    {"forms", RD, SP_NAMES_FORMS},
    {"Forms", RD, SP_NAMES_FORMS},
    {"FORMS", RD, SP_NAMES_FORMS},
    {"forms", D, SP_NAMES_OK},
    {"forms", F, SP_NAMES_OK},
    {"forms_", RD, SP_NAMES_OK},
    {"forms 1", RD, SP_NAMES_OK},
    {"myforms", RD, SP_NAMES_OK},
    /* Folder-only: a leading '~'. */
    {"~drafts", D, SP_NAMES_FOLDER_TILDE},
    {"~drafts", RD, SP_NAMES_FOLDER_TILDE},
    {"~", D, SP_NAMES_FOLDER_TILDE},
    {"~drafts", F, SP_NAMES_OK},
    {"drafts~", D, SP_NAMES_OK},
    /* Folder-only: thicket endings (every ending is in the generated rows). */
    {"Report_files", D, SP_NAMES_THICKET},
    {"Report_FILES", RD, SP_NAMES_THICKET},
    {"_files", D, SP_NAMES_THICKET},
    {"Bericht-Dateien", D, SP_NAMES_THICKET},
    {"Bericht-dateien", D, SP_NAMES_THICKET},
    {"Report.files", D, SP_NAMES_THICKET},
    {"Report_file", D, SP_NAMES_THICKET},
    {"Report_files", F, SP_NAMES_OK},
    {"Report_files_", D, SP_NAMES_OK},
    {"Report_files 2", D, SP_NAMES_OK},
    {"files", D, SP_NAMES_OK},
    {"Report_filesx", D, SP_NAMES_OK},

    /* When several rules apply, the first in the enum's order decides. */
    {"\xff:", F, SP_NAMES_BAD_UTF8},
    {"a\x01:", F, SP_NAMES_BAD_CHAR},
    {" a\x01", F, SP_NAMES_CONTROL},
    {"CON:", F, SP_NAMES_BAD_CHAR},
    {" CON", F, SP_NAMES_SPACES},
    {" _vti_", F, SP_NAMES_SPACES},
    {"~$_vti_", F, SP_NAMES_VTI},
    {"~$x_files", D, SP_NAMES_TILDE_DOLLAR},
    {"~x_files", D, SP_NAMES_FOLDER_TILDE},
    {"con", RD, SP_NAMES_RESERVED},
    {"forms ", RD, SP_NAMES_SPACES},
};

static const char *kind_name(enum sp_names_kind k)
{
    return k == F ? "file" : k == D ? "folder" : "root folder";
}

static void check_name(const char *name, enum sp_names_kind kind, enum sp_names_verdict want)
{
    enum sp_names_verdict got = sp_names_check(name, kind);
    if (got != want)
        fail_msg("sp_names_check(\"%s\", %s) = %d, expected %d", name, kind_name(kind), got, want);
}

static void test_name_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof name_cases / sizeof name_cases[0]; i++)
        check_name(name_cases[i].name, name_cases[i].kind, name_cases[i].want);
}

/* Every control byte and DEL, at the start, inside and at the end, for every kind. */
static void test_control_bytes(void **state)
{
    (void)state;
    char name[8];
    for (int c = 1; c < 0x80; c++) {
        bool control = c < 0x20 || c == 0x7f;
        if (!control)
            continue;
        const char *fmts[] = {"%cab", "a%cb", "ab%c"};
        for (int f = 0; f < 3; f++)
            for (int k = F; k <= RD; k++) {
                snprintf(name, sizeof name, fmts[f], c);
                check_name(name, (enum sp_names_kind)k, SP_NAMES_CONTROL);
            }
    }
    /* Every other ASCII byte inside a name is fine, but the nine invalid characters. */
    for (int c = 0x20; c < 0x7f; c++) {
        snprintf(name, sizeof name, "a%cb", c);
        check_name(name, F, strchr("\"*:<>?/\\|", c) ? SP_NAMES_BAD_CHAR : SP_NAMES_OK);
    }
}

/* COM0-9 and LPT0-9 in four spellings, bare (reserved) and with an extension (fine). */
static void test_com_lpt(void **state)
{
    (void)state;
    const char *bare[] = {"COM%c", "com%c", "Com%c", "lPt%c", "LPT%c", "lpt%c"};
    const char *ext[] = {"COM%c.txt", "com%c.log", "LPT%c.", "lpt%c.tar.gz"};
    char name[16];
    for (char d = '0'; d <= '9'; d++) {
        for (size_t f = 0; f < sizeof bare / sizeof bare[0]; f++)
            for (int k = F; k <= RD; k++) {
                snprintf(name, sizeof name, bare[f], d);
                check_name(name, (enum sp_names_kind)k, SP_NAMES_RESERVED);
            }
        for (size_t f = 0; f < sizeof ext / sizeof ext[0]; f++) {
            snprintf(name, sizeof name, ext[f], d);
            check_name(name, F, SP_NAMES_OK);
        }
    }
}

/* Every thicket ending of KB 905231, as written and in upper case: a folder anywhere is
 * refused, a file is not. */
static void test_thicket_endings(void **state)
{
    (void)state;
    const char *endings[] = {
        ".files",     "_files",    "-Dateien",   "_fichiers",    "_bestanden", "_file",
        "_archivos",  "-filer",    "_tiedostot", "_pliki",       "_soubory",   "_elemei",
        "_ficheiros", "_arquivos", "_dosyalar",  "_datoteke",    "_fitxers",   "_failid",
        "_fails",     "_bylos",    "_fajlovi",   "_fitxategiak",
    };
    char name[64];
    for (size_t i = 0; i < sizeof endings / sizeof endings[0]; i++) {
        snprintf(name, sizeof name, "Page%s", endings[i]);
        check_name(name, D, SP_NAMES_THICKET);
        check_name(name, RD, SP_NAMES_THICKET);
        check_name(name, F, SP_NAMES_OK);
        for (char *c = name; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        check_name(name, D, SP_NAMES_THICKET);
        snprintf(name, sizeof name, "Page%s2", endings[i]);
        check_name(name, D, SP_NAMES_OK);
    }
}

static void test_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool valid;
    } cases[] = {
        {"", true},
        {"plain", true},
        {E_ACU EURO EMOJI, true},
        {"\xc2\x80", true},         /* U+0080, the first two-byte character */
        {"\xdf\xbf", true},         /* U+07FF */
        {"\xe0\xa0\x80", true},     /* U+0800 */
        {"\xed\x9f\xbf", true},     /* U+D7FF, just below the surrogates */
        {"\xee\x80\x80", true},     /* U+E000, just above */
        {"\xef\xbf\xbf", true},     /* U+FFFF */
        {"\xf0\x90\x80\x80", true}, /* U+10000 */
        {"\xf4\x8f\xbf\xbf", true}, /* U+10FFFF, the last */
        /* Overlong forms. */
        {"\xc0\xaf", false}, /* '/' in two bytes */
        {"\xc1\xbf", false},
        {"\xe0\x80\xaf", false},
        {"\xe0\x9f\xbf", false},
        {"\xf0\x80\x80\xaf", false},
        {"\xf0\x8f\xbf\xbf", false},
        /* Surrogates. */
        {"\xed\xa0\x80", false},             /* U+D800 */
        {"\xed\xbf\xbf", false},             /* U+DFFF */
        {"\xed\xa0\xbd\xed\xb8\x80", false}, /* a CESU-8 pair */
        /* Past U+10FFFF, and bytes that never start a character. */
        {"\xf4\x90\x80\x80", false},
        {"\xf5\x80\x80\x80", false},
        {"\xf8\x88\x80\x80\x80", false},
        {"\xfe", false},
        {"\xff", false},
        {"\x80", false},
        {"a\xbf", false},
        /* Cut short, at the end and before another character. */
        {"\xc3", false},
        {"\xe2\x82", false},
        {"\xf0\x9f\x98", false},
        {"\xe2\x82"
         "a",
         false},
        {"\xf0\x9f\x98 ", false},
        {"latin1 \xe9.txt", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (sp_names_utf8_valid(cases[i].s) != cases[i].valid)
            fail_msg("case %zu: sp_names_utf8_valid is %d", i, !cases[i].valid);
        /* A name or path that is not UTF-8 is refused as such. */
        if (cases[i].s[0]) {
            enum sp_names_verdict want = cases[i].valid ? SP_NAMES_OK : SP_NAMES_BAD_UTF8;
            check_name(cases[i].s, F, want);
            char path[64];
            snprintf(path, sizeof path, "/Shared Documents/%s", cases[i].s);
            assert_int_equal(sp_names_check_path(path), want);
        }
    }
}

static void test_utf16_len(void **state)
{
    (void)state;
    assert_int_equal(sp_names_utf16_len(""), 0);
    assert_int_equal(sp_names_utf16_len("abc"), 3);
    assert_int_equal(sp_names_utf16_len(E_ACU), 1);
    assert_int_equal(sp_names_utf16_len(EURO), 1);
    assert_int_equal(sp_names_utf16_len(EMOJI), 2);
    assert_int_equal(sp_names_utf16_len("\xf4\x8f\xbf\xbf"), 2);
    assert_int_equal(sp_names_utf16_len("a" E_ACU EURO EMOJI "z"), 6);
}

/* s = prefix followed by n copies of unit, then tail. The caller frees. */
static char *repeat(const char *prefix, const char *unit, size_t n, const char *tail)
{
    size_t len = strlen(prefix) + n * strlen(unit) + strlen(tail) + 1;
    char *s = malloc(len);
    assert_non_null(s);
    strcpy(s, prefix);
    for (size_t i = 0; i < n; i++)
        strcat(s, unit);
    strcat(s, tail);
    return s;
}

/* A path at the limit is fine and one unit more is too long, whatever its characters. */
static void test_path_length(void **state)
{
    (void)state;
    assert_int_equal(LIMIT_SP_PATH_UNITS, 400);
    assert_int_equal(sp_names_check_length(0), SP_NAMES_OK);
    assert_int_equal(sp_names_check_length(LIMIT_SP_PATH_UNITS), SP_NAMES_OK);
    assert_int_equal(sp_names_check_length(LIMIT_SP_PATH_UNITS + 1), SP_NAMES_TOO_LONG);
    static const struct {
        const char *unit; /* repeated after "/" */
        size_t n;         /* times */
        const char *tail;
        size_t units; /* the path's length in UTF-16 units */
    } cases[] = {
        {"a", 399, "", 400},
        {"a", 400, "", 401},
        {E_ACU, 399, "", 400}, /* 799 bytes */
        {E_ACU, 400, "", 401},
        {EURO, 399, "", 400}, /* 1,198 bytes */
        {EURO, 400, "", 401},
        {EMOJI, 199, "a", 400}, /* 200 code points: a code point count would say 200 */
        {EMOJI, 199, "ab", 401},
        {EMOJI, 200, "", 401}, /* 201 code points, 801 bytes */
        {EMOJI, 199, "", 399},
        {"a" E_ACU EURO EMOJI, 79, "xy" EMOJI, 400}, /* 5 units a copy: 1 + 395 + 2 + 2 */
        {"a" E_ACU EURO EMOJI, 79, "xyz" EMOJI, 401},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = repeat("/", cases[i].unit, cases[i].n, cases[i].tail);
        assert_int_equal(sp_names_utf16_len(path), cases[i].units);
        enum sp_names_verdict want =
            cases[i].units <= LIMIT_SP_PATH_UNITS ? SP_NAMES_OK : SP_NAMES_TOO_LONG;
        if (sp_names_check_path(path) != want)
            fail_msg("path case %zu (%zu units): verdict %d", i, cases[i].units,
                     sp_names_check_path(path));
        /* The same text as a name: one unit less without the '/', so at most the limit. */
        check_name(path + 1, F,
                   cases[i].units - 1 <= LIMIT_SP_PATH_UNITS ? SP_NAMES_OK : SP_NAMES_TOO_LONG);
        free(path);
    }
    /* A name alone can be too long: 400 units fine, 401 not; 200 emoji are 400 units. */
    char *name = repeat("", "n", 400, "");
    check_name(name, F, SP_NAMES_OK);
    free(name);
    name = repeat("", "n", 401, "");
    check_name(name, D, SP_NAMES_TOO_LONG);
    free(name);
    name = repeat("", EMOJI, 200, "");
    check_name(name, F, SP_NAMES_OK);
    free(name);
    name = repeat("", EMOJI, 200, "n");
    check_name(name, F, SP_NAMES_TOO_LONG);
    free(name);
}

static void test_titles(void **state)
{
    (void)state;
    assert_int_equal(LIMIT_SP_TITLE_UNITS, 255);
    assert_int_equal(sp_names_check_title("Documents"), SP_NAMES_OK);
    assert_int_equal(sp_names_check_title("Q1: plans? <draft> | \"HR\""), SP_NAMES_OK);
    assert_int_equal(sp_names_check_title(" spaced "), SP_NAMES_OK);
    assert_int_equal(sp_names_check_title(""), SP_NAMES_EMPTY);
    assert_int_equal(sp_names_check_title("a\tb"), SP_NAMES_CONTROL);
    assert_int_equal(sp_names_check_title("a\x7f"), SP_NAMES_CONTROL);
    assert_int_equal(sp_names_check_title("\xc0\xaf"), SP_NAMES_BAD_UTF8);
    struct {
        const char *unit;
        size_t n;
        const char *tail;
        enum sp_names_verdict want;
    } cases[] = {
        {"t", 255, "", SP_NAMES_OK},
        {"t", 256, "", SP_NAMES_TOO_LONG},
        {EMOJI, 127, "t", SP_NAMES_OK}, /* 255 units, 128 code points */
        {EMOJI, 128, "", SP_NAMES_TOO_LONG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = repeat("", cases[i].unit, cases[i].n, cases[i].tail);
        assert_int_equal(sp_names_check_title(t), cases[i].want);
        free(t);
    }
}

static void test_reasons(void **state)
{
    (void)state;
    assert_string_equal(sp_names_reason(SP_NAMES_OK), "");
    for (int v = SP_NAMES_EMPTY; v <= SP_NAMES_THICKET; v++) {
        const char *r = sp_names_reason((enum sp_names_verdict)v);
        assert_non_null(r);
        assert_true(strlen(r) > 5);
        for (int w = SP_NAMES_EMPTY; w < v; w++)
            assert_string_not_equal(r, sp_names_reason((enum sp_names_verdict)w));
    }
    assert_string_equal(sp_names_reason(SP_NAMES_VTI), "contains _vti_");
}

/* Replacing invalid characters: every forbidden character and control byte, nothing else
 * (spaces, dots, '#', '%', non-ASCII stay), and the result then passes the character rules. */
static void test_replace_invalid(void **state)
{
    (void)state;
    char name[] = "a\"b*c:d<e>f?g/h\\i|j\x01k\x7fl #%.txt \xc3\xa9";
    assert_int_equal(sp_names_replace_invalid(name, '_'), 11);
    assert_string_equal(name, "a_b_c_d_e_f_g_h_i_j_k_l #%.txt \xc3\xa9");
    char ok[] = "plain name.txt";
    assert_int_equal(sp_names_replace_invalid(ok, '_'), 0);
    assert_string_equal(ok, "plain name.txt");
    char q[] = "why?.docx";
    sp_names_replace_invalid(q, '-');
    assert_int_equal(sp_names_check(q, SP_NAMES_FILE), SP_NAMES_OK);
    assert_true(sp_names_invalid_char('|'));
    assert_true(sp_names_invalid_char('\t'));
    assert_false(sp_names_invalid_char('_'));
    assert_false(sp_names_invalid_char('\0'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_table),  cmocka_unit_test(test_control_bytes),
        cmocka_unit_test(test_com_lpt),     cmocka_unit_test(test_thicket_endings),
        cmocka_unit_test(test_utf8),        cmocka_unit_test(test_utf16_len),
        cmocka_unit_test(test_path_length), cmocka_unit_test(test_titles),
        cmocka_unit_test(test_reasons),     cmocka_unit_test(test_replace_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
