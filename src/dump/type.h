/* dump/type.h: catalog readers for schemas, extensions, collations and types (enum, composite,
 * domain and its constraints, range with its multirange, base types and shell types).
 * Every family is one set-based query whose rows dump/family.h makes items (its row-kind
 * contract, as relation.c's).
 * Skipped: extension members (emitted as CREATE EXTENSION only), array and multirange types
 * (created with their element / range type), table row types (created with the table).
 * Errors: -1 with *err set; items appended so far stay in *out. */
#ifndef SL_DUMP_TYPE_H
#define SL_DUMP_TYPE_H

#include "base/error.h"
#include "dump/item.h"
#include "dump/sort.h"
#include "pg/conn.h"
#include "pg/pattern.h"

/* Schemas, extensions, collations, types. Reads nothing with f->data_only or f->tables_only. */
SL_MUSTCHECK int sl_dump_read_types(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out,
                                    sl_dump_deps *deps, sl_error *err);

#endif
