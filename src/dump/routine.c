/* dump/routine.c: languages, functions, procedures, aggregates, casts, transforms,
 * conversions and event triggers, and the entry point of routine.h, which then runs the
 * families of operator.c, textsearch.c and fdw.c. Rows become items in dump/family.c. Each
 * family is one query whose rows are already complete SQL: the server formats types
 * (format_type), routine names (regproc/regprocedure output, qualified because the connection
 * runs with search_path = ''), identifiers and literals (quote_ident/quote_literal), and whole
 * functions (pg_get_functiondef). The C side only checks the rows and appends items. */
#include "dump/routine.h"

#include <stdlib.h>
#include <string.h>

#include "dump/family.h"
#include "dump/fdw.h"
#include "dump/operator.h"
#include "dump/textsearch.h"
#include "io/bfile.h"

#define MIN_SERVER_VERSION 110000

/* Procedural languages: plpgsql is an extension member (and skipped by name too, like the
 * built-in internal, c and sql, which are not lanispl). */
static const char languages_sql[] =
    "SELECT 'pg_catalog.pg_language'::pg_catalog.regclass::pg_catalog.oid, l.oid, NULL, "
    "  l.lanname, "
    "  'CREATE OR REPLACE ' || CASE WHEN l.lanpltrusted THEN 'TRUSTED ' ELSE '' END "
    "  || 'PROCEDURAL LANGUAGE ' || pg_catalog.quote_ident(l.lanname) "
    "  || ' HANDLER ' || l.lanplcallfoid::pg_catalog.regproc::pg_catalog.text "
    "  || CASE WHEN l.laninline <> 0 "
    "       THEN ' INLINE ' || l.laninline::pg_catalog.regproc::pg_catalog.text ELSE '' END "
    "  || CASE WHEN l.lanvalidator <> 0 "
    "       THEN ' VALIDATOR ' || l.lanvalidator::pg_catalog.regproc::pg_catalog.text "
    "       ELSE '' END || E';\\n' "
    "FROM pg_catalog.pg_language l "
    "WHERE l.lanispl AND l.oid >= " SL__FIRST_NORMAL_OID " "
    "  AND l.lanname NOT IN ('plpgsql', 'internal', 'c', 'sql') "
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_language", "l.oid")
    "ORDER BY l.lanname";

/* "ALTER FUNCTION|PROCEDURE ... DEPENDS ON EXTENSION e;" for each extension routine p (alias)
 * is marked as depending on, or ''. The routine is named with its argument types (names are
 * overloaded), a procedure's with their modes too (types alone also match another procedure's
 * list of all its arguments, OUT ones included); the dependency list orders the routine's item
 * after the extensions. An aggregate is altered as a function: ALTER AGGREGATE has no DEPENDS. */
#define DEPENDS_ON_EXTENSIONS                                                              \
    "COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format("                           \
    "    E'ALTER %s %s DEPENDS ON EXTENSION %I;\\n', "                                     \
    "    CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, "                  \
    "    CASE WHEN p.prokind = 'p' THEN pg_catalog.format('%I.%I(%s)', "                  \
    "      (SELECT pn.nspname FROM pg_catalog.pg_namespace pn WHERE pn.oid = p.pronamespace), " \
    "      p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) "               \
    "    ELSE p.oid::pg_catalog.regprocedure::pg_catalog.text END, e.extname), '' "         \
    "    ORDER BY e.extname) "                                                             \
    "  FROM pg_catalog.pg_depend xd "                                                     \
    "  JOIN pg_catalog.pg_extension e ON e.oid = xd.refobjid "                            \
    "  WHERE xd.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND xd.objid = p.oid " \
    "    AND xd.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass "             \
    "    AND xd.deptype = 'x'), '')"

/* Functions, procedures and window functions, as the server deparses them. */
static const char functions_sql[] =
    "SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass::pg_catalog.oid, p.oid, n.nspname, "
    "  p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')', "
    "  pg_catalog.rtrim(pg_catalog.pg_get_functiondef(p.oid), E'\\n') || E';\\n' "
    "  || " DEPENDS_ON_EXTENSIONS " "
    "FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
    "WHERE p.prokind <> 'a' AND " SL__SCHEMA_SELECTED("n")
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_proc", "p.oid")
    "ORDER BY n.nspname, p.proname, p.oid";

/* The options of CREATE AGGREGATE, one per array element; NULL elements (options at their
 * default) are left out by array_to_string. FINALFUNC_MODIFY is always written: its default
 * differs between plain and ordered-set aggregates. */
#define AGG_MODIFY(col)                                                            \
    "CASE " col " WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' "            \
    "WHEN 'w' THEN 'READ_WRITE' END"
#define AGG_FUNC(label, col) \
    "CASE WHEN " col " <> 0 THEN '" label " = ' || " col "::pg_catalog.text END"

static const char aggregates_sql[] =
    "SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass::pg_catalog.oid, p.oid, n.nspname, "
    "  p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')', "
    "  'CREATE AGGREGATE ' || " SL__QNAME("n", "p.proname") " || '(' "
    "  || CASE WHEN p.pronargs = 0 THEN '*' "
    "       ELSE pg_catalog.pg_get_function_arguments(p.oid) END "
    "  || E') (\\n    ' || pg_catalog.array_to_string(ARRAY["
    "    'SFUNC = ' || a.aggtransfn::pg_catalog.text, "
    "    'STYPE = ' || pg_catalog.format_type(a.aggtranstype, NULL), "
    "    CASE WHEN a.aggtransspace <> 0 THEN 'SSPACE = ' || a.aggtransspace END, "
    "    " AGG_FUNC("FINALFUNC", "a.aggfinalfn") ", "
    "    CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END, "
    "    'FINALFUNC_MODIFY = ' || " AGG_MODIFY("a.aggfinalmodify") ", "
    "    " AGG_FUNC("COMBINEFUNC", "a.aggcombinefn") ", "
    "    " AGG_FUNC("SERIALFUNC", "a.aggserialfn") ", "
    "    " AGG_FUNC("DESERIALFUNC", "a.aggdeserialfn") ", "
    "    'INITCOND = ' || pg_catalog.quote_literal(a.agginitval), "
    "    " AGG_FUNC("MSFUNC", "a.aggmtransfn") ", "
    "    " AGG_FUNC("MINVFUNC", "a.aggminvtransfn") ", "
    "    CASE WHEN a.aggmtranstype <> 0 "
    "      THEN 'MSTYPE = ' || pg_catalog.format_type(a.aggmtranstype, NULL) END, "
    "    CASE WHEN a.aggmtransspace <> 0 THEN 'MSSPACE = ' || a.aggmtransspace END, "
    "    " AGG_FUNC("MFINALFUNC", "a.aggmfinalfn") ", "
    "    CASE WHEN a.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END, "
    "    CASE WHEN a.aggmtransfn <> 0 "
    "      THEN 'MFINALFUNC_MODIFY = ' || " AGG_MODIFY("a.aggmfinalmodify") " END, "
    "    'MINITCOND = ' || pg_catalog.quote_literal(a.aggminitval), "
    "    CASE WHEN a.aggsortop <> 0 THEN 'SORTOP = OPERATOR(' "
    "      || pg_catalog.quote_ident(son.nspname) || '.' || so.oprname || ')' END, "
    "    CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE' "
    "      WHEN 'r' THEN 'PARALLEL = RESTRICTED' END, "
    "    CASE WHEN a.aggkind = 'h' THEN 'HYPOTHETICAL' END "
    "  ], E',\\n    ') || E'\\n);\\n' || " DEPENDS_ON_EXTENSIONS " "
    "FROM pg_catalog.pg_proc p "
    "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
    "JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid "
    "LEFT JOIN pg_catalog.pg_operator so ON so.oid = a.aggsortop "
    "LEFT JOIN pg_catalog.pg_namespace son ON son.oid = so.oprnamespace "
    "WHERE p.prokind = 'a' AND " SL__SCHEMA_SELECTED("n")
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_proc", "p.oid")
    "ORDER BY n.nspname, p.proname, p.oid";

/* User-defined casts: built-in ones have oids below FirstNormalObjectId. */
static const char casts_sql[] =
    "SELECT 'pg_catalog.pg_cast'::pg_catalog.regclass::pg_catalog.oid, c.oid, NULL, "
    "  pg_catalog.format_type(c.castsource, NULL) || ' AS ' "
    "  || pg_catalog.format_type(c.casttarget, NULL), "
    "  'CREATE CAST (' || pg_catalog.format_type(c.castsource, NULL) || ' AS ' "
    "  || pg_catalog.format_type(c.casttarget, NULL) || ') ' "
    "  || CASE c.castmethod "
    "       WHEN 'f' THEN 'WITH FUNCTION ' "
    "         || c.castfunc::pg_catalog.regprocedure::pg_catalog.text "
    "       WHEN 'i' THEN 'WITH INOUT' ELSE 'WITHOUT FUNCTION' END "
    "  || CASE c.castcontext WHEN 'a' THEN ' AS ASSIGNMENT' WHEN 'i' THEN ' AS IMPLICIT' "
    "       ELSE '' END || E';\\n' "
    "FROM pg_catalog.pg_cast c "
    "WHERE c.oid >= " SL__FIRST_NORMAL_OID " "
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_cast", "c.oid")
    "ORDER BY 4";

static const char transforms_sql[] =
    "SELECT 'pg_catalog.pg_transform'::pg_catalog.regclass::pg_catalog.oid, t.oid, NULL, "
    "  pg_catalog.format_type(t.trftype, NULL) || ' LANGUAGE ' || l.lanname, "
    "  'CREATE TRANSFORM FOR ' || pg_catalog.format_type(t.trftype, NULL) "
    "  || ' LANGUAGE ' || pg_catalog.quote_ident(l.lanname) || ' (' "
    "  || pg_catalog.array_to_string(ARRAY["
    "       CASE WHEN t.trffromsql <> 0 THEN 'FROM SQL WITH FUNCTION ' "
    "         || t.trffromsql::pg_catalog.regprocedure::pg_catalog.text END, "
    "       CASE WHEN t.trftosql <> 0 THEN 'TO SQL WITH FUNCTION ' "
    "         || t.trftosql::pg_catalog.regprocedure::pg_catalog.text END], ', ') "
    "  || E');\\n' "
    "FROM pg_catalog.pg_transform t JOIN pg_catalog.pg_language l ON l.oid = t.trflang "
    "WHERE t.oid >= " SL__FIRST_NORMAL_OID " "
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_transform", "t.oid")
    "ORDER BY 4";

static const char conversions_sql[] =
    "SELECT 'pg_catalog.pg_conversion'::pg_catalog.regclass::pg_catalog.oid, c.oid, "
    "  n.nspname, c.conname, "
    "  'CREATE ' || CASE WHEN c.condefault THEN 'DEFAULT ' ELSE '' END || 'CONVERSION ' "
    "  || " SL__QNAME("n", "c.conname") " || ' FOR ' "
    "  || pg_catalog.quote_literal(pg_catalog.pg_encoding_to_char(c.conforencoding)) "
    "  || ' TO ' || pg_catalog.quote_literal(pg_catalog.pg_encoding_to_char(c.contoencoding)) "
    "  || ' FROM ' || c.conproc::pg_catalog.text || E';\\n' "
    "FROM pg_catalog.pg_conversion c JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace "
    "WHERE " SL__SCHEMA_SELECTED("n")
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_conversion", "c.oid")
    "ORDER BY n.nspname, c.conname";

/* Event triggers, with their tags and, when not the default ORIGIN, their enable state. */
static const char event_triggers_sql[] =
    "SELECT 'pg_catalog.pg_event_trigger'::pg_catalog.regclass::pg_catalog.oid, e.oid, NULL, "
    "  e.evtname, "
    "  'CREATE EVENT TRIGGER ' || pg_catalog.quote_ident(e.evtname) "
    "  || ' ON ' || pg_catalog.quote_ident(e.evtevent) "
    "  || COALESCE(E'\\n    WHEN TAG IN (' || (SELECT pg_catalog.string_agg("
    "       pg_catalog.quote_literal(t.tag), ', ' ORDER BY t.n) "
    "       FROM pg_catalog.unnest(e.evttags) WITH ORDINALITY AS t(tag, n)) || ')', '') "
    "  || E'\\n    EXECUTE FUNCTION ' || e.evtfoid::pg_catalog.regproc::pg_catalog.text "
    "  || E'();\\n' "
    "  || CASE e.evtenabled WHEN 'O' THEN '' "
    "       ELSE 'ALTER EVENT TRIGGER ' || pg_catalog.quote_ident(e.evtname) "
    "         || CASE e.evtenabled WHEN 'D' THEN ' DISABLE' WHEN 'R' THEN ' ENABLE REPLICA' "
    "              ELSE ' ENABLE ALWAYS' END || E';\\n' END "
    "FROM pg_catalog.pg_event_trigger e "
    "WHERE " SL__NOT_DEPENDENT("pg_catalog.pg_event_trigger", "e.oid")
    "ORDER BY e.evtname";

static const sl__family routine_families[] = {
    {"procedural languages", "PROCEDURAL LANGUAGE", SL_PHASE_PRE_DATA, SL_PRIO_LANGUAGE, true,
     languages_sql},
    {"functions", "FUNCTION", SL_PHASE_PRE_DATA, SL_PRIO_FUNCTION, false, functions_sql},
    {"aggregates", "AGGREGATE", SL_PHASE_PRE_DATA, SL_PRIO_AGGREGATE, false, aggregates_sql},
    {"casts", "CAST", SL_PHASE_PRE_DATA, SL_PRIO_CAST, true, casts_sql},
    {"transforms", "TRANSFORM", SL_PHASE_PRE_DATA, SL_PRIO_TRANSFORM, true, transforms_sql},
    {"conversions", "CONVERSION", SL_PHASE_PRE_DATA, SL_PRIO_CONVERSION, false,
     conversions_sql},
    {"event triggers", "EVENT TRIGGER", SL_PHASE_FINAL, SL_PRIO_EVENT_TRIGGER, true,
     event_triggers_sql},
};

int
sl_dump_read_routines(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out, sl_error *err)
{
    if (f->data_only || f->tables_only)
        return 0;
    if (sl_conn_server_version(c) < MIN_SERVER_VERSION) {
        sl_error_set(err, SL_E_UNSUPPORTED,
                     "cannot read routines from server version %d: PostgreSQL 11 or later "
                     "is needed",
                     sl_conn_server_version(c));
        return -1;
    }
    if (sl__family_read_all(c, f, routine_families,
                            sizeof routine_families / sizeof routine_families[0], out,
                            err) != 0 ||
        sl__operator_read(c, f, out, err) != 0 || sl__textsearch_read(c, f, out, err) != 0 ||
        sl__fdw_read(c, f, out, err) != 0)
        return -1;
    return 0;
}
