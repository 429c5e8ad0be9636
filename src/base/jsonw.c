#include "base/jsonw.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char replacement[] = "\xef\xbf\xbd";

/* The escape letter of a control byte JSON has a short form for, or 0. */
static char
short_escape(unsigned char c)
{
    switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '\n': return 'n';
    case '\r': return 'r';
    case '\t': return 't';
    case '\b': return 'b';
    case '\f': return 'f';
    }
    return 0;
}

/* Bytes copied as they are: printable ASCII but the quote and the backslash. */
static bool
plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Are the 8 bytes at s all plain? Word-at-a-time: a byte below 0x20, a quote or a backslash
 * sets its high bit in one of the terms (the classic "has a zero byte" trick), a byte of
 * 0x80 or more has it already. Most text is long runs of plain bytes. */
static bool
plain8(const char *s)
{
    uint64_t x;
    memcpy(&x, s, 8);
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    uint64_t low = (x - ONES * 0x20) & ~x;
    uint64_t quote = (q - ONES) & ~q, bslash = (b - ONES) & ~b;
    return ((low | quote | bslash | x) & HIGHS) == 0;
}

/* The length of the well-formed UTF-8 sequence that starts at s[0] (a byte >= 0x80), or 0 with
 * *bad set to the length of its maximal ill-formed subpart (what one U+FFFD replaces). The
 * ranges are those of Unicode's table of well-formed byte sequences: they leave out overlong
 * forms (C0, C1, E0 80-9F, F0 80-8F), surrogates (ED A0-BF) and code points above U+10FFFF
 * (F4 90-BF, F5-FF). */
static size_t
utf8_sequence(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t need;
    if (c >= 0xc2 && c <= 0xdf)
        need = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        *bad = 1;
        return 0;
    }
    for (size_t k = 1; k < need; k++, lo = 0x80, hi = 0xbf) {
        if (k >= n || s[k] < lo || s[k] > hi) {
            *bad = k;
            return 0;
        }
    }
    return need;
}

static void
put_escape(sl_buf *b, unsigned char c)
{
    char e = short_escape(c);
    if (e) {
        char pair[2] = {'\\', e};
        sl_buf_append(b, pair, 2);
    } else {
        sl_buf_printf(b, "\\u%04x", c);
    }
}

/* Appends s[0..len) as the inside of a JSON string (no quotes). Runs of bytes that need
 * nothing (plain ASCII and well-formed UTF-8) are appended at once. */
static void
put_chars(sl_jsonw *w, const char *s, size_t len)
{
    sl_buf *b = w->out;
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0, i = 0;
    sl_buf_reserve(b, len + 2);
    while (i < len) {
        if (i + 8 <= len && plain8(s + i)) {
            i += 8;
            continue;
        }
        if (plain(u[i])) {
            i++;
            continue;
        }
        size_t bad = 0;
        if (u[i] >= 0x80) {
            size_t n = utf8_sequence(u + i, len - i, &bad);
            if (n) {
                i += n;
                continue;
            }
        }
        sl_buf_append(b, s + run, i - run);
        if (bad) {
            sl_buf_append(b, replacement, 3);
            w->replaced++;
            i += bad;
        } else {
            put_escape(b, u[i++]);
        }
        run = i;
    }
    sl_buf_append(b, s + run, i - run);
}

/* Writes s[0..len) as a JSON string. */
static void
put_string(sl_jsonw *w, const char *s, size_t len)
{
    sl_buf_reserve(w->out, len + 2);
    sl_buf_putc(w->out, '"');
    put_chars(w, s, len);
    sl_buf_putc(w->out, '"');
}

#ifndef NDEBUG  /* only assert() uses it */
static bool
in_object(const sl_jsonw *w)
{
    return w->depth > 0 && (w->in_object >> (w->depth - 1) & 1);
}
#endif

/* A line break and the indentation of level depth (python layout with an indent). */
static void
new_line(sl_jsonw *w, unsigned depth)
{
    size_t n = (size_t)w->indent * depth;
    sl_buf_reserve(w->out, n + 1);
    sl_buf_putc(w->out, '\n');
    memset(w->out->data + w->out->len, ' ', n);
    w->out->len += n;
    w->out->data[w->out->len] = '\0';
}

/* What comes before a member or an element inside a container: a comma after the first, and
 * in the python layout a blank or a new line. */
static void
separate(sl_jsonw *w)
{
    if (w->need_comma)
        sl_buf_putc(w->out, ',');
    if (w->python && w->indent > 0)
        new_line(w, w->depth);
    else if (w->python && w->need_comma)
        sl_buf_putc(w->out, ' ');
}

/* What comes before a value: nothing after a key or at the top level, else a separator. */
static void
before_value(sl_jsonw *w)
{
    assert(!in_object(w) || w->after_key);  /* a value in an object needs its key */
    if (w->after_key)
        w->after_key = false;
    else if (w->depth > 0)
        separate(w);
    w->need_comma = true;
}

static void
begin(sl_jsonw *w, char open, bool object)
{
    before_value(w);
    assert(w->depth < SL_JSONW_MAX_DEPTH);
    sl_buf_putc(w->out, open);
    uint64_t bit = (uint64_t)1 << w->depth;
    w->in_object = object ? w->in_object | bit : w->in_object & ~bit;
    w->depth++;
    w->need_comma = false;
}

static void
end(sl_jsonw *w, char close, bool object)
{
    assert(w->depth > 0 && in_object(w) == object && !w->after_key);
    (void)object;
    if (w->python && w->indent > 0 && w->need_comma)  /* not empty: the close on its own line */
        new_line(w, w->depth - 1);
    sl_buf_putc(w->out, close);
    w->depth--;
    w->need_comma = true;
}

void
sl_jsonw_init(sl_jsonw *w, sl_buf *out)
{
    *w = (sl_jsonw){.out = out};
}

void
sl_jsonw_init_python(sl_jsonw *w, sl_buf *out, int indent)
{
    *w = (sl_jsonw){.out = out, .python = true, .indent = indent > 0 ? indent : 0};
}

void
sl_jsonw_object_begin(sl_jsonw *w)
{
    begin(w, '{', true);
}

void
sl_jsonw_object_end(sl_jsonw *w)
{
    end(w, '}', true);
}

void
sl_jsonw_array_begin(sl_jsonw *w)
{
    begin(w, '[', false);
}

void
sl_jsonw_array_end(sl_jsonw *w)
{
    end(w, ']', false);
}

void
sl_jsonw_key(sl_jsonw *w, const char *s, size_t len)
{
    assert(in_object(w) && !w->after_key);
    separate(w);
    put_string(w, s, len);
    sl_buf_puts(w->out, w->python ? ": " : ":");
    w->after_key = true;
}

void
sl_jsonw_keyz(sl_jsonw *w, const char *s)
{
    sl_jsonw_key(w, s, strlen(s));
}

void
sl_jsonw_string(sl_jsonw *w, const char *s, size_t len)
{
    before_value(w);
    put_string(w, s, len);
}

void
sl_jsonw_stringz(sl_jsonw *w, const char *s)
{
    sl_jsonw_string(w, s, strlen(s));
}

static size_t
skip_digits(const char *s, size_t len, size_t i)
{
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

bool
sl_jsonw_is_number(const char *s, size_t len)
{
    size_t i = 0, j;
    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0')
        i++;
    else if (i < len && s[i] >= '1' && s[i] <= '9')
        i = skip_digits(s, len, i);
    else
        return false;
    if (i < len && s[i] == '.') {
        if ((j = skip_digits(s, len, i + 1)) == i + 1)
            return false;  /* "1." */
        i = j;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if ((j = skip_digits(s, len, i)) == i)
            return false;  /* "1e" */
        i = j;
    }
    return i == len;
}

int
sl_jsonw_number(sl_jsonw *w, const char *s, size_t len)
{
    if (!sl_jsonw_is_number(s, len))
        return -1;
    before_value(w);
    sl_buf_append(w->out, s, len);
    return 0;
}

void
sl_jsonw_int(sl_jsonw *w, int64_t v)
{
    before_value(w);
    sl_buf_printf(w->out, "%" PRId64, v);
}

void
sl_jsonw_bool(sl_jsonw *w, bool v)
{
    before_value(w);
    sl_buf_puts(w->out, v ? "true" : "false");
}

void
sl_jsonw_null(sl_jsonw *w)
{
    before_value(w);
    sl_buf_puts(w->out, "null");
}

void
sl_jsonw_raw_begin(sl_jsonw *w)
{
    before_value(w);
}

void
sl_jsonw_raw_string(sl_jsonw *w, const char *s, size_t len)
{
    put_string(w, s, len);
}

void
sl_jsonw_raw_chars(sl_jsonw *w, const char *s, size_t len)
{
    put_chars(w, s, len);
}
