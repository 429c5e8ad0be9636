/* libFuzzer target for base/json_reader: any bytes must tokenize without crashing, within the
 * reader's bounds (strings of at most MAX_STRING bytes, NUL-free; at most MAX_DEPTH nesting),
 * and the tokens and the error must not depend on where the chunks are cut; the same with
 * numbers kept as text (each of at most MAX_STRING bytes, NUL-free). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzkit.h"
#include "base/buf.h"
#include "base/json_reader.h"

#define MAX_STRING 64
#define MAX_DEPTH 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool numbers_as_text;

static void
transcript(const uint8_t *data, size_t size, size_t step, sl_buf *out)
{
    sl_json_reader *r = sl_json_reader_new(MAX_STRING, MAX_DEPTH);
    if (numbers_as_text)
        sl_json_reader_numbers_as_text(r);
    sl_json_token t;
    sl_error err;
    sl_error_clear(&err);
    int rc = 0;
    for (size_t pos = 0;; pos += step) {
        if (pos >= size)
            sl_json_reader_finish(r);
        else
            sl_json_reader_feed(r, data + pos, size - pos < step ? size - pos : step);
        while ((rc = sl_json_reader_next(r, &t, &err)) == 1) {
            if (t.depth < 0 || t.depth > MAX_DEPTH)
                abort();
            sl_buf_printf(out, "[%d %d %lld]", (int)t.kind, t.depth, (long long)t.integer);
            if (t.kind == SL_JSON_KEY || t.kind == SL_JSON_STRING || t.kind == SL_JSON_NUMBER) {
                if (t.len > MAX_STRING || strlen(t.text) != t.len)
                    abort();
                sl_buf_append(out, t.text, t.len);
            }
        }
        if (rc < 0) {
            if (err.kind != SL_E_ARCHIVE)
                abort();
            sl_buf_printf(out, "\nerror: %s", err.message);
            break;
        }
        if (pos >= size)
            break;
    }
    if (rc == 0 && sl_json_reader_offset(r) != size)
        abort();  /* a complete document used every byte */
    sl_json_reader_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    numbers_as_text = false;
    fuzz_same_in_chunks(data, size, 13, transcript, "tokens");
    numbers_as_text = true;
    fuzz_same_in_chunks(data, size, 13, transcript, "tokens");
    return 0;
}
