/* mysql/insertscan.c: see insertscan.h. */
#include "mysql/insertscan.h"

enum {
    PLAIN,      /* outside quotes */
    QUOTED,     /* inside '...', "..." or `...` (which one: quote below) */
    ESCAPED,    /* after a backslash inside '...' or "..." */
    MAYBE_END,  /* after the closing quote, unless the next byte doubles it */
};

/* state packs the mode in its low byte and the quote character above it. */
#define MODE(s) ((s)->state & 0xff)
#define QUOTE(s) ((char)((s)->state >> 8))
#define SET(s, mode, q) ((s)->state = (mode) | ((int)(unsigned char)(q) << 8))

static void
plain_byte(sl_mysql_insertscan *s, char c)
{
    switch (c) {
    case '\'': case '"': case '`':
        SET(s, QUOTED, c);
        if (s->depth == 0)
            s->last = c;
        return;
    case '(':
        if (s->depth == 0 && (s->last == ',' || s->last == 'S' || s->last == 's'))
            s->rows++;
        s->depth++;
        return;
    case ')':
        s->depth--;
        if (s->depth == 0)
            s->last = ')';
        return;
    case ' ': case '\n': case '\r': case '\t':
        return;
    default:
        if (s->depth == 0)
            s->last = c;
    }
}

void
sl_mysql_insertscan_feed(sl_mysql_insertscan *s, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        switch (MODE(s)) {
        case PLAIN:
            plain_byte(s, c);
            break;
        case QUOTED:
            if (c == '\\' && QUOTE(s) != '`')
                SET(s, ESCAPED, QUOTE(s));
            else if (c == QUOTE(s))
                SET(s, MAYBE_END, QUOTE(s));
            break;
        case ESCAPED:
            SET(s, QUOTED, QUOTE(s));
            break;
        case MAYBE_END:
            if (c == QUOTE(s)) {
                SET(s, QUOTED, c);  /* a doubled quote: still inside */
            } else {
                SET(s, PLAIN, 0);
                plain_byte(s, c);
            }
            break;
        }
    }
}

bool
sl_mysql_insertscan_finish(const sl_mysql_insertscan *s)
{
    int mode = MODE(s);
    return (mode == PLAIN || mode == MAYBE_END) && s->depth == 0 &&
           (s->last == ';' || s->last == '\0');
}
