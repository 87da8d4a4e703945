/*
 * clock.c: emulator time as real time plus an offset held in an atomic, so readers on any
 * thread never take a lock. Persisting the offset across restarts is the caller's job.
 */
#include "clock.h"
#include "spmig_limits.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic int64_t offset_ms;

int64_t clock_real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_now_ms(void)
{
    return clock_real_ms() + atomic_load(&offset_ms);
}

int64_t clock_offset_ms(void)
{
    return atomic_load(&offset_ms);
}

int64_t clock_after(int64_t t, int64_t d)
{
    int64_t sum = t + d;
    return sum > LIMIT_TIME_MAX_MS ? LIMIT_TIME_MAX_MS : sum;
}

int clock_set_offset_ms(int64_t offset)
{
    if (offset > LIMIT_TIME_MAX_MS - clock_real_ms())
        return -1;
    int64_t cur = atomic_load(&offset_ms);
    while (offset >= cur) {
        if (atomic_compare_exchange_weak(&offset_ms, &cur, offset))
            return 0;
    }
    return -1;
}
