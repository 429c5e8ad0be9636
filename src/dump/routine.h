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
#include "pg/catalog.h"
#include "pg/conn.h"
#include "pg/pattern.h"

/* Needs PostgreSQL 11 or later (prokind, aggfinalmodify). Run inside the backup's snapshot. */
SL_MUSTCHECK int sl_dump_read_routines(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out,
                                       sl_error *err);

/* ---- internal: shared by routine.c, operator.c, textsearch.c and fdw.c ---------------------
 * A family is one catalog query. Its result has exactly these columns, one row per object:
 *   classid oid, objid oid, schema text (NULL outside schemas), name text, sql text
 * where sql is complete statements, each ending in ";\n". A schema-qualified family's query
 * takes $1 = f->schema_oids (an oid[] literal, or NULL for every schema); a global family's
 * query takes no parameter. */
typedef struct sl__routine_family {
    const char *what;  /* plural noun for messages: "aggregates" */
    const char *kind;  /* item kind: "AGGREGATE" */
    int phase;
    int priority;
    bool global;       /* outside schemas: read only when no -n/-t filter was given */
    const char *sql;
} sl__routine_family;

/* Runs the families in order, appending their items to *out. */
SL_MUSTCHECK int sl__routine_read_families(sl_conn *c, const sl_pattern_filter *f,
                                           const sl__routine_family *fams, size_t n,
                                           sl_dump_items *out, sl_error *err);

/* SQL fragments every family uses (string literals, for concatenation). */

/* The qualified name of a namespace alias and a name expression (pg/catalog.h). */
#define SL__QNAME(nsp, name) SL_CATALOG_QNAME(nsp, name)

/* True for the namespace alias nsp when it is a user schema selected by $1. Operators are
 * unqualified: with search_path = '' only pg_catalog's can be found. */
#define SL__SCHEMA_SELECTED(nsp)                                                 \
    nsp ".nspname NOT IN ('pg_catalog', 'information_schema') "                  \
    "AND " nsp ".nspname !~ '^pg_(toast|temp_)' "                                \
    "AND ($1::pg_catalog.oid[] IS NULL OR " nsp ".oid = ANY ($1::pg_catalog.oid[])) "

/* True when the object (catalog name cat, oid expression oid) is neither a member of an
 * extension nor an internal part of another object. */
#define SL__NOT_DEPENDENT(cat, oid)                                                   \
    "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend dep "                            \
    "WHERE dep.classid = '" cat "'::pg_catalog.regclass AND dep.objid = " oid " "    \
    "AND dep.deptype IN ('e', 'i')) "

/* "k 'v', k2 'v2'" of an options array (text[] of "k=v"), or NULL when there are none. */
#define SL__OPTIONS(arr)                                                                 \
    "(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(o.option_name) || ' ' || "   \
    "pg_catalog.quote_literal(o.option_value), ', ' ORDER BY o.n) "                      \
    "FROM pg_catalog.pg_options_to_table(" arr ") WITH ORDINALITY "                      \
    "AS o(option_name, option_value, n))"

#define SL__FIRST_NORMAL_OID "16384"

#endif
