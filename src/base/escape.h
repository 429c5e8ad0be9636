/* base/escape.h: text from a database, a server or a file, made safe to show on a terminal.
 * A table name may hold ESC sequences (which recolour, retitle or rewrite a terminal), CR (which
 * overprints a line) or LF (which forges a line of its own). Whatever reaches stdout or stderr
 * goes through one of these, so no byte of such text acts on a terminal:
 *   sl_escape_text()  for text shown to people: \n \r \t \e (ESC) and \xNN for the other C0
 *                     controls, DEL, and bytes that are not valid UTF-8; \uNNNN for C1 controls
 *                     (U+0080..U+009F), the line and paragraph separators (U+2028, U+2029) and
 *                     the bidirectional overrides and isolates (U+202A..U+202E,
 *                     U+2066..U+2069); valid UTF-8 otherwise kept as it is. A backslash is kept
 *                     as it is: the result is for reading, not for parsing back.
 *   sl_escape_utf8()  for text going into a JSON string: only bytes that are not valid UTF-8
 *                     become \xNN (a JSON writer refuses them; it escapes C0 itself).
 *   sl_escape_json()  for a JSON document already written: DEL and the characters above are
 *                     written as \u007f, \u0080... (JSON writers leave them raw). In valid
 *                     UTF-8 JSON these characters only occur inside strings; a byte that is
 *                     not valid UTF-8 becomes \ufffd.
 * The three append to `out` and never fail; they are pure. */
#ifndef SL_BASE_ESCAPE_H
#define SL_BASE_ESCAPE_H

#include <jansson.h>
#include <stddef.h>

#include "base/buf.h"

void sl_escape_text(sl_buf *out, const char *s, size_t len);
void sl_escape_utf8(sl_buf *out, const char *s, size_t len);
void sl_escape_json(sl_buf *out, const char *s, size_t len);
/* sl_escape_text() of a C string into a new string the caller frees; NULL gives NULL. */
char *sl_escape_dup(const char *s);
/* A JSON string of s after sl_escape_utf8() (json null for NULL): never NULL, so an invalid
 * byte cannot make a field disappear. */
json_t *sl_escape_json_string(const char *s);
/* json_dumps() of doc passed through sl_escape_json(); the caller frees it. NULL when jansson
 * fails. */
char *sl_escape_json_dumps(const json_t *doc, size_t flags);

#endif
