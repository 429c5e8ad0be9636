/* tap/state.h: Singer state as pipelinewise-tap-postgres keeps it:
 *   {"bookmarks": {tap_stream_id: {key: value, ...}, ...}, "currently_syncing": id or null}
 * read from --state, updated as streams sync, written into STATE messages. Keys and values are
 * singer-python's bookmarks functions': setting a key keeps the others and their order, a key
 * set to null stays (pipelinewise's "xmin": null after a full table), resetting a stream empties
 * its bookmark. Members sluice does not know (other streams, other top-level keys) are kept.
 * Errors (load): SL_E_USAGE naming the file: what jsondoc.h reports, a document that is not an
 * object, "bookmarks" that is not an object of objects.
 * Ownership: the state owns its document; _get() returns a borrowed value valid until the next
 * change of that key; _set() takes the reference it is given. */
#ifndef SL_TAP_STATE_H
#define SL_TAP_STATE_H

#include <jansson.h>

#include "base/error.h"
#include "base/jsonw.h"

typedef struct sl_tap_state sl_tap_state;

/* path NULL: an empty state ({}). */
SL_MUSTCHECK int sl_tap_state_load(sl_tap_state **out, const char *path, sl_error *err);
SL_MUSTCHECK int sl_tap_state_parse(sl_tap_state **out, const char *text, const char *name,
                                    sl_error *err);
void sl_tap_state_free(sl_tap_state *s);
/* The bookmark's value, or NULL when the key is absent (a JSON null is returned as is). */
json_t *sl_tap_state_get(const sl_tap_state *s, const char *stream, const char *key);
/* Whether the key is absent or null. */
bool sl_tap_state_missing(const sl_tap_state *s, const char *stream, const char *key);
void sl_tap_state_set(sl_tap_state *s, const char *stream, const char *key, json_t *value);
/* The stream's bookmark becomes {}. */
void sl_tap_state_reset(sl_tap_state *s, const char *stream);
/* The stream's bookmark object (created empty when absent), for walking its keys. */
json_t *sl_tap_state_bookmark(sl_tap_state *s, const char *stream);
/* currently_syncing's id, or NULL when absent, null or not a string. */
const char *sl_tap_state_currently_syncing(const sl_tap_state *s);
void sl_tap_state_set_currently_syncing(sl_tap_state *s, const char *stream);
/* Writes the whole state as the next value of w. */
void sl_tap_state_write(const sl_tap_state *s, sl_jsonw *w);

#endif
