/* mydump/accounts.h: the accounts of a MySQL or MariaDB server (roles, users and their grants)
 * as a script for the mysql client: what a cluster backup keeps besides the schemas, as
 * `mariadb-dump --system=users` does.
 * Script:    a signature comment, the client's sandbox line, then
 *              CREATE ROLE IF NOT EXISTS `r`;                      every role (MariaDB)
 *              CREATE USER IF NOT EXISTS `u`@`h` IDENTIFIED ...;    SHOW CREATE USER: the
 *                                      authentication (password hashes), TLS requirements,
 *                                      limits, locking and expiry as the server says them
 *              GRANT ...; SET DEFAULT ROLE ...;                    SHOW GRANTS of every role,
 *                                      then of every user (roles exist by then)
 *            Accounts already on the target are left as they are (IF NOT EXISTS: no password
 *            or option of theirs changes; MariaDB's GRANT would set a password again, so the
 *            IDENTIFIED part of its grant lines is left out) and get the backup's grants added.
 *            The server's own accounts (mariadb.sys, mysql.sys, mysql.session,
 *            mysql.infoschema @localhost) are not written. An account the server lists but
 *            cannot show (a host name that skip-name-resolve cannot match: error 1133/1141)
 *            is skipped with a warning.
 * Safety:    every name and value in the script is the server's own quoting (SHOW CREATE USER,
 *            SHOW GRANTS: backtick identifiers, string literals); none is ever written in a
 *            comment. The script holds password hashes: it is written like any backup (0600).
 * Errors:    -1 with err set (SL_E_SERVER naming the account). */
#ifndef SL_MYDUMP_ACCOUNTS_H
#define SL_MYDUMP_ACCOUNTS_H

#include "base/buf.h"
#include "base/error.h"
#include "mysql/conn.h"

#define SL_ACCOUNTS_SIGNATURE "-- sluice MySQL accounts 1"

typedef struct sl_accounts_summary {
    int roles, users, grants, skipped;
} sl_accounts_summary;

/* Appends the script of the server c is connected to (see above) to out. */
SL_MUSTCHECK int sl_accounts_read(sl_mysql *c, sl_buf *out, sl_accounts_summary *summary,
                                  sl_error *err);

#endif
