/* restore/splitter.c: a byte-at-a-time lexer for SQL scripts, resumable at any byte.
 *
 * Design. All lexer state lives in the struct, so a chunk boundary can fall anywhere: every
 * construct that needs to look ahead ('' inside a string, -- vs minus, slash-star vs divide,
 * the $tag$ that closes a dollar quote, the `\.` line) has its own state that resolves on the
 * next byte, whichever chunk it comes in. Statement text is appended to one buffer as it is
 * lexed; leading whitespace and leading -- comments are dropped, as psql does. COPY data is not
 * lexed at all: whole runs of lines are handed out as pointers into the fed chunk, and only the
 * first bytes of each line are looked at to find the `\.` terminator.
 *
 * Invariants: s->line/s->offset describe the next unread byte; an item handed out stays valid
 * until the next call, so buffers are reset at the start of the call after the one that
 * yielded them (s->yielded). */
#include "restore/splitter.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

typedef enum {
    LX_NORMAL,
    LX_DASH,          /* a '-': a comment if another '-' follows */
    LX_SLASH,         /* a '/': a comment if '*' follows */
    LX_LINE_COMMENT,
    LX_BLOCK,         /* inside a slash-star comment (depth >= 1) */
    LX_BLOCK_STAR,    /* ... just after a '*' */
    LX_BLOCK_SLASH,   /* ... just after a '/' */
    LX_SQUOTE,        /* '...' (standard conforming) */
    LX_SQUOTE_END,    /* a quote inside '...': '' or the end */
    LX_EQUOTE,        /* E'...' */
    LX_EQUOTE_ESC,    /* after a backslash in E'...' */
    LX_EQUOTE_END,
    LX_DQUOTE,        /* "identifier" ("" re-enters, which lexes the same) */
    LX_DOLLAR_OPEN,   /* after a '$' that may open a dollar quote: reading the tag */
    LX_DOLLAR,        /* inside $tag$...$tag$ */
    LX_META,          /* a backslash command, to the end of its line */
    LX_COPY_EOL,      /* after COPY ... FROM stdin; until the end of that line */
    LX_COPY,          /* COPY data lines */
    LX_DONE,          /* everything handed out */
} lx_state;

typedef enum {
    WORD_NONE,
    WORD_IDENT,
    WORD_NUMBER,
} word_kind;

/* Where a CREATE [OR REPLACE] FUNCTION|PROCEDURE prefix is: only those statements have
 * BEGIN ... END bodies whose semicolons do not end the statement. */
typedef enum {
    RT_START,    /* no word yet */
    RT_CREATE,   /* CREATE */
    RT_OR,       /* CREATE OR */
    RT_REPLACE,  /* CREATE OR REPLACE */
    RT_YES,      /* a routine definition */
    RT_NO,       /* anything else */
} routine_state;

enum { STEP_DONE, STEP_ITEM, STEP_AGAIN, STEP_ERROR };

struct sl_splitter_budget {
    atomic_size_t used;
    size_t limit;
};

struct sl_splitter {
    size_t max_statement;
    size_t max_copy_chunk;
    sl_splitter_budget *budget;
    size_t reserved;                 /* bytes of the statement counted in the budget */
    const unsigned char *pos, *end;  /* the fed chunk not yet consumed */
    bool finished;                   /* no more input will come */
    bool yielded;                    /* the last item used stmt/meta: reset them */
    bool failed;
    uint64_t line, offset;           /* of *pos */
    lx_state state;

    sl_buf stmt;
    uint64_t stmt_line, stmt_offset;
    bool has_content;    /* stmt holds more than comments and whitespace */
    bool dash_leading;   /* the pending '-' was the first byte of stmt */
    int paren_depth;
    int begin_depth;     /* BEGIN/CASE ... END nesting in a routine body */
    bool begin_pending;  /* a top-level BEGIN in a routine: a body if ATOMIC comes next */
    int block_depth;     /* nested comment depth */
    uint64_t quote_line; /* where the open quote or comment started */

    word_kind word;
    char word_text[16];  /* upper-cased; only short words matter */
    size_t word_len;
    int word_count;      /* top-level words of this statement */
    routine_state routine;
    bool is_copy, prev_from, copy_in;

    sl_buf tag;          /* dollar quote tag */
    size_t tag_match;    /* bytes of "$tag$" matched so far */

    sl_buf meta;
    uint64_t meta_line, meta_offset;

    uint64_t copy_line;       /* the COPY statement, for messages */
    bool copy_line_start;     /* the next COPY byte starts a line */
    char marker[4];           /* a `\.` line split by a chunk boundary */
    size_t marker_len;
    uint64_t marker_line, marker_offset;
};

sl_splitter_budget *
sl_splitter_budget_new(size_t limit)
{
    sl_splitter_budget *b = sl_calloc(1, sizeof *b);
    atomic_init(&b->used, 0);
    b->limit = limit;
    return b;
}

void
sl_splitter_budget_free(sl_splitter_budget *b)
{
    free(b);
}

/* Counts the statement's bytes beyond the free part in the shared budget, a step at a time;
 * false when the budget cannot take them. */
#define BUDGET_STEP ((size_t)1 << 20)

static bool
budget_take(sl_splitter *s)
{
    sl_splitter_budget *b = s->budget;
    while (s->stmt.len > SL_SPLITTER_BUDGET_FREE + s->reserved) {
        size_t before = atomic_fetch_add(&b->used, BUDGET_STEP);
        if (before + BUDGET_STEP > b->limit) {
            atomic_fetch_sub(&b->used, BUDGET_STEP);
            return false;
        }
        s->reserved += BUDGET_STEP;
    }
    return true;
}

static void
budget_release(sl_splitter *s)
{
    if (s->reserved)
        atomic_fetch_sub(&s->budget->used, s->reserved);
    s->reserved = 0;
}

sl_splitter *
sl_splitter_new(const sl_splitter_opts *opts)
{
    sl_splitter *s = sl_calloc(1, sizeof *s);
    s->max_statement = opts && opts->max_statement ? opts->max_statement
                                                   : SL_SPLITTER_MAX_STATEMENT;
    s->max_copy_chunk = opts && opts->max_copy_chunk ? opts->max_copy_chunk
                                                     : SL_SPLITTER_COPY_CHUNK;
    s->budget = opts ? opts->budget : NULL;
    s->line = 1;
    s->state = LX_NORMAL;
    return s;
}

void
sl_splitter_free(sl_splitter *s)
{
    if (!s)
        return;
    budget_release(s);
    sl_buf_free(&s->stmt);
    sl_buf_free(&s->tag);
    sl_buf_free(&s->meta);
    free(s);
}

void
sl_splitter_feed(sl_splitter *s, const void *data, size_t len)
{
    s->pos = data;
    s->end = s->pos + len;
}

void
sl_splitter_finish(sl_splitter *s)
{
    s->finished = true;
}

uint64_t
sl_splitter_line(const sl_splitter *s)
{
    return s->line;
}

uint64_t
sl_splitter_offset(const sl_splitter *s)
{
    return s->offset;
}

static void
reset_statement(sl_splitter *s)
{
    budget_release(s);
    /* the memory of a large statement goes back as its budget does */
    if (s->stmt.cap > 2 * SL_SPLITTER_BUDGET_FREE)
        sl_buf_free(&s->stmt);
    else
        sl_buf_reset(&s->stmt);
    s->has_content = false;
    s->paren_depth = 0;
    s->begin_depth = 0;
    s->begin_pending = false;
    s->word = WORD_NONE;
    s->word_count = 0;
    s->routine = RT_START;
    s->is_copy = s->prev_from = s->copy_in = false;
}

static bool
is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool
is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Appends one byte of statement text; the first byte fixes where the statement starts. */
static void
put(sl_splitter *s, unsigned char c)
{
    if (s->stmt.len == 0) {
        s->stmt_line = s->line;
        s->stmt_offset = s->offset;
    }
    if (s->stmt.len + 1 >= s->stmt.cap)
        sl_buf_reserve(&s->stmt, 1);
    s->stmt.data[s->stmt.len++] = (char)c;
    s->stmt.data[s->stmt.len] = '\0';
}

static bool
word_is(const sl_splitter *s, const char *kw)
{
    return s->word_len < sizeof s->word_text && strcmp(s->word_text, kw) == 0;
}

/* A top-level word ended: follow the CREATE FUNCTION prefix, BEGIN/CASE/END nesting in its
 * body, and COPY ... FROM STDIN. */
static void
end_word(sl_splitter *s)
{
    word_kind kind = s->word;
    s->word = WORD_NONE;
    if (kind != WORD_IDENT || s->paren_depth > 0)
        return;
    s->word_text[s->word_len < sizeof s->word_text ? s->word_len : 0] = '\0';
    int n = s->word_count++;
    if (n == 0) {
        s->routine = word_is(s, "CREATE") ? RT_CREATE : RT_NO;
        s->is_copy = word_is(s, "COPY");
        return;
    }
    switch (s->routine) {
    case RT_CREATE:
        s->routine = word_is(s, "OR") ? RT_OR
                     : (word_is(s, "FUNCTION") || word_is(s, "PROCEDURE")) ? RT_YES
                                                                           : RT_NO;
        break;
    case RT_OR:
        s->routine = word_is(s, "REPLACE") ? RT_REPLACE : RT_NO;
        break;
    case RT_REPLACE:
        s->routine = (word_is(s, "FUNCTION") || word_is(s, "PROCEDURE")) ? RT_YES : RT_NO;
        break;
    case RT_YES:
        if (s->begin_pending && word_is(s, "ATOMIC"))
            s->begin_depth = 1;
        s->begin_pending = false;
        if (word_is(s, "BEGIN") && s->begin_depth == 0)
            s->begin_pending = true;  /* a body only if ATOMIC follows: "begin" may be a name */
        else if (word_is(s, "BEGIN"))
            s->begin_depth++;
        else if (word_is(s, "CASE") && s->begin_depth > 0)
            s->begin_depth++;
        else if (word_is(s, "END") && s->begin_depth > 0)
            s->begin_depth--;
        break;
    default:
        break;
    }
    if (s->is_copy) {
        if (s->prev_from && word_is(s, "STDIN"))
            s->copy_in = true;
        s->prev_from = word_is(s, "FROM");
    }
}

static void
word_byte(sl_splitter *s, unsigned char c)
{
    if (s->word == WORD_NONE) {
        s->word = is_digit(c) ? WORD_NUMBER : WORD_IDENT;
        s->word_len = 0;
    }
    if (s->word_len < sizeof s->word_text - 1)
        s->word_text[s->word_len] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    s->word_len++;
}

static int
fail(sl_splitter *s, sl_error *err, const char *fmt, unsigned long long line)
    SL_PRINTF(3, 0);

static int
fail(sl_splitter *s, sl_error *err, const char *fmt, unsigned long long line)
{
    sl_error_set(err, SL_E_ARCHIVE, fmt, line);
    s->failed = true;
    return STEP_ERROR;
}

static int
yield_statement(sl_splitter *s, sl_split_item *item)
{
    item->kind = SL_SPLIT_STATEMENT;
    item->text = s->stmt.data;
    item->len = s->stmt.len;
    item->line = s->stmt_line;
    item->offset = s->stmt_offset;
    item->copy_in = s->copy_in;
    s->yielded = true;
    return STEP_ITEM;
}

static int
yield_meta(sl_splitter *s, sl_split_item *item)
{
    if (s->meta.len > 0 && s->meta.data[s->meta.len - 1] == '\r')
        s->meta.data[--s->meta.len] = '\0';
    item->kind = SL_SPLIT_META;
    item->text = s->meta.data;
    item->len = s->meta.len;
    item->line = s->meta_line;
    item->offset = s->meta_offset;
    item->copy_in = false;
    return STEP_ITEM;
}

/* Outside quotes and comments. */
static int
lex_normal(sl_splitter *s, unsigned char c, sl_split_item *item, sl_error *err)
{
    if (is_ident_start(c) || is_digit(c) || (c == '$' && s->word == WORD_IDENT)) {
        word_byte(s, c);
        put(s, c);
        s->has_content = true;
        return STEP_DONE;
    }
    bool e_prefix = s->word == WORD_IDENT && s->word_len == 1 && s->word_text[0] == 'E';
    if (s->word != WORD_NONE)
        end_word(s);
    if (is_space(c)) {
        if (s->stmt.len > 0)
            put(s, c);
        return STEP_DONE;
    }
    switch (c) {
    case '-':
        s->dash_leading = s->stmt.len == 0;
        put(s, c);
        s->state = LX_DASH;
        return STEP_DONE;
    case '/':
        s->quote_line = s->line;
        put(s, c);
        s->state = LX_SLASH;
        return STEP_DONE;
    case '\'':
        s->quote_line = s->line;
        s->state = e_prefix ? LX_EQUOTE : LX_SQUOTE;
        break;
    case '"':
        s->quote_line = s->line;
        s->state = LX_DQUOTE;
        break;
    case '$':
        s->quote_line = s->line;
        sl_buf_reset(&s->tag);
        s->state = LX_DOLLAR_OPEN;
        break;
    case '(':
        s->paren_depth++;
        break;
    case ')':
        if (s->paren_depth > 0)
            s->paren_depth--;
        break;
    case ';':
        put(s, c);
        if (s->paren_depth > 0 || s->begin_depth > 0) {
            s->has_content = true;
            return STEP_DONE;
        }
        if (s->copy_in) {
            s->copy_line = s->stmt_line;
            s->state = LX_COPY_EOL;
        }
        if (s->has_content)
            return yield_statement(s, item);
        reset_statement(s);
        return STEP_DONE;
    case '\\':
        if (s->has_content)
            return fail(s, err, "backslash command at line %llu inside a statement: only "
                                "meta-commands on a line of their own are supported",
                        (unsigned long long)s->line);
        reset_statement(s);  /* only comments so far */
        sl_buf_reset(&s->meta);
        s->meta_line = s->line;
        s->meta_offset = s->offset;
        sl_buf_putc(&s->meta, (char)c);
        s->state = LX_META;
        return STEP_DONE;
    default:
        break;
    }
    put(s, c);
    s->has_content = true;
    return STEP_DONE;
}

/* Inside a dollar quote: watch for "$tag$" (the tag holds no '$', so a failed match restarts
 * only at a '$'). */
static void
lex_dollar(sl_splitter *s, unsigned char c)
{
    size_t taglen = s->tag.len;
    put(s, c);
    if (s->tag_match > 0 && s->tag_match == taglen + 1) {
        if (c == '$') {
            s->state = LX_NORMAL;
            s->tag_match = 0;
            return;
        }
        s->tag_match = 0;
    } else if (s->tag_match > 0 && c == (unsigned char)s->tag.data[s->tag_match - 1]) {
        s->tag_match++;
    } else {
        s->tag_match = c == '$';
    }
}

/* Inside comments, quotes, meta-command lines: every state but NORMAL and the COPY ones. */
static int
lex_quoted(sl_splitter *s, unsigned char c, sl_split_item *item, sl_error *err)
{
    switch (s->state) {
    case LX_DASH:
        if (c != '-') {
            s->has_content = true;
            s->state = LX_NORMAL;
            return STEP_AGAIN;
        }
        if (s->dash_leading)
            reset_statement(s);  /* a leading -- comment is dropped, as psql does */
        else
            put(s, c);
        s->state = LX_LINE_COMMENT;
        return STEP_DONE;
    case LX_LINE_COMMENT:
        if (c == '\n' || c == '\r') {
            s->state = LX_NORMAL;
            return STEP_AGAIN;
        }
        if (s->stmt.len > 0)
            put(s, c);
        return STEP_DONE;
    case LX_SLASH:
        if (c != '*') {
            s->has_content = true;
            s->state = LX_NORMAL;
            return STEP_AGAIN;
        }
        put(s, c);
        s->block_depth = 1;
        s->state = LX_BLOCK;
        return STEP_DONE;
    case LX_BLOCK:
        put(s, c);
        s->state = c == '*' ? LX_BLOCK_STAR : c == '/' ? LX_BLOCK_SLASH : LX_BLOCK;
        return STEP_DONE;
    case LX_BLOCK_STAR:
        put(s, c);
        if (c == '/')
            s->state = --s->block_depth > 0 ? LX_BLOCK : LX_NORMAL;
        else if (c != '*')
            s->state = LX_BLOCK;
        return STEP_DONE;
    case LX_BLOCK_SLASH:
        put(s, c);
        if (c == '*') {
            s->block_depth++;
            s->state = LX_BLOCK;
        } else if (c != '/') {
            s->state = LX_BLOCK;
        }
        return STEP_DONE;
    case LX_SQUOTE:
    case LX_EQUOTE:
        put(s, c);
        if (c == '\'')
            s->state = s->state == LX_SQUOTE ? LX_SQUOTE_END : LX_EQUOTE_END;
        else if (c == '\\' && s->state == LX_EQUOTE)
            s->state = LX_EQUOTE_ESC;
        return STEP_DONE;
    case LX_EQUOTE_ESC:
        put(s, c);
        s->state = LX_EQUOTE;
        return STEP_DONE;
    case LX_SQUOTE_END:
    case LX_EQUOTE_END:
        if (c != '\'') {
            s->state = LX_NORMAL;
            return STEP_AGAIN;
        }
        put(s, c);
        s->state = s->state == LX_SQUOTE_END ? LX_SQUOTE : LX_EQUOTE;
        return STEP_DONE;
    case LX_DQUOTE:
        put(s, c);
        if (c == '"')
            s->state = LX_NORMAL;
        return STEP_DONE;
    case LX_DOLLAR_OPEN:
        if (c == '$') {
            put(s, c);
            s->tag_match = 0;
            s->state = LX_DOLLAR;
            return STEP_DONE;
        }
        if (is_ident_start(c) || (is_digit(c) && s->tag.len > 0)) {
            put(s, c);
            sl_buf_putc(&s->tag, (char)c);
            return STEP_DONE;
        }
        s->state = LX_NORMAL;  /* "$1" or a lone '$': not a quote */
        return STEP_AGAIN;
    case LX_DOLLAR:
        lex_dollar(s, c);
        return STEP_DONE;
    case LX_META:
        if (c == '\n') {
            s->state = LX_NORMAL;
            return yield_meta(s, item);
        }
        if (s->meta.len >= SL_SPLITTER_MAX_META)
            return fail(s, err, "meta-command at line %llu is too long",
                        (unsigned long long)s->meta_line);
        sl_buf_putc(&s->meta, (char)c);
        return STEP_DONE;
    case LX_COPY_EOL:
        if (c == '\n') {
            s->state = LX_COPY;
            s->copy_line_start = true;
            return STEP_DONE;
        }
        if (is_space(c))
            return STEP_DONE;
        return fail(s, err, "unexpected text after COPY ... FROM stdin at line %llu: the data "
                            "must start on the next line",
                    (unsigned long long)s->line);
    default:
        return fail(s, err, "internal splitter state at line %llu", (unsigned long long)s->line);
    }
}

static void
advance(sl_splitter *s, size_t n)
{
    s->pos += n;
    s->offset += n;
}

/* Is the line at p the `\.` terminator? 1 yes (*mlen bytes with its line ending), 0 no,
 * -1 cannot tell before more input comes. */
static int
is_marker(const unsigned char *p, const unsigned char *end, bool at_eof, size_t *mlen)
{
    static const char crlf[] = "\\.\r\n";
    size_t n = (size_t)(end - p);
    if (n >= 3 && p[0] == '\\' && p[1] == '.' && p[2] == '\n') {
        *mlen = 3;
        return 1;
    }
    for (size_t i = 0; i < 4; i++) {
        if (i == n) {
            /* "\." (or "\.\r") then the end of the input also ends the data */
            if (at_eof && (i == 2 || i == 3)) {
                *mlen = i;
                return 1;
            }
            return at_eof ? 0 : -1;
        }
        if (p[i] != (unsigned char)crlf[i] && !(i == 2 && p[i] == '\n'))
            return 0;
    }
    *mlen = 4;
    return 1;
}

static int
yield_copy_end(sl_splitter *s, sl_split_item *item, uint64_t line, uint64_t offset)
{
    item->kind = SL_SPLIT_COPY_END;
    item->text = "";
    item->len = 0;
    item->line = line;
    item->offset = offset;
    item->copy_in = false;
    s->state = LX_NORMAL;
    s->marker_len = 0;
    reset_statement(s);
    return STEP_ITEM;
}

/* A `\.` candidate was cut by the end of a chunk: the bytes wait in s->marker and are matched
 * one at a time against what follows. */
static int
copy_marker_step(sl_splitter *s, sl_split_item *item)
{
    unsigned char c = *s->pos;
    size_t m = s->marker_len;
    if ((m == 1 && c == '.') || (m == 2 && c == '\r')) {
        s->marker[s->marker_len++] = (char)c;
        advance(s, 1);
        return STEP_AGAIN;
    }
    if ((m == 2 || m == 3) && c == '\n') {
        advance(s, 1);
        s->line++;
        return yield_copy_end(s, item, s->marker_line, s->marker_offset);
    }
    /* not the terminator: its bytes are data; the line goes on */
    item->kind = SL_SPLIT_COPY_DATA;
    item->text = s->marker;
    item->len = s->marker_len;
    item->line = s->marker_line;
    item->offset = s->marker_offset;
    item->copy_in = false;
    s->marker_len = 0;
    s->copy_line_start = false;
    return STEP_ITEM;
}

/* COPY data: hands out runs of whole or partial lines straight from the fed chunk. */
static int
copy_step(sl_splitter *s, sl_split_item *item)
{
    if (s->pos == s->end)
        return STEP_DONE;
    if (s->marker_len > 0)
        return copy_marker_step(s, item);
    const unsigned char *start = s->pos;
    const unsigned char *limit = s->end;
    if ((size_t)(limit - start) > s->max_copy_chunk)
        limit = start + s->max_copy_chunk;
    uint64_t start_line = s->line;
    const unsigned char *p = start;
    while (p < limit) {
        if (s->copy_line_start && *p == '\\') {
            size_t mlen = 0;
            int m = is_marker(p, s->end, s->finished, &mlen);
            if (m != 0 && p > start)
                break;  /* hand out the data before it first */
            if (m == 1) {
                uint64_t line = s->line, offset = s->offset;
                advance(s, mlen);
                s->line++;
                return yield_copy_end(s, item, line, offset);
            }
            if (m < 0) {
                s->marker_line = s->line;
                s->marker_offset = s->offset;
                s->marker_len = (size_t)(s->end - p);
                memcpy(s->marker, p, s->marker_len);
                advance(s, s->marker_len);
                return STEP_AGAIN;
            }
        }
        const unsigned char *nl = memchr(p, '\n', (size_t)(limit - p));
        if (!nl) {
            p = limit;
            s->copy_line_start = false;
            break;
        }
        p = nl + 1;
        s->line++;
        s->copy_line_start = true;
    }
    item->kind = SL_SPLIT_COPY_DATA;
    item->text = (const char *)start;
    item->len = (size_t)(p - start);
    item->line = start_line;
    item->offset = s->offset;
    item->copy_in = false;
    advance(s, item->len);
    return STEP_ITEM;
}

/* The input has ended: hand out what is left, or say what was left open. */
static int
finish_step(sl_splitter *s, sl_split_item *item, sl_error *err)
{
    lx_state st = s->state;
    s->state = LX_DONE;
    switch (st) {
    case LX_DONE:
        return STEP_DONE;
    case LX_SQUOTE:
    case LX_EQUOTE:
    case LX_EQUOTE_ESC:
        return fail(s, err, "unterminated quoted string starting at line %llu",
                    (unsigned long long)s->quote_line);
    case LX_DQUOTE:
        return fail(s, err, "unterminated quoted identifier starting at line %llu",
                    (unsigned long long)s->quote_line);
    case LX_DOLLAR:
        return fail(s, err, "unterminated dollar-quoted string starting at line %llu",
                    (unsigned long long)s->quote_line);
    case LX_BLOCK:
    case LX_BLOCK_STAR:
    case LX_BLOCK_SLASH:
        return fail(s, err, "unterminated /* comment starting at line %llu",
                    (unsigned long long)s->quote_line);
    case LX_META:
        return yield_meta(s, item);
    case LX_COPY:
        if (s->marker_len >= 2)
            return yield_copy_end(s, item, s->marker_line, s->marker_offset);
        /* fall through */
    case LX_COPY_EOL:
        return fail(s, err, "COPY data of the statement at line %llu ends without a \\. line: "
                            "the input is truncated",
                    (unsigned long long)s->copy_line);
    case LX_DASH:
    case LX_SLASH:
        s->has_content = true;
        break;
    default:
        break;
    }
    if (s->word != WORD_NONE)
        end_word(s);
    if (s->has_content)
        return yield_statement(s, item);
    return STEP_DONE;
}

static bool
budget_fits(sl_splitter *s)
{
    return s->stmt.len <= SL_SPLITTER_BUDGET_FREE + s->reserved || budget_take(s);
}

/* "32 MiB", or bytes for limits that are not whole MiB (tests use small ones). */
static void
size_text(size_t n, char *buf, size_t cap)
{
    if (n % ((size_t)1 << 20) == 0)
        snprintf(buf, cap, "%zu MiB", n >> 20);
    else
        snprintf(buf, cap, "%zu bytes", n);
}

/* A NUL byte ends the text of a statement for libpq and a line for psql: what runs would be a
 * cut-short statement, so a script holding one outside COPY data is refused. */
static int
nul_byte(sl_splitter *s, sl_error *err)
{
    sl_error_set(err, SL_E_ARCHIVE,
                 "NUL byte at line %llu (offset %llu): a SQL script holds none outside COPY data "
                 "(is this a SQL script?)",
                 (unsigned long long)s->line, (unsigned long long)s->offset);
    s->failed = true;
    return -1;
}

static int
too_long(sl_splitter *s, sl_error *err)
{
    char limit[48];
    if (s->stmt.len > s->max_statement) {
        size_text(s->max_statement, limit, sizeof limit);
        sl_error_set(err, SL_E_ARCHIVE,
                     "statement starting at line %llu (offset %llu) is longer than %s (an "
                     "unterminated quote or comment?); if it is meant to be that long, raise "
                     "the limit with --max-statement-size=MB",
                     (unsigned long long)s->stmt_line, (unsigned long long)s->stmt_offset, limit);
    } else {
        size_text(s->budget->limit, limit, sizeof limit);
        sl_error_set(err, SL_E_ARCHIVE,
                     "statement starting at line %llu (offset %llu) does not fit: the statements "
                     "read at the same time by the restore's connections hold more than %s "
                     "together; raise the limit with --max-statement-size=MB or use fewer jobs",
                     (unsigned long long)s->stmt_line, (unsigned long long)s->stmt_offset, limit);
    }
    s->failed = true;
    return -1;
}

int
sl_splitter_next(sl_splitter *s, sl_split_item *item, sl_error *err)
{
    if (s->failed) {
        sl_error_set(err, SL_E_INTERNAL, "statement splitter used after an error");
        return -1;
    }
    if (s->yielded) {
        s->yielded = false;
        reset_statement(s);
    }
    for (;;) {
        int rc;
        if (s->state == LX_COPY) {
            rc = copy_step(s, item);
        } else if (s->state == LX_DONE) {
            return 0;
        } else if (s->pos == s->end) {
            rc = STEP_DONE;
        } else {
            unsigned char c = *s->pos;
            if (c == '\0')
                return nul_byte(s, err);
            rc = s->state == LX_NORMAL ? lex_normal(s, c, item, err) : lex_quoted(s, c, item, err);
            if (rc == STEP_DONE || rc == STEP_ITEM) {
                advance(s, 1);
                if (c == '\n')
                    s->line++;
            }
            if (rc == STEP_DONE) {
                if (s->stmt.len > s->max_statement || (s->budget && !budget_fits(s)))
                    return too_long(s, err);
                continue;
            }
        }
        if (rc == STEP_ITEM)
            return 1;
        if (rc == STEP_ERROR)
            return -1;
        if (rc == STEP_AGAIN)
            continue;
        /* STEP_DONE with the chunk used up */
        if (s->pos != s->end)
            continue;
        if (!s->finished)
            return 0;
        rc = finish_step(s, item, err);
        return rc == STEP_ITEM ? 1 : rc == STEP_ERROR ? -1 : 0;
    }
}

/* Reads one psql argument: "double quoted" ("" is a quote), 'single quoted' ('' and backslash
 * escapes), or a bare word. */
static const char *
meta_arg(const char *p, sl_buf *out)
{
    while (is_space((unsigned char)*p))
        p++;
    if (!*p)
        return NULL;
    char q = *p == '"' || *p == '\'' ? *p : 0;
    if (!q) {
        while (*p && !is_space((unsigned char)*p))
            sl_buf_putc(out, *p++);
        return p;
    }
    for (p++;; p++) {
        if (!*p)
            return NULL;
        if (*p == q && p[1] == q) {
            sl_buf_putc(out, q);
            p++;
        } else if (*p == q) {
            return p + 1;
        } else if (q == '\'' && *p == '\\' && p[1]) {
            sl_buf_putc(out, *++p);
        } else {
            sl_buf_putc(out, *p);
        }
    }
}

/* "dbname=VALUE" (VALUE bare or 'quoted' with backslash escapes) -> VALUE. */
static int
conninfo_dbname(const char *ci, sl_buf *out)
{
    while (is_space((unsigned char)*ci))
        ci++;
    if (strncmp(ci, "dbname=", 7) != 0)
        return -1;
    const char *p = ci + 7;
    if (*p != '\'') {
        while (*p && !is_space((unsigned char)*p))
            sl_buf_putc(out, *p++);
    } else {
        for (p++; *p != '\''; p++) {
            if (!*p)
                return -1;
            if (*p == '\\' && p[1])
                p++;
            sl_buf_putc(out, *p);
        }
        p++;
    }
    while (is_space((unsigned char)*p))
        p++;
    return *p ? -1 : 0;  /* other keywords would change more than the database */
}

int
sl_splitter_parse_meta(const char *line, char **name, char **arg, sl_error *err)
{
    sl_buf nb = SL_BUF_INIT, ab = SL_BUF_INIT, ci = SL_BUF_INIT;
    int rc = -1;
    const char *p = line;
    if (*p != '\\') {
        /* The line itself is not shown: it may hold anything, a password among it. */
        sl_error_set(err, SL_E_ARCHIVE, "not a meta-command: no backslash at the line's start");
        goto done;
    }
    for (p++; *p && !is_space((unsigned char)*p); p++)
        sl_buf_putc(&nb, *p);
    sl_buf_putc(&nb, '\0');
    nb.len--;
    bool connect = strcmp(nb.data, "connect") == 0 || strcmp(nb.data, "c") == 0;
    const char *next = meta_arg(p, &ab);
    if (connect && next && strncmp(ab.data, "-reuse-previous", 15) == 0) {
        sl_buf_reset(&ab);
        next = meta_arg(next, &ab);
    }
    if (!next && ab.len > 0) {
        sl_error_set(err, SL_E_ARCHIVE, "unterminated quote in meta-command \\%s", nb.data);
        goto done;
    }
    if (connect && next && strchr(ab.data, '=')) {
        if (conninfo_dbname(ab.data, &ci) != 0) {
            sl_error_set(err, SL_E_ARCHIVE,
                         "unsupported \\connect argument: only a database name or dbname=NAME");
            goto done;
        }
        sl_buf_reset(&ab);
        sl_buf_append(&ab, ci.data ? ci.data : "", ci.len);
    }
    *name = sl_buf_steal(&nb);
    *arg = next ? sl_strdup(ab.data ? ab.data : "") : NULL;
    rc = 0;
done:
    sl_buf_free(&nb);
    sl_buf_free(&ab);
    sl_buf_free(&ci);
    return rc;
}
