/* base/clock.h: time and waiting. sl_clock_sleep_ms() sleeps the whole time even when signals
 * interrupt it (nanosleep resumes with what is left), unless stop(arg) then says the wait is
 * pointless (e.g. a SIGINT reached the engine); stop may be NULL. The monotonic clock measures
 * durations and deadlines (it never jumps); the wall clock says when something happened. */
#ifndef SL_BASE_CLOCK_H
#define SL_BASE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

void sl_clock_sleep_ms(int ms, bool (*stop)(void *arg), void *arg);
/* Monotonic time: in milliseconds, and in seconds with a fraction. */
int64_t sl_clock_ms(void);
double sl_clock_s(void);
/* Wall-clock time in microseconds since 1970-01-01 UTC. */
int64_t sl_clock_wall_us(void);

#endif
