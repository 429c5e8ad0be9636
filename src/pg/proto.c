/* pg/proto.c: the v3 message codec (see proto.h). Every length comes from the wire, so each
 * is checked against what the bytes hold before it is used. */
#include "pg/proto.h"

#include <string.h>

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

sl_proto_status
sl_proto_header(const uint8_t header[5], uint32_t max, size_t *body_len)
{
    uint32_t n = be32(header + 1);
    if (n < 4 || n > max)
        return SL_PROTO_BAD;
    *body_len = n - 4;
    return SL_PROTO_OK;
}

sl_proto_status
sl_proto_frame(const uint8_t *data, size_t len, uint32_t max, sl_proto_msg *out)
{
    if (len < 5)
        return SL_PROTO_NEED_MORE;
    size_t body_len;
    if (sl_proto_header(data, max, &body_len) != SL_PROTO_OK)
        return SL_PROTO_BAD;
    if (len - 5 < body_len)
        return SL_PROTO_NEED_MORE;
    out->type = (char)data[0];
    out->body = data + 5;
    out->body_len = body_len;
    out->total = 5 + body_len;
    return SL_PROTO_OK;
}

/* The fixed size of each request that is not a StartupMessage (length word included). */
static sl_proto_startup_kind
startup_kind(uint32_t code, uint32_t n, bool *bad)
{
    *bad = false;
    switch (code) {
    case SL_PROTO_SSL_CODE:
        *bad = n != 8;
        return SL_PROTO_SSL_REQUEST;
    case SL_PROTO_GSSENC_CODE:
        *bad = n != 8;
        return SL_PROTO_GSS_REQUEST;
    case SL_PROTO_CANCEL_CODE:
        *bad = n != 16;
        return SL_PROTO_CANCEL;
    }
    return code >> 16 == 3 ? SL_PROTO_STARTUP : SL_PROTO_UNKNOWN;
}

sl_proto_status
sl_proto_frame_startup(const uint8_t *data, size_t len, uint32_t max, sl_proto_startup *out)
{
    if (len < 4)
        return SL_PROTO_NEED_MORE;
    uint32_t n = be32(data);
    if (n < 8 || n > max)
        return SL_PROTO_BAD;
    if (len < 8)
        return SL_PROTO_NEED_MORE;
    bool bad;
    sl_proto_startup_kind kind = startup_kind(be32(data + 4), n, &bad);
    if (bad)
        return SL_PROTO_BAD;
    if (len < n)
        return SL_PROTO_NEED_MORE;
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->code = be32(data + 4);
    out->body = data + 8;
    out->body_len = n - 8;
    out->total = n;
    if (kind == SL_PROTO_CANCEL) {
        out->cancel_pid = (int32_t)be32(data + 8);
        out->cancel_secret = (int32_t)be32(data + 12);
    }
    return SL_PROTO_OK;
}

/* ---- reader ----------------------------------------------------------------------------- */

void
sl_proto_reader_init(sl_proto_reader *r, const uint8_t *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->off = 0;
    r->failed = false;
}

size_t
sl_proto_reader_left(const sl_proto_reader *r)
{
    return r->len - r->off;
}

bool
sl_proto_get_bytes(sl_proto_reader *r, size_t n, const uint8_t **out)
{
    if (r->failed || n > r->len - r->off) {
        r->failed = true;
        return false;
    }
    *out = r->data + r->off;
    r->off += n;
    return true;
}

bool
sl_proto_get_byte(sl_proto_reader *r, uint8_t *out)
{
    const uint8_t *p;
    if (!sl_proto_get_bytes(r, 1, &p))
        return false;
    *out = p[0];
    return true;
}

bool
sl_proto_get_int16(sl_proto_reader *r, int16_t *out)
{
    const uint8_t *p;
    if (!sl_proto_get_bytes(r, 2, &p))
        return false;
    *out = (int16_t)((uint16_t)p[0] << 8 | p[1]);
    return true;
}

bool
sl_proto_get_int32(sl_proto_reader *r, int32_t *out)
{
    const uint8_t *p;
    if (!sl_proto_get_bytes(r, 4, &p))
        return false;
    *out = (int32_t)be32(p);
    return true;
}

bool
sl_proto_get_cstring(sl_proto_reader *r, const char **out)
{
    if (r->failed)
        return false;
    const uint8_t *start = r->data + r->off;
    const uint8_t *nul = memchr(start, 0, r->len - r->off);
    if (!nul) {
        r->failed = true;
        return false;
    }
    *out = (const char *)start;
    r->off += (size_t)(nul - start) + 1;
    return true;
}

/* ---- writer ----------------------------------------------------------------------------- */

void
sl_proto_begin(sl_proto_writer *w, sl_buf *buf, char type, uint32_t max)
{
    w->buf = buf;
    w->start = buf->len;
    w->max = max ? max : SL_PROTO_MESSAGE_MAX;
    w->open = true;
    w->failed = false;
    if (type)
        sl_buf_putc(buf, type);
    w->len_at = buf->len;
    sl_buf_append(buf, "\0\0\0\0", 4);
}

/* Whether n more bytes keep the length word (which counts itself) within max. */
static bool
fits(sl_proto_writer *w, size_t n)
{
    if (!w->open || w->failed) {
        w->failed = true;
        return false;
    }
    size_t used = w->buf->len - w->len_at;
    if (n > w->max - used) {
        w->failed = true;
        return false;
    }
    return true;
}

void
sl_proto_put_bytes(sl_proto_writer *w, const void *p, size_t n)
{
    if (fits(w, n) && n)
        sl_buf_append(w->buf, p, n);
}

void
sl_proto_put_byte(sl_proto_writer *w, uint8_t v)
{
    sl_proto_put_bytes(w, &v, 1);
}

void
sl_proto_put_int16(sl_proto_writer *w, int16_t v)
{
    uint8_t b[2] = {(uint8_t)((uint16_t)v >> 8), (uint8_t)v};
    sl_proto_put_bytes(w, b, 2);
}

void
sl_proto_put_int32(sl_proto_writer *w, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t b[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
    sl_proto_put_bytes(w, b, 4);
}

void
sl_proto_put_cstring(sl_proto_writer *w, const char *s)
{
    sl_proto_put_bytes(w, s, strlen(s) + 1);
}

int
sl_proto_end(sl_proto_writer *w)
{
    if (!w->open || w->failed) {
        if (w->open) {  /* take the partial message back out */
            w->buf->len = w->start;
            w->buf->data[w->start] = '\0';
        }
        w->open = false;
        w->failed = true;
        return -1;
    }
    uint32_t n = (uint32_t)(w->buf->len - w->len_at);
    uint8_t *p = (uint8_t *)w->buf->data + w->len_at;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    w->open = false;
    return 0;
}

/* ---- whole messages --------------------------------------------------------------------- */

/* The writers below build messages far under any maximum, so their end cannot fail. */
static void
end_small(sl_proto_writer *w)
{
    if (sl_proto_end(w) != 0)
        w->failed = true;
}

void
sl_proto_write_error(sl_buf *buf, const char *severity, const char *sqlstate,
                     const char *message)
{
    sl_proto_writer w;
    sl_proto_begin(&w, buf, 'E', 0);
    sl_proto_put_byte(&w, 'S');
    sl_proto_put_cstring(&w, severity);
    sl_proto_put_byte(&w, 'V');  /* the untranslated severity (9.6+) */
    sl_proto_put_cstring(&w, severity);
    sl_proto_put_byte(&w, 'C');
    sl_proto_put_cstring(&w, sqlstate);
    sl_proto_put_byte(&w, 'M');
    sl_proto_put_cstring(&w, message);
    sl_proto_put_byte(&w, 0);
    end_small(&w);
}

void
sl_proto_write_ready(sl_buf *buf, char tx_status)
{
    sl_proto_writer w;
    sl_proto_begin(&w, buf, 'Z', 0);
    sl_proto_put_byte(&w, (uint8_t)tx_status);
    end_small(&w);
}

void
sl_proto_write_backend_key(sl_buf *buf, int32_t pid, int32_t secret)
{
    sl_proto_writer w;
    sl_proto_begin(&w, buf, 'K', 0);
    sl_proto_put_int32(&w, pid);
    sl_proto_put_int32(&w, secret);
    end_small(&w);
}

void
sl_proto_write_cancel(sl_buf *buf, int32_t pid, int32_t secret)
{
    sl_proto_writer w;
    sl_proto_begin(&w, buf, 0, 0);
    sl_proto_put_int32(&w, (int32_t)SL_PROTO_CANCEL_CODE);
    sl_proto_put_int32(&w, pid);
    sl_proto_put_int32(&w, secret);
    end_small(&w);
}

/* ---- parameters and fields -------------------------------------------------------------- */

int
sl_proto_startup_next(const sl_proto_startup *s, size_t *off, const char **name,
                      const char **value)
{
    sl_proto_reader r;
    sl_proto_reader_init(&r, s->body, s->body_len);
    r.off = *off;
    if (r.off >= r.len)
        return -1;              /* the list must end with a NUL of its own */
    if (r.data[r.off] == 0)
        return r.off + 1 == r.len ? 0 : -1;
    if (!sl_proto_get_cstring(&r, name) || !sl_proto_get_cstring(&r, value))
        return -1;
    *off = r.off;
    return 1;
}

const char *
sl_proto_startup_get(const sl_proto_startup *s, const char *name)
{
    size_t off = 0;
    const char *k, *v, *found = NULL;
    int rc;
    while ((rc = sl_proto_startup_next(s, &off, &k, &v)) == 1)
        if (!found && strcmp(k, name) == 0)
            found = v;
    return rc == 0 ? found : NULL;
}

const char *
sl_proto_error_field(const uint8_t *body, size_t len, char field)
{
    sl_proto_reader r;
    sl_proto_reader_init(&r, body, len);
    uint8_t code;
    const char *value;
    while (sl_proto_get_byte(&r, &code) && code != 0) {
        if (!sl_proto_get_cstring(&r, &value))
            return NULL;
        if (code == (uint8_t)field)
            return value;
    }
    return NULL;
}
