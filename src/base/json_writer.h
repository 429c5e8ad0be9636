/* base/json_writer.h: writes a JSON document into an sl_buf, one value at a time, laid out the
 * way Python's json.dump lays it out, so that a document sluice writes in place of a Python tool
 * reads the same: with indent > 0 every member and element on its own line, indented by
 * `indent` spaces a level, ": " after a key, empty containers as {} and []; with indent 0 one
 * line with ", " between members and ": " after keys (json.dumps' defaults).
 * Numbers are written as the caller spells them (sl_json_writer_raw): a JSON Schema bound such
 * as 10^62 or 1e-38 does not fit an int64 or a double's shortest text.
 * Strings: valid UTF-8 is kept, C0 controls, '"' and '\\' are escaped, DEL becomes \u007f and
 * a byte that is not valid UTF-8 becomes \ufffd, so the output is always valid JSON.
 * Calling order: _init -> values (a key before each member of an object) -> the buffer holds
 * the text; the writer checks nothing: a caller that opens a container closes it.
 * Ownership: the writer borrows out; it holds no memory of its own. */
#ifndef SL_BASE_JSON_WRITER_H
#define SL_BASE_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define SL_JSON_WRITER_MAX_DEPTH 64

typedef struct sl_json_writer {
    sl_buf *out;
    int indent;
    int depth;
    bool after_key;                             /* the next value follows "key": */
    bool has_items[SL_JSON_WRITER_MAX_DEPTH];   /* per open container: something written */
} sl_json_writer;

void sl_json_writer_init(sl_json_writer *w, sl_buf *out, int indent);
void sl_json_writer_object(sl_json_writer *w);
void sl_json_writer_object_end(sl_json_writer *w);
void sl_json_writer_array(sl_json_writer *w);
void sl_json_writer_array_end(sl_json_writer *w);
void sl_json_writer_key(sl_json_writer *w, const char *key);
void sl_json_writer_string(sl_json_writer *w, const char *s);
void sl_json_writer_string_len(sl_json_writer *w, const char *s, size_t len);
void sl_json_writer_int(sl_json_writer *w, int64_t v);
void sl_json_writer_bool(sl_json_writer *w, bool v);
void sl_json_writer_null(sl_json_writer *w);
/* A number already spelled as JSON ("-1e-05", "1000000"). */
void sl_json_writer_raw(sl_json_writer *w, const char *number);
/* Appends s as a JSON string literal (quotes included) to out, escaped as above. */
void sl_json_quote(sl_buf *out, const char *s, size_t len);

#endif
