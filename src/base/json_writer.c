/* base/json_writer.c: see json_writer.h. */
#include "base/json_writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void
sl_json_writer_init(sl_json_writer *w, sl_buf *out, int indent)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->indent = indent;
}

static void
newline(sl_json_writer *w)
{
    sl_buf_putc(w->out, '\n');
    for (int i = 0; i < w->depth * w->indent; i++)
        sl_buf_putc(w->out, ' ');
}

/* What goes before a value: nothing after a key, a separator between items. */
static void
before_value(sl_json_writer *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth == 0)
        return;
    bool *has = &w->has_items[w->depth - 1];
    if (*has)
        sl_buf_puts(w->out, w->indent > 0 ? "," : ", ");
    *has = true;
    if (w->indent > 0)
        newline(w);
}

static void
open_container(sl_json_writer *w, char c)
{
    before_value(w);
    sl_buf_putc(w->out, c);
    if (w->depth < SL_JSON_WRITER_MAX_DEPTH)
        w->has_items[w->depth] = false;
    w->depth++;
}

static void
close_container(sl_json_writer *w, char c)
{
    w->depth--;
    if (w->depth < SL_JSON_WRITER_MAX_DEPTH && w->has_items[w->depth] && w->indent > 0)
        newline(w);
    sl_buf_putc(w->out, c);
}

void
sl_json_writer_object(sl_json_writer *w)
{
    open_container(w, '{');
}

void
sl_json_writer_object_end(sl_json_writer *w)
{
    close_container(w, '}');
}

void
sl_json_writer_array(sl_json_writer *w)
{
    open_container(w, '[');
}

void
sl_json_writer_array_end(sl_json_writer *w)
{
    close_container(w, ']');
}

void
sl_json_writer_key(sl_json_writer *w, const char *key)
{
    before_value(w);
    sl_json_quote(w->out, key, strlen(key));
    sl_buf_puts(w->out, ": ");
    w->after_key = true;
}

void
sl_json_writer_string(sl_json_writer *w, const char *s)
{
    sl_json_writer_string_len(w, s, strlen(s));
}

void
sl_json_writer_string_len(sl_json_writer *w, const char *s, size_t len)
{
    before_value(w);
    sl_json_quote(w->out, s, len);
}

void
sl_json_writer_int(sl_json_writer *w, int64_t v)
{
    before_value(w);
    sl_buf_printf(w->out, "%" PRId64, v);
}

void
sl_json_writer_bool(sl_json_writer *w, bool v)
{
    before_value(w);
    sl_buf_puts(w->out, v ? "true" : "false");
}

void
sl_json_writer_null(sl_json_writer *w)
{
    before_value(w);
    sl_buf_puts(w->out, "null");
}

void
sl_json_writer_raw(sl_json_writer *w, const char *number)
{
    before_value(w);
    sl_buf_puts(w->out, number);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is not one. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* overlong forms, surrogates and code points past U+10FFFF are not UTF-8 */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void
sl_json_quote(sl_buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    sl_buf_putc(out, '"');
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        size_t n = utf8_len(p + i, len - i);
        if (n == 0) {
            sl_buf_puts(out, "\\ufffd");
            i++;
            continue;
        }
        if (n > 1) {
            sl_buf_append(out, p + i, n);
            i += n;
            continue;
        }
        switch (c) {
        case '"': sl_buf_puts(out, "\\\""); break;
        case '\\': sl_buf_puts(out, "\\\\"); break;
        case '\n': sl_buf_puts(out, "\\n"); break;
        case '\r': sl_buf_puts(out, "\\r"); break;
        case '\t': sl_buf_puts(out, "\\t"); break;
        case '\b': sl_buf_puts(out, "\\b"); break;
        case '\f': sl_buf_puts(out, "\\f"); break;
        default:
            if (c < 0x20 || c == 0x7f)
                sl_buf_printf(out, "\\u%04x", c);
            else
                sl_buf_putc(out, (char)c);
        }
        i++;
    }
    sl_buf_putc(out, '"');
}
