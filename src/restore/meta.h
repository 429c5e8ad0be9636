/* restore/meta.h: the psql meta-commands a script may hold (internal).
 * \restrict and \unrestrict only guard psql and are ignored; \connect DB (or \c) in a plain
 * script opens a connection to DB for the rest of the script (not with --single-transaction);
 * any other meta-command fails as a statement does (restore/runner.h). */
#ifndef SL_RESTORE_META_H
#define SL_RESTORE_META_H

#include "restore/runner.h"

int sl__restore_meta(run *r, const sl_split_item *it, sl_error *err);

#endif
