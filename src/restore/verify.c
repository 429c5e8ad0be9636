/* restore/verify.c: end-to-end check of a backup file (restore/verify.h). */
#include "restore/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "io/bfile.h"
#include "io/checksum.h"
#include "io/pgarchive.h"
#include "io/sink.h"
#include "pg/copyscan.h"
#include "restore/toc.h"

static bool
is_table_data(const sl_bfile_entry *e)
{
    return sl_bfile_kind_is(e->kind, SL_BFILE_KIND_TABLE_DATA);
}

static void
entry_desc(const sl_bfile_entry *e, char *buf, size_t cap)
{
    char seg[600];
    snprintf(buf, cap, "%s at offset %llu", sl_bfile_entry_describe(e, seg, sizeof seg),
             (unsigned long long)e->offset);
}

/* Streams one segment (or the whole plain script when e is NULL) through the checks. */
static int
check_part(const sl_bfile_reader *r, const sl_bfile_entry *e, sl_verify_report *rep,
           sl_error *err)
{
    sl_bfile_stream *s = NULL;
    sl_copyscan rc = {0};
    const size_t sig = sizeof SL_BFILE_SIGNATURE - 1;
    char head[sizeof SL_BFILE_SIGNATURE] = "";
    size_t head_len = 0;
    const char *data;
    size_t len;
    int got, status = -1;
    char what[700];
    bool table = e && is_table_data(e);
    /* A MySQL backup's table data is INSERT statements, not COPY rows: its row count is the
     * index's (the segment's SHA-256 still covers every byte). */
    const char *engine = sl_bfile_reader_header(r, "engine");
    bool copy = table && !(engine && strcmp(engine, "mysql") == 0);
    if (sl_bfile_stream_open(&s, r, e, true, err) != 0)
        return -1;
    while ((got = sl_bfile_stream_read(s, &data, &len, err)) == 1) {
        rep->raw_bytes += len;
        if (head_len < sig) {
            size_t k = sig - head_len < len ? sig - head_len : len;
            memcpy(head + head_len, data, k);
            head_len += k;
        }
        if (copy)
            sl_copyscan_feed(&rc, data, len);
    }
    if (got < 0)
        goto done;
    if (!e) {
        status = 0;
        goto done;
    }
    entry_desc(e, what, sizeof what);
    if (e->seq == 0 && (head_len < sig || memcmp(head, SL_BFILE_SIGNATURE, sig) != 0)) {
        sl_error_set(err, SL_E_ARCHIVE, "backup file \"%s\" is corrupt: %s does not start with "
                     "\"%.*s\"", sl_bfile_reader_path(r), what, (int)sig - 1, SL_BFILE_SIGNATURE);
        goto done;
    }
    if (!copy)
        rc.rows = e->rows > 0 ? e->rows : 0;
    else if (!sl_copyscan_finish(&rc)) {
        sl_error_set(err, SL_E_ARCHIVE, "backup file \"%s\" is corrupt: %s ends inside a COPY "
                     "block (no \"\\.\" line)", sl_bfile_reader_path(r), what);
        goto done;
    }
    if (copy && e->rows >= 0 && rc.rows != e->rows) {
        sl_error_set(err, SL_E_ARCHIVE, "backup file \"%s\" is corrupt: %s holds %lld rows, the "
                     "index says %lld", sl_bfile_reader_path(r), what, (long long)rc.rows,
                     (long long)e->rows);
        goto done;
    }
    if (table) {
        if (rep->ntables % 64 == 0)
            rep->tables = sl_realloc(rep->tables, (rep->ntables + 64) * sizeof *rep->tables);
        sl_verify_table *t = &rep->tables[rep->ntables++];
        t->schema = e->schema ? sl_strdup(e->schema) : NULL;
        t->name = e->name ? sl_strdup(e->name) : NULL;
        t->rows = rc.rows;
        t->bytes = e->raw_length;
        t->stored = e->length;
        t->segments = 1;
    }
    status = 0;
done:
    sl_bfile_stream_close(s);
    return status;
}

static int
strcmp_null(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int
table_cmp(const void *pa, const void *pb)
{
    const sl_verify_table *a = pa, *b = pb;
    int c = strcmp_null(a->schema, b->schema);
    return c ? c : strcmp_null(a->name, b->name);
}

/* A table split into several segments (ranges) becomes one line of the report. */
static void
merge_tables(sl_verify_report *rep)
{
    if (rep->ntables == 0)
        return;
    qsort(rep->tables, rep->ntables, sizeof *rep->tables, table_cmp);
    size_t k = 0;
    for (size_t i = 1; i < rep->ntables; i++) {
        sl_verify_table *t = &rep->tables[i], *last = &rep->tables[k];
        if (table_cmp(t, last) == 0) {
            last->rows += t->rows;
            last->bytes += t->bytes;
            last->stored += t->stored;
            last->segments += t->segments;
            free(t->schema);
            free(t->name);
        } else {
            rep->tables[++k] = *t;
        }
    }
    rep->ntables = k + 1;
}

/* The tables merged and counted; the report moves to out (rep is left empty). */
static void
finish(sl_verify_report *rep, sl_verify_report *out)
{
    merge_tables(rep);
    for (size_t i = 0; i < rep->ntables; i++)
        rep->rows += rep->tables[i].rows;
    *out = *rep;
    memset(rep, 0, sizeof *rep);
}

static char *
header_copy(const sl_bfile_reader *r, const char *field)
{
    const char *v = sl_bfile_reader_header(r, field);
    return v ? sl_strdup(v) : NULL;
}

int
sl_verify_file(const char *path, sl_verify_report *out, sl_error *err)
{
    return sl_verify_range(path, 0, UINT64_MAX, out, err);
}

int
sl_verify_range(const char *path, uint64_t base, uint64_t length, sl_verify_report *out,
                sl_error *err)
{
    sl_bfile_reader *r = NULL;
    sl_verify_report rep = {0};
    int rc = -1;
    if (sl_bfile_reader_open_range(&r, path, base, length, err) != 0)
        goto done;
    rep.indexed = sl_bfile_reader_indexed(r);
    rep.codec = sl_bfile_reader_codec(r);
    rep.file_bytes = sl_bfile_reader_size(r);
    rep.segments = sl_bfile_reader_count(r);
    rep.database = header_copy(r, "database");
    rep.server_version = header_copy(r, "server_version");
    rep.started_at = header_copy(r, "started_at");
    if (!rep.indexed) {
        if (check_part(r, NULL, &rep, err) != 0)
            goto done;
    } else {
        for (size_t i = 0; i < rep.segments; i++)
            if (check_part(r, sl_bfile_reader_entry(r, i), &rep, err) != 0)
                goto done;
    }
    finish(&rep, out);
    rc = 0;
done:
    sl_verify_report_free(&rep);
    sl_bfile_reader_close(r);
    return rc;
}

static char *
dup_or_null(const char *s)
{
    return s ? sl_strdup(s) : NULL;
}

/* One entry's data read to its end: COPY rows counted, large objects read whole. */
static int
check_pgarchive_entry(const char *path, const sl_pgarchive *a, const sl_pgarchive_entry *e,
                      sl_verify_report *rep, sl_error *err)
{
    sl_pgarchive_data *d = NULL;
    if (sl_pgarchive_data_open(&d, a, e, err) != 0)
        return -1;
    bool blobs = e->desc && strcmp(e->desc, "BLOBS") == 0;
    bool table = e->desc && strcmp(e->desc, "TABLE DATA") == 0 && e->copy_stmt;
    sl_copyscan scan = {0};
    if (table)
        sl_copyscan_feed(&scan, e->copy_stmt, strlen(e->copy_stmt));
    uint64_t bytes = 0;
    int got = 1;
    const void *p;
    size_t n;
    uint32_t oid;
    while (got == 1) {
        if (blobs) {
            got = sl_pgarchive_blob_next(d, &oid, err);
            if (got != 1)
                break;
            rep->large_objects++;
        }
        int r;
        while ((r = sl_pgarchive_data_read(d, &p, &n, err)) == 1) {
            bytes += n;
            if (table)
                sl_copyscan_feed(&scan, p, n);
        }
        if (r < 0)
            got = -1;
        else if (!blobs)
            got = 0;
    }
    sl_pgarchive_data_close(d);
    if (got < 0)
        return -1;
    rep->raw_bytes += bytes;
    if (!table)
        return 0;
    char what[300];
    if (!sl_copyscan_finish(&scan)) {
        sl_error_set(err, SL_E_ARCHIVE, "pg_dump archive \"%s\" is corrupt: the data of %s "
                     "ends inside its COPY block (no \"\\.\" line)", path,
                     sl_toc_describe(e, what, sizeof what));
        return -1;
    }
    if (rep->ntables % 64 == 0)
        rep->tables = sl_realloc(rep->tables, (rep->ntables + 64) * sizeof *rep->tables);
    sl_verify_table *t = &rep->tables[rep->ntables++];
    *t = (sl_verify_table){.schema = dup_or_null(e->namespace_), .name = dup_or_null(e->tag),
                           .rows = scan.rows, .bytes = bytes, .segments = 1};
    return 0;
}

int
sl_verify_pgarchive(const char *path, sl_verify_report *out, sl_error *err)
{
    static const char *const comp[] = {"none", "gzip", "lz4", "zstd"};
    sl_pgarchive *a = NULL;
    sl_verify_report rep = {0};
    int rc = -1;
    if (sl_pgarchive_open(&a, path, err) != 0)
        goto done;
    rep.indexed = true;
    rep.pg_dump_format = sl_pgarchive_format_of(a) == SL_PGARCHIVE_CUSTOM ? "custom"
                                                                          : "directory";
    rep.compression = comp[sl_pgarchive_compression(a)];
    rep.segments = sl_pgarchive_count(a);
    rep.database = dup_or_null(sl_pgarchive_dbname(a));
    rep.server_version = dup_or_null(sl_pgarchive_server_version(a));
    rep.started_at = dup_or_null(sl_pgarchive_created(a));
    for (size_t i = 0; i < rep.segments; i++) {
        const sl_pgarchive_entry *e = sl_pgarchive_at(a, i);
        if (e->has_data && check_pgarchive_entry(path, a, e, &rep, err) != 0)
            goto done;
    }
    finish(&rep, out);
    rc = 0;
done:
    sl_verify_report_free(&rep);
    sl_pgarchive_close(a);
    return rc;
}

void
sl_verify_report_free(sl_verify_report *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->ntables; i++) {
        free(rep->tables[i].schema);
        free(rep->tables[i].name);
    }
    free(rep->tables);
    free(rep->database);
    free(rep->server_version);
    free(rep->started_at);
    memset(rep, 0, sizeof *rep);
}

/* A member's bytes against the manifest's SHA-256 (one 1 MiB buffer). */
static int
check_sha(sl_archive *a, const sl_manifest_member *mm, sl_error *err)
{
    uint64_t off = 0, size = 0;
    if (!sl_archive_find(a, mm->name, &off, &size))
        return -1;
    sl_sha256 *h = NULL;
    if (sl_sha256_new(&h, err) != 0)
        return -1;
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = sl_malloc(CHUNK);
    int rc = 0;
    for (uint64_t at = 0; at < size && rc == 0;) {
        size_t n = size - at < CHUNK ? (size_t)(size - at) : CHUNK;
        rc = sl_archive_pread(a, buf, n, off + at, err);
        sl_sha256_update(h, buf, n);
        at += n;
    }
    unsigned char got[SL_SHA256_LEN];
    if (rc == 0 && (rc = sl_sha256_final(h, got, err)) == 0 &&
        memcmp(got, mm->sha256, sizeof got) != 0) {
        sl_error_set(err, SL_E_ARCHIVE, "%s: member %s does not match its SHA-256 in the "
                     "manifest (damaged)", sl_archive_path(a), mm->name);
        rc = -1;
    }
    free(buf);
    sl_sha256_free(h);
    return rc;
}

int
sl_verify_archive(sl_archive *a, sl_archive_verified_fn each, void *ctx, sl_error *err)
{
    const sl_manifest *m = sl_archive_manifest(a);
    for (size_t i = 0; i < m->nmembers; i++)
        if (check_sha(a, &m->members[i], err) != 0)
            return -1;
    for (size_t i = 0; i < m->ndatabases; i++) {
        const sl_manifest_database *d = &m->databases[i];
        uint64_t off = 0, size = 0;
        if (!d->ok || !sl_archive_find(a, d->member, &off, &size))
            continue;
        sl_verify_report rep = {0};
        if (sl_verify_range(sl_archive_path(a), off, size, &rep, err) != 0) {
            sl_error_context(err, "member %s", d->member);
            sl_verify_report_free(&rep);
            return -1;
        }
        if (rep.rows != d->rows) {
            sl_error_set(err, SL_E_ARCHIVE, "%s: member %s holds %lld rows, the manifest says "
                         "%lld", sl_archive_path(a), d->member, (long long)rep.rows,
                         (long long)d->rows);
            sl_verify_report_free(&rep);
            return -1;
        }
        if (each)
            each(ctx, d, &rep);
        sl_verify_report_free(&rep);
    }
    return 0;
}
