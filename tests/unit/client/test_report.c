/*
 * test_report.c: unit tests of client/report.c: the CSVs are read back with a strict parser
 * (every field quoted, CRLF row ends, no byte order mark) and checked header and row, field by
 * field; quoting, the formula guard, extensions, the failure report's life, the summaries and
 * JSON keys, atomic writes, concurrent writers and a write error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

static char tmp_root[64];
static char rdir[128]; /* the reports' folder, under tmp_root, not yet made */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    return (flag == FTW_DP || flag == FTW_D) ? rmdir(path) : unlink(path);
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmp_root, "/tmp/test_report_XXXXXX");
    if (!mkdtemp(tmp_root))
        return -1;
    snprintf(rdir, sizeof(rdir), "%s/a/b/Report", tmp_root);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(tmp_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- reading back ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static char *rpath(const char *base, int round, const char *ext)
{
    return report_path(rdir, base, round, ext);
}

static bool exists(const char *base, int round, const char *ext)
{
    char *p = rpath(base, round, ext);
    bool e = access(p, F_OK) == 0;
    free(p);
    return e;
}

#define CSV_ROWS   1024
#define CSV_FIELDS 32

struct csv {
    char *f[CSV_ROWS][CSV_FIELDS];
    int nf[CSV_ROWS];
    int rows;
};

/* A strict reader: every field in quotes, "" for a quote, ',' between fields, CRLF after
 * every row (the last included), no byte order mark. */
static void csv_read(const char *base, int round, struct csv *c)
{
    char *path = rpath(base, round, "csv");
    char *data = slurp(path);
    if (!data)
        fail_msg("%s missing", path);
    free(path);
    memset(c, 0, sizeof(*c));
    const char *p = data;
    assert_true((unsigned char)p[0] != 0xEF);
    while (*p) {
        assert_true(c->rows < CSV_ROWS);
        int r = c->rows++;
        for (;;) {
            assert_int_equal(*p, '"');
            p++;
            char *out = malloc(strlen(p) + 1);
            size_t n = 0;
            for (;;) {
                assert_true(*p != '\0');
                if (*p == '"' && p[1] == '"')
                    out[n++] = '"', p += 2;
                else if (*p == '"')
                    break;
                else
                    out[n++] = *p++;
            }
            out[n] = '\0';
            p++;
            assert_true(c->nf[r] < CSV_FIELDS);
            c->f[r][c->nf[r]++] = out;
            if (*p == ',') {
                p++;
                continue;
            }
            assert_int_equal(p[0], '\r');
            assert_int_equal(p[1], '\n');
            p += 2;
            break;
        }
    }
    free(data);
}

static void csv_free(struct csv *c)
{
    for (int r = 0; r < c->rows; r++)
        for (int i = 0; i < c->nf[r]; i++)
            free(c->f[r][i]);
}

static void expect_row(const struct csv *c, int row, const char *const *want, int n)
{
    assert_true(row < c->rows);
    assert_int_equal(c->nf[row], n);
    for (int i = 0; i < n; i++)
        if (strcmp(c->f[row][i], want[i]) != 0)
            fail_msg("row %d field %d: \"%s\", expected \"%s\"", row, i, c->f[row][i], want[i]);
}

static const char *const item_header[] = {
    "Source",         "Destination",      "Item name",
    "Extension",      "Item size",        "Content type",
    "Status",         "Result category",  "Message",
    "Error code",     "Source item ID",   "Destination item ID",
    "Package number", "Migration job ID", "Incremental round",
    "Task ID",        "Device name",
};

#define TASK "2486bd00-6668-483f-952b-3bf86e3246be"

/* ---- tests ---- */

static void test_path(void **state)
{
    (void)state;
    char *p = report_path("/x/y", "ItemReport", 3, "csv");
    assert_string_equal(p, "/x/y/ItemReport_R3.csv");
    free(p);
    p = report_path("/x", "summary", 0, ".json");
    assert_string_equal(p, "/x/summary_R0.json");
    free(p);
    p = report_path("/x", "FatalError", 1, NULL);
    assert_string_equal(p, "/x/FatalError_R1");
    free(p);
    assert_int_equal(report_close(NULL, NULL), 0);
}

static void test_items(void **state)
{
    (void)state;
    struct report *r = report_open(rdir, 2, TASK, "TESTCLIENT01");
    assert_non_null(r);
    /* The header is there at once; the failure report is not. */
    struct csv c;
    csv_read("ItemReport", 2, &c);
    assert_int_equal(c.rows, 1);
    expect_row(&c, 0, item_header, 17);
    csv_free(&c);
    assert_false(exists("ItemFailureReport", 2, "csv"));

    struct report_item file = {
        .source = "/srv/share/docs/plan.v2.docx",
        .destination = "https://contoso.sharepoint.com/sites/hr/Shared Documents/docs/plan.v2.docx",
        .size = 12345,
        .status = "Migrated",
        .result_category = "",
        .message = "",
        .error_code = "",
        .source_item_id = "11111111-2222-3333-4444-555555555555",
        .dest_item_id = "7cf0e3fb-7f45-4c3c-9a5d-49cfffb71722",
        .package_no = 4,
        .job_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    };
    assert_int_equal(report_item(r, &file), 0);
    struct report_item folder = {
        .source = "/srv/share/docs.d",
        .destination = "https://contoso.sharepoint.com/sites/hr/Shared Documents/docs.d",
        .name = "docs.d",
        .is_folder = true,
        .status = "Migrated",
    };
    assert_int_equal(report_item(r, &folder), 0);
    assert_false(exists("ItemFailureReport", 2, "csv"));
    struct report_item bad = {
        .source = "/srv/share/bad:name.txt",
        .destination = "https://contoso.sharepoint.com/sites/hr/Shared Documents/bad:name.txt",
        .size = 1,
        .status = "Failed",
        .result_category = "SCAN FILE FAILURE",
        .message = "Scan file failure: The file name is invalid",
        .error_code = "0x01110010",
    };
    assert_int_equal(report_item(r, &bad), 0);
    assert_true(exists("ItemFailureReport", 2, "csv"));
    struct report_item skipped = {.source = "/srv/share/.bashrc", .status = "Skipped"};
    assert_int_equal(report_item(r, &skipped), 0);
    /* Rows are on disk before the close. */
    csv_read("ItemReport", 2, &c);
    assert_int_equal(c.rows, 5);
    csv_free(&c);
    assert_int_equal(report_close(r, NULL), 0);

    csv_read("ItemReport", 2, &c);
    assert_int_equal(c.rows, 5);
    expect_row(&c, 0, item_header, 17);
    const char *row1[] = {file.source,
                          file.destination,
                          "plan.v2.docx",
                          ".docx",
                          "12345",
                          "File",
                          "Migrated",
                          "",
                          "",
                          "",
                          file.source_item_id,
                          file.dest_item_id,
                          "4",
                          file.job_id,
                          "2",
                          TASK,
                          "TESTCLIENT01"};
    expect_row(&c, 1, row1, 17);
    const char *row2[] = {folder.source,
                          folder.destination,
                          "docs.d",
                          "",
                          "0",
                          "Folder",
                          "Migrated",
                          "",
                          "",
                          "",
                          "N/A",
                          "N/A",
                          "N/A",
                          "N/A",
                          "2",
                          TASK,
                          "TESTCLIENT01"};
    expect_row(&c, 2, row2, 17);
    const char *row3[] = {bad.source,
                          bad.destination,
                          "bad:name.txt",
                          ".txt",
                          "1",
                          "File",
                          "Failed",
                          "SCAN FILE FAILURE",
                          "Scan file failure: The file name is invalid",
                          "0x01110010",
                          "N/A",
                          "N/A",
                          "N/A",
                          "N/A",
                          "2",
                          TASK,
                          "TESTCLIENT01"};
    expect_row(&c, 3, row3, 17);
    const char *row4[] = {skipped.source, "",    ".bashrc", "",   "0",           "File",
                          "Skipped",      "",    "",        "",   "N/A",         "N/A",
                          "N/A",          "N/A", "2",       TASK, "TESTCLIENT01"};
    expect_row(&c, 4, row4, 17);
    csv_free(&c);

    /* The failure report: the same columns, the failed row only. */
    csv_read("ItemFailureReport", 2, &c);
    assert_int_equal(c.rows, 2);
    expect_row(&c, 0, item_header, 17);
    expect_row(&c, 1, row3, 17);
    csv_free(&c);
    /* No summaries without a summary. */
    assert_false(exists("ScanSummary", 2, "csv"));
    assert_false(exists("summary", 2, "json"));
}

static void test_quoting(void **state)
{
    (void)state;
    struct report *r = report_open(rdir, 0, TASK, "DEV");
    assert_non_null(r);
    struct report_item it = {
        .source = "/share/a,b \"quoted\" name.txt",
        .destination = "line1\nline2\r\nline3",
        .message = "=HYPERLINK(\"http://x\")",
        .result_category = "+1",
        .error_code = "@SUM(A1)",
        .job_id = "-2",
        .source_item_id = "\tx",
        .dest_item_id = "a=b",
        .status = "Migrated",
        .size = 7,
    };
    assert_int_equal(report_item(r, &it), 0);
    assert_int_equal(report_close(r, NULL), 0);

    char *path = rpath("ItemReport", 0, "csv");
    char *raw = slurp(path);
    free(path);
    assert_non_null(strstr(raw, "\"/share/a,b \"\"quoted\"\" name.txt\""));
    assert_non_null(strstr(raw, "\"line1\nline2\r\nline3\""));
    assert_non_null(strstr(raw, "\"'=HYPERLINK(\"\"http://x\"\")\""));
    free(raw);

    struct csv c;
    csv_read("ItemReport", 0, &c);
    assert_int_equal(c.rows, 2);
    assert_string_equal(c.f[1][0], it.source);
    assert_string_equal(c.f[1][1], it.destination);
    assert_string_equal(c.f[1][2], "a,b \"quoted\" name.txt");
    assert_string_equal(c.f[1][3], ".txt");
    assert_string_equal(c.f[1][7], "'+1");
    assert_string_equal(c.f[1][8], "'=HYPERLINK(\"http://x\")");
    assert_string_equal(c.f[1][9], "'@SUM(A1)");
    assert_string_equal(c.f[1][10], "'\tx");
    assert_string_equal(c.f[1][11], "a=b"); /* only a leading one matters */
    assert_string_equal(c.f[1][13], "'-2");
    csv_free(&c);
}

static void test_extensions(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bool folder;
        const char *ext;
    } cases[] = {
        {"a.tar.gz", false, ".gz"}, {".bashrc", false, ""},   {".config.json", false, ".json"},
        {"noext", false, ""},       {"trailing.", false, ""}, {"x.y", true, ""},
        {"1_.000", false, ".000"},  {"..", false, ""},
    };
    struct report *r = report_open(rdir, 1, TASK, "DEV");
    assert_non_null(r);
    size_t n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        struct report_item it = {
            .source = "/s/x", .name = cases[i].name, .is_folder = cases[i].folder};
        assert_int_equal(report_item(r, &it), 0);
    }
    assert_int_equal(report_close(r, NULL), 0);
    struct csv c;
    csv_read("ItemReport", 1, &c);
    assert_int_equal(c.rows, (int)n + 1);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(c.f[i + 1][2], cases[i].name);
        if (strcmp(c.f[i + 1][3], cases[i].ext) != 0)
            fail_msg("extension of \"%s\": \"%s\"", cases[i].name, c.f[i + 1][3]);
    }
    csv_free(&c);
}

static void test_summaries(void **state)
{
    (void)state;
    struct report *r = report_open(rdir, 1, TASK, "DEV-9");
    assert_non_null(r);
    struct report_summary s = {
        .source = "/srv/share",
        .destination = "https://contoso.sharepoint.com/sites/hr/Shared Documents",
        .status = "Completed with issues",
        .start_ms = 1795000000000LL,
        .end_ms = 1795000000000LL + 3723000, /* 1 h 2 min 3 s */
        .scan = {.files = 10,
                 .folders = 3,
                 .bytes = 5LL << 30,
                 .files_to_migrate = 7,
                 .folders_to_migrate = 2,
                 .bytes_to_migrate = 3LL << 30,
                 .files_failed = 2,
                 .folders_failed = 1,
                 .filtered = 1,
                 .warnings = 1,
                 .max_path = 77},
        .total_bytes = 5LL << 30,
        .to_migrate = 9,
        .to_migrate_bytes = 3LL << 30,
        .migrated = 8,
        .migrated_bytes = 2LL << 30,
        .failed = 4,
        .skipped = 1,
        .warnings = 1,
        .packages = 3,
        .jobs = 2,
        .log_path = "/var/log/spmig/run.log",
    };
    assert_int_equal(report_close(r, &s), 0);

    struct csv c;
    csv_read("ScanSummary", 1, &c);
    assert_int_equal(c.rows, 2);
    const char *sh[] = {
        "Incremental round",        "Total scanned items",        "Total scanned folders",
        "Total scanned list items", "Total scanned files",        "Folders with issues",
        "Items with issues",        "Items filtered out",         "Folders to be migrated",
        "Items to be migrated",     "Total items to be migrated", "Device name"};
    expect_row(&c, 0, sh, 12);
    const char *sr[] = {"1", "13", "3", "0", "10", "1", "2", "1", "2", "7", "9", "DEV-9"};
    expect_row(&c, 1, sr, 12);
    csv_free(&c);

    csv_read("SummaryReport", 1, &c);
    assert_int_equal(c.rows, 2);
    const char *mh[] = {"Source",
                        "Destination",
                        "Status",
                        "Total bytes",
                        "Total GB",
                        "Count of files",
                        "Migrated bytes",
                        "Migrated GB in current round",
                        "GB not migrated in current round",
                        "Total scanned items",
                        "Total to be migrated in current round",
                        "Migrated items in current round",
                        "Items not migrated in current round",
                        "Warning count in current round",
                        "Start time",
                        "End time",
                        "Duration",
                        "GB/hour",
                        "Round number",
                        "Workflow ID",
                        "Task ID",
                        "Log Path"};
    expect_row(&c, 0, mh, 22);
    const char *mr[] = {s.source,
                        s.destination,
                        "Completed with issues",
                        "5368709120",
                        "5.00",
                        "10",
                        "2147483648",
                        "2.00",
                        "1.00",
                        "13",
                        "9",
                        "8",
                        "4",
                        "1",
                        "2026-11-18T11:06:40Z",
                        "2026-11-18T12:08:43Z",
                        "01:02:03",
                        "1.93",
                        "1",
                        "N/A",
                        TASK,
                        "/var/log/spmig/run.log"};
    expect_row(&c, 1, mr, 22);
    csv_free(&c);

    /* The JSON, per round and as the latest. */
    char *p1 = rpath("summary", 1, "json");
    char *j1 = slurp(p1);
    free(p1);
    char latest[256];
    snprintf(latest, sizeof(latest), "%s/summary.json", rdir);
    char *j2 = slurp(latest);
    assert_non_null(j1);
    assert_non_null(j2);
    assert_string_equal(j1, j2);
    cJSON *o = cJSON_Parse(j1);
    assert_non_null(o);
    static const struct {
        const char *key;
        double v;
    } nums[] = {
        {"scanned", 13}, {"migrated", 8},         {"failed", 4},     {"skipped", 1},
        {"filtered", 1}, {"warnings", 1},         {"round", 1},      {"packages", 3},
        {"jobs", 2},     {"bytes", 2147483648.0}, {"seconds", 3723}, {"to_migrate", 9},
    };
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(o, nums[i].key);
        if (!cJSON_IsNumber(v) || v->valuedouble != nums[i].v)
            fail_msg("JSON key %s", nums[i].key);
    }
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "status")->valuestring,
                        "Completed with issues");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "task_id")->valuestring, TASK);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "failure_reason")));
    cJSON *scan = cJSON_GetObjectItemCaseSensitive(o, "scan");
    assert_true(cJSON_IsObject(scan));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(scan, "max_path")->valueint, 77);
    cJSON_Delete(o);
    free(j1);
    free(j2);

    /* Nothing else in the folder: no temporary files left behind, no failure report. */
    DIR *d = opendir(rdir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        n++;
        assert_null(strstr(de->d_name, ".tmp"));
    }
    closedir(d);
    assert_int_equal(n, 5); /* ItemReport, ScanSummary, SummaryReport, summary_R1, summary */
    struct stat st;
    assert_int_equal(stat(rdir, &st), 0);
    mode_t mask = umask(022);
    umask(mask);
    assert_int_equal(st.st_mode & 0777, 0755 & ~mask);

    /* A later round replaces summary.json; a failure reason is kept. */
    r = report_open(rdir, 2, TASK, "DEV-9");
    assert_non_null(r);
    s.failure_reason = "The source file share doesn't exist";
    s.status = "Failed";
    s.end_ms = s.start_ms; /* no time: GB/hour 0 */
    assert_int_equal(report_close(r, &s), 0);
    j2 = slurp(latest);
    o = cJSON_Parse(j2);
    assert_non_null(o);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "round")->valueint, 2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "failure_reason")->valuestring,
                        "The source file share doesn't exist");
    cJSON_Delete(o);
    free(j2);
    csv_read("SummaryReport", 2, &c);
    assert_string_equal(c.f[1][16], "00:00:00");
    assert_string_equal(c.f[1][17], "0.00");
    csv_free(&c);
}

static void test_open(void **state)
{
    (void)state;
    /* The host name when no device is given. */
    struct report *r = report_open(rdir, 0, TASK, NULL);
    assert_non_null(r);
    assert_int_equal(report_close(r, NULL), 0);
    char host[HOST_NAME_MAX + 1];
    assert_int_equal(gethostname(host, sizeof(host)), 0);
    r = report_open(rdir, 0, TASK, NULL);
    struct report_item it = {.source = "/x/y", .status = "Migrated"};
    assert_int_equal(report_item(r, &it), 0);
    assert_int_equal(report_close(r, NULL), 0);
    struct csv c;
    csv_read("ItemReport", 0, &c);
    assert_string_equal(c.f[1][16], host);
    csv_free(&c);

    /* A failure report left from an earlier attempt at the round is removed. */
    char *fp = rpath("ItemFailureReport", 0, "csv");
    FILE *f = fopen(fp, "w");
    fputs("stale\r\n", f);
    fclose(f);
    r = report_open(rdir, 0, TASK, "D");
    assert_non_null(r);
    assert_int_equal(access(fp, F_OK), -1);
    assert_int_equal(report_close(r, NULL), 0);
    free(fp);

    /* A folder that can't be made. */
    char bad[256];
    snprintf(bad, sizeof(bad), "%s/file", tmp_root);
    f = fopen(bad, "w");
    fclose(f);
    snprintf(bad, sizeof(bad), "%s/file/sub", tmp_root);
    errno = 0;
    assert_null(report_open(bad, 0, TASK, "D"));
    assert_int_equal(errno, ENOTDIR);
    snprintf(bad, sizeof(bad), "%s/file", tmp_root);
    errno = 0;
    assert_null(report_open(bad, 0, TASK, "D"));
    assert_int_equal(errno, ENOTDIR);
}

struct worker {
    struct report *r;
    int id;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 250; i++) {
        char src[64], msg[64];
        snprintf(src, sizeof(src), "/share/w%d/f%03d.bin", w->id, i);
        snprintf(msg, sizeof(msg), "message, with \"quotes\" %d", i);
        struct report_item it = {
            .source = src,
            .size = i,
            .status = i % 10 == 0 ? "Failed" : "Migrated",
            .message = msg,
        };
        if (report_item(w->r, &it) != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct report *r = report_open(rdir, 0, TASK, "D");
    assert_non_null(r);
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){r, i};
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        assert_null(ret);
    }
    assert_int_equal(report_close(r, NULL), 0);
    struct csv *c = malloc(sizeof(*c));
    csv_read("ItemReport", 0, c);
    assert_int_equal(c->rows, 1001);
    for (int i = 1; i < c->rows; i++) {
        assert_int_equal(c->nf[i], 17);
        assert_non_null(strstr(c->f[i][8], "message, with \"quotes\""));
    }
    csv_free(c);
    csv_read("ItemFailureReport", 0, c);
    assert_int_equal(c->rows, 101);
    csv_free(c);
    free(c);
}

/* A write that fails (the file size limit, with SIGXFSZ ignored) fails that call and every
 * later one, and report_close says so. */
static void test_write_error(void **state)
{
    (void)state;
    struct report *r = report_open(rdir, 0, TASK, "D");
    assert_non_null(r);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 4096;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = 0, calls = 0;
    struct report_item it = {.source = "/share/some/rather/long/path/name.txt",
                             .status = "Migrated"};
    while (rc == 0 && calls < 1000) {
        rc = report_item(r, &it);
        calls++;
    }
    int e = errno;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(rc, -1);
    assert_int_equal(e, EFBIG);
    assert_true(calls > 1);
    errno = 0;
    assert_int_equal(report_item(r, &it), -1);
    assert_int_equal(errno, EFBIG);
    assert_int_equal(report_close(r, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path),
        cmocka_unit_test_setup_teardown(test_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quoting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extensions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
