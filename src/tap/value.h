/* tap/value.h: a column's value as a Singer RECORD carries it, made from the text COPY TO
 * sends, equal to what pipelinewise-tap-postgres emits for the same row (its
 * row_to_singer_record and selected_value_to_singer_value* functions, applied to what psycopg2
 * gives it), type by type: integers as JSON integers, numeric as a JSON number with its exact
 * decimal digits (never through a double), real/double as numbers, NaN and +-Infinity as
 * pipelinewise writes them, booleans, text types, uuid, date, time, timetz, timestamp and
 * timestamptz (ISO 8601 as pipelinewise formats them, infinite ones as it does), interval,
 * money, json and jsonb (their JSON value), hstore (an object), arrays of all these (nested
 * JSON arrays, parsed from PostgreSQL's array text with its quoting), bit, inet/cidr/macaddr,
 * enums, bytea.
 *
 * Calling order, per stream: every connection that runs a stream's COPY first runs
 * sl_tap_value_session_sql() (the settings the text forms below depend on: DateStyle,
 * IntervalStyle, TimeZone, extra_float_digits, bytea_output); the COPY's SELECT list is built
 * with sl_tap_value_select() per column; then, per row, each field the COPY decoder
 * (pg/copytext.h sl_copyrow) gives that is not NULL goes to sl_tap_value_write() as the next
 * JSON value of the RECORD's "record" object (the caller writes the key, and null for NULL).
 * No server round trip per value: everything is decoded from the text.
 * Errors: text a column's type cannot have printed (the server never sends it; a fuzzer does)
 * is SL_E_SERVER naming the column; a value pipelinewise cannot emit either (a date BC) is
 * SL_E_UNSUPPORTED naming the column. Nothing is written for the value then. value.c's header
 * states the rule of every type. */
#ifndef SL_TAP_VALUE_H
#define SL_TAP_VALUE_H

#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/jsonw.h"
#include "tap/schema.h"

/* Decides once how c's values are written (stored in c->value_kind) so that
 * sl_tap_value_write() need not look at the type's name per value. Optional: a column not
 * prepared (value_kind 0) is decided per value, at the cost of a few string comparisons. */
void sl_tap_value_prepare(sl_tap_column *c);
/* SET statements (one string, ";"-separated) for a session whose COPY text this module reads. */
const char *sl_tap_value_session_sql(void);
/* Appends the SELECT-list expression for column c of a relation aliased t: "t.<quoted name>",
 * or a cast of it when the text of the type itself does not carry what the RECORD needs.
 * quoted_name is the column name already quoted as an identifier (quote_ident). */
void sl_tap_value_select(sl_buf *sql, const sl_tap_column *c, const char *quoted_name);
/* Writes the value of one non-NULL field of column c (decoded COPY text text[0..len)). */
SL_MUSTCHECK int sl_tap_value_write(sl_jsonw *w, const sl_tap_column *c, const char *text,
                                    size_t len, sl_error *err);

#endif
