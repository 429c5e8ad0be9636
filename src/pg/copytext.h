/* pg/copytext.h: PostgreSQL's COPY text format: values sluice writes itself, and rows it reads.
 *
 * Writing. COPY ... TO STDOUT produces this format for ordinary rows; the backup writes a row
 * itself only
 * when one of its values is too large to take from the server in one message (dump/widerow.c
 * streams such values in slices), and it must then write exactly what COPY would: columns
 * separated by a tab, rows ended by a newline, NULL as \N, and in values a backslash, newline,
 * carriage return, tab, backspace, form feed and vertical tab written as \\, \n, \r, \t, \b,
 * \f, \v. Every other byte, multi-byte characters included, is copied as is.
 *
 * Reading. sl_copyrow_parse() splits one row of COPY TO's text format (delimiter tab, NULL \N,
 * as PQgetCopyData returns it: one line ending in "\n") into fields and decodes them by the
 * server's COPY FROM rules: a field whose raw text is exactly \N is NULL (\\N is the text
 * "\N"); \b \f \n \r \t \v are the control bytes; \ followed by 1-3 octal digits is the byte
 * of that value (modulo 256), \x followed by 1-2 hex digits likewise; a backslash before any
 * other byte (a tab included) stands for that byte. The server never sends a NUL byte in text,
 * so an escape that decodes to 0 is refused as malformed. A raw carriage return or newline
 * before the final one (COPY TO never writes one) is kept as data. Bytes are not checked
 * against any encoding: multi-byte characters pass through as they are.
 *   Order:     sl_copyrow_init() (or SL_COPYROW_INIT) -> sl_copyrow_parse()* -> _free().
 *   Ownership: after a successful parse, row->fields[0..row->nfields) describe the fields. A
 *              field without a backslash points into the caller's line (no copy); a decoded
 *              one points into the row's own buffer. Both stay valid until the next parse or
 *              _free(), and the former only while the line does. The row's memory is bounded
 *              by the largest line and field count it has parsed; it never grows across rows
 *              beyond that.
 *   Errors:    -1 with SL_E_SERVER for a line without its final newline, and naming the field
 *              (counted from 1) for a field count other than expected, a backslash with nothing
 *              after it, an escape decoding to a NUL byte; nfields is then 0. */
#ifndef SL_PG_COPYTEXT_H
#define SL_PG_COPYTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"

#define SL_COPYTEXT_NULL "\\N"

/* Appends data[0..len) escaped for a COPY text field. */
void sl_copytext_escape(sl_buf *out, const char *data, size_t len);
/* Appends the COPY text of a bytea given as raw bytes: "\\x" then lower-case hex. With
 * continued=true only the hex is appended (the next slice of the same value). */
void sl_copytext_bytea(sl_buf *out, const unsigned char *data, size_t len, int continued);

/* One field of a parsed row. data is NULL (and len 0) when is_null. */
typedef struct sl_copyfield {
    const char *data;
    size_t len;
    bool is_null;
} sl_copyfield;

/* A reusable decoder of rows. The struct is public so that readers use .fields directly. */
typedef struct sl_copyrow {
    sl_copyfield *fields;  /* nfields of them after a successful parse */
    size_t nfields;
    size_t cap;            /* fields allocated */
    sl_buf decoded;        /* the bytes of fields that held a backslash */
} sl_copyrow;

#define SL_COPYROW_INIT {NULL, 0, 0, SL_BUF_INIT}

void sl_copyrow_init(sl_copyrow *row);
void sl_copyrow_free(sl_copyrow *row);
/* Parses line[0..len) (the row with its final "\n") into exactly expected_fields fields. With
 * expected_fields 0 the line must be "\n" alone (a row of a table without columns); with 1,
 * "\n" is one empty field. 0 on success, -1 with *err set. */
SL_MUSTCHECK int sl_copyrow_parse(sl_copyrow *row, const char *line, size_t len,
                                  size_t expected_fields, sl_error *err);

#endif
