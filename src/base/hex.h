/* base/hex.h: bytes as lower-case hexadecimal, two digits a byte (bytea's \x form, large-object
 * contents, SHA-256 digests), and the value of a digit read back. */
#ifndef SL_BASE_HEX_H
#define SL_BASE_HEX_H

#include <stddef.h>

#include "base/buf.h"

/* Writes 2 * len digits to out (no NUL). */
void sl_hex_encode(char *out, const unsigned char *data, size_t len);
/* Appends 2 * len digits to b (which stays NUL-terminated). */
void sl_hex_append(sl_buf *b, const unsigned char *data, size_t len);
/* The value of one hexadecimal digit of either case, or -1 for any other character. */
int sl_hex_digit(char c);

#endif
