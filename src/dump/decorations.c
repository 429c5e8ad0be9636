/* dump/decorations.c: owners, comments and security labels of the dumped objects, and the
 * entry point that runs every decoration family (decorations.h) on the objects of dump/decor.h.
 *
 * Naming: pg_identify_object() gives each object's type ("table", "function", "operator
 * class", ...) and identity, already quoted and schema-qualified ("s.f(integer)", "s.opc USING
 * btree"). TARGET_SQL turns them into the object reference COMMENT ON, SECURITY LABEL and ALTER
 * ... OWNER TO take; the few kinds whose syntax is "NAME ON TABLE" (constraints, triggers,
 * rules, policies) are rebuilt from pg_identify_object_as_address()'s unquoted name parts
 * rather than by splitting the identity text. */
#include "dump/decorations.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "dump/acl.h"
#include "dump/blob.h"
#include "dump/decor.h"
#include "dump/policy.h"
#include "dump/publication.h"
#include "io/bfile.h"
#include "pg/catalog.h"

/* Needs `i` (pg_identify_object) and `a` (pg_identify_object_as_address) in scope. */
#define TARGET_SQL                                                                          \
    "CASE"                                                                                  \
    " WHEN i.type = 'table constraint'"                                                    \
    "  THEN format('CONSTRAINT %I ON %I.%I', a.object_names[3], a.object_names[1],"        \
    "              a.object_names[2])"                                                      \
    " WHEN i.type = 'domain constraint'"                                                   \
    "  THEN format('CONSTRAINT %I ON DOMAIN %s', a.object_args[1], a.object_names[1])"     \
    " WHEN i.type IN ('policy', 'trigger', 'rule')"                                        \
    "  THEN format('%s %I ON %I.%I', upper(i.type), a.object_names[3], a.object_names[1],"  \
    "              a.object_names[2])"                                                      \
    " WHEN i.type = 'procedure'"                                                           \
    "  THEN format('PROCEDURE %I.%I(%s)', a.object_names[1], a.object_names[2], a.modes)"  \
    " WHEN i.type = 'transform'"                                                           \
    "  THEN format('TRANSFORM FOR %s LANGUAGE %I', a.object_names[1], a.object_args[1])"   \
    " WHEN i.type LIKE '% column' THEN 'COLUMN ' || i.identity"                            \
    " WHEN i.type = 'composite type' THEN 'TYPE ' || i.identity"                           \
    " WHEN i.type = 'foreign-data wrapper' THEN 'FOREIGN DATA WRAPPER ' || i.identity"     \
    " WHEN i.type = 'statistics object' THEN 'STATISTICS ' || i.identity"                  \
    /* an aggregate without arguments is cnt(*) to ALTER, COMMENT and SECURITY LABEL (GRANT \
     * names it as a function, cnt()); only such an identity ends in "()" */               \
    " WHEN i.type = 'aggregate' AND i.identity LIKE '%()'"                                 \
    "  THEN 'AGGREGATE ' || left(i.identity, -1) || '*)'"                                  \
    " ELSE upper(i.type) || ' ' || i.identity "                                            \
    "END"

/* `a` for TARGET_SQL, computed only for the kinds TARGET_SQL takes from it (keep the two lists
 * alike): most objects are named by their identity alone, and the call costs as much as
 * pg_identify_object() does, once per owner, comment and label. OFFSET 0 keeps the sub-query
 * whole, so the test gates the call instead of filtering its result.
 * A procedure's identity lists its arguments' types, which PostgreSQL matches both against a
 * procedure's input arguments and against all of its arguments: the all-IN p(int, int) and
 * p(OUT int, int) are both p(integer, integer). Written with their modes (modes, as
 * pg_get_function_identity_arguments prints them) the arguments name one procedure. */
#define ADDRESS_SQL(cls, oid, sub)                                                          \
    " LEFT JOIN LATERAL (SELECT *, CASE WHEN i.type = 'procedure'"                          \
    " THEN pg_get_function_identity_arguments(" oid ") END AS modes"                        \
    " FROM pg_identify_object_as_address(" cls ", " oid ", " sub ")"                        \
    " WHERE i.type IN ('table constraint', 'domain constraint', 'policy', 'trigger', 'rule'," \
    " 'transform', 'procedure') OFFSET 0) a ON true\n"

/* The objects handed in ($1, $2), plus the database-wide things an unfiltered backup holds. */
#define GIVEN_SQL \
    "given(classid, objid) AS (SELECT DISTINCT * FROM unnest($1::oid[], $2::oid[]))"

/* Owners: for each catalog that has an owner column, one small join of that catalog with the
 * given objects of it, combined with UNION ALL (each object is in exactly one catalog, so one
 * row each). The given objects are grouped by catalog once, so that each join reads only its
 * own OIDs (hashed) rather than every given pair. Indexes follow their table; the public
 * schema owned by pg_database_owner is how every PG15 database starts.
 * A sequence linked to a column (serial: deptype 'a') must always have its table's owner, so
 * PostgreSQL refuses to give it another one by itself: its item changes the table's owner
 * first (which carries the sequence along once linked) and then the sequence's (for when the
 * link is made later), so either order of restore works. Identity sequences (deptype 'i')
 * are part of their table and follow its owner. Only sequences look at pg_depend. */
#define GIVEN_OF(cat) "(SELECT unnest(oids) FROM byclass WHERE classid = '" cat "'::regclass)"
#define OWNED(cat, col)                                                                     \
    "  UNION ALL SELECT '" cat "'::regclass::oid, x.oid, x." col ", NULL FROM " cat " x"       \
    "  WHERE x.oid IN " GIVEN_OF(cat) "\n"
/* publications and large objects: also every one of them when the whole database is dumped */
#define OWNED_ALL(cat, rows, col)                                                           \
    "  UNION ALL SELECT '" cat "'::regclass::oid, x.oid, x." col ", NULL FROM " rows " x"      \
    "  WHERE $3 OR x.oid IN " GIVEN_OF(cat) "\n"

static const char owner_sql[] =
    /* the pairs are distinct already (ctx_build), so they are grouped without a DISTINCT */
    "WITH byclass(classid, oids) AS (SELECT classid, array_agg(objid)\n"
    "  FROM unnest($1::oid[], $2::oid[]) AS g(classid, objid) GROUP BY classid),\n"
    "own(classid, objid, owner, linked_table) AS (\n"
    "  SELECT 'pg_class'::regclass::oid, c.oid, c.relowner,\n"
    "         CASE WHEN dep.refobjid IS NOT NULL AND dep.refobjid IN " GIVEN_OF("pg_class") "\n"
    "              THEN dep.refobjid::regclass::text END\n"
    "  FROM pg_class c\n"
    /* OFFSET 0: the relkind test gates the look-up instead of filtering its result */
    "  LEFT JOIN LATERAL (SELECT d.refobjid, d.deptype FROM pg_depend d WHERE c.relkind = 'S'"
    "   AND d.classid = 'pg_class'::regclass AND d.objid = c.oid"
    "   AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') OFFSET 0) dep ON true\n"
    "  WHERE c.oid IN " GIVEN_OF("pg_class") " AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')"
    "   AND dep.deptype IS DISTINCT FROM 'i'\n"
    "  UNION ALL SELECT 'pg_namespace'::regclass::oid, n.oid, n.nspowner, NULL FROM pg_namespace n"
    "  WHERE n.oid IN " GIVEN_OF("pg_namespace")
    "   AND NOT (n.nspname = 'public' AND n.nspowner = 'pg_database_owner'::regrole)\n"
    OWNED("pg_proc", "proowner") OWNED("pg_type", "typowner")
    OWNED("pg_collation", "collowner") OWNED("pg_conversion", "conowner")
    OWNED("pg_operator", "oprowner") OWNED("pg_opclass", "opcowner")
    OWNED("pg_opfamily", "opfowner") OWNED("pg_ts_dict", "dictowner")
    OWNED("pg_ts_config", "cfgowner") OWNED("pg_foreign_data_wrapper", "fdwowner")
    OWNED("pg_foreign_server", "srvowner") OWNED("pg_event_trigger", "evtowner")
    OWNED("pg_statistic_ext", "stxowner") OWNED("pg_language", "lanowner")
    OWNED_ALL("pg_publication", "pg_publication", "pubowner")
    OWNED_ALL("pg_largeobject", "pg_largeobject_metadata", "lomowner")
    ")\n"
    "SELECT o.classid, o.objid, " TARGET_SQL " AS target,\n"
    "       quote_ident(pg_get_userbyid(o.owner)) AS owner, i.identity, o.linked_table\n"
    "FROM own o\n"
    " CROSS JOIN LATERAL pg_identify_object(o.classid, o.objid, 0) i\n"
    ADDRESS_SQL("o.classid", "o.objid", "0")
    "ORDER BY o.classid, o.objid";

/* Comments ($4) and security labels. Besides the objects themselves, their parts that may
 * have no item of their own: constraints, indexes, triggers, rules and policies of dumped
 * relations, constraints of dumped domains, columns of dumped composite types. pclassid/pobjid
 * name the object a part belongs to (for a constraint's index, the constraint). */
static const char comment_sql[] =
    "WITH " GIVEN_SQL ",\n"
    "cand(classid, objid, pclassid, pobjid) AS (\n"
    "  SELECT classid, objid, classid, objid FROM given\n"
    "  UNION ALL SELECT 'pg_publication'::regclass, oid, 'pg_publication'::regclass, oid\n"
    "        FROM pg_publication WHERE $3\n"
    "  UNION ALL SELECT 'pg_largeobject'::regclass, oid, 'pg_largeobject'::regclass, oid\n"
    "        FROM pg_largeobject_metadata WHERE $3\n"
    "  UNION ALL SELECT 'pg_policy'::regclass, p.oid, g.classid, g.objid FROM pg_policy p\n"
    "        JOIN given g ON g.classid = 'pg_class'::regclass AND g.objid = p.polrelid\n"
    "  UNION ALL SELECT 'pg_constraint'::regclass, k.oid, g.classid, g.objid FROM pg_constraint k\n"
    "        JOIN given g ON g.classid = 'pg_class'::regclass AND g.objid = k.conrelid\n"
    "  UNION ALL SELECT 'pg_constraint'::regclass, k.oid, g.classid, g.objid FROM pg_constraint k\n"
    "        JOIN given g ON g.classid = 'pg_type'::regclass AND g.objid = k.contypid\n"
    "  UNION ALL SELECT 'pg_class'::regclass, x.indexrelid, g.classid, g.objid FROM pg_index x\n"
    "        JOIN given g ON g.classid = 'pg_class'::regclass AND g.objid = x.indrelid\n"
    "  UNION ALL SELECT 'pg_trigger'::regclass, tg.oid, g.classid, g.objid FROM pg_trigger tg\n"
    "        JOIN given g ON g.classid = 'pg_class'::regclass AND g.objid = tg.tgrelid\n"
    "        WHERE NOT tg.tgisinternal\n"
    "  UNION ALL SELECT 'pg_rewrite'::regclass, r.oid, g.classid, g.objid FROM pg_rewrite r\n"
    "        JOIN given g ON g.classid = 'pg_class'::regclass AND g.objid = r.ev_class\n"
    "        WHERE r.rulename <> '_RETURN'\n"
    "  UNION ALL SELECT 'pg_class'::regclass, t.typrelid, g.classid, g.objid FROM pg_type t\n"
    "        JOIN given g ON g.classid = 'pg_type'::regclass AND g.objid = t.oid\n"
    "        WHERE t.typtype = 'c'),\n"
    /* duplicates (UNION ALL) and objects without a comment or a label are dropped by obj, after
     * the cheap filter, rather than each sorted or hashed for nothing */
    "obj AS (SELECT DISTINCT ON (classid, objid) * FROM cand\n"
    "        WHERE (classid, objid) IN (SELECT classoid, objoid FROM pg_description WHERE $4\n"
    "                                   UNION ALL SELECT classoid, objoid FROM pg_seclabel)\n"
    "        ORDER BY classid, objid, (pclassid = classid AND pobjid = objid) DESC),\n"
    "dec AS (\n"
    "  SELECT o.*, d.objsubid, 0 AS fam, NULL::text AS provider, d.description AS text\n"
    "  FROM obj o JOIN pg_description d ON d.classoid = o.classid AND d.objoid = o.objid\n"
    "  WHERE $4\n"
    "  UNION ALL\n"
    "  SELECT o.*, l.objsubid, 1, l.provider, l.label\n"
    "  FROM obj o JOIN pg_seclabel l ON l.classoid = o.classid AND l.objoid = o.objid)\n"
    "SELECT d.classid, d.objid,\n"
    "       CASE WHEN k.oid IS NULL THEN d.pclassid ELSE 'pg_constraint'::regclass::oid END,\n"
    "       COALESCE(k.oid, d.pobjid), d.fam,\n"
    "       CASE WHEN d.fam = 0 THEN 'COMMENT ON '\n"
    "            ELSE format('SECURITY LABEL FOR %I ON ', d.provider) END\n"
    "       || " TARGET_SQL " || ' IS ' || quote_literal(d.text) || E';\\n' AS sql,\n"
    "       i.identity\n"
    "FROM dec d\n"
    "CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, d.objsubid) i\n"
    ADDRESS_SQL("d.classid", "d.objid", "d.objsubid")
    /* the index of a primary key, unique or exclusion constraint belongs to the constraint */
    " LEFT JOIN pg_constraint k ON d.classid = 'pg_class'::regclass AND k.conindid = d.objid\n"
    "  AND k.conrelid = d.pobjid AND k.contype IN ('p', 'u', 'x')\n"
    "WHERE NOT (i.type = 'schema' AND i.identity = 'public' AND d.fam = 0\n"
    "           AND d.text = 'standard public schema')\n"
    "ORDER BY d.classid, d.objid, d.fam, d.objsubid";

/* ---- owners ---- */

static int
read_owners(const sl__decor_ctx *ctx, sl_dump_items *out, sl_error *err)
{
    PGresult *res = NULL;
    if (sl__decor_query(ctx, &res, "owners", owner_sql, 0, NULL, err) != 0)
        return -1;
    sl_buf sql = SL_BUF_INIT;
    for (int r = 0; r < PQntuples(res); r++) {
        uint32_t classid = sl__decor_oid(res, r, 0), objid = sl__decor_oid(res, r, 1);
        const sl_dump_item *obj = sl__decor_find(ctx, classid, objid);
        int phase = SL_PHASE_PRE_DATA;
        if (obj && obj->phase > phase)
            phase = obj->phase;
        else if (!obj && classid == SL_CLASS_PUBLICATION)
            phase = SL_PHASE_FINAL;  /* publications are created in the last phase */
        sl_buf_reset(&sql);
        if (!PQgetisnull(res, r, 5))
            sl_buf_printf(&sql, "ALTER TABLE %s OWNER TO %s;\n", PQgetvalue(res, r, 5),
                          PQgetvalue(res, r, 3));
        sl_buf_printf(&sql, "ALTER %s OWNER TO %s;\n", PQgetvalue(res, r, 2),
                      PQgetvalue(res, r, 3));
        sl_dump_item it = {
            .phase = phase,
            .priority = SL_DECOR_PRIO_OWNER,
            .kind = "OWNER",
            .schema = obj ? obj->schema : NULL,
            .name = obj ? obj->name : PQgetvalue(res, r, 4),
            .sql = sql.data,
            .ref_classid = classid,
            .ref_objid = objid,
        };
        sl_dump_items_add(out, &it);
    }
    sl_buf_free(&sql);
    PQclear(res);
    return 0;
}

/* ---- comments and security labels ---- */

/* Where a comment goes: with the object's own item, or for a part without one (a CHECK
 * written inside CREATE TABLE, a policy, a large object) after everything that could create
 * it. */
static void
comment_place(const sl__decor_ctx *ctx, uint32_t classid, uint32_t objid, uint32_t pclassid,
              uint32_t pobjid, sl_dump_item *it)
{
    const sl_dump_item *obj = sl__decor_find(ctx, classid, objid);
    it->ref_classid = classid;
    it->ref_objid = objid;
    if (obj) {
        it->phase = obj->phase;
        it->schema = obj->schema;
        it->name = obj->name;
        return;
    }
    if (classid == SL_CLASS_LARGEOBJECT)
        it->phase = SL_PHASE_PRE_DATA;
    else if (classid == SL_CLASS_POLICY)
        it->phase = SL_PHASE_POST;
    else
        it->phase = SL_PHASE_FINAL;
    const sl_dump_item *parent = sl__decor_find(ctx, pclassid, pobjid);
    if (parent && classid != SL_CLASS_POLICY && classid != SL_CLASS_LARGEOBJECT &&
        classid != SL_CLASS_PUBLICATION) {
        it->ref_classid = pclassid;  /* the part is created by its parent's items */
        it->ref_objid = pobjid;
        it->schema = parent->schema;
        it->name = parent->name;
        /* a constraint's index is made by the constraint's own statement, so its comment can
         * follow it there rather than wait for the end */
        if (classid == SL_CLASS_RELATION && pclassid == SL_CLASS_CONSTRAINT)
            it->phase = parent->phase;
    }
}

static int
read_comments(const sl__decor_ctx *ctx, sl_dump_items *out, sl_error *err)
{
    PGresult *res = NULL;
    const char *extra[] = {ctx->f->no_comments ? "false" : "true"};
    if (sl__decor_query(ctx, &res, "comments and security labels", comment_sql, 1, extra,
                        err) != 0)
        return -1;
    for (int r = 0; r < PQntuples(res); r++) {
        bool label = strcmp(PQgetvalue(res, r, 4), "1") == 0;
        sl_dump_item it = {
            .priority = label ? SL_DECOR_PRIO_SECLABEL : SL_DECOR_PRIO_COMMENT,
            .kind = label ? "SECURITY LABEL" : "COMMENT",
            .name = PQgetvalue(res, r, 6),
            .sql = PQgetvalue(res, r, 5),
        };
        comment_place(ctx, sl__decor_oid(res, r, 0), sl__decor_oid(res, r, 1),
                      sl__decor_oid(res, r, 2), sl__decor_oid(res, r, 3), &it);
        sl_dump_items_add(out, &it);
    }
    PQclear(res);
    return 0;
}

int
sl_dump_read_decorations(sl_conn *c, const sl_pattern_filter *f, const sl_dump_items *objects,
                         sl_dump_items *out, sl_error *err)
{
    if (f->data_only)
        return 0;
    sl__decor_ctx ctx;
    int rc = -1;
    sl__decor_ctx_build(&ctx, c, f, objects);
    if (sl__blob_read(&ctx, out, err) != 0)
        goto done;
    if (!f->no_owner && read_owners(&ctx, out, err) != 0)
        goto done;
    if (read_comments(&ctx, out, err) != 0)
        goto done;
    if (!f->no_privileges && sl__acl_read(&ctx, out, err) != 0)
        goto done;
    if (sl__policy_read(&ctx, out, err) != 0)
        goto done;
    if (sl__publication_read(&ctx, out, err) != 0)
        goto done;
    rc = 0;
done:
    sl__decor_ctx_free(&ctx);
    return rc;
}
