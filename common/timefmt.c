/*
 * timefmt.c: formatting and strict parsing of the wire's time formats (RFC 1123 and the other
 * HTTP dates, ISO 8601 as Azure writes and reads it, SharePoint's event time, ISO 8601
 * durations), all UTC milliseconds. Names of days and months are spelled here, never taken
 * from the locale. What "now" is belongs to the server's clock, not to this module.
 */
#include "timefmt.h"
#include "spmig_limits.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const wkday[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const weekday[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};
static const char *const month[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Splits ms into whole seconds (rounded down, also before 1970) and the milliseconds left. */
static void split(int64_t ms, time_t *sec, int *frac)
{
    int64_t s = ms / 1000, r = ms % 1000;
    if (r < 0) {
        s -= 1;
        r += 1000;
    }
    *sec = (time_t)s;
    *frac = (int)r;
}

/* snprintf through a va_list: the compiler cannot bound the fields (years past 9999 would
 * not fit), and truncation at TIMEFMT_BUF is the intended behaviour for such years. */
static void emit(char out[TIMEFMT_BUF], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(char out[TIMEFMT_BUF], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, TIMEFMT_BUF, fmt, ap);
    va_end(ap);
}

static void broken_down(int64_t ms, struct tm *tm, int *frac)
{
    time_t sec;
    split(ms, &sec, frac);
    if (!gmtime_r(&sec, tm))
        memset(tm, 0, sizeof *tm); /* only for years past int's range */
}

void timefmt_rfc1123(int64_t ms, char out[TIMEFMT_BUF])
{
    struct tm tm;
    int frac;
    broken_down(ms, &tm, &frac);
    emit(out, "%s, %02d %s %04d %02d:%02d:%02d GMT", wkday[tm.tm_wday], tm.tm_mday,
         month[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void timefmt_iso8601_7(int64_t ms, char out[TIMEFMT_BUF])
{
    struct tm tm;
    int frac;
    broken_down(ms, &tm, &frac);
    emit(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03d0000Z", tm.tm_year + 1900, tm.tm_mon + 1,
         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

void timefmt_iso8601(int64_t ms, char out[TIMEFMT_BUF])
{
    struct tm tm;
    int frac;
    broken_down(ms, &tm, &frac);
    emit(out, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
         tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void timefmt_sp_event(int64_t ms, char out[TIMEFMT_BUF])
{
    struct tm tm;
    int frac;
    broken_down(ms, &tm, &frac);
    emit(out, "%02d/%02d/%04d %02d:%02d:%02d.%03d", tm.tm_mon + 1, tm.tm_mday, tm.tm_year + 1900,
         tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* ---- parsing ---- */

/* Reads exactly n decimal digits at *p and advances; -1 if any is not a digit. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

static bool lit(const char **p, const char *s)
{
    size_t n = strlen(s);
    if (strncmp(*p, s, n) != 0)
        return false;
    *p += n;
    return true;
}

/* Index of the name at *p in names (advancing past it), or -1. */
static int name_of(const char **p, const char *const *names, int count)
{
    for (int i = 0; i < count; i++) {
        if (lit(p, names[i]))
            return i;
    }
    return -1;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in(int y, int m /* 1..12 */)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/*
 * Milliseconds of a UTC civil time whose fields are all in range (checked here); wday, if
 * not -1, must match the date. Returns 0 or -1.
 */
static int civil(int y, int mo, int d, int h, int mi, int s, int wday, int64_t *ms)
{
    if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo) || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || s < 0 || s > 59)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    time_t t = timegm(&tm);
    if (wday >= 0 && tm.tm_wday != wday)
        return -1;
    *ms = (int64_t)t * 1000;
    return 0;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static int parse_imf(const char *p, int64_t *ms)
{
    int wd = name_of(&p, wkday, 7);
    if (wd < 0 || !lit(&p, ", "))
        return -1;
    int d = digits(&p, 2);
    if (d < 0 || !lit(&p, " "))
        return -1;
    int mo = name_of(&p, month, 12);
    if (mo < 0 || !lit(&p, " "))
        return -1;
    int y = digits(&p, 4), h, mi, s;
    if (y < 0 || !lit(&p, " ") || (h = digits(&p, 2)) < 0 || !lit(&p, ":") ||
        (mi = digits(&p, 2)) < 0 || !lit(&p, ":") || (s = digits(&p, 2)) < 0 || !lit(&p, " GMT") ||
        *p)
        return -1;
    return civil(y, mo + 1, d, h, mi, s, wd, ms);
}

/* "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years below 70 are 20xx (RFC 7231 7.1.1.1
 * asks for "50 years in the future" logic; a fixed pivot is simpler and ample here). */
static int parse_rfc850(const char *p, int64_t *ms)
{
    int wd = name_of(&p, weekday, 7);
    if (wd < 0 || !lit(&p, ", "))
        return -1;
    int d = digits(&p, 2);
    if (d < 0 || !lit(&p, "-"))
        return -1;
    int mo = name_of(&p, month, 12);
    if (mo < 0 || !lit(&p, "-"))
        return -1;
    int y = digits(&p, 2), h, mi, s;
    if (y < 0 || !lit(&p, " ") || (h = digits(&p, 2)) < 0 || !lit(&p, ":") ||
        (mi = digits(&p, 2)) < 0 || !lit(&p, ":") || (s = digits(&p, 2)) < 0 || !lit(&p, " GMT") ||
        *p)
        return -1;
    y += y < 70 ? 2000 : 1900;
    return civil(y, mo + 1, d, h, mi, s, wd, ms);
}

/* "Sun Nov  6 08:49:37 1994" (day of month padded with a space) */
static int parse_asctime(const char *p, int64_t *ms)
{
    int wd = name_of(&p, wkday, 7);
    if (wd < 0 || !lit(&p, " "))
        return -1;
    int mo = name_of(&p, month, 12);
    if (mo < 0 || !lit(&p, " "))
        return -1;
    int d;
    if (*p == ' ') {
        p++;
        d = digits(&p, 1);
    } else {
        d = digits(&p, 2);
    }
    int h, mi, s, y;
    if (d < 0 || !lit(&p, " ") || (h = digits(&p, 2)) < 0 || !lit(&p, ":") ||
        (mi = digits(&p, 2)) < 0 || !lit(&p, ":") || (s = digits(&p, 2)) < 0 || !lit(&p, " ") ||
        (y = digits(&p, 4)) < 0 || *p)
        return -1;
    return civil(y, mo + 1, d, h, mi, s, wd, ms);
}

int timefmt_parse_rfc1123(const char *s, int64_t *ms)
{
    int64_t v;
    if (parse_imf(s, &v) < 0 && parse_rfc850(s, &v) < 0 && parse_asctime(s, &v) < 0)
        return -1;
    *ms = v;
    return 0;
}

int timefmt_parse_iso8601(const char *s, int64_t *ms)
{
    const char *p = s;
    int y = digits(&p, 4), mo, d;
    if (y < 0 || !lit(&p, "-") || (mo = digits(&p, 2)) < 0 || !lit(&p, "-") ||
        (d = digits(&p, 2)) < 0)
        return -1;
    int h = 0, mi = 0, sec = 0, frac_ms = 0, offset_min = 0;
    if (*p) {
        if (!lit(&p, "T") || (h = digits(&p, 2)) < 0 || !lit(&p, ":") || (mi = digits(&p, 2)) < 0)
            return -1;
        if (lit(&p, ":")) {
            if ((sec = digits(&p, 2)) < 0)
                return -1;
            if (lit(&p, ".")) {
                /* 1 to 7 digits; milliseconds keep the first three (truncated). */
                int n = 0, scale = 100;
                while (p[n] >= '0' && p[n] <= '9') {
                    if (n < 3) {
                        frac_ms += (p[n] - '0') * scale;
                        scale /= 10;
                    }
                    n++;
                }
                if (n < 1 || n > 7)
                    return -1;
                p += n;
            }
        }
        if (*p == '+' || *p == '-') {
            int sign = *p++ == '+' ? 1 : -1;
            int oh, om;
            if ((oh = digits(&p, 2)) < 0 || !lit(&p, ":") || (om = digits(&p, 2)) < 0 || oh > 23 ||
                om > 59)
                return -1;
            offset_min = sign * (oh * 60 + om);
        } else if (!lit(&p, "Z")) {
            return -1;
        }
        if (*p)
            return -1;
    }
    int64_t v;
    if (civil(y, mo, d, h, mi, sec, -1, &v) < 0)
        return -1;
    *ms = v + frac_ms - (int64_t)offset_min * 60000;
    return 0;
}

/*
 * Durations: "P" then either "<n>W" alone, or "[<n>D]" and an optional "T" part of
 * "[<n>H][<n>M][<n>[.<f>]S]", in that order, at least one component in all and at least one
 * after a "T". Only seconds may carry a fraction (milliseconds kept, truncated).
 */
#define DURATION_MAX_MS LIMIT_TIME_MAX_MS /* a time plus a duration never overflows */

/* Reads an unsigned integer of at most 15 digits; -1 if none. */
static int64_t number(const char **p)
{
    int64_t v = 0;
    int n = 0;
    while ((*p)[n] >= '0' && (*p)[n] <= '9') {
        if (n == 15)
            return -1;
        v = v * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n == 0)
        return -1;
    *p += n;
    return v;
}

static int add(int64_t *total, int64_t n, int64_t unit_ms)
{
    if (n > DURATION_MAX_MS / unit_ms || *total > DURATION_MAX_MS - n * unit_ms)
        return -1;
    *total += n * unit_ms;
    return 0;
}

int timefmt_parse_duration(const char *s, int64_t *ms)
{
    const char *p = s;
    int64_t total = 0, n;
    if (!lit(&p, "P") || !*p)
        return -1;
    if ((n = number(&p)) >= 0) {
        if (lit(&p, "W")) {
            if (*p || add(&total, n, 7LL * 86400000) < 0)
                return -1;
            *ms = total;
            return 0;
        }
        if (!lit(&p, "D") || add(&total, n, 86400000) < 0)
            return -1;
    }
    if (lit(&p, "T")) {
        static const struct {
            char unit;
            int64_t ms;
        } parts[] = {{'H', 3600000}, {'M', 60000}, {'S', 1000}};
        int next = 0, seen = 0;
        while (*p) {
            if ((n = number(&p)) < 0)
                return -1;
            int frac = 0;
            if (*p == '.') {
                p++;
                int k = 0, scale = 100;
                while (p[k] >= '0' && p[k] <= '9') {
                    if (k < 3) {
                        frac += (p[k] - '0') * scale;
                        scale /= 10;
                    }
                    k++;
                }
                if (k == 0 || k > 9 || p[k] != 'S')
                    return -1;
                p += k;
            }
            while (next < 3 && parts[next].unit != *p)
                next++;
            if (next == 3 || add(&total, n, parts[next].ms) < 0 || add(&total, frac, 1) < 0)
                return -1;
            p++;
            next++;
            seen++;
        }
        if (!seen)
            return -1;
    }
    if (*p)
        return -1;
    *ms = total;
    return 0;
}
