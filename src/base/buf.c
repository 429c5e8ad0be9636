#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void
sl_buf_init(sl_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
sl_buf_free(sl_buf *b)
{
    free(b->data);
    sl_buf_init(b);
}

void
sl_buf_reset(sl_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void
sl_buf_reserve(sl_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = sl_realloc(b->data, cap);
    b->cap = cap;
}

void
sl_buf_append(sl_buf *b, const void *data, size_t len)
{
    sl_buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void
sl_buf_puts(sl_buf *b, const char *s)
{
    sl_buf_append(b, s, strlen(s));
}

void
sl_buf_putc(sl_buf *b, char c)
{
    /* JSON and text writers call this per byte: no copy call for one */
    if (b->len + 2 > b->cap)
        sl_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void
sl_buf_vprintf(sl_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n <= 0)
        return;
    sl_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void
sl_buf_printf(sl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *
sl_buf_steal(sl_buf *b)
{
    if (!b->data)
        sl_buf_puts(b, "");
    char *d = b->data;
    sl_buf_init(b);
    return d;
}
