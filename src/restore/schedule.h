/* restore/schedule.h: the order in which a file's segments run (internal).
 * sl__restore_run_graph(): a sluice file's segments (the preamble, phase 0, is already run on
 *   every connection) on the engine's workers (pg/workers.h threads), each segment as soon as
 *   what it depends on is done (restore/graph.h), the biggest runnable one first, no
 *   connection idle while one could start:
 *   - a segment not marked parallel runs after the one before it of that kind and after every
 *     segment of the earlier phases (the order and barriers of the file's phases);
 *   - a parallel segment runs after the serial segments before it and after every segment of
 *     the earlier phases, except that one that names its tables (io/bfile.h "tables": an
 *     index, constraint, trigger, ...) waits only for those tables' TABLE DATA segments and,
 *     after the INDEX phase, their INDEX-phase segments: an index starts as soon as its
 *     table's rows are in, beside other tables' COPYs;
 *   - two TABLE DATA segments of one table never run at the same time.
 *   With --single-transaction: every segment in file order on the one connection.
 * sl__restore_run_plain(): a plain script, in order, on the first worker.
 * A deadlock in a parallel segment is retried (a few times, after a growing pause) from the
 * statement that lost. Both return 0, or -1 with err set. */
#ifndef SL_RESTORE_SCHEDULE_H
#define SL_RESTORE_SCHEDULE_H

#include "restore/engine.h"

int sl__restore_run_graph(engine *eng, sl_error *err);
int sl__restore_run_plain(engine *eng, sl_error *err);
/* A pg_dump archive's selected entries (restore/toc.h): pass after pass, in TOC order. */
int sl__restore_run_archive(engine *eng, sl_error *err);

#endif
