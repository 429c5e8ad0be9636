/* pg/copyscan.c: counts the rows of COPY ... FROM stdin blocks in SQL text (copyscan.h). */
#include "pg/copyscan.h"

#include <string.h>

enum {
    ROWS_LINE_START,  /* at the start of a line outside COPY data: is it "COPY "? */
    ROWS_OTHER_LINE,  /* in a line that is not a COPY statement */
    ROWS_STATEMENT,   /* in a COPY statement, up to its ';' */
    ROWS_AFTER,       /* after the ';' of COPY ... FROM stdin, up to the end of that line */
    ROWS_DATA,        /* in COPY data: one row per line, up to a line "\." */
};

static bool
ends_with(const char *tail, size_t len, const char *word)
{
    size_t n = strlen(word);
    return len >= n && memcmp(tail + len - n, word, n) == 0;
}

/* One byte of a COPY statement: quotes are followed so that a quoted name holding ';', a
 * newline or "FROM stdin" ends nothing. */
static void
statement_byte(sl_copyscan *c, char ch)
{
    if (c->quote) {
        if (ch == c->quote)
            c->quote = 0;  /* a doubled quote closes and opens again */
        else
            return;        /* quoted text never reaches the tail */
    } else if (ch == '"' || ch == '\'') {
        c->quote = ch;
    } else if (ch == ';') {
        c->state = ends_with(c->tail, c->tail_len, "FROM stdin") ? ROWS_AFTER : ROWS_OTHER_LINE;
        c->tail_len = 0;
        return;
    }
    if (c->tail_len == sizeof c->tail) {
        memmove(c->tail, c->tail + 1, sizeof c->tail - 1);
        c->tail_len--;
    }
    c->tail[c->tail_len++] = ch;
}

/* A line of COPY data ends: "\." ends the data, anything else is a row. */
static void
data_line_end(sl_copyscan *c)
{
    if (c->line_len == 2 && c->head[0] == '\\' && c->head[1] == '.')
        c->state = ROWS_LINE_START;
    else
        c->rows++;
    c->line_len = 0;
}

/* Rows are counted a line at a time (memchr); statements, which are short, a byte at a time. */
void
sl_copyscan_feed(sl_copyscan *c, const char *p, size_t n)
{
    while (n) {
        if (c->state == ROWS_DATA || c->state == ROWS_OTHER_LINE || c->state == ROWS_AFTER) {
            const char *nl = memchr(p, '\n', n);
            size_t k = nl ? (size_t)(nl - p) : n;
            if (c->state == ROWS_DATA) {
                for (size_t i = 0; i < k && c->line_len + i < sizeof c->head; i++)
                    c->head[c->line_len + i] = p[i];
                c->line_len += k;
            }
            if (!nl)
                return;
            if (c->state == ROWS_DATA)
                data_line_end(c);
            else
                c->state = c->state == ROWS_AFTER ? ROWS_DATA : ROWS_LINE_START;
            c->line_len = 0;
            p += k + 1;
            n -= k + 1;
            continue;
        }
        char ch = *p++;
        n--;
        if (c->state == ROWS_STATEMENT) {
            statement_byte(c, ch);
        } else if (ch == '\n') {
            c->line_len = 0;  /* ROWS_LINE_START: an empty line or a short one */
        } else if (ch != "COPY "[c->line_len]) {
            c->state = ROWS_OTHER_LINE;
        } else if (++c->line_len == 5) {
            c->state = ROWS_STATEMENT;
            c->quote = 0;
            c->tail_len = 0;
            c->line_len = 0;
        }
    }
}

bool
sl_copyscan_finish(sl_copyscan *c)
{
    if (c->state == ROWS_DATA && c->line_len)
        data_line_end(c);  /* a last line without its newline still counts */
    return c->state != ROWS_DATA && c->state != ROWS_AFTER;
}
