/* dump/textsearch.c: text search parsers, templates, dictionaries and configurations.
 * A configuration is created from its parser alone (which gives it no mappings), then gets one
 * ALTER ... ADD MAPPING per token type, naming the token by the alias its parser reports
 * (ts_token_type) and the dictionaries in mapseqno order. All of it is one item, built by one
 * query for every configuration of the database. */
#include "dump/textsearch.h"

#include "dump/family.h"
#include "io/bfile.h"

static const char parsers_sql[] =
    "SELECT 'pg_catalog.pg_ts_parser'::pg_catalog.regclass::pg_catalog.oid, p.oid, "
    "  n.nspname, p.prsname, "
    "  'CREATE TEXT SEARCH PARSER ' || " SL__QNAME("n", "p.prsname")
    "  || E' (\\n    START = ' || p.prsstart::pg_catalog.text "
    "  || E',\\n    GETTOKEN = ' || p.prstoken::pg_catalog.text "
    "  || E',\\n    END = ' || p.prsend::pg_catalog.text "
    "  || E',\\n    LEXTYPES = ' || p.prslextype::pg_catalog.text "
    "  || CASE WHEN p.prsheadline <> 0 "
    "       THEN E',\\n    HEADLINE = ' || p.prsheadline::pg_catalog.text ELSE '' END "
    "  || E'\\n);\\n' "
    "FROM pg_catalog.pg_ts_parser p JOIN pg_catalog.pg_namespace n ON n.oid = p.prsnamespace "
    "WHERE " SL__SCHEMA_SELECTED("n")
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_ts_parser", "p.oid")
    "ORDER BY n.nspname, p.prsname";

static const char templates_sql[] =
    "SELECT 'pg_catalog.pg_ts_template'::pg_catalog.regclass::pg_catalog.oid, t.oid, "
    "  n.nspname, t.tmplname, "
    "  'CREATE TEXT SEARCH TEMPLATE ' || " SL__QNAME("n", "t.tmplname") " || E' (\\n    ' "
    "  || CASE WHEN t.tmplinit <> 0 "
    "       THEN 'INIT = ' || t.tmplinit::pg_catalog.text || E',\\n    ' ELSE '' END "
    "  || 'LEXIZE = ' || t.tmpllexize::pg_catalog.text || E'\\n);\\n' "
    "FROM pg_catalog.pg_ts_template t "
    "JOIN pg_catalog.pg_namespace n ON n.oid = t.tmplnamespace "
    "WHERE " SL__SCHEMA_SELECTED("n")
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_ts_template", "t.oid")
    "ORDER BY n.nspname, t.tmplname";

/* dictinitoption is already SQL: "name = 'value', ..." as CREATE stored it. */
static const char dictionaries_sql[] =
    "SELECT 'pg_catalog.pg_ts_dict'::pg_catalog.regclass::pg_catalog.oid, d.oid, "
    "  n.nspname, d.dictname, "
    "  'CREATE TEXT SEARCH DICTIONARY ' || " SL__QNAME("n", "d.dictname")
    "  || E' (\\n    TEMPLATE = ' || " SL__QNAME("tn", "t.tmplname")
    "  || COALESCE(E',\\n    ' || d.dictinitoption, '') || E'\\n);\\n' "
    "FROM pg_catalog.pg_ts_dict d "
    "JOIN pg_catalog.pg_namespace n ON n.oid = d.dictnamespace "
    "JOIN pg_catalog.pg_ts_template t ON t.oid = d.dicttemplate "
    "JOIN pg_catalog.pg_namespace tn ON tn.oid = t.tmplnamespace "
    "WHERE " SL__SCHEMA_SELECTED("n")
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_ts_dict", "d.oid")
    "ORDER BY n.nspname, d.dictname";

static const char configurations_sql[] =
    "SELECT 'pg_catalog.pg_ts_config'::pg_catalog.regclass::pg_catalog.oid, c.oid, "
    "  n.nspname, c.cfgname, "
    "  'CREATE TEXT SEARCH CONFIGURATION ' || " SL__QNAME("n", "c.cfgname")
    "  || E' (\\n    PARSER = ' || " SL__QNAME("pn", "p.prsname") " || E'\\n);\\n' "
    "  || COALESCE((SELECT pg_catalog.string_agg('ALTER TEXT SEARCH CONFIGURATION ' "
    "         || " SL__QNAME("n", "c.cfgname") " || E'\\n    ADD MAPPING FOR ' "
    "         || tt.alias || ' WITH ' || m.dicts || E';\\n', '' ORDER BY m.maptokentype) "
    "       FROM (SELECT mm.maptokentype, pg_catalog.string_agg("
    "               " SL__QNAME("dn", "dd.dictname") ", ', ' ORDER BY mm.mapseqno) AS dicts "
    "             FROM pg_catalog.pg_ts_config_map mm "
    "             JOIN pg_catalog.pg_ts_dict dd ON dd.oid = mm.mapdict "
    "             JOIN pg_catalog.pg_namespace dn ON dn.oid = dd.dictnamespace "
    "             WHERE mm.mapcfg = c.oid GROUP BY mm.maptokentype) m "
    "       JOIN pg_catalog.ts_token_type(c.cfgparser) tt ON tt.tokid = m.maptokentype), "
    "     '') "
    "FROM pg_catalog.pg_ts_config c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace "
    "JOIN pg_catalog.pg_ts_parser p ON p.oid = c.cfgparser "
    "JOIN pg_catalog.pg_namespace pn ON pn.oid = p.prsnamespace "
    "WHERE " SL__SCHEMA_SELECTED("n")
    "  AND " SL__NOT_DEPENDENT("pg_catalog.pg_ts_config", "c.oid")
    "ORDER BY n.nspname, c.cfgname";

static const sl__family textsearch_families[] = {
    {"text search parsers", "TEXT SEARCH PARSER", SL_PHASE_PRE_DATA, SL_PRIO_TS_PARSER, false,
     parsers_sql},
    {"text search templates", "TEXT SEARCH TEMPLATE", SL_PHASE_PRE_DATA, SL_PRIO_TS_TEMPLATE,
     false, templates_sql},
    {"text search dictionaries", "TEXT SEARCH DICTIONARY", SL_PHASE_PRE_DATA, SL_PRIO_TS_DICT,
     false, dictionaries_sql},
    {"text search configurations", "TEXT SEARCH CONFIGURATION", SL_PHASE_PRE_DATA,
     SL_PRIO_TS_CONFIG, false, configurations_sql},
};

int
sl__textsearch_read(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out, sl_error *err)
{
    return sl__family_read_all(c, f, textsearch_families,
                               sizeof textsearch_families / sizeof textsearch_families[0], out,
                               err);
}
