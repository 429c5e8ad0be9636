/* base/clock.c: see clock.h. */
#include "base/clock.h"

#include <errno.h>
#include <time.h>

void
sl_clock_sleep_ms(int ms, bool (*stop)(void *arg), void *arg)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !(stop && stop(arg))) {
    }
}
