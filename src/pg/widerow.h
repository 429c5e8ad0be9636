/* pg/widerow.h: rows holding a value too large to take from the server in one message.
 * COPY TO STDOUT sends each row as one protocol message, and libpq hands a message over whole,
 * so a row holding a 500 MB bytea would cost a gigabyte of client memory. For tables that can
 * hold such values (they have a non-empty TOAST relation and a bytea, text or varchar column),
 * the backup asks COPY for every row with those columns blanked out when a value is larger than
 * the threshold, followed by a flag and the row's ctid:
 *     COPY (SELECT a, CASE WHEN w THEN NULL ELSE b END, w, ctid FROM ...) TO STDOUT
 * Ordinary rows are written as they come, minus the two extra fields; wide rows are written
 * afterwards by sl_widerow_write(), which fetches each large value in slices (substring() of a
 * few MB) and escapes it as COPY would (pg/copytext.h), so memory stays bounded by one slice.
 * Values of other types (jsonb, arrays, ...) are still taken whole.
 * Calling order: sl_widerow_plan_read() once inside the snapshot, then per COPY task
 * sl_widerow_copy_sql() -> sl_widerow_split_line() per row -> sl_widerow_write() per wide row.
 * Ownership: the plan owns its tables' column lists (sl_widerow_plan_free accepts NULL). */
#ifndef SL_PG_WIDEROW_H
#define SL_PG_WIDEROW_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "pg/catalog.h"
#include "pg/conn.h"

typedef struct sl_widerow_plan sl_widerow_plan;
typedef struct sl_widerow_table sl_widerow_table;

/* Reads, in one query, the columns of every table of tables[0..ntables) that may hold values
 * over threshold_bytes. The plan is indexed like tables (sl_widerow_for). */
SL_MUSTCHECK int sl_widerow_plan_read(sl_widerow_plan **out, sl_conn *c,
                                      const sl_catalog_table *tables, size_t ntables,
                                      int64_t threshold_bytes, sl_error *err);
void sl_widerow_plan_free(sl_widerow_plan *p);
/* The table's wide-value columns, or NULL when its rows are all taken by plain COPY. */
const sl_widerow_table *sl_widerow_for(const sl_widerow_plan *p, size_t table_index);

/* The COPY statement for table t restricted by where ("" or "ctid >= ..."). */
void sl_widerow_copy_sql(const sl_widerow_plan *p, const sl_widerow_table *w,
                         const sl_catalog_table *t, const char *where, sl_buf *sql);
/* Looks at one row of that COPY: returns 0 for an ordinary row (*keep = bytes to write, the
 * line without its two extra fields, newline excluded), 1 for a wide row (its ctid, checked to
 * be "(page,item)", is put in ctid), -1 with SL_E_SERVER for a line of any other shape. */
SL_MUSTCHECK int sl_widerow_split_line(const char *line, size_t len, size_t *keep, sl_buf *ctid,
                                       sl_error *err);

/* Writes the COPY text line of the row at ctid (newline included) through emit. */
typedef int (*sl_widerow_emit)(void *arg, const char *data, size_t len, sl_error *err);
SL_MUSTCHECK int sl_widerow_write(sl_conn *c, const sl_widerow_table *w, const sl_catalog_table *t,
                                  const char *ctid, sl_widerow_emit emit, void *arg,
                                  sl_error *err);

#endif
