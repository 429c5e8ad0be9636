/* pg/pgoutput.c: see pgoutput.h.
 * Design: a reader over the message that never moves past its end: each read checks what is
 * left and marks the reader bad instead; the caller tests it once per field group. Relations
 * are few (one per published table that changed): a list searched by id. */
#include "pg/pgoutput.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

typedef struct reader {
    const unsigned char *p;
    size_t left;
    bool bad;
} reader;

static bool
need(reader *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = true;
        return false;
    }
    return true;
}

static uint64_t
read_be(reader *r, size_t n)
{
    uint64_t v = 0;
    if (!need(r, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | r->p[i];
    r->p += n;
    r->left -= n;
    return v;
}

/* A NUL-terminated string inside the message (NULL when it has no NUL). */
static const char *
read_cstring(reader *r)
{
    const unsigned char *end = r->bad ? NULL : memchr(r->p, 0, r->left);
    if (!end) {
        r->bad = true;
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->left -= (size_t)(end - r->p) + 1;
    r->p = end + 1;
    return s;
}

struct sl_pgoutput {
    sl_pgoutput_relation **rels;
    size_t nrels;
    sl_pgoutput_value *old, *new_row;   /* room for cap values each */
    size_t cap;
};

sl_pgoutput *
sl_pgoutput_new(void)
{
    return sl_calloc(1, sizeof(sl_pgoutput));
}

static void
relation_free(sl_pgoutput_relation *rel)
{
    if (!rel)
        return;
    for (size_t i = 0; i < rel->ncols; i++)
        free(rel->cols[i].name);
    free(rel->cols);
    free(rel->schema);
    free(rel->name);
    free(rel);
}

void
sl_pgoutput_free(sl_pgoutput *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nrels; i++)
        relation_free(d->rels[i]);
    free(d->rels);
    free(d->old);
    free(d->new_row);
    free(d);
}

static sl_pgoutput_relation *
relation_of(const sl_pgoutput *d, uint32_t id)
{
    for (size_t i = 0; i < d->nrels; i++)
        if (d->rels[i]->id == id)
            return d->rels[i];
    return NULL;
}

static int
garbled(sl_error *err, char type, const char *what)
{
    sl_error_set(err, SL_E_SERVER, "pgoutput sent a%s %c message that is not protocol "
                 "version 1's: %s", type == 'I' ? "n" : "", type, what);
    return -1;
}

static int
read_relation(sl_pgoutput *d, reader *r, sl_pgoutput_msg *out, sl_error *err)
{
    sl_pgoutput_relation *rel = sl_calloc(1, sizeof *rel);
    rel->id = (uint32_t)read_be(r, 4);
    const char *schema = read_cstring(r), *name = read_cstring(r);
    rel->replident = (char)read_be(r, 1);
    size_t ncols = (size_t)read_be(r, 2);
    /* each column takes at least 10 bytes: a count beyond what is left is a lie */
    if (r->bad || ncols > r->left / 10) {
        relation_free(rel);
        return garbled(err, 'R', "it ends before its columns");
    }
    rel->schema = sl_strdup(schema);
    rel->name = sl_strdup(name);
    rel->cols = sl_calloc(ncols + 1, sizeof *rel->cols);
    for (; rel->ncols < ncols; rel->ncols++) {
        sl_pgoutput_column *c = &rel->cols[rel->ncols];
        c->key = (read_be(r, 1) & 1) != 0;
        const char *cname = read_cstring(r);
        c->type = (uint32_t)read_be(r, 4);
        c->typmod = (int32_t)(uint32_t)read_be(r, 4);
        if (r->bad)
            break;
        c->name = sl_strdup(cname);
    }
    if (r->bad) {
        relation_free(rel);
        return garbled(err, 'R', "it ends inside its columns");
    }
    for (size_t i = 0; i < d->nrels; i++) {
        if (d->rels[i]->id == rel->id) {
            relation_free(d->rels[i]);
            d->rels[i] = rel;
            out->rel = rel;
            return 0;
        }
    }
    d->rels = sl_realloc(d->rels, (d->nrels + 1) * sizeof *d->rels);
    d->rels[d->nrels++] = rel;
    out->rel = rel;
    return 0;
}

static int
read_tuple(reader *r, const sl_pgoutput_relation *rel, sl_pgoutput_value *vals, char type,
           sl_error *err)
{
    size_t n = (size_t)read_be(r, 2);
    if (r->bad)
        return garbled(err, type, "it ends before a tuple");
    if (n != rel->ncols) {
        sl_error_set(err, SL_E_SERVER, "pgoutput sent a tuple of %zu columns for relation "
                     "\"%s\".\"%s\" of %zu", n, rel->schema, rel->name, rel->ncols);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        sl_pgoutput_value *v = &vals[i];
        v->kind = (char)read_be(r, 1);
        v->text = NULL;
        v->len = 0;
        if (v->kind == 't') {
            v->len = (size_t)read_be(r, 4);
            if (!need(r, v->len))
                break;
            v->text = (const char *)r->p;
            r->p += v->len;
            r->left -= v->len;
        } else if (v->kind != 'n' && v->kind != 'u') {
            return garbled(err, type, "a column is neither n, u nor t");
        }
    }
    return r->bad ? garbled(err, type, "it ends inside a tuple") : 0;
}

static int
read_change(sl_pgoutput *d, reader *r, char type, sl_pgoutput_msg *out, sl_error *err)
{
    uint32_t id = (uint32_t)read_be(r, 4);
    if (r->bad)
        return garbled(err, type, "it ends before its relation");
    const sl_pgoutput_relation *rel = out->rel = relation_of(d, id);
    if (!rel) {
        sl_error_set(err, SL_E_SERVER, "pgoutput sent a change of relation %u before "
                     "describing it", (unsigned)id);
        return -1;
    }
    if (d->cap < rel->ncols + 1) {
        d->cap = rel->ncols + 1;
        d->old = sl_realloc(d->old, d->cap * sizeof *d->old);
        d->new_row = sl_realloc(d->new_row, d->cap * sizeof *d->new_row);
    }
    char tag = (char)read_be(r, 1);
    if (type != 'I' && (tag == 'K' || tag == 'O')) {
        out->old_kind = tag;
        if (read_tuple(r, rel, d->old, type, err) != 0)
            return -1;
        out->old = d->old;
        if (type == 'D')
            return 0;
        tag = (char)read_be(r, 1);
    }
    if (type == 'D' || tag != 'N' || r->bad)
        return garbled(err, type, "its tuple is not where it belongs");
    out->new_row = d->new_row;
    return read_tuple(r, rel, d->new_row, type, err);
}

static int
decode(sl_pgoutput *d, reader *r, char type, sl_pgoutput_msg *out, sl_error *err)
{
    switch (type) {
    case 'B':
        out->lsn = read_be(r, 8);
        out->commit_time = (int64_t)read_be(r, 8);
        out->xid = (uint32_t)read_be(r, 4);
        return r->bad ? garbled(err, type, "it is too short") : 0;
    case 'C':
        (void)read_be(r, 1);   /* flags: none defined */
        (void)read_be(r, 8);   /* the commit record's start */
        out->lsn = read_be(r, 8);
        out->commit_time = (int64_t)read_be(r, 8);
        return r->bad ? garbled(err, type, "it is too short") : 0;
    case 'R':
        return read_relation(d, r, out, err);
    case 'I':
    case 'U':
    case 'D':
        return read_change(d, r, type, out, err);
    case 'Y':
    case 'O':
    case 'T':
        out->type = 0;
        r->left = 0;           /* not read: nothing this reader needs */
        return 0;
    default:
        sl_error_set(err, SL_E_SERVER, "pgoutput sent a message of unknown type 0x%02x",
                     (unsigned)(unsigned char)type);
        return -1;
    }
}

int
sl_pgoutput_decode(sl_pgoutput *d, const char *data, size_t len, sl_pgoutput_msg *out,
                   sl_error *err)
{
    memset(out, 0, sizeof *out);
    reader r = {(const unsigned char *)data, len, false};
    char type = (char)read_be(&r, 1);
    if (r.bad) {
        sl_error_set(err, SL_E_SERVER, "pgoutput sent an empty message");
        return -1;
    }
    out->type = type;
    if (decode(d, &r, type, out, err) != 0) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    if (r.left != 0) {
        memset(out, 0, sizeof *out);
        return garbled(err, type, "bytes are left over at its end");
    }
    return 0;
}
