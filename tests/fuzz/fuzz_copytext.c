/* libFuzzer target for pg/copytext (values written as COPY text when the backup writes a row
 * itself): whatever bytes a server sends as a value, the field holds no raw tab, newline,
 * carriage return or unescaped backslash (nothing that could end the field or the row, or the
 * COPY data), and reading it back as COPY would gives the bytes unchanged; the same for a
 * bytea written in slices. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "pg/copytext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* COPY text's field decoding, for the escapes sl_copytext_escape() writes. */
static void
unescape(const char *p, size_t n, sl_buf *out)
{
    static const char from[] = "\\nrtbfv", to[] = "\\\n\r\t\b\f\v";
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n' || p[i] == '\r' || p[i] == '\t')
            abort();  /* a raw separator inside a field */
        if (p[i] != '\\') {
            sl_buf_putc(out, p[i]);
            continue;
        }
        const char *k = i + 1 < n ? strchr(from, p[i + 1]) : NULL;
        if (!k || !*k)
            abort();  /* a backslash that COPY would read as something else */
        sl_buf_putc(out, to[k - from]);
        i++;
    }
}

static int
hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_buf field = SL_BUF_INIT, back = SL_BUF_INIT;
    sl_copytext_escape(&field, (const char *)data, size);
    unescape(field.data, field.len, &back);
    if (back.len != size || (size && memcmp(back.data, data, size) != 0))
        abort();

    /* bytea in two slices: "\\x" (the backslash escaped) then lower-case hex */
    size_t cut = size ? data[0] % (size + 1) : 0;
    sl_buf_reset(&field);
    sl_copytext_bytea(&field, data, cut, 0);
    sl_copytext_bytea(&field, data + cut, size - cut, 1);
    if (field.len != 3 + 2 * size || memcmp(field.data, "\\\\x", 3) != 0)
        abort();
    for (size_t i = 0; i < size; i++) {
        int hi = hex(field.data[3 + 2 * i]), lo = hex(field.data[4 + 2 * i]);
        if (hi < 0 || lo < 0 || (uint8_t)(hi << 4 | lo) != data[i])
            abort();
    }
    sl_buf_free(&field);
    sl_buf_free(&back);
    return 0;
}
