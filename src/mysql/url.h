/* mysql/url.h: a MySQL/MariaDB connection URL, taken apart into what sl_mysql_target needs.
 * Syntax:    mysql://[USER[:PASSWORD]@][HOST][:PORT][/DATABASE][?KEY=VALUE[&KEY=VALUE]...]
 *            (mariadb:// alike). HOST may be an IPv6 address in brackets. Every part is
 *            percent-decoded (%40 for '@' in a password); a decoded NUL is refused. Keys:
 *            socket (a Unix socket path), ssl-mode (DISABLED, PREFERRED, REQUIRED, VERIFY_CA,
 *            VERIFY_IDENTITY), ssl-ca (a CA file); '_' may stand for '-'. Any other key is
 *            refused, so a misspelt TLS option never silently connects without TLS.
 * Messages:  a parse error names the part that is wrong and never shows the password, nor
 *            any text of the URL that could hold it.
 * Ownership: sl_mysql_url owns its strings; sl_mysql_url_free() wipes the password first.
 * Format:    sl_mysql_url_format() writes a target as such a URL (for a child process). */
#ifndef SL_MYSQL_URL_H
#define SL_MYSQL_URL_H

#include <stdbool.h>

#include "base/buf.h"
#include "base/error.h"
#include "mysql/conn.h"

typedef struct sl_mysql_url {
    char *user;      /* NULL when the URL has none (each field alike) */
    char *password;
    char *host;
    char *port;      /* decimal, 1..65535 */
    char *database;
    char *socket;
    char *ssl_mode;
    char *ssl_ca;
} sl_mysql_url;

/* Whether s starts with mysql:// or mariadb:// (case-insensitive scheme). */
bool sl_mysql_url_is(const char *s);
/* Parses text into *out (zeroed first). -1 with SL_E_USAGE on a malformed URL: *out then
 * holds nothing. */
SL_MUSTCHECK int sl_mysql_url_parse(const char *text, sl_mysql_url *out, sl_error *err);
void sl_mysql_url_free(sl_mysql_url *u);
/* Appends the URL of target t (database instead of t's when not NULL) to out, every part
 * percent-encoded, so that sl_mysql_url_parse() gives the same parts back; what t leaves NULL
 * stays out (the option files decide). The text may hold a password: it is for a child
 * process's pipe, never for a message. */
void sl_mysql_url_format(const sl_mysql_target *t, const char *database, sl_buf *out);

#endif
