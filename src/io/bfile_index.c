/* io/bfile_index.c: the backup file index, read as it streams by (io/bfile_index.h).
 *
 * Design. Stored bytes go through the framing decoder, the JSON bytes it yields through the
 * JSON reader, and each token through a small builder that knows where it is in the document:
 * the root object, the header object, the entries array, or one entry. A member the builder
 * does not know is skipped (a container by its depth), so later versions may add some; a
 * member it knows must have the right type and appear once. An entry is checked when its
 * object closes, against the file and the entry before it, and is then kept or only counted. */
#include "io/bfile_index.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json_reader.h"
#include "base/mem.h"
#include "io/bfile_format.h"
#include "io/checksum.h"

#define MAX_DEPTH 8  /* the index nests 3 deep; unknown members may add a few levels */

typedef enum {
    AT_START,    /* before the root object */
    AT_ROOT,     /* in the root object */
    AT_HEADER,   /* in "header" */
    AT_ENTRIES,  /* in "entries", between entries */
    AT_ENTRY,    /* in one entry */
    AT_TABLES,   /* in an entry's "tables", between pairs */
    AT_TABLE,    /* in one [schema, name] pair */
    AT_END,      /* after the root object */
} place;

enum { RK_FORMAT, RK_CODEC, RK_HEADER, RK_ENTRIES, RK_COUNT };
static const char *const root_keys[RK_COUNT] = {"format", "codec", "header", "entries"};

enum {
    EK_SEQ, EK_PHASE, EK_PARALLEL, EK_KIND, EK_SCHEMA, EK_NAME, EK_ROWS, EK_OFFSET, EK_LENGTH,
    EK_RAW_LENGTH, EK_SHA256, EK_TABLES, EK_COUNT,
};
static const char *const entry_keys[EK_COUNT] = {
    "seq", "phase", "parallel", "kind", "schema", "name", "rows", "offset", "length",
    "raw_length", "sha256", "tables",
};
#define EK_REQUIRED                                                                         \
    (((1u << EK_COUNT) - 1) & ~(1u << EK_SCHEMA) & ~(1u << EK_NAME) & ~(1u << EK_TABLES))

struct sl__bfile_index {
    sl__bfile_index_opts o;
    sl__bfile_unframe unframe;
    sl_json_reader *json;
    bool failed;
    place at;
    int key;                /* the member whose value comes next; -1: one to skip */
    bool skipping;          /* inside the container value of a skipped member */
    int skip_depth;         /* ... which ends with the END token at this depth */
    unsigned root_seen;

    sl_bfile_entry cur;     /* the entry being read */
    unsigned cur_seen;
    int64_t seq, phase;
    sl_buf kind, schema, name;
    bool has_schema, has_name;  /* a string, not null */
    sl_buf tables;          /* the entry's "tables": "schema\0name\0" per pair */
    size_t ntables;
    int pair_len;           /* strings read of the pair being read */

    size_t n;               /* entries read */
    uint64_t next_offset;   /* where the next segment must start */
    int last_phase;
    size_t string_bytes;
    size_t table_count;     /* pairs of "tables" read, all entries together */
    sl_bfile_entry *entries;
    sl_bfile_table *tables_kept;
    size_t tables_len;
    char *strings;
    size_t strings_len;
    sl__bfile_field *fields;
    size_t nfields;
};

static void
corrupt(sl__bfile_index *x, sl_error *err, const char *fmt, ...) SL_PRINTF(3, 4);

static void
corrupt(sl__bfile_index *x, sl_error *err, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl_error_set(err, SL_E_ARCHIVE, "backup file \"%s\" is corrupt: %s", x->o.path, msg);
    x->failed = true;
}

static int
not_index(sl__bfile_index *x, sl_error *err)
{
    corrupt(x, err, "the index at offset %llu is not a sluice index",
            (unsigned long long)x->o.index_offset);
    return -1;
}

static int
malformed(sl__bfile_index *x, sl_error *err)
{
    corrupt(x, err, "index entry %zu (index at offset %llu) is malformed", x->n,
            (unsigned long long)x->o.index_offset);
    return -1;
}

sl__bfile_index *
sl__bfile_index_new(const sl__bfile_index_opts *opts)
{
    sl__bfile_index *x = sl_calloc(1, sizeof *x);
    x->o = *opts;
    sl__bfile_unframe_init(&x->unframe, opts->codec, opts->index_length);
    x->json = sl_json_reader_new(SL__BFILE_INDEX_MAX_STRING, MAX_DEPTH);
    x->fields = sl_calloc(SL__BFILE_INDEX_MAX_HEADER, sizeof *x->fields);
    if (opts->keep) {
        x->entries = sl_calloc(opts->capacity ? opts->capacity : 1, sizeof *x->entries);
        x->strings = sl_malloc(opts->string_bytes ? opts->string_bytes : 1);
        x->tables_kept = sl_calloc(opts->table_count ? opts->table_count : 1,
                                   sizeof *x->tables_kept);
    }
    return x;
}

void
sl__bfile_index_free(sl__bfile_index *x)
{
    if (!x)
        return;
    sl_json_reader_free(x->json);
    sl_buf_free(&x->kind);
    sl_buf_free(&x->schema);
    sl_buf_free(&x->name);
    sl_buf_free(&x->tables);
    free(x->entries);
    free(x->tables_kept);
    free(x->strings);
    for (size_t i = 0; i < x->nfields; i++) {
        free(x->fields[i].key);
        free(x->fields[i].value);
    }
    free(x->fields);
    free(x);
}

size_t
sl__bfile_index_count(const sl__bfile_index *x)
{
    return x->n;
}

size_t
sl__bfile_index_string_bytes(const sl__bfile_index *x)
{
    return x->string_bytes;
}

size_t
sl__bfile_index_table_count(const sl__bfile_index *x)
{
    return x->table_count;
}

void
sl__bfile_index_take(sl__bfile_index *x, sl_bfile_entry **entries, char **strings,
                     sl_bfile_table **tables, sl__bfile_field **fields, size_t *nfields)
{
    *entries = x->entries;
    *strings = x->strings;
    *tables = x->tables_kept;
    x->tables_kept = NULL;
    *fields = x->fields;
    *nfields = x->nfields;
    x->entries = NULL;
    x->strings = NULL;
    x->fields = NULL;
    x->nfields = 0;
}

static int
find_key(const char *const *keys, int n, const char *text)
{
    for (int i = 0; i < n; i++)
        if (strcmp(keys[i], text) == 0)
            return i;
    return -1;
}

/* The value of a member that is not read: a container is skipped to its end. */
static void
skip_value(sl__bfile_index *x, const sl_json_token *t)
{
    if (t->kind == SL_JSON_OBJECT || t->kind == SL_JSON_ARRAY) {
        x->skipping = true;
        x->skip_depth = t->depth;
    }
}

/* ---- the root object and the header ---- */

static int
root_value(sl__bfile_index *x, const sl_json_token *t, sl_error *err)
{
    switch (x->key) {
    case RK_FORMAT:
        if (t->kind != SL_JSON_INT)
            return not_index(x, err);
        if (t->integer != SL_BFILE_FORMAT) {
            sl_error_set(err, SL_E_ARCHIVE, "backup file \"%s\" has format %lld; this sluice "
                         "reads format %d", x->o.path, (long long)t->integer, SL_BFILE_FORMAT);
            x->failed = true;
            return -1;
        }
        return 0;
    case RK_CODEC:
        if (t->kind != SL_JSON_STRING)
            return not_index(x, err);
        if (strcmp(t->text, sl_codec_name(x->o.codec)) != 0) {
            corrupt(x, err, "the index at offset %llu says %.40s but the file is %s",
                    (unsigned long long)x->o.index_offset, t->text, sl_codec_name(x->o.codec));
            return -1;
        }
        return 0;
    case RK_HEADER:
        if (t->kind == SL_JSON_OBJECT)
            x->at = AT_HEADER;
        else if (t->kind != SL_JSON_NULL)
            return not_index(x, err);
        return 0;
    case RK_ENTRIES:
        if (t->kind != SL_JSON_ARRAY)
            return not_index(x, err);
        x->at = AT_ENTRIES;
        return 0;
    }
    skip_value(x, t);
    return 0;
}

static int
root_token(sl__bfile_index *x, const sl_json_token *t, sl_error *err)
{
    if (t->kind == SL_JSON_KEY) {
        x->key = find_key(root_keys, RK_COUNT, t->text);
        if (x->key >= 0 && (x->root_seen & (1u << x->key)))
            return not_index(x, err);  /* a member given twice */
        if (x->key >= 0)
            x->root_seen |= 1u << x->key;
        return 0;
    }
    if (t->kind != SL_JSON_OBJECT_END)
        return root_value(x, t, err);
    unsigned need = 1u << RK_FORMAT | 1u << RK_CODEC | 1u << RK_ENTRIES;
    if ((x->root_seen & need) != need)
        return not_index(x, err);
    if (x->next_offset != x->o.index_offset) {
        corrupt(x, err, "the segments end at offset %llu but the index starts at offset %llu",
                (unsigned long long)x->next_offset, (unsigned long long)x->o.index_offset);
        return -1;
    }
    x->at = AT_END;
    return 0;
}

static int
header_token(sl__bfile_index *x, const sl_json_token *t, sl_error *err)
{
    if (t->kind == SL_JSON_OBJECT_END) {
        x->at = AT_ROOT;
        return 0;
    }
    if (t->kind == SL_JSON_KEY) {
        for (size_t i = 0; i < x->nfields; i++)
            if (strcmp(x->fields[i].key, t->text) == 0)
                return not_index(x, err);
        if (x->nfields == SL__BFILE_INDEX_MAX_HEADER) {
            corrupt(x, err, "the index at offset %llu has more than %d header fields",
                    (unsigned long long)x->o.index_offset, SL__BFILE_INDEX_MAX_HEADER);
            return -1;
        }
        x->fields[x->nfields++].key = sl_strdup(t->text);
        return 0;
    }
    if (t->kind == SL_JSON_STRING)
        x->fields[x->nfields - 1].value = sl_strdup(t->text);
    else
        skip_value(x, t);  /* only strings are kept */
    return 0;
}

/* ---- entries ---- */

static int
entry_value(sl__bfile_index *x, const sl_json_token *t, sl_error *err)
{
    bool is_int = t->kind == SL_JSON_INT, is_str = t->kind == SL_JSON_STRING;
    switch (x->key) {
    case EK_SEQ:
        x->seq = t->integer;
        return is_int ? 0 : malformed(x, err);
    case EK_PHASE:
        x->phase = t->integer;
        return is_int ? 0 : malformed(x, err);
    case EK_PARALLEL:
        x->cur.parallel = t->kind == SL_JSON_TRUE;
        return t->kind == SL_JSON_TRUE || t->kind == SL_JSON_FALSE ? 0 : malformed(x, err);
    case EK_KIND:
        if (!is_str)
            return malformed(x, err);
        sl_buf_append(&x->kind, t->text, t->len);
        return 0;
    case EK_SCHEMA:
    case EK_NAME:
        if (t->kind == SL_JSON_NULL)
            return 0;  /* the same as absent */
        if (!is_str)
            return malformed(x, err);
        sl_buf_append(x->key == EK_SCHEMA ? &x->schema : &x->name, t->text, t->len);
        *(x->key == EK_SCHEMA ? &x->has_schema : &x->has_name) = true;
        return 0;
    case EK_ROWS:
        x->cur.rows = t->integer;
        return is_int ? 0 : malformed(x, err);
    case EK_OFFSET:
    case EK_LENGTH:
    case EK_RAW_LENGTH: {
        uint64_t *v = x->key == EK_OFFSET ? &x->cur.offset
                      : x->key == EK_LENGTH ? &x->cur.length : &x->cur.raw_length;
        *v = (uint64_t)t->integer;
        return is_int && t->integer >= 0 ? 0 : malformed(x, err);
    }
    case EK_SHA256:
        return is_str && sl_sha256_parse_hex(t->text, x->cur.sha256) ? 0 : malformed(x, err);
    case EK_TABLES:
        if (t->kind == SL_JSON_NULL)
            return 0;  /* the same as absent */
        if (t->kind != SL_JSON_ARRAY)
            return malformed(x, err);
        x->at = AT_TABLES;
        return 0;
    }
    skip_value(x, t);
    return 0;
}

static char *
keep_string(sl__bfile_index *x, const sl_buf *b)
{
    char *s = x->strings + x->strings_len;
    if (b->len)
        memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    x->strings_len += b->len + 1;
    return s;
}

/* The entry's "tables" pairs into the kept arrays (room checked by the caller). */
static void
keep_tables(sl__bfile_index *x, sl_bfile_entry *e)
{
    e->tables = x->ntables ? x->tables_kept + x->tables_len : NULL;
    e->ntables = x->ntables;
    char *s = x->strings + x->strings_len;
    if (x->tables.len)
        memcpy(s, x->tables.data, x->tables.len);
    x->strings_len += x->tables.len;
    for (size_t i = 0; i < x->ntables; i++) {
        sl_bfile_table *t = &x->tables_kept[x->tables_len++];
        t->schema = s;
        s += strlen(s) + 1;
        t->name = s;
        s += strlen(s) + 1;
    }
}

static int
keep_entry(sl__bfile_index *x, bool has_schema, bool has_name, size_t bytes, sl_error *err)
{
    if (x->n == x->o.capacity || bytes > x->o.string_bytes - x->strings_len ||
        x->ntables > x->o.table_count - x->tables_len) {
        corrupt(x, err, "the index at offset %llu changed while it was read",
                (unsigned long long)x->o.index_offset);
        return -1;
    }
    sl_bfile_entry *e = &x->entries[x->n];
    *e = x->cur;
    e->kind = keep_string(x, &x->kind);
    e->schema = has_schema ? keep_string(x, &x->schema) : NULL;
    e->name = has_name ? keep_string(x, &x->name) : NULL;
    keep_tables(x, e);
    return 0;
}

/* An entry's object closed: check it against the file and the entry before it. */
static int
end_entry(sl__bfile_index *x, sl_error *err)
{
    sl_bfile_entry *e = &x->cur;
    if ((x->cur_seen & EK_REQUIRED) != EK_REQUIRED || x->seq < 0 || (uint64_t)x->seq != x->n)
        return malformed(x, err);
    if (e->offset != x->next_offset || e->length > x->o.index_offset - e->offset) {
        corrupt(x, err, "index entry %zu says segment at offset %llu of %llu bytes, expected "
                "offset %llu within the %llu bytes before the index",
                x->n, (unsigned long long)e->offset, (unsigned long long)e->length,
                (unsigned long long)x->next_offset, (unsigned long long)x->o.index_offset);
        return -1;
    }
    if (!sl_bfile_phase_known(x->phase)) {
        corrupt(x, err, "index entry %zu (segment at offset %llu) has phase %lld, which is not "
                "one of sluice's phases (0, 10, 20, 30, 40, 50)",
                x->n, (unsigned long long)e->offset, (long long)x->phase);
        return -1;
    }
    if (x->n > 0 && x->phase < x->last_phase) {
        corrupt(x, err, "index entry %zu (segment at offset %llu) has phase %d after phase %d",
                x->n, (unsigned long long)e->offset, (int)x->phase, x->last_phase);
        return -1;
    }
    e->seq = (int)x->n;
    e->phase = (int)x->phase;
    bool has_schema = x->has_schema, has_name = x->has_name;
    size_t bytes = x->kind.len + 1 + (has_schema ? x->schema.len + 1 : 0)
                   + (has_name ? x->name.len + 1 : 0) + x->tables.len;
    if (x->o.keep && keep_entry(x, has_schema, has_name, bytes, err) != 0)
        return -1;
    x->string_bytes += bytes;
    x->table_count += x->ntables;
    x->next_offset = e->offset + e->length;
    x->last_phase = e->phase;
    x->n++;
    x->at = AT_ENTRIES;
    return 0;
}

static int
entry_token(sl__bfile_index *x, const sl_json_token *t, sl_error *err)
{
    if (t->kind == SL_JSON_OBJECT_END)
        return end_entry(x, err);
    if (t->kind != SL_JSON_KEY)
        return x->key >= 0 && x->key != EK_TABLES &&
                       (t->kind == SL_JSON_OBJECT || t->kind == SL_JSON_ARRAY)
                   ? malformed(x, err)
                   : entry_value(x, t, err);
    x->key = find_key(entry_keys, EK_COUNT, t->text);
    if (x->key >= 0 && (x->cur_seen & (1u << x->key)))
        return malformed(x, err);  /* a member given twice */
    if (x->key >= 0)
        x->cur_seen |= 1u << x->key;
    return 0;
}

/* In "tables": pairs of two non-empty strings, at most SL_BFILE_TABLES_MAX of them. */
static int
tables_token(sl__bfile_index *x, const sl_json_token *t, sl_error *err)
{
    if (x->at == AT_TABLES) {
        if (t->kind == SL_JSON_ARRAY_END) {
            x->at = AT_ENTRY;
            return 0;
        }
        if (t->kind != SL_JSON_ARRAY || x->ntables == SL_BFILE_TABLES_MAX)
            return malformed(x, err);
        x->pair_len = 0;
        x->at = AT_TABLE;
        return 0;
    }
    if (t->kind == SL_JSON_ARRAY_END && x->pair_len == 2) {
        x->ntables++;
        x->at = AT_TABLES;
        return 0;
    }
    if (t->kind != SL_JSON_STRING || x->pair_len == 2 || t->len == 0 ||
        memchr(t->text, '\0', t->len))
        return malformed(x, err);
    sl_buf_append(&x->tables, t->text, t->len);
    sl_buf_append(&x->tables, "", 1);
    x->pair_len++;
    return 0;
}

static int
entries_token(sl__bfile_index *x, const sl_json_token *t, sl_error *err)
{
    if (t->kind == SL_JSON_ARRAY_END) {
        x->at = AT_ROOT;
        return 0;
    }
    if (t->kind != SL_JSON_OBJECT)
        return malformed(x, err);
    memset(&x->cur, 0, sizeof x->cur);
    x->cur_seen = 0;
    x->has_schema = x->has_name = false;
    x->seq = x->phase = -1;
    sl_buf_reset(&x->kind);
    sl_buf_reset(&x->schema);
    sl_buf_reset(&x->name);
    sl_buf_reset(&x->tables);
    x->ntables = 0;
    x->at = AT_ENTRY;
    return 0;
}

static int
handle(sl__bfile_index *x, const sl_json_token *t, sl_error *err)
{
    if (x->skipping) {
        bool end = t->kind == SL_JSON_OBJECT_END || t->kind == SL_JSON_ARRAY_END;
        if (end && t->depth == x->skip_depth)
            x->skipping = false;
        return 0;
    }
    switch (x->at) {
    case AT_START:
        if (t->kind != SL_JSON_OBJECT)
            return not_index(x, err);
        x->at = AT_ROOT;
        return 0;
    case AT_ROOT:
        return root_token(x, t, err);
    case AT_HEADER:
        return header_token(x, t, err);
    case AT_ENTRIES:
        return entries_token(x, t, err);
    case AT_ENTRY:
        return entry_token(x, t, err);
    case AT_TABLES:
    case AT_TABLE:
        return tables_token(x, t, err);
    case AT_END:
        break;
    }
    return not_index(x, err);
}

/* Hands every token the JSON reader can make of what it was fed to the builder. */
static int
drain(sl__bfile_index *x, sl_error *err)
{
    sl_json_token t;
    int rc;
    while ((rc = sl_json_reader_next(x->json, &t, err)) == 1)
        if (handle(x, &t, err) != 0)
            return -1;
    if (rc < 0 && !x->failed) {
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message);
        corrupt(x, err, "the index at offset %llu is not a sluice index: %s of its JSON",
                (unsigned long long)x->o.index_offset, why);
    }
    return rc < 0 ? -1 : 0;
}

static int
framing_error(sl__bfile_index *x, sl_error *err)
{
    corrupt(x, err, "the index at offset %llu is malformed", (unsigned long long)x->o.index_offset);
    return -1;
}

int
sl__bfile_index_feed(sl__bfile_index *x, const unsigned char *p, size_t n, sl_error *err)
{
    if (x->failed) {
        sl_error_set(err, SL_E_INTERNAL, "index reader used after an error");
        return -1;
    }
    for (;;) {
        const unsigned char *json = NULL;
        size_t len = 0;
        int rc = sl__bfile_unframe_next(&x->unframe, &p, &n, &json, &len);
        if (rc < 0)
            return framing_error(x, err);
        if (rc == 0)
            return 0;
        sl_json_reader_feed(x->json, json, len);
        if (drain(x, err) != 0)
            return -1;
    }
}

int
sl__bfile_index_finish(sl__bfile_index *x, sl_error *err)
{
    if (x->failed) {
        sl_error_set(err, SL_E_INTERNAL, "index reader used after an error");
        return -1;
    }
    if (!sl__bfile_unframe_done(&x->unframe))
        return framing_error(x, err);
    sl_json_reader_finish(x->json);
    if (drain(x, err) != 0)
        return -1;
    return x->at == AT_END ? 0 : not_index(x, err);
}
