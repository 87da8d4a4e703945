/*
 * main.c: the spmig command line: migrate, scan, package, jobs, admin and agent, their options
 * and exit codes (0 done, 1 some items failed, 2 a fatal error or bad usage, 3 paused). The work is
 * in migrate.c, scan.c, sp.c and friends; this file only reads arguments and prints.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "aes.h"
#include "agent.h"
#include "azure.h"
#include "b64.h"
#include "crypto.h"
#include "events.h"
#include "http.h"
#include "log.h"
#include "migrate.h"
#include "pkgdir.h"
#include "report.h"
#include "scan.h"
#include "sp.h"
#include "uuid.h"
#include "sp_names.h"
#include "timefmt.h"
#include "xmalloc.h"

static volatile sig_atomic_t cancelled, pause_requested;

static void on_pause_signal(int sig)
{
    (void)sig;
    pause_requested = 1;
}

static void on_signal(int sig)
{
    if (cancelled) /* the second Ctrl-C does not wait */
        _exit(128 + sig);
    cancelled = 1;
}

static const char usage_text[] =
    "Usage: spmig COMMAND [OPTION]...\n"
    "Client agent for spmigd, the SharePoint migration backend emulator: migrates a folder\n"
    "(a file share) into a SharePoint document library through the Migration API.\n"
    "\n"
    "Commands:\n"
    "  migrate SOURCE --site URL   scan, package, encrypt, upload, submit, follow, report\n"
    "  scan SOURCE                 only the scan, with its report\n"
    "  package SOURCE OUTDIR       write the packages unencrypted into OUTDIR, to inspect\n"
    "  jobs status|progress JOBID --site URL\n"
    "                              a job's status, its progress log\n"
    "  jobs events JOBID --queue URL [--key BASE64]\n"
    "                              the job's events taken off its report queue, decrypted\n"
    "  admin clock [--advance DURATION | --set TIME] --site URL\n"
    "  admin containers --site URL the emulator's clock and provisioned containers\n"
    "  agent --server URL --name NAME --share PATH [--share PATH]... [--group G]\n"
    "        [--work-dir DIR] [--max-tasks N (5)]\n"
    "                              a Migration Manager agent: registers with the admin token\n"
    "                              (kept as a credential in DIR/agent.json), takes tasks from\n"
    "                              the server and migrates them; SIGTERM pauses and stops it\n"
    "\n"
    "Options of migrate (and, where they apply, of the others):\n"
    "  --site URL          the destination site, e.g. http://127.0.0.1:8080/sites/hr\n"
    "  --library NAME      the document library (default: Documents)\n"
    "  --folder PATH       a folder under the library root to migrate into\n"
    "  --report-dir DIR    where the round's reports go (default: under the state dir)\n"
    "  --state-dir DIR     where the incremental state lives\n"
    "                      (default: $XDG_STATE_HOME/spmig or ~/.local/state/spmig)\n"
    "  --parallel N        upload connections (default: 4)\n"
    "  --token TOKEN       bearer token (default: $SPMIG_TOKEN)\n"
    "  --skip-hidden       leave out names starting with '.'\n"
    "  --scan-only         scan and write the reports of what would migrate; send nothing\n"
    "  --created-after YYYY-MM-DD, --modified-after YYYY-MM-DD\n"
    "                      leave out files created (modified) before that day (UTC)\n"
    "  --skip-extensions LIST  leave out files with these extensions: \"txt:EXE\", no dots,\n"
    "                      any case, only the last extension of a name counts\n"
    "  --skip-invalid-chars    leave out names with invalid characters (default: try them,\n"
    "                      each reported as failed)\n"
    "  --replace-invalid-chars C  migrate such names with each invalid character made C\n"
    "  --preserve-permissions  recorded in the summary (permissions are not carried)\n"
    "  --id-seed ID        derive new items' ids from ID and their paths (agents use the\n"
    "                      task id), not at random\n"
    "  --user-domain D     owners become logins user@D (default: contoso.com)\n"
    "  --job-timeout SECS  fail a job that says nothing for this long (default: 600)\n"
    "  --retries N         attempts per HTTP request (default: 6)\n"
    "  --queue URL         the report queue's SAS URL, for jobs events\n"
    "  --key BASE64        the job's AES key, for jobs events (default: $SPMIG_JOB_KEY)\n"
    "  --no-progress       no progress bar even on a terminal\n"
    "  -v, --verbose       log every retry\n"
    "  -h, --help          show this help and exit\n"
    "  --version           show the version and exit\n"
    "\n"
    "Exit status: 0 when every item migrated (or was unchanged), 1 when some failed (the\n"
    "reports say which), 2 for a fatal error (a one-line reason on stderr), 3 when the round\n"
    "was paused (SIGUSR1: it stops at a package boundary; run again to resume).\n";

enum {
    OPT_SITE = 256,
    OPT_LIBRARY,
    OPT_FOLDER,
    OPT_REPORT_DIR,
    OPT_STATE_DIR,
    OPT_PARALLEL,
    OPT_TOKEN,
    OPT_SKIP_HIDDEN,
    OPT_USER_DOMAIN,
    OPT_JOB_TIMEOUT,
    OPT_RETRIES,
    OPT_KEY,
    OPT_QUEUE,
    OPT_NO_PROGRESS,
    OPT_ADVANCE,
    OPT_SET,
    OPT_VERSION,
    OPT_SCAN_ONLY,
    OPT_CREATED_AFTER,
    OPT_MODIFIED_AFTER,
    OPT_SKIP_EXTENSIONS,
    OPT_SKIP_INVALID,
    OPT_REPLACE_INVALID,
    OPT_PRESERVE_PERMISSIONS,
    OPT_ID_SEED,
    OPT_SERVER,
    OPT_NAME,
    OPT_SHARE,
    OPT_GROUP,
    OPT_WORK_DIR,
    OPT_MAX_TASKS,
};

static const struct option long_opts[] = {
    {"site", required_argument, NULL, OPT_SITE},
    {"library", required_argument, NULL, OPT_LIBRARY},
    {"folder", required_argument, NULL, OPT_FOLDER},
    {"report-dir", required_argument, NULL, OPT_REPORT_DIR},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"skip-hidden", no_argument, NULL, OPT_SKIP_HIDDEN},
    {"user-domain", required_argument, NULL, OPT_USER_DOMAIN},
    {"job-timeout", required_argument, NULL, OPT_JOB_TIMEOUT},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"key", required_argument, NULL, OPT_KEY},
    {"queue", required_argument, NULL, OPT_QUEUE},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"advance", required_argument, NULL, OPT_ADVANCE},
    {"set", required_argument, NULL, OPT_SET},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"scan-only", no_argument, NULL, OPT_SCAN_ONLY},
    {"created-after", required_argument, NULL, OPT_CREATED_AFTER},
    {"modified-after", required_argument, NULL, OPT_MODIFIED_AFTER},
    {"skip-extensions", required_argument, NULL, OPT_SKIP_EXTENSIONS},
    {"skip-invalid-chars", no_argument, NULL, OPT_SKIP_INVALID},
    {"replace-invalid-chars", required_argument, NULL, OPT_REPLACE_INVALID},
    {"preserve-permissions", no_argument, NULL, OPT_PRESERVE_PERMISSIONS},
    {"id-seed", required_argument, NULL, OPT_ID_SEED},
    {"server", required_argument, NULL, OPT_SERVER},
    {"name", required_argument, NULL, OPT_NAME},
    {"share", required_argument, NULL, OPT_SHARE},
    {"group", required_argument, NULL, OPT_GROUP},
    {"work-dir", required_argument, NULL, OPT_WORK_DIR},
    {"max-tasks", required_argument, NULL, OPT_MAX_TASKS},
    {NULL, 0, NULL, 0},
};

struct args {
    struct migrate_options m;
    struct agent_options ag;
    const char *shares[AGENT_MAX_SHARES];
    const char *key, *queue, *advance, *set;
    bool no_progress;
    char *pos[4];
    int n_pos;
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "spmig: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'spmig --help' for more information.\n");
    return 2;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* A day as YYYY-MM-DD: its first millisecond, UTC. */
static bool parse_day(const char *s, int64_t *ms)
{
    return strlen(s) == 10 && timefmt_parse_iso8601(s, ms) == 0 && *ms > 0;
}

/* Reads options and up to 4 positional arguments after the command; -1 exit 0 (help), 2 bad. */
static int parse(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    a->m.parallel = 4;
    a->m.token = getenv("SPMIG_TOKEN");
    optind = 1;
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "hv", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_SITE:
            a->m.site_url = optarg;
            break;
        case OPT_LIBRARY:
            a->m.list_title = optarg;
            break;
        case OPT_FOLDER:
            while (*optarg == '/')
                optarg++;
            a->m.folder = optarg;
            break;
        case OPT_REPORT_DIR:
            a->m.report_dir = optarg;
            break;
        case OPT_STATE_DIR:
            a->m.state_dir = optarg;
            break;
        case OPT_PARALLEL:
            if (!parse_long(optarg, 1, 64, &v))
                return usage_error("--parallel wants a number from 1 to 64, not '%s'", optarg);
            a->m.parallel = (int)v;
            break;
        case OPT_TOKEN:
            a->m.token = optarg;
            break;
        case OPT_SKIP_HIDDEN:
            a->m.skip_hidden = true;
            break;
        case OPT_USER_DOMAIN:
            a->m.user_domain = optarg;
            break;
        case OPT_JOB_TIMEOUT:
            if (!parse_long(optarg, 1, 86400 * 7, &v))
                return usage_error("--job-timeout wants seconds, not '%s'", optarg);
            a->m.job_timeout_s = v;
            break;
        case OPT_RETRIES:
            if (!parse_long(optarg, 1, 100, &v))
                return usage_error("--retries wants a number from 1 to 100, not '%s'", optarg);
            a->m.max_attempts = (int)v;
            break;
        case OPT_KEY:
            a->key = optarg;
            break;
        case OPT_QUEUE:
            a->queue = optarg;
            break;
        case OPT_SCAN_ONLY:
            a->m.scan_only = true;
            break;
        case OPT_CREATED_AFTER:
            if (!parse_day(optarg, &a->m.created_after_ms))
                return usage_error("--created-after wants a day as YYYY-MM-DD, not '%s'", optarg);
            break;
        case OPT_MODIFIED_AFTER:
            if (!parse_day(optarg, &a->m.modified_after_ms))
                return usage_error("--modified-after wants a day as YYYY-MM-DD, not '%s'", optarg);
            break;
        case OPT_SKIP_EXTENSIONS:
            a->m.skip_extensions = optarg;
            break;
        case OPT_SKIP_INVALID:
            a->m.skip_invalid_chars = true;
            break;
        case OPT_REPLACE_INVALID:
            if (strlen(optarg) != 1 || sp_names_invalid_char(optarg[0]) || optarg[0] == ' ' ||
                (unsigned char)optarg[0] >= 0x80)
                return usage_error("--replace-invalid-chars wants one valid ASCII character, "
                                   "not '%s'",
                                   optarg);
            a->m.replace_char = optarg[0];
            break;
        case OPT_PRESERVE_PERMISSIONS:
            a->m.preserve_permissions = true;
            break;
        case OPT_ID_SEED:
            a->m.id_seed = optarg;
            break;
        case OPT_SERVER:
            a->ag.server = optarg;
            break;
        case OPT_NAME:
            a->ag.name = optarg;
            break;
        case OPT_SHARE:
            if (a->ag.n_shares == AGENT_MAX_SHARES)
                return usage_error("at most 64 shares, not '%s' too", optarg);
            a->shares[a->ag.n_shares++] = optarg;
            break;
        case OPT_GROUP:
            a->ag.group = optarg;
            break;
        case OPT_WORK_DIR:
            a->ag.work_dir = optarg;
            break;
        case OPT_MAX_TASKS:
            if (!parse_long(optarg, 1, AGENT_MAX_TASKS, &v))
                return usage_error("--max-tasks wants a number from 1 to 16, not '%s'", optarg);
            a->ag.max_tasks = (int)v;
            break;
        case OPT_NO_PROGRESS:
            a->no_progress = true;
            break;
        case OPT_ADVANCE:
            a->advance = optarg;
            break;
        case OPT_SET:
            a->set = optarg;
            break;
        case 'v':
            log_set_level(LOG_DEBUG);
            break;
        case 'h':
            fputs(usage_text, stdout);
            return -1;
        case OPT_VERSION:
            printf("spmig %s\n", SPMIG_VERSION);
            return -1;
        default:
            fprintf(stderr, "Try 'spmig --help' for more information.\n");
            return 2;
        }
    }
    for (; optind < argc; optind++) {
        if (a->n_pos == 4)
            return usage_error("unexpected argument '%s'", argv[optind]);
        a->pos[a->n_pos++] = argv[optind];
    }
    a->m.cancel = &cancelled;
    a->ag.shares = a->shares;
    a->m.pause = &pause_requested;
    a->m.progress = !a->no_progress && isatty(STDERR_FILENO);
    return 0;
}

static int cmd_agent(struct args *a)
{
    struct agent_options *o = &a->ag;
    if (a->n_pos)
        return usage_error("agent: unexpected argument '%s'", a->pos[0]);
    if (!o->server || !o->name || !o->n_shares)
        return usage_error("%s", "agent wants --server URL, --name NAME and --share PATH");
    o->token = a->m.token;
    o->parallel = a->m.parallel;
    o->max_attempts = a->m.max_attempts;
    o->user_domain = a->m.user_domain;
    if (!o->max_tasks)
        o->max_tasks = AGENT_DEFAULT_TASKS;
    o->stop = &cancelled;
    return agent_run(o);
}

static int need_site(const struct args *a)
{
    if (!a->m.site_url)
        return usage_error("%s", "--site URL is required");
    if (!a->m.token)
        return usage_error("%s", "a token is required (--token or SPMIG_TOKEN)");
    return 0;
}

/* -- scan ------------------------------------------------------------------------------------ */

struct scan_ctx {
    struct report *rep;
    const char *root;
    const char *dest;
    uint64_t rows;
};

static int scan_row(void *ctx, const struct scan_entry *e)
{
    struct scan_ctx *s = ctx;
    if (cancelled)
        return 1;
    if (!s->rep)
        return 0;
    char *src = xasprintf("%s/%s", s->root, e->rel);
    char *dst = xasprintf("%s/%s", s->dest, e->dest_rel);
    bool ok = scan_migrates(e->verdict), filtered = scan_filtered(e->verdict);
    struct report_item it = {
        .source = src,
        .destination = dst,
        .size = e->size,
        .is_folder = e->kind == SCAN_FOLDER,
        .status = ok         ? "Ready to migrate"
                  : filtered ? "Filtered out"
                             : "Failed",
        .result_category = ok || filtered ? "" : "SCAN FILE FAILURE",
        .message = scan_message(e->verdict),
        .error_code = scan_error_code(e->verdict),
    };
    int rc = report_item(s->rep, &it);
    free(src);
    free(dst);
    s->rows++;
    return rc < 0 ? -1 : 0;
}

static int cmd_scan(struct args *a)
{
    if (a->n_pos != 1)
        return usage_error("%s", "scan wants one SOURCE folder");
    char *root = realpath(a->pos[0], NULL);
    if (!root) {
        fprintf(stderr, "spmig: %s: %s\n", a->pos[0], strerror(errno));
        return 2;
    }
    /* Path lengths count from the destination: the library root and --folder. */
    char *dest =
        xasprintf("/Shared Documents%s%s", a->m.folder ? "/" : "", a->m.folder ? a->m.folder : "");
    struct scan_ctx s = {.root = root, .dest = dest};
    if (a->m.report_dir) {
        s.rep = report_open(a->m.report_dir, 0, NULL, NULL);
        if (!s.rep) {
            fprintf(stderr, "spmig: cannot write reports in %s: %s\n", a->m.report_dir,
                    strerror(errno));
            free(root);
            free(dest);
            return 2;
        }
    }
    struct scan_options so = {.dest_prefix = dest,
                              .in_folder = a->m.folder && a->m.folder[0],
                              .skip_hidden = a->m.skip_hidden,
                              .created_after_ms = a->m.created_after_ms,
                              .modified_after_ms = a->m.modified_after_ms,
                              .skip_extensions = a->m.skip_extensions,
                              .skip_invalid_chars = a->m.skip_invalid_chars,
                              .replace_char = a->m.replace_char};
    struct scan_totals t;
    int64_t start = (int64_t)time(NULL) * 1000;
    int rc = scan_walk(root, &so, scan_row, &s, &t);
    if (rc < 0) {
        fprintf(stderr, "spmig: %s: %s\n", root, strerror(errno));
        report_close(s.rep, &(struct report_summary){.status = "Failed", .scan = t});
        free(root);
        free(dest);
        return 2;
    }
    struct report_summary sum = {
        .source = root,
        .destination = dest,
        .status = "Scanned",
        .start_ms = start,
        .end_ms = (int64_t)time(NULL) * 1000,
        .scan = t,
        .total_bytes = t.bytes,
        .to_migrate = t.files_to_migrate + t.folders_to_migrate,
        .to_migrate_bytes = t.bytes_to_migrate,
        .failed = t.files_failed + t.folders_failed,
        .warnings = t.warnings,
    };
    if (s.rep && report_close(s.rep, &sum) < 0)
        fprintf(stderr, "spmig: cannot write the reports in %s\n", a->m.report_dir);
    printf("scanned %llu files and %llu folders (%llu bytes): %llu files and %llu folders to "
           "migrate (%llu bytes), %llu with issues, %llu filtered out, %llu warnings; longest "
           "destination path %zu characters\n",
           (unsigned long long)t.files, (unsigned long long)t.folders, (unsigned long long)t.bytes,
           (unsigned long long)t.files_to_migrate, (unsigned long long)t.folders_to_migrate,
           (unsigned long long)t.bytes_to_migrate,
           (unsigned long long)(t.files_failed + t.folders_failed), (unsigned long long)t.filtered,
           (unsigned long long)t.warnings, t.max_path);
    free(root);
    free(dest);
    return rc > 0 ? 2 : t.files_failed + t.folders_failed ? 1 : 0;
}

/* -- jobs and admin -------------------------------------------------------------------------- */

/*
 * jobs events: the report queue is walked with Get Messages, 32 at a time. Each event of the
 * job is printed as its plain JSON (an envelope decrypted with key) and then deleted, as any
 * reader of the queue does. What is left (other jobs' messages on a shared queue, events that
 * do not decrypt) is visible again after EVENTS_VISIBILITY_S, so the next reader, say with the
 * right key, sees it at once; their ids tell the walk when it has come round to them again.
 */
#define EVENTS_VISIBILITY_S 1
#define EVENTS_LEFT_MAX     100000 /* messages left behind that the walk remembers */

static bool events_seen(char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

/* Returns 0, 1 when events of the job could not be read, 2 when the queue failed. */
static int job_events(struct httpc *h, const struct azc_sas *q, const char *job_id,
                      const unsigned char *key)
{
    char **left = NULL, err[AZC_ERR];
    size_t n_left = 0, cap = 0;
    unsigned long printed = 0, unreadable = 0;
    int rc = 0;
    bool more = true;
    while (more && rc == 0) {
        struct azc_message *m;
        size_t n;
        if (cancelled) {
            rc = 2;
            break;
        }
        if (azc_queue_get(h, q, 32, EVENTS_VISIBILITY_S, &m, &n, err) < 0) {
            fprintf(stderr, "spmig: the report queue: %s\n", err);
            rc = 2;
            break;
        }
        more = false; /* until a message not met before comes */
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (events_seen(left, n_left, m[i].id))
                continue;
            more = true;
            char id[UUID_BUF];
            events_message_job_id(m[i].text, strlen(m[i].text), id, sizeof id);
            bool ours = strcasecmp(id, job_id) == 0;
            char *json = ours ? events_decode_message(m[i].text, strlen(m[i].text), key) : NULL;
            if (json) {
                puts(json);
                free(json);
                fflush(stdout); /* printed before it is gone from the queue */
                printed++;
                if (azc_queue_delete(h, q, &m[i], err) < 0) {
                    fprintf(stderr, "spmig: the report queue: %s\n", err);
                    rc = 2;
                }
                continue;
            }
            unreadable += ours;
            if (n_left == EVENTS_LEFT_MAX) {
                fprintf(stderr, "spmig: over %d messages left on the queue; stopped\n",
                        EVENTS_LEFT_MAX);
                more = false;
                break;
            }
            if (n_left == cap) {
                cap = cap ? cap * 2 : 64;
                left = xrealloc(left, cap * sizeof *left);
            }
            left[n_left++] = xstrdup(m[i].id);
        }
        azc_messages_free(m, n);
    }
    for (size_t i = 0; i < n_left; i++)
        free(left[i]);
    free(left);
    if (rc == 0 && unreadable) {
        if (key)
            fprintf(stderr,
                    "spmig: job %s: the key given does not decrypt %lu of its events; they stay "
                    "on the queue\n",
                    job_id, unreadable);
        else
            fprintf(stderr,
                    "spmig: job %s: its events are encrypted: give its key with --key (%lu left "
                    "on the queue)\n",
                    job_id, unreadable);
        rc = 1;
    } else if (rc == 0 && printed == 0) {
        fprintf(stderr, "spmig: no event of job %s on the queue\n", job_id);
    }
    return rc;
}

static int cmd_job_events(struct args *a, const char *id)
{
    if (!a->queue)
        return usage_error("%s", "jobs events wants --queue URL (the report queue's SAS URL)");
    unsigned char key[AES_KEY_LEN], *keyp = NULL;
    const char *key_text = a->key ? a->key : getenv("SPMIG_JOB_KEY");
    if (key_text) {
        if (b64_decode_to(key_text, strlen(key_text), key, sizeof key) != AES_KEY_LEN)
            return usage_error("%s", "--key must be the base64 of 32 bytes");
        keyp = key;
    }
    struct azc_sas q;
    if (azc_sas_parse(a->queue, &q) < 0) {
        crypto_wipe(key, sizeof key);
        return usage_error("--queue wants a queue SAS URL (http://host/account/queue?sv=...), "
                           "not '%s'",
                           a->queue);
    }
    struct httpc_options ho = {.max_attempts = a->m.max_attempts, .cancel = &cancelled};
    struct httpc *h = httpc_create(&ho);
    int rc = 2;
    if (h)
        rc = job_events(h, &q, id, keyp);
    else
        fprintf(stderr, "spmig: cannot start libcurl\n");
    httpc_destroy(h);
    azc_sas_finish(&q);
    crypto_wipe(key, sizeof key);
    return rc;
}

static int cmd_jobs(struct args *a)
{
    if (a->n_pos != 2)
        return usage_error("%s", "jobs wants status|progress|events and a JOBID");
    const char *what = a->pos[0], *id = a->pos[1];
    if (strcmp(what, "status") && strcmp(what, "progress") && strcmp(what, "events"))
        return usage_error("jobs: unknown '%s' (status, progress or events)", what);
    if (strcmp(what, "events") == 0)
        return cmd_job_events(a, id);
    int rc = need_site(a);
    if (rc)
        return rc;
    struct httpc_options ho = {.max_attempts = a->m.max_attempts, .cancel = &cancelled};
    struct httpc *h = httpc_create(&ho);
    char err[SPC_ERR];
    struct spc sp;
    if (!h || spc_init(&sp, h, a->m.site_url, a->m.token, err) < 0) {
        fprintf(stderr, "spmig: %s\n", h ? err : "cannot start libcurl");
        httpc_destroy(h);
        return 2;
    }
    rc = 0;
    if (strcmp(what, "status") == 0) {
        int st;
        if (spc_job_status(&sp, id, &st, err) < 0) {
            fprintf(stderr, "spmig: %s\n", err);
            rc = 2;
        } else {
            printf("%s %d %s\n", id, st,
                   st == 0   ? "None"
                   : st == 2 ? "Queued"
                   : st == 4 ? "Processing"
                             : "Unknown");
        }
    } else {
        /* The progress log holds the plain events (GetMigrationJobProgress). */
        char token[64] = "0";
        for (int page = 0; page < 100000 && !cancelled; page++) {
            cJSON *j = spc_job_progress(&sp, id, token, err);
            if (!j) {
                fprintf(stderr, "spmig: %s\n", err);
                rc = 2;
                break;
            }
            const cJSON *logs = cJSON_GetObjectItemCaseSensitive(j, "Logs");
            const cJSON *next = cJSON_GetObjectItemCaseSensitive(j, "NextToken");
            int n = cJSON_GetArraySize(logs);
            const cJSON *l;
            cJSON_ArrayForEach(l, logs)
            {
                if (cJSON_IsString(l))
                    puts(l->valuestring);
            }
            bool more = n > 0 && cJSON_IsString(next) && strcmp(next->valuestring, token) != 0;
            if (cJSON_IsString(next))
                snprintf(token, sizeof token, "%s", next->valuestring);
            cJSON_Delete(j);
            if (!more)
                break;
        }
    }
    spc_finish(&sp);
    httpc_destroy(h);
    return rc;
}

static int cmd_admin(struct args *a)
{
    if (a->n_pos != 1 || (strcmp(a->pos[0], "clock") && strcmp(a->pos[0], "containers")))
        return usage_error("%s", "admin wants clock or containers");
    int rc = need_site(a);
    if (rc)
        return rc;
    struct httpc_options ho = {.max_attempts = a->m.max_attempts, .cancel = &cancelled};
    struct httpc *h = httpc_create(&ho);
    char err[SPC_ERR];
    struct spc sp;
    if (!h || spc_init(&sp, h, a->m.site_url, a->m.token, err) < 0) {
        fprintf(stderr, "spmig: %s\n", h ? err : "cannot start libcurl");
        httpc_destroy(h);
        return 2;
    }
    cJSON *out;
    if (strcmp(a->pos[0], "clock") == 0 && (a->advance || a->set)) {
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, a->advance ? "advance" : "set",
                                a->advance ? a->advance : a->set);
        out = spc_emu(&sp, "POST", "clock", body, err);
        cJSON_Delete(body);
    } else {
        out = spc_emu(&sp, "GET", a->pos[0], NULL, err);
    }
    if (!out) {
        fprintf(stderr, "spmig: %s\n", err);
        rc = 2;
    } else {
        char *text = cJSON_Print(out);
        puts(text);
        cJSON_free(text);
        cJSON_Delete(out);
    }
    spc_finish(&sp);
    httpc_destroy(h);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0) {
        printf("spmig %s\n", SPMIG_VERSION);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    struct args a;
    int rc = parse(argc - 1, argv + 1, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct sigaction sp = {.sa_handler = on_pause_signal};
    sigemptyset(&sp.sa_mask);
    sigaction(SIGUSR1, &sp, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (httpc_global_init() < 0) {
        fprintf(stderr, "spmig: cannot start libcurl\n");
        return 2;
    }
    if (strcmp(cmd, "migrate") == 0) {
        if (a.n_pos != 1)
            rc = usage_error("%s", "migrate wants one SOURCE folder");
        else if (!(rc = need_site(&a))) {
            a.m.source = a.pos[0];
            rc = migrate_run(&a.m);
        }
    } else if (strcmp(cmd, "scan") == 0) {
        rc = cmd_scan(&a);
    } else if (strcmp(cmd, "package") == 0) {
        if (a.n_pos != 2) {
            rc = usage_error("%s", "package wants SOURCE and OUTDIR");
        } else {
            if (a.m.site_url && !a.m.token)
                rc = need_site(&a);
            if (!rc) {
                a.m.source = a.pos[0];
                rc = pkgdir_run(&a.m, a.pos[1]);
            }
        }
    } else if (strcmp(cmd, "jobs") == 0) {
        rc = cmd_jobs(&a);
    } else if (strcmp(cmd, "admin") == 0) {
        rc = cmd_admin(&a);
    } else if (strcmp(cmd, "agent") == 0) {
        rc = cmd_agent(&a);
    } else {
        rc = usage_error("unknown command '%s'", cmd);
    }
    httpc_global_cleanup();
    return rc;
}
