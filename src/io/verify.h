/* io/verify.h: check a backup file end to end without a server.
 * sl_verify_file() opens the file with the bfile reader (which checks the trailer, the index
 * checksum, and that the segments tile the file in phase order), then decompresses every
 * segment, checking its SHA-256 and decompressed length against the index, that the first
 * segment starts with the sluice signature, and that each TABLE DATA segment holds as many
 * COPY rows as the index says (lines between "COPY ... FROM stdin;" and "\."). A plain script
 * (no sluice index) is only decompressed end to end.
 * Ownership: the report belongs to the caller (sl_verify_report_free, which accepts a report
 * that was never filled). Memory is bounded by one stream plus one record per table.
 * Errors: SL_E_ARCHIVE naming the byte offset, SL_E_IO for the file system; -1/0. */
#ifndef SL_IO_VERIFY_H
#define SL_IO_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "io/codec.h"

typedef struct sl_verify_table {
    char *schema;
    char *name;
    int64_t rows;        /* COPY rows counted (all of the table's TABLE DATA segments) */
    uint64_t bytes;      /* decompressed bytes of its data */
    uint64_t stored;     /* stored (compressed) bytes of its data */
    int segments;
} sl_verify_table;

typedef struct sl_verify_report {
    bool indexed;            /* false: a plain script, only decompressed */
    sl_codec_kind codec;
    uint64_t file_bytes;
    uint64_t raw_bytes;      /* decompressed bytes of all segments (or of the whole script) */
    size_t segments;
    int64_t rows;            /* sum over tables */
    sl_verify_table *tables; /* sorted by schema, name */
    size_t ntables;
    char *database;          /* from the index header; NULL when absent */
    char *server_version;
    char *started_at;
} sl_verify_report;

SL_MUSTCHECK int sl_verify_file(const char *path, sl_verify_report *out, sl_error *err);
void sl_verify_report_free(sl_verify_report *rep);

/* Internal to io/ (exposed for its tests): counts the rows of "COPY ... FROM stdin;" blocks in
 * SQL text fed in chunks of any size. A line that starts with "COPY " begins a statement that
 * may span lines (a quoted name may hold newlines, ';' or "FROM stdin"); it ends at the first
 * ';' outside quotes, and when "FROM stdin" comes right before that ';' the lines after the
 * statement's line are rows, up to a line "\.". Zero-initialize, feed, then finish: false
 * when the text ends inside a COPY block. */
typedef struct sl__verify_rows {
    int state;
    char quote;       /* the open quote inside a statement, or 0 */
    char tail[16];    /* the statement's last bytes outside quotes */
    size_t tail_len;
    char head[2];     /* the first bytes of a data line */
    size_t line_len;  /* bytes of the current line seen so far */
    int64_t rows;
} sl__verify_rows;

void sl__verify_rows_feed(sl__verify_rows *c, const char *p, size_t n);
bool sl__verify_rows_finish(sl__verify_rows *c);

#endif
