/* tests/unit/test_proto.c: pg/proto.h frames typed and startup-phase messages (OK, NEED_MORE,
 * BAD before anything is read past the header), reads bodies without going past their end,
 * and writes messages whose length words are right and whose overflow is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pg/proto.h"

static const struct {
    const char *name;
    uint8_t bytes[5];
} bad_headers[] = {
    {"length below 4", {'D', 0x00, 0x00, 0x00, 0x03}},
    {"length 0", {'Q', 0x00, 0x00, 0x00, 0x00}},
    {"2 GiB DataRow", {'D', 0x7f, 0xff, 0xff, 0xff}},
    {"negative length", {'D', 0xff, 0xff, 0xff, 0xff}},
    {"one over the maximum", {'Q', 0x00, 0x10, 0x00, 0x01}},
};

static void
test_frame_rejects_bad_lengths(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        sl_proto_msg m;
        if (sl_proto_frame(bad_headers[i].bytes, 5, 1 << 20, &m) != SL_PROTO_BAD)
            fail_msg("accepted: %s", bad_headers[i].name);
    }
}

static void
test_frame_whole_and_partial(void **state)
{
    (void)state;
    /* Query "select 1" then the first 3 bytes of ReadyForQuery */
    const uint8_t bytes[] = {'Q', 0, 0, 0, 13, 's', 'e', 'l', 'e', 'c', 't', ' ', '1', 0,
                             'Z', 0, 0};
    sl_proto_msg m;
    for (size_t cut = 0; cut < 14; cut++)
        assert_int_equal(sl_proto_frame(bytes, cut, 1 << 20, &m), SL_PROTO_NEED_MORE);
    assert_int_equal(sl_proto_frame(bytes, sizeof bytes, 1 << 20, &m), SL_PROTO_OK);
    assert_int_equal(m.type, 'Q');
    assert_int_equal(m.body_len, 9);
    assert_int_equal(m.total, 14);
    assert_string_equal((const char *)m.body, "select 1");
    assert_int_equal(sl_proto_frame(bytes + m.total, sizeof bytes - m.total, 1 << 20, &m),
                     SL_PROTO_NEED_MORE);
    /* the exact maximum is accepted: the length word counts itself */
    const uint8_t at_max[] = {'S', 0, 0, 0, 4};
    assert_int_equal(sl_proto_frame(at_max, 5, 4, &m), SL_PROTO_OK);
    assert_int_equal(m.body_len, 0);
}

static void
test_frame_startup_kinds(void **state)
{
    (void)state;
    const uint8_t ssl[] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
    const uint8_t gss[] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30};
    const uint8_t cancel[] = {0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0x30, 0x39,
                              0xde, 0xad, 0xbe, 0xef};
    const uint8_t startup[] = {0, 0, 0, 30, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0, 'b', 'o',
                               'b', 0, 'd', 'a', 't', 'a', 'b', 'a', 's', 'e', 0, 'd', 'b',
                               0, 0};
    sl_proto_startup s;
    assert_int_equal(sl_proto_frame_startup(ssl, sizeof ssl, 10000, &s), SL_PROTO_OK);
    assert_int_equal(s.kind, SL_PROTO_SSL_REQUEST);
    assert_int_equal(sl_proto_frame_startup(gss, sizeof gss, 10000, &s), SL_PROTO_OK);
    assert_int_equal(s.kind, SL_PROTO_GSS_REQUEST);
    assert_int_equal(sl_proto_frame_startup(cancel, sizeof cancel, 10000, &s), SL_PROTO_OK);
    assert_int_equal(s.kind, SL_PROTO_CANCEL);
    assert_int_equal(s.cancel_pid, 12345);
    assert_int_equal((uint32_t)s.cancel_secret, 0xdeadbeefu);
    assert_int_equal(sl_proto_frame_startup(startup, sizeof startup - 1, 10000, &s),
                     SL_PROTO_NEED_MORE);
    assert_int_equal(sl_proto_frame_startup(startup, sizeof startup, 10000, &s), SL_PROTO_OK);
    assert_int_equal(s.kind, SL_PROTO_STARTUP);
    assert_int_equal(s.total, 30);
    assert_string_equal(sl_proto_startup_get(&s, "user"), "bob");
    assert_string_equal(sl_proto_startup_get(&s, "database"), "db");
    assert_null(sl_proto_startup_get(&s, "options"));
    /* over the caller's maximum, known before the body arrives */
    assert_int_equal(sl_proto_frame_startup(startup, 4, 29, &s), SL_PROTO_BAD);
    /* a request code with a wrong length, and a packet shorter than its code */
    const uint8_t long_ssl[] = {0, 0, 0, 12, 0x04, 0xd2, 0x16, 0x2f, 0, 0, 0, 0};
    assert_int_equal(sl_proto_frame_startup(long_ssl, sizeof long_ssl, 10000, &s),
                     SL_PROTO_BAD);
    const uint8_t tiny[] = {0, 0, 0, 7, 0, 3, 0};
    assert_int_equal(sl_proto_frame_startup(tiny, sizeof tiny, 10000, &s), SL_PROTO_BAD);
    const uint8_t v2[] = {0, 0, 0, 8, 0, 2, 0, 0};
    assert_int_equal(sl_proto_frame_startup(v2, sizeof v2, 10000, &s), SL_PROTO_OK);
    assert_int_equal(s.kind, SL_PROTO_UNKNOWN);
}

static void
test_startup_params_malformed(void **state)
{
    (void)state;
    /* a name without a value, and a list without its final NUL */
    const uint8_t no_value[] = {0, 0, 0, 14, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0, 0};
    const uint8_t no_end[] = {0, 0, 0, 16, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0, 'b', 'o', 0};
    sl_proto_startup s;
    size_t off = 0;
    const char *k, *v;
    assert_int_equal(sl_proto_frame_startup(no_value, sizeof no_value, 10000, &s), SL_PROTO_OK);
    assert_int_equal(sl_proto_startup_next(&s, &off, &k, &v), 1);  /* "user" = "" */
    assert_string_equal(k, "user");
    assert_int_equal(sl_proto_startup_next(&s, &off, &k, &v), -1);
    assert_int_equal(sl_proto_frame_startup(no_end, sizeof no_end, 10000, &s), SL_PROTO_OK);
    assert_null(sl_proto_startup_get(&s, "user"));
}

static void
test_reader_latches_at_the_end(void **state)
{
    (void)state;
    const uint8_t body[] = {0, 2, 0, 0, 0, 7, 'a', 'b', 0, 'c'};
    sl_proto_reader r;
    sl_proto_reader_init(&r, body, sizeof body);
    int16_t i16 = 0;
    int32_t i32 = 0;
    const char *s = NULL;
    assert_true(sl_proto_get_int16(&r, &i16));
    assert_true(sl_proto_get_int32(&r, &i32));
    assert_true(sl_proto_get_cstring(&r, &s));
    assert_int_equal(i16, 2);
    assert_int_equal(i32, 7);
    assert_string_equal(s, "ab");
    assert_int_equal(sl_proto_reader_left(&r), 1);
    assert_false(sl_proto_get_cstring(&r, &s));  /* "c" has no NUL */
    assert_true(r.failed);
    uint8_t b;
    assert_false(sl_proto_get_byte(&r, &b));     /* latched: later reads fail too */
    sl_proto_reader_init(&r, body, 3);
    assert_false(sl_proto_get_int32(&r, &i32));
    assert_int_equal(r.off, 0);
    const uint8_t *p;
    sl_proto_reader_init(&r, body, sizeof body);
    assert_false(sl_proto_get_bytes(&r, SIZE_MAX, &p));
}

static void
test_writer_lengths(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_proto_write_ready(&b, 'I');
    sl_proto_write_backend_key(&b, 42, -1);
    sl_proto_write_cancel(&b, 42, 7);
    const uint8_t expect[] = {'Z', 0, 0, 0, 5, 'I', 'K', 0, 0, 0, 12, 0, 0, 0, 42, 0xff, 0xff,
                              0xff, 0xff, 0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 42,
                              0, 0, 0, 7};
    assert_int_equal(b.len, sizeof expect);
    assert_memory_equal(b.data, expect, sizeof expect);
    sl_buf_free(&b);
}

static void
test_error_response_round_trip(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_proto_write_error(&b, "FATAL", "08P01", "invalid message length");
    sl_proto_msg m;
    assert_int_equal(sl_proto_frame((const uint8_t *)b.data, b.len, 1 << 20, &m), SL_PROTO_OK);
    assert_int_equal(m.type, 'E');
    assert_int_equal(m.total, b.len);
    assert_string_equal(sl_proto_error_field(m.body, m.body_len, 'S'), "FATAL");
    assert_string_equal(sl_proto_error_field(m.body, m.body_len, 'C'), "08P01");
    assert_string_equal(sl_proto_error_field(m.body, m.body_len, 'M'),
                        "invalid message length");
    assert_null(sl_proto_error_field(m.body, m.body_len, 'D'));
    assert_null(sl_proto_error_field(m.body, m.body_len - 3, 'M'));  /* cut: no NUL */
    sl_buf_free(&b);
}

static void
test_writer_overflow_is_refused(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, "kept");
    sl_proto_writer w;
    sl_proto_begin(&w, &b, 'Q', 10);  /* length word 4 + at most 6 bytes */
    sl_proto_put_cstring(&w, "12345");
    assert_false(w.failed);
    sl_proto_put_byte(&w, 'x');       /* 11 > 10 */
    assert_true(w.failed);
    sl_proto_put_byte(&w, 'y');       /* latched */
    assert_int_equal(sl_proto_end(&w), -1);
    assert_int_equal(b.len, 4);
    assert_string_equal(b.data, "kept");
    /* at the limit exactly it is fine */
    sl_proto_begin(&w, &b, 'Q', 10);
    sl_proto_put_cstring(&w, "12345");
    assert_int_equal(sl_proto_end(&w), 0);
    assert_int_equal(b.len, 4 + 11);
    /* a put after end is a failure too */
    sl_proto_put_byte(&w, 'z');
    assert_true(w.failed);
    assert_int_equal(b.len, 4 + 11);
    sl_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_rejects_bad_lengths),
        cmocka_unit_test(test_frame_whole_and_partial),
        cmocka_unit_test(test_frame_startup_kinds),
        cmocka_unit_test(test_startup_params_malformed),
        cmocka_unit_test(test_reader_latches_at_the_end),
        cmocka_unit_test(test_writer_lengths),
        cmocka_unit_test(test_error_response_round_trip),
        cmocka_unit_test(test_writer_overflow_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
