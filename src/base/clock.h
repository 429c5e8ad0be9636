/* base/clock.h: waiting. sl_clock_sleep_ms() sleeps the whole time even when signals interrupt
 * it (nanosleep resumes with what is left), unless stop(arg) then says the wait is pointless
 * (e.g. a SIGINT reached the engine); stop may be NULL. */
#ifndef SL_BASE_CLOCK_H
#define SL_BASE_CLOCK_H

#include <stdbool.h>

void sl_clock_sleep_ms(int ms, bool (*stop)(void *arg), void *arg);

#endif
