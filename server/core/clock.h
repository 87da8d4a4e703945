/*
 * clock.h: the one "now" of the emulator, real time plus an offset. Every expiry check (SAS
 * st/se, message visibility and TTL, lifecycle deadlines) reads it here, so moving the offset
 * moves them all. The offset only moves forward; persisting it is the caller's job.
 */
#ifndef SPMIG_CLOCK_H
#define SPMIG_CLOCK_H

#include <stdint.h>

/* Milliseconds since the Unix epoch, emulator time. Thread-safe. */
int64_t clock_now_ms(void);
int64_t clock_offset_ms(void);
/* Sets the offset; returns 0, or -1 if it would move the clock backwards or past
 * LIMIT_TIME_MAX_MS. */
int clock_set_offset_ms(int64_t offset);
/* t + d (both at most LIMIT_TIME_MAX_MS), at most LIMIT_TIME_MAX_MS: a deadline past the
 * last time the formats can write is kept at it. */
int64_t clock_after(int64_t t, int64_t d);
/* Real (wall) time in milliseconds, for the rare place that must not be moved. */
int64_t clock_real_ms(void);

#endif
