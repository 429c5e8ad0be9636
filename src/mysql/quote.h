/* mysql/quote.h: names and values as MySQL/MariaDB script text that the server reads back
 * exactly and the mysql client never takes for one of its own commands.
 * Identifiers: `name` with every backtick doubled (a newline, quote or ';' inside stays inside
 *   the quotes, where the client's command scanner does not look).
 * Literals:    '...' with the server's backslash escapes for NUL, newline, CR, quote, double
 *   quote, backslash and ^Z (as mysql_real_escape_string writes them for an ASCII-compatible
 *   character set such as utf8mb4); valid as long as the reading session's sql_mode lacks
 *   NO_BACKSLASH_ESCAPES (a backup's preamble sets sql_mode so).
 * Hex:         0x... (uppercase digits, as mysqldump --hex-blob), "''" for zero bytes, which
 *   0x cannot spell.
 * Pure functions, never fail. */
#ifndef SL_MYSQL_QUOTE_H
#define SL_MYSQL_QUOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

void sl_mysql_put_ident(sl_buf *out, const char *name);
void sl_mysql_put_literal(sl_buf *out, const char *data, size_t len);
void sl_mysql_put_hex(sl_buf *out, const unsigned char *data, size_t len);
/* Whether text is a number as the server prints one (digits, sign, point, exponent) and may
 * stand bare in a script. */
bool sl_mysql_is_number(const char *text, size_t len);

#endif
