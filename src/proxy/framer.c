/* proxy/framer.c: the per-direction framing state machine (see framer.h). */
#include "proxy/framer.h"

#include <string.h>

#include "pg/proto.h"

void
sl_framer_init(sl_framer *f, uint32_t max, const sl_framer_ops *ops, void *ctx)
{
    memset(f, 0, sizeof *f);
    f->max = max;
    f->ops = ops;
    f->ctx = ctx;
}

void
sl_framer_free(sl_framer *f)
{
    sl_buf_free(&f->msg);
}

bool
sl_framer_at_boundary(const sl_framer *f)
{
    return !f->in_body;
}

static void
message_done(sl_framer *f, sl_buf *out)
{
    f->in_body = false;
    if (!f->keep)
        return;
    f->ops->on_message(f->ctx, (const uint8_t *)f->msg.data, f->msg.len, out);
    sl_buf_reset(&f->msg);
}

static int
header_done(sl_framer *f, sl_buf *out)
{
    size_t body_len;
    f->hdr_have = 0;
    if (sl_proto_header(f->hdr, f->max, &body_len) != SL_PROTO_OK) {
        f->bad_length = (uint32_t)f->hdr[1] << 24 | (uint32_t)f->hdr[2] << 16 |
                        (uint32_t)f->hdr[3] << 8 | f->hdr[4];
        return -1;
    }
    char type = (char)f->hdr[0];
    if (f->ops->on_header)
        f->ops->on_header(f->ctx, type, body_len);
    f->in_body = true;
    f->body_left = body_len;
    f->keep = f->ops->wants(f->ctx, type);
    sl_buf_append(f->keep ? &f->msg : out, f->hdr, 5);
    if (body_len == 0)
        message_done(f, out);
    return 0;
}

void
sl_framer_pause(sl_framer *f)
{
    f->paused = true;
}

void
sl_framer_resume(sl_framer *f)
{
    f->paused = false;
}

int
sl_framer_feed(sl_framer *f, const uint8_t *p, size_t n, sl_buf *out)
{
    f->unread = 0;
    while (n > 0) {
        if (f->paused) {
            f->unread = n;
            return 0;
        }
        if (!f->in_body) {
            size_t take = 5 - f->hdr_have < n ? 5 - f->hdr_have : n;
            memcpy(f->hdr + f->hdr_have, p, take);
            f->hdr_have += take;
            p += take;
            n -= take;
            if (f->hdr_have == 5 && header_done(f, out) != 0)
                return -1;
            continue;
        }
        size_t take = f->body_left < n ? f->body_left : n;
        sl_buf_append(f->keep ? &f->msg : out, p, take);
        f->body_left -= take;
        p += take;
        n -= take;
        if (f->body_left == 0)
            message_done(f, out);
    }
    return 0;
}
