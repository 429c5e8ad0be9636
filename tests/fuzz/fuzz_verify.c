/* libFuzzer target for restore/verify (and the writer and reader under it): arbitrary text
 * becomes the TABLE DATA of a backup file written by the bfile writer, in two segments cut
 * where the input says; sl_verify_file() must then count the rows a plain reading of the rule
 * in pg/copyscan.h finds (lines after a "COPY ... FROM stdin;" statement, whose quoted names may
 * hold anything, up to "\."), or refuse a segment that ends inside a COPY block, and the reader
 * must give the text back unchanged.
 * First byte: codec (mod 3); second: where the cut falls (per 256 of the text). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "io/bfile.h"
#include "restore/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char preamble[] = SL_BFILE_SIGNATURE "SET client_encoding = 'UTF8';\n";

/* Where the line that holds p[i] ends: the index of its newline, or n. */
static size_t
line_end(const char *p, size_t i, size_t n)
{
    const char *nl = memchr(p + i, '\n', n - i);
    return nl ? (size_t)(nl - p) : n;
}

/* The end of a COPY statement that starts at p[i]: the index of the first ';' outside quotes,
 * or n; *from_stdin tells whether the bytes outside quoted text (the quote marks included)
 * end with "FROM stdin" there. */
static size_t
statement_end(const char *p, size_t i, size_t n, bool *from_stdin)
{
    char quote = 0;
    char tail[10];
    size_t kept = 0;
    for (; i < n; i++) {
        char ch = p[i];
        if (quote && ch != quote)
            continue;
        if (quote)
            quote = 0;
        else if (ch == '"' || ch == '\'')
            quote = ch;
        else if (ch == ';')
            break;
        memmove(tail, tail + 1, sizeof tail - 1);
        tail[sizeof tail - 1] = ch;
        kept++;
    }
    *from_stdin = kept >= sizeof tail && memcmp(tail, "FROM stdin", sizeof tail) == 0;
    return i;
}

/* The rule of pg/copyscan.h, read plainly on the whole text: -1 when the text ends inside a COPY
 * block (or on the line of its statement, after the ';'). */
static int64_t
expected_rows(const char *p, size_t n)
{
    int64_t rows = 0;
    size_t i = 0;
    while (i < n) {
        bool copy = n - i >= 5 && memcmp(p + i, "COPY ", 5) == 0;
        bool from_stdin = false;
        if (copy) {
            i = statement_end(p, i + 5, n, &from_stdin);
            if (i == n)
                return rows;  /* an unfinished statement is no COPY block */
        }
        i = line_end(p, i, n);
        if (!from_stdin) {
            i++;
            continue;
        }
        if (i == n)
            return -1;
        for (i++;; i++) {  /* the data lines, up to "\." */
            if (i >= n)
                return -1;
            size_t e = line_end(p, i, n);
            bool end = e - i == 2 && p[i] == '\\' && p[i + 1] == '.';
            if (!end)
                rows++;
            if (end || e == n) {
                if (!end)
                    return -1;  /* the last row is counted, but the block never ended */
                i = e;
                break;
            }
            i = e;
        }
        i++;
    }
    return rows;
}

static void
segment(sl_bfile_writer *w, const char *text, size_t len, const sl_bfile_meta *meta)
{
    sl_bfile_segment *s = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_bfile_segment_open(w, &s, &err) != 0 || sl_bfile_segment_write(s, text, len, &err) != 0
        || sl_bfile_segment_commit(s, meta, &err) != 0) {
        fprintf(stderr, "write: %s\n", err.message);
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    static const char *ext[] = {".sql", ".sql.gz", ".sql.zst"};
    if (size < 2)
        return 0;
    sl_codec codec = {(sl_codec_kind)(data[0] % 3), 0};
    const char *text = (const char *)data + 2;
    size_t len = size - 2, cut = len * data[1] / 256;
    snprintf(path, sizeof path, "%s/sl-fuzz-verify-%d%s",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid(),
             ext[codec.kind == SL_CODEC_NONE ? 0 : codec.kind == SL_CODEC_GZIP ? 1 : 2]);
    int64_t rows[2] = {expected_rows(text, cut), expected_rows(text + cut, len - cut)};

    sl_bfile_writer *w = NULL;
    sl_error err;
    sl_error_clear(&err);
    if (sl_bfile_writer_open(&w, path, &codec, &err) != 0)
        abort();
    segment(w, preamble, sizeof preamble - 1,
            &(sl_bfile_meta){.phase = SL_PHASE_PREAMBLE, .kind = "PREAMBLE", .rows = -1});
    for (int i = 0; i < 2; i++)
        segment(w, text + (i ? cut : 0), i ? len - cut : cut,
                &(sl_bfile_meta){.phase = SL_PHASE_DATA, .parallel = true, .kind = "TABLE DATA",
                                 .schema = "public", .name = "t",
                                 .rows = rows[i] < 0 ? 0 : rows[i]});
    if (sl_bfile_writer_close(w, &(sl_bfile_header){.database = "fuzz"}, &err) != 0)
        abort();

    sl_verify_report rep;
    sl_error verr;
    sl_error_clear(&verr);
    int rc = sl_verify_file(path, &rep, &verr);
    if (rows[0] < 0 || rows[1] < 0) {
        if (rc == 0 || verr.kind != SL_E_ARCHIVE || !strstr(verr.message, "inside a COPY block"))
            abort();
    } else {
        if (rc != 0) {
            fprintf(stderr, "verify: %s\n", verr.message);
            abort();
        }
        if (rep.ntables != 1 || rep.rows != rows[0] + rows[1] || rep.raw_bytes
                                                                     != sizeof preamble - 1 + len)
            abort();
        sl_verify_report_free(&rep);
    }

    /* the whole file streams back as the preamble and the text */
    sl_bfile_reader *r = NULL;
    sl_bfile_stream *s = NULL;
    sl_buf back = SL_BUF_INIT;
    const char *chunk;
    size_t n;
    if (sl_bfile_reader_open(&r, path, &err) != 0 || sl_bfile_stream_open(&s, r, NULL, true, &err)
        != 0)
        abort();
    while ((rc = sl_bfile_stream_read(s, &chunk, &n, &err)) == 1)
        sl_buf_append(&back, chunk, n);
    if (rc != 0 || back.len != sizeof preamble - 1 + len
        || memcmp(back.data, preamble, sizeof preamble - 1) != 0
        || (len && memcmp(back.data + sizeof preamble - 1, text, len) != 0))
        abort();
    sl_buf_free(&back);
    sl_bfile_stream_close(s);
    sl_bfile_reader_close(r);
    unlink(path);
    return 0;
}
