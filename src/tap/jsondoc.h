/* tap/jsondoc.h: the JSON documents a Singer tap reads whole (a catalog, a state), and writing
 * one back out through the streaming writer.
 * Reading: the file is read (at most max_bytes) and parsed by jansson. flags are jansson's
 *   decoding flags: a catalog takes JSON_DECODE_INT_AS_REAL, because the numeric bounds
 *   pipelinewise writes (10 ** 62) do not fit jansson's integers and only its names and flags
 *   are read. Errors are SL_E_USAGE and say "<what> "<path>"": could not open or read, larger
 *   than max_bytes, a NUL byte, or invalid JSON with its line and column (jansson's message is
 *   cut before the input it quotes).
 * Writing: sl_tap_jsondoc_write() writes a jansson value as the next value of w, objects in
 *   their members' order, a real as Python's repr() writes a float (the shortest text that
 *   reads back as the same double: 0.1, 100.0, 1e-05, 1e+16), so that a number read from a
 *   state goes back out as pipelinewise would write it when a double holds it.
 * Ownership: *out is the caller's (json_decref). */
#ifndef SL_TAP_JSONDOC_H
#define SL_TAP_JSONDOC_H

#include <jansson.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/jsonw.h"

SL_MUSTCHECK int sl_tap_jsondoc_load(json_t **out, const char *path, const char *what,
                                     size_t max_bytes, size_t flags, sl_error *err);
/* The same from text in memory (what and name for messages). */
SL_MUSTCHECK int sl_tap_jsondoc_parse(json_t **out, const char *text, size_t len,
                                      const char *what, const char *name, size_t flags,
                                      sl_error *err);
void sl_tap_jsondoc_write(sl_jsonw *w, const json_t *v);
/* Appends d (finite) as Python's repr() writes it. */
void sl_tap_jsondoc_real(sl_buf *out, double d);

#endif
