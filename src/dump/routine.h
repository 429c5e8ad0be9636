/* dump/routine.h: the catalog reader for routines and the objects built from them.
 * sl_dump_read_routines() appends one sl_dump_item per user-defined object of these kinds:
 *   procedural languages, functions and procedures, aggregates, access methods, operators,
 *   operator families (and their members not bound to a class), operator classes, casts,
 *   transforms, conversions, text search parsers/templates/dictionaries/configurations,
 *   foreign data wrappers, foreign servers, user mappings, event triggers.
 * Each family is read with ONE set-based query for the whole database (its definition text is
 * assembled by the server, with its own deparsers where they exist, e.g. pg_get_functiondef),
 * so the number of queries does not depend on the number of objects.
 * What is skipped: members of extensions (pg_depend deptype 'e'), objects that are internal
 * parts of another object (deptype 'i', e.g. a range type's constructors), everything in
 * pg_catalog, information_schema and the toast/temp schemas, and built-in objects
 * (oid < FirstNormalObjectId) that live outside schemas. Schema-qualified objects are filtered by
 * f->schema_oids; objects outside schemas (languages, access methods, casts, transforms, FDWs,
 * servers, user mappings, event triggers) are read only when neither -n nor -t was given.
 * Nothing is read when f->data_only or f->tables_only is set.
 * Items carry their definition only; owners, comments and ACLs are decorations another reader
 * adds from (classid, objid). Every name in the SQL is schema-qualified and quoted as needed:
 * the connection must run with search_path = '' (the server's deparsers then qualify too).
 * User mapping options may hold a password: they are dumped as pg_dump does, and never logged
 * (nothing here logs SQL text).
 * Ordering: items are sorted elsewhere by pg_depend, with the priorities below as tie-break.
 * An operator class's own pg_depend rows do not name the operators and functions it uses (its
 * pg_amop/pg_amproc rows do, with an internal dependency on the class): the sorter must
 * attribute those members' dependencies to the class. Members of a family that are not bound
 * to a class are items of their own (classid pg_amop / pg_amproc), so their dependencies are
 * direct.
 * Errors: -1 with *err set (SL_E_SERVER from a query, SL_E_UNSUPPORTED for an object whose
 * definition cannot be produced, naming it); 0 on success. On failure the items appended so far
 * stay in *out (the caller frees the list). */
#ifndef SL_DUMP_ROUTINE_H
#define SL_DUMP_ROUTINE_H

#include <stdbool.h>

#include "base/error.h"
#include "dump/item.h"
#include "pg/conn.h"
#include "pg/pattern.h"

/* Needs PostgreSQL 11 or later (prokind, aggfinalmodify). Run inside the backup's snapshot. */
SL_MUSTCHECK int sl_dump_read_routines(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out,
                                       sl_error *err);

#endif
