/* tap/wal2json.h: one message of a wal2json replication slot in format-version 2, decoded in a
 * single pass over its text (base/json_reader.h, numbers kept as text) into what a change is:
 * its action, schema, table, commit timestamp and the name and value text of each entry of its
 * "columns" and "identity" arrays. No tree is built and nothing is allocated per message or per
 * value once the decoder's buffers have grown to the largest message seen.
 *
 * Values: a string is its unescaped bytes, a number its exact text (a numeric keeps all its
 * digits: never read as a double), true and false are "t" and "f" (the output text of a
 * boolean), null is a NULL text. Each text is NUL-terminated and holds no NUL.
 * What is accepted (strictness): one JSON object of these members, each at most once: action
 * (a non-empty string), schema, table, timestamp, prefix, content, origin, nextlsn, lsn (strings),
 * xid (a number), transactional (a boolean), columns and identity (arrays of objects with name,
 * a string; value, a string, number, boolean or null; type, a string; typeoid, a number;
 * optional, a boolean: name and value present), pk (an array of objects with name and type,
 * strings, and typeoid). Anything else (another member, another type, a duplicate, a column
 * without its name or value, bytes after the object, invalid JSON or UTF-8, a \u0000 or a lone
 * surrogate) is SL_E_SERVER "wal2json message: <what> at byte N", N counted from the
 * message's first byte. Strings are bounded by the message's length, nesting by its shape.
 * Ownership: what a decoded message points to belongs to the decoder and is valid until its next
 * decode; the data given is not kept. */
#ifndef SL_TAP_WAL2JSON_H
#define SL_TAP_WAL2JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

typedef struct sl_tap_wal2json_col {
    const char *name;
    size_t name_len;
    const char *text;  /* NULL: null */
    size_t len;
} sl_tap_wal2json_col;

typedef struct sl_tap_wal2json_msg {
    char action;            /* the action's first byte: 'B', 'C', 'I', 'U', 'D', 'M', 'T' */
    const char *schema;     /* NULL when absent (also table, timestamp) */
    const char *table;
    const char *timestamp;
    bool has_columns, has_identity;
    const sl_tap_wal2json_col *columns;
    size_t ncolumns;
    const sl_tap_wal2json_col *identity;
    size_t nidentity;
} sl_tap_wal2json_msg;

typedef struct sl_tap_wal2json sl_tap_wal2json;

sl_tap_wal2json *sl_tap_wal2json_new(void);
void sl_tap_wal2json_free(sl_tap_wal2json *d);
SL_MUSTCHECK int sl_tap_wal2json_decode(sl_tap_wal2json *d, const char *data, size_t len,
                                        sl_tap_wal2json_msg *out, sl_error *err);

#endif
