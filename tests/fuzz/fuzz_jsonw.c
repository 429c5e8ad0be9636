/* libFuzzer target for base/jsonw (values from a database written as JSON): whatever the bytes
 * of a string, the output is JSON that jansson reads and valid UTF-8 (checked here by a decoder
 * of code points, not by the writer's ranges); well-formed input reads back byte for byte with
 * nothing replaced; otherwise every replacement written is counted. The same bytes as a number
 * are written only when they are one (and then jansson reads them), else nothing is written. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Valid UTF-8, decoded to code points: no overlong form, surrogate or value past U+10FFFF. */
static bool
valid_utf8(const unsigned char *s, size_t n)
{
    static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = c >= 0xf8 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        if (!len || i + len > n)
            return false;
        uint32_t cp = c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* How many U+FFFD are in s[0..n)? */
static size_t
count_fffd(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i + 3 <= n; i++)
        count += memcmp(s + i, "\xef\xbf\xbd", 3) == 0;
    return count;
}

static void
check_string(const char *in, size_t size)
{
    sl_buf out = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init(&w, &out);
    sl_jsonw_array_begin(&w);
    sl_jsonw_string(&w, in, size);
    sl_jsonw_array_end(&w);
    if (!valid_utf8((const unsigned char *)out.data, out.len))
        abort();
    json_error_t jerr;
    json_t *doc = json_loadb(out.data, out.len, JSON_ALLOW_NUL, &jerr);
    if (!doc || json_array_size(doc) != 1)
        abort();
    json_t *v = json_array_get(doc, 0);
    const char *got = json_string_value(v);
    size_t len = json_string_length(v);
    if (valid_utf8((const unsigned char *)in, size)) {
        if (w.replaced != 0 || len != size || memcmp(got, in, size) != 0)
            abort();
    } else if (w.replaced == 0 || count_fffd(got, len) != count_fffd(in, size) + w.replaced) {
        abort();
    }
    json_decref(doc);
    sl_buf_free(&out);
}

static void
check_number(const char *in, size_t size)
{
    sl_buf out = SL_BUF_INIT;
    sl_jsonw w;
    sl_jsonw_init(&w, &out);
    if (sl_jsonw_number(&w, in, size) != 0) {
        if (out.len != 0)
            abort();  /* a refused number wrote something */
    } else {
        if (out.len != size || memcmp(out.data, in, size) != 0)
            abort();
        /* jansson refuses numbers too large for a double or a long long: keep to short ones */
        if (size <= 15 && !memchr(in, 'e', size) && !memchr(in, 'E', size)) {
            json_error_t jerr;
            json_t *doc = json_loadb(out.data, out.len, JSON_DECODE_ANY, &jerr);
            if (!doc || !json_is_number(doc))
                abort();
            json_decref(doc);
        }
    }
    sl_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_string((const char *)data, size);
    check_number((const char *)data, size);
    return 0;
}
