/* Unit tests for io/pgarchive.c: archives pg_dump 15 wrote (tests/unit/data/pgarchive, see its
 * README) read back; archives this file builds the way pg_dump 16 and 17 write them (1.15 and
 * 1.16 headers, lz4 and zstd data, several BLOBS entries), since pg_dump 15 cannot; and damage:
 * an archive cut at every byte, huge counts and lengths, a newer version, corrupt data.
 * Debugging: `test_pgarchive PATH` prints PATH's header and TOC as pg_restore -l does, and the
 * size of every entry's data (and of each large object), instead of running the tests;
 * `test_pgarchive --seeds DIR` writes the built archives that seed tests/fuzz/fuzz_pgarchive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#define SCRATCH_FILE "x.dump"
#include "base/buf.h"
#include "io/pgarchive.h"
#include "scratch.h"

#define DATA_DIR SL_TEST_DATA "/pgarchive"
static const char rows[] = "1\tone\n2\ttwo\n3\tthree\n\\.\n\n\n";
static const char lo_bytes[] = "large object bytes";

/* ---- reading a whole archive ---- */

/* Reads every entry's data (large objects too); returns the first failure's rc with err set.
 * total gets the number of bytes read; listing (may be NULL) gets one line per stream. */
static int
read_all(const sl_pgarchive *a, uint64_t *total, sl_buf *listing, sl_error *err)
{
    *total = 0;
    for (size_t i = 0; i < sl_pgarchive_count(a); i++) {
        const sl_pgarchive_entry *e = sl_pgarchive_at(a, i);
        if (!e->has_data)
            continue;
        sl_pgarchive_data *d = NULL;
        if (sl_pgarchive_data_open(&d, a, e, err) != 0)
            return -1;
        int rc;
        uint32_t oid = 0;
        bool blobs = strcmp(e->desc, "BLOBS") == 0;
        do {
            if (blobs && (rc = sl_pgarchive_blob_next(d, &oid, err)) != 1)
                break;
            const void *p;
            size_t n;
            uint64_t size = 0;
            while ((rc = sl_pgarchive_data_read(d, &p, &n, err)) == 1) {
                if (n == 0 || n > SL_PGARCHIVE_CHUNK)
                    fail_msg("chunk of %zu bytes", n);
                size += n;
            }
            *total += size;
            if (listing && rc == 0)
                sl_buf_printf(listing, "%d %u %llu\n", e->dump_id, oid,
                              (unsigned long long)size);
        } while (blobs && rc == 0);
        sl_pgarchive_data_close(d);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The bytes of one entry's data (of its large object oid when oid != 0). */
static char *
entry_data(const sl_pgarchive *a, const sl_pgarchive_entry *e, uint32_t oid, size_t *len)
{
    sl_error err;
    sl_error_clear(&err);
    sl_pgarchive_data *d = NULL;
    if (sl_pgarchive_data_open(&d, a, e, &err) != 0)
        fail_msg("data_open: %s", err.message);
    if (oid) {
        uint32_t got = 0;
        int rc;
        while ((rc = sl_pgarchive_blob_next(d, &got, &err)) == 1 && got != oid) {
        }
        if (rc != 1)
            fail_msg("no large object %u: %s", oid, err.message);
    }
    sl_buf b = SL_BUF_INIT;
    const void *p;
    size_t n;
    int rc;
    while ((rc = sl_pgarchive_data_read(d, &p, &n, &err)) == 1)
        sl_buf_append(&b, p, n);
    if (rc != 0)
        fail_msg("data_read: %s", err.message);
    sl_pgarchive_data_close(d);
    *len = b.len;
    if (!b.data)
        sl_buf_append(&b, "", 0);
    return sl_buf_steal(&b);
}

static const sl_pgarchive_entry *
by_desc(const sl_pgarchive *a, const char *desc)
{
    for (size_t i = 0; i < sl_pgarchive_count(a); i++) {
        if (strcmp(sl_pgarchive_at(a, i)->desc, desc) == 0)
            return sl_pgarchive_at(a, i);
    }
    fail_msg("no %s entry", desc);
    return NULL;
}

static sl_pgarchive *
open_ok(const char *path)
{
    sl_error err;
    sl_error_clear(&err);
    sl_pgarchive *a = NULL;
    if (sl_pgarchive_open(&a, path, &err) != 0)
        fail_msg("open %s: %s", path, err.message);
    return a;
}

static void
expect_data(const sl_pgarchive *a, const sl_pgarchive_entry *e, uint32_t oid, const void *want,
            size_t want_len)
{
    size_t len;
    char *got = entry_data(a, e, oid, &len);
    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
}

/* ---- the fixtures pg_dump 15 wrote ---- */

static void
check_tiny(const char *name, sl_pgarchive_format format, sl_pgarchive_comp comp)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", DATA_DIR, name);
    assert_true(sl_pgarchive_detect(path));
    sl_pgarchive *a = open_ok(path);
    assert_int_equal(sl_pgarchive_format_of(a), format);
    assert_int_equal(sl_pgarchive_compression(a), comp);
    assert_string_equal(sl_pgarchive_version(a), "1.14.0");
    assert_string_equal(sl_pgarchive_dbname(a), "tiny");
    assert_non_null(strstr(sl_pgarchive_server_version(a), "15."));
    assert_non_null(strstr(sl_pgarchive_dump_version(a), "15."));
    assert_int_equal(strlen(sl_pgarchive_created(a)), 19);
    assert_int_equal(sl_pgarchive_count(a), 9);
    assert_ptr_equal(sl_pgarchive_at(a, 1), sl_pgarchive_at(a, 0) + 1);
    assert_null(sl_pgarchive_at(a, 9));

    const sl_pgarchive_entry *table = by_desc(a, "TABLE");
    assert_string_equal(table->tag, "t");
    assert_string_equal(table->namespace_, "public");
    assert_string_equal(table->owner, "postgres");
    assert_string_equal(table->tableam, "heap");
    assert_int_equal(table->section, SL_PGARCHIVE_SECTION_PRE_DATA);
    assert_int_equal(table->table_oid, 1259);
    assert_non_null(strstr(table->defn, "CREATE TABLE public.t"));
    assert_false(table->has_data);
    assert_int_equal(table->relkind, 0);

    const sl_pgarchive_entry *data = by_desc(a, "TABLE DATA");
    assert_true(data->has_data);
    assert_int_equal(data->section, SL_PGARCHIVE_SECTION_DATA);
    assert_string_equal(data->copy_stmt, "COPY public.t (id, name) FROM stdin;\n");
    assert_int_equal(data->ndeps, 1);
    assert_int_equal(data->deps[0], table->dump_id);
    assert_ptr_equal(sl_pgarchive_find(a, data->dump_id), data);
    assert_null(sl_pgarchive_find(a, 99999));
    if (format == SL_PGARCHIVE_CUSTOM)
        assert_true(data->data_offset > 0);
    else
        assert_non_null(data->data_file);
    expect_data(a, data, 0, rows, strlen(rows));

    const sl_pgarchive_entry *blobs = by_desc(a, "BLOBS");
    assert_true(blobs->has_data);
    expect_data(a, blobs, 424242, lo_bytes, strlen(lo_bytes));
    sl_buf listing = SL_BUF_INIT;
    uint64_t total;
    sl_error err;
    sl_error_clear(&err);
    assert_int_equal(read_all(a, &total, &listing, &err), 0);
    assert_int_equal(total, strlen(rows) + strlen(lo_bytes));
    sl_buf_free(&listing);
    sl_pgarchive_close(a);
}

static void
test_custom_none(void **state)
{
    (void)state;
    check_tiny("none.dump", SL_PGARCHIVE_CUSTOM, SL_PGARCHIVE_COMP_NONE);
}

static void
test_custom_gzip(void **state)
{
    (void)state;
    check_tiny("gzip.dump", SL_PGARCHIVE_CUSTOM, SL_PGARCHIVE_COMP_GZIP);
}

/* pg_dump -Fc | cat: no offsets in the TOC; the scan at open finds the blocks. */
static void
test_custom_pipe(void **state)
{
    (void)state;
    check_tiny("pipe.dump", SL_PGARCHIVE_CUSTOM, SL_PGARCHIVE_COMP_GZIP);
}

static void
test_directory_none(void **state)
{
    (void)state;
    check_tiny("dir_none", SL_PGARCHIVE_DIRECTORY, SL_PGARCHIVE_COMP_NONE);
}

static void
test_directory_gzip(void **state)
{
    (void)state;
    check_tiny("dir_gzip", SL_PGARCHIVE_DIRECTORY, SL_PGARCHIVE_COMP_GZIP);
}

/* ---- the fixtures pg_dump 17 wrote (pg17/, see the README) ---- */

static void
check_pg17(const char *name, sl_pgarchive_format format, sl_pgarchive_comp comp)
{
    static const char second[] = "another large object";
    char path[512];
    snprintf(path, sizeof path, "%s/pg17/%s", DATA_DIR, name);
    sl_pgarchive *a = open_ok(path);
    assert_int_equal(sl_pgarchive_format_of(a), format);
    assert_int_equal(sl_pgarchive_compression(a), comp);
    assert_string_equal(sl_pgarchive_version(a), "1.16.0");
    assert_non_null(strstr(sl_pgarchive_dump_version(a), "17."));
    const sl_pgarchive_entry *table = by_desc(a, "TABLE");
    assert_int_equal(table->relkind, 'r');
    const sl_pgarchive_entry *meta = by_desc(a, "BLOB METADATA");
    assert_string_equal(meta->defn, "424242\n424243\n");
    expect_data(a, by_desc(a, "TABLE DATA"), 0, rows, strlen(rows));
    const sl_pgarchive_entry *blobs = by_desc(a, "BLOBS");
    expect_data(a, blobs, 424242, lo_bytes, strlen(lo_bytes));
    expect_data(a, blobs, 424243, second, strlen(second));
    sl_pgarchive_close(a);
}

static void
test_pg17(void **state)
{
    (void)state;
    check_pg17("none.dump", SL_PGARCHIVE_CUSTOM, SL_PGARCHIVE_COMP_NONE);
    check_pg17("gzip.dump", SL_PGARCHIVE_CUSTOM, SL_PGARCHIVE_COMP_GZIP);
    check_pg17("lz4.dump", SL_PGARCHIVE_CUSTOM, SL_PGARCHIVE_COMP_LZ4);
    check_pg17("zstd.dump", SL_PGARCHIVE_CUSTOM, SL_PGARCHIVE_COMP_ZSTD);
    check_pg17("dir_lz4", SL_PGARCHIVE_DIRECTORY, SL_PGARCHIVE_COMP_LZ4);
    check_pg17("dir_zstd", SL_PGARCHIVE_DIRECTORY, SL_PGARCHIVE_COMP_ZSTD);
}

static void
write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    sl_buf b = SL_BUF_INIT;
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        sl_buf_append(&b, tmp, n);
    fclose(f);
    *len = b.len;
    return sl_buf_steal(&b);
}

static void
test_detect(void **state)
{
    scratch *s = *state;
    assert_true(sl_pgarchive_detect(DATA_DIR "/dir_none"));
    assert_false(sl_pgarchive_detect(DATA_DIR));
    assert_false(sl_pgarchive_detect(DATA_DIR "/missing.dump"));
    assert_false(sl_pgarchive_detect(DATA_DIR "/dir_none/blobs.toc"));
    write_file(s->path, "PGDM", 4);
    assert_false(sl_pgarchive_detect(s->path));
    write_file(s->path, "PGDMP", 5);
    assert_true(sl_pgarchive_detect(s->path));
}

/* ---- damage ---- */

/* Opening and reading everything fails with SL_E_ARCHIVE and a message naming the file. */
static void
expect_archive_error(const char *path, const char *needle)
{
    sl_error err;
    sl_error_clear(&err);
    sl_pgarchive *a = NULL;
    int rc = sl_pgarchive_open(&a, path, &err);
    if (rc == 0) {
        uint64_t total;
        rc = read_all(a, &total, NULL, &err);
        sl_pgarchive_close(a);
    }
    if (rc == 0)
        fail_msg("%s: read without error", path);
    if (err.kind != SL_E_ARCHIVE)
        fail_msg("%s: %s error: %s", path, sl_error_kind_name(err.kind), err.message);
    if (!strstr(err.message, "pg_dump archive \""))
        fail_msg("message names no file: %s", err.message);
    if (needle && !strstr(err.message, needle))
        fail_msg("\"%s\" not in: %s", needle, err.message);
}

/* Every prefix of a custom archive is refused (the data part too: a block cut short). */
static void
cut_everywhere(const char *name, const char *path)
{
    size_t len;
    char *full = read_file(name, &len);
    for (size_t n = 0; n < len; n++) {
        write_file(path, full, n);
        expect_archive_error(path, NULL);
    }
    free(full);
}

static void
test_custom_cut_everywhere(void **state)
{
    scratch *s = *state;
    cut_everywhere(DATA_DIR "/none.dump", s->path);
    cut_everywhere(DATA_DIR "/gzip.dump", s->path);
    cut_everywhere(DATA_DIR "/pipe.dump", s->path);
}

static void
copy_dir(const char *from, const char *to)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", to, from, to);
    assert_int_equal(system(cmd), 0);
}

/* A directory archive with its toc.dat, or a compressed data file, cut at every byte. */
static void
test_directory_cut_everywhere(void **state)
{
    scratch *s = *state;
    const char *files[] = {"toc.dat", "3340.dat.gz", "blob_424242.dat.gz"};
    char dir[256];
    snprintf(dir, sizeof dir, "%s/d", s->dir);
    for (size_t f = 0; f < 3; f++) {
        char src[512], dst[512];
        snprintf(src, sizeof src, "%s/dir_gzip/%s", DATA_DIR, files[f]);
        snprintf(dst, sizeof dst, "%s/%s", dir, files[f]);
        size_t len;
        char *full = read_file(src, &len);
        copy_dir(DATA_DIR "/dir_gzip", dir);
        for (size_t n = 0; n < len; n++) {
            write_file(dst, full, n);
            expect_archive_error(dir, NULL);
        }
        free(full);
    }
}

/* ---- archives built here, the way pg_dump writes them ---- */

static void
put_int(sl_buf *b, int64_t v)
{
    sl_buf_putc(b, (char)(v < 0));
    uint64_t m = v < 0 ? (uint64_t)-v : (uint64_t)v;
    for (int i = 0; i < 4; i++, m >>= 8)
        sl_buf_putc(b, (char)(m & 0xff));
}

static void
put_str(sl_buf *b, const char *s)
{
    if (!s) {
        put_int(b, -1);
        return;
    }
    put_int(b, (int64_t)strlen(s));
    sl_buf_append(b, s, strlen(s));
}

enum { FMT_CUSTOM = 1, FMT_DIR = 3 };

/* comp: before 1.15 a zlib level, from 1.15 the algorithm (0 none 1 gzip 2 lz4 3 zstd). */
static void
put_header(sl_buf *b, int minor, int fmt, int comp)
{
    sl_buf_append(b, "PGDMP", 5);
    sl_buf_putc(b, 1);
    sl_buf_putc(b, (char)minor);
    sl_buf_putc(b, 0);
    sl_buf_putc(b, 4);  /* int size */
    sl_buf_putc(b, 8);  /* offset size */
    sl_buf_putc(b, (char)fmt);
    if (minor >= 15)
        sl_buf_putc(b, (char)comp);
    else
        put_int(b, comp);
    const int tm[7] = {5, 4, 3, 2, 0, 126, 0};  /* 2026-01-02 03:04:05 */
    for (int i = 0; i < 7; i++)
        put_int(b, tm[i]);
    put_str(b, "db");
    put_str(b, "17.0");
    put_str(b, "17.0");
}

typedef struct {
    int id;
    const char *desc;
    const char *file;  /* directory: the data file (NULL: none); custom: has data if set */
    int dep;           /* 0: none */
} toc_item;

static void
put_entry(sl_buf *b, int minor, int fmt, const toc_item *t)
{
    char num[16];
    put_int(b, t->id);
    put_int(b, t->file != NULL);
    put_str(b, "0");
    snprintf(num, sizeof num, "%d", 16000 + t->id);
    put_str(b, num);
    put_str(b, "tag");
    put_str(b, t->desc);
    put_int(b, strcmp(t->desc, "TABLE") == 0 ? 2 : 3);
    put_str(b, "");
    put_str(b, "");
    put_str(b, strcmp(t->desc, "TABLE DATA") == 0 ? "COPY public.t (a) FROM stdin;\n" : "");
    put_str(b, "public");
    put_str(b, "");
    put_str(b, "heap");
    if (minor >= 16)
        put_int(b, 'r');
    put_str(b, "postgres");
    put_str(b, "false");
    if (t->dep) {
        snprintf(num, sizeof num, "%d", t->dep);
        put_str(b, num);
    }
    put_str(b, NULL);
    if (fmt == FMT_DIR) {
        put_str(b, t->file ? t->file : "");
    } else {
        sl_buf_putc(b, t->file ? 1 : 3);  /* offset not set (a pipe) / no data */
        for (int i = 0; i < 8; i++)
            sl_buf_putc(b, 0);
    }
}

static void
put_toc(sl_buf *b, int minor, int fmt, int comp, const toc_item *items, size_t n)
{
    put_header(b, minor, fmt, comp);
    put_int(b, (int64_t)n);
    for (size_t i = 0; i < n; i++)
        put_entry(b, minor, fmt, &items[i]);
}

/* data compressed as pg_dump compresses it: comp as in put_header (>= 1.15), or 4: a gzip
 * file (a directory archive's .gz). */
static void
compress_as(int comp, const void *in, size_t len, sl_buf *out)
{
    sl_buf_reset(out);
    if (comp == 0) {
        sl_buf_append(out, in, len);
        return;
    }
    size_t cap = len + len / 2 + 1024;
    sl_buf_reserve(out, cap);
    if (comp == 1 || comp == 4) {
        z_stream z;
        memset(&z, 0, sizeof z);
        assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, comp == 4 ? 31 : 15, 8,
                                      Z_DEFAULT_STRATEGY), Z_OK);
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)out->data;
        z.avail_out = (uInt)cap;
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        out->len = z.total_out;
        deflateEnd(&z);
    } else if (comp == 2) {
        cap = LZ4F_compressFrameBound(len, NULL);
        sl_buf_reserve(out, cap);
        size_t n = LZ4F_compressFrame(out->data, cap, in, len, NULL);
        assert_false(LZ4F_isError(n));
        out->len = n;
    } else {
        size_t n = ZSTD_compress(out->data, cap, in, len, 3);
        assert_false(ZSTD_isError(n));
        out->len = n;
    }
}

/* Chunks of at most step bytes, then the zero length. */
static void
put_chunks(sl_buf *b, const sl_buf *stored, size_t step)
{
    for (size_t at = 0; at < stored->len; at += step) {
        size_t n = stored->len - at < step ? stored->len - at : step;
        put_int(b, (int64_t)n);
        sl_buf_append(b, stored->data + at, n);
    }
    put_int(b, 0);
}

/* The oid of large object k of BLOBS entry blk: one above 2^31, which pg_dump writes as a
 * negative int. */
static uint32_t
lo_oid(int blk, int k)
{
    return blk == 4 && k == 1 ? 3000000000u : (uint32_t)(blk * 1000 + k);
}

/* Rows of text: enough to need many chunks and many output chunks. */
static size_t nrows = 40000;  /* fewer for the fuzzer's seeds */

static char *
make_rows(size_t *len)
{
    sl_buf b = SL_BUF_INIT;
    for (size_t i = 0; i < nrows; i++)
        sl_buf_printf(&b, "%zu\trow number %zu of the table\n", i, i * 7);
    sl_buf_puts(&b, "\\.\n\n");
    *len = b.len;
    return sl_buf_steal(&b);
}

static const toc_item items_17[] = {
    {1, "TABLE", NULL, 0},
    {2, "TABLE DATA", "2.dat", 1},
    {3, "BLOBS", "blobs_3.toc", 0},
    {4, "BLOBS", "blobs_4.toc", 0},
    {5, "INDEX", NULL, 77},  /* a dependency on an object not in the archive */
};

/* A custom archive of version minor with compression comp, written to a pipe. */
static void
build_custom(const char *path, int minor, int comp, size_t step)
{
    size_t len;
    char *data = make_rows(&len);
    sl_buf b = SL_BUF_INIT, z = SL_BUF_INIT;
    put_toc(&b, minor, FMT_CUSTOM, minor >= 15 ? comp : (comp ? -1 : 0), items_17, 5);
    sl_buf_putc(&b, 1);
    put_int(&b, 2);
    compress_as(comp, data, len, &z);
    put_chunks(&b, &z, step);
    for (int blk = 3; blk <= 4; blk++) {
        sl_buf_putc(&b, 3);
        put_int(&b, blk);
        for (int k = 0; k < 2; k++) {
            char lo[64];
            int n = snprintf(lo, sizeof lo, "large object %d.%d", blk, k);
            put_int(&b, (int32_t)lo_oid(blk, k));
            compress_as(comp, lo, (size_t)n, &z);
            put_chunks(&b, &z, step);
        }
        put_int(&b, 0);
    }
    write_file(path, b.data, b.len);
    sl_buf_free(&b);
    sl_buf_free(&z);
    free(data);
}

static void
check_built(const char *path, const char *version, sl_pgarchive_comp comp)
{
    size_t len;
    char *data = make_rows(&len);
    sl_pgarchive *a = open_ok(path);
    assert_string_equal(sl_pgarchive_version(a), version);
    assert_int_equal(sl_pgarchive_compression(a), comp);
    assert_string_equal(sl_pgarchive_created(a), "2026-01-02 03:04:05");
    assert_int_equal(sl_pgarchive_count(a), 5);
    const sl_pgarchive_entry *index = sl_pgarchive_find(a, 5);
    assert_int_equal(index->ndeps, 0);  /* dump id 77 is not in the archive */
    assert_int_equal(sl_pgarchive_find(a, 2)->ndeps, 1);
    assert_int_equal(sl_pgarchive_find(a, 2)->relkind, strcmp(version, "1.16.0") ? 0 : 'r');
    expect_data(a, sl_pgarchive_find(a, 2), 0, data, len);
    expect_data(a, sl_pgarchive_find(a, 3), 3001, "large object 3.1", 16);
    expect_data(a, sl_pgarchive_find(a, 4), 4000, "large object 4.0", 16);
    expect_data(a, sl_pgarchive_find(a, 4), 3000000000u, "large object 4.1", 16);
    /* Large objects read in part or not at all are skipped by _blob_next(). */
    sl_error err;
    sl_error_clear(&err);
    sl_pgarchive_data *d = NULL;
    assert_int_equal(sl_pgarchive_data_open(&d, a, sl_pgarchive_find(a, 4), &err), 0);
    uint32_t oid = 0;
    const void *p;
    size_t n;
    assert_int_equal(sl_pgarchive_data_read(d, &p, &n, &err), 0);  /* no object yet */
    assert_int_equal(sl_pgarchive_blob_next(d, &oid, &err), 1);
    assert_int_equal(oid, 4000);
    assert_int_equal(sl_pgarchive_blob_next(d, &oid, &err), 1);
    assert_int_equal(oid, 3000000000u);
    assert_int_equal(sl_pgarchive_data_read(d, &p, &n, &err), 1);
    assert_int_equal(sl_pgarchive_blob_next(d, &oid, &err), 0);
    assert_int_equal(sl_pgarchive_blob_next(d, &oid, &err), 0);
    sl_pgarchive_data_close(d);
    sl_pgarchive_close(a);
    free(data);
}

static void
test_custom_built(void **state)
{
    scratch *s = *state;
    static const struct { int minor, comp; const char *version; sl_pgarchive_comp want; } v[] = {
        {14, 1, "1.14.0", SL_PGARCHIVE_COMP_GZIP}, {15, 0, "1.15.0", SL_PGARCHIVE_COMP_NONE},
        {15, 1, "1.15.0", SL_PGARCHIVE_COMP_GZIP}, {15, 2, "1.15.0", SL_PGARCHIVE_COMP_LZ4},
        {15, 3, "1.15.0", SL_PGARCHIVE_COMP_ZSTD}, {16, 2, "1.16.0", SL_PGARCHIVE_COMP_LZ4},
        {16, 3, "1.16.0", SL_PGARCHIVE_COMP_ZSTD}, {16, 1, "1.16.0", SL_PGARCHIVE_COMP_GZIP},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        for (size_t step = 1000; step <= 200000; step *= 200) {
            build_custom(s->path, v[i].minor, v[i].comp, step);
            check_built(s->path, v[i].version, v[i].want);
        }
    }
}

/* A directory archive as pg_dump 17 writes it: blobs_N.toc per BLOBS entry. */
static void
build_directory(const char *dir, int comp)
{
    static const char *const suffix[] = {"", ".gz", ".lz4", ".zst"};
    int file_comp = comp == 1 ? 4 : comp;
    char path[512];
    mkdir(dir, 0700);
    sl_buf b = SL_BUF_INIT, z = SL_BUF_INIT;
    put_toc(&b, 16, FMT_DIR, comp, items_17, 5);
    snprintf(path, sizeof path, "%s/toc.dat", dir);
    write_file(path, b.data, b.len);
    size_t len;
    char *data = make_rows(&len);
    compress_as(file_comp, data, len, &z);
    snprintf(path, sizeof path, "%s/2.dat%s", dir, suffix[comp]);
    write_file(path, z.data, z.len);
    for (int blk = 3; blk <= 4; blk++) {
        sl_buf_reset(&b);
        for (int k = 0; k < 2; k++) {
            char lo[64];
            int n = snprintf(lo, sizeof lo, "large object %d.%d", blk, k);
            sl_buf_printf(&b, "%u blob_%u.dat\n", lo_oid(blk, k), lo_oid(blk, k));
            compress_as(file_comp, lo, (size_t)n, &z);
            snprintf(path, sizeof path, "%s/blob_%u.dat%s", dir, lo_oid(blk, k), suffix[comp]);
            write_file(path, z.data, z.len);
        }
        snprintf(path, sizeof path, "%s/blobs_%d.toc", dir, blk);
        write_file(path, b.data, b.len);
    }
    sl_buf_free(&b);
    sl_buf_free(&z);
    free(data);
}

static void
test_directory_built(void **state)
{
    scratch *s = *state;
    char dir[256];
    for (int comp = 0; comp <= 3; comp++) {
        snprintf(dir, sizeof dir, "%s/d%d", s->dir, comp);
        build_directory(dir, comp);
        assert_true(sl_pgarchive_detect(dir));
        check_built(dir, "1.16.0", (sl_pgarchive_comp)comp);
    }
}

/* lz4 and zstd data cut at many points, and with a byte changed, are refused. */
static void
test_built_damage(void **state)
{
    scratch *s = *state;
    for (int comp = 1; comp <= 3; comp++) {
        build_custom(s->path, 16, comp, 4096);
        size_t len;
        char *full = read_file(s->path, &len);
        for (size_t n = 0; n < len; n += len / 97 + 1) {
            write_file(s->path, full, n);
            expect_archive_error(s->path, NULL);
        }
        /* The first byte of the table's data (the magic of lz4 and zstd frames, zlib's
         * header): after the TOC, the block's type and dump id and the chunk's length. */
        sl_buf toc = SL_BUF_INIT;
        put_toc(&toc, 16, FMT_CUSTOM, comp, items_17, 5);
        char *at = full + toc.len + 1 + 5 + 5;
        sl_buf_free(&toc);
        at[0] ^= 0x55;
        write_file(s->path, full, len);
        expect_archive_error(s->path, "at byte");
        at[0] ^= 0x55;
        /* The middle of the data: zlib's checksum sees it (lz4 frames and zstd frames as
         * pg_dump writes them have none). */
        if (comp == 1) {
            full[len / 3] ^= 0x55;
            full[len / 3 + 1] ^= 0x55;
            write_file(s->path, full, len);
            expect_archive_error(s->path, "at byte");
        }
        free(full);
    }
}

/* A large object read in part: _blob_next() skips the rest of its chunks. */
static void
test_blob_skipped_in_part(void **state)
{
    scratch *s = *state;
    static const toc_item items[] = {{1, "BLOBS", "blobs.toc", 0}};
    sl_buf b = SL_BUF_INIT, z = SL_BUF_INIT;
    put_toc(&b, 14, FMT_CUSTOM, 0, items, 1);
    sl_buf_putc(&b, 3);
    put_int(&b, 1);
    put_int(&b, 500);
    sl_buf_puts(&z, "0123456789abcdefghij0123456789");
    put_chunks(&b, &z, 10);
    put_int(&b, 501);
    sl_buf_reset(&z);
    sl_buf_puts(&z, "second");
    put_chunks(&b, &z, 10);
    put_int(&b, 0);
    write_file(s->path, b.data, b.len);
    sl_buf_free(&b);
    sl_buf_free(&z);

    sl_pgarchive *a = open_ok(s->path);
    sl_error err;
    sl_error_clear(&err);
    sl_pgarchive_data *d = NULL;
    assert_int_equal(sl_pgarchive_data_open(&d, a, sl_pgarchive_find(a, 1), &err), 0);
    uint32_t oid = 0;
    const void *p;
    size_t n;
    assert_int_equal(sl_pgarchive_blob_next(d, &oid, &err), 1);
    assert_int_equal(oid, 500);
    assert_int_equal(sl_pgarchive_data_read(d, &p, &n, &err), 1);
    assert_int_equal(n, 10);  /* one chunk of three */
    assert_memory_equal(p, "0123456789", 10);
    assert_int_equal(sl_pgarchive_blob_next(d, &oid, &err), 1);
    assert_int_equal(oid, 501);
    assert_int_equal(sl_pgarchive_data_read(d, &p, &n, &err), 1);
    assert_int_equal(n, 6);
    assert_memory_equal(p, "second", 6);
    assert_int_equal(sl_pgarchive_data_read(d, &p, &n, &err), 0);
    assert_int_equal(sl_pgarchive_blob_next(d, &oid, &err), 0);
    sl_pgarchive_data_close(d);
    sl_pgarchive_close(a);
}

static void
write_built(const char *path, void (*edit)(sl_buf *b))
{
    sl_buf b = SL_BUF_INIT;
    edit(&b);
    write_file(path, b.data, b.len);
    sl_buf_free(&b);
}

static void
huge_count(sl_buf *b)
{
    put_header(b, 14, FMT_CUSTOM, 0);
    put_int(b, INT32_MAX);
    sl_buf_append(b, "0123456789", 10);
}

static void
huge_string(sl_buf *b)
{
    put_header(b, 14, FMT_CUSTOM, 0);
    put_int(b, 1);
    put_int(b, 1);
    put_int(b, 0);
    put_str(b, "0");
    put_str(b, "1");
    put_int(b, INT32_MAX);  /* the tag's length */
    for (int i = 0; i < 20; i++)
        sl_buf_append(b, "tag.tag.tag.", 12);
}

static void
version_17(sl_buf *b)
{
    put_header(b, 17, FMT_CUSTOM, 0);
    put_int(b, 0);
}

static void
wrong_format(sl_buf *b)
{
    put_toc(b, 14, FMT_DIR, 0, items_17, 1);
}

static void
duplicate_id(sl_buf *b)
{
    static const toc_item twice[] = {{1, "TABLE", NULL, 0}, {1, "INDEX", NULL, 0}};
    put_toc(b, 14, FMT_CUSTOM, 0, twice, 2);
}

static void
missing_block(sl_buf *b)
{
    put_toc(b, 14, FMT_CUSTOM, 0, items_17, 2);
    sl_buf_putc(b, 1);
    put_int(b, 9);  /* a block for a dump id the TOC does not hold */
    put_int(b, 0);
}

static void
test_bad_headers_and_tocs(void **state)
{
    scratch *s = *state;
    static const struct { void (*edit)(sl_buf *); const char *needle; } cases[] = {
        {huge_count, "entry count 2147483647"},
        {huge_string, "2147483647 bytes from byte"},
        {version_17, "archive version 1.17 is newer than sluice reads (up to 1.16"},
        {wrong_format, "format 3 where 1 was expected"},
        {duplicate_id, "dump id 1 twice"},
        {missing_block, "dump id 9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_built(s->path, cases[i].edit);
        expect_archive_error(s->path, cases[i].needle);
    }
}

/* A truncated TOC says where and what: the entry and its field. */
static void
test_message_names_offset_and_field(void **state)
{
    scratch *s = *state;
    size_t len;
    char *full = read_file(DATA_DIR "/none.dump", &len);
    write_file(s->path, full, 1000);
    sl_error err;
    sl_error_clear(&err);
    sl_pgarchive *a = NULL;
    assert_int_equal(sl_pgarchive_open(&a, s->path, &err), -1);
    assert_int_equal(err.kind, SL_E_ARCHIVE);
    if (!strstr(err.message, "truncated at byte 1000 (reading the TOC entry"))
        fail_msg("%s", err.message);
    assert_non_null(strstr(err.message, s->path));
    free(full);
}

/* A directory archive's data file name is a plain name: no path out of the directory. */
static void
test_directory_rejects_paths(void **state)
{
    scratch *s = *state;
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s/d", s->dir);
    mkdir(dir, 0700);
    static const toc_item evil[] = {{1, "TABLE DATA", "../x.dat", 0}};
    sl_buf b = SL_BUF_INIT;
    put_toc(&b, 14, FMT_DIR, 0, evil, 1);
    snprintf(path, sizeof path, "%s/toc.dat", dir);
    write_file(path, b.data, b.len);
    sl_buf_free(&b);
    expect_archive_error(dir, "not a plain file name");
    /* blobs.toc naming a path */
    build_directory(dir, 0);
    snprintf(path, sizeof path, "%s/blobs_3.toc", dir);
    write_file(path, "3000 ../blob_3000.dat\n", 22);
    expect_archive_error(dir, "not an \"OID FILE\" line");
}

/* ---- debugging: the listing of an archive ---- */

static int
list_archive(const char *path)
{
    sl_error err;
    sl_error_clear(&err);
    sl_pgarchive *a = NULL;
    if (sl_pgarchive_open(&a, path, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    printf("; version %s, compression %d, dbname %s, created %s, %zu entries\n",
           sl_pgarchive_version(a), (int)sl_pgarchive_compression(a),
           sl_pgarchive_dbname(a) ? sl_pgarchive_dbname(a) : "", sl_pgarchive_created(a),
           sl_pgarchive_count(a));
    for (size_t i = 0; i < sl_pgarchive_count(a); i++) {
        const sl_pgarchive_entry *e = sl_pgarchive_at(a, i);
        printf("%d; %u %u %s %s %s %s (section %d, %zu deps, data %s)\n", e->dump_id,
               e->table_oid, e->oid, e->desc, e->namespace_ ? e->namespace_ : "-", e->tag,
               e->owner ? e->owner : "", e->section, e->ndeps, e->has_data ? "yes" : "no");
    }
    sl_buf listing = SL_BUF_INIT;
    uint64_t total;
    int rc = read_all(a, &total, &listing, &err);
    printf("; data (dump id, oid, bytes):\n%s", listing.data ? listing.data : "");
    if (rc != 0)
        fprintf(stderr, "%s\n", err.message);
    sl_buf_free(&listing);
    sl_pgarchive_close(a);
    return rc != 0;
}

/* The seeds of tests/fuzz/fuzz_pgarchive that pg_dump 15 cannot write: small custom archives
 * of version 1.16 with gzip, lz4 and zstd data (to a pipe, as build_custom writes them). */
static int
write_seeds(const char *dir)
{
    static const char *const names[] = {"none16.dump", "gzip16.dump", "lz4_16.dump",
                                        "zstd16.dump"};
    nrows = 20;
    for (int comp = 0; comp <= 3; comp++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[comp]);
        build_custom(path, 16, comp, 200);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 2)
        return list_archive(argv[1]);
    if (argc == 3 && strcmp(argv[1], "--seeds") == 0)
        return write_seeds(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_custom_none),
        cmocka_unit_test(test_custom_gzip),
        cmocka_unit_test(test_custom_pipe),
        cmocka_unit_test(test_directory_none),
        cmocka_unit_test(test_directory_gzip),
        cmocka_unit_test(test_pg17),
        SCRATCH_TEST(test_detect),
        SCRATCH_TEST(test_custom_cut_everywhere),
        SCRATCH_TEST(test_directory_cut_everywhere),
        SCRATCH_TEST(test_custom_built),
        SCRATCH_TEST(test_directory_built),
        SCRATCH_TEST(test_built_damage),
        SCRATCH_TEST(test_blob_skipped_in_part),
        SCRATCH_TEST(test_bad_headers_and_tocs),
        SCRATCH_TEST(test_message_names_offset_and_field),
        SCRATCH_TEST(test_directory_rejects_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
