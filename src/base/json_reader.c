/* base/json_reader.c: a resumable JSON tokenizer (base/json_reader.h).
 *
 * Design. A byte-at-a-time state machine, like restore/splitter.c: all state lives in the
 * struct, so a chunk may end anywhere. `expect` is the grammar (what may come next at the
 * current nesting), `lex` the token being read (a string and its escapes, a number, a literal).
 * A number has no end marker: the byte after it ends it and is then read again by the grammar.
 * Raw UTF-8 in strings is checked with the ranges of RFC 3629 (no overlong forms, no surrogates,
 * nothing above U+10FFFF), one byte at a time. The one shortcut: inside a string, a run of plain
 * ASCII (no quote, backslash or control byte) is copied at once, since that is most of any
 * document's bytes and a call per byte costs more than the check. The string buffer grows as
 * strings need it (up to max_string): a large bound costs nothing until a string is large. */
#include "base/hex.h"
#include "base/json_reader.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

typedef enum {
    EX_VALUE,         /* a value (the document, after ':' or after ',' in an array) */
    EX_VALUE_OR_END,  /* just after '[' */
    EX_KEY,           /* after ',' in an object */
    EX_KEY_OR_END,    /* just after '{' */
    EX_COLON,         /* after a key */
    EX_COMMA_OR_END,  /* after a value inside a container */
    EX_DONE,          /* the document is complete: only whitespace may follow */
} expect_state;

typedef enum {
    LX_NONE,          /* between tokens */
    LX_STRING,
    LX_ESCAPE,        /* after a backslash */
    LX_HEX,           /* the four hex digits of \u */
    LX_SURROGATE_BS,  /* after a high surrogate: its low half's backslash must follow */
    LX_SURROGATE_U,   /* ... and its 'u' */
    LX_NUMBER,
    LX_NUMBER_TEXT,   /* a number kept as its text (sl_json_reader_numbers_as_text) */
    LX_LITERAL,       /* true, false, null */
} lex_state;

enum { S_NEXT, S_TOKEN, S_TOKEN_KEEP, S_ERROR };

/* Where a number kept as text is in RFC 8259's grammar. */
typedef enum {
    NT_SIGN,       /* after '-' */
    NT_ZERO,       /* the integer part is "0" */
    NT_INT,        /* in the integer part's digits */
    NT_DOT,        /* after '.' */
    NT_FRAC,       /* in the fraction's digits */
    NT_E,          /* after 'e' or 'E' */
    NT_EXP_SIGN,   /* after the exponent's sign */
    NT_EXP,        /* in the exponent's digits */
} number_text_state;

struct sl_json_reader {
    const unsigned char *pos, *end;
    bool finished, failed;
    uint64_t offset;  /* of *pos */
    size_t max_string;
    int max_depth, depth;
    char *stack;      /* '{' or '[' per open container */
    expect_state expect;
    lex_state lex;
    uint64_t token_start;

    bool is_key;
    char *str;
    size_t str_len, str_cap;
    unsigned utf8_left;  /* continuation bytes still due */
    unsigned char utf8_lo, utf8_hi;  /* range of the next one */
    unsigned hex_n;
    uint32_t hex, high;  /* \u digits so far; a high surrogate waiting for its low half */

    bool numbers_as_text;
    number_text_state nt;
    bool neg, zero_first;
    uint64_t mag;
    int ndigits;

    const char *lit;
    size_t lit_pos;
    sl_json_kind lit_kind;
};

sl_json_reader *
sl_json_reader_new(size_t max_string, int max_depth)
{
    sl_json_reader *r = sl_calloc(1, sizeof *r);
    r->max_string = max_string;
    r->max_depth = max_depth > 0 ? max_depth : 1;
    r->stack = sl_malloc((size_t)r->max_depth);
    r->str_cap = max_string < 256 ? max_string + 1 : 256;
    r->str = sl_malloc(r->str_cap);
    r->expect = EX_VALUE;
    return r;
}

void
sl_json_reader_free(sl_json_reader *r)
{
    if (!r)
        return;
    free(r->stack);
    free(r->str);
    free(r);
}

void
sl_json_reader_feed(sl_json_reader *r, const void *data, size_t len)
{
    r->pos = data;
    r->end = r->pos + len;
}

void
sl_json_reader_reset(sl_json_reader *r)
{
    r->pos = r->end = NULL;
    r->finished = r->failed = false;
    r->offset = 0;
    r->depth = 0;
    r->expect = EX_VALUE;
    r->lex = LX_NONE;
}

void
sl_json_reader_numbers_as_text(sl_json_reader *r)
{
    r->numbers_as_text = true;
}

void
sl_json_reader_finish(sl_json_reader *r)
{
    r->finished = true;
}

uint64_t
sl_json_reader_offset(const sl_json_reader *r)
{
    return r->offset;
}

static int
fail(sl_json_reader *r, sl_error *err, const char *what, uint64_t at)
{
    sl_error_set(err, SL_E_ARCHIVE, "%s at byte %llu", what, (unsigned long long)at);
    r->failed = true;
    return S_ERROR;
}

static int
unexpected(sl_json_reader *r, unsigned char c, sl_error *err)
{
    char what[48];
    if (c > 0x20 && c < 0x7f)
        snprintf(what, sizeof what, "unexpected '%c'", c);
    else
        snprintf(what, sizeof what, "unexpected byte 0x%02x", c);
    return fail(r, err, what, r->offset);
}

static bool
value_allowed(const sl_json_reader *r)
{
    return r->expect == EX_VALUE || r->expect == EX_VALUE_OR_END;
}

static void
after_value(sl_json_reader *r)
{
    r->expect = r->depth == 0 ? EX_DONE : EX_COMMA_OR_END;
}

/* Room for n more bytes of the current string (and its NUL), within max_string. */
static int
reserve(sl_json_reader *r, size_t n, sl_error *err)
{
    if (n > r->max_string - r->str_len) {
        char what[64];
        snprintf(what, sizeof what, "%s longer than %zu bytes",
                 r->lex == LX_NUMBER_TEXT ? "number" : "string", r->max_string);
        return fail(r, err, what, r->token_start);
    }
    if (r->str_len + n + 1 > r->str_cap) {
        size_t cap = r->str_cap;
        while (r->str_len + n + 1 > cap)
            cap = cap > (r->max_string + 1) / 2 ? r->max_string + 1 : 2 * cap;
        r->str = sl_realloc(r->str, cap);
        r->str_cap = cap;
    }
    return S_NEXT;
}

static int
append(sl_json_reader *r, unsigned char c, sl_error *err)
{
    if ((r->str_len + 1 >= r->str_cap || r->str_len == r->max_string) &&
        reserve(r, 1, err) != S_NEXT)
        return S_ERROR;
    r->str[r->str_len++] = (char)c;
    return S_NEXT;
}

static int
append_code_point(sl_json_reader *r, uint32_t cp, sl_error *err)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xc0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xe0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xf0 | cp >> 18);
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    for (size_t i = 0; i < n; i++)
        if (append(r, b[i], err) != S_NEXT)
            return S_ERROR;
    return S_NEXT;
}

/* ---- grammar ---- */

static int
open_container(sl_json_reader *r, unsigned char c, sl_json_token *tok, sl_error *err)
{
    if (!value_allowed(r))
        return unexpected(r, c, err);
    if (r->depth == r->max_depth) {
        char what[48];
        snprintf(what, sizeof what, "nesting deeper than %d levels", r->max_depth);
        return fail(r, err, what, r->offset);
    }
    tok->kind = c == '{' ? SL_JSON_OBJECT : SL_JSON_ARRAY;
    tok->depth = r->depth;
    r->stack[r->depth++] = (char)c;
    r->expect = c == '{' ? EX_KEY_OR_END : EX_VALUE_OR_END;
    return S_TOKEN;
}

static int
close_container(sl_json_reader *r, unsigned char c, sl_json_token *tok, sl_error *err)
{
    char open = c == '}' ? '{' : '[';
    expect_state empty = c == '}' ? EX_KEY_OR_END : EX_VALUE_OR_END;
    if (r->depth == 0 || r->stack[r->depth - 1] != open
        || (r->expect != EX_COMMA_OR_END && r->expect != empty))
        return unexpected(r, c, err);
    r->depth--;
    tok->kind = c == '}' ? SL_JSON_OBJECT_END : SL_JSON_ARRAY_END;
    tok->depth = r->depth;
    after_value(r);
    return S_TOKEN;
}

static int
start_literal(sl_json_reader *r, unsigned char c)
{
    r->lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
    r->lit_kind = c == 't' ? SL_JSON_TRUE : c == 'f' ? SL_JSON_FALSE : SL_JSON_NULL;
    r->lit_pos = 1;
    r->lex = LX_LITERAL;
    return S_NEXT;
}

static int
grammar(sl_json_reader *r, unsigned char c, sl_json_token *tok, sl_error *err)
{
    r->token_start = r->offset;
    switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
        return S_NEXT;
    case '{':
    case '[':
        return open_container(r, c, tok, err);
    case '}':
    case ']':
        return close_container(r, c, tok, err);
    case ',':
        if (r->expect != EX_COMMA_OR_END)
            return unexpected(r, c, err);
        r->expect = r->stack[r->depth - 1] == '{' ? EX_KEY : EX_VALUE;
        return S_NEXT;
    case ':':
        if (r->expect != EX_COLON)
            return unexpected(r, c, err);
        r->expect = EX_VALUE;
        return S_NEXT;
    case '"':
        if (r->expect == EX_KEY || r->expect == EX_KEY_OR_END)
            r->is_key = true;
        else if (value_allowed(r))
            r->is_key = false;
        else
            return unexpected(r, c, err);
        r->lex = LX_STRING;
        r->str_len = 0;
        r->utf8_left = 0;
        r->high = 0;
        return S_NEXT;
    case 't':
    case 'f':
    case 'n':
        return value_allowed(r) ? start_literal(r, c) : unexpected(r, c, err);
    default:
        break;
    }
    if ((c == '-' || (c >= '0' && c <= '9')) && value_allowed(r) && r->numbers_as_text) {
        r->lex = LX_NUMBER_TEXT;
        r->nt = c == '-' ? NT_SIGN : c == '0' ? NT_ZERO : NT_INT;
        r->str_len = 0;
        return append(r, c, err);
    }
    if ((c == '-' || (c >= '0' && c <= '9')) && value_allowed(r)) {
        r->neg = c == '-';
        r->zero_first = c == '0';
        r->mag = c == '-' ? 0 : (uint64_t)(c - '0');
        r->ndigits = c == '-' ? 0 : 1;
        r->lex = LX_NUMBER;
        return S_NEXT;
    }
    return unexpected(r, c, err);
}

/* ---- strings ---- */

static int
end_string(sl_json_reader *r, sl_json_token *tok)
{
    r->str[r->str_len] = '\0';
    r->lex = LX_NONE;
    tok->kind = r->is_key ? SL_JSON_KEY : SL_JSON_STRING;
    tok->text = r->str;
    tok->len = r->str_len;
    tok->depth = r->depth;
    if (r->is_key)
        r->expect = EX_COLON;
    else
        after_value(r);
    return S_TOKEN;
}

/* A byte that starts a UTF-8 sequence: how many follow and the range of the first of them. */
static bool
utf8_lead(sl_json_reader *r, unsigned char c)
{
    r->utf8_lo = 0x80;
    r->utf8_hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        r->utf8_left = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        r->utf8_left = 2;
        if (c == 0xe0)
            r->utf8_lo = 0xa0;  /* no overlong forms */
        else if (c == 0xed)
            r->utf8_hi = 0x9f;  /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        r->utf8_left = 3;
        if (c == 0xf0)
            r->utf8_lo = 0x90;
        else if (c == 0xf4)
            r->utf8_hi = 0x8f;  /* nothing above U+10FFFF */
    } else {
        return false;
    }
    return true;
}

static int
string_byte(sl_json_reader *r, unsigned char c, sl_json_token *tok, sl_error *err)
{
    if (r->utf8_left) {
        if (c < r->utf8_lo || c > r->utf8_hi)
            return fail(r, err, "invalid UTF-8 in a string", r->offset);
        r->utf8_left--;
        r->utf8_lo = 0x80;
        r->utf8_hi = 0xbf;
        return append(r, c, err);
    }
    if (c == '"')
        return end_string(r, tok);
    if (c == '\\') {
        r->lex = LX_ESCAPE;
        return S_NEXT;
    }
    if (c < 0x20)
        return fail(r, err, "control character in a string", r->offset);
    if (c >= 0x80 && !utf8_lead(r, c))
        return fail(r, err, "invalid UTF-8 in a string", r->offset);
    return append(r, c, err);
}

static int
escape_byte(sl_json_reader *r, unsigned char c, sl_error *err)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (c == 'u') {
        r->lex = LX_HEX;
        r->hex_n = 0;
        r->hex = 0;
        return S_NEXT;
    }
    for (size_t i = 0; from[i]; i++) {
        if (c == (unsigned char)from[i]) {
            r->lex = LX_STRING;
            return append(r, (unsigned char)to[i], err);
        }
    }
    return fail(r, err, "invalid escape in a string", r->offset);
}

static int
hex_byte(sl_json_reader *r, unsigned char c, sl_error *err)
{
    int v = sl_hex_digit((char)c);
    if (v < 0)
        return fail(r, err, "invalid \\u escape in a string", r->offset);
    r->hex = r->hex << 4 | (uint32_t)v;
    if (++r->hex_n < 4)
        return S_NEXT;
    uint32_t unit = r->hex;
    bool low = unit >= 0xdc00 && unit <= 0xdfff, high = unit >= 0xd800 && unit <= 0xdbff;
    if (r->high) {
        if (!low)
            return fail(r, err, "unpaired surrogate in a string", r->offset);
        uint32_t cp = 0x10000 + ((r->high - 0xd800) << 10) + (unit - 0xdc00);
        r->high = 0;
        r->lex = LX_STRING;
        return append_code_point(r, cp, err);
    }
    if (high) {
        r->high = unit;
        r->lex = LX_SURROGATE_BS;
        return S_NEXT;
    }
    if (low)
        return fail(r, err, "unpaired surrogate in a string", r->offset);
    if (unit == 0)
        return fail(r, err, "\\u0000 in a string", r->offset);
    r->lex = LX_STRING;
    return append_code_point(r, unit, err);
}

/* ---- numbers and literals ---- */

static int
end_number(sl_json_reader *r, sl_json_token *tok, sl_error *err)
{
    if (r->ndigits == 0)
        return fail(r, err, "'-' without digits", r->token_start);
    r->lex = LX_NONE;
    tok->kind = SL_JSON_INT;
    if (!r->neg)
        tok->integer = (int64_t)r->mag;
    else if (r->mag == (uint64_t)INT64_MAX + 1)
        tok->integer = INT64_MIN;
    else
        tok->integer = -(int64_t)r->mag;
    tok->depth = r->depth;
    after_value(r);
    return S_TOKEN_KEEP;
}

static int
number_byte(sl_json_reader *r, unsigned char c, sl_json_token *tok, sl_error *err)
{
    if (c >= '0' && c <= '9') {
        uint64_t limit = r->neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        unsigned d = c - '0';
        if (r->ndigits == 1 && r->zero_first)
            return fail(r, err, "number with a leading zero", r->token_start);
        if (r->ndigits == 0)
            r->zero_first = c == '0';
        if (r->mag > (limit - d) / 10)
            return fail(r, err, "number out of the range of a 64-bit integer", r->token_start);
        r->mag = r->mag * 10 + d;
        r->ndigits++;
        return S_NEXT;
    }
    if (c == '.' || c == 'e' || c == 'E')
        return fail(r, err, "number that is not an integer", r->token_start);
    return end_number(r, tok, err);
}

/* The byte after a number kept as text: the number's end when its grammar allows one. */
static int
end_number_text(sl_json_reader *r, sl_json_token *tok, sl_error *err)
{
    static const char *const why[] = {
        [NT_SIGN] = "'-' without digits",
        [NT_DOT] = "number without digits after its '.'",
        [NT_E] = "number without digits in its exponent",
        [NT_EXP_SIGN] = "number without digits in its exponent",
    };
    if (r->nt != NT_ZERO && r->nt != NT_INT && r->nt != NT_FRAC && r->nt != NT_EXP)
        return fail(r, err, why[r->nt], r->token_start);
    r->str[r->str_len] = '\0';
    r->lex = LX_NONE;
    tok->kind = SL_JSON_NUMBER;
    tok->text = r->str;
    tok->len = r->str_len;
    tok->depth = r->depth;
    after_value(r);
    return S_TOKEN_KEEP;
}

/* The state after c in a number in state s, or -1 when c does not continue the number. */
static int
number_text_next(number_text_state s, unsigned char c)
{
    bool digit = c >= '0' && c <= '9', e = c == 'e' || c == 'E';
    switch (s) {
    case NT_SIGN:
        return c == '0' ? NT_ZERO : digit ? NT_INT : -1;
    case NT_ZERO:
    case NT_INT:
        return digit ? NT_INT : c == '.' ? NT_DOT : e ? NT_E : -1;
    case NT_DOT:
        return digit ? NT_FRAC : -1;
    case NT_FRAC:
        return digit ? NT_FRAC : e ? NT_E : -1;
    case NT_E:
        return digit ? NT_EXP : (c == '+' || c == '-') ? NT_EXP_SIGN : -1;
    case NT_EXP_SIGN:
    case NT_EXP:
        return digit ? NT_EXP : -1;
    }
    return -1;
}

static int
number_text_byte(sl_json_reader *r, unsigned char c, sl_json_token *tok, sl_error *err)
{
    if (r->nt == NT_ZERO && c >= '0' && c <= '9')
        return fail(r, err, "number with a leading zero", r->token_start);
    int next = number_text_next(r->nt, c);
    if (next < 0)
        return end_number_text(r, tok, err);
    r->nt = (number_text_state)next;
    return append(r, c, err);
}

static int
literal_byte(sl_json_reader *r, unsigned char c, sl_json_token *tok, sl_error *err)
{
    if (c != (unsigned char)r->lit[r->lit_pos])
        return fail(r, err, "invalid literal", r->token_start);
    if (r->lit[++r->lit_pos])
        return S_NEXT;
    r->lex = LX_NONE;
    tok->kind = r->lit_kind;
    tok->depth = r->depth;
    after_value(r);
    return S_TOKEN;
}

static int
step(sl_json_reader *r, unsigned char c, sl_json_token *tok, sl_error *err)
{
    switch (r->lex) {
    case LX_NONE:
        return grammar(r, c, tok, err);
    case LX_STRING:
        return string_byte(r, c, tok, err);
    case LX_ESCAPE:
        return escape_byte(r, c, err);
    case LX_HEX:
        return hex_byte(r, c, err);
    case LX_SURROGATE_BS:
        if (c != '\\')
            return fail(r, err, "unpaired surrogate in a string", r->offset);
        r->lex = LX_SURROGATE_U;
        return S_NEXT;
    case LX_SURROGATE_U:
        if (c != 'u')
            return fail(r, err, "unpaired surrogate in a string", r->offset);
        r->lex = LX_HEX;
        r->hex_n = 0;
        r->hex = 0;
        return S_NEXT;
    case LX_NUMBER:
        return number_byte(r, c, tok, err);
    case LX_NUMBER_TEXT:
        return number_text_byte(r, c, tok, err);
    case LX_LITERAL:
        return literal_byte(r, c, tok, err);
    }
    return fail(r, err, "internal tokenizer state", r->offset);
}

#define ONES ((uint64_t)0x0101010101010101)
#define HIGHS (ONES * 0x80)

/* Whether the 8 bytes at s are all plain (as base/jsonw.c tests them): none below 0x20, no
 * quote, no backslash, none of 0x80 or more. A byte's high bit in each term marks it. */
static bool
plain8(const unsigned char *s)
{
    uint64_t x;
    memcpy(&x, s, 8);
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    uint64_t low = (x - ONES * 0x20) & ~x;
    uint64_t quote = (q - ONES) & ~q, bslash = (b - ONES) & ~b;
    return ((low | quote | bslash | x) & HIGHS) == 0;
}

/* Copies the plain ASCII bytes at pos (no quote, backslash or control byte) and the
 * two-byte escapes among them (not \u) into the string at once. */
static int
plain_run(sl_json_reader *r, sl_error *err)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const unsigned char *p = r->pos;
    for (;;) {
        const unsigned char *q = p;
        while (r->end - q >= 8 && plain8(q))
            q += 8;
        while (q < r->end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
            q++;
        size_t n = (size_t)(q - p);
        if (n && reserve(r, n, err) != S_NEXT)
            return S_ERROR;
        memcpy(r->str + r->str_len, p, n);
        r->str_len += n;
        p = q;
        const char *e = p + 1 < r->end && *p == '\\' ? memchr(from, p[1], sizeof from - 1) : NULL;
        if (!e)
            break;
        if (reserve(r, 1, err) != S_NEXT)
            return S_ERROR;
        r->str[r->str_len++] = to[e - from];
        p += 2;
    }
    r->offset += (uint64_t)(p - r->pos);
    r->pos = p;
    return S_NEXT;
}

/* The input has ended: a number may end with it; anything else left open is an error. */
static int
finish_step(sl_json_reader *r, sl_json_token *tok, sl_error *err)
{
    if (r->lex == LX_NUMBER)
        return end_number(r, tok, err) == S_ERROR ? -1 : 1;
    if (r->lex == LX_NUMBER_TEXT)
        return end_number_text(r, tok, err) == S_ERROR ? -1 : 1;
    if (r->lex != LX_NONE || r->expect != EX_DONE) {
        fail(r, err, r->lex == LX_NONE ? "the document ends early" : "the document ends inside "
                                                                    "a token", r->offset);
        return -1;
    }
    return 0;
}

int
sl_json_reader_next(sl_json_reader *r, sl_json_token *tok, sl_error *err)
{
    if (r->failed) {
        sl_error_set(err, SL_E_INTERNAL, "JSON reader used after an error");
        return -1;
    }
    tok->text = NULL;
    tok->len = 0;
    tok->integer = 0;
    while (r->pos < r->end) {
        if (r->lex == LX_STRING && !r->utf8_left && plain_run(r, err) != S_NEXT)
            return -1;
        if (r->pos == r->end)
            break;
        int rc = step(r, *r->pos, tok, err);
        if (rc == S_ERROR)
            return -1;
        if (rc != S_TOKEN_KEEP) {
            r->pos++;
            r->offset++;
        }
        if (rc != S_NEXT)
            return 1;
    }
    return r->finished ? finish_step(r, tok, err) : 0;
}
