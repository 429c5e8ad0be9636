/* dump/fdw.h: foreign data wrappers, foreign servers and user mappings, for dump/routine.h.
 * Internal to the routine reader: sl_dump_read_routines() calls sl__fdw_read(); the rules on
 * what is read, filters and errors are routine.h's. A user mapping's options may hold a
 * password: it is dumped (the user asked for a backup of it) but never logged. */
#ifndef SL_DUMP_FDW_H
#define SL_DUMP_FDW_H

#include "base/error.h"
#include "dump/item.h"
#include "pg/conn.h"
#include "pg/pattern.h"

SL_MUSTCHECK int sl__fdw_read(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out,
                              sl_error *err);

#endif
