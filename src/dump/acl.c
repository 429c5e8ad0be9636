/* dump/acl.c: GRANT/REVOKE for object, column and default privileges (acl.h).
 *
 * The differences between each ACL and its base are computed by the server with aclexplode(),
 * one row per (object, column, grantee, grantor, with grant option) and the privileges joined
 * in the ACL's own order, so grants that depend on a grant option given earlier come after it.
 * Revokes come before grants for each object and column. */
#include "dump/acl.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "io/bfile.h"
#include "pg/catalog.h"

#define FIRST_NORMAL_OID "16384" /* objects below are made by initdb */

/* $4: schema oids whose IN SCHEMA default privileges are dumped (NULL: all); $5: -t given. */
static const char acl_sql[] =
    "WITH given(classid, objid) AS (SELECT DISTINCT * FROM unnest($1::oid[], $2::oid[])),\n"
    "obj(classid, objid) AS (\n"
    "  SELECT classid, objid FROM given\n"
    "  UNION SELECT 'pg_largeobject'::regclass, oid FROM pg_largeobject_metadata WHERE $3\n"
    /* the members of the dumped extensions, which CREATE EXTENSION makes */
    "  UNION SELECT d.classid, d.objid FROM pg_depend d\n"
    "  WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::regclass\n"
    "    AND d.refobjid IN (SELECT objid FROM given WHERE classid = 'pg_extension'::regclass)\n"
    /* what initdb makes in pg_catalog, which every database has, as pg_dump: the objects with
     * initial privileges or with privileges at all (few of either); information_schema has no
     * record of its initial privileges */
    "  UNION SELECT ip.classoid, ip.objoid FROM pg_init_privs ip\n"
    "  WHERE $3 AND ip.privtype = 'i' AND ip.objoid IN (SELECT 'pg_catalog'::regnamespace UNION\n"
    "    SELECT oid FROM pg_class WHERE relnamespace = 'pg_catalog'::regnamespace UNION\n"
    "    SELECT oid FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace)\n"
    "  UNION SELECT 'pg_class'::regclass, c.oid FROM pg_class c\n"
    "  WHERE $3 AND c.relnamespace = 'pg_catalog'::regnamespace AND (c.relacl IS NOT NULL\n"
    "    OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid\n"
    "      AND a.attacl IS NOT NULL))\n"
    "  UNION SELECT 'pg_proc'::regclass, p.oid FROM pg_proc p\n"
    "  WHERE $3 AND p.pronamespace = 'pg_catalog'::regnamespace AND p.proacl IS NOT NULL\n"
    "  UNION SELECT 'pg_type'::regclass, t.oid FROM pg_type t\n"
    "  WHERE $3 AND t.typnamespace = 'pg_catalog'::regnamespace AND t.typacl IS NOT NULL\n"
    "  UNION SELECT 'pg_language'::regclass, l.oid FROM pg_language l\n"
    "  WHERE $3 AND l.oid < " FIRST_NORMAL_OID " AND l.lanacl IS NOT NULL),\n"
    "src(classid, objid, attnum, attname, kind, owner, acl) AS (\n"
    "  SELECT o.classid, o.objid, 0::int2, NULL::name,\n"
    "         CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner, c.relacl\n"
    "  FROM obj o JOIN pg_class c ON o.classid = 'pg_class'::regclass AND c.oid = o.objid\n"
    "  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')\n"
    "  UNION ALL\n"
    "  SELECT o.classid, o.objid, a.attnum, a.attname, 'c', c.relowner, a.attacl\n"
    /* few columns have an ACL: find them first (OFFSET 0 keeps the planner from probing
     * pg_attribute once per relation instead) */
    "  FROM (SELECT attrelid, attnum, attname, attacl FROM pg_attribute\n"
    "        WHERE attacl IS NOT NULL AND attnum > 0 AND NOT attisdropped OFFSET 0) a\n"
    "  JOIN pg_class c ON c.oid = a.attrelid\n"
    "  JOIN obj o ON o.classid = 'pg_class'::regclass AND o.objid = c.oid\n"
    "  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')\n"
    "  UNION ALL\n"
    "  SELECT o.classid, o.objid, 0, NULL, 'T', t.typowner, t.typacl\n"
    "  FROM obj o JOIN pg_class c ON o.classid = 'pg_class'::regclass AND c.oid = o.objid\n"
    "  JOIN pg_type t ON t.oid = c.reltype WHERE c.relkind = 'c'\n"
    "  UNION ALL\n"
    "  SELECT o.classid, o.objid, 0, NULL, 'T', t.typowner, t.typacl\n"
    "  FROM obj o JOIN pg_type t ON o.classid = 'pg_type'::regclass AND t.oid = o.objid\n"
    "  UNION ALL\n"
    "  SELECT o.classid, o.objid, 0, NULL, 'f', p.proowner, p.proacl\n"
    "  FROM obj o JOIN pg_proc p ON o.classid = 'pg_proc'::regclass AND p.oid = o.objid\n"
    "  UNION ALL\n"
    "  SELECT o.classid, o.objid, 0, NULL, 'n', n.nspowner, n.nspacl\n"
    "  FROM obj o JOIN pg_namespace n ON o.classid = 'pg_namespace'::regclass AND n.oid = o.objid\n"
    "  UNION ALL\n"
    "  SELECT o.classid, o.objid, 0, NULL, 'l', l.lanowner, l.lanacl\n"
    "  FROM obj o JOIN pg_language l ON o.classid = 'pg_language'::regclass AND l.oid = o.objid\n"
    "  UNION ALL\n"
    "  SELECT o.classid, o.objid, 0, NULL, 'F', w.fdwowner, w.fdwacl\n"
    "  FROM obj o JOIN pg_foreign_data_wrapper w\n"
    "       ON o.classid = 'pg_foreign_data_wrapper'::regclass AND w.oid = o.objid\n"
    "  UNION ALL\n"
    "  SELECT o.classid, o.objid, 0, NULL, 'S', s.srvowner, s.srvacl\n"
    "  FROM obj o JOIN pg_foreign_server s\n"
    "       ON o.classid = 'pg_foreign_server'::regclass AND s.oid = o.objid\n"
    "  UNION ALL\n"
    "  SELECT o.classid, o.objid, 0, NULL, 'L', m.lomowner, m.lomacl\n"
    "  FROM obj o JOIN pg_largeobject_metadata m\n"
    "       ON o.classid = 'pg_largeobject'::regclass AND m.oid = o.objid\n"
    "  UNION ALL\n"
    "  SELECT 'pg_default_acl'::regclass, d.oid, 0, NULL,\n"
    "         CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END,\n"
    "         d.defaclrole, d.defaclacl\n"
    "  FROM pg_default_acl d\n"
    "  WHERE CASE WHEN d.defaclnamespace = 0 THEN $3\n"
    "             ELSE NOT $5 AND ($4::oid[] IS NULL OR d.defaclnamespace = ANY($4::oid[])) END),\n"
    "pair AS (\n"
    "  SELECT s.*,\n"
    "         CASE WHEN s.classid = 'pg_default_acl'::regclass\n"
    "              THEN CASE WHEN d.defaclnamespace = 0 THEN acldefault(s.kind, s.owner)\n"
    "                        ELSE acldefault('c', s.owner) END\n"
    "              ELSE COALESCE(ip.initprivs, acldefault(s.kind, s.owner)) END AS base,\n"
    "         COALESCE(s.acl, acldefault(s.kind, s.owner)) AS cur\n"
    "  FROM src s\n"
    "  LEFT JOIN pg_default_acl d ON s.classid = 'pg_default_acl'::regclass AND d.oid = s.objid\n"
    "  LEFT JOIN pg_init_privs ip ON ip.classoid = s.classid AND ip.objoid = s.objid\n"
    "       AND ip.objsubid = s.attnum\n"
    /* an object with no ACL and no initial privileges has its default: nothing to compare */
    "  WHERE s.acl IS NOT NULL OR ip.initprivs IS NOT NULL\n"
    "        OR s.classid = 'pg_default_acl'::regclass),\n"
    "items AS (\n"
    "  SELECT p.classid, p.objid, p.attnum, p.attname, p.owner, 0 AS step, b.*\n"
    "  FROM pair p\n"
    "  CROSS JOIN LATERAL aclexplode(p.base) WITH ORDINALITY\n"
    "                     b(grantor, grantee, priv, grantable, ord)\n"
    "  WHERE NOT EXISTS (SELECT 1 FROM aclexplode(p.cur) x(grantor, grantee, priv, grantable)\n"
    "                    WHERE x.grantor = b.grantor AND x.grantee = b.grantee\n"
    "                      AND x.priv = b.priv AND x.grantable = b.grantable)\n"
    "  UNION ALL\n"
    "  SELECT p.classid, p.objid, p.attnum, p.attname, p.owner, 1 AS step, c.*\n"
    "  FROM pair p\n"
    "  CROSS JOIN LATERAL aclexplode(p.cur) WITH ORDINALITY\n"
    "                     c(grantor, grantee, priv, grantable, ord)\n"
    "  WHERE NOT EXISTS (SELECT 1 FROM aclexplode(p.base) x(grantor, grantee, priv, grantable)\n"
    "                    WHERE x.grantor = c.grantor AND x.grantee = c.grantee\n"
    "                      AND x.priv = c.priv AND x.grantable = c.grantable)),\n"
    "grouped AS (\n"
    "  SELECT classid, objid, attnum, step,\n"
    "         CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(grantee)) END\n"
    "             AS grantee,\n"
    "         CASE WHEN step = 1 AND grantor <> owner\n"
    "              THEN quote_ident(pg_get_userbyid(grantor)) END\n"
    "             AS grantor,\n"
    "         step = 1 AND grantable AS grantable,\n"
    "         string_agg(CASE WHEN attnum > 0 THEN format('%s (%I)', priv, attname)\n"
    "                         ELSE priv END,\n"
    "                    ', ' ORDER BY ord) AS privs,\n"
    "         min(ord) AS ord\n"
    "  FROM items\n"
    "  GROUP BY 1, 2, 3, 4, 5, 6, 7)\n"
    "SELECT g.classid, g.objid, g.attnum, g.step, g.grantee, g.grantor, g.grantable, g.privs,\n"
    "       CASE WHEN g.classid = 'pg_default_acl'::regclass\n"
    "            THEN format('FOR ROLE %I', pg_get_userbyid(d.defaclrole))\n"
    "                 || CASE WHEN d.defaclnamespace <> 0\n"
    "                         THEN format(' IN SCHEMA %s', d.defaclnamespace::regnamespace)\n"
    "                         ELSE '' END END AS prefix,\n"
    "       CASE WHEN g.classid = 'pg_default_acl'::regclass\n"
    "            THEN CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES'\n"
    "                      WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES'\n"
    "                      WHEN 'n' THEN 'SCHEMAS' END\n"
    "            ELSE i.type END AS type,\n"
    /* a type by its name: the identity of a built-in one is its SQL spelling ("integer"),
     * which GRANT ON TYPE would take for a name; a procedure's argument types alone may also
     * match another's OUT arguments (see ADDRESS_SQL in decorations.c): written with modes */
    "       CASE WHEN i.type = 'procedure' THEN (SELECT format('%I.%I(%s)', pn.nspname,\n"
    "            p.proname, pg_get_function_identity_arguments(p.oid)) FROM pg_proc p\n"
    "            JOIN pg_namespace pn ON pn.oid = p.pronamespace WHERE p.oid = g.objid)\n"
    "            ELSE COALESCE(tn.name, i.identity) END\n"
    "FROM grouped g\n"
    "LEFT JOIN LATERAL (SELECT format('%I.%I', n.nspname, t.typname) AS name FROM pg_type t\n"
    "  JOIN pg_namespace n ON n.oid = t.typnamespace\n"
    "  WHERE g.classid = 'pg_type'::regclass AND t.oid = g.objid) tn ON true\n"
    "LEFT JOIN pg_default_acl d ON g.classid = 'pg_default_acl'::regclass AND d.oid = g.objid\n"
    "CROSS JOIN LATERAL pg_identify_object(g.classid, g.objid, 0) i\n"
    "ORDER BY g.classid, g.objid, g.attnum, g.step, g.ord";

static const struct {
    const char *type;
    const char *keyword;
} keywords[] = {
    {"table", "TABLE"},
    {"view", "TABLE"},
    {"materialized view", "TABLE"},
    {"foreign table", "TABLE"},
    {"sequence", "SEQUENCE"},
    {"function", "FUNCTION"},
    {"aggregate", "FUNCTION"},
    {"procedure", "PROCEDURE"},
    {"schema", "SCHEMA"},
    {"type", "TYPE"},
    {"composite type", "TYPE"},
    {"language", "LANGUAGE"},
    {"foreign-data wrapper", "FOREIGN DATA WRAPPER"},
    {"server", "FOREIGN SERVER"},
    {"large object", "LARGE OBJECT"},
};

const char *
sl__acl_keyword(const char *type)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strcmp(keywords[i].type, type) == 0)
            return keywords[i].keyword;
    return NULL;
}

void
sl__acl_append(sl_buf *b, const sl__acl_stmt *s)
{
    if (s->grant && s->grantor)
        sl_buf_printf(b, "SET SESSION AUTHORIZATION %s;\n", s->grantor);
    if (s->prefix)
        sl_buf_printf(b, "ALTER DEFAULT PRIVILEGES %s ", s->prefix);
    sl_buf_printf(b, "%s %s ON %s", s->grant ? "GRANT" : "REVOKE", s->privs, s->keyword);
    if (s->object)
        sl_buf_printf(b, " %s", s->object);
    sl_buf_printf(b, " %s %s", s->grant ? "TO" : "FROM", s->grantee);
    if (s->grant && s->grant_option)
        sl_buf_puts(b, " WITH GRANT OPTION");
    sl_buf_puts(b, ";\n");
    if (s->grant && s->grantor)
        sl_buf_puts(b, "RESET SESSION AUTHORIZATION;\n");
}

/* Appends the item collected in sql for the object (classid, objid), then empties sql. */
static void
flush_item(const sl__decor_ctx *ctx, uint32_t classid, uint32_t objid, char *identity,
           sl_buf *sql, sl_dump_items *out)
{
    if (sql->len == 0)
        return;
    bool defacl = classid == SL_CLASS_DEFAULT_ACL;
    const sl_dump_item *obj = defacl ? NULL : sl__decor_find(ctx, classid, objid);
    sl_dump_item it = {
        .phase = SL_PHASE_FINAL,
        .priority = defacl ? SL_DECOR_PRIO_DEFAULT_ACL : SL_DECOR_PRIO_ACL,
        .kind = defacl ? "DEFAULT ACL" : "ACL",
        .schema = obj ? obj->schema : NULL,
        .name = obj ? obj->name : identity,
        .sql = sql->data,
        .classid = defacl ? classid : 0,
        .objid = defacl ? objid : 0,
        .ref_classid = defacl ? 0 : classid,
        .ref_objid = defacl ? 0 : objid,
    };
    sl_dump_items_add(out, &it);
    sl_buf_reset(sql);
}

int
sl__acl_read(const sl__decor_ctx *ctx, sl_dump_items *out, sl_error *err)
{
    PGresult *res = NULL;
    const char *extra[] = {ctx->schemas, ctx->f->tables_only ? "true" : "false"};
    if (sl__decor_query(ctx, &res, "privileges", acl_sql, 2, extra, err) != 0)
        return -1;
    int rc = -1;
    sl_buf sql = SL_BUF_INIT;
    uint32_t cur_class = 0, cur_obj = 0;
    char *cur_identity = NULL;
    for (int r = 0; r < PQntuples(res); r++) {
        uint32_t classid = sl__decor_oid(res, r, 0), objid = sl__decor_oid(res, r, 1);
        if (classid != cur_class || objid != cur_obj) {
            flush_item(ctx, cur_class, cur_obj, cur_identity, &sql, out);
            free(cur_identity);
            cur_identity = sl_strdup(PQgetvalue(res, r, 10));
            cur_class = classid;
            cur_obj = objid;
        }
        const char *prefix = sl__decor_text(res, r, 8), *type = PQgetvalue(res, r, 9);
        const char *keyword = prefix ? type : sl__acl_keyword(type);
        if (!keyword) {
            sl_error_set(err, SL_E_UNSUPPORTED, "cannot dump the privileges of %s %s", type,
                         cur_identity);
            goto done;
        }
        sl__acl_stmt s = {
            .grant = strcmp(PQgetvalue(res, r, 3), "1") == 0,
            .privs = PQgetvalue(res, r, 7),
            .keyword = keyword,
            .object = prefix ? NULL : cur_identity,
            .prefix = prefix,
            .grantee = PQgetvalue(res, r, 4),
            .grantor = sl__decor_text(res, r, 5),
            .grant_option = strcmp(PQgetvalue(res, r, 6), "t") == 0,
        };
        sl__acl_append(&sql, &s);
    }
    flush_item(ctx, cur_class, cur_obj, cur_identity, &sql, out);
    rc = 0;
done:
    free(cur_identity);
    sl_buf_free(&sql);
    PQclear(res);
    return rc;
}
