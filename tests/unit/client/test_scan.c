/*
 * test_scan.c: unit tests of client/scan.c on temporary trees: how each rule of sp_names.h
 * becomes a scan verdict (the rules themselves are pinned in test_sp_names.c), the folder-only
 * rules at and below the library root, path length in UTF-16 units with and without a
 * destination prefix, sizes, links, FIFOs and sockets, unreadable files and folders (in a
 * child that drops root), hidden and system filters, walk order, totals and stopping the walk
 * from the callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scan.h"

/* ---- a temporary tree ---- */

static char tmp_root[64];

static void mk_file(const char *rel, size_t size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", tmp_root, rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    for (size_t i = 0; i < size; i++)
        assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
}

static void mk_dir(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", tmp_root, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

static char *tpath(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", tmp_root, rel);
    return path;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
        return rmdir(path) == 0 ? 0 : -1;
    return unlink(path) == 0 ? 0 : -1;
}

static int chmod_back(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    chmod(path, 0755);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmp_root, "/tmp/test_scan_XXXXXX");
    return mkdtemp(tmp_root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nftw(tmp_root, chmod_back, 16, FTW_PHYS);
    nftw(tmp_root, chmod_back, 16, FTW_PHYS); /* again: folders opened up by the first pass */
    return nftw(tmp_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- what the callback saw ---- */

struct rec {
    char *rel, *name, *dest;
    enum scan_kind kind;
    enum scan_verdict v;
    int64_t size, mtime_ns, ctime_ns;
    int depth;
    uint32_t uid;
};

struct seen {
    struct rec r[256];
    int n;
    int stop_at; /* return stop_rc when n reaches this (0: never) */
    int stop_rc;
};

static int collect(void *ctx, const struct scan_entry *e)
{
    struct seen *s = ctx;
    assert_true(s->n < 256);
    struct rec *r = &s->r[s->n++];
    r->rel = strdup(e->rel);
    r->name = strdup(e->name);
    r->dest = strdup(e->dest_rel);
    assert_int_equal(strlen(e->dest_rel), strlen(e->rel));
    assert_string_equal(e->dest_rel + strlen(e->dest_rel) - strlen(e->dest_name), e->dest_name);
    r->kind = e->kind;
    r->v = e->verdict;
    r->size = e->size;
    r->mtime_ns = e->mtime_ns;
    r->ctime_ns = e->ctime_ns;
    r->depth = e->depth;
    r->uid = e->uid;
    /* name is the last component of rel */
    size_t rl = strlen(e->rel), nl = strlen(e->name);
    assert_true(rl >= nl);
    assert_string_equal(e->rel + rl - nl, e->name);
    if (s->stop_at && s->n == s->stop_at)
        return s->stop_rc;
    return 0;
}

static void seen_free(struct seen *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->r[i].rel), free(s->r[i].name), free(s->r[i].dest);
    s->n = 0;
}

static const struct rec *find(const struct seen *s, const char *rel)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->r[i].rel, rel) == 0)
            return &s->r[i];
    return NULL;
}

static void expect(const struct seen *s, const char *rel, enum scan_kind kind, enum scan_verdict v)
{
    const struct rec *r = find(s, rel);
    if (!r)
        fail_msg("entry \"%s\" not reported", rel);
    if (r->v != v || r->kind != kind)
        fail_msg("entry \"%s\": verdict %d kind %d, expected %d kind %d", rel, r->v, r->kind, v,
                 kind);
}

/* ---- tests ---- */

static void test_check_name(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum scan_verdict v;
    } cases[] = {
        {"plain.txt", SCAN_OK},
        {"#hash%percent&.txt", SCAN_OK},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80.txt", SCAN_OK},
        {"a\"b", SCAN_FAIL_INVALID_CHARS},
        {"a*b", SCAN_FAIL_INVALID_CHARS},
        {"a:b", SCAN_FAIL_INVALID_CHARS},
        {"a<b", SCAN_FAIL_INVALID_CHARS},
        {"a>b", SCAN_FAIL_INVALID_CHARS},
        {"a?b", SCAN_FAIL_INVALID_CHARS},
        {"a/b", SCAN_FAIL_INVALID_CHARS},
        {"a\\b", SCAN_FAIL_INVALID_CHARS},
        {"a|b", SCAN_FAIL_INVALID_CHARS},
        {"a\tb", SCAN_FAIL_INVALID_CHARS},
        {"a\x01", SCAN_FAIL_INVALID_CHARS},
        {"a\x1f", SCAN_FAIL_INVALID_CHARS},
        {"del\x7f.txt", SCAN_FAIL_INVALID_CHARS}, /* DEL is a control character too */
        {"a\rb", SCAN_FAIL_INVALID_CHARS},
        {"latin1 \xe9.txt", SCAN_FAIL_INVALID_CHARS},   /* not UTF-8 */
        {"overlong \xc0\xaf", SCAN_FAIL_INVALID_CHARS}, /* '/' as two bytes */
        {"surrogate \xed\xa0\x80", SCAN_FAIL_INVALID_CHARS},
        {"cut \xe2\x82", SCAN_FAIL_INVALID_CHARS},
        {" lead", SCAN_FAIL_SPACES},
        {"trail ", SCAN_FAIL_SPACES},
        {" ", SCAN_FAIL_SPACES},
        {"in side", SCAN_OK},
        {".lock", SCAN_FAIL_RESERVED},
        {".LOCK", SCAN_FAIL_RESERVED},
        {"x.lock", SCAN_OK},
        {"CON", SCAN_FAIL_RESERVED},
        {"con", SCAN_FAIL_RESERVED},
        /* The whole name only, as SharePoint (not Windows) has it: the import takes these. */
        {"Con.txt", SCAN_OK},
        {"CON.tar.gz", SCAN_OK},
        {"PRN", SCAN_FAIL_RESERVED},
        {"prn.doc", SCAN_OK},
        {"AUX", SCAN_FAIL_RESERVED},
        {"aux.h", SCAN_OK},
        {"NUL", SCAN_FAIL_RESERVED},
        {"nul.txt", SCAN_OK},
        {"CONSOLE", SCAN_OK},
        {"CON_1.txt", SCAN_OK},
        {"ACON", SCAN_OK},
        {"COM", SCAN_OK},
        {"COM10", SCAN_OK},
        {"COMA", SCAN_OK},
        {"LPT", SCAN_OK},
        {"desktop.ini", SCAN_FAIL_RESERVED},
        {"Desktop.INI", SCAN_FAIL_RESERVED},
        {"desktop.ini.bak", SCAN_OK},
        {"_vti_", SCAN_FAIL_RESERVED},
        {"my_vti_file.txt", SCAN_FAIL_RESERVED},
        {"X_VTI_CNF", SCAN_FAIL_RESERVED},
        {"_vti", SCAN_OK},
        {"~$report.docx", SCAN_FAIL_RESERVED},
        {"~report.docx", SCAN_OK},
        {"a~$b", SCAN_OK},
        {"name.", SCAN_OK}, /* a trailing dot is fine */
        {"~drafts", SCAN_OK},
        {"Page_files", SCAN_OK}, /* the folder-only rules do not touch files */
        {"forms", SCAN_OK},
        /* the character rule comes first, then spaces, then reserved names */
        {" CON", SCAN_FAIL_SPACES},
        {"CON:", SCAN_FAIL_INVALID_CHARS},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum scan_verdict v = scan_check_name(cases[i].name, SP_NAMES_FILE);
        if (v != cases[i].v)
            fail_msg("scan_check_name(\"%s\") = %d, expected %d", cases[i].name, v, cases[i].v);
    }
    /* Every COM0-9 and LPT0-9, bare (reserved) and with an extension (fine), in both cases. */
    for (char d = '0'; d <= '9'; d++) {
        const char *fmts[] = {"COM%c", "com%c.txt", "LPT%c", "lpt%c.log"};
        for (size_t f = 0; f < 4; f++) {
            char name[16];
            snprintf(name, sizeof(name), fmts[f], d);
            assert_int_equal(scan_check_name(name, SP_NAMES_FILE),
                             f % 2 ? SCAN_OK : SCAN_FAIL_RESERVED);
        }
    }
    /* Folder-only rules (sp_names.h): their own verdict, with the code of a bad name. */
    static const struct {
        const char *name;
        enum sp_names_kind kind;
        enum scan_verdict v;
    } folders[] = {
        {"forms", SP_NAMES_ROOT_FOLDER, SCAN_FAIL_FOLDER_NAME},
        {"Forms", SP_NAMES_ROOT_FOLDER, SCAN_FAIL_FOLDER_NAME},
        {"forms", SP_NAMES_FOLDER, SCAN_OK},
        {"~drafts", SP_NAMES_FOLDER, SCAN_FAIL_FOLDER_NAME},
        {"Page_files", SP_NAMES_FOLDER, SCAN_FAIL_FOLDER_NAME},
        {"Seite-Dateien", SP_NAMES_ROOT_FOLDER, SCAN_FAIL_FOLDER_NAME},
        {"Page_files_", SP_NAMES_FOLDER, SCAN_OK},
        {"LPT1", SP_NAMES_FOLDER, SCAN_FAIL_RESERVED},
        {"a:b", SP_NAMES_ROOT_FOLDER, SCAN_FAIL_INVALID_CHARS},
        {" x", SP_NAMES_FOLDER, SCAN_FAIL_SPACES},
    };
    for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++)
        assert_int_equal(scan_check_name(folders[i].name, folders[i].kind), folders[i].v);
    /* A name alone over the path limit is a path too long. */
    char longname[402];
    memset(longname, 'n', 401);
    longname[401] = '\0';
    assert_int_equal(scan_check_name(longname, SP_NAMES_FILE), SCAN_FAIL_PATH_TOO_LONG);
}

static void test_codes_and_messages(void **state)
{
    (void)state;
    assert_string_equal(scan_error_code(SCAN_OK), "");
    assert_string_equal(scan_message(SCAN_OK), "");
    assert_string_equal(scan_error_code(SCAN_WARN_EMPTY), "");
    assert_string_equal(scan_error_code(SCAN_FILTERED_HIDDEN), "");
    assert_string_equal(scan_error_code(SCAN_FILTERED_SYSTEM), "");
    assert_string_equal(scan_error_code(SCAN_FAIL_INVALID_CHARS), "0x01110010");
    assert_string_equal(scan_error_code(SCAN_FAIL_SPACES), "0x01110010");
    assert_string_equal(scan_error_code(SCAN_FAIL_RESERVED), "0x01110010");
    assert_string_equal(scan_error_code(SCAN_FAIL_FOLDER_NAME), "0x01110010");
    assert_string_equal(scan_error_code(SCAN_FAIL_PATH_TOO_LONG), "0x0111000B");
    assert_string_equal(scan_error_code(SCAN_FAIL_TOO_LARGE), "0x0111000A");
    assert_string_equal(scan_error_code(SCAN_FAIL_SYMLINK), "0x01110001");
    assert_string_equal(scan_error_code(SCAN_FAIL_SPECIAL), "0x01110001");
    assert_string_equal(scan_error_code(SCAN_FAIL_UNREADABLE), "0x01110009");
    assert_string_equal(scan_error_code_kind(SCAN_FAIL_UNREADABLE, SCAN_FOLDER), "0x01110003");
    assert_string_equal(scan_error_code(SCAN_FAIL_PARENT), "0x0111000F");
    assert_string_equal(scan_message(SCAN_FAIL_PATH_TOO_LONG),
                        "Scan file failure: Target path is too long");
    assert_string_equal(scan_message(SCAN_FAIL_PARENT), "The parent folder wasn't migrated");
    assert_non_null(strstr(scan_message_kind(SCAN_FAIL_INVALID_CHARS, SCAN_FOLDER),
                           "Scan file failure: The folder name is invalid"));
    assert_non_null(strstr(scan_message(SCAN_FAIL_RESERVED), "Scan file failure: The file name"));
    assert_non_null(strstr(scan_message_kind(SCAN_FAIL_FOLDER_NAME, SCAN_FOLDER),
                           "Scan file failure: The folder name is invalid"));
    for (int v = 0; v < SCAN_VERDICTS; v++) {
        bool fails = v >= SCAN_FAIL_INVALID_CHARS;
        assert_int_equal(scan_migrates(v), v == SCAN_OK || v == SCAN_WARN_EMPTY);
        assert_int_equal(scan_filtered(v),
                         v >= SCAN_FILTERED_HIDDEN && v < SCAN_FAIL_INVALID_CHARS);
        assert_int_equal(scan_error_code(v)[0] != '\0', fails);
        assert_int_equal(scan_message(v)[0] != '\0', v != SCAN_OK);
        assert_true(strncmp(scan_error_code(v), "0x011", 5) == 0 || !fails);
    }
}

/* The tree of most tests: one entry per rule. */
static void build_tree(void)
{
    mk_file("a.txt", 3);
    mk_dir("b");
    mk_file("b/c.txt", 5);
    mk_file("empty.txt", 0);
    mk_file("bad:name.txt", 1);
    mk_file(" lead.txt", 1);
    mk_file("trail.txt ", 1);
    mk_file("CON", 1);
    mk_file("~$lock.docx", 1);
    mk_file("x_vti_y", 1);
    mk_file("desktop.ini", 1);
    mk_file(".lock", 1);
    mk_dir("bad|dir");
    mk_file("bad|dir/x.txt", 4);
    mk_dir("bad|dir/sub");
    mk_file("bad|dir/sub/y.txt", 6);
    mk_dir("LPT1");
    mk_file("LPT1/z.txt", 2);
    assert_int_equal(symlink("a.txt", tpath("link-file")), 0);
    assert_int_equal(symlink("b", tpath("link-dir")), 0);
    assert_int_equal(symlink("nowhere", tpath("link-dangling")), 0);
    assert_int_equal(mkfifo(tpath("fifo"), 0644), 0);
    mk_file(".hidden.txt", 2);
    mk_dir(".hdir");
    mk_file(".hdir/inner.txt", 2);
    mk_file("Thumbs.db", 7);
    mk_file("thumbs.DB", 7);
    mk_file(".DS_Store", 7);
    mk_file("Icon\r", 0);
    mk_file("ehthumbs.db", 1);
    mk_dir("Thumbs.db.d");
}

static void test_walk_verdicts(void **state)
{
    (void)state;
    build_tree();
    /* A socket too. */
    int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(sfd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", tmp_root);
    assert_int_equal(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)), 0);

    struct seen s = {0};
    struct scan_totals t;
    struct scan_options opt = {0};
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    close(sfd);

    expect(&s, "a.txt", SCAN_FILE, SCAN_OK);
    expect(&s, "b", SCAN_FOLDER, SCAN_OK);
    expect(&s, "b/c.txt", SCAN_FILE, SCAN_OK);
    expect(&s, "empty.txt", SCAN_FILE, SCAN_WARN_EMPTY);
    expect(&s, "bad:name.txt", SCAN_FILE, SCAN_FAIL_INVALID_CHARS);
    expect(&s, " lead.txt", SCAN_FILE, SCAN_FAIL_SPACES);
    expect(&s, "trail.txt ", SCAN_FILE, SCAN_FAIL_SPACES);
    expect(&s, "CON", SCAN_FILE, SCAN_FAIL_RESERVED);
    expect(&s, "~$lock.docx", SCAN_FILE, SCAN_FAIL_RESERVED);
    expect(&s, "x_vti_y", SCAN_FILE, SCAN_FAIL_RESERVED);
    expect(&s, "desktop.ini", SCAN_FILE, SCAN_FAIL_RESERVED);
    expect(&s, ".lock", SCAN_FILE, SCAN_FAIL_RESERVED);
    expect(&s, "bad|dir", SCAN_FOLDER, SCAN_FAIL_INVALID_CHARS);
    expect(&s, "bad|dir/x.txt", SCAN_FILE, SCAN_FAIL_PARENT);
    expect(&s, "bad|dir/sub", SCAN_FOLDER, SCAN_FAIL_PARENT);
    expect(&s, "bad|dir/sub/y.txt", SCAN_FILE, SCAN_FAIL_PARENT);
    expect(&s, "LPT1", SCAN_FOLDER, SCAN_FAIL_RESERVED);
    expect(&s, "LPT1/z.txt", SCAN_FILE, SCAN_FAIL_PARENT);
    expect(&s, "link-file", SCAN_FILE, SCAN_FAIL_SYMLINK);
    expect(&s, "link-dir", SCAN_FILE, SCAN_FAIL_SYMLINK);
    expect(&s, "link-dangling", SCAN_FILE, SCAN_FAIL_SYMLINK);
    expect(&s, "fifo", SCAN_FILE, SCAN_FAIL_SPECIAL);
    expect(&s, "sock", SCAN_FILE, SCAN_FAIL_SPECIAL);
    expect(&s, ".hidden.txt", SCAN_FILE, SCAN_OK);
    expect(&s, ".hdir", SCAN_FOLDER, SCAN_OK);
    expect(&s, ".hdir/inner.txt", SCAN_FILE, SCAN_OK);
    expect(&s, "Thumbs.db", SCAN_FILE, SCAN_FILTERED_SYSTEM);
    expect(&s, "thumbs.DB", SCAN_FILE, SCAN_FILTERED_SYSTEM);
    expect(&s, ".DS_Store", SCAN_FILE, SCAN_FILTERED_SYSTEM);
    expect(&s, "Icon\r", SCAN_FILE, SCAN_FILTERED_SYSTEM);
    expect(&s, "ehthumbs.db", SCAN_FILE, SCAN_FILTERED_SYSTEM);
    expect(&s, "Thumbs.db.d", SCAN_FOLDER, SCAN_OK);
    /* Links are not followed: nothing under link-dir. */
    for (int i = 0; i < s.n; i++)
        assert_true(strncmp(s.r[i].rel, "link-dir/", 9) != 0);

    /* Sizes: files their own (also under a failed folder), folders, links, FIFOs 0. */
    assert_int_equal(find(&s, "a.txt")->size, 3);
    assert_int_equal(find(&s, "bad|dir/sub/y.txt")->size, 6);
    assert_int_equal(find(&s, "b")->size, 0);
    assert_int_equal(find(&s, "link-file")->size, 0);
    assert_int_equal(find(&s, "fifo")->size, 0);
    /* Depths and names. */
    assert_int_equal(find(&s, "a.txt")->depth, 1);
    assert_int_equal(find(&s, "bad|dir/sub")->depth, 2);
    assert_int_equal(find(&s, "bad|dir/sub/y.txt")->depth, 3);
    assert_string_equal(find(&s, "bad|dir/sub/y.txt")->name, "y.txt");
    assert_int_equal(find(&s, "a.txt")->uid, (uint32_t)geteuid());

    /* Totals. Files: every non-folder entry; folders: b, bad|dir, bad|dir/sub, LPT1, .hdir,
     * Thumbs.db.d. */
    assert_int_equal(t.folders, 6);
    assert_int_equal(t.files, (uint64_t)s.n - 6);
    assert_int_equal(t.files, 26);
    assert_int_equal(t.folders_to_migrate, 3); /* b, .hdir, Thumbs.db.d */
    /* a.txt b/c.txt empty.txt .hidden.txt .hdir/inner.txt */
    assert_int_equal(t.files_to_migrate, 5);
    assert_int_equal(t.bytes_to_migrate, 3 + 5 + 0 + 2 + 2);
    assert_int_equal(t.folders_failed, 3); /* bad|dir, bad|dir/sub, LPT1 */
    /* 8 name failures + 3 under failed folders + 3 links + FIFO + socket */
    assert_int_equal(t.files_failed, 16);
    assert_int_equal(t.filtered, 5);
    assert_int_equal(t.warnings, 1);
    uint64_t bytes = 0;
    for (int i = 0; i < s.n; i++)
        bytes += (uint64_t)s.r[i].size;
    assert_int_equal(t.bytes, bytes);
    assert_int_equal(t.bytes, 3 + 5 + 0 + 1 * 8 + 4 + 6 + 2 + 2 + 2 + 7 * 3 + 0 + 1);
    assert_int_equal(t.max_path, strlen("bad|dir/sub/y.txt"));
    assert_int_equal(t.files_to_migrate + t.folders_to_migrate + t.files_failed + t.folders_failed +
                         t.filtered,
                     t.files + t.folders);
    seen_free(&s);
}

static void test_skip_hidden(void **state)
{
    (void)state;
    build_tree();
    struct seen s = {0};
    struct scan_totals t;
    struct scan_options opt = {.skip_hidden = true};
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, ".hidden.txt", SCAN_FILE, SCAN_FILTERED_HIDDEN);
    expect(&s, ".hdir", SCAN_FOLDER, SCAN_FILTERED_HIDDEN);
    /* A filtered folder is not walked. */
    assert_null(find(&s, ".hdir/inner.txt"));
    /* The system filter comes first; the hidden filter before the reserved names. */
    expect(&s, ".DS_Store", SCAN_FILE, SCAN_FILTERED_SYSTEM);
    expect(&s, ".lock", SCAN_FILE, SCAN_FILTERED_HIDDEN);
    assert_int_equal(t.filtered, 8);
    assert_int_equal(t.folders_to_migrate, 2);
    assert_int_equal(t.files_to_migrate, 3);
    /* Without totals and without options. */
    seen_free(&s);
    assert_int_equal(scan_walk(tmp_root, NULL, collect, &s, NULL), 0);
    expect(&s, ".hdir/inner.txt", SCAN_FILE, SCAN_OK);
    seen_free(&s);
}

/* Sets a file's modification time (and access time) to the given day, UTC midnight. */
static void set_mtime(const char *rel, int64_t ms)
{
    struct timespec ts[2] = {{ms / 1000, 0}, {ms / 1000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, tpath(rel), ts, 0), 0);
}

#define DAY_MS (86400LL * 1000)

/* The settings' filters, each alone and together: extensions (last one only, any case),
 * modified and created cut-offs (files only), invalid characters filtered or replaced. */
static void test_settings_filters(void **state)
{
    (void)state;
    mk_file("a.TXT", 1);
    mk_file("b.tar.gz", 2);
    mk_file("c.gz.tar", 3);
    mk_file(".gz", 1);
    mk_file("noext", 1);
    mk_file("old.doc", 4);
    mk_dir("dir.txt");
    mk_file("dir.txt/in.doc", 5);
    mk_file("q?.doc", 6);
    mk_dir("bad|dir");
    mk_file("bad|dir/x.doc", 7);
    mk_file("ends?.txt ", 1);
    int64_t jan2020 = 1577836800000LL;
    set_mtime("old.doc", jan2020);
    struct seen s = {0};
    struct scan_totals t;

    /* Extensions: ":" separated, no dot, any case; a folder is never filtered by it. */
    struct scan_options opt = {.skip_extensions = "txt:GZ"};
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, "a.TXT", SCAN_FILE, SCAN_FILTERED_EXTENSION);
    expect(&s, "b.tar.gz", SCAN_FILE, SCAN_FILTERED_EXTENSION);
    expect(&s, "c.gz.tar", SCAN_FILE, SCAN_OK);
    expect(&s, ".gz", SCAN_FILE, SCAN_OK); /* a dot opening the name is no extension */
    expect(&s, "noext", SCAN_FILE, SCAN_OK);
    expect(&s, "dir.txt", SCAN_FOLDER, SCAN_OK);
    expect(&s, "q?.doc", SCAN_FILE, SCAN_FAIL_INVALID_CHARS);
    assert_int_equal(t.filtered, 2);
    seen_free(&s);

    /* Modified after: older files are filtered out, folders are not. */
    opt = (struct scan_options){.modified_after_ms = jan2020 + DAY_MS};
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, "old.doc", SCAN_FILE, SCAN_FILTERED_MODIFIED);
    expect(&s, "a.TXT", SCAN_FILE, SCAN_OK);
    assert_int_equal(t.filtered, 1);
    seen_free(&s);
    opt.modified_after_ms = jan2020;
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, "old.doc", SCAN_FILE, SCAN_OK); /* on the day itself: kept */
    seen_free(&s);

    /* Created after: a date to come filters every file and no folder. */
    opt = (struct scan_options){.created_after_ms = 4102444800000LL}; /* 2100-01-01 */
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, "a.TXT", SCAN_FILE, SCAN_FILTERED_CREATED);
    expect(&s, "dir.txt", SCAN_FOLDER, SCAN_OK);
    expect(&s, "dir.txt/in.doc", SCAN_FILE, SCAN_FILTERED_CREATED);
    assert_int_equal(t.files_to_migrate, 0);
    seen_free(&s);
    opt.created_after_ms = jan2020;
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, "a.TXT", SCAN_FILE, SCAN_OK);
    seen_free(&s);

    /* Invalid characters off: filtered out, and a filtered folder is not walked. */
    opt = (struct scan_options){.skip_invalid_chars = true};
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, "q?.doc", SCAN_FILE, SCAN_FILTERED_INVALID_CHARS);
    expect(&s, "bad|dir", SCAN_FOLDER, SCAN_FILTERED_INVALID_CHARS);
    assert_null(find(&s, "bad|dir/x.doc"));
    expect(&s, "ends?.txt ", SCAN_FILE, SCAN_FILTERED_INVALID_CHARS);
    assert_int_equal(t.files_failed + t.folders_failed, 0);
    seen_free(&s);

    /* Replaced: the destination name changes, the source path does not, and the replaced
     * name is judged again (a trailing space still fails). */
    opt = (struct scan_options){.replace_char = '_', .skip_invalid_chars = true};
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, "q?.doc", SCAN_FILE, SCAN_OK);
    assert_string_equal(find(&s, "q?.doc")->dest, "q_.doc");
    expect(&s, "bad|dir", SCAN_FOLDER, SCAN_OK);
    expect(&s, "bad|dir/x.doc", SCAN_FILE, SCAN_OK);
    assert_string_equal(find(&s, "bad|dir/x.doc")->dest, "bad_dir/x.doc");
    assert_string_equal(find(&s, "a.TXT")->dest, "a.TXT");
    expect(&s, "ends?.txt ", SCAN_FILE, SCAN_FAIL_SPACES);
    seen_free(&s);

    /* Together (AND-combined): each entry gets the first filter that matches. */
    opt = (struct scan_options){.skip_extensions = "doc",
                                .modified_after_ms = jan2020 + DAY_MS,
                                .skip_invalid_chars = true};
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, "old.doc", SCAN_FILE, SCAN_FILTERED_EXTENSION);
    expect(&s, "q?.doc", SCAN_FILE, SCAN_FILTERED_EXTENSION);
    expect(&s, "bad|dir", SCAN_FOLDER, SCAN_FILTERED_INVALID_CHARS);
    expect(&s, "b.tar.gz", SCAN_FILE, SCAN_OK);
    seen_free(&s);
}

static void test_extension_rules(void **state)
{
    (void)state;
    assert_string_equal(scan_extension("a.b.TXT"), ".TXT");
    assert_string_equal(scan_extension(".bashrc"), "");
    assert_string_equal(scan_extension("x."), "");
    assert_true(scan_extension_listed("a.b.TXT", "doc:txt"));
    assert_false(scan_extension_listed("a.txt.b", "doc:txt"));
    assert_false(scan_extension_listed("a.tx", "txt"));
    assert_false(scan_extension_listed("a.txt", ""));
    assert_false(scan_extension_listed("a.txt", "::"));
    assert_true(scan_extension_listed("a.txt", "::txt:"));
    assert_false(scan_extension_listed("noext", "txt"));
}

static void test_walk_order(void **state)
{
    (void)state;
    mk_dir("a");
    mk_file("a/x", 1);
    mk_dir("a/y");
    mk_file("a/y/z", 1);
    mk_file("a.txt", 1);
    mk_file("ab", 1);
    mk_file("B", 1);
    mk_file("\xc3\xa9", 1); /* é: bytes above ASCII sort last */
    mk_file("_", 1);
    struct seen s = {0};
    assert_int_equal(scan_walk(tmp_root, NULL, collect, &s, NULL), 0);
    /* Per-folder byte order, preorder: "a.txt" comes after a's contents even though
     * "a.txt" < "a/x" as whole strings. */
    const char *want[] = {"B", "_", "a", "a/x", "a/y", "a/y/z", "a.txt", "ab", "\xc3\xa9"};
    assert_int_equal(s.n, 9);
    for (int i = 0; i < 9; i++)
        assert_string_equal(s.r[i].rel, want[i]);
    seen_free(&s);
}

/* A folder chain whose names are n1, n2, ... characters of c, and a file of nf characters. */
static void mk_long(char *rel, size_t cap, const char *c, const size_t *n, int parts)
{
    rel[0] = '\0';
    for (int p = 0; p < parts; p++) {
        if (p)
            strncat(rel, "/", cap - strlen(rel) - 1);
        for (size_t i = 0; i < n[p]; i++)
            strncat(rel, c, cap - strlen(rel) - 1);
    }
}

static void test_long_paths(void **state)
{
    (void)state;
    char ok[1024], bad[1024], dir[512];
    /* Without a prefix: 200 + 1 + 199 = 400 characters is fine, 401 is not. */
    mk_long(dir, sizeof(dir), "a", (size_t[]){200}, 1);
    mk_dir(dir);
    mk_long(ok, sizeof(ok), "a", (size_t[]){200, 199}, 2);
    ok[201] = 'b', ok[202] = 'b';
    mk_file(ok, 1);
    mk_long(bad, sizeof(bad), "a", (size_t[]){200, 200}, 2);
    bad[201] = 'c';
    mk_file(bad, 1);
    /* Characters, not bytes: 120 'é' + 1 + 120 'é' + 1 + 158 = 400. */
    char edir[512], eok[1024], ebad[1024];
    mk_long(edir, sizeof(edir), "\xc3\xa9", (size_t[]){120, 120}, 2);
    mk_long(dir, sizeof(dir), "\xc3\xa9", (size_t[]){120}, 1);
    mk_dir(dir);
    mk_dir(edir);
    snprintf(eok, sizeof(eok), "%s/", edir);
    snprintf(ebad, sizeof(ebad), "%s/", edir);
    for (int i = 0; i < 158; i++)
        strcat(eok, "o");
    for (int i = 0; i < 159; i++)
        strcat(ebad, "x");
    mk_file(eok, 1);
    mk_file(ebad, 1);

    struct seen s = {0};
    struct scan_totals t;
    assert_int_equal(scan_walk(tmp_root, NULL, collect, &s, &t), 0);
    expect(&s, ok, SCAN_FILE, SCAN_OK);
    expect(&s, bad, SCAN_FILE, SCAN_FAIL_PATH_TOO_LONG);
    expect(&s, eok, SCAN_FILE, SCAN_OK);
    expect(&s, ebad, SCAN_FILE, SCAN_FAIL_PATH_TOO_LONG);
    assert_int_equal(t.max_path, 401);
    seen_free(&s);

    /* With a prefix of 26 characters plus its '/', 400 - 27 = 373 are left: the 400-character
     * paths now fail, and so does a 200-character folder under a long enough prefix. */
    const char *prefix = "/sites/hr/Shared Documents";
    struct scan_options opt = {.dest_prefix = prefix};
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, ok, SCAN_FILE, SCAN_FAIL_PATH_TOO_LONG);
    assert_int_equal(t.max_path, 401 + 27);
    seen_free(&s);

    mk_long(ok, sizeof(ok), "a", (size_t[]){200, 172}, 2);
    ok[201] = 'd';
    mk_file(ok, 1);
    mk_long(bad, sizeof(bad), "a", (size_t[]){200, 173}, 2);
    bad[201] = 'd';
    mk_file(bad, 1);
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, ok, SCAN_FILE, SCAN_OK);
    expect(&s, bad, SCAN_FILE, SCAN_FAIL_PATH_TOO_LONG);
    seen_free(&s);
    /* A trailing '/' on the prefix is not counted twice. */
    opt.dest_prefix = "/sites/hr/Shared Documents/";
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, ok, SCAN_FILE, SCAN_OK);
    seen_free(&s);
    /* An empty prefix is none. */
    opt.dest_prefix = "";
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    assert_int_equal(t.max_path, 401);
    seen_free(&s);

    /* A folder over the limit fails; what is under it fails with SCAN_FAIL_PARENT. */
    char longprefix[400];
    memset(longprefix, 'p', 300);
    longprefix[0] = '/';
    longprefix[300] = '\0';
    opt.dest_prefix = longprefix;
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    mk_long(dir, sizeof(dir), "a", (size_t[]){200}, 1);
    expect(&s, dir, SCAN_FOLDER, SCAN_FAIL_PATH_TOO_LONG);
    expect(&s, ok, SCAN_FILE, SCAN_FAIL_PARENT);
    seen_free(&s);
}

/* Paths are counted in UTF-16 units, as the import counts them: a character outside the BMP
 * is two. Components stay under ext4's 255 bytes: 63 emoji are 252 bytes and 126 units. */
#define EMOJI "\xf0\x9f\x98\x80"
static void test_long_paths_utf16(void **state)
{
    (void)state;
    /* ok and bad have room for dir and a name of 40 bytes, so no snprintf can cut them. */
    char dir[1024], ok[1024 + 64], bad[1024 + 64];
    /* 126 + 1 + 126 + 1 + 126 = 380 units of folders, then "/" and a file of 19 or 20. */
    mk_long(dir, sizeof(dir), EMOJI, (size_t[]){63}, 1);
    mk_dir(dir);
    mk_long(dir, sizeof(dir), EMOJI, (size_t[]){63, 63}, 2);
    mk_dir(dir);
    mk_long(dir, sizeof(dir), EMOJI, (size_t[]){63, 63, 63}, 3);
    mk_dir(dir);
    snprintf(ok, sizeof(ok), "%s/%s", dir,
             EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI "o"); /* 19 units */
    snprintf(bad, sizeof(bad), "%s/%s", dir,
             EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI "xx"); /* 20 units */
    mk_file(ok, 1);
    mk_file(bad, 1);

    struct seen s = {0};
    struct scan_totals t;
    assert_int_equal(scan_walk(tmp_root, NULL, collect, &s, &t), 0);
    expect(&s, dir, SCAN_FOLDER, SCAN_OK);
    expect(&s, ok, SCAN_FILE, SCAN_OK);                  /* 400 units, 200 code points */
    expect(&s, bad, SCAN_FILE, SCAN_FAIL_PATH_TOO_LONG); /* 401 units, 202 code points */
    assert_int_equal(t.max_path, 401);
    seen_free(&s);
    /* Under "/Shared Documents" (17 units and a '/') the folders alone are 398 units: the
     * third folder fits, the files do not. */
    struct scan_options opt = {.dest_prefix = "/Shared Documents"};
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, dir, SCAN_FOLDER, SCAN_OK);
    expect(&s, ok, SCAN_FILE, SCAN_FAIL_PATH_TOO_LONG);
    assert_int_equal(t.max_path, 401 + 18);
    seen_free(&s);
    /* A prefix outside the BMP counts two a character as well: 1 + 2 + 1 + 380 = 384. */
    opt.dest_prefix = "/" EMOJI;
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, dir, SCAN_FOLDER, SCAN_OK);
    assert_int_equal(t.max_path, 401 + 4);
    seen_free(&s);
}

/* The folder-only rules: "forms" only at the library root (not under --folder), a leading
 * '~' and thicket endings anywhere; files with those names are fine. CON.txt and a trailing
 * dot migrate; DEL fails. */
static void test_folder_rules(void **state)
{
    (void)state;
    mk_dir("forms");
    mk_file("forms/x.txt", 1);
    mk_dir("ok");
    mk_dir("ok/forms");
    mk_dir("ok/Page_files");
    mk_dir("ok/Seite-Dateien");
    mk_dir("Page_files");
    mk_file("Page_files.txt", 1);
    mk_dir("~drafts");
    mk_file("~notes.txt", 1);
    mk_file("ok/Forms", 1);
    mk_file("CON.txt", 1);
    mk_file("con.tar.gz", 1);
    mk_file("name.", 1);
    mk_file("del\x7f.txt", 1);

    struct seen s = {0};
    struct scan_totals t;
    struct scan_options opt = {.dest_prefix = "/Shared Documents"};
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, "forms", SCAN_FOLDER, SCAN_FAIL_FOLDER_NAME);
    expect(&s, "forms/x.txt", SCAN_FILE, SCAN_FAIL_PARENT);
    expect(&s, "ok", SCAN_FOLDER, SCAN_OK);
    expect(&s, "ok/forms", SCAN_FOLDER, SCAN_OK);
    expect(&s, "ok/Page_files", SCAN_FOLDER, SCAN_FAIL_FOLDER_NAME);
    expect(&s, "ok/Seite-Dateien", SCAN_FOLDER, SCAN_FAIL_FOLDER_NAME);
    expect(&s, "Page_files", SCAN_FOLDER, SCAN_FAIL_FOLDER_NAME);
    expect(&s, "Page_files.txt", SCAN_FILE, SCAN_OK);
    expect(&s, "~drafts", SCAN_FOLDER, SCAN_FAIL_FOLDER_NAME);
    expect(&s, "~notes.txt", SCAN_FILE, SCAN_OK);
    expect(&s, "ok/Forms", SCAN_FILE, SCAN_OK);
    expect(&s, "CON.txt", SCAN_FILE, SCAN_OK);
    expect(&s, "con.tar.gz", SCAN_FILE, SCAN_OK);
    expect(&s, "name.", SCAN_FILE, SCAN_OK);
    expect(&s, "del\x7f.txt", SCAN_FILE, SCAN_FAIL_INVALID_CHARS);
    assert_int_equal(t.folders_failed, 5);
    assert_string_equal(scan_error_code_kind(SCAN_FAIL_FOLDER_NAME, SCAN_FOLDER), "0x01110010");
    seen_free(&s);
    /* Into a folder below the root (--folder): the top "forms" is no longer at the root. */
    opt.in_folder = true;
    assert_int_equal(scan_walk(tmp_root, &opt, collect, &s, &t), 0);
    expect(&s, "forms", SCAN_FOLDER, SCAN_OK);
    expect(&s, "forms/x.txt", SCAN_FILE, SCAN_OK);
    expect(&s, "Page_files", SCAN_FOLDER, SCAN_FAIL_FOLDER_NAME);
    expect(&s, "~drafts", SCAN_FOLDER, SCAN_FAIL_FOLDER_NAME);
    seen_free(&s);
}

static void test_sizes(void **state)
{
    (void)state;
    /* Sparse files at the cap and one byte over (skipped where the file system can't). */
    int fd = open(tpath("at-cap.bin"), O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    if (ftruncate(fd, SCAN_MAX_FILE_SIZE) != 0) {
        close(fd);
        skip();
    }
    close(fd);
    fd = open(tpath("over-cap.bin"), O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, SCAN_MAX_FILE_SIZE + 1), 0);
    close(fd);
    struct seen s = {0};
    struct scan_totals t;
    assert_int_equal(scan_walk(tmp_root, NULL, collect, &s, &t), 0);
    expect(&s, "at-cap.bin", SCAN_FILE, SCAN_OK);
    expect(&s, "over-cap.bin", SCAN_FILE, SCAN_FAIL_TOO_LARGE);
    assert_int_equal(find(&s, "over-cap.bin")->size, SCAN_MAX_FILE_SIZE + 1);
    assert_int_equal(t.bytes, 2 * (uint64_t)SCAN_MAX_FILE_SIZE + 1);
    assert_int_equal(t.bytes_to_migrate, (uint64_t)SCAN_MAX_FILE_SIZE);
    seen_free(&s);
}

static void test_times(void **state)
{
    (void)state;
    mk_file("old.txt", 1);
    /* mtime in 2001: earlier than any birth or change time the file has. */
    struct timespec ts[2] = {{1000000000, 123456789}, {1000000000, 123456789}};
    assert_int_equal(utimensat(AT_FDCWD, tpath("old.txt"), ts, 0), 0);
    struct statx sx;
    int have_btime =
        statx(AT_FDCWD, tpath("old.txt"), 0, STATX_BTIME, &sx) == 0 && (sx.stx_mask & STATX_BTIME);
    struct seen s = {0};
    assert_int_equal(scan_walk(tmp_root, NULL, collect, &s, NULL), 0);
    const struct rec *r = find(&s, "old.txt");
    assert_non_null(r);
    assert_int_equal(r->mtime_ns, 1000000000123456789LL);
    if (have_btime)
        assert_int_equal(r->ctime_ns,
                         (int64_t)sx.stx_btime.tv_sec * 1000000000 + sx.stx_btime.tv_nsec);
    else
        assert_int_equal(r->ctime_ns, r->mtime_ns); /* the earliest of mtime and ctime */
    seen_free(&s);
}

static void test_stop(void **state)
{
    (void)state;
    mk_dir("a");
    mk_file("a/1", 1);
    mk_file("a/2", 1);
    mk_file("b", 1);
    struct seen s = {.stop_at = 2, .stop_rc = 7};
    struct scan_totals t;
    assert_int_equal(scan_walk(tmp_root, NULL, collect, &s, &t), 7);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.r[1].rel, "a/1");
    /* Totals count what was seen. */
    assert_int_equal(t.files + t.folders, 2);
    seen_free(&s);
    s = (struct seen){.stop_at = 4, .stop_rc = -5};
    assert_int_equal(scan_walk(tmp_root, NULL, collect, &s, NULL), -5);
    assert_int_equal(s.n, 4);
    seen_free(&s);
}

static void test_root(void **state)
{
    (void)state;
    mk_dir("real");
    mk_file("real/f", 1);
    mk_file("file", 1);
    assert_int_equal(symlink("real", tpath("via-link")), 0);
    struct seen s = {0};
    char root[4096];
    snprintf(root, sizeof(root), "%s/via-link", tmp_root);
    /* The root itself may be a link to a folder. */
    assert_int_equal(scan_walk(root, NULL, collect, &s, NULL), 0);
    assert_int_equal(s.n, 1);
    expect(&s, "f", SCAN_FILE, SCAN_OK);
    seen_free(&s);
    snprintf(root, sizeof(root), "%s/missing", tmp_root);
    errno = 0;
    assert_int_equal(scan_walk(root, NULL, collect, &s, NULL), -1);
    assert_int_equal(errno, ENOENT);
    snprintf(root, sizeof(root), "%s/file", tmp_root);
    errno = 0;
    assert_int_equal(scan_walk(root, NULL, collect, &s, NULL), -1);
    assert_int_equal(errno, ENOTDIR);
    assert_int_equal(s.n, 0);
    /* An empty folder: nothing reported, totals zero. */
    struct scan_totals t;
    memset(&t, 0xff, sizeof(t));
    snprintf(root, sizeof(root), "%s/real", tmp_root);
    unlink(tpath("real/f"));
    assert_int_equal(scan_walk(root, NULL, collect, &s, &t), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(t.files + t.folders + t.bytes + t.max_path, 0);
}

/*
 * Unreadable entries. Root reads everything whatever the mode bits say, so the scan runs in a
 * child process that, when it is root, becomes nobody (65534) first; the child sends what it
 * saw back as "verdict kind rel" lines.
 */
static void test_unreadable(void **state)
{
    (void)state;
    mk_file("secret.txt", 3);
    mk_file("open.txt", 3);
    mk_dir("locked");
    mk_file("locked/inside.txt", 1);
    mk_dir("noexec"); /* listable, but its entries can't be stat'ed */
    mk_file("noexec/inside.txt", 1);
    mk_dir("nolist"); /* searchable, not listable */
    mk_file("nolist/inside.txt", 1);
    mk_dir("bad:locked"); /* a name failure is kept over the access failure */
    assert_int_equal(chmod(tpath("secret.txt"), 0), 0);
    assert_int_equal(chmod(tpath("locked"), 0), 0);
    assert_int_equal(chmod(tpath("noexec"), 0644), 0);
    assert_int_equal(chmod(tpath("nolist"), 0311), 0);
    assert_int_equal(chmod(tpath("bad:locked"), 0), 0);
    assert_int_equal(chmod(tmp_root, 0755), 0);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0))
            _exit(77);
        struct seen s = {0};
        if (scan_walk(tmp_root, NULL, collect, &s, NULL) != 0)
            _exit(1);
        FILE *out = fdopen(fds[1], "w");
        for (int i = 0; i < s.n; i++)
            fprintf(out, "%d %d %s\n", s.r[i].v, s.r[i].kind, s.r[i].rel);
        fclose(out);
        _exit(0);
    }
    close(fds[1]);
    struct seen s = {0};
    FILE *in = fdopen(fds[0], "r");
    char line[512];
    while (fgets(line, sizeof(line), in)) {
        int v, kind, off = 0;
        line[strcspn(line, "\n")] = '\0';
        assert_int_equal(sscanf(line, "%d %d %n", &v, &kind, &off), 2);
        struct rec *r = &s.r[s.n++];
        *r = (struct rec){.rel = strdup(line + off), .name = strdup(""), .v = v, .kind = kind};
    }
    fclose(in);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        seen_free(&s);
        skip(); /* root without the right to become nobody */
    }
    assert_int_equal(WEXITSTATUS(status), 0);
    expect(&s, "secret.txt", SCAN_FILE, SCAN_FAIL_UNREADABLE);
    expect(&s, "open.txt", SCAN_FILE, SCAN_OK);
    expect(&s, "locked", SCAN_FOLDER, SCAN_FAIL_UNREADABLE);
    assert_null(find(&s, "locked/inside.txt"));
    expect(&s, "noexec", SCAN_FOLDER, SCAN_FAIL_UNREADABLE);
    assert_null(find(&s, "noexec/inside.txt"));
    expect(&s, "nolist", SCAN_FOLDER, SCAN_FAIL_UNREADABLE);
    assert_null(find(&s, "nolist/inside.txt"));
    expect(&s, "bad:locked", SCAN_FOLDER, SCAN_FAIL_INVALID_CHARS);
    assert_int_equal(s.n, 6);
    seen_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_name),
        cmocka_unit_test(test_codes_and_messages),
        cmocka_unit_test_setup_teardown(test_walk_verdicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skip_hidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_paths_utf16, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings_filters, setup, teardown),
        cmocka_unit_test(test_extension_rules),
        cmocka_unit_test_setup_teardown(test_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
