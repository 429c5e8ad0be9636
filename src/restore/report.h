/* restore/report.h: the one error of a run that a signal stopped (internal): what it had
 * restored by then -- nothing (--single-transaction rolls it all back), how many of a plain
 * script's statements stay committed, or how many segments and which tables' data are
 * complete. Replaces err, keeping a plain script's statement location as its context. */
#ifndef SL_RESTORE_REPORT_H
#define SL_RESTORE_REPORT_H

#include "restore/engine.h"

void sl__restore_interrupted(const engine *eng, sl_error *err);

#endif
