/* mysql/quote.c: see quote.h. */
#include "mysql/quote.h"

#include <string.h>

void
sl_mysql_quote_ident(sl_buf *out, const char *name)
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
sl_mysql_quote_literal(sl_mysql *c, sl_buf *out, const char *value)
{
    size_t len = strlen(value);
    sl_buf_reserve(out, 2 * len + 3);
    out->data[out->len++] = '\'';
    out->len += mysql_real_escape_string(sl_mysql_handle(c), out->data + out->len, value,
                                         (unsigned long)len);
    out->data[out->len++] = '\'';
    out->data[out->len] = '\0';
}
