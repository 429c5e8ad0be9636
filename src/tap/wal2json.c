/* tap/wal2json.c: see wal2json.h.
 * Design: the tokens of base/json_reader are matched against the one shape format-version 2
 * has, member by member. A token's text lives in the reader only until the next token, so the
 * texts a message keeps are appended to one buffer (text) and recorded by offset; pointers are
 * made once the message is complete, since the buffer may move while it grows. */
#include "tap/wal2json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json_reader.h"
#include "base/mem.h"

/* An unescaped string is never longer than its text: the message bounds it (the caller bounds
 * the message). This only keeps the reader's arithmetic far from overflow. */
#define MAX_STRING ((size_t)1 << 40)
/* object > array > object is the deepest wal2json goes; one more lets a value that is a
 * container be named as such */
#define MAX_DEPTH 4
#define NONE SIZE_MAX

/* A column entry while the message is read: offsets into text. */
typedef struct col_ref {
    size_t name, name_len, value, len;   /* value NONE: null */
} col_ref;

typedef struct col_list {
    col_ref *refs;
    size_t n, cap;
    sl_tap_wal2json_col *cols;           /* made at the end */
    size_t cols_cap;
} col_list;

struct sl_tap_wal2json {
    sl_json_reader *r;
    sl_buf text;
    col_list columns, identity;
    sl_json_token tok;
};

/* The members of the message object. */
enum {
    M_ACTION, M_SCHEMA, M_TABLE, M_TIMESTAMP, M_COLUMNS, M_IDENTITY, M_PK, M_XID, M_NEXTLSN,
    M_LSN, M_ORIGIN, M_PREFIX, M_CONTENT, M_TRANSACTIONAL, M_COUNT
};
static const char *const member_names[M_COUNT] = {
    "action", "schema", "table", "timestamp", "columns", "identity", "pk", "xid", "nextlsn",
    "lsn", "origin", "prefix", "content", "transactional",
};

/* The index of the token's text in names[0..n) (n when none): lengths first, the cheap part of
 * a comparison that runs for every member of every message. */
static int
name_index(const sl_json_token *t, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (t->text[0] == names[i][0] && strlen(names[i]) == t->len &&
            memcmp(t->text, names[i], t->len) == 0)
            return i;
    return n;
}

sl_tap_wal2json *
sl_tap_wal2json_new(void)
{
    sl_tap_wal2json *d = sl_calloc(1, sizeof *d);
    d->r = sl_json_reader_new(MAX_STRING, MAX_DEPTH);
    sl_json_reader_numbers_as_text(d->r);
    sl_buf_init(&d->text);
    return d;
}

static void
col_list_free(col_list *l)
{
    free(l->refs);
    free(l->cols);
}

void
sl_tap_wal2json_free(sl_tap_wal2json *d)
{
    if (!d)
        return;
    sl_json_reader_free(d->r);
    sl_buf_free(&d->text);
    col_list_free(&d->columns);
    col_list_free(&d->identity);
    free(d);
}

static int
fail(sl_tap_wal2json *d, sl_error *err, const char *what)
{
    sl_error_set(err, SL_E_SERVER, "wal2json message: %s at byte %llu", what,
                 (unsigned long long)sl_json_reader_offset(d->r));
    return -1;
}

/* A reader's error is the server's (its message names the byte). */
static int
reader_failed(sl_error *err)
{
    err->kind = SL_E_SERVER;
    sl_error_prefix(err, "wal2json message");
    return -1;
}

/* The next token (the object being open, the reader has one or fails). */
static int
next(sl_tap_wal2json *d, sl_error *err)
{
    int rc = sl_json_reader_next(d->r, &d->tok, err);
    if (rc == 1)
        return 0;
    return rc == 0 ? fail(d, err, "the message ends early") : reader_failed(err);
}

static int
expect(sl_tap_wal2json *d, sl_json_kind kind, const char *what, sl_error *err)
{
    if (next(d, err) != 0)
        return -1;
    return d->tok.kind == kind ? 0 : fail(d, err, what);
}

/* Appends the current token's text (and a NUL) to text: its offset. */
static size_t
keep(sl_tap_wal2json *d)
{
    size_t at = d->text.len;
    sl_buf_append(&d->text, d->tok.text, d->tok.len + 1);
    return at;
}

/* A scalar member value of the kind wanted, or an error naming the member. */
static int
scalar(sl_tap_wal2json *d, sl_json_kind kind, const char *member, sl_error *err)
{
    if (next(d, err) != 0)
        return -1;
    bool ok = d->tok.kind == kind ||
              (kind == SL_JSON_TRUE && d->tok.kind == SL_JSON_FALSE);
    if (ok)
        return 0;
    char what[64];
    snprintf(what, sizeof what, "unexpected value of \"%s\"", member);
    return fail(d, err, what);
}

/* The value of a column entry: string, number, boolean or null, kept. */
static int
column_value(sl_tap_wal2json *d, col_ref *c, sl_error *err)
{
    if (next(d, err) != 0)
        return -1;
    switch (d->tok.kind) {
    case SL_JSON_STRING:
    case SL_JSON_NUMBER:
        c->len = d->tok.len;
        c->value = keep(d);
        return 0;
    case SL_JSON_TRUE:
    case SL_JSON_FALSE:
        c->len = 1;
        c->value = d->text.len;
        sl_buf_append(&d->text, d->tok.kind == SL_JSON_TRUE ? "t" : "f", 2);
        return 0;
    case SL_JSON_NULL:
        c->value = NONE;
        return 0;
    default:
        return fail(d, err, "a column's value is neither a string, a number, a boolean nor null");
    }
}

/* The members of a column entry. */
enum { C_NAME, C_VALUE, C_TYPE, C_TYPEOID, C_OPTIONAL, C_COUNT };
static const char *const col_member_names[C_COUNT] = {"name", "value", "type", "typeoid",
                                                      "optional"};

static int
col_member(sl_tap_wal2json *d, int k, col_ref *c, sl_error *err)
{
    switch (k) {
    case C_NAME:
        if (scalar(d, SL_JSON_STRING, "name", err) != 0)
            return -1;
        c->name_len = d->tok.len;
        c->name = keep(d);
        return 0;
    case C_VALUE:
        return column_value(d, c, err);
    case C_TYPE:
        return scalar(d, SL_JSON_STRING, "type", err);
    case C_TYPEOID:
        return scalar(d, SL_JSON_NUMBER, "typeoid", err);
    default:
        return scalar(d, SL_JSON_TRUE, "optional", err);
    }
}

/* One entry of columns, identity (values wanted) or pk (no values): {"name": ..., ...}. */
static int
column_entry(sl_tap_wal2json *d, col_list *l, bool pk, sl_error *err)
{
    col_ref c = {NONE, 0, NONE, 0};
    bool seen[C_COUNT] = {false};
    for (;;) {
        if (next(d, err) != 0)
            return -1;
        if (d->tok.kind == SL_JSON_OBJECT_END)
            break;
        int k = name_index(&d->tok, col_member_names, C_COUNT);
        if (k == C_COUNT || seen[k] || (pk && (k == C_VALUE || k == C_OPTIONAL))) {
            char what[96];
            snprintf(what, sizeof what, "%s member \"%.40s\" of a column",
                     k < C_COUNT && seen[k] ? "a second" : "unexpected", d->tok.text);
            return fail(d, err, what);
        }
        seen[k] = true;
        if (col_member(d, k, &c, err) != 0)
            return -1;
    }
    if (!seen[C_NAME] || (!pk && !seen[C_VALUE]))
        return fail(d, err, pk ? "a key column without its name"
                               : "a column without its name or its value");
    if (!l)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->refs = sl_realloc(l->refs, l->cap * sizeof *l->refs);
    }
    l->refs[l->n++] = c;
    return 0;
}

/* An array of column entries (l NULL: pk, checked and dropped). */
static int
column_array(sl_tap_wal2json *d, col_list *l, sl_error *err)
{
    if (expect(d, SL_JSON_ARRAY, "a column list that is not an array", err) != 0)
        return -1;
    for (;;) {
        if (next(d, err) != 0)
            return -1;
        if (d->tok.kind == SL_JSON_ARRAY_END)
            return 0;
        if (d->tok.kind != SL_JSON_OBJECT)
            return fail(d, err, "a column that is not an object");
        if (column_entry(d, l, l == NULL, err) != 0)
            return -1;
    }
}

/* The value of member m; offsets of the strings kept go to at[]. */
static int
member(sl_tap_wal2json *d, int m, size_t at[M_COUNT], sl_error *err)
{
    switch (m) {
    case M_COLUMNS:
        return column_array(d, &d->columns, err);
    case M_IDENTITY:
        return column_array(d, &d->identity, err);
    case M_PK:
        return column_array(d, NULL, err);
    case M_XID:
        return scalar(d, SL_JSON_NUMBER, member_names[m], err);
    case M_TRANSACTIONAL:
        return scalar(d, SL_JSON_TRUE, member_names[m], err);
    default:
        if (scalar(d, SL_JSON_STRING, member_names[m], err) != 0)
            return -1;
        if (m == M_ACTION && d->tok.len == 0)
            return fail(d, err, "an empty action");
        at[m] = keep(d);
        return 0;
    }
}

static void
make_cols(sl_tap_wal2json *d, col_list *l, const sl_tap_wal2json_col **out, size_t *n)
{
    if (l->n > l->cols_cap) {
        l->cols_cap = l->cap;
        l->cols = sl_realloc(l->cols, l->cols_cap * sizeof *l->cols);
    }
    for (size_t i = 0; i < l->n; i++) {
        const col_ref *c = &l->refs[i];
        l->cols[i] = (sl_tap_wal2json_col){
            d->text.data + c->name, c->name_len,
            c->value == NONE ? NULL : d->text.data + c->value, c->len};
    }
    *out = l->cols;
    *n = l->n;
}

static int
decode(sl_tap_wal2json *d, sl_tap_wal2json_msg *out, sl_error *err)
{
    size_t at[M_COUNT];
    bool seen[M_COUNT] = {false};
    for (int m = 0; m < M_COUNT; m++)
        at[m] = NONE;
    if (expect(d, SL_JSON_OBJECT, "not an object", err) != 0)
        return -1;
    for (;;) {
        if (next(d, err) != 0)
            return -1;
        if (d->tok.kind == SL_JSON_OBJECT_END)
            break;
        int m = name_index(&d->tok, member_names, M_COUNT);
        if (m == M_COUNT || seen[m]) {
            char what[96];
            snprintf(what, sizeof what, "%s member \"%.40s\"",
                     m == M_COUNT ? "unexpected" : "a second", d->tok.text);
            return fail(d, err, what);
        }
        seen[m] = true;
        if (member(d, m, at, err) != 0)
            return -1;
    }
    int rc = sl_json_reader_next(d->r, &d->tok, err);
    if (rc != 0)  /* the reader refuses anything but whitespace after the object */
        return rc < 0 ? reader_failed(err) : fail(d, err, "bytes after the message");
    if (at[M_ACTION] == NONE)
        return fail(d, err, "no action");
    const char *base = d->text.data;
    out->action = base[at[M_ACTION]];
    out->schema = at[M_SCHEMA] == NONE ? NULL : base + at[M_SCHEMA];
    out->table = at[M_TABLE] == NONE ? NULL : base + at[M_TABLE];
    out->timestamp = at[M_TIMESTAMP] == NONE ? NULL : base + at[M_TIMESTAMP];
    out->has_columns = seen[M_COLUMNS];
    out->has_identity = seen[M_IDENTITY];
    make_cols(d, &d->columns, &out->columns, &out->ncolumns);
    make_cols(d, &d->identity, &out->identity, &out->nidentity);
    return 0;
}

int
sl_tap_wal2json_decode(sl_tap_wal2json *d, const char *data, size_t len,
                       sl_tap_wal2json_msg *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    sl_json_reader_reset(d->r);
    sl_buf_reset(&d->text);
    d->columns.n = d->identity.n = 0;
    sl_json_reader_feed(d->r, data, len);
    sl_json_reader_finish(d->r);
    return decode(d, out, err);
}
