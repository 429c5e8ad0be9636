/* libFuzzer target for io/codec's decompression: arbitrary bytes as a run of gzip members or
 * zstd frames. Nothing may crash or leak; no call writes beyond the output buffer it is given;
 * memory stays bounded (run with -malloc_limit_mb: a zstd frame asking for a large window is
 * refused, not allocated); and the outcome does not depend on how the input is cut and how
 * large the output buffer is: whole input into a block-sized buffer (gzip's one-call path)
 * and byte-sized pieces into a small buffer (the streaming path) must agree.
 * First byte: bit 0 codec, bits 1-7 the piece size of the second run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "io/codec.h"

#define BIG_OUT ((size_t)128 << 10)
#define SMALL_OUT 4093
#define OUTPUT_MAX ((size_t)16 << 20)  /* decompressed bytes compared; a run stops there */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct outcome {
    sl_buf text;     /* up to OUTPUT_MAX bytes of output */
    uint64_t total;  /* all output */
    int rc;
    bool boundary;
    bool refused;    /* a window over the bound */
    bool stopped;    /* OUTPUT_MAX reached: the rest was not decoded */
    sl_error err;
} outcome;

static void
decode(sl_codec_kind kind, const uint8_t *in, size_t n, size_t piece, size_t out_cap,
       outcome *o)
{
    sl_inflater *z = NULL;
    unsigned char *out = malloc(out_cap + 1);
    sl_error_clear(&o->err);
    if (sl_inflater_new(&z, kind, &o->err) != 0)
        abort();
    sl_inflater_reset(z, 0);
    o->rc = 0;
    for (size_t pos = 0; pos <= n && o->rc == 0; pos += piece) {
        const unsigned char *p = in + (pos < n ? pos : n);
        size_t left = pos < n ? (n - pos < piece ? n - pos : piece) : 0;
        for (int idle = 0; o->rc == 0 && idle < 2;) {
            size_t got = 0, before = left;
            out[out_cap] = 0xa5;  /* a canary just past the buffer */
            o->rc = sl_inflater_run(z, &p, &left, out, out_cap, &got, &o->err);
            if (got > out_cap || out[out_cap] != 0xa5)
                abort();
            if (o->text.len < OUTPUT_MAX)
                sl_buf_append(&o->text, out, got < OUTPUT_MAX - o->text.len
                                                  ? got : OUTPUT_MAX - o->text.len);
            o->total += got;
            if (o->total >= OUTPUT_MAX) {
                o->stopped = true;
                break;
            }
            idle = got == 0 && left == before ? idle + 1 : 0;
            if (left == 0 && got < out_cap)
                break;
        }
        if (pos == n || o->stopped)
            break;
    }
    o->boundary = sl_inflater_at_boundary(z);
    o->refused = sl_inflater_window_refused(z);
    if (o->rc != 0 && o->err.kind != SL_E_ARCHIVE)
        abort();
    if (o->refused && (o->rc == 0 || !strstr(o->err.message, "zstd -d --long=31")))
        abort();
    sl_inflater_free(z);
    free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    sl_codec_kind kind = data[0] & 1 ? SL_CODEC_ZSTD : SL_CODEC_GZIP;
    size_t piece = (size_t)(data[0] >> 1) + 1;
    data++;
    size--;
    outcome a = {.text = SL_BUF_INIT}, b = {.text = SL_BUF_INIT};
    decode(kind, data, size, size ? size : 1, BIG_OUT, &a);
    decode(kind, data, size, piece, SMALL_OUT, &b);
    /* Both succeed with the same text, or both fail; a failure may come later in the piecewise
     * run, which has handed out what came before it. A run stopped at OUTPUT_MAX is compared
     * on that much of its text. A frame's header is checked whole whatever the pieces, so a
     * window is refused in both runs or in neither. */
    if (a.stopped || b.stopped) {
        size_t n = a.text.len < b.text.len ? a.text.len : b.text.len;
        if ((a.stopped && b.rc == 0 && !b.stopped) || (b.stopped && a.rc == 0 && !a.stopped)
            || (a.rc == 0 && b.rc == 0 && memcmp(a.text.data, b.text.data, n) != 0))
            abort();
    } else if ((a.rc == 0) != (b.rc == 0) || (a.rc == 0 && a.boundary != b.boundary)
        || (a.rc == 0 && (a.total != b.total || a.text.len != b.text.len
                          || memcmp(a.text.data, b.text.data, a.text.len) != 0))
        || a.refused != b.refused) {
        fprintf(stderr, "the two runs differ: rc %d/%d (%s / %s), %llu/%llu bytes\n", a.rc, b.rc,
                a.err.message, b.err.message, (unsigned long long)a.total,
                (unsigned long long)b.total);
        abort();
    }
    sl_buf_free(&a.text);
    sl_buf_free(&b.text);
    return 0;
}
