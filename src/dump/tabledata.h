/* dump/tabledata.h: one table task's rows as a TABLE DATA segment (internal).
 * COPY ... TO STDOUT (a ctid range, or the table's own condition, as COPY (SELECT ...)) on the
 * worker's connection, streamed into the segment between "COPY t (cols) FROM stdin;" and
 * "\."; rows holding values larger than the wide-row threshold are written after the others,
 * in slices (dump/widerow.h). Each row is checked to be one line. Memory: one libpq buffer
 * and the ctids of the wide rows. -1 with err set (its context naming the table), else 0. */
#ifndef SL_DUMP_TABLEDATA_H
#define SL_DUMP_TABLEDATA_H

#include "dump/task.h"

SL_MUSTCHECK int sl__dump_table_data(dump_ctx *d, sl_conn *c, const task *t, sl_error *err);

#endif
