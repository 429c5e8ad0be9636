/* dump/type.h: catalog readers for schemas, extensions, collations and types (enum, composite,
 * domain and its constraints, range with its multirange, base types and shell types), plus the
 * family-query helper that type.c and relation.c share.
 * Every family is one set-based query whose rows are items; see sl__type_read_family().
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

/* ---- internal ---------------------------------------------------------------------------
 * A family query returns one row per item with exactly these columns:
 *   classid oid, objid oid, schema text, name text, sql text, kind text, phase int,
 *   priority int, ref_classid oid, ref_objid oid
 * kind must be one of the static strings type.c lists (kinds[]). The kind "PART" makes no item:
 * it records that (classid, objid) is emitted inside the item (ref_classid, ref_objid), as a
 * deptype 'i' row in *deps (e.g. a CHECK constraint written inside CREATE TABLE). The kind
 * "UNSUPPORTED" fails the read with SL_E_UNSUPPORTED naming schema.name, sql giving the reason. */
SL_MUSTCHECK int sl__type_read_family(sl_conn *c, const char *what, const char *sql,
                                      int nparams, const char *const *params,
                                      sl_dump_items *out, sl_dump_deps *deps, sl_error *err);

#endif
