/* restore/graph.h: which restore item may run next, by dependencies (pure: no threads, no I/O).
 * A graph holds n items (0..n-1), each with a weight (its size: the biggest runnable item is
 * handed out first, so the long ones start early and the short ones fill the gaps), an
 * optional lock key (two items with the same key never run at the same time: two COPYs into
 * one table wait on each other for its extension lock, an index build on a table blocks its
 * COPY) and the items it depends on. An item is runnable when every item it depends on is
 * done. The caller's workers share the graph under their own lock:
 *   sl_graph_new(n) -> sl_graph_item()/sl_graph_depend()* -> sl_graph_seal()
 *   -> { sl_graph_take() -> run it -> sl_graph_done() }* until sl_graph_finished()
 *   -> sl_graph_free().
 * sl_graph_take() returns SL_GRAPH_NONE when no item can start now (all left wait on running
 * ones, or on a lock a running one holds): the worker waits for the next _done() and asks
 * again. It never returns SL_GRAPH_NONE while an item is runnable and not locked out, so no
 * worker idles while work could start. Ties in weight go to the lower index (file order).
 * Errors: sl_graph_seal() fails (SL_E_ARCHIVE) on a dependency cycle, naming an item in it. */
#ifndef SL_RESTORE_GRAPH_H
#define SL_RESTORE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define SL_GRAPH_NONE SIZE_MAX
#define SL_GRAPH_NO_LOCK 0

typedef struct sl_graph sl_graph;

sl_graph *sl_graph_new(size_t n);
void sl_graph_free(sl_graph *g);
/* Sets item i's weight and lock key (SL_GRAPH_NO_LOCK: none). */
void sl_graph_item(sl_graph *g, size_t i, uint64_t weight, uint64_t lock);
/* Item i runs only after item on is done (i != on; repeated pairs are harmless). */
void sl_graph_depend(sl_graph *g, size_t i, size_t on);
/* Checks for cycles and computes what is runnable; no _depend() after it. */
SL_MUSTCHECK int sl_graph_seal(sl_graph *g, sl_error *err);
/* The heaviest runnable item whose lock no running item holds, marked running. */
size_t sl_graph_take(sl_graph *g);
/* Item i (taken) has completed: what waited on it may become runnable. */
void sl_graph_done(sl_graph *g, size_t i);
/* Every item is done. */
bool sl_graph_finished(const sl_graph *g);
/* Items taken and not yet done. */
size_t sl_graph_running(const sl_graph *g);

#endif
