/*
 * mm_bulk.c: the bulk task files (CSV and JSON) of mm_bulk.h: a CSV record reader over the
 * whole buffer (quotes, CRLF, BOM, no bytes copied until a field is kept), the JSON walk,
 * field checks with Migration Manager's wording, and the duplicate check by sorting. It
 * stores nothing: mm_api inserts the rows when no problem was found.
 */
#include "mm_bulk.h"
#include "json_in.h"
#include "mm_json.h"
#include "spmig_limits.h"
#include "strbuf.h"
#include "xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSV_COLUMNS 6

void mm_bulk_init(struct mm_bulk *b)
{
    memset(b, 0, sizeof *b);
    b->problems = cJSON_CreateArray();
}

void mm_bulk_finish(struct mm_bulk *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct mm_bulk_row *r = &b->rows[i];
        free(r->source);
        free(r->site);
        free(r->library);
        free(r->folder);
        cJSON_Delete(r->settings);
    }
    free(b->rows);
    cJSON_Delete(b->problems);
    memset(b, 0, sizeof *b);
}

static void problem(struct mm_bulk *b, int task, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(struct mm_bulk *b, int task, int column, const char *fmt, ...)
{
    b->nproblems++;
    if (b->nproblems > LIMIT_MM_BULK_PROBLEMS)
        return;
    char text[300], msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (task <= 0)
        snprintf(msg, sizeof msg, "%s", text);
    else if (column > 0)
        snprintf(msg, sizeof msg, "Task %d, parameter %d. %s", task, column, text);
    else
        snprintf(msg, sizeof msg, "Task %d. %s", task, text);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "task", task);
    cJSON_AddNumberToObject(o, "column", column);
    cJSON_AddStringToObject(o, "message", msg);
    cJSON_AddItemToArray(b->problems, o);
}

static bool utf8_ok(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80             ? 0
                   : (c & 0xe0) == 0xc0 ? 1
                   : (c & 0xf0) == 0xe0 ? 2
                   : (c & 0xf8) == 0xf0 ? 3
                                        : 9;
        if (k == 9 || (k == 1 && c < 0xc2) || i + k >= n + (k ? 0 : 1))
            return false;
        if (c == 0 || (c < 0x20 && c != '\t'))
            return false;
        for (size_t j = 1; j <= k; j++)
            if (((unsigned char)s[i + j] & 0xc0) != 0x80)
                return false;
        i += k + 1;
    }
    return true;
}

bool mm_bulk_source_ok(const char *s)
{
    if (s[0] == '\\' && s[1] == '\\')
        return s[2] && s[2] != '\\';
    if (s[0] == '/')
        return s[1] != '/' || s[2] != '/';
    return ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') && s[1] == ':' &&
           (s[2] == '\\' || s[2] == '/');
}

char *mm_bulk_site_path(const char *url)
{
    const char *p = url;
    if (!strncasecmp(p, "https://", 8) || !strncasecmp(p, "http://", 7)) {
        p = strchr(p + (p[4] == ':' ? 7 : 8), '/');
        if (!p)
            return xstrdup("/");
    }
    if (p[0] != '/' || strpbrk(p, "?#\\ \t") || strstr(p, "//"))
        return NULL;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    return xstrndup(p, n);
}

/* Trims the slashes around a folder path. */
static char *folder_path(const char *s)
{
    while (*s == '/' || *s == '\\')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == '/' || s[n - 1] == '\\'))
        n--;
    return xstrndup(s, n);
}

/* Checks one task's fields (NULL: absent) and adds its row when all are good. column numbers
 * are the CSV's (source 1, site 4, library 5, folder 6). */
static void add_row(struct mm_bulk *b, int task, const char *source, const char *site,
                    const char *library, const char *folder, cJSON *settings)
{
    size_t before = b->nproblems;
    if (!source || !*source)
        problem(b, task, 1, "The source path should not be empty");
    else if (strlen(source) > LIMIT_MM_NAME)
        problem(b, task, 1, "The source path should not be longer than %d characters",
                LIMIT_MM_NAME);
    else if (!mm_bulk_source_ok(source))
        problem(b, task, 1, "The source path is invalid: use \\\\server\\share\\folder");
    char *path = NULL;
    if (!site || !*site)
        problem(b, task, 4, "The target site URL should not be empty");
    else if (strlen(site) > LIMIT_MM_PATH || !(path = mm_bulk_site_path(site)))
        problem(b, task, 4, "The target site URL is invalid");
    if (!library || !*library)
        problem(b, task, 5, "The target list should not be empty");
    else if (strlen(library) > LIMIT_MM_NAME)
        problem(b, task, 5, "The target list should not be longer than %d characters",
                LIMIT_MM_NAME);
    if (folder && strlen(folder) > LIMIT_SP_PATH_UNITS)
        problem(b, task, 6, "The target folder should not be longer than %d characters",
                LIMIT_SP_PATH_UNITS);
    if (b->nproblems != before) {
        free(path);
        cJSON_Delete(settings);
        return;
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->rows = xrealloc(b->rows, b->cap * sizeof *b->rows);
    }
    struct mm_bulk_row *r = &b->rows[b->n++];
    r->task = task;
    r->source = xstrdup(source);
    r->site = path;
    r->library = xstrdup(library);
    r->folder = folder_path(folder ? folder : "");
    r->settings = settings;
}

/* ---- CSV ---- */

struct csv {
    const char *p, *end;
    int line; /* the line the cursor is on, from 1 */
};

/* Reads one record into fields (at most max, each a new string; *nf gets the count even past
 * max). Returns 1 for a record, 0 at the end, -1 for an unclosed quote. */
static int csv_record(struct csv *c, char **fields, int max, int *nf)
{
    if (c->p >= c->end)
        return 0;
    *nf = 0;
    struct strbuf f;
    for (;;) {
        strbuf_init(&f, 0);
        strbuf_append(&f, "", 0);
        if (c->p < c->end && *c->p == '"') {
            c->p++;
            for (;;) {
                if (c->p >= c->end) {
                    strbuf_finish(&f);
                    return -1;
                }
                if (*c->p == '"') {
                    if (c->p + 1 < c->end && c->p[1] == '"') {
                        strbuf_append(&f, "\"", 1);
                        c->p += 2;
                        continue;
                    }
                    c->p++;
                    break;
                }
                if (*c->p == '\n')
                    c->line++;
                strbuf_append(&f, c->p, 1);
                c->p++;
            }
            /* Text after the closing quote is kept, as spreadsheets do. */
        }
        const char *s = c->p;
        while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
            c->p++;
        strbuf_append(&f, s, (size_t)(c->p - s));
        if (*nf < max)
            fields[*nf] = strbuf_steal(&f);
        else
            strbuf_finish(&f);
        (*nf)++;
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == '\r')
            c->p++;
        if (c->p < c->end && *c->p == '\n')
            c->p++;
        c->line++;
        return 1;
    }
}

static bool is_header(char **fields, int nf)
{
    static const char *names[] = {"FileSharePath", "Source", "SourcePath", "Source Path",
                                  "Source path"};
    if (nf < 1)
        return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(fields[0], names[i]))
            return true;
    return false;
}

static void parse_csv(struct mm_bulk *b, const char *data, size_t n)
{
    const char *nul = memchr(data, '\0', n);
    if (nul) {
        int line = 1;
        for (const char *q = data; q < nul; q++)
            line += *q == '\n';
        problem(b, line, 0, "The task holds a NUL byte");
        return;
    }
    struct csv c = {data, data + n, 1};
    if (n >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
        c.p += 3;
    bool first = true;
    size_t tasks = 0;
    for (;;) {
        char *fields[CSV_COLUMNS] = {0};
        int nf = 0, line = c.line;
        int rc = csv_record(&c, fields, CSV_COLUMNS, &nf);
        if (rc == 0)
            break;
        if (rc < 0) {
            problem(b, line, 0, "A quoted field is not closed");
            for (int i = 0; i < CSV_COLUMNS; i++)
                free(fields[i]);
            break;
        }
        bool blank = nf == 1 && !fields[0][0];
        bool header = first && is_header(fields, nf);
        first = false;
        if (!blank && !header) {
            bool text_ok = true;
            for (int i = 0; i < nf && i < CSV_COLUMNS; i++)
                if (!utf8_ok(fields[i], strlen(fields[i])) || strlen(fields[i]) > LIMIT_MM_PATH) {
                    problem(b, line, i + 1, "The value is not valid UTF-8 text of at most %d bytes",
                            LIMIT_MM_PATH);
                    text_ok = false;
                }
            if (++tasks > LIMIT_MM_TASKS) {
                problem(b, 0, 0, "The file holds more than %d tasks", LIMIT_MM_TASKS);
                for (int i = 0; i < CSV_COLUMNS; i++)
                    free(fields[i]);
                break;
            }
            if (nf != CSV_COLUMNS)
                problem(b, line, 0, "The task must have %d columns; it has %d", CSV_COLUMNS, nf);
            else if (text_ok) {
                if (fields[1][0])
                    problem(b, line, 2, "This parameter should be empty for a file share source");
                if (fields[2][0])
                    problem(b, line, 3, "This parameter should be empty for a file share source");
                add_row(b, line, fields[0], fields[3], fields[4], fields[5], NULL);
            }
        }
        for (int i = 0; i < CSV_COLUMNS; i++)
            free(fields[i]);
    }
    if (tasks == 0 && b->nproblems == 0)
        problem(b, 0, 0, "The file holds no task");
}

/* ---- JSON ---- */

static const char *jstr(const cJSON *o, const char *name, bool *bad)
{
    const cJSON *v = cJSON_GetObjectItem(o, name);
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsString(v)) {
        *bad = true;
        return NULL;
    }
    return v->valuestring;
}

static void parse_json(struct mm_bulk *b, const char *data, size_t n)
{
    if (n >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
        data += 3, n -= 3;
    cJSON *root = json_in_parse(data, n);
    const cJSON *tasks = cJSON_GetObjectItem(root, "Tasks");
    if (!cJSON_IsArray(tasks)) {
        problem(b, 0, 0, "The file is not JSON of the form {\"Tasks\":[...]}");
        cJSON_Delete(root);
        return;
    }
    int count = cJSON_GetArraySize(tasks);
    if (count > LIMIT_MM_TASKS) {
        problem(b, 0, 0, "The file holds more than %d tasks", LIMIT_MM_TASKS);
        cJSON_Delete(root);
        return;
    }
    if (count == 0)
        problem(b, 0, 0, "The file holds no task");
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tasks)
    {
        i++;
        if (!cJSON_IsObject(t)) {
            problem(b, i, 0, "The task is not a JSON object");
            continue;
        }
        bool bad[4] = {false};
        const char *src = jstr(t, "SourcePath", &bad[0]);
        const char *site = jstr(t, "TargetPath", &bad[1]);
        const char *list = jstr(t, "TargetList", &bad[2]);
        const char *folder = jstr(t, "TargetListRelativePath", &bad[3]);
        static const int cols[4] = {1, 4, 5, 6};
        bool any = false;
        for (int k = 0; k < 4; k++)
            if (bad[k]) {
                problem(b, i, cols[k], "The parameter must be a string");
                any = true;
            }
        cJSON *settings = NULL;
        const cJSON *s = cJSON_GetObjectItem(t, "Settings");
        if (s && !cJSON_IsNull(s)) {
            char err[200];
            settings = mm_json_settings_check(s, true, err, sizeof err);
            if (!settings) {
                problem(b, i, 0, "Settings: %s", err);
                any = true;
            }
        }
        if (any) {
            cJSON_Delete(settings);
            continue;
        }
        add_row(b, i, src, site, list, folder, settings);
    }
    cJSON_Delete(root);
}

void mm_bulk_parse(struct mm_bulk *b, const char *data, size_t n, bool json)
{
    if (n > LIMIT_MM_BULK_BYTES) {
        problem(b, 0, 0, "The file is larger than %d bytes", LIMIT_MM_BULK_BYTES);
        return;
    }
    if (json)
        parse_json(b, data, n);
    else
        parse_csv(b, data, n);
}

/* ---- checks against the tenant ---- */

static int row_cmp(const void *x, const void *y)
{
    const struct mm_bulk_row *a = *(struct mm_bulk_row *const *)x,
                             *b = *(struct mm_bulk_row *const *)y;
    int c = strcmp(a->source, b->source);
    if (!c)
        c = strcmp(a->site, b->site);
    if (!c)
        c = strcmp(a->library, b->library);
    if (!c)
        c = strcmp(a->folder, b->folder);
    if (!c)
        c = a->task - b->task;
    return c;
}

void mm_bulk_check(struct mm_bulk *b, bool (*site_exists)(void *ctx, const char *site),
                   bool (*dup)(void *ctx, const struct mm_bulk_row *r), void *ctx)
{
    const char *last_site = NULL;
    bool last_ok = false;
    for (size_t i = 0; i < b->n; i++) {
        struct mm_bulk_row *r = &b->rows[i];
        if (!last_site || strcmp(last_site, r->site) != 0) {
            last_site = r->site;
            last_ok = site_exists(ctx, r->site);
        }
        if (!last_ok)
            problem(b, r->task, 4, "Destination site or web doesn't exist");
        else if (dup(ctx, r))
            problem(b, r->task, 0, "A duplicate task has already been created");
    }
    if (b->n < 2)
        return;
    struct mm_bulk_row **sorted = xmalloc(b->n * sizeof *sorted);
    for (size_t i = 0; i < b->n; i++)
        sorted[i] = &b->rows[i];
    qsort(sorted, b->n, sizeof *sorted, row_cmp);
    for (size_t i = 1; i < b->n; i++) {
        const struct mm_bulk_row *p = sorted[i - 1], *r = sorted[i];
        if (!strcmp(p->source, r->source) && !strcmp(p->site, r->site) &&
            !strcmp(p->library, r->library) && !strcmp(p->folder, r->folder))
            problem(b, r->task, 0, "A duplicate of task %d", p->task);
    }
    free(sorted);
}
