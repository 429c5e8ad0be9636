/* pg/interrupt.c: see interrupt.h.
 *
 * Design note. The handler and the engine's threads share only lock-free atomics (a handler
 * may not take a lock). A handler announces itself in `handlers` before it reads a slot and
 * leaves after its last PQcancel; unwatch and disarm first take the handle out of reach (a
 * slot set to NULL, `stop` set to NULL), then wait until `handlers` is 0, and only then free
 * it. With sequentially consistent atomics, a handler that read a handle before it was taken
 * out of reach is still counted when the waiter looks, so no handle is freed under a running
 * PQcancel. */
#include "pg/interrupt.h"

#include <errno.h>
#include <sched.h>

_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2 &&
                   ATOMIC_POINTER_LOCK_FREE == 2,
               "a signal handler may only use lock-free atomics");

static PGcancel *_Atomic slots[SL_INTERRUPT_SLOTS];
static atomic_int high;              /* slots[high..] were never used since arm */
static atomic_bool armed;
static atomic_bool fired;
static atomic_bool *_Atomic stop_flag;
static atomic_int handlers;          /* handlers running now */

static void
wait_for_handlers(void)
{
    while (atomic_load(&handlers) > 0)
        sched_yield();
}

void
sl_interrupt_arm(atomic_bool *stop)
{
    atomic_store(&fired, false);
    atomic_store(&stop_flag, stop);
    atomic_store(&armed, true);
}

int
sl_interrupt_watch(PGconn *pg)
{
    if (!pg)
        return -1;
    PGcancel *c = PQgetCancel(pg);
    if (!c)
        return -1;
    for (int i = 0; i < SL_INTERRUPT_SLOTS; i++) {
        PGcancel *expected = NULL;
        if (atomic_compare_exchange_strong(&slots[i], &expected, c)) {
            int h = atomic_load(&high);
            while (h < i + 1 && !atomic_compare_exchange_weak(&high, &h, i + 1))
                ;
            return i;
        }
    }
    PQfreeCancel(c);
    return -1;
}

void
sl_interrupt_unwatch(int slot)
{
    if (slot < 0 || slot >= SL_INTERRUPT_SLOTS)
        return;
    PGcancel *c = atomic_exchange(&slots[slot], NULL);
    if (!c)
        return;
    wait_for_handlers();
    PQfreeCancel(c);
}

bool
sl_interrupt_fired(void)
{
    return atomic_load(&fired);
}

void
sl_interrupt_disarm(void)
{
    atomic_store(&armed, false);
    atomic_store(&stop_flag, NULL);
    int n = atomic_exchange(&high, 0);
    for (int i = 0; i < n; i++)
        sl_interrupt_unwatch(i);
    wait_for_handlers();
}

/* Sends a cancel request for every watched connection; the caller counts itself in
 * `handlers`, so no handle is freed under it. */
static void
cancel_watched(void)
{
    char errbuf[256];  /* PQcancel is signal-safe with a local buffer */
    int n = atomic_load(&high);
    for (int i = 0; i < n && i < SL_INTERRUPT_SLOTS; i++) {
        PGcancel *c = atomic_load(&slots[i]);
        if (c)
            PQcancel(c, errbuf, (int)sizeof errbuf);
    }
}

void
sl_interrupt_cancel_all(void)
{
    atomic_fetch_add(&handlers, 1);
    if (atomic_load(&armed))
        cancel_watched();
    atomic_fetch_sub(&handlers, 1);
}

bool
sl_interrupt_signal(void)
{
    int saved_errno = errno;  /* the interrupted code may be about to read it */
    atomic_fetch_add(&handlers, 1);
    bool was_armed = atomic_load(&armed);
    if (was_armed) {
        atomic_store(&fired, true);
        atomic_bool *stop = atomic_load(&stop_flag);
        if (stop)
            atomic_store(stop, true);
        cancel_watched();
    }
    atomic_fetch_sub(&handlers, 1);
    errno = saved_errno;
    return was_armed;
}
