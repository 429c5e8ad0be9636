/* pg/conn.h: one libpq connection with sluice's session settings, retries and errors.
 * Target:    sl_conninfo says where to connect, as libpq keyword/value pairs taken from the
 *            command line (-h -p -U -d, where -d may be a postgres:// URL or a conninfo string);
 *            everything unset falls through to libpq: PG* environment variables, .pgpass,
 *            service files. A password is never in argv: -W prompts on the terminal and the
 *            answer lives only in the sl_conninfo's memory.
 * Opening:   sl_conn_open() connects, retries transient failures (SQLSTATE class 08, 57P03,
 *            53300) with backoff and a log line per retry, then applies the session settings
 *            of sl_conn_opts (application_name, work_mem, maintenance_work_mem,
 *            statement_timeout=0, lock_timeout).
 * Errors:    server errors fill sl_error with SL_E_SERVER, the server's message and SQLSTATE;
 *            connection failures with SL_E_CONNECT, naming host, port and database (never the
 *            password). -1 on failure, 0 on success.
 * Ownership: sl_conninfo is plain data owned by the caller (sl_conninfo_free). sl_conn owns its
 *            PGconn; sl_conn_close() accepts NULL. A connection is used by one thread at a time. */
#ifndef SL_PG_CONN_H
#define SL_PG_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "base/error.h"

typedef struct sl_conninfo sl_conninfo;
typedef struct sl_conn sl_conn;

typedef struct sl_conn_opts {
    const char *app_name;              /* NULL: "sluice" */
    const char *work_mem;              /* NULL: server default */
    const char *maintenance_work_mem;  /* NULL: server default */
    const char *lock_timeout;          /* NULL: server default; e.g. "30s" */
    const char *synchronous_commit;    /* NULL: server default; restore sets "off" */
    int connect_retries;               /* transient failures retried this many times; <0: none */
    bool replication;                  /* a replication=database connection (tap, later) */
} sl_conn_opts;
#define SL_CONN_OPTS(...) (&(sl_conn_opts){__VA_ARGS__})

sl_conninfo *sl_conninfo_new(void);
void sl_conninfo_free(sl_conninfo *ci);
/* Sets one libpq keyword ("host", "port", "user", "dbname", "sslmode", ...). value NULL unsets.
 * Explicit keywords override what a URL/conninfo given as "dbname" says (like -h over -d URL).
 * Replacing such a URL/conninfo dbname by a plain database name keeps the other keywords it
 * carried (host, port, user, sslmode...): only the database changes. */
void sl_conninfo_set(sl_conninfo *ci, const char *keyword, const char *value);
/* The value the caller gave for keyword: set explicitly, or carried by a URL/conninfo "dbname"
 * (for "dbname" itself that URL's database). NULL when libpq will decide (env, service file,
 * defaults). The string belongs to ci and lives until the next set() of that keyword. */
const char *sl_conninfo_get(const sl_conninfo *ci, const char *keyword);
/* A copy (the caller frees it) pointing at another database; everything else, including what a
 * URL/conninfo dbname carried (host, port, sslmode...), is kept. dbname is always taken as a
 * plain database name, even if it contains '=' or starts with postgres://. dbname NULL: an
 * exact copy of ci. */
sl_conninfo *sl_conninfo_with_dbname(const sl_conninfo *ci, const char *dbname);
/* Asks for the password on the terminal (no echo) and keeps it in ci. */
SL_MUSTCHECK int sl_conninfo_prompt_password(sl_conninfo *ci, sl_error *err);
/* "host=H port=P user=U dbname=D" as libpq resolved it: for messages; never holds a password. */
const char *sl_conn_describe(const sl_conn *c);

SL_MUSTCHECK int sl_conn_open(sl_conn **out, const sl_conninfo *ci, const sl_conn_opts *opts,
                              sl_error *err);
void sl_conn_close(sl_conn *c);
PGconn *sl_conn_pg(sl_conn *c);
int sl_conn_server_version(const sl_conn *c);  /* e.g. 150018 */

/* Runs statements that return no rows. */
SL_MUSTCHECK int sl_conn_exec(sl_conn *c, const char *sql, sl_error *err);
/* Runs one query; *res is the caller's to PQclear on success. Text-format parameters.
 * A connection lost while running either is SL_E_CONNECT; a server error SL_E_SERVER. */
SL_MUSTCHECK int sl_conn_query(sl_conn *c, PGresult **res, const char *sql, int nparams,
                               const char *const *params, sl_error *err);
/* Fills err from a failed PGresult (message, SQLSTATE, detail/hint), kind SL_E_SERVER. */
void sl_conn_error_from_result(sl_error *err, const PGresult *res);
/* Like sl_conn_error_from_result(), but SL_E_CONNECT naming the server when the connection is
 * gone, and PQerrorMessage() when res is NULL. For code that drives libpq itself (COPY). */
void sl_conn_error_from(sl_conn *c, const PGresult *res, sl_error *err);
/* Quotes an identifier with libpq (PQescapeIdentifier) into a malloc'd string (free()); NULL
 * if libpq refuses it (invalid encoding). */
char *sl_conn_quote_ident(sl_conn *c, const char *ident);
char *sl_conn_quote_literal(sl_conn *c, const char *text);
/* Asks the server to cancel the running statement (safe from another thread, not from a
 * signal handler: it may log a warning). */
void sl_conn_cancel(sl_conn *c);
/* Whether a connection failure message (PQerrorMessage text) is transient (class 08, 57P03,
 * 53300), i.e. worth a retry. Exposed for the pool and for tests. */
bool sl_conn_failure_is_transient(const char *message);

#endif
