/* pg/conn.h: one live libpq connection with sluice's session settings, retries and errors.
 * Target:    an sl_conninfo (pg/conninfo.h) says where to connect. A password is never in
 *            argv: -W prompts on the terminal (sl_conn_prompt_password) and the answer lives
 *            only in the sl_conninfo's memory.
 * Opening:   sl_conn_open() connects, retries transient failures (SQLSTATE class 08, 57P03,
 *            53300 as the server reports them, whatever the language of its messages; refused,
 *            unreachable, timeout on the client side) with backoff and a log line per retry,
 *            then applies the session settings of sl_conn_opts (application_name, work_mem,
 *            maintenance_work_mem, statement_timeout=0, lock_timeout).
 * Errors:    server errors fill sl_error with SL_E_SERVER, the server's message and SQLSTATE;
 *            connection failures with SL_E_CONNECT (and the server's SQLSTATE when it sent
 *            one), naming host, port, database and user, never the password. Statement text
 *            that reaches a log line (-v) or an error is redacted (sl_conninfo_redact_sql).
 *            -1 on failure, 0 on success.
 * Ownership: sl_conn owns its PGconn; sl_conn_close() accepts NULL. A connection is used by one
 *            thread at a time. */
#ifndef SL_PG_CONN_H
#define SL_PG_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "base/error.h"
#include "pg/conninfo.h"

typedef struct sl_conn sl_conn;

typedef struct sl_conn_opts {
    const char *app_name;              /* NULL: "sluice" */
    const char *work_mem;              /* NULL: server default */
    const char *maintenance_work_mem;  /* NULL: server default */
    const char *lock_timeout;          /* NULL: server default; e.g. "30s" */
    const char *synchronous_commit;    /* NULL: server default; restore sets "off" */
    int connect_retries;               /* transient failures retried this many times; <0: none */
    bool replication;                  /* a replication=database connection (tap, later) */
    bool database_properties;          /* SET SL_CONN_DATABASE_PROPERTIES = on: a backup's
                                        * database properties apply (restore --create) */
} sl_conn_opts;
/* The custom setting that lets a backup's DO block set the properties of the database it is
 * restored into (dump/database.h). */
#define SL_CONN_DATABASE_PROPERTIES "sluice.database_properties"
#define SL_CONN_OPTS(...) (&(sl_conn_opts){__VA_ARGS__})

/* Asks for the password on the terminal (no echo) and keeps it in ci. */
SL_MUSTCHECK int sl_conn_prompt_password(sl_conninfo *ci, sl_error *err);

SL_MUSTCHECK int sl_conn_open(sl_conn **out, const sl_conninfo *ci, const sl_conn_opts *opts,
                              sl_error *err);
void sl_conn_close(sl_conn *c);
/* `host:port database "db" as user "u"` as libpq resolved it: for messages; no password. */
const char *sl_conn_describe(const sl_conn *c);
PGconn *sl_conn_pg(sl_conn *c);
/* How many children may run at once when each opens per_child connections, this one stays
 * open, and all of them together stay within max_connections (0: half of what the server
 * allows others than superusers, max_connections - superuser_reserved_connections):
 * *fit = min(wanted, (budget - 1) / per_child). SL_E_USAGE when not even one fits. */
SL_MUSTCHECK int sl_conn_fit_children(sl_conn *c, int max_connections, int per_child,
                                      int wanted, int *fit, sl_error *err);
/* A pipe holding the settings this live connection was made with (PQconninfo: host, port,
 * user, the password it used, sslmode...), pointing at database dbname instead, as a conninfo
 * string (sl_conninfo_format), its write end closed: what a child process reads (through
 * --conninfo-fd) to connect exactly as this one did, without a password in its argv or
 * environment (base/procs.h sl_procs_pipe_text). The copy in memory is wiped. */
SL_MUSTCHECK int sl_conn_conninfo_pipe(sl_conn *c, const char *dbname, int *read_fd,
                                       sl_error *err);
/* The same settings without the password, as a string that may go into argv (a tool that
 * takes its password from a passfile). */
char *sl_conn_conninfo_public(sl_conn *c, const char *dbname);
/* The password the connection used, or NULL; the caller wipes (explicit_bzero) and frees it. */
char *sl_conn_password(sl_conn *c);
int sl_conn_server_version(const sl_conn *c);  /* e.g. 150018 */

/* Runs statements that return no rows. */
SL_MUSTCHECK int sl_conn_exec(sl_conn *c, const char *sql, sl_error *err);
/* Runs one query; *res is the caller's to PQclear on success. Text-format parameters.
 * A connection lost while running either is SL_E_CONNECT; a server error SL_E_SERVER. */
SL_MUSTCHECK int sl_conn_query(sl_conn *c, PGresult **res, const char *sql, int nparams,
                               const char *const *params, sl_error *err);
/* The same as sl_conn_query() without parameters, by the simple query protocol: what a
 * replication connection (walsender) accepts. */
SL_MUSTCHECK int sl_conn_simple_query(sl_conn *c, PGresult **res, const char *sql,
                                      sl_error *err);
/* Fills err from a failed PGresult (message, SQLSTATE, detail/hint), kind SL_E_SERVER. */
void sl_conn_error_from_result(sl_error *err, const PGresult *res);
/* Like sl_conn_error_from_result(), but SL_E_CONNECT naming the server when the connection is
 * gone, and PQerrorMessage() when res is NULL. For code that drives libpq itself (COPY). */
void sl_conn_error_from(sl_conn *c, const PGresult *res, sl_error *err);
/* Logs sql at debug level (-v) under label ("exec", "COPY at line 3"), redacted and cut short;
 * nothing when debug logging is off. */
void sl_conn_log_statement(const char *label, const char *sql);
/* Quotes an identifier with libpq (PQescapeIdentifier) into a malloc'd string (free()); NULL
 * if libpq refuses it (invalid encoding). */
char *sl_conn_quote_ident(sl_conn *c, const char *ident);
char *sl_conn_quote_literal(sl_conn *c, const char *text);
/* Asks the server to cancel the running statement (safe from another thread, not from a
 * signal handler: it may log a warning). */
void sl_conn_cancel(sl_conn *c);

#endif
