/* mysql/script.c: see script.h.
 * Design: fed bytes are appended to one buffer holding the statement being read and the
 * unread input; a scan position walks it with a small state machine (code, quoted string,
 * backtick identifier, line comment, block comment, plus "inside an executable comment").
 * A construct that needs bytes beyond what has arrived (`--` then a space, a slash-star-bang,
 * a delimiter of several bytes, a client command's word or line) makes the scan stop without
 * consuming and ask for more input; after _finish() missing bytes simply do not match. So
 * the result never depends on where chunks are cut. _feed() drops what lies before the
 * statement being read (or before the scan position between statements), which bounds the
 * buffer by one statement plus one chunk. */
#include "mysql/script.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"

enum { ST_CODE, ST_SQUOTE, ST_DQUOTE, ST_BTICK, ST_LINE_COMMENT, ST_BLOCK_COMMENT };
enum { STEP_MORE, STEP_NEED, STEP_EMIT, STEP_FAIL };

/* The longest line DELIMITER may take, and the longest word read for a client command. */
#define MAX_COMMAND_LINE ((size_t)64 << 10)
#define MAX_WORD 24

static const char sandbox[] = "/*M!999999\\-";

/* The client's long commands (mysql --help's list), none of which starts a SQL statement. */
static const char *const refused_words[] = {
    "?", "charset", "clear", "connect", "edit", "ego", "exit", "go", "help", "nopager",
    "notee", "nowarning", "pager", "print", "prompt", "quit", "query_attributes", "rehash",
    "resetconnection", "sandbox", "source", "ssl_session_data_print", "status", "system",
    "tee", "warnings",
};

struct sl_myscript {
    sl_buf buf;
    size_t pos;            /* next byte to scan */
    size_t start;          /* the statement's first code byte (when has_code) */
    uint64_t base_offset;  /* input offset of buf.data[0] */
    uint64_t line;         /* line of buf.data[pos] */
    uint64_t stmt_line;
    uint64_t tok_line;     /* where the open string or comment started */
    int state;
    bool has_code;         /* a statement is being read */
    bool in_exec;          /* inside an executable comment */
    bool finished;
    bool done;             /* the script is complete, or failed */
    bool failed;
    char delim[SL_MYSCRIPT_MAX_DELIMITER + 1];
    size_t dlen;
    bool special[256];     /* bytes the code state must look at */
    size_t max;
};

static void
set_delimiter(sl_myscript *s, const char *d, size_t len)
{
    memcpy(s->delim, d, len);
    s->delim[len] = '\0';
    s->dlen = len;
    memset(s->special, 0, sizeof s->special);
    static const char marks[] = "'\"`#-/*\\\n";
    for (const char *m = marks; *m; m++)
        s->special[(unsigned char)*m] = true;
    s->special[(unsigned char)d[0]] = true;
}

sl_myscript *
sl_myscript_new(size_t max_statement)
{
    sl_myscript *s = sl_calloc(1, sizeof *s);
    s->line = 1;
    s->max = max_statement ? max_statement : SL_MYSCRIPT_MAX_STATEMENT;
    set_delimiter(s, ";", 1);
    return s;
}

void
sl_myscript_free(sl_myscript *s)
{
    if (!s)
        return;
    sl_buf_free(&s->buf);
    free(s);
}

void
sl_myscript_feed(sl_myscript *s, const void *data, size_t len)
{
    size_t keep = s->has_code ? s->start : s->pos;
    if (keep > 0) {
        memmove(s->buf.data, s->buf.data + keep, s->buf.len - keep);
        s->buf.len -= keep;
        s->buf.data[s->buf.len] = '\0';
        s->base_offset += keep;
        s->pos -= keep;
        if (s->has_code)
            s->start -= keep;
    }
    sl_buf_append(&s->buf, data, len);
}

void
sl_myscript_finish(sl_myscript *s)
{
    s->finished = true;
}

/* The byte i places after the scan position, or -1 when it has not arrived (yet). */
static int
peek(const sl_myscript *s, size_t i)
{
    return s->pos + i < s->buf.len ? (unsigned char)s->buf.data[s->pos + i] : -1;
}

/* Whether n bytes from the scan position may be looked at: false means wait for input. */
static bool
have(const sl_myscript *s, size_t n)
{
    return s->finished || s->buf.len - s->pos >= n;
}

static int
fail(sl_myscript *s, sl_error *err, uint64_t line, const char *fmt, const char *what)
{
    sl_error_set(err, SL_E_ARCHIVE, fmt, what);
    sl_error_context(err, "line %llu", (unsigned long long)line);
    s->done = true;
    s->failed = true;
    return STEP_FAIL;
}

#define REFUSED "client command \"%s\" refused: a restore never runs the mysql client's commands"

/* A backslash command (\!, \., \g ...): named by its two bytes, the second printable. */
static int
refuse_backslash(sl_myscript *s, sl_error *err)
{
    if (!have(s, 2))
        return STEP_NEED;
    int c = peek(s, 1);
    char name[3] = {'\\', c > ' ' && c < 0x7f ? (char)c : '\0', '\0'};
    return fail(s, err, s->line, REFUSED, name);
}

static bool
is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static bool
starts_delimiter(const sl_myscript *s)
{
    return s->buf.len - s->pos >= s->dlen &&
           memcmp(s->buf.data + s->pos, s->delim, s->dlen) == 0;
}

static int
too_long(sl_myscript *s, sl_error *err)
{
    char size[32];
    snprintf(size, sizeof size, "%zu", s->max);
    return fail(s, err, s->stmt_line, "statement longer than %s bytes (an unterminated string "
                "or a damaged file?)", size);
}

/* The statement ends at end (its delimiter or the end of the input); the limit counts what
 * the scan went through, so that it trips alike however the input was cut. */
static int
emit(sl_myscript *s, size_t end, sl_myscript_stmt *out, sl_error *err)
{
    if (end - s->start > s->max)
        return too_long(s, err);
    while (end > s->start && is_space((unsigned char)s->buf.data[end - 1]))
        end--;
    if (end == s->buf.len)
        sl_buf_reserve(&s->buf, 1);
    s->buf.data[end] = '\0';  /* a byte already scanned past (delimiter or whitespace) */
    out->text = s->buf.data + s->start;
    out->len = end - s->start;
    out->line = s->stmt_line;
    out->offset = s->base_offset + s->start;
    s->has_code = false;
    s->in_exec = false;
    s->state = ST_CODE;
    return STEP_EMIT;
}

/* DELIMITER's line: its first word becomes the delimiter. */
static int
parse_delimiter(sl_myscript *s, size_t word_end, sl_error *err)
{
    const char *p = s->buf.data + word_end, *end = s->buf.data + s->buf.len;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl && !s->finished) {
        if ((size_t)(end - s->buf.data) - s->pos > MAX_COMMAND_LINE)
            return fail(s, err, s->line, "%s line over 64 KiB", "DELIMITER");
        return STEP_NEED;
    }
    const char *stop = nl ? nl : end;
    while (p < stop && (*p == ' ' || *p == '\t'))
        p++;
    const char *arg = p;
    while (p < stop && !is_space((unsigned char)*p))
        p++;
    size_t len = (size_t)(p - arg);
    if (len == 0 || len > SL_MYSCRIPT_MAX_DELIMITER || memchr(arg, '\\', len) ||
        memchr(arg, '\0', len))
        return fail(s, err, s->line, "%s needs one word of at most 16 bytes, no backslash",
                    "DELIMITER");
    set_delimiter(s, arg, len);
    s->pos = (size_t)(stop - s->buf.data);
    return STEP_MORE;
}

/* A word at a statement's start: DELIMITER, a refused client command, or code. */
static int
start_word(sl_myscript *s, sl_error *err)
{
    char word[MAX_WORD + 1];
    size_t n = 0;
    for (;; n++) {
        int c = peek(s, n);
        if (c < 0 && !s->finished)
            return STEP_NEED;
        if (c < 0 || !(isalpha(c) || c == '_' || c == '?'))
            break;
        if (n == MAX_WORD)
            break;
        word[n] = (char)tolower(c);
    }
    word[n] = '\0';
    if (n < MAX_WORD) {
        if (strcmp(word, "delimiter") == 0 && (peek(s, n) == ' ' || peek(s, n) == '\t'))
            return parse_delimiter(s, s->pos + n, err);
        for (size_t i = 0; i < sizeof refused_words / sizeof *refused_words; i++)
            if (strcmp(word, refused_words[i]) == 0)
                return fail(s, err, s->line, REFUSED, word);
    }
    s->has_code = true;
    s->start = s->pos;
    s->stmt_line = s->line;
    return STEP_MORE;
}

/* Between statements: whitespace, comments, the sandbox line, client commands. */
static int
step_start(sl_myscript *s, sl_error *err)
{
    int c = peek(s, 0);
    if (c == (unsigned char)s->delim[0]) {
        if (!have(s, s->dlen))
            return STEP_NEED;
        if (starts_delimiter(s)) {  /* an empty statement */
            s->pos += s->dlen;
            return STEP_MORE;
        }
    }
    if (is_space(c)) {
        s->line += c == '\n';
        s->pos++;
        return STEP_MORE;
    }
    if (c == '#') {
        s->state = ST_LINE_COMMENT;
        s->pos++;
        return STEP_MORE;
    }
    if (c == '-') {
        if (!have(s, 3))
            return STEP_NEED;
        int c2 = peek(s, 2);
        if (peek(s, 1) == '-' && c2 <= ' ') {  /* -1: the input ends with "--" */
            s->state = ST_LINE_COMMENT;
            s->pos += 2;
            return STEP_MORE;
        }
    }
    if (c == '/') {
        size_t n = sizeof sandbox - 1, got = s->buf.len - s->pos;
        if (got < n && !s->finished && memcmp(s->buf.data + s->pos, sandbox, got) == 0)
            return STEP_NEED;
        if (got >= n && memcmp(s->buf.data + s->pos, sandbox, n) == 0) {
            s->state = ST_BLOCK_COMMENT;  /* skipped whole, to its end */
            s->tok_line = s->line;
            s->pos += n;
            return STEP_MORE;
        }
        if (!have(s, 4))
            return STEP_NEED;
        if (peek(s, 1) == '*' && peek(s, 2) != '!' && !(peek(s, 2) == 'M' && peek(s, 3) == '!')) {
            s->state = ST_BLOCK_COMMENT;
            s->tok_line = s->line;
            s->pos += 2;
            return STEP_MORE;
        }
    }
    if (c == '\\')
        return refuse_backslash(s, err);
    if (isalpha(c) || c == '?')
        return start_word(s, err);
    s->has_code = true;
    s->start = s->pos;
    s->stmt_line = s->line;
    return STEP_MORE;
}

static int
step_code(sl_myscript *s, sl_myscript_stmt *out, sl_error *err)
{
    const unsigned char *d = (const unsigned char *)s->buf.data;
    while (s->pos < s->buf.len && !s->special[d[s->pos]])
        s->pos++;
    if (s->pos >= s->buf.len)
        return STEP_MORE;
    int c = d[s->pos];
    if (c == (unsigned char)s->delim[0]) {
        if (!have(s, s->dlen))
            return STEP_NEED;
        if (starts_delimiter(s)) {
            size_t end = s->pos;
            s->pos += s->dlen;
            return emit(s, end, out, err);
        }
    }
    switch (c) {
    case '\'':
    case '"':
    case '`':
        s->state = c == '\'' ? ST_SQUOTE : c == '"' ? ST_DQUOTE : ST_BTICK;
        s->tok_line = s->line;
        break;
    case '#':
        s->state = ST_LINE_COMMENT;
        break;
    case '-':
        if (!have(s, 3))
            return STEP_NEED;
        if (peek(s, 1) == '-' && peek(s, 2) <= ' ') {
            s->state = ST_LINE_COMMENT;
            s->pos++;
        }
        break;
    case '/':
        if (!have(s, 4))
            return STEP_NEED;
        if (peek(s, 1) != '*')
            break;
        s->tok_line = s->line;
        if (!s->in_exec && (peek(s, 2) == '!' || (peek(s, 2) == 'M' && peek(s, 3) == '!'))) {
            s->in_exec = true;
            s->pos += peek(s, 2) == '!' ? 2 : 3;
        } else {
            s->state = ST_BLOCK_COMMENT;
            s->pos++;
        }
        break;
    case '*':
        if (!s->in_exec)
            break;
        if (!have(s, 2))
            return STEP_NEED;
        if (peek(s, 1) == '/') {
            s->in_exec = false;
            s->pos++;
        }
        break;
    case '\\':
        return refuse_backslash(s, err);
    case '\n':
        s->line++;
        break;
    }
    s->pos++;
    return STEP_MORE;
}

static int
step_quoted(sl_myscript *s)
{
    const char *d = s->buf.data;
    char q = s->state == ST_SQUOTE ? '\'' : s->state == ST_DQUOTE ? '"' : '`';
    bool escapes = s->state != ST_BTICK;
    while (s->pos < s->buf.len) {
        char c = d[s->pos];
        if (c == '\n') {
            s->line++;
        } else if (c == '\\' && escapes) {
            if (!have(s, 2))
                return STEP_NEED;
            s->line += peek(s, 1) == '\n';
            s->pos += peek(s, 1) < 0 ? 1 : 2;
            continue;
        } else if (c == q) {
            if (!have(s, 2))
                return STEP_NEED;
            if (peek(s, 1) == q) {  /* doubled: still inside */
                s->pos += 2;
                continue;
            }
            s->state = ST_CODE;
            s->pos++;
            return STEP_MORE;
        }
        s->pos++;
    }
    return STEP_MORE;
}

static int
step_comment(sl_myscript *s)
{
    const char *d = s->buf.data;
    if (s->state == ST_LINE_COMMENT) {
        const char *nl = memchr(d + s->pos, '\n', s->buf.len - s->pos);
        if (!nl) {
            s->pos = s->buf.len;
            return STEP_MORE;
        }
        s->pos = (size_t)(nl - d);  /* the newline itself is scanned as code */
        s->state = ST_CODE;
        return STEP_MORE;
    }
    while (s->pos < s->buf.len) {
        char c = d[s->pos];
        if (c == '\n') {
            s->line++;
        } else if (c == '*') {
            if (!have(s, 2))
                return STEP_NEED;
            if (peek(s, 1) == '/') {
                s->state = ST_CODE;
                s->pos += 2;
                return STEP_MORE;
            }
        }
        s->pos++;
    }
    return STEP_MORE;
}

static const char *
open_construct(const sl_myscript *s)
{
    switch (s->state) {
    case ST_SQUOTE:
        return "quoted string";
    case ST_DQUOTE:
        return "double-quoted string";
    case ST_BTICK:
        return "backtick-quoted identifier";
    case ST_BLOCK_COMMENT:
        return "comment";
    }
    return s->in_exec ? "executable comment" : NULL;
}

/* The input is over: the last statement, or an error for what is left open. */
static int
at_end(sl_myscript *s, sl_myscript_stmt *out, sl_error *err)
{
    const char *open = open_construct(s);
    if (open) {
        (void)fail(s, err, s->tok_line, "unterminated %s at the end of the script", open);
        return -1;
    }
    s->done = true;
    if (!s->has_code)
        return 0;
    return emit(s, s->buf.len, out, err) == STEP_EMIT ? 1 : -1;
}

int
sl_myscript_next(sl_myscript *s, sl_myscript_stmt *out, sl_error *err)
{
    if (s->failed) {
        sl_error_set(err, SL_E_INTERNAL, "script splitter used after an error");
        return -1;
    }
    if (s->done)
        return 0;
    for (;;) {
        if (s->has_code && s->pos - s->start > s->max) {
            (void)too_long(s, err);
            return -1;
        }
        if (s->pos >= s->buf.len)
            return s->finished ? at_end(s, out, err) : 0;
        int r;
        if (s->state == ST_CODE)
            r = s->has_code ? step_code(s, out, err) : step_start(s, err);
        else if (s->state == ST_LINE_COMMENT || s->state == ST_BLOCK_COMMENT)
            r = step_comment(s);
        else
            r = step_quoted(s);
        if (r == STEP_EMIT)
            return 1;
        if (r == STEP_FAIL)
            return -1;
        if (r == STEP_NEED)
            return 0;
    }
}

/* Whether text holds word (ASCII, any case). */
static bool
has_word(const char *text, size_t len, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(text + i, word, n) == 0)
            return true;
    return false;
}

const char *
sl_myscript_head(const char *text, size_t len, char *out, size_t cap)
{
    if (cap == 0)
        return out;
    const char *nl = memchr(text, '\n', len);
    size_t n = nl ? (size_t)(nl - text) : len;
    bool secret = has_word(text, n, "IDENTIFIED") || has_word(text, n, "PASSWORD");
    size_t o = 0;
    char quote = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        char c = text[i];
        if (secret && quote) {
            if (c == '\\' && i + 1 < n) {
                i++;
                continue;
            }
            if (c != quote)
                continue;
            quote = 0;
        } else if (secret && (c == '\'' || c == '"')) {
            quote = c;
            if (o + 5 < cap) {
                memcpy(out + o, "'***", 4);
                o += 4;
            }
            continue;
        }
        out[o++] = (unsigned char)c < ' ' || c == 0x7f ? ' ' : c;
    }
    out[o] = '\0';
    return out;
}
