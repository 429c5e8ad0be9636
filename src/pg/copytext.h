/* pg/copytext.h: PostgreSQL's COPY text format, for values sluice writes itself.
 * COPY ... TO STDOUT produces this format for ordinary rows; the backup writes a row itself only
 * when one of its values is too large to take from the server in one message (dump/widerow.c
 * streams such values in slices), and it must then write exactly what COPY would: columns
 * separated by a tab, rows ended by a newline, NULL as \N, and in values a backslash, newline,
 * carriage return, tab, backspace, form feed and vertical tab written as \\, \n, \r, \t, \b,
 * \f, \v. Every other byte, multi-byte characters included, is copied as is. */
#ifndef SL_PG_COPYTEXT_H
#define SL_PG_COPYTEXT_H

#include <stddef.h>

#include "base/buf.h"

#define SL_COPYTEXT_NULL "\\N"

/* Appends data[0..len) escaped for a COPY text field. */
void sl_copytext_escape(sl_buf *out, const char *data, size_t len);
/* Appends the COPY text of a bytea given as raw bytes: "\\x" then lower-case hex. With
 * continued=true only the hex is appended (the next slice of the same value). */
void sl_copytext_bytea(sl_buf *out, const unsigned char *data, size_t len, int continued);

#endif
