/* restore/statement.h: decisions about one SQL statement's text, made without a server.
 * The text is one statement as restore/splitter.h cuts it (leading -- comments dropped, ';'
 * included). Words are read as the server's lexer reads them: quoted identifiers, string
 * literals (standard, E'' with backslash escapes, dollar-quoted) and comments are passed over
 * whole, so a name or a literal holding "GRANT", " OWNER TO x" or ';' decides nothing.
 *   sl_statement_skipped():       whether --no-owner / --no-privileges leave the statement out
 *                                 (ALTER ... OWNER TO role, SET SESSION AUTHORIZATION; GRANT,
 *                                 REVOKE, ALTER DEFAULT PRIVILEGES);
 *   sl_statement_copy_relation(): the relation "COPY relation (cols) FROM stdin;" names, as
 *                                 written (quotes kept), for a lookup with to_regclass($1);
 *   sl_statement_copy_freeze():   that COPY with " WITH (FREEZE)" before its ';'.
 * Pure functions: no allocation but in the caller's buffer. */
#ifndef SL_RESTORE_STATEMENT_H
#define SL_RESTORE_STATEMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

bool sl_statement_skipped(const char *text, bool no_owner, bool no_privileges);
/* Appends the relation to out; false (out untouched) when text is not a COPY statement. */
bool sl_statement_copy_relation(const char *text, sl_buf *out);
/* Puts text[0..len) with " WITH (FREEZE)" before its final ';' into out (reset first), when it
 * is "COPY ... FROM stdin;" (trailing blanks allowed); false otherwise. */
bool sl_statement_copy_freeze(const char *text, size_t len, sl_buf *out);

#endif
