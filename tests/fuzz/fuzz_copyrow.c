/* libFuzzer target for pg/copytext's row decoder (rows of COPY TO text, from a server): whatever
 * the bytes of a line, sl_copyrow_parse() reads no byte outside it and agrees with a plain
 * byte-by-byte decoder written here from the COPY text rules (same fields, or an error for
 * both); and where it succeeds, the fields written back with sl_copytext_escape() parse to the
 * same fields, and writing those again gives the same line (escape(parse(x)) is stable). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/error.h"
#include "pg/copytext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    sl_buf bytes;   /* every field's bytes, one after the other */
    size_t *lens;   /* SIZE_MAX for NULL */
    size_t n;
} fields;

static int
digit(char c, int base)
{
    int d = c >= '0' && c <= '9' ? c - '0'
          : c >= 'a' && c <= 'f' ? c - 'a' + 10
          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;
    return d < base ? d : -1;
}

/* One escape at p[i] == '\\' (i + 1 < n): the byte, and i moved past it. */
static int
ref_escape(const char *p, size_t n, size_t *i)
{
    char c = p[++*i];
    (*i)++;
    if (digit(c, 8) >= 0) {
        int v = digit(c, 8);
        for (int k = 0; k < 2 && *i < n && digit(p[*i], 8) >= 0; k++)
            v = v * 8 + digit(p[(*i)++], 8);
        return v % 256;
    }
    if (c == 'x' && *i < n && digit(p[*i], 16) >= 0) {
        int v = digit(p[(*i)++], 16);
        if (*i < n && digit(p[*i], 16) >= 0)
            v = v * 16 + digit(p[(*i)++], 16);
        return v;
    }
    switch (c) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    }
    return (unsigned char)c;
}

/* The reference: p[0..n) is the line without its newline. 0, or -1 for a malformed line. */
static int
ref_parse(const char *p, size_t n, fields *out)
{
    size_t i = 0;
    out->n = 0;
    sl_buf_reset(&out->bytes);
    sl_buf_reserve(&out->bytes, n);  /* data is never NULL, even for an empty line */
    for (;;) {
        size_t raw = i, before = out->bytes.len;
        while (i < n && p[i] != '\t') {
            if (p[i] != '\\') {
                sl_buf_putc(&out->bytes, p[i++]);
                continue;
            }
            if (i + 1 == n)
                return -1;
            int c = ref_escape(p, n, &i);
            if (c == 0)
                return -1;
            sl_buf_putc(&out->bytes, (char)c);
        }
        bool null = i - raw == 2 && p[raw] == '\\' && p[raw + 1] == 'N';
        if (null)
            out->bytes.len = before;  /* the "N" decoded from "\\N" is not data */
        out->lens[out->n++] = null ? SIZE_MAX : out->bytes.len - before;
        if (i == n)
            return 0;
        i++;
    }
}

/* Does row hold exactly the fields f? */
static bool
same(const sl_copyrow *row, const fields *f)
{
    if (row->nfields != f->n)
        return false;
    size_t off = 0;
    for (size_t k = 0; k < f->n; k++) {
        const sl_copyfield *g = &row->fields[k];
        if (f->lens[k] == SIZE_MAX) {
            if (!g->is_null || g->data)
                return false;
            continue;
        }
        if (g->is_null || g->len != f->lens[k] || memcmp(g->data, f->bytes.data + off, g->len))
            return false;
        off += g->len;
    }
    return true;
}

/* The row written back as COPY would write it. */
static void
write_row(const sl_copyrow *row, sl_buf *out)
{
    sl_buf_reset(out);
    for (size_t k = 0; k < row->nfields; k++) {
        if (k)
            sl_buf_putc(out, '\t');
        if (row->fields[k].is_null)
            sl_buf_puts(out, SL_COPYTEXT_NULL);
        else
            sl_copytext_escape(out, row->fields[k].data, row->fields[k].len);
    }
    sl_buf_putc(out, '\n');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the line in an allocation of its own size, so that ASan sees a read past it */
    char *line = malloc(size + 1);
    if (size)
        memcpy(line, data, size);
    line[size] = '\n';
    fields ref = {SL_BUF_INIT, malloc((size + 1) * sizeof(size_t)), 0};
    sl_copyrow row = SL_COPYROW_INIT, again = SL_COPYROW_INIT;
    sl_buf back = SL_BUF_INIT, twice = SL_BUF_INIT;
    sl_error err;

    size_t tabs = 0;
    for (size_t i = 0; i < size; i++)
        tabs += data[i] == '\t';
    int ok = ref_parse(line, size, &ref) == 0;
    size_t expected = ok ? ref.n : tabs + 1;
    if ((sl_copyrow_parse(&row, line, size + 1, expected, &err) == 0) != ok)
        abort();  /* the two decoders disagree on whether the line is well formed */
    if (ok && !same(&row, &ref))
        abort();
    if (ok) {
        write_row(&row, &back);
        if (sl_copyrow_parse(&again, back.data, back.len, row.nfields, &err) != 0)
            abort();
        if (!same(&again, &ref))
            abort();
        write_row(&again, &twice);
        if (twice.len != back.len || memcmp(twice.data, back.data, back.len) != 0)
            abort();
    }
    sl_buf_free(&back);
    sl_buf_free(&twice);
    sl_copyrow_free(&again);
    sl_copyrow_free(&row);
    sl_buf_free(&ref.bytes);
    free(ref.lens);
    free(line);
    return 0;
}
