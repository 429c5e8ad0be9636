/* dump/relation.h: catalog readers for relations and what hangs off them: sequences (and their
 * values), tables (ordinary, unlogged, partitioned, partitions, inheritance children, typed,
 * foreign), column defaults, views, materialized views (and their refresh), indexes (and their
 * attachment to partitioned indexes), constraints, triggers, rules, extended statistics,
 * CLUSTER ON and REPLICA IDENTITY. (The list of tables whose rows are copied is
 * pg/catalog.h's.)
 * One set-based query per family. Relations are those of f->table_oids.
 * How parts are emitted (so that restore gives back the same catalogs and no cycle arises):
 *   - columns, NOT NULL, identity and generated columns, and CHECK constraints that are valid
 *     and call no user function are written inside CREATE TABLE (recorded as parts);
 *   - column defaults are separate items (ALTER TABLE ONLY ... SET DEFAULT), so that a default
 *     calling a function that uses the table's row type follows the function; a child table
 *     drops a default its parent gave it at creation when it had none;
 *   - other CHECK constraints are separate (after the functions; NOT VALID ones after the data);
 *   - primary keys, unique and exclusion constraints and indexes are in phase INDEX, foreign
 *     keys, triggers, rules, statistics, index attachments in phase POST.
 * Errors: -1 with *err set; items appended so far stay in *out. */
#ifndef SL_DUMP_RELATION_H
#define SL_DUMP_RELATION_H

#include "base/error.h"
#include "dump/item.h"
#include "dump/sort.h"
#include "pg/conn.h"
#include "pg/pattern.h"

/* Definitions of relations (nothing with f->data_only). */
SL_MUSTCHECK int sl_dump_read_relations(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out,
                                        sl_dump_deps *deps, sl_error *err);

/* "SEQUENCE SET" items (phase DATA) with every dumped sequence's last_value and is_called
 * (nothing with f->schema_only... they are schema state too, so they are always read). */
SL_MUSTCHECK int sl_dump_read_sequence_values(sl_conn *c, const sl_pattern_filter *f,
                                              sl_dump_items *out, sl_error *err);

#endif
