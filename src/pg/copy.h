/* pg/copy.h: stream one table's rows out of (or into) PostgreSQL with COPY.
 * Reading:   sl_copy_reader_open() -> sl_copy_reader_next() until it returns 0 -> _close()
 * Writing:   sl_copy_writer_open() -> sl_copy_writer_put()* -> sl_copy_writer_end()
 *            (or sl_copy_writer_abort() to make the server discard what was sent)
 * Ownership: the reader and the writer borrow the sl_conn (the caller keeps it open for their
 *            lifetime and runs nothing else on it meanwhile). The chunk that _next() returns
 *            belongs to the reader and stays valid until the next call or _close(). Memory is
 *            bounded by one libpq buffer whatever the table size. _close() accepts NULL and,
 *            before the end of the stream, cancels the COPY and drains it so the connection
 *            is usable again. _end() and _abort() free the writer; exactly one of them is
 *            called after a successful _open(), and both accept NULL.
 * Errors:    -1 on failure with *err set (SL_E_SERVER with the SQLSTATE, or SL_E_CONNECT when
 *            the connection went away); otherwise 0 (for _next(): 1 = a chunk, 0 = end). */
#ifndef SL_PG_COPY_H
#define SL_PG_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "pg/conn.h"

typedef struct sl_copy_reader sl_copy_reader;
typedef struct sl_copy_writer sl_copy_writer;

/* Sends sql ("COPY ... TO STDOUT ...") and expects the server to start a COPY OUT. */
SL_MUSTCHECK int sl_copy_reader_open(sl_copy_reader **out, sl_conn *conn, const char *sql,
                                     sl_error *err);
/* Next chunk (one row in text/csv format): 1 = *data and *len set, 0 = end (the COPY completed
 * successfully), -1 = error. */
SL_MUSTCHECK int sl_copy_reader_next(sl_copy_reader *r, const char **data, size_t *len,
                                     sl_error *err);
/* Bytes returned by _next() so far. */
uint64_t sl_copy_reader_bytes(const sl_copy_reader *r);
/* Rows the server reported for the finished COPY (0 before _next() returned 0). */
uint64_t sl_copy_reader_rows(const sl_copy_reader *r);
void sl_copy_reader_close(sl_copy_reader *r);

/* Sends sql ("COPY ... FROM STDIN ...") and expects the server to start a COPY IN. */
SL_MUSTCHECK int sl_copy_writer_open(sl_copy_writer **out, sl_conn *conn, const char *sql,
                                     sl_error *err);
/* Queues data (any split of the stream: rows need not be whole) for the server. */
SL_MUSTCHECK int sl_copy_writer_put(sl_copy_writer *w, const void *data, size_t len,
                                    sl_error *err);
/* Ends the COPY and checks the server accepted every row (*rows = their count; rows may be
 * NULL); frees w. */
SL_MUSTCHECK int sl_copy_writer_end(sl_copy_writer *w, uint64_t *rows, sl_error *err);
/* Makes the server fail the COPY with reason (nothing is stored); frees w. */
void sl_copy_writer_abort(sl_copy_writer *w, const char *reason);

#endif
