/* tests/unit/test_framer.c: proxy/framer.h gives the same messages and the same output
 * whatever sizes the bytes arrive in, hands only the wanted messages whole to on_message,
 * streams the rest through, and refuses a bad length before any of its body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/framer.h"

typedef struct seen {
    sl_buf kept;    /* the types of the messages handed whole, in order */
    sl_buf headers; /* the types of every header */
} seen;

static bool
wants(void *ctx, char type)
{
    (void)ctx;
    return type == 'P' || type == 'Z';
}

/* A kept message goes on behind a marker, so the test sees it passed through here. */
static void
on_message(void *ctx, const uint8_t *msg, size_t len, sl_buf *out)
{
    seen *s = ctx;
    sl_buf_putc(&s->kept, (char)msg[0]);
    sl_buf_puts(out, "<kept>");
    sl_buf_append(out, msg, len);
}

static void
on_header(void *ctx, char type, size_t body_len)
{
    (void)body_len;
    sl_buf_putc(&((seen *)ctx)->headers, type);
}

static const sl_framer_ops ops = {wants, on_message, on_header};

static void
put_msg(sl_buf *b, char type, const void *body, size_t len)
{
    uint32_t n = (uint32_t)len + 4;
    uint8_t h[5] = {(uint8_t)type, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                    (uint8_t)n};
    sl_buf_append(b, h, 5);
    sl_buf_append(b, body, len);
}

static void
make_stream(sl_buf *b)
{
    static char big[100000];
    memset(big, 'x', sizeof big);
    put_msg(b, 'Q', "SELECT 1", 9);
    put_msg(b, 'P', "s1\0SELECT $1\0\0\0", 15);
    put_msg(b, 'D', big, sizeof big);
    put_msg(b, 'S', "", 0);
    put_msg(b, 'Z', "I", 1);
}

/* Feeds the stream in pieces of step bytes; returns the output and the transcript. */
static void
feed_in_steps(const sl_buf *in, size_t step, sl_buf *out, seen *s)
{
    sl_framer f;
    sl_framer_init(&f, 1 << 20, &ops, s);
    for (size_t off = 0; off < in->len; off += step) {
        size_t n = in->len - off < step ? in->len - off : step;
        assert_int_equal(sl_framer_feed(&f, (const uint8_t *)in->data + off, n, out), 0);
    }
    assert_true(sl_framer_at_boundary(&f));
    sl_framer_free(&f);
}

static void
test_same_whatever_the_pieces(void **state)
{
    (void)state;
    sl_buf in = SL_BUF_INIT;
    make_stream(&in);
    sl_buf whole = SL_BUF_INIT;
    seen ws = {SL_BUF_INIT, SL_BUF_INIT};
    feed_in_steps(&in, in.len, &whole, &ws);
    assert_string_equal(ws.kept.data, "PZ");
    assert_string_equal(ws.headers.data, "QPDSZ");
    assert_int_equal(whole.len, in.len + 2 * strlen("<kept>"));
    static const size_t steps[] = {1, 2, 3, 4, 5, 6, 7, 13, 4096, 65536};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        sl_buf out = SL_BUF_INIT;
        seen s = {SL_BUF_INIT, SL_BUF_INIT};
        feed_in_steps(&in, steps[i], &out, &s);
        assert_int_equal(out.len, whole.len);
        assert_memory_equal(out.data, whole.data, whole.len);
        assert_string_equal(s.kept.data, "PZ");
        assert_string_equal(s.headers.data, "QPDSZ");
        sl_buf_free(&out);
        sl_buf_free(&s.kept);
        sl_buf_free(&s.headers);
    }
    sl_buf_free(&in);
    sl_buf_free(&whole);
    sl_buf_free(&ws.kept);
    sl_buf_free(&ws.headers);
}

static void
test_streams_a_body_as_it_comes(void **state)
{
    (void)state;
    sl_buf in = SL_BUF_INIT, out = SL_BUF_INIT;
    make_stream(&in);
    seen s = {SL_BUF_INIT, SL_BUF_INIT};
    sl_framer f;
    sl_framer_init(&f, 1 << 20, &ops, &s);
    /* up to the middle of the DataRow: its first half is already out */
    size_t upto = 14 + 20 + 5 + 50000;
    assert_int_equal(sl_framer_feed(&f, (const uint8_t *)in.data, upto, &out), 0);
    assert_false(sl_framer_at_boundary(&f));
    assert_int_equal(out.len, upto + strlen("<kept>"));
    sl_framer_free(&f);
    sl_buf_free(&in);
    sl_buf_free(&out);
    sl_buf_free(&s.kept);
    sl_buf_free(&s.headers);
}

static void
test_refuses_bad_lengths(void **state)
{
    (void)state;
    static const struct { uint8_t hdr[5]; uint32_t length; } bad[] = {
        {{'Q', 0, 0, 0, 3}, 3},
        {{'Q', 0, 0x10, 0, 1}, 0x100001}, /* one over the maximum below */
        {{'D', 0xff, 0xff, 0xff, 0xff}, 0xffffffff},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_buf in = SL_BUF_INIT, out = SL_BUF_INIT;
        seen s = {SL_BUF_INIT, SL_BUF_INIT};
        put_msg(&in, 'Q', "SELECT 1", 9);
        sl_buf_append(&in, bad[i].hdr, 5);
        sl_buf_puts(&in, "body bytes");
        sl_framer f;
        sl_framer_init(&f, 1 << 20, &ops, &s);
        assert_int_equal(sl_framer_feed(&f, (const uint8_t *)in.data, in.len, &out), -1);
        assert_int_equal(f.bad_length, bad[i].length);
        assert_int_equal(out.len, 14);  /* the message before it, nothing of the bad one */
        assert_string_equal(s.headers.data, "Q");
        sl_framer_free(&f);
        sl_buf_free(&in);
        sl_buf_free(&out);
        sl_buf_free(&s.kept);
        sl_buf_free(&s.headers);
    }
}

/* A pause from on_message: the feed stops after that message; the rest of its bytes are left
 * (unread) and, fed again after the resume, give what one feed would have given. */
static seen *pause_seen;
static sl_framer *pause_framer;

static void
on_message_pausing(void *ctx, const uint8_t *msg, size_t len, sl_buf *out)
{
    on_message(ctx, msg, len, out);
    if (msg[0] == 'P')
        sl_framer_pause(pause_framer);
}

static const sl_framer_ops pausing_ops = {wants, on_message_pausing, on_header};

static void
test_pause_leaves_the_rest(void **state)
{
    (void)state;
    sl_buf in = SL_BUF_INIT, out = SL_BUF_INIT, whole = SL_BUF_INIT;
    make_stream(&in);
    seen ws = {SL_BUF_INIT, SL_BUF_INIT}, s = {SL_BUF_INIT, SL_BUF_INIT};
    sl_framer f;
    sl_framer_init(&f, 1 << 20, &ops, &ws);
    assert_int_equal(sl_framer_feed(&f, (const uint8_t *)in.data, in.len, &whole), 0);
    sl_framer_free(&f);
    pause_seen = &s;
    pause_framer = &f;
    sl_framer_init(&f, 1 << 20, &pausing_ops, &s);
    assert_int_equal(sl_framer_feed(&f, (const uint8_t *)in.data, in.len, &out), 0);
    assert_true(f.paused);
    assert_true(f.unread > 0 && f.unread < in.len);
    assert_string_equal(s.headers.data, "QP");  /* nothing after the pausing message */
    size_t rest = f.unread;
    assert_int_equal(sl_framer_feed(&f, (const uint8_t *)in.data + in.len - rest, rest, &out),
                     0);
    assert_int_equal(f.unread, rest);  /* still paused: nothing taken */
    sl_framer_resume(&f);
    assert_int_equal(sl_framer_feed(&f, (const uint8_t *)in.data + in.len - rest, rest, &out),
                     0);
    assert_int_equal(f.unread, 0);
    assert_int_equal(out.len, whole.len);
    assert_memory_equal(out.data, whole.data, whole.len);
    sl_framer_free(&f);
    sl_buf_free(&in);
    sl_buf_free(&out);
    sl_buf_free(&whole);
    sl_buf_free(&s.kept);
    sl_buf_free(&s.headers);
    sl_buf_free(&ws.kept);
    sl_buf_free(&ws.headers);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_whatever_the_pieces),
        cmocka_unit_test(test_streams_a_body_as_it_comes),
        cmocka_unit_test(test_refuses_bad_lengths),
        cmocka_unit_test(test_pause_leaves_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
