/*
 * timefmt.h: the time formats of the wire, all UTC, all as milliseconds since the Unix
 * epoch (int64_t): RFC 1123 (HTTP dates), ISO 8601 / RFC 3339 (SAS st/se, XML bodies, with
 * Azure's 7 fractional digits), SharePoint's "MM/dd/yyyy HH:mm:ss.fff", and ISO 8601 durations.
 */
#ifndef SPMIG_TIMEFMT_H
#define SPMIG_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_BUF 40 /* enough for every format below, NUL included */

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
void timefmt_rfc1123(int64_t ms, char out[TIMEFMT_BUF]);
/* Parses an RFC 1123 date (also accepts RFC 850 and asctime as HTTP allows). 0 or -1. */
int timefmt_parse_rfc1123(const char *s, int64_t *ms);
/* "2026-11-22T12:55:53.9210000Z" (7 fractional digits, as Azure writes them). */
void timefmt_iso8601_7(int64_t ms, char out[TIMEFMT_BUF]);
/* "2026-11-22T12:55:53Z" (seconds). */
void timefmt_iso8601(int64_t ms, char out[TIMEFMT_BUF]);
/*
 * Parses the ISO 8601 forms Azure accepts in SAS and bodies: YYYY-MM-DD,
 * YYYY-MM-DDThh:mmZ, YYYY-MM-DDThh:mm:ssZ, with optional fraction (1..7 digits), and a 'Z'
 * or a +hh:mm/-hh:mm offset. Anything else (trailing bytes, out-of-range fields) is -1.
 */
int timefmt_parse_iso8601(const char *s, int64_t *ms);
/* "11/22/2026 12:55:53.921" (SharePoint's event time format). */
void timefmt_sp_event(int64_t ms, char out[TIMEFMT_BUF]);
/*
 * Parses an ISO 8601 duration such as P3D, PT36H, P1DT2H30M10.5S, P2W (no years or months:
 * their length is not fixed), at most LIMIT_TIME_MAX_MS. Writes milliseconds; returns 0 or -1.
 */
int timefmt_parse_duration(const char *s, int64_t *ms);

#endif
