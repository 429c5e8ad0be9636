/* restore/target.c: create, check and clean the target database (restore/target.h). */
#include "restore/target.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"

/* One row naming a user object, if there is any. Only public is searched for objects: any
 * other non-system schema is itself reported. */
static const char first_object_sql[] =
    "SELECT d FROM ("
    " SELECT 1 AS o, pg_catalog.format('schema %I', nspname) AS d FROM pg_catalog.pg_namespace"
    "  WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'public', 'pg_toast')"
    "    AND nspname !~ '^pg_(toast_)?temp_'"
    " UNION ALL SELECT 2, pg_catalog.format('extension %I', extname)"
    "  FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql'"
    " UNION ALL SELECT 3, pg_catalog.format('relation public.%I', relname)"
    "  FROM pg_catalog.pg_class WHERE relnamespace = pg_catalog.to_regnamespace('public')"
    " UNION ALL SELECT 4, pg_catalog.format('function public.%I', proname)"
    "  FROM pg_catalog.pg_proc WHERE pronamespace = pg_catalog.to_regnamespace('public')"
    " UNION ALL SELECT 5, pg_catalog.format('type public.%I', typname)"
    "  FROM pg_catalog.pg_type WHERE typnamespace = pg_catalog.to_regnamespace('public')"
    " UNION ALL SELECT 6, pg_catalog.format('operator public.%s', oprname)"
    "  FROM pg_catalog.pg_operator WHERE oprnamespace = pg_catalog.to_regnamespace('public')"
    " UNION ALL SELECT 7, pg_catalog.format('collation public.%I', collname)"
    "  FROM pg_catalog.pg_collation WHERE collnamespace = pg_catalog.to_regnamespace('public')"
    " UNION ALL SELECT 8, pg_catalog.format('text search configuration public.%I', cfgname)"
    "  FROM pg_catalog.pg_ts_config WHERE cfgnamespace = pg_catalog.to_regnamespace('public')"
    " UNION ALL SELECT 9, pg_catalog.format('text search dictionary public.%I', dictname)"
    "  FROM pg_catalog.pg_ts_dict WHERE dictnamespace = pg_catalog.to_regnamespace('public')"
    " UNION ALL SELECT 10, pg_catalog.format('conversion public.%I', conname)"
    "  FROM pg_catalog.pg_conversion WHERE connamespace = pg_catalog.to_regnamespace('public')"
    " UNION ALL SELECT 11, 'large objects' WHERE EXISTS"
    "  (SELECT 1 FROM pg_catalog.pg_largeobject_metadata)"
    " UNION ALL SELECT 12, pg_catalog.format('event trigger %I', evtname)"
    "  FROM pg_catalog.pg_event_trigger"
    " UNION ALL SELECT 13, pg_catalog.format('publication %I', pubname)"
    "  FROM pg_catalog.pg_publication"
    " UNION ALL SELECT 14, pg_catalog.format('foreign data wrapper %I', fdwname)"
    "  FROM pg_catalog.pg_foreign_data_wrapper"
    " UNION ALL SELECT 15, pg_catalog.format('server %I', srvname)"
    "  FROM pg_catalog.pg_foreign_server"
    ") x ORDER BY o LIMIT 1";

int
sl__restore_check_empty(sl_conn *c, const char *dbname, sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, first_object_sql, 0, NULL, err) != 0) {
        sl_error_prefix(err, "could not check that database \"%s\" is empty", dbname);
        return -1;
    }
    int rc = 0;
    if (PQntuples(res) > 0) {
        sl_error_set(err, SL_E_REFUSED,
                     "database \"%s\" is not empty (it has %s): restore into an empty database, "
                     "or use --clean to drop its objects first, or --create --clean to drop and "
                     "recreate it",
                     dbname, PQgetvalue(res, 0, 0));
        rc = -1;
    }
    PQclear(res);
    return rc;
}

/* Every statement is built by the server (format %I), so names need no quoting here. */
static const char clean_sql[] =
    "DO $clean$\n"
    "DECLARE r record;\n"
    "BEGIN\n"
    "  FOR r IN SELECT evtname FROM pg_catalog.pg_event_trigger LOOP\n"
    "    EXECUTE pg_catalog.format('DROP EVENT TRIGGER %I', r.evtname);\n"
    "  END LOOP;\n"
    "  FOR r IN SELECT pubname FROM pg_catalog.pg_publication LOOP\n"
    "    EXECUTE pg_catalog.format('DROP PUBLICATION %I', r.pubname);\n"
    "  END LOOP;\n"
    "  PERFORM pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata;\n"
    "  FOR r IN SELECT extname FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql' LOOP\n"
    "    EXECUTE pg_catalog.format('DROP EXTENSION IF EXISTS %I CASCADE', r.extname);\n"
    "  END LOOP;\n"
    "  FOR r IN SELECT fdwname FROM pg_catalog.pg_foreign_data_wrapper LOOP\n"
    "    EXECUTE pg_catalog.format('DROP FOREIGN DATA WRAPPER IF EXISTS %I CASCADE', r.fdwname);\n"
    "  END LOOP;\n"
    "  FOR r IN SELECT nspname FROM pg_catalog.pg_namespace\n"
    "      WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')\n"
    "        AND nspname !~ '^pg_(toast_)?temp_' LOOP\n"
    "    EXECUTE pg_catalog.format('DROP SCHEMA IF EXISTS %I CASCADE', r.nspname);\n"
    "  END LOOP;\n"
    "END\n"
    "$clean$;\n"
    "CREATE SCHEMA public AUTHORIZATION pg_database_owner;\n"
    "COMMENT ON SCHEMA public IS 'standard public schema';\n"
    "GRANT USAGE ON SCHEMA public TO PUBLIC;\n";

int
sl__restore_clean(sl_conn *c, sl_error *err)
{
    sl_buf sql = SL_BUF_INIT;
    sl_buf_puts(&sql, "BEGIN;\n");
    sl_buf_puts(&sql, clean_sql);
    sl_buf_puts(&sql, "COMMIT;\n");
    int rc = sl_conn_exec(c, sql.data, err);
    if (rc != 0) {
        sl_error_prefix(err, "--clean could not empty the database");
        PQclear(PQexec(sl_conn_pg(c), "ROLLBACK"));
    }
    sl_buf_free(&sql);
    return rc;
}

/* The archive's options, values quoted by libpq: literals, a tablespace an identifier. */
static int
put_with(sl_conn *c, const char *const *with, sl_buf *sql, sl_error *err)
{
    for (size_t i = 0; with && with[i] && with[i + 1]; i += 2) {
        bool ident = strcmp(with[i], "TABLESPACE") == 0;
        const char *v = with[i + 1];
        char *q = ident ? sl_conn_quote_ident(c, v) : sl_conn_quote_literal(c, v);
        if (!q) {
            sl_error_set(err, SL_E_ARCHIVE, "the database's %s in the archive cannot be quoted",
                         with[i]);
            return -1;
        }
        sl_buf_printf(sql, " %s = %s", with[i], q);
        free(q);
    }
    return 0;
}

int
sl__restore_create(const sl_conninfo *ci, const sl_conn_opts *conn_opts, const char *dbname,
                   bool drop_existing, const char *const *with, sl_error *err)
{
    sl_conninfo *maint = sl_conninfo_with_dbname(ci, "postgres");
    sl_conn *c = NULL;
    PGresult *res = NULL;
    char *quoted = NULL;
    sl_buf sql = SL_BUF_INIT;
    int rc = -1;
    if (sl_conn_open(&c, maint, conn_opts, err) != 0) {
        sl_error_prefix(err, "--create needs the maintenance database");
        goto done;
    }
    const char *params[] = {dbname};
    if (sl_conn_query(c, &res, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", 1,
                      params, err) != 0)
        goto done;
    quoted = sl_conn_quote_ident(c, dbname);
    if (!quoted) {
        const char *why = PQerrorMessage(sl_conn_pg(c));
        sl_error_set(err, SL_E_USAGE, "database name \"%s\" cannot be quoted: %.*s", dbname,
                     (int)strcspn(why, "\n"), why);
        goto done;
    }
    if (PQntuples(res) > 0) {
        if (!drop_existing) {
            sl_error_set(err, SL_E_REFUSED,
                         "database \"%s\" already exists: restore into it without --create, or "
                         "add --clean to drop and recreate it",
                         dbname);
            goto done;
        }
        SL_INFO("dropping database \"%s\" (--create --clean)", dbname);
        sl_buf_printf(&sql, "DROP DATABASE %s", quoted);
        if (sl_conn_exec(c, sql.data, err) != 0) {
            sl_error_prefix(err, "could not drop database \"%s\"", dbname);
            goto done;
        }
        sl_buf_reset(&sql);
    }
    sl_buf_printf(&sql, "CREATE DATABASE %s TEMPLATE template0", quoted);
    if (put_with(c, with, &sql, err) != 0)
        goto done;
    if (sl_conn_exec(c, sql.data, err) != 0) {
        sl_error_prefix(err, "could not create database \"%s\"", dbname);
        goto done;
    }
    SL_INFO("created database \"%s\"", dbname);
    rc = 0;
done:
    PQclear(res);
    free(quoted);
    sl_buf_free(&sql);
    sl_conn_close(c);
    sl_conninfo_free(maint);
    return rc;
}

#define TABLES_PER_QUERY 500

/* Runs sql and returns, in *found, the first value of its first row (NULL when no row). */
static int
first_value(sl_conn *c, const char *sql, char **found, sl_error *err)
{
    PGresult *res = NULL;
    *found = NULL;
    if (sl_conn_query(c, &res, sql, 0, NULL, err) != 0)
        return -1;
    if (PQntuples(res) > 0)
        *found = sl_strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* Checks one batch of tables [from, to) of the backup's TABLE DATA entries. */
static int
check_table_batch(sl_conn *c, const sl_bfile_reader *r, size_t from, size_t to,
                  const char *dbname, sl_error *err)
{
    sl_buf missing = SL_BUF_INIT, rows = SL_BUF_INIT;
    char *found = NULL;
    int rc = -1;
    for (size_t i = from; i < to; i++) {
        const sl_bfile_entry *e = sl_bfile_reader_entry(r, i);
        if (!sl_bfile_kind_is(e->kind, SL_BFILE_KIND_TABLE_DATA) || !e->schema || !e->name)
            continue;
        char *s = sl_conn_quote_ident(c, e->schema), *t = sl_conn_quote_ident(c, e->name);
        char *qualified = s && t ? sl_asprintf("%s.%s", s, t) : NULL;
        char *lit = qualified ? sl_conn_quote_literal(c, qualified) : NULL;
        bool quoted = lit != NULL;
        if (quoted) {
            sl_buf_printf(&missing, "%s(%s)", missing.len ? ", " : "SELECT x FROM (VALUES ",
                          lit);
            sl_buf_printf(&rows, "%sSELECT %s WHERE EXISTS (SELECT 1 FROM ONLY %s)",
                          rows.len ? " UNION ALL " : "", lit, qualified);
        } else {
            /* libpq refuses text that is not valid in the connection's encoding */
            const char *why = PQerrorMessage(sl_conn_pg(c));
            sl_error_set(err, SL_E_UNSUPPORTED, "table name %s.%s cannot be quoted in the "
                         "encoding of the target database (%s): %.*s", e->schema, e->name,
                         pg_encoding_to_char(PQclientEncoding(sl_conn_pg(c))),
                         (int)strcspn(why, "\n"), why);
        }
        free(s);
        free(t);
        free(qualified);
        free(lit);
        if (!quoted)
            goto done;
    }
    if (!missing.len)
        return 0;
    sl_buf_puts(&missing, ") v(x) WHERE pg_catalog.to_regclass(x) IS NULL LIMIT 1");
    if (first_value(c, missing.data, &found, err) != 0)
        goto done;
    if (found) {
        sl_error_set(err, SL_E_REFUSED,
                     "table %s of this data-only backup does not exist in database \"%s\": "
                     "restore the schema first",
                     found, dbname);
        goto done;
    }
    if (first_value(c, rows.data, &found, err) != 0)
        goto done;
    if (found) {
        sl_error_set(err, SL_E_REFUSED,
                     "table %s in database \"%s\" already holds rows: a data-only restore "
                     "only fills empty tables",
                     found, dbname);
        goto done;
    }
    rc = 0;
done:
    free(found);
    sl_buf_free(&missing);
    sl_buf_free(&rows);
    return rc;
}

int
sl__restore_check_tables_empty(sl_conn *c, const sl_bfile_reader *r, const char *dbname,
                               sl_error *err)
{
    size_t n = sl_bfile_reader_count(r);
    for (size_t from = 0; from < n; from += TABLES_PER_QUERY) {
        size_t to = n - from < TABLES_PER_QUERY ? n : from + TABLES_PER_QUERY;
        if (check_table_batch(c, r, from, to, dbname, err) != 0)
            return -1;
    }
    return 0;
}
