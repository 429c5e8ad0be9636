/* Unit tests for pg/copytext: the bytes COPY's text format writes for a value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pg/copytext.h"

static const struct {
    const char *name;
    const char *in;
    size_t len;
    const char *out;
} cases[] = {
    {"plain text", "abc", 3, "abc"},
    {"empty", "", 0, ""},
    {"tab and newline", "a\tb\nc", 5, "a\\tb\\nc"},
    {"carriage return", "x\r\n", 3, "x\\r\\n"},
    {"backslash", "C:\\dir\\", 7, "C:\\\\dir\\\\"},
    {"backslash N is not NULL", "\\N", 2, "\\\\N"},
    {"control letters", "\b\f\v", 3, "\\b\\f\\v"},
    {"other control bytes kept", "\x01\x1f", 2, "\x01\x1f"},
    {"quotes kept", "it's \"q\"", 8, "it's \"q\""},
    {"utf-8 kept", "\xc3\x9c\xe6\x97\xa5", 5, "\xc3\x9c\xe6\x97\xa5"},
    {"embedded NUL-free end", "end\\", 4, "end\\\\"},
};

static void
test_escape_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_buf b = SL_BUF_INIT;
        sl_copytext_escape(&b, cases[i].in, cases[i].len);
        if (strlen(cases[i].out) != b.len || memcmp(b.data, cases[i].out, b.len) != 0)
            fail_msg("%s: got \"%s\"", cases[i].name, b.data);
        sl_buf_free(&b);
    }
}

static void
test_escape_appends(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, "1\t");
    sl_copytext_escape(&b, "a\tb", 3);
    sl_buf_puts(&b, "\t" SL_COPYTEXT_NULL "\n");
    assert_string_equal(b.data, "1\ta\\tb\t\\N\n");
    sl_buf_free(&b);
}

static void
test_bytea_slices(void **state)
{
    (void)state;
    const unsigned char first[] = {0x00, 0xff, 0x5c};
    const unsigned char second[] = {0x0a};
    sl_buf b = SL_BUF_INIT;
    sl_copytext_bytea(&b, first, sizeof first, 0);
    sl_copytext_bytea(&b, second, sizeof second, 1);
    assert_string_equal(b.data, "\\\\x00ff5c0a");
    sl_buf_reset(&b);
    sl_copytext_bytea(&b, first, 0, 0);
    assert_string_equal(b.data, "\\\\x");  /* the empty bytea */
    sl_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_table),
        cmocka_unit_test(test_escape_appends),
        cmocka_unit_test(test_bytea_slices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
