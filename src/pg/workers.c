/* pg/workers.c: see workers.h.
 *
 * Design note. `stop` is the one flag workers look at; two writers set it: sl_workers_fail()
 * (under `mu`, with the first error) and the signal handler (pg/interrupt.h, lock-free, no
 * error). `failed` and `first` are written only under `mu`, and the cancel runs after `mu` is
 * released, so a slow cancel request never holds up other workers' failures. */
#include "pg/workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "base/mem.h"
#include "pg/interrupt.h"

struct sl_workers {
    sl_workers_opts opts;
    atomic_bool stop;
    pthread_mutex_t mu;
    bool failed;      /* under mu */
    sl_error first;   /* under mu */
    bool armed;
    bool signaled;    /* taken at disarm */
};

sl_workers *
sl_workers_new(const sl_workers_opts *opts)
{
    sl_workers *w = sl_calloc(1, sizeof *w);
    if (opts)
        w->opts = *opts;
    atomic_init(&w->stop, false);
    pthread_mutex_init(&w->mu, NULL);
    sl_interrupt_arm(&w->stop);
    w->armed = true;
    return w;
}

void
sl_workers_disarm(sl_workers *w)
{
    if (!w->armed)
        return;
    sl_interrupt_disarm();
    w->signaled = sl_interrupt_fired();
    w->armed = false;
}

bool
sl_workers_signaled(sl_workers *w)
{
    return w->armed ? sl_interrupt_fired() : w->signaled;
}

void
sl_workers_free(sl_workers *w)
{
    if (!w)
        return;
    sl_workers_disarm(w);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

int
sl_workers_watch(sl_workers *w, PGconn *pg)
{
    (void)w;
    return sl_interrupt_watch(pg);
}

void
sl_workers_unwatch(sl_workers *w, int slot)
{
    (void)w;
    sl_interrupt_unwatch(slot);
}

bool
sl_workers_fail(sl_workers *w, const sl_error *err)
{
    pthread_mutex_lock(&w->mu);
    bool first = !w->failed;
    if (first) {
        w->failed = true;
        w->first = *err;
        atomic_store(&w->stop, true);
    }
    pthread_mutex_unlock(&w->mu);
    if (!first)
        return false;
    if (w->opts.cancel)
        w->opts.cancel(w->opts.cancel_arg);
    else
        sl_interrupt_cancel_all();
    return true;
}

bool
sl_workers_stopping(sl_workers *w)
{
    return atomic_load(&w->stop);
}

bool
sl_workers_first_error(sl_workers *w, sl_error *out)
{
    pthread_mutex_lock(&w->mu);
    bool failed = w->failed;
    if (failed)
        *out = w->first;
    pthread_mutex_unlock(&w->mu);
    return failed;
}

bool
sl_workers_interrupt(void)
{
    return sl_interrupt_signal();
}

typedef struct thread_arg {
    void (*fn)(void *arg, int i);
    void *arg;
    int i;
} thread_arg;

static void *
thread_main(void *p)
{
    thread_arg *t = p;
    t->fn(t->arg, t->i);
    return NULL;
}

int
sl_workers_run(sl_workers *w, int n, void (*fn)(void *arg, int i), void *arg, sl_error *err)
{
    (void)w;
    if (n <= 1) {
        fn(arg, 0);
        return 0;
    }
    pthread_t *threads = sl_calloc((size_t)n, sizeof *threads);
    thread_arg *args = sl_calloc((size_t)n, sizeof *args);
    int started = 0;
    for (; started < n; started++) {
        args[started] = (thread_arg){fn, arg, started};
        if (pthread_create(&threads[started], NULL, thread_main, &args[started]) != 0)
            break;
    }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(args);
    free(threads);
    if (started == 0) {
        sl_error_set(err, SL_E_INTERNAL, "could not start worker threads");
        return -1;
    }
    return 0;
}
