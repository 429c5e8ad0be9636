/* tests/unit/test_interrupt.c: the signal side of pg/interrupt.h, without a server: what a
 * handler changes while an engine is armed and after it disarmed. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pg/interrupt.h"

static atomic_int handled;
static atomic_int armed_seen;

static void
on_signal(int sig)
{
    (void)sig;
    if (sl_interrupt_signal())
        atomic_fetch_add(&armed_seen, 1);
    atomic_fetch_add(&handled, 1);
}

static int
setup(void **state)
{
    (void)state;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGUSR1, &sa, NULL);
}

static void
test_not_armed_does_nothing(void **state)
{
    (void)state;
    atomic_store(&armed_seen, 0);
    assert_false(sl_interrupt_signal());
    raise(SIGUSR1);
    assert_int_equal(atomic_load(&armed_seen), 0);
    assert_false(sl_interrupt_fired());
}

static void
test_armed_sets_stop_and_fired(void **state)
{
    (void)state;
    atomic_bool stop = false;
    sl_interrupt_arm(&stop);
    assert_false(sl_interrupt_fired());
    raise(SIGUSR1);
    assert_true(atomic_load(&stop));
    assert_true(sl_interrupt_fired());
    sl_interrupt_disarm();
    /* after disarm the flag is no longer touched, and a new arm starts clean */
    atomic_store(&stop, false);
    raise(SIGUSR1);
    assert_false(atomic_load(&stop));
    atomic_bool again = false;
    sl_interrupt_arm(&again);
    assert_false(sl_interrupt_fired());
    sl_interrupt_disarm();
    assert_false(again);
}

static void
test_watch_without_connection(void **state)
{
    (void)state;
    atomic_bool stop = false;
    sl_interrupt_arm(&stop);
    assert_int_equal(sl_interrupt_watch(NULL), -1);
    sl_interrupt_unwatch(-1);
    sl_interrupt_unwatch(SL_INTERRUPT_SLOTS);
    sl_interrupt_disarm();
}

static atomic_bool hammering;

/* The handlers run on this thread, at the same time as the arms and disarms of the other. */
static void *
hammer(void *arg)
{
    (void)arg;
    while (atomic_load(&hammering))
        raise(SIGUSR1);
    return NULL;
}

/* Signals keep coming while engines arm and disarm with a flag on the heap that is freed right
 * after disarm: a handler writing it late would be a use after free (ASan builds see it). */
static void
test_disarm_under_signals(void **state)
{
    (void)state;
    pthread_t t;
    atomic_store(&hammering, true);
    assert_int_equal(pthread_create(&t, NULL, hammer, NULL), 0);
    int before = atomic_load(&handled);
    for (int i = 0; i < 20000 || atomic_load(&handled) - before < 1000; i++) {
        atomic_bool *stop = malloc(sizeof *stop);
        atomic_init(stop, false);
        sl_interrupt_arm(stop);
        sl_interrupt_disarm();
        free(stop);
    }
    atomic_store(&hammering, false);
    pthread_join(t, NULL);
    assert_true(atomic_load(&handled) - before >= 1000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_armed_does_nothing),
        cmocka_unit_test(test_armed_sets_stop_and_fired),
        cmocka_unit_test(test_watch_without_connection),
        cmocka_unit_test(test_disarm_under_signals),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
