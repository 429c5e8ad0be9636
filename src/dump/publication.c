/* dump/publication.c: publications, their members, and subscriptions (publication.h). */
#include "dump/publication.h"

#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "io/bfile.h"
#include "pg/catalog.h"

/* Rows: classid, objid, publication oid (0 for the publication itself), schema, name, sql.
 * $4: the dumped schemas (NULL: all). */
static const char publication_sql[] =
    "SELECT 'pg_publication'::regclass::oid AS classid, p.oid AS objid, 0::oid AS pubid,\n"
    "       NULL::name AS nspname, p.pubname AS name,\n"
    "       format(E'CREATE PUBLICATION %I%s WITH (publish = %L%s);\\n', p.pubname,\n"
    "              CASE WHEN p.puballtables THEN ' FOR ALL TABLES' ELSE '' END,\n"
    "              concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END,\n"
    "                        CASE WHEN p.pubupdate THEN 'update' END,\n"
    "                        CASE WHEN p.pubdelete THEN 'delete' END,\n"
    "                        CASE WHEN p.pubtruncate THEN 'truncate' END),\n"
    "              CASE WHEN p.pubviaroot THEN ', publish_via_partition_root = true' ELSE '' END)\n"
    "FROM pg_publication p WHERE $3\n"
    "UNION ALL\n"
    "SELECT 'pg_publication_namespace'::regclass, pn.oid, p.oid, n.nspname, p.pubname,\n"
    "       format(E'ALTER PUBLICATION %I ADD TABLES IN SCHEMA %I;\\n', p.pubname, n.nspname)\n"
    "FROM pg_publication_namespace pn\n"
    "JOIN pg_publication p ON p.oid = pn.pnpubid\n"
    "JOIN pg_namespace n ON n.oid = pn.pnnspid\n"
    "WHERE $3 AND ($4::oid[] IS NULL OR pn.pnnspid = ANY($4::oid[]))\n"
    "UNION ALL\n"
    "SELECT 'pg_publication_rel'::regclass, pr.oid, p.oid, n.nspname, p.pubname,\n"
    "       format(E'ALTER PUBLICATION %I ADD TABLE ONLY %I.%I%s%s;\\n',\n"
    "              p.pubname, n.nspname, c.relname,\n"
    "              ' (' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.ord)\n"
    "                       FROM unnest(pr.prattrs) WITH ORDINALITY u(attnum, ord)\n"
    "                       JOIN pg_attribute a\n"
    "                         ON a.attrelid = pr.prrelid AND a.attnum = u.attnum)\n"
    "                  || ')',\n"
    "              ' WHERE (' || pg_get_expr(pr.prqual, pr.prrelid) || ')')\n"
    "FROM pg_publication_rel pr\n"
    "JOIN pg_publication p ON p.oid = pr.prpubid\n"
    "JOIN pg_class c ON c.oid = pr.prrelid\n"
    "JOIN pg_namespace n ON n.oid = c.relnamespace\n"
    "WHERE $3 AND pr.prrelid IN (SELECT g.objid\n"
    "                            FROM unnest($1::oid[], $2::oid[]) g(classid, objid)\n"
    "                            WHERE g.classid = 'pg_class'::regclass)\n"
    "ORDER BY 1, 2";

/* Rows: oid, name, sql (without the owner), owner (quoted), name (quoted). A slot named after
 * the subscription is left implicit: that is the default, and CREATE SUBSCRIPTION accepts a
 * subscription name that would be refused as an explicit slot_name (upper case, spaces). */
static const char subscription_sql[] =
    "SELECT s.oid, s.subname,\n"
    "       format(E'CREATE SUBSCRIPTION %I CONNECTION %L PUBLICATION %s '\n"
    "              'WITH (connect = false%s%s%s%s%s%s);\\n',\n"
    "              s.subname, s.subconninfo,\n"
    "              (SELECT string_agg(quote_ident(p), ', ' ORDER BY u.ord)\n"
    "               FROM unnest(s.subpublications) WITH ORDINALITY u(p, ord)),\n"
    "              CASE WHEN s.subslotname IS NULL THEN ', slot_name = NONE'\n"
    "                   WHEN s.subslotname <> s.subname\n"
    "                   THEN format(', slot_name = %L', s.subslotname) ELSE '' END,\n"
    "              CASE WHEN s.subbinary THEN ', binary = true' ELSE '' END,\n"
    "              CASE WHEN s.substream THEN ', streaming = on' ELSE '' END,\n"
    "              CASE WHEN s.subtwophasestate <> 'd' THEN ', two_phase = on' ELSE '' END,\n"
    "              CASE WHEN s.subdisableonerr THEN ', disable_on_error = true' ELSE '' END,\n"
    "              CASE WHEN s.subsynccommit <> 'off'\n"
    "                   THEN format(', synchronous_commit = %L', s.subsynccommit)\n"
    "                   ELSE '' END),\n"
    "       quote_ident(pg_get_userbyid(s.subowner)), quote_ident(s.subname)\n"
    "FROM pg_catalog.pg_subscription s\n"
    "WHERE s.subdbid = (SELECT oid FROM pg_catalog.pg_database\n"
    "                   WHERE datname = pg_catalog.current_database())\n"
    "ORDER BY s.subname";

static int
read_publications(const sl__decor_ctx *ctx, sl_dump_items *out, sl_error *err)
{
    PGresult *res = NULL;
    const char *extra[] = {ctx->schemas};
    if (sl__decor_query(ctx, &res, "publications", publication_sql, 1, extra, err) != 0)
        return -1;
    for (int r = 0; r < PQntuples(res); r++) {
        uint32_t classid = sl__decor_oid(res, r, 0), pubid = sl__decor_oid(res, r, 2);
        const char *kind = "PUBLICATION";
        if (pubid != 0)
            kind = classid == SL_CLASS_PUBLICATION_REL ? "PUBLICATION TABLE"
                                                 : "PUBLICATION TABLES IN SCHEMA";
        sl_dump_item it = {
            .phase = SL_PHASE_FINAL,
            .priority = pubid ? SL_DECOR_PRIO_PUBLICATION_MEMBER : SL_DECOR_PRIO_PUBLICATION,
            .kind = kind,
            .schema = sl__decor_text(res, r, 3) ? PQgetvalue(res, r, 3) : NULL,
            .name = PQgetvalue(res, r, 4),
            .sql = PQgetvalue(res, r, 5),
            .classid = classid,
            .objid = sl__decor_oid(res, r, 1),
            .ref_classid = pubid ? SL_CLASS_PUBLICATION : 0,
            .ref_objid = pubid,
        };
        sl_dump_items_add(out, &it);
    }
    PQclear(res);
    return 0;
}

static int
read_subscriptions(const sl__decor_ctx *ctx, sl_dump_items *out, sl_error *err)
{
    const char *super = PQparameterStatus(sl_conn_pg(ctx->conn), "is_superuser");
    PGresult *res = NULL;
    if (!super || strcmp(super, "on") != 0) {
        SL_DEBUG("not a superuser: subscriptions are not dumped");
        return 0;
    }
    if (sl_conn_query(ctx->conn, &res, subscription_sql, 0, NULL, err) != 0) {
        sl_error_prefix(err, "reading subscriptions");
        return -1;
    }
    sl_buf sql = SL_BUF_INIT;
    for (int r = 0; r < PQntuples(res); r++) {
        sl_buf_reset(&sql);
        sl_buf_puts(&sql, PQgetvalue(res, r, 2));
        if (!ctx->f->no_owner)
            sl_buf_printf(&sql, "ALTER SUBSCRIPTION %s OWNER TO %s;\n",
                          PQgetvalue(res, r, 4), PQgetvalue(res, r, 3));
        sl_dump_item it = {
            .phase = SL_PHASE_FINAL,
            .priority = SL_DECOR_PRIO_SUBSCRIPTION,
            .kind = "SUBSCRIPTION",
            .name = PQgetvalue(res, r, 1),
            .sql = sql.data,
            .classid = SL_CLASS_SUBSCRIPTION,
            .objid = sl__decor_oid(res, r, 0),
        };
        sl_dump_items_add(out, &it);
    }
    sl_buf_free(&sql);
    PQclear(res);
    return 0;
}

int
sl__publication_read(const sl__decor_ctx *ctx, sl_dump_items *out, sl_error *err)
{
    if (!ctx->everything_on)
        return 0;
    if (read_publications(ctx, out, err) != 0)
        return -1;
    return read_subscriptions(ctx, out, err);
}
