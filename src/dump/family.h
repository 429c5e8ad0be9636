/* dump/family.h: the runner that turns the rows of a routine-like catalog query into items,
 * and the SQL fragments those queries share. Used by routine.c, operator.c, textsearch.c and
 * fdw.c (whose entry point, routine.h, calls them in turn); it calls none of them.
 * Each row's classid and objid are checked to be oids, and a row without a definition fails
 * the read with SL_E_UNSUPPORTED naming the object; see routine.h for what is read. */
#ifndef SL_DUMP_FAMILY_H
#define SL_DUMP_FAMILY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "dump/item.h"
#include "pg/catalog.h"
#include "pg/conn.h"
#include "pg/pattern.h"

/* A family is one catalog query. Its result has exactly these columns, one row per object:
 *   classid oid, objid oid, schema text (NULL outside schemas), name text, sql text
 * where sql is complete statements, each ending in ";\n". A schema-qualified family's query
 * takes $1 = f->schema_oids (an oid[] literal, or NULL for every schema); a global family's
 * query takes no parameter. */
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
