/* dump/fdw.c: foreign data wrappers, foreign servers and user mappings.
 * User mappings are read from the pg_user_mappings view, as pg_dump does: it shows the options
 * to a superuser and to the server's owner, and hides them (NULL) from everyone else, so a
 * backup taken by a less privileged role has the mapping without its secrets. The options may
 * hold a password: the text goes into the item and nowhere else (never into a log line or an
 * error message). */
#include "dump/fdw.h"

#include "dump/family.h"
#include "io/bfile.h"

static const char wrappers_sql[] =
    "SELECT 'pg_catalog.pg_foreign_data_wrapper'::pg_catalog.regclass::pg_catalog.oid, w.oid, "
    "  NULL, w.fdwname, "
    "  'CREATE FOREIGN DATA WRAPPER ' || pg_catalog.quote_ident(w.fdwname) "
    "  || CASE WHEN w.fdwhandler <> 0 "
    "       THEN ' HANDLER ' || w.fdwhandler::pg_catalog.regproc::pg_catalog.text ELSE '' END "
    "  || CASE WHEN w.fdwvalidator <> 0 "
    "       THEN ' VALIDATOR ' || w.fdwvalidator::pg_catalog.regproc::pg_catalog.text "
    "       ELSE '' END "
    "  || COALESCE(E'\\n    OPTIONS (' || " SL__OPTIONS("w.fdwoptions") " || ')', '') "
    "  || E';\\n' "
    "FROM pg_catalog.pg_foreign_data_wrapper w "
    "WHERE " SL__NOT_DEPENDENT("pg_catalog.pg_foreign_data_wrapper", "w.oid")
    "ORDER BY w.fdwname";

static const char servers_sql[] =
    "SELECT 'pg_catalog.pg_foreign_server'::pg_catalog.regclass::pg_catalog.oid, s.oid, "
    "  NULL, s.srvname, "
    "  'CREATE SERVER ' || pg_catalog.quote_ident(s.srvname) "
    "  || COALESCE(' TYPE ' || pg_catalog.quote_literal(s.srvtype), '') "
    "  || COALESCE(' VERSION ' || pg_catalog.quote_literal(s.srvversion), '') "
    "  || ' FOREIGN DATA WRAPPER ' || pg_catalog.quote_ident(w.fdwname) "
    "  || COALESCE(E'\\n    OPTIONS (' || " SL__OPTIONS("s.srvoptions") " || ')', '') "
    "  || E';\\n' "
    "FROM pg_catalog.pg_foreign_server s "
    "JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw "
    "WHERE " SL__NOT_DEPENDENT("pg_catalog.pg_foreign_server", "s.oid")
    "ORDER BY s.srvname";

/* umuser 0 is PUBLIC. */
static const char user_mappings_sql[] =
    "SELECT 'pg_catalog.pg_user_mapping'::pg_catalog.regclass::pg_catalog.oid, u.umid, NULL, "
    "  u.usename || ' SERVER ' || u.srvname, "
    "  'CREATE USER MAPPING FOR ' "
    "  || CASE WHEN u.umuser = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(u.usename) END "
    "  || ' SERVER ' || pg_catalog.quote_ident(u.srvname) "
    "  || COALESCE(E'\\n    OPTIONS (' || " SL__OPTIONS("u.umoptions") " || ')', '') "
    "  || E';\\n' "
    "FROM pg_catalog.pg_user_mappings u "
    "WHERE " SL__NOT_DEPENDENT("pg_catalog.pg_foreign_server", "u.srvid")
    "ORDER BY u.srvname, u.usename";

static const sl__family fdw_families[] = {
    {"foreign data wrappers", "FOREIGN DATA WRAPPER", SL_PHASE_PRE_DATA, SL_PRIO_FDW, true,
     wrappers_sql},
    {"foreign servers", "SERVER", SL_PHASE_PRE_DATA, SL_PRIO_FOREIGN_SERVER, true, servers_sql},
    {"user mappings", "USER MAPPING", SL_PHASE_PRE_DATA, SL_PRIO_USER_MAPPING, true,
     user_mappings_sql},
};

int
sl__fdw_read(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out, sl_error *err)
{
    return sl__family_read_all(c, f, fdw_families, sizeof fdw_families / sizeof fdw_families[0],
                               out, err);
}
