#include "pg/copytext.h"

#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/mem.h"

/* The escape letter for a byte COPY writes as a backslash sequence, or 0. */
static char
escape_letter(unsigned char c)
{
    switch (c) {
    case '\\': return '\\';
    case '\n': return 'n';
    case '\r': return 'r';
    case '\t': return 't';
    case '\b': return 'b';
    case '\f': return 'f';
    case '\v': return 'v';
    }
    return 0;
}

void
sl_copytext_escape(sl_buf *out, const char *data, size_t len)
{
    size_t start = 0;
    sl_buf_reserve(out, len);
    for (size_t i = 0; i < len; i++) {
        char e = escape_letter((unsigned char)data[i]);
        if (!e)
            continue;
        sl_buf_append(out, data + start, i - start);
        char pair[2] = {'\\', e};
        sl_buf_append(out, pair, 2);
        start = i + 1;
    }
    sl_buf_append(out, data + start, len - start);
}

void
sl_copytext_bytea(sl_buf *out, const unsigned char *data, size_t len, int continued)
{
    if (!continued)
        sl_buf_append(out, "\\\\x", 3);  /* bytea's "\x" with its backslash escaped */
    sl_hex_append(out, data, len);
}

/* Decoding. The line is split with memchr, which is much faster than a byte loop on long
 * fields: bs caches the next backslash so that each byte is searched for one at most once
 * whatever the number of fields, and a field that holds none is not copied at all. */
typedef struct {
    const char *p;    /* the first byte not yet split */
    const char *end;  /* the final newline */
    const char *bs;   /* the next backslash at or after p, or end */
    char *out;        /* where decoded bytes go: reserved for the whole line, never moves */
} scan;

static const char *
find(const char *p, const char *end, char c)
{
    const char *q = memchr(p, c, (size_t)(end - p));
    return q ? q : end;
}

/* Moves past a field that stops at stop (a tab or the end): 1 when a field follows, 0 at the
 * end of the row. */
static int
step(scan *s, const char *stop)
{
    s->p = stop == s->end ? stop : stop + 1;
    if (s->bs < s->p)
        s->bs = find(s->p, s->end, '\\');
    return stop == s->end ? 0 : 1;
}

/* Up to max more digits of base (8 or 16) after the first value v; the value modulo 256, as
 * the server keeps the low byte of "\777". */
static int
more_digits(const char **pp, const char *end, int v, int base, int max)
{
    const char *p = *pp;
    for (int k = 0; k < max && p < end; k++, p++) {
        int d = base == 8 ? (*p >= '0' && *p <= '7' ? *p - '0' : -1) : sl_hex_digit(*p);
        if (d < 0)
            break;
        v = v * base + d;
    }
    *pp = p;
    return v & 0xff;
}

/* The byte that the escape at *pp (a backslash with at least one byte after it) stands for;
 * moves *pp past the escape. */
static int
unescape(const char **pp, const char *end)
{
    const char *p = *pp + 1;
    char c = *p++;
    int v = (unsigned char)c;
    if (c >= '0' && c <= '7')
        v = more_digits(&p, end, c - '0', 8, 2);
    else if (c == 'x' && p < end && sl_hex_digit(*p) >= 0)  /* "\x" without a digit is "x" */
        v = more_digits(&p, end, 0, 16, 2);
    else {
        static const char from[] = "bfnrtv", to[] = "\b\f\n\r\t\v";
        const char *k = strchr(from, c);
        if (c && k)
            v = to[k - from];
    }
    *pp = p;
    return v;
}

/* Decodes a field that holds a backslash (s->bs is before tab, the first tab or the end) into
 * s->out. */
static int
decode_field(scan *s, const char *tab, sl_copyfield *f, size_t num, sl_error *err)
{
    char *start = s->out;
    const char *p = s->p;
    for (;;) {
        const char *stop = s->bs < tab ? s->bs : tab;
        memcpy(s->out, p, (size_t)(stop - p));
        s->out += stop - p;
        p = stop;
        if (p == tab)
            break;
        if (p + 1 == s->end) {
            sl_error_set(err, SL_E_SERVER, "COPY row field %zu: a backslash ends the row", num);
            return -1;
        }
        int c = unescape(&p, s->end);
        if (c == 0) {
            sl_error_set(err, SL_E_SERVER, "COPY row field %zu: an escape decodes to a NUL byte",
                         num);
            return -1;
        }
        *s->out++ = (char)c;
        s->bs = find(p, s->end, '\\');
        if (tab < p)  /* the escape was a backslash and a tab: a tab in the value */
            tab = find(p, s->end, '\t');
    }
    *f = (sl_copyfield){start, (size_t)(s->out - start), false};
    s->p = p;
    return step(s, tab);
}

/* Splits off the next field: 1 when another follows, 0 at the end of the row, -1 on error. */
static int
next_field(scan *s, sl_copyfield *f, size_t num, sl_error *err)
{
    const char *tab = find(s->p, s->end, '\t');
    if (s->bs >= tab) {
        *f = (sl_copyfield){s->p, (size_t)(tab - s->p), false};
        return step(s, tab);
    }
    /* NULL is decided on the raw text, before any unescaping */
    const char *p = s->p;
    if (tab - p == 2 && p[0] == '\\' && p[1] == 'N') {
        *f = (sl_copyfield){NULL, 0, true};
        return step(s, tab);
    }
    return decode_field(s, tab, f, num, err);
}

void
sl_copyrow_init(sl_copyrow *row)
{
    *row = (sl_copyrow)SL_COPYROW_INIT;
}

void
sl_copyrow_free(sl_copyrow *row)
{
    free(row->fields);
    sl_buf_free(&row->decoded);
    sl_copyrow_init(row);
}

/* Room for the fields: no more than expected, nor than the line can hold (one byte each). */
static void
reserve_fields(sl_copyrow *row, size_t expected, size_t len)
{
    size_t need = expected < len ? expected : len;
    if (need <= row->cap)
        return;
    row->fields = sl_realloc(row->fields, need * sizeof *row->fields);
    row->cap = need;
}

int
sl_copyrow_parse(sl_copyrow *row, const char *line, size_t len, size_t expected_fields,
                 sl_error *err)
{
    row->nfields = 0;
    if (len == 0 || line[len - 1] != '\n') {
        sl_error_set(err, SL_E_SERVER, "COPY row does not end with a newline");
        return -1;
    }
    if (expected_fields == 0 && len == 1)
        return 0;  /* a row of a table without columns */
    reserve_fields(row, expected_fields, len);
    sl_buf_reset(&row->decoded);
    sl_buf_reserve(&row->decoded, len);
    scan s = {line, line + len - 1, NULL, row->decoded.data};
    s.bs = find(s.p, s.end, '\\');
    for (size_t i = 0;; i++) {
        if (i == expected_fields) {
            sl_error_set(err, SL_E_SERVER, "COPY row field %zu: more fields than the %zu expected",
                         i + 1, expected_fields);
            return -1;
        }
        int more = next_field(&s, &row->fields[i], i + 1, err);
        if (more < 0)
            return -1;
        if (!more) {
            row->nfields = i + 1;
            break;
        }
    }
    if (row->nfields != expected_fields) {
        sl_error_set(err, SL_E_SERVER, "COPY row ends after field %zu, expected %zu fields",
                     row->nfields, expected_fields);
        row->nfields = 0;
        return -1;
    }
    row->decoded.len = (size_t)(s.out - row->decoded.data);
    row->decoded.data[row->decoded.len] = '\0';  /* sl_buf's promise */
    return 0;
}
