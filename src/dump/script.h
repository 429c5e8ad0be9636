/* dump/script.h: the text a backup writes outside quoted SQL literals and identifiers.
 * A backup file is a script that psql may run, and psql reads a backslash at the start of a
 * line (or after a comment that a CR or LF ends) as a meta-command such as \! that runs a shell
 * command. Whatever comes from a database or a server and is not inside quotes must therefore
 * be unable to start a line of its own:
 *   - names and server text in comment lines ("-- TABLE schema.name", "-- database: ...") go
 *     through sl_script_put_comment_text(), which escapes every control character;
 *   - numbers the server sends that are written bare into SQL (a sequence's last_value) and
 *     words written into a literal (an encoding name) are checked with sl_script_is_integer()
 *     and sl_script_is_word() before use: a server that sends anything else is refused;
 *   - a COPY data row is one line, checked with sl_script_is_copy_row().
 * And, as pg_dump does, the whole script is bracketed by \restrict KEY and \unrestrict KEY
 * with a fresh random key (sl_script_restrict_key()), so that psql 15.14 and later refuse every
 * other meta-command in between, whatever a server may have slipped into the SQL.
 * All functions but the key generator are pure and never fail. */
#ifndef SL_DUMP_SCRIPT_H
#define SL_DUMP_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"

#define SL_SCRIPT_KEY_LEN 64  /* characters of a \restrict key, as pg_dump's */

/* Appends text for a comment line: backslash becomes "\\", LF "\n", CR "\r", TAB "\t", every
 * other byte below 0x20 and DEL "\xNN"; all else (UTF-8 included) is copied. NULL appends
 * nothing. The result holds no line break, so it cannot end the comment. */
void sl_script_put_comment_text(sl_buf *out, const char *text);

/* Appends text as valid UTF-8 for the backup's index (JSON, UTF-8 only): well-formed UTF-8
 * sequences are copied, every other byte becomes "\xNN". A name read from a database in another
 * encoding (LATIN1, or SQL_ASCII where a name may be any bytes) thus still has an index entry,
 * the same one each time; names that are UTF-8 are unchanged. NULL appends nothing. */
void sl_script_put_utf8(sl_buf *out, const char *text);

/* A decimal integer as PostgreSQL prints a bigint: an optional '-', then 1 to 19 digits. */
bool sl_script_is_integer(const char *s);

/* 1 to 63 ASCII letters, digits and underscores (an encoding name such as "UTF8"). */
bool sl_script_is_word(const char *s);

/* A row of text-format COPY data as one protocol message holds it: at least the newline that
 * ends it, and no other newline (COPY writes a newline in a value as "\n"). */
bool sl_script_is_copy_row(const char *data, size_t len);

/* Fills key with SL_SCRIPT_KEY_LEN characters of [A-Za-z0-9] from the kernel's random source
 * (getrandom), NUL-terminated. -1 with err set when no randomness is to be had. */
SL_MUSTCHECK int sl_script_restrict_key(char key[SL_SCRIPT_KEY_LEN + 1], sl_error *err);

#endif
