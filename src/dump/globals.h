/* dump/globals.h: what a cluster holds outside its databases, as a psql-restorable script:
 * roles with their attributes, password hashes, comments and settings, role memberships with
 * ADMIN OPTION and grantor, and tablespaces with owner, location, options, grants and
 * comments (pg_dumpall --globals-only's content); and each database's CREATE DATABASE with the
 * properties it is given there (owner, encoding, locale, locale provider, tablespace,
 * connection limit, template flag).
 * Every name and value is quoted by the server (format %I / %L); nothing read from the cluster
 * is written outside a quoted identifier or literal, and the script holds no comment lines.
 * Roles that already exist on the target are not an error: each CREATE ROLE runs in a DO block
 * that ignores duplicate_object, and the ALTER ROLE after it sets the attributes either way.
 * CREATE TABLESPACE cannot run in a DO block; a restore that runs this script tolerates
 * duplicate_object (42710) for it (psql reports it and goes on, as with pg_dumpall's script).
 * Password hashes are read from pg_authid, which only a superuser may read; another role gets
 * the roles without them and *passwords_saved false (the caller warns).
 * Calling order: a connection to any database of the cluster, then sl_globals_read() and
 * sl_globals_databases() in one REPEATABLE READ transaction if they must agree.
 * Errors: -1 with err set (the query's own error). */
#ifndef SL_DUMP_GLOBALS_H
#define SL_DUMP_GLOBALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "pg/conn.h"

typedef struct sl_globals_summary {
    int roles, memberships, tablespaces;
    bool passwords_saved;
} sl_globals_summary;

/* Appends the globals script to out. */
SL_MUSTCHECK int sl_globals_read(sl_conn *c, sl_buf *out, sl_globals_summary *summary,
                                 sl_error *err);

typedef struct sl_globals_database {
    uint32_t oid;
    char *name;         /* as in pg_database: any bytes the server allows, never a path */
    char *create_sql;   /* "CREATE DATABASE ... ;\n" with every option it is given there */
    char *alter_sql;    /* the same for a database the target has already (postgres): ALTER
                         * DATABASE of its owner, connection limit and template flag */
    int64_t size;       /* pg_database_size(), bytes (0 without CONNECT on it) */
    bool allow_connections;  /* false: no backup can read it (pg_dumpall leaves it out too) */
} sl_globals_database;

/* The cluster's databases except template0 and template1, by name, with what creates them.
 * Their settings, comment, grants and security labels are in each database's own backup
 * (dump/database.h), applied when a restore creates the database. */
SL_MUSTCHECK int sl_globals_databases(sl_conn *c, sl_globals_database **out, size_t *n,
                                      sl_error *err);
void sl_globals_databases_free(sl_globals_database *dbs, size_t n);

#endif
