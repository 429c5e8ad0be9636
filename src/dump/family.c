/* dump/family.c: one catalog query per family, its rows appended as items (family.h). */
#include "dump/family.h"

#include <stdlib.h>
#include <string.h>

#include "io/bfile.h"

/* The columns of a family's rows; a fixed-kind family's stop after COL_SQL. */
enum {
    COL_CLASSID,
    COL_OBJID,
    COL_SCHEMA,
    COL_NAME,
    COL_SQL,
    COL_KIND,
    COL_PHASE,
    COL_PRIORITY,
    COL_REF_CLASSID,
    COL_REF_OBJID,
    NCOLUMNS_ROW_KIND,
    COL_TABLE_SCHEMA = NCOLUMNS_ROW_KIND,  /* optional: the tables the object needs */
    COL_TABLE_NAME,
    COL_REF_TABLE_SCHEMA,
    COL_REF_TABLE_NAME,
    NCOLUMNS_ROW_KIND_TABLES,
};
#define NCOLUMNS_FIXED_KIND (COL_SQL + 1)

/* Kinds the row-kind queries may return; items point at these static strings. */
static const char *const kinds[] = {
    "SCHEMA", "EXTENSION", "SHELL TYPE", "COLLATION", "TYPE", "DOMAIN", "DOMAIN CONSTRAINT",
    "SEQUENCE", "TABLE", "FOREIGN TABLE", "DEFAULT", "CHECK CONSTRAINT", "VIEW",
    "MATERIALIZED VIEW", SL_BFILE_KIND_SEQUENCE_SET, "INDEX", "CONSTRAINT", "FK CONSTRAINT",
    "TRIGGER", "RULE", "STATISTICS", "INDEX ATTACH", "TABLE ATTACH", "CLUSTER",
    "REPLICA IDENTITY", "MATVIEW REFRESH",
};

static const char *
static_kind(const char *k)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i], k) == 0)
            return kinds[i];
    return NULL;
}

static char *
get_str(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* *out = the oid in (row, col), 0 for NULL; false when the text is no oid. */
static bool
get_oid(const PGresult *r, int row, int col, uint32_t *out)
{
    *out = 0;
    return PQgetisnull(r, row, col) || sl_catalog_parse_oid(PQgetvalue(r, row, col), out);
}

/* The oid columns of row i (classid, objid, and for a row-kind family ref_classid, ref_objid)
 * into oids[4]. */
static int
get_oids(const char *what, bool row_kind, const PGresult *res, int i, uint32_t oids[4],
         sl_error *err)
{
    static const int cols[4] = {COL_CLASSID, COL_OBJID, COL_REF_CLASSID, COL_REF_OBJID};
    for (int k = 0; k < (row_kind ? 4 : 2); k++) {
        if (!get_oid(res, i, cols[k], &oids[k])) {
            const char *name = get_str(res, i, COL_NAME);
            sl_error_set(err, SL_E_INTERNAL, "catalog query for %s returned a bad oid for \"%s\"",
                         what, name ? name : "?");
            return -1;
        }
    }
    return 0;
}

/* Appends the item of result row i of family what; fam is NULL for a row-kind family. */
static int
add_row(const char *what, const sl__family *fam, PGresult *res, int i, sl_dump_items *out,
        sl_dump_deps *deps, sl_error *err)
{
    uint32_t oids[4] = {0, 0, 0, 0};
    if (get_oids(what, fam == NULL, res, i, oids, err) != 0)
        return -1;
    const char *kind = fam ? fam->kind : get_str(res, i, COL_KIND);
    if (!fam && kind && strcmp(kind, "UNSUPPORTED") == 0) {
        /* the query found a state no dump can reproduce; sql says why */
        sl_error_set(err, SL_E_UNSUPPORTED, "cannot back up %s.%s: %s",
                     PQgetvalue(res, i, COL_SCHEMA), PQgetvalue(res, i, COL_NAME),
                     PQgetvalue(res, i, COL_SQL));
        return -1;
    }
    if (!fam && kind && strcmp(kind, "PART") == 0) {
        sl_dump_deps_add(deps, oids[0], oids[1], oids[2], oids[3], 'i');
        return 0;
    }
    sl_dump_item it = {
        .phase = fam ? fam->phase : atoi(PQgetvalue(res, i, COL_PHASE)),
        .priority = fam ? fam->priority : atoi(PQgetvalue(res, i, COL_PRIORITY)),
        .kind = fam ? fam->kind : kind ? static_kind(kind) : NULL,
        .schema = get_str(res, i, COL_SCHEMA),
        /* a fixed-kind family's objects always have a name: its query prints one */
        .name = fam ? PQgetvalue(res, i, COL_NAME) : get_str(res, i, COL_NAME),
        .sql = get_str(res, i, COL_SQL),
        .classid = oids[0],
        .objid = oids[1],
        .ref_classid = oids[2],
        .ref_objid = oids[3],
    };
    if (PQnfields(res) == NCOLUMNS_ROW_KIND_TABLES)
        for (int k = 0; k < 4; k++)
            it.tables[k] = get_str(res, i, COL_TABLE_SCHEMA + k);
    if (!sl_bfile_phase_known(it.phase)) {
        /* a query that spelled its phase with a number instead of SL_SQL_PLACE */
        sl_error_set(err, SL_E_INTERNAL, "catalog query for %s returned unknown phase %d",
                     what, it.phase);
        return -1;
    }
    if (!it.kind || !it.sql || !it.name) {
        /* a definition the server could not produce (e.g. a NULL deparse): dumping the rest
         * would restore something else, so stop and name the object */
        sl_error_set(err, SL_E_UNSUPPORTED, "cannot produce the definition of %s %s%s%s",
                     kind ? kind : "object", it.schema ? it.schema : "",
                     it.schema ? "." : "", it.name ? it.name : "?");
        return -1;
    }
    sl_dump_items_add(out, &it);
    return 0;
}

/* Runs one family query and appends its rows; fam NULL: a row-kind family. */
static int
read_rows(sl_conn *c, const char *what, const sl__family *fam, const char *sql, int nparams,
          const char *const *params, sl_dump_items *out, sl_dump_deps *deps, sl_error *err)
{
    PGresult *res = NULL;
    int rc = -1;
    int ncolumns = fam ? NCOLUMNS_FIXED_KIND : NCOLUMNS_ROW_KIND;
    if (sl_conn_query(c, &res, sql, nparams, params, err) != 0) {
        sl_error_prefix(err, "reading %s", what);
        goto done;
    }
    if (PQnfields(res) != ncolumns &&
        !(fam == NULL && PQnfields(res) == NCOLUMNS_ROW_KIND_TABLES)) {
        sl_error_set(err, SL_E_INTERNAL, "catalog query for %s returned %d columns, not %d",
                     what, PQnfields(res), ncolumns);
        goto done;
    }
    for (int i = 0; i < PQntuples(res); i++)
        if (add_row(what, fam, res, i, out, deps, err) != 0)
            goto done;
    rc = 0;
done:
    PQclear(res);
    return rc;
}

int
sl__family_read_rows(sl_conn *c, const char *what, const char *sql, int nparams,
                     const char *const *params, sl_dump_items *out, sl_dump_deps *deps,
                     sl_error *err)
{
    return read_rows(c, what, NULL, sql, nparams, params, out, deps, err);
}

int
sl__family_read_all(sl_conn *c, const sl_pattern_filter *f, const sl__family *fams, size_t n,
                    sl_dump_items *out, sl_error *err)
{
    /* -n or -t narrows the backup to schemas or relations: objects outside schemas belong to
     * the whole database and are left out, as pg_dump does. */
    bool globals = !f->tables_only && !(f->include_schemas && f->include_schemas[0]);
    const char *params[1] = {f->schema_oids};
    for (size_t i = 0; i < n; i++) {
        if (fams[i].global && !globals)
            continue;
        if (read_rows(c, fams[i].what, &fams[i], fams[i].sql, fams[i].global ? 0 : 1, params,
                      out, NULL, err) != 0)
            return -1;
    }
    return 0;
}
