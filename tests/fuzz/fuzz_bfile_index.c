/* libFuzzer target for io/bfile_index (the backup file's index reader): the input is either the
 * JSON text of an index, which the target frames as the writer would (gzip FEXTRA members, a
 * zstd skippable frame, a comment line), or raw stored bytes for the framing decoder. Nothing
 * may crash or leak; the outcome must not depend on how the bytes are cut; what the second
 * pass keeps must be what the first one counted, and every kept entry must hold what the
 * reader promises (segments tiling [0, index offset) in order, known non-decreasing phases).
 * First byte: bits 0-1 codec, bit 2 raw stored bytes, bits 3-7 chunk step. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "io/bfile_format.h"
#include "io/bfile_index.h"

#define INDEX_OFFSET 1000  /* where the segments must end */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds stored in pieces of step bytes; the error message (or "") goes to outcome. */
static sl__bfile_index *
run(const sl__bfile_index_opts *o, const sl_buf *stored, size_t step, sl_buf *outcome)
{
    sl__bfile_index *x = sl__bfile_index_new(o);
    sl_error err;
    sl_error_clear(&err);
    int rc = 0;
    for (size_t pos = 0; pos < stored->len && rc == 0; pos += step) {
        size_t n = stored->len - pos < step ? stored->len - pos : step;
        rc = sl__bfile_index_feed(x, (const unsigned char *)stored->data + pos, n, &err);
    }
    if (rc == 0)
        rc = sl__bfile_index_finish(x, &err);
    if (rc != 0 && err.kind != SL_E_ARCHIVE)
        abort();
    sl_buf_puts(outcome, rc == 0 ? "" : err.message);
    if (rc != 0) {
        sl__bfile_index_free(x);
        return NULL;
    }
    return x;
}

static void
check_kept(sl__bfile_index *x, size_t n)
{
    sl_bfile_entry *entries = NULL;
    char *strings = NULL;
    sl_bfile_table *tables = NULL;
    sl__bfile_field *fields = NULL;
    size_t nfields = 0;
    sl__bfile_index_take(x, &entries, &strings, &tables, &fields, &nfields);
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const sl_bfile_entry *e = &entries[i];
        if (e->seq != (int)i || e->offset != off || !sl_bfile_phase_known(e->phase)
            || (i && e->phase < entries[i - 1].phase) || !e->kind
            || e->ntables > SL_BFILE_TABLES_MAX || (e->ntables == 0) != (e->tables == NULL))
            abort();
        for (size_t t = 0; t < e->ntables; t++)  /* every pair kept, each name non-empty */
            if (!e->tables[t].schema[0] || !e->tables[t].name[0])
                abort();
        off += e->length;
    }
    if (off != INDEX_OFFSET && n)
        abort();
    for (size_t i = 0; i < nfields; i++) {
        free(fields[i].key);
        free(fields[i].value);
    }
    free(fields);
    free(strings);
    free(tables);
    free(entries);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const sl_codec_kind kinds[] = {SL_CODEC_NONE, SL_CODEC_GZIP, SL_CODEC_ZSTD,
                                          SL_CODEC_NONE};
    sl_codec_kind kind = kinds[data[0] & 3];
    bool raw = data[0] & 4;
    size_t step = (size_t)(data[0] >> 3) + 1;
    sl_buf stored = SL_BUF_INIT, whole = SL_BUF_INIT, cut = SL_BUF_INIT;
    if (raw)
        sl_buf_append(&stored, data + 1, size - 1);
    else
        sl__bfile_index_encode(kind, (const char *)data + 1, size - 1, &stored);
    sl__bfile_index_opts o = {.path = "fuzz", .codec = kind, .index_offset = INDEX_OFFSET,
                              .index_length = stored.len};
    sl__bfile_index *a = run(&o, &stored, stored.len ? stored.len : 1, &whole);
    sl__bfile_index *b = run(&o, &stored, step, &cut);
    if (whole.len != cut.len || (whole.len && memcmp(whole.data, cut.data, whole.len) != 0)) {
        fprintf(stderr, "chunking changed the outcome (step %zu)\n", step);
        abort();
    }
    if (a) {
        o.keep = true;
        o.capacity = sl__bfile_index_count(a);
        o.string_bytes = sl__bfile_index_string_bytes(a);
        o.table_count = sl__bfile_index_table_count(a);
        sl_buf second = SL_BUF_INIT;
        sl__bfile_index *k = run(&o, &stored, step, &second);
        if (!k || sl__bfile_index_count(k) != o.capacity)
            abort();  /* the same bytes read twice must give the same entries */
        check_kept(k, o.capacity);
        sl__bfile_index_free(k);
        sl_buf_free(&second);
    }
    sl__bfile_index_free(a);
    sl__bfile_index_free(b);
    sl_buf_free(&stored);
    sl_buf_free(&whole);
    sl_buf_free(&cut);
    return 0;
}
