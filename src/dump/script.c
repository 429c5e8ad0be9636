/* dump/script.c: text written outside quotes in a backup script (script.h). */
#include "dump/script.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "base/hex.h"

void
sl_script_put_comment_text(sl_buf *out, const char *text)
{
    if (!text)
        return;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        switch (*p) {
        case '\\':
            sl_buf_puts(out, "\\\\");
            break;
        case '\n':
            sl_buf_puts(out, "\\n");
            break;
        case '\r':
            sl_buf_puts(out, "\\r");
            break;
        case '\t':
            sl_buf_puts(out, "\\t");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                char esc[5] = {'\\', 'x', 0, 0, '\0'};
                sl_hex_encode(esc + 2, p, 1);
                sl_buf_puts(out, esc);
            } else {
                sl_buf_putc(out, (char)*p);
            }
        }
    }
}

/* Bytes in the well-formed UTF-8 sequence at p (1 to 4), or 0 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF). */
static size_t
utf8_sequence(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
             : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
    unsigned char lo = 0x80, hi = 0xbf;  /* the second byte's range */
    if (p[0] == 0xe0)
        lo = 0xa0;
    else if (p[0] == 0xed)
        hi = 0x9f;
    else if (p[0] == 0xf0)
        lo = 0x90;
    else if (p[0] == 0xf4)
        hi = 0x8f;
    if (n == 0 || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

void
sl_script_put_utf8(sl_buf *out, const char *text)
{
    if (!text)
        return;
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        size_t n = utf8_sequence(p);
        if (n) {
            sl_buf_append(out, p, n);
            p += n;
        } else {
            char esc[5] = {'\\', 'x', 0, 0, '\0'};
            sl_hex_encode(esc + 2, p, 1);
            sl_buf_puts(out, esc);
            p++;
        }
    }
}

bool
sl_script_is_integer(const char *s)
{
    if (!s)
        return false;
    if (*s == '-')
        s++;
    size_t n = strspn(s, "0123456789");
    return n >= 1 && n <= 19 && s[n] == '\0';
}

bool
sl_script_is_word(const char *s)
{
    if (!s)
        return false;
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    return n >= 1 && n <= 63 && s[n] == '\0';
}

bool
sl_script_is_copy_row(const char *data, size_t len)
{
    return len >= 1 && data[len - 1] == '\n' && !memchr(data, '\n', len - 1) &&
           !memchr(data, '\r', len);
}

int
sl_script_restrict_key(char key[SL_SCRIPT_KEY_LEN + 1], sl_error *err)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t have = 0;
    while (have < SL_SCRIPT_KEY_LEN) {
        unsigned char bytes[SL_SCRIPT_KEY_LEN];
        ssize_t got = getrandom(bytes, sizeof bytes, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            sl_error_errno(err, SL_E_INTERNAL, errno,
                           "could not read random bytes for the \\restrict key");
            return -1;
        }
        /* 62 * 4 = 248: bytes from 248 up are dropped so that every character is as likely */
        for (ssize_t i = 0; i < got && have < SL_SCRIPT_KEY_LEN; i++)
            if (bytes[i] < 248)
                key[have++] = alphabet[bytes[i] % 62];
    }
    key[SL_SCRIPT_KEY_LEN] = '\0';
    return 0;
}
