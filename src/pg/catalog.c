/* pg/catalog.c: catalog readers shared by the engines (catalog.h). Queries run with
 * search_path = '' (pg/pattern.h leaves it so), so every name they print is qualified. */
#include "pg/catalog.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

bool
sl_catalog_parse_oid(const char *text, uint32_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    if (!text)
        return false;
    for (; text[n] >= '0' && text[n] <= '9'; n++) {
        if (n == 10)
            return false;
        v = v * 10 + (uint64_t)(text[n] - '0');
    }
    if (n == 0 || text[n] != '\0' || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Columns 8 and 9: an extension configuration table's condition (pg_extension.extcondition)
 * without its WHERE, and the condition as given when it is not a WHERE clause. */
static const char data_tables_sql[] =
    "SELECT c.oid, n.nspname, c.relname, " SL_CATALOG_QNAME("n", "c.relname") ", "
    "  COALESCE('(' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) "
    "    FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
    "    AND a.attgenerated = '') || ')', ''), "
    "  c.relpages, pg_relation_size(c.oid), COALESCE(am.amname = 'heap', false), "
    "  (regexp_match(cf.cond, '^\\s*where\\M(.*)$', 'i'))[1], "
    "  CASE WHEN cf.cond !~* '^\\s*where\\M' THEN cf.cond END "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_am am ON am.oid = c.relam "
    "LEFT JOIN (SELECT u.oid, u.cond FROM pg_extension x "
    "  CROSS JOIN unnest(x.extconfig, x.extcondition) AS u(oid, cond) WHERE u.cond <> '') cf "
    "  ON cf.oid = c.oid "
    "WHERE c.relkind = 'r' AND c.oid IN (SELECT unnest($1::oid[])) ORDER BY n.nspname, c.relname";

int
sl_catalog_read_tables(sl_conn *c, const sl_pattern_filter *f, sl_catalog_table **out,
                       size_t *n, sl_error *err)
{
    PGresult *res = NULL;
    const char *p[1] = {f->data_table_oids};
    if (sl_conn_query(c, &res, data_tables_sql, 1, p, err) != 0) {
        sl_error_prefix(err, "listing tables");
        return -1;
    }
    size_t count = (size_t)PQntuples(res);
    for (int r = 0; r < (int)count; r++) {
        uint32_t oid;
        if (!sl_catalog_parse_oid(PQgetvalue(res, r, 0), &oid)) {
            sl_error_set(err, SL_E_SERVER, "listing tables: the server sent \"%s\" as an oid",
                         PQgetvalue(res, r, 0));
            PQclear(res);
            return -1;
        }
        if (!PQgetisnull(res, r, 9)) {
            /* pg_dump would paste it after FROM; sluice only combines WHERE conditions */
            sl_error_set(err, SL_E_UNSUPPORTED,
                         "cannot back up the rows of extension configuration table %s: its "
                         "condition \"%s\" is not a WHERE clause",
                         PQgetvalue(res, r, 3), PQgetvalue(res, r, 9));
            PQclear(res);
            return -1;
        }
    }
    sl_catalog_table *t = sl_calloc(count + 1, sizeof *t);
    for (size_t i = 0; i < count; i++) {
        int r = (int)i;
        t[i].where = PQgetisnull(res, r, 8) ? NULL : sl_strdup(PQgetvalue(res, r, 8));
        (void)sl_catalog_parse_oid(PQgetvalue(res, r, 0), &t[i].oid);  /* checked above */
        t[i].schema = sl_strdup(PQgetvalue(res, r, 1));
        t[i].name = sl_strdup(PQgetvalue(res, r, 2));
        t[i].qualified = sl_strdup(PQgetvalue(res, r, 3));
        t[i].copy_columns = sl_strdup(PQgetvalue(res, r, 4));
        t[i].pages = strtoll(PQgetvalue(res, r, 5), NULL, 10);
        t[i].bytes = strtoll(PQgetvalue(res, r, 6), NULL, 10);
        t[i].is_heap = strcmp(PQgetvalue(res, r, 7), "t") == 0;
    }
    PQclear(res);
    *out = t;
    *n = count;
    return 0;
}

void
sl_catalog_tables_free(sl_catalog_table *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++) {
        free(t[i].schema);
        free(t[i].name);
        free(t[i].qualified);
        free(t[i].copy_columns);
        free(t[i].where);
    }
    free(t);
}
