/* dump/database.c: the dumped database's own properties as one guarded DO block
 * (database.h). */
#include "dump/database.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "io/bfile.h"

/* A PL/pgSQL statement running format(template, args...) at restore time (the arguments are
 * SQL expressions of the backup query, each turned into a string literal, or current_database()
 * written as DB). */
#define DB "pg_catalog.current_database()"
#define EXEC(tmpl, args) \
    "format('EXECUTE pg_catalog.format(%L, %s);', " tmpl ", concat_ws(', ', " args "))"
#define LIT(expr) "quote_literal(" expr ")"

/* A setting's value as SET writes it: one literal, or for the settings that hold lists of
 * names (GUC_LIST_QUOTE, stored as quoted identifiers joined by ", ") a literal per element,
 * as pg_dump splits them. */
#define SETTING_VALUE                                                                       \
    "CASE WHEN lower(s.name) IN ('search_path', 'temp_tablespaces', "                       \
    "  'session_preload_libraries', 'local_preload_libraries', 'shared_preload_libraries', " \
    "  'unix_socket_directories') THEN "                                                    \
    "  (SELECT COALESCE(string_agg(quote_literal(CASE WHEN e.m[1] LIKE '\"%' "              \
    "     THEN replace(substr(e.m[1], 2, length(e.m[1]) - 2), '\"\"', '\"') ELSE e.m[1] END), " \
    "     ', ' ORDER BY e.n), '''''') "                                                     \
    "   FROM regexp_matches(s.value, '(\"(?:[^\"]|\"\")*\"|[^,\\s]+)', 'g') "             \
    "     WITH ORDINALITY e(m, n)) "                                                        \
    "ELSE quote_literal(s.value) END"

/* $1, $2, $3: whether the owner, the privileges, the comment are wanted. Rows: one PL/pgSQL
 * statement each, in order: the owner first (the privileges are relative to it). */
static const char database_sql[] =
    "WITH db AS (SELECT d.* FROM pg_database d WHERE d.datname = current_database()), "
    "settings AS (SELECT st.setrole, cfg.n, split_part(cfg.item, '=', 1) AS name, "
    "    substr(cfg.item, strpos(cfg.item, '=') + 1) AS value "
    "  FROM pg_db_role_setting st JOIN db ON st.setdatabase = db.oid "
    "  CROSS JOIN LATERAL unnest(st.setconfig) WITH ORDINALITY cfg(item, n)), "
    /* the privileges the database lost (step 0) and gained (step 1) against its owner's
     * default, by grantee, grantor and grant option, in the ACL's order */
    "acl AS (SELECT db.datdba AS owner, acldefault('d', db.datdba) AS base, "
    "    COALESCE(db.datacl, acldefault('d', db.datdba)) AS cur FROM db WHERE $2), "
    "acl_items AS (SELECT 0 AS step, b.* FROM acl "
    "  CROSS JOIN LATERAL aclexplode(acl.base) WITH ORDINALITY b(grantor, grantee, priv, "
    "    grantable, ord) "
    "  WHERE (b.grantor, b.grantee, b.priv, b.grantable) NOT IN "
    "    (SELECT grantor, grantee, privilege_type, is_grantable FROM aclexplode(acl.cur)) "
    "  UNION ALL SELECT 1, c.* FROM acl "
    "  CROSS JOIN LATERAL aclexplode(acl.cur) WITH ORDINALITY c(grantor, grantee, priv, "
    "    grantable, ord) "
    "  WHERE (c.grantor, c.grantee, c.priv, c.grantable) NOT IN "
    "    (SELECT grantor, grantee, privilege_type, is_grantable FROM aclexplode(acl.base))), "
    "acl_stmts AS (SELECT i.step, min(i.ord) AS ord, "
    "    CASE WHEN i.step = 1 AND i.grantor <> acl.owner THEN pg_get_userbyid(i.grantor) END "
    "      AS grantor, "
    "    CASE WHEN i.grantee = 0 THEN NULL ELSE pg_get_userbyid(i.grantee) END AS grantee, "
    "    i.step = 1 AND i.grantable AS grantable, string_agg(i.priv, ', ' ORDER BY i.ord) "
    "      AS privs "
    "  FROM acl_items i CROSS JOIN acl GROUP BY 1, 3, 4, 5), "
    "stmts(step, n, line) AS ("
    "  SELECT 0, 0::bigint, " EXEC("'ALTER DATABASE %I OWNER TO %I'",
                                  "'" DB "', " LIT("pg_get_userbyid(db.datdba)")) " "
    "  FROM db WHERE $1 "
    "  UNION ALL SELECT 1, a.step * 1000000 + a.ord, "
    "    CASE WHEN a.grantor IS NOT NULL THEN " EXEC("'SET SESSION AUTHORIZATION %I'",
                                                   LIT("a.grantor")) " || E'\\n' ELSE '' END "
    "    || " EXEC("CASE WHEN a.step = 0 THEN 'REVOKE %s ON DATABASE %I FROM ' "
                   "ELSE 'GRANT %s ON DATABASE %I TO ' END "
                   "|| CASE WHEN a.grantee IS NULL THEN 'PUBLIC' ELSE '%I' END "
                   "|| CASE WHEN a.grantable THEN ' WITH GRANT OPTION' ELSE '' END",
                   LIT("a.privs") ", '" DB "', " LIT("a.grantee")) " "
    "    || CASE WHEN a.grantor IS NOT NULL THEN E'\\nRESET SESSION AUTHORIZATION;' ELSE '' END "
    "  FROM acl_stmts a "
    "  UNION ALL SELECT 2, s.setrole::bigint * 1000 + s.n, "
    "    CASE WHEN s.setrole = 0 THEN " EXEC("'ALTER DATABASE %I SET %I TO %s'",
                                           "'" DB "', " LIT("s.name") ", " LIT(SETTING_VALUE)) " "
    "    ELSE " EXEC("'ALTER ROLE %I IN DATABASE %I SET %I TO %s'",
                     LIT("pg_get_userbyid(s.setrole)") ", '" DB "', " LIT("s.name") ", "
                     LIT(SETTING_VALUE)) " END "
    "  FROM settings s "
    "  UNION ALL SELECT 3, 0, " EXEC("'COMMENT ON DATABASE %I IS %L'",
                                    "'" DB "', " LIT("dc.description")) " "
    "  FROM db JOIN pg_shdescription dc ON dc.objoid = db.oid "
    "    AND dc.classoid = 'pg_database'::regclass WHERE $3 "
    "  UNION ALL SELECT 4, 0, " EXEC("'SECURITY LABEL FOR %I ON DATABASE %I IS %L'",
                                    LIT("sl.provider") ", '" DB "', " LIT("sl.label")) " "
    "  FROM db JOIN pg_shseclabel sl ON sl.objoid = db.oid "
    "    AND sl.classoid = 'pg_database'::regclass) "
    "SELECT line FROM stmts ORDER BY step, n, line";

char *
sl__database_do_block(const char *body)
{
    /* a tag the body cannot end early: $sluice$, else $sluice_1$, $sluice_2$, ... */
    char tag[32] = "$sluice$";
    for (unsigned i = 1; strstr(body, tag); i++)
        snprintf(tag, sizeof tag, "$sluice_%u$", i);
    return sl_asprintf("DO %s\nBEGIN\n"
                       "    IF pg_catalog.current_setting('%s', true) IS DISTINCT FROM 'on' THEN\n"
                       "        RETURN;\n"
                       "    END IF;\n"
                       "%s"
                       "END\n%s;\n",
                       tag, SL_CONN_DATABASE_PROPERTIES, body, tag);
}

static bool
whole_database(const sl_pattern_filter *f)
{
    return !(f->include_schemas && f->include_schemas[0]) &&
           !(f->include_tables && f->include_tables[0]) && !f->tables_only;
}

int
sl_dump_read_database(sl_conn *c, const sl_pattern_filter *f, sl_dump_items *out, sl_error *err)
{
    if (f->data_only || !whole_database(f))
        return 0;
    const char *p[3] = {f->no_owner ? "false" : "true", f->no_privileges ? "false" : "true",
                        f->no_comments ? "false" : "true"};
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, database_sql, 3, p, err) != 0) {
        sl_error_prefix(err, "reading the database's properties");
        return -1;
    }
    if (PQntuples(res) > 0) {
        sl_buf body = SL_BUF_INIT;
        for (int r = 0; r < PQntuples(res); r++)
            sl_buf_printf(&body, "    %s\n", PQgetvalue(res, r, 0));
        char *sql = sl__database_do_block(body.data);
        sl_dump_item it = {
            .phase = SL_PHASE_FINAL,
            .priority = SL_DECOR_PRIO_DATABASE,
            .kind = "DATABASE PROPERTIES",
            .name = "database",
            .sql = sql,
        };
        sl_dump_items_add(out, &it);
        free(sql);
        sl_buf_free(&body);
    }
    PQclear(res);
    return 0;
}
