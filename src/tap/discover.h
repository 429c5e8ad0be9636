/* tap/discover.h: Singer discovery: every table, view, materialized view and partitioned table
 * of one database the user may read, as the catalog pipelinewise-tap-postgres writes for it
 * ({"streams": [...]}, one stream per relation, in schema and table name order).
 * What is listed (as pipelinewise): relations of kind r, v, m, p outside pg_catalog,
 * information_schema and pg_toast, with each column the user may SELECT (a relation with none
 * is left out), in the schemas filter_schemas names when it is set. Where sluice differs: a
 * partition of a partitioned table is not a stream of its own (its rows are the partitioned
 * table's, which is one), and other sessions' temporary schemas are skipped.
 * A stream: table_name, stream (both the relation's name), metadata, tap_stream_id
 * ("schema-table"), schema (tap/schema.h per column, and the array definitions). Metadata: for
 * the stream (breadcrumb []) table-key-properties (primary-key columns in column order),
 * schema-name, database-name, row-count (pg_class.reltuples: an estimate, -1 before the
 * first ANALYZE), is-view (views and materialized views); per column (breadcrumb
 * ["properties", name]) sql-datatype, inclusion and selected-by-default (false only for
 * unsupported types).
 * One query reads every column of every relation; the catalog is written out stream by
 * stream through emit, so what is held is the query's result and one stream's text.
 * Errors: -1 with err set. Nothing is emitted unless the query succeeded; no relation at all is
 * SL_E_USAGE (pipelinewise fails the same way) naming the database and the schema filter.
 * Schemas of filter_schemas that do not exist are logged as warnings (pipelinewise says
 * nothing). */
#ifndef SL_TAP_DISCOVER_H
#define SL_TAP_DISCOVER_H

#include <stddef.h>

#include "base/error.h"
#include "pg/conn.h"
#include "tap/config.h"
#include "tap/schema.h"

/* Receives the next piece of the catalog's text; 0, or -1 with err set to stop. */
typedef int (*sl_tap_emit_fn)(void *ctx, const char *data, size_t len, sl_error *err);

/* Writes the catalog of the database c is connected to. *streams: how many were written. */
SL_MUSTCHECK int sl_tap_discover(sl_conn *c, const sl_tap_config *cfg, sl_tap_emit_fn emit,
                                 void *ctx, size_t *streams, sl_error *err);

/* One relation's facts as discovery reads them (the same query, for one schema and name), for
 * sync: its columns in column order, whether it is a view (or materialized view) and whether
 * it is a partitioned table. Owns the query's result, which the strings point into. */
typedef struct sl_tap_relation {
    const char *schema;
    const char *table;
    bool is_view;
    bool partitioned;
    sl_tap_column *cols;
    size_t ncols;
    PGresult *res;
} sl_tap_relation;

/* *out: the relation, or NULL when discovery would not list it (no such table, or no column the
 * user may read). */
SL_MUSTCHECK int sl_tap_discover_relation(sl_conn *c, const char *schema, const char *table,
                                          sl_tap_relation **out, sl_error *err);
void sl_tap_relation_free(sl_tap_relation *r);

#endif
