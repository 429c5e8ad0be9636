/* dump/type.c: schemas, extensions, collations and types, one query per family (type.h).
 * All SQL text is assembled by the server with format('%I') and its deparsers; the connection
 * runs with search_path = '' so that every name comes out schema-qualified. */
#include "dump/type.h"

#include <stdlib.h>
#include <string.h>

#include "dump/family.h"
#include "io/bfile.h"

/* SQL fragments. QN(nsp, name): quoted, qualified name of a namespace alias and a name. */
#define QN(nsp, name) SL_CATALOG_QNAME(nsp, name)  /* pg/catalog.h, short for the SQL below */
#define NOT_EXT_MEMBER(cls, oid)                                                          \
    "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = " cls " AND e.objid = " oid \
    " AND e.deptype = 'e')"
/* Qualified name of a collation oid expression, or NULL. */
#define COLL_QN(oidexpr)                                                                  \
    "(SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co "             \
    "JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = " oidexpr ")"

static const char schemas_sql[] =
    "SELECT 2615, n.oid, NULL, n.nspname, "
    "  CASE WHEN n.nspname = 'public' THEN 'CREATE SCHEMA IF NOT EXISTS public;' "
    "       ELSE format('CREATE SCHEMA %I;', n.nspname) END || E'\\n', "
    "  'SCHEMA', " SL_SQL_PLACE(PRE_DATA, SCHEMA) ", 0, 0 "
    "FROM pg_namespace n WHERE n.oid IN (SELECT unnest($1::oid[])) AND "
    NOT_EXT_MEMBER("2615", "n.oid");

/* $2: true when the whole database is dumped (no -n/-N): extensions living in pg_catalog
 * are then included too. */
static const char extensions_sql[] =
    "SELECT 3079, x.oid, NULL, x.extname, "
    "  format(E'CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA %I;\\n', x.extname, n.nspname), "
    "  'EXTENSION', " SL_SQL_PLACE(PRE_DATA, EXTENSION) ", 0, 0 "
    "FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace "
    "WHERE x.oid >= 16384 AND (x.extnamespace IN (SELECT unnest($1::oid[])) "
    "  OR ($2::bool AND n.nspname = 'pg_catalog'))";

static const char collations_sql[] =
    "SELECT 3456, c.oid, n.nspname, c.collname, "
    "  format(E'CREATE COLLATION %I.%I (provider = %s%s%s);\\n', n.nspname, c.collname, "
    "    CASE c.collprovider WHEN 'i' THEN 'icu' WHEN 'c' THEN 'libc' ELSE 'default' END, "
    "    CASE WHEN NOT c.collisdeterministic THEN ', deterministic = false' ELSE '' END, "
    "    CASE WHEN c.collprovider = 'i' THEN format(', locale = %L', c.colliculocale) "
    "         WHEN c.collcollate = c.collctype THEN format(', locale = %L', c.collcollate) "
    "         ELSE format(', lc_collate = %L, lc_ctype = %L', c.collcollate, c.collctype) END), "
    "  'COLLATION', " SL_SQL_PLACE(PRE_DATA, COLLATION) ", 0, 0 "
    "FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace "
    "WHERE c.collnamespace IN (SELECT unnest($1::oid[])) AND " NOT_EXT_MEMBER("3456", "c.oid");

/* Types of every kind but arrays, multiranges (made with their range) and table row types.
 * Shell items come first for base types and for ranges with a canonical function, whose
 * functions need the type's name before the type can be defined. */
static const char types_sql[] =
    "WITH t AS ("
    "  SELECT t.*, n.nspname, " QN("n", "t.typname") " AS qn FROM pg_type t "
    "  JOIN pg_namespace n ON n.oid = t.typnamespace "
    "  WHERE t.typnamespace IN (SELECT unnest($1::oid[])) AND " NOT_EXT_MEMBER("1247", "t.oid") " "
    "  AND t.typtype IN ('b', 'c', 'd', 'e', 'r', 'p') "
    "  AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid) "
    "  AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c') "
    "  AND NOT (t.typtype = 'p' AND t.typisdefined)) "
    "SELECT 1247, t.oid, t.nspname, t.typname, format(E'CREATE TYPE %s;\\n', t.qn), "
    "  'SHELL TYPE', " SL_SQL_PLACE(PRE_DATA, SHELL_TYPE) ", 0, 0 FROM t "
    "WHERE t.typtype = 'p' OR t.typtype = 'b' "
    "  OR (t.typtype = 'r' AND (SELECT rngcanonical FROM pg_range WHERE rngtypid = t.oid) <> 0) "
    "UNION ALL "
    "SELECT 1247, t.oid, t.nspname, t.typname, "
    "  CASE t.typtype "
    "  WHEN 'e' THEN format(E'CREATE TYPE %s AS ENUM (%s);\\n', t.qn, "
    "    (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) "
    "     FROM pg_enum e WHERE e.enumtypid = t.oid)) "
    "  WHEN 'c' THEN format(E'CREATE TYPE %s AS (%s);\\n', t.qn, "
    "    (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod) "
    "       || CASE WHEN a.attcollation <> at.typcollation "
    "          THEN ' COLLATE ' || " COLL_QN("a.attcollation") " ELSE '' END, "
    "       ', ' ORDER BY a.attnum) "
    "     FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid "
    "     WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)) "
    "  WHEN 'd' THEN format(E'CREATE DOMAIN %s AS %s%s%s%s;\\n', t.qn, "
    "    format_type(t.typbasetype, t.typtypmod), "
    "    CASE WHEN t.typcollation <> (SELECT typcollation FROM pg_type WHERE oid = t.typbasetype) "
    "      THEN ' COLLATE ' || " COLL_QN("t.typcollation") " ELSE '' END, "
    "    CASE WHEN t.typdefaultbin IS NOT NULL "
    "      THEN ' DEFAULT ' || pg_get_expr(t.typdefaultbin, 0) ELSE '' END, "
    "    CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END) "
    "  WHEN 'r' THEN (SELECT format(E'CREATE TYPE %s AS RANGE (subtype = %s%s%s%s%s, "
    "      multirange_type_name = %s);\\n', t.qn, format_type(r.rngsubtype, NULL), "
    "    CASE WHEN NOT opc.opcdefault THEN format(', subtype_opclass = %I.%I', opn.nspname, "
    "      opc.opcname) ELSE '' END, "
    "    CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation "
    "      THEN ', collation = ' || " COLL_QN("r.rngcollation") " ELSE '' END, "
    "    CASE WHEN r.rngcanonical <> 0 THEN ', canonical = ' || r.rngcanonical::regproc::text "
    "      ELSE '' END, "
    "    CASE WHEN r.rngsubdiff <> 0 THEN ', subtype_diff = ' || r.rngsubdiff::regproc::text "
    "      ELSE '' END, "
    "    (SELECT format('%I.%I', mn.nspname, m.typname) FROM pg_type m "
    "     JOIN pg_namespace mn ON mn.oid = m.typnamespace WHERE m.oid = r.rngmultitypid)) "
    "    FROM pg_range r JOIN pg_type st ON st.oid = r.rngsubtype "
    "    JOIN pg_opclass opc ON opc.oid = r.rngsubopc "
    "    JOIN pg_namespace opn ON opn.oid = opc.opcnamespace WHERE r.rngtypid = t.oid) "
    "  WHEN 'b' THEN format(E'CREATE TYPE %s (\\n    INPUT = %s,\\n    OUTPUT = %s%s%s%s%s%s%s%s,"
    "\\n    INTERNALLENGTH = %s%s,\\n    ALIGNMENT = %s,\\n    STORAGE = %s,"
    "\\n    CATEGORY = %L%s%s%s%s%s\\n);\\n', t.qn, t.typinput::regproc::text, "
    "    t.typoutput::regproc::text, "
    "    CASE WHEN t.typreceive <> 0 THEN E',\\n    RECEIVE = ' || t.typreceive::regproc::text "
    "      ELSE '' END, "
    "    CASE WHEN t.typsend <> 0 THEN E',\\n    SEND = ' || t.typsend::regproc::text ELSE '' END, "
    "    CASE WHEN t.typmodin <> 0 THEN E',\\n    TYPMOD_IN = ' || t.typmodin::regproc::text "
    "      ELSE '' END, "
    "    CASE WHEN t.typmodout <> 0 THEN E',\\n    TYPMOD_OUT = ' || t.typmodout::regproc::text "
    "      ELSE '' END, "
    "    CASE WHEN t.typanalyze <> 0 THEN E',\\n    ANALYZE = ' || t.typanalyze::regproc::text "
    "      ELSE '' END, "
    "    CASE WHEN t.typsubscript <> 0 AND t.typsubscript <> 'array_subscript_handler'::regproc "
    "      THEN E',\\n    SUBSCRIPT = ' || t.typsubscript::regproc::text ELSE '' END, "
    "    CASE WHEN t.typelem <> 0 THEN E',\\n    ELEMENT = ' || format_type(t.typelem, NULL) "
    "      ELSE '' END, "
    "    CASE WHEN t.typlen = -1 THEN 'variable' ELSE t.typlen::text END, "
    "    CASE WHEN t.typbyval THEN E',\\n    PASSEDBYVALUE' ELSE '' END, "
    "    CASE t.typalign WHEN 'c' THEN 'char' WHEN 's' THEN 'int2' WHEN 'i' THEN 'int4' "
    "      ELSE 'double' END, "
    "    CASE t.typstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external' "
    "      WHEN 'm' THEN 'main' ELSE 'extended' END, "
    "    t.typcategory::text, "
    "    CASE WHEN t.typispreferred THEN E',\\n    PREFERRED = true' ELSE '' END, "
    "    CASE WHEN t.typdefault IS NOT NULL "
    "      THEN E',\\n    DEFAULT = ' || quote_literal(t.typdefault) ELSE '' END, "
    "    CASE WHEN t.typdelim <> ',' THEN E',\\n    DELIMITER = ' || "
    "quote_literal(t.typdelim::text) "
    "      ELSE '' END, "
    "    CASE WHEN t.typcollation <> 0 THEN E',\\n    COLLATABLE = true' ELSE '' END, "
    "    '') "
    "  END, "
    "  CASE WHEN t.typtype = 'd' THEN 'DOMAIN' ELSE 'TYPE' END, "
    "  " SL_SQL_PLACE(PRE_DATA, TYPE) ", 0, 0 "
    "FROM t WHERE t.typtype <> 'p' "
    "UNION ALL "
    "SELECT 2606, co.oid, t.nspname, t.typname || '.' || co.conname, "
    "  format(E'ALTER DOMAIN %s ADD CONSTRAINT %I %s;\\n', t.qn, co.conname, "
    "    pg_get_constraintdef(co.oid)), "
    "  'DOMAIN CONSTRAINT', CASE WHEN co.convalidated THEN " SL_SQL_INT(
        SL_PHASE_PRE_DATA) " ELSE " SL_SQL_INT(SL_PHASE_POST) " END, " SL_SQL_INT(
        SL_PRIO_DOMAIN_CONSTRAINT) ", 0, 0 "
    "FROM t JOIN pg_constraint co ON co.contypid = t.oid "
    "WHERE t.typtype = 'd' AND co.contype = 'c'";

int
sl_dump_read_types(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out, sl_dump_deps *deps,
                   sl_error *err)
{
    if (f->data_only || f->tables_only)
        return 0;
    bool whole = !(f->include_schemas && f->include_schemas[0]) &&
                 !(f->exclude_schemas && f->exclude_schemas[0]);
    const char *p[2] = {f->schema_oids, whole ? "true" : "false"};
    if (sl__family_read_rows(c, "schemas", schemas_sql, 1, p, out, deps, err) != 0 ||
        sl__family_read_rows(c, "extensions", extensions_sql, 2, p, out, deps, err) != 0 ||
        sl__family_read_rows(c, "collations", collations_sql, 1, p, out, deps, err) != 0 ||
        sl__family_read_rows(c, "types", types_sql, 1, p, out, deps, err) != 0)
        return -1;
    return 0;
}
