/* mysql/script.h: cuts a stream of mysql-client script text (a mysqldump file, a segment of a
 * sluice MySQL backup) into the statements the mysql client would send to the server.
 *
 * Lexing follows the client's: '...' and "..." strings (backslash escapes, doubled quotes),
 * `...` identifiers (doubled backticks), `-- ` (dashes then a space or control character), `#`
 * and slash-star comments, and executable comments (slash-star-bang NNNNN ... and slash-star-M-
 * bang NNNNNN ...) whose text is code: it goes to the server inside the statement, which runs
 * it when the version matches (a statement that is only such a comment is sent as is).
 * Whitespace and comments before a statement's first code byte are dropped; a statement that
 * holds nothing else is not sent. The delimiter (`;` at first) ends a statement outside
 * strings and comments and is not part of its text.
 * Client commands. At a statement's start, `DELIMITER x` (any case; the rest of its line is
 * the new delimiter's one word) changes the delimiter, as mysqldump writes it around routine,
 * trigger and event bodies, and MariaDB's sandbox line (a comment starting slash-star-M-bang
 * 999999 backslash-dash: the client's "enable the sandbox mode") is skipped. Every other
 * client command is refused, naming its line, and never run: a backslash outside strings and
 * plain comments (`\!`, `\.`, `\g` ...: the client reads one there, also inside an executable
 * comment) and the long commands at a statement's start (system, source, connect, pager, tee,
 * exit, ...). `USE db` is SQL and goes to the server as such.
 *
 * Calling order: sl_myscript_new() -> { sl_myscript_feed() -> sl_myscript_next() until it
 *   returns 0 }* -> sl_myscript_finish() -> sl_myscript_next() until 0 -> sl_myscript_free().
 *   _next() returns 1 with a statement, 0 when it needs more input (after _finish(): the
 *   script is complete), -1 on error (err set; the splitter is then unusable).
 * Ownership: fed bytes are copied. A statement's text belongs to the splitter and stays
 *   valid until the next call on it; it is NUL-terminated (len excludes the NUL).
 * Memory: the statement being read and the unread rest of the last chunk; a statement over
 *   max_statement bytes is an error naming its line, so memory stays bounded by that limit
 *   plus one chunk whatever the input.
 * Errors: SL_E_ARCHIVE naming the line: a client command, an unterminated string, identifier
 *   or comment at the end of the input, a statement over the limit, a bad DELIMITER. */
#ifndef SL_MYSQL_SCRIPT_H
#define SL_MYSQL_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* The default statement limit: the server's own hard ceiling for max_allowed_packet. */
#define SL_MYSCRIPT_MAX_STATEMENT ((size_t)1 << 30)
/* The longest delimiter the client accepts in practice; ours is bounded for the lookahead. */
#define SL_MYSCRIPT_MAX_DELIMITER 16

typedef struct sl_myscript_stmt {
    const char *text;  /* NUL-terminated, without the delimiter */
    size_t len;
    uint64_t line;     /* 1-based line of the input where the statement's code starts */
    uint64_t offset;   /* byte offset of the input where it starts */
} sl_myscript_stmt;

typedef struct sl_myscript sl_myscript;

/* max_statement 0: SL_MYSCRIPT_MAX_STATEMENT. */
sl_myscript *sl_myscript_new(size_t max_statement);
void sl_myscript_free(sl_myscript *s);
/* Hands over the next len bytes; call only after _next() returned 0. */
void sl_myscript_feed(sl_myscript *s, const void *data, size_t len);
/* No more input follows. */
void sl_myscript_finish(sl_myscript *s);
SL_MUSTCHECK int sl_myscript_next(sl_myscript *s, sl_myscript_stmt *out, sl_error *err);

/* The first line of a statement for messages: at most cap - 1 bytes, control characters as
 * spaces, and the secrets redacted (the string after IDENTIFIED BY, PASSWORD, IDENTIFIED
 * VIA/WITH ... AS/USING becomes '***'). Returns out. */
const char *sl_myscript_head(const char *text, size_t len, char *out, size_t cap);

#endif
