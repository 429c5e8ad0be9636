/* base/json_reader.h: a strict JSON tokenizer for documents too large, or too untrusted, to load
 * whole: it hands out one token at a time while the text streams by, and its memory is one
 * string of at most max_string bytes and a stack of max_depth containers, whatever the size of
 * the document. (jansson builds the whole tree, about ten times the text.)
 *
 * Input arrives in arbitrary chunks; the tokens are the same whatever the chunking. The
 * grammar is RFC 8259's, checked as tokens come: a token is handed out only when everything
 * before it is valid. Strings come out unescaped as UTF-8 and NUL-terminated; raw bytes must be
 * valid UTF-8, escapes may not make a NUL or a lone surrogate. Numbers must be integers that
 * fit an int64_t (a fraction or an exponent is refused: sluice's documents hold none), unless
 * sl_json_reader_numbers_as_text() was called: then every number of RFC 8259's grammar comes
 * out as its exact text (SL_JSON_NUMBER; at most max_string bytes), digits never rounded.
 * Calling order: sl_json_reader_new() -> { sl_json_reader_feed() -> sl_json_reader_next()
 *   until it returns 0 }* -> sl_json_reader_finish() -> sl_json_reader_next() until 0 ->
 *   sl_json_reader_free(). _next() returns 1 with a token, 0 when it needs more input (after
 *   _finish(): when the document is complete), -1 on error (then the reader is unusable).
 * Ownership: fed bytes are borrowed until _next() returns 0. A token's text belongs to the
 *   reader and stays valid until the next call.
 * Errors: SL_E_ARCHIVE, "... at byte N" (N counted from the first byte fed). */
#ifndef SL_BASE_JSON_READER_H
#define SL_BASE_JSON_READER_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef enum {
    SL_JSON_OBJECT,      /* '{' */
    SL_JSON_OBJECT_END,  /* '}' */
    SL_JSON_ARRAY,       /* '[' */
    SL_JSON_ARRAY_END,   /* ']' */
    SL_JSON_KEY,         /* a member name (text) */
    SL_JSON_STRING,      /* a string value (text) */
    SL_JSON_INT,         /* an integer value (integer) */
    SL_JSON_NUMBER,      /* a number as its text (only with sl_json_reader_numbers_as_text) */
    SL_JSON_TRUE,
    SL_JSON_FALSE,
    SL_JSON_NULL,
} sl_json_kind;

typedef struct sl_json_token {
    sl_json_kind kind;
    const char *text;  /* KEY, STRING, NUMBER: NUL-terminated (and holds no NUL); else NULL */
    size_t len;
    int64_t integer;   /* INT */
    int depth;         /* containers open around the token (a container's own tokens: outside) */
} sl_json_token;

typedef struct sl_json_reader sl_json_reader;

/* max_string: longest string (unescaped bytes) accepted; max_depth: deepest nesting (>= 1). */
sl_json_reader *sl_json_reader_new(size_t max_string, int max_depth);
void sl_json_reader_free(sl_json_reader *r);
/* Back to the start of a new document (after an error too), its buffers and settings kept. */
void sl_json_reader_reset(sl_json_reader *r);
/* Numbers come out as SL_JSON_NUMBER with their text from now on (call before the first). */
void sl_json_reader_numbers_as_text(sl_json_reader *r);
void sl_json_reader_feed(sl_json_reader *r, const void *data, size_t len);
void sl_json_reader_finish(sl_json_reader *r);
SL_MUSTCHECK int sl_json_reader_next(sl_json_reader *r, sl_json_token *tok, sl_error *err);
/* Bytes consumed so far. */
uint64_t sl_json_reader_offset(const sl_json_reader *r);

#endif
