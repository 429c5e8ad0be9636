/* mysql/status.h: what a MySQL or MariaDB server is and holds, for `sluice status --engine
 * mysql`: its kind and version, uptime, read-only, the binary log (on/off, format, current
 * position and GTID set), whether it replicates from a source, TLS on this connection, the
 * settings that matter for backup and restore, and every schema but the system ones with its
 * tables, estimated rows and size (information_schema.TABLES).
 * A handful of small queries on one connection. What the user may not read (SHOW MASTER
 * STATUS and SHOW REPLICA STATUS need privileges) is left null with the server's reason, and
 * is not a failure.
 * Ownership: the document belongs to the caller (json_decref). Strings from the server are in
 * it as they came (base/escape.h: sl_escape_json_string), for the caller to escape on output.
 * Errors:    -1 with *err set when a query every user may run fails. */
#ifndef SL_MYSQL_STATUS_H
#define SL_MYSQL_STATUS_H

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"
#include "mysql/conn.h"

/* Schemas that are the server's own, never listed nor backed up: mysql, sys,
 * information_schema, performance_schema (names compared exactly, as the server does). */
bool sl_mysql_status_system_schema(const char *name);

/* Reads the status document: keys engine, server, user, database, tls, binlog, replication,
 * settings, schemas (see README, "sluice status"). */
SL_MUSTCHECK int sl_mysql_status_read(sl_mysql *c, json_t **out, sl_error *err);

#endif
