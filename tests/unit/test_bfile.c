/* tests/unit/test_bfile.c: the backup file writer, reader, streams and verify, without a server:
 * concurrent segments, tool compatibility, a large index, truncation and bit flips. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
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
#include <malloc.h>
#define ZSTD_STATIC_LINKING_ONLY  /* ZSTD_getFrameHeader() */
#include <zstd.h>
#define SCRATCH_FILE "db.sql"
#include "scratch.h"

#include "base/buf.h"
#include "io/bfile.h"
#include "io/bfile_format.h"
#include "io/checksum.h"
#include "restore/verify.h"

static const sl_codec_kind all_kinds[] = {SL_CODEC_GZIP, SL_CODEC_ZSTD, SL_CODEC_NONE};

static size_t
dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* Deterministic COPY text for a table: header, rows lines, "\.". */
static void
table_text(sl_buf *b, const char *name, int rows, unsigned seed)
{
    sl_buf_printf(b, "COPY public.%s (id, v) FROM stdin;\n", name);
    for (int i = 0; i < rows; i++) {
        seed = seed * 1103515245u + 12345u;
        sl_buf_printf(b, "%d\tvalue %u with some words %u\n", i, seed % 99991, (seed >> 9) % 13);
    }
    sl_buf_puts(b, "\\.\n\n");
}

static void
write_segment(sl_bfile_writer *w, const char *text, size_t len, size_t piece,
              const sl_bfile_meta *meta)
{
    sl_bfile_segment *s = NULL;
    sl_error err = {0};
    assert_int_equal(sl_bfile_segment_open(w, &s, &err), 0);
    for (size_t off = 0; off < len; off += piece) {
        size_t n = len - off < piece ? len - off : piece;
        if (sl_bfile_segment_write(s, text + off, n, &err) != 0)
            fail_msg("write: %s", err.message);
    }
    if (sl_bfile_segment_commit(s, meta, &err) != 0)
        fail_msg("commit: %s", err.message);
}

static const char preamble[] = SL_BFILE_SIGNATURE "SET client_encoding = 'UTF8';\n";

static void
write_preamble(sl_bfile_writer *w)
{
    write_segment(w, preamble, strlen(preamble), 1000,
                  &(sl_bfile_meta){.phase = SL_PHASE_PREAMBLE, .kind = "PREAMBLE", .rows = -1});
}

static void
close_writer(sl_bfile_writer *w)
{
    sl_error err = {0};
    sl_bfile_header hdr = {.database = "db", .server_version = "15.4", .snapshot = "00000003-1",
                           .started_at = "2024-01-01T00:00:00Z", .sluice_version = "0.1.0"};
    if (sl_bfile_writer_close(w, &hdr, &err) != 0)
        fail_msg("close: %s", err.message);
}

/* A small complete file: preamble, pre-data, two tables, an index segment. */
static void
write_small(const char *path, sl_codec_kind kind)
{
    sl_bfile_writer *w = NULL;
    sl_error err = {0};
    sl_buf t = SL_BUF_INIT;
    assert_int_equal(sl_bfile_writer_open(&w, path, &(sl_codec){kind, 0}, &err), 0);
    write_preamble(w);
    const char ddl[] = "CREATE TABLE public.a (id int, v text);\n"
                       "CREATE TABLE public.b (id int, v text);\n";
    write_segment(w, ddl, strlen(ddl), 7,
                  &(sl_bfile_meta){.phase = SL_PHASE_PRE_DATA, .kind = "PRE-DATA", .rows = -1});
    table_text(&t, "a", 20, 1);
    write_segment(w, t.data, t.len, 100,
                  &(sl_bfile_meta){.phase = SL_PHASE_DATA, .parallel = true, .kind = "TABLE DATA",
                                   .schema = "public", .name = "a", .rows = 20});
    sl_buf_reset(&t);
    table_text(&t, "b", 3, 2);
    write_segment(w, t.data, t.len, 100,
                  &(sl_bfile_meta){.phase = SL_PHASE_DATA, .parallel = true, .kind = "TABLE DATA",
                                   .schema = "public", .name = "b", .rows = 3});
    const char idx[] = "CREATE INDEX a_i ON public.a (id);\n";
    write_segment(w, idx, strlen(idx), 100,
                  &(sl_bfile_meta){.phase = SL_PHASE_INDEX, .parallel = true, .kind = "INDEX",
                                   .schema = "public", .name = "a_i", .rows = -1});
    close_writer(w);
    sl_buf_free(&t);
}

static void
read_all(const sl_bfile_reader *r, const sl_bfile_entry *e, bool verify, sl_buf *out)
{
    sl_bfile_stream *s = NULL;
    sl_error err = {0};
    const char *data;
    size_t len;
    int rc;
    if (sl_bfile_stream_open(&s, r, e, verify, &err) != 0)
        fail_msg("stream: %s", err.message);
    while ((rc = sl_bfile_stream_read(s, &data, &len, &err)) == 1)
        sl_buf_append(out, data, len);
    if (rc != 0)
        fail_msg("read: %s", err.message);
    sl_bfile_stream_close(s);
}

static void
test_small_file_round_trip(void **state)
{
    scratch *f = *state;
    for (size_t k = 0; k < 3; k++) {
        sl_bfile_reader *r = NULL;
        sl_error err = {0};
        write_small(f->path, all_kinds[k]);
        assert_int_equal(dir_entries(f->dir), 1);  /* no .partial, no spool left */
        assert_int_equal(sl_bfile_reader_open(&r, f->path, &err), 0);
        assert_true(sl_bfile_reader_indexed(r));
        assert_int_equal(sl_bfile_reader_codec(r), all_kinds[k]);
        assert_int_equal(sl_bfile_reader_count(r), 5);
        assert_string_equal(sl_bfile_reader_header(r, "database"), "db");
        assert_string_equal(sl_bfile_reader_header(r, "snapshot"), "00000003-1");
        assert_null(sl_bfile_reader_header(r, "nothing"));
        const sl_bfile_entry *e0 = sl_bfile_reader_entry(r, 0), *e2 = sl_bfile_reader_entry(r, 2);
        assert_string_equal(e0->kind, "PREAMBLE");
        assert_null(e0->schema);
        assert_int_equal(e0->offset, 0);
        assert_string_equal(e2->kind, "TABLE DATA");
        assert_string_equal(e2->name, "a");
        assert_int_equal(e2->rows, 20);
        assert_true(e2->parallel);
        assert_null(sl_bfile_reader_entry(r, 5));
        sl_buf got = SL_BUF_INIT, want = SL_BUF_INIT;
        read_all(r, e0, true, &got);
        assert_string_equal(got.data, preamble);
        sl_buf_reset(&got);
        read_all(r, e2, true, &got);
        table_text(&want, "a", 20, 1);
        assert_string_equal(got.data, want.data);
        sl_buf_reset(&got);
        read_all(r, NULL, true, &got);  /* the whole file, in order */
        assert_true(strncmp(got.data, preamble, strlen(preamble)) == 0);
        assert_non_null(strstr(got.data, "CREATE INDEX a_i"));
        sl_bfile_reader_close(r);

        sl_verify_report rep;
        if (sl_verify_file(f->path, &rep, &err) != 0)
            fail_msg("verify %s: %s", sl_codec_name(all_kinds[k]), err.message);
        assert_true(rep.indexed);
        assert_int_equal(rep.segments, 5);
        assert_int_equal(rep.ntables, 2);
        assert_int_equal(rep.rows, 23);
        assert_string_equal(rep.tables[0].name, "a");
        assert_int_equal(rep.tables[1].rows, 3);
        sl_verify_report_free(&rep);
        sl_buf_free(&got);
        sl_buf_free(&want);
    }
}

static void
test_mode_0600_whatever_the_umask(void **state)
{
    scratch *f = *state;
    mode_t old = umask(0);
    write_small(f->path, SL_CODEC_GZIP);
    umask(old);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
}

static void
test_abort_leaves_nothing(void **state)
{
    scratch *f = *state;
    sl_bfile_writer *w = NULL;
    sl_bfile_segment *s1 = NULL, *s2 = NULL;
    sl_error err = {0};
    char partial[160];
    snprintf(partial, sizeof partial, "%s.partial", f->path);
    assert_int_equal(sl_bfile_writer_open(&w, f->path, &(sl_codec){SL_CODEC_ZSTD, 0}, &err), 0);
    assert_int_equal(access(partial, F_OK), 0);
    write_preamble(w);
    assert_int_equal(sl_bfile_segment_open(w, &s1, &err), 0);
    assert_int_equal(sl_bfile_segment_open(w, &s2, &err), 0);
    assert_int_equal(sl_bfile_segment_write(s1, "x\n", 2, &err), 0);
    assert_int_equal(sl_bfile_segment_write(s2, "y\n", 2, &err), 0);
    sl_bfile_segment_abort(s1);
    sl_bfile_segment_abort(s2);
    sl_bfile_writer_abort(w);
    assert_int_equal(dir_entries(f->dir), 0);

    /* closing with a segment still open fails and leaves nothing either */
    assert_int_equal(sl_bfile_writer_open(&w, f->path, &(sl_codec){SL_CODEC_GZIP, 0}, &err), 0);
    assert_int_equal(sl_bfile_segment_open(w, &s1, &err), 0);
    sl_bfile_segment_abort(s1);
    write_preamble(w);
    close_writer(w);
    assert_int_equal(dir_entries(f->dir), 1);
    assert_int_equal(access(partial, F_OK), -1);
}

/* ---- several threads writing segments at once ---- */

#define THREADS 4
#define PER_THREAD 6

typedef struct worker {
    sl_bfile_writer *w;
    int id;
} worker;

static int
rows_for(int table)
{
    /* some tables span several 1 MiB blocks */
    return table % 5 == 0 ? 60000 : 50 + table * 37;
}

static void *
work(void *arg)
{
    worker *wk = arg;
    sl_buf text = SL_BUF_INIT;
    for (int i = 0; i < PER_THREAD; i++) {
        int table = wk->id * PER_THREAD + i;
        char name[32];
        snprintf(name, sizeof name, "t%d", table);
        sl_buf_reset(&text);
        table_text(&text, name, rows_for(table), (unsigned)table);
        write_segment(wk->w, text.data, text.len, 3000 + (size_t)table * 997,
                      &(sl_bfile_meta){.phase = SL_PHASE_DATA, .parallel = true,
                                       .kind = "TABLE DATA", .schema = "public", .name = name,
                                       .rows = rows_for(table)});
    }
    sl_buf_free(&text);
    return NULL;
}

static void
concurrent(scratch *f, sl_codec_kind kind)
{
    sl_bfile_writer *w = NULL;
    sl_error err = {0};
    pthread_t th[THREADS];
    worker wk[THREADS];
    assert_int_equal(sl_bfile_writer_open(&w, f->path, &(sl_codec){kind, 1}, &err), 0);
    write_preamble(w);
    for (int i = 0; i < THREADS; i++) {
        wk[i] = (worker){w, i};
        assert_int_equal(pthread_create(&th[i], NULL, work, &wk[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    assert_true(sl_bfile_writer_bytes(w) > 0);
    close_writer(w);
    assert_int_equal(dir_entries(f->dir), 1);

    sl_bfile_reader *r = NULL;
    assert_int_equal(sl_bfile_reader_open(&r, f->path, &err), 0);
    assert_int_equal(sl_bfile_reader_count(r), 1 + THREADS * PER_THREAD);
    bool seen[THREADS * PER_THREAD] = {false};
    uint64_t off = 0;
    sl_buf got = SL_BUF_INIT, want = SL_BUF_INIT;
    for (size_t i = 0; i < sl_bfile_reader_count(r); i++) {
        const sl_bfile_entry *e = sl_bfile_reader_entry(r, i);
        assert_int_equal(e->seq, (int)i);
        assert_int_equal(e->offset, off);
        off += e->length;
        if (i == 0)
            continue;
        int table = atoi(e->name + 1);
        assert_false(seen[table]);
        seen[table] = true;
        sl_buf_reset(&got);
        sl_buf_reset(&want);
        read_all(r, e, true, &got);
        table_text(&want, e->name, rows_for(table), (unsigned)table);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, want.len);
        assert_int_equal(e->raw_length, want.len);
        assert_int_equal(e->rows, rows_for(table));
    }
    sl_bfile_reader_close(r);
    sl_verify_report rep;
    if (sl_verify_file(f->path, &rep, &err) != 0)
        fail_msg("verify: %s", err.message);
    assert_int_equal(rep.ntables, THREADS * PER_THREAD);
    sl_verify_report_free(&rep);

    /* the system tools see one stream: the text of every segment in file order */
    if (kind != SL_CODEC_NONE) {
        char cmd[512], out[160];
        snprintf(out, sizeof out, "%s.txt", f->path);
        snprintf(cmd, sizeof cmd, "%s -dc < %s > %s", kind == SL_CODEC_GZIP ? "gzip" : "zstd -q",
                 f->path, out);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(sl_bfile_reader_open(&r, f->path, &err), 0);
        sl_buf_reset(&got);
        read_all(r, NULL, false, &got);
        sl_bfile_reader_close(r);
        FILE *fp = fopen(out, "rb");
        char *tool = malloc(got.len + 1);
        assert_int_equal(fread(tool, 1, got.len + 1, fp), got.len);
        assert_memory_equal(tool, got.data, got.len);
        fclose(fp);
        free(tool);
        unlink(out);
    }
    sl_buf_free(&got);
    sl_buf_free(&want);
}

static void
test_concurrent_gzip(void **state)
{
    concurrent(*state, SL_CODEC_GZIP);
}

static void
test_concurrent_zstd(void **state)
{
    concurrent(*state, SL_CODEC_ZSTD);
}

static void
test_concurrent_none(void **state)
{
    concurrent(*state, SL_CODEC_NONE);
}

/* The owner (direct) segment moves behind a queued one of a lower phase. */
#define META(ph, k) (&(sl_bfile_meta){.phase = (ph), .kind = (k), .rows = -1})

static void
test_owner_yields_to_lower_phase(void **state)
{
    scratch *f = *state;
    sl_bfile_writer *w = NULL;
    sl_bfile_segment *a = NULL, *b = NULL;
    sl_error err = {0};
    assert_int_equal(sl_bfile_writer_open(&w, f->path, &(sl_codec){SL_CODEC_GZIP, 0}, &err), 0);
    write_preamble(w);
    assert_int_equal(sl_bfile_segment_open(w, &a, &err), 0);  /* owns the file */
    assert_int_equal(sl_bfile_segment_open(w, &b, &err), 0);  /* spools */
    assert_int_equal(sl_bfile_segment_write(a, "CREATE INDEX i ON t (a);\n", 25, &err), 0);
    assert_int_equal(sl_bfile_segment_write(b, "CREATE TABLE t (a int);\n", 24, &err), 0);
    assert_int_equal(sl_bfile_segment_commit(b, META(SL_PHASE_PRE_DATA, "PRE-DATA"), &err), 0);
    assert_int_equal(sl_bfile_segment_commit(a, META(SL_PHASE_INDEX, "INDEX"), &err), 0);
    close_writer(w);
    sl_bfile_reader *r = NULL;
    assert_int_equal(sl_bfile_reader_open(&r, f->path, &err), 0);
    assert_int_equal(sl_bfile_reader_count(r), 3);
    assert_string_equal(sl_bfile_reader_entry(r, 1)->kind, "PRE-DATA");
    assert_string_equal(sl_bfile_reader_entry(r, 2)->kind, "INDEX");
    sl_buf got = SL_BUF_INIT;
    read_all(r, sl_bfile_reader_entry(r, 2), true, &got);
    assert_string_equal(got.data, "CREATE INDEX i ON t (a);\n");
    sl_buf_free(&got);
    sl_bfile_reader_close(r);
}

static void
test_phase_order_is_enforced(void **state)
{
    scratch *f = *state;
    sl_bfile_writer *w = NULL;
    sl_bfile_segment *s = NULL;
    sl_error err = {0};
    assert_int_equal(sl_bfile_writer_open(&w, f->path, &(sl_codec){SL_CODEC_NONE, 0}, &err), 0);
    write_preamble(w);
    write_segment(w, "x;\n", 3, 10, META(SL_PHASE_INDEX, "INDEX"));
    assert_int_equal(sl_bfile_segment_open(w, &s, &err), 0);
    assert_int_equal(sl_bfile_segment_commit(s, META(SL_PHASE_PRE_DATA, "PRE-DATA"), &err), -1);
    assert_int_equal(err.kind, SL_E_INTERNAL);
    assert_non_null(strstr(err.message, "phase 10 was committed after phase 30"));
    assert_int_equal(sl_bfile_writer_close(w, NULL, &err), -1);
    assert_int_equal(dir_entries(f->dir), 0);
}

/* Thousands of entries: the gzip index spans several FEXTRA members. */
static void
test_large_index(void **state)
{
    scratch *f = *state;
    for (size_t k = 0; k < 3; k++) {
        sl_bfile_writer *w = NULL;
        sl_error err = {0};
        assert_int_equal(sl_bfile_writer_open(&w, f->path, &(sl_codec){all_kinds[k], 0}, &err), 0);
        write_preamble(w);
        char name[100], sql[200];
        for (int i = 0; i < 2500; i++) {
            snprintf(name, sizeof name, "a_rather_long_table_name_to_grow_the_index_%05d", i);
            int n = snprintf(sql, sizeof sql, "CREATE TABLE s.%s ();\n", name);
            write_segment(w, sql, (size_t)n, 64,
                          &(sl_bfile_meta){.phase = SL_PHASE_PRE_DATA, .kind = "TABLE",
                                           .schema = "s", .name = name, .rows = -1});
        }
        close_writer(w);
        struct stat st;
        assert_int_equal(stat(f->path, &st), 0);
        sl_bfile_reader *r = NULL;
        if (sl_bfile_reader_open(&r, f->path, &err) != 0)
            fail_msg("%s: %s", sl_codec_name(all_kinds[k]), err.message);
        assert_int_equal(sl_bfile_reader_count(r), 2501);
        const sl_bfile_entry *last = sl_bfile_reader_entry(r, 2500);
        assert_string_equal(last->name, "a_rather_long_table_name_to_grow_the_index_02499");
        /* the index (everything after the last segment) is well beyond one FEXTRA field */
        assert_true((uint64_t)st.st_size - (last->offset + last->length) > 65000 * 3);
        sl_bfile_reader_close(r);
        if (all_kinds[k] == SL_CODEC_GZIP) {
            char cmd[200];
            snprintf(cmd, sizeof cmd, "gzip -t < %s", f->path);
            assert_int_equal(system(cmd), 0);
        }
        sl_verify_report rep;
        assert_int_equal(sl_verify_file(f->path, &rep, &err), 0);
        sl_verify_report_free(&rep);
    }
}

/* ---- damaged files ---- */

static char *
slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    fseek(fp, 0, SEEK_END);
    *n = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *p = malloc(*n + 1);
    assert_int_equal(fread(p, 1, *n, fp), *n);
    fclose(fp);
    return p;
}

static void
spit(const char *path, const char *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_int_equal(fwrite(p, 1, n, fp), n);
    fclose(fp);
}

/* Refused by the reader or by verify, as SL_E_ARCHIVE naming an offset. */
static void
expect_refused(const char *path, const char *what)
{
    sl_verify_report rep;
    sl_error err = {0};
    if (sl_verify_file(path, &rep, &err) == 0)
        fail_msg("%s: accepted", what);
    const char *at = strstr(err.message, "offset ");
    if (err.kind != SL_E_ARCHIVE || !at || at[7] < '0' || at[7] > '9')
        fail_msg("%s: kind %d, message \"%s\"", what, err.kind, err.message);
}

static void
test_truncated_files_are_refused(void **state)
{
    scratch *f = *state;
    char cut_path[160];
    snprintf(cut_path, sizeof cut_path, "%s.cut", f->path);
    for (size_t k = 0; k < 3; k++) {
        size_t n;
        write_small(f->path, all_kinds[k]);
        char *bytes = slurp(f->path, &n);
        sl_bfile_reader *r = NULL;
        sl_error err = {0};
        assert_int_equal(sl_bfile_reader_open(&r, f->path, &err), 0);
        /* every segment boundary, plus points inside members, index and trailer */
        size_t cuts[64], nc = 0;
        for (size_t i = 1; i < sl_bfile_reader_count(r); i++)
            cuts[nc++] = sl_bfile_reader_entry(r, i)->offset;
        const sl_bfile_entry *last = sl_bfile_reader_entry(r, sl_bfile_reader_count(r) - 1);
        cuts[nc++] = last->offset + last->length;  /* the index is gone */
        sl_bfile_reader_close(r);
        size_t more[] = {1, 2, 5, 10, 17, 30, n / 3, n / 2, n - 200, n - 100, n - 20, n - 1};
        for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
            cuts[nc++] = more[i];
        for (size_t i = 0; i < nc; i++) {
            char what[64];
            snprintf(what, sizeof what, "%s cut at %zu of %zu", sl_codec_name(all_kinds[k]),
                     cuts[i], n);
            spit(cut_path, bytes, cuts[i]);
            expect_refused(cut_path, what);
        }
        /* the message of a file cut after whole segments */
        spit(cut_path, bytes, cuts[1]);
        assert_int_equal(sl_bfile_reader_open(&r, cut_path, &err), -1);
        char want[400];
        snprintf(want, sizeof want, "backup file \"%s\" is truncated: no index at the end (file is "
                 "%zu bytes, ends at offset %zu)", cut_path, cuts[1], cuts[1]);
        assert_string_equal(err.message, want);
        free(bytes);
    }
}

static void
test_bit_flips_are_refused(void **state)
{
    scratch *f = *state;
    char bad_path[160];
    snprintf(bad_path, sizeof bad_path, "%s.bad", f->path);
    for (size_t k = 0; k < 3; k++) {
        size_t n;
        write_small(f->path, all_kinds[k]);
        char *bytes = slurp(f->path, &n);
        for (size_t off = 0; off < n; off++) {
            char what[64];
            snprintf(what, sizeof what, "%s bit %zu flipped at %zu of %zu",
                     sl_codec_name(all_kinds[k]), off % 8, off, n);
            bytes[off] ^= (char)(1 << (off % 8));
            spit(bad_path, bytes, n);
            bytes[off] ^= (char)(1 << (off % 8));
            expect_refused(bad_path, what);
        }
        free(bytes);
    }
}

static void
test_checksum_message_names_segment(void **state)
{
    scratch *f = *state;
    size_t n;
    sl_bfile_reader *r = NULL;
    sl_error err = {0};
    write_small(f->path, SL_CODEC_NONE);
    assert_int_equal(sl_bfile_reader_open(&r, f->path, &err), 0);
    const sl_bfile_entry *e = sl_bfile_reader_entry(r, 2);
    uint64_t at = e->offset;
    sl_bfile_reader_close(r);
    char *bytes = slurp(f->path, &n);
    bytes[at + 40] = bytes[at + 40] == 'x' ? 'y' : 'x';
    spit(f->path, bytes, n);
    free(bytes);
    sl_verify_report rep;
    assert_int_equal(sl_verify_file(f->path, &rep, &err), -1);
    char want[100];
    snprintf(want, sizeof want,
             "checksum mismatch in segment 2 (TABLE DATA public.a) at offset %llu",
             (unsigned long long)at);
    if (!strstr(err.message, want))
        fail_msg("message \"%s\"", err.message);
}

static void
test_row_count_mismatch(void **state)
{
    scratch *f = *state;
    sl_bfile_writer *w = NULL;
    sl_error err = {0};
    sl_buf t = SL_BUF_INIT;
    assert_int_equal(sl_bfile_writer_open(&w, f->path, &(sl_codec){SL_CODEC_GZIP, 0}, &err), 0);
    write_preamble(w);
    table_text(&t, "a", 2, 1);
    write_segment(w, t.data, t.len, 5,
                  &(sl_bfile_meta){.phase = SL_PHASE_DATA, .kind = "TABLE DATA", .schema = "public",
                                   .name = "a", .rows = 3});
    close_writer(w);
    sl_verify_report rep;
    assert_int_equal(sl_verify_file(f->path, &rep, &err), -1);
    assert_int_equal(err.kind, SL_E_ARCHIVE);
    assert_non_null(strstr(err.message, "segment 1 (TABLE DATA public.a) at offset"));
    assert_non_null(strstr(err.message, "holds 2 rows, the index says 3"));
    sl_buf_free(&t);
}

/* A pg_dump -Fp script (plain or compressed by the tools) is read as one stream. */
static void
test_plain_scripts(void **state)
{
    scratch *f = *state;
    const char script[] = "--\n-- PostgreSQL database dump\n--\nSET statement_timeout = 0;\n"
                          "COPY public.t (a) FROM stdin;\n1\n2\n\\.\n";
    char src[160], cmd[400];
    snprintf(src, sizeof src, "%s/dump.sql", f->dir);
    spit(src, script, strlen(script));
    const char *tools[] = {NULL, "gzip -c", "zstd -q -c"};
    for (size_t k = 0; k < 3; k++) {
        const char *path = src;
        char packed[200];
        if (tools[k]) {
            snprintf(packed, sizeof packed, "%s/dump.sql.%zu", f->dir, k);
            snprintf(cmd, sizeof cmd, "%s < %s > %s", tools[k], src, packed);
            assert_int_equal(system(cmd), 0);
            path = packed;
        }
        sl_bfile_reader *r = NULL;
        sl_error err = {0};
        assert_int_equal(sl_bfile_reader_open(&r, path, &err), 0);
        assert_false(sl_bfile_reader_indexed(r));
        assert_int_equal(sl_bfile_reader_codec(r), all_kinds[(k + 2) % 3]);
        assert_int_equal(sl_bfile_reader_count(r), 0);
        sl_buf got = SL_BUF_INIT;
        read_all(r, NULL, true, &got);
        assert_string_equal(got.data, script);
        sl_buf_free(&got);
        sl_bfile_reader_close(r);
        sl_verify_report rep;
        assert_int_equal(sl_verify_file(path, &rep, &err), 0);
        assert_false(rep.indexed);
        assert_int_equal(rep.raw_bytes, strlen(script));
        sl_verify_report_free(&rep);
    }
    /* a truncated plain gzip script is refused, naming the member */
    snprintf(cmd, sizeof cmd, "gzip -c < %s | head -c 30 > %s/cut.gz", src, f->dir);
    assert_int_equal(system(cmd), 0);
    snprintf(src, sizeof src, "%s/cut.gz", f->dir);
    sl_verify_report rep;
    sl_error err = {0};
    assert_int_equal(sl_verify_file(src, &rep, &err), -1);
    assert_int_equal(err.kind, SL_E_ARCHIVE);
    assert_non_null(
        strstr(err.message, "is truncated: the compressed member at offset 0 is incomplete"));
}

static void
test_missing_file(void **state)
{
    scratch *f = *state;
    char path[160];
    sl_verify_report rep;
    sl_error err = {0};
    snprintf(path, sizeof path, "%s/nope.sql.gz", f->dir);
    assert_int_equal(sl_verify_file(path, &rep, &err), -1);
    assert_int_equal(err.kind, SL_E_IO);
    assert_non_null(strstr(err.message, "could not open"));
    assert_non_null(strstr(err.message, "No such file"));
}

/* ---- hostile indexes ---- */

/* A file of codec none with two segments (the preamble and one statement) whose index is the
 * given JSON text, with the trailer and its checksum right. In the text, {OFF1} {LEN0} {LEN1}
 * {SHA0} {SHA1} stand for segment 1's offset, the lengths and SHA-256s, {BIG} for 65,537
 * letters, {FIELDS33} for 33 header fields. */
static const char seg0[] = SL_BFILE_SIGNATURE "SET client_encoding = 'UTF8';\n";
static const char seg1[] = "SELECT 1;\n";

static void
expand(const char *tmpl, sl_buf *out)
{
    char hex0[65], hex1[65];
    unsigned char d[32];
    sl_error err = {0};
    assert_int_equal(sl_sha256_digest(seg0, strlen(seg0), d, &err), 0);
    sl_sha256_hex(d, hex0);
    assert_int_equal(sl_sha256_digest(seg1, strlen(seg1), d, &err), 0);
    sl_sha256_hex(d, hex1);
    for (const char *p = tmpl; *p;) {
        const char *e = *p == '{' ? strchr(p, '}') : NULL;
        size_t n = e ? (size_t)(e - p + 1) : 1;
        if (n == 6 && strncmp(p, "{OFF1}", 6) == 0)
            sl_buf_printf(out, "%zu", strlen(seg0));
        else if (n == 6 && strncmp(p, "{LEN0}", 6) == 0)
            sl_buf_printf(out, "%zu", strlen(seg0));
        else if (n == 6 && strncmp(p, "{LEN1}", 6) == 0)
            sl_buf_printf(out, "%zu", strlen(seg1));
        else if (n == 6 && strncmp(p, "{SHA0}", 6) == 0)
            sl_buf_puts(out, hex0);
        else if (n == 6 && strncmp(p, "{SHA1}", 6) == 0)
            sl_buf_puts(out, hex1);
        else if (n == 5 && strncmp(p, "{BIG}", 5) == 0)
            for (size_t i = 0; i <= SL_BFILE_NAME_MAX; i++)
                sl_buf_putc(out, 'a');
        else if (n == 10 && strncmp(p, "{TABLES17}", 10) == 0)
            for (int i = 0; i < 17; i++)
                sl_buf_printf(out, "%s[\"s\",\"t%d\"]", i ? "," : "", i);
        else if (n == 10 && strncmp(p, "{FIELDS33}", 10) == 0)
            for (int i = 0; i < 33; i++)
                sl_buf_printf(out, "%s\"f%d\":\"v\"", i ? "," : "", i);
        else
            n = 1, sl_buf_putc(out, *p);
        p += n;
    }
}

static void
write_with_index(const char *path, const char *json, size_t json_len)
{
    sl_buf file = SL_BUF_INIT, index = SL_BUF_INIT;
    unsigned char d[32];
    sl_error err = {0};
    sl_buf_puts(&file, seg0);
    sl_buf_puts(&file, seg1);
    size_t data_end = file.len;
    sl__bfile_index_encode(SL_CODEC_NONE, json, json_len, &index);
    assert_int_equal(sl_sha256_digest(index.data, index.len, d, &err), 0);
    sl_buf_append(&file, index.data, index.len);
    sl__bfile_trailer_encode(SL_CODEC_NONE, data_end, index.len, d, &file);
    spit(path, file.data, file.len);
    sl_buf_free(&file);
    sl_buf_free(&index);
}

#define E0(phase)                                                                              \
    "{\"seq\":0,\"phase\":" phase ",\"parallel\":false,\"kind\":\"PREAMBLE\",\"schema\":null,"  \
    "\"name\":null,\"rows\":-1,\"offset\":0,\"length\":{LEN0},\"raw_length\":{LEN0},"           \
    "\"sha256\":\"{SHA0}\"}"
#define E1_WITH(phase, more)                                                                   \
    "{\"seq\":1,\"phase\":" phase ",\"parallel\":false,\"kind\":\"PRE-DATA\"," more             \
    "\"rows\":-1,\"offset\":{OFF1},\"length\":{LEN1},\"raw_length\":{LEN1},"                     \
    "\"sha256\":\"{SHA1}\"}"
#define E1(phase) E1_WITH(phase, "")
#define DOC(head, entries) "{\"format\":1,\"codec\":\"none\"" head ",\"entries\":[" entries "]}"

static const struct {
    const char *name;
    const char *json;
    const char *error;  /* NULL: accepted */
} hostile_indexes[] = {
    {"well formed", DOC(",\"header\":{\"database\":\"d\"}", E0("0") "," E1("10")), NULL},
    {"unknown members are skipped",
     "{\"format\":1,\"later\":{\"a\":[1,{\"b\":null}],\"c\":\"x\"},\"codec\":\"none\","
     "\"entries\":[" E0("0") "," E1_WITH("10", "\"note\":[[],{}],") "]}",
     NULL},
    {"tables", DOC("", E0("0") "," E1_WITH("10", "\"tables\":[[\"s\",\"t\"],[\"s\",\"u\"]],")),
     NULL},
    {"tables null", DOC("", E0("0") "," E1_WITH("10", "\"tables\":null,")), NULL},
    {"tables empty", DOC("", E0("0") "," E1_WITH("10", "\"tables\":[],")), NULL},
    {"tables not an array", DOC("", E0("0") "," E1_WITH("10", "\"tables\":\"s.t\",")),
     "index entry 1 (index at offset"},
    {"tables an object", DOC("", E0("0") "," E1_WITH("10", "\"tables\":{\"s\":\"t\"},")),
     "index entry 1 (index at offset"},
    {"a table of one name", DOC("", E0("0") "," E1_WITH("10", "\"tables\":[[\"s\"]],")),
     "index entry 1 (index at offset"},
    {"a table of three names",
     DOC("", E0("0") "," E1_WITH("10", "\"tables\":[[\"s\",\"t\",\"u\"]],")),
     "index entry 1 (index at offset"},
    {"a table name empty", DOC("", E0("0") "," E1_WITH("10", "\"tables\":[[\"s\",\"\"]],")),
     "index entry 1 (index at offset"},
    {"a table name a number", DOC("", E0("0") "," E1_WITH("10", "\"tables\":[[\"s\",1]],")),
     "index entry 1 (index at offset"},
    {"a table name null", DOC("", E0("0") "," E1_WITH("10", "\"tables\":[[\"s\",null]],")),
     "index entry 1 (index at offset"},
    {"a table a string", DOC("", E0("0") "," E1_WITH("10", "\"tables\":[\"s\"],")),
     "index entry 1 (index at offset"},
    {"a table pair nested", DOC("", E0("0") "," E1_WITH("10", "\"tables\":[[[\"s\"]]],")),
     "index entry 1 (index at offset"},
    {"tables given twice",
     DOC("", E0("0") "," E1_WITH("10", "\"tables\":[],\"tables\":[],")),
     "index entry 1 (index at offset"},
    {"17 tables", DOC("", E0("0") "," E1_WITH("10", "\"tables\":[{TABLES17}],")),
     "index entry 1 (index at offset"},
    {"a NUL escape in a table name",
     DOC("", E0("0") "," E1_WITH("10", "\"tables\":[[\"s\",\"a\\u0000b\"]],")),
     "\\u0000 in a string at byte"},
    {"negative phase", DOC("", E0("-1") "," E1("10")),
     "index entry 0 (segment at offset 0) has phase -1, which is not one of sluice's phases "
     "(0, 10, 20, 30, 40, 50)"},
    {"phase between two known ones", DOC("", E0("0") "," E1("15")),
     "has phase 15, which is not one of sluice's phases"},
    {"phase after the last", DOC("", E0("0") "," E1("60")), "has phase 60, which is not"},
    {"phase that is 10 as a C int", DOC("", E0("0") "," E1("4294967306")),
     "has phase 4294967306, which is not"},
    {"phase beyond 64 bits", DOC("", E0("0") "," E1("99999999999999999999")),
     "is not a sluice index: number out of the range of a 64-bit integer at byte"},
    {"phase as a string", DOC("", E0("0") "," E1("\"10\"")), "index entry 1 (index at offset"},
    {"phases going back", DOC("", E0("10") "," E1("0")), "has phase 0 after phase 10"},
    {"another format", "{\"format\":2,\"codec\":\"none\",\"entries\":[]}",
     "has format 2; this sluice reads format 1"},
    {"another codec", "{\"format\":1,\"codec\":\"gzip\",\"entries\":[]}",
     "says gzip but the file is none"},
    {"entries given twice", DOC(",\"entries\":[]", E0("0") "," E1("10")),
     "is not a sluice index"},
    {"a root member twice", "{\"format\":1,\"format\":1,\"codec\":\"none\",\"entries\":[]}",
     "is not a sluice index"},
    {"an entry member twice", DOC("", E0("0") "," E1_WITH("10", "\"rows\":5,")),
     "index entry 1 (index at offset"},
    {"a sequence number skipped",
     DOC("", E0("0") ",{\"seq\":2,\"phase\":10,\"parallel\":false,\"kind\":\"X\",\"rows\":-1,"
                     "\"offset\":{OFF1},\"length\":{LEN1},\"raw_length\":{LEN1},"
                     "\"sha256\":\"{SHA1}\"}"),
     "index entry 1 (index at offset"},
    {"a gap between segments",
     DOC("", E0("0") ",{\"seq\":1,\"phase\":10,\"parallel\":false,\"kind\":\"X\",\"rows\":-1,"
                     "\"offset\":1,\"length\":{LEN1},\"raw_length\":{LEN1},\"sha256\":\"{SHA1}\"}"),
     "index entry 1 says segment at offset 1 of"},
    {"segments ending before the index", DOC("", E0("0")), "the segments end at offset"},
    {"no entries", "{\"format\":1,\"codec\":\"none\"}", "is not a sluice index"},
    {"an array at the root", "[" E0("0") "]", "is not a sluice index"},
    {"a fraction", DOC("", E0("0") "," E1_WITH("10", "\"x\":1.5,")),
     "number that is not an integer at byte"},
    {"a NUL escape in a name", DOC("", E0("0") "," E1_WITH("10", "\"name\":\"a\\u0000b\",")),
     "\\u0000 in a string at byte"},
    {"invalid UTF-8 in a name", DOC("", E0("0") "," E1_WITH("10", "\"name\":\"a\xc3\x28\",")),
     "invalid UTF-8 in a string at byte"},
    {"an overlong UTF-8 form", DOC("", E0("0") "," E1_WITH("10", "\"name\":\"\xc0\xaf\",")),
     "invalid UTF-8 in a string at byte"},
    {"an unpaired surrogate", DOC("", E0("0") "," E1_WITH("10", "\"name\":\"\\ud800x\",")),
     "unpaired surrogate in a string at byte"},
    {"a control character", DOC("", E0("0") "," E1_WITH("10", "\"name\":\"a\tb\",")),
     "control character in a string at byte"},
    {"a name over 64 KiB", DOC("", E0("0") "," E1_WITH("10", "\"name\":\"{BIG}\",")),
     "string longer than 65536 bytes at byte"},
    {"nesting too deep", DOC("", E0("0") "," E1_WITH("10", "\"x\":[[[[[[[[[1]]]]]]]]],")),
     "nesting deeper than 8 levels at byte"},
    {"too many header fields", DOC(",\"header\":{{FIELDS33}}", E0("0") "," E1("10")),
     "has more than 32 header fields"},
    {"text after the document", DOC("", E0("0") "," E1("10")) "x", "unexpected 'x' at byte"},
    {"a document cut short", "{\"format\":1,\"codec\":\"none\",\"entries\":[",
     "the document ends early at byte"},
    {"a newline inside the index line", "{\"format\":1,\n\"codec\":\"none\",\"entries\":[]}",
     "the index at offset 66 is malformed"},
};

static void
test_hostile_indexes(void **state)
{
    scratch *f = *state;
    for (size_t i = 0; i < sizeof hostile_indexes / sizeof hostile_indexes[0]; i++) {
        sl_buf json = SL_BUF_INIT;
        expand(hostile_indexes[i].json, &json);
        write_with_index(f->path, json.data, json.len);
        sl_bfile_reader *r = NULL;
        sl_error err = {0};
        int rc = sl_bfile_reader_open(&r, f->path, &err);
        if (!hostile_indexes[i].error) {
            if (rc != 0)
                fail_msg("%s: %s", hostile_indexes[i].name, err.message);
            assert_int_equal(sl_bfile_reader_count(r), 2);
            assert_int_equal(sl_bfile_reader_entry(r, 1)->phase, SL_PHASE_PRE_DATA);
            sl_bfile_reader_close(r);
            sl_verify_report rep;
            if (sl_verify_file(f->path, &rep, &err) != 0)
                fail_msg("%s: verify: %s", hostile_indexes[i].name, err.message);
            sl_verify_report_free(&rep);
        } else if (rc == 0 || err.kind != SL_E_ARCHIVE
                   || !strstr(err.message, hostile_indexes[i].error)) {
            fail_msg("%s: rc %d, kind %d, \"%s\"", hostile_indexes[i].name, rc, err.kind,
                     rc == 0 ? "(accepted)" : err.message);
        }
        sl_buf_free(&json);
    }
}

/* Escapes in names come out as UTF-8; null and absent names are both NULL; the header keeps
 * string fields only. */
static void
test_index_strings(void **state)
{
    scratch *f = *state;
    sl_buf json = SL_BUF_INIT;
    expand(DOC(",\"header\":{\"database\":\"caf\\u00e9 \\ud83d\\ude00\",\"n\":5,\"s\":null}",
               E0("0") "," E1_WITH("10", "\"schema\":\"s\\\"q\\\\\",\"name\":\"\\t\\u001b[31m\",")),
           &json);
    write_with_index(f->path, json.data, json.len);
    sl_bfile_reader *r = NULL;
    sl_error err = {0};
    if (sl_bfile_reader_open(&r, f->path, &err) != 0)
        fail_msg("%s", err.message);
    assert_string_equal(sl_bfile_reader_header(r, "database"), "caf\xc3\xa9 \xf0\x9f\x98\x80");
    assert_null(sl_bfile_reader_header(r, "n"));
    assert_null(sl_bfile_reader_header(r, "s"));
    assert_null(sl_bfile_reader_entry(r, 0)->schema);
    assert_null(sl_bfile_reader_entry(r, 0)->name);
    assert_string_equal(sl_bfile_reader_entry(r, 1)->schema, "s\"q\\");
    assert_string_equal(sl_bfile_reader_entry(r, 1)->name, "\t\x1b[31m");
    assert_string_equal(sl_bfile_reader_entry(r, 1)->kind, "PRE-DATA");
    sl_bfile_reader_close(r);
    sl_buf_free(&json);
}

/* "tables" round trip in every codec: written only when given, read back in order; an entry
 * without them reads with none. The writer refuses what a reader would: more than
 * SL_BFILE_TABLES_MAX, an empty or missing name. */
static void
test_tables_round_trip(void **state)
{
    scratch *f = *state;
    const sl_bfile_table fk[] = {{"public", "b"}, {"s\"q", "caf\xc3\xa9"}};
    for (size_t k = 0; k < sizeof all_kinds / sizeof all_kinds[0]; k++) {
        sl_bfile_writer *w = NULL;
        sl_error err = {0};
        assert_int_equal(sl_bfile_writer_open(&w, f->path, &(sl_codec){all_kinds[k], 0}, &err),
                         0);
        write_preamble(w);
        const char idx[] = "CREATE INDEX b_i ON public.b (id);\n";
        write_segment(w, idx, strlen(idx), 100,
                      &(sl_bfile_meta){.phase = SL_PHASE_INDEX, .parallel = true, .kind = "INDEX",
                                       .schema = "public", .name = "b_i", .rows = -1,
                                       .tables = fk, .ntables = 1});
        const char fks[] = "ALTER TABLE public.b ADD CONSTRAINT f FOREIGN KEY (id) REFERENCES x;\n";
        write_segment(w, fks, strlen(fks), 100,
                      &(sl_bfile_meta){.phase = SL_PHASE_POST, .parallel = true,
                                       .kind = "FK CONSTRAINT", .schema = "public", .name = "f",
                                       .rows = -1, .tables = fk, .ntables = 2});
        close_writer(w);
        sl_bfile_reader *r = NULL;
        if (sl_bfile_reader_open(&r, f->path, &err) != 0)
            fail_msg("%s", err.message);
        assert_int_equal(sl_bfile_reader_count(r), 3);
        const sl_bfile_entry *e0 = sl_bfile_reader_entry(r, 0);
        const sl_bfile_entry *e1 = sl_bfile_reader_entry(r, 1);
        const sl_bfile_entry *e2 = sl_bfile_reader_entry(r, 2);
        assert_int_equal(e0->ntables, 0);
        assert_null(e0->tables);
        assert_int_equal(e1->ntables, 1);
        assert_string_equal(e1->tables[0].schema, "public");
        assert_string_equal(e1->tables[0].name, "b");
        assert_int_equal(e2->ntables, 2);
        assert_string_equal(e2->tables[0].name, "b");
        assert_string_equal(e2->tables[1].schema, "s\"q");
        assert_string_equal(e2->tables[1].name, "caf\xc3\xa9");
        assert_string_equal(e2->name, "f");
        sl_bfile_reader_close(r);
    }
    unlink(f->path);
    sl_bfile_table many[SL_BFILE_TABLES_MAX + 1];
    for (size_t i = 0; i <= SL_BFILE_TABLES_MAX; i++)
        many[i] = (sl_bfile_table){"s", "t"};
    const sl_bfile_table empty[] = {{"s", ""}}, missing[] = {{NULL, "t"}};
    const struct {
        const sl_bfile_table *t;
        size_t n;
    } bad[] = {{many, SL_BFILE_TABLES_MAX + 1}, {empty, 1}, {missing, 1}, {NULL, 1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_bfile_writer *w = NULL;
        sl_bfile_segment *s = NULL;
        sl_error err = {0};
        assert_int_equal(sl_bfile_writer_open(&w, f->path, &(sl_codec){SL_CODEC_NONE, 0}, &err),
                         0);
        write_preamble(w);
        assert_int_equal(sl_bfile_segment_open(w, &s, &err), 0);
        assert_int_equal(sl_bfile_segment_write(s, "x;\n", 3, &err), 0);
        sl_bfile_meta m = {.phase = SL_PHASE_POST, .kind = "X", .rows = -1, .tables = bad[i].t,
                           .ntables = bad[i].n};
        assert_int_equal(sl_bfile_segment_commit(s, &m, &err), -1);
        assert_int_equal(err.kind, SL_E_UNSUPPORTED);
        assert_non_null(strstr(err.message, "its tables must be at most 16"));
        sl_bfile_writer_abort(w);
        assert_int_equal(dir_entries(f->dir), 0);
    }
}

/* The writer never makes a file the reader refuses: unknown phases are its caller's bug. */
static void
test_writer_refuses_unknown_phases(void **state)
{
    scratch *f = *state;
    static const int phases[] = {-1, 5, 25, 51, 1 << 30};
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++) {
        sl_bfile_writer *w = NULL;
        sl_bfile_segment *s = NULL;
        sl_error err = {0};
        assert_int_equal(sl_bfile_writer_open(&w, f->path, &(sl_codec){SL_CODEC_NONE, 0}, &err),
                         0);
        write_preamble(w);
        assert_int_equal(sl_bfile_segment_open(w, &s, &err), 0);
        assert_int_equal(sl_bfile_segment_write(s, "x;\n", 3, &err), 0);
        assert_int_equal(sl_bfile_segment_commit(s, META(phases[i], "X"), &err), -1);
        char want[64];
        snprintf(want, sizeof want, "phase %d is not one of sluice's phases", phases[i]);
        assert_int_equal(err.kind, SL_E_INTERNAL);
        if (!strstr(err.message, want))
            fail_msg("phase %d: \"%s\"", phases[i], err.message);
        sl_bfile_writer_abort(w);
        assert_int_equal(dir_entries(f->dir), 0);
    }
    for (int phase = -1; phase <= 60; phase++)
        assert_int_equal(sl_bfile_phase_known(phase), phase % 10 == 0 && phase >= 0 && phase <= 50);
}

static size_t
heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* 60,000 entries (a 13 MB index): what the reader keeps is less than the index's size, and
 * a bad last entry is found before anything is kept. */
static void
test_index_memory_is_bounded(void **state)
{
    scratch *f = *state;
    for (int bad = 0; bad <= 1; bad++) {
        sl_buf json = SL_BUF_INIT;
        const int n = 60000;
        expand("{\"format\":1,\"codec\":\"none\",\"entries\":[" E0("0") "," E1("10"), &json);
        for (int i = 2; i < n; i++)
            sl_buf_printf(&json, ",{\"seq\":%d,\"phase\":50,\"parallel\":false,\"kind\":\"FINAL\","
                          "\"name\":\"an_object_name_of_sixty_bytes_or_so_%024d\",\"rows\":-1,"
                          "\"offset\":%zu,\"length\":0,\"raw_length\":0,\"sha256\":\"%s\"}",
                          i, i, strlen(seg0) + strlen(seg1) + (bad && i == n - 1),
                          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        sl_buf_puts(&json, "]}");
        write_with_index(f->path, json.data, json.len);
        size_t before = heap_in_use();
        sl_bfile_reader *r = NULL;
        sl_error err = {0};
        int rc = sl_bfile_reader_open(&r, f->path, &err);
        size_t kept = heap_in_use() - before;
        if (bad) {
            assert_int_equal(rc, -1);
            char want[64];
            snprintf(want, sizeof want, "index entry %d says segment at offset", n - 1);
            assert_non_null(strstr(err.message, want));
            assert_true(kept < 4096);
        } else {
            if (rc != 0)
                fail_msg("%s", err.message);
            assert_int_equal(sl_bfile_reader_count(r), (size_t)n);
            assert_string_equal(sl_bfile_reader_entry(r, n - 1)->name,
                                "an_object_name_of_sixty_bytes_or_so_000000000000000000059999");
            if (kept > json.len * 9 / 10)
                fail_msg("the reader keeps %zu bytes for an index of %zu", kept, json.len);
            sl_bfile_reader_close(r);
        }
        sl_buf_free(&json);
    }
}

/* The one "segment N (KIND schema.name)" of every message, with or without names. */
static void
test_entry_describe(void **state)
{
    (void)state;
    static const struct {
        sl_bfile_entry e;
        const char *text;
    } cases[] = {
        {{.seq = 7, .kind = "TABLE DATA", .schema = "public", .name = "t"},
         "segment 7 (TABLE DATA public.t)"},
        {{.seq = 0, .kind = "PREAMBLE"}, "segment 0 (PREAMBLE)"},
        {{.seq = 3, .kind = "EXTENSION", .name = "hstore"}, "segment 3 (EXTENSION hstore)"},
        {{.seq = 4, .kind = "SCHEMA", .schema = "s"}, "segment 4 (SCHEMA s)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        assert_ptr_equal(sl_bfile_entry_describe(&cases[i].e, buf, sizeof buf), buf);
        assert_string_equal(buf, cases[i].text);
    }
    char small[12];
    sl_bfile_entry_describe(&cases[0].e, small, sizeof small);
    assert_string_equal(small, "segment 7 (");  /* cut short, still a string */
}

/* A zstd segment is one frame whatever its length, with a window restore accepts (at most
 * 1 MiB) even at a level whose own window is 4 MiB: a backup at any level restores. */
static void
test_zstd_segment_is_one_bounded_frame(void **state)
{
    scratch *f = *state;
    sl_bfile_writer *w = NULL;
    sl_error err = {0};
    sl_buf t = SL_BUF_INIT, got = SL_BUF_INIT;
    assert_int_equal(sl_bfile_writer_open(&w, f->path, &(sl_codec){SL_CODEC_ZSTD, 9}, &err), 0);
    write_preamble(w);
    table_text(&t, "big", 90000, 3);  /* about 3.5 blocks */
    assert_true(t.len > 3 * SL_BFILE_BLOCK);
    write_segment(w, t.data, t.len, 300000,
                  &(sl_bfile_meta){.phase = SL_PHASE_DATA, .parallel = true, .kind = "TABLE DATA",
                                   .schema = "public", .name = "big", .rows = 90000});
    close_writer(w);

    sl_bfile_reader *r = NULL;
    assert_int_equal(sl_bfile_reader_open(&r, f->path, &err), 0);
    const sl_bfile_entry *e = sl_bfile_reader_entry(r, 1);
    unsigned char *stored = malloc(e->length);
    int fd = open(f->path, O_RDONLY);
    assert_int_equal(pread(fd, stored, e->length, (off_t)e->offset), (ssize_t)e->length);
    close(fd);
    assert_int_equal(ZSTD_findFrameCompressedSize(stored, e->length), e->length);
    ZSTD_frameHeader h;
    assert_int_equal(ZSTD_getFrameHeader(&h, stored, e->length), 0);
    assert_true(h.windowSize <= ((uint64_t)1 << SL_CODEC_ZSTD_OWN_WINDOW_LOG));
    read_all(r, e, true, &got);
    assert_int_equal(got.len, t.len);
    assert_memory_equal(got.data, t.data, t.len);
    sl_bfile_reader_close(r);
    free(stored);
    sl_buf_free(&t);
    sl_buf_free(&got);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        SCRATCH_TEST(test_small_file_round_trip),
        SCRATCH_TEST(test_mode_0600_whatever_the_umask),
        SCRATCH_TEST(test_abort_leaves_nothing),
        SCRATCH_TEST(test_concurrent_gzip),
        SCRATCH_TEST(test_concurrent_zstd),
        SCRATCH_TEST(test_concurrent_none),
        SCRATCH_TEST(test_zstd_segment_is_one_bounded_frame),
        SCRATCH_TEST(test_owner_yields_to_lower_phase),
        SCRATCH_TEST(test_phase_order_is_enforced),
        SCRATCH_TEST(test_large_index),
        SCRATCH_TEST(test_truncated_files_are_refused),
        SCRATCH_TEST(test_bit_flips_are_refused),
        SCRATCH_TEST(test_checksum_message_names_segment),
        SCRATCH_TEST(test_row_count_mismatch),
        SCRATCH_TEST(test_plain_scripts),
        SCRATCH_TEST(test_missing_file),
        SCRATCH_TEST(test_hostile_indexes),
        SCRATCH_TEST(test_index_strings),
        SCRATCH_TEST(test_writer_refuses_unknown_phases),
        SCRATCH_TEST(test_tables_round_trip),
        SCRATCH_TEST(test_index_memory_is_bounded),
        cmocka_unit_test(test_entry_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
