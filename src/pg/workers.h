/* pg/workers.h: the worker threads of one engine run (backup, restore, later the tap), the
 * first error that stops them, the cancel of every running query, and SIGINT/SIGTERM.
 * Why pg/ and not base/: stopping a run means canceling the statements its connections are
 * running, which needs libpq, and a signal handler may only cancel through pg/interrupt.h's
 * async-signal-safe table of cancel handles. A base/ module with a cancel hook would need a
 * hook that is itself async-signal-safe and holds those handles, i.e. pg/interrupt again;
 * every engine sits above pg/, so the one module here serves them all.
 * Calling order: sl_workers_new() (arms pg/interrupt.h: one run per process at a time) ->
 *   sl_workers_watch(conn) for every connection that runs statements (unwatch when it closes)
 *   -> { sl_workers_run(n, fn, arg) }* -- inside fn: sl_workers_stopping() before each piece
 *   of work, sl_workers_fail(err) when one fails -> sl_workers_first_error() ->
 *   sl_workers_disarm() -> sl_workers_signaled() -> sl_workers_free().
 * First error: sl_workers_fail() keeps the first error it is given (under one lock; later ones
 *   are usually "canceling statement" echoes of it), sets the stop flag, and cancels every
 *   running query: by default a cancel request to each watched connection, or opts->cancel
 *   when the engine knows better (a pool that must also stop lending connections).
 * Signals: sl_workers_interrupt() from a SIGINT/SIGTERM handler sets the stop flag and cancels
 *   the watched connections' statements; it records no error (a handler may not lock), so an
 *   engine asks sl_workers_signaled() at the end and names the signal in its own error.
 * Threads: sl_workers_run() runs fn(arg, i) for i in [0, n) on n threads (on the caller's
 *   thread when n is 1) and returns once all have returned.
 * Ownership: the handle is the caller's; watched connections stay the caller's (pg/interrupt
 *   keeps its own cancel handles, so a watched connection may close at any time). */
#ifndef SL_PG_WORKERS_H
#define SL_PG_WORKERS_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "base/error.h"

typedef struct sl_workers sl_workers;

typedef struct sl_workers_opts {
    void (*cancel)(void *arg);  /* NULL: cancel the watched connections' statements */
    void *cancel_arg;
} sl_workers_opts;
#define SL_WORKERS_OPTS(...) (&(sl_workers_opts){__VA_ARGS__})

/* opts may be NULL. */
sl_workers *sl_workers_new(const sl_workers_opts *opts);
/* Disarms (if not done yet) and frees; accepts NULL. */
void sl_workers_free(sl_workers *w);

/* A slot for sl_workers_unwatch(), -1 when pg is NULL or too many are watched. */
int sl_workers_watch(sl_workers *w, PGconn *pg);
void sl_workers_unwatch(sl_workers *w, int slot);  /* -1 is ignored */

/* Runs fn(arg, i) for every i < n (n >= 1) and joins the threads. -1 (SL_E_INTERNAL) only
 * when no thread could start; the workers' own errors are read with _first_error(). */
SL_MUSTCHECK int sl_workers_run(sl_workers *w, int n, void (*fn)(void *arg, int i), void *arg,
                                sl_error *err);

/* Records err when it is the run's first error, then stops the run and cancels every running
 * query. Returns whether err was the first. Any thread. */
bool sl_workers_fail(sl_workers *w, const sl_error *err);
/* Whether the run must stop: an error was recorded or a signal came. Any thread. */
bool sl_workers_stopping(sl_workers *w);
/* Copies the first recorded error into *out; false (out untouched) when none was. */
bool sl_workers_first_error(sl_workers *w, sl_error *out);

/* For the SIGINT/SIGTERM handler: async-signal-safe. False when no run is armed. */
bool sl_workers_interrupt(void);
/* Signals no longer reach this run; returns once no handler is using it. Idempotent. */
void sl_workers_disarm(sl_workers *w);
/* Whether a signal stopped this run (it came between new and disarm). */
bool sl_workers_signaled(sl_workers *w);

#endif
