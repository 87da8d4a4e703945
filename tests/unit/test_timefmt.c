/*
 * test_timefmt.c: unit tests of common/timefmt.c: formatting, round trips, and strict
 * rejection of malformed dates and durations. Known answers come from RFC 7231's example
 * date and from Python 3 (datetime, calendar.timegm, email.utils.formatdate), as noted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <string.h>

#include "timefmt.h"

/* RFC 7231 7.1.1.1's example, "Sun, 06 Nov 1994 08:49:37 GMT" = 784111777 s
 * (python3: email.utils.formatdate(784111777, usegmt=True)). */
#define RFC_EXAMPLE_MS 784111777000LL
/* python3: datetime(2026,11,22,12,55,53,921000,tzinfo=timezone.utc).timestamp() * 1000 */
#define T2026_MS 1795352153921LL

static void test_format(void **state)
{
    (void)state;
    char buf[TIMEFMT_BUF];
    timefmt_rfc1123(RFC_EXAMPLE_MS, buf);
    assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    timefmt_rfc1123(T2026_MS, buf);
    assert_string_equal(buf, "Sun, 22 Nov 2026 12:55:53 GMT");
    timefmt_iso8601_7(T2026_MS, buf);
    assert_string_equal(buf, "2026-11-22T12:55:53.9210000Z");
    timefmt_iso8601(T2026_MS, buf);
    assert_string_equal(buf, "2026-11-22T12:55:53Z");
    timefmt_sp_event(T2026_MS, buf);
    assert_string_equal(buf, "11/22/2026 12:55:53.921");
    timefmt_iso8601_7(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.0000000Z");
}

static void test_format_before_1970(void **state)
{
    (void)state;
    char buf[TIMEFMT_BUF];
    /* python3: email.utils.formatdate(-1, usegmt=True) = "Wed, 31 Dec 1969 23:59:59 GMT" */
    timefmt_rfc1123(-1, buf);
    assert_string_equal(buf, "Wed, 31 Dec 1969 23:59:59 GMT");
    timefmt_iso8601_7(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.9990000Z");
    /* python3: calendar.timegm of 0001-01-01 = -62135596800 s */
    timefmt_iso8601(-62135596800000LL, buf);
    assert_string_equal(buf, "0001-01-01T00:00:00Z");
}

static void test_format_ignores_locale(void **state)
{
    (void)state;
    /* Names are the module's own; a different locale (if installed) changes nothing. */
    setlocale(LC_ALL, "de_DE.UTF-8");
    char buf[TIMEFMT_BUF];
    timefmt_rfc1123(RFC_EXAMPLE_MS, buf);
    assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    int64_t ms = 0;
    assert_int_equal(timefmt_parse_rfc1123("Sun, 06 Nov 1994 08:49:37 GMT", &ms), 0);
    assert_true(ms == RFC_EXAMPLE_MS);
    setlocale(LC_ALL, "C");
}

static void test_parse_http_dates(void **state)
{
    (void)state;
    int64_t ms = 0;
    /* The three forms RFC 7231 7.1.1.1 lists for the same instant. */
    assert_int_equal(timefmt_parse_rfc1123("Sun, 06 Nov 1994 08:49:37 GMT", &ms), 0);
    assert_true(ms == RFC_EXAMPLE_MS);
    ms = 0;
    assert_int_equal(timefmt_parse_rfc1123("Sunday, 06-Nov-94 08:49:37 GMT", &ms), 0);
    assert_true(ms == RFC_EXAMPLE_MS);
    ms = 0;
    assert_int_equal(timefmt_parse_rfc1123("Sun Nov  6 08:49:37 1994", &ms), 0);
    assert_true(ms == RFC_EXAMPLE_MS);
    /* asctime with a two-digit day. */
    assert_int_equal(timefmt_parse_rfc1123("Sun Nov 22 12:55:53 2026", &ms), 0);
    assert_true(ms == T2026_MS - 921);
    /* RFC 850 with a 20xx year. */
    assert_int_equal(timefmt_parse_rfc1123("Sunday, 22-Nov-26 12:55:53 GMT", &ms), 0);
    assert_true(ms == T2026_MS - 921);
}

static void test_rfc1123_round_trip(void **state)
{
    (void)state;
    /* Whole seconds across leap days, month ends and the epoch. */
    const int64_t secs[] = {0,          -1,         951782400, /* 2000-02-29 */
                            1709164800,                        /* 2024-02-29 */
                            1709251199, 2147483647, 4102444800, 253402300799 /* 9999-12-31 */};
    for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++) {
        char buf[TIMEFMT_BUF];
        int64_t back = 0;
        timefmt_rfc1123(secs[i] * 1000, buf);
        assert_int_equal(timefmt_parse_rfc1123(buf, &back), 0);
        assert_true(back == secs[i] * 1000);
        timefmt_iso8601(secs[i] * 1000, buf);
        assert_int_equal(timefmt_parse_iso8601(buf, &back), 0);
        assert_true(back == secs[i] * 1000);
    }
}

static void test_parse_http_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "Mon, 06 Nov 1994 08:49:37 GMT",    /* wrong day of the week */
        "Sun, 6 Nov 1994 08:49:37 GMT",     /* one-digit day */
        "Sun, 06 nov 1994 08:49:37 GMT",    /* lowercase month */
        "sun, 06 Nov 1994 08:49:37 GMT",    /* lowercase day */
        "Sun, 06 Nov 1994 08:49:37",        /* no zone */
        "Sun, 06 Nov 1994 08:49:37 UTC",    /* not GMT */
        "Sun, 06 Nov 1994 08:49:37 GMT ",   /* trailing space */
        " Sun, 06 Nov 1994 08:49:37 GMT",   /* leading space */
        "Sun, 06 Nov 1994 8:49:37 GMT",     /* one-digit hour */
        "Sun, 06 Nov 1994 24:00:00 GMT",    /* hour 24 */
        "Sun, 06 Nov 1994 08:60:00 GMT",    /* minute 60 */
        "Sun, 06 Nov 1994 08:49:61 GMT",    /* second 61 */
        "Thu, 30 Feb 1995 08:49:37 GMT",    /* no such day */
        "Sun, 00 Nov 1994 08:49:37 GMT",    /* day 0 */
        "Sun,06 Nov 1994 08:49:37 GMT",     /* missing space */
        "Sun, 06 Nov 94 08:49:37 GMT",      /* two-digit year in RFC 1123 */
        "Sunday, 06-Nov-1994 08:49:37 GMT", /* four-digit year in RFC 850 */
        "Sun Nov 6 08:49:37 1994",          /* asctime needs the padding space */
        "1994-11-06T08:49:37Z",             /* ISO, not an HTTP date */
        "Sun, 06 Nov 1994 08:49:37 GMTx",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 12345;
        assert_int_equal(timefmt_parse_rfc1123(bad[i], &ms), -1);
        assert_true(ms == 12345); /* untouched on failure */
    }
}

static void assert_iso(const char *s, int64_t want)
{
    int64_t ms = 0;
    if (timefmt_parse_iso8601(s, &ms) != 0)
        fail_msg("refused %s", s);
    assert_true(ms == want);
}

static void test_parse_iso8601(void **state)
{
    (void)state;
    /* python3 calendar.timegm: 2024-02-29T00:00:00Z = 1709164800 s */
    const int64_t d = 1709164800000LL;
    assert_iso("2024-02-29", d);
    assert_iso("2024-02-29T00:00Z", d);
    assert_iso("2024-02-29T23:59Z", d + (23 * 60 + 59) * 60000LL);
    assert_iso("2024-02-29T00:00:00Z", d);
    assert_iso("2024-02-29T00:00:01Z", d + 1000);
    assert_iso("2024-02-29T00:00:01.5Z", d + 1500);
    assert_iso("2024-02-29T00:00:01.25Z", d + 1250);
    assert_iso("2024-02-29T00:00:01.123Z", d + 1123);
    assert_iso("2024-02-29T00:00:01.1239999Z", d + 1123); /* truncated to milliseconds */
    assert_iso("2026-11-22T12:55:53.9210000Z", T2026_MS);
    /* python3: datetime.fromisoformat("2024-03-01T01:30:00+02:00").timestamp() = 1709249400 */
    assert_iso("2024-03-01T01:30:00+02:00", 1709249400000LL);
    /* python3: datetime.fromisoformat("2024-02-29T22:30:00-05:30").timestamp() = 1709265600 */
    assert_iso("2024-02-29T22:30:00-05:30", 1709265600000LL);
    assert_iso("2024-02-29T22:30-05:30", 1709265600000LL);
    assert_iso("2024-02-29T00:00:00+00:00", d);
    assert_iso("1970-01-01T00:00:00Z", 0);
    assert_iso("1969-12-31T23:59:59.999Z", -1);
}

static void test_iso8601_7_round_trip(void **state)
{
    (void)state;
    const int64_t v[] = {0, 1, 999, 1000, T2026_MS, -1, -1001, 253402300799999LL};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char buf[TIMEFMT_BUF];
        int64_t back = 0;
        timefmt_iso8601_7(v[i], buf);
        assert_int_equal(timefmt_parse_iso8601(buf, &back), 0);
        assert_true(back == v[i]);
    }
}

static void test_parse_iso8601_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "2024",
        "2024-02",
        "2024-2-29",
        "24-02-29",
        "2024/02/29",
        "2024-02-30", /* no such day */
        "2023-02-29", /* not a leap year */
        "2024-13-01",
        "2024-00-01",
        "2024-01-00",
        "0000-01-01", /* year 0 */
        "2024-02-29T",
        "2024-02-29T00Z",
        "2024-02-29T00:00",     /* no zone */
        "2024-02-29T00:00:00",  /* no zone */
        "2024-02-29 00:00:00Z", /* space for T */
        "2024-02-29t00:00:00Z", /* lowercase t */
        "2024-02-29T00:00:00z", /* lowercase z */
        "2024-02-29T24:00:00Z",
        "2024-02-29T00:60:00Z",
        "2024-02-29T00:00:60Z",
        "2024-02-29T0:00:00Z",
        "2024-02-29T00:00:00.Z",         /* empty fraction */
        "2024-02-29T00:00:00.12345678Z", /* 8 digits */
        "2024-02-29T00:00.5Z",           /* fraction without seconds */
        "2024-02-29T00:00:00ZZ",
        "2024-02-29T00:00:00Z ",
        " 2024-02-29",
        "2024-02-29Z", /* zone on a date alone */
        "2024-02-29T00:00:00+0200",
        "2024-02-29T00:00:00+02",
        "2024-02-29T00:00:00+24:00",
        "2024-02-29T00:00:00+02:60",
        "2024-02-29T00:00:00Z+02:00",
        "+2024-02-29",
        "2024-02-29T00:00:00.1a3Z",
        "2024-02-29T00:00:00,5Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 777;
        if (timefmt_parse_iso8601(bad[i], &ms) != -1)
            fail_msg("accepted %s", bad[i]);
        assert_true(ms == 777);
    }
}

static void assert_duration(const char *s, int64_t want)
{
    int64_t ms = -1;
    if (timefmt_parse_duration(s, &ms) != 0)
        fail_msg("refused %s", s);
    assert_true(ms == want);
}

static void test_durations(void **state)
{
    (void)state;
    assert_duration("P3D", 3 * 86400000LL);
    assert_duration("PT36H", 36 * 3600000LL);
    assert_duration("P1DT2H30M10.5S", 86400000LL + 2 * 3600000LL + 30 * 60000LL + 10500);
    assert_duration("P2W", 14 * 86400000LL);
    assert_duration("PT0S", 0);
    assert_duration("P0D", 0);
    assert_duration("PT1.25S", 1250);
    assert_duration("PT0.001S", 1);
    assert_duration("PT0.0019S", 1); /* truncated */
    assert_duration("PT90M", 90 * 60000LL);
    assert_duration("PT1H1S", 3601000);
    assert_duration("P21D", 21 * 86400000LL);
    assert_duration("P1DT1M", 86400000LL + 60000);
}

static void test_duration_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "P",
        "PT",
        "P1DT",
        "3D",
        "p3d",
        "P3d",
        "pt1h",
        "P1Y", /* years: no fixed length */
        "P1M", /* months: no fixed length */
        "P1Y2M3D",
        "P1W2D", /* weeks only alone */
        "P1WT1H",
        "PT1H1H", /* repeated */
        "PT1S1M", /* out of order */
        "PT1M1H",
        "P1DT1D",
        "-P1D", /* negative */
        "P-1D",
        "P1.5D", /* fraction only on seconds */
        "PT1.5H",
        "PT1.S",
        "PT.5S",
        "PT1",
        "P1D ",
        " P1D",
        "PT1H ",
        "P1DT2H30M10.5",
        "P99999999999999999999D", /* too long a number */
        "P999999999999999D",      /* out of range */
        "P2932897D",              /* past LIMIT_TIME_MAX_MS (9999 years) */
        "PT253402300800S",
        "PT1.5S1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 777;
        if (timefmt_parse_duration(bad[i], &ms) != -1)
            fail_msg("accepted %s", bad[i]);
        assert_true(ms == 777);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_before_1970),
        cmocka_unit_test(test_format_ignores_locale),
        cmocka_unit_test(test_parse_http_dates),
        cmocka_unit_test(test_rfc1123_round_trip),
        cmocka_unit_test(test_parse_http_rejects),
        cmocka_unit_test(test_parse_iso8601),
        cmocka_unit_test(test_iso8601_7_round_trip),
        cmocka_unit_test(test_parse_iso8601_rejects),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_duration_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
