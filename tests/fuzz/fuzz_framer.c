/* libFuzzer target for proxy/framer (how the proxy cuts each direction into messages): the
 * input, fed in pieces of a size its first byte picks, gives the same output, the same kept
 * messages and the same refusal as fed whole; every kept message is whole (its length word
 * matches), and nothing of a refused message reaches the output. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzkit.h"
#include "proxy/framer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
wants(void *ctx, char type)
{
    (void)ctx;
    return type == 'P' || type == 'K' || type == 'Z' || type == 'E';
}

static void
on_message(void *ctx, const uint8_t *msg, size_t len, sl_buf *out)
{
    sl_buf *t = ctx;
    uint32_t n = (uint32_t)msg[1] << 24 | (uint32_t)msg[2] << 16 | (uint32_t)msg[3] << 8 | msg[4];
    if (len < 5 || n + 1 != len)
        abort();
    sl_buf_printf(t, "[%c %zu]", msg[0], len);
    sl_buf_append(out, msg, len);
}

static void
on_header(void *ctx, char type, size_t body_len)
{
    sl_buf_printf(ctx, "<%c %zu>", type, body_len);
}

static const sl_framer_ops ops = {wants, on_message, on_header};

static void
transcript(const uint8_t *data, size_t size, size_t step, sl_buf *out)
{
    sl_framer f;
    sl_buf passed = SL_BUF_INIT;
    sl_framer_init(&f, 4096, &ops, out);
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0; off += step) {
        size_t n = size - off < step ? size - off : step;
        rc = sl_framer_feed(&f, data + off, n, &passed);
    }
    if (passed.len > size)
        abort();
    sl_buf_printf(out, "|rc %d bad %u boundary %d|", rc, rc ? f.bad_length : 0,
                  (int)sl_framer_at_boundary(&f));
    sl_buf_append(out, passed.data, passed.len);
    sl_buf_free(&passed);
    sl_framer_free(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_same_in_chunks(data, size, 64, transcript, "framing");
    return 0;
}
