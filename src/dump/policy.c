/* dump/policy.c: row-level security flags and policies (policy.h). */
#include "dump/policy.h"

#include "io/bfile.h"
#include "pg/catalog.h"

/* Rows: classid (pg_class for the flags, pg_policy for a policy), objid, schema, name, sql,
 * the table's oid and name (its schema is the row's). */
static const char policy_sql[] =
    "WITH given(classid, objid) AS (SELECT DISTINCT * FROM unnest($1::oid[], $2::oid[])),\n"
    "rel AS (\n"
    "  SELECT c.oid, c.relname, n.nspname, c.relrowsecurity, c.relforcerowsecurity\n"
    "  FROM given g JOIN pg_class c ON g.classid = 'pg_class'::regclass AND c.oid = g.objid\n"
    "  JOIN pg_namespace n ON n.oid = c.relnamespace\n"
    "  WHERE c.relkind IN ('r', 'p'))\n"
    "SELECT 'pg_class'::regclass::oid AS classid, r.oid AS objid, r.nspname, r.relname AS name,\n"
    "       concat(CASE WHEN r.relrowsecurity\n"
    "                   THEN format(E'ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY;\\n',\n"
    "                               r.nspname, r.relname) END,\n"
    "              CASE WHEN r.relforcerowsecurity\n"
    "                   THEN format(E'ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY;\\n',\n"
    "                               r.nspname, r.relname) END) AS sql,\n"
    "       r.oid AS relid, r.relname AS tname\n"
    "FROM rel r WHERE r.relrowsecurity OR r.relforcerowsecurity\n"
    "UNION ALL\n"
    "SELECT 'pg_policy'::regclass, p.oid, r.nspname, r.relname || ' ' || p.polname,\n"
    "       format(E'CREATE POLICY %I ON %I.%I AS %s FOR %s TO %s%s%s;\\n',\n"
    "              p.polname, r.nspname, r.relname,\n"
    "              CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,\n"
    "              CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'\n"
    "                            WHEN 'w' THEN 'UPDATE'\n"
    "                            WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,\n"
    "              (SELECT string_agg(CASE WHEN u.r = 0 THEN 'PUBLIC'\n"
    "                                      ELSE quote_ident(pg_get_userbyid(u.r)) END,\n"
    "                                 ', ' ORDER BY u.ord)\n"
    "               FROM unnest(p.polroles) WITH ORDINALITY u(r, ord)),\n"
    "              ' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')',\n"
    "              ' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')'),\n"
    "       r.oid, r.relname\n"
    "FROM rel r JOIN pg_policy p ON p.polrelid = r.oid\n"
    "ORDER BY 1, 2";

int
sl__policy_read(const sl__decor_ctx *ctx, sl_dump_items *out, sl_error *err)
{
    PGresult *res = NULL;
    const char *params[] = {ctx->classids, ctx->objids};
    if (sl_conn_query(ctx->conn, &res, policy_sql, 2, params, err) != 0) {
        sl_error_prefix(err, "reading row security policies");
        return -1;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        uint32_t classid = sl__decor_oid(res, r, 0), objid = sl__decor_oid(res, r, 1);
        bool policy = classid == SL_CLASS_POLICY;
        /* A policy follows its table: the second column of the row set is the table's oid for
         * the flags, and the policy's own for a policy (its table comes in column 5). */
        uint32_t table = policy ? sl__decor_oid(res, r, 5) : objid;
        sl_dump_item it = {
            .phase = SL_PHASE_POST,
            .priority = policy ? SL_DECOR_PRIO_POLICY : SL_DECOR_PRIO_ROW_SECURITY,
            .kind = policy ? "POLICY" : "ROW SECURITY",
            .schema = PQgetvalue(res, r, 2),
            .name = PQgetvalue(res, r, 3),
            .sql = PQgetvalue(res, r, 4),
            .classid = policy ? classid : 0,
            .objid = policy ? objid : 0,
            .ref_classid = SL_CLASS_RELATION,
            .ref_objid = table,
            .tables = {PQgetvalue(res, r, 2), PQgetvalue(res, r, 6)},  /* the table's rows */
        };
        sl_dump_items_add(out, &it);
    }
    PQclear(res);
    return 0;
}
