/* mysql/quote.c: see quote.h. */
#include "mysql/quote.h"

#include <string.h>

void
sl_mysql_put_ident(sl_buf *out, const char *name)
{
    sl_buf_putc(out, '`');
    for (const char *p = name; *p; p++) {
        if (*p == '`')
            sl_buf_putc(out, '`');
        sl_buf_putc(out, *p);
    }
    sl_buf_putc(out, '`');
}

void
sl_mysql_put_literal(sl_buf *out, const char *data, size_t len)
{
    sl_buf_reserve(out, len + 2);
    sl_buf_putc(out, '\'');
    size_t run = 0;  /* bytes copied as they are, appended in one go */
    for (size_t i = 0; i < len; i++) {
        const char *esc = NULL;
        switch (data[i]) {
        case '\0': esc = "\\0"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\\': esc = "\\\\"; break;
        case '\'': esc = "\\'"; break;
        case '"': esc = "\\\""; break;
        case '\032': esc = "\\Z"; break;
        default: continue;
        }
        sl_buf_append(out, data + run, i - run);
        sl_buf_append(out, esc, 2);
        run = i + 1;
    }
    sl_buf_append(out, data + run, len - run);
    sl_buf_putc(out, '\'');
}

void
sl_mysql_put_hex(sl_buf *out, const unsigned char *data, size_t len)
{
    static const char digits[] = "0123456789ABCDEF";
    if (len == 0) {
        sl_buf_puts(out, "''");
        return;
    }
    sl_buf_reserve(out, 2 * len + 3);
    sl_buf_puts(out, "0x");
    /* written in place: blobs of many megabytes pass through here */
    char *w = out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        *w++ = digits[data[i] >> 4];
        *w++ = digits[data[i] & 15];
    }
    *w = '\0';
    out->len += 2 * len;
}

bool
sl_mysql_is_number(const char *text, size_t len)
{
    if (len == 0 || len > 400)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789+-.eE", text[i]) || text[i] == '\0')
            return false;
    return true;
}
