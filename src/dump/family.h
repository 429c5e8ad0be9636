/* dump/family.h: the one way catalog rows become items, and the SQL fragments the family
 * queries share. Used by type.c and relation.c (rows that name their kind) and by routine.c,
 * operator.c, textsearch.c and fdw.c (families of one kind, whose entry point, routine.h, calls
 * them in turn); it calls none of them.
 * A family is one catalog query, one row per object, in one of two column contracts:
 *   fixed kind (sl__family_read_all):  classid oid, objid oid, schema text (NULL outside
 *       schemas), name text, sql text; kind, phase and priority are the family's;
 *   row kind (sl__family_read_rows):   the same five, then kind text, phase int, priority int,
 *       ref_classid oid, ref_objid oid, and optionally four more: table_schema, table_name,
 *       ref_table_schema, ref_table_name text (item.h `tables`: the table the object is on and
 *       a foreign key's referenced table, NULL when none). kind is one of the static strings
 *       family.c lists. The
 *       kind "PART" makes no item: it records that (classid, objid) is emitted inside the item
 *       (ref_classid, ref_objid), as a deptype 'i' row in *deps (e.g. a CHECK constraint
 *       written inside CREATE TABLE). The kind "UNSUPPORTED" fails the read with
 *       SL_E_UNSUPPORTED naming schema.name, sql giving the reason.
 * sql is complete statements, each ending in ";\n". Every oid column is parsed strictly
 * (pg/catalog.h; NULL is 0): anything else, or a result with other columns, fails the read with
 * SL_E_INTERNAL. A row without a definition (NULL sql, or an unknown kind or NULL name in the
 * row-kind contract) fails it with SL_E_UNSUPPORTED naming the object, never skipping it. */
#ifndef SL_DUMP_FAMILY_H
#define SL_DUMP_FAMILY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "dump/item.h"
#include "dump/sort.h"
#include "pg/catalog.h"
#include "pg/conn.h"
#include "pg/pattern.h"

/* A family of one kind. A schema-qualified family's query takes $1 = f->schema_oids (an oid[]
 * literal, or NULL for every schema); a global family's query takes no parameter. */
typedef struct sl__family {
    const char *what;  /* plural noun for messages: "aggregates" */
    const char *kind;  /* item kind: "AGGREGATE" */
    int phase;
    int priority;
    bool global;       /* outside schemas: read only when no -n/-t filter was given */
    const char *sql;
} sl__family;

/* Runs the families in order, appending their items to *out. */
SL_MUSTCHECK int sl__family_read_all(sl_conn *c, const sl_pattern_filter *f,
                                     const sl__family *fams, size_t n, sl_dump_items *out,
                                     sl_error *err);

/* Runs one row-kind family query (what: plural noun for messages) with the given parameters,
 * appending its items to *out and its "PART" rows to *deps. */
SL_MUSTCHECK int sl__family_read_rows(sl_conn *c, const char *what, const char *sql,
                                      int nparams, const char *const *params,
                                      sl_dump_items *out, sl_dump_deps *deps, sl_error *err);

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
