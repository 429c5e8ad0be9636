/* tap/discover.c: see discover.h. The query mirrors pipelinewise's column facts: the type name
 * is format_type(type, NULL) (no typmod, so "numeric", "character varying", "bit"), and
 * length, precision and scale come from information_schema's own functions applied to the
 * element type of an array and the base type of a domain, with the column's (or the
 * domain's) typmod. */
#include "tap/discover.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "base/log.h"
#include "base/mem.h"
#include "tap/schema.h"

static const char columns_sql[] =
    "SELECT n.nspname, c.relname, c.relkind IN ('v', 'm'), c.reltuples::pg_catalog.int8,"
    " a.attname, i.indrelid IS NOT NULL, pg_catalog.format_type(a.atttypid, NULL),"
    " information_schema._pg_char_max_length(b.oid, m.typmod),"
    " information_schema._pg_numeric_precision(b.oid, m.typmod),"
    " information_schema._pg_numeric_scale(b.oid, m.typmod),"
    " t.typcategory = 'A', COALESCE(e.typtype, t.typtype) = 'e', c.relkind = 'p'"
    " FROM pg_catalog.pg_attribute a"
    " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
    " LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem AND t.typelem <> 0"
    " CROSS JOIN LATERAL (SELECT CASE WHEN COALESCE(e.typtype, t.typtype) = 'd'"
    "   THEN COALESCE(e.typbasetype, t.typbasetype) ELSE COALESCE(e.oid, t.oid) END AS oid) b"
    " CROSS JOIN LATERAL (SELECT information_schema._pg_truetypmod(a.*, t.*) AS typmod) m"
    " LEFT JOIN pg_catalog.pg_index i ON i.indrelid = a.attrelid AND i.indisprimary"
    "   AND a.attnum = ANY (i.indkey)"
    " WHERE a.attnum > 0 AND NOT a.attisdropped"
    "   AND c.relkind IN ('r', 'v', 'm', 'p') AND NOT c.relispartition"
    "   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
    "   AND n.nspname !~ '^pg_(toast_)?temp_'"
    "   AND ($1::pg_catalog.text[] IS NULL OR n.nspname = ANY ($1::pg_catalog.text[]))"
    "   AND ($2::pg_catalog.text IS NULL OR (n.nspname = $2 AND c.relname = $3))"
    "   AND pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT')"
    " ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\", a.attnum";

enum { COL_SCHEMA, COL_TABLE, COL_IS_VIEW, COL_ROWS, COL_NAME, COL_PK, COL_TYPE, COL_CHARLEN,
       COL_PRECISION, COL_SCALE, COL_IS_ARRAY, COL_IS_ENUM, COL_PARTITIONED };

static const char missing_sql[] =
    "SELECT s FROM pg_catalog.unnest($1::pg_catalog.text[]) AS s"
    " WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = s) ORDER BY 1";

/* The filter as a text[] literal: every name double-quoted, so any character is safe. */
static char *
schemas_param(const sl_tap_config *cfg)
{
    if (!cfg->filter_schemas)
        return NULL;
    sl_buf lit = SL_BUF_INIT;
    sl_buf_putc(&lit, '{');
    for (size_t i = 0; i < cfg->n_filter_schemas; i++) {
        sl_buf_puts(&lit, i ? ",\"" : "\"");
        for (const char *p = cfg->filter_schemas[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                sl_buf_putc(&lit, '\\');
            sl_buf_putc(&lit, *p);
        }
        sl_buf_putc(&lit, '"');
    }
    sl_buf_putc(&lit, '}');
    return sl_buf_steal(&lit);
}

static int
warn_missing_schemas(sl_conn *c, const char *schemas, sl_error *err)
{
    PGresult *res = NULL;
    const char *params[] = {schemas};
    if (sl_conn_query(c, &res, missing_sql, 1, params, err) != 0)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        SL_WARN("filter_schemas: schema \"%s\" does not exist in this database",
                PQgetvalue(res, i, 0));
    PQclear(res);
    return 0;
}

static int
current_database(sl_conn *c, char **out, sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, "SELECT pg_catalog.current_database()", 0, NULL, err) != 0)
        return -1;
    *out = sl_strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static bool
flag(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

static bool
number(const PGresult *res, int row, int col, int64_t *out)
{
    if (PQgetisnull(res, row, col))
        return false;
    *out = strtoll(PQgetvalue(res, row, col), NULL, 10);
    return true;
}

static void
read_column(const PGresult *res, int row, sl_tap_column *col)
{
    memset(col, 0, sizeof *col);
    col->name = PQgetvalue(res, row, COL_NAME);
    col->sql_type = PQgetvalue(res, row, COL_TYPE);
    col->primary_key = flag(res, row, COL_PK);
    col->is_array = flag(res, row, COL_IS_ARRAY);
    col->is_enum = flag(res, row, COL_IS_ENUM);
    col->has_char_max_length = number(res, row, COL_CHARLEN, &col->char_max_length);
    col->has_precision = number(res, row, COL_PRECISION, &col->precision);
    col->has_scale = number(res, row, COL_SCALE, &col->scale);
}

/* One relation: rows [first, end) of the result, its columns in cols. */
typedef struct relation {
    const PGresult *res;
    int first;
    const sl_tap_column *cols;
    size_t ncols;
    const char *dbname;
} relation;

static void
write_stream_metadata(sl_jsonw *w, const relation *r)
{
    const PGresult *res = r->res;
    int64_t rows = 0;
    sl_jsonw_object_begin(w);
    sl_jsonw_keyz(w, "breadcrumb");
    sl_jsonw_array_begin(w);
    sl_jsonw_array_end(w);
    sl_jsonw_keyz(w, "metadata");
    sl_jsonw_object_begin(w);
    sl_jsonw_keyz(w, "table-key-properties");
    sl_jsonw_array_begin(w);
    for (size_t i = 0; i < r->ncols; i++)
        if (r->cols[i].primary_key)
            sl_jsonw_stringz(w, r->cols[i].name);
    sl_jsonw_array_end(w);
    sl_jsonw_keyz(w, "schema-name");
    sl_jsonw_stringz(w, PQgetvalue(res, r->first, COL_SCHEMA));
    sl_jsonw_keyz(w, "database-name");
    sl_jsonw_stringz(w, r->dbname);
    sl_jsonw_keyz(w, "row-count");
    if (number(res, r->first, COL_ROWS, &rows))
        sl_jsonw_int(w, rows);
    else
        sl_jsonw_null(w);
    sl_jsonw_keyz(w, "is-view");
    sl_jsonw_bool(w, flag(res, r->first, COL_IS_VIEW));
    sl_jsonw_object_end(w);
    sl_jsonw_object_end(w);
}

static void
write_column_metadata(sl_jsonw *w, const sl_tap_column *col)
{
    sl_buf type = SL_BUF_INIT;
    sl_tap_schema_sql_datatype(&type, col);
    sl_jsonw_object_begin(w);
    sl_jsonw_keyz(w, "breadcrumb");
    sl_jsonw_array_begin(w);
    sl_jsonw_stringz(w, "properties");
    sl_jsonw_stringz(w, col->name);
    sl_jsonw_array_end(w);
    sl_jsonw_keyz(w, "metadata");
    sl_jsonw_object_begin(w);
    sl_jsonw_keyz(w, "sql-datatype");
    sl_jsonw_stringz(w, type.data);
    sl_jsonw_keyz(w, "inclusion");
    sl_jsonw_stringz(w, sl_tap_schema_inclusion(col));
    sl_jsonw_keyz(w, "selected-by-default");
    sl_jsonw_bool(w, sl_tap_schema_supported(col));
    sl_jsonw_object_end(w);
    sl_jsonw_object_end(w);
    sl_buf_free(&type);
}

static void
write_stream(sl_jsonw *w, const relation *r)
{
    const char *schema = PQgetvalue(r->res, r->first, COL_SCHEMA);
    const char *table = PQgetvalue(r->res, r->first, COL_TABLE);
    sl_jsonw_object_begin(w);
    sl_jsonw_keyz(w, "table_name");
    sl_jsonw_stringz(w, table);
    sl_jsonw_keyz(w, "stream");
    sl_jsonw_stringz(w, table);
    sl_jsonw_keyz(w, "metadata");
    sl_jsonw_array_begin(w);
    write_stream_metadata(w, r);
    for (size_t i = 0; i < r->ncols; i++)
        write_column_metadata(w, &r->cols[i]);
    sl_jsonw_array_end(w);
    sl_jsonw_keyz(w, "tap_stream_id");
    sl_buf id = SL_BUF_INIT;
    sl_buf_printf(&id, "%s-%s", schema, table);
    sl_jsonw_stringz(w, id.data);
    sl_buf_free(&id);
    sl_jsonw_keyz(w, "schema");
    sl_jsonw_object_begin(w);
    sl_jsonw_keyz(w, "type");
    sl_jsonw_stringz(w, "object");
    sl_jsonw_keyz(w, "properties");
    sl_jsonw_object_begin(w);
    for (size_t i = 0; i < r->ncols; i++) {
        sl_jsonw_keyz(w, r->cols[i].name);
        sl_tap_schema_write(w, &r->cols[i]);
    }
    sl_jsonw_object_end(w);
    sl_jsonw_keyz(w, "definitions");
    sl_tap_schema_definitions(w, r->cols, r->ncols);
    sl_jsonw_object_end(w);
    sl_jsonw_object_end(w);
}

/* pipelinewise warns that capping a numeric's precision or scale may truncate values. */
static void
warn_capped(const relation *r)
{
    for (size_t i = 0; i < r->ncols; i++) {
        const sl_tap_column *c = &r->cols[i];
        if (strncmp(c->sql_type, "numeric", 7) != 0 || (c->sql_type[7] && c->sql_type[7] != '['))
            continue;
        if ((c->has_precision && c->precision > SL_TAP_NUMERIC_MAX_PRECISION) ||
            (c->has_scale && c->scale > SL_TAP_NUMERIC_MAX_SCALE))
            SL_WARN("column \"%s\" of \"%s\".\"%s\": numeric precision capped to %d, scale to "
                    "%d in its schema: larger values may be truncated", c->name,
                    PQgetvalue(r->res, r->first, COL_SCHEMA),
                    PQgetvalue(r->res, r->first, COL_TABLE), SL_TAP_NUMERIC_MAX_PRECISION,
                    SL_TAP_NUMERIC_MAX_SCALE);
    }
}

static bool
same_relation(const PGresult *res, int a, int b)
{
    return strcmp(PQgetvalue(res, a, COL_SCHEMA), PQgetvalue(res, b, COL_SCHEMA)) == 0 &&
           strcmp(PQgetvalue(res, a, COL_TABLE), PQgetvalue(res, b, COL_TABLE)) == 0;
}

static int
flush(sl_buf *text, sl_tap_emit_fn emit, void *ctx, sl_error *err)
{
    int rc = text->len ? emit(ctx, text->data, text->len, err) : 0;
    sl_buf_reset(text);
    return rc;
}

/* Writes every relation of res; rows are ordered by relation, then column. */
static int
write_catalog(const PGresult *res, const char *dbname, sl_tap_emit_fn emit, void *ctx,
              size_t *streams, sl_error *err)
{
    int nrows = PQntuples(res);
    sl_tap_column *cols = sl_calloc((size_t)nrows + 1, sizeof *cols);
    sl_buf text = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init_python(&w, &text, 2);
    sl_jsonw_object_begin(&w);
    sl_jsonw_keyz(&w, "streams");
    sl_jsonw_array_begin(&w);
    int rc = 0;
    for (int first = 0, end; first < nrows && rc == 0; first = end) {
        for (end = first; end < nrows && same_relation(res, first, end); end++)
            read_column(res, end, &cols[end - first]);
        relation r = {res, first, cols, (size_t)(end - first), dbname};
        warn_capped(&r);
        write_stream(&w, &r);
        (*streams)++;
        rc = flush(&text, emit, ctx, err);
    }
    if (rc == 0) {
        sl_jsonw_array_end(&w);
        sl_jsonw_object_end(&w);
        sl_buf_putc(&text, '\n');
        rc = flush(&text, emit, ctx, err);
    }
    sl_buf_free(&text);
    free(cols);
    return rc;
}

static void
nothing_found(sl_error *err, const char *dbname, const sl_tap_config *cfg)
{
    sl_buf filter = SL_BUF_INIT;
    for (size_t i = 0; i < cfg->n_filter_schemas; i++)
        sl_buf_printf(&filter, "%s\"%s\"", i ? ", " : "", cfg->filter_schemas[i]);
    if (cfg->filter_schemas)
        sl_error_set(err, SL_E_USAGE,
                     "no table, view or materialized view to discover in database \"%s\" "
                     "in the schemas of filter_schemas (%s)", dbname,
                     filter.len ? filter.data : "none");
    else
        sl_error_set(err, SL_E_USAGE,
                     "no table, view or materialized view to discover in database \"%s\" "
                     "(or none with a column this user may read)", dbname);
    sl_buf_free(&filter);
}

int
sl_tap_discover(sl_conn *c, const sl_tap_config *cfg, sl_tap_emit_fn emit, void *ctx,
                size_t *streams, sl_error *err)
{
    char *schemas = schemas_param(cfg);
    char *dbname = NULL;
    PGresult *res = NULL;
    const char *params[] = {schemas, NULL, NULL};
    int rc = -1;
    *streams = 0;
    if (current_database(c, &dbname, err) != 0)
        goto done;
    if (schemas && warn_missing_schemas(c, schemas, err) != 0)
        goto done;
    if (sl_conn_query(c, &res, columns_sql, 3, params, err) != 0) {
        sl_error_prefix(err, "could not read the relations to discover");
        goto done;
    }
    if (PQntuples(res) == 0) {
        nothing_found(err, dbname, cfg);
        goto done;
    }
    rc = write_catalog(res, dbname, emit, ctx, streams, err);
done:
    PQclear(res);
    free(dbname);
    free(schemas);
    return rc;
}

/* ---- one relation, for sync -------------------------------------------------------------- */

int
sl_tap_discover_relation(sl_conn *c, const char *schema, const char *table,
                         sl_tap_relation **out, sl_error *err)
{
    PGresult *res = NULL;
    const char *params[] = {NULL, schema, table};
    *out = NULL;
    if (sl_conn_query(c, &res, columns_sql, 3, params, err) != 0) {
        sl_error_prefix(err, "could not read the columns of \"%s\".\"%s\"", schema, table);
        return -1;
    }
    int n = PQntuples(res);
    if (n == 0) {
        PQclear(res);
        return 0;
    }
    sl_tap_relation *r = sl_calloc(1, sizeof *r);
    r->res = res;
    r->schema = PQgetvalue(res, 0, COL_SCHEMA);
    r->table = PQgetvalue(res, 0, COL_TABLE);
    r->is_view = flag(res, 0, COL_IS_VIEW);
    r->partitioned = flag(res, 0, COL_PARTITIONED);
    r->ncols = (size_t)n;
    r->cols = sl_calloc((size_t)n, sizeof *r->cols);
    for (int i = 0; i < n; i++)
        read_column(res, i, &r->cols[i]);
    *out = r;
    return 0;
}

void
sl_tap_relation_free(sl_tap_relation *r)
{
    if (!r)
        return;
    free(r->cols);
    PQclear(r->res);
    free(r);
}
