/* libFuzzer target for tap/value (a server's COPY text made into a RECORD's JSON values): the
 * first byte picks a column type (scalar or array of it), the rest is the field's text. Whatever
 * the bytes, the value is either written as JSON that jansson reads back (inside an array, after
 * an element, so that its separator is checked too) and valid UTF-8, with the writer back at its
 * depth; or refused with an error naming the column and nothing written. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "tap/schema.h"
#include "tap/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const types[] = {
    "integer", "numeric", "double precision", "real", "boolean", "bit", "text", "date",
    "time without time zone", "time with time zone", "timestamp without time zone",
    "timestamp with time zone", "json", "jsonb", "hstore", "box", "mood",
};

#define NTYPES (sizeof types / sizeof types[0])

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t pick = data[0] % (2 * NTYPES);
    bool array = pick >= NTYPES;
    char sql_type[64];
    snprintf(sql_type, sizeof sql_type, "%s%s", types[pick % NTYPES], array ? "[]" : "");
    sl_tap_column c = {.name = "fuzzed", .sql_type = sql_type, .is_array = array,
                       .is_enum = strcmp(types[pick % NTYPES], "mood") == 0,
                       .has_char_max_length = true, .char_max_length = 1};
    if (data[0] & 0x80)
        sl_tap_value_prepare(&c);
    sl_buf out = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init(&w, &out);
    sl_jsonw_array_begin(&w);
    sl_jsonw_int(&w, 0);
    size_t before = out.len;
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_tap_value_write(&w, &c, (const char *)data + 1, size - 1, &err);
    if (w.depth != 1)
        abort();
    if (rc != 0) {
        if (out.len != before || !strstr(err.message, "column \"fuzzed\""))
            abort();
        sl_jsonw_null(&w);
    }
    sl_jsonw_array_end(&w);
    /* jansson takes no NUL in a key, which JSON allows (a json object's key "\u0000"): made
     * \u0001 for the check */
    for (char *p = out.data; (p = strstr(p, "\\u0000")) != NULL; p += 6)
        p[5] = '1';
    json_error_t jerr;
    json_t *doc = json_loadb(out.data, out.len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &jerr);
    /* an integer of a json document is written as it is, beyond what a double holds */
    bool too_big = !doc && (strstr(jerr.text, "overflow") || strstr(jerr.text, "too big"));
    if (!too_big && (!doc || json_array_size(doc) != 2))
        abort();
    json_decref(doc);
    sl_buf_free(&out);
    return 0;
}
