/* pg/conninfo.h: where to connect, as plain data, and the text rules around it. No I/O and no
 * PGconn: every function here depends only on its arguments.
 * Target:    sl_conninfo holds libpq keyword/value pairs taken from the command line (-h -p -U
 *            -d, where -d may be a postgres:// URL or a conninfo string, parsed with libpq's own
 *            PQconninfoParse). Everything unset falls through to libpq when connecting (PG*
 *            environment variables, .pgpass, service files).
 * Messages:  sl_conninfo_describe() names a target as `host:port database "db" as user "u"`,
 *            never with its password; sl_conninfo_redact_sql() and _redact_message() take
 *            secrets (passwords in conninfo strings, URLs, OPTIONS (password '...'), PASSWORD
 *            '...') out of statement text and server messages before they reach a log line or
 *            an sl_error. The backup file itself keeps them.
 * Failures:  sl_conninfo_failure_read() reads the text of a failed connection attempt (the
 *            PQerrorMessage of a connection made with PQERRORS_VERBOSE): its reason for
 *            messages, the server's SQLSTATE when the server sent one, and whether a retry is
 *            worth it (SQLSTATE class 08, 57P03, 53300; client-side failures by libpq's text).
 * Ownership: sl_conninfo is plain data owned by the caller (sl_conninfo_free); strings it
 *            returns belong to it. A password lives only in its memory and is wiped when freed. */
#ifndef SL_PG_CONNINFO_H
#define SL_PG_CONNINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"

/* What replaces a secret in a message. */
#define SL_CONNINFO_REDACTED "[redacted]"

typedef struct sl_conninfo sl_conninfo;

sl_conninfo *sl_conninfo_new(void);
void sl_conninfo_free(sl_conninfo *ci);
/* Sets one libpq keyword ("host", "port", "user", "dbname", "sslmode", ...). value NULL unsets.
 * Explicit keywords override what a URL/conninfo given as "dbname" says (like -h over -d URL).
 * Replacing such a URL/conninfo dbname by a plain database name keeps the other keywords it
 * carried (host, port, user, sslmode...): only the database changes. */
void sl_conninfo_set(sl_conninfo *ci, const char *keyword, const char *value);
/* 0 when the dbname is a plain name or a URL/conninfo string libpq can parse; otherwise -1 with
 * SL_E_USAGE saying why, without any part of the string that may hold a password. */
SL_MUSTCHECK int sl_conninfo_check(const sl_conninfo *ci, sl_error *err);
/* The value the caller gave for keyword: set explicitly, or carried by a URL/conninfo "dbname"
 * (for "dbname" itself that URL's database). NULL when libpq will decide (env, service file,
 * defaults), and for "dbname" when it is a URL/conninfo string that does not parse. The string
 * belongs to ci and lives until the next set() of that keyword. */
const char *sl_conninfo_get(const sl_conninfo *ci, const char *keyword);
/* A copy (the caller frees it) pointing at another database; everything else, including what a
 * URL/conninfo dbname carried (host, port, sslmode...), is kept. dbname is always taken as a
 * plain database name, even if it contains '=' or starts with postgres://. dbname NULL: an
 * exact copy of ci. */
sl_conninfo *sl_conninfo_with_dbname(const sl_conninfo *ci, const char *dbname);
/* The pairs for PQconnectdbParams(expand_dbname=1), in the order that lets explicit keywords
 * override a URL/conninfo dbname: fills keys/vals with sl_conninfo_count() borrowed strings
 * (no terminator). */
size_t sl_conninfo_count(const sl_conninfo *ci);
void sl_conninfo_params(const sl_conninfo *ci, const char **keys, const char **vals);

/* Where a connection goes, for messages. Any field may be NULL or "" (unknown). */
typedef struct sl_conninfo_target {
    const char *host;
    const char *port;
    const char *dbname;
    const char *user;
} sl_conninfo_target;
/* Writes `host:port database "db" as user "u"` into out and returns out. Values of resolved
 * (what libpq settled on; may be NULL) win over those of ci (may be NULL); unknown parts are
 * left out ("the default server" when nothing is known). Never a password. */
const char *sl_conninfo_describe(const sl_conninfo *ci, const sl_conninfo_target *resolved,
                                 char *out, size_t cap);

/* Appends "key='value' ..." for n pairs (a NULL or empty value is left out), each value in
 * single quotes with \\ and \' escaped as libpq's conninfo syntax wants, so that any bytes
 * come back unchanged through PQconninfoParse. The text may hold a password: it is for a
 * child process's pipe, never for a message. */
void sl_conninfo_format(sl_buf *out, const char *const *keys, const char *const *vals,
                        size_t n);

/* ---- redaction ---- */

/* Appends the first len bytes of sql (a statement, part of one, or a psql meta-command) to out
 * with every secret replaced by SL_CONNINFO_REDACTED: the string after a password option or
 * keyword (PASSWORD 'x', ENCRYPTED PASSWORD 'x', OPTIONS (password 'x'), password = 'x'), the
 * value of password= inside any string literal, quoted identifier or comment holding a conninfo
 * string, and the password of a postgres:// URL anywhere. Dollar-quoted bodies are searched as
 * SQL too. Text cut short (an unterminated literal) is treated as running to the end, so a
 * prefix of a statement is redacted safely. Returns the number of secrets replaced. */
size_t sl_conninfo_redact_sql(const char *sql, size_t len, sl_buf *out);
/* Scrubs msg (a server's or libpq's message about source, NUL-terminated, at most cap bytes) of
 * the secrets that source holds: every occurrence of a secret, and every quoted fragment ("",
 * and the quotes of translated messages) that is part of one or holds one, becomes
 * SL_CONNINFO_REDACTED. source is SQL (is_sql), or a URL/conninfo string that msg is a parse
 * error of: then a quoted fragment that overlaps a password in the string, or that is not in
 * the string as written (libpq decoded it), is redacted too. */
void sl_conninfo_redact_message(char *msg, size_t cap, const char *source, size_t len,
                                bool is_sql);
/* The same for one known password. */
void sl_conninfo_redact_password(char *msg, size_t cap, const char *password);

/* ---- connection failures ---- */

typedef struct sl_conninfo_failure {
    bool transient;      /* every host tried failed for a reason worth a retry */
    char sqlstate[6];    /* the deciding attempt's SQLSTATE, "" when the server sent none */
    char reason[512];    /* the deciding attempt's reason, one line, without libpq's prefix */
} sl_conninfo_failure;

/* Reads PQerrorMessage() text of a failed connection. libpq writes one line per host tried
 * ("connection to server at ... failed: REASON") followed by indented hints and DETAIL, HINT,
 * LOCATION lines; a server's error reads "SEVERITY:  SQLSTATE: text" when the connection was
 * made with PQERRORS_VERBOSE. A line with a SQLSTATE is judged by it (class 08, 57P03 and
 * 53300 are transient), whatever the language of its text; a line without one is a client-side
 * failure judged by libpq's own (untranslated) words: refused, unreachable, timeout, unknown
 * host, a socket that does not exist yet. The deciding attempt is the first permanent one, or
 * the first one when all are transient. */
void sl_conninfo_failure_read(const char *message, sl_conninfo_failure *f);
bool sl_conninfo_failure_is_transient(const char *message);

#endif
