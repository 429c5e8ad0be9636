/* dump/family.c: one catalog query per family, its rows appended as items (family.h). */
#include "dump/family.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NCOLUMNS 5  /* classid, objid, schema, name, sql */

static int
parse_oid(const char *text, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Appends the item of result row i; the row was produced by fam's query. */
static int
add_row(const sl__family *fam, PGresult *res, int i, sl_dump_items *out, sl_error *err)
{
    sl_dump_item it = {0};
    const char *name = PQgetvalue(res, i, 3);
    if (parse_oid(PQgetvalue(res, i, 0), &it.classid) != 0 ||
        parse_oid(PQgetvalue(res, i, 1), &it.objid) != 0) {
        sl_error_set(err, SL_E_INTERNAL, "catalog query for %s returned a bad oid for \"%s\"",
                     fam->what, name);
        return -1;
    }
    if (PQgetisnull(res, i, 4)) {
        /* A NULL definition means one of its parts is missing from the catalog: dumping the
         * rest would restore something else, so stop and name the object. */
        sl_error_set(err, SL_E_UNSUPPORTED, "cannot build the definition of %s %s%s%s",
                     fam->kind, PQgetisnull(res, i, 2) ? "" : PQgetvalue(res, i, 2),
                     PQgetisnull(res, i, 2) ? "" : ".", name);
        return -1;
    }
    it.phase = fam->phase;
    it.priority = fam->priority;
    it.kind = fam->kind;
    it.schema = PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
    it.name = (char *)name;
    it.sql = PQgetvalue(res, i, 4);
    sl_dump_items_add(out, &it);
    return 0;
}

static int
read_family(sl_conn *c, const sl_pattern_filter *f, const sl__family *fam,
            sl_dump_items *out, sl_error *err)
{
    PGresult *res = NULL;
    const char *params[1] = {f->schema_oids};
    int rc = -1;
    if (sl_conn_query(c, &res, fam->sql, fam->global ? 0 : 1, params, err) != 0) {
        sl_error_context(err, "reading %s", fam->what);
        goto done;
    }
    if (PQnfields(res) != NCOLUMNS) {
        sl_error_set(err, SL_E_INTERNAL, "catalog query for %s returned %d columns, not %d",
                     fam->what, PQnfields(res), NCOLUMNS);
        goto done;
    }
    for (int i = 0; i < PQntuples(res); i++)
        if (add_row(fam, res, i, out, err) != 0)
            goto done;
    rc = 0;
done:
    PQclear(res);
    return rc;
}

int
sl__family_read_all(sl_conn *c, const sl_pattern_filter *f, const sl__family *fams, size_t n,
                    sl_dump_items *out, sl_error *err)
{
    /* -n or -t narrows the backup to schemas or relations: objects outside schemas belong to
     * the whole database and are left out, as pg_dump does. */
    bool globals = !f->tables_only && !(f->include_schemas && f->include_schemas[0]);
    for (size_t i = 0; i < n; i++) {
        if (fams[i].global && !globals)
            continue;
        if (read_family(c, f, &fams[i], out, err) != 0)
            return -1;
    }
    return 0;
}
