/* mydump/createtable.c: see createtable.h. */
#include "mydump/createtable.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* The end of the quoted run starting at p (p points at the quote), or NULL when unterminated.
 * A doubled quote stays inside; a backslash escapes the next byte in ' and " strings. */
static const char *
skip_quoted(const char *p)
{
    char q = *p++;
    for (; *p; p++) {
        if (*p == '\\' && q != '`' && p[1]) {
            p++;
        } else if (*p == q) {
            if (p[1] != q)
                return p + 1;
            p++;
        }
    }
    return NULL;
}

/* Past one token that may hide a comma or a parenthesis: a quoted run or a comment. NULL when
 * unterminated; p itself when p starts neither. */
static const char *
skip_opaque(const char *p)
{
    if (*p == '`' || *p == '\'' || *p == '"')
        return skip_quoted(p);
    if (p[0] == '/' && p[1] == '*') {
        const char *e = strstr(p + 2, "*/");
        return e ? e + 2 : NULL;
    }
    return p;
}

/* The first '(' at depth 0 from p, skipping quoted runs (the table's name may hold one). */
static const char *
find_open(const char *p)
{
    while (*p && *p != '(') {
        const char *n = skip_opaque(p);
        if (!n)
            return NULL;
        p = n == p ? p + 1 : n;
    }
    return *p ? p : NULL;
}

/* Does element e start with the keyword w (case-insensitive, then a space or '(')? */
static bool
starts(const char *e, const char *w)
{
    size_t n = strlen(w);
    return strncasecmp(e, w, n) == 0 && (e[n] == ' ' || e[n] == '(' || e[n] == '\n');
}

/* The unquoted first column of a key element, into out ("" when not found). */
static void
first_column(const char *e, size_t len, sl_buf *out)
{
    sl_buf_reset(out);
    const char *end = e + len, *p = find_open(e);
    if (!p || p >= end)
        return;
    for (p++; p < end && isspace((unsigned char)*p); p++)
        ;
    if (p >= end || *p != '`')
        return;
    for (p++; p < end; p++) {
        if (*p == '`') {
            if (p + 1 < end && p[1] == '`')
                p++;
            else
                return;
        }
        sl_buf_putc(out, *p);
    }
}

typedef enum { KEEP, INDEX, FK } element_kind;

static element_kind
classify(const char *e, size_t len)
{
    if (starts(e, "FOREIGN"))
        return FK;
    if (starts(e, "CONSTRAINT")) {
        const char *p = e + strlen("CONSTRAINT");
        while (*p == ' ')
            p++;
        if (*p == '`') {
            p = skip_quoted(p);
            if (!p || p > e + len)
                return KEEP;
            while (*p == ' ')
                p++;
        }
        return starts(p, "FOREIGN") ? FK : KEEP;
    }
    if (starts(e, "KEY") || starts(e, "INDEX") || starts(e, "UNIQUE") ||
        starts(e, "FULLTEXT") || starts(e, "SPATIAL"))
        return INDEX;
    return KEEP;
}

static void
add_clause(sl_buf *to, const char *e, size_t len)
{
    if (to->len)
        sl_buf_puts(to, ",\n  ");
    sl_buf_puts(to, "ADD ");
    sl_buf_append(to, e, len);
}

/* Splits the body [p, close) at depth-0 commas and sorts each element. */
static int
sort_elements(const char *p, const char *close, const char *autoinc, sl_buf *keep,
              sl_buf *indexes, sl_buf *fks)
{
    sl_buf col = SL_BUF_INIT;
    bool autoinc_keyed = false;
    while (p < close) {
        while (p < close && isspace((unsigned char)*p))
            p++;
        const char *e = p;
        int depth = 0;
        while (p < close && (depth > 0 || *p != ',')) {
            const char *n = skip_opaque(p);
            if (!n || n > close) {
                sl_buf_free(&col);
                return -1;
            }
            if (n != p) {
                p = n;
                continue;
            }
            depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
            p++;
        }
        size_t len = (size_t)(p - e);
        while (len && isspace((unsigned char)e[len - 1]))
            len--;
        element_kind k = classify(e, len);
        if (k == KEEP && starts(e, "PRIMARY") && autoinc) {
            first_column(e, len, &col);
            autoinc_keyed |= col.data && strcmp(col.data, autoinc) == 0;
        }
        if (k == INDEX && autoinc && !autoinc_keyed) {
            first_column(e, len, &col);
            if (col.data && strcmp(col.data, autoinc) == 0) {
                autoinc_keyed = true;
                k = KEEP;  /* the AUTO_INCREMENT column must have a key from the start */
            }
        }
        if (len)
            k == INDEX ? add_clause(indexes, e, len)
            : k == FK  ? add_clause(fks, e, len)
                       : (sl_buf_puts(keep, keep->len ? ",\n  " : "  "),
                          sl_buf_append(keep, e, len));
        if (p < close)
            p++;  /* the comma */
    }
    sl_buf_free(&col);
    return 0;
}

/* The ')' that closes the '(' at open, NULL when there is none. */
static const char *
find_close(const char *open)
{
    int depth = 0;
    for (const char *p = open; *p;) {
        const char *n = skip_opaque(p);
        if (!n)
            return NULL;
        if (n != p) {
            p = n;
            continue;
        }
        depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
        if (depth == 0)
            return p;
        p++;
    }
    return NULL;
}

int
sl_mydump_create_split(const char *ddl, const char *autoinc_column, sl_buf *create,
                       sl_buf *indexes, sl_buf *fks, sl_error *err)
{
    const char *open = find_open(ddl), *close = open ? find_close(open) : NULL;
    sl_buf keep = SL_BUF_INIT;
    sl_buf_reset(indexes);
    sl_buf_reset(fks);
    if (!close || strncasecmp(ddl, "CREATE TABLE ", 13) != 0 ||
        sort_elements(open + 1, close, autoinc_column, &keep, indexes, fks) != 0) {
        sl_buf_free(&keep);
        sl_error_set(err, SL_E_UNSUPPORTED, "SHOW CREATE TABLE's text has an unexpected shape");
        return -1;
    }
    sl_buf_reset(create);
    sl_buf_append(create, ddl, (size_t)(open - ddl) + 1);
    sl_buf_putc(create, '\n');
    if (keep.len)
        sl_buf_append(create, keep.data, keep.len);
    sl_buf_putc(create, '\n');
    sl_buf_puts(create, close);
    sl_buf_free(&keep);
    return 0;
}

void
sl_mydump_unqualify(const char *text, const char *db, sl_buf *out)
{
    sl_buf name = SL_BUF_INIT;
    sl_buf_reset(out);
    const char *p = text;
    while (*p) {
        const char *n = skip_opaque(p);
        if (!n) {  /* unterminated: the rest as it is */
            sl_buf_puts(out, p);
            break;
        }
        if (n == p) {
            sl_buf_putc(out, *p++);
            continue;
        }
        /* only the first part of a name (`db`.`t`, not `o`.`db`.`c`) */
        if (*p == '`' && *n == '.' && !(out->len && out->data[out->len - 1] == '.')) {
            sl_buf_reset(&name);
            for (const char *q = p + 1; q < n - 1; q++) {
                sl_buf_putc(&name, *q);
                q += *q == '`';  /* a doubled backtick is one */
            }
            if (strcmp(name.data ? name.data : "", db) == 0) {
                p = n + 1;  /* `db`. dropped */
                continue;
            }
        }
        sl_buf_append(out, p, (size_t)(n - p));
        p = n;
    }
    sl_buf_free(&name);
}
