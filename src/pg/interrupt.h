/* pg/interrupt.h: SIGINT/SIGTERM reach the statements of a running backup or restore.
 * A signal handler may only do async-signal-safe things: no mutex, no malloc, no logging. So
 * the handler (sl_interrupt_signal) only sets atomic flags and sends a cancel request
 * (PQcancel, which libpq documents as safe there) for every connection the engine watches;
 * the engine's own threads see the flag, record the error under their own lock, roll back and
 * report. One engine is armed at a time in a process.
 * Calling order (engine): sl_interrupt_arm(&stop) -> { sl_interrupt_watch(conn) ->
 *   ... -> sl_interrupt_unwatch(slot) }* -> sl_interrupt_fired()? -> sl_interrupt_disarm().
 *   Between arm and disarm, a signal sets *stop and the fired flag, and cancels the statement
 *   running on each watched connection. Watch a connection before running statements on it;
 *   an engine also checks *stop before each statement, since a signal that comes between two
 *   statements has nothing to cancel.
 * Ownership: the module keeps its own cancel handle per watched connection (freed by unwatch
 *   or disarm), so a watched connection may be closed at any time. `stop` is borrowed until
 *   disarm, which returns only once no handler is using it. Unwatch and disarm may not be
 *   called from a signal handler; everything else is safe from any thread.
 * Engines use it through pg/workers.h, which adds the threads and the first-error latch. */
#ifndef SL_PG_INTERRUPT_H
#define SL_PG_INTERRUPT_H

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>

/* At most this many connections are watched at once. */
#define SL_INTERRUPT_SLOTS 1024

void sl_interrupt_arm(atomic_bool *stop);
/* The slot to give to unwatch, or -1 when pg is NULL or all slots are taken. */
int sl_interrupt_watch(PGconn *pg);
void sl_interrupt_unwatch(int slot);  /* -1 is ignored */
/* Whether a signal came since sl_interrupt_arm(). */
bool sl_interrupt_fired(void);
void sl_interrupt_disarm(void);
/* Sends a cancel request to every watched connection, as a signal does, but sets no flag:
 * for an engine whose own first error stops the run (pg/workers.h). Any thread; not from a
 * signal handler (the handler calls sl_interrupt_signal()). */
void sl_interrupt_cancel_all(void);
/* For the signal handler: async-signal-safe. Returns false when no engine is armed. */
bool sl_interrupt_signal(void);

#endif
