/* base/hex.c: see hex.h. */
#include "base/hex.h"

void
sl_hex_encode(char *out, const unsigned char *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        *out++ = digits[data[i] >> 4];
        *out++ = digits[data[i] & 15];
    }
}

void
sl_hex_append(sl_buf *b, const unsigned char *data, size_t len)
{
    sl_buf_reserve(b, len * 2);
    sl_hex_encode(b->data + b->len, data, len);
    b->len += len * 2;
    b->data[b->len] = '\0';
}

int
sl_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
