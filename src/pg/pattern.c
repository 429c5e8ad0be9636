/* pg/pattern.c: turns -n/-N/-t/-T/--exclude-table-data patterns into OID sets.
 *
 * Each psql pattern becomes an anchored POSIX regular expression (one for the schema part, one
 * for the name part) built here (sl_pattern_regex), so the server only ever matches with
 * pg_catalog's "~". All patterns of one flag go to the server in one query as text array
 * parameters, never spliced into the SQL; the query answers, per pattern, which OIDs it
 * matched, so a pattern that matches nothing is named in the error. Unqualified table patterns
 * match relations visible in the default search_path (as psql and pg_dump do), so the table
 * patterns are resolved with the session's search_path reset: that search_path is the
 * database's or the role's, which may name a schema holding look-alike operators before
 * pg_catalog, so that query writes every operator as OPERATOR(pg_catalog.op), as pg_dump does.
 * Everything else runs with search_path = ''. */
#include "pg/pattern.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

/* User schemas: what pg_dump would dump (no catalogs, no toast or temporary schemas). Its
 * operators are qualified for table_match_sql. */
#define USER_SCHEMA(n)                                                                      \
    n ".nspname OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog', 'information_schema']"    \
    "::pg_catalog.name[]) AND " n ".nspname OPERATOR(pg_catalog.!~) "                       \
    "'^pg_(toast|temp_|toast_temp_)'::pg_catalog.text"

/* Relations a -t pattern can name, as with pg_dump: tables, views, matviews, sequences,
 * foreign tables and partitioned tables. */
#define DUMPABLE_RELKINDS "ARRAY['r', 'p', 'v', 'm', 'S', 'f']::pg_catalog.\"char\"[]"

/* Appends a regex-escaped literal character. */
static void
put_literal(sl_buf *re, char ch)
{
    if (strchr("$()*+.?[\\]^{|}", ch))
        sl_buf_putc(re, '\\');
    sl_buf_putc(re, ch);
}

int
sl_pattern_regex(const char *pattern, bool allow_schema, char **schema_re, char **name_re,
                 sl_error *err)
{
    sl_buf part = SL_BUF_INIT;
    char *first = NULL;
    int dots = 0;
    bool quoted = false;
    for (const char *p = pattern; *p; p++) {
        if (*p == '"') {
            if (quoted && p[1] == '"') {
                put_literal(&part, '"');
                p++;
            } else {
                quoted = !quoted;
            }
        } else if (quoted) {
            put_literal(&part, *p);
        } else if (*p == '.') {
            if (!allow_schema || ++dots > 1) {
                sl_error_set(err, SL_E_USAGE, "improper qualified name (too many dotted names): %s",
                             pattern);
                free(first);
                sl_buf_free(&part);
                return -1;
            }
            first = sl_asprintf("^(%s)$", part.data ? part.data : "");
            sl_buf_reset(&part);
        } else if (*p == '*') {
            sl_buf_puts(&part, ".*");
        } else if (*p == '?') {
            sl_buf_putc(&part, '.');
        } else {
            /* ASCII only, as PostgreSQL folds unquoted identifiers in a UTF-8 database */
            put_literal(&part, *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p);
        }
    }
    if (quoted) {
        sl_error_set(err, SL_E_USAGE, "unterminated quoted identifier in pattern: %s", pattern);
        free(first);
        sl_buf_free(&part);
        return -1;
    }
    *schema_re = first;
    *name_re = sl_asprintf("^(%s)$", part.data ? part.data : "");
    sl_buf_free(&part);
    return 0;
}

/* Appends one element of an array literal: NULL, or s double-quoted and escaped. */
static void
array_elem(sl_buf *arr, const char *s)
{
    if (!s) {
        sl_buf_puts(arr, "NULL");
        return;
    }
    sl_buf_putc(arr, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sl_buf_putc(arr, '\\');
        sl_buf_putc(arr, *s);
    }
    sl_buf_putc(arr, '"');
}

static size_t
count_patterns(const char *const *pats)
{
    size_t n = 0;
    while (pats && pats[n])
        n++;
    return n;
}

int
sl_pattern_arrays(const char **pats, bool allow_schema, char **schema_arr, char **name_arr,
                  sl_error *err)
{
    sl_buf sa = SL_BUF_INIT, na = SL_BUF_INIT;
    sl_buf_puts(&sa, "{");
    sl_buf_puts(&na, "{");
    for (size_t i = 0; pats && pats[i]; i++) {
        char *s = NULL, *n = NULL;
        if (sl_pattern_regex(pats[i], allow_schema, &s, &n, err) != 0) {
            sl_buf_free(&sa);
            sl_buf_free(&na);
            return -1;
        }
        if (i > 0) {
            sl_buf_putc(&sa, ',');
            sl_buf_putc(&na, ',');
        }
        array_elem(&sa, s);
        array_elem(&na, n);
        free(s);
        free(n);
    }
    sl_buf_putc(&sa, '}');
    sl_buf_putc(&na, '}');
    *schema_arr = sl_buf_steal(&sa);
    *name_arr = sl_buf_steal(&na);
    return 0;
}

/* Per pattern: the OIDs it matched as an oid[] literal, NULL when none. Runs with
 * search_path = ''. */
static const char schema_match_sql[] =
    "SELECT p.i, pg_catalog.array_agg(n.oid ORDER BY n.oid) FILTER (WHERE n.oid IS NOT "
    "NULL)::pg_catalog.text "
    "FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS p(re, i) "
    "LEFT JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.~) p.re AND "
    USER_SCHEMA("n") " "
    "GROUP BY p.i ORDER BY p.i";

/* Runs with the search_path reset (see the top of the file): every operator is qualified, IN
 * lists are "= ANY" and functions and types are pg_catalog's by name. */
static const char table_match_sql[] =
    "SELECT p.i, pg_catalog.array_agg(c.oid ORDER BY c.oid) FILTER (WHERE c.oid IS NOT "
    "NULL)::pg_catalog.text "
    "FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), "
    "  pg_catalog.unnest($2::pg_catalog.text[])) WITH ORDINALITY AS p(sre, re, i) "
    "LEFT JOIN (pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
    "           ON n.oid OPERATOR(pg_catalog.=) c.relnamespace AND " USER_SCHEMA("n") ") "
    "  ON c.relkind OPERATOR(pg_catalog.=) ANY (" DUMPABLE_RELKINDS ") "
    "  AND c.relname OPERATOR(pg_catalog.~) p.re "
    " AND CASE WHEN p.sre IS NULL THEN pg_catalog.pg_table_is_visible(c.oid) "
    "     ELSE n.nspname OPERATOR(pg_catalog.~) p.sre END "
    "GROUP BY p.i ORDER BY p.i";

/* Resolves one flag's patterns into *oids ('{...}' literal of every matched OID). */
static int
match_patterns(sl_conn *c, const char *flag, const char **pats, bool tables, char **oids,
               sl_error *err)
{
    char *sarr = NULL, *narr = NULL;
    PGresult *res = NULL;
    sl_buf all = SL_BUF_INIT;
    int rc = -1;
    if (sl_pattern_arrays(pats, tables, &sarr, &narr, err) != 0)
        goto done;
    const char *params[2] = {sarr, narr};
    int rq;
    if (tables) {
        /* unqualified table patterns match what the default search_path makes visible */
        rq = sl_conn_exec(c, "RESET search_path", err);
        if (rq == 0)
            rq = sl_conn_query(c, &res, table_match_sql, 2, params, err);
        if (rq == 0)
            rq = sl_conn_exec(c, "SET search_path = ''", err);
    } else {
        rq = sl_conn_query(c, &res, schema_match_sql, 1, params + 1, err);
    }
    if (rq != 0) {
        sl_error_prefix(err, "resolving %s patterns", flag);
        goto done;
    }
    sl_buf_puts(&all, "{");
    for (int i = 0; i < PQntuples(res); i++) {
        if (PQgetisnull(res, i, 1)) {
            size_t idx = strtoul(PQgetvalue(res, i, 0), NULL, 10) - 1;
            if (idx >= count_patterns(pats)) {
                sl_error_set(err, SL_E_SERVER, "the server answered %s patterns with a "
                             "malformed row", flag);
                goto done;
            }
            sl_error_set(err, SL_E_USAGE, "no %s matched pattern \"%s\" (%s)",
                         tables ? "relation" : "schema", pats[idx], flag);
            goto done;
        }
        const char *v = PQgetvalue(res, i, 1); /* "{1,2}" */
        size_t len = strlen(v);
        if (len > 2) {
            if (all.len > 1)
                sl_buf_putc(&all, ',');
            sl_buf_append(&all, v + 1, len - 2);
        }
    }
    sl_buf_putc(&all, '}');
    *oids = sl_buf_steal(&all);
    rc = 0;
done:
    PQclear(res);
    free(sarr);
    free(narr);
    sl_buf_free(&all);
    return rc;
}

/* The final sets, from the matched OIDs ($1 include schemas or NULL = all, $2 excluded
 * schemas, $3 included relations or NULL = all in the schemas, $4 excluded relations,
 * $5 relations whose data is excluded). */
static const char final_sql[] =
    "WITH s AS (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE " USER_SCHEMA("n") " "
    "  AND ($1::pg_catalog.oid[] IS NULL OR n.oid = ANY ($1::pg_catalog.oid[])) "
    "  AND n.oid <> ALL ($2::pg_catalog.oid[])), "
    "r0 AS (SELECT c.oid, c.relkind FROM pg_catalog.pg_class c "
    "  WHERE c.relkind = ANY (" DUMPABLE_RELKINDS ") AND c.relnamespace IN (SELECT oid FROM s) "
    "  AND ($3::pg_catalog.oid[] IS NULL OR c.oid IN (SELECT "
    "pg_catalog.unnest($3::pg_catalog.oid[]))) "
    "  AND c.oid NOT IN (SELECT pg_catalog.unnest($4::pg_catalog.oid[])) AND c.relpersistence <> "
    "'t' "
    "  AND c.oid NOT IN (SELECT d.objid FROM pg_catalog.pg_depend d "
    "    WHERE d.classid = 1259 AND d.deptype = 'e')), "
    /* a sequence goes with the table owning it: identity sequences only with their table,
     * owned sequences also when -t names only the table */
    "r AS (SELECT oid, relkind FROM r0 WHERE NOT (relkind = 'S' AND EXISTS ("
    "    SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 1259 AND d.objid = r0.oid "
    "    AND d.refclassid = 1259 AND d.deptype = 'i' AND d.refobjid NOT IN (SELECT oid FROM r0)))"
    "  UNION SELECT c.oid, c.relkind FROM pg_catalog.pg_depend d "
    "  JOIN pg_catalog.pg_class c ON c.oid = d.objid WHERE d.classid = 1259 "
    "  AND d.refclassid = 1259 AND d.deptype IN ('a', 'i') AND c.relkind = 'S' "
    "  AND d.refobjid IN (SELECT oid FROM r0)), "
    /* extension configuration relations whose contents are dumped (pattern.h); an extension is
     * dumped as dump/type.c's extensions_sql says: no -t, and its schema is dumped (or it lives
     * in pg_catalog and no -n/-N is given) */
    "cfg AS (SELECT c.oid, c.relkind FROM pg_catalog.pg_extension x "
    "  CROSS JOIN pg_catalog.unnest(x.extconfig) AS u(oid) "
    "  JOIN pg_catalog.pg_class c ON c.oid = u.oid "
    "  WHERE c.relkind IN ('r', 'S') "
    "  AND (($3::pg_catalog.oid[] IS NULL AND (x.extnamespace IN (SELECT oid FROM s) "
    "          OR ($1::pg_catalog.oid[] IS NULL "
    "              AND pg_catalog.cardinality($2::pg_catalog.oid[]) = 0 "
    "              AND x.extnamespace = 'pg_catalog'::pg_catalog.regnamespace))) "
    "       OR c.oid IN (SELECT pg_catalog.unnest($3::pg_catalog.oid[])) "
    "       OR ($1::pg_catalog.oid[] IS NOT NULL AND c.relnamespace IN (SELECT oid FROM s))) "
    "  AND c.oid NOT IN (SELECT pg_catalog.unnest($4::pg_catalog.oid[])) "
    "  AND c.relnamespace <> ALL ($2::pg_catalog.oid[])) "
    "SELECT (SELECT COALESCE(pg_catalog.array_agg(oid ORDER BY oid), '{}') FROM s)::text, "
    "  (SELECT COALESCE(pg_catalog.array_agg(oid ORDER BY oid), '{}') FROM r)::text, "
    "  (SELECT COALESCE(pg_catalog.array_agg(oid ORDER BY oid), '{}') FROM "
    "   (SELECT oid, relkind FROM r UNION SELECT oid, relkind FROM cfg) d "
    "   WHERE relkind = 'r' AND oid NOT IN (SELECT "
    "pg_catalog.unnest($5::pg_catalog.oid[])))::text, "
    "  (SELECT COALESCE(pg_catalog.array_agg(oid ORDER BY oid), '{}') FROM cfg "
    "   WHERE relkind = 'S')::text";

int
sl_pattern_filter_resolve(sl_pattern_filter *f, sl_conn *c, sl_error *err)
{
    char *inc_s = NULL, *exc_s = NULL, *inc_t = NULL, *exc_t = NULL, *exc_d = NULL;
    PGresult *res = NULL;
    int rc = -1;
    sl_pattern_filter_clear(f);
    /* an empty list means no filter, as NULL does: readers may test either */
    const char ***lists[] = {&f->include_schemas, &f->exclude_schemas, &f->include_tables,
                             &f->exclude_tables, &f->exclude_table_data};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (*lists[i] && !(*lists[i])[0])
            *lists[i] = NULL;
    if (sl_conn_exec(c, "SET search_path = ''", err) != 0)
        goto done;
    /* as for the catalog queries that follow: JIT would cost more than these queries */
    if (sl_conn_server_version(c) >= 110000 && sl_conn_exec(c, "SET jit = off", err) != 0)
        goto done;
    if (count_patterns(f->include_schemas) &&
        match_patterns(c, "-n", f->include_schemas, false, &inc_s, err) != 0)
        goto done;
    if (count_patterns(f->exclude_schemas) &&
        match_patterns(c, "-N", f->exclude_schemas, false, &exc_s, err) != 0)
        goto done;
    if (count_patterns(f->include_tables) &&
        match_patterns(c, "-t", f->include_tables, true, &inc_t, err) != 0)
        goto done;
    if (count_patterns(f->exclude_tables) &&
        match_patterns(c, "-T", f->exclude_tables, true, &exc_t, err) != 0)
        goto done;
    if (count_patterns(f->exclude_table_data) &&
        match_patterns(c, "--exclude-table-data", f->exclude_table_data, true, &exc_d, err) != 0)
        goto done;
    const char *params[5] = {inc_s, exc_s ? exc_s : "{}", inc_t, exc_t ? exc_t : "{}",
                             exc_d ? exc_d : "{}"};
    if (sl_conn_query(c, &res, final_sql, 5, params, err) != 0) {
        sl_error_prefix(err, "resolving the backup's filters");
        goto done;
    }
    f->schema_oids = sl_strdup(PQgetvalue(res, 0, 0));
    f->table_oids = sl_strdup(PQgetvalue(res, 0, 1));
    f->data_table_oids = sl_strdup(PQgetvalue(res, 0, 2));
    f->config_sequence_oids = sl_strdup(PQgetvalue(res, 0, 3));
    f->tables_only = inc_t != NULL;
    rc = 0;
done:
    if (rc != 0)
        sl_pattern_filter_clear(f);
    PQclear(res);
    free(inc_s);
    free(exc_s);
    free(inc_t);
    free(exc_t);
    free(exc_d);
    return rc;
}

void
sl_pattern_filter_clear(sl_pattern_filter *f)
{
    free(f->schema_oids);
    free(f->table_oids);
    free(f->data_table_oids);
    free(f->config_sequence_oids);
    f->schema_oids = f->table_oids = f->data_table_oids = f->config_sequence_oids = NULL;
    f->tables_only = false;
}
