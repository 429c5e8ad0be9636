/* pg/copyscan.h: the rows of the COPY blocks in a script, without a server (restore/verify.c
 * counts the rows of each TABLE DATA segment with it). Pure: no libpq, no allocation, bounded
 * state. Counts the rows of "COPY ... FROM stdin;" blocks in SQL text fed in chunks of any
 * size. A line that starts with "COPY " begins a statement that may span lines (a quoted name
 * may hold newlines, ';' or "FROM stdin"); it ends at the first ';' outside quotes, and when
 * "FROM stdin" comes right before that ';' the lines after the statement's line are rows, up to
 * a line "\.". Zero-initialize, feed, then finish: false when the text ends inside a COPY
 * block. restore/splitter.c, which runs the statements, has its own full lexer (dollar quotes,
 * comments, meta-commands); this one knows only what it takes to count rows in what sluice
 * writes. */
#ifndef SL_PG_COPYSCAN_H
#define SL_PG_COPYSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_copyscan {
    int state;
    char quote;       /* the open quote inside a statement, or 0 */
    char tail[16];    /* the statement's last bytes outside quotes */
    size_t tail_len;
    char head[2];     /* the first bytes of a data line */
    size_t line_len;  /* bytes of the current line seen so far */
    int64_t rows;
} sl_copyscan;

void sl_copyscan_feed(sl_copyscan *c, const char *p, size_t n);
bool sl_copyscan_finish(sl_copyscan *c);

#endif
