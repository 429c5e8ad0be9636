/* dump/globals.c: roles, memberships, tablespaces and CREATE DATABASE (globals.h).
 * Each query prints finished statements, one row per object, every name through %I and every
 * value through %L, so the C side only concatenates rows. */
#include "dump/globals.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "pg/catalog.h"

/* The source of role rows: pg_authid (password hashes, superuser only) or pg_roles. */
#define ROLES_SQL(source, password)                                                          \
    "SELECT format(E'DO %L;\\n', format('BEGIN CREATE ROLE %I; "                          \
    "EXCEPTION WHEN duplicate_object THEN NULL; END', r.rolname)) "                         \
    "|| format(E'ALTER ROLE %I WITH %s %s %s %s %s %s %s%s%s%s;\\n', r.rolname, "          \
    "  CASE WHEN r.rolsuper THEN 'SUPERUSER' ELSE 'NOSUPERUSER' END, "                     \
    "  CASE WHEN r.rolinherit THEN 'INHERIT' ELSE 'NOINHERIT' END, "                       \
    "  CASE WHEN r.rolcreaterole THEN 'CREATEROLE' ELSE 'NOCREATEROLE' END, "              \
    "  CASE WHEN r.rolcreatedb THEN 'CREATEDB' ELSE 'NOCREATEDB' END, "                    \
    "  CASE WHEN r.rolcanlogin THEN 'LOGIN' ELSE 'NOLOGIN' END, "                           \
    "  CASE WHEN r.rolreplication THEN 'REPLICATION' ELSE 'NOREPLICATION' END, "           \
    "  CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' ELSE 'NOBYPASSRLS' END, "                 \
    "  CASE WHEN r.rolconnlimit <> -1 THEN ' CONNECTION LIMIT ' || r.rolconnlimit "         \
    "    ELSE '' END, "                                                                      \
    "  CASE WHEN " password " IS NOT NULL THEN ' PASSWORD ' || quote_literal(" password ") " \
    "    ELSE '' END, "                                                                      \
    "  CASE WHEN r.rolvaliduntil IS NOT NULL "                                               \
    "    THEN ' VALID UNTIL ' || quote_literal(r.rolvaliduntil::text) ELSE '' END) "        \
    "|| COALESCE(format(E'COMMENT ON ROLE %I IS %L;\\n', r.rolname, d.description), '') "  \
    "|| COALESCE((SELECT string_agg(format(E'SECURITY LABEL FOR %I ON ROLE %I IS %L;\\n', " \
    "  l.provider, r.rolname, l.label), '' ORDER BY l.provider) FROM pg_shseclabel l "      \
    "  WHERE l.classoid = 'pg_authid'::regclass AND l.objoid = r.oid), '') "                \
    "FROM " source " r LEFT JOIN pg_shdescription d "                                       \
    "  ON d.classoid = 'pg_authid'::regclass AND d.objoid = r.oid "                          \
    "WHERE r.rolname !~ '^pg_' ORDER BY r.rolname"

static const char roles_super_sql[] = ROLES_SQL("pg_authid", "r.rolpassword");
static const char roles_sql[] = ROLES_SQL("pg_roles", "NULL::text");

/* One setting of a setconfig array (alias cfg) as the "name TO value" of ALTER ... SET. The
 * server stores a list setting (search_path and the others PostgreSQL marks GUC_LIST_QUOTE)
 * as its elements joined by ", ", each double-quoted where needed; written back as one
 * literal it would become a single element, so each element is written as a literal of its
 * own, as pg_dumpall does. */
#define SETTING_SQL(cfg)                                                                     \
    "(SELECT quote_ident(kv.name) || ' TO ' || CASE WHEN lower(kv.name) IN ('search_path', "  \
    "  'temp_tablespaces', 'session_preload_libraries', 'shared_preload_libraries', "          \
    "  'local_preload_libraries', 'unix_socket_directories') "                                 \
    "  THEN COALESCE((SELECT string_agg(quote_literal(CASE WHEN e.v LIKE '\"%' "              \
    "      THEN replace(substr(e.v, 2, length(e.v) - 2), '\"\"', '\"') ELSE e.v END), ', ' " \
    "      ORDER BY e.ord) "                                                                 \
    "    FROM regexp_matches(kv.value, '\\s*(\"(?:[^\"]|\"\")*\"|[^,\\s][^,]*)', 'g') "        \
    "      WITH ORDINALITY m(a, ord) "                                                       \
    "    CROSS JOIN LATERAL (SELECT rtrim(m.a[1]) AS v, m.ord) e), quote_literal('')) "      \
    "  ELSE quote_literal(kv.value) END "                                                    \
    " FROM (SELECT split_part(" cfg ", '=', 1) AS name, "                                    \
    "   substr(" cfg ", strpos(" cfg ", '=') + 1) AS value) kv)"

static const char role_settings_sql[] =
    "SELECT format(E'ALTER ROLE %I SET %s;\\n', r.rolname, " SETTING_SQL("c.cfg") ") "
    "FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole "
    "CROSS JOIN LATERAL unnest(s.setconfig) WITH ORDINALITY c(cfg, ord) "
    "WHERE s.setdatabase = 0 AND r.rolname !~ '^pg_' ORDER BY r.rolname, c.ord";

/* Memberships of roles that are not built in (a built-in role's own memberships, such as
 * pg_monitor in pg_read_all_settings, come with every cluster). */
static const char memberships_sql[] =
    "SELECT format(E'GRANT %I TO %I%s%s;\\n', ro.rolname, m.rolname, "
    "  CASE WHEN am.admin_option THEN ' WITH ADMIN OPTION' ELSE '' END, "
    "  CASE WHEN g.rolname IS NOT NULL THEN format(' GRANTED BY %I', g.rolname) ELSE '' END) "
    "FROM pg_auth_members am JOIN pg_roles ro ON ro.oid = am.roleid "
    "JOIN pg_roles m ON m.oid = am.member LEFT JOIN pg_roles g ON g.oid = am.grantor "
    "WHERE m.rolname !~ '^pg_' ORDER BY ro.rolname, m.rolname";

/* The difference between a tablespace's ACL and its default, as REVOKE then GRANT (alias t). */
#define TABLESPACE_ACL_SQL                                                                   \
    "(SELECT string_agg(x.stmt, '' ORDER BY x.step, x.ord) FROM ("                           \
    "  SELECT 0 AS step, b.ord, format(E'REVOKE %s ON TABLESPACE %I FROM %s;\\n', b.priv, "  \
    "    t.spcname, CASE WHEN b.grantee = 0 THEN 'PUBLIC' "                                  \
    "    ELSE quote_ident(pg_get_userbyid(b.grantee)) END) AS stmt "                         \
    "  FROM aclexplode(acldefault('t', t.spcowner)) WITH ORDINALITY "                        \
    "    b(grantor, grantee, priv, grantable, ord) "                                         \
    "  WHERE t.spcacl IS NOT NULL AND NOT EXISTS (SELECT 1 FROM aclexplode(t.spcacl) a "     \
    "    WHERE (a.grantor, a.grantee, a.privilege_type, a.is_grantable) "                    \
    "      = (b.grantor, b.grantee, b.priv, b.grantable)) "                                  \
    "  UNION ALL "                                                                           \
    "  SELECT 1, c.ord, format(E'GRANT %s ON TABLESPACE %I TO %s%s%s;\\n', c.priv, "         \
    "    t.spcname, CASE WHEN c.grantee = 0 THEN 'PUBLIC' "                                  \
    "    ELSE quote_ident(pg_get_userbyid(c.grantee)) END, "                                 \
    "    CASE WHEN c.grantable THEN ' WITH GRANT OPTION' ELSE '' END, "                      \
    "    CASE WHEN c.grantor <> t.spcowner "                                                 \
    "    THEN format(' GRANTED BY %I', pg_get_userbyid(c.grantor)) ELSE '' END) "            \
    "  FROM aclexplode(t.spcacl) WITH ORDINALITY c(grantor, grantee, priv, grantable, ord) "  \
    "  WHERE NOT EXISTS (SELECT 1 FROM aclexplode(acldefault('t', t.spcowner)) a "           \
    "    WHERE (a.grantor, a.grantee, a.privilege_type, a.is_grantable) "                    \
    "      = (c.grantor, c.grantee, c.priv, c.grantable))) x)"

static const char tablespaces_sql[] =
    "SELECT format(E'CREATE TABLESPACE %I OWNER %I LOCATION %L;\\n', t.spcname, "
    "  pg_get_userbyid(t.spcowner), pg_tablespace_location(t.oid)) "
    "|| CASE WHEN t.spcoptions IS NOT NULL THEN format(E'ALTER TABLESPACE %I SET (%s);\\n', "
    "  t.spcname, (SELECT string_agg(format('%s = %L', quote_ident(split_part(o, '=', 1)), "
    "    substr(o, strpos(o, '=') + 1)), ', ') FROM unnest(t.spcoptions) o)) ELSE '' END "
    "|| COALESCE(" TABLESPACE_ACL_SQL ", '') "
    "|| COALESCE(format(E'COMMENT ON TABLESPACE %I IS %L;\\n', t.spcname, d.description), '') "
    "|| COALESCE((SELECT string_agg(format(E'SECURITY LABEL FOR %I ON TABLESPACE %I IS %L;\\n', "
    "  l.provider, t.spcname, l.label), '' ORDER BY l.provider) FROM pg_shseclabel l "
    "  WHERE l.classoid = 'pg_tablespace'::regclass AND l.objoid = t.oid), '') "
    "FROM pg_tablespace t LEFT JOIN pg_shdescription d "
    "  ON d.classoid = 'pg_tablespace'::regclass AND d.objoid = t.oid "
    "WHERE t.spcname NOT IN ('pg_default', 'pg_global') ORDER BY t.spcname";

/* Runs sql and appends the first column of every row; *rows counts them. */
static int
append_rows(sl_conn *c, const char *what, const char *sql, sl_buf *out, int *rows,
            sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, sql, 0, NULL, err) != 0) {
        sl_error_prefix(err, "reading %s", what);
        return -1;
    }
    int n = PQntuples(res);
    for (int i = 0; i < n; i++)
        sl_buf_puts(out, PQgetvalue(res, i, 0));
    PQclear(res);
    if (rows)
        *rows = n;
    return 0;
}

/* Whether the session may read pg_authid (superuser, or granted SELECT on it). */
static int
can_read_passwords(sl_conn *c, bool *yes, sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, "SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT')",
                      0, NULL, err) != 0)
        return -1;
    *yes = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

int
sl_globals_read(sl_conn *c, sl_buf *out, sl_globals_summary *s, sl_error *err)
{
    memset(s, 0, sizeof *s);
    if (can_read_passwords(c, &s->passwords_saved, err) != 0)
        return -1;
    if (append_rows(c, "roles", s->passwords_saved ? roles_super_sql : roles_sql, out,
                    &s->roles, err) != 0 ||
        append_rows(c, "role settings", role_settings_sql, out, NULL, err) != 0 ||
        append_rows(c, "role memberships", memberships_sql, out, &s->memberships, err) != 0 ||
        append_rows(c, "tablespaces", tablespaces_sql, out, &s->tablespaces, err) != 0)
        return -1;
    return 0;
}

/* The options CREATE DATABASE must be given (encoding and locale cannot change later) and
 * those it may as well (owner, tablespace, connection limit, template flag). */
static const char databases_sql[] =
    "SELECT d.oid, d.datname, "
    "  format(E'CREATE DATABASE %I WITH TEMPLATE = template0 OWNER = %I ENCODING = %L "
    "LOCALE_PROVIDER = %s LC_COLLATE = %L LC_CTYPE = %L%s%s%s%s;\\n', d.datname, "
    "    pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), "
    "    CASE d.datlocprovider WHEN 'i' THEN 'icu' ELSE 'libc' END, d.datcollate, d.datctype, "
    "    CASE WHEN d.daticulocale IS NOT NULL THEN format(' ICU_LOCALE = %L', d.daticulocale) "
    "      ELSE '' END, "
    "    CASE WHEN t.spcname <> 'pg_default' THEN format(' TABLESPACE = %I', t.spcname) "
    "      ELSE '' END, "
    "    CASE WHEN d.datconnlimit <> -1 THEN ' CONNECTION LIMIT = ' || d.datconnlimit "
    "      ELSE '' END, "
    "    CASE WHEN d.datistemplate THEN ' IS_TEMPLATE = true' ELSE '' END), "
    /* for a database the target has already (postgres, on every cluster) */
    "  format(E'ALTER DATABASE %I OWNER TO %I;\\n', d.datname, pg_get_userbyid(d.datdba)) "
    "    || CASE WHEN d.datconnlimit <> -1 THEN format(E'ALTER DATABASE %I CONNECTION LIMIT "
    "%s;\\n', d.datname, d.datconnlimit) ELSE '' END "
    "    || CASE WHEN d.datistemplate THEN format(E'ALTER DATABASE %I IS_TEMPLATE true;\\n', "
    "      d.datname) ELSE '' END, "
    "  CASE WHEN has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) "
    "    ELSE 0 END, d.datallowconn "
    "FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace "
    "WHERE d.datname NOT IN ('template0', 'template1') ORDER BY d.datname";

int
sl_globals_databases(sl_conn *c, sl_globals_database **out, size_t *n, sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, databases_sql, 0, NULL, err) != 0) {
        sl_error_prefix(err, "reading the list of databases");
        return -1;
    }
    size_t rows = (size_t)PQntuples(res);
    sl_globals_database *dbs = sl_calloc(rows ? rows : 1, sizeof *dbs);
    for (size_t i = 0; i < rows; i++) {
        int r = (int)i;
        if (!sl_catalog_parse_oid(PQgetvalue(res, r, 0), &dbs[i].oid)) {
            sl_error_set(err, SL_E_INTERNAL, "the list of databases holds a bad oid");
            PQclear(res);
            sl_globals_databases_free(dbs, rows);
            return -1;
        }
        dbs[i].name = sl_strdup(PQgetvalue(res, r, 1));
        dbs[i].create_sql = sl_strdup(PQgetvalue(res, r, 2));
        dbs[i].alter_sql = sl_strdup(PQgetvalue(res, r, 3));
        dbs[i].size = strtoll(PQgetvalue(res, r, 4), NULL, 10);
        dbs[i].allow_connections = strcmp(PQgetvalue(res, r, 5), "t") == 0;
    }
    PQclear(res);
    *out = dbs;
    *n = rows;
    return 0;
}

void
sl_globals_databases_free(sl_globals_database *dbs, size_t n)
{
    if (!dbs)
        return;
    for (size_t i = 0; i < n; i++) {
        free(dbs[i].name);
        free(dbs[i].create_sql);
        free(dbs[i].alter_sql);
    }
    free(dbs);
}
