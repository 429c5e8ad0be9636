/* restore/freeze.h: the COPY FREEZE rewrite of --single-transaction (internal).
 * "COPY t (...) FROM stdin;" becomes "... WITH (FREEZE);" when t is a plain table created or
 * truncated in this transaction (its pg_class row was written by it), which is the only case
 * the server accepts. sl__restore_copy_sql() returns the SQL to run: it->text, or the
 * rewrite held in scratch (valid until scratch changes). */
#ifndef SL_RESTORE_FREEZE_H
#define SL_RESTORE_FREEZE_H

#include "base/buf.h"
#include "pg/conn.h"
#include "restore/splitter.h"

const char *sl__restore_copy_sql(sl_conn *c, const sl_split_item *it, sl_buf *scratch);

#endif
