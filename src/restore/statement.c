/* restore/statement.c: statement text decisions (statement.h).
 * A small lexer walks the statement as the server would: words, quoted identifiers, strings
 * and punctuation, with comments and blanks passed over. Only the first words and the last
 * tokens matter, so nothing is kept but those. */
#include "restore/statement.h"

#include <string.h>
#include <strings.h>

typedef enum {
    TOK_END,    /* end of the text */
    TOK_WORD,   /* keyword or unquoted identifier */
    TOK_IDENT,  /* "quoted identifier" */
    TOK_STRING, /* 'literal', E'literal', $tag$literal$tag$ */
    TOK_OTHER,  /* one character of punctuation */
} tok_kind;

typedef struct token {
    tok_kind kind;
    const char *start;
    size_t len;
    bool open;  /* a quoted token that the text ends inside */
} token;

static bool
is_word_byte(unsigned char c)
{
    return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c >= 0x80;
}

/* Past comments and blanks. An unterminated block comment runs to the end. */
static const char *
skip_blanks(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
            p++;
        if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n\r");
        } else if (p[0] == '/' && p[1] == '*') {
            int depth = 1;
            for (p += 2; *p && depth; p++) {
                if (p[0] == '/' && p[1] == '*')
                    depth++, p++;
                else if (p[0] == '*' && p[1] == '/')
                    depth--, p++;
            }
        } else {
            return p;
        }
    }
}

/* Past a quoted run that starts at p (on the quote): "" or '' inside it is a quote; with
 * backslashes, a backslash escapes the next byte (E'' strings). An unterminated run goes to
 * the end and sets *open. */
static const char *
skip_quoted(const char *p, char quote, bool backslashes, bool *open)
{
    for (p++; *p; p++) {
        if (backslashes && *p == '\\' && p[1])
            p++;
        else if (*p == quote && p[1] == quote)
            p++;
        else if (*p == quote)
            return p + 1;
    }
    *open = true;
    return p;
}

/* The length of a dollar-quote tag ("$$", "$tag$") at p, or 0. */
static size_t
dollar_tag(const char *p)
{
    size_t n = 1;
    if (p[n] != '$' && !((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
                         p[n] == '_' || (unsigned char)p[n] >= 0x80))
        return 0;
    while (p[n] != '$') {
        if (!is_word_byte((unsigned char)p[n]) || p[n] == '$')
            return 0;
        n++;
    }
    return n + 1;
}

static token
next_token(const char **pp)
{
    const char *p = skip_blanks(*pp);
    token t = {TOK_OTHER, p, 1, false};
    size_t tag;
    if (!*p) {
        t.kind = TOK_END;
        t.len = 0;
    } else if (*p == '"') {
        t.kind = TOK_IDENT;
        t.len = (size_t)(skip_quoted(p, '"', false, &t.open) - p);
    } else if (*p == '\'') {
        t.kind = TOK_STRING;
        t.len = (size_t)(skip_quoted(p, '\'', false, &t.open) - p);
    } else if ((*p == 'E' || *p == 'e') && p[1] == '\'') {
        t.kind = TOK_STRING;
        t.len = (size_t)(skip_quoted(p + 1, '\'', true, &t.open) - p);
    } else if (*p == '$' && (tag = dollar_tag(p)) > 0) {
        const char *end = p + tag;
        while (*end && strncmp(end, p, tag) != 0)
            end++;
        t.kind = TOK_STRING;
        t.open = !*end;
        t.len = (size_t)(*end ? end + tag - p : end - p);
    } else if (is_word_byte((unsigned char)*p) && *p != '$') {
        t.kind = TOK_WORD;
        t.len = 0;
        while (is_word_byte((unsigned char)p[t.len]))
            t.len++;
    }
    *pp = p + t.len;
    return t;
}

static bool
is_word(const token *t, const char *word)
{
    return t->kind == TOK_WORD && t->len == strlen(word) &&
           strncasecmp(t->start, word, t->len) == 0;
}

static bool
is_role(const token *t)
{
    return (t->kind == TOK_WORD || t->kind == TOK_IDENT) && !t->open;
}

bool
sl_statement_skipped(const char *text, bool no_owner, bool no_privileges)
{
    if (!no_owner && !no_privileges)
        return false;
    token first[3] = {{TOK_END, "", 0, false}, {TOK_END, "", 0, false}, {TOK_END, "", 0, false}};
    token last[3] = {{TOK_END, "", 0, false}, {TOK_END, "", 0, false}, {TOK_END, "", 0, false}};
    size_t n = 0;
    const char *p = text;
    for (token t = next_token(&p); t.kind != TOK_END; t = next_token(&p)) {
        if (t.kind == TOK_OTHER && *t.start == ';')
            continue;
        if (n < 3)
            first[n] = t;
        n++;
        last[0] = last[1];
        last[1] = last[2];
        last[2] = t;
    }
    if (no_privileges &&
        (is_word(&first[0], "GRANT") || is_word(&first[0], "REVOKE") ||
         (is_word(&first[0], "ALTER") && is_word(&first[1], "DEFAULT") &&
          is_word(&first[2], "PRIVILEGES"))))
        return true;
    if (no_owner && is_word(&first[0], "SET") && is_word(&first[1], "SESSION") &&
        is_word(&first[2], "AUTHORIZATION"))
        return true;
    /* ALTER ... OWNER TO role, the role being the statement's last token */
    return no_owner && n >= 5 && is_word(&first[0], "ALTER") && is_word(&last[0], "OWNER") &&
           is_word(&last[1], "TO") && is_role(&last[2]);
}

bool
sl_statement_copy_relation(const char *text, sl_buf *out)
{
    const char *p = text;
    token t = next_token(&p);
    if (!is_word(&t, "COPY"))
        return false;
    const char *start = skip_blanks(p), *end = start;
    /* the relation runs up to its column list or the next blank: name [. name] */
    for (p = start;;) {
        t = next_token(&p);
        if ((t.kind != TOK_WORD && t.kind != TOK_IDENT) || t.open)
            return false;
        end = t.start + t.len;
        if (*end != '.')
            break;
        p = end + 1;
    }
    sl_buf_append(out, start, (size_t)(end - start));
    return true;
}

bool
sl_statement_copy_freeze(const char *text, size_t len, sl_buf *out)
{
    sl_buf rel = SL_BUF_INIT;
    bool is_copy = sl_statement_copy_relation(text, &rel);
    sl_buf_free(&rel);
    size_t n = len;
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    static const char tail[] = "FROM stdin;";
    size_t tl = sizeof tail - 1;
    if (!is_copy || n < tl + 1 || strncasecmp(text + n - tl, tail, tl) != 0 ||
        (text[n - tl - 1] != ' ' && text[n - tl - 1] != '\n'))
        return false;
    sl_buf_reset(out);
    sl_buf_append(out, text, n - 1);
    sl_buf_puts(out, " WITH (FREEZE);");
    return true;
}
