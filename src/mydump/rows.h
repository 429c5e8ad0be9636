/* mydump/rows.h: one DATA segment: a table's rows (or one primary-key range of them) as
 * multi-row INSERT statements, streamed from the server with mysql_use_result so that memory
 * stays bounded by one row and one statement whatever the table's size.
 * Statements: INSERT INTO `t` [(`a`,`b`)] VALUES (...),(...); at most d->max_statement bytes
 *   each; a row larger than that is a statement of its own. The column list is written when
 *   the table has columns the server computes (left out of the backup).
 * Values: NULL; numbers bare (checked to be digits, sign, point, exponent; anything else is
 *   quoted); binary strings, BIT and GEOMETRY as 0x... hex; every other value (text, dates,
 *   times, zero dates, ENUM, SET, JSON) as a quoted literal (mysql/quote.h).
 * -1 with err set (naming the table); the segment is aborted. */
#ifndef SL_MYDUMP_ROWS_H
#define SL_MYDUMP_ROWS_H

#include "mydump/run.h"

SL_MUSTCHECK int sl__mydump_table_rows(mydump_ctx *d, sl_mysql *c, const mydump_task *t,
                                       sl_error *err);

#endif
