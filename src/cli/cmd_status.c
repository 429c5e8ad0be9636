/* cli/cmd_status.c: "sluice status": what a server is and whether sluice can work with it.
 * One connection, four catalog queries. The answers are gathered into one JSON document;
 * --json prints it, otherwise it is rendered as aligned text for people. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/escape.h"
#include "base/log.h"
#include "base/mem.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "mysql/status.h"

static const char usage[] =
    "Show the server's version, the current user, databases and their sizes, the settings\n"
    "that matter for sluice and the replication slots with the WAL they retain.\n"
    "With --engine mysql (or a mysql:// URL): MySQL or MariaDB, its uptime, read-only, the\n"
    "binary log (format, position, GTID), replication, TLS, settings, and every schema but\n"
    "the system ones with its tables, estimated rows, size and character set.\n\n"
    "Usage:\n"
    "  sluice status [OPTION]...\n\n"
    "Output:\n"
    "      --json                 one JSON document on stdout instead of text\n\n";

static const struct option longopts[] = {
    SL_CLI_COMMON_LONGOPTS,
    {"json", no_argument, NULL, SL_OPT_JSON},
    {NULL, 0, NULL, 0},
};

/* The settings shown, in this order. */
static const char settings_array[] =
    "{work_mem,maintenance_work_mem,shared_buffers,max_connections,wal_level,"
    "max_replication_slots,max_wal_senders}";

static const char server_sql[] =
    "SELECT pg_catalog.current_setting('server_version'),"
    " pg_catalog.current_setting('server_version_num')::int,"
    " pg_catalog.version(), current_user, r.rolsuper, r.rolreplication,"
    " pg_catalog.current_database(), pg_catalog.pg_is_in_recovery()"
    " FROM pg_catalog.pg_roles r WHERE r.rolname = current_user";

/* Sizes only of the databases the user may connect to: pg_database_size() fails on the others
 * (unless the user has pg_read_all_stats), and they cannot be backed up anyway. */
static const char databases_sql[] =
    "SELECT d.datname, pg_catalog.pg_database_size(d.oid),"
    " pg_catalog.pg_size_pretty(pg_catalog.pg_database_size(d.oid)),"
    " pg_catalog.pg_encoding_to_char(d.encoding), d.datallowconn,"
    " (SELECT count(*) FROM pg_catalog.pg_database x"
    "   WHERE NOT pg_catalog.has_database_privilege(x.oid, 'CONNECT'))"
    " FROM pg_catalog.pg_database d"
    " WHERE pg_catalog.has_database_privilege(d.oid, 'CONNECT')"
    " ORDER BY d.datname";

static const char settings_sql[] =
    "SELECT s.name, pg_catalog.current_setting(s.name, true)"
    " FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY AS s(name, i) ORDER BY s.i";

/* Retained WAL: how far the slot's restart_lsn lags the current write position (the replay
 * position on a standby, where pg_current_wal_lsn() is not allowed). */
static const char slots_sql[] =
    "SELECT slot_name, slot_type, plugin, database, active, restart_lsn::text, wal_status,"
    " w.retained::bigint, pg_catalog.pg_size_pretty(w.retained::bigint)"
    " FROM pg_catalog.pg_replication_slots,"
    " LATERAL (SELECT pg_catalog.pg_wal_lsn_diff(CASE WHEN pg_catalog.pg_is_in_recovery()"
    "   THEN pg_catalog.pg_last_wal_replay_lsn() ELSE pg_catalog.pg_current_wal_lsn() END,"
    "   restart_lsn) AS retained) w"
    " ORDER BY slot_name";

/* ---- gathering -------------------------------------------------------------------------- */

/* Text from the server may hold any bytes: see base/escape.h. */
static json_t *
text_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null()
                                      : sl_escape_json_string(PQgetvalue(res, row, col));
}

static json_t *
string_or_null(const char *s)
{
    return sl_escape_json_string(s);
}

static json_t *
int_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null()
                                      : json_integer(strtoll(PQgetvalue(res, row, col), NULL, 10));
}

static json_t *
bool_of(const PGresult *res, int row, int col)
{
    return json_boolean(!PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't');
}

static int
gather_server(sl_conn *c, json_t *doc, sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, server_sql, 0, NULL, err) != 0)
        return -1;
    PGconn *pg = sl_conn_pg(c);
    json_object_set_new(doc, "server", json_pack("{s:o, s:o, s:o, s:o, s:o, s:b}",
                                                 "host", string_or_null(PQhost(pg)),
                                                 "port", string_or_null(PQport(pg)),
                                                 "version", text_or_null(res, 0, 0),
                                                 "version_num", int_or_null(res, 0, 1),
                                                 "version_string", text_or_null(res, 0, 2),
                                                 "in_recovery", PQgetvalue(res, 0, 7)[0] == 't'));
    json_object_set_new(doc, "user", json_pack("{s:o, s:o, s:o}", "name", text_or_null(res, 0, 3),
                                               "superuser", bool_of(res, 0, 4),
                                               "replication", bool_of(res, 0, 5)));
    json_object_set_new(doc, "database", text_or_null(res, 0, 6));
    PQclear(res);
    return 0;
}

static int
gather_databases(sl_conn *c, json_t *doc, sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, databases_sql, 0, NULL, err) != 0)
        return -1;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o, s:o}",
                                              "name", text_or_null(res, i, 0),
                                              "size_bytes", int_or_null(res, i, 1),
                                              "size", text_or_null(res, i, 2),
                                              "encoding", text_or_null(res, i, 3),
                                              "allow_connections", bool_of(res, i, 4)));
    json_object_set_new(doc, "databases", list);
    json_object_set_new(doc, "databases_without_connect",
                        PQntuples(res) > 0 ? int_or_null(res, 0, 5) : json_integer(0));
    PQclear(res);
    return 0;
}

static int
gather_settings(sl_conn *c, json_t *doc, sl_error *err)
{
    PGresult *res = NULL;
    const char *params[] = {settings_array};
    if (sl_conn_query(c, &res, settings_sql, 1, params, err) != 0)
        return -1;
    json_t *obj = json_object();
    for (int i = 0; i < PQntuples(res); i++)
        json_object_set_new(obj, PQgetvalue(res, i, 0), text_or_null(res, i, 1));
    json_object_set_new(doc, "settings", obj);
    PQclear(res);
    return 0;
}

static int
gather_slots(sl_conn *c, json_t *doc, sl_error *err)
{
    PGresult *res = NULL;
    if (sl_conn_query(c, &res, slots_sql, 0, NULL, err) != 0)
        return -1;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                                              "name", text_or_null(res, i, 0),
                                              "type", text_or_null(res, i, 1),
                                              "plugin", text_or_null(res, i, 2),
                                              "database", text_or_null(res, i, 3),
                                              "active", bool_of(res, i, 4),
                                              "restart_lsn", text_or_null(res, i, 5),
                                              "wal_status", text_or_null(res, i, 6),
                                              "retained_wal_bytes", int_or_null(res, i, 7),
                                              "retained_wal", text_or_null(res, i, 8)));
    json_object_set_new(doc, "replication_slots", list);
    PQclear(res);
    return 0;
}

static int
gather(sl_conn *c, json_t *doc, sl_error *err)
{
    if (gather_server(c, doc, err) != 0 || gather_databases(c, doc, err) != 0 ||
        gather_settings(c, doc, err) != 0 || gather_slots(c, doc, err) != 0) {
        sl_error_prefix(err, "could not read the server's status");
        return -1;
    }
    return 0;
}

/* ---- text rendering --------------------------------------------------------------------- */

/* A table of strings printed with every column as wide as its widest cell. Cells are escaped
 * (base/escape.h): names and settings come from the server. */
typedef struct table {
    int ncols;
    json_t *rows;  /* array of arrays of strings; row 0 is the header */
} table;

static void
table_add(table *t, const char *const *cells)
{
    json_t *row = json_array();
    for (int i = 0; i < t->ncols; i++) {
        char *cell = sl_escape_dup(cells[i] ? cells[i] : "-");
        json_array_append_new(row, json_string(cell));
        free(cell);
    }
    json_array_append_new(t->rows, row);
}

static void
table_print(const table *t, FILE *out)
{
    int width[16] = {0};
    size_t r;
    json_t *row;
    json_array_foreach(t->rows, r, row) {
        for (int i = 0; i < t->ncols; i++) {
            int len = (int)strlen(json_string_value(json_array_get(row, (size_t)i)));
            width[i] = len > width[i] ? len : width[i];
        }
    }
    json_array_foreach(t->rows, r, row) {
        fputs("  ", out);
        for (int i = 0; i < t->ncols; i++) {
            const char *cell = json_string_value(json_array_get(row, (size_t)i));
            if (i + 1 < t->ncols)
                fprintf(out, "%-*s  ", width[i], cell);
            else
                fprintf(out, "%s\n", cell);
        }
    }
}

static const char *
str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* A string of the document as printed: escaped, "-" when null. The caller frees it. */
static char *
shown(json_t *obj, const char *key)
{
    const char *s = str(obj, key);
    return sl_escape_dup(s ? s : "-");
}

static void
print_databases(json_t *doc, FILE *out)
{
    table t = {5, json_array()};
    table_add(&t, (const char *[]){"NAME", "SIZE", "BYTES", "ENCODING", "CONNECTIONS"});
    size_t i;
    json_t *db;
    json_array_foreach(json_object_get(doc, "databases"), i, db) {
        char bytes[32];
        snprintf(bytes, sizeof bytes, "%lld",
                 (long long)json_integer_value(json_object_get(db, "size_bytes")));
        table_add(&t, (const char *[]){str(db, "name"), str(db, "size"), bytes,
                                       str(db, "encoding"),
                                       json_is_true(json_object_get(db, "allow_connections"))
                                           ? "allowed"
                                           : "not allowed"});
    }
    fprintf(out, "\nDatabases:\n");
    table_print(&t, out);
    json_int_t hidden = json_integer_value(json_object_get(doc, "databases_without_connect"));
    if (hidden > 0)
        fprintf(out, "  (%lld more without CONNECT privilege, not shown)\n", (long long)hidden);
    json_decref(t.rows);
}

static void
print_settings(json_t *doc, FILE *out)
{
    table t = {2, json_array()};
    const char *key;
    json_t *value;
    json_object_foreach(json_object_get(doc, "settings"), key, value)
        table_add(&t, (const char *[]){key, json_string_value(value)});
    fprintf(out, "\nSettings:\n");
    table_print(&t, out);
    json_decref(t.rows);
}

static void
print_slots(json_t *doc, FILE *out)
{
    json_t *slots = json_object_get(doc, "replication_slots");
    fprintf(out, "\nReplication slots:\n");
    if (json_array_size(slots) == 0) {
        fprintf(out, "  (none)\n");
        return;
    }
    table t = {8, json_array()};
    table_add(&t, (const char *[]){"NAME", "TYPE", "PLUGIN", "DATABASE", "ACTIVE", "RESTART LSN",
                                   "WAL STATUS", "RETAINED WAL"});
    size_t i;
    json_t *s;
    json_array_foreach(slots, i, s) {
        table_add(&t, (const char *[]){str(s, "name"), str(s, "type"), str(s, "plugin"),
                                       str(s, "database"),
                                       json_is_true(json_object_get(s, "active")) ? "yes" : "no",
                                       str(s, "restart_lsn"), str(s, "wal_status"),
                                       str(s, "retained_wal")});
    }
    table_print(&t, out);
    json_decref(t.rows);
}

static void
print_text(json_t *doc, FILE *out)
{
    json_t *server = json_object_get(doc, "server");
    json_t *user = json_object_get(doc, "user");
    char *version = shown(server, "version"), *host = shown(server, "host"),
         *port = shown(server, "port"), *name = shown(user, "name"), *db = shown(doc, "database");
    fprintf(out, "Server:    PostgreSQL %s at %s:%s%s\n", version, host, port,
            json_is_true(json_object_get(server, "in_recovery")) ? " (standby)" : "");
    fprintf(out, "User:      %s%s%s\n", name,
            json_is_true(json_object_get(user, "superuser")) ? " (superuser)" : "",
            json_is_true(json_object_get(user, "replication")) ? " (replication)" : "");
    fprintf(out, "Database:  %s\n", db);
    free(version);
    free(host);
    free(port);
    free(name);
    free(db);
    print_databases(doc, out);
    print_settings(doc, out);
    print_slots(doc, out);
}

/* ---- text rendering, MySQL ------------------------------------------------------------- */

static void
print_my_schemas(json_t *doc, FILE *out)
{
    table t = {8, json_array()};
    table_add(&t, (const char *[]){"NAME", "TABLES", "VIEWS", "ROWS (EST.)", "SIZE", "BYTES",
                                   "CHARSET", "COLLATION"});
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(doc, "schemas"), i, s) {
        char tables[24], views[24], rows[24], bytes[24];
        snprintf(tables, sizeof tables, "%lld",
                 (long long)json_integer_value(json_object_get(s, "tables")));
        snprintf(views, sizeof views, "%lld",
                 (long long)json_integer_value(json_object_get(s, "views")));
        snprintf(rows, sizeof rows, "%lld",
                 (long long)json_integer_value(json_object_get(s, "rows_estimate")));
        snprintf(bytes, sizeof bytes, "%lld",
                 (long long)json_integer_value(json_object_get(s, "size_bytes")));
        table_add(&t, (const char *[]){str(s, "name"), tables, views, rows, str(s, "size"),
                                       bytes, str(s, "charset"), str(s, "collation")});
    }
    fprintf(out, "\nSchemas (system schemas not shown):\n");
    if (json_array_size(json_object_get(doc, "schemas")) == 0)
        fprintf(out, "  (none)\n");
    else
        table_print(&t, out);
    json_decref(t.rows);
}

static void
print_my_binlog(json_t *doc, FILE *out)
{
    json_t *b = json_object_get(doc, "binlog");
    if (!json_is_true(json_object_get(b, "enabled"))) {
        fprintf(out, "Binlog:    off\n");
        return;
    }
    char *format = shown(b, "format"), *file = shown(b, "file"), *gtid = shown(b, "gtid");
    json_t *pos = json_object_get(b, "position");
    fprintf(out, "Binlog:    on, format %s, position %s", format, file);
    if (json_is_integer(pos))
        fprintf(out, ":%lld", (long long)json_integer_value(pos));
    fprintf(out, ", GTID %s%s\n", gtid[0] ? gtid : "(none)",
            json_object_get(b, "unreadable") ? " (position: no privilege to read it)" : "");
    free(format);
    free(file);
    free(gtid);
}

static void
print_my_replication(json_t *doc, FILE *out)
{
    json_t *r = json_object_get(doc, "replication");
    const char *role = str(r, "role");
    if (!role) {
        fprintf(out, "Replica:   unknown (no privilege to read the replica status)\n");
    } else if (strcmp(role, "replica") == 0) {
        char *host = shown(r, "source_host"), *port = shown(r, "source_port"),
             *io = shown(r, "io_running"), *sql = shown(r, "sql_running"),
             *behind = shown(r, "seconds_behind");
        fprintf(out, "Replica:   of %s:%s (IO %s, SQL %s, %s s behind)\n", host, port, io, sql,
                behind);
        free(host);
        free(port);
        free(io);
        free(sql);
        free(behind);
    } else {
        fprintf(out, "Replica:   no\n");
    }
}

static void
print_my_text(json_t *doc, FILE *out)
{
    json_t *server = json_object_get(doc, "server");
    json_t *tls = json_object_get(doc, "tls");
    char *version = shown(server, "version"), *where = shown(server, "connection"),
         *user = shown(json_object_get(doc, "user"), "name"), *db = shown(doc, "database"),
         *cipher = shown(tls, "cipher"), *tls_version = shown(tls, "version");
    long long up = (long long)json_integer_value(json_object_get(server, "uptime_seconds"));
    fprintf(out, "Server:    %s %s at %s%s\n", str(server, "kind"), version, where,
            json_is_true(json_object_get(server, "read_only")) ? " (read-only)" : "");
    fprintf(out, "Uptime:    %lld d %02lld:%02lld:%02lld\n", up / 86400, up / 3600 % 24,
            up / 60 % 60, up % 60);
    fprintf(out, "User:      %s\n", user);
    fprintf(out, "Database:  %s\n", db);
    if (json_is_true(json_object_get(tls, "enabled")))
        fprintf(out, "TLS:       %s (%s)\n", cipher, tls_version);
    else
        fprintf(out, "TLS:       off\n");
    free(version);
    free(where);
    free(user);
    free(db);
    free(cipher);
    free(tls_version);
    print_my_binlog(doc, out);
    print_my_replication(doc, out);
    print_my_schemas(doc, out);
    print_settings(doc, out);
}

/* ---- command ---------------------------------------------------------------------------- */

/* 0 to go on; otherwise the process exit code is in *code (0 after --help). */
static int
parse_args(sl_cli_common *common, bool *json, int argc, char **argv, int *code)
{
    const sl_cli_spec spec = {.name = "status", .longopts = longopts, .connects = true,
                              .usage = usage, .on_opt = sl_cli_json_opt, .ctx = json,
                              .max_operands = 0};
    int first;
    return sl_cli_parse(&spec, common, argc, argv, &first, code);
}

static int
read_mysql(const sl_cli_common *common, json_t **doc, sl_error *err)
{
    sl_mysql_target t;
    if (sl_cli_mysql_target(common, &t, err) != 0)
        return -1;
    sl_mysql *c = sl_mysql_connect(&t, err);
    if (!c)
        return -1;
    int rc = sl_mysql_status_read(c, doc, err);
    sl_mysql_close(c);
    return rc;
}

int
sl_cmd_status(int argc, char **argv)
{
    sl_cli_common common;
    sl_cli_common_init(&common);
    common.conn_opts.lock_timeout = NULL;  /* status takes no locks */
    sl_error err;
    sl_error_clear(&err);
    sl_conn *c = NULL;
    json_t *doc = NULL;
    bool json = false;
    int code = 0;
    if (parse_args(&common, &json, argc, argv, &code) != 0)
        goto done;
    if (sl_cli_common_finish(&common, &err) != 0) {
        code = sl_cli_fail(&err);
        goto done;
    }
    if (common.engine == SL_CLI_ENGINE_MYSQL) {
        if (read_mysql(&common, &doc, &err) != 0) {
            code = sl_cli_fail(&err);
            goto done;
        }
    } else {
        if (sl_conn_open(&c, common.conninfo, &common.conn_opts, &err) != 0) {
            code = sl_cli_fail(&err);
            goto done;
        }
        doc = json_object();
        if (gather(c, doc, &err) != 0) {
            code = sl_cli_fail(&err);
            goto done;
        }
    }
    if (json) {
        char *text = sl_escape_json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            puts(text);
        free(text);
    } else if (common.engine == SL_CLI_ENGINE_MYSQL) {
        print_my_text(doc, stdout);
    } else {
        print_text(doc, stdout);
    }
    if (fflush(stdout) != 0) {
        sl_error_errno(&err, SL_E_IO, errno, "could not write the status to stdout");
        code = sl_cli_fail(&err);
    }
done:
    json_decref(doc);
    sl_conn_close(c);
    sl_cli_common_free(&common);
    return code;
}
