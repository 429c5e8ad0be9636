#include "pg/copytext.h"

#include <string.h>

#include "base/hex.h"

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
