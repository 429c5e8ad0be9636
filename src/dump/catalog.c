/* dump/catalog.c: the entry point that reads a database's schema for a backup (catalog.h).
 *
 * Queries, whatever the number of objects: the filter's (pg/pattern.c), the type and relation
 * families (type.c, relation.c), the routine and decoration readers' (routine.h,
 * decorations.h), the sequence values (one per 2,000 sequences), one for every pg_depend row
 * among user objects, one listing every object the backup should hold (the completeness
 * check), and the table list (pg/catalog.h). Everything is read inside the caller's snapshot. */
#include "dump/catalog.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "dump/database.h"
#include "dump/decorations.h"
#include "dump/relation.h"
#include "dump/routine.h"
#include "dump/sort.h"
#include "dump/type.h"
#include "io/bfile.h"

/* Each materialized view and the materialized views it reads, directly or through views: a
 * refresh follows the refreshes of the materialized views its object depends on (sort.h), and
 * pg_depend names only the relations a view's own query reads. (reads: relation -> a view or
 * materialized view its rules read.) */
#define MV_READS_SQL                                                                          \
    "WITH RECURSIVE reads(rel, ref) AS ("                                                     \
    "  SELECT r.ev_class, d.refobjid FROM pg_rewrite r "                                      \
    "  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid "           \
    "   AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class "                \
    "  JOIN pg_class rc ON rc.oid = d.refobjid AND rc.relkind IN ('v', 'm') "                 \
    "  WHERE r.ev_class >= 16384), "                                                          \
    "mv_reads(mv, rel) AS ("                                                                  \
    "  SELECT rd.rel, rd.ref FROM reads rd JOIN pg_class c ON c.oid = rd.rel "                \
    "   AND c.relkind = 'm' "                                                                 \
    "  UNION SELECT m.mv, rd.ref FROM mv_reads m JOIN reads rd ON rd.rel = m.rel "            \
    "  JOIN pg_class c ON c.oid = m.rel AND c.relkind = 'v') "

/* Dependencies among user objects (built-in objects are never dumped; with PostgreSQL 15 they
 * have OIDs below FirstNormalObjectId, 16384). 'x' (DEPENDS ON EXTENSION) puts the object after
 * the extension its own item names. */
static const char deps_sql[] =
    MV_READS_SQL
    "SELECT classid, objid, refclassid, refobjid, deptype FROM pg_depend "
    "WHERE deptype IN ('n', 'a', 'i', 'e', 'P', 'S', 'x') AND objid >= 16384 "
    "UNION ALL SELECT 1259, mv, 1259, rel, 'n' FROM mv_reads "
    "WHERE (SELECT relkind FROM pg_class WHERE oid = rel) = 'm'";

/* Every object the backup must stand for: $1 dumped schemas, $2 dumped relations, $3 the whole
 * database (no -n/-N/-t: objects outside schemas too), $4 only relations (-t), $5 --no-privileges
 * (default privileges are then left out on purpose). Array types and
 * tables' row types are left out: they are made with their element type or table. */
static const char objects_sql[] =
    "SELECT 'pg_class'::regclass::oid, c.oid FROM pg_class c WHERE c.oid IN (SELECT "
    "unnest($2::oid[])) "
    "UNION ALL SELECT 'pg_class'::regclass, i.indexrelid FROM pg_index i "
    "  WHERE i.indrelid IN (SELECT unnest($2::oid[])) "
    "UNION ALL SELECT 'pg_constraint'::regclass, co.oid FROM pg_constraint co "
    "  WHERE co.conrelid IN (SELECT unnest($2::oid[])) "
    "UNION ALL SELECT 'pg_trigger'::regclass, t.oid FROM pg_trigger t "
    "  WHERE t.tgrelid IN (SELECT unnest($2::oid[])) AND NOT t.tgisinternal "
    "UNION ALL SELECT 'pg_rewrite'::regclass, r.oid FROM pg_rewrite r "
    "  WHERE r.ev_class IN (SELECT unnest($2::oid[])) "
    "UNION ALL SELECT 'pg_policy'::regclass, p.oid FROM pg_policy p "
    "  WHERE p.polrelid IN (SELECT unnest($2::oid[])) "
    "UNION ALL SELECT 'pg_attrdef'::regclass, ad.oid FROM pg_attrdef ad "
    "  WHERE ad.adrelid IN (SELECT unnest($2::oid[])) "
    "UNION ALL SELECT 'pg_statistic_ext'::regclass, s.oid FROM pg_statistic_ext s "
    "  WHERE s.stxrelid IN (SELECT unnest($2::oid[])) "
    "UNION ALL SELECT 'pg_namespace'::regclass, n.oid FROM pg_namespace n "
    "  WHERE NOT $4::bool AND n.oid IN (SELECT unnest($1::oid[])) "
    "UNION ALL SELECT 'pg_class'::regclass, c.oid FROM pg_class c "
    "  WHERE NOT $4::bool AND c.relkind = 'c' AND c.relnamespace IN (SELECT unnest($1::oid[])) "
    "UNION ALL SELECT 'pg_type'::regclass, t.oid FROM pg_type t "
    "  WHERE NOT $4::bool AND t.typnamespace IN (SELECT unnest($1::oid[])) "
    "  AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid) "
    "  AND (t.typrelid = 0 OR EXISTS (SELECT 1 FROM pg_class tc WHERE tc.oid = t.typrelid "
    "       AND tc.relkind = 'c')) "
    "UNION ALL SELECT 'pg_constraint'::regclass, co.oid FROM pg_constraint co "
    "  JOIN pg_type t ON t.oid = co.contypid "
    "  WHERE NOT $4::bool AND t.typnamespace IN (SELECT unnest($1::oid[])) "
#define IN_SCHEMAS(cat, nspcol)                                                         \
    "UNION ALL SELECT '" cat "'::regclass, x.oid FROM " cat " x "                       \
    "  WHERE NOT $4::bool AND x." nspcol " IN (SELECT unnest($1::oid[])) AND x.oid >= 16384 "
    IN_SCHEMAS("pg_proc", "pronamespace")
    IN_SCHEMAS("pg_operator", "oprnamespace")
    /* a shell operator (never defined, only named as another's commutator or negator) is made
     * again by the CREATE OPERATOR that names it; one that nothing names cannot be made by any
     * statement and is reported by warn_orphan_shells() instead */
    "  AND x.oprcode <> 0 "
    IN_SCHEMAS("pg_opclass", "opcnamespace")
    IN_SCHEMAS("pg_opfamily", "opfnamespace")
    IN_SCHEMAS("pg_collation", "collnamespace")
    IN_SCHEMAS("pg_conversion", "connamespace")
    IN_SCHEMAS("pg_ts_config", "cfgnamespace")
    IN_SCHEMAS("pg_ts_dict", "dictnamespace")
    IN_SCHEMAS("pg_ts_parser", "prsnamespace")
    IN_SCHEMAS("pg_ts_template", "tmplnamespace")
    IN_SCHEMAS("pg_extension", "extnamespace")
#undef IN_SCHEMAS
#define OUTSIDE_SCHEMAS(cat, cond)                                                      \
    "UNION ALL SELECT '" cat "'::regclass, x.oid FROM " cat " x "                       \
    "  WHERE $3::bool AND x.oid >= 16384 " cond " "
    OUTSIDE_SCHEMAS("pg_extension", "")
    OUTSIDE_SCHEMAS("pg_event_trigger", "")
    OUTSIDE_SCHEMAS("pg_foreign_data_wrapper", "")
    OUTSIDE_SCHEMAS("pg_foreign_server", "")
    /* pg_user_mapping is a superuser's only: its view shows every mapping to anyone */
    "UNION ALL SELECT 'pg_user_mapping'::regclass, x.umid FROM pg_user_mappings x "
    "  WHERE $3::bool AND x.umid >= 16384 "
    OUTSIDE_SCHEMAS("pg_language", "")
    OUTSIDE_SCHEMAS("pg_cast", "")
    OUTSIDE_SCHEMAS("pg_transform", "")
    OUTSIDE_SCHEMAS("pg_am", "")
    OUTSIDE_SCHEMAS("pg_publication", "")
    OUTSIDE_SCHEMAS("pg_default_acl", "AND NOT $5::bool")  /* $5: --no-privileges */
    OUTSIDE_SCHEMAS("pg_subscription",
                    "AND x.subdbid = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())")
#undef OUTSIDE_SCHEMAS
    "UNION ALL SELECT 'pg_largeobject'::regclass, x.oid FROM pg_largeobject_metadata x "
    "  WHERE $3::bool";

static int
read_deps(sl_conn *c, sl_dump_deps *deps, sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, deps_sql, 0, NULL, err) != 0) {
        sl_error_prefix(err, "reading dependencies");
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++)
        sl_dump_deps_add(deps, (uint32_t)strtoul(PQgetvalue(res, i, 0), NULL, 10),
                         (uint32_t)strtoul(PQgetvalue(res, i, 1), NULL, 10),
                         (uint32_t)strtoul(PQgetvalue(res, i, 2), NULL, 10),
                         (uint32_t)strtoul(PQgetvalue(res, i, 3), NULL, 10),
                         PQgetvalue(res, i, 4)[0]);
    PQclear(res);
    return 0;
}

static bool
has_patterns(const char **pats)
{
    return pats && pats[0];
}

/* Shell operators that no defined operator names (what DROP OPERATOR leaves of a commutator)
 * have no definition to write: they are left out, each with a warning naming it. */
static const char orphan_shells_sql[] =
    "SELECT x.oid::pg_catalog.regoperator FROM pg_catalog.pg_operator x "
    "WHERE x.oprcode = 0 AND x.oid >= 16384 AND x.oprnamespace IN (SELECT unnest($1::oid[])) "
    "  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_operator o WHERE o.oprcode <> 0 "
    "    AND x.oid IN (o.oprcom, o.oprnegate) AND o.oprnamespace IN (SELECT unnest($1::oid[])))";

static int
warn_orphan_shells(sl_conn *c, const sl_pattern_filter *f, sl_error *err)
{
    if (f->tables_only)
        return 0;
    const char *p[1] = {f->schema_oids};
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, orphan_shells_sql, 1, p, err) != 0)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        SL_WARN("shell operator %s is left out: it was never defined (only named by an operator "
                "since dropped), so no statement can create it",
                PQgetvalue(res, i, 0));
    PQclear(res);
    return 0;
}

/* Fails with SL_E_UNSUPPORTED naming the first object no item stands for. */
static int
check_complete(sl_conn *c, const sl_pattern_filter *f, const sl_dump_items *items,
               const sl_dump_deps *deps, sl_error *err)
{
    bool whole = !has_patterns(f->include_schemas) && !has_patterns(f->exclude_schemas) &&
                 !f->tables_only;
    const char *p[5] = {f->schema_oids, f->table_oids, whole ? "true" : "false",
                        f->tables_only ? "true" : "false", f->no_privileges ? "true" : "false"};
    PGresult *res = NULL, *desc = NULL;
    uint32_t *objs = NULL;
    int rc = -1;
    if (warn_orphan_shells(c, f, err) != 0 ||
        sl_conn_query(c, &res, objects_sql, 5, p, err) != 0) {
        sl_error_prefix(err, "listing the objects to dump");
        goto done;
    }
    size_t n = (size_t)PQntuples(res);
    objs = sl_malloc((2 * n + 2) * sizeof *objs);
    for (size_t i = 0; i < n; i++) {
        objs[2 * i] = (uint32_t)strtoul(PQgetvalue(res, (int)i, 0), NULL, 10);
        objs[2 * i + 1] = (uint32_t)strtoul(PQgetvalue(res, (int)i, 1), NULL, 10);
    }
    long miss = sl_dump_find_unhandled(items, deps, objs, n);
    if (miss >= 0) {
        const char *dp[2] = {PQgetvalue(res, (int)miss, 0), PQgetvalue(res, (int)miss, 1)};
        if (sl_conn_query(c, &desc, "SELECT pg_describe_object($1::oid, $2::oid, 0)", 2, dp,
                          err) != 0)
            goto done;
        sl_error_set(err, SL_E_UNSUPPORTED,
                     "cannot back up %s: sluice does not know how to dump this kind of object",
                     PQgetvalue(desc, 0, 0));
        goto done;
    }
    rc = 0;
done:
    free(objs);
    PQclear(desc);
    PQclear(res);
    return rc;
}

/* Definitions and decorations of every object, checked for completeness and sorted. */
static int
read_schema_items(sl_conn *c, sl_pattern_filter *f, sl_dump_items *items, sl_error *err)
{
    sl_dump_deps deps = SL_DUMP_DEPS_INIT;
    sl_dump_items decor = SL_DUMP_ITEMS_INIT;
    int rc = -1;
    if (sl_dump_read_types(c, f, items, &deps, err) != 0 ||
        sl_dump_read_relations(c, f, items, &deps, err) != 0 ||
        sl_dump_read_routines(c, f, items, err) != 0 ||
        sl_dump_read_decorations(c, f, items, &decor, err) != 0 ||
        sl_dump_read_database(c, f, &decor, err) != 0)
        goto done;
    for (size_t i = 0; i < decor.n; i++)
        sl_dump_items_add(items, &decor.v[i]);
    if (read_deps(c, &deps, err) != 0 || check_complete(c, f, items, &deps, err) != 0)
        goto done;
    if (sl_dump_read_sequence_values(c, f, items, err) != 0)
        goto done;
    if (sl_dump_sort(items, &deps, err) != 0)
        goto done;
    rc = 0;
done:
    sl_dump_items_free(&decor);
    sl_dump_deps_free(&deps);
    return rc;
}

/* A data-only backup carries the rows, the sequence values and the refresh of every populated
 * materialized view (their contents come from the rows, and the refreshes must follow each
 * other in dependency order), so the schema is read whole and the rest dropped. */
static int
read_data_only_items(sl_conn *c, sl_pattern_filter *f, sl_dump_items *items, sl_error *err)
{
    sl_dump_items all = SL_DUMP_ITEMS_INIT;
    f->data_only = false;
    int rc = read_schema_items(c, f, &all, err);
    f->data_only = true;
    for (size_t i = 0; rc == 0 && i < all.n; i++)
        if (all.v[i].phase == SL_PHASE_DATA || strcmp(all.v[i].kind, "MATVIEW REFRESH") == 0)
            sl_dump_items_add(items, &all.v[i]);
    sl_dump_items_free(&all);
    return rc;
}

int
sl_dump_catalog_read(sl_dump_catalog **out, sl_conn *c, sl_pattern_filter *f, sl_error *err)
{
    sl_dump_catalog *cat = sl_calloc(1, sizeof *cat);
    int rc = -1;
    /* The planner costs the catalog queries high (sub-queries per table, deparsers) while they
     * run in a fraction of a second; JIT-compiling them would cost seconds per query on a
     * database with many tables (pg_dump turns it off for the same reason). */
    if (sl_conn_server_version(c) >= 110000 && sl_conn_exec(c, "SET jit = off", err) != 0)
        goto done;
    if (f->schema_oids == NULL) {
        if (sl_pattern_filter_resolve(f, c, err) != 0)
            goto done;
    } else if (sl_conn_exec(c, "SET search_path = ''", err) != 0) {
        goto done;
    }
    if (f->data_only) {
        if (read_data_only_items(c, f, &cat->items, err) != 0)
            goto done;
    } else if (read_schema_items(c, f, &cat->items, err) != 0) {
        goto done;
    }
    if (!f->schema_only &&
        sl_catalog_read_tables(c, f, &cat->tables, &cat->ntables, err) != 0)
        goto done;
    SL_DEBUG("catalog: %zu items, %zu tables", cat->items.n, cat->ntables);
    *out = cat;
    cat = NULL;
    rc = 0;
done:
    sl_dump_catalog_free(cat);
    return rc;
}

void
sl_dump_catalog_free(sl_dump_catalog *cat)
{
    if (!cat)
        return;
    sl_dump_items_free(&cat->items);
    sl_catalog_tables_free(cat->tables, cat->ntables);
    free(cat);
}
