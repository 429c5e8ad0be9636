/* mysql/conn.h: one connection to MySQL or MariaDB through libmariadb (Debian's
 * libmariadb-dev, the C connector that speaks to both), and the few things every user of one
 * needs: running a statement, reading a result row by row, turning a client error into an
 * sl_error, naming the target in messages.
 * Target:    sl_mysql_target says where to connect, as the mysql client takes it: host (a host
 *            that starts with '/' is a Unix socket path), port, socket, user, password,
 *            database, TLS mode and CA. What is NULL falls through, as for the mysql client,
 *            to the option files' [client] group (/etc/mysql/my.cnf, ~/.my.cnf: libmariadb
 *            reads them) and then to the connector's defaults (localhost through the default
 *            socket, the login name as user). no_option_files skips the files.
 * Safety:    LOAD DATA LOCAL is switched off on every connection (a hostile server could
 *            otherwise ask the client for any file it can read); the character set is
 *            utf8mb4; messages name host, port, database and user, never the password (the
 *            server's own texts, "Access denied ... (using password: YES)", do not carry it).
 * Ownership: sl_mysql owns its MYSQL handle; the target's strings are copied for messages
 *            (the password is not kept). A connection is used by one thread at a time.
 * Errors:    -1 (or NULL) with *err set: SL_E_CONNECT for a failed connection, SL_E_SERVER for
 *            a statement the server refused (err carries the server's SQLSTATE, and its error
 *            number in the message: "ERROR 1146: Table 'x.y' doesn't exist"). */
#ifndef SL_MYSQL_CONN_H
#define SL_MYSQL_CONN_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

typedef struct sl_mysql_target {
    const char *host;      /* NULL: option files, then localhost; "/dir/x.sock": a socket */
    const char *port;      /* decimal text; NULL: option files, then 3306 */
    const char *socket;    /* Unix socket path (wins over a host for localhost, as mysql) */
    const char *user;
    const char *password;  /* NULL: option files (or none) */
    const char *database;  /* NULL: none selected */
    const char *ssl_mode;  /* NULL: the connector's default; DISABLED, PREFERRED, REQUIRED,
                            * VERIFY_CA, VERIFY_IDENTITY (case-insensitive) */
    const char *ssl_ca;    /* CA file for VERIFY_CA / VERIFY_IDENTITY */
    bool no_option_files;  /* true: do not read my.cnf / ~/.my.cnf */
    unsigned connect_timeout;  /* seconds; 0: 30 */
} sl_mysql_target;

typedef struct sl_mysql sl_mysql;

/* Connects. NULL with err set (SL_E_CONNECT, or SL_E_USAGE for a bad port or ssl_mode). */
SL_MUSTCHECK sl_mysql *sl_mysql_connect(const sl_mysql_target *t, sl_error *err);
void sl_mysql_close(sl_mysql *c);
/* The connector's handle, for calls this module does not wrap. */
MYSQL *sl_mysql_handle(sl_mysql *c);
/* `host:port database "db" as user "u"` (or `socket /path ...`), what messages call the
 * target. Never a password. Lives as long as c. */
const char *sl_mysql_describe(const sl_mysql *c);
/* The server's version as a number (MariaDB 10.11.6 -> 101106) and whether it is MariaDB. */
unsigned long sl_mysql_server_version(const sl_mysql *c);
bool sl_mysql_is_mariadb(const sl_mysql *c);

/* Runs statements that return no rows the caller wants (every result is read and dropped). */
SL_MUSTCHECK int sl_mysql_exec(sl_mysql *c, const char *sql, sl_error *err);
/* The same for len bytes of sql (a statement may hold NUL bytes inside its literals). */
SL_MUSTCHECK int sl_mysql_exec_len(sl_mysql *c, const char *sql, size_t len, sl_error *err);
/* Whether the connection's last error is the client's own (2000 and up: the server went away,
 * the connection was lost) rather than the server refusing a statement. */
bool sl_mysql_error_is_client(sl_mysql *c);
/* Runs a query and returns its result: stream true reads rows as they arrive
 * (mysql_use_result: memory bounded by one row, the connection busy until the result is
 * freed), false stores the whole result (small catalog queries only). The caller frees it
 * with mysql_free_result(). NULL with err set on failure (a statement without a result set
 * is a failure too: SL_E_INTERNAL). */
SL_MUSTCHECK MYSQL_RES *sl_mysql_query(sl_mysql *c, const char *sql, bool stream,
                                       sl_error *err);
/* The next row of a streamed result: 1 row (*row, *lengths set), 0 end, -1 error (the
 * connection failed mid-result: err set from it). */
SL_MUSTCHECK int sl_mysql_next_row(sl_mysql *c, MYSQL_RES *res, MYSQL_ROW *row,
                                   unsigned long **lengths, sl_error *err);
/* Fills err from the connection's last error: kind, "ERROR n: text", the SQLSTATE.
 * what (may be NULL) prefixes the message ("reading table `a`.`b`"). */
void sl_mysql_error(sl_mysql *c, sl_error_kind kind, const char *what, sl_error *err);

#endif
