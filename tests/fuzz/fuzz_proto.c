/* libFuzzer target for pg/proto (the raw v3 message codec the proxy frames both ways with):
 * the first byte picks startup or typed framing, the rest is a stream of messages framed one
 * after another with a small maximum. Whatever the bytes, framing answers OK, NEED_MORE or BAD;
 * a framed message lies inside the input; its body read field by field never leaves it; an
 * ErrorResponse written from the fields read back frames again to the same length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
read_fields(const uint8_t *body, size_t len)
{
    sl_proto_reader r;
    sl_proto_reader_init(&r, body, len);
    const char *s;
    int16_t i16;
    int32_t i32;
    const uint8_t *p;
    while (!r.failed && sl_proto_reader_left(&r) > 0) {
        size_t before = r.off;
        switch (body[r.off] % 4) {
        case 0:
            if (sl_proto_get_cstring(&r, &s) && (const uint8_t *)s + strlen(s) >= body + len)
                abort();
            break;
        case 1:
            sl_proto_get_int16(&r, &i16);
            break;
        case 2:
            sl_proto_get_int32(&r, &i32);
            break;
        default:
            sl_proto_get_bytes(&r, body[r.off], &p);
            break;
        }
        if (r.off > len || (!r.failed && r.off == before && body[before] % 4 != 3))
            abort();
        if (!r.failed && r.off == before)
            break;
    }
}

static void
error_round_trip(const uint8_t *body, size_t len)
{
    const char *msg = sl_proto_error_field(body, len, 'M');
    if (!msg)
        return;
    sl_buf b = SL_BUF_INIT;
    sl_proto_write_error(&b, "ERROR", "XX000", msg);
    sl_proto_msg m;
    if (sl_proto_frame((const uint8_t *)b.data, b.len, SL_PROTO_MESSAGE_MAX, &m) != SL_PROTO_OK ||
        m.total != b.len || strcmp(sl_proto_error_field(m.body, m.body_len, 'M'), msg) != 0)
        abort();
    sl_buf_free(&b);
}

static void
startup(const uint8_t *data, size_t size)
{
    sl_proto_startup s;
    if (sl_proto_frame_startup(data, size, 512, &s) != SL_PROTO_OK)
        return;
    if (s.total > size || s.body + s.body_len != data + s.total)
        abort();
    size_t off = 0;
    const char *k, *v;
    while (sl_proto_startup_next(&s, &off, &k, &v) == 1)
        if (off > s.body_len)
            abort();
    (void)sl_proto_startup_get(&s, "user");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    /* a copy of exactly the input: a read past it is ASan's to see */
    uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
    memcpy(copy, data + 1, size - 1);
    size_t left = size - 1;
    const uint8_t *p = copy;
    if (mode & 1) {
        startup(p, left);
    } else {
        sl_proto_msg m;
        while (sl_proto_frame(p, left, 4096, &m) == SL_PROTO_OK) {
            if (m.total > left || m.body + m.body_len != p + m.total)
                abort();
            read_fields(m.body, m.body_len);
            if (m.type == 'E' || m.type == 'N')
                error_round_trip(m.body, m.body_len);
            p += m.total;
            left -= m.total;
        }
    }
    free(copy);
    return 0;
}
