/* base/jsonw.h: a streaming JSON writer that appends to an sl_buf (Singer messages, one per line).
 * Calls: sl_jsonw_init(w, out), then values in document order: sl_jsonw_object_begin() ->
 *   { sl_jsonw_key() -> a value }* -> sl_jsonw_object_end(); sl_jsonw_array_begin() -> values*
 *   -> sl_jsonw_array_end(); a value is a scalar (string, number, int, bool, null) or a nested
 *   object or array. Commas and colons are written by the writer. At the top level, values
 *   follow each other with nothing between them: the caller writes the newline that ends a
 *   message and may then write the next one with the same writer. Calls out of that order
 *   (a key in an array, a value in an object without its key, an end that closes nothing,
 *   nesting deeper than SL_JSONW_MAX_DEPTH) are bugs of the caller, checked by assert().
 * Strings (keys included) are copied as they are except: '"' and '\' are escaped; control
 *   bytes are written \n \r \t \b \f, or \u00XX for the others; a byte that is not part of
 *   well-formed UTF-8 (an overlong form, a surrogate U+D800-DFFF, a code point above U+10FFFF,
 *   a truncated sequence, bytes C0, C1, F5-FF) is replaced by U+FFFD, one per maximal ill-formed
 *   subpart as Unicode recommends, and counted in w->replaced so that the caller can log it.
 *   Valid multi-byte characters are copied, never \u-escaped. The output is therefore always
 *   valid UTF-8 and valid JSON.
 * Numbers: sl_jsonw_number() writes a number's text verbatim (a PostgreSQL numeric, a float)
 *   only if it is a JSON number (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?); otherwise
 *   (NaN, Infinity, "+1", "1.", blanks) it writes nothing and returns -1, and the caller
 *   decides what to write instead. JSON has no limit on a number's size; a reader may have one.
 * Layout: sl_jsonw_init() writes compact JSON (no blank anywhere: the Singer messages).
 *   sl_jsonw_init_python() lays it out as Python's json.dumps does, so that a document written
 *   in place of a Python tool's reads the same (a catalog): indent 0 is one line with ", "
 *   between members and ": " after keys; indent N > 0 puts every member and element on its own
 *   line indented N spaces a level, "," at the end of a line, ": " after keys, and empty
 *   containers as {} and [].
 * Ownership: the writer borrows out (the caller keeps it alive and may read or reset it between
 *   top-level values); the writer holds no memory of its own and needs no free. */
#ifndef SL_BASE_JSONW_H
#define SL_BASE_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

#define SL_JSONW_MAX_DEPTH 64

typedef struct sl_jsonw {
    sl_buf *out;
    size_t replaced;      /* byte sequences replaced by U+FFFD since init (keys and strings) */
    unsigned depth;       /* open objects and arrays */
    uint64_t in_object;   /* bit d: the container at depth d+1 is an object */
    bool need_comma;      /* a value or member came before in the current container */
    bool after_key;       /* a key was written: its value comes next */
    bool python;          /* json.dumps' separators: ", " (or "," and a line) and ": " */
    int indent;           /* python: spaces per level, 0 for one line */
} sl_jsonw;

void sl_jsonw_init(sl_jsonw *w, sl_buf *out);
void sl_jsonw_init_python(sl_jsonw *w, sl_buf *out, int indent);
void sl_jsonw_object_begin(sl_jsonw *w);
void sl_jsonw_object_end(sl_jsonw *w);
void sl_jsonw_array_begin(sl_jsonw *w);
void sl_jsonw_array_end(sl_jsonw *w);
/* A member's name: s[0..len), any bytes, written as a string. */
void sl_jsonw_key(sl_jsonw *w, const char *s, size_t len);
/* The same for a NUL-terminated name. */
void sl_jsonw_keyz(sl_jsonw *w, const char *s);
/* A string value: s[0..len), any bytes (NUL included, written \u0000). */
void sl_jsonw_string(sl_jsonw *w, const char *s, size_t len);
/* The same for a NUL-terminated string. */
void sl_jsonw_stringz(sl_jsonw *w, const char *s);
/* A number given as text s[0..len): 0 when written, -1 (nothing written) when not JSON. */
SL_MUSTCHECK int sl_jsonw_number(sl_jsonw *w, const char *s, size_t len);
void sl_jsonw_int(sl_jsonw *w, int64_t v);
void sl_jsonw_bool(sl_jsonw *w, bool v);
void sl_jsonw_null(sl_jsonw *w);
/* Raw values. sl_jsonw_raw_begin() writes what comes before a value (a comma after a previous
 * element) and leaves it to the caller to append the text of one complete JSON value to w->out
 * itself: a number spelled in parts, or a JSON document rewritten token by token (whose own
 * nesting is then not bounded by SL_JSONW_MAX_DEPTH). sl_jsonw_raw_string() appends a string
 * inside such a value exactly as sl_jsonw_string() writes one (escapes, U+FFFD counted in
 * w->replaced) but without any separator; sl_jsonw_raw_chars() appends only the inside of
 * such a string (no quotes), so that a string may be written in pieces (each piece should end
 * on a character boundary: a multi-byte character split between pieces is replaced). The
 * caller answers for the value being valid JSON in the writer's layout (compact for
 * sl_jsonw_init()). */
void sl_jsonw_raw_begin(sl_jsonw *w);
void sl_jsonw_raw_string(sl_jsonw *w, const char *s, size_t len);
void sl_jsonw_raw_chars(sl_jsonw *w, const char *s, size_t len);
/* Is s[0..len) a JSON number? (what sl_jsonw_number() accepts) */
bool sl_jsonw_is_number(const char *s, size_t len);

#endif
