#include "base/escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

/* Length of the valid UTF-8 sequence at p (1..4) with its code point in *cp, or 0 when the
 * bytes there are not one: overlong forms, surrogates and code points above U+10FFFF are not. */
static size_t
utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Characters that act on a terminal or on how a line reads, beyond C0 and DEL. */
static bool
is_special_unicode(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static void
put_hex_byte(sl_buf *out, unsigned char c)
{
    char tmp[8];
    snprintf(tmp, sizeof tmp, "\\x%02x", c);
    sl_buf_puts(out, tmp);
}

/* Upper-case hex in JSON, as jansson writes its own \u escapes. */
static void
put_unicode(sl_buf *out, uint32_t cp, bool upper)
{
    char tmp[16];
    snprintf(tmp, sizeof tmp, upper ? "\\u%04X" : "\\u%04x", (unsigned)cp);
    sl_buf_puts(out, tmp);
}

static void
put_control(sl_buf *out, unsigned char c)
{
    switch (c) {
    case '\n': sl_buf_puts(out, "\\n"); return;
    case '\r': sl_buf_puts(out, "\\r"); return;
    case '\t': sl_buf_puts(out, "\\t"); return;
    case 0x1b: sl_buf_puts(out, "\\e"); return;
    }
    put_hex_byte(out, c);
}

void
sl_escape_text(sl_buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    sl_buf_reserve(out, len);
    size_t i = 0;
    while (i < len) {
        size_t run = i;  /* plain printable ASCII is copied in one piece */
        while (run < len && p[run] >= 0x20 && p[run] < 0x7f)
            run++;
        sl_buf_append(out, p + i, run - i);
        i = run;
        if (i >= len)
            break;
        uint32_t cp;
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0) {
            put_hex_byte(out, p[i]);
            n = 1;
        } else if (cp < 0x20 || cp == 0x7f) {
            put_control(out, p[i]);
        } else if (is_special_unicode(cp)) {
            put_unicode(out, cp, false);
        } else {
            sl_buf_append(out, p + i, n);
        }
        i += n;
    }
    sl_buf_append(out, "", 0);  /* NUL-terminated even when nothing was appended */
}

void
sl_escape_utf8(sl_buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    sl_buf_reserve(out, len);
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0) {
            put_hex_byte(out, p[i]);
            n = 1;
        } else {
            sl_buf_append(out, p + i, n);
        }
        i += n;
    }
    sl_buf_append(out, "", 0);  /* NUL-terminated even when nothing was appended */
}

void
sl_escape_json(sl_buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    sl_buf_reserve(out, len);
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0) {  /* not expected from a JSON writer: U+FFFD keeps the JSON valid */
            sl_buf_puts(out, "\\uFFFD");
            n = 1;
        } else if (cp == 0x7f || is_special_unicode(cp)) {
            put_unicode(out, cp, true);
        } else {
            sl_buf_append(out, p + i, n);
        }
        i += n;
    }
    sl_buf_append(out, "", 0);  /* NUL-terminated even when nothing was appended */
}

char *
sl_escape_dup(const char *s)
{
    if (!s)
        return NULL;
    sl_buf b = SL_BUF_INIT;
    sl_escape_text(&b, s, strlen(s));
    return sl_buf_steal(&b);
}

json_t *
sl_escape_json_string(const char *s)
{
    if (!s)
        return json_null();
    sl_buf b = SL_BUF_INIT;
    sl_escape_utf8(&b, s, strlen(s));
    json_t *j = json_stringn(b.data, b.len);
    sl_buf_free(&b);
    return j ? j : json_string("");
}

char *
sl_escape_json_dumps(const json_t *doc, size_t flags)
{
    char *text = json_dumps(doc, flags);
    if (!text)
        return NULL;
    sl_buf b = SL_BUF_INIT;
    sl_escape_json(&b, text, strlen(text));
    free(text);
    return sl_buf_steal(&b);
}
