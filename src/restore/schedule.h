/* restore/schedule.h: the order in which a file's segments run (internal).
 * sl__restore_run_phases(): a sluice file's phases in increasing order (the preamble, phase
 *   0, is already run on every connection); within a phase the segments not marked parallel
 *   run in file order on the first worker, then the parallel ones on every worker at once
 *   (pg/workers.h threads). A phase starts only when the previous one has completed.
 * sl__restore_run_plain(): a plain script, in order, on the first worker.
 * A deadlock in a parallel segment is retried (a few times, after a growing pause) from the
 * statement that lost. Both return 0, or -1 with err set. */
#ifndef SL_RESTORE_SCHEDULE_H
#define SL_RESTORE_SCHEDULE_H

#include "restore/engine.h"

int sl__restore_run_phases(engine *eng, sl_error *err);
int sl__restore_run_plain(engine *eng, sl_error *err);
/* A pg_dump archive's selected entries (restore/toc.h): pass after pass, in TOC order. */
int sl__restore_run_archive(engine *eng, sl_error *err);

#endif
