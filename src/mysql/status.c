/* mysql/status.c: the status document of a MySQL or MariaDB server (see status.h). */
#include "mysql/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/escape.h"
#include "base/units.h"

static const char *const system_schemas[] = {"mysql", "sys", "information_schema",
                                             "performance_schema"};

/* The settings shown, in the order of their names. */
static const char settings_sql[] =
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('max_allowed_packet', 'max_connections',"
    " 'innodb_buffer_pool_size', 'character_set_server', 'collation_server', 'sql_mode',"
    " 'default_storage_engine', 'lower_case_table_names', 'time_zone', 'system_time_zone',"
    " 'gtid_mode', 'gtid_strict_mode', 'server_id', 'wait_timeout', 'lock_wait_timeout')";

static const char server_sql[] =
    "SELECT VERSION(), @@version_comment, CURRENT_USER(), DATABASE(), @@read_only, @@log_bin,"
    " @@binlog_format, @@port";

/* TABLE_ROWS is InnoDB's estimate; views have no rows nor size and are counted apart. */
static const char schemas_sql[] =
    "SELECT s.SCHEMA_NAME, s.DEFAULT_CHARACTER_SET_NAME, s.DEFAULT_COLLATION_NAME,"
    " COUNT(CASE WHEN t.TABLE_TYPE <> 'VIEW' THEN 1 END),"
    " COUNT(CASE WHEN t.TABLE_TYPE = 'VIEW' THEN 1 END),"
    " COALESCE(SUM(t.TABLE_ROWS), 0),"
    " COALESCE(SUM(t.DATA_LENGTH + t.INDEX_LENGTH), 0)"
    " FROM information_schema.SCHEMATA s"
    " LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = s.SCHEMA_NAME"
    " WHERE s.SCHEMA_NAME NOT IN ('mysql', 'sys', 'information_schema', 'performance_schema')"
    " GROUP BY s.SCHEMA_NAME, s.DEFAULT_CHARACTER_SET_NAME, s.DEFAULT_COLLATION_NAME"
    " ORDER BY s.SCHEMA_NAME";

bool
sl_mysql_status_system_schema(const char *name)
{
    for (size_t i = 0; i < sizeof system_schemas / sizeof *system_schemas; i++)
        if (strcmp(name, system_schemas[i]) == 0)
            return true;
    return false;
}

/* ---- reading results -------------------------------------------------------------------- */

static json_t *
text_of(MYSQL_ROW row, unsigned i)
{
    return row[i] ? sl_escape_json_string(row[i]) : json_null();
}

static json_t *
int_of(MYSQL_ROW row, unsigned i)
{
    return row[i] ? json_integer(strtoll(row[i], NULL, 10)) : json_null();
}

static json_t *
bool_of(MYSQL_ROW row, unsigned i)
{
    return json_boolean(row[i] && strcmp(row[i], "0") != 0 && strcasecmp(row[i], "OFF") != 0);
}

/* The column named name of res, or -1. */
static int
column(MYSQL_RES *res, const char *name)
{
    MYSQL_FIELD *f = mysql_fetch_fields(res);
    for (unsigned i = 0; i < mysql_num_fields(res); i++)
        if (strcasecmp(f[i].name, name) == 0)
            return (int)i;
    return -1;
}

static json_t *
named_text(MYSQL_RES *res, MYSQL_ROW row, const char *name)
{
    int i = column(res, name);
    return i < 0 ? json_null() : text_of(row, (unsigned)i);
}

/* The first row of a small query: 1 with *res and *row set, 0 no row (res freed), -1 error. */
static int
first_row(sl_mysql *c, const char *sql, MYSQL_RES **res, MYSQL_ROW *row, sl_error *err)
{
    *res = sl_mysql_query(c, sql, false, err);
    if (!*res)
        return -1;
    *row = mysql_fetch_row(*res);
    if (!*row) {
        mysql_free_result(*res);
        *res = NULL;
        return 0;
    }
    return 1;
}

/* Name/value rows (SHOW VARIABLES, SHOW STATUS) as an object. */
static int
name_values(sl_mysql *c, const char *sql, json_t **out, sl_error *err)
{
    MYSQL_RES *res = sl_mysql_query(c, sql, false, err);
    if (!res)
        return -1;
    json_t *obj = json_object();
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL)
        if (row[0])
            json_object_set_new(obj, row[0], text_of(row, 1));
    mysql_free_result(res);
    *out = obj;
    return 0;
}

/* ---- the parts -------------------------------------------------------------------------- */

static int
read_server(sl_mysql *c, json_t *doc, json_t *binlog, sl_error *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int got = first_row(c, server_sql, &res, &row, err);
    if (got == 0)
        sl_error_set(err, SL_E_INTERNAL, "the server's version query returned no row");
    if (got <= 0)
        return -1;
    json_t *vars = NULL;
    if (name_values(c, "SHOW GLOBAL STATUS WHERE Variable_name = 'Uptime'", &vars, err) != 0) {
        mysql_free_result(res);
        return -1;
    }
    const char *uptime = json_string_value(json_object_get(vars, "Uptime"));
    json_object_set_new(
        doc, "server",
        json_pack("{s:s, s:o, s:I, s:o, s:o, s:o, s:o, s:o}", "kind",
                  sl_mysql_is_mariadb(c) ? "MariaDB" : "MySQL", "version", text_of(row, 0),
                  "version_num", (json_int_t)sl_mysql_server_version(c), "version_comment",
                  text_of(row, 1), "connection",
                  sl_escape_json_string(mysql_get_host_info(sl_mysql_handle(c))), "port",
                  int_of(row, 7), "uptime_seconds",
                  uptime ? json_integer(strtoll(uptime, NULL, 10)) : json_null(), "read_only",
                  bool_of(row, 4)));
    json_object_set_new(doc, "user", json_pack("{s:o}", "name", text_of(row, 2)));
    json_object_set_new(doc, "database", text_of(row, 3));
    json_object_set_new(binlog, "enabled", bool_of(row, 5));
    json_object_set_new(binlog, "format", text_of(row, 6));
    json_decref(vars);
    mysql_free_result(res);
    return 0;
}

static int
read_tls(sl_mysql *c, json_t *doc, sl_error *err)
{
    json_t *vars = NULL;
    if (name_values(c,
                    "SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_cipher', 'Ssl_version')",
                    &vars, err) != 0)
        return -1;
    const char *cipher = json_string_value(json_object_get(vars, "Ssl_cipher"));
    const char *version = json_string_value(json_object_get(vars, "Ssl_version"));
    bool on = cipher && cipher[0];
    json_object_set_new(doc, "tls",
                        json_pack("{s:b, s:o, s:o}", "enabled", on, "cipher",
                                  on ? json_string(cipher) : json_null(), "version",
                                  on && version ? json_string(version) : json_null()));
    json_decref(vars);
    return 0;
}

/* What the user may not read is null, with the server's reason: not a failure. */
static void
set_unreadable(json_t *obj, const sl_error *why)
{
    json_object_set_new(obj, "unreadable", sl_escape_json_string(why->message));
}

/* Position and GTID set: SHOW MASTER STATUS needs BINLOG MONITOR (MariaDB) or REPLICATION
 * CLIENT (MySQL); MySQL 8.4 knows it only as SHOW BINARY LOG STATUS. */
static void
read_binlog_position(sl_mysql *c, json_t *binlog)
{
    sl_error err;
    sl_error_clear(&err);
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int got = first_row(c, "SHOW MASTER STATUS", &res, &row, &err);
    if (got < 0 && !sl_mysql_is_mariadb(c)) {
        sl_error_clear(&err);
        got = first_row(c, "SHOW BINARY LOG STATUS", &res, &row, &err);
    }
    if (got < 0)
        set_unreadable(binlog, &err);
    json_object_set_new(binlog, "file", got > 0 ? named_text(res, row, "File") : json_null());
    int pos = got > 0 ? column(res, "Position") : -1;
    json_object_set_new(binlog, "position", pos >= 0 ? int_of(row, (unsigned)pos) : json_null());
    if (res)
        mysql_free_result(res);
    /* MariaDB's GTID of the binary log; MySQL's set of executed transactions. */
    const char *gtid_sql = sl_mysql_is_mariadb(c) ? "SELECT @@gtid_binlog_pos"
                                                  : "SELECT @@gtid_executed";
    sl_error_clear(&err);
    got = first_row(c, gtid_sql, &res, &row, &err);
    json_object_set_new(binlog, "gtid", got > 0 ? text_of(row, 0) : json_null());
    if (res)
        mysql_free_result(res);
}

/* Whether this server replicates from a source (SHOW REPLICA STATUS needs REPLICA MONITOR or
 * REPLICATION CLIENT). Whether it is a source to others would need REPLICATION MASTER ADMIN:
 * not asked. */
static void
read_replication(sl_mysql *c, json_t *doc)
{
    sl_error err;
    sl_error_clear(&err);
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int got = first_row(c, "SHOW REPLICA STATUS", &res, &row, &err);
    if (got < 0) {
        sl_error_clear(&err);
        got = first_row(c, "SHOW SLAVE STATUS", &res, &row, &err);
    }
    json_t *r = json_object();
    json_object_set_new(r, "role", got < 0    ? json_null()
                                   : got == 0 ? json_string("none")
                                              : json_string("replica"));
    if (got < 0)
        set_unreadable(r, &err);
    if (got > 0) {
        bool mysql_names = column(res, "Source_Host") >= 0;
        json_object_set_new(r, "source_host",
                            named_text(res, row, mysql_names ? "Source_Host" : "Master_Host"));
        json_object_set_new(r, "source_port",
                            named_text(res, row, mysql_names ? "Source_Port" : "Master_Port"));
        json_object_set_new(
            r, "io_running",
            named_text(res, row, mysql_names ? "Replica_IO_Running" : "Slave_IO_Running"));
        json_object_set_new(
            r, "sql_running",
            named_text(res, row, mysql_names ? "Replica_SQL_Running" : "Slave_SQL_Running"));
        json_object_set_new(r, "seconds_behind",
                            named_text(res, row,
                                       mysql_names ? "Seconds_Behind_Source"
                                                   : "Seconds_Behind_Master"));
    }
    if (res)
        mysql_free_result(res);
    json_object_set_new(doc, "replication", r);
}

static int
read_schemas(sl_mysql *c, json_t *doc, sl_error *err)
{
    MYSQL_RES *res = sl_mysql_query(c, schemas_sql, false, err);
    if (!res)
        return -1;
    json_t *list = json_array();
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        long long bytes = row[6] ? strtoll(row[6], NULL, 10) : 0;
        char size[32];
        sl_units_bytes(bytes, size, sizeof size);
        json_array_append_new(
            list, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:s}", "name", text_of(row, 0),
                            "charset", text_of(row, 1), "collation", text_of(row, 2), "tables",
                            int_of(row, 3), "views", int_of(row, 4), "rows_estimate",
                            int_of(row, 5), "size_bytes", (json_int_t)bytes, "size", size));
    }
    mysql_free_result(res);
    json_object_set_new(doc, "schemas", list);
    return 0;
}

int
sl_mysql_status_read(sl_mysql *c, json_t **out, sl_error *err)
{
    json_t *doc = json_object();
    json_t *binlog = json_object();
    json_t *settings = NULL;
    json_object_set_new(doc, "engine", json_string("mysql"));
    if (read_server(c, doc, binlog, err) != 0 || read_tls(c, doc, err) != 0)
        goto fail;
    if (json_is_true(json_object_get(binlog, "enabled")))
        read_binlog_position(c, binlog);
    json_object_set_new(doc, "binlog", binlog);
    binlog = NULL;
    read_replication(c, doc);
    if (name_values(c, settings_sql, &settings, err) != 0)
        goto fail;
    json_object_set_new(doc, "settings", settings);
    if (read_schemas(c, doc, err) != 0)
        goto fail;
    *out = doc;
    return 0;
fail:
    json_decref(binlog);
    json_decref(doc);
    sl_error_prefix(err, "could not read the server's status");
    return -1;
}
