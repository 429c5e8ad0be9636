/* libFuzzer target for io/verify (and the writer and reader under it): arbitrary text becomes
 * the TABLE DATA of a backup file written by the bfile writer, in two segments cut where the
 * input says; sl_verify_file() must then count the rows a simple line-by-line reading of the
 * rule in io/verify.h finds (lines between "COPY ... FROM stdin;" and "\."), or refuse a
 * segment that ends inside a COPY block, and the reader must give the text back unchanged.
 * First byte: codec (mod 3); second: where the cut falls (per 256 of the text). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "io/bfile.h"
#include "io/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char preamble[] = SL_BFILE_SIGNATURE "SET client_encoding = 'UTF8';\n";

/* The rule of io/verify.h, read plainly: -1 when the text ends inside a COPY block. */
static int64_t
expected_rows(const char *p, size_t n)
{
    bool in_copy = false;
    int64_t rows = 0;
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t len = nl ? (size_t)(nl - p) : n;
        if (in_copy) {
            if (len == 2 && p[0] == '\\' && p[1] == '.')
                in_copy = false;
            else
                rows++;
        } else if (len >= 11 && strncmp(p, "COPY ", 5) == 0
                   && memcmp(p + len - 11, "FROM stdin;", 11) == 0) {
            in_copy = true;
        }
        p += nl ? len + 1 : len;
        n -= nl ? len + 1 : len;
    }
    return in_copy ? -1 : rows;
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
